//! Brute-force limits are counted in Postgres, so every gateway (and identity replica) shares them.

use reqwest::StatusCode;

use crate::support::{PASSWORD, TestStack, login, new_email, problem, signed_up};

const LIMIT: u32 = 3;

#[tokio::test]
async fn failed_logins_lock_the_account_across_gateways_with_retry_after() {
    let app = TestStack::spawn_with(|options| {
        options.identity(|config: &mut onramp_identity::Config| {
            config.login_max_failures_per_account = LIMIT;
        });
    })
    .await;
    let (other, stop_other) = app.second_gateway(|_| {}).await;
    let email = signed_up(&app).await;

    // A success before the limit resets the counter.
    for _ in 0..LIMIT - 1 {
        assert_eq!(
            login(&app, &email, "wrong password, surely").await.status(),
            401
        );
    }
    assert_eq!(login(&app, &email, PASSWORD).await.status(), StatusCode::OK);

    let login_via = |base: String, password: &'static str| {
        let http = app.http.clone();
        let email = email.clone();
        async move {
            http.post(format!("{base}/v1/auth/login"))
                .json(&serde_json::json!({ "email": email, "password": password }))
                .send()
                .await
                .expect("request")
        }
    };
    // Failures alternate between the two gateways; together they reach the limit.
    for attempt in 0..LIMIT {
        let base = if attempt % 2 == 0 {
            app.url("")
        } else {
            other.clone()
        };
        assert_eq!(
            login_via(base, "wrong password, surely").await.status(),
            401
        );
    }
    for base in [app.url(""), other.clone()] {
        // Locked: even the right password is refused until the window frees a slot.
        let response = login_via(base, PASSWORD).await;
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!(
            (1..=15 * 60).contains(&retry_after),
            "Retry-After {retry_after}"
        );
        assert_eq!(problem(response, 429).await["reason"], "RATE_LIMITED");
    }
    // Another account is not affected.
    let bystander = signed_up(&app).await;
    assert_eq!(
        login(&app, &bystander, PASSWORD).await.status(),
        StatusCode::OK
    );
    stop_other.cancel();
}

#[tokio::test]
async fn failures_from_one_client_ip_are_limited_across_accounts() {
    use onramp_proto::{
        common::v1::Caller,
        identity::v1::{LoginRequest, identity_service_client::IdentityServiceClient},
    };
    let app = TestStack::spawn_with(|options| {
        options.identity(|config: &mut onramp_identity::Config| {
            config.login_max_failures_per_ip = LIMIT
        });
    })
    .await;
    let addr = app.stack.service_addr("identity").expect("identity");
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut identity = IdentityServiceClient::new(channel);
    let attempt = |ip: &str, email: String| LoginRequest {
        caller: Some(Caller {
            client_ip: ip.to_owned(),
            ..Caller::default()
        }),
        email,
        password: "wrong password, surely".into(),
    };
    // Each failure is for a different (unknown) account: only the IP ties them together.
    for _ in 0..LIMIT {
        let status = identity
            .login(attempt("203.0.113.7", new_email()))
            .await
            .expect_err("fails");
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
    }
    let limited = identity
        .login(attempt("203.0.113.7", new_email()))
        .await
        .expect_err("limited");
    assert_eq!(
        onramp_kit::ApiError::from_status(&limited).code,
        onramp_kit::Code::RateLimited
    );
    assert!(
        onramp_kit::ApiError::from_status(&limited)
            .retry_after
            .is_some()
    );
    let other_ip = identity
        .login(attempt("198.51.100.1", new_email()))
        .await
        .expect_err("fails");
    assert_eq!(other_ip.code(), tonic::Code::Unauthenticated);
}

#[tokio::test]
async fn concurrent_guesses_cannot_slip_past_the_account_limit() {
    let app = TestStack::spawn_with(|options| {
        options.identity(|config: &mut onramp_identity::Config| {
            config.login_max_failures_per_account = LIMIT
        });
    })
    .await;
    let email = signed_up(&app).await;
    let guesses = (0..3 * LIMIT).map(|i| {
        let (http, url, email) = (app.http.clone(), app.url("/v1/auth/login"), email.clone());
        async move {
            let body =
                serde_json::json!({ "email": email, "password": format!("guess number {i:04}") });
            http.post(url)
                .json(&body)
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        }
    });
    let statuses = futures::future::join_all(guesses).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        checked, LIMIT as usize,
        "passwords actually checked: {statuses:?}"
    );
    assert_eq!(limited, 2 * LIMIT as usize);
}
