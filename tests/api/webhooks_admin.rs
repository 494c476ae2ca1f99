//! Managing webhooks: who may, what is checked, the secret shown once, the test event and the
//! list of delivery attempts.

use base64::Engine;
use reqwest::Method;
use serde_json::{json as j, Value};

use crate::helpers::{json, problem, spawn_app, spawn_app_with, TestApp};

/// A public address given as an IP literal (TEST-NET-3), so no name has to resolve.
const PUBLIC_URL: &str = "https://203.0.113.10/hooks/portal";

async fn client_token(app: &TestApp, unit: &str) -> String {
    let (_, client_id, secret) = app.client_for(unit).await;
    let answer = json(app.client_token(&client_id, &secret).await, 200).await;
    answer["access_token"].as_str().unwrap().to_string()
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    json(app.post_as(token, "/api/v1/webhooks", &body).await, 201).await
}

async fn delete(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.request(Method::DELETE, path, Some(token), None).await
}

/// The field names of a 422's errors.
fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

fn assert_secret_shape(secret: &str) {
    let key = secret
        .strip_prefix("whsec_")
        .unwrap_or_else(|| panic!("{secret} starts with whsec_"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key)
        .expect("the secret is base64 after whsec_");
    assert!(bytes.len() >= 24, "{} bytes", bytes.len());
}

#[tokio::test]
async fn an_admin_registers_lists_reads_changes_and_deletes_a_webhook() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let response = app
        .post_as(
            &admin,
            "/api/v1/webhooks",
            &j!({
                "url": PUBLIC_URL,
                "events": ["submission.published", "question.asked"],
                "description": "Cổng tổng hợp"
            }),
        )
        .await;
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let made = json(response, 201).await;
    let id = made["id"].as_str().unwrap();
    assert!(
        id.len() == 35 && id.starts_with("wh_") && id[3..].chars().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );
    assert_eq!(location, format!("/api/v1/webhooks/{id}"));
    assert_eq!(made["url"], PUBLIC_URL);
    assert_eq!(
        made["events"],
        j!(["submission.published", "question.asked"])
    );
    assert_eq!(
        made["unit"],
        Value::Null,
        "an admin's webhook without unit: all"
    );
    assert_eq!(made["description"], "Cổng tổng hợp");
    assert_eq!(made["enabled"], true);
    assert_eq!(made["failing_since"], Value::Null);
    assert_eq!(made["disabled_reason"], Value::Null);
    assert!(made["created_at"].is_string() && made["updated_at"].is_string());
    assert_secret_shape(made["secret"].as_str().unwrap());

    let read = json(app.get_as(&admin, &location).await, 200).await;
    assert_eq!(read["id"], id);
    assert!(read.get("secret").is_none(), "shown once: {read}");
    let list = json(app.get_as(&admin, "/api/v1/webhooks").await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], id);
    assert!(list["items"][0].get("secret").is_none());
    assert_eq!(list["next_cursor"], Value::Null);

    let refused = json(
        app.patch_as(&admin, &location, &j!({"unit": "so-khcn"}))
            .await,
        422,
    )
    .await;
    assert_eq!(fields(&refused), ["unit"], "the unit cannot be changed");
    let changed = json(
        app.patch_as(
            &admin,
            &location,
            &j!({"events": ["*"], "enabled": false, "description": null}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(changed["events"], j!(["*"]));
    assert_eq!(changed["enabled"], false);
    assert_eq!(changed["description"], Value::Null);
    assert!(changed.get("secret").is_none());

    let other_url = "https://[2001:db8::1]/portal";
    let changed = json(
        app.patch_as(&admin, &location, &j!({"url": other_url}))
            .await,
        200,
    )
    .await;
    assert_eq!(changed["url"], other_url);
    assert_eq!(changed["events"], j!(["*"]), "what is not sent stays");

    assert_eq!(delete(&app, &admin, &location).await.status(), 204);
    problem(app.get_as(&admin, &location).await, 404, "not_found").await;
    assert_eq!(delete(&app, &admin, &location).await.status(), 404);
}

#[tokio::test]
async fn rotating_the_secret_answers_a_new_one_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let made = create(&app, &admin, j!({"url": PUBLIC_URL, "events": ["*"]})).await;
    let path = format!("/api/v1/webhooks/{}", made["id"].as_str().unwrap());
    let response = app
        .patch_as(&admin, &path, &j!({"rotate_secret": true}))
        .await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let rotated = json(response, 200).await;
    let secret = rotated["secret"].as_str().unwrap();
    assert_secret_shape(secret);
    assert_ne!(secret, made["secret"].as_str().unwrap());
    let stored = app.db.count(&format!(
        "SELECT count(*) AS n FROM webhooks WHERE secret = '{secret}'"
    ));
    assert_eq!(stored, 1, "the new secret is the one kept");
    let read = json(app.get_as(&admin, &path).await, 200).await;
    assert!(read.get("secret").is_none());
    let again = json(
        app.patch_as(&admin, &path, &j!({"rotate_secret": false}))
            .await,
        200,
    )
    .await;
    assert!(again.get("secret").is_none());
}

#[tokio::test]
async fn an_api_client_manages_only_its_own_webhooks_which_get_its_unit() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let client = client_token(&app, "so-khcn").await;
    let other = client_token(&app, "so-tu-phap").await;

    let own = create(
        &app,
        &client,
        j!({"url": PUBLIC_URL, "events": ["submission.returned"]}),
    )
    .await;
    assert_eq!(
        own["unit"], "so-khcn",
        "a client's webhook gets its own unit"
    );
    let named = create(
        &app,
        &client,
        j!({"url": PUBLIC_URL, "events": ["*"], "unit": "so-khcn"}),
    )
    .await;
    assert_eq!(named["unit"], "so-khcn");
    let refused = problem(
        app.post_as(
            &client,
            "/api/v1/webhooks",
            &j!({"url": PUBLIC_URL, "events": ["*"], "unit": "so-tu-phap"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&refused), ["unit"]);
    let admins = create(&app, &admin, j!({"url": PUBLIC_URL, "events": ["*"]})).await;

    let ids = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["id"].as_str().unwrap().to_string())
            .collect()
    };
    let mine = json(app.get_as(&client, "/api/v1/webhooks").await, 200).await;
    let mut expected = [own["id"].as_str().unwrap(), named["id"].as_str().unwrap()];
    expected.sort();
    let mut mine = ids(&mine);
    mine.sort();
    assert_eq!(mine, expected);
    let theirs = json(app.get_as(&other, "/api/v1/webhooks").await, 200).await;
    assert!(ids(&theirs).is_empty());
    let all = json(app.get_as(&admin, "/api/v1/webhooks").await, 200).await;
    assert_eq!(ids(&all).len(), 3);

    let path = format!("/api/v1/webhooks/{}", own["id"].as_str().unwrap());
    json(app.get_as(&client, &path).await, 200).await;
    json(app.get_as(&admin, &path).await, 200).await;
    for (method, suffix) in [
        (Method::GET, ""),
        (Method::PATCH, ""),
        (Method::DELETE, ""),
        (Method::GET, "/deliveries"),
        (Method::POST, "/test"),
    ] {
        let body = (method == Method::PATCH).then(|| j!({"enabled": false}));
        let url = format!("{path}{suffix}");
        let answer = app
            .request(method.clone(), &url, Some(&other), body.as_ref())
            .await;
        problem(answer, 404, "not_found").await;
    }
    let admins_path = format!("/api/v1/webhooks/{}", admins["id"].as_str().unwrap());
    problem(app.get_as(&client, &admins_path).await, 404, "not_found").await;

    let changed = json(
        app.patch_as(&client, &path, &j!({"events": ["submission.published"]}))
            .await,
        200,
    )
    .await;
    assert_eq!(changed["events"], j!(["submission.published"]));
    assert_eq!(delete(&app, &client, &path).await.status(), 204);
    let owners = app.db.count(
        "SELECT count(*) AS n FROM webhooks WHERE owner LIKE 'client:%' AND unit_code = 'so-khcn'",
    );
    assert_eq!(
        owners, 1,
        "the client's remaining webhook is stored as its own"
    );
    let by_admin = app
        .db
        .count("SELECT count(*) AS n FROM webhooks WHERE owner IS NULL");
    assert_eq!(by_admin, 1, "an admin's webhook has no owner");
}

#[tokio::test]
async fn people_other_than_admins_may_not_manage_webhooks() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let made = create(&app, &admin, j!({"url": PUBLIC_URL, "events": ["*"]})).await;
    let path = format!("/api/v1/webhooks/{}", made["id"].as_str().unwrap());
    let body = j!({"url": PUBLIC_URL, "events": ["*"]});
    for (role, unit) in [
        ("officer", Some("so-khcn")),
        ("editor", None),
        ("viewer", None),
    ] {
        let token = app.user(role, unit).await.token;
        problem(
            app.post_as(&token, "/api/v1/webhooks", &body).await,
            403,
            "forbidden",
        )
        .await;
        problem(
            app.get_as(&token, "/api/v1/webhooks").await,
            403,
            "forbidden",
        )
        .await;
        problem(app.get_as(&token, &path).await, 403, "forbidden").await;
        problem(
            app.post_as(&token, &format!("{path}/test"), &j!({})).await,
            403,
            "forbidden",
        )
        .await;
    }
    problem(app.get("/api/v1/webhooks").await, 401, "unauthorized").await;
    assert_eq!(
        app.db.count("SELECT count(*) AS n FROM webhooks"),
        1,
        "nothing was registered"
    );
}

#[tokio::test]
async fn bad_urls_event_types_units_and_descriptions_are_refused_by_field() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let cases = [
        (j!({"url": "not a url", "events": ["*"]}), vec!["url"]),
        (
            j!({"url": "ftp://203.0.113.10/x", "events": ["*"]}),
            vec!["url"],
        ),
        (
            j!({"url": "https://user:pw@203.0.113.10/x", "events": ["*"]}),
            vec!["url"],
        ),
        (j!({"url": PUBLIC_URL, "events": []}), vec!["events[0]"]),
        (
            j!({"url": PUBLIC_URL, "events": ["nope"]}),
            vec!["events[0]"],
        ),
        (
            j!({"url": PUBLIC_URL, "events": ["question.asked", "submission.create"]}),
            vec!["events[1]"],
        ),
        (
            j!({"url": PUBLIC_URL, "events": ["question.asked", "question.asked"]}),
            vec!["events[1]"],
        ),
        (
            j!({"url": PUBLIC_URL, "events": ["webhook.test"]}),
            vec!["events[0]"],
        ),
        (
            j!({"url": PUBLIC_URL, "events": ["*", "question.asked"]}),
            vec!["events[0]"],
        ),
        (
            j!({"url": PUBLIC_URL, "events": ["*"], "unit": "khong-co-don-vi"}),
            vec!["unit"],
        ),
        (
            j!({"url": PUBLIC_URL, "events": ["*"], "description": "d".repeat(501)}),
            vec!["description"],
        ),
        (
            j!({"url": "http://", "events": ["bogus"], "description": "x".repeat(600)}),
            vec!["description", "events[0]", "url"],
        ),
    ];
    for (body, expected) in cases {
        let refused = problem(
            app.post_as(&admin, "/api/v1/webhooks", &body).await,
            422,
            "validation_failed",
        )
        .await;
        let mut got = fields(&refused);
        got.sort();
        assert_eq!(got, expected, "{body}");
    }
    problem(
        app.post_as(&admin, "/api/v1/webhooks", &j!({"events": ["*"]}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(app.db.count("SELECT count(*) AS n FROM webhooks"), 0);
    let made = create(&app, &admin, j!({"url": PUBLIC_URL, "events": ["*"]})).await;
    let path = format!("/api/v1/webhooks/{}", made["id"].as_str().unwrap());
    let refused = problem(
        app.patch_as(
            &admin,
            &path,
            &j!({"url": "gopher://203.0.113.10/", "events": ["nope"]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&refused), ["events[0]", "url"]);
    let read = json(app.get_as(&admin, &path).await, 200).await;
    assert_eq!(read["url"], PUBLIC_URL, "a refused change changes nothing");
}

#[tokio::test]
async fn loopback_urls_are_refused_unless_private_addresses_are_allowed() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for url in [
        "http://127.0.0.1:9/x",
        "http://localhost:9/x",
        "http://[::1]:9/x",
        "http://10.0.0.7/x",
        "https://169.254.169.254/latest/meta-data",
    ] {
        let refused = problem(
            app.post_as(
                &admin,
                "/api/v1/webhooks",
                &j!({"url": url, "events": ["*"]}),
            )
            .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&refused), ["url"], "{url}");
        let message = refused["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("loopback") && message.contains("PORTAL_WEBHOOK_ALLOW_PRIVATE"),
            "{url}: {message}"
        );
    }
    let made = create(&app, &admin, j!({"url": PUBLIC_URL, "events": ["*"]})).await;
    let path = format!("/api/v1/webhooks/{}", made["id"].as_str().unwrap());
    let refused = problem(
        app.patch_as(&admin, &path, &j!({"url": "http://localhost:9/x"}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&refused), ["url"]);

    let open = spawn_app_with(&[("PORTAL_WEBHOOK_ALLOW_PRIVATE", "true")]).await;
    let admin = open.admin_token().await;
    for url in ["http://127.0.0.1:9/x", "http://localhost:9/x"] {
        let made = create(&open, &admin, j!({"url": url, "events": ["*"]})).await;
        assert_eq!(made["url"], url);
    }
}

#[tokio::test]
async fn plain_http_is_refused_in_production() {
    let app = spawn_app_with(&[("PORTAL_ENV", "production")]).await;
    let admin = app.admin_token().await;
    let refused = problem(
        app.post_as(
            &admin,
            "/api/v1/webhooks",
            &j!({"url": "http://203.0.113.10/hooks", "events": ["*"]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&refused), ["url"]);
    assert!(refused["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("https://"));
    create(&app, &admin, j!({"url": PUBLIC_URL, "events": ["*"]})).await;
}

#[tokio::test]
async fn an_api_client_has_a_bounded_number_of_webhooks() {
    let app = spawn_app().await;
    let client = client_token(&app, "so-khcn").await;
    for _ in 0..20 {
        create(&app, &client, j!({"url": PUBLIC_URL, "events": ["*"]})).await;
    }
    let refused = problem(
        app.post_as(
            &client,
            "/api/v1/webhooks",
            &j!({"url": PUBLIC_URL, "events": ["*"]}),
        )
        .await,
        409,
        "conflict",
    )
    .await;
    assert!(refused["detail"].as_str().unwrap().contains("20"));
    let other = client_token(&app, "so-khcn").await;
    create(&app, &other, j!({"url": PUBLIC_URL, "events": ["*"]})).await;
}

#[tokio::test]
async fn enabling_a_disabled_webhook_again_forgets_its_failures() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let made = create(&app, &admin, j!({"url": PUBLIC_URL, "events": ["*"]})).await;
    let id = made["id"].as_str().unwrap();
    let path = format!("/api/v1/webhooks/{id}");
    app.db.execute(&format!(
        "UPDATE webhooks SET enabled = FALSE, failing_since = '2026-03-01 08:00:00', \
         disabled_reason = 'every delivery failed for 5 days' WHERE id = '{id}'"
    ));
    let read = json(app.get_as(&admin, &path).await, 200).await;
    assert_eq!(read["enabled"], false);
    assert_eq!(read["failing_since"], "2026-03-01T08:00:00Z");
    assert_eq!(read["disabled_reason"], "every delivery failed for 5 days");
    problem(
        app.post_as(&admin, &format!("{path}/test"), &j!({})).await,
        409,
        "conflict",
    )
    .await;

    let enabled = json(
        app.patch_as(&admin, &path, &j!({"enabled": true})).await,
        200,
    )
    .await;
    assert_eq!(enabled["enabled"], true);
    assert_eq!(enabled["failing_since"], Value::Null);
    assert_eq!(enabled["disabled_reason"], Value::Null);
}

#[tokio::test]
async fn a_test_event_is_queued_for_that_webhook_only_and_never_in_the_feed() {
    let app = spawn_app().await;
    let client = client_token(&app, "so-khcn").await;
    let made = create(&app, &client, j!({"url": PUBLIC_URL, "events": ["*"]})).await;
    let other = create(&app, &client, j!({"url": PUBLIC_URL, "events": ["*"]})).await;
    let id = made["id"].as_str().unwrap();
    let queued = json(
        app.post_as(&client, &format!("/api/v1/webhooks/{id}/test"), &j!({}))
            .await,
        202,
    )
    .await;
    let event_id = queued["event_id"].as_str().unwrap();
    assert!(
        event_id.starts_with("evt_") && event_id.len() == 36,
        "{event_id}"
    );
    let rows = app.db.count(&format!(
        "SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = '{id}' \
         AND event_id = '{event_id}' AND event_type = 'webhook.test' AND attempts >= 0 \
         AND payload LIKE '%\"type\":\"webhook.test\"%' \
         AND payload LIKE '%\"unit\":\"so-khcn\"%' \
         AND payload LIKE '%\"webhook_id\":\"{id}\"%' \
         AND payload LIKE '%\"seq\":null%' \
         AND payload LIKE '%\"id\":\"{event_id}\"%'"
    ));
    assert_eq!(rows, 1, "one delivery of the test event, to this webhook");
    let elsewhere = app.db.count(&format!(
        "SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = '{}'",
        other["id"].as_str().unwrap()
    ));
    assert_eq!(elsewhere, 0, "no other webhook gets it");
    let in_log = app
        .db
        .count("SELECT count(*) AS n FROM events WHERE type = 'webhook.test'");
    assert_eq!(in_log, 0, "the test event is not in the event log");
    let feed = json(app.get_as(&client, "/api/v1/events?limit=1000").await, 200).await;
    assert!(feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["type"] != "webhook.test"));
}

#[tokio::test]
async fn the_deliveries_list_pages_through_every_attempt_newest_first() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let made = create(&app, &admin, j!({"url": PUBLIC_URL, "events": ["*"]})).await;
    let id = made["id"].as_str().unwrap();
    let path = format!("/api/v1/webhooks/{id}/deliveries");
    let empty = json(app.get_as(&admin, &path).await, 200).await;
    assert_eq!(empty, j!({"items": [], "next_cursor": null}));

    // A delivery that failed twice and then succeeded, as the outbox records it.
    let event = "evt_0123456789abcdef0123456789abcdef";
    app.db.execute(&format!(
        "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, payload, status, \
         attempts, next_attempt_at, created_at) VALUES ('{id}', '{event}', \
         'submission.published', '{{}}', 'succeeded', 3, NULL, '2026-03-02 01:00:00')"
    ));
    for (attempt, at, status, error, next) in [
        (
            1,
            "2026-03-02 01:00:00",
            "500",
            "NULL",
            "'2026-03-02 01:00:05'",
        ),
        (
            2,
            "2026-03-02 01:00:05",
            "NULL",
            "'no answer within 10 s'",
            "'2026-03-02 01:05:05'",
        ),
        (3, "2026-03-02 01:05:05", "200", "NULL", "NULL"),
    ] {
        app.db.execute(&format!(
            "INSERT INTO webhook_attempts (delivery_id, webhook_id, attempt, attempted_at, \
             http_status, error, duration_ms, next_attempt_at) SELECT id, '{id}', {attempt}, \
             '{at}', {status}, {error}, {}, {next} FROM webhook_deliveries \
             WHERE event_id = '{event}'",
            attempt * 100
        ));
    }

    let first = json(app.get_as(&admin, &format!("{path}?limit=2")).await, 200).await;
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let delivered = &items[0];
    assert!(delivered["delivery_id"].is_i64());
    assert_eq!(delivered["event_id"], event);
    assert_eq!(delivered["event_type"], "submission.published");
    assert_eq!(delivered["attempt"], 3);
    assert_eq!(delivered["attempted_at"], "2026-03-02T01:05:05Z");
    assert_eq!(delivered["outcome"], "succeeded");
    assert_eq!(delivered["http_status"], 200);
    assert_eq!(delivered["error"], Value::Null);
    assert_eq!(delivered["duration_ms"], 300);
    assert_eq!(delivered["next_attempt_at"], Value::Null);
    let timed_out = &items[1];
    assert_eq!(timed_out["attempt"], 2);
    assert_eq!(timed_out["outcome"], "failed");
    assert_eq!(timed_out["http_status"], Value::Null);
    assert_eq!(timed_out["error"], "no answer within 10 s");
    assert_eq!(timed_out["next_attempt_at"], "2026-03-02T01:05:05Z");

    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = json(
        app.get_as(&admin, &format!("{path}?limit=2&cursor={cursor}"))
            .await,
        200,
    )
    .await;
    let items = second["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["attempt"], 1);
    assert_eq!(items[0]["outcome"], "failed");
    assert_eq!(items[0]["http_status"], 500);
    assert_eq!(second["next_cursor"], Value::Null);

    problem(
        app.get_as(&admin, &format!("{path}?cursor=not-ours")).await,
        400,
        "invalid_parameter",
    )
    .await;
    problem(
        app.get_as(&admin, &format!("{path}?limit=0")).await,
        400,
        "invalid_parameter",
    )
    .await;
    problem(
        app.get_as(&admin, "/api/v1/webhooks/wh_nothing/deliveries")
            .await,
        404,
        "not_found",
    )
    .await;

    // Deleting the webhook takes its deliveries and attempts with it.
    let webhook = format!("/api/v1/webhooks/{id}");
    assert_eq!(delete(&app, &admin, &webhook).await.status(), 204);
    assert_eq!(
        app.db.count("SELECT count(*) AS n FROM webhook_attempts")
            + app.db.count("SELECT count(*) AS n FROM webhook_deliveries"),
        0
    );
}

#[tokio::test]
async fn the_api_document_describes_the_delivery_as_an_openapi_webhook() {
    let app = spawn_app().await;
    let doc = json(app.get("/openapi.json").await, 200).await;
    let delivery = &doc["webhooks"]["event"]["post"];
    assert_eq!(
        delivery["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Event"
    );
    let headers: Vec<&str> = delivery["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "header" && p["required"] == true)
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        headers,
        ["webhook-id", "webhook-timestamp", "webhook-signature"]
    );
    assert!(delivery["responses"]["2XX"].is_object());
    for path in [
        "/api/v1/webhooks",
        "/api/v1/webhooks/{id}",
        "/api/v1/webhooks/{id}/deliveries",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path}");
    }
    assert!(doc["paths"]["/api/v1/webhooks/{id}/test"]["post"].is_object());
}
