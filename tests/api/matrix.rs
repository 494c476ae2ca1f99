//! The authorization matrix: every operation of the OpenAPI document, called by every kind of
//! caller, must answer the status that README.md's table gives. The table is the one source:
//! this test reads it, so the README cannot drift from what the service does.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::Method;
use serde_json::{json as j, Value};

use crate::helpers::{json, spawn_app_with, TestApp};

const README: &str = include_str!("../../README.md");
const OPENAPI: &str = include_str!("../../openapi/openapi.json");

/// The owning unit, and another one.
const OWN: &str = "so-khcn";
const OTHER: &str = "so-tu-phap";

/// The callers, in the order of the table's columns.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Anonymous,
    Citizen,
    Officer,
    OtherOfficer,
    Client,
    Editor,
    Viewer,
    Admin,
}

const COLUMNS: [(&str, Who); 8] = [
    ("anonymous", Who::Anonymous),
    ("citizen", Who::Citizen),
    ("officer", Who::Officer),
    ("other officer", Who::OtherOfficer),
    ("client", Who::Client),
    ("editor", Who::Editor),
    ("viewer", Who::Viewer),
    ("admin", Who::Admin),
];

/// One row of the table: `METHOD /path` and the expected status per column.
struct Row {
    method: String,
    path: String,
    expected: Vec<u16>,
}

fn table() -> Vec<Row> {
    let start = README
        .find("<!-- authorization-matrix:start -->")
        .expect("README has the matrix");
    let end = README
        .find("<!-- authorization-matrix:end -->")
        .expect("README ends the matrix");
    let mut lines = README[start..end].lines().skip(1);
    let header: Vec<&str> = cells(lines.next().expect("header row"));
    let names: Vec<&str> = COLUMNS.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        &header[1..],
        &names[..],
        "the columns are the eight callers"
    );
    lines
        .skip(1)
        .filter(|l| l.starts_with('|'))
        .map(|line| {
            let c = cells(line);
            let op = c[0].trim_matches('`');
            let (method, path) = op.split_once(' ').expect("`METHOD /path`");
            let expected = c[1..]
                .iter()
                .map(|s| {
                    s.parse()
                        .unwrap_or_else(|_| panic!("{op}: {s:?} is no status"))
                })
                .collect::<Vec<u16>>();
            assert_eq!(expected.len(), COLUMNS.len(), "{op}: one status per caller");
            Row {
                method: method.to_string(),
                path: path.to_string(),
                expected,
            }
        })
        .collect()
}

fn cells(line: &str) -> Vec<&str> {
    line.trim()
        .trim_matches('|')
        .split('|')
        .map(str::trim)
        .collect()
}

/// Tokens and items every row can use.
struct World {
    app: TestApp,
    admin: String,
    editor: String,
    officer: String,
    other_officer: String,
    viewer: String,
    viewer_id: String,
    viewer_name: String,
    viewer_password: String,
    client: String,
    /// A draft of the owning unit.
    draft: String,
    /// A published article of the owning unit.
    article: String,
    /// A question assigned to the owning unit, answered and published, with its key.
    question: String,
    code: String,
    key: String,
    /// A webhook of the client's.
    webhook: String,
    counter: AtomicUsize,
}

impl World {
    async fn new() -> Self {
        let app = spawn_app_with(&[("PORTAL_QUESTIONS_PER_MINUTE", "1000000")]).await;
        let admin = app.admin_token().await;
        let editor = app.user("editor", None).await.token;
        let officer = app.user("officer", Some(OWN)).await.token;
        let other_officer = app.user("officer", Some(OTHER)).await.token;
        let viewer = app.user("viewer", None).await;
        let (_, client_id, secret) = app.client_for(OWN).await;
        let client = json(app.client_token(&client_id, &secret).await, 200).await;
        let mut world = Self {
            admin,
            editor,
            officer,
            other_officer,
            viewer: viewer.token,
            viewer_id: viewer.id,
            viewer_name: viewer.username,
            viewer_password: viewer.password,
            client: client["access_token"].as_str().unwrap().to_string(),
            draft: String::new(),
            article: String::new(),
            question: String::new(),
            code: String::new(),
            key: String::new(),
            webhook: String::new(),
            counter: AtomicUsize::new(0),
            app,
        };
        world.draft = world.submission(true).await;
        let article = world.submission(false).await;
        world.act_on_submission(&article, "publish").await;
        world.article = article;
        let (question, code, key) = world.answered_question().await;
        json(
            world
                .app
                .post_as(
                    &world.editor,
                    &format!("/api/v1/questions/{question}/transitions"),
                    &j!({"action": "publish"}),
                )
                .await,
            200,
        )
        .await;
        (world.question, world.code, world.key) = (question, code, key);
        world.webhook = world.webhook().await;
        world
    }

    fn next(&self) -> usize {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn token(&self, who: Who) -> Option<&str> {
        match who {
            Who::Anonymous | Who::Citizen => None,
            Who::Officer => Some(&self.officer),
            Who::OtherOfficer => Some(&self.other_officer),
            Who::Client => Some(&self.client),
            Who::Editor => Some(&self.editor),
            Who::Viewer => Some(&self.viewer),
            Who::Admin => Some(&self.admin),
        }
    }

    /// A new submission of the owning unit: a draft, or submitted.
    async fn submission(&self, draft: bool) -> String {
        let body = j!({
            "category": "tin-tuc", "title": format!("Tin số {}", self.next()),
            "summary": "Tóm tắt", "body": "<p>Nội dung</p>", "draft": draft
        });
        let created = json(
            self.app
                .post_as(&self.officer, "/api/v1/submissions", &body)
                .await,
            201,
        )
        .await;
        created["id"].as_str().unwrap().to_string()
    }

    async fn act_on_submission(&self, id: &str, action: &str) {
        let path = format!("/api/v1/submissions/{id}/transitions");
        let body = j!({"action": action});
        json(self.app.post_as(&self.editor, &path, &body).await, 200).await;
    }

    /// A new webhook of the client's: its id.
    async fn webhook(&self) -> String {
        let made = json(
            self.app
                .post_as(&self.client, "/api/v1/webhooks", &webhook_body())
                .await,
            201,
        )
        .await;
        made["id"].as_str().unwrap().to_string()
    }

    /// A new question for the owning unit: (id, tracking code, access key).
    async fn question(&self) -> (String, String, String) {
        let asked = json(
            self.app
                .request(
                    Method::POST,
                    "/api/v1/questions",
                    None,
                    Some(&question_body()),
                )
                .await,
            201,
        )
        .await;
        let code = asked["tracking_code"].as_str().unwrap().to_string();
        let key = asked["access_key"].as_str().unwrap().to_string();
        let list = json(
            self.app
                .get_as(
                    &self.officer,
                    &format!("/api/v1/questions?unit={OWN}&limit=100"),
                )
                .await,
            200,
        )
        .await;
        let id = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["tracking_code"] == code.as_str())
            .and_then(|q| q["id"].as_str())
            .expect("the unit lists its new question")
            .to_string();
        (id, code, key)
    }

    /// A new question for the owning unit with the unit's reply.
    async fn answered_question(&self) -> (String, String, String) {
        let (id, code, key) = self.question().await;
        json(
            self.app
                .post_as(
                    &self.officer,
                    &format!("/api/v1/questions/{id}/replies"),
                    &j!({"body": "Hồ sơ gồm đơn và bản sao giấy tờ."}),
                )
                .await,
            201,
        )
        .await;
        (id, code, key)
    }

    /// The request a row makes for a caller, preparing fresh items where the call changes them.
    async fn call(&self, method: &str, path: &str, who: Who) -> Call {
        let n = self.next();
        let call = |path: String, body: Option<Value>| Call {
            path,
            body,
            headers: Vec::new(),
        };
        match (method, path) {
            ("POST", "/api/v1/auth/token") => call(
                path.into(),
                Some(j!({
                    "grant_type": "password",
                    "username": self.viewer_name,
                    "password": self.viewer_password
                })),
            ),
            ("PATCH", "/api/v1/auth/me") => call(
                path.into(),
                Some(j!({"notify_digest": n.is_multiple_of(2)})),
            ),
            ("GET", "/api/v1/calendar/deadline") => {
                call(format!("{path}?from=2024-02-05&working_days=5"), None)
            }
            ("GET", "/api/v1/calendar/holidays") => call(format!("{path}?year=2024"), None),
            ("PUT", "/api/v1/calendar/holidays/{date}") => call(
                format!("/api/v1/calendar/holidays/{}", free_date(n)),
                Some(j!({"name": "Ngày nghỉ thử", "kind": "holiday"})),
            ),
            ("DELETE", "/api/v1/calendar/holidays/{date}") => {
                let date = free_date(n);
                let body = j!({"name": "Ngày nghỉ thử", "kind": "holiday"});
                let made = self
                    .app
                    .request(
                        Method::PUT,
                        &format!("/api/v1/calendar/holidays/{date}"),
                        Some(&self.admin),
                        Some(&body),
                    )
                    .await;
                assert_eq!(made.status(), 201);
                call(format!("/api/v1/calendar/holidays/{date}"), None)
            }
            ("POST", "/api/v1/categories") => call(
                path.into(),
                Some(j!({"code": format!("chuyen-muc-{n}"), "name": "Chuyên mục thử"})),
            ),
            ("PATCH", "/api/v1/categories/{code}") => call(
                "/api/v1/categories/tin-tuc".into(),
                Some(j!({"description": format!("Mô tả {n}")})),
            ),
            ("POST", "/api/v1/clients") => call(
                path.into(),
                Some(j!({"name": "Cổng thông tin thử", "unit": OWN})),
            ),
            ("DELETE", "/api/v1/clients/{id}") => {
                let (id, _, _) = self.app.client_for(OWN).await;
                call(format!("/api/v1/clients/{id}"), None)
            }
            ("POST", "/api/v1/clients/{id}/secret") => {
                let (id, _, _) = self.app.client_for(OWN).await;
                call(format!("/api/v1/clients/{id}/secret"), None)
            }
            ("POST", "/api/v1/obligations") => call(path.into(), Some(obligation_body())),
            ("PATCH", "/api/v1/obligations/{id}") => {
                let made = json(
                    self.app
                        .post_as(&self.editor, "/api/v1/obligations", &obligation_body())
                        .await,
                    201,
                )
                .await;
                call(
                    format!("/api/v1/obligations/{}", made["id"]),
                    Some(j!({"min_items": 2})),
                )
            }
            ("GET", "/api/v1/obligations/status") => call(
                format!("{path}?unit={OWN}&from=2024-01-01&to=2024-03-31"),
                None,
            ),
            ("GET", "/api/v1/public/articles/{id}") => {
                call(format!("/api/v1/public/articles/{}", self.article), None)
            }
            ("GET", "/api/v1/public/questions/{id}") => {
                call(format!("/api/v1/public/questions/{}", self.question), None)
            }
            ("POST", "/api/v1/questions") => call(path.into(), Some(question_body())),
            ("GET", "/api/v1/questions/{id}") => {
                call(format!("/api/v1/questions/{}", self.question), None)
            }
            ("POST", "/api/v1/questions/{id}/replies") => {
                let (id, _, _) = self.question().await;
                call(
                    format!("/api/v1/questions/{id}/replies"),
                    Some(j!({"body": "Xin trả lời như sau."})),
                )
            }
            ("POST", "/api/v1/questions/{id}/transitions") => {
                let (id, _, _) = self.question().await;
                call(
                    format!("/api/v1/questions/{id}/transitions"),
                    Some(j!({"action": "reject", "note": "Không thuộc thẩm quyền"})),
                )
            }
            ("GET", "/api/v1/stats/quarterly") => call(format!("{path}?year=2024&quarter=1"), None),
            ("POST", "/api/v1/submissions") => call(
                path.into(),
                Some(j!({
                    "unit": OWN, "category": "tin-tuc", "title": format!("Tin {n}"),
                    "summary": "Tóm tắt", "body": "<p>Nội dung</p>", "draft": true
                })),
            ),
            ("GET", "/api/v1/submissions/{id}") => {
                call(format!("/api/v1/submissions/{}", self.draft), None)
            }
            ("GET", "/api/v1/submissions/{id}/history") => {
                call(format!("/api/v1/submissions/{}/history", self.draft), None)
            }
            ("PATCH", "/api/v1/submissions/{id}") => {
                let id = self.submission(true).await;
                Call {
                    path: format!("/api/v1/submissions/{id}"),
                    body: Some(j!({"title": format!("Tin đã sửa {n}")})),
                    headers: vec![("if-match", "\"1\"".to_string())],
                }
            }
            ("POST", "/api/v1/submissions/{id}/transitions") => {
                let id = self.submission(false).await;
                call(
                    format!("/api/v1/submissions/{id}/transitions"),
                    Some(j!({"action": "publish"})),
                )
            }
            ("POST", "/api/v1/tracking/{tracking_code}/resend") => call(
                format!("/api/v1/tracking/{}/resend", self.code),
                Some(j!({"email": "nguoi.hoi@example.vn"})),
            ),
            ("GET", "/api/v1/tracking/{tracking_code}") => {
                call(format!("/api/v1/tracking/{}", self.code), None)
            }
            ("POST", "/api/v1/tracking/{tracking_code}/rating") => {
                let (_, code, key) = self.answered_question().await;
                let mut c = call(
                    format!("/api/v1/tracking/{code}/rating"),
                    Some(j!({"score": 4, "comment": "Rõ ràng"})),
                );
                if who == Who::Citizen {
                    c.headers.push(("x-access-key", key));
                }
                return c;
            }
            ("POST", "/api/v1/units") => call(
                path.into(),
                Some(
                    j!({"code": format!("don-vi-{n}"), "name": "Đơn vị thử", "kind": "department"}),
                ),
            ),
            ("GET", "/api/v1/units/{code}") | ("PATCH", "/api/v1/units/{code}") => call(
                format!("/api/v1/units/{OWN}"),
                (method == "PATCH").then(|| j!({"name": "Sở Khoa học và Công nghệ"})),
            ),
            ("POST", "/api/v1/users") => call(
                path.into(),
                Some(j!({
                    "username": format!("nguoi-dung-{n}"),
                    "password": "a long enough password",
                    "role": "viewer"
                })),
            ),
            ("GET", "/api/v1/users/{id}") | ("PATCH", "/api/v1/users/{id}") => call(
                format!("/api/v1/users/{}", self.viewer_id),
                (method == "PATCH").then(|| j!({"display_name": format!("Người xem {n}")})),
            ),
            ("POST", "/api/v1/users/{id}/unlock") => {
                call(format!("/api/v1/users/{}/unlock", self.viewer_id), None)
            }
            ("POST", "/api/v1/webhooks") => call(path.into(), Some(webhook_body())),
            ("DELETE", "/api/v1/webhooks/{id}") => {
                call(format!("/api/v1/webhooks/{}", self.webhook().await), None)
            }
            (_, p) if p.starts_with("/api/v1/webhooks/{id}") => call(
                p.replace("{id}", &self.webhook),
                (method == "PATCH").then(|| j!({"description": format!("Mô tả {n}")})),
            ),
            (_, p) if !p.contains('{') => call(path.into(), None),
            _ => panic!("no request is written for {method} {path}"),
        }
        .with_key(who, &self.key)
    }
}

/// One prepared request.
struct Call {
    path: String,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
}

impl Call {
    /// A citizen always shows the access key of the table's question.
    fn with_key(mut self, who: Who, key: &str) -> Self {
        if who == Who::Citizen {
            self.headers.push(("x-access-key", key.to_string()));
        }
        self
    }
}

fn free_date(n: usize) -> String {
    format!(
        "{}-{:02}-{:02}",
        2035 + n / 336,
        1 + (n / 28) % 12,
        1 + n % 28
    )
}

fn question_body() -> Value {
    j!({
        "title": "Thủ tục cấp phép",
        "body": "Xin hỏi hồ sơ gồm những gì?",
        "unit": OWN,
        "category": "thu-tuc-hanh-chinh",
        "asker": {"name": "Trần Thị Bình", "email": "binh@example.vn"},
        "publish_consent": true
    })
}

/// A webhook to a public address given as an IP literal, so no name has to resolve.
fn webhook_body() -> Value {
    j!({"url": "https://203.0.113.10/hooks/portal", "events": ["*"]})
}

fn obligation_body() -> Value {
    j!({
        "unit": OWN, "cadence": "quarterly", "min_items": 1, "due_day": 20,
        "starts_on": "2024-01-01", "description": "Báo cáo quý"
    })
}

/// Every operation the document describes, as `METHOD /path`.
fn documented_operations() -> BTreeSet<String> {
    let doc: Value = serde_json::from_str(OPENAPI).unwrap();
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    ops
}

#[tokio::test]
async fn every_operation_answers_every_caller_as_the_readme_table_says() {
    let rows = table();
    let listed: BTreeSet<String> = rows
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        listed,
        documented_operations(),
        "the README table lists exactly the documented operations"
    );

    let world = World::new().await;
    let mut wrong = Vec::new();
    let mut checked = 0;
    for row in &rows {
        for ((_, who), expected) in COLUMNS.iter().zip(&row.expected) {
            let call = world.call(&row.method, &row.path, *who).await;
            let method = Method::from_bytes(row.method.as_bytes()).unwrap();
            let mut req = world
                .app
                .client
                .request(method, format!("{}{}", world.app.address, call.path));
            if let Some(token) = world.token(*who) {
                req = req.bearer_auth(token);
            }
            if let Some(body) = &call.body {
                req = req.json(body);
            }
            for (name, value) in &call.headers {
                req = req.header(*name, value);
            }
            let response = req.send().await.expect("request sent");
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            checked += 1;
            if status != *expected {
                wrong.push(format!(
                    "{} {} as {who:?}: expected {expected}, got {status}: {}",
                    row.method,
                    call.path,
                    text.chars().take(200).collect::<String>()
                ));
            }
        }
    }
    println!("authorization matrix: {checked} cells checked");
    assert!(
        wrong.is_empty(),
        "{} cells differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(checked, rows.len() * COLUMNS.len());
}
