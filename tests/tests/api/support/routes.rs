//! The gateway's documented routes as a test calls them.

/// `path` from the OpenAPI document with every `{parameter}` filled by one well-formed UUID.
pub(crate) fn concrete_path(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "00000000-0000-4000-8000-000000000000"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}
