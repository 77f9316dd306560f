//! The journey's team and payouts steps: a teammate invited by mail who signs up, verifies and
//! accepts; seats usage; Stripe Connect onboarding through one injected AccountLinks failure.

use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path},
};

use crate::support::{
    PASSWORD, User, attribute,
    journey::{Journey, traceparent},
    link_token, login, mail_text, new_email, post, signup, wait_for_span,
};

impl Journey {
    /// The owner invites a new address; the teammate gets the mail, signs up, verifies from the
    /// second mail (the first is the invite), and accepts. Returns the teammate.
    pub(crate) async fn teammate_joins(&self, owner: &User, tenant: &str) -> User {
        let email = new_email();
        let (status, created) = self
            .post_json(
                owner,
                &format!("/v1/tenants/{tenant}/invites"),
                json!({ "invites": [{ "email": email, "role": "member" }] }),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["results"][0]["outcome"], "created", "{created}");
        let invite = self.world.nth_mail(&email, 1).await;
        let code = invite_code(&mail_text(&invite));

        let app = &self.world;
        assert_eq!(
            signup(app, &email, PASSWORD).await.status(),
            StatusCode::ACCEPTED
        );
        let verification = self.world.nth_mail(&email, 2).await;
        let verified = post(
            app,
            "/v1/auth/verify-email",
            json!({ "token": link_token(&verification) }),
        )
        .await;
        assert_eq!(verified.status(), StatusCode::OK, "verify-email");
        let session: Value = login(app, &email, PASSWORD)
            .await
            .json()
            .await
            .expect("session");
        let access_token = session["access_token"].as_str().expect("access").to_owned();
        let me = self
            .get_json(
                &User {
                    email: email.clone(),
                    id: String::new(),
                    access_token: access_token.clone(),
                },
                "/v1/users/me",
            )
            .await;
        let teammate = User {
            email,
            id: me["id"].as_str().expect("id").to_owned(),
            access_token,
        };
        let (accept_trace, accept_trace_id) = traceparent();
        let (status, accepted) = self
            .post_traced(
                &teammate,
                &format!("/v1/invites/{code}/accept"),
                json!({}),
                Some(&accept_trace),
            )
            .await;
        assert_eq!(status, 200, "{accepted}");
        assert_eq!(accepted["membership"]["role"], "member", "{accepted}");
        assert_eq!(accepted["tenant"]["id"], tenant, "{accepted}");
        // Tenancy read the invitee's verified email from identity, inside the browser's trace. The
        // gateway's span is named by the route template: the invite code is a secret.
        for (service, rpc) in [
            ("gateway", "POST /v1/invites/{code}/accept"),
            ("tenant-provisioning", "AcceptInvite"),
            ("identity", "LookupUsers"),
        ] {
            assert_span(&accept_trace_id, service, rpc).await;
        }
        teammate
    }

    /// `GET /v1/usage/seats?tenant_id=…` → `used`.
    pub(crate) async fn seats_used(&self, user: &User, tenant: &str) -> i64 {
        let usage = self
            .get_json(user, &format!("/v1/usage/seats?tenant_id={tenant}"))
            .await;
        usage["used"].as_i64().expect("used")
    }
}

/// The invite code in an invite mail's link (`…/invites/<code>`).
pub(crate) fn invite_code(text: &str) -> String {
    let start = text.find("/invites/").expect("an invite link") + "/invites/".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// Stripe's account-link URL the Connect start route redirects to.
pub(crate) const ACCOUNT_LINK: &str = "https://connect.stripe.test/setup/s/journey";

impl Journey {
    /// Connect onboarding: the owner creates the connected account and a token; the first start
    /// meets one injected AccountLinks failure (502 `STRIPE_UNAVAILABLE`), the retry gets the 303.
    pub(crate) async fn connect_with_one_stripe_failure(&self, owner: &User, tenant: &str) {
        let mock = &self.stripe().mock;
        Mock::given(method("POST"))
            .and(path("/v1/accounts"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(crate::support::onboarding::account_json(false)),
            )
            .mount(mock)
            .await;
        Mock::given(method("POST"))
            .and(path("/v1/account_links"))
            .respond_with(ResponseTemplate::new(500).set_body_json(
                json!({"error": {"type": "api_error", "message": "injected failure"}}),
            ))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(mock)
            .await;
        let expires = chrono::Utc::now().timestamp() + 300;
        Mock::given(method("POST"))
            .and(path("/v1/account_links"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "object": "account_link", "created": expires - 300, "expires_at": expires,
                "url": ACCOUNT_LINK,
            })))
            .with_priority(2)
            .mount(mock)
            .await;

        let (status, account) = self
            .post_json(
                owner,
                "/v1/onboarding/connect/account",
                json!({ "tenant_id": tenant, "country": "US" }),
            )
            .await;
        assert_eq!(status, 200, "{account}");
        assert_eq!(account["created"], true, "{account}");
        let (status, created) = self
            .post_json(
                owner,
                &format!("/v1/onboarding/connect/tokens?tenant_id={tenant}"),
                json!({}),
            )
            .await;
        assert!(matches!(status, 200 | 201), "{status} {created}");
        let token = created["token"].as_str().expect("token").to_owned();

        let start = || {
            self.browser
                .get(self.url("/v1/onboarding/connect/start"))
                .query(&[("token", token.as_str())])
                .send()
        };
        let failed = start().await.expect("start");
        assert_eq!(failed.status(), StatusCode::BAD_GATEWAY);
        let problem: Value = failed.json().await.expect("problem");
        assert_eq!(problem["reason"], "STRIPE_UNAVAILABLE", "{problem}");
        let started = start().await.expect("retry");
        assert_eq!(started.status(), StatusCode::SEE_OTHER);
        assert_eq!(started.headers()["location"], ACCOUNT_LINK);
    }
}

/// Waits until one span of `trace_id` was recorded by `service` (an RPC named `…/rpc`), or by the
/// gateway (`service` "gateway": the HTTP span named `rpc`).
pub(crate) async fn assert_span(trace_id: &str, service: &str, rpc: &str) {
    wait_for_span(|span| {
        span.span_context.trace_id().to_string() == trace_id
            && if service == "gateway" {
                span.name == rpc
            } else {
                attribute(span, "onramp.service").as_deref() == Some(service)
                    && span.name.ends_with(&format!("/{rpc}"))
            }
    })
    .await;
}

/// The journey's tail, shared by every plan and provider: the checklist, a teammate, two seats, and
/// (with Stripe) Connect onboarding through one injected failure.
pub(crate) async fn team_and_payouts(
    journey: &Journey,
    owner: &crate::support::User,
    tenant: &str,
    with_connect: bool,
) {
    let steps = journey.checklist(owner, tenant).await;
    let state = |steps: &[(String, String)], id: &str| {
        steps
            .iter()
            .find(|(step, _)| step == id)
            .map(|(_, state)| state.clone())
            .unwrap_or_default()
    };
    assert_eq!(state(&steps, "verify_email"), "done", "{steps:?}");
    assert_eq!(state(&steps, "choose_plan"), "done", "{steps:?}");
    assert_eq!(state(&steps, "invite_teammates"), "pending", "{steps:?}");

    let teammate = journey.teammate_joins(owner, tenant).await;
    assert_eq!(journey.seats_used(owner, tenant).await, 2);
    let steps = journey.checklist(&teammate, tenant).await;
    assert_eq!(state(&steps, "invite_teammates"), "done", "{steps:?}");

    if with_connect {
        journey.connect_with_one_stripe_failure(owner, tenant).await;
    }
}
