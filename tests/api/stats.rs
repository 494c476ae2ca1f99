use serde_json::{json as j, Value};

use crate::helpers::{json, problem, spawn_app, TestApp};

/// 10:00 in Vietnam on a day, as stored (UTC).
fn at(day: &str) -> String {
    format!("{day} 03:00:00")
}

fn submission(
    id: &str,
    unit: &str,
    category: &str,
    status: &str,
    submitted: &str,
    published: Option<&str>,
) -> String {
    submission_at(
        id,
        unit,
        category,
        status,
        &at(submitted),
        published.map(at).as_deref(),
    )
}

/// A submission first submitted at a stored (UTC) time.
fn submission_at(
    id: &str,
    unit: &str,
    category: &str,
    status: &str,
    submitted_utc: &str,
    published_utc: Option<&str>,
) -> String {
    let published = published_utc.map_or("NULL".to_string(), |t| format!("'{t}'"));
    format!(
        "INSERT INTO submissions (id, unit_code, category_code, title, summary, body, attachments, status, \
         version, author, search_text, created_at, updated_at, submitted_at, published_at) VALUES \
         ('{id}', '{unit}', '{category}', 'Tin {id}', '', '', '[]', '{status}', 1, 'user:test', 'tin', \
         '{s}', '{s}', '{s}', {published});",
        s = submitted_utc
    )
}

fn event(id: &str, version: i32, action: &str, from: &str, to: &str, day: &str) -> String {
    format!(
        "INSERT INTO submission_events (submission_id, unit_code, version, action, from_status, to_status, \
         actor, note, created_at) SELECT id, unit_code, {version}, '{action}', '{from}', '{to}', 'user:editor', \
         'x', '{}' FROM submissions WHERE id = '{id}';",
        at(day)
    )
}

fn question(id: &str, unit: &str, received: &str, due: &str, answered: Option<&str>) -> String {
    question_at(id, unit, &at(received), due, answered.map(at).as_deref())
}

/// A question received at a stored (UTC) time, due at the end of `due` in Vietnam.
fn question_at(
    id: &str,
    unit: &str,
    received_utc: &str,
    due: &str,
    answered_utc: Option<&str>,
) -> String {
    let (status, answered) = match answered_utc {
        Some(t) => ("answered", format!("'{t}'")),
        None => ("assigned", "NULL".into()),
    };
    format!(
        "INSERT INTO questions (id, tracking_code, access_key_hash, title, body, unit_code, asker_name, \
         publish_consent, status, search_text, received_at, due_at, answered_at, updated_at) VALUES \
         ('{id}', 'Q24-{id}', 'x', 'Hỏi', 'Hỏi', '{unit}', 'A', FALSE, '{status}', 'hoi', '{r}', \
         '{due} 16:59:59', {answered}, '{r}');",
        r = received_utc
    )
}

/// A quarter built by hand: so-khcn meets its duty, so-khdt is late once, so-ldtbxh misses
/// (its only February item was rejected), so-tu-phap leaves a question overdue, and so-noi-vu
/// submits nothing in Q1's reporting window (its one item, on 20 March, falls in the calendar
/// quarter but in Q2's reporting window). Every other unit left before the quarter.
async fn quarter_by_hand() -> TestApp {
    let app = spawn_app().await;
    let editor = app.user("editor", None).await;
    app.db.execute(
        "DELETE FROM obligations; \
         UPDATE units SET active = FALSE, deactivated_at = '2023-01-01 00:00:00' \
         WHERE code NOT IN ('so-khcn', 'so-khdt', 'so-ldtbxh', 'so-tu-phap', 'so-noi-vu');",
    );
    for (unit, category, due_day) in [
        ("so-khcn", "khoa-hoc-cong-nghe", None),
        ("so-khdt", "dau-tu", Some(10)),
        ("so-ldtbxh", "lao-dong-viec-lam", None),
    ] {
        let body = j!({"unit": unit, "category": category, "cadence": "monthly", "due_day": due_day, "starts_on": "2024-01-01"});
        json(
            app.post_as(&editor.token, "/api/v1/obligations", &body)
                .await,
            201,
        )
        .await;
    }
    let sql = [
        submission(
            "a1",
            "so-khcn",
            "khoa-hoc-cong-nghe",
            "published",
            "2024-01-10",
            Some("2024-01-12"),
        ),
        submission(
            "a2",
            "so-khcn",
            "khoa-hoc-cong-nghe",
            "submitted",
            "2024-02-10",
            None,
        ),
        submission(
            "a3",
            "so-khcn",
            "khoa-hoc-cong-nghe",
            "submitted",
            "2024-03-10",
            None,
        ),
        submission("a4", "so-khcn", "tin-tuc", "submitted", "2024-03-20", None),
        submission("b1", "so-khdt", "dau-tu", "submitted", "2024-01-05", None),
        submission("b2", "so-khdt", "dau-tu", "returned", "2024-02-20", None),
        event("b2", 2, "return", "submitted", "returned", "2024-02-21"),
        submission("b3", "so-khdt", "dau-tu", "submitted", "2024-03-05", None),
        submission(
            "c1",
            "so-ldtbxh",
            "lao-dong-viec-lam",
            "submitted",
            "2024-01-15",
            None,
        ),
        submission(
            "c2",
            "so-ldtbxh",
            "lao-dong-viec-lam",
            "rejected",
            "2024-02-05",
            None,
        ),
        event("c2", 2, "reject", "submitted", "rejected", "2024-02-06"),
        submission(
            "c3",
            "so-ldtbxh",
            "tin-tuc",
            "submitted",
            "2024-02-15",
            None,
        ),
        submission(
            "d1",
            "so-tu-phap",
            "tin-tuc",
            "submitted",
            "2024-01-20",
            None,
        ),
        question(
            "d01",
            "so-tu-phap",
            "2024-01-02",
            "2024-01-23",
            Some("2024-01-05"),
        ),
        question("d02", "so-tu-phap", "2024-02-01", "2024-02-22", None),
        submission(
            "e1",
            "so-noi-vu",
            "tin-tuc",
            "submitted",
            "2024-03-20",
            None,
        ),
    ];
    app.db.execute(&sql.join("\n"));
    app
}

fn row<'a>(report: &'a Value, unit: &str) -> &'a Value {
    report["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit"] == unit)
        .unwrap_or_else(|| panic!("no row for {unit}"))
}

fn figures(r: &Value) -> (Value, Value, Value, Value, Value) {
    (
        r["submissions"].clone(),
        r["obligations"].clone(),
        r["questions"].clone(),
        r["compliance"].clone(),
        r["reasons"].clone(),
    )
}

fn subs(received: i64, published: i64, returned: i64, rejected: i64) -> Value {
    j!({"received": received, "published": published, "returned": returned, "rejected": rejected})
}

fn obl(due: i64, met: i64, late: i64, missing: i64) -> Value {
    j!({"due": due, "met": met, "late": late, "missing": missing, "pending": 0})
}

fn noq() -> Value {
    j!({"received": 0, "answered": 0, "answered_on_time": 0, "overdue_open": 0, "median_working_days_to_answer": null})
}

#[tokio::test]
async fn the_reporting_window_report_counts_every_figure_and_names_the_failures() {
    let app = quarter_by_hand().await;
    let viewer = app.user("viewer", None).await;
    let report = json(
        app.get_as(&viewer.token, "/api/v1/stats/quarterly?year=2024&quarter=1")
            .await,
        200,
    )
    .await;
    assert_eq!(
        report["period"],
        j!({"year": 2024, "quarter": 1, "window": "reporting", "from": "2023-12-15", "to": "2024-03-14", "report_due": "2024-03-20"})
    );
    assert_eq!(report["units"].as_array().unwrap().len(), 5);
    let dq = j!({"received": 2, "answered": 1, "answered_on_time": 1, "overdue_open": 1, "median_working_days_to_answer": 3.0});
    let expected = [
        (
            "so-khcn",
            subs(3, 1, 0, 0),
            obl(2, 2, 0, 0),
            noq(),
            "compliant",
            j!([]),
        ),
        (
            "so-khdt",
            subs(3, 0, 1, 0),
            obl(2, 1, 1, 0),
            noq(),
            "non_compliant",
            j!(["obligation_missed"]),
        ),
        (
            "so-ldtbxh",
            subs(3, 0, 0, 1),
            obl(2, 1, 0, 1),
            noq(),
            "non_compliant",
            j!(["obligation_missed"]),
        ),
        (
            "so-tu-phap",
            subs(1, 0, 0, 0),
            obl(0, 0, 0, 0),
            dq,
            "non_compliant",
            j!(["overdue_questions"]),
        ),
        (
            "so-noi-vu",
            subs(0, 0, 0, 0),
            obl(0, 0, 0, 0),
            noq(),
            "non_compliant",
            j!(["no_submissions"]),
        ),
    ];
    for (unit, s, o, q, c, r) in expected {
        assert_eq!(figures(row(&report, unit)), (s, o, q, j!(c), r), "{unit}");
    }
    assert_eq!(
        report["non_compliant"],
        j!(["so-khdt", "so-ldtbxh", "so-tu-phap", "so-noi-vu"])
    );
    let totals = &report["totals"];
    assert_eq!(totals["units"], 5);
    assert_eq!(totals["compliant"], 1);
    assert_eq!(totals["submissions"], subs(10, 1, 1, 1));
    assert_eq!(totals["obligations"], obl(6, 4, 1, 1));
    assert_eq!(
        totals["questions"],
        j!({"received": 2, "answered": 1, "answered_on_time": 1, "overdue_open": 1, "median_working_days_to_answer": 3.0})
    );
}

#[tokio::test]
async fn the_calendar_window_gives_its_own_answers() {
    let app = quarter_by_hand().await;
    let editor = app.user("editor", None).await;
    let report = json(
        app.get_as(
            &editor.token,
            "/api/v1/stats/quarterly?year=2024&quarter=1&window=calendar",
        )
        .await,
        200,
    )
    .await;
    assert_eq!(report["period"]["from"], "2024-01-01");
    assert_eq!(report["period"]["to"], "2024-03-31");
    let dq = j!({"received": 2, "answered": 1, "answered_on_time": 1, "overdue_open": 1, "median_working_days_to_answer": 3.0});
    let expected = [
        (
            "so-khcn",
            subs(4, 1, 0, 0),
            obl(3, 3, 0, 0),
            noq(),
            "compliant",
            j!([]),
        ),
        (
            "so-khdt",
            subs(3, 0, 1, 0),
            obl(3, 2, 1, 0),
            noq(),
            "non_compliant",
            j!(["obligation_missed"]),
        ),
        (
            "so-ldtbxh",
            subs(3, 0, 0, 1),
            obl(3, 1, 0, 2),
            noq(),
            "non_compliant",
            j!(["obligation_missed"]),
        ),
        (
            "so-tu-phap",
            subs(1, 0, 0, 0),
            obl(0, 0, 0, 0),
            dq,
            "non_compliant",
            j!(["overdue_questions"]),
        ),
        (
            "so-noi-vu",
            subs(1, 0, 0, 0),
            obl(0, 0, 0, 0),
            noq(),
            "compliant",
            j!([]),
        ),
    ];
    for (unit, s, o, q, c, r) in expected {
        assert_eq!(figures(row(&report, unit)), (s, o, q, j!(c), r), "{unit}");
    }
    assert_eq!(
        report["non_compliant"],
        j!(["so-ldtbxh", "so-khdt", "so-tu-phap"])
    );
    let totals = &report["totals"];
    assert_eq!(totals["units"], 5);
    assert_eq!(totals["compliant"], 2);
    assert_eq!(totals["submissions"], subs(12, 1, 1, 1));
    assert_eq!(totals["obligations"], obl(9, 6, 1, 2));
    assert_eq!(
        totals["questions"],
        j!({"received": 2, "answered": 1, "answered_on_time": 1, "overdue_open": 1, "median_working_days_to_answer": 3.0})
    );
    // The 20 March items belong to Q2's reporting window.
    let q2 = json(
        app.get_as(&editor.token, "/api/v1/stats/quarterly?year=2024&quarter=2")
            .await,
        200,
    )
    .await;
    assert_eq!(row(&q2, "so-noi-vu")["submissions"]["received"], 1);
    assert_eq!(row(&q2, "so-khcn")["submissions"]["received"], 1);
}

/// The CSV's columns, in order.
const CSV_COLUMNS: [&str; 21] = [
    "unit",
    "name",
    "kind",
    "active",
    "successors",
    "submissions_received",
    "submissions_published",
    "submissions_returned",
    "submissions_rejected",
    "obligations_due",
    "obligations_met",
    "obligations_late",
    "obligations_missing",
    "obligations_pending",
    "questions_received",
    "questions_answered",
    "questions_answered_on_time",
    "questions_overdue_open",
    "median_working_days_to_answer",
    "compliance",
    "reasons",
];

/// A JSON row flattened to CSV columns: `submissions.received` is `submissions_received`,
/// except the median, which has its own column name.
fn flatten(row: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (key, value) in row.as_object().unwrap() {
        match value {
            Value::Object(inner) => {
                for (k, v) in inner {
                    let name = if k == "median_working_days_to_answer" {
                        k.clone()
                    } else {
                        format!("{key}_{k}")
                    };
                    out.push((name, v.clone()));
                }
            }
            other => out.push((key.clone(), other.clone())),
        }
    }
    out
}

/// Whether a CSV cell says what the JSON value says.
fn same_cell(cell: &str, value: &Value) -> bool {
    match value {
        Value::Null => cell.is_empty(),
        Value::Bool(b) => cell == b.to_string(),
        Value::String(s) => cell == s,
        Value::Number(n) if n.is_i64() => cell == n.to_string(),
        Value::Number(n) => cell.parse::<f64>().ok() == n.as_f64(),
        Value::Array(items) => {
            let parts: Vec<&str> = items.iter().map(|i| i.as_str().unwrap()).collect();
            cell == parts.join(";")
        }
        Value::Object(_) => false,
    }
}

/// The CSV of a report (by `Accept` and by `format=csv`) has one row per JSON row, in the same
/// order, and every column of every row says what the JSON says.
async fn assert_csv_matches_json(app: &TestApp, token: &str, query: &str) -> usize {
    let path = format!("/api/v1/stats/quarterly?{query}");
    let report = json(app.get_as(token, &path).await, 200).await;
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .bearer_auth(token)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "UTF-8 with a BOM");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(headers.iter().collect::<Vec<_>>(), CSV_COLUMNS, "{query}");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let units = report["units"].as_array().unwrap();
    assert_eq!(rows.len(), units.len(), "{query}");
    for (r, unit) in rows.iter().zip(units) {
        let flat = flatten(unit);
        let names: Vec<&str> = flat.iter().map(|(n, _)| n.as_str()).collect();
        let mut sorted_names = names.clone();
        sorted_names.sort_unstable();
        let mut sorted_columns = CSV_COLUMNS.to_vec();
        sorted_columns.sort_unstable();
        assert_eq!(
            sorted_names, sorted_columns,
            "every JSON field has a column"
        );
        for (name, value) in &flat {
            let i = headers.iter().position(|h| h == name).unwrap();
            assert!(
                same_cell(&r[i], value),
                "{query}: {} column {name}: CSV {:?}, JSON {value}",
                unit["unit"],
                &r[i]
            );
        }
    }
    let by_param = app
        .get_as(token, &format!("{path}&format=csv"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(by_param, bytes);
    rows.len()
}

#[tokio::test]
async fn the_csv_report_parses_and_matches_the_json() {
    let app = quarter_by_hand().await;
    units_leaving_around_q1(&app);
    let admin = app.admin_token().await;
    for (query, rows) in [
        ("year=2024&quarter=1", 8),
        ("year=2024&quarter=1&window=calendar", 6),
    ] {
        assert_eq!(assert_csv_matches_json(&app, &admin, query).await, rows);
    }
}

/// Units that left around Q1 2024, on top of `quarter_by_hand`: so-tttt on 1 February (inside
/// both windows; its successors so-khcn and so-noi-vu), so-gtvt on 20 December 2023 (inside the
/// reporting window only), so-y-te at 00:30 on 15 December in Vietnam (the reporting window's
/// first half hour), so-tnmt at 23:30 on 14 December in Vietnam (before it). so-tttt
/// submitted one item in January.
fn units_leaving_around_q1(app: &TestApp) {
    let mut sql = vec![];
    for (unit, left_utc, successors) in [
        (
            "so-tttt",
            "2024-02-01 03:00:00",
            vec!["so-khcn", "so-noi-vu"],
        ),
        ("so-gtvt", "2023-12-20 03:00:00", vec!["so-khdt"]),
        ("so-y-te", "2023-12-14 17:30:00", vec!["so-ldtbxh"]),
        ("so-tnmt", "2023-12-14 16:30:00", vec!["so-tu-phap"]),
    ] {
        sql.push(format!(
            "UPDATE units SET active = FALSE, deactivated_at = '{left_utc}' WHERE code = '{unit}';"
        ));
        for s in successors {
            sql.push(format!(
                "INSERT INTO unit_successors (unit_code, successor_code) VALUES ('{unit}', '{s}');"
            ));
        }
    }
    sql.push(submission(
        "t1",
        "so-tttt",
        "tin-tuc",
        "submitted",
        "2024-01-08",
        None,
    ));
    app.db.execute(&sql.join("\n"));
}

fn codes(report: &Value) -> Vec<&str> {
    report["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unit"].as_str().unwrap())
        .collect()
}

/// A unit that left during the window is reported, marked inactive and naming its successors;
/// one that left before the window starts (in Vietnam) is not.
#[tokio::test]
async fn units_that_left_during_the_window_are_reported_with_their_successors() {
    let app = quarter_by_hand().await;
    units_leaving_around_q1(&app);
    let viewer = app.user("viewer", None).await;
    let get = |query: &'static str| {
        let app = &app;
        let token = viewer.token.clone();
        async move {
            json(
                app.get_as(&token, &format!("/api/v1/stats/quarterly?{query}"))
                    .await,
                200,
            )
            .await
        }
    };

    let reporting = get("year=2024&quarter=1").await;
    let mut listed = codes(&reporting);
    listed.sort_unstable();
    assert_eq!(
        listed,
        [
            "so-gtvt",
            "so-khcn",
            "so-khdt",
            "so-ldtbxh",
            "so-noi-vu",
            "so-tttt",
            "so-tu-phap",
            "so-y-te"
        ]
    );
    assert_eq!(reporting["totals"]["units"], 8);
    let left = row(&reporting, "so-tttt");
    assert_eq!(left["active"], false);
    assert_eq!(left["successors"], j!(["so-khcn", "so-noi-vu"]));
    assert_eq!(left["submissions"], subs(1, 0, 0, 0));
    assert_eq!(left["compliance"], "compliant");
    for (unit, successors) in [("so-gtvt", j!(["so-khdt"])), ("so-y-te", j!(["so-ldtbxh"]))] {
        let r = row(&reporting, unit);
        assert_eq!((&r["active"], &r["successors"]), (&j!(false), &successors));
    }
    for unit in ["so-khcn", "so-khdt", "so-ldtbxh", "so-tu-phap", "so-noi-vu"] {
        let r = row(&reporting, unit);
        assert_eq!((&r["active"], &r["successors"]), (&j!(true), &j!([])));
    }
    assert_eq!(
        reporting["totals"]["submissions"]["received"], 11,
        "so-tttt's item counts in the totals"
    );

    // The calendar quarter starts on 1 January: so-gtvt and so-y-te had left by then.
    let calendar = get("year=2024&quarter=1&window=calendar").await;
    let mut listed = codes(&calendar);
    listed.sort_unstable();
    assert_eq!(
        listed,
        [
            "so-khcn",
            "so-khdt",
            "so-ldtbxh",
            "so-noi-vu",
            "so-tttt",
            "so-tu-phap"
        ]
    );
    assert_eq!(
        row(&calendar, "so-tttt")["successors"],
        j!(["so-khcn", "so-noi-vu"])
    );

    // so-tnmt left at 23:30 on 14 December: the last day of Q4 2023's reporting window.
    let q4 = get("year=2023&quarter=4").await;
    let r = row(&q4, "so-tnmt");
    assert_eq!(
        (&r["active"], &r["successors"]),
        (&j!(false), &j!(["so-tu-phap"]))
    );
    assert!(!codes(&q4).contains(&"so-xay-dung"), "left in January 2023");
    // None of them was active in Q2.
    let q2 = get("year=2024&quarter=2").await;
    for unit in ["so-tttt", "so-gtvt", "so-y-te", "so-tnmt"] {
        assert!(!codes(&q2).contains(&unit), "{unit} in Q2");
    }
}

/// Windows are Vietnamese calendar days: 23:30 on a window's last day (16:30 UTC) is inside
/// it, 00:30 on the next day (17:30 UTC, still the last day in UTC) is not; likewise at the
/// first day. Items near a window's end go to so-noi-vu and items near its start to
/// so-tu-phap, so a window read in UTC days gives other counts for both.
#[tokio::test]
async fn window_edges_are_midnights_in_vietnam() {
    let app = quarter_by_hand().await;
    let viewer = app.user("viewer", None).await;
    // Already there: so-noi-vu e1 (20 Mar 2024); so-tu-phap d1 (20 Jan 2024) and questions
    // d01 (2 Jan 2024), d02 (1 Feb 2024), all at 10:00 in Vietnam.
    let mut sql = Vec::new();
    for (id, unit, stored_utc) in [
        ("n1", "so-tu-phap", "2023-12-14 16:30:00"), // 23:30 on 14 Dec 2023 in Vietnam
        ("n2", "so-tu-phap", "2023-12-14 17:30:00"), // 00:30 on 15 Dec 2023
        ("n3", "so-noi-vu", "2024-03-14 16:30:00"),  // 23:30 on 14 Mar 2024
        ("n4", "so-noi-vu", "2024-03-14 17:30:00"),  // 00:30 on 15 Mar 2024
        ("n5", "so-tu-phap", "2023-12-31 16:30:00"), // 23:30 on 31 Dec 2023
        ("n6", "so-tu-phap", "2023-12-31 17:30:00"), // 00:30 on 1 Jan 2024
        ("n7", "so-noi-vu", "2024-03-31 16:30:00"),  // 23:30 on 31 Mar 2024
        ("n8", "so-noi-vu", "2024-03-31 17:30:00"),  // 00:30 on 1 Apr 2024
    ] {
        sql.push(submission_at(
            id,
            unit,
            "tin-tuc",
            "submitted",
            stored_utc,
            None,
        ));
    }
    for (id, unit, stored_utc) in [
        ("nq1", "so-noi-vu", "2024-03-14 16:30:00"), // 23:30 on 14 Mar 2024
        ("nq2", "so-noi-vu", "2024-03-14 17:30:00"), // 00:30 on 15 Mar 2024
        ("nq3", "so-tu-phap", "2023-12-14 16:30:00"), // 23:30 on 14 Dec 2023
        ("nq4", "so-tu-phap", "2023-12-14 17:30:00"), // 00:30 on 15 Dec 2023
    ] {
        sql.push(question_at(id, unit, stored_utc, "2024-04-30", None));
    }
    app.db.execute(&sql.join("\n"));

    // (window, so-noi-vu submissions and questions received, so-tu-phap's)
    for (query, noi_vu, tu_phap) in [
        // 15 Dec 2023 – 14 Mar 2024: n3, nq1 | d1, n2, n5, n6; d01, d02, nq4.
        ("year=2024&quarter=1", (1, 1), (4, 3)),
        // 1 Jan – 31 Mar 2024: n3, n4, e1, n7; nq1, nq2 | d1, n6; d01, d02.
        ("year=2024&quarter=1&window=calendar", (4, 2), (2, 2)),
        // 15 Mar – 14 Jun 2024: n4, e1, n7, n8; nq2 | nothing.
        ("year=2024&quarter=2", (4, 1), (0, 0)),
        // 1 Apr – 30 Jun 2024: n8 | nothing.
        ("year=2024&quarter=2&window=calendar", (1, 0), (0, 0)),
        // 15 Sep – 14 Dec 2023: nothing | n1; nq3.
        ("year=2023&quarter=4", (0, 0), (1, 1)),
        // 1 Oct – 31 Dec 2023: nothing | n1, n2, n5; nq3, nq4.
        ("year=2023&quarter=4&window=calendar", (0, 0), (3, 2)),
    ] {
        let report = json(
            app.get_as(&viewer.token, &format!("/api/v1/stats/quarterly?{query}"))
                .await,
            200,
        )
        .await;
        for (unit, (submissions, questions)) in [("so-noi-vu", noi_vu), ("so-tu-phap", tu_phap)] {
            let r = row(&report, unit);
            assert_eq!(
                (&r["submissions"]["received"], &r["questions"]["received"]),
                (&j!(submissions), &j!(questions)),
                "{query}: {unit}"
            );
        }
    }
}

#[tokio::test]
async fn officers_get_their_own_row_and_obligation_periods() {
    let app = quarter_by_hand().await;
    let officer = app.user("officer", Some("so-khdt")).await;
    let report = json(
        app.get_as(
            &officer.token,
            "/api/v1/stats/quarterly?year=2024&quarter=1&window=calendar",
        )
        .await,
        200,
    )
    .await;
    let units: Vec<&str> = report["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unit"].as_str().unwrap())
        .collect();
    assert_eq!(units, ["so-khdt"]);
    assert_eq!(report["non_compliant"], j!(["so-khdt"]));
    let status = json(
        app.get_as(
            &officer.token,
            "/api/v1/obligations/status?from=2024-01-01&to=2024-03-31",
        )
        .await,
        200,
    )
    .await;
    let periods: Vec<(String, String, Value)> = status["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["period"]["due"].as_str().unwrap().to_string(),
                p["status"].as_str().unwrap().to_string(),
                p["items"].clone(),
            )
        })
        .collect();
    assert_eq!(
        periods,
        [
            ("2024-01-10".to_string(), "met".to_string(), j!(["b1"])),
            ("2024-02-10".to_string(), "late".to_string(), j!(["b2"])),
            ("2024-03-10".to_string(), "met".to_string(), j!(["b3"])),
        ]
    );
    problem(
        app.get_as(&officer.token, "/api/v1/obligations/status?unit=so-khcn")
            .await,
        404,
        "not_found",
    )
    .await;
    problem(
        app.get_as(&officer.token, "/api/v1/stats/overview").await,
        403,
        "forbidden",
    )
    .await;
    problem(
        app.get("/api/v1/stats/quarterly?year=2024&quarter=1").await,
        401,
        "unauthorized",
    )
    .await;
    let viewer = app.user("viewer", None).await;
    problem(
        app.get_as(&viewer.token, "/api/v1/stats/quarterly?year=2024&quarter=5")
            .await,
        400,
        "invalid_parameter",
    )
    .await;
    problem(
        app.get_as(
            &viewer.token,
            "/api/v1/stats/quarterly?year=2024&quarter=1&window=fiscal",
        )
        .await,
        400,
        "invalid_parameter",
    )
    .await;
    problem(
        app.get_as(
            &viewer.token,
            "/api/v1/stats/quarterly?year=2024&quarter=1&format=xml",
        )
        .await,
        400,
        "invalid_parameter",
    )
    .await;
}

#[tokio::test]
async fn obligations_are_managed_by_the_board() {
    let app = spawn_app().await;
    let editor = app.user("editor", None).await;
    let officer = app.user("officer", Some("so-khcn")).await;
    let seeded = json(app.get_as(&editor.token, "/api/v1/obligations").await, 200).await;
    assert_eq!(seeded["items"].as_array().unwrap().len(), 3);
    let own = json(app.get_as(&officer.token, "/api/v1/obligations").await, 200).await;
    assert_eq!(own["items"].as_array().unwrap().len(), 1);
    assert_eq!(own["items"][0]["cadence"], "monthly");
    let body = j!({"unit": "so-tai-chinh", "cadence": "quarterly", "min_items": 2, "due_day": 20, "starts_on": "2024-01-01", "description": "Báo cáo quý"});
    problem(
        app.post_as(&officer.token, "/api/v1/obligations", &body)
            .await,
        403,
        "forbidden",
    )
    .await;
    let created = json(
        app.post_as(&editor.token, "/api/v1/obligations", &body)
            .await,
        201,
    )
    .await;
    assert!(created["category"].is_null());
    let id = created["id"].as_i64().unwrap();
    let changed = json(
        app.patch_as(
            &editor.token,
            &format!("/api/v1/obligations/{id}"),
            &j!({"min_items": 1, "ends_on": "2025-12-31", "due_day": null}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(changed["min_items"], 1);
    assert!(changed["due_day"].is_null());
    assert_eq!(changed["ends_on"], "2025-12-31");
    let p = problem(
        app.patch_as(
            &editor.token,
            &format!("/api/v1/obligations/{id}"),
            &j!({"ends_on": "2023-01-01"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "ends_on");
    let bad = j!({"unit": "so-tai-chinh", "cadence": "weekly", "starts_on": "2024-01-01"});
    problem(
        app.post_as(&editor.token, "/api/v1/obligations", &bad)
            .await,
        422,
        "validation_failed",
    )
    .await;
    let bad = j!({"unit": "so-tai-chinh", "cadence": "monthly", "due_day": 40, "starts_on": "2024-01-01"});
    let p = problem(
        app.post_as(&editor.token, "/api/v1/obligations", &bad)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "due_day");
    problem(
        app.patch_as(
            &editor.token,
            "/api/v1/obligations/999999",
            &j!({"min_items": 2}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let overview = json(
        app.get_as(&editor.token, "/api/v1/stats/overview").await,
        200,
    )
    .await;
    assert_eq!(overview["questions_open"], 0);
}

/// The working days to a first reply are counted when it is given, with the calendar of that
/// day, and the report uses that count: a holiday entered afterwards changes no past figure.
#[tokio::test]
async fn working_days_to_an_answer_are_counted_when_it_is_given() {
    // 10:00 on Monday 19 February 2024 in Vietnam, after Tết.
    let app = crate::helpers::spawn_app_at("2024-02-19T03:00:00").await;
    let officer = app.user("officer", Some("so-tu-phap")).await;
    // Received on Monday 5 February: 6, 7, 15, 16 and 19 February are the working days after
    // it (8 to 14 February are Tết), so the answer comes 5 working days later.
    app.db.execute(&question(
        "q1",
        "so-tu-phap",
        "2024-02-05",
        "2024-03-04",
        None,
    ));
    json(
        app.post_as(
            &officer.token,
            "/api/v1/questions/q1/replies",
            &j!({"body": "Trả lời"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        app.db.count(
            "SELECT COUNT(*) AS n FROM questions WHERE id = 'q1' AND answer_working_days = 5"
        ),
        1
    );
    // A holiday entered later, on a day that was counted, leaves the figure as it was.
    let admin = app.admin_token().await;
    let response = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/calendar/holidays/2024-02-15",
            Some(&admin),
            Some(&j!({"name": "Nghỉ bù", "kind": "holiday", "source": "Thông báo số 1"})),
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    let report = json(
        app.get_as(
            &admin,
            "/api/v1/stats/quarterly?year=2024&quarter=1&window=calendar",
        )
        .await,
        200,
    )
    .await;
    let row = report["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == "so-tu-phap")
        .unwrap();
    assert_eq!(
        row["questions"],
        j!({"received": 1, "answered": 1, "answered_on_time": 1, "overdue_open": 0, "median_working_days_to_answer": 5.0})
    );
}

#[tokio::test]
async fn a_unit_name_written_as_a_formula_comes_out_of_the_csv_as_text() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let name = r#"=HYPERLINK("https://evil.example","Sở Test")"#;
    let body = j!({"code": "so-test", "name": name, "kind": "department"});
    json(app.post_as(&admin, "/api/v1/units", &body).await, 201).await;
    let viewer = app.user("viewer", None).await;
    let path = "/api/v1/stats/quarterly?year=2024&quarter=1";
    let report = json(app.get_as(&viewer.token, path).await, 200).await;
    assert_eq!(row(&report, "so-test")["name"], name, "JSON keeps the name");
    let response = app
        .get_as(&viewer.token, &format!("{path}&format=csv"))
        .await;
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    let text = std::str::from_utf8(&bytes)
        .unwrap()
        .strip_prefix('\u{feff}')
        .expect("UTF-8 with a BOM");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let test = rows
        .iter()
        .find(|r| &r[column("unit")] == "so-test")
        .expect("a row for so-test");
    assert_eq!(&test[column("name")], format!("'{name}"));
    assert_eq!(
        &test[column("submissions_received")],
        "0",
        "numbers stay numbers"
    );
    assert_eq!(&test[column("compliance")], "non_compliant");
    for r in &rows {
        let first = r[column("name")].chars().next();
        assert!(
            !matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r')),
            "{r:?}"
        );
    }
}

/// A question asked of a unit through the API; its tracking code and due time (UTC).
async fn ask_through_the_api(app: &TestApp, unit: &str) -> (String, chrono::DateTime<chrono::Utc>) {
    let body = j!({
        "title": "Hỏi về thủ tục",
        "body": "Xin hỏi thủ tục và thời hạn giải quyết như thế nào?",
        "unit": unit,
        "category": "thu-tuc-hanh-chinh",
        "asker": {"name": "Nguyễn Văn An", "email": "an.nguyen@example.vn"},
        "publish_consent": false
    });
    let asked = json(
        app.request(
            reqwest::Method::POST,
            "/api/v1/questions",
            None,
            Some(&body),
        )
        .await,
        201,
    )
    .await;
    let due = chrono::DateTime::parse_from_rfc3339(asked["due_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    (asked["tracking_code"].as_str().unwrap().to_string(), due)
}

/// Questions asked and answered through the API land in the quarter of the service's clock,
/// not of the machine's: received, answered on time (zero working days, the same instant),
/// and one left open that counts as overdue once its due time has passed by a window's end.
#[tokio::test]
async fn questions_asked_and_answered_through_the_api_count_in_the_quarter_of_the_service_clock() {
    // 10:00 on Monday 19 February 2024 in Vietnam.
    let app = crate::helpers::spawn_app_at("2024-02-19T03:00:00").await;
    let officer = app.user("officer", Some("so-tu-phap")).await;
    let viewer = app.user("viewer", None).await;
    let (answered_code, _) = ask_through_the_api(&app, "so-tu-phap").await;
    let (_, open_due) = ask_through_the_api(&app, "so-tu-phap").await;
    let list = json(
        app.get_as(&officer.token, "/api/v1/questions?limit=100")
            .await,
        200,
    )
    .await;
    let id = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["tracking_code"] == answered_code.as_str())
        .map(|q| q["id"].as_str().unwrap().to_string())
        .expect("the officer sees the question");
    json(
        app.post_as(
            &officer.token,
            &format!("/api/v1/questions/{id}/replies"),
            &j!({"body": "Trả lời"}),
        )
        .await,
        201,
    )
    .await;

    let questions = |query: &'static str| {
        let (app, token) = (&app, viewer.token.clone());
        async move {
            let report = json(
                app.get_as(&token, &format!("/api/v1/stats/quarterly?{query}"))
                    .await,
                200,
            )
            .await;
            (
                row(&report, "so-tu-phap")["questions"].clone(),
                report["totals"]["questions"].clone(),
            )
        }
    };
    // The reporting window of Q1 ends at midnight starting 15 March in Vietnam.
    let q1_end: chrono::DateTime<chrono::Utc> = "2024-03-14T17:00:00Z".parse().unwrap();
    let overdue_in_q1 = i64::from(open_due < q1_end);
    for query in ["year=2024&quarter=1", "year=2024&quarter=1&window=calendar"] {
        let overdue = if query.ends_with("calendar") {
            1 // the calendar quarter ends on 31 March, after the due time
        } else {
            overdue_in_q1
        };
        let expected = j!({"received": 2, "answered": 1, "answered_on_time": 1, "overdue_open": overdue, "median_working_days_to_answer": 0.0});
        let (unit, totals) = questions(query).await;
        assert_eq!(unit, expected, "{query}");
        assert_eq!(totals, expected, "{query}: only so-tu-phap has questions");
    }
    // Nothing was received in Q2, but the open question is still overdue at its end.
    let (unit, _) = questions("year=2024&quarter=2").await;
    assert_eq!(
        unit,
        j!({"received": 0, "answered": 0, "answered_on_time": 0, "overdue_open": 1, "median_working_days_to_answer": null})
    );
    // And the quarter the machine's clock is in saw none of it received.
    let (unit, _) = questions("year=2023&quarter=4").await;
    assert_eq!((&unit["received"], &unit["answered"]), (&j!(0), &j!(0)));
}

/// Submissions made and reviewed through the API land in the quarter of the service's clock:
/// received, published and returned on 19 February 2024, meeting so-khcn's February duty.
#[tokio::test]
async fn submissions_made_through_the_api_count_in_the_quarter_of_the_service_clock() {
    let app = crate::helpers::spawn_app_at("2024-02-19T03:00:00").await;
    let officer = app.user("officer", Some("so-khcn")).await;
    let editor = app.user("editor", None).await;
    let mut ids = Vec::new();
    for title in ["Kết quả nghiên cứu", "Đề tài khoa học"] {
        let body = j!({"category": "khoa-hoc-cong-nghe", "title": title, "summary": "Tóm tắt", "body": "<p>Nội dung</p>", "draft": true});
        let made = json(
            app.post_as(&officer.token, "/api/v1/submissions", &body)
                .await,
            201,
        )
        .await;
        ids.push(made["id"].as_str().unwrap().to_string());
    }
    for (id, token, action) in [
        (&ids[0], &officer.token, j!({"action": "submit"})),
        (&ids[1], &officer.token, j!({"action": "submit"})),
        (&ids[0], &editor.token, j!({"action": "publish"})),
        (
            &ids[1],
            &editor.token,
            j!({"action": "return", "note": "Bổ sung"}),
        ),
    ] {
        json(
            app.post_as(
                token,
                &format!("/api/v1/submissions/{id}/transitions"),
                &action,
            )
            .await,
            200,
        )
        .await;
    }
    let report = json(
        app.get_as(&editor.token, "/api/v1/stats/quarterly?year=2024&quarter=1")
            .await,
        200,
    )
    .await;
    let khcn = row(&report, "so-khcn");
    assert_eq!(khcn["submissions"], subs(2, 1, 1, 0));
    // January has no item and has passed; February is met.
    assert_eq!(khcn["obligations"], obl(2, 1, 0, 1));
    assert_eq!(khcn["reasons"], j!(["obligation_missed"]));
}
