//! Configuration from the environment and an optional TOML file, the same way for every binary and
//! for the in-process stack (`onramp up`).
//!
//! Field names are the lowercase environment variable names: `database_url` <- `DATABASE_URL`.
//! Layers, each overriding the one before it:
//!
//! 1. defaults the caller derives (e.g. from `APP_BASE_URL`) and serde's own defaults;
//! 2. the top-level keys of `$ONRAMP_CONFIG_FILE` (shared by every service);
//! 3. the environment (shared by every service of one process);
//! 4. the file's table named after the service (`[billing]`, `[tenant-provisioning]`, …): the
//!    one place to give a single service its own value, so the most specific wins;
//! 5. what the caller owns outright (the in-process stack: listen and peer addresses, databases).
//!
//! Tests build a [`ConfigSources`] from a file and a list of variables instead of the process
//! environment.

use std::path::{Path, PathBuf};

use figment::{
    Figment, Metadata, Profile, Provider,
    providers::{Format, Toml},
    value::{Dict, Map, Value},
};
use serde::de::DeserializeOwned;

pub use figment::Error as ConfigError;
pub use secrecy::{ExposeSecret, SecretString};

/// The environment variable naming an optional TOML file read under the environment.
pub const CONFIG_FILE_VAR: &str = "ONRAMP_CONFIG_FILE";

/// Loads `T` from `$ONRAMP_CONFIG_FILE` (if set) overridden by the process environment, without
/// any service table. Prefer [`ConfigSources::load`], which also reads the service's own table.
pub fn load<T: DeserializeOwned>() -> Result<T, Box<figment::Error>> {
    ConfigSources::from_process().load("")
}

/// The one public URL of the app (`APP_BASE_URL`), from which every service derives the defaults
/// of its own URLs (return URLs, invite and mail links, allowed origins).
pub const APP_BASE_URL: &str = "app_base_url";

/// A service's defaults derived from `APP_BASE_URL` (given without a trailing `/`).
pub type DeriveFromAppBaseUrl = fn(&str) -> Variables;

/// For a service whose config derives nothing from `APP_BASE_URL`.
pub fn derive_nothing(_app_base_url: &str) -> Variables {
    Variables::default()
}

/// Whether secrets must be set explicitly: `ONRAMP_ENV=production` turns every dev default off.
pub fn is_production() -> bool {
    std::env::var("ONRAMP_ENV").is_ok_and(|env| env.eq_ignore_ascii_case("production"))
}

/// A list given as a comma-separated string (the environment) or as a list (a config file); blank
/// items are dropped. For `#[serde(deserialize_with = "onramp_kit::config::comma_separated")]`.
pub fn comma_separated<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum ListOrString {
        List(Vec<String>),
        String(String),
    }
    Ok(
        match <ListOrString as serde::Deserialize>::deserialize(deserializer)? {
            ListOrString::List(items) => items,
            ListOrString::String(raw) => raw.split(',').map(str::to_owned).collect(),
        }
        .into_iter()
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect(),
    )
}

/// Where configuration comes from: an optional TOML file and a set of environment variables.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    file: Option<PathBuf>,
    env: Variables,
}

impl ConfigSources {
    /// The process environment and the file it names in `ONRAMP_CONFIG_FILE` (how binaries run).
    pub fn from_process() -> Self {
        Self::from_environment(std::env::vars())
    }

    /// `env` as the process environment, with the file it names in `ONRAMP_CONFIG_FILE`. A blank
    /// value counts as unset, as shells and manifests write "no file" (`ONRAMP_CONFIG_FILE=`).
    pub fn from_environment(env: impl IntoIterator<Item = (String, String)>) -> Self {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let file = env
            .iter()
            .find(|(name, _)| name == CONFIG_FILE_VAR)
            .map(|(_, path)| path.trim())
            .filter(|path| !path.is_empty())
            .map(PathBuf::from);
        Self {
            file,
            env: Variables::new(env),
        }
    }

    /// Explicit sources (tests): `file`, if any, under the given variables.
    pub fn new<K: Into<String>, V: Into<String>>(
        file: Option<PathBuf>,
        env: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            file,
            env: Variables::new(env),
        }
    }

    /// The configuration file, if one is used.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// An environment variable's value (exact, uppercase name).
    pub fn var(&self, name: &str) -> Option<&str> {
        self.env.get(&name.to_ascii_lowercase())
    }

    /// Whether `ONRAMP_ENV=production` is set in these sources (file or environment).
    pub fn is_production(&self) -> bool {
        self.shared_value("onramp_env")
            .is_some_and(|env| env.eq_ignore_ascii_case("production"))
    }

    /// A value every service shares (top-level file key or environment), e.g. `app_base_url`.
    pub fn shared_value(&self, key: &str) -> Option<String> {
        self.figment("", Variables::default(), Variables::default())
            .extract_inner::<String>(key)
            .ok()
    }

    /// Loads `T` for `service` from the file, the environment and the service's own table.
    pub fn load<T: DeserializeOwned>(&self, service: &str) -> Result<T, Box<figment::Error>> {
        self.load_layered(service, Variables::default(), Variables::default())
    }

    /// Loads `T` for `service` with `defaults` beneath every source and `owned` above them all.
    pub fn load_layered<T: DeserializeOwned>(
        &self,
        service: &str,
        defaults: Variables,
        owned: Variables,
    ) -> Result<T, Box<figment::Error>> {
        // figment reports a missing file as a bare "No such file or directory": say which.
        if let Some(path) = &self.file
            && let Err(err) = std::fs::metadata(path)
        {
            let named = format!("{CONFIG_FILE_VAR}={}: {err}", path.display());
            return Err(Box::new(figment::Error::from(named)));
        }
        self.figment(service, defaults, owned)
            .extract()
            .map_err(Box::new)
    }

    /// Loads `T` like [`Self::load_layered`], with `derive`'s defaults for the URLs that follow from
    /// the one public URL (`APP_BASE_URL`, wherever it is set) placed beneath every source.
    pub fn load_derived<T: DeserializeOwned>(
        &self,
        service: &str,
        derive: DeriveFromAppBaseUrl,
        defaults: Variables,
        owned: Variables,
    ) -> Result<T, Box<figment::Error>> {
        let base = self
            .figment(service, defaults.clone(), owned.clone())
            .extract_inner::<String>(APP_BASE_URL)
            .ok();
        let mut layered = defaults;
        if let Some(base) = base {
            for (name, value) in derive(base.trim_end_matches('/')).0 {
                if layered.get(&name).is_none() {
                    layered.set(&name, value);
                }
            }
        }
        self.load_layered(service, layered, owned)
    }

    /// One line on where `service`'s configuration comes from, for a startup message.
    pub fn describe(&self, service: &str) -> String {
        let mut parts = vec![format!("environment ({} variables)", self.env.len())];
        if let Some(path) = &self.file {
            let table = self
                .file_table(service)
                .is_some_and(|table| table.is_some());
            parts.push(if table {
                format!("{} (shared keys + [{service}])", path.display())
            } else {
                format!("{} (shared keys)", path.display())
            });
        }
        parts.join(", ")
    }

    fn file_table(&self, service: &str) -> Option<Option<Dict>> {
        let path = self.file.as_ref()?;
        let figment = Figment::from(Toml::file_exact(path));
        Some(figment.extract_inner::<Dict>(service).ok())
    }

    fn figment(&self, service: &str, defaults: Variables, owned: Variables) -> Figment {
        let mut figment = Figment::from(defaults);
        let file = self
            .file
            .as_ref()
            .map(|path| Figment::from(Toml::file_exact(path)));
        if let Some(file) = &file {
            figment = figment.merge(file.clone());
        }
        figment = figment.merge(self.env.clone());
        if let Some(file) = &file
            && !service.is_empty()
            && file.contains(service)
        {
            figment = figment.merge(file.focus(service));
        }
        figment.merge(owned)
    }
}

/// Variables as the environment gives them (`NAME=value` strings), parsed as figment's `Env` does,
/// with lowercase names so they meet the config structs' field names.
#[derive(Debug, Clone, Default)]
pub struct Variables(Vec<(String, String)>);

impl Variables {
    /// Variables from `(NAME, value)` pairs; names are matched case-insensitively.
    pub fn new<K: Into<String>, V: Into<String>>(vars: impl IntoIterator<Item = (K, V)>) -> Self {
        Self(
            vars.into_iter()
                .map(|(name, value)| (name.into().to_ascii_lowercase(), value.into()))
                .collect(),
        )
    }

    /// Adds (or replaces) one variable.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let name = name.to_ascii_lowercase();
        self.0.retain(|(existing, _)| *existing != name);
        self.0.push((name, value.into()));
    }

    /// A variable's value (lowercase name).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(existing, _)| existing == name)
            .map(|(_, value)| value.as_str())
    }

    /// How many variables there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Provider for Variables {
    fn metadata(&self) -> Metadata {
        Metadata::named("environment variables")
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let dict: Dict = self
            .0
            .iter()
            .filter(|(name, _)| !name.is_empty())
            .map(|(name, value)| {
                let parsed: Value = value.parse().unwrap_or_else(|never| match never {});
                (name.clone(), parsed)
            })
            .collect();
        Ok(Profile::Default.collect(dict))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Sample {
        #[serde(default)]
        smtp_url: Option<String>,
        #[serde(default)]
        self_serve_enabled: Option<bool>,
        #[serde(default)]
        grpc_listen_addr: Option<String>,
        #[serde(default)]
        app_base_url: Option<String>,
    }

    fn file(contents: &str) -> (tempfile_path::Guard, PathBuf) {
        tempfile_path::write(contents)
    }

    mod tempfile_path {
        use std::path::PathBuf;

        pub(super) struct Guard(PathBuf);

        impl Drop for Guard {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }

        pub(super) fn write(contents: &str) -> (Guard, PathBuf) {
            let path =
                std::env::temp_dir().join(format!("onramp-config-{}.toml", uuid::Uuid::new_v4()));
            std::fs::write(&path, contents).expect("write the config file");
            (Guard(path.clone()), path)
        }
    }

    #[test]
    fn the_service_table_beats_the_environment_which_beats_shared_file_keys() {
        let (_guard, path) = file(
            "smtp_url = \"smtp://shared:25\"\nself_serve_enabled = true\n\
             [billing]\nsmtp_url = \"smtp://billing-only:25\"\n",
        );
        let sources = ConfigSources::new(Some(path), [("SELF_SERVE_ENABLED", "false")]);
        let identity: Sample = sources.load("identity").expect("loads");
        assert_eq!(identity.smtp_url.as_deref(), Some("smtp://shared:25"));
        assert_eq!(
            identity.self_serve_enabled,
            Some(false),
            "environment over file"
        );
        let billing: Sample = sources.load("billing").expect("loads");
        assert_eq!(billing.smtp_url.as_deref(), Some("smtp://billing-only:25"));
    }

    #[test]
    fn owned_values_win_and_defaults_lose() {
        let sources = ConfigSources::new(
            None,
            [
                ("GRPC_LISTEN_ADDR", "0.0.0.0:1"),
                ("APP_BASE_URL", "https://app.example"),
            ],
        );
        let mut owned = Variables::default();
        owned.set("GRPC_LISTEN_ADDR", "127.0.0.1:2");
        let defaults = Variables::new([("APP_BASE_URL", "http://127.0.0.1:9")]);
        let loaded: Sample = sources
            .load_layered("identity", defaults, owned)
            .expect("loads");
        assert_eq!(loaded.grpc_listen_addr.as_deref(), Some("127.0.0.1:2"));
        assert_eq!(loaded.app_base_url.as_deref(), Some("https://app.example"));
        assert_eq!(
            sources.shared_value("app_base_url").as_deref(),
            Some("https://app.example")
        );
    }

    #[test]
    fn app_base_url_derives_defaults_that_explicit_values_still_beat() {
        fn derive(base: &str) -> Variables {
            Variables::new([("SMTP_URL", format!("{base}/derived"))])
        }
        fn smtp_url(sources: &ConfigSources) -> Option<String> {
            let loaded: Sample = sources
                .load_derived(
                    "billing",
                    derive,
                    Variables::default(),
                    Variables::default(),
                )
                .expect("loads");
            loaded.smtp_url
        }
        let sources = ConfigSources::new(None, [("APP_BASE_URL", "https://app.example/")]);
        assert_eq!(
            smtp_url(&sources).as_deref(),
            Some("https://app.example/derived")
        );
        let explicit = ConfigSources::new(
            None,
            [
                ("APP_BASE_URL", "https://app.example"),
                ("SMTP_URL", "smtp://x:25"),
            ],
        );
        assert_eq!(smtp_url(&explicit).as_deref(), Some("smtp://x:25"));
        assert_eq!(smtp_url(&ConfigSources::default()), None);
    }

    #[test]
    fn a_blank_config_file_variable_is_no_file() {
        for blank in ["", "  "] {
            let env = [
                (CONFIG_FILE_VAR.to_owned(), blank.to_owned()),
                ("SMTP_URL".to_owned(), "smtp://env:25".to_owned()),
            ];
            let sources = ConfigSources::from_environment(env);
            assert_eq!(sources.file(), None, "{blank:?}");
            let loaded: Sample = sources.load("identity").expect("loads without a file");
            assert_eq!(loaded.smtp_url.as_deref(), Some("smtp://env:25"));
        }
        let (_guard, path) = file("smtp_url = \"smtp://file:25\"\n");
        let named = ConfigSources::from_environment([(
            CONFIG_FILE_VAR.to_owned(),
            path.display().to_string(),
        )]);
        let loaded: Sample = named.load("identity").expect("loads the file");
        assert_eq!(loaded.smtp_url.as_deref(), Some("smtp://file:25"));
    }

    #[test]
    fn a_config_file_that_cannot_be_read_is_named_in_the_error() {
        let missing = std::env::temp_dir().join("onramp-no-such-config.toml");
        let sources = ConfigSources::from_environment([(
            CONFIG_FILE_VAR.to_owned(),
            missing.display().to_string(),
        )]);
        let err = sources.load::<Sample>("identity").expect_err("no file");
        let said = err.to_string();
        assert!(
            said.contains(CONFIG_FILE_VAR) && said.contains("onramp-no-such-config.toml"),
            "{said}"
        );
    }

    #[test]
    fn production_is_read_from_the_given_sources() {
        assert!(ConfigSources::new(None, [("ONRAMP_ENV", "Production")]).is_production());
        assert!(!ConfigSources::new(None, [("ONRAMP_ENV", "dev")]).is_production());
        assert!(!ConfigSources::default().is_production());
    }
}
