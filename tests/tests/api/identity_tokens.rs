//! Access tokens through the gateway: identity's keys (two live, for rotation) verify; a token with
//! `alg: none`, the wrong audience, an expired `exp` or an unknown `kid` is refused.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{
    SigningKey,
    pkcs8::{EncodePrivateKey as _, spki::der::pem::LineEnding},
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use onramp_kit::{auth::AccessClaims, config::SecretString};
use onramp_stack::ConfigHook;
use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    helpers::TestStack,
    identity::{me, problem, signed_in},
};

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
        options.configure_identity = Some(ConfigHook::new(
            move |config: &mut onramp_identity::Config| {
                config.signing_keys_pem = Some(SecretString::from(bundle.clone()));
            },
        ));
    })
    .await;
    let jwks: Value = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
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
    app.stop().await;
}
