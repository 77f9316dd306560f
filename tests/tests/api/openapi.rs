//! The OpenAPI contract against the running stack: the served document is the committed one, every
//! documented route is routed, and `schemathesis` (PyPI; ./tests/run installs it) fuzzes every
//! operation as a signed-in user, failing on any 5xx or any answer the document does not allow.

use std::{process::Stdio, time::Duration};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::process::Command;

use crate::support::{TestStack, routes::concrete_path, tenancy::provision};

/// Examples per operation and phase: enough to reach every field, within ~2 minutes on 2 cores.
const MAX_EXAMPLES: &str = "25";

/// A fixed seed, so a failure CI finds is the failure a developer reproduces.
const SEED: &str = "20261122";

fn committed_document() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../gateway/openapi.json");
    let text = std::fs::read_to_string(path).expect("gateway/openapi.json is committed");
    serde_json::from_str(&text).expect("gateway/openapi.json is JSON")
}

#[tokio::test]
async fn the_served_document_is_the_committed_one_and_names_only_real_routes() {
    let app = TestStack::spawn().await;
    let served = app.get("/openapi.json").await;
    assert_eq!(served.status(), StatusCode::OK);
    let served: Value = served.json().await.expect("document");
    assert_eq!(served, committed_document());
    assert_eq!(served["openapi"], "3.1.0");

    // Every documented operation reaches a handler: the router's fallback and method rejection
    // never answer a documented path and method.
    let paths = served["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        let concrete = concrete_path(path);
        for method in item.as_object().expect("path item").keys() {
            operations += 1;
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let response = app
                .http
                .request(method.clone(), app.url(&concrete))
                .json(&json!({}))
                .send()
                .await
                .expect("request");
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert_ne!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but not routed"
            );
            assert!(
                body["detail"] != "no such route",
                "{method} {path} is documented but not routed"
            );
        }
    }
    assert!(operations >= 50, "every route is documented ({operations})");
}

/// The schemathesis CLI (`SCHEMATHESIS_BIN`, else where ./tests/run installs it).
fn schemathesis() -> String {
    std::env::var("SCHEMATHESIS_BIN").unwrap_or_else(|_| {
        format!(
            "{}/.cache/onramp-tools/schemathesis-venv/bin/schemathesis",
            std::env::var("HOME").unwrap_or_default()
        )
    })
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_document() {
    let world = TestStack::with_mail().await;
    let user = world.verified_user().await;
    // A workspace the user owns, so tenant-scoped routes have something real to find.
    let key = uuid::Uuid::new_v4().to_string();
    let body = json!({ "name": "Fuzzed Workspace" });
    let provisioned = provision(&world, &user, &key, body).await;
    assert_eq!(provisioned.status(), StatusCode::CREATED);

    let report = tempdir();
    let output = Command::new(schemathesis())
        .arg("run")
        .arg(world.url("/openapi.json"))
        .args(["--checks", CHECKS])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--max-examples", MAX_EXAMPLES, "--seed", SEED])
        .args(["--workers", "2", "--request-timeout", "15"])
        .args(["--suppress-health-check", "all", "--no-shrink"])
        .args(["--continue-on-failure"])
        .arg("--header")
        .arg(format!("Authorization: Bearer {}", user.access_token))
        .args(["--report", "junit", "--report-dir"])
        .arg(&report)
        .env("NO_COLOR", "1")
        // Its crash cache goes to the run's own directory, never into the repository.
        .current_dir(&report)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(420), output)
        .await
        .expect("schemathesis finishes within 7 minutes")
        .expect("schemathesis is installed (./tests/run installs it)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The run's own summary (operations and test cases), for whoever reads the test log.
    eprintln!("{stdout}");
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{stdout}\n{stderr}"
    );
    // "API Operations: … Tested: 52" and "Test cases: 2862 generated, 2862 passed".
    let number_after = |label: &str| {
        stdout.split_once(label).and_then(|(_, rest)| {
            rest.split(|c: char| !c.is_ascii_digit())
                .find(|word| !word.is_empty())
                .and_then(|digits| digits.parse::<u64>().ok())
        })
    };
    let tested = number_after("Tested:").unwrap_or_default();
    let generated = number_after("Test cases:").unwrap_or_default();
    assert!(
        tested >= 50 && generated >= tested * 10,
        "schemathesis fuzzed every operation ({tested} operations, {generated} cases):\n{stdout}"
    );
    let _ = std::fs::remove_dir_all(&report);
}

/// What a response must satisfy: never a 5xx, and only statuses, content types and bodies the
/// document allows.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("onramp-schemathesis-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("report dir");
    dir
}
