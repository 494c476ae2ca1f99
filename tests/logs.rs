//! The service's log, at every level, never holds a password, a client secret or a token.
//! A binary of its own, so that its log capture sees only this test's service.

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use std::io::Write;
use std::sync::{Arc, Mutex};

use helpers::{json, problem, spawn_app, ADMIN_PASSWORD};
use serde_json::json as j;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_secret_reaches_the_log() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_env_filter("trace")
        .with_writer(move || writer.clone())
        .json()
        .init();

    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let officer = app.user("officer", Some("so-khcn")).await;
    let guess = "a-guessed-password-1";
    problem(
        app.login(&officer.username, guess).await,
        401,
        "invalid_credentials",
    )
    .await;
    let short = "tiny-pw-9";
    let body = j!({"username": "someone", "password": short, "role": "viewer"});
    problem(
        app.post_as(&admin, "/api/v1/users", &body).await,
        422,
        "validation_failed",
    )
    .await;
    let reset = "the-reset-password-2";
    let path = format!("/api/v1/users/{}", officer.id);
    json(
        app.patch_as(&admin, &path, &j!({"password": reset})).await,
        200,
    )
    .await;
    let officer_token = app.token(&officer.username, reset).await;
    let (_, client_id, secret) = app.client_for("so-khcn").await;
    let client = json(app.client_token(&client_id, &secret).await, 200).await;
    let client_token = client["access_token"].as_str().unwrap().to_string();
    problem(
        app.client_token(&client_id, "wrong-client-secret-3").await,
        401,
        "invalid_credentials",
    )
    .await;
    json(app.get_as(&client_token, "/api/v1/auth/me").await, 200).await;

    // A citizen's question: contact details and the access key stay out of the log, even
    // when the key travels in the query string.
    let email = "nguoi.hoi@example.vn";
    let phone = "0987 654 321";
    let asked = json(
        app.request(
            reqwest::Method::POST,
            "/api/v1/questions",
            None,
            Some(&j!({
                "title": "Hỏi về đất đai", "body": "Nội dung câu hỏi",
                "asker": {"name": "Lê Thị Hoa", "email": email, "phone": phone, "address": "Số 9 đường Phú Riềng Đỏ"},
                "publish_consent": false
            })),
        )
        .await,
        201,
    )
    .await;
    let code = asked["tracking_code"].as_str().unwrap();
    let key = asked["access_key"].as_str().unwrap().to_string();
    json(
        app.get(&format!("/api/v1/tracking/{code}?key={key}")).await,
        200,
    )
    .await;
    problem(
        app.get(&format!("/api/v1/tracking/{code}?key=wrong-{key}"))
            .await,
        404,
        "not_found",
    )
    .await;
    let editor = app.user("editor", None).await;
    json(app.get_as(&editor.token, "/api/v1/questions").await, 200).await;

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("/api/v1/tracking/"),
        "the capture must hold the tracking requests"
    );
    assert!(
        log.contains("/api/v1/auth/token"),
        "the capture must hold the request log"
    );
    for secret in [
        ADMIN_PASSWORD,
        officer.password.as_str(),
        guess,
        short,
        reset,
        secret.as_str(),
        "wrong-client-secret-3",
        admin.as_str(),
        officer.token.as_str(),
        officer_token.as_str(),
        client_token.as_str(),
        email,
        phone,
        "0987654321",
        "Phú Riềng Đỏ",
        key.as_str(),
        editor.token.as_str(),
    ] {
        assert!(!log.contains(secret), "{secret} is in the log");
    }
}
