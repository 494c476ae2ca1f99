use serde_json::{json as j, Value};

use crate::helpers::{json, problem, spawn_app, spawn_app_at, spawn_app_with, TestApp, TestDb};

const OPENAPI: &str = include_str!("../../openapi/openapi.json");

const EMAIL: &str = "an.nguyen@example.vn";
const PHONE: &str = "0912 345 678";

fn question(title: &str, unit: Option<&str>) -> Value {
    j!({
        "title": title,
        "body": "Xin hỏi thủ tục và thời hạn giải quyết như thế nào?",
        "unit": unit,
        "category": "thu-tuc-hanh-chinh",
        "asker": {
            "name": "Nguyễn Văn An", "email": EMAIL, "phone": PHONE,
            "address": "12 Trần Hưng Đạo, Đồng Xoài", "organization": "Công ty ABC"
        },
        "publish_consent": true
    })
}

/// Asks a question that must be refused as invalid; the problem answered.
async fn ask_refused(app: &TestApp, body: &Value) -> Value {
    let response = app
        .request(reqwest::Method::POST, "/api/v1/questions", None, Some(body))
        .await;
    problem(response, 422, "validation_failed").await
}

async fn track(app: &TestApp, code: &str, key: &str) -> reqwest::Response {
    app.client
        .get(format!("{}/api/v1/tracking/{code}", app.address))
        .header("x-access-key", key)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_question_is_routed_answered_published_found_tracked_and_rated() {
    let app = spawn_app().await;
    let editor = app.user("editor", None).await;
    let officer = app.user("officer", Some("so-xay-dung")).await;
    let asked = app
        .ask(&question("Cấp giấy phép xây dựng nhà ở", None))
        .await;
    assert_eq!(asked["status"], "received");
    let code = asked["tracking_code"].as_str().unwrap().to_string();
    let key = asked["access_key"].as_str().unwrap().to_string();
    assert!(key.len() >= 43, "at least 256 bits: {key}");
    assert!(asked["due_at"]
        .as_str()
        .unwrap()
        .ends_with("T23:59:59+07:00"));

    let id = app.question_id(&editor.token, &code).await;
    let path = format!("/api/v1/questions/{id}");
    // Not assigned yet: the officer does not see it.
    problem(app.get_as(&officer.token, &path).await, 404, "not_found").await;
    let routed = json(
        app.post_as(
            &editor.token,
            &format!("{path}/transitions"),
            &j!({"action": "assign", "unit": "so-xay-dung"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(routed["status"], "assigned");
    assert_eq!(routed["due_at"], asked_due_utc(&asked));
    let seen = json(app.get_as(&officer.token, &path).await, 200).await;
    assert_eq!(seen["asker"]["email"], EMAIL);
    assert_eq!(seen["allowed_actions"], j!(["reply"]));
    let answered = json(
        app.post_as(
            &officer.token,
            &format!("{path}/replies"),
            &j!({"body": "Hồ sơ gồm đơn và bản vẽ; thời hạn 15 ngày."}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(answered["status"], "answered");
    assert!(answered["answered_at"].is_string());
    let follow_up = json(
        app.post_as(
            &editor.token,
            &format!("{path}/replies"),
            &j!({"body": "Bổ sung: nộp trực tuyến được."}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        follow_up["answered_at"], answered["answered_at"],
        "a follow-up keeps the first answer time"
    );
    let published = json(
        app.post_as(
            &officer.token,
            &format!("{path}/transitions"),
            &j!({"action": "publish"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(published["status"], "published");

    let found = json(
        app.get("/api/v1/public/questions?q=giay%20phep%20xay%20dung")
            .await,
        200,
    )
    .await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let public = &found["items"][0];
    assert_eq!(public["asker"], "N. V. A.");
    assert_eq!(public["replies"].as_array().unwrap().len(), 2);
    assert_eq!(public["replies"][0]["unit"], "so-xay-dung");
    assert!(
        json(app.get("/api/v1/public/questions?q=thue%20dat").await, 200).await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let tracked = json(track(&app, &code, &key).await, 200).await;
    assert_eq!(tracked["status"], "published");
    assert_eq!(tracked["overdue"], false);
    assert_eq!(tracked["replies"].as_array().unwrap().len(), 2);
    let by_query = app
        .get(&format!(
            "/api/v1/tracking/{}?key={key}",
            code.to_lowercase()
        ))
        .await;
    json(by_query, 200).await;
    let rated = json(
        app.request(
            reqwest::Method::POST,
            &format!("/api/v1/tracking/{code}/rating?key={key}"),
            None,
            Some(&j!({"score": 5, "comment": "Rõ ràng"})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(rated["rating"], j!({"score": 5, "comment": "Rõ ràng"}));
    let again = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/tracking/{code}/rating?key={key}"),
            None,
            Some(&j!({"score": 1})),
        )
        .await;
    problem(again, 409, "conflict").await;
}

fn asked_due_utc(asked: &Value) -> Value {
    let due = chrono::DateTime::parse_from_rfc3339(asked["due_at"].as_str().unwrap()).unwrap();
    j!(due
        .with_timezone(&chrono::Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

#[tokio::test]
async fn a_question_received_before_tet_2024_is_due_after_it() {
    // 2024-02-05 10:00 in Vietnam.
    let app = spawn_app_at("2024-02-05T03:00:00").await;
    let asked = app.ask(&question("Hỏi trước Tết", Some("so-noi-vu"))).await;
    assert_eq!(asked["status"], "assigned");
    assert_eq!(asked["due_at"], "2024-03-04T23:59:59+07:00");
    // A category with its own deadline.
    let admin = app.admin_token().await;
    app.patch_as(
        &admin,
        "/api/v1/categories/tin-tuc",
        &j!({"answer_days": 5}),
    )
    .await;
    let mut short = question("Hỏi nhanh", None);
    short["category"] = j!("tin-tuc");
    assert_eq!(app.ask(&short).await["due_at"], "2024-02-19T23:59:59+07:00");
}

/// Sends 120 questions at once, one in ten with the refused title; the answers to the others:
/// tracking codes (quoted for SQL) of those answered 201, and how many were answered 503.
async fn ask_many(app: &TestApp, refused: &str) -> (Vec<String>, usize) {
    let mut sent = tokio::task::JoinSet::new();
    for n in 0..120 {
        let client = app.client.clone();
        let url = format!("{}/api/v1/questions", app.address);
        let title = if n % 10 == 0 {
            refused.to_string()
        } else {
            format!("Câu hỏi số {n}")
        };
        let body = question(&title, Some("so-noi-vu"));
        sent.spawn(async move {
            let response = client.post(url).json(&body).send().await.unwrap();
            let status = response.status().as_u16();
            let answer: Value = response.json().await.unwrap();
            (title, status, answer)
        });
    }
    let (mut acknowledged, mut refusals, mut retries) = (Vec::new(), 0, 0);
    while let Some(done) = sent.join_next().await {
        let (title, status, answer) = done.unwrap();
        if title == refused {
            assert_ne!(status, 201, "{answer}");
            refusals += 1;
            continue;
        }
        match status {
            201 => acknowledged.push(format!("'{}'", answer["tracking_code"].as_str().unwrap())),
            503 => retries += 1,
            other => panic!("{other}: {answer}"),
        }
    }
    assert_eq!(refusals, 12);
    assert_eq!(acknowledged.len() + retries, 108);
    (acknowledged, retries)
}

/// A question the database itself refuses, sent among many at once, fails alone or takes its
/// transaction group down with it (503: send again), never silently: every question answered
/// 201 is stored, and the refused ones are not. Once it has happened, the refusals cost
/// nobody else.
#[tokio::test]
async fn a_question_the_database_refuses_loses_no_other_answered_question() {
    let app = spawn_app_with(&[("PORTAL_QUESTIONS_PER_MINUTE", "100000")]).await;
    let refused = "Câu hỏi cơ sở dữ liệu từ chối";
    // A rule the service does not know of, so the insert itself fails inside its group.
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
    let (first, _) = ask_many(&app, refused).await;
    let (second, retries) = ask_many(&app, refused).await;
    assert_eq!(retries, 0, "the second round lost a group");
    let acknowledged = [first, second].concat();
    let stored = app.db.count(&format!(
        "SELECT count(*) AS n FROM questions WHERE tracking_code IN ({})",
        acknowledged.join(", ")
    ));
    assert_eq!(stored, acknowledged.len() as i64);
    assert_eq!(
        app.db.count("SELECT count(*) AS n FROM questions"),
        acknowledged.len() as i64
    );
}

/// A holiday an admin sets, or takes back, moves the deadline of the very next question.
#[tokio::test]
async fn a_holiday_set_by_an_admin_dates_the_next_question() {
    // 2024-02-05 10:00 in Vietnam.
    let app = spawn_app_at("2024-02-05T03:00:00").await;
    let admin = app.admin_token().await;
    let before = app
        .ask(&question("Hỏi trước khi đổi lịch", Some("so-noi-vu")))
        .await;
    assert_eq!(before["due_at"], "2024-03-04T23:59:59+07:00");
    let path = "/api/v1/calendar/holidays/2024-02-20";
    let holiday = j!({"name": "Nghỉ đột xuất", "kind": "holiday", "source": "Thông báo số 3"});
    json(
        app.request(reqwest::Method::PUT, path, Some(&admin), Some(&holiday))
            .await,
        201,
    )
    .await;
    let after = app
        .ask(&question("Hỏi sau khi thêm ngày nghỉ", Some("so-noi-vu")))
        .await;
    assert_eq!(after["due_at"], "2024-03-05T23:59:59+07:00");
    let removed = app
        .request(reqwest::Method::DELETE, path, Some(&admin), None)
        .await;
    assert_eq!(removed.status(), 204);
    let again = app
        .ask(&question("Hỏi sau khi bỏ ngày nghỉ", Some("so-noi-vu")))
        .await;
    assert_eq!(again["due_at"], "2024-03-04T23:59:59+07:00");
}

/// Routing a question to another unit, and again to a third, keeps the deadline it got when
/// it was asked, even after the calendar and its category's answer time changed (a deadline
/// computed again would move).
#[tokio::test]
async fn reassigning_a_question_keeps_its_due_time() {
    // 2024-02-05 10:00 in Vietnam.
    let app = spawn_app_at("2024-02-05T03:00:00").await;
    let admin = app.admin_token().await;
    let editor = app.user("editor", None).await;
    let asked = app
        .ask(&question("Chuyển đơn vị trả lời", Some("so-noi-vu")))
        .await;
    assert_eq!(asked["due_at"], "2024-03-04T23:59:59+07:00");
    let due = asked_due_utc(&asked);
    assert_eq!(due, "2024-03-04T16:59:59Z");
    let code = asked["tracking_code"].as_str().unwrap();
    let key = asked["access_key"].as_str().unwrap();
    let id = app.question_id(&editor.token, code).await;
    let path = format!("/api/v1/questions/{id}");

    json(
        app.request(
            reqwest::Method::PUT,
            "/api/v1/calendar/holidays/2024-02-20",
            Some(&admin),
            Some(&j!({"name": "Nghỉ đột xuất", "kind": "holiday", "source": "Thông báo số 2"})),
        )
        .await,
        201,
    )
    .await;
    json(
        app.patch_as(
            &admin,
            "/api/v1/categories/thu-tuc-hanh-chinh",
            &j!({"answer_days": 5}),
        )
        .await,
        200,
    )
    .await;
    // The same question asked now would be due on another day.
    let now_asked = app.ask(&question("Hỏi sau khi đổi lịch", None)).await;
    assert_ne!(now_asked["due_at"], asked["due_at"]);

    for unit in ["so-tai-chinh", "so-xay-dung"] {
        let moved = json(
            app.post_as(
                &editor.token,
                &format!("{path}/transitions"),
                &j!({"action": "assign", "unit": unit}),
            )
            .await,
            200,
        )
        .await;
        assert_eq!(moved["status"], "assigned");
        assert_eq!(moved["unit"], unit);
        assert_eq!(moved["due_at"], due, "after assigning to {unit}");
    }
    let officer = app.user("officer", Some("so-xay-dung")).await;
    let seen = json(app.get_as(&officer.token, &path).await, 200).await;
    assert_eq!(seen["due_at"], due);
    let former = app.user("officer", Some("so-tai-chinh")).await;
    problem(app.get_as(&former.token, &path).await, 404, "not_found").await;
    let tracked = json(track(&app, code, key).await, 200).await;
    assert_eq!(tracked["unit"], "so-xay-dung");
    assert_eq!(tracked["due_at"], due);
}

/// A deactivated unit takes no new questions: asked of it directly, or routed to it by the
/// board, the answer is a 422 naming `unit`, and nothing is stored.
#[tokio::test]
async fn a_deactivated_unit_takes_no_new_questions() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let editor = app.user("editor", None).await;
    let waiting = app.ask(&question("Chờ phân công", None)).await;
    let waiting_id = app
        .question_id(&editor.token, waiting["tracking_code"].as_str().unwrap())
        .await;
    json(
        app.patch_as(
            &admin,
            "/api/v1/units/so-ldtbxh",
            &j!({"active": false, "successors": ["so-noi-vu"]}),
        )
        .await,
        200,
    )
    .await;

    let p = ask_refused(&app, &question("Hỏi đơn vị đã giải thể", Some("so-ldtbxh"))).await;
    assert_eq!(p["errors"][0]["field"], "unit", "{p}");
    assert_eq!(
        app.db
            .count("SELECT count(*) AS n FROM questions WHERE unit_code = 'so-ldtbxh'"),
        0
    );

    let p = problem(
        app.post_as(
            &editor.token,
            &format!("/api/v1/questions/{waiting_id}/transitions"),
            &j!({"action": "assign", "unit": "so-ldtbxh"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "unit", "{p}");
    let still = json(
        app.get_as(&editor.token, &format!("/api/v1/questions/{waiting_id}"))
            .await,
        200,
    )
    .await;
    assert_eq!(still["status"], "received");
    assert!(still["unit"].is_null());

    // Its successor takes them.
    let routed = app
        .ask(&question("Hỏi đơn vị kế thừa", Some("so-noi-vu")))
        .await;
    assert_eq!(routed["status"], "assigned");
}

#[tokio::test]
async fn overdue_lists_exactly_the_unanswered_questions_past_their_due_time() {
    let app = spawn_app().await;
    let editor = app.user("editor", None).await;
    let mut codes = Vec::new();
    for title in [
        "Quá hạn chưa trả lời",
        "Quá hạn đã trả lời",
        "Còn hạn",
        "Quá hạn bị từ chối",
    ] {
        codes.push(
            app.ask(&question(title, Some("so-tai-chinh"))).await["tracking_code"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let ids: Vec<String> = {
        let mut v = Vec::new();
        for c in &codes {
            v.push(app.question_id(&editor.token, c).await);
        }
        v
    };
    json(
        app.post_as(
            &editor.token,
            &format!("/api/v1/questions/{}/replies", ids[1]),
            &j!({"body": "Đã trả lời"}),
        )
        .await,
        201,
    )
    .await;
    json(
        app.post_as(
            &editor.token,
            &format!("/api/v1/questions/{}/transitions", ids[3]),
            &j!({"action": "reject", "note": "Trùng lặp"}),
        )
        .await,
        200,
    )
    .await;
    for id in [&ids[0], &ids[1], &ids[3]] {
        app.db.execute(&format!(
            "UPDATE questions SET due_at = '2024-01-01 16:59:59' WHERE id = '{id}'"
        ));
    }
    let overdue = json(
        app.get_as(&editor.token, "/api/v1/questions?overdue=true")
            .await,
        200,
    )
    .await;
    let listed: Vec<&str> = overdue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [ids[0].as_str()]);
    assert_eq!(overdue["items"][0]["overdue"], true);
    let not = json(
        app.get_as(&editor.token, "/api/v1/questions?overdue=false")
            .await,
        200,
    )
    .await;
    assert_eq!(not["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn an_officer_of_another_unit_can_neither_see_nor_answer() {
    let app = spawn_app().await;
    let other = app.user("officer", Some("so-tu-phap")).await;
    let owner = app.user("officer", Some("so-tai-chinh")).await;
    let editor = app.user("editor", None).await;
    let code = app.ask(&question("Thuế", Some("so-tai-chinh"))).await["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();
    let id = app.question_id(&editor.token, &code).await;
    let path = format!("/api/v1/questions/{id}");
    problem(app.get_as(&other.token, &path).await, 404, "not_found").await;
    problem(
        app.post_as(&other.token, &format!("{path}/replies"), &j!({"body": "x"}))
            .await,
        404,
        "not_found",
    )
    .await;
    problem(
        app.post_as(
            &other.token,
            &format!("{path}/transitions"),
            &j!({"action": "publish"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let list = json(app.get_as(&other.token, "/api/v1/questions").await, 200).await;
    assert_eq!(list["items"], j!([]));
    assert_eq!(
        json(app.get_as(&owner.token, "/api/v1/questions").await, 200).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Officers neither route nor reject.
    problem(
        app.post_as(
            &owner.token,
            &format!("{path}/transitions"),
            &j!({"action": "reject", "note": "x"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let viewer = app.user("viewer", None).await;
    problem(
        app.get_as(&viewer.token, "/api/v1/questions").await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn questions_are_checked_and_the_workflow_refuses_what_it_must() {
    let app = spawn_app().await;
    let mut no_contact = question("x", None);
    no_contact["asker"] = j!({"name": "A"});
    let p = ask_refused(&app, &no_contact).await;
    assert_eq!(p["errors"][0]["field"], "asker");
    let mut bad = question("", None);
    bad["asker"]["phone"] = j!("12345");
    bad["asker"]["email"] = j!("not-an-email");
    let p = ask_refused(&app, &bad).await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["title", "asker.email", "asker.phone"]);
    let mut no_consent = question("x", None);
    no_consent
        .as_object_mut()
        .unwrap()
        .remove("publish_consent");
    ask_refused(&app, &no_consent).await;
    let p = ask_refused(&app, &question("x", Some("nope"))).await;
    assert_eq!(p["errors"][0]["field"], "unit");

    let editor = app.user("editor", None).await;
    let mut private = question("Riêng tư", Some("so-noi-vu"));
    private["publish_consent"] = j!(false);
    let asked = app.ask(&private).await;
    let code = asked["tracking_code"].as_str().unwrap();
    let key = asked["access_key"].as_str().unwrap();
    let rating = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/tracking/{code}/rating?key={key}"),
            None,
            Some(&j!({"score": 4})),
        )
        .await;
    problem(rating, 409, "conflict").await;
    let id = app.question_id(&editor.token, code).await;
    let path = format!("/api/v1/questions/{id}");
    problem(
        app.post_as(
            &editor.token,
            &format!("{path}/transitions"),
            &j!({"action": "publish"}),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
    json(
        app.post_as(
            &editor.token,
            &format!("{path}/replies"),
            &j!({"body": "Trả lời"}),
        )
        .await,
        201,
    )
    .await;
    let p = problem(
        app.post_as(
            &editor.token,
            &format!("{path}/transitions"),
            &j!({"action": "publish"}),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("consent"), "{p}");
    problem(
        app.post_as(
            &editor.token,
            &format!("{path}/transitions"),
            &j!({"action": "assign"}),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
    let p = problem(
        app.request(
            reqwest::Method::POST,
            &format!("/api/v1/tracking/{code}/rating?key={key}"),
            None,
            Some(&j!({"score": 6})),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "score");
    let tracked = json(track(&app, code, key).await, 200).await;
    assert_eq!(tracked["status"], "answered");

    let rejected = app.ask(&question("Không liên quan", None)).await;
    let rid = app
        .question_id(&editor.token, rejected["tracking_code"].as_str().unwrap())
        .await;
    let p = problem(
        app.post_as(
            &editor.token,
            &format!("/api/v1/questions/{rid}/transitions"),
            &j!({"action": "reject"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "note");
    json(
        app.post_as(
            &editor.token,
            &format!("/api/v1/questions/{rid}/transitions"),
            &j!({"action": "reject", "note": "Không thuộc thẩm quyền"}),
        )
        .await,
        200,
    )
    .await;
    let seen = json(
        track(
            &app,
            rejected["tracking_code"].as_str().unwrap(),
            rejected["access_key"].as_str().unwrap(),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(seen["status"], "rejected");
    assert_eq!(seen["rejection_reason"], "Không thuộc thẩm quyền");
}

#[tokio::test]
async fn a_wrong_or_missing_key_answers_exactly_as_an_unknown_code() {
    let app = spawn_app().await;
    let asked = app.ask(&question("Bảo mật", None)).await;
    let code = asked["tracking_code"].as_str().unwrap();
    let unknown = problem(
        track(&app, "Q24-ZZZZZZ", "whatever").await,
        404,
        "not_found",
    )
    .await;
    let wrong = problem(track(&app, code, "not-the-key").await, 404, "not_found").await;
    let missing = problem(
        app.get(&format!("/api/v1/tracking/{code}")).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(unknown, wrong);
    assert_eq!(unknown, missing);
}

#[tokio::test]
async fn no_public_answer_carries_the_askers_contact_details() {
    let app = spawn_app().await;
    let editor = app.user("editor", None).await;
    let asked = app.ask(&question("Công khai", Some("so-noi-vu"))).await;
    let code = asked["tracking_code"].as_str().unwrap();
    let key = asked["access_key"].as_str().unwrap();
    let id = app.question_id(&editor.token, code).await;
    json(
        app.post_as(
            &editor.token,
            &format!("/api/v1/questions/{id}/replies"),
            &j!({"body": "Trả lời công khai"}),
        )
        .await,
        201,
    )
    .await;
    json(
        app.post_as(
            &editor.token,
            &format!("/api/v1/questions/{id}/transitions"),
            &j!({"action": "publish"}),
        )
        .await,
        200,
    )
    .await;
    // A published article, so the article pages have something to show.
    let officer = app.user("officer", Some("so-noi-vu")).await;
    let article = json(
        app.post_as(
            &officer.token,
            "/api/v1/submissions",
            &j!({"category": "tin-tuc", "title": "Thông báo tiếp công dân", "summary": "Tóm tắt",
                 "body": "<p>Nội dung</p>", "draft": false}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(article["status"], "submitted");
    let article_id = article["id"].as_str().unwrap().to_string();
    json(
        app.post_as(
            &editor.token,
            &format!("/api/v1/submissions/{article_id}/transitions"),
            &j!({"action": "publish"}),
        )
        .await,
        200,
    )
    .await;

    let mut paths = vec![
        "/api/v1/public/questions?q=cong%20khai".to_string(),
        "/api/v1/public/questions?unit=so-noi-vu".to_string(),
    ];
    // Every GET operation the document offers without a token; tracking needs the key and is
    // read below.
    let doc: Value = serde_json::from_str(OPENAPI).unwrap();
    for (template, item) in doc["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let public = get
            .get("security")
            .and_then(Value::as_array)
            .is_none_or(|s| s.is_empty());
        if !public || template.starts_with("/api/v1/tracking/") {
            continue;
        }
        let filled = match template.as_str() {
            "/api/v1/public/articles/{id}" => format!("/api/v1/public/articles/{article_id}"),
            "/api/v1/public/questions/{id}" => format!("/api/v1/public/questions/{id}"),
            "/api/v1/calendar/deadline" => {
                "/api/v1/calendar/deadline?from=2024-02-05&working_days=5".to_string()
            }
            other => other.replace("{code}", "so-noi-vu"),
        };
        assert!(!filled.contains('{'), "no value for {template}");
        paths.push(filled);
    }
    for required in [
        "/api/v1/public/questions".to_string(),
        format!("/api/v1/public/questions/{id}"),
        "/api/v1/public/articles".to_string(),
        format!("/api/v1/public/articles/{article_id}"),
        "/api/v1/public/feed.atom".to_string(),
    ] {
        assert!(paths.contains(&required), "{required} is not scanned");
    }
    for path in paths {
        let response = app.get(&path).await;
        assert_eq!(response.status(), 200, "{path}");
        let text = response.text().await.unwrap();
        assert!(
            text.contains("Công khai") || !path.contains("/public/questions"),
            "{path} shows the question"
        );
        assert!(
            text.contains("Thông báo tiếp công dân")
                || !(path.contains("/public/articles") || path.contains("feed.atom")),
            "{path} shows the article"
        );
        for secret in [
            EMAIL,
            PHONE,
            "0912345678",
            "Trần Hưng Đạo",
            "Công ty ABC",
            key,
            "Nguyễn Văn An",
        ] {
            assert!(!text.contains(secret), "{path} shows {secret}");
        }
    }
    let tracked = track(&app, code, key).await.text().await.unwrap();
    for secret in [EMAIL, "0912345678", "Trần Hưng Đạo", key] {
        assert!(!tracked.contains(secret), "tracking shows {secret}");
    }
}

#[tokio::test]
async fn the_per_address_limit_answers_429_with_retry_after() {
    let app = spawn_app_with(&[
        ("PORTAL_QUESTIONS_PER_MINUTE", "2"),
        ("PORTAL_TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    let send = |from: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(format!("{}/api/v1/questions", app.address))
                .header("x-forwarded-for", from)
                .json(&question("Hỏi", None))
                .send()
                .await
                .unwrap()
        }
    };
    json(send("203.0.113.1").await, 201).await;
    json(send("203.0.113.1").await, 201).await;
    let limited = send("203.0.113.1").await;
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    problem(limited, 429, "rate_limited").await;
    // Another client behind the same proxy has its own count.
    json(send("198.51.100.7").await, 201).await;
}

#[tokio::test]
async fn questions_asked_at_once_are_each_stored_or_refused_on_their_own() {
    let app = spawn_app_with(&[("PORTAL_QUESTIONS_PER_MINUTE", "1000")]).await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..24 {
        let unit = if i % 3 == 0 { "khong-co" } else { "so-noi-vu" };
        let req = app
            .client
            .post(format!("{}/api/v1/questions", app.address))
            .json(&question(&format!("Câu hỏi {i}"), Some(unit)));
        set.spawn(async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        });
    }
    let answers = set.join_all().await;
    let stored: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(stored.len(), 16);
    assert_eq!(answers.iter().filter(|(s, _)| *s == 422).count(), 8);
    for asked in stored {
        let code = asked["tracking_code"].as_str().unwrap();
        json(
            track(&app, code, asked["access_key"].as_str().unwrap()).await,
            200,
        )
        .await;
    }
    let editor = app.user("editor", None).await;
    let list = json(
        app.get_as(&editor.token, "/api/v1/questions?limit=100")
            .await,
        200,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 16);
}

/// A new question as the service would store it, written straight to the database.
fn question_row(id: &str, code: &str) -> portal_api::db::questions::Question {
    let at = chrono::DateTime::from_timestamp(1_767_225_600, 0)
        .expect("a valid instant")
        .naive_utc();
    portal_api::db::questions::Question {
        id: id.to_string(),
        tracking_code: code.to_string(),
        access_key_hash: "0".repeat(64),
        title: "Hỏi về giờ làm việc".to_string(),
        body: "Bộ phận một cửa làm việc đến mấy giờ?".to_string(),
        category: None,
        unit: None,
        asker: portal_api::db::questions::Asker {
            name: "Nguyễn Văn A".to_string(),
            ..Default::default()
        },
        publish_consent: false,
        status: portal_api::domain::question::Status::Received,
        rejection_note: None,
        received_at: at,
        due_at: at,
        answered_at: None,
        published_at: None,
        updated_at: at,
        rating_score: None,
        rating_comment: None,
        rated_at: None,
    }
}

/// A tracking code already given is passed over by the insert itself, without an error, on
/// the database the tests run on (SQLite, or PostgreSQL with `PORTAL_TEST_POSTGRES_URL`), so
/// the service can draw another.
#[tokio::test]
async fn a_taken_tracking_code_is_passed_over_without_an_error() {
    use portal_api::db::questions::{find_by_code, insert_new_code};

    let app = spawn_app().await;
    let pool = portal_api::db::connect(&app.db.url(), 1).expect("a pool on the test database");
    let mut conn = pool.get().expect("a connection");
    let first = question_row("00000000-0000-4000-8000-000000000001", "Q26-ABCDEF");
    let second = question_row("00000000-0000-4000-8000-000000000002", "Q26-ABCDEF");
    assert!(insert_new_code(&mut conn, &first, "hoi").unwrap());
    assert!(!insert_new_code(&mut conn, &second, "hoi").unwrap());
    let other = question_row("00000000-0000-4000-8000-000000000002", "Q26-ABCDEG");
    assert!(insert_new_code(&mut conn, &other, "hoi").unwrap());
    assert_eq!(app.db.count("SELECT count(*) AS n FROM questions"), 2);
    let found = find_by_code(&mut conn, "Q26-ABCDEF")
        .unwrap()
        .expect("the first");
    assert_eq!(found.id, first.id);
}

/// A group's new questions go in together (on PostgreSQL with one statement): a code taken by
/// a stored question or by another of the same group is passed over, that question is drawn a
/// new code (and its event names the new one), and every question is stored once with its
/// event.
#[tokio::test]
async fn new_questions_stored_together_pass_over_taken_codes() {
    use diesel::Connection;
    use portal_api::db::questions::{
        find_by_code, insert_new_code, insert_pending_together, Pending, Question,
    };
    use portal_api::domain::events::NewEvent;

    let app = spawn_app().await;
    let pool = portal_api::db::connect(&app.db.url(), 1).expect("a pool on the test database");
    let mut conn = pool.get().expect("a connection");
    // Rows that differ in their optional columns, each bound as an array of its own.
    let question = |n: u32, code: &str| {
        let mut q = question_row(&format!("00000000-0000-4000-8000-00000000000{n}"), code);
        q.title = format!("Câu hỏi {n}");
        q.unit = (n == 2).then(|| "so-noi-vu".to_string());
        q.asker.email = (n == 3).then(|| "a@example.vn".to_string());
        q.publish_consent = n == 4;
        q
    };
    fn event_of(q: &Question) -> NewEvent {
        NewEvent::new(
            portal_api::domain::events::EventType::QuestionAsked,
            q.received_at,
            q.unit.clone(),
            portal_api::domain::events::SubjectKind::Question,
            q.id.clone(),
        )
        .with("tracking_code", q.tracking_code.clone())
    }
    fn redraw(p: &mut Pending) {
        let n = p.question.id.chars().last().unwrap();
        p.question.tracking_code = format!("Q26-NEW00{n}");
        p.event = event_of(&p.question);
    }
    let pending = |q: Question| Pending {
        event: event_of(&q),
        search_text: "cau hoi".to_string(),
        receipt: None,
        question: q,
        redraw,
    };
    assert!(insert_new_code(&mut conn, &question(1, "Q26-TAKEN1"), "hoi").unwrap());
    let mut list = [
        pending(question(2, "Q26-TAKEN1")),
        pending(question(3, "Q26-FRESH3")),
        pending(question(4, "Q26-FRESH3")),
        pending(question(5, "Q26-FRESH5")),
    ];
    let stored = conn
        .transaction(|conn| {
            let mut refs: Vec<&mut Pending> = list.iter_mut().collect();
            insert_pending_together(conn, &mut refs)
        })
        .expect("the questions are stored");
    assert_eq!(stored, [true; 4]);
    let codes: Vec<&str> = list
        .iter()
        .map(|p| p.question.tracking_code.as_str())
        .collect();
    assert_eq!(
        codes,
        ["Q26-NEW002", "Q26-FRESH3", "Q26-NEW004", "Q26-FRESH5"]
    );
    for p in &list {
        assert_eq!(
            p.event.data["tracking_code"],
            p.question.tracking_code.as_str()
        );
        let found = find_by_code(&mut conn, &p.question.tracking_code)
            .unwrap()
            .expect("stored under its code");
        assert_eq!(found, p.question);
    }
    assert_eq!(app.db.count("SELECT count(*) AS n FROM questions"), 5);
    let events = app
        .db
        .count("SELECT count(*) AS n FROM events WHERE type = 'question.asked'");
    assert_eq!(events, 4, "each stored question has its one event");
}

/// However the asker types a phone number, staff see it in one form: `+84` and 9 digits.
#[tokio::test]
async fn a_phone_number_is_kept_in_one_form() {
    let app = spawn_app().await;
    let editor = app.user("editor", None).await;
    for typed in ["0912 345 678", "+84 912.345.678", "0912345678"] {
        let mut asked = question("Số điện thoại", None);
        asked["asker"]["phone"] = j!(typed);
        let code = app.ask(&asked).await["tracking_code"]
            .as_str()
            .unwrap()
            .to_string();
        let id = app.question_id(&editor.token, &code).await;
        let seen = json(
            app.get_as(&editor.token, &format!("/api/v1/questions/{id}"))
                .await,
            200,
        )
        .await;
        assert_eq!(seen["asker"]["phone"], "+84912345678", "typed {typed}");
    }
    assert_eq!(
        app.db
            .count("SELECT count(*) AS n FROM questions WHERE asker_phone = '+84912345678'"),
        3
    );
}
