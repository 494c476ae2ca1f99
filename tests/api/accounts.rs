use reqwest::Method;
use serde_json::json as j;

use crate::helpers::{json, problem, spawn_app};

#[tokio::test]
async fn an_admin_creates_users_of_every_role() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for (role, unit) in [
        ("admin", None),
        ("editor", None),
        ("officer", Some("so-khcn")),
        ("viewer", None),
    ] {
        let body = j!({
            "username": format!("New.{role}"), "password": "a long password",
            "role": role, "unit": unit, "display_name": "  Nguyễn Văn A  "
        });
        let response = app.post_as(&admin, "/api/v1/users", &body).await;
        let location = response.headers()["location"].to_str().unwrap().to_string();
        let user = json(response, 201).await;
        assert_eq!(user["username"], format!("new.{role}"));
        assert_eq!(user["role"], role);
        assert_eq!(user["unit"], j!(unit));
        assert_eq!(user["display_name"], "Nguyễn Văn A");
        assert!(user.get("password").is_none() && user.get("password_hash").is_none());
        let fetched = json(app.get_as(&admin, &location).await, 200).await;
        assert_eq!(fetched, user);
    }
}

#[tokio::test]
async fn user_input_is_checked_field_by_field() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let create = |body| {
        let app = &app;
        let admin = &admin;
        async move { app.post_as(admin, "/api/v1/users", &body).await }
    };
    let body = problem(
        create(j!({"username": "x", "password": "short-pw", "role": "viewer"})).await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["username", "password"]);
    assert!(
        !body.to_string().contains("short-pw"),
        "the password is echoed: {body}"
    );
    let body = problem(
        create(j!({"username": "officer1", "password": "a long password", "role": "officer"}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "unit");
    let body = problem(
        create(j!({"username": "officer1", "password": "a long password", "role": "officer", "unit": "nope"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "unit");
    let body = problem(
        create(j!({"username": "officer1", "password": "a long password", "role": "root"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "role");
    problem(
        create(j!({"username": "officer1", "password": "a long password", "role": "viewer", "extra": 1})).await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn a_username_is_taken_whatever_its_case() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let body = j!({"username": "editor1", "password": "a long password", "role": "editor"});
    json(app.post_as(&admin, "/api/v1/users", &body).await, 201).await;
    let body = j!({"username": "Editor1", "password": "a long password", "role": "editor"});
    problem(
        app.post_as(&admin, "/api/v1/users", &body).await,
        409,
        "conflict",
    )
    .await;
}

#[tokio::test]
async fn the_user_list_pages_with_a_cursor() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for name in ["u-c", "u-a", "u-b"] {
        let body = j!({"username": name, "password": "a long password", "role": "viewer"});
        json(app.post_as(&admin, "/api/v1/users", &body).await, 201).await;
    }
    let first = json(app.get_as(&admin, "/api/v1/users?limit=2").await, 200).await;
    let names = |page: &serde_json::Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&first), ["admin", "u-a"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = json(
        app.get_as(&admin, &format!("/api/v1/users?limit=2&cursor={cursor}"))
            .await,
        200,
    )
    .await;
    assert_eq!(names(&second), ["u-b", "u-c"]);
    assert!(second["next_cursor"].is_null());
    let viewers = json(app.get_as(&admin, "/api/v1/users?role=viewer").await, 200).await;
    assert_eq!(names(&viewers), ["u-a", "u-b", "u-c"]);
    problem(
        app.get_as(&admin, "/api/v1/users?limit=0").await,
        400,
        "invalid_parameter",
    )
    .await;
    problem(
        app.get_as(&admin, "/api/v1/users?limit=101").await,
        400,
        "invalid_parameter",
    )
    .await;
    problem(
        app.get_as(&admin, "/api/v1/users?cursor=not*a*cursor")
            .await,
        400,
        "invalid_parameter",
    )
    .await;
}

#[tokio::test]
async fn an_admin_resets_a_password_and_changes_a_user() {
    let app = spawn_app().await;
    let officer = app.user("officer", Some("so-khcn")).await;
    let admin = app.admin_token().await;
    let path = format!("/api/v1/users/{}", officer.id);
    let body = j!({"password": "a brand new password", "display_name": "Trần Thị B", "unit": "so-tu-phap"});
    let changed = json(app.patch_as(&admin, &path, &body).await, 200).await;
    assert_eq!(changed["display_name"], "Trần Thị B");
    assert_eq!(changed["unit"], "so-tu-phap");
    problem(
        app.login(&officer.username, &officer.password).await,
        401,
        "invalid_credentials",
    )
    .await;
    json(
        app.login(&officer.username, "a brand new password").await,
        200,
    )
    .await;
    // An officer cannot lose its unit; an editor can.
    problem(
        app.patch_as(&admin, &path, &j!({"unit": null})).await,
        422,
        "validation_failed",
    )
    .await;
    let editor = json(
        app.patch_as(&admin, &path, &j!({"role": "editor", "unit": null}))
            .await,
        200,
    )
    .await;
    assert!(editor["unit"].is_null());
    problem(
        app.patch_as(&admin, &path, &j!({"password": "short"}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    problem(
        app.patch_as(&admin, "/api/v1/users/unknown-id", &j!({"disabled": true}))
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn the_last_enabled_admin_can_be_neither_disabled_nor_demoted() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let me = json(app.get_as(&admin, "/api/v1/auth/me").await, 200).await;
    let id = me["subject"]
        .as_str()
        .unwrap()
        .strip_prefix("user:")
        .unwrap()
        .to_string();
    let path = format!("/api/v1/users/{id}");
    problem(
        app.patch_as(&admin, &path, &j!({"disabled": true})).await,
        409,
        "conflict",
    )
    .await;
    problem(
        app.patch_as(&admin, &path, &j!({"role": "editor"})).await,
        409,
        "conflict",
    )
    .await;
    app.user("admin", None).await;
    json(
        app.patch_as(&admin, &path, &j!({"role": "editor"})).await,
        200,
    )
    .await;
}

#[tokio::test]
async fn a_client_secret_is_shown_once_and_stored_hashed() {
    let app = spawn_app().await;
    let (id, client_id, secret) = app.client_for("so-khcn").await;
    assert!(client_id.starts_with("pc_"));
    assert!(secret.len() >= 43, "{secret}");
    let admin = app.admin_token().await;
    let list = json(app.get_as(&admin, "/api/v1/clients").await, 200).await;
    let listed = &list["items"][0];
    assert_eq!(listed["id"], id.as_str());
    assert_eq!(listed["unit"], "so-khcn");
    assert!(!list.to_string().contains(&secret));
    assert!(
        !app.db.contains(&secret),
        "the client secret is stored in plain text"
    );
    let deleted = app
        .request(
            Method::DELETE,
            &format!("/api/v1/clients/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(deleted.status(), 204);
    let active = json(app.get_as(&admin, "/api/v1/clients").await, 200).await;
    assert_eq!(active["items"], j!([]));
    let all = json(
        app.get_as(&admin, "/api/v1/clients?include_revoked=true")
            .await,
        200,
    )
    .await;
    assert!(all["items"][0]["revoked_at"].is_string());
}

#[tokio::test]
async fn no_password_is_stored_in_plain_text() {
    let app = spawn_app().await;
    let officer = app.user("officer", Some("so-khcn")).await;
    problem(
        app.login(&officer.username, "a-wrong-password-guess").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert!(
        app.db.contains(&officer.username),
        "the search must find what is stored"
    );
    for secret in [
        officer.password.as_str(),
        crate::helpers::ADMIN_PASSWORD,
        "a-wrong-password-guess",
    ] {
        assert!(!app.db.contains(secret), "{secret} is in the database");
    }
}

#[tokio::test]
async fn clients_need_an_active_unit() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let body = problem(
        app.post_as(
            &admin,
            "/api/v1/clients",
            &j!({"name": "x", "unit": "nope"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "unit");
    problem(
        app.post_as(
            &admin,
            "/api/v1/clients",
            &j!({"name": " ", "unit": "so-khcn"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn an_admin_sets_and_clears_a_users_email_and_digest() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let body = j!({
        "username": "mail.officer", "password": "a long password", "role": "officer",
        "unit": "so-khcn", "email": "  An.Nguyen@SoKHCN.gov.vn ", "notify_digest": false
    });
    let response = app.post_as(&admin, "/api/v1/users", &body).await;
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let user = json(response, 201).await;
    assert_eq!(
        user["email"], "An.Nguyen@SoKHCN.gov.vn",
        "trimmed, case kept"
    );
    assert_eq!(user["notify_digest"], false);
    assert_eq!(json(app.get_as(&admin, &location).await, 200).await, user);

    let changed = json(
        app.patch_as(&admin, &location, &j!({"notify_digest": true}))
            .await,
        200,
    )
    .await;
    assert_eq!(changed["email"], "An.Nguyen@SoKHCN.gov.vn", "absent stays");
    assert_eq!(changed["notify_digest"], true);
    let cleared = json(
        app.patch_as(&admin, &location, &j!({"email": null})).await,
        200,
    )
    .await;
    assert!(cleared["email"].is_null(), "{cleared}");
    let fetched = json(app.get_as(&admin, &location).await, 200).await;
    assert!(fetched["email"].is_null());

    // Without the fields: no address, and the digest on.
    let plain = json(
        app.post_as(
            &admin,
            "/api/v1/users",
            &j!({"username": "plain.viewer", "password": "a long password", "role": "viewer"}),
        )
        .await,
        201,
    )
    .await;
    assert!(plain["email"].is_null());
    assert_eq!(plain["notify_digest"], true);
}

#[tokio::test]
async fn a_bad_user_email_is_a_422_naming_the_field_without_the_value() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let bad = "not-an-address@nowhere";
    let body = j!({
        "username": "bad.mail", "password": "a long password", "role": "viewer", "email": bad
    });
    let refused = problem(
        app.post_as(&admin, "/api/v1/users", &body).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "email", "{refused}");
    assert_eq!(refused["errors"][0]["code"], "invalid_email");
    assert!(!refused.to_string().contains(bad), "echoed: {refused}");

    let user = app.user("viewer", None).await;
    let path = format!("/api/v1/users/{}", user.id);
    let refused = problem(
        app.patch_as(&admin, &path, &j!({"email": bad})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "email");
    assert_eq!(refused["errors"][0]["code"], "invalid_email");
    assert!(!refused.to_string().contains(bad), "echoed: {refused}");
    let unchanged = json(app.get_as(&admin, &path).await, 200).await;
    assert!(unchanged["email"].is_null());
}

/// Sets a user's address and digest as the admin.
async fn set_mail(app: &crate::helpers::TestApp, admin: &str, id: &str, body: serde_json::Value) {
    json(
        app.patch_as(admin, &format!("/api/v1/users/{id}"), &body)
            .await,
        200,
    )
    .await;
}

#[tokio::test]
async fn the_mail_worker_finds_unit_role_and_digest_recipients() {
    use portal_api::db::accounts::{digest_recipients, role_recipients, unit_recipients};
    use portal_api::domain::access::Role;

    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let first = app.user("officer", Some("so-khcn")).await;
    let second = app.user("officer", Some("so-khcn")).await;
    let disabled = app.user("officer", Some("so-khcn")).await;
    let _no_address = app.user("officer", Some("so-khcn")).await;
    let elsewhere = app.user("officer", Some("so-tu-phap")).await;
    let editor = app.user("editor", None).await;
    let viewer = app.user("viewer", None).await;
    set_mail(
        &app,
        &admin,
        &first.id,
        j!({"email": "mot@sokhcn.gov.vn", "display_name": "Một"}),
    )
    .await;
    set_mail(
        &app,
        &admin,
        &second.id,
        j!({"email": "hai@sokhcn.gov.vn", "notify_digest": false}),
    )
    .await;
    set_mail(
        &app,
        &admin,
        &disabled.id,
        j!({"email": "ba@sokhcn.gov.vn", "disabled": true}),
    )
    .await;
    set_mail(
        &app,
        &admin,
        &elsewhere.id,
        j!({"email": "bon@sotuphap.gov.vn"}),
    )
    .await;
    set_mail(&app, &admin, &editor.id, j!({"email": "bbt@portal.gov.vn"})).await;
    set_mail(&app, &admin, &viewer.id, j!({"email": "xem@portal.gov.vn"})).await;
    // The unit's mailbox is an officer's address in other case: it is named once.
    json(
        app.patch_as(
            &admin,
            "/api/v1/units/so-khcn",
            &j!({"email": "MOT@sokhcn.gov.vn"}),
        )
        .await,
        200,
    )
    .await;
    json(
        app.patch_as(
            &admin,
            "/api/v1/units/so-tu-phap",
            &j!({"email": "vanthu@sotuphap.gov.vn"}),
        )
        .await,
        200,
    )
    .await;

    let pool = portal_api::db::connect(&app.db.url(), 1).unwrap();
    let mut conn = pool.get().unwrap();
    let mut khcn = unit_recipients(&mut conn, "so-khcn").unwrap();
    khcn.sort();
    assert_eq!(
        khcn,
        [
            (
                "hai@sokhcn.gov.vn".to_string(),
                Some(second.username.clone())
            ),
            ("mot@sokhcn.gov.vn".to_string(), Some("Một".to_string())),
        ]
    );
    assert_eq!(
        unit_recipients(&mut conn, "so-tu-phap").unwrap(),
        [
            (
                "bon@sotuphap.gov.vn".to_string(),
                Some(elsewhere.username.clone())
            ),
            ("vanthu@sotuphap.gov.vn".to_string(), None),
        ],
        "officers first, then the unit's mailbox"
    );
    assert_eq!(
        role_recipients(&mut conn, Role::Editor).unwrap(),
        [(
            "bbt@portal.gov.vn".to_string(),
            Some(editor.username.clone())
        )]
    );
    assert!(role_recipients(&mut conn, Role::Admin).unwrap().is_empty());

    // The admin gets an address too: the board's digest includes it.
    let me = json(app.get_as(&admin, "/api/v1/auth/me").await, 200).await;
    let admin_id = me["subject"].as_str().unwrap().trim_start_matches("user:");
    set_mail(&app, &admin, admin_id, j!({"email": "admin@portal.gov.vn"})).await;
    let mut digest: Vec<(String, Role, Option<String>)> = digest_recipients(&mut conn)
        .unwrap()
        .into_iter()
        .map(|r| (r.email, r.role, r.unit_code))
        .collect();
    digest.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        digest,
        [
            ("admin@portal.gov.vn".to_string(), Role::Admin, None),
            ("bbt@portal.gov.vn".to_string(), Role::Editor, None),
            (
                "bon@sotuphap.gov.vn".to_string(),
                Role::Officer,
                Some("so-tu-phap".to_string())
            ),
            (
                "mot@sokhcn.gov.vn".to_string(),
                Role::Officer,
                Some("so-khcn".to_string())
            ),
        ],
        "not the digest-off, disabled, address-less officers nor the viewer"
    );
}
