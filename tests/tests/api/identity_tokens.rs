//! Access tokens through the gateway: identity's keys (two live, for rotation) verify; a token with
//! `alg: none`, the wrong audience, an expired `exp` or an unknown `kid` is refused.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{
    SigningKey,
    pkcs8::{EncodePrivateKey as _, spki::der::pem::LineEnding},
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use onramp_kit::{auth::AccessClaims, config::SecretString};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{TestStack, me, problem, signed_in};

fn pem(key: &SigningKey) -> String {
    key.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string()
}

fn encoding(key: &SigningKey) -> EncodingKey {
    EncodingKey::from_ed_der(key.to_pkcs8_der().expect("der").as_bytes())
}

fn sign(key: &SigningKey, kid: &str, claims: &AccessClaims) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &encoding(key)).expect("sign")
}

/// The kid identity published for `key`.
fn kid_of(jwks: &Value, key: &SigningKey) -> String {
    let x = URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes());
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|jwk| jwk["x"] == x.as_str())
        .and_then(|jwk| jwk["kid"].as_str())
        .expect("key published")
        .to_owned()
}

#[tokio::test]
async fn only_well_formed_tokens_signed_by_a_published_key_are_accepted() {
    let (current, previous) = (
        SigningKey::generate(&mut rand::rngs::OsRng),
        SigningKey::generate(&mut rand::rngs::OsRng),
    );
    let bundle = format!("{}{}", pem(&current), pem(&previous));
    let app = TestStack::spawn_with(move |options| {
        options.identity(move |config: &mut onramp_identity::Config| {
            config.signing_keys_pem = Some(SecretString::from(bundle.clone()));
        });
    })
    .await;
    let jwks: Value = app.get_json("/.well-known/jwks.json").await;
    assert_eq!(jwks["keys"].as_array().expect("keys").len(), 2);
    assert_eq!(jwks["keys"][0]["alg"], "EdDSA");
    let (current_kid, previous_kid) = (kid_of(&jwks, &current), kid_of(&jwks, &previous));

    // A real session's token is signed by the current key.
    let (_, session) = signed_in(&app).await;
    let real = session["access_token"].as_str().expect("access");
    let header = jsonwebtoken::decode_header(real).expect("header");
    assert_eq!(header.kid.as_deref(), Some(current_kid.as_str()));
    let claims = jsonwebtoken::dangerous::insecure_decode::<AccessClaims>(real)
        .expect("claims")
        .claims;
    assert_eq!(claims.aud, "onramp-api");
    assert_eq!(claims.sub, session["user_id"].as_str().expect("user id"));

    // The previous key still verifies (rotation): a control proving the forgeries below fail for
    // their one defect only.
    let by_previous = sign(&previous, &previous_kid, &claims);
    assert_eq!(me(&app, &by_previous).await.status(), StatusCode::OK);

    let wrong_audience = AccessClaims {
        aud: "another-api".into(),
        ..claims.clone()
    };
    let expired = AccessClaims {
        exp: claims.iat - 1,
        nbf: claims.iat - 600,
        ..claims.clone()
    };
    let stranger = SigningKey::generate(&mut rand::rngs::OsRng);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("json"));
    let none_header = format!(r#"{{"alg":"none","typ":"JWT","kid":"{current_kid}"}}"#);
    let forgeries = [
        (
            "alg none",
            format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(none_header)),
        ),
        ("wrong aud", sign(&current, &current_kid, &wrong_audience)),
        ("expired", sign(&current, &current_kid, &expired)),
        ("unknown kid", sign(&stranger, "no-such-kid", &claims)),
        (
            "known kid, foreign key",
            sign(&stranger, &current_kid, &claims),
        ),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    for (what, token) in forgeries {
        let body = problem(me(&app, &token).await, 401).await;
        assert_eq!(body["reason"], "UNAUTHENTICATED", "{what}");
    }
}

#[tokio::test]
async fn the_gateway_refetches_the_jwks_when_a_rotated_key_signs() {
    let (old, new) = (
        SigningKey::generate(&mut rand::rngs::OsRng),
        SigningKey::generate(&mut rand::rngs::OsRng),
    );
    let old_only = pem(&old);
    let mut app = TestStack::spawn_with(move |options| {
        options.identity(move |config: &mut onramp_identity::Config| {
            config.signing_keys_pem = Some(SecretString::from(old_only.clone()));
        });
    })
    .await;
    // The gateway caches the one-key JWKS.
    let (email, session) = signed_in(&app).await;
    let access = session["access_token"].as_str().expect("access");
    assert_eq!(me(&app, access).await.status(), StatusCode::OK);

    // Rotation: identity restarts (same address) signing with a new key, the old one still published.
    let addr = app
        .stack
        .service_addr("identity")
        .expect("identity running");
    let database = app.stack.database("identity").expect("options");
    let name = database.get_database().expect("name").to_owned();
    app.stack.stop_service("identity").await.expect("stop");
    let base = onramp_kit::service_config::ServiceConfig::new(
        addr,
        crate::support::postgres().database_url(&name),
    );
    let mut config = onramp_identity::Config::new(base);
    config.signing_keys_pem = Some(SecretString::from(format!("{}{}", pem(&new), pem(&old))));
    let identity = onramp_identity::Application::build(config)
        .await
        .expect("identity rebinds");
    let stop = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(identity.run_until_stopped(stop.clone()));
    app.wait_until_ready().await;

    // Tokens of the old key still verify; a token of the new key makes the gateway refetch.
    assert_eq!(me(&app, access).await.status(), StatusCode::OK);
    let login: Value = crate::support::login(&app, &email, crate::support::PASSWORD)
        .await
        .json()
        .await
        .expect("json");
    let rotated = login["access_token"].as_str().expect("access").to_owned();
    let header = jsonwebtoken::decode_header(&rotated).expect("header");
    assert_ne!(
        header.kid,
        jsonwebtoken::decode_header(access).expect("header").kid
    );
    let start = std::time::Instant::now();
    // Refetches are spaced at least a second apart, so allow a few attempts.
    while me(&app, &rotated).await.status() != StatusCode::OK {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "the new key was never fetched"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    stop.cancel();
    running.await.expect("join").expect("identity ran");
}
