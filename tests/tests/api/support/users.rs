//! Accounts over HTTP as a browser makes them: signup, login, the verified user most tests start
//! from, and reading the answers (problem+json, comparable bodies).

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

use super::{
    TestStack,
    mail::{link_token, mailed_token, verification_token},
};

/// A password that satisfies the policy.
pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// A fresh, unique email address.
pub(crate) fn new_email() -> String {
    format!("user-{}@example.com", uuid::Uuid::new_v4().simple())
}

pub(crate) async fn post(app: &TestStack, path: &str, body: Value) -> Response {
    app.http
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .expect("request")
}

pub(crate) async fn signup(app: &TestStack, email: &str, password: &str) -> Response {
    let body = json!({ "email": email, "password": password, "display_name": "Ada Lovelace" });
    post(app, "/v1/auth/signup", body).await
}

pub(crate) async fn login(app: &TestStack, email: &str, password: &str) -> Response {
    post(
        app,
        "/v1/auth/login",
        json!({ "email": email, "password": password }),
    )
    .await
}

/// The session JSON a login answers with (its status unchecked: a test reads what it needs).
pub(crate) async fn login_json(app: &TestStack, email: &str, password: &str) -> Value {
    login(app, email, password)
        .await
        .json()
        .await
        .expect("session json")
}

/// The access token of a session JSON.
pub(crate) fn access_of(session: &Value) -> String {
    session["access_token"].as_str().expect("access").to_owned()
}

/// `POST /v1/auth/signup` carrying an invite code.
pub(crate) async fn signup_with_invite(
    app: &TestStack,
    email: &str,
    display_name: &str,
    invite_code: &str,
) -> Response {
    let body = json!({ "email": email, "password": PASSWORD, "display_name": display_name,
                       "invite_code": invite_code });
    post(app, "/v1/auth/signup", body).await
}

/// `POST <path>` (`/v1/auth/refresh`, `/v1/auth/logout`) with `session`'s refresh token.
pub(crate) async fn with_refresh_token(app: &TestStack, path: &str, session: &Value) -> Response {
    let body = json!({ "refresh_token": session["refresh_token"] });
    post(app, path, body).await
}

/// Signs a new account up (asserting the 202); its email.
pub(crate) async fn signed_up(app: &TestStack) -> String {
    let email = new_email();
    assert_eq!(
        signup(app, &email, PASSWORD).await.status(),
        StatusCode::ACCEPTED,
        "signup"
    );
    email
}

/// Signs a new account up and logs it in; its email and the session JSON.
pub(crate) async fn signed_in(app: &TestStack) -> (String, Value) {
    let email = signed_up(app).await;
    let response = login(app, &email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    (email, response.json().await.expect("session json"))
}

pub(crate) async fn me(app: &TestStack, access_token: &str) -> Response {
    app.http
        .get(app.url("/v1/users/me"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("request")
}

/// The problem+json body of an error response, after checking its content type and status.
pub(crate) async fn problem(response: Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    response.json().await.expect("problem json")
}

/// A response body without its per-request parts (trace id), for "identical answer" comparisons.
pub(crate) async fn comparable(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let mut body: Value = response.json().await.expect("json");
    if let Some(object) = body.as_object_mut() {
        object.remove("trace_id");
    }
    (status, body)
}

/// A signed-in user whose email is verified.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub(crate) email: String,
    pub(crate) id: String,
    pub(crate) access_token: String,
}

impl TestStack {
    /// Signs a new user up, verifies the address from the captured mail and logs in.
    pub(crate) async fn verified_user(&self) -> User {
        self.verified_user_with_email(&new_email()).await
    }

    /// [`TestStack::verified_user`] with a chosen address (an invitee's, say).
    pub(crate) async fn verified_user_with_email(&self, email: &str) -> User {
        let user = self.unverified_user_with_email(email).await;
        let mail = self.nth_mail(email, 1).await;
        let verified = post(
            self,
            "/v1/auth/verify-email",
            json!({ "token": link_token(&mail) }),
        )
        .await;
        assert_eq!(verified.status(), StatusCode::OK, "verify-email");
        // A fresh login: the new access token carries `email_verified`.
        self.login(&user.email, &user.id).await
    }

    /// A signed-in user who has not verified the address (still within the grace period).
    pub(crate) async fn unverified_user_with_email(&self, email: &str) -> User {
        assert_eq!(
            signup(self, email, PASSWORD).await.status(),
            StatusCode::ACCEPTED,
            "signup"
        );
        self.logged_in(email).await
    }

    /// `email`'s account logged in with [`PASSWORD`], verified or not.
    pub(crate) async fn logged_in(&self, email: &str) -> User {
        let session = login_json(self, email, PASSWORD).await;
        self.user_with_token(email, access_of(&session)).await
    }

    /// The user `access_token` belongs to, its id read from `GET /v1/users/me`.
    pub(crate) async fn user_with_token(&self, email: &str, access_token: String) -> User {
        let me = me_json(self, &access_token).await;
        User {
            email: email.to_owned(),
            id: me["id"].as_str().expect("user id").to_owned(),
            access_token,
        }
    }

    async fn login(&self, email: &str, id: &str) -> User {
        let response = login(self, email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "login");
        let session: Value = response.json().await.expect("session json");
        User {
            email: email.to_owned(),
            id: id.to_owned(),
            access_token: session["access_token"].as_str().expect("access").to_owned(),
        }
    }

    /// A GET as `user`: the status and JSON body (null when there is none).
    pub(crate) async fn get_as(&self, user: &User, path: &str) -> (StatusCode, Value) {
        let request = self.authed(Method::GET, path, &user.access_token);
        status_and_json(request).await
    }

    /// A GET as `user` that must answer 200: its JSON body.
    pub(crate) async fn get_ok(&self, user: &User, path: &str) -> Value {
        let (status, body) = self.get_as(user, path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// A POST of `body` as `user`: the status and JSON body (null when there is none).
    pub(crate) async fn post_as(
        &self,
        user: &User,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let request = self.authed(Method::POST, path, &user.access_token);
        status_and_json(request.json(&body)).await
    }

    /// A request to the gateway with the user's bearer token.
    pub(crate) fn authed(&self, method: Method, path: &str, access_token: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(access_token)
    }
}

/// `GET /v1/users/me` as `access_token`.
pub(crate) async fn me_json(world: &TestStack, access_token: &str) -> Value {
    let response = me(world, access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("me json")
}

/// Uses the mailed verification link of `email`.
pub(crate) async fn verify_from_mail(world: &TestStack, email: &str) {
    let token = verification_token(world, email).await;
    let verified = post(world, "/v1/auth/verify-email", json!({ "token": token })).await;
    assert_eq!(verified.status(), StatusCode::OK, "verify-email");
}

/// Sends `request`: the status and JSON body (null when there is none).
pub(crate) async fn status_and_json(request: RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("the gateway answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Asks for a password reset of `email` (asserting the 202); the mailed link's text and token.
pub(crate) async fn requested_reset(world: &TestStack, email: &str) -> (String, String) {
    let requested = post(world, "/v1/auth/password-reset", json!({ "email": email })).await;
    assert_eq!(requested.status(), StatusCode::ACCEPTED, "password reset");
    mailed_token(world, email, "/reset-password?token=").await
}

/// `POST /v1/auth/password-reset/complete` with `token` and `new_password`.
pub(crate) async fn complete_reset(world: &TestStack, token: &str, new_password: &str) -> Response {
    let body = json!({ "token": token, "new_password": new_password });
    post(world, "/v1/auth/password-reset/complete", body).await
}
