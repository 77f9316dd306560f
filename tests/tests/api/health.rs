//! The standard gRPC health protocol: SERVING only after migrations, NOT_SERVING while draining.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use onramp_kit::{db, service_config::ServiceConfig};
use sqlx::{Connection, PgConnection};
use tokio_util::sync::CancellationToken;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::support::{TestStack, postgres, unique_prefix};

async fn status_of(addr: SocketAddr, service: &str) -> ServingStatus {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}")).expect("uri");
    let mut client = HealthClient::new(channel.connect().await.expect("connect"));
    let request = HealthCheckRequest {
        service: service.to_owned(),
    };
    client
        .check(request)
        .await
        .expect("health check")
        .into_inner()
        .status()
}

async fn wait_for_status(addr: SocketAddr, wanted: ServingStatus, within: Duration) {
    let start = Instant::now();
    while status_of(addr, "").await != wanted {
        assert!(start.elapsed() < within, "health never became {wanted:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_standard_health_client_sees_every_service_serving() {
    let app = TestStack::spawn().await;
    let named = [
        ("identity", "onramp.identity.v1.IdentityService"),
        ("tenant-provisioning", "onramp.tenancy.v1.TenancyService"),
        ("billing", "onramp.billing.v1.BillingService"),
        ("onboarding", "onramp.onboarding.v1.OnboardingService"),
    ];
    for (service, grpc_name) in named {
        let addr = app.stack.service_addr(service).expect("running");
        assert_eq!(
            status_of(addr, "").await,
            ServingStatus::Serving,
            "{service}"
        );
        assert_eq!(
            status_of(addr, grpc_name).await,
            ServingStatus::Serving,
            "{grpc_name}"
        );
    }
}

#[tokio::test]
async fn health_is_not_serving_until_migrations_apply_and_again_while_draining() {
    let server = postgres();
    let database = format!("{}_identity", unique_prefix());
    let server_options = server.options().expect("options");
    assert!(
        db::ensure_database(&server_options, &database)
            .await
            .expect("create")
    );

    // Hold the migration lock, as a slow replica migrating the same database would.
    let mut holder = PgConnection::connect_with(&server_options.clone().database(&database))
        .await
        .expect("connect");
    sqlx::query("select pg_advisory_lock($1)")
        .bind(db::MIGRATION_LOCK_KEY)
        .execute(&mut holder)
        .await
        .expect("lock");

    let mut base = ServiceConfig::new(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        server.database_url(&database),
    );
    base.server.drain_period = Duration::from_secs(2);
    let app = onramp_identity::Application::build(onramp_identity::Config::new(base))
        .await
        .expect("build");
    let addr = app.local_addr().expect("addr");
    let stop = CancellationToken::new();
    let running = tokio::spawn(app.run_until_stopped(stop.clone()));

    wait_for_status(addr, ServingStatus::NotServing, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        status_of(addr, "").await,
        ServingStatus::NotServing,
        "serving before migrations ran"
    );

    sqlx::query("select pg_advisory_unlock($1)")
        .bind(db::MIGRATION_LOCK_KEY)
        .execute(&mut holder)
        .await
        .expect("unlock");
    wait_for_status(addr, ServingStatus::Serving, Duration::from_secs(10)).await;

    stop.cancel();
    // During the 2 s drain the server still answers, and says NOT_SERVING.
    wait_for_status(addr, ServingStatus::NotServing, Duration::from_secs(1)).await;
    running.await.expect("joined").expect("clean stop");

    holder.close().await.expect("close");
    db::drop_database(&server_options, &database)
        .await
        .expect("drop");
}
