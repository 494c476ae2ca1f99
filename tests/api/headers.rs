//! Security headers: framing, referrers and content security policy, with the API explorer
//! rendered in a real browser under it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;

use crate::helpers::spawn_app;

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
