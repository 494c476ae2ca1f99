use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{json as j, Value};

use crate::helpers::{
    json, problem, spawn_app, spawn_app_with, TestApp, ADMIN_PASSWORD, JWT_SECRET,
};

#[tokio::test]
async fn a_password_login_gives_a_bearer_token_that_me_describes() {
    let app = spawn_app().await;
    let response = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = json(response, 200).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let token = body["access_token"].as_str().unwrap();
    let me = json(app.get_as(token, "/api/v1/auth/me").await, 200).await;
    assert_eq!(me["role"], "admin");
    assert!(me["subject"].as_str().unwrap().starts_with("user:"));
    assert!(me["unit"].is_null());
}

#[tokio::test]
async fn an_oauth_form_body_is_accepted_for_the_token_endpoint() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/api/v1/auth/token", app.address))
        .form(&[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let body = json(response, 200).await;
    assert!(body["access_token"].is_string());
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_answer_the_same_401() {
    let app = spawn_app().await;
    let wrong = problem(
        app.login("admin", "not-the-password").await,
        401,
        "invalid_credentials",
    )
    .await;
    let unknown = problem(
        app.login("nobody", "not-the-password").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn bad_token_requests_are_4xx_problems() {
    let app = spawn_app().await;
    let url = format!("{}/api/v1/auth/token", app.address);
    let body = problem(
        app.request(
            Method::POST,
            "/api/v1/auth/token",
            None,
            Some(&j!({"grant_type": "magic"})),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("magic"), "{body}");
    let not_json = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"grant_type\": ")
        .send()
        .await
        .unwrap();
    problem(not_json, 400, "malformed_json").await;
    let plain = app.client.post(&url).body("hello").send().await.unwrap();
    problem(plain, 415, "unsupported_media_type").await;
    let missing = app
        .request(
            Method::POST,
            "/api/v1/auth/token",
            None,
            Some(&j!({"grant_type": "password", "username": "admin"})),
        )
        .await;
    problem(missing, 422, "validation_failed").await;
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_a_413_problem() {
    let app = spawn_app().await;
    let big = format!(
        "{{\"grant_type\":\"password\",\"username\":\"admin\",\"password\":\"{}\"}}",
        "x".repeat(1024 * 1024 + 1)
    );
    let response = app
        .client
        .post(format!("{}/api/v1/auth/token", app.address))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    problem(response, 413, "payload_too_large").await;
}

fn claims(overrides: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut claims = j!({
        "sub": "user:does-not-matter", "role": "admin", "unit": null,
        "iss": "portal-api", "aud": "portal-api",
        "iat": now, "exp": now + 600, "jti": "t-1", "cv": 1
    });
    for (k, v) in overrides.as_object().unwrap() {
        claims[k] = v.clone();
    }
    claims
}

fn sign(alg: Algorithm, secret: &str, claims: &Value) -> String {
    encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn admin_subject(app: &TestApp) -> String {
    let token = app.admin_token().await;
    let me = json(app.get_as(&token, "/api/v1/auth/me").await, 200).await;
    me["subject"].as_str().unwrap().to_string()
}

async fn assert_refused(app: &TestApp, token: &str, case: &str) {
    let response = app.get_as(token, "/api/v1/auth/me").await;
    assert_eq!(response.status(), 401, "{case}");
    assert!(
        response.headers().contains_key("www-authenticate"),
        "{case}"
    );
    problem(response, 401, "unauthorized").await;
}

#[tokio::test]
async fn tokens_are_refused_for_algorithm_signature_issuer_audience_and_expiry() {
    let app = spawn_app().await;
    let sub = admin_subject(&app).await;
    let good = claims(j!({ "sub": sub }));
    // The forged token with the right secret and claims works: the refusals below are
    // due to the one thing changed in each.
    let valid = sign(Algorithm::HS256, JWT_SECRET, &good);
    json(app.get_as(&valid, "/api/v1/auth/me").await, 200).await;

    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let none = format!(
        "{}.{}.",
        b64(&j!({"alg": "none", "typ": "JWT"})),
        b64(&good)
    );
    assert_refused(&app, &none, "alg none").await;
    let hs512 = sign(Algorithm::HS512, JWT_SECRET, &good);
    assert_refused(&app, &hs512, "HS512").await;
    let other_secret = sign(
        Algorithm::HS256,
        "another-secret-another-secret-000000",
        &good,
    );
    assert_refused(&app, &other_secret, "bad signature").await;
    let mut tampered: Vec<&str> = valid.split('.').collect();
    let admin_payload = b64(&claims(j!({ "sub": sub, "role": "admin", "jti": "x" })));
    tampered[1] = &admin_payload;
    assert_refused(&app, &tampered.join("."), "payload changed").await;
    let wrong_iss = sign(
        Algorithm::HS256,
        JWT_SECRET,
        &claims(j!({ "sub": sub, "iss": "evil" })),
    );
    assert_refused(&app, &wrong_iss, "issuer").await;
    let wrong_aud = sign(
        Algorithm::HS256,
        JWT_SECRET,
        &claims(j!({ "sub": sub, "aud": "other" })),
    );
    assert_refused(&app, &wrong_aud, "audience").await;
    let now = chrono::Utc::now().timestamp();
    let expired = sign(
        Algorithm::HS256,
        JWT_SECRET,
        &claims(j!({ "sub": sub, "iat": now - 2000, "exp": now - 600 })),
    );
    assert_refused(&app, &expired, "expired").await;
    let no_exp = {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove("exp");
        sign(Algorithm::HS256, JWT_SECRET, &c)
    };
    assert_refused(&app, &no_exp, "no exp").await;
    let unknown_subject = sign(
        Algorithm::HS256,
        JWT_SECRET,
        &claims(j!({ "sub": "user:ghost" })),
    );
    assert_refused(&app, &unknown_subject, "unknown subject").await;
    assert_refused(&app, "not-a-token", "garbage").await;
    let issued_later = sign(
        Algorithm::HS256,
        JWT_SECRET,
        &claims(j!({ "sub": sub, "iat": now + 3600, "exp": now + 4000 })),
    );
    assert_refused(&app, &issued_later, "iat in the future").await;
    let not_yet = sign(
        Algorithm::HS256,
        JWT_SECRET,
        &claims(j!({ "sub": sub, "nbf": now + 3600 })),
    );
    assert_refused(&app, &not_yet, "nbf in the future").await;
    let other_version = sign(
        Algorithm::HS256,
        JWT_SECRET,
        &claims(j!({ "sub": sub, "cv": 2 })),
    );
    assert_refused(&app, &other_version, "another credentials version").await;
    let no_version = {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove("cv");
        sign(Algorithm::HS256, JWT_SECRET, &c)
    };
    assert_refused(&app, &no_version, "no credentials version").await;
}

#[tokio::test]
async fn a_missing_or_malformed_authorization_header_is_401() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/auth/me").await;
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    problem(response, 401, "unauthorized").await;
    let basic = app
        .client
        .get(format!("{}/api/v1/auth/me", app.address))
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .await
        .unwrap();
    problem(basic, 401, "unauthorized").await;
}

#[tokio::test]
async fn ten_failed_logins_lock_the_username_for_the_window_on_every_instance() {
    let app = spawn_app().await;
    let other = app.user("viewer", None).await;
    fail_logins(&app, "admin", 10).await;
    // Even the right password is refused now, with the wait in Retry-After.
    let locked = app.login("admin", ADMIN_PASSWORD).await;
    let retry: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    problem(locked, 429, "rate_limited").await;
    // The count lives in the database: another instance refuses too.
    let second = app.second_instance().await;
    problem(
        second.login("admin", ADMIN_PASSWORD).await,
        429,
        "rate_limited",
    )
    .await;
    // Another username is not affected.
    json(app.login(&other.username, &other.password).await, 200).await;
}

#[tokio::test]
async fn a_successful_login_clears_earlier_failures() {
    let app = spawn_app().await;
    fail_logins(&app, "admin", 9).await;
    json(app.login("admin", ADMIN_PASSWORD).await, 200).await;
    fail_logins(&app, "admin", 9).await;
    json(app.login("admin", ADMIN_PASSWORD).await, 200).await;
}

#[tokio::test]
async fn a_disable_ends_earlier_tokens_and_enabling_again_does_not_bring_them_back() {
    let app = spawn_app().await;
    let officer = app.user("officer", Some("so-khcn")).await;
    json(app.get_as(&officer.token, "/api/v1/auth/me").await, 200).await;
    let admin = app.admin_token().await;
    let path = format!("/api/v1/users/{}", officer.id);
    let changed = json(
        app.patch_as(&admin, &path, &j!({"disabled": true})).await,
        200,
    )
    .await;
    assert_eq!(changed["disabled"], true);
    assert_refused(&app, &officer.token, "disabled user").await;
    problem(
        app.login(&officer.username, &officer.password).await,
        401,
        "invalid_credentials",
    )
    .await;
    json(
        app.patch_as(&admin, &path, &j!({"disabled": false})).await,
        200,
    )
    .await;
    assert_refused(&app, &officer.token, "a token from before the disable").await;
    let fresh = app.token(&officer.username, &officer.password).await;
    json(app.get_as(&fresh, "/api/v1/auth/me").await, 200).await;
}

#[tokio::test]
async fn a_password_reset_ends_earlier_tokens_on_every_instance() {
    let app = spawn_app().await;
    let second = app.second_instance().await;
    let officer = app.user("officer", Some("so-khcn")).await;
    json(app.get_as(&officer.token, "/api/v1/auth/me").await, 200).await;
    // The second instance has seen the account, so its cache holds it.
    json(second.get_as(&officer.token, "/api/v1/auth/me").await, 200).await;
    let cached_at = std::time::Instant::now();
    let admin = app.admin_token().await;
    let path = format!("/api/v1/users/{}", officer.id);
    let new_password = "a brand new password";
    json(
        app.patch_as(&admin, &path, &j!({"password": new_password}))
            .await,
        200,
    )
    .await;
    assert_refused(&app, &officer.token, "a token from before the reset").await;
    problem(
        app.login(&officer.username, &officer.password).await,
        401,
        "invalid_credentials",
    )
    .await;
    let fresh = app.token(&officer.username, new_password).await;
    json(app.get_as(&fresh, "/api/v1/auth/me").await, 200).await;
    // A display-name change leaves tokens alone.
    json(
        app.patch_as(&admin, &path, &j!({"display_name": "Cán bộ"}))
            .await,
        200,
    )
    .await;
    json(app.get_as(&fresh, "/api/v1/auth/me").await, 200).await;
    // The other instance re-reads the account when its copy is 10 s old (3 s for one poll).
    let deadline = cached_at + std::time::Duration::from_secs(13);
    loop {
        let status = second
            .get_as(&officer.token, "/api/v1/auth/me")
            .await
            .status();
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            std::time::Instant::now() < deadline,
            "the other instance still accepts the old token"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_role_or_unit_change_ends_earlier_tokens() {
    let app = spawn_app().await;
    let editor = app.user("editor", None).await;
    let category = j!({"code": "thu-nghiem", "name": "Thử nghiệm"});
    json(
        app.post_as(&editor.token, "/api/v1/categories", &category)
            .await,
        201,
    )
    .await;
    let admin = app.admin_token().await;
    let path = format!("/api/v1/users/{}", editor.id);
    json(
        app.patch_as(&admin, &path, &j!({"role": "viewer"})).await,
        200,
    )
    .await;
    assert_refused(&app, &editor.token, "a token from before the role change").await;
    let viewer = app.token(&editor.username, &editor.password).await;
    let again = j!({"code": "thu-nghiem-2", "name": "Thử nghiệm 2"});
    problem(
        app.post_as(&viewer, "/api/v1/categories", &again).await,
        403,
        "forbidden",
    )
    .await;

    let officer = app.user("officer", Some("so-khcn")).await;
    let path = format!("/api/v1/users/{}", officer.id);
    json(
        app.patch_as(&admin, &path, &j!({"unit": "so-tu-phap"}))
            .await,
        200,
    )
    .await;
    assert_refused(&app, &officer.token, "a token from before the unit change").await;
    let moved = app.token(&officer.username, &officer.password).await;
    let me = json(app.get_as(&moved, "/api/v1/auth/me").await, 200).await;
    assert_eq!(me["unit"], "so-tu-phap");
}

#[tokio::test]
async fn a_client_token_acts_as_an_officer_of_its_unit() {
    let app = spawn_app().await;
    let (_, client_id, secret) = app.client_for("so-khcn").await;
    let body = json(app.client_token(&client_id, &secret).await, 200).await;
    let token = body["access_token"].as_str().unwrap();
    let me = json(app.get_as(token, "/api/v1/auth/me").await, 200).await;
    assert_eq!(me["role"], "officer");
    assert_eq!(me["unit"], "so-khcn");
    assert_eq!(me["subject"], format!("client:{client_id}"));
    problem(app.get_as(token, "/api/v1/users").await, 403, "forbidden").await;
    problem(
        app.client_token(&client_id, "wrong-secret").await,
        401,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn a_revoked_client_is_refused_while_its_token_is_still_valid() {
    let app = spawn_app().await;
    let (id, client_id, secret) = app.client_for("so-khcn").await;
    let body = json(app.client_token(&client_id, &secret).await, 200).await;
    let token = body["access_token"].as_str().unwrap().to_string();
    let admin = app.admin_token().await;
    let deleted = revoke(&app, &admin, &id).await;
    assert_eq!(deleted.status(), 204);
    assert_refused(&app, &token, "revoked client").await;
    problem(
        app.client_token(&client_id, &secret).await,
        401,
        "invalid_credentials",
    )
    .await;
    let again = revoke(&app, &admin, &id).await;
    problem(again, 404, "not_found").await;
}

#[tokio::test]
async fn a_rotated_client_secret_ends_the_old_secret_and_its_tokens() {
    let app = spawn_app().await;
    let (id, client_id, secret) = app.client_for("so-khcn").await;
    let body = json(app.client_token(&client_id, &secret).await, 200).await;
    let token = body["access_token"].as_str().unwrap().to_string();
    let admin = app.admin_token().await;
    let path = format!("/api/v1/clients/{id}/secret");
    let rotated = app.request(Method::POST, &path, Some(&admin), None).await;
    assert_eq!(rotated.headers()["cache-control"], "no-store");
    let rotated = json(rotated, 200).await;
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    assert_eq!(rotated["client_id"], client_id.as_str());
    assert_refused(&app, &token, "a token from before the rotation").await;
    problem(
        app.client_token(&client_id, &secret).await,
        401,
        "invalid_credentials",
    )
    .await;
    json(app.client_token(&client_id, new_secret).await, 200).await;
    // The public client id names the client too.
    let by_client_id = app
        .request(
            Method::POST,
            &format!("/api/v1/clients/{client_id}/secret"),
            Some(&admin),
            None,
        )
        .await;
    let newest = json(by_client_id, 200).await["client_secret"].clone();
    json(
        app.client_token(&client_id, newest.as_str().unwrap()).await,
        200,
    )
    .await;
    let nobody = app
        .request(
            Method::POST,
            "/api/v1/clients/no-such-client/secret",
            Some(&admin),
            None,
        )
        .await;
    problem(nobody, 404, "not_found").await;
    let revoked = revoke(&app, &admin, &id).await;
    assert_eq!(revoked.status(), 204);
    let rotated_revoked = app.request(Method::POST, &path, Some(&admin), None).await;
    problem(rotated_revoked, 409, "conflict").await;
}

/// `n` logins with a wrong password, one after another, each answered 401.
async fn fail_logins(app: &TestApp, username: &str, n: usize) {
    for _ in 0..n {
        problem(
            app.login(username, "wrong-password").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
}

/// An admin's DELETE of an API client, by record id or client id.
async fn revoke(app: &TestApp, admin: &str, id: &str) -> reqwest::Response {
    app.request(
        Method::DELETE,
        &format!("/api/v1/clients/{id}"),
        Some(admin),
        None,
    )
    .await
}

/// Sends `n` logins at once; the statuses, in no order.
async fn burst(app: &TestApp, n: usize, username: &str, password: &str) -> Vec<u16> {
    let mut logins = tokio::task::JoinSet::new();
    let url = format!("{}/api/v1/auth/token", app.address);
    let body = j!({"grant_type": "password", "username": username, "password": password});
    for _ in 0..n {
        let request = app.client.post(&url).json(&body);
        logins.spawn(async move { request.send().await.unwrap().status().as_u16() });
    }
    logins.join_all().await
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test]
async fn concurrent_wrong_passwords_get_at_most_ten_checks() {
    // A long wait for a password thread, so that no attempt is answered 503 here.
    let app = spawn_app_with(&[("PORTAL_LOGIN_WAIT_MS", "30000")]).await;
    let viewer = app.user("viewer", None).await;
    let statuses = burst(&app, 200, &viewer.username, "wrong-password").await;
    assert_eq!(count(&statuses, 401), 10, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 190, "{statuses:?}");
    problem(
        app.login(&viewer.username, &viewer.password).await,
        429,
        "rate_limited",
    )
    .await;

    // After nine failures one check is left, however many arrive at once.
    let other = app.user("viewer", None).await;
    fail_logins(&app, &other.username, 9).await;
    let statuses = burst(&app, 100, &other.username, "wrong-password").await;
    assert_eq!(count(&statuses, 401), 1, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 99, "{statuses:?}");
}

#[tokio::test]
async fn an_admin_unlocks_a_locked_account() {
    let app = spawn_app().await;
    let viewer = app.user("viewer", None).await;
    fail_logins(&app, &viewer.username, 10).await;
    problem(
        app.login(&viewer.username, &viewer.password).await,
        429,
        "rate_limited",
    )
    .await;
    let admin = app.admin_token().await;
    let unlocked = app
        .request(
            Method::POST,
            &format!("/api/v1/users/{}/unlock", viewer.id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(unlocked.status(), 204);
    json(app.login(&viewer.username, &viewer.password).await, 200).await;
}

#[tokio::test]
async fn failed_logins_from_one_address_lock_it_for_every_username() {
    let app = spawn_app_with(&[
        ("PORTAL_LOGIN_FAILURES_PER_ADDRESS", "5"),
        ("PORTAL_TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    let login_from = |address: &'static str, username: &str, password: &str| {
        let body = j!({"grant_type": "password", "username": username, "password": password});
        app.client
            .post(format!("{}/api/v1/auth/token", app.address))
            .header("x-forwarded-for", address)
            .json(&body)
            .send()
    };
    for i in 0..5 {
        let response = login_from("203.0.113.7", &format!("khong-co-{i}"), "wrong-password")
            .await
            .unwrap();
        problem(response, 401, "invalid_credentials").await;
    }
    // Even a right password from that address waits now.
    let locked = login_from("203.0.113.7", "admin", ADMIN_PASSWORD)
        .await
        .unwrap();
    assert!(locked.headers().contains_key("retry-after"));
    problem(locked, 429, "rate_limited").await;
    // Another address is not affected, and a success there is not charged.
    for _ in 0..6 {
        let response = login_from("198.51.100.9", "admin", ADMIN_PASSWORD)
            .await
            .unwrap();
        json(response, 200).await;
    }
}

#[tokio::test]
async fn a_person_changes_their_own_email_and_digest_and_keeps_their_token() {
    let app = spawn_app().await;
    let officer = app.user("officer", Some("so-khcn")).await;
    let before = json(app.get_as(&officer.token, "/api/v1/auth/me").await, 200).await;
    assert_eq!(before["username"], officer.username.as_str());
    assert!(before["email"].is_null());
    assert_eq!(before["notify_digest"], true);

    let body =
        j!({"email": " can.bo@sokhcn.gov.vn", "notify_digest": false, "display_name": " Cán bộ "});
    let changed = json(
        app.patch_as(&officer.token, "/api/v1/auth/me", &body).await,
        200,
    )
    .await;
    assert_eq!(changed["email"], "can.bo@sokhcn.gov.vn");
    assert_eq!(changed["notify_digest"], false);
    assert_eq!(changed["display_name"], "Cán bộ");
    assert_eq!(changed["role"], "officer");
    assert_eq!(changed["unit"], "so-khcn");
    // The same token still works, and GET me shows what PATCH answered.
    let after = json(app.get_as(&officer.token, "/api/v1/auth/me").await, 200).await;
    assert_eq!(after, changed);
    // On another instance too (it reads the account, not a cached copy), and the password
    // is as it was.
    let other = app.second_instance().await;
    let seen = json(other.get_as(&officer.token, "/api/v1/auth/me").await, 200).await;
    assert_eq!(seen, changed);
    json(app.login(&officer.username, &officer.password).await, 200).await;
    let admin = app.admin_token().await;
    let user = json(
        app.get_as(&admin, &format!("/api/v1/users/{}", officer.id))
            .await,
        200,
    )
    .await;
    assert_eq!(user["email"], "can.bo@sokhcn.gov.vn");
    assert_eq!(user["notify_digest"], false);

    let cleared = json(
        app.patch_as(&officer.token, "/api/v1/auth/me", &j!({"email": null}))
            .await,
        200,
    )
    .await;
    assert!(cleared["email"].is_null());
    assert_eq!(cleared["notify_digest"], false, "absent stays");
}

#[tokio::test]
async fn own_profile_changes_are_checked_and_refused_to_clients_and_anonymous_callers() {
    let app = spawn_app().await;
    let viewer = app.user("viewer", None).await;
    let bad = "ten.at.example.vn";
    let refused = problem(
        app.patch_as(
            &viewer.token,
            "/api/v1/auth/me",
            &j!({"email": bad, "display_name": " "}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let errors: Vec<(&str, &str)> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [("email", "invalid_email"), ("display_name", "required")]
    );
    assert!(!refused.to_string().contains(bad), "echoed: {refused}");
    let unknown = problem(
        app.patch_as(&viewer.token, "/api/v1/auth/me", &j!({"role": "admin"}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(unknown["errors"][0]["code"], "unknown_field", "{unknown}");
    let me = json(app.get_as(&viewer.token, "/api/v1/auth/me").await, 200).await;
    assert_eq!(me["role"], "viewer");
    assert!(me["email"].is_null());

    let (_, client_id, secret) = app.client_for("so-khcn").await;
    let client = json(app.client_token(&client_id, &secret).await, 200).await;
    let client = client["access_token"].as_str().unwrap();
    let me = json(app.get_as(client, "/api/v1/auth/me").await, 200).await;
    assert!(me["email"].is_null() && me["notify_digest"].is_null() && me["username"].is_null());
    problem(
        app.patch_as(
            client,
            "/api/v1/auth/me",
            &j!({"email": "portal@sokhcn.gov.vn"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    problem(
        app.request(
            Method::PATCH,
            "/api/v1/auth/me",
            None,
            Some(&j!({"notify_digest": false})),
        )
        .await,
        401,
        "unauthorized",
    )
    .await;
}
