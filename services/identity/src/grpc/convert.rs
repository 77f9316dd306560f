//! Proto <-> identity's domain: the caller, sessions, users and required fields.

use onramp_proto::{
    common::v1::Caller,
    identity::v1::{Session, User},
};
use uuid::Uuid;

use crate::{
    error::IdentityError,
    service::{IssuedSession, RequestMeta, UserView},
};

pub(super) use onramp_kit::grpc::convert::timestamp;

pub(super) fn non_empty(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

/// The caller as the gateway described it; a user id that is not a UUID is a gateway bug.
pub(super) fn meta(caller: Option<Caller>) -> Result<RequestMeta, IdentityError> {
    let caller = caller.unwrap_or_default();
    let user_id = match non_empty(caller.user_id) {
        None => None,
        Some(id) => Some(
            Uuid::parse_str(&id)
                .map_err(|_| IdentityError::invalid("caller.user_id", "not a UUID"))?,
        ),
    };
    Ok(RequestMeta {
        user_id,
        client_ip: non_empty(caller.client_ip),
        user_agent: non_empty(caller.user_agent),
    })
}

pub(super) fn session(issued: IssuedSession) -> Session {
    Session {
        access_token: issued.access_token,
        token_type: "Bearer".to_owned(),
        access_token_expires_at: Some(timestamp(issued.access_token_expires_at)),
        refresh_token: issued.refresh_token,
        refresh_token_expires_at: Some(timestamp(issued.refresh_token_expires_at)),
        session_id: issued.session_id.to_string(),
        user_id: issued.user_id.to_string(),
    }
}

pub(super) fn user(view: UserView) -> User {
    User {
        id: view.id.to_string(),
        email: view.email,
        display_name: view.display_name,
        email_verified: view.email_verified_at.is_some(),
        email_verified_at: view.email_verified_at.map(timestamp),
        verification_grace_ends_at: view.verification_grace_ends_at.map(timestamp),
        email_verification_required: view.verification_required,
        has_password: view.has_password,
        linked_oauth_providers: Vec::new(),
        created_at: Some(timestamp(view.created_at)),
    }
}

pub(super) fn required(value: &str, field: &'static str) -> Result<(), IdentityError> {
    if value.is_empty() {
        return Err(IdentityError::invalid(
            field,
            format!("{field} is required"),
        ));
    }
    Ok(())
}
