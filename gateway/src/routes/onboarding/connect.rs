//! Stripe Connect onboarding over HTTP.

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use onramp_proto::onboarding::v1::{
    self as pb, CreateConnectedAccountRequest, CreateOnboardingTokenRequest,
    GetConnectedAccountRequest, HandleConnectReturnRequest, RefreshConnectAccountRequest,
    RefreshConnectLinkRequest, StartConnectOnboardingRequest,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    auth::AuthUser,
    problem::Problem,
    routes::{
        call::{Caller, answer, created, rpc},
        extract::{Json, Query, TenantQuery},
        json_time::rfc3339,
        words::word,
    },
};

#[derive(Debug, Deserialize)]
pub(crate) struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct StateQuery {
    #[serde(default)]
    state: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateAccountBody {
    #[serde(default)]
    #[schema(format = "uuid")]
    tenant_id: String,
    #[serde(default)]
    country: String,
}

/// An onboarding token as JSON.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OnboardingToken)]
pub(crate) struct TokenView {
    id: String,
    status: String,
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    #[schema(format = DateTime)]
    state_expires_at: Option<String>,
    #[schema(format = DateTime)]
    completed_at: Option<String>,
}

/// A connected account as JSON.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ConnectedAccount)]
pub(crate) struct AccountView {
    stripe_account_id: String,
    status: String,
    details_submitted: bool,
    charges_enabled: bool,
    payouts_enabled: bool,
    requirements_currently_due: Vec<String>,
    requirements_past_due: Vec<String>,
    disabled_reason: String,
    country: String,
}

fn token_view(token: Option<pb::OnboardingToken>) -> Option<TokenView> {
    let token = token?;
    Some(TokenView {
        status: word(token.status()),
        id: token.id,
        expires_at: rfc3339(token.expires_at),
        state_expires_at: rfc3339(token.state_expires_at),
        completed_at: rfc3339(token.completed_at),
    })
}

fn account_view(account: Option<pb::ConnectedAccount>) -> Option<AccountView> {
    let account = account?;
    Some(AccountView {
        status: word(account.status()),
        stripe_account_id: account.stripe_account_id,
        details_submitted: account.details_submitted,
        charges_enabled: account.charges_enabled,
        payouts_enabled: account.payouts_enabled,
        requirements_currently_due: account.requirements_currently_due,
        requirements_past_due: account.requirements_past_due,
        disabled_reason: account.disabled_reason,
        country: account.country,
    })
}

/// A browser redirect to Stripe's account link.
fn see_other(url: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, url.to_owned())]).into_response()
}

/// `GET /v1/onboarding/connect/start?token=…`: 303 to Stripe's onboarding (502 when Stripe failed;
/// the token stays startable).
#[utoipa::path(get, path = "/v1/onboarding/connect/start", tag = "connect", operation_id = "start_connect_onboarding",
    params(("token" = String, Query, description = "The onboarding token (the credential)")),
    responses(
        (status = 303, description = "To Stripe's onboarding", headers(("Location" = String))),
        (status = 404, description = "Unknown or expired token"),
        (status = 409, description = "The token is already complete"),
        (status = 502, description = "Stripe failed; the token stays startable"),
    ))]
pub(crate) async fn start(c: Caller, Query(query): Query<TokenQuery>) -> Result<Response, Problem> {
    let request = StartConnectOnboardingRequest {
        caller: c.meta(),
        token: query.token,
    };
    let answer = answer(c.onboarding().start_connect_onboarding(request)).await?;
    Ok(see_other(&answer.account_link_url))
}

/// `GET /v1/onboarding/connect/refresh?token=…`: Stripe's refresh_url; 303 to a new link.
#[utoipa::path(get, path = "/v1/onboarding/connect/refresh", tag = "connect", operation_id = "refresh_connect_link",
    params(("token" = String, Query, description = "The onboarding token (the credential)")),
    responses(
        (status = 303, description = "To a new Stripe onboarding link", headers(("Location" = String))),
        (status = 404, description = "Unknown or expired token"),
        (status = 409, description = "The token is already complete"),
        (status = 502, description = "Stripe failed; the token stays startable"),
    ))]
pub(crate) async fn refresh(
    c: Caller,
    Query(query): Query<TokenQuery>,
) -> Result<Response, Problem> {
    let request = RefreshConnectLinkRequest {
        caller: c.meta(),
        token: query.token,
    };
    let answer = answer(c.onboarding().refresh_connect_link(request)).await?;
    Ok(see_other(&answer.account_link_url))
}

/// What the return page shows.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ConnectReturn)]
pub(crate) struct ReturnView {
    token: Option<TokenView>,
    account: Option<AccountView>,
    account_refreshed: bool,
}

/// `GET /v1/onboarding/connect/return?state=…`: Stripe's return_url. Checks and consumes the state;
/// never completes anything by itself.
#[utoipa::path(get, path = "/v1/onboarding/connect/return", tag = "connect", operation_id = "connect_return",
    params(("state" = String, Query, description = "The single-use state minted with the link")),
    responses(
        (status = 200, description = "The token and the account as last read", body = ReturnView),
        (status = 404, description = "Unknown, used or expired state"),
    ))]
pub(crate) async fn back(
    c: Caller,
    Query(query): Query<StateQuery>,
) -> Result<Json<ReturnView>, Problem> {
    let request = HandleConnectReturnRequest {
        caller: c.meta(),
        state: query.state,
    };
    rpc(c.onboarding().handle_connect_return(request), |answer| {
        ReturnView {
            token: token_view(answer.onboarding_token),
            account: account_view(answer.account),
            account_refreshed: answer.account_refreshed,
        }
    })
    .await
}

/// A workspace's connected account.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ConnectAccountAnswer)]
pub(crate) struct AccountAnswer {
    account: Option<AccountView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_token: Option<TokenView>,
}

/// `POST /v1/onboarding/connect/account` `{tenant_id, country}`: creates the account once.
#[utoipa::path(post, path = "/v1/onboarding/connect/account", tag = "connect", operation_id = "create_connected_account",
    security(("bearer" = [])), request_body = CreateAccountBody,
    responses(
        (status = 200, description = "The account (created once; `created` says whether now)", body = AccountAnswer),
        (status = 402, description = "The workspace waits for its payment; retry after `Retry-After`"),
        (status = 404, description = "No such workspace, or the caller is not a member"),
        (status = 502, description = "Stripe failed"),
    ))]
pub(crate) async fn create_account(
    c: Caller<AuthUser>,
    Json(body): Json<CreateAccountBody>,
) -> Result<Json<AccountAnswer>, Problem> {
    let request = CreateConnectedAccountRequest {
        caller: c.meta(),
        tenant_id: body.tenant_id,
        country: body.country,
    };
    rpc(c.onboarding().create_connected_account(request), |answer| {
        AccountAnswer {
            account: account_view(answer.account),
            created: Some(answer.created),
            latest_token: None,
        }
    })
    .await
}

/// `GET /v1/onboarding/connect/account?tenant_id=…`.
#[utoipa::path(get, path = "/v1/onboarding/connect/account", tag = "connect", operation_id = "get_connected_account",
    security(("bearer" = [])), params(("tenant_id" = String, Query, description = "The tenant's id")),
    responses(
        (status = 200, description = "The account as last known and the newest token", body = AccountAnswer),
        (status = 404, description = "No such workspace or account"),
    ))]
pub(crate) async fn get_account(
    c: Caller<AuthUser>,
    Query(query): Query<TenantQuery>,
) -> Result<Json<AccountAnswer>, Problem> {
    let request = GetConnectedAccountRequest {
        caller: c.meta(),
        tenant_id: query.tenant_id,
    };
    rpc(c.onboarding().get_connected_account(request), |answer| {
        AccountAnswer {
            account: account_view(answer.account),
            created: None,
            latest_token: token_view(answer.latest_token),
        }
    })
    .await
}

/// `POST /v1/onboarding/connect/account/refresh?tenant_id=…`: reads the account from Stripe.
#[utoipa::path(post, path = "/v1/onboarding/connect/account/refresh", tag = "connect", operation_id = "refresh_connected_account",
    security(("bearer" = [])), params(("tenant_id" = String, Query, description = "The tenant's id")),
    responses(
        (status = 200, description = "The account as Stripe has it now", body = AccountAnswer),
        (status = 402, description = "The workspace waits for its payment; retry after `Retry-After`"),
        (status = 404, description = "No such workspace or account"),
        (status = 502, description = "Stripe failed"),
    ))]
pub(crate) async fn refresh_account(
    c: Caller<AuthUser>,
    Query(query): Query<TenantQuery>,
) -> Result<Json<AccountAnswer>, Problem> {
    let request = RefreshConnectAccountRequest {
        caller: c.meta(),
        tenant_id: query.tenant_id,
    };
    rpc(c.onboarding().refresh_connect_account(request), |answer| {
        AccountAnswer {
            account: account_view(answer.account),
            created: None,
            latest_token: None,
        }
    })
    .await
}

/// A new onboarding token.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenCreated {
    /// The secret; shown once. The start link is `/v1/onboarding/connect/start?token=<token>`.
    token: String,
    onboarding_token: Option<TokenView>,
}

/// `POST /v1/onboarding/connect/tokens?tenant_id=…`: a new onboarding token (older ones expire).
#[utoipa::path(post, path = "/v1/onboarding/connect/tokens", tag = "connect", operation_id = "create_onboarding_token",
    security(("bearer" = [])), params(("tenant_id" = String, Query, description = "The tenant's id")),
    responses(
        (status = 201, description = "The token, shown once", body = TokenCreated),
        (status = 402, description = "The workspace waits for its payment; retry after `Retry-After`"),
        (status = 404, description = "No such workspace"),
        (status = 409, description = "The workspace has no connected account yet, or it is complete"),
    ))]
pub(crate) async fn create_token(
    c: Caller<AuthUser>,
    Query(query): Query<TenantQuery>,
) -> Result<(StatusCode, Json<TokenCreated>), Problem> {
    let request = CreateOnboardingTokenRequest {
        caller: c.meta(),
        tenant_id: query.tenant_id,
    };
    rpc(c.onboarding().create_onboarding_token(request), |answer| {
        TokenCreated {
            token: answer.token,
            onboarding_token: token_view(answer.onboarding_token),
        }
    })
    .await
    .map(created)
}
