//! The citizens' tracking page, `/tra-cuu/{code}?key=…`: HTML over HTTP, and the same page
//! in headless Chromium driven through WebDriver (chromedriver).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use reqwest::Response;
use serde_json::{json as j, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{json, spawn_app, TestApp};

/// Set in CI: a missing Chromium or chromedriver fails the browser test instead of skipping it.
const REQUIRE_CHROMIUM: &str = "PORTAL_TEST_REQUIRE_CHROMIUM";
/// Where the browser test leaves `tracking-page.png`, when set.
const SCREENSHOT_DIR: &str = "PORTAL_SCREENSHOT_DIR";

const ANSWER: &str = "Hồ sơ gồm đơn đề nghị và bản vẽ thiết kế; thời hạn giải quyết 15 ngày.";
const NOT_FOUND: &str = "Không tìm thấy câu hỏi với mã và mã truy cập này";

/// A question asked through the API: (tracking code, access key, due date as `dd/mm/yyyy`).
async fn ask(app: &TestApp, title: &str) -> (String, String, String) {
    let body = j!({
        "title": title,
        "body": "Xin hỏi thủ tục cấp giấy phép xây dựng nhà ở riêng lẻ gồm những gì?",
        "category": "thu-tuc-hanh-chinh",
        "asker": { "name": "Trần Thị Bình", "email": "binh.tran@example.vn" },
        "publish_consent": false
    });
    let asked = app
        .request(
            reqwest::Method::POST,
            "/api/v1/questions",
            None,
            Some(&body),
        )
        .await;
    let asked = json(asked, 201).await;
    // `2024-03-04T23:59:59+07:00`: the day in Vietnam, as the page writes it.
    let due = asked["due_at"].as_str().unwrap();
    let (y, m, d) = (&due[0..4], &due[5..7], &due[8..10]);
    (
        asked["tracking_code"].as_str().unwrap().to_string(),
        asked["access_key"].as_str().unwrap().to_string(),
        format!("{d}/{m}/{y}"),
    )
}

/// Staff route the question to `so-xay-dung` and, when `answer` is given, an officer there
/// answers it.
async fn route_and_answer(app: &TestApp, code: &str, answer: Option<&str>) {
    let editor = app.user("editor", None).await;
    let id = app.question_id(&editor.token, code).await;
    let path = format!("/api/v1/questions/{id}");
    let assign = j!({"action": "assign", "unit": "so-xay-dung"});
    let routed = app
        .post_as(&editor.token, &format!("{path}/transitions"), &assign)
        .await;
    json(routed, 200).await;
    if let Some(answer) = answer {
        let officer = app.user("officer", Some("so-xay-dung")).await;
        let replied = app
            .post_as(
                &officer.token,
                &format!("{path}/replies"),
                &j!({ "body": answer }),
            )
            .await;
        json(replied, 201).await;
    }
}

/// The tracking link of the receipt written to `dir`, pointed at the test service (the mail
/// says `PORTAL_PUBLIC_BASE_URL`, which is `http://localhost:8080` here).
async fn receipt_link(app: &TestApp, dir: &std::path::Path) -> String {
    mailed_link(app, dir, "-receipt.eml").await
}

/// The tracking link of the first message written to `dir` whose file name ends in `suffix`.
async fn mailed_link(app: &TestApp, dir: &std::path::Path, suffix: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let file = loop {
        let found = std::fs::read_dir(dir).ok().and_then(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .find(|p| p.to_string_lossy().ends_with(suffix))
        });
        if let Some(file) = found {
            break file;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {suffix} in {dir:?}"
        );
        tokio::task::yield_now().await;
    };
    let message = std::fs::read_to_string(file).expect("the message is plain text");
    let base = "http://localhost:8080";
    let at = message
        .find(&format!("{base}/tra-cuu/"))
        .expect("a tracking link");
    let link = message[at + base.len()..]
        .split_whitespace()
        .next()
        .unwrap();
    format!("{}{link}", app.address)
}

/// The link a citizen follows to the page.
fn tracking_link(app: &TestApp, code: &str, key: &str) -> String {
    format!("{}/tra-cuu/{code}?key={key}", app.address)
}

async fn get(app: &TestApp, url: &str) -> Response {
    app.client.get(url).send().await.expect("request sent")
}

/// Posts the rating form as a browser does.
async fn post_form(app: &TestApp, code: &str, fields: &[(&str, &str)]) -> Response {
    app.client
        .post(format!("{}/tra-cuu/{code}", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(fields))
        .send()
        .await
        .expect("request sent")
}

fn form(fields: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

fn header<'a>(response: &'a Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

/// Asserts the status and that the answer is a page (never a JSON problem); its text.
async fn page(response: Response, status: u16) -> String {
    let url = response.url().path().to_string();
    assert_eq!(response.status(), status, "{url}");
    assert_eq!(
        header(&response, "content-type"),
        "text/html; charset=utf-8",
        "{url}"
    );
    response.text().await.unwrap()
}

/// The tracking API's view of the question.
async fn tracked(app: &TestApp, code: &str, key: &str) -> Value {
    let response = app
        .client
        .get(format!("{}/api/v1/tracking/{code}", app.address))
        .header("x-access-key", key)
        .send()
        .await
        .unwrap();
    json(response, 200).await
}

#[tokio::test]
async fn the_page_shows_status_unit_due_date_and_answers() {
    let app = spawn_app().await;
    let (code, key, due) = ask(&app, "Cấp giấy phép xây dựng nhà ở").await;

    let received = page(get(&app, &tracking_link(&app, &code, &key)).await, 200).await;
    assert!(received.contains("<html lang=\"vi\">"), "{received}");
    assert!(received.contains("Đã tiếp nhận"), "{received}");
    assert!(
        received.contains("Cấp giấy phép xây dựng nhà ở"),
        "{received}"
    );
    assert!(received.contains(&due), "due {due}: {received}");
    assert!(!received.contains("name=\"score\""), "nothing to rate yet");

    route_and_answer(&app, &code, None).await;
    let assigned = page(get(&app, &tracking_link(&app, &code, &key)).await, 200).await;
    assert!(assigned.contains("Đang xử lý"), "{assigned}");
    assert!(assigned.contains("so-xay-dung"), "{assigned}");
    assert!(!assigned.contains("name=\"score\""), "nothing to rate yet");

    let officer = app.user("officer", Some("so-xay-dung")).await;
    let editor = app.user("editor", None).await;
    let list = json(
        app.get_as(&editor.token, "/api/v1/questions?limit=10")
            .await,
        200,
    )
    .await;
    let id = list["items"][0]["id"].as_str().unwrap();
    let replied = app
        .post_as(
            &officer.token,
            &format!("/api/v1/questions/{id}/replies"),
            &j!({ "body": ANSWER }),
        )
        .await;
    let replied = json(replied, 201).await;

    // The code is read as the asker may type it, in lower case.
    let link = tracking_link(&app, &code.to_lowercase(), &key);
    let answered = page(get(&app, &link).await, 200).await;
    assert!(answered.contains("Đã trả lời"), "{answered}");
    assert!(answered.contains(ANSWER), "{answered}");
    assert!(answered.contains(&due), "{answered}");
    // The reply's time, in Vietnam time: `HH:MM dd/mm/yyyy`.
    let at = chrono::DateTime::parse_from_rfc3339(replied["answered_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap());
    let at = at.format("%H:%M %d/%m/%Y").to_string();
    assert!(answered.contains(&at), "{at}: {answered}");
    for score in 1..=5 {
        let radio = format!("type=\"radio\" name=\"score\" value=\"{score}\"");
        assert!(answered.contains(&radio), "{radio}: {answered}");
    }
    assert!(answered.contains("name=\"comment\""), "{answered}");
}

#[tokio::test]
async fn a_rejected_question_shows_the_reason() {
    let app = spawn_app().await;
    let (code, key, _) = ask(&app, "Câu hỏi không thuộc thẩm quyền").await;
    let editor = app.user("editor", None).await;
    let list = json(app.get_as(&editor.token, "/api/v1/questions").await, 200).await;
    let id = list["items"][0]["id"].as_str().unwrap();
    let reason = "Nội dung thuộc thẩm quyền của Tòa án nhân dân tỉnh.";
    let rejected = app
        .post_as(
            &editor.token,
            &format!("/api/v1/questions/{id}/transitions"),
            &j!({"action": "reject", "note": reason}),
        )
        .await;
    json(rejected, 200).await;
    let shown = page(get(&app, &tracking_link(&app, &code, &key)).await, 200).await;
    assert!(shown.contains("Không tiếp nhận"), "{shown}");
    assert!(shown.contains(reason), "{shown}");
    assert!(!shown.contains("name=\"score\""), "{shown}");
}

#[tokio::test]
async fn a_title_with_markup_is_shown_as_text() {
    let app = spawn_app().await;
    let title = "<script>alert('x')</script> & <b>đậm</b>";
    let (code, key, _) = ask(&app, title).await;
    let shown = page(get(&app, &tracking_link(&app, &code, &key)).await, 200).await;
    assert!(!shown.contains("<script"), "{shown}");
    assert!(!shown.contains("<b>"), "{shown}");
    assert!(
        shown.contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;&#x2f;script&gt; &amp; &lt;b&gt;đậm"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_wrong_key_and_a_wrong_code_answer_the_same_page() {
    let app = spawn_app().await;
    let (code, key, _) = ask(&app, "Thủ tục đăng ký kinh doanh").await;
    let other = ask(&app, "Câu hỏi khác").await;
    let wrong_key = get(&app, &tracking_link(&app, &code, &other.1)).await;
    let wrong_key_headers = wrong_key.headers().clone();
    let wrong_key = page(wrong_key, 404).await;
    let wrong_code = page(
        get(&app, &tracking_link(&app, "Q26-ZZZZZZ", &key)).await,
        404,
    )
    .await;
    let bad_code = page(get(&app, &tracking_link(&app, "x", &key)).await, 404).await;
    let by_form = page(
        post_form(&app, &code, &[("key", "nope"), ("score", "5")]).await,
        404,
    )
    .await;
    assert!(wrong_key.contains(NOT_FOUND), "{wrong_key}");
    assert!(wrong_key.contains("name=\"key\""), "the key form again");
    assert!(!wrong_key.contains(&code), "{wrong_key}");
    assert_eq!(wrong_key, wrong_code);
    assert_eq!(wrong_key, bad_code);
    assert_eq!(wrong_key, by_form);
    assert_eq!(wrong_key_headers["cache-control"], "no-store");
    // The real key still opens it.
    page(get(&app, &tracking_link(&app, &code, &key)).await, 200).await;
}

#[tokio::test]
async fn without_a_key_the_page_asks_for_it() {
    let app = spawn_app().await;
    let (code, _, _) = ask(&app, "Thủ tục cấp đổi giấy phép lái xe").await;
    for url in [
        format!("{}/tra-cuu/{code}", app.address),
        format!("{}/tra-cuu/{code}?key=", app.address),
        format!("{}/tra-cuu/{code}?key=%20", app.address),
    ] {
        let shown = page(get(&app, &url).await, 200).await;
        assert!(shown.contains("<form method=\"get\""), "{shown}");
        assert!(shown.contains("name=\"key\""), "{shown}");
        assert!(shown.contains("<form method=\"post\""), "{shown}");
        assert!(shown.contains("name=\"email\""), "{shown}");
        assert!(shown.contains("e-mail đã dùng khi đặt câu hỏi"), "{shown}");
        assert!(!shown.contains(NOT_FOUND), "{shown}");
        assert!(
            !shown.contains("Thủ tục cấp đổi"),
            "nothing of the question: {shown}"
        );
    }
}

/// A citizen who lost the key asks the page for a new link: a wrong address and the right one
/// answer the same page; the new link mailed opens the page and the old key no longer does.
#[tokio::test]
async fn the_page_mails_a_new_link_to_the_askers_address() {
    let mail_dir = std::env::temp_dir().join(format!("portal-eml-{}", uuid::Uuid::new_v4()));
    let mail_dir_text = mail_dir.display().to_string();
    let app = crate::helpers::spawn_app_with(&[("PORTAL_MAIL_DIR", mail_dir_text.as_str())]).await;
    let (code, old_key, _) = ask(&app, "Thủ tục cấp đổi giấy phép lái xe").await;
    let resend = |email: &'static str| {
        let (app, code) = (&app, code.clone());
        async move {
            let response = post_form(app, &code, &[("action", "resend"), ("email", email)]).await;
            page(response, 202).await
        }
    };
    let wrong = resend("ai.do@example.vn").await;
    let right = resend("Binh.Tran@example.vn").await;
    assert_eq!(wrong, right);
    assert!(
        right.contains("đường liên kết tra cứu mới đã được gửi"),
        "{right}"
    );
    assert!(
        !right.contains("Thủ tục cấp đổi"),
        "nothing of the question: {right}"
    );

    let link = mailed_link(&app, &mail_dir, "-key_resent.eml").await;
    let shown = page(get(&app, &link).await, 200).await;
    assert!(
        shown.contains("Thủ tục cấp đổi giấy phép lái xe"),
        "{shown}"
    );
    let old = page(get(&app, &tracking_link(&app, &code, &old_key)).await, 404).await;
    assert!(old.contains(NOT_FOUND), "{old}");

    let bad = post_form(
        &app,
        &code,
        &[("action", "resend"), ("email", "not an address")],
    )
    .await;
    let bad = page(bad, 422).await;
    assert!(bad.contains("Địa chỉ e-mail không hợp lệ"), "{bad}");
    let _ = std::fs::remove_dir_all(&mail_dir);
}

/// The sha256 of the page's one `<style>` element, as a policy names it.
fn style_hash(html: &str) -> String {
    let start = html.find("<style>").expect("a style element") + "<style>".len();
    let end = html[start..].find("</style>").expect("its end") + start;
    let digest = Sha256::digest(&html.as_bytes()[start..end]);
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

#[tokio::test]
async fn the_page_has_its_own_headers_and_the_api_keeps_its_own() {
    let app = spawn_app().await;
    let (code, key, _) = ask(&app, "Thủ tục cấp giấy khai sinh").await;
    let shown = get(&app, &tracking_link(&app, &code, &key)).await;
    let refused = get(&app, &tracking_link(&app, &code, "wrong")).await;
    let asking = get(&app, &format!("{}/tra-cuu/{code}", app.address)).await;
    for response in [shown, refused, asking] {
        let status = response.status().as_u16();
        let csp = header(&response, "content-security-policy").to_string();
        assert_eq!(header(&response, "referrer-policy"), "no-referrer");
        assert_eq!(header(&response, "cache-control"), "no-store");
        assert_eq!(header(&response, "x-frame-options"), "DENY");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        let html = page(response, status).await;
        assert!(!html.contains("<script"), "no script at all");
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "{html}"
        );
        let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
        assert_eq!(
            directives,
            [
                "default-src 'none'",
                &format!("style-src {}", style_hash(&html)),
                "form-action 'self'",
                "frame-ancestors 'none'",
                "base-uri 'none'",
            ],
            "{csp}"
        );
        assert!(html.contains("name=\"viewport\""), "{html}");
    }
    // The API's policy is untouched, and the page is not part of its document.
    let api = get(
        &app,
        &format!("{}/api/v1/tracking/{code}?key={key}", app.address),
    )
    .await;
    assert_eq!(
        header(&api, "content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'"
    );
    let document = app.get("/openapi.json").await.text().await.unwrap();
    assert!(!document.contains("tra-cuu"));
    let put = app
        .client
        .put(format!("{}/tra-cuu/{code}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 405);
    assert_eq!(header(&put, "allow"), "GET, POST");
}

#[tokio::test]
async fn the_rating_form_rates_the_answer_once() {
    let app = spawn_app().await;
    let (code, key, _) = ask(&app, "Thủ tục chuyển mục đích sử dụng đất").await;
    // Nothing to rate yet.
    let early = post_form(&app, &code, &[("key", &key), ("score", "5")]).await;
    let early = page(early, 409).await;
    assert!(early.contains("chưa có câu trả lời"), "{early}");
    route_and_answer(&app, &code, Some(ANSWER)).await;

    let comment = "Trả lời rõ ràng, <cảm ơn> cán bộ!";
    let rated = post_form(
        &app,
        &code,
        &[("key", &key), ("score", "4"), ("comment", comment)],
    )
    .await;
    let rated = page(rated, 200).await;
    assert!(rated.contains("Cảm ơn bạn đã đánh giá"), "{rated}");
    assert!(rated.contains("4/5"), "{rated}");
    assert!(rated.contains("&lt;cảm ơn&gt;"), "{rated}");
    assert!(!rated.contains("name=\"score\""), "no second form: {rated}");
    assert_eq!(
        tracked(&app, &code, &key).await["rating"],
        j!({"score": 4, "comment": comment})
    );

    let again = post_form(&app, &code, &[("key", &key), ("score", "1")]).await;
    let again = page(again, 409).await;
    assert!(again.contains("đã được đánh giá"), "{again}");
    assert_eq!(tracked(&app, &code, &key).await["rating"]["score"], 4);
}

#[tokio::test]
async fn bad_ratings_are_refused_on_the_page() {
    let app = spawn_app().await;
    let (code, key, _) = ask(&app, "Thủ tục cấp phép khai thác nước ngầm").await;
    route_and_answer(&app, &code, Some(ANSWER)).await;
    let long = "ý".repeat(2001);
    for (fields, says) in [
        (vec![("key", key.as_str()), ("score", "6")], "từ 1 đến 5"),
        (vec![("key", key.as_str()), ("score", "0")], "từ 1 đến 5"),
        (vec![("key", key.as_str()), ("score", "năm")], "từ 1 đến 5"),
        (vec![("key", key.as_str())], "từ 1 đến 5"),
        (
            vec![("key", key.as_str()), ("score", "5"), ("comment", &long)],
            "tối đa 2000 ký tự",
        ),
        (
            vec![
                ("key", key.as_str()),
                ("score", "5"),
                ("comment", "a\u{0}b"),
            ],
            "ký tự điều khiển",
        ),
    ] {
        let shown = page(post_form(&app, &code, &fields).await, 422).await;
        assert!(shown.contains(says), "{fields:?}: {shown}");
        // The question is shown again, with the form to try once more.
        assert!(shown.contains(ANSWER), "{shown}");
        assert!(shown.contains("name=\"score\""), "{shown}");
    }
    // A body over the limit is not read.
    let huge = "x".repeat(64 * 1024);
    let shown = page(
        post_form(
            &app,
            &code,
            &[("key", &key), ("score", "5"), ("comment", &huge)],
        )
        .await,
        413,
    )
    .await;
    assert!(shown.contains("quá dài"), "{shown}");
    assert_eq!(tracked(&app, &code, &key).await["rating"], Value::Null);
}

// ---- The same page in a browser, through WebDriver ----

/// A program on the `PATH`, if any.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// chromedriver started on a port of its choosing; killed with everything it started when
/// dropped, also when a test panics.
struct ChromeDriver {
    child: Child,
    url: String,
}

impl ChromeDriver {
    /// Starts chromedriver and waits for the line that says it listens.
    fn start(program: &std::path::Path) -> Self {
        use std::os::unix::process::CommandExt;
        let mut child = Command::new(program)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // Its own process group, so that the browsers it starts go with it.
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let stdout = child.stdout.take().expect("its output");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // The rest of its output is read and dropped, so it never blocks on a pipe.
                let _ = tx.send(line);
            }
        });
        let mut seen = Vec::new();
        let port = loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    if let Some(rest) = line.split("started successfully on port ").nth(1) {
                        let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                        break port;
                    }
                    seen.push(line);
                }
                Err(e) => {
                    let _ = child.kill();
                    panic!(
                        "chromedriver did not say it started ({e}):\n{}",
                        seen.join("\n")
                    );
                }
            }
        };
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The whole group: chromedriver and the browser processes it started.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A W3C WebDriver session.
struct Browser {
    http: reqwest::Client,
    session: String,
    driver: String,
}

impl Browser {
    async fn open(driver: &ChromeDriver, chromium: &std::path::Path) -> Self {
        let http = reqwest::Client::new();
        let capabilities = j!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "pageLoadStrategy": "normal",
                "goog:chromeOptions": {
                    "binary": chromium,
                    "args": [
                        "--headless=new", "--no-sandbox", "--disable-gpu",
                        "--disable-dev-shm-usage", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--lang=vi"
                    ]
                }
            }}
        });
        let created = call(
            &http,
            reqwest::Method::POST,
            &format!("{}/session", driver.url),
            Some(&capabilities),
        )
        .await;
        let session = created["sessionId"].as_str().expect("a session id");
        // Finding an element waits up to 20 s for it to appear: how the test waits for a page.
        let timeouts = j!({"implicit": 20_000, "pageLoad": 60_000});
        let url = format!("{}/session/{session}/timeouts", driver.url);
        call(&http, reqwest::Method::POST, &url, Some(&timeouts)).await;
        Self {
            http,
            session: created["sessionId"]
                .as_str()
                .expect("a session id")
                .to_string(),
            driver: driver.url.clone(),
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.driver, self.session);
        call(&self.http, method, &url, body).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.send(reqwest::Method::POST, path, Some(&body)).await
    }

    async fn get(&self, path: &str) -> Value {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// The first element matching a CSS selector.
    async fn find(&self, css: &str) -> String {
        let found = self
            .post("/element", j!({"using": "css selector", "value": css}))
            .await;
        // W3C names an element by this fixed key.
        found["element-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_string()
    }

    async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        let text = self.get(&format!("/element/{element}/text")).await;
        text.as_str().unwrap_or_default().to_string()
    }

    async fn close(self) {
        self.send(reqwest::Method::DELETE, "", None).await;
    }
}

/// One WebDriver command; panics with the driver's message on an error.
async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<&Value>,
) -> Value {
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("chromedriver answers");
    let status = response.status();
    let answer: Value = response.json().await.expect("a WebDriver answer");
    assert!(status.is_success(), "{url}: {status} {answer}");
    answer["value"].clone()
}

#[tokio::test]
async fn a_citizen_follows_the_link_reads_the_answer_and_rates_it_in_a_browser() {
    let chromium = on_path(&[
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]);
    let chromedriver = on_path(&["chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        if std::env::var_os(REQUIRE_CHROMIUM).is_some_and(|v| !v.is_empty()) {
            panic!("{REQUIRE_CHROMIUM} is set but chromium or chromedriver is not on the PATH");
        }
        eprintln!(
            "SKIPPED a_citizen_follows_the_link_reads_the_answer_and_rates_it_in_a_browser: \
             chromium or chromedriver is not installed (apt-get install \
             --no-install-recommends chromium chromium-driver); set {REQUIRE_CHROMIUM}=1 to \
             make this a failure"
        );
        return;
    };
    // No SMTP server: the receipt is written as an .eml file, and its link is what the browser
    // opens.
    let mail_dir = std::env::temp_dir().join(format!("portal-eml-{}", uuid::Uuid::new_v4()));
    let mail_dir_text = mail_dir.display().to_string();
    let app = crate::helpers::spawn_app_with(&[("PORTAL_MAIL_DIR", mail_dir_text.as_str())]).await;
    let (code, key, due) = ask(&app, "Cấp giấy phép xây dựng nhà ở riêng lẻ").await;
    let mailed = receipt_link(&app, &mail_dir).await;
    assert_eq!(mailed, tracking_link(&app, &code, &key));
    route_and_answer(&app, &code, Some(ANSWER)).await;

    let driver = tokio::task::spawn_blocking(move || ChromeDriver::start(&chromedriver))
        .await
        .unwrap();
    let browser = Browser::open(&driver, &chromium).await;
    // A phone's width.
    browser
        .post("/window/rect", j!({"width": 412, "height": 900}))
        .await;
    browser.post("/url", j!({"url": mailed})).await;
    let text = browser.text("main").await;
    assert!(text.contains(ANSWER), "{text}");
    assert!(text.contains("Đã trả lời"), "{text}");
    assert!(text.contains(&due), "{text}");
    // The inline style sheet ran under the page's policy: the header has its colour.
    let banner = browser.find("header").await;
    let colour = browser
        .get(&format!("/element/{banner}/css/background-color"))
        .await;
    assert_eq!(
        colour, "rgba(155, 28, 28, 1)",
        "the style sheet was refused"
    );

    let five = browser.find("input[name=score][value='5']").await;
    browser
        .post(&format!("/element/{five}/click"), j!({}))
        .await;
    let comment = browser.find("textarea[name=comment]").await;
    let said = "Câu trả lời đầy đủ, dễ hiểu.";
    browser
        .post(&format!("/element/{comment}/value"), j!({"text": said}))
        .await;
    let submit = browser.find("form[method=post] button[type=submit]").await;
    browser
        .post(&format!("/element/{submit}/click"), j!({}))
        .await;

    // Found once the answer to the form has loaded (the implicit wait), as only it has one.
    let thanks = browser.text("p.notice.ok").await;
    assert!(thanks.contains("Cảm ơn bạn đã đánh giá"), "{thanks}");
    let text = browser.text("main").await;
    assert!(text.contains("5/5") && text.contains(said), "{text}");
    assert_eq!(
        tracked(&app, &code, &key).await["rating"],
        j!({"score": 5, "comment": said})
    );

    if let Some(dir) = std::env::var_os(SCREENSHOT_DIR) {
        // The whole page at the phone's width: the window made as tall as the document (the
        // height of an element is read without script).
        let body = browser.find("body").await;
        let rect = browser.get(&format!("/element/{body}/rect")).await;
        let height = rect["height"]
            .as_f64()
            .unwrap_or(900.0)
            .clamp(900.0, 4000.0);
        browser
            .post(
                "/window/rect",
                j!({"width": 412, "height": height as u64 + 160}),
            )
            .await;
        let png = browser.get("/screenshot").await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64 PNG"))
            .expect("a PNG");
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let path = PathBuf::from(dir).join("tracking-page.png");
        std::fs::write(&path, png).expect("write the screenshot");
        eprintln!("wrote {}", path.display());
    }
    browser.close().await;
    drop(driver);
}
