use serde_json::json as j;

use crate::helpers::{json, problem, spawn_app};

#[tokio::test]
async fn a_deadline_skips_tet_2024_and_the_weekend() {
    let app = spawn_app().await;
    let body = json(
        app.get("/api/v1/calendar/deadline?from=2024-02-05&working_days=5")
            .await,
        200,
    )
    .await;
    assert_eq!(body["due_date"], "2024-02-19");
    assert_eq!(body["due_at"], "2024-02-19T23:59:59+07:00");
    assert_eq!(
        body["counted"],
        j!([
            "2024-02-06",
            "2024-02-07",
            "2024-02-15",
            "2024-02-16",
            "2024-02-19"
        ])
    );
    let skipped: Vec<(String, String)> = body["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap().to_string(),
                d["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("2024-02-08", "holiday"),
        ("2024-02-09", "holiday"),
        ("2024-02-10", "saturday"),
        ("2024-02-11", "sunday"),
        ("2024-02-12", "holiday"),
        ("2024-02-13", "holiday"),
        ("2024-02-14", "holiday"),
        ("2024-02-17", "saturday"),
        ("2024-02-18", "sunday"),
    ];
    assert_eq!(
        skipped,
        expected
            .map(|(d, r)| (d.to_string(), r.to_string()))
            .to_vec()
    );
    assert_eq!(body["skipped"][0]["name"], "Tết Nguyên đán");
}

#[tokio::test]
async fn a_make_up_saturday_counts_as_a_working_day() {
    let app = spawn_app().await;
    // Fri 3 May 2024 + 1: Sat 4 May 2024 was worked in exchange for Mon 29 April.
    let body = json(
        app.get("/api/v1/calendar/deadline?from=2024-05-03&working_days=1")
            .await,
        200,
    )
    .await;
    assert_eq!(body["due_date"], "2024-05-04");
    assert_eq!(body["skipped"], j!([]));
}

#[tokio::test]
async fn a_deadline_from_a_friday_moves_past_the_weekend() {
    let app = spawn_app().await;
    let body = json(
        app.get("/api/v1/calendar/deadline?from=2024-03-01&working_days=1")
            .await,
        200,
    )
    .await;
    assert_eq!(body["due_date"], "2024-03-04");
    assert_eq!(body["skipped"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn unreadable_deadline_parameters_are_400_problems_naming_them() {
    let app = spawn_app().await;
    let body = problem(
        app.get("/api/v1/calendar/deadline?from=2024-02-05&working_days=abc")
            .await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "working_days");
    let body = problem(
        app.get("/api/v1/calendar/deadline?from=5/2/2024&working_days=5")
            .await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "from");
    let body = problem(
        app.get("/api/v1/calendar/deadline?working_days=5").await,
        400,
        "invalid_parameter",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("from"), "{body}");
}

#[tokio::test]
async fn working_days_out_of_range_is_a_validation_problem() {
    let app = spawn_app().await;
    for n in ["0", "366"] {
        let body = problem(
            app.get(&format!(
                "/api/v1/calendar/deadline?from=2024-02-05&working_days={n}"
            ))
            .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "working_days");
    }
    let body = problem(
        app.get("/api/v1/calendar/deadline?from=2024-02-05&working_days=-1")
            .await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "working_days");
}

#[tokio::test]
async fn holidays_of_a_year_include_make_up_working_days() {
    let app = spawn_app().await;
    let body = json(app.get("/api/v1/calendar/holidays?year=2024").await, 200).await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 13);
    assert!(items
        .iter()
        .all(|h| h["date"].as_str().unwrap().starts_with("2024-")));
    let dates: Vec<&str> = items.iter().map(|h| h["date"].as_str().unwrap()).collect();
    let mut sorted = dates.clone();
    sorted.sort();
    assert_eq!(dates, sorted);
    let makeup = items.iter().find(|h| h["date"] == "2024-05-04").unwrap();
    assert_eq!(makeup["kind"], "working_day");
    let tet = items.iter().find(|h| h["date"] == "2024-02-08").unwrap();
    assert_eq!(tet["kind"], "holiday");
    assert_eq!(tet["name"], "Tết Nguyên đán");
    let empty = json(app.get("/api/v1/calendar/holidays?year=1999").await, 200).await;
    assert_eq!(empty["items"], j!([]));
}

#[tokio::test]
async fn a_holiday_year_out_of_range_or_unreadable_is_refused() {
    let app = spawn_app().await;
    let body = problem(
        app.get("/api/v1/calendar/holidays?year=20240").await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "year");
    problem(
        app.get("/api/v1/calendar/holidays?year=twenty").await,
        400,
        "invalid_parameter",
    )
    .await;
}
