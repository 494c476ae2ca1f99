//! The templates' tests: every mail kind and page renders, escaped where it must be.
use super::*;

#[test]
fn html_is_escaped_and_text_is_not() {
    let t = Templates::embedded();
    let mut env = Environment::new();
    env.add_template("x.html", "{{ v }}").unwrap();
    env.add_template("x.txt", "{{ v }}").unwrap();
    assert_eq!(
        env.get_template("x.html")
            .unwrap()
            .render(minijinja::context! {v => "<b>&"})
            .unwrap(),
        "&lt;b&gt;&amp;"
    );
    assert_eq!(
        env.get_template("x.txt")
            .unwrap()
            .render(minijinja::context! {v => "<b>&"})
            .unwrap(),
        "<b>&"
    );
    let mut dates = Environment::new();
    dates.add_filter("date_vn", date_vn);
    dates.add_filter("datetime_vn", datetime_vn);
    dates
        .add_template(
            "d.html",
            "{{ d|date_vn }} {{ t|datetime_vn }} {{ x|date_vn }}",
        )
        .unwrap();
    let ctx =
        minijinja::context! {d => "2026-03-09", t => "2026-03-09T07:30:00+07:00", x => "a/<b>"};
    assert_eq!(
        dates.get_template("d.html").unwrap().render(ctx).unwrap(),
        "09/03/2026 07:30 09/03/2026 a&#x2f;&lt;b&gt;"
    );
    assert!(!EMBEDDED.is_empty());
    for (name, _) in EMBEDDED {
        assert!(t.has(name), "{name}");
    }
}

use serde_json::{json, Value};

/// A title that would break the HTML part if it were not escaped.
const DANGEROUS: &str = r#"Hỏi về <b>&"quoted"</b> trong hồ sơ"#;

/// `extra` with the variables every mail has.
fn mail_context(recipient: Option<&str>, extra: Value) -> Value {
    let common = json!({
        "site": {
            "name": "Cổng thông tin điện tử tỉnh",
            "short": "Cổng TTĐT",
            "base_url": "http://localhost:8080",
        },
        "recipient": { "name": recipient },
    });
    merge(common, extra)
}

/// The subject (trimmed), text and HTML parts of one mail.
fn render_mail(t: &Templates, kind: &str, context: &Value) -> (String, String, String) {
    let part = |suffix: &str| {
        let name = format!("mail/{kind}.{suffix}");
        t.render(&name, context)
            .unwrap_or_else(|e| panic!("{name}: {e:#}"))
    };
    (
        part("subject.txt").trim().to_owned(),
        part("txt"),
        part("html"),
    )
}

/// One mail to render: its kind, context, and what both its text and HTML parts must
/// hold (strings with nothing the HTML escaping changes).
struct Case {
    kind: &'static str,
    context: Value,
    body: Vec<&'static str>,
    subject: Vec<&'static str>,
}

fn cases() -> Vec<Case> {
    let question = |title: &str| {
        json!({
            "code": "Q26-7KX9M2",
            "title": title,
            "unit_name": "Sở Tài nguyên và Môi trường",
        })
    };
    let item = |title: &str, category: Option<&str>| {
        json!({
            "title": title,
            "category": category,
            "version": 2,
        })
    };
    let obligation = |category: Option<&str>| {
        merge(
            period_line(category),
            json!({
                "unit_name": "UBND huyện Phú Lộc",
                "items_url": "http://localhost:8080/quan-tri/noi-dung",
            }),
        )
    };
    let citizen = vec![
        "Kính gửi Ông/Bà",
        "Q26-7KX9M2",
        "thư trả lời sẽ không được đọc",
    ];
    vec![
        Case {
            kind: "receipt",
            context: mail_context(
                Some("Nguyễn Văn An"),
                json!({
                    "q": {
                        "code": "Q26-7KX9M2",
                        "title": "Thủ tục cấp giấy chứng nhận quyền sử dụng đất lần đầu",
                        "unit_name": "Sở Tài nguyên và Môi trường",
                        "due_date": "29/12/2026",
                        "received": "08/12/2026",
                    },
                    "tracking_url": "http://localhost:8080/hoi-dap/Q26-7KX9M2?key=k7Hq2mZp",
                }),
            ),
            body: [
                citizen.as_slice(),
                &[
                    "Nguyễn Văn An",
                    "Sở Tài nguyên và Môi trường",
                    "lưu giữ thư này",
                ],
            ]
            .concat(),
            subject: vec!["Q26-7KX9M2"],
        },
        Case {
            kind: "receipt",
            context: mail_context(
                None,
                json!({
                    "q": {
                        "code": "Q26-7KX9M2",
                        "title": "Chế độ trợ cấp cho người cao tuổi",
                        "unit_name": null,
                        "due_date": "29/12/2026",
                        "received": "08/12/2026",
                    },
                    "tracking_url": "http://localhost:8080/hoi-dap/Q26-7KX9M2?key=k7Hq2mZp",
                }),
            ),
            body: [
                citizen.as_slice(),
                &[
                    "Kính gửi Ông/Bà,",
                    "Ban Biên tập sẽ chuyển câu hỏi đến cơ quan có thẩm quyền",
                ],
            ]
            .concat(),
            subject: vec!["Q26-7KX9M2"],
        },
        Case {
            kind: "answer",
            context: mail_context(
                Some("Trần Thị Bình"),
                json!({
                    "q": question(DANGEROUS),
                    "reply": {
                        "body": "Trả lời câu hỏi của Ông/Bà như sau:\n\
                                 Hồ sơ gồm đơn đề nghị <mẫu 04>.\n\
                                 Nộp tại Bộ phận một cửa.",
                        "unit_name": "Sở Tài nguyên và Môi trường",
                        "at": "15/12/2026",
                    },
                    "tracking_url": "http://localhost:8080/hoi-dap/Q26-7KX9M2",
                }),
            ),
            body: [
                citizen.as_slice(),
                &[
                    "Trần Thị Bình",
                    "Sở Tài nguyên và Môi trường",
                    "yêu cầu cấp khóa mới",
                ],
            ]
            .concat(),
            subject: vec!["Q26-7KX9M2", "đã được trả lời"],
        },
        Case {
            kind: "reply",
            context: mail_context(
                None,
                json!({
                    "q": question("Thời hạn cấp đổi giấy phép lái xe"),
                    "reply": {
                        "body": "Bổ sung thông tin:\nThời hạn giải quyết là 05 ngày làm việc.",
                        "unit_name": null,
                        "at": "17/12/2026",
                    },
                    "tracking_url": "http://localhost:8080/hoi-dap/Q26-7KX9M2",
                }),
            ),
            body: [
                citizen.as_slice(),
                &["Sở Tài nguyên và Môi trường", "Thời hạn giải quyết"],
            ]
            .concat(),
            subject: vec!["Q26-7KX9M2", "trả lời mới"],
        },
        Case {
            kind: "rejection",
            context: mail_context(
                Some("Lê Văn Cường"),
                json!({
                    "q": {"code": "Q26-7KX9M2", "title": "Góp ý chung"},
                    "note": "Nội dung không thuộc phạm vi trả lời của các cơ quan tỉnh.",
                    "tracking_url": "http://localhost:8080/hoi-dap/Q26-7KX9M2?key=k7Hq2mZp",
                }),
            ),
            body: [citizen.as_slice(), &["Lý do", "không thuộc phạm vi"]].concat(),
            subject: vec!["Q26-7KX9M2"],
        },
        Case {
            kind: "rejection",
            context: mail_context(
                None,
                json!({
                    "q": {"code": "Q26-7KX9M2", "title": "Góp ý chung"},
                    "note": null,
                    "tracking_url": "http://localhost:8080/hoi-dap/Q26-7KX9M2",
                }),
            ),
            body: citizen.clone(),
            subject: vec!["Q26-7KX9M2"],
        },
        Case {
            kind: "publication",
            context: mail_context(
                Some("Phạm Thị Dung"),
                json!({
                    "q": {"code": "Q26-7KX9M2", "title": "Học phí năm học 2026-2027"},
                    "public_url": "http://localhost:8080/hoi-dap/cong-khai/Q26-7KX9M2",
                    "tracking_url": "http://localhost:8080/hoi-dap/Q26-7KX9M2",
                }),
            ),
            body: [
                citizen.as_slice(),
                &["Học phí năm học 2026-2027", "Hỏi đáp"],
            ]
            .concat(),
            subject: vec!["Q26-7KX9M2"],
        },
        Case {
            kind: "key_resent",
            context: mail_context(
                Some("Hoàng Văn Em"),
                json!({
                    "q": {"code": "Q26-7KX9M2", "title": "Cấp phép xây dựng nhà ở"},
                    "tracking_url": "http://localhost:8080/hoi-dap/Q26-7KX9M2?key=n3wK3y9",
                }),
            ),
            body: [
                citizen.as_slice(),
                &["không còn sử dụng được", "bỏ qua thư này"],
            ]
            .concat(),
            subject: vec!["Q26-7KX9M2"],
        },
        Case {
            kind: "question_routed",
            context: mail_context(
                None,
                json!({
                    "unit_name": "Sở Giáo dục và Đào tạo",
                    "q": {
                        "code": "Q26-7KX9M2",
                        "title": "Tuyển sinh lớp 10 năm học 2027-2028",
                        "due_date": "29/12/2026",
                        "received": "08/12/2026",
                    },
                    "questions_url": "http://localhost:8080/quan-tri/cau-hoi",
                }),
            ),
            body: vec![
                "Kính gửi Quý cơ quan,",
                "Q26-7KX9M2",
                "Sở Giáo dục và Đào tạo",
                "thời hạn quy định",
                "thư trả lời sẽ không được đọc",
            ],
            subject: vec!["Q26-7KX9M2", "Sở Giáo dục và Đào tạo"],
        },
        Case {
            kind: "item_returned",
            context: mail_context(
                Some("Võ Thị Giang"),
                json!({
                    "unit_name": "Sở Y tế",
                    "item": item(DANGEROUS, None),
                    "note": "Đề nghị bổ sung nguồn tin.\nẢnh minh họa chưa rõ.",
                    "items_url": "http://localhost:8080/quan-tri/noi-dung",
                }),
            ),
            body: vec![
                "Kính gửi Ông/Bà Võ Thị Giang",
                "Sở Y tế",
                "bổ sung nguồn tin",
            ],
            subject: vec!["trả lại"],
        },
        Case {
            kind: "item_rejected",
            context: mail_context(
                None,
                json!({
                    "unit_name": "Sở Y tế",
                    "item": item("Thông báo lịch tiêm chủng tháng 12", Some("Tin y tế")),
                    "note": null,
                    "items_url": "http://localhost:8080/quan-tri/noi-dung",
                }),
            ),
            body: vec![
                "Kính gửi Quý cơ quan,",
                "Sở Y tế",
                "Tin y tế",
                "không duyệt đăng",
            ],
            subject: vec!["Thông báo lịch tiêm chủng tháng 12"],
        },
        Case {
            kind: "item_published",
            context: mail_context(
                Some("Đặng Văn Hùng"),
                json!({
                    "unit_name": "Sở Văn hóa và Thể thao",
                    "item": item("Lễ hội đường phố năm 2026", Some("Văn hóa - Du lịch")),
                    "note": "Đã rút gọn tiêu đề.",
                    "items_url": "http://localhost:8080/quan-tri/noi-dung",
                    "public_url": "http://localhost:8080/tin-tuc/le-hoi-duong-pho-nam-2026",
                }),
            ),
            body: vec![
                "Sở Văn hóa và Thể thao",
                "Văn hóa - Du lịch",
                "Đã rút gọn tiêu đề.",
            ],
            subject: vec!["Lễ hội đường phố năm 2026"],
        },
        Case {
            kind: "item_published",
            context: mail_context(
                None,
                json!({
                    "unit_name": "Sở Văn hóa và Thể thao",
                    "item": item("Lễ hội đường phố năm 2026", None),
                    "note": null,
                    "items_url": "http://localhost:8080/quan-tri/noi-dung",
                    "public_url": null,
                }),
            ),
            body: vec!["Kính gửi Quý cơ quan,", "Sở Văn hóa và Thể thao"],
            subject: vec!["Lễ hội đường phố năm 2026"],
        },
        Case {
            kind: "digest",
            context: mail_context(Some("Bùi Thị Lan"), officer_digest()),
            body: vec![
                "Bùi Thị Lan",
                "Sở Xây dựng",
                "Q26-AB12CD",
                "Q26-ZX98YW",
                "tắt thư tổng hợp hằng ngày trong hồ sơ tài khoản",
            ],
            subject: vec!["3 câu hỏi sắp đến hạn, 1 quá hạn"],
        },
        Case {
            kind: "digest",
            context: mail_context(None, editor_digest()),
            body: vec![
                "Kính gửi Ban Biên tập,",
                "Sở Công Thương",
                "Q26-MN45PQ",
                "và 22 câu hỏi khác",
                "tắt thư tổng hợp hằng ngày trong hồ sơ tài khoản",
            ],
            subject: vec!["2 nội dung chờ duyệt, 23 câu hỏi chưa chuyển xử lý"],
        },
        Case {
            kind: "obligation_reminder",
            context: mail_context(None, reminder(&[None])),
            body: vec![
                "Kính gửi Quý cơ quan,",
                "UBND huyện Phú Lộc",
                "Công văn số 232",
                "thông tin định kỳ",
                "còn thiếu 3",
            ],
            subject: vec![
                "UBND huyện Phú Lộc",
                "kỳ 01/11/2026 - 30/11/2026, hạn 07/12/2026",
            ],
        },
        Case {
            kind: "obligation_reminder",
            context: mail_context(
                Some("Ngô Văn Khánh"),
                reminder(&[None, Some("Chỉ đạo điều hành")]),
            ),
            body: vec![
                "Ngô Văn Khánh",
                "các kỳ",
                "Chỉ đạo điều hành",
                "còn thiếu 3",
            ],
            subject: vec!["UBND huyện Phú Lộc", "của 2 kỳ sắp đến hạn"],
        },
        Case {
            kind: "obligation_missed",
            context: mail_context(
                Some("Ngô Văn Khánh"),
                merge(
                    obligation(Some("Chỉ đạo điều hành")),
                    json!({"for_board": false}),
                ),
            ),
            body: vec![
                "Ngô Văn Khánh",
                "UBND huyện Phú Lộc",
                "Chỉ đạo điều hành",
                "Công văn số 232",
                "đơn vị chưa có đủ",
            ],
            subject: vec!["Chưa hoàn thành"],
        },
        Case {
            kind: "obligation_missed",
            context: mail_context(None, merge(obligation(None), json!({"for_board": true}))),
            body: vec![
                "Kính gửi Ban Biên tập,",
                "UBND huyện Phú Lộc chưa hoàn thành",
                "Công văn số 232",
            ],
            subject: vec!["UBND huyện Phú Lộc chưa hoàn thành"],
        },
    ]
}

/// One obligation period as a message describes it.
fn period_line(category: Option<&str>) -> Value {
    json!({
        "obligation": {
            "description": "Tin hoạt động chỉ đạo, điều hành của đơn vị",
            "category_name": category,
            "cadence_label": "hằng tháng",
        },
        "period": {"start": "01/11/2026", "end": "30/11/2026", "due_date": "07/12/2026"},
        "have": 1,
        "need": 4,
        "missing": 3,
    })
}

/// A reminder of one period per category given.
fn reminder(categories: &[Option<&str>]) -> Value {
    json!({
        "unit_name": "UBND huyện Phú Lộc",
        "periods": categories.iter().map(|c| period_line(*c)).collect::<Vec<_>>(),
        "items_url": "http://localhost:8080/quan-tri/noi-dung",
    })
}

/// The keys of `b` added to `a`.
fn merge(mut a: Value, b: Value) -> Value {
    let map = a.as_object_mut().expect("an object");
    for (key, value) in b.as_object().expect("an object") {
        map.insert(key.clone(), value.clone());
    }
    a
}

fn officer_digest() -> Value {
    let title = "Hồ sơ cấp phép xây dựng nhà ở riêng lẻ";
    let q = |code: &str, due: &str| json!({"code": code, "title": title, "due_date": due});
    json!({
        "date": "08/12/2026",
        "role": "officer",
        "unit_name": "Sở Xây dựng",
        "due_soon": [
            q("Q26-AB12CD", "09/12/2026"),
            q("Q26-EF34GH", "10/12/2026"),
            q("Q26-JK56LM", "11/12/2026"),
        ],
        "overdue": [q("Q26-ZX98YW", "04/12/2026")],
        "review": [],
        "unrouted": [],
        "counts": {"due_soon": 3, "overdue": 1, "review": 0, "unrouted": 0},
        "questions_url": "http://localhost:8080/quan-tri/cau-hoi",
        "items_url": "http://localhost:8080/quan-tri/noi-dung",
    })
}

/// An editor's digest: no `unit_name`, which editors do not have.
fn editor_digest() -> Value {
    json!({
        "date": "08/12/2026",
        "role": "editor",
        "due_soon": [],
        "overdue": [],
        "review": [
            {
                "title": "Hội chợ hàng Việt năm 2026",
                "unit_name": "Sở Công Thương",
                "since": "05/12/2026",
            },
            {"title": DANGEROUS, "unit_name": "Sở Nội vụ", "since": "07/12/2026"},
        ],
        "unrouted": [{
            "code": "Q26-MN45PQ",
            "title": "Đăng ký kinh doanh hộ cá thể",
            "received": "07/12/2026",
        }],
        "counts": {"due_soon": 0, "overdue": 0, "review": 2, "unrouted": 23},
        "questions_url": "http://localhost:8080/quan-tri/cau-hoi",
        "items_url": "http://localhost:8080/quan-tri/noi-dung",
    })
}

#[test]
fn every_mail_kind_renders_in_vietnamese() {
    let t = Templates::embedded();
    let cases = cases();
    for kind in crate::domain::mail::MailKind::ALL {
        assert!(
            cases.iter().any(|c| c.kind == kind.as_str()),
            "no case for {}",
            kind.as_str()
        );
    }
    for case in &cases {
        let kind = case.kind;
        let (subject, text, html) = render_mail(&t, kind, &case.context);
        assert!(!subject.contains('\n'), "{kind}: {subject:?}");
        assert!(subject.starts_with("[Cổng TTĐT] "), "{kind}: {subject:?}");
        assert!(subject.len() > "[Cổng TTĐT] ".len(), "{kind}: {subject:?}");
        for want in &case.subject {
            assert!(
                subject.contains(want),
                "{kind} subject lacks {want:?}: {subject:?}"
            );
        }
        for (part, out) in [("txt", &text), ("html", &html)] {
            // Phrases are looked for across the line breaks of the wrapped text.
            let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
            for want in case
                .body
                .iter()
                .chain(&["Kính gửi", "Trân trọng", "gửi tự động"])
            {
                assert!(flat.contains(want), "{kind}.{part} lacks {want:?}:\n{out}");
            }
            assert!(
                !out.contains("{{") && !out.contains("{%"),
                "{kind}.{part}:\n{out}"
            );
        }
        assert!(html.starts_with("<!DOCTYPE html>"), "{kind}.html:\n{html}");
        assert!(html.contains("max-width:600px"), "{kind}.html");
        assert!(
            !html.contains("<link") && !html.contains("<img"),
            "{kind}.html"
        );
        if case.context.to_string().contains("quoted") {
            assert!(text.contains(DANGEROUS), "{kind}.txt:\n{text}");
            assert!(!html.contains(DANGEROUS), "{kind}.html:\n{html}");
            assert!(
                html.contains("&lt;b&gt;&amp;&quot;quoted&quot;&lt;&#x2f;b&gt;"),
                "{kind}.html:\n{html}"
            );
            if kind == "item_returned" {
                assert!(subject.contains(DANGEROUS), "{subject}");
            }
        }
    }
    let dangerous: Vec<&str> = cases
        .iter()
        .filter(|c| c.context.to_string().contains("quoted"))
        .map(|c| c.kind)
        .collect();
    assert_eq!(dangerous, ["answer", "item_returned", "digest"]);
}

#[test]
fn multi_line_text_keeps_its_breaks_in_html_and_stays_escaped() {
    let t = Templates::embedded();
    let case = cases()
        .into_iter()
        .find(|c| c.kind == "answer")
        .expect("an answer");
    let (_, text, html) = render_mail(&t, "answer", &case.context);
    assert!(
        text.contains("như sau:\nHồ sơ gồm đơn đề nghị <mẫu 04>.\nNộp tại"),
        "{text}"
    );
    assert!(
        html.contains("như sau:<br>\nHồ sơ gồm đơn đề nghị &lt;mẫu 04&gt;.<br>\nNộp tại"),
        "{html}"
    );
}

#[test]
fn digest_subject_shows_the_counts() {
    let t = Templates::embedded();
    let subject = |context: Value| {
        t.render("mail/digest.subject.txt", mail_context(None, context))
            .expect("renders")
            .trim()
            .to_owned()
    };
    assert_eq!(
        subject(officer_digest()),
        "[Cổng TTĐT] Việc cần xử lý ngày 08/12/2026: 3 câu hỏi sắp đến hạn, 1 quá hạn"
    );
    assert_eq!(
        subject(editor_digest()),
        "[Cổng TTĐT] Việc cần xử lý ngày 08/12/2026: 2 nội dung chờ duyệt, \
         23 câu hỏi chưa chuyển xử lý"
    );
    // The counts, not the lists, which are cut short.
    let mut long = officer_digest();
    long["counts"]["due_soon"] = json!(45);
    assert_eq!(
        subject(long),
        "[Cổng TTĐT] Việc cần xử lý ngày 08/12/2026: 45 câu hỏi sắp đến hạn, 1 quá hạn"
    );
}
