//! The event log and its feed: every change is an event, in commit order, and only a change
//! that committed has one.

use std::time::{Duration, Instant};

use serde_json::{json as j, Value};

use crate::helpers::{json, problem, spawn_app, spawn_app_with, TestApp, TestDb};

/// Reads the feed with `query` until it lists at least `n` events (on PostgreSQL events are
/// numbered just after they commit), and returns them all.
pub async fn events_until(app: &TestApp, token: &str, query: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page = json(
            app.get_as(token, &format!("/api/v1/events?limit=1000&{query}"))
                .await,
            200,
        )
        .await;
        let items = page["items"].as_array().unwrap().clone();
        if items.len() >= n || Instant::now() > deadline {
            return items;
        }
        tokio::task::yield_now().await;
    }
}

/// The types of events about one subject, in feed order.
pub fn types_of(events: &[Value], subject: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["subject"]["id"] == subject)
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

fn item(title: &str) -> Value {
    j!({
        "category": "tin-tuc",
        "title": title,
        "summary": "Tóm tắt",
        "body": "<p>Nội dung</p>",
        "draft": true
    })
}

async fn step(app: &TestApp, token: &str, id: &str, action: &str, note: Option<&str>) {
    let body = match note {
        Some(n) => j!({"action": action, "note": n}),
        None => j!({"action": action}),
    };
    json(
        app.post_as(
            token,
            &format!("/api/v1/submissions/{id}/transitions"),
            &body,
        )
        .await,
        200,
    )
    .await;
}

/// An item's whole workflow and a question's whole life, in the feed in the order they
/// happened, with what a receiver needs and nothing of the asker's.
#[tokio::test]
async fn every_change_is_an_event_in_commit_order() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let editor = app.user("editor", None).await;
    let officer = app.user("officer", Some("so-xay-dung")).await;

    let created = json(
        app.post_as(
            &officer.token,
            "/api/v1/submissions",
            &item("Thông báo tuyển dụng"),
        )
        .await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    let edited = app
        .client
        .patch(format!("{}/api/v1/submissions/{id}", app.address))
        .bearer_auth(&officer.token)
        .header("if-match", "\"1\"")
        .json(&j!({"title": "Thông báo tuyển dụng công chức"}))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 200, "{}", edited.text().await.unwrap());
    step(&app, &officer.token, &id, "submit", None).await;
    step(&app, &editor.token, &id, "start_review", None).await;
    step(&app, &editor.token, &id, "return", Some("Bổ sung ảnh")).await;
    step(&app, &officer.token, &id, "submit", None).await;
    step(&app, &editor.token, &id, "start_review", None).await;
    step(&app, &editor.token, &id, "publish", None).await;
    step(&app, &editor.token, &id, "unpublish", Some("Hết hạn")).await;

    let asked = json(
        app.request(
            reqwest::Method::POST,
            "/api/v1/questions",
            None,
            Some(&j!({
                "title": "Cấp phép xây dựng",
                "body": "Hồ sơ gồm những gì?",
                "category": "thu-tuc-hanh-chinh",
                "asker": {"name": "Nguyễn Văn An", "email": "an.nguyen@example.vn",
                          "phone": "0912345678", "address": "12 Trần Hưng Đạo"},
                "publish_consent": true
            })),
        )
        .await,
        201,
    )
    .await;
    let code = asked["tracking_code"].as_str().unwrap();
    let key = asked["access_key"].as_str().unwrap();
    let questions = events_until(&app, &admin, "type=question.asked", 1).await;
    let qid = questions[0]["subject"]["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/questions/{qid}");
    json(
        app.post_as(
            &editor.token,
            &format!("{path}/transitions"),
            &j!({"action": "assign", "unit": "so-xay-dung"}),
        )
        .await,
        200,
    )
    .await;
    for body in ["Hồ sơ gồm đơn và bản vẽ.", "Bổ sung: nộp trực tuyến được."]
    {
        json(
            app.post_as(
                &officer.token,
                &format!("{path}/replies"),
                &j!({"body": body}),
            )
            .await,
            201,
        )
        .await;
    }
    json(
        app.post_as(
            &editor.token,
            &format!("{path}/transitions"),
            &j!({"action": "publish"}),
        )
        .await,
        200,
    )
    .await;
    json(
        app.request(
            reqwest::Method::POST,
            &format!("/api/v1/tracking/{code}/rating?key={key}"),
            None,
            Some(&j!({"score": 5})),
        )
        .await,
        200,
    )
    .await;

    let events = events_until(&app, &admin, "", 15).await;
    assert_eq!(events.len(), 15);
    assert_eq!(
        types_of(&events, &id),
        [
            "submission.created",
            "submission.updated",
            "submission.submitted",
            "submission.review_started",
            "submission.returned",
            "submission.submitted",
            "submission.review_started",
            "submission.published",
            "submission.unpublished",
        ]
    );
    assert_eq!(
        types_of(&events, &qid),
        [
            "question.asked",
            "question.assigned",
            "question.answered",
            "question.replied",
            "question.published",
            "question.rated",
        ]
    );
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let returned = events
        .iter()
        .find(|e| e["type"] == "submission.returned")
        .unwrap();
    assert_eq!(returned["unit"], "so-xay-dung");
    assert_eq!(returned["subject"], j!({"kind": "submission", "id": id}));
    assert_eq!(returned["data"]["note"], "Bổ sung ảnh");
    assert_eq!(returned["data"]["status"], "returned");
    assert_eq!(returned["data"]["actor_role"], "editor");
    assert_eq!(returned["data"]["title"], "Thông báo tuyển dụng công chức");
    assert!(returned["id"].as_str().unwrap().starts_with("evt_"));
    let answered = events
        .iter()
        .find(|e| e["type"] == "question.answered")
        .unwrap();
    assert_eq!(answered["data"]["due_at"], events[9]["data"]["due_at"]);
    assert_eq!(
        answered["data"]["reply"]["body"],
        "Hồ sơ gồm đơn và bản vẽ."
    );
    assert_eq!(answered["data"]["actor_role"], "officer");
    let text = serde_json::to_string(&events).unwrap();
    for private in [
        "Nguyễn Văn An",
        "an.nguyen@example.vn",
        "912345678",
        "Trần Hưng Đạo",
        key,
    ] {
        assert!(!text.contains(private), "{private} leaked into an event");
    }

    // Paging: after_seq continues, next_cursor says where.
    let first = json(app.get_as(&admin, "/api/v1/events?limit=5").await, 200).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 5);
    let cursor = first["next_cursor"].as_str().unwrap();
    assert_eq!(cursor, seqs[4].to_string());
    let next = json(
        app.get_as(
            &admin,
            &format!("/api/v1/events?limit=5&after_seq={cursor}"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(next["items"][0]["seq"], seqs[5]);
    let last = json(
        app.get_as(
            &admin,
            &format!("/api/v1/events?after_seq={}", seqs[seqs.len() - 1]),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(last, j!({"items": [], "next_cursor": null}));
}

/// Officers see their unit's events only; the board and viewers see all; filters by type and
/// unit combine; bad parameters are named.
#[tokio::test]
async fn the_feed_shows_each_reader_what_it_may_see() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let ours = app.user("officer", Some("so-xay-dung")).await;
    let theirs = app.user("officer", Some("so-noi-vu")).await;
    let viewer = app.user("viewer", None).await;
    for (user, title) in [
        (&ours, "Tin của Sở Xây dựng"),
        (
            &theirs,
            r#"Tin của Sở Nội vụ: 'trích dẫn' \ "ngoặc" \' ');"#,
        ),
    ] {
        json(
            app.post_as(&user.token, "/api/v1/submissions", &item(title))
                .await,
            201,
        )
        .await;
    }
    let holiday = j!({"name": "Nghỉ bù", "kind": "holiday", "source": "Thông báo 1"});
    let set = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/calendar/holidays/2030-05-02",
            Some(&admin),
            Some(&holiday),
        )
        .await;
    assert_eq!(set.status(), 201);
    let all = events_until(&app, &viewer.token, "", 3).await;
    assert_eq!(all.len(), 3);
    assert_eq!(all[2]["type"], "holiday.changed");
    assert_eq!(
        all[2]["subject"],
        j!({"kind": "holiday", "id": "2030-05-02"})
    );
    let own = events_until(&app, &ours.token, "", 1).await;
    assert_eq!(own.len(), 1);
    assert_eq!(own[0]["data"]["title"], "Tin của Sở Xây dựng");
    // Asking for another unit shows nothing rather than the other unit's events.
    let other = events_until(&app, &ours.token, "unit=so-noi-vu", 0).await;
    assert!(other.is_empty());
    let by_unit = events_until(&app, &admin, "unit=so-noi-vu", 1).await;
    assert_eq!(by_unit.len(), 1);
    assert_eq!(
        by_unit[0]["data"]["title"],
        r#"Tin của Sở Nội vụ: 'trích dẫn' \ "ngoặc" \' ');"#
    );
    let by_type = events_until(&app, &admin, "type=holiday.changed,unit.created", 1).await;
    assert_eq!(by_type.len(), 1);
    for (query, name) in [
        ("type=submission.nope", "type"),
        ("type=webhook.test", "type"),
        ("after_seq=-1", "after_seq"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
    ] {
        let refused = problem(
            app.get_as(&admin, &format!("/api/v1/events?{query}")).await,
            400,
            "invalid_parameter",
        )
        .await;
        assert!(refused.to_string().contains(name), "{query}: {refused}");
    }
    problem(app.get("/api/v1/events").await, 401, "unauthorized").await;
}

/// A change the database refuses leaves no event, and the questions around it keep theirs.
#[tokio::test]
async fn a_change_that_rolls_back_leaves_no_event() {
    let app = spawn_app_with(&[("PORTAL_QUESTIONS_PER_MINUTE", "100000")]).await;
    let admin = app.admin_token().await;
    let refused = "Câu hỏi cơ sở dữ liệu từ chối";
    app.db.execute(&match app.db {
        TestDb::Sqlite { .. } => format!(
            "CREATE TRIGGER refuse BEFORE INSERT ON questions WHEN NEW.title = '{refused}' \
             BEGIN SELECT RAISE(ABORT, 'refused'); END;"
        ),
        _ => format!(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.title = '{refused}' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; \
             END $$; CREATE TRIGGER refuse BEFORE INSERT ON questions FOR EACH ROW \
             EXECUTE FUNCTION refuse();"
        ),
    });
    let mut asked = 0;
    for title in [
        "Câu hỏi gửi trước lần lỗi",
        refused,
        "Câu hỏi gửi sau lần lỗi",
        refused,
    ] {
        let response = app
            .request(
                reqwest::Method::POST,
                "/api/v1/questions",
                None,
                Some(&j!({
                    "title": title, "body": "Xin hỏi thủ tục và thời hạn giải quyết như thế nào?",
                    "asker": {"name": "Trần Thị Bình", "phone": "0987654321"}, "publish_consent": false
                })),
            )
            .await;
        if title == refused {
            assert!(response.status().is_server_error(), "{}", response.status());
        } else {
            json(response, 201).await;
            asked += 1;
        }
    }
    // A change that commits after the refusals is numbered after the ones before them.
    let unit = j!({"code": "xa-moi", "name": "UBND xã Mới", "kind": "district"});
    json(app.post_as(&admin, "/api/v1/units", &unit).await, 201).await;
    let events = events_until(&app, &admin, "", asked + 1).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["question.asked", "question.asked", "unit.created"]);
    assert_eq!(
        app.db.count("SELECT count(*) AS n FROM events"),
        asked as i64 + 1
    );
    assert_eq!(
        app.db.count("SELECT count(*) AS n FROM questions"),
        asked as i64
    );
}

/// A read filtered by unit looks at a bounded stretch of the log: past it, the page says where
/// it stopped, and reading on from there finds what lies further.
#[tokio::test]
async fn a_filtered_read_stops_at_a_bounded_stretch_and_says_where() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let officer = app.user("officer", Some("so-xay-dung")).await;
    // 25,000 events of another unit, put in the log behind the service's back.
    let rows = match app.db {
        TestDb::Sqlite { .. } => {
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25000) \
             SELECT i, printf('evt_%032d', i) AS id FROM n"
        }
        _ => "SELECT i, 'evt_' || lpad(i::text, 32, '0') AS id FROM generate_series(1, 25000) i",
    };
    app.db.execute(&format!(
        "INSERT INTO events (seq, id, type, occurred_at, unit_code, subject_kind, subject_id, \
         data) SELECT i, id, 'unit.updated', '2026-01-01 00:00:00', 'so-noi-vu', 'unit', \
         'so-noi-vu', '{{}}' FROM ({rows}) AS numbered"
    ));
    json(
        app.post_as(
            &officer.token,
            "/api/v1/submissions",
            &item("Tin sau nhiều sự kiện"),
        )
        .await,
        201,
    )
    .await;
    let first = json(app.get_as(&officer.token, "/api/v1/events").await, 200).await;
    assert_eq!(first["items"], j!([]));
    assert_eq!(first["next_cursor"], "20000");
    // On PostgreSQL an event is listed once every transaction older than its own has ended.
    let listed = events_until(&app, &officer.token, "after_seq=20000", 1).await;
    assert_eq!(listed.len(), 1);
    let next = json(
        app.get_as(&officer.token, "/api/v1/events?after_seq=20000")
            .await,
        200,
    )
    .await;
    assert_eq!(next["items"][0]["type"], "submission.created");
    let seq = next["items"][0]["seq"].as_i64().unwrap();
    match app.db {
        // SQLite numbers on from the largest; PostgreSQL from its transaction's id.
        TestDb::Sqlite { .. } => assert_eq!(seq, 25001),
        _ => assert!(seq > 25000, "{seq}"),
    }
    assert_eq!(next["next_cursor"], j!(null));
    // Unfiltered, the board reads on without a stretch.
    let all = json(app.get_as(&admin, "/api/v1/events?limit=3").await, 200).await;
    assert_eq!(all["next_cursor"], "3");
}
