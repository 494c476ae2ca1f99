//! Addresses in submissions: refused when hostile, stored in normal form, and links in bodies
//! made absolute against the portal's public address.

use reqwest::Response;
use serde_json::{json as j, Value};

use crate::helpers::{json, problem, spawn_app, spawn_app_with, TestApp};

/// Addresses that once were stored and served as sent.
const HOSTILE: [&str; 3] = [
    r#"https://a.vn/"><script>alert(1)</script>"#,
    "https://a.vn/'onmouseover='alert(1)",
    r"https://\\evil",
];

fn item() -> Value {
    j!({
        "category": "tin-tuc",
        "title": "Liên kết",
        "summary": "Tóm tắt",
        "body": "<p>Nội dung</p>",
        "draft": true
    })
}

async fn post(app: &TestApp, token: &str, body: &Value) -> Response {
    app.post_as(token, "/api/v1/submissions", body).await
}

/// Asserts a 422 that names exactly `field` and does not repeat the address.
async fn refused(response: Response, field: &str, address: &str) {
    let p = problem(response, 422, "validation_failed").await;
    let errors = p["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{p}");
    assert_eq!(errors[0]["field"], field, "{address}: {p}");
    let text = p.to_string();
    for part in ["script", "onmouseover", "evil"] {
        assert!(
            !text.contains(part),
            "the answer repeats the address: {text}"
        );
    }
}

#[tokio::test]
async fn hostile_source_urls_are_refused_with_the_field_named() {
    let app = spawn_app().await;
    let officer = app.user("officer", Some("so-khcn")).await;
    for address in HOSTILE {
        let mut body = item();
        body["source_url"] = j!(address);
        refused(
            post(&app, &officer.token, &body).await,
            "source_url",
            address,
        )
        .await;
    }
}

#[tokio::test]
async fn hostile_attachment_urls_are_refused_with_the_field_named() {
    let app = spawn_app().await;
    let officer = app.user("officer", Some("so-khcn")).await;
    for address in HOSTILE {
        let mut body = item();
        body["attachments"] = j!([{"url": address, "title": "Tệp"}]);
        refused(
            post(&app, &officer.token, &body).await,
            "attachments[0].url",
            address,
        )
        .await;
        body["attachments"] = j!([
            {"url": "https://a.vn/tep.pdf", "title": "Tệp 1"},
            {"url": address, "title": "Tệp 2"}
        ]);
        refused(
            post(&app, &officer.token, &body).await,
            "attachments[1].url",
            address,
        )
        .await;
    }
}

#[tokio::test]
async fn hostile_urls_are_refused_on_a_change_too() {
    let app = spawn_app().await;
    let officer = app.user("officer", Some("so-khcn")).await;
    let created = json(post(&app, &officer.token, &item()).await, 201).await;
    let id = created["id"].as_str().unwrap();
    for address in HOSTILE {
        let response = app
            .client
            .patch(format!("{}/api/v1/submissions/{id}", app.address))
            .bearer_auth(&officer.token)
            .header("if-match", format!("\"{}\"", created["version"]))
            .json(&j!({"source_url": address}))
            .send()
            .await
            .unwrap();
        refused(response, "source_url", address).await;
    }
}

#[tokio::test]
async fn addresses_are_stored_and_served_in_normal_form() {
    let app = spawn_app().await;
    let officer = app.user("officer", Some("so-khcn")).await;
    let mut body = item();
    body["source_url"] = j!("HTTPS://EXAMPLE.vn/Tin-tức?q=đồng");
    body["attachments"] = j!([
        {"url": "https://Bộ.VN/tệp.pdf", "title": "Tệp"},
        {"url": "https://a.vn/x%27y", "title": "Tệp có dấu nháy"}
    ]);
    let created = json(post(&app, &officer.token, &body).await, 201).await;
    let id = created["id"].as_str().unwrap();
    let fetched = json(
        app.get_as(&officer.token, &format!("/api/v1/submissions/{id}"))
            .await,
        200,
    )
    .await;
    assert_eq!(
        fetched["source_url"],
        "https://example.vn/Tin-t%E1%BB%A9c?q=%C4%91%E1%BB%93ng"
    );
    assert_eq!(
        fetched["attachments"],
        j!([
            {"url": "https://xn--b-8xm.vn/t%E1%BB%87p.pdf", "title": "Tệp"},
            {"url": "https://a.vn/x%27y", "title": "Tệp có dấu nháy"}
        ])
    );
}

/// The body's links as stored and served back.
async fn stored_body(app: &TestApp, html: &str) -> String {
    let officer = app.user("officer", Some("so-khcn")).await;
    let mut body = item();
    body["body"] = j!(html);
    let created = json(post(app, &officer.token, &body).await, 201).await;
    let id = created["id"].as_str().unwrap();
    let fetched = json(
        app.get_as(&officer.token, &format!("/api/v1/submissions/{id}"))
            .await,
        200,
    )
    .await;
    let stored = fetched["body"].as_str().unwrap().to_string();
    assert_eq!(stored, created["body"].as_str().unwrap());
    stored
}

#[tokio::test]
async fn body_links_are_made_absolute_dropped_or_normalised() {
    let app = spawn_app().await;
    let stored = stored_body(
        &app,
        concat!(
            r#"<p><a href="/tin-tuc/1">tương đối</a> "#,
            r#"<a href="a.html">cùng thư mục</a> "#,
            r#"<a href="//evil.example/x">nơi khác</a> "#,
            r#"<a href="/\evil.example/x">gạch ngược</a> "#,
            r#"<a href="https://EXAMPLE.vn/x">tuyệt đối</a> "#,
            r#"<a href="mailto:a@b.vn">thư</a></p>"#
        ),
    )
    .await;
    assert_eq!(
        stored,
        concat!(
            r#"<p><a href="http://localhost:8080/tin-tuc/1" rel="noopener noreferrer">tương đối</a> "#,
            r#"<a href="http://localhost:8080/a.html" rel="noopener noreferrer">cùng thư mục</a> "#,
            r#"<a rel="noopener noreferrer">nơi khác</a> "#,
            r#"<a rel="noopener noreferrer">gạch ngược</a> "#,
            r#"<a href="https://example.vn/x" rel="noopener noreferrer">tuyệt đối</a> "#,
            r#"<a rel="noopener noreferrer">thư</a></p>"#
        )
    );
}

#[tokio::test]
async fn body_links_are_made_absolute_against_the_configured_public_address() {
    let app = spawn_app_with(&[("PORTAL_PUBLIC_BASE_URL", "https://Cong.Example.VN/tin/")]).await;
    let stored = stored_body(
        &app,
        r#"<a href="/lien-he">a</a><a href="bai-1.html">b</a><img src="anh.png">"#,
    )
    .await;
    assert_eq!(
        stored,
        concat!(
            r#"<a href="https://cong.example.vn/lien-he" rel="noopener noreferrer">a</a>"#,
            r#"<a href="https://cong.example.vn/tin/bai-1.html" rel="noopener noreferrer">b</a>"#,
            r#"<img src="https://cong.example.vn/tin/anh.png">"#
        )
    );
}
