//! A rig for onboarding's end-to-end tests: the whole stack with real sessions ([`TestStack`]), its
//! onboarding service pointed at the Stripe stand-in ([`StripeFake`]: a test mounts the Connect answers
//! it wants on its `mock`), billing verifying Connect webhooks with a
//! known secret, and one or more gateways (each trusting [`PROXY_HEADER`]) — all real servers on
//! ephemeral ports, each service with its own database. Tenant-scoped calls go through tenancy's real
//! membership check: the rig makes workspaces and teammates the way a browser does.

use std::{net::SocketAddr, time::Duration};

use onramp_kit::{config::SecretString, service_config::ServiceConfig};
use onramp_onboarding::{Application, Config};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};
use uuid::Uuid;
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path, path_regex},
};

use crate::support::{TestStack, User, gateways::start_gateway, postgres, stripe::StripeFake};

/// The trusted proxy header the rig's gateways read the client IP from.
pub(crate) const PROXY_HEADER: &str = "x-forwarded-for";

/// Where the rig's onboarding tells Stripe to send the browser back (the test follows it itself).
pub(crate) const RETURN_URL: &str = "http://app.test/v1/onboarding/connect/return";

/// How the rig starts.
#[derive(Debug, Clone)]
pub(crate) struct RigOptions {
    /// Gateways in front of the services (the stack's own counts as the first).
    pub(crate) gateways: usize,
    /// Onboarding replicas on one database (the stack's own counts as the first); the extra
    /// gateways talk to the last one, so no two gateways need share a replica's memory.
    pub(crate) onboarding_replicas: usize,
    /// Whether onboarding sends its mail (else it waits in the outbox).
    pub(crate) onboarding_mails: bool,
    /// Points onboarding's identity and billing reads here (a peer that never answers, say).
    pub(crate) identity_and_billing_addr: Option<String>,
    /// `CHECKLIST_CUSTOM_STEPS`: configured steps after the built-in ones.
    pub(crate) custom_steps: Option<String>,
}

impl Default for RigOptions {
    fn default() -> Self {
        Self {
            gateways: 1,
            onboarding_replicas: 1,
            onboarding_mails: true,
            identity_and_billing_addr: None,
            custom_steps: None,
        }
    }
}

struct Running {
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    async fn stop(mut self) {
        self.stop.cancel();
        (&mut self.task).await.expect("task").expect("clean stop");
    }
}

impl Drop for Running {
    /// A rig dropped without stopping (every test's end) still tells its extra servers to stop.
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The rig; dropping it stops its servers and drops its databases.
pub(crate) struct OnboardingRig {
    pub(crate) world: TestStack,
    /// Onboarding's Stripe: a test mounts the Connect answers it wants on `stripe.mock`.
    pub(crate) stripe: StripeFake,
    /// A client that does not follow redirects (the start route answers 303 to Stripe).
    pub(crate) http: reqwest::Client,
    /// Base URLs of the gateways; the first is the stack's own.
    pub(crate) gateways: Vec<String>,
    /// The onboarding database, for assertions on stored state.
    pub(crate) db: PgPool,
    /// The secret billing verifies Connect webhook deliveries with.
    pub(crate) connect_webhook_secret: String,
    onboarding_addr: SocketAddr,
    options: RigOptions,
    replacement: Option<Running>,
    /// Where the extra gateways send onboarding calls.
    gateway_onboarding_addr: SocketAddr,
    replicas: Vec<Running>,
    /// Each stops its gateway when dropped.
    extra_gateways: Vec<DropGuard>,
}

impl OnboardingRig {
    /// One gateway, onboarding mailing to the world's sink.
    pub(crate) async fn spawn() -> Self {
        Self::spawn_with(RigOptions::default()).await
    }

    /// Starts everything as `options` says.
    pub(crate) async fn spawn_with(options: RigOptions) -> Self {
        let stripe = StripeFake::start().await;
        let secret = format!("whsec_{}", uuid::Uuid::new_v4().simple());
        let stripe_uri = stripe.base.clone();
        let rig_options = options.clone();
        let billing_secret = SecretString::from(secret.clone());
        let world = TestStack::with_mail_and(move |stack| {
            // Runs after the world's own onboarding hook (SMTP), which it keeps.
            stack.onboarding(move |config: &mut Config| {
                rig_settings(config, &stripe_uri, &rig_options);
            });
            stack.gateway(|config: &mut onramp_gateway::Config| {
                config.trusted_proxy_header = Some(PROXY_HEADER.to_owned());
            });
            stack.billing(move |config: &mut onramp_billing::Config| {
                config.stripe_connect_webhook_secrets = vec![billing_secret.clone()];
                config.outbox_poll_interval = Duration::from_millis(50);
            });
        })
        .await;
        let stack = &world.stack;
        let db = world.pool("onboarding").await;
        let onboarding_addr = stack.service_addr("onboarding").expect("onboarding runs");
        let mut rig = Self {
            gateways: vec![stack.gateway_url()],
            world,
            stripe,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
            db,
            connect_webhook_secret: secret,
            onboarding_addr,
            options,
            replacement: None,
            gateway_onboarding_addr: onboarding_addr,
            replicas: Vec::new(),
            extra_gateways: Vec::new(),
        };
        for _ in 1..rig.options.onboarding_replicas {
            rig.add_onboarding_replica().await;
        }
        for _ in 1..rig.options.gateways {
            rig.add_gateway().await;
        }
        rig
    }

    async fn add_gateway(&mut self) {
        let peers = [
            self.world.service_url("identity"),
            self.world.service_url("tenant-provisioning"),
            self.world.service_url("billing"),
            format!("http://{}", self.gateway_onboarding_addr),
        ];
        let (url, stop) = start_gateway(peers, |config| {
            config.trusted_proxy_header = Some(PROXY_HEADER.to_owned());
        })
        .await;
        self.gateways.push(url);
        self.extra_gateways.push(stop.drop_guard());
    }

    /// Stops onboarding and starts a new one on the same port and database (as a deploy or a crash
    /// would), sending its mail to the world's sink when `mails`.
    pub(crate) async fn restart_onboarding(&mut self, mails: bool) {
        if let Some(replacement) = self.replacement.take() {
            replacement.stop().await;
        } else {
            self.world
                .stack
                .stop_service("onboarding")
                .await
                .expect("onboarding stops");
        }
        let config = self.onboarding_config(self.onboarding_addr, mails);
        let app = Application::build(config)
            .await
            .expect("onboarding rebuilds");
        let stop = CancellationToken::new();
        let task = tokio::spawn(app.run_until_stopped(stop.clone()));
        self.replacement = Some(Running { stop, task });
        self.world.wait_until_ready().await;
    }

    /// Another onboarding replica on the same database and a free port (any rate limit or outbox
    /// claim must hold across replicas, which share nothing but Postgres).
    async fn add_onboarding_replica(&mut self) {
        let config = self.onboarding_config(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            self.options.onboarding_mails,
        );
        let app = Application::build(config).await.expect("replica builds");
        self.gateway_onboarding_addr = app.local_addr().expect("addr");
        let stop = CancellationToken::new();
        let task = tokio::spawn(app.run_until_stopped(stop.clone()));
        self.replicas.push(Running { stop, task });
        wait_until_serving(self.gateway_onboarding_addr).await;
    }

    /// An onboarding config like the stack's own (its database, peers, the rig's settings).
    fn onboarding_config(&self, addr: SocketAddr, mails: bool) -> Config {
        let stack = &self.world.stack;
        let database = stack.database("onboarding").expect("onboarding db");
        let url = postgres().database_url(database.get_database().expect("named"));
        let mut base = ServiceConfig::new(addr, &url);
        base.server.drain_period = Duration::from_millis(50);
        let mut config = Config::new(base);
        config.identity_service_addr = self.world.service_url("identity");
        config.tenant_provisioning_service_addr = self.world.service_url("tenant-provisioning");
        config.billing_service_addr = self.world.service_url("billing");
        let options = RigOptions {
            onboarding_mails: mails,
            ..self.options.clone()
        };
        config.smtp_url = Some(SecretString::from(self.world.sink().url()));
        rig_settings(&mut config, &self.stripe.base, &options);
        config
    }

    /// `http://gateway[i]/<path>`.
    pub(crate) fn url(&self, gateway: usize, path: &str) -> String {
        format!("{}{path}", self.gateways[gateway])
    }

    /// A request through the first gateway with the user's session (redirects not followed).
    pub(crate) fn authed(
        &self,
        method: Method,
        path: &str,
        user: &User,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(0, path))
            .bearer_auth(&user.access_token)
    }

    /// A workspace provisioned through the gateway by `owner`, without a plan; answers its id.
    pub(crate) async fn workspace(&self, owner: &User) -> String {
        self.workspace_on_plan(owner, "").await
    }

    /// A workspace on `plan` (a code; the manual provider starts `free` at once, so the workspace
    /// is usable: Connect needs that); empty for none.
    pub(crate) async fn workspace_on_plan(&self, owner: &User, plan: &str) -> String {
        let created = self
            .authed(Method::POST, "/v1/tenants", owner)
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .json(&json!({ "name": "Acme Payouts", "plan_id": plan }))
            .send()
            .await
            .expect("provision");
        assert_eq!(created.status(), StatusCode::CREATED, "provision");
        let created: Value = created.json().await.expect("json");
        created["tenant"]["id"]
            .as_str()
            .expect("tenant id")
            .to_owned()
    }

    /// A second member: a new verified user whom `owner` invites and who accepts, all through the
    /// gateway. (Signed up first, so the verification mail is their first.)
    pub(crate) async fn teammate(&self, owner: &User, tenant: &str) -> User {
        let email = crate::support::new_email();
        let teammate = self.world.verified_user_with_email(&email).await;
        let invited = self
            .authed(
                Method::POST,
                &format!("/v1/tenants/{tenant}/invites"),
                owner,
            )
            .json(&json!({ "invites": [{ "email": email, "role": "member" }] }))
            .send()
            .await
            .expect("invite");
        assert_eq!(invited.status(), StatusCode::CREATED, "invite");
        let invited: Value = invited.json().await.expect("json");
        let code = invited["results"][0]["code"]
            .as_str()
            .expect("invite code")
            .to_owned();
        let accepted = self
            .authed(
                Method::POST,
                &format!("/v1/invites/{code}/accept"),
                &teammate,
            )
            .send()
            .await
            .expect("accept");
        assert_eq!(accepted.status(), StatusCode::OK, "accept");
        teammate
    }
}

/// Polls a service's gRPC health until SERVING (migrations applied), bounded.
async fn wait_until_serving(addr: SocketAddr) {
    let started = std::time::Instant::now();
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect_lazy();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    loop {
        let answer = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: String::new(),
            })
            .await;
        if answer.is_ok_and(|a| a.into_inner().status == 1) {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "never serving");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The rig's onboarding settings, applied after the stack's peers and the world's SMTP.
fn rig_settings(config: &mut Config, stripe_uri: &str, options: &RigOptions) {
    config.stripe_secret_key = Some("sk_test_onramp_rig".to_owned().into());
    config.stripe_api_base = stripe_uri.to_owned();
    config.stripe_timeout = Duration::from_secs(5);
    config.connect_return_url = Some(RETURN_URL.parse().expect("url"));
    config.connect_refresh_url = Some(
        "http://app.test/v1/onboarding/connect/refresh"
            .parse()
            .expect("url"),
    );
    config.mail_relay_interval = Duration::from_millis(50);
    if !options.onboarding_mails {
        config.smtp_url = None;
    }
    config
        .checklist_custom_steps
        .clone_from(&options.custom_steps);
    if let Some(addr) = &options.identity_and_billing_addr {
        config.identity_service_addr.clone_from(addr);
        config.billing_service_addr.clone_from(addr);
    }
}

// Connect: accounts, links and tokens as the tests drive them.

pub(crate) const ACCOUNT: &str = "acct_1OnrampTest";

pub(crate) const LINK: &str = "https://connect.stripe.test/setup/s/link";

/// A workspace whose owner is onboarding it to Connect, with the newest token's secret.
pub(crate) struct Payouts {
    pub(crate) owner: User,
    pub(crate) tenant: String,
    pub(crate) token: String,
}

pub(crate) fn account_json(requirements_met: bool) -> Value {
    let due: Vec<&str> = if requirements_met {
        vec![]
    } else {
        vec!["external_account", "individual.dob.day"]
    };
    json!({
        "id": ACCOUNT, "object": "account", "country": "US", "type": "express",
        "details_submitted": requirements_met, "charges_enabled": requirements_met,
        "payouts_enabled": requirements_met,
        "requirements": {"currently_due": due, "past_due": [], "pending_verification": [],
                         "eventually_due": [], "disabled_reason": null}
    })
}

fn link_json(n: u32) -> Value {
    let expires = chrono::Utc::now().timestamp() + 300;
    json!({"object": "account_link", "created": expires - 300, "expires_at": expires,
           "url": format!("{LINK}/{n}")})
}

/// `POST /v1/onboarding/connect/account` as `user`; answers the response.
pub(crate) async fn create_account(
    rig: &OnboardingRig,
    user: &User,
    tenant: &str,
) -> reqwest::Response {
    rig.authed(Method::POST, "/v1/onboarding/connect/account", user)
        .json(&json!({ "tenant_id": tenant, "country": "US" }))
        .send()
        .await
        .expect("request")
}

/// `POST /v1/onboarding/connect/tokens` as `user`; answers the response.
pub(crate) async fn create_token(
    rig: &OnboardingRig,
    user: &User,
    tenant: &str,
) -> reqwest::Response {
    rig.authed(
        Method::POST,
        &format!("/v1/onboarding/connect/tokens?tenant_id={tenant}"),
        user,
    )
    .send()
    .await
    .expect("request")
}

/// A new token's secret, issued through the gateway.
pub(crate) async fn issue_token(rig: &OnboardingRig, user: &User, tenant: &str) -> String {
    let issued = create_token(rig, user, tenant).await;
    assert_eq!(issued.status(), StatusCode::CREATED, "token");
    let issued: Value = issued.json().await.expect("json");
    assert_eq!(issued["onboarding_token"]["status"], "pending");
    issued["token"].as_str().expect("token").to_owned()
}

/// A verified owner's workspace with a connected account (created through the Stripe fake) and a
/// fresh pending token, all through the gateway.
pub(crate) async fn tenant_with_token(rig: &OnboardingRig) -> Payouts {
    Mock::given(method("POST"))
        .and(path("/v1/accounts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(account_json(false)))
        .mount(&rig.stripe.mock)
        .await;
    let owner = rig.world.verified_user().await;
    let tenant = rig.workspace_on_plan(&owner, "free").await;
    let created = create_account(rig, &owner, &tenant).await;
    assert_eq!(created.status(), StatusCode::OK, "create account");
    let created: Value = created.json().await.expect("json");
    assert_eq!(created["created"], true);
    assert_eq!(created["account"]["stripe_account_id"], ACCOUNT);
    let token = issue_token(rig, &owner, &tenant).await;
    Payouts {
        owner,
        tenant,
        token,
    }
}

/// Account links answer `first` for the first call, then links numbered from 1.
pub(crate) async fn mount_links(rig: &OnboardingRig, first: Option<u16>) {
    if let Some(status) = first {
        Mock::given(method("POST"))
            .and(path("/v1/account_links"))
            .respond_with(ResponseTemplate::new(status).set_body_json(
                json!({"error": {"type": "api_error", "message": "injected failure"}}),
            ))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&rig.stripe.mock)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/v1/account_links"))
        .respond_with(ResponseTemplate::new(200).set_body_json(link_json(1)))
        .with_priority(2)
        .mount(&rig.stripe.mock)
        .await;
}

pub(crate) async fn mount_account_read(rig: &OnboardingRig, requirements_met: bool) {
    rig.stripe.mock.reset().await;
    mount_links(rig, None).await;
    Mock::given(method("GET"))
        .and(path_regex("^/v1/accounts/acct_"))
        .respond_with(ResponseTemplate::new(200).set_body_json(account_json(requirements_met)))
        .mount(&rig.stripe.mock)
        .await;
}

/// The `state` onboarding put in the return URL of its latest account-link request to Stripe.
pub(crate) async fn latest_state(rig: &OnboardingRig) -> String {
    let link = rig.stripe.last_form("/v1/account_links").await;
    let (_, return_url) = link
        .iter()
        .find(|(k, _)| k == "return_url")
        .expect("return_url");
    url::Url::parse(return_url)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state")
}

/// (status, has state, has state expiry) of the tenant's newest token.
pub(crate) async fn token_row(rig: &OnboardingRig, tenant: &str) -> (String, bool, bool) {
    sqlx::query_as(
        "select status, state_hash is not null, state_expires_at > now() from onboarding_tokens
         where tenant_id = $1 order by created_at desc limit 1",
    )
    .bind(Uuid::parse_str(tenant).expect("tenant uuid"))
    .fetch_one(&rig.db)
    .await
    .map(|(s, h, e): (String, bool, Option<bool>)| (s, h, e.unwrap_or(false)))
    .expect("token row")
}

/// The browser following the start link (public: the token is the credential).
pub(crate) async fn start(rig: &OnboardingRig, token: &str) -> reqwest::Response {
    follow(rig, "start", ("token", token)).await
}

/// The browser coming back from Stripe with `state`.
pub(crate) async fn back(rig: &OnboardingRig, state: &str) -> reqwest::Response {
    follow(rig, "return", ("state", state)).await
}

/// The browser at the public Connect link `link` (`start`, `refresh`, `return`) with one query
/// parameter.
pub(crate) async fn follow(
    rig: &OnboardingRig,
    link: &str,
    (name, value): (&str, &str),
) -> reqwest::Response {
    rig.http
        .get(rig.url(0, &format!("/v1/onboarding/connect/{link}")))
        .query(&[(name, value)])
        .send()
        .await
        .expect("request")
}

/// [`tenant_with_token`], its token started (303) against an account Stripe reads as meeting its
/// requirements or not.
pub(crate) async fn started_payouts(rig: &OnboardingRig, requirements_met: bool) -> Payouts {
    let payouts = tenant_with_token(rig).await;
    mount_account_read(rig, requirements_met).await;
    assert_eq!(start(rig, &payouts.token).await.status(), 303, "start");
    payouts
}

/// `GET /v1/onboarding/connect/account` of `tenant` as `user`.
pub(crate) async fn read_account(
    rig: &OnboardingRig,
    user: &User,
    tenant: &str,
) -> reqwest::Response {
    rig.authed(
        Method::GET,
        &format!("/v1/onboarding/connect/account?tenant_id={tenant}"),
        user,
    )
    .send()
    .await
    .expect("request")
}

pub(crate) async fn get_checklist(rig: &OnboardingRig, user: &User, tenant: &str) -> Value {
    let response = rig
        .authed(
            Method::GET,
            &format!("/v1/onboarding?tenant_id={tenant}"),
            user,
        )
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK, "checklist");
    response.json().await.expect("json")
}

/// `(step id, state)` in checklist order.
pub(crate) fn states(view: &Value) -> Vec<(String, String)> {
    view["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["id"].as_str().expect("id").to_owned(),
                s["state"].as_str().expect("state").to_owned(),
            )
        })
        .collect()
}

pub(crate) fn state_of(view: &Value, step: &str) -> String {
    states(view)
        .into_iter()
        .find(|(id, _)| id == step)
        .map(|(_, state)| state)
        .expect("step listed")
}
