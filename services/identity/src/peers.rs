//! Identity's peers: tenancy resolves the invite codes carried by a signup or an OAuth login
//! (`ResolveInvite`).
//!
//! A code lets an invitee in while self-serve signup is off, and only for the invited address. It
//! never proves that address: the inviter sees the code (in the create answer and the link), so
//! anyone holding it could sign up as the invitee. An account made with a code starts unverified
//! and gets the normal verification mail; only that mailed link (or a provider asserting
//! `email_verified`) verifies it. Identity never joins anyone to a workspace: the signed-in invitee
//! accepts with `POST /v1/invites/{code}/accept` (tenancy's AcceptInvite), which requires the
//! verified email.

use onramp_kit::{
    ApiError, Code,
    grpc::client::{TracedChannel, channel, traced},
};
use onramp_proto::tenancy::v1::{
    ResolveInviteRequest, tenancy_service_client::TenancyServiceClient,
};

use crate::error::IdentityError;

/// Tenancy's invite resolution; without an address, invite codes answer UNAVAILABLE.
#[derive(Debug, Clone)]
pub(crate) struct InviteResolver {
    tenancy: Option<TenancyServiceClient<TracedChannel>>,
}

impl InviteResolver {
    /// A resolver calling tenancy at `addr` (connected lazily).
    pub(crate) fn new(addr: Option<&str>) -> anyhow::Result<Self> {
        let tenancy = addr
            .map(|addr| channel(addr).map(|channel| TenancyServiceClient::new(traced(channel))))
            .transpose()?;
        Ok(Self { tenancy })
    }

    /// Checks that `code` is a pending invite for `email` (compared case-insensitively).
    pub(crate) async fn check(&self, code: &str, email: &str) -> Result<(), IdentityError> {
        let mut tenancy = self.tenancy.clone().ok_or_else(|| {
            IdentityError::InvitesUnavailable("TENANT_PROVISIONING_SERVICE_ADDR is not set".into())
        })?;
        let invite = tenancy
            .resolve_invite(ResolveInviteRequest {
                code: code.to_owned(),
            })
            .await
            .map_err(|status| match ApiError::from_status(&status).code {
                Code::NotFound => IdentityError::InviteNotFound,
                Code::InvalidArgument => {
                    IdentityError::invalid("invite_code", "the invite code is malformed")
                }
                _ => IdentityError::InvitesUnavailable(status.message().to_owned()),
            })?
            .into_inner();
        if !invite.email.eq_ignore_ascii_case(email) {
            return Err(IdentityError::InviteForAnotherEmail);
        }
        Ok(())
    }
}
