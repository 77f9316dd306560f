//! The gRPC surface of the identity service: proto <-> domain only.

mod convert;

use onramp_kit::auth::ACCESS_TOKEN_ALGORITHM;
use onramp_proto::identity::v1::{
    CompleteOauthRequest, CompleteOauthResponse, CompletePasswordResetRequest,
    CompletePasswordResetResponse, GetCurrentUserRequest, GetCurrentUserResponse, GetJwksRequest,
    GetJwksResponse, GetPublicConfigRequest, GetPublicConfigResponse, JsonWebKey, LoginRequest,
    LoginResponse, LogoutEverywhereRequest, LogoutEverywhereResponse, LogoutRequest,
    LogoutResponse, LookupUsersRequest, LookupUsersResponse, OauthProvider, OauthProviderKind,
    RefreshRequest, RefreshResponse, RequestPasswordResetRequest, RequestPasswordResetResponse,
    ResendVerificationRequest, ResendVerificationResponse, SignupRequest, SignupResponse,
    StartOauthRequest, StartOauthResponse, UpdateCurrentUserRequest, UpdateCurrentUserResponse,
    UserSummary, VerifyEmailRequest, VerifyEmailResponse, identity_service_server::IdentityService,
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    domain::{DisplayName, Email, MIN_PASSWORD_CHARS, NewPassword},
    error::IdentityError,
    oauth::ProviderKind,
    service::{Identity, SignupInput},
};

use convert::{meta, non_empty, required, session, timestamp, user};

/// How long verifiers may cache the JWKS; they refetch on an unknown `kid` anyway.
const JWKS_MAX_AGE_SECONDS: u32 = 300;

/// Implements `onramp.identity.v1.IdentityService`.
#[derive(Debug, Clone)]
pub(crate) struct IdentityApi {
    identity: Identity,
}

impl IdentityApi {
    pub(crate) fn new(identity: Identity) -> Self {
        Self { identity }
    }
}

type RpcResult<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl IdentityService for IdentityApi {
    async fn signup(&self, request: Request<SignupRequest>) -> RpcResult<SignupResponse> {
        let request = request.into_inner();
        let meta = meta(request.caller)?;
        let input = SignupInput {
            email: Email::parse(&request.email, "email")?,
            password: NewPassword::parse(&request.password, "password")?,
            display_name: DisplayName::parse(&request.display_name)?,
            invite_code: non_empty(request.invite_code),
        };
        self.identity.signup(&meta, input).await?;
        Ok(Response::new(SignupResponse {}))
    }

    async fn login(&self, request: Request<LoginRequest>) -> RpcResult<LoginResponse> {
        let request = request.into_inner();
        let meta = meta(request.caller)?;
        required(&request.email, "email")?;
        required(&request.password, "password")?;
        let issued = self
            .identity
            .login(&meta, &request.email, request.password)
            .await?;
        Ok(Response::new(LoginResponse {
            session: Some(session(issued)),
        }))
    }

    async fn refresh(&self, request: Request<RefreshRequest>) -> RpcResult<RefreshResponse> {
        let request = request.into_inner();
        let meta = meta(request.caller)?;
        required(&request.refresh_token, "refresh_token")?;
        let issued = self.identity.refresh(&meta, &request.refresh_token).await?;
        Ok(Response::new(RefreshResponse {
            session: Some(session(issued)),
        }))
    }

    async fn logout(&self, request: Request<LogoutRequest>) -> RpcResult<LogoutResponse> {
        let request = request.into_inner();
        let meta = meta(request.caller)?;
        required(&request.refresh_token, "refresh_token")?;
        let revoked = self.identity.logout(&meta, &request.refresh_token).await?;
        Ok(Response::new(LogoutResponse { revoked }))
    }

    async fn logout_everywhere(
        &self,
        request: Request<LogoutEverywhereRequest>,
    ) -> RpcResult<LogoutEverywhereResponse> {
        let meta = meta(request.into_inner().caller)?;
        let revoked = self.identity.logout_everywhere(&meta).await?;
        Ok(Response::new(LogoutEverywhereResponse {
            sessions_revoked: u32::try_from(revoked).unwrap_or(u32::MAX),
        }))
    }

    async fn get_jwks(&self, _request: Request<GetJwksRequest>) -> RpcResult<GetJwksResponse> {
        let keys = self
            .identity
            .jwks()
            .into_iter()
            .map(|key| JsonWebKey {
                kty: "OKP".to_owned(),
                kid: key.kid,
                alg: ACCESS_TOKEN_ALGORITHM.to_owned(),
                public_key_use: "sig".to_owned(),
                crv: "Ed25519".to_owned(),
                x: key.x,
                y: String::new(),
            })
            .collect();
        Ok(Response::new(GetJwksResponse {
            keys,
            issuer: self.identity.policy.issuer.clone(),
            cache_max_age_seconds: JWKS_MAX_AGE_SECONDS,
        }))
    }

    async fn get_current_user(
        &self,
        request: Request<GetCurrentUserRequest>,
    ) -> RpcResult<GetCurrentUserResponse> {
        let meta = meta(request.into_inner().caller)?;
        let view = self.identity.current_user(&meta).await?;
        let mut user = user(view);
        user.linked_oauth_providers = self.linked(&user.id).await?;
        Ok(Response::new(GetCurrentUserResponse { user: Some(user) }))
    }

    async fn update_current_user(
        &self,
        request: Request<UpdateCurrentUserRequest>,
    ) -> RpcResult<UpdateCurrentUserResponse> {
        let request = request.into_inner();
        let meta = meta(request.caller)?;
        let name = DisplayName::parse(&request.display_name)?;
        let view = self.identity.rename(&meta, name).await?;
        Ok(Response::new(UpdateCurrentUserResponse {
            user: Some(user(view)),
        }))
    }

    async fn lookup_users(
        &self,
        request: Request<LookupUsersRequest>,
    ) -> RpcResult<LookupUsersResponse> {
        let ids = request.into_inner().user_ids;
        if ids.is_empty() || ids.len() > 100 {
            return Err(Status::from(IdentityError::invalid(
                "user_ids",
                "give 1 to 100 user ids",
            )));
        }
        let ids = ids
            .iter()
            .map(|id| Uuid::parse_str(id))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| {
                Status::from(IdentityError::invalid(
                    "user_ids",
                    "every id must be a UUID",
                ))
            })?;
        let (found, missing) = self.identity.lookup(ids).await?;
        Ok(Response::new(LookupUsersResponse {
            users: found
                .into_iter()
                .map(|view| UserSummary {
                    id: view.id.to_string(),
                    email: view.email,
                    display_name: view.display_name,
                    email_verified: view.email_verified_at.is_some(),
                    verification_grace_ends_at: view.verification_grace_ends_at.map(timestamp),
                })
                .collect(),
            not_found_user_ids: missing.iter().map(Uuid::to_string).collect(),
        }))
    }

    async fn get_public_config(
        &self,
        _request: Request<GetPublicConfigRequest>,
    ) -> RpcResult<GetPublicConfigResponse> {
        let policy = &self.identity.policy;
        Ok(Response::new(GetPublicConfigResponse {
            self_serve_enabled: policy.self_serve_enabled,
            oauth_providers: self
                .identity
                .providers
                .all()
                .iter()
                .map(|provider| OauthProvider {
                    id: provider.id.clone(),
                    kind: match provider.kind {
                        ProviderKind::Google => OauthProviderKind::Google,
                        ProviderKind::Microsoft => OauthProviderKind::Microsoft,
                        ProviderKind::Oidc => OauthProviderKind::Oidc,
                    }
                    .into(),
                    display_name: provider.label(),
                })
                .collect(),
            password_min_length: u32::try_from(MIN_PASSWORD_CHARS).unwrap_or(12),
            email_verification_grace_days: u32::try_from(policy.grace.num_days()).unwrap_or(0),
        }))
    }

    async fn verify_email(
        &self,
        request: Request<VerifyEmailRequest>,
    ) -> RpcResult<VerifyEmailResponse> {
        let request = request.into_inner();
        let meta = meta(request.caller)?;
        required(&request.token, "token")?;
        let verified = self.identity.verify_email(&meta, &request.token).await?;
        Ok(Response::new(VerifyEmailResponse {
            user_id: verified.user_id.to_string(),
            already_verified: verified.already_verified,
        }))
    }

    async fn resend_verification(
        &self,
        request: Request<ResendVerificationRequest>,
    ) -> RpcResult<ResendVerificationResponse> {
        let meta = meta(request.into_inner().caller)?;
        let resent = self.identity.resend_verification(&meta).await?;
        Ok(Response::new(ResendVerificationResponse {
            already_verified: resent.already_verified,
            next_resend_allowed_at: Some(timestamp(resent.next_allowed_at)),
        }))
    }

    async fn request_password_reset(
        &self,
        request: Request<RequestPasswordResetRequest>,
    ) -> RpcResult<RequestPasswordResetResponse> {
        let request = request.into_inner();
        let meta = meta(request.caller)?;
        let email = Email::parse(&request.email, "email")?;
        self.identity.request_password_reset(&meta, &email).await?;
        Ok(Response::new(RequestPasswordResetResponse {}))
    }

    async fn complete_password_reset(
        &self,
        request: Request<CompletePasswordResetRequest>,
    ) -> RpcResult<CompletePasswordResetResponse> {
        let request = request.into_inner();
        let meta = meta(request.caller)?;
        required(&request.token, "token")?;
        let password = NewPassword::parse(&request.new_password, "new_password")?;
        let done = self
            .identity
            .complete_password_reset(
                &meta,
                &request.token,
                password,
                request.unlink_oauth_providers,
            )
            .await?;
        Ok(Response::new(CompletePasswordResetResponse {
            sessions_revoked: u32::try_from(done.sessions_revoked).unwrap_or(u32::MAX),
            linked_oauth_providers: done.linked_oauth_providers,
            unlinked_oauth_providers: done.unlinked_oauth_providers,
        }))
    }

    async fn start_oauth(
        &self,
        request: Request<StartOauthRequest>,
    ) -> RpcResult<StartOauthResponse> {
        let request = request.into_inner();
        required(&request.provider_id, "provider_id")?;
        let redirect = non_empty(request.redirect_uri);
        let started = self
            .identity
            .start_oauth(&request.provider_id, redirect.as_deref())
            .await?;
        Ok(Response::new(StartOauthResponse {
            authorization_url: started.authorization_url,
            state: started.state,
            browser_binding: started.browser_binding,
            expires_at: Some(timestamp(started.expires_at)),
        }))
    }

    async fn complete_oauth(
        &self,
        request: Request<CompleteOauthRequest>,
    ) -> RpcResult<CompleteOauthResponse> {
        let request = request.into_inner();
        let meta = meta(request.caller)?;
        required(&request.provider_id, "provider_id")?;
        required(&request.code, "code")?;
        required(&request.state, "state")?;
        // A missing binding (no cookie) is the same failure as a forged state, on purpose.
        let login = self
            .identity
            .complete_oauth(
                &meta,
                &request.provider_id,
                &request.code,
                &request.state,
                &request.browser_binding,
                non_empty(request.invite_code).as_deref(),
            )
            .await?;
        Ok(Response::new(CompleteOauthResponse {
            session: Some(session(login.session)),
            user_created: login.user_created,
            identity_linked: login.identity_linked,
            email_verified: login.email_verified,
        }))
    }
}

impl IdentityApi {
    async fn linked(&self, user_id: &str) -> Result<Vec<String>, Status> {
        let id = Uuid::parse_str(user_id).map_err(|_| IdentityError::NotFound)?;
        Ok(self.identity.linked_providers(id).await?)
    }
}
