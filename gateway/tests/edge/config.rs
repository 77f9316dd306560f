//! The edge's settings as they are written in the environment.

use std::time::Duration;

use onramp_gateway::{EdgeConfig, Limit, RouteLimit};
use serde_json::json;

#[test]
fn limits_parse_and_bad_ones_say_why() {
    assert_eq!(
        "600/1m".parse::<Limit>(),
        Ok(Limit {
            requests: 600,
            window: Duration::from_secs(60)
        })
    );
    assert!("600".parse::<Limit>().is_err());
    assert!("0/1m".parse::<Limit>().is_err());
    let route: RouteLimit = "post /v1/auth/login = 10/30s".parse().expect("route");
    assert_eq!(route.method, http::Method::POST);
    assert_eq!(route.path, "/v1/auth/login");
    assert_eq!(route.limit.window, Duration::from_secs(30));
}

#[test]
fn origins_come_comma_separated_and_must_be_origins() {
    let parse = |raw: &str| {
        serde_json::from_value::<EdgeConfig>(json!({ "cors_allowed_origins": raw }))
            .map(|edge| edge.cors_allowed_origins)
    };
    assert_eq!(
        parse(" https://a.example, http://localhost:3000 ").expect("origins"),
        ["https://a.example", "http://localhost:3000"]
    );
    assert!(parse("https://a.example/").is_err());
    assert!(parse("a.example").is_err());
}
