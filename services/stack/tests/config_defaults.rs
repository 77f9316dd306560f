//! With no file and no variables, loading a service's config the way its binary does gives exactly
//! the defaults its `Config::new` spells out: the stack (and every test built on it) loads configs
//! through the binaries' path, so the two must never drift.

use onramp_kit::{
    config::{ConfigSources, Variables, derive_nothing},
    service_config::ServiceConfig,
};

const DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/onramp_defaults";
const LISTEN: &str = "127.0.0.1:50999";

fn owned() -> Variables {
    Variables::new([("DATABASE_URL", DATABASE_URL), ("GRPC_LISTEN_ADDR", LISTEN)])
}

fn base() -> ServiceConfig {
    ServiceConfig::new(LISTEN.parse().expect("address"), DATABASE_URL)
}

fn loaded<T: serde::de::DeserializeOwned>(service: &str) -> T {
    ConfigSources::default()
        .load_derived(service, derive_nothing, Variables::default(), owned())
        .expect("the defaults load")
}

/// Debug output minus the (process-generated) clock, which differs by construction.
fn shown(config: &impl std::fmt::Debug) -> String {
    format!("{config:?}")
}

#[test]
fn identity_loads_what_config_new_builds() {
    let from_sources: onramp_identity::Config = loaded("identity");
    assert_eq!(
        shown(&from_sources),
        shown(&onramp_identity::Config::new(base()))
    );
}

#[test]
fn tenancy_loads_what_config_new_builds() {
    let from_sources: onramp_tenant_provisioning::Config = loaded("tenant-provisioning");
    assert_eq!(
        shown(&from_sources),
        shown(&onramp_tenant_provisioning::Config::new(base()))
    );
}

#[test]
fn billing_loads_what_config_new_builds() {
    let from_sources: onramp_billing::Config = loaded("billing");
    assert_eq!(
        shown(&from_sources),
        shown(&onramp_billing::Config::new(base()))
    );
}

#[test]
fn onboarding_loads_what_config_new_builds() {
    let from_sources: onramp_onboarding::Config = loaded("onboarding");
    assert_eq!(
        shown(&from_sources),
        shown(&onramp_onboarding::Config::new(base()))
    );
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
