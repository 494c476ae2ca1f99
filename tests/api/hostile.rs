//! Hostile input: injection attempts and huge values in every parameter, broken encodings,
//! deeply nested and oversized bodies, guessing tracking codes and keys.

use reqwest::Method;
use serde_json::{json as j, Value};

use crate::helpers::{json, problem, spawn_app, spawn_app_with};

const OPENAPI: &str = include_str!("../../openapi/openapi.json");

/// Values an attacker or a broken client puts into parameters.
fn hostile_values() -> Vec<String> {
    vec![
        "' OR '1'='1".into(),
        "1; DROP TABLE submissions; --".into(),
        "\" OR \"\"=\"".into(),
        "%' UNION SELECT password_hash FROM users --".into(),
        "\\'; SELECT pg_sleep(10); --".into(),
        "%_%".into(),
        "*\"():-^~".into(),
        "NEAR(a b) OR c*".into(),
        "\u{0}".into(),
        "../../etc/passwd".into(),
        "-1".into(),
        "99999999999999999999999".into(),
        "2024-13-45".into(),
        "Đường  \u{202e}ngược".into(),
        "x".repeat(4_000),
        "ế".repeat(2_000),
    ]
}

/// Every GET operation of the document with each of its parameters replaced in turn by each
/// hostile value, as the admin (who passes every role check): never a 5xx, always JSON or
/// the feed, and the data is still there afterwards.
#[tokio::test]
async fn hostile_values_in_every_parameter_never_cause_a_server_error() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let doc: Value = serde_json::from_str(OPENAPI).unwrap();
    let mut calls = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let params = get["parameters"].as_array().cloned().unwrap_or_default();
        for param in &params {
            let name = param["name"].as_str().unwrap();
            for value in hostile_values() {
                let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
                let url = if param["in"] == "path" {
                    path.replace(&format!("{{{name}}}"), &encoded.replace('+', "%20"))
                } else {
                    format!("{}?{name}={encoded}", fill_path(path))
                };
                let response = app.get_as(&admin, &url).await;
                let status = response.status().as_u16();
                let body = response.text().await.unwrap();
                assert!(status < 500, "GET {url} answered {status}: {body}");
                if status >= 400 {
                    let problem: Value = serde_json::from_str(&body)
                        .unwrap_or_else(|_| panic!("GET {url}: {status} is no problem: {body}"));
                    assert_eq!(problem["status"], status);
                }
                calls += 1;
            }
        }
    }
    assert!(calls > 300, "only {calls} calls");
    let units = json(app.get("/api/v1/units").await, 200).await;
    assert_eq!(units["items"].as_array().unwrap().len(), 31);
    assert_eq!(app.db.count("SELECT count(*) AS n FROM units"), 31);
    assert_eq!(app.db.count("SELECT count(*) AS n FROM users"), 1);
    let me = json(app.get_as(&admin, "/api/v1/auth/me").await, 200).await;
    assert_eq!(me["role"], "admin");
}

/// A path with its parameters set to values that exist (or at least parse).
fn fill_path(path: &str) -> String {
    path.replace("{code}", "so-khcn")
        .replace("{tracking_code}", "Q24-ABCDEF")
        .replace("{date}", "2024-02-10")
        .replace("{id}", "00000000-0000-0000-0000-000000000000")
}

#[tokio::test]
async fn hostile_text_in_writes_is_stored_as_text() {
    let app = spawn_app().await;
    let officer = app.user("officer", Some("so-khcn")).await;
    for title in hostile_values()
        .into_iter()
        .filter(|v| !v.contains('\u{0}'))
    {
        let body = j!({
            "category": "tin-tuc", "title": title.chars().take(300).collect::<String>(),
            "summary": title.chars().take(2000).collect::<String>(),
            "body": format!("<p>{title}</p>"), "draft": true
        });
        let made = json(
            app.post_as(&officer.token, "/api/v1/submissions", &body)
                .await,
            201,
        )
        .await;
        let id = made["id"].as_str().unwrap();
        let read = json(
            app.get_as(&officer.token, &format!("/api/v1/submissions/{id}"))
                .await,
            200,
        )
        .await;
        assert_eq!(read["summary"], body["summary"]);
    }
    // A NUL character cannot be stored as text: it is refused at the door, whatever the field.
    let with_nul = j!({"category": "tin-tuc", "title": "a\u{0}b", "draft": true});
    let response = app
        .post_as(&officer.token, "/api/v1/submissions", &with_nul)
        .await;
    problem(response, 422, "validation_failed").await;
    let question = j!({
        "title": "Hỏi", "body": "Nội dung", "publish_consent": true,
        "asker": {"name": "Nguyễn\u{0}", "phone": "0912345678"}
    });
    let response = app
        .request(Method::POST, "/api/v1/questions", None, Some(&question))
        .await;
    problem(response, 422, "validation_failed").await;
}

#[tokio::test]
async fn broken_encodings_nesting_and_size_are_4xx_problems() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let post = |path: &str, bytes: Vec<u8>| {
        app.client
            .post(format!("{}{path}", app.address))
            .bearer_auth(&admin)
            .header("content-type", "application/json")
            .body(bytes)
            .send()
    };

    let invalid_utf8 = b"{\"title\": \"\xff\xfe\xfd\", \"body\": \"x\"}".to_vec();
    let response = post("/api/v1/questions", invalid_utf8).await.unwrap();
    problem(response, 400, "malformed_json").await;

    // Nesting far past any parser's depth limit, where a field expects text and where the
    // body must be an object: refused as unreadable, without recursing to a stack overflow.
    for (path, deep) in [
        (
            "/api/v1/submissions",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        ),
        (
            "/api/v1/questions",
            format!(
                "{{\"title\": {}1{}}}",
                "[".repeat(100_000),
                "]".repeat(100_000)
            ),
        ),
        (
            "/api/v1/users",
            format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000)),
        ),
    ] {
        let response = post(path, deep.into_bytes()).await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert!(status == 400 || status == 422, "{path}: {status} {body}");
        assert_eq!(body["status"], status);
    }

    let ten_mib = vec![b' '; 10 * 1024 * 1024];
    let response = post("/api/v1/submissions", ten_mib).await.unwrap();
    problem(response, 413, "payload_too_large").await;

    // Invalid UTF-8 in the query string and the path.
    for url in [
        "/api/v1/public/articles?q=%FF%FE",
        "/api/v1/units/%FF%FE",
        "/api/v1/tracking/%C0%AF",
    ] {
        let response = app.get_as(&admin, url).await;
        let status = response.status().as_u16();
        assert!((400..500).contains(&status), "{url}: {status}");
    }

    // A long path of valid encoded characters is read whole, not cut inside one of them.
    let long = format!("/api/v1/tracking/{}", "%E1%BB%A9".repeat(100));
    problem(app.get(&long).await, 404, "not_found").await;

    // The service still answers after all of it.
    json(app.get("/health/ready").await, 200).await;
}

/// Guessing: random codes with random keys, and one real code with wrong keys, all answer the
/// same 404; the real key still works afterwards.
#[tokio::test]
async fn guessing_tracking_codes_and_keys_finds_nothing() {
    let app = spawn_app_with(&[("PORTAL_QUESTIONS_PER_MINUTE", "100")]).await;
    let asked = json(
        app.request(
            Method::POST,
            "/api/v1/questions",
            None,
            Some(&j!({
                "title": "Hỏi về thủ tục", "body": "Nội dung câu hỏi",
                "asker": {"name": "Lê Văn Cường", "phone": "0912345678"},
                "publish_consent": false
            })),
        )
        .await,
        200 + 1,
    )
    .await;
    let code = asked["tracking_code"].as_str().unwrap();
    let key = asked["access_key"].as_str().unwrap();
    let alphabet: Vec<char> = "23456789ABCDEFGHJKMNPQRSTUVWXYZ".chars().collect();
    let mut bodies = std::collections::BTreeSet::new();
    for i in 0..300usize {
        let guess: String = (0..6)
            .map(|k| alphabet[(i * 7 + k * 13 + i / 3) % alphabet.len()])
            .collect();
        let (try_code, try_key) = if i % 2 == 0 {
            (format!("{}-{guess}", &code[..3]), format!("{i:032x}"))
        } else {
            (code.to_string(), format!("{}{i}", &key[..key.len() - 3]))
        };
        let response = app
            .client
            .get(format!("{}/api/v1/tracking/{try_code}", app.address))
            .header("x-access-key", try_key)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let mut body: Value = response.json().await.unwrap();
        assert_eq!(status, 404, "{body}");
        body.as_object_mut().unwrap().remove("request_id");
        bodies.insert(body.to_string());
    }
    assert_eq!(bodies.len(), 1, "every miss looks the same: {bodies:?}");
    let found = app
        .client
        .get(format!("{}/api/v1/tracking/{code}", app.address))
        .header("x-access-key", key)
        .send()
        .await
        .unwrap();
    assert_eq!(found.status(), 200);
}
