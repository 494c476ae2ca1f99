//! Mail, end to end against a real SMTP server: `tests/smtp_sink.py` (aiosmtpd) started by the
//! test, which writes each message it takes and prints a line for it.

use std::time::Duration;

use serde_json::{json as j, Value};

use crate::helpers::{json, spawn_app_with, TestApp};
use crate::smtp_sink::Sink;

const ASKER: &str = "nguoi.hoi@example.vn";
const OFFICER: &str = "can.bo@so-xay-dung.example.vn";

/// The settings of a service that mails through `url`.
pub(crate) fn mail_settings(url: &str) -> Vec<(&str, &str)> {
    vec![
        ("PORTAL_SMTP_URL", url),
        ("PORTAL_MAIL_FROM", "Cổng TTĐT <no-reply@portal.example.vn>"),
        ("PORTAL_PUBLIC_BASE_URL", "https://cong.example.vn"),
    ]
}

async fn app_for(sink: &Sink, extra: &[(&str, &str)]) -> TestApp {
    let url = sink.url();
    let mut settings = mail_settings(&url);
    settings.extend_from_slice(extra);
    spawn_app_with(&settings).await
}

async fn ask(app: &TestApp, email: &str) -> Value {
    let body = j!({
        "title": "Thủ tục cấp phép xây dựng <nhà ở>",
        "body": "Xin hỏi hồ sơ cấp phép xây dựng nhà ở riêng lẻ gồm những gì?",
        "asker": {"name": "Nguyễn Văn An", "email": email},
        "publish_consent": true
    });
    json(
        app.client
            .post(format!("{}/api/v1/questions", app.address))
            .json(&body)
            .send()
            .await
            .unwrap(),
        201,
    )
    .await
}

/// The link of a message's text that starts with `prefix`.
fn link(message: &Value, prefix: &str) -> String {
    let text = message["text"].as_str().unwrap();
    let at = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {text}"));
    text[at..].split_whitespace().next().unwrap().to_string()
}

fn key_of(url: &str) -> String {
    let parsed = url::Url::parse(url).unwrap();
    parsed
        .query_pairs()
        .find(|(k, _)| k == "key")
        .map(|(_, v)| v.into_owned())
        .expect("a key in the link")
}

async fn track(app: &TestApp, code: &str, key: &str) -> u16 {
    app.client
        .get(format!("{}/api/v1/tracking/{code}", app.address))
        .header("x-access-key", key)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The outbox once no message is pending any more (the server may print its line before the
/// service records the answer it got).
pub(crate) async fn sent(app: &TestApp, admin: &str) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let page = json(app.get_as(admin, "/api/v1/mail?limit=100").await, 200).await;
        let items = page["items"].as_array().unwrap().clone();
        if items.iter().all(|m| m["status"] != "pending") {
            return items;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still pending: {items:?}"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn an_asker_and_the_unit_get_receipt_routing_answer_and_publication_in_vietnamese() {
    let Some(mut sink) = Sink::start(0).await else {
        return;
    };
    let app = app_for(&sink, &[]).await;
    let admin = app.admin_token().await;
    let editor = app.user("editor", None).await;
    let officer = app.user("officer", Some("so-xay-dung")).await;
    let changed = app
        .patch_as(
            &admin,
            &format!("/api/v1/users/{}", officer.id),
            &j!({"email": OFFICER}),
        )
        .await;
    json(changed, 200).await;

    let asked = ask(&app, ASKER).await;
    let code = asked["tracking_code"].as_str().unwrap().to_string();
    let key = asked["access_key"].as_str().unwrap().to_string();
    let receipt = sink.next().await;
    assert_eq!(receipt["rcpt_to"], j!([ASKER]));
    assert_eq!(
        receipt["subject"].as_str().unwrap(),
        format!("[Cổng TTĐT] Đã tiếp nhận câu hỏi {code}")
    );
    let text = receipt["text"].as_str().unwrap();
    assert!(text.contains("Kính gửi Ông/Bà Nguyễn Văn An"), "{text}");
    assert!(
        text.contains("<nhà ở>"),
        "the text part is not escaped: {text}"
    );
    let html = receipt["html"].as_str().unwrap();
    assert!(
        html.contains("&lt;nhà ở&gt;"),
        "the HTML part is escaped: {html}"
    );
    let due = asked["due_at"].as_str().unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(due).unwrap();
    assert!(text.contains(&due.format("%d/%m/%Y").to_string()), "{text}");
    let tracking = link(&receipt, "https://cong.example.vn/tra-cuu/");
    assert_eq!(
        tracking,
        format!(
            "https://cong.example.vn/tra-cuu/{code}?key={}",
            urlencode(&key)
        )
    );
    assert_eq!(key_of(&tracking), key);
    assert_eq!(track(&app, &code, &key_of(&tracking)).await, 200);

    let id = {
        let list = json(app.get_as(&editor.token, "/api/v1/questions").await, 200).await;
        list["items"][0]["id"].as_str().unwrap().to_string()
    };
    let path = format!("/api/v1/questions/{id}");
    let routed = app
        .post_as(
            &editor.token,
            &format!("{path}/transitions"),
            &j!({"action": "assign", "unit": "so-xay-dung"}),
        )
        .await;
    json(routed, 200).await;
    let notice = sink.next().await;
    assert_eq!(notice["rcpt_to"], j!([OFFICER]));
    assert!(notice["subject"].as_str().unwrap().contains(&code));
    assert!(notice["text"].as_str().unwrap().contains("Sở Xây dựng"));
    assert!(!notice["text"].as_str().unwrap().contains(ASKER));

    let answer_text = "Hồ sơ gồm đơn đề nghị và bản vẽ thiết kế.";
    let replied = app
        .post_as(
            &officer.token,
            &format!("{path}/replies"),
            &j!({"body": answer_text}),
        )
        .await;
    assert!(replied.status().is_success(), "{}", replied.status());
    let answer = sink.next().await;
    assert_eq!(answer["rcpt_to"], j!([ASKER]));
    assert_eq!(
        answer["subject"].as_str().unwrap(),
        format!("[Cổng TTĐT] Câu hỏi {code} đã được trả lời")
    );
    assert!(answer["text"].as_str().unwrap().contains(answer_text));
    // The answer's link opens the tracking page, which asks for the key.
    let page = link(&answer, "https://cong.example.vn/tra-cuu/");
    assert_eq!(page, format!("https://cong.example.vn/tra-cuu/{code}"));

    let published = app
        .post_as(
            &editor.token,
            &format!("{path}/transitions"),
            &j!({"action": "publish"}),
        )
        .await;
    json(published, 200).await;
    let publication = sink.next().await;
    assert_eq!(publication["rcpt_to"], j!([ASKER]));
    assert!(publication["subject"].as_str().unwrap().contains(&code));

    // Exactly these four, each with its own Message-ID, all sent; addresses masked.
    let ids: std::collections::BTreeSet<&str> = [&receipt, &notice, &answer, &publication]
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 4);
    let listed = sent(&app, &admin).await;
    let kinds: Vec<&str> = listed.iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["publication", "answer", "question_routed", "receipt"]
    );
    assert!(listed.iter().all(|m| m["status"] == "sent"));
    assert_eq!(listed[3]["to"], "n***@example.vn");
    let raw = app
        .get_as(&admin, "/api/v1/mail")
        .await
        .text()
        .await
        .unwrap();
    assert!(!raw.contains(ASKER) && !raw.contains(&key));
    let failed = json(app.get_as(&admin, "/api/v1/mail?status=failed").await, 200).await;
    assert_eq!(failed["items"], j!([]));
    let forbidden = app.get_as(&editor.token, "/api/v1/mail").await;
    assert_eq!(forbidden.status(), 403);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn resend_mails_a_new_key_and_answers_a_wrong_email_alike() {
    let Some(mut sink) = Sink::start(0).await else {
        return;
    };
    let app = app_for(&sink, &[]).await;
    let asked = ask(&app, ASKER).await;
    let code = asked["tracking_code"].as_str().unwrap().to_string();
    let old_key = asked["access_key"].as_str().unwrap().to_string();
    let receipt = sink.next().await;
    assert_eq!(receipt["rcpt_to"], j!([ASKER]));

    let resend = |email: &'static str| {
        let app = &app;
        let code = code.clone();
        async move {
            let r = app
                .client
                .post(format!("{}/api/v1/tracking/{code}/resend", app.address))
                .json(&j!({ "email": email }))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let wrong = resend("ai.do@example.vn").await;
    let unknown = {
        let r = app
            .client
            .post(format!("{}/api/v1/tracking/Q26-ZZZZZZ/resend", app.address))
            .json(&j!({"email": ASKER}))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    let right = resend("Nguoi.Hoi@example.vn").await;
    assert_eq!(wrong.0, 202);
    assert_eq!(wrong, right);
    assert_eq!(wrong, unknown);

    let mail = sink.next().await;
    assert_eq!(mail["rcpt_to"], j!([ASKER]));
    let new_key = key_of(&link(&mail, "https://cong.example.vn/tra-cuu/"));
    assert_ne!(new_key, old_key);
    assert_eq!(track(&app, &code, &new_key).await, 200);
    assert_eq!(track(&app, &code, &old_key).await, 404);
    // Only the receipt and the one new key were sent: the wrong e-mail got nothing.
    let admin = app.admin_token().await;
    let kinds: Vec<String> = sent(&app, &admin)
        .await
        .iter()
        .map(|m| m["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["key_resent", "receipt"]);
}

#[tokio::test]
async fn a_message_the_server_refuses_for_now_is_delivered_once_on_retry() {
    let Some(mut sink) = Sink::start(1).await else {
        return;
    };
    let app = app_for(&sink, &[("PORTAL_MAIL_RETRY_SECONDS", "0,0,0")]).await;
    let asked = ask(&app, ASKER).await;
    assert_eq!(sink.line().await, "refused");
    let receipt = sink.next().await;
    assert!(receipt["subject"]
        .as_str()
        .unwrap()
        .contains(asked["tracking_code"].as_str().unwrap()));
    let admin = app.admin_token().await;
    let listed = sent(&app, &admin).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "sent");
    assert_eq!(listed[0]["attempts"], 2);
    assert_eq!(sink.received, 1);
}

#[tokio::test]
async fn a_message_rejected_for_good_fails_at_once_and_its_error_hides_the_address() {
    let Some(mut sink) = Sink::start_with(0, 1).await else {
        return;
    };
    let app = app_for(&sink, &[]).await;
    ask(&app, ASKER).await;
    assert_eq!(sink.line().await, "rejected");
    let admin = app.admin_token().await;
    let listed = sent(&app, &admin).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "failed");
    assert_eq!(listed[0]["attempts"], 1);
    let error = listed[0]["last_error"].as_str().unwrap();
    assert!(error.contains("n***@example.vn"), "{error}");
    assert!(!error.to_lowercase().contains(ASKER), "{error}");
    let failed = json(app.get_as(&admin, "/api/v1/mail?status=failed").await, 200).await;
    assert_eq!(failed["items"].as_array().unwrap().len(), 1);
}
