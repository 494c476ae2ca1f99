//! Security headers: framing, referrers, content security policy (the API explorer rendered in
//! a real browser under it) and `Cache-Control` on personal answers.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json as j;

use crate::helpers::{json, problem, spawn_app, ADMIN_PASSWORD};

/// Set in CI: a missing Chromium fails the browser test instead of skipping it.
const REQUIRE_CHROMIUM: &str = "PORTAL_TEST_REQUIRE_CHROMIUM";

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("a text header"))
}

#[tokio::test]
async fn every_answer_refuses_framing_and_sends_no_referrer() {
    let app = spawn_app().await;
    let made_up = Method::from_bytes(b"BREW").unwrap();
    let answers = [
        app.get("/api/v1/units").await,
        app.get("/nowhere").await,
        app.get("/api/v1/users").await,
        app.get("/docs/").await,
        app.get("/docs/swagger-ui.css").await,
        app.get("/openapi.json").await,
        app.get("/metrics").await,
        app.request(made_up, "/api/v1/units", None, None).await,
        app.get("/api/v1/units/%FF").await,
    ];
    for response in &answers {
        let url = response.url().path();
        assert_eq!(header(response, "x-frame-options"), Some("DENY"), "{url}");
        assert_eq!(
            header(response, "referrer-policy"),
            Some("no-referrer"),
            "{url}"
        );
        assert_eq!(
            header(response, "x-content-type-options"),
            Some("nosniff"),
            "{url}"
        );
        let csp = header(response, "content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{url}: {csp}");
    }
}

#[tokio::test]
async fn the_explorer_has_a_strict_content_security_policy() {
    let app = spawn_app().await;
    let docs = app.get("/docs/").await;
    assert_eq!(docs.status(), 200);
    let csp = header(&docs, "content-security-policy")
        .unwrap()
        .to_string();
    for directive in [
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "img-src 'self' data:",
    ] {
        assert!(csp.contains(directive), "{directive} is not in {csp}");
    }
    assert!(!csp.contains("unsafe-"), "{csp}");
    assert!(!csp.contains('*'), "{csp}");

    // Everything else loads nothing at all.
    let api = app.get("/api/v1/units").await;
    assert_eq!(
        header(&api, "content-security-policy"),
        Some("default-src 'none'; frame-ancestors 'none'")
    );
}

/// Chromium (or Chrome) on the `PATH`, if any.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| {
            [
                "chromium",
                "chromium-browser",
                "google-chrome",
                "google-chrome-stable",
            ]
            .map(|name| dir.join(name))
        })
        .find(|candidate| candidate.is_file())
}

/// What a headless browser made of a page: the DOM after scripts ran, and its log (console
/// messages, Content Security Policy reports).
struct Rendered {
    dom: String,
    log: String,
}

/// Loads `url` in headless Chromium, lets its scripts run for up to 15 s of virtual time and
/// dumps the DOM.
fn render(browser: &Path, url: &str) -> Rendered {
    let dir = std::env::temp_dir().join(format!("portal-chromium-{}", uuid::Uuid::new_v4()));
    let profile = dir.join("profile");
    std::fs::create_dir_all(&profile).expect("a profile folder");
    let file = |name: &str| std::fs::File::create(dir.join(name)).expect("an output file");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=15000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", url])
        .stdin(Stdio::null())
        .stdout(file("dom.html"))
        .stderr(file("log.txt"))
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("chromium's status") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish rendering {url} in 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    let rendered = Rendered {
        dom: read("dom.html"),
        log: read("log.txt"),
    };
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.success(), "chromium: {status}\n{}", rendered.log);
    rendered
}

/// The lines of a browser log that report something the Content Security Policy blocked.
fn csp_reports(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| line.contains("Refused to") || line.contains("Content Security Policy"))
        .collect()
}

#[tokio::test]
async fn the_explorer_renders_in_a_browser_under_its_policy() {
    let Some(browser) = chromium() else {
        if std::env::var_os(REQUIRE_CHROMIUM).is_some_and(|v| !v.is_empty()) {
            panic!("{REQUIRE_CHROMIUM} is set but no chromium is on the PATH");
        }
        eprintln!(
            "SKIPPED the_explorer_renders_in_a_browser_under_its_policy: chromium is not \
             installed (apt-get install --no-install-recommends chromium); set \
             {REQUIRE_CHROMIUM}=1 to make this a failure"
        );
        return;
    };
    let app = spawn_app().await;
    let url = format!("{}/docs/", app.address);
    let browser_ = browser.clone();
    let page = tokio::task::spawn_blocking(move || render(&browser_, &url))
        .await
        .unwrap();
    let reports = csp_reports(&page.log);
    assert!(reports.is_empty(), "blocked by the policy:\n{reports:#?}");
    assert!(
        page.dom.contains("class=\"opblock opblock-get")
            && page.dom.contains("data-path=\"/api/v1/units\"")
            && page.dom.contains("data-path=\"/api/v1/questions\""),
        "the operations were not rendered:\n{}\n{}",
        page.dom,
        page.log
    );
    // The document's description, rendered from /openapi.json.
    assert!(page.dom.contains("RFC 9457"), "{}", page.dom);

    // The check above can fail: the same browser does report what a policy blocks.
    let control = tokio::task::spawn_blocking(move || {
        render(
            &browser,
            "data:text/html,<meta http-equiv=\"Content-Security-Policy\" \
             content=\"default-src 'self'\"><style>p{color:red}</style><p>x</p>",
        )
    })
    .await
    .unwrap();
    assert!(
        !csp_reports(&control.log).is_empty(),
        "chromium's log shows no blocked inline style:\n{}",
        control.log
    );
}

/// The `Cache-Control` of an answer, if any.
fn cache_control(response: &reqwest::Response) -> Option<String> {
    let values: Vec<_> = response
        .headers()
        .get_all("cache-control")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

async fn no_store(response: reqwest::Response, status: u16) -> reqwest::Response {
    let url = response.url().path().to_string();
    assert_eq!(response.status(), status, "{url}");
    assert_eq!(
        cache_control(&response).as_deref(),
        Some("no-store"),
        "{url}"
    );
    response
}

#[tokio::test]
async fn authenticated_answers_are_not_stored() {
    let app = spawn_app().await;
    let login = no_store(app.login("admin", ADMIN_PASSWORD).await, 200).await;
    let token = json(login, 200).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let me = no_store(app.get_as(&token, "/api/v1/auth/me").await, 200).await;
    assert_eq!(json(me, 200).await["role"], "admin");
    // A credential makes any answer personal, even on a public address.
    no_store(app.get_as(&token, "/api/v1/units").await, 200).await;
    no_store(app.get_as(&token, "/api/v1/users").await, 200).await;
    no_store(app.get_as(&token, "/api/v1/clients").await, 200).await;
    no_store(app.get_as("not-a-token", "/api/v1/submissions").await, 401).await;
    // Errors of the personal areas too, with or without a credential.
    let refused = no_store(app.get("/api/v1/users").await, 401).await;
    problem(refused, 401, "unauthorized").await;
    no_store(app.get("/api/v1/clients").await, 401).await;
    no_store(app.get("/api/v1/auth/me").await, 401).await;
    no_store(app.login("admin", "wrong password").await, 401).await;
    no_store(app.get_as(&token, "/api/v1/users/nobody").await, 404).await;
}

#[tokio::test]
async fn a_question_and_its_tracking_page_are_not_stored() {
    let app = spawn_app().await;
    let body = j!({
        "title": "Thủ tục cấp giấy phép",
        "body": "Xin hỏi thủ tục và thời hạn giải quyết như thế nào?",
        "category": "thu-tuc-hanh-chinh",
        "asker": { "name": "Nguyễn Văn An", "email": "an.nguyen@example.vn" },
        "publish_consent": false
    });
    let asked = app
        .request(Method::POST, "/api/v1/questions", None, Some(&body))
        .await;
    let asked = json(no_store(asked, 201).await, 201).await;
    let code = asked["tracking_code"].as_str().unwrap();
    let key = asked["access_key"].as_str().unwrap();
    let tracked = app
        .client
        .get(format!("{}/api/v1/tracking/{code}", app.address))
        .header("x-access-key", key)
        .send()
        .await
        .unwrap();
    let tracked = json(no_store(tracked, 200).await, 200).await;
    assert_eq!(tracked["tracking_code"], code);
    let by_query = app.get(&format!("/api/v1/tracking/{code}?key={key}")).await;
    no_store(by_query, 200).await;
    no_store(app.get(&format!("/api/v1/tracking/{code}")).await, 404).await;
    let refused = app
        .request(Method::POST, "/api/v1/questions", None, Some(&j!({})))
        .await;
    no_store(refused, 422).await;
}

#[tokio::test]
async fn anonymous_public_reads_carry_no_cache_control() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/units",
        "/api/v1/categories",
        "/api/v1/public/articles",
        "/api/v1/public/questions",
        "/api/v1/calendar/holidays",
        "/openapi.json",
        "/docs/",
        "/health/live",
        "/metrics",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(cache_control(&response), None, "{path}");
    }
}
