//! One public URL: `APP_BASE_URL`, set once (here as a shared key of the config file), gives every
//! service the defaults of the URLs that follow from it; an explicit value still wins.

use std::path::PathBuf;

use onramp_kit::config::{ConfigSources, Variables};

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

#[test]
fn every_url_default_follows_app_base_url_and_explicit_values_win() {
    let file = ConfigFile::new(
        "app_base_url = \"https://app.example.com/\"\n\
         [tenant-provisioning]\ninvite_link_base = \"https://join.example.com/i/\"\n",
    );
    let sources = ConfigSources::new(Some(file.0.clone()), Vec::<(String, String)>::new());

    let billing: onramp_billing::Config = sources
        .load_derived(
            "billing",
            onramp_billing::Config::derived_from_app_base_url,
            Variables::default(),
            owned(),
        )
        .expect("billing loads");
    assert_eq!(billing.billing_app_url, "https://app.example.com");

    let onboarding: onramp_onboarding::Config = sources
        .load_derived(
            "onboarding",
            onramp_onboarding::Config::derived_from_app_base_url,
            Variables::default(),
            owned(),
        )
        .expect("onboarding loads");
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

    let identity: onramp_identity::Config = sources
        .load_derived(
            "identity",
            onramp_kit::config::derive_nothing,
            Variables::default(),
            owned(),
        )
        .expect("identity loads");
    assert_eq!(identity.app_base_url, "https://app.example.com/");

    // The tenancy table sets its own invite links: the explicit value wins over the derived one.
    let tenancy: onramp_tenant_provisioning::Config = sources
        .load_derived(
            "tenant-provisioning",
            onramp_tenant_provisioning::Config::derived_from_app_base_url,
            Variables::default(),
            owned(),
        )
        .expect("tenancy loads");
    assert_eq!(tenancy.invite_link_base, "https://join.example.com/i/");
    let without_table = ConfigSources::new(None, [("APP_BASE_URL", "https://app.example.com")]);
    let tenancy: onramp_tenant_provisioning::Config = without_table
        .load_derived(
            "tenant-provisioning",
            onramp_tenant_provisioning::Config::derived_from_app_base_url,
            Variables::default(),
            owned(),
        )
        .expect("tenancy loads");
    assert_eq!(tenancy.invite_link_base, "https://app.example.com/invites/");
}
