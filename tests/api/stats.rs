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
    let published = published.map_or("NULL".to_string(), |d| format!("'{}'", at(d)));
    format!(
        "INSERT INTO submissions (id, unit_code, category_code, title, summary, body, attachments, status, \
         version, author, search_text, created_at, updated_at, submitted_at, published_at) VALUES \
         ('{id}', '{unit}', '{category}', 'Tin {id}', '', '', '[]', '{status}', 1, 'user:test', 'tin', \
         '{s}', '{s}', '{s}', {published});",
        s = at(submitted)
    )
}

fn event(id: &str, version: i32, action: &str, from: &str, to: &str, day: &str) -> String {
    format!(
        "INSERT INTO submission_events (submission_id, version, action, from_status, to_status, actor, note, created_at) \
         VALUES ('{id}', {version}, '{action}', '{from}', '{to}', 'user:editor', 'x', '{}');",
        at(day)
    )
}

fn question(id: &str, unit: &str, received: &str, due: &str, answered: Option<&str>) -> String {
    let (status, answered) = match answered {
        Some(d) => ("answered", format!("'{}'", at(d))),
        None => ("assigned", "NULL".into()),
    };
    format!(
        "INSERT INTO questions (id, tracking_code, access_key_hash, title, body, unit_code, asker_name, \
         publish_consent, status, search_text, received_at, due_at, answered_at, updated_at) VALUES \
         ('{id}', 'Q24-{id}', 'x', 'Hỏi', 'Hỏi', '{unit}', 'A', FALSE, '{status}', 'hoi', '{r}', \
         '{due} 16:59:59', {answered}, '{r}');",
        r = at(received)
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
    assert_eq!(totals["questions"]["overdue_open"], 1);
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

#[tokio::test]
async fn the_csv_report_parses_and_matches_the_json() {
    let app = quarter_by_hand().await;
    let admin = app.admin_token().await;
    let report = json(
        app.get_as(&admin, "/api/v1/stats/quarterly?year=2024&quarter=1")
            .await,
        200,
    )
    .await;
    let response = app
        .client
        .get(format!(
            "{}/api/v1/stats/quarterly?year=2024&quarter=1",
            app.address
        ))
        .bearer_auth(&admin)
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
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), report["units"].as_array().unwrap().len());
    let col = |r: &csv::StringRecord, name: &str| {
        r[headers.iter().position(|h| h == name).unwrap()].to_string()
    };
    for r in &rows {
        let unit = col(r, "unit");
        let j = row(&report, &unit);
        assert_eq!(col(r, "name"), j["name"].as_str().unwrap());
        assert_eq!(
            col(r, "submissions_received"),
            j["submissions"]["received"].to_string()
        );
        assert_eq!(
            col(r, "obligations_missing"),
            j["obligations"]["missing"].to_string()
        );
        assert_eq!(
            col(r, "questions_overdue_open"),
            j["questions"]["overdue_open"].to_string()
        );
        assert_eq!(col(r, "compliance"), j["compliance"].as_str().unwrap());
        let reasons: Vec<&str> = j["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        assert_eq!(col(r, "reasons"), reasons.join(";"));
    }
    let by_param = app
        .get_as(
            &admin,
            "/api/v1/stats/quarterly?year=2024&quarter=1&format=csv",
        )
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(by_param, bytes);
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
