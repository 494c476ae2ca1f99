//! Time-driven events: a question due soon and overdue, an obligation period missed; each
//! emitted once per subject, however many instances look at the same database.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{json as j, Value};

use crate::helpers::{json, spawn_app_at, TestApp};

/// Monday 26 February 2024, 10:00 in Vietnam.
const ASKED: &str = "2024-02-26T03:00:00";
/// Fifteen working days after 26 February: Monday 18 March, 23:59:59 in Vietnam.
const DUE_AT: &str = "2024-03-18T16:59:59Z";
/// Wednesday 13 March, 10:00 in Vietnam: three working days (14, 15 and 18 March) are left.
const DUE_SOON: &str = "2024-03-13T03:00:00";
/// Tuesday 2 April, 10:00 in Vietnam: past due, and March and the first quarter have closed.
const LATER: &str = "2024-04-02T03:00:00";

const EMAIL: &str = "an.nguyen@example.vn";
const PHONE: &str = "0912345678";
const NAME: &str = "Nguyễn Văn An";

async fn ask(app: &TestApp, title: &str) -> String {
    let body = j!({
        "title": title,
        "body": "Xin hỏi thủ tục và thời hạn giải quyết như thế nào?",
        "category": "thu-tuc-hanh-chinh",
        "asker": {"name": NAME, "email": EMAIL, "phone": PHONE,
                  "address": "12 Trần Hưng Đạo, Đồng Xoài"},
        "publish_consent": true
    });
    let asked = app.ask(&body).await;
    asked["tracking_code"].as_str().unwrap().to_string()
}

/// Reads the feed with `query` until `done` holds for it (generous deadline), and returns it.
async fn feed_until(
    app: &TestApp,
    token: &str,
    query: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let page = json(
            app.get_as(token, &format!("/api/v1/events?limit=1000&{query}"))
                .await,
            200,
        )
        .await;
        let items = page["items"].as_array().unwrap().clone();
        if done(&items) {
            return items;
        }
        assert!(
            Instant::now() < deadline,
            "the feed never came to hold what was waited for: {items:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How many events each subject has.
fn per_subject(events: &[Value]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for e in events {
        *out.entry(e["subject"]["id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    out
}

fn once_each(ids: &[&String]) -> BTreeMap<String, usize> {
    ids.iter().map(|id| (id.to_string(), 1)).collect()
}

fn has_all(events: &[Value], ids: &[&String]) -> bool {
    let seen = per_subject(events);
    ids.iter().all(|id| seen.contains_key(*id))
}

/// Posts an item for the officer's unit, submitted at once.
async fn submit_item(app: &TestApp, token: &str, category: &str) {
    let body = j!({
        "category": category,
        "title": "Kết quả thực hiện nhiệm vụ",
        "summary": "Tóm tắt",
        "body": "<p>Nội dung</p>",
        "draft": false
    });
    json(app.post_as(token, "/api/v1/submissions", &body).await, 201).await;
}

/// A question asked on 26 February and left unanswered is due soon from 13 March and overdue
/// after 18 March, once each, whether two instances look at once or a third looks again; an
/// answered question is neither. An obligation period that closed short is missed once; one
/// that was met, or that closed before the obligation was made, is not.
#[tokio::test]
async fn time_driven_events_are_emitted_once_per_subject() {
    let app = spawn_app_at(ASKED).await;
    let admin = app.admin_token().await;
    let editor = app.user("editor", None).await;
    let khcn = app.user("officer", Some("so-khcn")).await;
    let tai_chinh = app.user("officer", Some("so-tai-chinh")).await;

    // Questions: one answered, the others left waiting.
    let mut codes = Vec::new();
    for i in 0..7 {
        codes.push(ask(&app, &format!("Cấp phép xây dựng {i}")).await);
    }
    let mut ids = Vec::new();
    for code in &codes {
        ids.push(app.question_id(&admin, code).await);
    }
    let (answered, waiting) = ids.split_first().unwrap();
    let path = format!("/api/v1/questions/{answered}");
    json(
        app.post_as(
            &editor.token,
            &format!("{path}/transitions"),
            &j!({"action": "assign", "unit": "so-khcn"}),
        )
        .await,
        200,
    )
    .await;
    json(
        app.post_as(
            &khcn.token,
            &format!("{path}/replies"),
            &j!({"body": "Hồ sơ gồm đơn và bản vẽ."}),
        )
        .await,
        201,
    )
    .await;
    let assigned = &waiting[0];
    json(
        app.post_as(
            &editor.token,
            &format!("/api/v1/questions/{assigned}/transitions"),
            &j!({"action": "assign", "unit": "so-tai-chinh"}),
        )
        .await,
        200,
    )
    .await;

    // Obligations: the three seeded monthly ones (made today, as the database was), of which
    // so-khcn meets February; and a quarterly one of two items, of which one is posted.
    submit_item(&app, &khcn.token, "khoa-hoc-cong-nghe").await;
    let quarterly = json(
        app.post_as(
            &editor.token,
            "/api/v1/obligations",
            &j!({"unit": "so-tai-chinh", "cadence": "quarterly", "min_items": 2,
                 "starts_on": "2024-01-01", "description": "Báo cáo quý"}),
        )
        .await,
        201,
    )
    .await;
    submit_item(&app, &tai_chinh.token, "tin-tuc").await;
    let obligations = json(app.get_as(&editor.token, "/api/v1/obligations").await, 200).await;
    let obligation_of = |unit: &str| {
        obligations["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["unit"] == unit && o["cadence"] == "monthly")
            .map(|o| o["id"].as_i64().unwrap())
            .expect("a seeded obligation")
    };
    let period = |id: i64, start: &str| format!("{id}:{start}");

    // 13 March: two instances look at once.
    let (second, third) = tokio::join!(
        app.second_instance_at(DUE_SOON),
        app.second_instance_at(DUE_SOON)
    );
    let waiting_ids: Vec<&String> = waiting.iter().collect();
    let due_soon = feed_until(&app, &admin, "type=question.due_soon", |e| {
        has_all(e, &waiting_ids)
    })
    .await;
    let february_missed = [
        period(obligation_of("so-khdt"), "2024-02-01"),
        period(obligation_of("so-ldtbxh"), "2024-02-01"),
    ];
    let february_ids: Vec<&String> = february_missed.iter().collect();
    let missed = feed_until(&app, &admin, "type=obligation.period_missed", |e| {
        has_all(e, &february_ids)
    })
    .await;
    drop((second, third));
    assert_eq!(per_subject(&due_soon), once_each(&waiting_ids));
    assert_eq!(per_subject(&missed), once_each(&february_ids));

    let first = due_soon
        .iter()
        .find(|e| e["subject"]["id"] == waiting[1])
        .unwrap();
    assert_eq!(first["subject"]["kind"], "question");
    assert!(first["unit"].is_null());
    let data = &first["data"];
    assert_eq!(data["status"], "received");
    assert_eq!(data["tracking_code"], codes[2]);
    assert_eq!(data["title"], "Cấp phép xây dựng 2");
    assert_eq!(data["category"], "thu-tuc-hanh-chinh");
    assert_eq!(data["received_at"], "2024-02-26T03:00:00Z");
    assert_eq!(data["due_at"], DUE_AT);
    assert_eq!(data["working_days_left"], 3);
    let of_assigned = due_soon
        .iter()
        .find(|e| e["subject"]["id"] == *assigned)
        .unwrap();
    assert_eq!(of_assigned["unit"], "so-tai-chinh");
    assert_eq!(of_assigned["data"]["status"], "assigned");
    assert_eq!(of_assigned["data"]["unit"], "so-tai-chinh");
    let text = serde_json::to_string(&due_soon).unwrap();
    for private in [EMAIL, PHONE, NAME, "Trần Hưng Đạo", "access_key"] {
        assert!(!text.contains(private), "{private} is in {text}");
    }

    let khdt = missed
        .iter()
        .find(|e| e["subject"]["id"] == february_missed[0])
        .unwrap();
    assert_eq!(khdt["subject"]["kind"], "obligation_period");
    assert_eq!(khdt["unit"], "so-khdt");
    assert_eq!(
        khdt["data"],
        j!({"obligation_id": obligation_of("so-khdt"), "unit": "so-khdt", "category": "dau-tu",
            "period_start": "2024-02-01", "period_end": "2024-02-29",
            "required": 1, "counted": 0})
    );

    // 13 March again: one more question is due soon, and only it is emitted.
    let late_code = ask(&app, "Cấp phép xây dựng muộn").await;
    let late = app.question_id(&admin, &late_code).await;
    let again = app.second_instance_at(DUE_SOON).await;
    let mut all_waiting = waiting_ids.clone();
    all_waiting.push(&late);
    let due_soon = feed_until(&app, &admin, "type=question.due_soon", |e| {
        has_all(e, &[&late])
    })
    .await;
    drop(again);
    assert_eq!(per_subject(&due_soon), once_each(&all_waiting));
    assert_eq!(
        app.db
            .count("SELECT count(*) AS n FROM event_marks WHERE type = 'question.due_soon'"),
        all_waiting.len() as i64
    );

    // 2 April: overdue, and March and the first quarter have closed.
    let later = app.second_instance_at(LATER).await;
    let overdue = feed_until(&app, &admin, "type=question.overdue", |e| {
        has_all(e, &all_waiting)
    })
    .await;
    let march_missed = [
        period(obligation_of("so-khcn"), "2024-03-01"),
        period(obligation_of("so-khdt"), "2024-03-01"),
        period(obligation_of("so-ldtbxh"), "2024-03-01"),
        period(quarterly["id"].as_i64().unwrap(), "2024-01-01"),
    ];
    let mut all_missed: Vec<&String> = february_ids.clone();
    all_missed.extend(march_missed.iter());
    let missed = feed_until(&app, &admin, "type=obligation.period_missed", |e| {
        has_all(e, &all_missed)
    })
    .await;
    let due_soon = json(
        app.get_as(&admin, "/api/v1/events?limit=1000&type=question.due_soon")
            .await,
        200,
    )
    .await;
    drop(later);
    assert_eq!(per_subject(&overdue), once_each(&all_waiting));
    assert_eq!(per_subject(&missed), once_each(&all_missed));
    assert_eq!(
        per_subject(due_soon["items"].as_array().unwrap()),
        once_each(&all_waiting)
    );
    let overdue_one = overdue
        .iter()
        .find(|e| e["subject"]["id"] == waiting[1])
        .unwrap();
    assert_eq!(overdue_one["data"]["due_at"], DUE_AT);
    assert_eq!(overdue_one["data"]["status"], "received");
    assert!(overdue_one["data"].get("working_days_left").is_none());
    let quarter = missed
        .iter()
        .find(|e| e["subject"]["id"] == march_missed[3])
        .unwrap();
    assert_eq!(quarter["unit"], "so-tai-chinh");
    assert_eq!(
        quarter["data"],
        j!({"obligation_id": quarterly["id"], "unit": "so-tai-chinh",
            "period_start": "2024-01-01", "period_end": "2024-03-31",
            "required": 2, "counted": 1})
    );

    // The answered question has no time-driven event; nor has any January period.
    let all = json(app.get_as(&admin, "/api/v1/events?limit=1000").await, 200).await;
    let kinds_of_answered: BTreeSet<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject"]["id"] == *answered)
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds_of_answered,
        BTreeSet::from(["question.asked", "question.assigned", "question.answered"])
    );
}
