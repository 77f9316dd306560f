//! With no file and no variables, loading a service's config the way its binary does gives exactly
//! the defaults its `Config::new` spells out: the stack (and every test built on it) loads configs
//! through the binaries' path, so the two must never drift.

use onramp_kit::{
    config::{ConfigSources, Variables, derive_nothing},
    service_config::{ServiceConfig, ServiceSettings},
};

const DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/onramp_defaults";
const LISTEN: &str = "127.0.0.1:50999";

fn owned() -> Variables {
    Variables::new([("DATABASE_URL", DATABASE_URL), ("GRPC_LISTEN_ADDR", LISTEN)])
}

fn base() -> ServiceConfig {
    ServiceConfig::new(LISTEN.parse().expect("address"), DATABASE_URL)
}

/// Debug output of a config (the clock's offset, the one process-made field, is zero in both).
fn shown(config: &impl std::fmt::Debug) -> String {
    format!("{config:?}")
}

/// Asserts that `T` loaded from no source at all is exactly `T::new(base())`.
fn loads_what_new_builds<T: ServiceSettings + std::fmt::Debug>() {
    let from_sources: T = ConfigSources::default()
        .load_derived(T::NAME, derive_nothing, Variables::default(), owned())
        .expect("the defaults load");
    assert_eq!(shown(&from_sources), shown(&T::with_base(base())));
}

#[test]
fn identity_loads_what_config_new_builds() {
    loads_what_new_builds::<onramp_identity::Config>();
}

#[test]
fn tenancy_loads_what_config_new_builds() {
    loads_what_new_builds::<onramp_tenant_provisioning::Config>();
}

#[test]
fn billing_loads_what_config_new_builds() {
    loads_what_new_builds::<onramp_billing::Config>();
}

#[test]
fn onboarding_loads_what_config_new_builds() {
    loads_what_new_builds::<onramp_onboarding::Config>();
}

#[test]
fn the_gateway_loads_what_config_new_builds() {
    let peers = ["http://a:1", "http://b:2", "http://c:3", "http://d:4"];
    let vars = Variables::new([
        ("IDENTITY_SERVICE_ADDR", peers[0]),
        ("TENANT_PROVISIONING_SERVICE_ADDR", peers[1]),
        ("BILLING_SERVICE_ADDR", peers[2]),
        ("ONBOARDING_SERVICE_ADDR", peers[3]),
        ("HTTP_LISTEN_ADDR", "127.0.0.1:8080"),
    ]);
    let from_sources: onramp_gateway::Config = ConfigSources::default()
        .load_derived("gateway", derive_nothing, Variables::default(), vars)
        .expect("the defaults load");
    let built = onramp_gateway::Config::new(
        "127.0.0.1:8080".parse().expect("address"),
        peers.map(str::to_owned),
    );
    assert_eq!(shown(&from_sources), shown(&built));
}
