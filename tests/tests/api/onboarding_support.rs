//! A rig for onboarding's end-to-end tests: the whole stack with real sessions ([`World`]), its
//! onboarding service pointed at a Stripe fake (wiremock), billing verifying Connect webhooks with a
//! known secret, and one or more gateways (each trusting [`PROXY_HEADER`]) — all real servers on
//! ephemeral ports, each service with its own database. Tenant-scoped calls go through tenancy's real
//! membership check: the rig makes workspaces and teammates the way a browser does.

use std::{net::SocketAddr, time::Duration};

use onramp_kit::{config::SecretString, service_config::ServiceConfig};
use onramp_onboarding::{Application, Config};
use onramp_stack::ConfigHook;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use wiremock::MockServer;

use crate::{
    helpers::postgres,
    world::{User, World},
};

/// The trusted proxy header the rig's gateways read the client IP from.
pub(crate) const PROXY_HEADER: &str = "x-forwarded-for";

/// Where the rig's onboarding tells Stripe to send the browser back (the test follows it itself).
pub(crate) const RETURN_URL: &str = "http://app.test/v1/onboarding/connect/return";

/// How the rig starts.
#[derive(Debug, Clone)]
pub(crate) struct RigOptions {
    /// Gateways in front of the services (the stack's own counts as the first).
    pub(crate) gateways: usize,
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
    async fn stop(self) {
        self.stop.cancel();
        self.task.await.expect("task").expect("clean stop");
    }
}

/// The rig. Stop it with [`OnboardingRig::stop`].
pub(crate) struct OnboardingRig {
    pub(crate) world: World,
    pub(crate) stripe: MockServer,
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
    extra_gateways: Vec<Running>,
}

impl OnboardingRig {
    /// One gateway, onboarding mailing to the world's sink.
    pub(crate) async fn spawn() -> Self {
        Self::spawn_with(RigOptions::default()).await
    }

    /// Starts everything as `options` says.
    pub(crate) async fn spawn_with(options: RigOptions) -> Self {
        let stripe = MockServer::start().await;
        let secret = format!("whsec_{}", uuid::Uuid::new_v4().simple());
        let stripe_uri = stripe.uri();
        let rig_options = options.clone();
        let billing_secret = SecretString::from(secret.clone());
        let world = World::spawn_with(move |stack| {
            // The world's own onboarding hook sets SMTP; keep it, then apply the rig's settings.
            let world_hook = stack.configure_onboarding.take();
            stack.configure_onboarding = Some(ConfigHook::new(move |config: &mut Config| {
                if let Some(hook) = &world_hook {
                    hook.apply(config);
                }
                rig_settings(config, &stripe_uri, &rig_options);
            }));
            stack.configure_gateway =
                Some(ConfigHook::new(|config: &mut onramp_gateway::Config| {
                    config.trusted_proxy_header = Some(PROXY_HEADER.to_owned());
                }));
            stack.configure_billing = Some(ConfigHook::new(
                move |config: &mut onramp_billing::Config| {
                    config.stripe_connect_webhook_secrets = vec![billing_secret.clone()];
                    config.outbox_poll_interval = Duration::from_millis(50);
                },
            ));
        })
        .await;
        let stack = &world.app.stack;
        let db = PgPool::connect_with(stack.database("onboarding").expect("onboarding db"))
            .await
            .expect("connect");
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
            extra_gateways: Vec::new(),
        };
        for _ in 1..rig.options.gateways {
            rig.add_gateway().await;
        }
        rig
    }

    async fn add_gateway(&mut self) {
        let stack = &self.world.app.stack;
        let peer = |name: &str| format!("http://{}", service_addr(stack, name));
        let mut config = onramp_gateway::Config::new(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            [
                peer("identity"),
                peer("tenant-provisioning"),
                peer("billing"),
                format!("http://{}", self.onboarding_addr),
            ],
        );
        config.trusted_proxy_header = Some(PROXY_HEADER.to_owned());
        let gateway = onramp_gateway::Application::build(config)
            .await
            .expect("gateway builds");
        self.gateways
            .push(format!("http://{}", gateway.local_addr().expect("addr")));
        let stop = CancellationToken::new();
        let task = tokio::spawn(gateway.run_until_stopped(stop.clone()));
        self.extra_gateways.push(Running { stop, task });
    }

    /// Stops onboarding and starts a new one on the same port and database (as a deploy or a crash
    /// would), sending its mail to the world's sink when `mails`.
    pub(crate) async fn restart_onboarding(&mut self, mails: bool) {
        if let Some(replacement) = self.replacement.take() {
            replacement.stop().await;
        } else {
            self.world
                .app
                .stack
                .stop_service("onboarding")
                .await
                .expect("onboarding stops");
        }
        let stack = &self.world.app.stack;
        let database = stack.database("onboarding").expect("onboarding db");
        let url = postgres().database_url(database.get_database().expect("named"));
        let mut base = ServiceConfig::new(self.onboarding_addr, &url);
        base.server.drain_period = Duration::from_millis(50);
        let mut config = Config::new(base);
        config.identity_service_addr = format!("http://{}", service_addr(stack, "identity"));
        config.tenant_provisioning_service_addr =
            format!("http://{}", service_addr(stack, "tenant-provisioning"));
        config.billing_service_addr = format!("http://{}", service_addr(stack, "billing"));
        let options = RigOptions {
            onboarding_mails: mails,
            ..self.options.clone()
        };
        config.smtp_url = Some(SecretString::from(self.world.sink.url()));
        rig_settings(&mut config, &self.stripe.uri(), &options);
        let app = Application::build(config)
            .await
            .expect("onboarding rebuilds");
        let stop = CancellationToken::new();
        let task = tokio::spawn(app.run_until_stopped(stop.clone()));
        self.replacement = Some(Running { stop, task });
        self.world.app.wait_until_ready().await;
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
        let email = crate::identity::new_email();
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

    /// Stops the extra gateways, a replacement onboarding and the stack; drops every database.
    pub(crate) async fn stop(mut self) {
        for gateway in self.extra_gateways.drain(..) {
            gateway.stop().await;
        }
        if let Some(replacement) = self.replacement.take() {
            replacement.stop().await;
        }
        self.db.close().await;
        self.world.stop().await;
    }
}

fn service_addr(stack: &onramp_stack::RunningStack, name: &str) -> SocketAddr {
    stack.service_addr(name).expect("service runs")
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
