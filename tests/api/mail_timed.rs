//! Mail that time sends, against a real SMTP server and with the clock fixed: the reminder of
//! an obligation period due soon, the notice of a missed one, and the morning digest; each
//! once, however many instances look.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json as j, Value};

use crate::helpers::{json, spawn_app_at_with, TestApp};
use crate::mail::{mail_settings, sent};
use crate::smtp_sink::Sink;

/// Monday 26 February 2024, 10:00 in Vietnam: February is due on Thursday 29, three working
/// days later, so its reminders are due.
const MONDAY: &str = "2024-02-26T03:00:00";
/// Wednesday 13 March 2024, 07:30 in Vietnam: the morning digest is due, the question asked on
/// 26 February is due in three working days, and February was missed.
const MORNING: &str = "2024-03-13T00:30:00";

const OFFICER: &str = "truong.phong@so-khcn.example.vn";
const QUIET_OFFICER: &str = "chuyen.vien@so-khcn.example.vn";
const EDITOR: &str = "bien.tap@cong.example.vn";

/// Sets a user's address (and digest choice) as an admin.
async fn set_email(app: &TestApp, admin: &str, id: &str, body: Value) {
    json(
        app.patch_as(admin, &format!("/api/v1/users/{id}"), &body)
            .await,
        200,
    )
    .await;
}

/// Asks a question with a phone only (so no receipt) and returns (id, tracking code).
async fn ask(app: &TestApp, admin: &str, title: &str) -> (String, String) {
    let body = j!({
        "title": title,
        "body": "Xin hỏi thủ tục và thời hạn giải quyết như thế nào?",
        "asker": {"name": "Nguyễn Văn An", "phone": "0912345678"},
        "publish_consent": false
    });
    let asked = app.ask(&body).await;
    let code = asked["tracking_code"].as_str().unwrap().to_string();
    let id = app.question_id(admin, &code).await;
    (id, code)
}

/// The next `n` messages, by recipient then subject.
async fn take(sink: &mut Sink, n: usize) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for _ in 0..n {
        let m = sink.next().await;
        let to = m["rcpt_to"][0].as_str().unwrap().to_string();
        let subject = m["subject"].as_str().unwrap().to_string();
        assert!(
            out.insert((to, subject), m).is_none(),
            "a message came twice"
        );
    }
    out
}

/// The subjects that went to `to`, in order.
fn subjects_to<'a>(messages: &'a BTreeMap<(String, String), Value>, to: &str) -> Vec<&'a str> {
    messages
        .keys()
        .filter(|(r, _)| r == to)
        .map(|(_, s)| s.as_str())
        .collect()
}

/// Waits until every queued message is sent, then checks the server took exactly those.
async fn all_sent_once(app: &TestApp, admin: &str, sink: &mut Sink) -> Vec<Value> {
    let listed = sent(app, admin).await;
    assert!(listed.iter().all(|m| m["status"] == "sent"), "{listed:#?}");
    // The server prints its line before it answers, so every sent message's line is there.
    let deadline = Instant::now() + Duration::from_secs(30);
    while sink.received < listed.len() {
        assert!(Instant::now() < deadline, "lines missing");
        sink.next().await;
    }
    assert_eq!(sink.received, listed.len(), "a message was sent twice");
    listed
}

/// Periods of `unit`'s obligations in February 2024, as `GET /obligations/status` shows them.
async fn february(app: &TestApp, token: &str, unit: &str) -> Value {
    let status = json(
        app.get_as(
            token,
            &format!("/api/v1/obligations/status?unit={unit}&from=2024-02-01&to=2024-02-29"),
        )
        .await,
        200,
    )
    .await;
    let items = status["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{items:#?}");
    items[0].clone()
}

#[tokio::test]
async fn reminders_missed_notices_and_the_morning_digest_are_mailed_once() {
    let Some(mut sink) = Sink::start(0).await else {
        return;
    };
    let url = sink.url();
    let settings = mail_settings(&url);
    let app = spawn_app_at_with(MONDAY, &settings).await;
    let admin = app.admin_token().await;
    let editor = app.user("editor", None).await;
    let officer = app.user("officer", Some("so-khcn")).await;
    let quiet = app.user("officer", Some("so-khcn")).await;
    let finance = app.user("officer", Some("so-tai-chinh")).await;
    set_email(&app, &admin, &editor.id, j!({"email": EDITOR})).await;
    set_email(&app, &admin, &officer.id, j!({"email": OFFICER})).await;
    set_email(
        &app,
        &admin,
        &quiet.id,
        j!({"email": QUIET_OFFICER, "notify_digest": false}),
    )
    .await;

    // One question routed to so-khcn, one left for the board to route; an item of another
    // unit and category waits for review.
    let (routed, routed_code) = ask(&app, &admin, "Thủ tục đăng ký đề tài khoa học").await;
    let (_, unrouted_code) = ask(&app, &admin, "Hỗ trợ doanh nghiệp khởi nghiệp").await;
    json(
        app.post_as(
            &editor.token,
            &format!("/api/v1/questions/{routed}/transitions"),
            &j!({"action": "assign", "unit": "so-khcn"}),
        )
        .await,
        200,
    )
    .await;
    let item = j!({"category": "tin-tuc", "title": "Hội nghị tổng kết ngân sách",
                   "summary": "Tóm tắt", "body": "<p>Nội dung</p>", "draft": false});
    json(
        app.post_as(&finance.token, "/api/v1/submissions", &item)
            .await,
        201,
    )
    .await;

    // Two more instances look on Monday: so-khcn is reminded of February once, both its
    // officers, whatever their digest choice. The other units have no address.
    let (b, c) = tokio::join!(
        app.second_instance_at_with(MONDAY, &settings),
        app.second_instance_at_with(MONDAY, &settings)
    );
    let monday = take(&mut sink, 4).await;
    let reminder_subject = "[Cổng TTĐT] Nhắc việc: Sở Khoa học và Công nghệ còn thiếu tin, bài \
                            kỳ 01/02/2024 - 29/02/2024, hạn 29/02/2024";
    let routed_subject =
        format!("[Cổng TTĐT] Câu hỏi {routed_code} chuyển đến Sở Khoa học và Công nghệ, hạn trả lời 18/03/2024");
    for to in [OFFICER, QUIET_OFFICER] {
        let mut want = vec![routed_subject.as_str(), reminder_subject];
        want.sort();
        assert_eq!(subjects_to(&monday, to), want);
    }
    let reminder = &monday[&(OFFICER.to_string(), reminder_subject.to_string())];
    let text = reminder["text"].as_str().unwrap();
    for want in [
        "Công văn số 232/UBND-KGVX",
        "kết quả nghiên cứu khoa học - công nghệ",
        "Chuyên mục: Chương trình, đề tài và kết quả nghiên cứu",
        "Hạn hoàn thành: 29/02/2024",
        "Số tin, bài đã có: 0/1 (còn thiếu 1)",
    ] {
        assert!(text.contains(want), "no {want:?} in {text}");
    }
    let listed = all_sent_once(&app, &admin, &mut sink).await;
    assert_eq!(listed.len(), 4);
    drop((b, c));
    let khcn = february(&app, &editor.token, "so-khcn").await;
    assert_eq!(khcn["status"], "pending");
    assert_eq!(khcn["reminded_at"], "2024-02-26T03:00:00Z");
    assert!(khcn["missed_notice_at"].is_null());
    let khdt = february(&app, &editor.token, "so-khdt").await;
    assert!(khdt["reminded_at"].is_null(), "{khdt}");

    // 13 March, 07:30: two instances at once. February was missed by the three units; the
    // digest goes to the officer and the editor, not to the officer who turned it off.
    let (d, e) = tokio::join!(
        app.second_instance_at_with(MORNING, &settings),
        app.second_instance_at_with(MORNING, &settings)
    );
    let morning = take(&mut sink, 7).await;
    let digest_officer =
        "[Cổng TTĐT] Việc cần xử lý ngày 13/03/2024: 1 câu hỏi sắp đến hạn, 0 quá hạn";
    let digest_board =
        "[Cổng TTĐT] Việc cần xử lý ngày 13/03/2024: 1 nội dung chờ duyệt, 1 câu hỏi chưa chuyển xử lý";
    let missed_unit =
        "[Cổng TTĐT] Chưa hoàn thành nghĩa vụ cung cấp thông tin kỳ 01/02/2024 - 29/02/2024";
    let missed_board = |unit: &str| {
        format!("[Cổng TTĐT] {unit} chưa hoàn thành nghĩa vụ cung cấp thông tin kỳ 01/02/2024 - 29/02/2024")
    };
    let mut board = vec![
        digest_board.to_string(),
        missed_board("Sở Khoa học và Công nghệ"),
        missed_board("Sở Kế hoạch và Đầu tư"),
        missed_board("Sở Lao động - Thương binh và Xã hội"),
    ];
    board.sort();
    assert_eq!(subjects_to(&morning, EDITOR), board);
    let mut officer_got = vec![digest_officer, missed_unit];
    officer_got.sort();
    assert_eq!(subjects_to(&morning, OFFICER), officer_got);
    assert_eq!(subjects_to(&morning, QUIET_OFFICER), [missed_unit]);

    let digest = &morning[&(OFFICER.to_string(), digest_officer.to_string())];
    let text = digest["text"].as_str().unwrap();
    assert!(
        text.contains(&format!(
            "- {routed_code}: Thủ tục đăng ký đề tài khoa học (hạn 18/03/2024)"
        )),
        "{text}"
    );
    assert!(!text.contains(&unrouted_code), "{text}");
    let digest = &morning[&(EDITOR.to_string(), digest_board.to_string())];
    let text = digest["text"].as_str().unwrap();
    assert!(
        text.contains("Hội nghị tổng kết ngân sách (Sở Tài chính, chờ từ 26/02/2024)"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "- {unrouted_code}: Hỗ trợ doanh nghiệp khởi nghiệp (tiếp nhận 26/02/2024)"
        )),
        "{text}"
    );
    assert!(!text.contains(&routed_code), "{text}");

    let listed = all_sent_once(&app, &admin, &mut sink).await;
    assert_eq!(listed.len(), 11);
    assert_eq!(
        app.db.count(
            "SELECT count(*) AS n FROM event_marks WHERE type = 'mail.digest' \
             AND subject_id = '2024-03-13'"
        ),
        1
    );
    // As an instance of 13 March sees it.
    let khcn = february(&d, &editor.token, "so-khcn").await;
    assert_eq!(khcn["status"], "missing");
    assert_eq!(khcn["reminded_at"], "2024-02-26T03:00:00Z");
    assert_eq!(khcn["missed_notice_at"], "2024-03-13T00:30:00Z");
    drop((d, e));
}
