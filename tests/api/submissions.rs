use reqwest::{Method, Response};
use serde_json::{json as j, Value};

use crate::helpers::{json, problem, spawn_app, TestApp};

fn item(title: &str) -> Value {
    j!({
        "category": "tin-tuc",
        "title": title,
        "summary": "Tóm tắt",
        "body": "<p>Nội dung</p>",
        "draft": true
    })
}

async fn create(app: &TestApp, token: &str, body: &Value) -> Value {
    json(app.post_as(token, "/api/v1/submissions", body).await, 201).await
}

async fn act(app: &TestApp, token: &str, id: &str, action: &str, note: Option<&str>) -> Response {
    let body = match note {
        Some(n) => j!({"action": action, "note": n}),
        None => j!({"action": action}),
    };
    app.post_as(
        token,
        &format!("/api/v1/submissions/{id}/transitions"),
        &body,
    )
    .await
}

async fn patch(
    app: &TestApp,
    token: &str,
    id: &str,
    if_match: Option<&str>,
    body: &Value,
) -> Response {
    let mut req = app
        .client
        .patch(format!("{}/api/v1/submissions/{id}", app.address))
        .bearer_auth(token)
        .json(body);
    if let Some(tag) = if_match {
        req = req.header("if-match", tag);
    }
    req.send().await.unwrap()
}

async fn public_ids(app: &TestApp, query: &str) -> Vec<String> {
    let page = json(
        app.get(&format!("/api/v1/public/articles{query}")).await,
        200,
    )
    .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect()
}

async fn feed_titles(app: &TestApp, query: &str) -> Vec<String> {
    let response = app.get(&format!("/api/v1/public/feed.atom{query}")).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/atom+xml"));
    let text = response.text().await.unwrap();
    let doc = roxmltree::Document::parse(&text).expect("the feed is well-formed XML");
    let atom = "http://www.w3.org/2005/Atom";
    let root = doc.root_element();
    assert!(root.has_tag_name((atom, "feed")), "{text}");
    for required in ["id", "title", "updated"] {
        assert!(
            root.children().any(|c| c.has_tag_name((atom, required))),
            "feed lacks {required}"
        );
    }
    root.children()
        .filter(|c| c.has_tag_name((atom, "entry")))
        .map(|entry| {
            for required in ["id", "title", "updated"] {
                assert!(
                    entry.children().any(|c| c.has_tag_name((atom, required))),
                    "entry lacks {required}"
                );
            }
            entry
                .children()
                .find(|c| c.has_tag_name((atom, "title")))
                .and_then(|t| t.text())
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// The item is on no public page: not in the list, not in the feed, and its own page is a 404.
async fn assert_not_public(app: &TestApp, id: &str, status: &str) {
    assert!(
        !public_ids(app, "").await.iter().any(|p| p == id),
        "a {status} item is in the public list"
    );
    assert!(
        feed_titles(app, "").await.is_empty(),
        "a {status} item is in the feed"
    );
    let response = app.get(&format!("/api/v1/public/articles/{id}")).await;
    assert_eq!(response.status(), 404, "a {status} item has a public page");
    problem(response, 404, "not_found").await;
}

#[tokio::test]
async fn an_item_walks_the_whole_workflow_and_the_public_side_follows_it() {
    let app = spawn_app().await;
    let officer = app.user("officer", Some("so-khcn")).await;
    let editor = app.user("editor", None).await;
    let created = create(&app, &officer.token, &item("Tuyển dụng viên chức năm 2024")).await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["status"], "draft");
    assert_eq!(created["unit"], "so-khcn");
    assert_not_public(&app, &id, "draft").await;

    let steps = [
        (&officer.token, "submit", None, "submitted"),
        (&editor.token, "start_review", None, "in_review"),
        (
            &editor.token,
            "return",
            Some("Bổ sung số văn bản"),
            "returned",
        ),
        (&officer.token, "submit", None, "submitted"),
        (&editor.token, "publish", None, "published"),
    ];
    for (token, action, note, status) in steps {
        let body = json(act(&app, token, &id, action, note).await, 200).await;
        assert_eq!(body["status"], status, "{action}");
        if status != "published" {
            assert_not_public(&app, &id, status).await;
        }
    }
    assert_eq!(public_ids(&app, "").await, [id.as_str()]);
    assert_eq!(
        feed_titles(&app, "").await,
        ["Tuyển dụng viên chức năm 2024"]
    );
    let article = json(app.get(&format!("/api/v1/public/articles/{id}")).await, 200).await;
    assert!(article.get("author").is_none() && article.get("status").is_none());

    json(
        act(&app, &editor.token, &id, "unpublish", Some("Hết hạn")).await,
        200,
    )
    .await;
    assert!(public_ids(&app, "").await.is_empty());
    assert!(feed_titles(&app, "").await.is_empty());
    problem(
        app.get(&format!("/api/v1/public/articles/{id}")).await,
        404,
        "not_found",
    )
    .await;

    let last = json(act(&app, &editor.token, &id, "publish", None).await, 200).await;
    assert_eq!(last["version"], 8);
    assert_eq!(public_ids(&app, "").await, [id.as_str()]);
    assert_eq!(
        feed_titles(&app, "").await,
        ["Tuyển dụng viên chức năm 2024"]
    );
    json(app.get(&format!("/api/v1/public/articles/{id}")).await, 200).await;

    let history = json(
        app.get_as(&editor.token, &format!("/api/v1/submissions/{id}/history"))
            .await,
        200,
    )
    .await;
    let events: Vec<(String, Value, String, Value)> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["from"].clone(),
                e["to"].as_str().unwrap().to_string(),
                e["note"].clone(),
            )
        })
        .collect();
    let expected = [
        ("create", Value::Null, "draft", Value::Null),
        ("submit", j!("draft"), "submitted", Value::Null),
        ("start_review", j!("submitted"), "in_review", Value::Null),
        (
            "return",
            j!("in_review"),
            "returned",
            j!("Bổ sung số văn bản"),
        ),
        ("submit", j!("returned"), "submitted", Value::Null),
        ("publish", j!("submitted"), "published", Value::Null),
        ("unpublish", j!("published"), "unpublished", j!("Hết hạn")),
        ("publish", j!("unpublished"), "published", Value::Null),
    ];
    assert_eq!(
        events,
        expected
            .iter()
            .map(|(a, f, t, n)| (a.to_string(), f.clone(), t.to_string(), n.clone()))
            .collect::<Vec<_>>()
    );
    let versions: Vec<i64> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, (1..=8).collect::<Vec<_>>());
    assert_eq!(history["revisions"].as_array().unwrap().len(), 1);
    assert!(history["events"][3]["actor"]
        .as_str()
        .unwrap()
        .starts_with("user:"));
}

#[tokio::test]
async fn an_officer_cannot_see_edit_or_move_another_units_items() {
    let app = spawn_app().await;
    let owner = app.user("officer", Some("so-khcn")).await;
    let other = app.user("officer", Some("so-tu-phap")).await;
    let created = create(&app, &owner.token, &item("Nội bộ")).await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/submissions/{id}");
    problem(app.get_as(&other.token, &path).await, 404, "not_found").await;
    problem(
        app.get_as(&other.token, &format!("{path}/history")).await,
        404,
        "not_found",
    )
    .await;
    problem(
        patch(&app, &other.token, id, Some("\"1\""), &j!({"title": "x"})).await,
        404,
        "not_found",
    )
    .await;
    problem(
        act(&app, &other.token, id, "submit", None).await,
        404,
        "not_found",
    )
    .await;
    let list = json(app.get_as(&other.token, "/api/v1/submissions").await, 200).await;
    assert_eq!(list["items"], j!([]));
    let asked = json(
        app.get_as(&other.token, "/api/v1/submissions?unit=so-khcn")
            .await,
        200,
    )
    .await;
    assert_eq!(asked["items"], j!([]));
    let own = json(app.get_as(&owner.token, "/api/v1/submissions").await, 200).await;
    assert_eq!(own["items"].as_array().unwrap().len(), 1);
    // Viewers read published content only, through the public side.
    let viewer = app.user("viewer", None).await;
    problem(app.get_as(&viewer.token, &path).await, 404, "not_found").await;
    problem(
        app.get_as(&viewer.token, "/api/v1/submissions").await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn an_officer_cannot_publish_and_a_wrong_step_lists_the_allowed_ones() {
    let app = spawn_app().await;
    let officer = app.user("officer", Some("so-khcn")).await;
    let editor = app.user("editor", None).await;
    let created = create(&app, &officer.token, &item("Bản tin")).await;
    let id = created["id"].as_str().unwrap();
    problem(
        act(&app, &officer.token, id, "publish", None).await,
        403,
        "forbidden",
    )
    .await;
    let wrong = problem(
        act(&app, &editor.token, id, "publish", None).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(wrong["allowed_actions"], j!(["submit"]));
    json(act(&app, &officer.token, id, "submit", None).await, 200).await;
    let p = problem(
        act(&app, &editor.token, id, "return", None).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "note");
    let p = problem(
        act(&app, &editor.token, id, "return", Some("   ")).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "note");
    json(
        act(&app, &editor.token, id, "reject", Some("Trùng lặp")).await,
        200,
    )
    .await;
    let final_ = problem(
        act(&app, &editor.token, id, "publish", None).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(final_["allowed_actions"], j!([]));
    let unknown = problem(
        act(&app, &editor.token, id, "explode", None).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(unknown["errors"][0]["field"], "action");
}

#[tokio::test]
async fn stored_html_comes_back_without_handlers_or_scripts() {
    let app = spawn_app().await;
    let officer = app.user("officer", Some("so-khcn")).await;
    let mut body = item("Ảnh");
    body["body"] = j!(
        r#"<p>Ảnh <img src=x onerror=alert(1)><script>alert(2)</script><a href="javascript:alert(3)">x</a><a href="https://a.vn">y</a></p>"#
    );
    let created = create(&app, &officer.token, &body).await;
    let id = created["id"].as_str().unwrap();
    let fetched = json(
        app.get_as(&officer.token, &format!("/api/v1/submissions/{id}"))
            .await,
        200,
    )
    .await;
    let html = fetched["body"].as_str().unwrap();
    assert_eq!(
        html,
        created["body"].as_str().unwrap(),
        "what was stored is what is served"
    );
    assert!(
        html.contains(r#"<img src="http://localhost:8080/x">"#),
        "relative addresses are made absolute: {html}"
    );
    assert!(
        !html.contains("onerror") && !html.contains("script") && !html.contains("javascript:"),
        "{html}"
    );
    assert!(html.contains(r#"rel="noopener noreferrer""#), "{html}");
}

#[tokio::test]
async fn new_items_are_checked_field_by_field_and_unit_by_unit() {
    let app = spawn_app().await;
    let officer = app.user("officer", Some("so-khcn")).await;
    let editor = app.user("editor", None).await;
    let bad = j!({
        "category": "tin-tuc", "title": "", "source_url": "javascript:alert(1)",
        "attachments": [{"url": "ftp://x", "title": "Tệp"}]
    });
    let p = problem(
        app.post_as(&officer.token, "/api/v1/submissions", &bad)
            .await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["title", "source_url", "attachments[0].url"]);
    let mut unknown = item("x");
    unknown["category"] = j!("khong-co");
    let p = problem(
        app.post_as(&officer.token, "/api/v1/submissions", &unknown)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "category");
    let mut too_long = item("x");
    too_long["body"] = j!("a".repeat(512 * 1024 + 1));
    let p = problem(
        app.post_as(&officer.token, "/api/v1/submissions", &too_long)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "body");
    let mut wrong_type = item("x");
    wrong_type["event_date"] = j!("hôm qua");
    let p = problem(
        app.post_as(&officer.token, "/api/v1/submissions", &wrong_type)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "event_date");
    // Units: an officer posts for its own, an editor names one, a deactivated one takes nothing.
    let mut elsewhere = item("x");
    elsewhere["unit"] = j!("so-tu-phap");
    problem(
        app.post_as(&officer.token, "/api/v1/submissions", &elsewhere)
            .await,
        403,
        "forbidden",
    )
    .await;
    let p = problem(
        app.post_as(&editor.token, "/api/v1/submissions", &item("x"))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "unit");
    let for_unit = json(
        app.post_as(&editor.token, "/api/v1/submissions", &elsewhere)
            .await,
        201,
    )
    .await;
    assert_eq!(for_unit["unit"], "so-tu-phap");
    let admin = app.admin_token().await;
    json(
        app.patch_as(
            &admin,
            "/api/v1/units/so-khcn",
            &j!({"active": false, "successors": ["so-tu-phap"]}),
        )
        .await,
        200,
    )
    .await;
    let p = problem(
        app.post_as(&officer.token, "/api/v1/submissions", &item("x"))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "unit");
    let viewer = app.user("viewer", None).await;
    problem(
        app.post_as(&viewer.token, "/api/v1/submissions", &item("x"))
            .await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn edits_need_the_current_etag_and_keep_revisions() {
    let app = spawn_app().await;
    let officer = app.user("officer", Some("so-khcn")).await;
    let response = app
        .post_as(&officer.token, "/api/v1/submissions", &item("Bản nháp"))
        .await;
    assert_eq!(response.headers()["etag"], "\"1\"");
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let created = json(response, 201).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(location, format!("/api/v1/submissions/{id}"));
    let change = j!({"title": "Bản sửa", "event_date": "2024-03-05"});
    problem(
        patch(&app, &officer.token, id, None, &change).await,
        428,
        "precondition_required",
    )
    .await;
    problem(
        patch(&app, &officer.token, id, Some("\"7\""), &change).await,
        412,
        "precondition_failed",
    )
    .await;
    let response = patch(&app, &officer.token, id, Some("\"1\""), &change).await;
    assert_eq!(response.headers()["etag"], "\"2\"");
    let edited = json(response, 200).await;
    assert_eq!(edited["title"], "Bản sửa");
    assert_eq!(edited["summary"], "Tóm tắt", "absent fields stay");
    assert_eq!(edited["event_date"], "2024-03-05");
    problem(
        patch(
            &app,
            &officer.token,
            id,
            Some("\"1\""),
            &j!({"title": "Cũ"}),
        )
        .await,
        412,
        "precondition_failed",
    )
    .await;
    let cleared = json(
        patch(
            &app,
            &officer.token,
            id,
            Some("\"2\""),
            &j!({"event_date": null}),
        )
        .await,
        200,
    )
    .await;
    assert!(cleared["event_date"].is_null());
    // Submitted: the unit may no longer edit; the board copy-edits.
    json(act(&app, &officer.token, id, "submit", None).await, 200).await;
    problem(
        patch(&app, &officer.token, id, Some("\"4\""), &j!({"title": "x"})).await,
        409,
        "conflict",
    )
    .await;
    let editor = app.user("editor", None).await;
    let copy = json(
        patch(
            &app,
            &editor.token,
            id,
            Some("\"4\""),
            &j!({"summary": "Đã biên tập"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(copy["version"], 5);
    let history = json(
        app.get_as(&officer.token, &format!("/api/v1/submissions/{id}/history"))
            .await,
        200,
    )
    .await;
    let revisions: Vec<(i64, String)> = history["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["version"].as_i64().unwrap(),
                r["title"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        revisions,
        [
            (1, "Bản nháp".to_string()),
            (2, "Bản sửa".into()),
            (3, "Bản sửa".into()),
            (5, "Bản sửa".into())
        ]
    );
    assert_eq!(history["revisions"][3]["summary"], "Đã biên tập");
}

#[tokio::test]
async fn of_two_concurrent_edits_exactly_one_wins_and_nothing_is_lost() {
    let app = spawn_app().await;
    let officer = app.user("officer", Some("so-khcn")).await;
    let created = create(&app, &officer.token, &item("Gốc")).await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/submissions/{id}");
    let statuses = at_once(
        &app,
        8,
        Method::PATCH,
        path,
        &officer.token,
        Some("\"1\""),
        |i| j!({"title": format!("Sửa {i}")}),
    )
    .await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 412),
        "{statuses:?}"
    );
    let history = json(
        app.get_as(&officer.token, &format!("/api/v1/submissions/{id}/history"))
            .await,
        200,
    )
    .await;
    assert_eq!(history["revisions"].as_array().unwrap().len(), 2);
    let now = json(
        app.get_as(&officer.token, &format!("/api/v1/submissions/{id}"))
            .await,
        200,
    )
    .await;
    assert_eq!(now["version"], 2);
    assert_eq!(now["title"], history["revisions"][1]["title"]);

    // Transitions race the same way: one submit wins, the others are told why.
    let path = format!("/api/v1/submissions/{id}/transitions");
    let statuses = at_once(
        &app,
        6,
        Method::POST,
        path,
        &officer.token,
        None,
        |_| j!({"action": "submit"}),
    )
    .await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [200, 409, 412].contains(s)),
        "{statuses:?}"
    );
}

/// Sends the same request `n` times at once; returns the statuses.
async fn at_once(
    app: &TestApp,
    n: usize,
    method: Method,
    path: String,
    token: &str,
    if_match: Option<&str>,
    body: impl Fn(usize) -> Value,
) -> Vec<u16> {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        let mut req = app
            .client
            .request(method.clone(), format!("{}{path}", app.address))
            .bearer_auth(token)
            .json(&body(i));
        if let Some(tag) = if_match {
            req = req.header("if-match", tag);
        }
        set.spawn(async move { req.send().await.unwrap().status().as_u16() });
    }
    set.join_all().await
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    let app = spawn_app().await;
    let (_, client_id, secret) = app.client_for("so-khcn").await;
    let token = json(app.client_token(&client_id, &secret).await, 200).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let send = |body: Value, key: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            app.client
                .post(format!("{}/api/v1/submissions", app.address))
                .bearer_auth(token)
                .header("idempotency-key", key)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let first = json(send(item("Một lần"), "key-1").await, 201).await;
    let again = send(item("Một lần"), "key-1").await;
    assert_eq!(
        again.headers()["location"],
        format!("/api/v1/submissions/{}", first["id"].as_str().unwrap())
    );
    let again = json(again, 201).await;
    assert_eq!(again["id"], first["id"]);
    let list = json(app.get_as(&token, "/api/v1/submissions").await, 200).await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "a replay creates nothing"
    );
    problem(
        send(item("Khác"), "key-1").await,
        422,
        "idempotency_key_reused",
    )
    .await;
    // Another key is another request.
    let other = json(send(item("Một lần"), "key-2").await, 201).await;
    assert_ne!(other["id"], first["id"]);
    // A failed request frees its key for a corrected retry.
    let mut bad = item("");
    bad["title"] = j!("");
    problem(send(bad, "key-3").await, 422, "validation_failed").await;
    json(send(item("Sửa lại"), "key-3").await, 201).await;
    // A retry while the first request with the key is still running.
    let me = json(app.get_as(&token, "/api/v1/auth/me").await, 200).await;
    let subject = me["subject"].as_str().unwrap();
    let now = chrono::Utc::now().naive_utc().format("%Y-%m-%d %H:%M:%S");
    app.db.execute(&format!(
        "INSERT INTO idempotency_keys (principal, key, request_hash, state, created_at) \
         VALUES ('{subject}', 'key-4', 'x', 'in_progress', '{now}')"
    ));
    problem(send(item("Đang chạy"), "key-4").await, 409, "conflict").await;
    problem(send(item("x"), "").await, 400, "invalid_parameter").await;
}

#[tokio::test]
async fn search_finds_words_with_or_without_diacritics() {
    let app = spawn_app().await;
    let editor = app.user("editor", None).await;
    let mut ids = Vec::new();
    for (unit, title) in [
        ("so-noi-vu", "Thông báo tuyển dụng công chức"),
        ("tp-dong-xoai", "Lễ hội ở Đồng Xoài"),
        ("so-khcn", "Kết quả nghiên cứu"),
    ] {
        let mut body = item(title);
        body["unit"] = j!(unit);
        body["draft"] = j!(false);
        let created = create(&app, &editor.token, &body).await;
        let id = created["id"].as_str().unwrap().to_string();
        json(act(&app, &editor.token, &id, "publish", None).await, 200).await;
        ids.push(id);
    }
    assert_eq!(public_ids(&app, "?q=tuyen%20dung").await, [ids[0].clone()]);
    assert_eq!(
        public_ids(&app, "?q=Tuy%E1%BB%83n%20D%E1%BB%A5ng").await,
        [ids[0].clone()]
    );
    assert_eq!(public_ids(&app, "?q=dong%20xoai").await, [ids[1].clone()]);
    assert_eq!(
        public_ids(&app, "?q=%C4%90%E1%BB%93ng%20Xo%C3%A0i").await,
        [ids[1].clone()]
    );
    assert!(
        public_ids(&app, "?q=tuyen%20xoai").await.is_empty(),
        "all words must match"
    );
    assert!(
        public_ids(&app, "?q=%27%3B%20DROP%20TABLE%20submissions%3B--")
            .await
            .is_empty()
    );
    assert!(public_ids(&app, "?q=%22%22%22").await.is_empty());
    assert_eq!(public_ids(&app, "?unit=so-khcn").await, [ids[2].clone()]);
    let staff = json(
        app.get_as(&editor.token, "/api/v1/submissions?q=nghien%20cuu")
            .await,
        200,
    )
    .await;
    assert_eq!(staff["items"][0]["id"], ids[2].as_str());
    assert_eq!(
        feed_titles(&app, "?unit=tp-dong-xoai").await,
        ["Lễ hội ở Đồng Xoài"]
    );
    // Drafts are found by staff.
    let draft = {
        let mut body = item("Bản nháp về giao thông");
        body["unit"] = j!("so-khcn");
        create(&app, &editor.token, &body).await
    };
    let id = draft["id"].as_str().unwrap();
    assert_eq!(
        json(
            app.get_as(&editor.token, "/api/v1/submissions?q=giao%20thong")
                .await,
            200
        )
        .await["items"][0]["id"],
        id
    );
}

#[tokio::test]
async fn the_staff_list_pages_stably_while_new_items_arrive() {
    let app = spawn_app().await;
    let officer = app.user("officer", Some("so-khcn")).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            create(&app, &officer.token, &item(&format!("Tin {i}"))).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let first = json(
        app.get_as(&officer.token, "/api/v1/submissions?limit=2")
            .await,
        200,
    )
    .await;
    let page_ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(page_ids(&first), [ids[4].clone(), ids[3].clone()]);
    create(&app, &officer.token, &item("Tin mới")).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = json(
        app.get_as(
            &officer.token,
            &format!("/api/v1/submissions?limit=2&cursor={cursor}"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(page_ids(&second), [ids[2].clone(), ids[1].clone()]);
    let cursor = second["next_cursor"].as_str().unwrap();
    let third = json(
        app.get_as(
            &officer.token,
            &format!("/api/v1/submissions?limit=2&cursor={cursor}"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(page_ids(&third), [ids[0].clone()]);
    assert!(third["next_cursor"].is_null());
    let drafts = json(
        app.get_as(&officer.token, "/api/v1/submissions?status=draft&limit=100")
            .await,
        200,
    )
    .await;
    assert_eq!(drafts["items"].as_array().unwrap().len(), 6);
    let none = json(
        app.get_as(&officer.token, "/api/v1/submissions?status=published")
            .await,
        200,
    )
    .await;
    assert_eq!(none["items"], j!([]));
    problem(
        app.get_as(&officer.token, "/api/v1/submissions?status=lost")
            .await,
        400,
        "invalid_parameter",
    )
    .await;
    problem(
        app.get_as(
            &officer.token,
            "/api/v1/submissions?from=2024-05-01&to=2024-04-01",
        )
        .await,
        400,
        "invalid_parameter",
    )
    .await;
    let today = chrono::Utc::now().date_naive();
    let dated = json(
        app.get_as(
            &officer.token,
            &format!(
                "/api/v1/submissions?from={}&limit=100",
                today.pred_opt().unwrap()
            ),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(dated["items"].as_array().unwrap().len(), 6);
    let old = json(
        app.get_as(&officer.token, "/api/v1/submissions?to=2020-01-01")
            .await,
        200,
    )
    .await;
    assert_eq!(old["items"], j!([]));
}

#[tokio::test]
async fn a_method_missing_or_unknown_id_answers_a_problem() {
    let app = spawn_app().await;
    let editor = app.user("editor", None).await;
    problem(
        app.get_as(&editor.token, "/api/v1/submissions/nope").await,
        404,
        "not_found",
    )
    .await;
    problem(
        app.request(
            Method::DELETE,
            "/api/v1/submissions/nope",
            Some(&editor.token),
            None,
        )
        .await,
        405,
        "method_not_allowed",
    )
    .await;
}

#[tokio::test]
async fn the_public_list_is_reused_briefly_and_renewed_at_once_on_publish() {
    let app = crate::helpers::spawn_app_with(&[("PORTAL_PUBLIC_CACHE_MS", "60000")]).await;
    let officer = app.user("officer", Some("so-khcn")).await;
    let editor = app.user("editor", None).await;
    let first = create(&app, &officer.token, &item("Bản tin thứ nhất")).await;
    let first = first["id"].as_str().unwrap();
    json(act(&app, &officer.token, first, "submit", None).await, 200).await;
    json(act(&app, &editor.token, first, "publish", None).await, 200).await;
    assert_eq!(public_ids(&app, "").await, vec![first.to_string()]);

    // Changed behind the service's back: the reused page does not show it yet...
    app.db.execute(&format!(
        "UPDATE submissions SET title = 'Đổi ngầm' WHERE id = '{first}'"
    ));
    let page = json(app.get("/api/v1/public/articles").await, 200).await;
    assert_eq!(page["items"][0]["title"], "Bản tin thứ nhất");
    // ...a publication through the service renews it at once.
    let second = create(&app, &officer.token, &item("Bản tin thứ hai")).await;
    let second = second["id"].as_str().unwrap();
    json(act(&app, &officer.token, second, "submit", None).await, 200).await;
    json(act(&app, &editor.token, second, "publish", None).await, 200).await;
    let page = json(app.get("/api/v1/public/articles").await, 200).await;
    assert_eq!(page["items"][0]["title"], "Bản tin thứ hai");
    assert_eq!(page["items"][1]["title"], "Đổi ngầm");
    // Unpublishing renews it too.
    json(
        act(&app, &editor.token, second, "unpublish", Some("Sai sót")).await,
        200,
    )
    .await;
    assert_eq!(public_ids(&app, "").await, vec![first.to_string()]);
}
