//! The funnel's numbers from the recorded events: [`count`] per event name in a window, and
//! [`ProductEventsApi`], the `onramp.events.v1.ProductEventsService` every service serves over it.

use chrono::{DateTime, Utc};
use onramp_proto::events::v1::{
    CountProductEventsRequest, CountProductEventsResponse, EventCount,
    product_events_service_server::{ProductEventsService, ProductEventsServiceServer},
};
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::ApiError;

/// Events and distinct users per event name that occurred in `[from, to)`, by name.
pub async fn count(
    pool: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<Vec<EventCount>> {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "select name, count(*), count(distinct distinct_id) from product_events
         where occurred_at >= $1 and occurred_at < $2 group by name order by name",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, events, users)| EventCount {
            name,
            events,
            users,
        })
        .collect())
}

/// Who may count: operators only (the service that knows them), or internal callers.
#[derive(Debug, Clone)]
enum Access {
    Operators(Vec<String>),
    Internal,
}

/// The gRPC server of a service's [`ProductEventsApi`].
pub type ProductEventsServer = ProductEventsServiceServer<ProductEventsApi>;

/// `ProductEventsService` over one service's `product_events`.
#[derive(Debug, Clone)]
pub struct ProductEventsApi {
    pool: PgPool,
    access: Access,
}

impl ProductEventsApi {
    /// An internal service: callers are trusted (the gateway checked the operator with billing).
    pub fn internal(pool: PgPool) -> ProductEventsServer {
        ProductEventsServiceServer::new(Self {
            pool,
            access: Access::Internal,
        })
    }

    /// A service that answers only `operators` (user ids), as the admin catalog does.
    pub fn operators_only(pool: PgPool, operators: Vec<String>) -> ProductEventsServer {
        ProductEventsServiceServer::new(Self {
            pool,
            access: Access::Operators(operators),
        })
    }

    fn admit(&self, request: &CountProductEventsRequest) -> Result<(), ApiError> {
        let Access::Operators(operators) = &self.access else {
            return Ok(());
        };
        let user = request
            .caller
            .as_ref()
            .map(|caller| caller.user_id.as_str())
            .unwrap_or_default();
        if user.is_empty() {
            return Err(ApiError::new(
                crate::Code::Unauthenticated,
                "sign-in required",
            ));
        }
        if !operators.iter().any(|operator| operator == user) {
            return Err(ApiError::new(
                crate::Code::PermissionDenied,
                "operators only",
            ));
        }
        Ok(())
    }
}

/// A window bound, or INVALID_ARGUMENT naming `field`.
fn bound(at: Option<prost_types::Timestamp>, field: &str) -> Result<DateTime<Utc>, ApiError> {
    at.and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?))
        .ok_or_else(|| ApiError::invalid_field(field, "required: a timestamp"))
}

#[tonic::async_trait]
impl ProductEventsService for ProductEventsApi {
    async fn count_product_events(
        &self,
        request: Request<CountProductEventsRequest>,
    ) -> Result<Response<CountProductEventsResponse>, Status> {
        let request = request.into_inner();
        self.admit(&request)?;
        let from = bound(request.from, "from")?;
        let to = bound(request.to, "to")?;
        if from >= to {
            return Err(ApiError::invalid_field("from", "must be before `to`").into());
        }
        let counts = count(&self.pool, from, to)
            .await
            .map_err(|error| ApiError::unexpected(&error.into()))?;
        Ok(Response::new(CountProductEventsResponse { counts }))
    }
}
