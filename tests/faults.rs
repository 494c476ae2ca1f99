//! Faults: a kill in the middle of a write load, of webhook deliveries and of mail sending, a
//! graceful stop, a database outage.
//!
//! The kill test loads the service for a few seconds by default; set `PORTAL_FAULT_SECONDS`
//! for a longer run (`PORTAL_FAULT_SECONDS=60 cargo test --test faults`).

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "support/smtp_sink.rs"]
mod smtp_sink;
#[allow(dead_code)]
#[path = "support/webhook_receiver.rs"]
mod webhook_receiver;

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::Connection;
use helpers::{held_connection, json, problem, start, TestDb, ADMIN_PASSWORD, JWT_SECRET};
use serde_json::{json as j, Value};
use smtp_sink::Sink;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use webhook_receiver::{assert_signed, verify_with_the_reference_library, Received, Receiver};

/// The service binary, running as a process of its own.
struct Process {
    child: Child,
    address: String,
    port: u16,
}

impl Process {
    async fn start(db: &TestDb) -> Self {
        Self::start_with(db, &[]).await
    }

    /// Starts the binary with extra environment settings.
    async fn start_with(db: &TestDb, extra: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_portal-api"));
        command.envs(extra.iter().copied());
        let child = command
            .env("DATABASE_URL", db.url())
            .env("PORTAL_ADDR", format!("127.0.0.1:{port}"))
            .env("PORTAL_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("PORTAL_JWT_SECRET", JWT_SECRET)
            .env("PORTAL_QUESTIONS_PER_MINUTE", "1000000")
            .env("PORTAL_WORKERS", "2")
            .env(
                "PORTAL_MAIL_DIR",
                std::env::temp_dir().join(format!("portal-mail-{port}-{}", std::process::id())),
            )
            .env("RUST_LOG", "error")
            .env_remove("PORTAL_ENV")
            .env_remove("PORTAL_SHUTDOWN_SECONDS")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("start portal-api");
        let process = Self {
            child,
            address: format!("http://127.0.0.1:{port}"),
            port,
        };
        process.wait_ready().await;
        process
    }

    /// Polls readiness; the service migrates and seeds a new database first.
    async fn wait_ready(&self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = http
                .get(format!("{}/health/ready", self.address))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(Instant::now() < deadline, "the service did not get ready");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the process to end by itself; its exit code.
    async fn exit_code(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the service") {
                return status.code();
            }
            assert!(Instant::now() < deadline, "the service did not stop");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A figure of `/proc/<pid>/status` in MiB, e.g. `VmRSS` (now) or `VmHWM` (the peak).
fn memory_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("process status");
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"));
    kib / 1024.0
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

async fn admin_token(http: &reqwest::Client, address: &str) -> String {
    let body = j!({"grant_type": "password", "username": "admin", "password": ADMIN_PASSWORD});
    let response = http
        .post(format!("{address}/api/v1/auth/token"))
        .json(&body)
        .send()
        .await
        .unwrap();
    json(response, 200).await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Registers an API client of `so-khcn` as the admin; its access token.
async fn client_token(http: &reqwest::Client, address: &str, admin: &str) -> String {
    let made = http
        .post(format!("{address}/api/v1/clients"))
        .bearer_auth(admin)
        .json(&j!({"name": "Cổng Sở KH&CN", "unit": "so-khcn"}))
        .send()
        .await
        .unwrap();
    let made = json(made, 201).await;
    let grant = j!({
        "grant_type": "client_credentials",
        "client_id": made["client_id"], "client_secret": made["client_secret"]
    });
    let response = http
        .post(format!("{address}/api/v1/auth/token"))
        .json(&grant)
        .send()
        .await
        .unwrap();
    json(response, 200).await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// One write of a load: a citizen's question, or an item the API client submits.
fn write(
    http: &reqwest::Client,
    address: &str,
    client: &str,
    title: &str,
    ask: bool,
) -> reqwest::RequestBuilder {
    if ask {
        http.post(format!("{address}/api/v1/questions"))
            .json(&question(title))
    } else {
        http.post(format!("{address}/api/v1/submissions"))
            .bearer_auth(client)
            .json(&j!({
                "category": "tin-tuc", "title": title, "summary": "Tóm tắt",
                "body": "<p>Nội dung</p>", "draft": false
            }))
    }
}

fn question(title: &str) -> Value {
    j!({
        "title": title,
        "body": "Xin hỏi thời hạn giải quyết hồ sơ?",
        "unit": "so-khcn",
        "asker": {"name": "Phạm Minh Đức", "email": "duc@example.vn"},
        "publish_consent": true
    })
}

/// What the service acknowledged with a 201.
enum Ack {
    Question {
        code: String,
        key: String,
        title: String,
    },
    Submission {
        id: String,
        title: String,
    },
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_write_survives_a_kill_in_the_middle_of_the_load() {
    let seconds: u64 = std::env::var("PORTAL_FAULT_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let db = TestDb::create();
    let mut service = Process::start(&db).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let admin = admin_token(&http, &service.address).await;
    let client = client_token(&http, &service.address, &admin).await;

    let acks = Arc::new(Mutex::new(Vec::new()));
    let refused = Arc::new(Mutex::new(Vec::new()));
    let sent = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..16 {
        let (http, address, client) = (http.clone(), service.address.clone(), client.clone());
        let (acks, refused, sent) = (acks.clone(), refused.clone(), sent.clone());
        workers.spawn(async move {
            for i in 0.. {
                let title = format!("Tải {w}-{i}");
                let request = write(&http, &address, &client, &title, (w + i) % 2 == 0);
                sent.fetch_add(1, Ordering::Relaxed);
                // After the kill every request fails to connect: the worker is done.
                let Ok(response) = request.send().await else {
                    break;
                };
                let status = response.status().as_u16();
                let Ok(body) = response.json::<Value>().await else {
                    break;
                };
                if status != 201 {
                    refused.lock().unwrap().push(format!("{status} {body}"));
                    continue;
                }
                let ack = match body.get("tracking_code") {
                    Some(code) => Ack::Question {
                        code: code.as_str().unwrap().to_string(),
                        key: body["access_key"].as_str().unwrap().to_string(),
                        title,
                    },
                    None => Ack::Submission {
                        id: body["id"].as_str().unwrap().to_string(),
                        title,
                    },
                };
                acks.lock().unwrap().push(ack);
            }
        });
    }
    // The load runs for its time; then the process dies without any warning.
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    service.child.kill().expect("SIGKILL the service");
    service.child.wait().unwrap();
    workers.join_all().await;
    let refused = refused.lock().unwrap().clone();
    assert!(refused.is_empty(), "refused before the kill: {refused:?}");
    let acks = std::mem::take(&mut *acks.lock().unwrap());
    assert!(!acks.is_empty(), "nothing was acknowledged");

    let service = Process::start(&db).await;
    let admin = admin_token(&http, &service.address).await;
    let (mut questions, mut submissions) = (0, 0);
    for ack in &acks {
        match ack {
            Ack::Question { code, key, title } => {
                let found = http
                    .get(format!("{}/api/v1/tracking/{code}", service.address))
                    .header("x-access-key", key)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(json(found, 200).await["title"], title.as_str());
                questions += 1;
            }
            Ack::Submission { id, title } => {
                let found = http
                    .get(format!("{}/api/v1/submissions/{id}", service.address))
                    .bearer_auth(&admin)
                    .send()
                    .await
                    .unwrap();
                let found = json(found, 200).await;
                assert_eq!(found["title"], title.as_str());
                assert_eq!(found["status"], "submitted");
                submissions += 1;
            }
        }
    }
    // Nothing half-written: every stored item has its first revision and its creation event,
    // whether or not its answer reached the client before the kill.
    let half_written = db.count(
        "SELECT count(*) AS n FROM submissions s WHERE NOT EXISTS \
         (SELECT 1 FROM submission_revisions r WHERE r.submission_id = s.id AND r.version = 1) \
         OR NOT EXISTS (SELECT 1 FROM submission_events e WHERE e.submission_id = s.id \
         AND e.version = 1)",
    );
    assert_eq!(half_written, 0);
    let stored_questions = db.count("SELECT count(*) AS n FROM questions");
    let stored_submissions = db.count("SELECT count(*) AS n FROM submissions");
    assert!(stored_questions >= questions && stored_submissions >= submissions);
    println!(
        "{seconds} s of load, {} requests sent: {questions} questions and {submissions} \
         submissions acknowledged before SIGKILL, all found after the restart; stored: \
         {stored_questions} questions, {stored_submissions} submissions",
        sent.load(Ordering::Relaxed)
    );
}

// ---------------------------------------------------------------------------------------------
// Webhook deliveries across a kill

/// An event as stored.
#[derive(Debug, diesel::QueryableByName)]
struct StoredEvent {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
}

/// The stored events numbered after `seq`, in order, read behind the service's back.
fn events_after(db: &TestDb, seq: i64) -> Vec<StoredEvent> {
    let sql =
        format!("SELECT id, seq, \"type\" AS kind FROM events WHERE seq > {seq} ORDER BY seq");
    match db {
        TestDb::Sqlite { dir } => {
            let mut conn = TestDb::open_sqlite(dir);
            diesel::RunQueryDsl::load(diesel::sql_query(sql), &mut conn).expect("read events")
        }
        db => {
            let mut conn = diesel::PgConnection::establish(&db.url()).expect("connect to test db");
            diesel::RunQueryDsl::load(diesel::sql_query(sql), &mut conn).expect("read events")
        }
    }
}

/// Waits until `done` says so, checking every 20 ms.
async fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "waited {within:?} in vain for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every event committed before a SIGKILL reaches the webhook after the restart: those the
/// dead instance had not passed on yet, its pending deliveries, and the attempts it had sent
/// without hearing the answer (sent again when their lease runs out).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_committed_before_a_kill_are_all_delivered_after_the_restart() {
    // Few attempts at once, so that held answers leave deliveries waiting behind them.
    let settings = [
        ("PORTAL_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("PORTAL_WEBHOOK_RETRY_SECONDS", "1,1,1"),
        ("PORTAL_WEBHOOK_CONCURRENCY", "4"),
    ];
    let db = TestDb::create();
    let receiver = Receiver::start(&[]).await;
    let mut service = Process::start_with(&db, &settings).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let admin = admin_token(&http, &service.address).await;
    let client = client_token(&http, &service.address, &admin).await;
    // Events from before the webhook are not its to receive.
    let before = db.count("SELECT COALESCE(MAX(seq), 0) AS n FROM events");
    let made = http
        .post(format!("{}/api/v1/webhooks", service.address))
        .bearer_auth(&admin)
        .json(&j!({"url": receiver.url(), "events": ["*"], "description": "Kill -9"}))
        .send()
        .await
        .unwrap();
    let made = json(made, 201).await;
    let webhook = made["id"].as_str().unwrap().to_string();
    let secret = made["secret"].as_str().unwrap().to_string();

    let load = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..8 {
        let (http, address, client) = (http.clone(), service.address.clone(), client.clone());
        workers.spawn(async move {
            for i in 0.. {
                let title = format!("Sự kiện {w}-{i}");
                // After the kill every request fails to connect: the worker is done.
                let Ok(response) = write(&http, &address, &client, &title, (w + i) % 2 == 0)
                    .send()
                    .await
                else {
                    break;
                };
                assert_eq!(response.status().as_u16(), 201);
            }
        });
    }
    // Under load, deliveries go through and are recorded...
    let succeeded = format!(
        "SELECT count(*) AS n FROM webhook_deliveries \
         WHERE webhook_id = '{webhook}' AND status = 'succeeded'"
    );
    wait_until(
        "deliveries recorded as made",
        Duration::from_secs(30),
        || db.count(&succeeded) >= 5,
    )
    .await;
    // ...then the receiver holds its answers: attempts are in flight while the writes go on
    // and committed events pile up behind them.
    receiver.hold();
    let committed = format!("SELECT count(*) AS n FROM events WHERE seq > {before}");
    wait_until(
        "a backlog behind held attempts",
        Duration::from_secs(30),
        || {
            let waiting = usize::try_from(db.count(&committed))
                .unwrap()
                .saturating_sub(receiver.got().len());
            receiver.holding() >= 1 && waiting >= 100
        },
    )
    .await;
    service.child.kill().expect("SIGKILL the service");
    let load = load.elapsed();
    service.child.wait().unwrap();
    workers.join_all().await;

    let events = events_after(&db, before);
    let got_before: HashSet<String> = receiver
        .got()
        .iter()
        .map(|r| r.header("webhook-id").to_string())
        .collect();
    let held = receiver.holding();
    let recorded = db.count(&succeeded);
    let queued = db.count(&format!(
        "SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = '{webhook}'"
    ));
    assert!(got_before.len() < events.len());
    receiver.open();

    let service = Process::start_with(&db, &settings).await;
    // Done when every event has arrived and the service knows each delivery made (the held
    // attempts are made again once the dead instance's lease runs out).
    let unfinished = format!(
        "SELECT count(*) AS n FROM webhook_deliveries \
         WHERE webhook_id = '{webhook}' AND status <> 'succeeded'"
    );
    let mut missing = Vec::new();
    wait_until(
        "every event delivered after the restart",
        Duration::from_secs(120),
        || {
            let got: HashSet<String> = receiver
                .got()
                .iter()
                .map(|r| r.header("webhook-id").to_string())
                .collect();
            missing = events
                .iter()
                .filter(|e| !got.contains(&e.id))
                .map(|e| e.id.clone())
                .collect();
            missing.is_empty() && db.count(&unfinished) == 0
        },
    )
    .await;
    assert!(missing.is_empty(), "never delivered: {missing:?}");
    drop(service);

    let got = receiver.got();
    let by_id: HashMap<&str, &StoredEvent> = events.iter().map(|e| (e.id.as_str(), e)).collect();
    for request in &got {
        assert_signed(request, &secret);
        let body = request.json();
        let id = request.header("webhook-id");
        if let Some(event) = by_id.get(id) {
            assert_eq!(body["seq"], event.seq);
            assert_eq!(body["type"], event.kind.as_str());
        }
    }
    let signed: Vec<(&Received, &str)> = got.iter().map(|r| (r, secret.as_str())).collect();
    verify_with_the_reference_library(&signed);
    let distinct: HashSet<&str> = got.iter().map(|r| r.header("webhook-id")).collect();
    let duplicates = got.len() - distinct.len();
    // The attempts left unanswered were made again: at least once means twice for them.
    assert!(duplicates >= held, "{duplicates} duplicates, {held} held");
    let not_passed_on = events
        .len()
        .saturating_sub(usize::try_from(queued).unwrap());
    println!(
        "kill -9 during webhook deliveries, after {:.1} s of load: {} events committed before \
         SIGKILL, {} received before it ({recorded} recorded as delivered, {held} attempts held \
         unanswered), {not_passed_on} not yet passed on to the webhook; after the restart all \
         received: {} requests in all, {duplicates} duplicates",
        load.as_secs_f64(),
        events.len(),
        got_before.len(),
        got.len(),
    );
}

// ---------------------------------------------------------------------------------------------
// Mail across a kill

/// A stored question's tracking code and its asker's address.
#[derive(Debug, diesel::QueryableByName)]
struct StoredAsker {
    #[diesel(sql_type = diesel::sql_types::Text)]
    code: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    email: String,
}

/// The recipient of a message of the outbox.
#[derive(Debug, diesel::QueryableByName)]
struct Recipient {
    #[diesel(sql_type = diesel::sql_types::Text)]
    recipient: String,
}

/// The rows of a query, read behind the service's back.
fn rows<T>(db: &TestDb, sql: &str) -> Vec<T>
where
    T: diesel::QueryableByName<diesel::sqlite::Sqlite>
        + diesel::QueryableByName<diesel::pg::Pg>
        + 'static,
{
    match db {
        TestDb::Sqlite { dir } => {
            let mut conn = TestDb::open_sqlite(dir);
            diesel::RunQueryDsl::load(diesel::sql_query(sql), &mut conn).expect("read rows")
        }
        db => {
            let mut conn = diesel::PgConnection::establish(&db.url()).expect("connect to test db");
            diesel::RunQueryDsl::load(diesel::sql_query(sql), &mut conn).expect("read rows")
        }
    }
}

/// The names of the messages the SMTP sink has taken, in the order it took them (it writes
/// each under a temporary name first, so a listed file is whole).
fn taken_names(sink: &Sink) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(&sink.dir)
        .expect("the sink's folder")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            (name.ends_with(".json") && !name.starts_with('.')).then_some(name)
        })
        .collect();
    names.sort();
    names
}

/// The messages the SMTP sink has taken, decoded.
fn taken(sink: &Sink) -> Vec<Value> {
    taken_names(sink)
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(sink.dir.join(name)).expect("a taken message");
            serde_json::from_str(&text).expect("a decoded message")
        })
        .collect()
}

/// The one recipient of a message the sink took.
fn recipient(message: &Value) -> &str {
    let to = message["rcpt_to"].as_array().expect("rcpt_to");
    assert_eq!(to.len(), 1, "one recipient per message: {message}");
    to[0].as_str().unwrap()
}

/// Every message of the outbox in one state, as the admins' list shows it, page after page.
async fn outbox(http: &reqwest::Client, address: &str, admin: &str, status: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("status", status.to_string()), ("limit", "100".to_string())];
        query.extend(cursor.map(|c| ("cursor", c)));
        let page = http
            .get(format!("{address}/api/v1/mail"))
            .bearer_auth(admin)
            .query(&query)
            .send()
            .await
            .unwrap();
        let page = json(page, 200).await;
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return items,
        }
    }
}

/// Asks question `i` as `asker{i}@example.vn`: the answer's status and body, or `None` when
/// none came (the service was killed).
async fn ask_as(http: &reqwest::Client, address: &str, i: usize) -> Option<(u16, Value)> {
    let mut body = question(&format!("Câu hỏi {i}"));
    body["asker"]["email"] = j!(format!("asker{i}@example.vn"));
    let response = http
        .post(format!("{address}/api/v1/questions"))
        .json(&body)
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    Some((status, response.json().await.ok()?))
}

/// A SIGKILL in the middle of a burst of questions, while the mail worker is sending their
/// receipts, loses none of them: after the restart every question stored (and so every one
/// acknowledged) has its receipt delivered to its asker, with its tracking code. Messages the
/// dead instance had handed to the server without recording it are sent again once their lease
/// runs out, under the same `Message-ID`, so a recipient can tell the copy from a new message;
/// none has failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kill_during_a_burst_of_questions_loses_no_queued_mail() {
    // Questions asked before the burst, in it, and acknowledged in it when the kill comes.
    const FIRST: usize = 30;
    const BURST: usize = 240;
    const KILL_AFTER: usize = 60;
    let Some(sink) = Sink::start(0).await else {
        return;
    };
    let smtp = sink.url();
    let settings = [
        ("PORTAL_SMTP_URL", smtp.as_str()),
        ("PORTAL_MAIL_FROM", "Cổng TTĐT <no-reply@portal.example.vn>"),
        // A refusal is tried again within seconds, not on the day-long schedule.
        ("PORTAL_MAIL_RETRY_SECONDS", "1,1,1"),
    ];
    let db = TestDb::create();
    let mut service = Process::start_with(&db, &settings).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    // Each asker has an address of their own, so the recipient tells which question a
    // message is about.
    let mut first = tokio::task::JoinSet::new();
    for i in 0..FIRST {
        let (http, address) = (http.clone(), service.address.clone());
        first.spawn(async move { (i, ask_as(&http, &address, i).await) });
    }
    let mut acks = Vec::new();
    for (i, answer) in first.join_all().await {
        let (status, body) = answer.expect("an answer");
        assert_eq!(status, 201, "{body}");
        let code = body["tracking_code"].as_str().unwrap().to_string();
        acks.push((format!("asker{i}@example.vn"), code));
    }
    // Questions come in far faster than receipts go out: a burst on its own would be over
    // before the worker had sent any. So it begins once the worker is sending: the server has
    // taken some receipts and the worker holds a batch of them leased.
    let held = "FROM mail_outbox WHERE status = 'pending' AND lease_until IS NOT NULL";
    let held_count = format!("SELECT count(*) AS n {held}");
    wait_until("the first receipts sent", Duration::from_secs(60), || {
        taken_names(&sink).len() >= 3 && db.count(&held_count) > 0
    })
    .await;

    let next = Arc::new(AtomicUsize::new(FIRST));
    let answered = Arc::new(AtomicUsize::new(0));
    let acks = Arc::new(Mutex::new(acks));
    let refused = Arc::new(Mutex::new(Vec::new()));
    let kill = Arc::new(tokio::sync::Notify::new());
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (http, address) = (http.clone(), service.address.clone());
        let (next, answered) = (next.clone(), answered.clone());
        let (acks, refused, kill) = (acks.clone(), refused.clone(), kill.clone());
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= FIRST + BURST {
                    break;
                }
                // After the kill every request fails: the worker is done.
                let Some((status, body)) = ask_as(&http, &address, i).await else {
                    break;
                };
                answered.fetch_add(1, Ordering::Relaxed);
                match body["tracking_code"].as_str() {
                    Some(code) if status == 201 => {
                        let mut acks = acks.lock().unwrap();
                        acks.push((format!("asker{i}@example.vn"), code.to_string()));
                        if acks.len() == FIRST + KILL_AFTER {
                            kill.notify_one();
                        }
                    }
                    _ => refused.lock().unwrap().push(format!("{status} {body}")),
                }
            }
        });
    }
    // The kill comes as soon as enough of the burst is acknowledged, while the rest of it is
    // on its way.
    let acknowledged = tokio::time::timeout(Duration::from_secs(60), kill.notified()).await;
    service.child.kill().expect("SIGKILL the service");
    let answered_at_kill = answered.load(Ordering::Relaxed);
    service.child.wait().unwrap();
    workers.join_all().await;
    let refused = refused.lock().unwrap().clone();
    assert!(refused.is_empty(), "refused before the kill: {refused:?}");
    assert!(acknowledged.is_ok(), "too few of the burst acknowledged");
    assert!(
        answered_at_kill < BURST,
        "the burst was over before the kill"
    );
    let acks = std::mem::take(&mut *acks.lock().unwrap());

    // What the kill left: the questions stored (some perhaps never acknowledged), the messages
    // the sink took, and those the dead instance held leased.
    let stored: HashMap<String, String> = rows::<StoredAsker>(
        &db,
        "SELECT tracking_code AS code, asker_email AS email FROM questions \
         WHERE asker_email IS NOT NULL",
    )
    .into_iter()
    .map(|q| (q.email, q.code))
    .collect();
    for (email, code) in &acks {
        assert_eq!(stored.get(email), Some(code), "acknowledged, not stored");
    }
    let taken_before = taken(&sink);
    let leased: HashSet<String> = rows::<Recipient>(&db, &format!("SELECT recipient {held}"))
        .into_iter()
        .map(|r| r.recipient)
        .collect();
    assert!(taken_before.len() < stored.len(), "nothing left to send");

    let service = Process::start_with(&db, &settings).await;
    let restarted = Instant::now();
    // The leased messages are due again when the dead instance's lease (a minute from its
    // claim) runs out.
    wait_until(
        "no message pending after the restart",
        Duration::from_secs(180),
        || db.count("SELECT count(*) AS n FROM mail_outbox WHERE status = 'pending'") == 0,
    )
    .await;
    let waited = restarted.elapsed();

    let admin = admin_token(&http, &service.address).await;
    let failed = outbox(&http, &service.address, &admin, "failed").await;
    assert!(failed.is_empty(), "failed: {failed:?}");
    let pending = outbox(&http, &service.address, &admin, "pending").await;
    assert!(pending.is_empty(), "pending: {pending:?}");
    let sent = outbox(&http, &service.address, &admin, "sent").await;
    let sent_receipts = sent.iter().filter(|m| m["kind"] == "receipt").count();
    assert!(sent.len() >= acks.len(), "{} sent", sent.len());
    assert_eq!(sent_receipts, stored.len(), "one receipt per question");
    drop(service);

    let messages = taken(&sink);
    let mut by_recipient: HashMap<&str, Vec<&Value>> = HashMap::new();
    for message in &messages {
        let to = recipient(message);
        let code = stored
            .get(to)
            .unwrap_or_else(|| panic!("a message to no asker: {message}"));
        let subject = message["subject"].as_str().unwrap();
        assert!(
            subject.contains(code.as_str()),
            "{subject} is not about {code}"
        );
        by_recipient.entry(to).or_default().push(message);
    }
    let missing: Vec<&String> = stored
        .iter()
        .filter(|(email, _)| !by_recipient.contains_key(email.as_str()))
        .map(|(_, code)| code)
        .collect();
    assert!(missing.is_empty(), "no receipt for {missing:?}");
    for (to, copies) in &by_recipient {
        let ids: HashSet<&str> = copies
            .iter()
            .map(|m| m["message_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), 1, "{to} got messages under several ids: {ids:?}");
        // Only a message the dead instance held can come twice: from it, and again once its
        // lease ran out.
        let most = if leased.contains(*to) { 2 } else { 1 };
        assert!(copies.len() <= most, "{to} got {} copies", copies.len());
    }
    let duplicates = messages.len() - by_recipient.len();
    println!(
        "kill -9 during a burst of {BURST} questions after {FIRST}: {answered_at_kill} of the \
         burst answered at the kill, {} acknowledged in all, {} stored; {} receipts taken by \
         the server by then, {} leased by the dead instance; after the restart no message \
         pending within {:.1} s: {} received in all, {} distinct, {duplicates} duplicates with \
         the same Message-ID, {} sent, none failed",
        acks.len(),
        stored.len(),
        taken_before.len(),
        leased.len(),
        waited.as_secs_f64(),
        messages.len(),
        by_recipient.len(),
        sent.len(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_request_in_flight_finish_and_exits_zero() {
    let db = TestDb::create();
    let mut service = Process::start(&db).await;
    // A first exchange on the connection proves a worker holds it.
    let mut stream = held_connection(&service.address).await;

    let body = serde_json::to_vec(&question("Hỏi lúc dừng máy")).unwrap();
    let (head, tail) = body.split_at(body.len() / 2);
    // `Expect: 100-continue` makes the service say when it has read the head and begun the
    // request; a request whose bytes it has not read yet when SIGTERM comes is not begun.
    let headers = format!(
        "POST /api/v1/questions HTTP/1.1\r\nHost: portal\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(headers.as_bytes()).await.unwrap();
    let continued = read_head(&mut stream).await;
    assert!(continued.starts_with("HTTP/1.1 100"), "{continued}");
    stream.write_all(head).await.unwrap();

    let pid = service.child.id().to_string();
    let term = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(term.success());
    // The service stops accepting: new connections are refused...
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", service.port))
        .await
        .is_ok()
    {
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // ...while the request it had already begun is finished and answered.
    stream.write_all(tail).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(answer.contains("tracking_code"), "{answer}");

    assert_eq!(service.exit_code(Duration::from_secs(30)).await, Some(0));
    assert_eq!(db.count("SELECT count(*) AS n FROM questions"), 1);
}

/// Reads one response head, up to and with its blank line, and no byte more.
async fn read_head(stream: &mut tokio::net::TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let byte = stream.read_u8().await.expect("a response head");
        head.push(byte);
    }
    String::from_utf8(head).expect("an ASCII head")
}

/// A TCP relay in front of PostgreSQL that can be cut and restored, as a network or server
/// outage looks to the service.
struct Relay {
    port: u16,
    target: String,
    accept: Option<tokio::task::JoinHandle<()>>,
    links: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    fn new(target: String) -> Self {
        Self {
            port: free_port(),
            target,
            accept: None,
            links: Arc::default(),
        }
    }

    async fn up(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind the relay");
        let (target, links) = (self.target.clone(), self.links.clone());
        self.accept = Some(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                links.lock().unwrap().push(link);
            }
        }));
    }

    /// Refuses new connections and breaks the open ones.
    async fn down(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
            let _ = accept.await;
        }
        let links = std::mem::take(&mut *self.links.lock().unwrap());
        for link in links {
            link.abort();
            let _ = link.await;
        }
    }
}

/// `host:port` of a PostgreSQL URL, and the URL with another port on 127.0.0.1.
fn split_server(url: &str, port: u16) -> (String, String) {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    let end = url[after_scheme..]
        .find('/')
        .map(|i| after_scheme + i)
        .unwrap_or(url.len());
    let authority = &url[after_scheme..end];
    let host_start = authority.rfind('@').map(|i| i + 1).unwrap_or(0);
    let server = &authority[host_start..];
    let server = if server.contains(':') {
        server.to_string()
    } else {
        format!("{server}:5432")
    };
    let relayed = format!(
        "{}127.0.0.1:{port}{}",
        &url[..after_scheme + host_start],
        &url[end..]
    );
    (server, relayed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_503_problems_and_the_service_recovers() {
    let db = TestDb::create();
    if !matches!(db, TestDb::Postgres { .. }) {
        eprintln!("an outage of the embedded SQLite database cannot happen; PostgreSQL only");
        return;
    }
    let mut relay = Relay::new(String::new());
    let (server, relayed) = split_server(&db.url(), relay.port);
    relay.target = server;
    relay.up().await;
    let app = start(TestDb::Shared { url: relayed }, &[]).await;
    let admin = app.admin_token().await;
    json(app.get("/health/ready").await, 200).await;
    json(app.get_as(&admin, "/api/v1/submissions").await, 200).await;

    relay.down().await;
    let mut slowest = Duration::ZERO;
    for attempt in 0..1 {
        let began = Instant::now();
        problem(app.get("/health/ready").await, 503, "service_unavailable").await;
        slowest = slowest.max(began.elapsed());
        let began = Instant::now();
        let list = app.get_as(&admin, "/api/v1/submissions").await;
        problem(list, 503, "service_unavailable").await;
        slowest = slowest.max(began.elapsed());
        let began = Instant::now();
        let asked = app
            .request(
                reqwest::Method::POST,
                "/api/v1/questions",
                None,
                Some(&question(&format!("Hỏi khi mất kết nối {attempt}"))),
            )
            .await;
        problem(asked, 503, "service_unavailable").await;
        slowest = slowest.max(began.elapsed());
    }
    // Each answer comes within the pool's 5 s connection timeout (and some slack), not a hang.
    assert!(slowest < Duration::from_secs(8), "{slowest:?}");

    relay.up().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.get("/health/ready").await.status() != 200 {
        assert!(Instant::now() < deadline, "the service did not recover");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    json(app.get_as(&admin, "/api/v1/submissions").await, 200).await;
    let asked = app
        .request(
            reqwest::Method::POST,
            "/api/v1/questions",
            None,
            Some(&question("Hỏi sau khi có lại kết nối")),
        )
        .await;
    json(asked, 201).await;
    println!("outage: each call answered 503 within {slowest:?}; recovered without a restart");
    drop(app);
    relay.down().await;
}

/// 400 logins at once with unknown usernames: each one costs a password check (argon2id,
/// 19 MiB), so without a bound on concurrent checks the memory grows with the flood.
#[tokio::test]
async fn a_login_flood_stays_within_bounded_memory_and_every_login_is_answered() {
    let db = TestDb::create();
    // No per-address limit here: every attempt reaches the password threads.
    let service =
        Process::start_with(&db, &[("PORTAL_LOGIN_FAILURES_PER_ADDRESS", "1000000")]).await;
    let pid = service.child.id();
    let before = memory_mib(pid, "VmRSS");
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut logins = tokio::task::JoinSet::new();
    for i in 0..400 {
        let body = j!({
            "grant_type": "password",
            "username": format!("khong-ton-tai-{i}-{}", uuid::Uuid::new_v4().simple()),
            "password": "a wrong password"
        });
        let request = http
            .post(format!("{}/api/v1/auth/token", service.address))
            .json(&body);
        logins.spawn(async move { request.send().await.unwrap().status().as_u16() });
    }
    let statuses = logins.join_all().await;
    let elapsed = started.elapsed();
    let peak = memory_mib(pid, "VmHWM");
    let after = memory_mib(pid, "VmRSS");
    let count = |s: u16| statuses.iter().filter(|x| **x == s).count();
    println!(
        "login flood: 400 logins in {:.1} s: {} x 401, {} x 429, {} x 503; RSS {before:.0} MiB \
         before, peak {peak:.0} MiB, {after:.0} MiB after",
        elapsed.as_secs_f64(),
        count(401),
        count(429),
        count(503)
    );
    assert!(
        statuses.iter().all(|s| [401, 429, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(count(401) > 0, "some logins were checked: {statuses:?}");
    assert!(peak <= 300.0, "peak RSS {peak:.0} MiB");
    // The service still answers a real login.
    admin_token(&http, &service.address).await;
}
