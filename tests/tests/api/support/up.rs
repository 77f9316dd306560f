//! `onramp up`'s own code path from a test: a config file on disk and the stack it starts, adopted as
//! a [`TestStack`] (its databases dropped with it).

use std::path::PathBuf;

use onramp_kit::config::ConfigSources;
use onramp_stack::up::{self, Up, UpOptions};

use super::{TestStack, postgres, unique_prefix};

/// A TOML file under the temp directory, removed when dropped.
pub(crate) struct ConfigFile(PathBuf);

impl ConfigFile {
    pub(crate) fn new(contents: &str) -> Self {
        let path = std::env::temp_dir().join(format!("{}.toml", unique_prefix()));
        std::fs::write(&path, contents).expect("write the config file");
        Self(path)
    }

    /// Where the file is.
    pub(crate) fn path(&self) -> PathBuf {
        self.0.clone()
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// What `onramp up` reported besides the stack.
pub(crate) struct Started {
    pub(crate) mailbox: bool,
    pub(crate) app_url: String,
    pub(crate) first_screen: String,
}

/// `onramp up` on its own databases with `config`, ready to serve.
pub(crate) async fn up_with(config: ConfigSources) -> (Started, TestStack) {
    let Up {
        stack,
        mailbox,
        app_url,
        first_screen,
    } = up::start(UpOptions {
        config,
        server: postgres(),
        database_prefix: unique_prefix(),
        port: 0,
    })
    .await
    .expect("onramp up starts");
    let app = TestStack::adopt(stack);
    app.wait_until_ready().await;
    let started = Started {
        mailbox: mailbox.is_some(),
        app_url,
        first_screen,
    };
    (started, app)
}
