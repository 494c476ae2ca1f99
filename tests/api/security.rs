use crate::helpers::{held_connection, spawn_app, spawn_app_with};

#[tokio::test]
async fn every_answer_says_nosniff_and_names_no_server_software() {
    let app = spawn_app().await;
    for path in ["/api/v1/units", "/nowhere", "/health/live", "/docs/"] {
        let response = app.get(path).await;
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
        assert!(!response.headers().contains_key("server"), "{path}");
    }
}

#[tokio::test]
async fn cross_origin_requests_are_off_by_default() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/api/v1/units", app.address))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(!response
        .headers()
        .contains_key("access-control-allow-origin"));
    let preflight = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/submissions", app.address),
        )
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(!preflight
        .headers()
        .contains_key("access-control-allow-origin"));
    assert!(preflight.status().is_client_error());
}

#[tokio::test]
async fn listed_origins_get_cors_answers_and_others_do_not() {
    let app = spawn_app_with(&[(
        "PORTAL_CORS_ORIGINS",
        "https://portal.binhphuoc.example, https://app.example/",
    )])
    .await;
    let preflight = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/submissions", app.address),
        )
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(allowed.contains("authorization") && allowed.contains("idempotency-key"));
    let response = app
        .client
        .get(format!("{}/api/v1/units", app.address))
        .header("origin", "https://portal.binhphuoc.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://portal.binhphuoc.example"
    );
    assert!(response.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .contains("etag"));
    let other = app
        .client
        .get(format!("{}/api/v1/units", app.address))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn connections_over_the_limit_wait_until_one_closes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(&[("PORTAL_MAX_CONNECTIONS", "2")]).await;
    let first = held_connection(&app.address).await;
    let _second = held_connection(&app.address).await;
    let mut third = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    third
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: portal\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let waited = tokio::time::timeout(
        std::time::Duration::from_millis(500),
        third.read_to_end(&mut answer),
    )
    .await;
    assert!(
        waited.is_err(),
        "a third connection was served while two were open"
    );
    drop(first);
    third.read_to_end(&mut answer).await.unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
}
