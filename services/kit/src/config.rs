//! Configuration from the environment, with an optional TOML file underneath.
//!
//! Every binary deserialises its own config struct (documented field by field) with [`load`]. Field
//! names are the lowercase environment variable names: `database_url` <- `DATABASE_URL`. Tests and
//! the in-process stack build config structs directly instead.

use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use serde::de::DeserializeOwned;

pub use secrecy::{ExposeSecret, SecretString};

/// The environment variable naming an optional TOML file read before the environment.
pub const CONFIG_FILE_VAR: &str = "ONRAMP_CONFIG_FILE";

/// Loads `T` from `$ONRAMP_CONFIG_FILE` (if set) overridden by the process environment.
pub fn load<T: DeserializeOwned>() -> Result<T, Box<figment::Error>> {
    let mut figment = Figment::new();
    if let Some(path) = std::env::var_os(CONFIG_FILE_VAR) {
        figment = figment.merge(Toml::file_exact(path));
    }
    figment.merge(Env::raw()).extract().map_err(Box::new)
}

/// Whether secrets must be set explicitly: `ONRAMP_ENV=production` turns every dev default off.
pub fn is_production() -> bool {
    std::env::var("ONRAMP_ENV").is_ok_and(|env| env.eq_ignore_ascii_case("production"))
}
