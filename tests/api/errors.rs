use reqwest::Method;

use crate::helpers::{json, problem, spawn_app};

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = spawn_app().await;
    problem(app.get("/api/v1/nothing-here").await, 404, "not_found").await;
    problem(app.get("/favicon.ico").await, 404, "not_found").await;
}

#[tokio::test]
async fn a_method_the_route_does_not_take_is_a_405_problem() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        (reqwest::Method::POST, "/api/v1/calendar/deadline", "GET"),
        (reqwest::Method::POST, "/health/live", "GET"),
        (reqwest::Method::DELETE, "/api/v1/units", "GET, POST"),
        (reqwest::Method::PUT, "/api/v1/auth/token", "POST"),
    ] {
        let response = app
            .client
            .request(method, format!("{}{path}", app.address))
            .header("content-type", "application/json")
            .body("{this is not json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{path}");
        assert_eq!(response.headers()["allow"], allow, "{path}");
        problem(response, 405, "method_not_allowed").await;
    }
}

const OPENAPI: &str = include_str!("../../openapi/openapi.json");

/// Every POST, PUT and PATCH operation of the committed document that takes a JSON body, sent
/// `{not json` as `application/json` by the admin, to a path naming things that exist: a 400
/// `malformed_json` problem, never a server error, and nothing is changed.
#[tokio::test]
async fn a_body_that_is_not_json_is_a_400_problem_on_every_write() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let officer = app.user("officer", Some("so-khcn")).await;
    let submission = json(
        app.post_as(
            &officer.token,
            "/api/v1/submissions",
            &serde_json::json!({"category": "tin-tuc", "title": "Tin", "draft": true}),
        )
        .await,
        201,
    )
    .await;
    let question = json(
        app.request(
            Method::POST,
            "/api/v1/questions",
            None,
            Some(&serde_json::json!({
                "title": "Hỏi", "body": "Nội dung", "publish_consent": false,
                "asker": {"name": "Trần Thị Bình", "phone": "0912345678"}
            })),
        )
        .await,
        201,
    )
    .await;
    let tracking_code = question["tracking_code"].as_str().unwrap();
    let key = question["access_key"].as_str().unwrap();
    let questions = json(app.get_as(&admin, "/api/v1/questions").await, 200).await;
    let question_id = questions["items"][0]["id"].as_str().unwrap().to_string();
    let obligations = json(app.get_as(&admin, "/api/v1/obligations").await, 200).await;
    let obligation_id = obligations["items"][0]["id"].to_string();
    let users = json(app.get_as(&admin, "/api/v1/users").await, 200).await;
    let user_id = users["items"][0]["id"].as_str().unwrap().to_string();
    let submission_id = submission["id"].as_str().unwrap().to_string();
    let webhook = json(
        app.post_as(
            &admin,
            "/api/v1/webhooks",
            &serde_json::json!({"url": "https://203.0.113.10/hook", "events": ["*"]}),
        )
        .await,
        201,
    )
    .await;
    let webhook_id = webhook["id"].as_str().unwrap().to_string();

    let counts = |app: &crate::helpers::TestApp| {
        [
            "submissions",
            "questions",
            "question_replies",
            "users",
            "api_clients",
            "units",
            "categories",
            "obligations",
            "holidays",
            "login_failures",
            "webhooks",
        ]
        .map(|t| app.db.count(&format!("SELECT count(*) AS n FROM {t}")))
    };
    let before = counts(&app);

    let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
    let mut sent = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        for method in ["post", "put", "patch"] {
            let Some(op) = item.get(method) else { continue };
            if op["requestBody"]["content"]
                .get("application/json")
                .is_none()
            {
                continue;
            }
            let id = if template.starts_with("/api/v1/submissions/") {
                submission_id.as_str()
            } else if template.starts_with("/api/v1/questions/") {
                question_id.as_str()
            } else if template.starts_with("/api/v1/obligations/") {
                obligation_id.as_str()
            } else if template.starts_with("/api/v1/users/") {
                user_id.as_str()
            } else if template.starts_with("/api/v1/webhooks/") {
                webhook_id.as_str()
            } else {
                "{id}"
            };
            let code = if template.starts_with("/api/v1/categories/") {
                "tin-tuc"
            } else {
                "so-khcn"
            };
            let path = template
                .replace("{id}", id)
                .replace("{code}", code)
                .replace("{date}", "2024-02-10")
                .replace("{tracking_code}", tracking_code);
            assert!(!path.contains('{'), "no value for a parameter of {path}");
            let url = if path.starts_with("/api/v1/tracking/") {
                format!("{}{path}?key={key}", app.address)
            } else {
                format!("{}{path}", app.address)
            };
            let response = app
                .client
                .request(method.to_uppercase().parse().unwrap(), url)
                .bearer_auth(&admin)
                .header("content-type", "application/json")
                .header("if-match", "\"1\"")
                .body("{not json")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{method} {template}");
            let body = problem(response, 400, "malformed_json").await;
            assert!(
                body["detail"].as_str().unwrap().contains("not valid JSON"),
                "{method} {template}: {body}"
            );
            sent.push(format!("{method} {template}"));
        }
    }
    // 18 operations take a JSON body today; every one was sent.
    assert!(sent.len() >= 18, "only {sent:?}");
    assert!(sent.contains(&"post /api/v1/auth/token".to_string()));
    assert!(sent.contains(&"put /api/v1/calendar/holidays/{date}".to_string()));
    assert!(sent.contains(&"patch /api/v1/submissions/{id}".to_string()));
    assert_eq!(counts(&app), before, "nothing was written");
    let unchanged = json(
        app.get_as(
            &officer.token,
            &format!("/api/v1/submissions/{submission_id}"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(unchanged["version"], submission["version"]);
}
