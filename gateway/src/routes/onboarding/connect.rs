//! Stripe Connect onboarding over HTTP.

use onramp_proto::onboarding::v1::{
    self as pb, CreateConnectedAccountRequest, CreateOnboardingTokenRequest,
    GetConnectedAccountRequest, HandleConnectReturnRequest, RefreshConnectAccountRequest,
    RefreshConnectLinkRequest, StartConnectOnboardingRequest,
};
use serde::Deserialize;

use crate::routes::{
    doc::{OnboardingTokenParam, TokenRefused},
    prelude::*,
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

body! {
    #[serde(deny_unknown_fields)]
    CreateAccountBody => CreateConnectedAccountRequest {
        #[serde(default)]
        #[schema(format = "uuid")]
        tenant_id: String,
        #[serde(default)]
        country: String,
    }
}

answer! {
    /// An onboarding token as JSON.
    #[schema(as = OnboardingToken)]
    TokenView from pb::OnboardingToken {
        id: String,
        status: String => word_of::<pb::OnboardingTokenStatus>,
        expires_at: Option<String> => time,
        state_expires_at: Option<String> => time,
        completed_at: Option<String> => time,
    }
}

answer! {
    /// A connected account as JSON.
    #[schema(as = ConnectedAccount)]
    AccountView from pb::ConnectedAccount {
        stripe_account_id: String,
        status: String => word_of::<pb::ConnectAccountStatus>,
        details_submitted: bool,
        charges_enabled: bool,
        payouts_enabled: bool,
        requirements_currently_due: Vec<String>,
        requirements_past_due: Vec<String>,
        disabled_reason: String,
        country: String,
    }
}

one_rpc! {
    /// `GET /v1/onboarding/connect/start?token=…`: 303 to Stripe's onboarding (502 when Stripe failed;
    /// the token stays startable).
    #[utoipa::path(get, path = "/v1/onboarding/connect/start", tag = "connect", operation_id = "start_connect_onboarding",
        params(OnboardingTokenParam),
        responses(
            (status = 303, description = "To Stripe's onboarding", headers(("Location" = String))),
            TokenRefused,
        ))]
    pub(crate) fn start(c: Caller, Query(query): Query<TokenQuery>) -> Redirect =
        c.onboarding().start_connect_onboarding(StartConnectOnboardingRequest { caller: c.meta(), token: query.token }),
        |started: pb::StartConnectOnboardingResponse| started.account_link_url;
}

one_rpc! {
    /// `GET /v1/onboarding/connect/refresh?token=…`: Stripe's refresh_url; 303 to a new link.
    #[utoipa::path(get, path = "/v1/onboarding/connect/refresh", tag = "connect", operation_id = "refresh_connect_link",
        params(OnboardingTokenParam),
        responses(
            (status = 303, description = "To a new Stripe onboarding link", headers(("Location" = String))),
            TokenRefused,
        ))]
    pub(crate) fn refresh(c: Caller, Query(query): Query<TokenQuery>) -> Redirect =
        c.onboarding().refresh_connect_link(RefreshConnectLinkRequest { caller: c.meta(), token: query.token }),
        |link: pb::RefreshConnectLinkResponse| link.account_link_url;
}

answer! {
    /// What the return page shows.
    #[schema(as = ConnectReturn)]
    ReturnView from pb::HandleConnectReturnResponse {
        token <- onboarding_token: Option<TokenView> => opt,
        account: Option<AccountView> => opt,
        account_refreshed: bool,
    }
}

one_rpc! {
    /// `GET /v1/onboarding/connect/return?state=…`: Stripe's return_url. Checks and consumes the state;
    /// never completes anything by itself.
    #[utoipa::path(get, path = "/v1/onboarding/connect/return", tag = "connect", operation_id = "connect_return",
        params(("state" = String, Query, description = "The single-use state minted with the link")),
        responses(
            (status = 200, description = "The token and the account as last read", body = ReturnView),
            (status = 404, description = "Unknown, used or expired state"),
        ))]
    pub(crate) fn back(c: Caller, Query(query): Query<StateQuery>) -> ReturnView =
        c.onboarding().handle_connect_return(HandleConnectReturnRequest {
            caller: c.meta(),
            state: query.state,
        });
}

/// A workspace's connected account.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = ConnectAccountAnswer)]
pub(crate) struct AccountAnswer {
    account: Option<AccountView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_token: Option<TokenView>,
}

impl AccountAnswer {
    fn new(account: Option<pb::ConnectedAccount>) -> Self {
        let (created, latest_token) = (None, None);
        Self {
            account: opt(account),
            created,
            latest_token,
        }
    }
}

one_rpc! {
    /// `POST /v1/onboarding/connect/account` `{tenant_id, country}`: creates the account once.
    #[utoipa::path(post, path = "/v1/onboarding/connect/account", tag = "connect", operation_id = "create_connected_account",
        security(("bearer" = [])), request_body = CreateAccountBody,
        responses(
            (status = 200, description = "The account (created once; `created` says whether now)", body = AccountAnswer),
            PaymentPending,
            NotAMember,
            StripeFailed,
        ))]
    pub(crate) fn create_account(c: Caller<AuthUser>, Json(body): Json<CreateAccountBody>)
        -> AccountAnswer = c.onboarding().create_connected_account(body.request(c.meta())),
        |answer| AccountAnswer { created: Some(answer.created), ..AccountAnswer::new(answer.account) };
}

one_rpc! {
    /// `GET /v1/onboarding/connect/account?tenant_id=…`.
    #[utoipa::path(get, path = "/v1/onboarding/connect/account", tag = "connect", operation_id = "get_connected_account",
        security(("bearer" = [])), params(TenantParam),
        responses(
            (status = 200, description = "The account as last known and the newest token", body = AccountAnswer),
            NoAccount,
        ))]
    pub(crate) fn get_account(c: Caller<AuthUser>, Query(query): Query<TenantQuery>)
        -> AccountAnswer =
        c.onboarding().get_connected_account(for_tenant!(GetConnectedAccountRequest, c, query)),
        |answer| AccountAnswer {
            latest_token: opt(answer.latest_token),
            ..AccountAnswer::new(answer.account)
        };
}

one_rpc! {
    /// `POST /v1/onboarding/connect/account/refresh?tenant_id=…`: reads the account from Stripe.
    #[utoipa::path(post, path = "/v1/onboarding/connect/account/refresh", tag = "connect", operation_id = "refresh_connected_account",
        security(("bearer" = [])), params(TenantParam),
        responses(
            (status = 200, description = "The account as Stripe has it now", body = AccountAnswer),
            PaymentPending,
            NoAccount,
            StripeFailed,
        ))]
    pub(crate) fn refresh_account(c: Caller<AuthUser>, Query(query): Query<TenantQuery>)
        -> AccountAnswer =
        c.onboarding().refresh_connect_account(for_tenant!(RefreshConnectAccountRequest, c, query)),
        |answer| AccountAnswer::new(answer.account);
}

answer! {
    /// A new onboarding token.
    TokenCreated from pb::CreateOnboardingTokenResponse {
        /// The secret; shown once. The start link is `/v1/onboarding/connect/start?token=<token>`.
        token: String,
        onboarding_token: Option<TokenView> => opt,
    }
}

one_rpc! {
    /// `POST /v1/onboarding/connect/tokens?tenant_id=…`: a new onboarding token (older ones expire).
    #[utoipa::path(post, path = "/v1/onboarding/connect/tokens", tag = "connect", operation_id = "create_onboarding_token",
        security(("bearer" = [])), params(TenantParam),
        responses(
            (status = 201, description = "The token, shown once", body = TokenCreated),
            PaymentPending,
            (status = 404, description = "No such workspace"),
            (status = 409, description = "The workspace has no connected account yet, or it is complete"),
        ))]
    pub(crate) fn create_token(c: Caller<AuthUser>, Query(query): Query<TenantQuery>)
        -> (CREATED, TokenCreated) =
        c.onboarding().create_onboarding_token(for_tenant!(CreateOnboardingTokenRequest, c, query));
}
