//! Webhook delivery, seen from a real HTTP receiver started by each test: what arrives, signed
//! how, retried when, refused where, and shared between instances.

use std::time::{Duration, Instant};

use diesel::Connection;
use serde_json::{json as j, Value};

use crate::events::events_until;
use crate::helpers::{json, spawn_app_with, start, TestApp, TestDb};
use crate::webhook_receiver::{
    assert_signed, verify_with_the_reference_library, Received, Receiver, Reply,
};

/// Settings of a service that may deliver to the test's receivers on 127.0.0.1 and retries
/// after a second.
const LOCAL: [(&str, &str); 3] = [
    ("PORTAL_WEBHOOK_ALLOW_PRIVATE", "true"),
    ("PORTAL_WEBHOOK_RETRY_SECONDS", "1,1,1"),
    ("PORTAL_QUESTIONS_PER_MINUTE", "100000"),
];

/// Generous: the slowest wait is a 10 s timeout and a retry.
const DEADLINE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// Webhooks and their deliveries, written and read behind the service's back

/// Registers a webhook through the API as an admin; returns its id and secret.
async fn register(app: &TestApp, admin: &str, url: &str, events: &[&str]) -> (String, String) {
    let created = json(
        app.post_as(
            admin,
            "/api/v1/webhooks",
            &j!({"url": url, "events": events}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(created["enabled"], true);
    (
        created["id"].as_str().unwrap().to_string(),
        created["secret"].as_str().unwrap().to_string(),
    )
}

/// Inserts an enabled webhook; returns its id and secret.
fn insert_webhook(
    app: &TestApp,
    url: &str,
    events: &[&str],
    unit: Option<&str>,
) -> (String, String) {
    insert_webhook_with(app, url, events, unit, true)
}

fn insert_webhook_with(
    app: &TestApp,
    url: &str,
    events: &[&str],
    unit: Option<&str>,
    enabled: bool,
) -> (String, String) {
    let id = format!("wh_{}", uuid::Uuid::new_v4().simple());
    let secret = portal_api::domain::webhook::new_secret();
    let events = serde_json::to_string(events).unwrap();
    let unit = unit.map_or("NULL".to_string(), |u| format!("'{u}'"));
    let now = chrono::Utc::now()
        .naive_utc()
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    app.db.execute(&format!(
        "INSERT INTO webhooks (id, url, events, unit_code, description, secret, enabled, owner, \
         failing_since, disabled_reason, created_at, updated_at) VALUES ('{id}', '{url}', \
         '{events}', {unit}, NULL, '{secret}', {enabled}, NULL, NULL, NULL, '{now}', '{now}')"
    ));
    (id, secret)
}

/// One attempt, as stored.
#[derive(Debug, diesel::QueryableByName)]
struct AttemptRow {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    attempt: i32,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    http_status: Option<i32>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    error: Option<String>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    duration_ms: i64,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    retried: bool,
}

/// A webhook's attempts in the order they were made.
fn attempts(db: &TestDb, webhook: &str) -> Vec<AttemptRow> {
    let sql = format!(
        "SELECT attempt, http_status, error, duration_ms, next_attempt_at IS NOT NULL AS retried \
         FROM webhook_attempts WHERE webhook_id = '{webhook}' ORDER BY id"
    );
    match db {
        TestDb::Sqlite { dir } => {
            let mut conn = TestDb::open_sqlite(dir);
            diesel::RunQueryDsl::load(diesel::sql_query(sql), &mut conn).unwrap()
        }
        db => {
            let mut conn = diesel::PgConnection::establish(&db.url()).unwrap();
            diesel::RunQueryDsl::load(diesel::sql_query(sql), &mut conn).unwrap()
        }
    }
}

/// How many of a webhook's deliveries have this status.
fn deliveries(db: &TestDb, webhook: &str, status: &str) -> i64 {
    db.count(&format!(
        "SELECT count(*) AS n FROM webhook_deliveries \
         WHERE webhook_id = '{webhook}' AND status = '{status}'"
    ))
}

/// Waits until a count query answers at least `n`.
async fn until_count(db: &TestDb, query: &str, n: i64) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let got = db.count(query);
        if got >= n {
            return;
        }
        assert!(Instant::now() < deadline, "{query}: {got}, not {n}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn until_delivered(db: &TestDb, webhook: &str, status: &str, n: i64) {
    until_count(
        db,
        &format!(
            "SELECT count(*) AS n FROM webhook_deliveries \
             WHERE webhook_id = '{webhook}' AND status = '{status}'"
        ),
        n,
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Making events

fn item(title: &str) -> Value {
    j!({
        "category": "tin-tuc",
        "title": title,
        "summary": "Tóm tắt",
        "body": "<p>Nội dung</p>",
        "draft": true
    })
}

async fn step(app: &TestApp, token: &str, path: &str, body: Value, status: u16) {
    json(app.post_as(token, path, &body).await, status).await;
}

/// Creates a unit as the admin: one `unit.created` event.
async fn create_unit(app: &TestApp, admin: &str, code: &str) {
    let unit = j!({"code": code, "name": format!("UBND {code}"), "kind": "district"});
    json(app.post_as(admin, "/api/v1/units", &unit).await, 201).await;
}

/// Asks a question: one `question.asked` event.
async fn ask(app: &TestApp, title: &str) -> Value {
    json(
        app.request(
            reqwest::Method::POST,
            "/api/v1/questions",
            None,
            Some(&j!({
                "title": title,
                "body": "Hồ sơ gồm những gì?",
                "category": "thu-tuc-hanh-chinh",
                "asker": {"name": "Nguyễn Văn An", "email": "an.nguyen@example.vn",
                          "phone": "0912345678"},
                "publish_consent": true
            })),
        )
        .await,
        201,
    )
    .await
}

/// An event with its `occurred_at` to the second: the feed gives fractions of a second, a
/// delivery whole seconds.
fn to_the_second(event: &Value) -> Value {
    let mut event = event.clone();
    let at = event["occurred_at"].as_str().expect("occurred_at");
    let at = chrono::DateTime::parse_from_rfc3339(at).expect("an RFC 3339 time");
    event["occurred_at"] = j!(at.timestamp());
    event
}

async fn metric(app: &TestApp, series: &str) -> f64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

// ---------------------------------------------------------------------------------------------
// The tests

/// An item's whole workflow and a question's whole life reach the receiver as the events of
/// the feed, each once, signed so that both a hand-written check and the reference library
/// accept them; webhooks get only the types and the unit they subscribed to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_and_a_questions_life_arrive_signed_as_in_the_feed() {
    let app = spawn_app_with(&LOCAL).await;
    let admin = app.admin_token().await;
    let editor = app.user("editor", None).await;
    let officer = app.user("officer", Some("so-xay-dung")).await;
    let all = Receiver::start(&[]).await;
    let unit_only = Receiver::start(&[]).await;
    let asked_only = Receiver::start(&[]).await;
    let (all_id, all_secret) = register(&app, &admin, &all.url(), &["*"]).await;
    let (unit_id, unit_secret) = insert_webhook(
        &app,
        &unit_only.url(),
        &["submission.published", "question.answered", "unit.created"],
        Some("so-xay-dung"),
    );
    let (asked_id, _) = insert_webhook(&app, &asked_only.url(), &["question.asked"], None);

    let created = json(
        app.post_as(&officer.token, "/api/v1/submissions", &item("Thông báo"))
            .await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/submissions/{id}/transitions");
    for (token, action) in [
        (&officer.token, "submit"),
        (&editor.token, "start_review"),
        (&editor.token, "publish"),
        (&editor.token, "unpublish"),
    ] {
        let body = if action == "unpublish" {
            j!({"action": action, "note": "Hết hạn"})
        } else {
            j!({"action": action})
        };
        step(&app, token, &path, body, 200).await;
    }
    let asked = ask(&app, "Cấp phép xây dựng").await;
    let questions = events_until(&app, &admin, "type=question.asked", 1).await;
    let qid = questions[0]["subject"]["id"].as_str().unwrap().to_string();
    let qpath = format!("/api/v1/questions/{qid}");
    let assign = j!({"action": "assign", "unit": "so-xay-dung"});
    step(
        &app,
        &editor.token,
        &format!("{qpath}/transitions"),
        assign,
        200,
    )
    .await;
    for body in ["Hồ sơ gồm đơn và bản vẽ.", "Bổ sung: nộp trực tuyến được."]
    {
        let reply = j!({"body": body});
        step(
            &app,
            &officer.token,
            &format!("{qpath}/replies"),
            reply,
            201,
        )
        .await;
    }
    let publish = j!({"action": "publish"});
    step(
        &app,
        &editor.token,
        &format!("{qpath}/transitions"),
        publish,
        200,
    )
    .await;
    let rating = format!(
        "/api/v1/tracking/{}/rating?key={}",
        asked["tracking_code"].as_str().unwrap(),
        asked["access_key"].as_str().unwrap()
    );
    let rated = app
        .request(
            reqwest::Method::POST,
            &rating,
            None,
            Some(&j!({"score": 5})),
        )
        .await;
    assert_eq!(rated.status(), 200);

    let feed = events_until(&app, &admin, "", 11).await;
    assert_eq!(feed.len(), 11, "{feed:#?}");
    let got = all.until(feed.len()).await;
    // Deliveries run concurrently, so arrival order is not guaranteed; `seq` gives the order.
    let mut bodies: Vec<Value> = got.iter().map(Received::json).collect();
    bodies.sort_by_key(|b| b["seq"].as_i64().unwrap());
    assert_eq!(
        bodies.iter().map(to_the_second).collect::<Vec<_>>(),
        feed.iter().map(to_the_second).collect::<Vec<_>>(),
        "the receiver got other events than the feed lists"
    );
    let types: Vec<&str> = bodies.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "submission.created",
            "submission.submitted",
            "submission.review_started",
            "submission.published",
            "submission.unpublished",
            "question.asked",
            "question.assigned",
            "question.answered",
            "question.replied",
            "question.published",
            "question.rated",
        ]
    );
    for request in &got {
        assert!(
            request.path.starts_with("/hook?token=abc"),
            "{}",
            request.path
        );
        assert_signed(request, &all_secret);
    }

    // The unit's webhook got its two types of that unit's business only; the question.asked
    // one its single event.
    let ours = unit_only.until(2).await;
    for request in &ours {
        assert_signed(request, &unit_secret);
        assert_eq!(request.json()["unit"], "so-xay-dung");
    }
    let mut ours: Vec<String> = ours
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_string())
        .collect();
    ours.sort();
    assert_eq!(ours, ["question.answered", "submission.published"]);
    asked_only.until(1).await;
    for (webhook, n) in [(&all_id, 11), (&unit_id, 2), (&asked_id, 1)] {
        until_delivered(&app.db, webhook, "succeeded", n).await;
        let total = app.db.count(&format!(
            "SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = '{webhook}'"
        ));
        assert_eq!(total, n, "{webhook}");
    }
    assert_eq!(all.got().len(), 11);
    assert_eq!(unit_only.got().len(), 2);
    assert_eq!(asked_only.got().len(), 1);
    let mut checked: Vec<(&Received, &str)> =
        got.iter().map(|r| (r, all_secret.as_str())).collect();
    let theirs = unit_only.got();
    checked.extend(theirs.iter().map(|r| (r, unit_secret.as_str())));
    verify_with_the_reference_library(&checked);
    assert_eq!(
        metric(&app, "webhook_deliveries_total{outcome=\"succeeded\"}").await,
        14.0
    );
    assert_eq!(
        metric(&app, "events_total{type=\"submission.created\"}").await,
        1.0
    );
    assert_eq!(
        metric(&app, "events_total{type=\"question.replied\"}").await,
        1.0
    );
}

/// A receiver answering 500 twice then 200 gets the event three times, and the three
/// attempts are recorded; one that always fails is given up after the last retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_retried_on_schedule_then_given_up() {
    let app = spawn_app_with(&LOCAL).await;
    let admin = app.admin_token().await;
    let flaky = Receiver::start(&[Reply::Status(500), Reply::Status(500)]).await;
    let broken = Receiver::start(&[Reply::Status(503); 10]).await;
    let (flaky_id, flaky_secret) = register(&app, &admin, &flaky.url(), &["unit.created"]).await;
    let (broken_id, _) = insert_webhook(&app, &broken.url(), &["unit.created"], None);
    create_unit(&app, &admin, "xa-thu-lai").await;

    until_delivered(&app.db, &flaky_id, "succeeded", 1).await;
    let got = flaky.got();
    assert_eq!(got.len(), 3);
    for request in &got {
        assert_signed(request, &flaky_secret);
        assert_eq!(request.header("webhook-id"), got[0].header("webhook-id"));
        assert_eq!(request.body, got[0].body);
    }
    verify_with_the_reference_library(&[(&got[2], flaky_secret.as_str())]);
    let tried = attempts(&app.db, &flaky_id);
    let seen: Vec<(i32, Option<i32>, bool)> = tried
        .iter()
        .map(|a| (a.attempt, a.http_status, a.retried))
        .collect();
    assert_eq!(
        seen,
        [
            (1, Some(500), true),
            (2, Some(500), true),
            (3, Some(200), false)
        ]
    );
    assert!(tried.iter().all(|a| a.error.is_none()));
    // The deliveries list shows the three attempts, newest first.
    let listed = json(
        app.get_as(&admin, &format!("/api/v1/webhooks/{flaky_id}/deliveries"))
            .await,
        200,
    )
    .await;
    let listed: Vec<(i64, i64, String, bool)> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            assert_eq!(a["event_type"], "unit.created");
            assert_eq!(a["event_id"].as_str(), Some(got[0].header("webhook-id")));
            (
                a["attempt"].as_i64().unwrap(),
                a["http_status"].as_i64().unwrap(),
                a["outcome"].as_str().unwrap().to_string(),
                a["next_attempt_at"].is_string(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (3, 200, "succeeded".to_string(), false),
            (2, 500, "failed".to_string(), true),
            (1, 500, "failed".to_string(), true)
        ]
    );

    until_delivered(&app.db, &broken_id, "failed", 1).await;
    let tried = attempts(&app.db, &broken_id);
    assert_eq!(
        tried.len(),
        4,
        "the first attempt and three retries: {tried:?}"
    );
    assert!(tried.iter().all(|a| a.http_status == Some(503)));
    assert_eq!(broken.got().len(), 4);
    assert_eq!(
        app.db.count(&format!(
            "SELECT count(*) AS n FROM webhooks WHERE id = '{broken_id}' \
             AND failing_since IS NOT NULL AND enabled"
        )),
        1
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT count(*) AS n FROM webhooks WHERE id = '{flaky_id}' \
             AND failing_since IS NULL"
        )),
        1
    );
    for (outcome, n) in [("succeeded", 1.0), ("retry", 5.0), ("failed", 1.0)] {
        let series = format!("webhook_deliveries_total{{outcome=\"{outcome}\"}}");
        assert_eq!(metric(&app, &series).await, n, "{outcome}");
    }
    assert_eq!(
        metric(&app, "events_total{type=\"unit.created\"}").await,
        1.0
    );
    // The gauge is measured every few seconds: it falls to 0 at the next measurement.
    let deadline = Instant::now() + DEADLINE;
    while metric(&app, "webhook_oldest_pending_delivery_seconds").await != 0.0 {
        assert!(
            Instant::now() < deadline,
            "a delivery is still counted as pending"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A receiver that never answers is cut off at 10 s and tried again, and the API answers
/// meanwhile as quickly as ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_receiver_is_cut_at_ten_seconds_and_retried() {
    let app = spawn_app_with(&LOCAL).await;
    let admin = app.admin_token().await;
    let hanging = Receiver::start(&[Reply::Hang]).await;
    let (id, secret) = insert_webhook(&app, &hanging.url(), &["unit.created"], None);
    create_unit(&app, &admin, "xa-cho-lau").await;
    hanging.until(1).await;
    let started = Instant::now();
    let live = app.get("/health/live").await;
    assert_eq!(live.status(), 200);
    // Were the API held up by the hanging attempt, this would take its 10 s.
    assert!(started.elapsed() < Duration::from_secs(5));
    create_unit(&app, &admin, "xa-van-chay").await;

    until_delivered(&app.db, &id, "succeeded", 2).await;
    let tried = attempts(&app.db, &id);
    let cut = tried
        .iter()
        .find(|a| a.http_status.is_none())
        .expect("the cut attempt is recorded");
    assert_eq!(cut.attempt, 1);
    assert!(cut.retried);
    assert_eq!(cut.error.as_deref(), Some("timed out after 10 s"));
    assert!(
        (10_000..15_000).contains(&cut.duration_ms),
        "{}",
        cut.duration_ms
    );
    let got = hanging.got();
    assert_eq!(got.len(), 3, "once cut, once again, and the second unit");
    for request in &got {
        assert_signed(request, &secret);
    }
}

/// Without PORTAL_WEBHOOK_ALLOW_PRIVATE, a webhook pointing at the loopback interface, by
/// address or by a name that resolves there, is never contacted, and its attempts say why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loopback_url_is_refused_without_allow_private() {
    let app = spawn_app_with(&[("PORTAL_WEBHOOK_RETRY_SECONDS", "3600")]).await;
    let admin = app.admin_token().await;
    let inside = Receiver::start(&[]).await;
    let (by_address, _) = insert_webhook(&app, &inside.url(), &["*"], None);
    let by_name_url = format!("http://localhost:{}/hook", inside.port);
    let (by_name, _) = insert_webhook(&app, &by_name_url, &["*"], None);
    create_unit(&app, &admin, "xa-noi-bo").await;

    for webhook in [&by_address, &by_name] {
        until_count(
            &app.db,
            &format!("SELECT count(*) AS n FROM webhook_attempts WHERE webhook_id = '{webhook}'"),
            1,
        )
        .await;
    }
    let by_address = attempts(&app.db, &by_address);
    assert_eq!(by_address.len(), 1);
    assert_eq!(
        by_address[0].error.as_deref(),
        Some("refused: the address is loopback, private or link-local")
    );
    assert!(by_address[0].retried);
    let by_name = attempts(&app.db, &by_name);
    assert_eq!(
        by_name[0].error.as_deref(),
        Some("refused: the host resolves only to loopback, private or link-local addresses")
    );
    assert_eq!(by_name[0].http_status, None);
    assert!(inside.got().is_empty(), "the receiver was contacted");
}

/// A disabled webhook gets no delivery, not even one left pending from before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_webhook_gets_nothing() {
    let app = spawn_app_with(&LOCAL).await;
    let admin = app.admin_token().await;
    let on = Receiver::start(&[]).await;
    let off = Receiver::start(&[]).await;
    let (on_id, _) = insert_webhook(&app, &on.url(), &["*"], None);
    let (off_id, _) = insert_webhook_with(&app, &off.url(), &["*"], None, false);
    app.db.execute(&format!(
        "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, payload, status, \
         attempts, next_attempt_at, created_at) VALUES ('{off_id}', 'evt_left', 'unit.created', \
         '{{}}', 'pending', 0, '2020-01-01 00:00:00', '2020-01-01 00:00:00')"
    ));
    create_unit(&app, &admin, "xa-mot").await;
    create_unit(&app, &admin, "xa-hai").await;
    on.until(2).await;
    until_delivered(&app.db, &on_id, "succeeded", 2).await;
    assert!(off.got().is_empty());
    assert_eq!(deliveries(&app.db, &off_id, "pending"), 1);
    assert_eq!(
        app.db.count(&format!(
            "SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = '{off_id}'"
        )),
        1
    );
}

/// A failure after five days of failures disables the webhook, gives up its pending
/// deliveries, and tells whoever subscribed with a `webhook.disabled` event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_failing_for_five_days_is_disabled_with_an_event() {
    let app = spawn_app_with(&LOCAL).await;
    let admin = app.admin_token().await;
    let failing = Receiver::start(&[Reply::Status(500); 10]).await;
    let watcher = Receiver::start(&[]).await;
    let (failing_id, _) = insert_webhook(&app, &failing.url(), &["unit.created"], None);
    let since = (chrono::Utc::now() - chrono::Duration::days(6))
        .naive_utc()
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    app.db.execute(&format!(
        "UPDATE webhooks SET failing_since = '{since}' WHERE id = '{failing_id}'"
    ));
    let (_, watcher_secret) = insert_webhook(&app, &watcher.url(), &["webhook.disabled"], None);
    create_unit(&app, &admin, "xa-hong").await;

    let got = watcher.until(1).await;
    assert_signed(&got[0], &watcher_secret);
    let event = got[0].json();
    assert_eq!(event["type"], "webhook.disabled");
    assert_eq!(event["subject"], j!({"kind": "webhook", "id": failing_id}));
    assert!(event["data"]["reason"].as_str().unwrap().contains("failed"));
    assert_eq!(failing.got().len(), 1);
    assert_eq!(
        app.db.count(&format!(
            "SELECT count(*) AS n FROM webhooks WHERE id = '{failing_id}' AND NOT enabled \
             AND disabled_reason IS NOT NULL"
        )),
        1
    );
    assert_eq!(deliveries(&app.db, &failing_id, "failed"), 1);
    let feed = events_until(&app, &admin, "type=webhook.disabled", 1).await;
    assert_eq!(feed[0]["id"], event["id"]);
}

/// Two instances on one database share the work: every event reaches the receiver once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_deliver_each_event_once() {
    let app = spawn_app_with(&LOCAL).await;
    let other = start(TestDb::Shared { url: app.db.url() }, &LOCAL).await;
    let receiver = Receiver::start(&[]).await;
    let (id, _) = insert_webhook(&app, &receiver.url(), &["question.asked"], None);
    let n = 120;
    let asks = (0..n).map(|i| {
        let instance = if i % 2 == 0 { &app } else { &other };
        async move { ask(instance, &format!("Câu hỏi số {i}")).await }
    });
    futures_util::future::join_all(asks).await;
    until_delivered(&app.db, &id, "succeeded", n).await;
    let got = receiver.got();
    let mut ids: Vec<&str> = got.iter().map(|r| r.header("webhook-id")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n as usize);
    assert_eq!(got.len(), n as usize, "an event was sent twice");
    let series = "webhook_deliveries_total{outcome=\"succeeded\"}";
    let shared = metric(&app, series).await + metric(&other, series).await;
    assert_eq!(shared, n as f64);
}

/// An instance stopped while an attempt is in flight gives the delivery back: the next
/// instance sends it at once rather than when the lease would have run out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_abandoned_at_shutdown_is_sent_by_the_next_instance() {
    let app = spawn_app_with(&LOCAL).await;
    let admin = app.admin_token().await;
    let receiver = Receiver::start(&[Reply::Hang]).await;
    let (id, _) = insert_webhook(&app, &receiver.url(), &["unit.created"], None);
    create_unit(&app, &admin, "xa-dung-lai").await;
    receiver.until(1).await;
    let TestApp { _server, db, .. } = app;
    drop(_server);
    let restarted = Instant::now();
    let next = start(TestDb::Shared { url: db.url() }, &LOCAL).await;
    until_delivered(&db, &id, "succeeded", 1).await;
    assert!(
        restarted.elapsed() < Duration::from_secs(20),
        "waited for the lease: {:?}",
        restarted.elapsed()
    );
    let got = receiver.got();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    drop(next);
}

/// A delivery claimed by an instance that died (its lease still running) is sent once the
/// lease runs out, by whichever instance is alive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_instances_claim_runs_out_and_the_delivery_is_sent() {
    let app = spawn_app_with(&LOCAL).await;
    let receiver = Receiver::start(&[]).await;
    let (id, secret) = insert_webhook(&app, &receiver.url(), &["*"], None);
    let lease = chrono::Utc::now() + chrono::Duration::seconds(3);
    let lease_text = lease.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f");
    let body = r#"{"id":"evt_claimed_by_the_dead","type":"unit.created"}"#;
    app.db.execute(&format!(
        "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, payload, status, \
         attempts, next_attempt_at, lease_until, created_at) VALUES ('{id}', \
         'evt_claimed_by_the_dead', 'unit.created', '{body}', 'pending', 0, \
         '2020-01-01 00:00:00', '{lease_text}', '2020-01-01 00:00:00')"
    ));
    let got = receiver.until(1).await;
    assert!(
        got[0].at >= lease,
        "sent at {}, before the dead instance's lease ran out at {lease}",
        got[0].at
    );
    assert_eq!(got[0].header("webhook-id"), "evt_claimed_by_the_dead");
    assert_eq!(got[0].body, body.as_bytes());
    assert_signed(&got[0], &secret);
    until_delivered(&app.db, &id, "succeeded", 1).await;
}

/// Measures how fast a backlog of events drains to a local receiver (one webhook taking every
/// event). Not part of the suite: run it alone, e.g.
/// `PORTAL_TEST_BACKLOG=20000 cargo test --test api -- --ignored backlog --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run on its own"]
async fn a_backlog_drains_to_a_local_receiver() {
    let n: i64 = std::env::var("PORTAL_TEST_BACKLOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let app = spawn_app_with(&LOCAL).await;
    let receiver = Receiver::start(&[]).await;
    let (id, _) = insert_webhook(&app, &receiver.url(), &["*"], None);
    let columns = "id, seq, type, occurred_at, unit_code, subject_kind, subject_id, data";
    // After the webhook was made: a webhook gets no event from before it existed.
    let at = (chrono::Utc::now() + chrono::Duration::seconds(1))
        .naive_utc()
        .format("%Y-%m-%d %H:%M:%S");
    app.db.execute(&match app.db {
        TestDb::Sqlite { .. } => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
             INSERT INTO events ({columns}) SELECT printf('evt_%032d', i), i, 'unit.updated', \
             '{at}', 'so-xay-dung', 'unit', 'so-xay-dung', \
             '{{\"name\": \"Sở Xây dựng\"}}' FROM n"
        ),
        _ => format!(
            "INSERT INTO events ({columns}) SELECT 'evt_' || lpad(i::text, 32, '0'), i, \
             'unit.updated', '{at}', 'so-xay-dung', 'unit', 'so-xay-dung', \
             '{{\"name\": \"Sở Xây dựng\"}}' FROM generate_series(1, {n}) i"
        ),
    });
    let started = Instant::now();
    let mut fanned_out = None;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if fanned_out.is_none()
            && app.db.count(&format!(
                "SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = '{id}'"
            )) >= n
        {
            fanned_out = Some(started.elapsed());
        }
        if deliveries(&app.db, &id, "succeeded") >= n {
            break;
        }
        assert!(Instant::now() < deadline, "not drained in 10 minutes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = started.elapsed();
    assert_eq!(receiver.got().len(), n as usize);
    eprintln!(
        "backlog of {n} events: fanned out in {:.2?}, delivered in {took:.2?}: {:.0} deliveries/s",
        fanned_out.unwrap_or(took),
        n as f64 / took.as_secs_f64()
    );
}
