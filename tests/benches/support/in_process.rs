//! The in-process stack for the benches that need all of it: started on fresh databases, and
//! waited on until it answers.

use std::time::{Duration, Instant};

use anyhow::bail;
use onramp_stack::{
    RunningStack, StackOptions,
    postgres::{LOCAL_SERVER_URL, PgServer},
};
use uuid::Uuid;

/// Options for a stack on `DATABASE_URL` (or 127.0.0.1:5432) with databases of its own.
pub(crate) fn options() -> anyhow::Result<StackOptions> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| LOCAL_SERVER_URL.to_owned());
    let prefix = format!(
        "onramp_bench_{}",
        &Uuid::new_v4().simple().to_string()[..12]
    );
    Ok(StackOptions::local(PgServer::from_url(&url)?, prefix))
}

/// Starts the stack and waits (bounded) until its gateway's `/readyz` answers 200.
pub(crate) async fn start(
    options: StackOptions,
    http: &reqwest::Client,
) -> anyhow::Result<RunningStack> {
    let stack = RunningStack::start(options).await?;
    let started = Instant::now();
    while !http
        .get(format!("{}/readyz", stack.gateway_url()))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        if started.elapsed() > Duration::from_secs(60) {
            bail!("the stack never became ready");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(stack)
}
