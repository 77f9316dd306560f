//! The invite RPCs (proto <-> domain).

use onramp_proto::tenancy::v1 as pb;
use tonic::Response;

use crate::{
    domain::{
        email::Email,
        inputs::{Invalid, parse_id},
    },
    error::TenancyError,
    grpc::{Answer, convert, convert::signed_in, ok},
    service::{Tenancy, invites::InviteOutcome},
};

fn code(value: &str) -> Result<&str, TenancyError> {
    let code = value.trim();
    if code.is_empty() || code.len() > 200 {
        return Err(Invalid::new("code", "code must be an invite code").into());
    }
    Ok(code)
}

pub(super) async fn create(
    service: &Tenancy,
    request: pb::CreateInvitesRequest,
) -> Answer<pb::CreateInvitesResponse> {
    let caller = signed_in(request.caller.as_ref())?;
    let tenant_id = parse_id("tenant_id", &request.tenant_id).map_err(TenancyError::from)?;
    if request.invites.is_empty() || request.invites.len() > 100 {
        return Err(TenancyError::from(Invalid::new("invites", "send 1 to 100 invites")).into());
    }
    let specs = request
        .invites
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let email = Email::parse(&format!("invites[{i}].email"), &spec.email)?;
            let role = convert::role_from(spec.role, &format!("invites[{i}].role"))?;
            Ok((email, role))
        })
        .collect::<Result<Vec<_>, Invalid>>()
        .map_err(TenancyError::from)?;
    let results = service.create_invites(caller, tenant_id, specs).await?;
    ok(pb::CreateInvitesResponse {
        results: results
            .into_iter()
            .map(|(email, outcome)| match outcome {
                InviteOutcome::Created { invite, code } => pb::InviteResult {
                    email: email.as_str().to_owned(),
                    outcome: pb::InviteOutcome::Created.into(),
                    invite: Some(convert::invite(&invite)),
                    code,
                },
                InviteOutcome::AlreadyInvited(invite) => pb::InviteResult {
                    email: email.as_str().to_owned(),
                    outcome: pb::InviteOutcome::AlreadyInvited.into(),
                    invite: Some(convert::invite(&invite)),
                    code: String::new(),
                },
                InviteOutcome::AlreadyMember => pb::InviteResult {
                    email: email.as_str().to_owned(),
                    outcome: pb::InviteOutcome::AlreadyMember.into(),
                    invite: None,
                    code: String::new(),
                },
            })
            .collect(),
    })
}

pub(super) async fn lookup(
    service: &Tenancy,
    request: pb::LookupInviteRequest,
) -> Answer<pb::LookupInviteResponse> {
    let preview = service.lookup_invite(code(&request.code)?).await?;
    ok(pb::LookupInviteResponse {
        tenant_name: preview.tenant_name,
        inviter_display_name: preview.inviter_display_name,
        role: convert::role(preview.role).into(),
        masked_email: preview.masked_email,
        expires_at: Some(convert::ts(preview.expires_at)),
    })
}

pub(super) async fn resolve(
    service: &Tenancy,
    request: pb::ResolveInviteRequest,
) -> Answer<pb::ResolveInviteResponse> {
    let (invite, role) = service.resolve_invite(code(&request.code)?).await?;
    ok(pb::ResolveInviteResponse {
        invite_id: invite.id.to_string(),
        tenant_id: invite.tenant_id.to_string(),
        email: invite.email,
        role: convert::role(role).into(),
        expires_at: Some(convert::ts(invite.expires_at)),
    })
}

pub(super) async fn accept(
    service: &Tenancy,
    request: pb::AcceptInviteRequest,
) -> Answer<pb::AcceptInviteResponse> {
    let caller = signed_in(request.caller.as_ref())?;
    let accepted = service.accept_invite(caller, code(&request.code)?).await?;
    Ok(Response::new(pb::AcceptInviteResponse {
        tenant: Some(convert::tenant(&accepted.tenant)),
        membership: Some(convert::membership(&accepted.membership, None)),
        already_member: accepted.already_member,
    }))
}

pub(super) async fn revoke(
    service: &Tenancy,
    request: pb::RevokeInviteRequest,
) -> Answer<pb::RevokeInviteResponse> {
    let caller = signed_in(request.caller.as_ref())?;
    let tenant_id = parse_id("tenant_id", &request.tenant_id).map_err(TenancyError::from)?;
    let invite_id = parse_id("invite_id", &request.invite_id).map_err(TenancyError::from)?;
    let invite = service.revoke_invite(caller, tenant_id, invite_id).await?;
    ok(pb::RevokeInviteResponse {
        invite: Some(convert::invite(&invite)),
    })
}

pub(super) async fn list(
    service: &Tenancy,
    request: pb::ListInvitesRequest,
) -> Answer<pb::ListInvitesResponse> {
    let caller = signed_in(request.caller.as_ref())?;
    let tenant_id = parse_id("tenant_id", &request.tenant_id).map_err(TenancyError::from)?;
    let state = convert::invite_state_from(request.state).map_err(TenancyError::from)?;
    let page = convert::page(request.page.as_ref()).map_err(TenancyError::from)?;
    let invites = service.list_invites(caller, tenant_id, state, page).await?;
    ok(pb::ListInvitesResponse {
        page: Some(onramp_proto::common::v1::PageInfo {
            next_page_token: page.next_token(invites.len()),
        }),
        invites: invites.iter().map(convert::invite).collect(),
    })
}
