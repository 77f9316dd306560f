//! The one pagination shape of every HTTP list: `?page_size=&page_token=` in, the list under its
//! name plus `next_page_token` (null on the last page) out — the gRPC `PageRequest`/`PageInfo`
//! pair spelled for HTTP.

use onramp_kit::ApiError;
use onramp_proto::common::v1::{PageInfo, PageRequest};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::problem::Problem;

/// Pagination query parameters. Read as strings so a bad `page_size` answers a 400 naming
/// `page_size`, not the whole query string.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Items per page, 1 to 200 (larger values are clamped to 200); the server default is 50.
    #[param(value_type = Option<u32>, minimum = 1)]
    page_size: Option<String>,
    /// The `next_page_token` of the previous page; absent for the first page.
    page_token: Option<String>,
}

impl PageQuery {
    /// The gRPC page request, or a 400 naming the bad parameter.
    pub(crate) fn request(self) -> Result<PageRequest, Problem> {
        let page_size = match self.page_size.as_deref() {
            None | Some("") => 0,
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|size| *size > 0)
                .ok_or_else(|| {
                    Problem(ApiError::invalid_field(
                        "page_size",
                        "page_size must be a whole number from 1 to 200",
                    ))
                })?,
        };
        Ok(PageRequest {
            page_size,
            page_token: self.page_token.unwrap_or_default(),
        })
    }
}

/// The next page's token, `None` (JSON null) on the last page.
pub(crate) fn next_page_token(info: Option<PageInfo>) -> Option<String> {
    info.map(|info| info.next_page_token)
        .filter(|token| !token.is_empty())
}
