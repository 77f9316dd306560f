//! One public URL: `APP_BASE_URL`, set once (here as a shared key of the config file), gives every
//! service the defaults of the URLs that follow from it; an explicit value still wins.

use std::path::PathBuf;

use onramp_kit::{
    config::{ConfigSources, Variables},
    service_config::ServiceSettings,
};

struct ConfigFile(PathBuf);

impl ConfigFile {
    fn new(contents: &str) -> Self {
        let path = std::env::temp_dir().join(format!("onramp-app-url-{}.toml", std::process::id()));
        std::fs::write(&path, contents).expect("write the config file");
        Self(path)
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn owned() -> Variables {
    Variables::new([
        ("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x"),
        ("IDENTITY_SERVICE_ADDR", "http://127.0.0.1:1"),
        ("TENANT_PROVISIONING_SERVICE_ADDR", "http://127.0.0.1:2"),
        ("BILLING_SERVICE_ADDR", "http://127.0.0.1:3"),
        ("ONBOARDING_SERVICE_ADDR", "http://127.0.0.1:4"),
    ])
}

/// `T` as its binary (and `onramp up`) loads it from `sources`, under the stack's addresses.
fn load<T: ServiceSettings>(sources: &ConfigSources) -> T {
    sources
        .load_derived(T::NAME, T::DERIVE, Variables::default(), owned())
        .unwrap_or_else(|error| panic!("{} loads: {error}", T::NAME))
}

#[test]
fn every_url_default_follows_app_base_url_and_explicit_values_win() {
    let file = ConfigFile::new(
        "app_base_url = \"https://app.example.com/\"\n\
         [tenant-provisioning]\ninvite_link_base = \"https://join.example.com/i/\"\n",
    );
    let sources = ConfigSources::new(Some(file.0.clone()), Vec::<(String, String)>::new());

    let billing: onramp_billing::Config = load(&sources);
    assert_eq!(billing.billing_app_url, "https://app.example.com");

    let onboarding: onramp_onboarding::Config = load(&sources);
    assert_eq!(
        onboarding.connect_return_url.map(String::from).as_deref(),
        Some("https://app.example.com/settings/payouts?connect=return")
    );
    assert_eq!(
        onboarding.connect_refresh_url.map(String::from).as_deref(),
        Some("https://app.example.com/v1/onboarding/connect/refresh")
    );

    let gateway: onramp_gateway::Config = sources
        .load_derived(
            "gateway",
            onramp_gateway::Config::derived_from_app_base_url,
            Variables::default(),
            owned(),
        )
        .expect("gateway loads");
    assert_eq!(
        gateway.edge.cors_allowed_origins,
        vec!["https://app.example.com".to_owned()]
    );

    let identity: onramp_identity::Config = load(&sources);
    assert_eq!(identity.app_base_url, "https://app.example.com/");

    // The tenancy table sets its own invite links: the explicit value wins over the derived one.
    let tenancy: onramp_tenant_provisioning::Config = load(&sources);
    assert_eq!(tenancy.invite_link_base, "https://join.example.com/i/");
    let without_table = ConfigSources::new(None, [("APP_BASE_URL", "https://app.example.com")]);
    let tenancy: onramp_tenant_provisioning::Config = load(&without_table);
    assert_eq!(tenancy.invite_link_base, "https://app.example.com/invites/");
}
