use crate::helpers::{json, problem, spawn_app};

#[tokio::test]
async fn live_answers_ok() {
    let app = spawn_app().await;
    let body = json(app.get("/health/live").await, 200).await;
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn ready_answers_ok_while_the_database_answers() {
    let app = spawn_app().await;
    let body = json(app.get("/health/ready").await, 200).await;
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn ready_answers_a_503_problem_when_the_database_is_gone() {
    let app = spawn_app().await;
    json(app.get("/health/ready").await, 200).await;
    app.db.destroy();
    let body = problem(app.get("/health/ready").await, 503, "service_unavailable").await;
    // The cause stays in the log: no URL, path or driver message in the answer.
    let detail = body["detail"].as_str().unwrap();
    assert!(
        !detail.contains("portal_test") && !detail.contains("/tmp"),
        "{detail}"
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    for path in ["/health/live", "/api/v1/units", "/nowhere"] {
        let response = app.get(path).await;
        let id = response
            .headers()
            .get("x-request-id")
            .expect("x-request-id");
        assert_eq!(id.len(), 36, "{path}: {id:?}");
    }
}

#[tokio::test]
async fn a_plain_incoming_request_id_is_kept_and_a_forged_one_replaced() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/health/live", app.address))
        .header("x-request-id", "lb-1234.abc")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "lb-1234.abc");
    let response = app
        .client
        .get(format!("{}/health/live", app.address))
        .header("x-request-id", "evil\" status=500")
        .send()
        .await
        .unwrap();
    assert_ne!(response.headers()["x-request-id"], "evil\" status=500");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_show_the_pool() {
    let app = spawn_app().await;
    json(app.get("/api/v1/units/so-khcn").await, 200).await;
    json(app.get("/api/v1/units/vp-ubnd").await, 200).await;
    problem(app.get("/api/v1/units/none").await, 404, "not_found").await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = response.text().await.unwrap();
    assert!(
        text.contains(
            r#"http_requests_total{method="GET",route="/api/v1/units/{code}",status="200"} 2"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"http_requests_total{method="GET",route="/api/v1/units/{code}",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(
        r#"http_request_duration_seconds_count{method="GET",route="/api/v1/units/{code}"} 3"#
    ));
    assert!(text.contains("db_pool_connections{state=\"in_use\"}"));
    assert!(
        !text.contains("so-khcn"),
        "raw paths must not become series"
    );
}

/// Sends one raw request and reads the whole answer (the connection is closed after it).
async fn raw(address: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn head_is_answered_wherever_get_is_without_a_body() {
    let app = spawn_app().await;
    for path in ["/health/live", "/api/v1/units", "/api/v1/public/articles"] {
        let answer = raw(
            &app.address,
            &format!("HEAD {path} HTTP/1.1\r\nHost: portal\r\nConnection: close\r\n\r\n"),
        )
        .await;
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{path}: {head}");
        assert!(
            head.to_ascii_lowercase().contains("x-frame-options: deny"),
            "{path}: {head}"
        );
        assert!(body.is_empty(), "{path}: a body came with HEAD: {body:?}");
    }
    // A path that has no GET still answers 405 to HEAD, naming what it has.
    let answer = raw(
        &app.address,
        "HEAD /api/v1/auth/token HTTP/1.1\r\nHost: portal\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("allow: post"),
        "{answer}"
    );
    // The metrics count it as HEAD.
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("method=\"HEAD\",route=\"/health/live\",status=\"200\""),
        "{metrics}"
    );
}
