//! The configuration every service shares, and how a service's own `Config` is loaded: each service
//! flattens [`ServiceConfig`] into its `Config`, declares its fields with their serde defaults, and
//! implements [`ServiceSettings`] (its name and what follows from `APP_BASE_URL`); loading and the
//! all-defaults value are the same code for every service.

use std::future::Future;

use serde::{Deserialize, de::DeserializeOwned};

use crate::{
    config::{ConfigError, ConfigSources, DeriveFromAppBaseUrl, Variables, derive_nothing},
    db::DatabaseSettings,
    grpc::server::ServerSettings,
    runtime::BoundService,
    telemetry::TelemetryConfig,
};

/// Listen address, database and telemetry: the part of a service's config that is the same everywhere.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceConfig {
    /// gRPC listener, RPC timeout cap and drain period.
    #[serde(flatten)]
    pub server: ServerSettings,
    /// The service's own database.
    #[serde(flatten)]
    pub database: DatabaseSettings,
    /// Log format and OTLP export.
    #[serde(flatten)]
    pub telemetry: TelemetryConfig,
    /// Where product events are relayed (`POSTHOG_HOST`, `POSTHOG_API_KEY`).
    #[serde(flatten)]
    pub product_events: crate::product_events::settings::ProductEventSettings,
}

impl ServiceConfig {
    /// A config for an in-process service on `listen`, using `database_url`, with default settings.
    pub fn new(listen: std::net::SocketAddr, database_url: impl Into<String>) -> Self {
        Self {
            server: ServerSettings {
                grpc_listen_addr: listen,
                ..ServerSettings::default()
            },
            database: DatabaseSettings::new(database_url),
            telemetry: TelemetryConfig::default(),
            product_events: Default::default(),
        }
    }
}

/// A service's own `Config`: a struct that flattens [`ServiceConfig`] and gives every other field a
/// serde default.
pub trait ServiceSettings: DeserializeOwned {
    /// The service's name: its table in the config file (`[billing]`, `[tenant-provisioning]`).
    const NAME: &'static str;

    /// The defaults that follow from `APP_BASE_URL` (none unless the service says).
    const DERIVE: DeriveFromAppBaseUrl = derive_nothing;

    /// The shared part, which [`ServiceSettings::with_base`] replaces.
    fn base_mut(&mut self) -> &mut ServiceConfig;

    /// Loads the config as the service's binary does (precedence in [`crate::config`]).
    fn load_from(sources: &ConfigSources) -> Result<Self, Box<ConfigError>> {
        sources.load_derived(
            Self::NAME,
            Self::DERIVE,
            Variables::default(),
            Variables::default(),
        )
    }

    /// Every field at its declared default around `base`: exactly what loading from no source at
    /// all gives, so an in-process config and a loaded one cannot drift apart.
    ///
    /// # Panics
    /// When a field beyond the shared part has no default (a bug in the service's `Config`).
    fn with_base(base: ServiceConfig) -> Self {
        // The shared part's one required field gets a placeholder; `base` replaces it all.
        let placeholder = Variables::new([("DATABASE_URL", "postgres://localhost/placeholder")]);
        let mut config: Self = ConfigSources::default()
            .load_layered(Self::NAME, placeholder, Variables::default())
            .unwrap_or_else(|error| panic!("{}: a field has no default: {error}", Self::NAME));
        *config.base_mut() = base;
        config
    }
}

/// Makes a service's `Config` (which has a `base: ServiceConfig` field) a [`ServiceSettings`] named
/// `$name` that derives `$derive` from `APP_BASE_URL`, and gives it the inherent `new(base)` (every
/// default) and `load(sources)` (as the binary loads it) that its callers use.
#[macro_export]
macro_rules! service_settings {
    ($config:ty, $name:expr, $derive:expr) => {
        impl $crate::service_config::ServiceSettings for $config {
            const NAME: &'static str = $name;
            const DERIVE: $crate::config::DeriveFromAppBaseUrl = $derive;

            fn base_mut(&mut self) -> &mut $crate::service_config::ServiceConfig {
                &mut self.base
            }
        }

        impl $config {
            /// A config with every default around `base` (what loading from no source gives).
            pub fn new(base: $crate::service_config::ServiceConfig) -> Self {
                <Self as $crate::service_config::ServiceSettings>::with_base(base)
            }

            /// Loads the config as the binary does (see [`onramp_kit::config`]).
            pub fn load(
                sources: &$crate::config::ConfigSources,
            ) -> Result<Self, Box<$crate::config::ConfigError>> {
                <Self as $crate::service_config::ServiceSettings>::load_from(sources)
            }
        }
    };
}

/// Runs a service's binary: telemetry first (so that building logs), then build, log the address,
/// serve until SIGTERM or Ctrl-C, and flush telemetry. `build` is not polled before telemetry is up.
pub async fn serve(
    name: &'static str,
    telemetry: &TelemetryConfig,
    build: impl Future<Output = anyhow::Result<BoundService>>,
) -> anyhow::Result<()> {
    let guard = crate::telemetry::init(name, telemetry)?;
    let service = build.await?;
    tracing::info!(addr = %service.local_addr()?, "{name} listening");
    let outcome = service
        .run_until_stopped(crate::shutdown::on_signal())
        .await;
    guard.shutdown();
    outcome
}

/// The whole `main` of a service binary after its config is loaded: [`serve`] with the
/// `Application`'s name and build (`$config` is its `Config`).
#[macro_export]
macro_rules! serve {
    ($app:ty, $config:expr) => {{
        let config = $config;
        let telemetry = config.base.telemetry.clone();
        $crate::service_config::serve(<$app>::NAME, &telemetry, <$app>::build(config)).await
    }};
}
