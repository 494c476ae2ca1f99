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

/// A made-up method of `len` random bytes, distinct per `n`. Only token characters that the
/// HTTP parser takes: it refuses `#$%&'` with a 400 before the service sees the request.
fn made_up_method(n: usize, len: usize) -> reqwest::Method {
    use rand::Rng;
    const TCHAR: &[u8] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-.^_`|~";
    let mut rng = rand::rng();
    let mut name = format!("M{n:05}").into_bytes();
    name.extend((name.len()..len).map(|_| TCHAR[rng.random_range(0..TCHAR.len())]));
    reqwest::Method::from_bytes(&name).expect("a token")
}

#[tokio::test]
async fn made_up_methods_and_paths_do_not_grow_the_metrics() {
    let app = spawn_app().await;
    let mut sent = 0;
    while sent < 2000 {
        let mut batch = tokio::task::JoinSet::new();
        for n in sent..sent + 50 {
            let client = app.client.clone();
            let url = format!("{}/api/v1/units", app.address);
            let method = made_up_method(n, 2048);
            batch.spawn(async move { client.request(method, url).send().await });
        }
        while let Some(answer) = batch.join_next().await {
            let status = answer.unwrap().expect("answered").status();
            assert!(status.is_client_error(), "{status}");
        }
        sent += 50;
    }
    let unknown = uuid::Uuid::new_v4().simple().to_string();
    for path in [
        format!("/nowhere/{unknown}"),
        format!("/api/v1/{unknown}"),
        format!("/api/v1/units/{unknown}/{unknown}"),
    ] {
        assert_eq!(app.get(&path).await.status(), 404, "{path}");
    }
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(text.len() < 100 * 1024, "{} bytes", text.len());
    assert!(
        text.contains(r#"method="OTHER",route="/api/v1/units""#),
        "{text}"
    );
    assert!(
        text.contains(r#"method="GET",route="unmatched",status="404"} 3"#),
        "{text}"
    );
    assert!(
        !text.contains("M00001") && !text.contains(&unknown),
        "{text}"
    );
}
