//! One TLS crypto provider per process.
//!
//! rustls picks its process default from crate features, and refuses when more than one provider
//! is compiled in (the workspace's test builds pull in both ring and aws-lc-rs through different
//! crates). Every HTTPS or SMTPS client we build takes the default, so we set it ourselves, once.

/// Installs ring as rustls' process-wide provider unless one is installed already.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
