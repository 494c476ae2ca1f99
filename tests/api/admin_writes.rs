use reqwest::Method;
use serde_json::json as j;

use crate::helpers::{json, problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_unit_is_deactivated_with_successors_and_keeps_its_history() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let body = j!({"active": false, "successors": ["so-noi-vu", "so-tai-chinh"]});
    let unit = json(
        app.patch_as(&admin, "/api/v1/units/so-ldtbxh", &body).await,
        200,
    )
    .await;
    assert_eq!(unit["active"], false);
    assert_eq!(unit["successors"], j!(["so-noi-vu", "so-tai-chinh"]));
    let inactive = json(app.get("/api/v1/units?active=false").await, 200).await;
    assert_eq!(inactive["items"].as_array().unwrap().len(), 1);
    let all = json(app.get("/api/v1/units").await, 200).await;
    assert_eq!(
        all["items"].as_array().unwrap().len(),
        31,
        "a deactivated unit stays listed"
    );
    // Nothing new may be attached to it.
    let officer = j!({"username": "late.officer", "password": "a long password", "role": "officer", "unit": "so-ldtbxh"});
    let refused = problem(
        app.post_as(&admin, "/api/v1/users", &officer).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(refused["detail"].as_str().unwrap().contains("deactivated"));
    problem(
        app.post_as(
            &admin,
            "/api/v1/clients",
            &j!({"name": "x", "unit": "so-ldtbxh"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    // Reactivating clears the successors.
    let back = json(
        app.patch_as(&admin, "/api/v1/units/so-ldtbxh", &j!({"active": true}))
            .await,
        200,
    )
    .await;
    assert_eq!(back["active"], true);
    assert_eq!(back["successors"], j!([]));
}

#[tokio::test]
async fn successors_must_be_other_active_units_named_on_deactivation() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let cases = [
        (
            j!({"active": false, "successors": ["nope"]}),
            "successors[0]",
        ),
        (
            j!({"active": false, "successors": ["so-khcn", "so-tttt"]}),
            "successors[1]",
        ),
        (
            j!({"active": false, "successors": ["so-khcn", "so-khcn"]}),
            "successors[1]",
        ),
        (j!({"successors": ["so-khcn"]}), "successors"),
    ];
    for (body, field) in cases {
        let p = problem(
            app.patch_as(&admin, "/api/v1/units/so-tttt", &body).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(p["errors"][0]["field"], field, "{body}");
    }
    json(
        app.patch_as(&admin, "/api/v1/units/so-khdt", &j!({"active": false}))
            .await,
        200,
    )
    .await;
    let p = problem(
        app.patch_as(
            &admin,
            "/api/v1/units/so-tttt",
            &j!({"active": false, "successors": ["so-khdt"]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("deactivated"));
    problem(
        app.patch_as(&admin, "/api/v1/units/nope", &j!({"name": "X"}))
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_new_unit_is_checked_and_listed_last() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let body = j!({"code": "so-van-hoa", "name": "Sở Văn hóa, Thể thao và Du lịch", "kind": "department", "fields": ["Văn hóa", "Du lịch"]});
    let response = app.post_as(&admin, "/api/v1/units", &body).await;
    assert_eq!(response.headers()["location"], "/api/v1/units/so-van-hoa");
    let unit = json(response, 201).await;
    assert_eq!(unit["fields"], j!(["Văn hóa", "Du lịch"]));
    let all = json(app.get("/api/v1/units").await, 200).await;
    assert_eq!(
        all["items"].as_array().unwrap().last().unwrap()["code"],
        "so-van-hoa"
    );
    problem(
        app.post_as(&admin, "/api/v1/units", &body).await,
        409,
        "conflict",
    )
    .await;
    let bad = j!({"code": "Sở Mới", "name": "x", "kind": "department"});
    let p = problem(
        app.post_as(&admin, "/api/v1/units", &bad).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "code");
    let bad = j!({"code": "so-moi", "name": "x", "kind": "ward"});
    let p = problem(
        app.post_as(&admin, "/api/v1/units", &bad).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "kind");
}

#[tokio::test]
async fn categories_take_the_configured_answer_days_and_can_change_them() {
    // Not the default 15, so the setting is seen to be what is used.
    let app = spawn_app_with(&[("PORTAL_DEFAULT_ANSWER_DAYS", "12")]).await;
    let editor = app.user("editor", None).await;
    let body = j!({"code": "moi-truong", "name": "Môi trường", "mandatory": true});
    let created = json(
        app.post_as(&editor.token, "/api/v1/categories", &body)
            .await,
        201,
    )
    .await;
    assert_eq!(created["answer_days"], 12);
    assert_eq!(created["mandatory"], true);
    let changed = json(
        app.patch_as(
            &editor.token,
            "/api/v1/categories/moi-truong",
            &j!({"answer_days": 10}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(changed["answer_days"], 10);
    assert_eq!(changed["name"], "Môi trường");
    let p = problem(
        app.patch_as(
            &editor.token,
            "/api/v1/categories/moi-truong",
            &j!({"answer_days": 0}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "answer_days");
    problem(
        app.post_as(&editor.token, "/api/v1/categories", &body)
            .await,
        409,
        "conflict",
    )
    .await;
    problem(
        app.patch_as(&editor.token, "/api/v1/categories/nope", &j!({"name": "x"}))
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn holidays_set_by_an_admin_move_deadlines() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let deadline = "/api/v1/calendar/deadline?from=2030-01-01&working_days=1";
    assert_eq!(
        json(app.get(deadline).await, 200).await["due_date"],
        "2030-01-02"
    );
    let put = |kind: &str| j!({"name": "Nghỉ bù", "kind": kind, "source": "Thông báo số 1"});
    let path = "/api/v1/calendar/holidays/2030-01-02";
    let created = json(
        app.request(Method::PUT, path, Some(&admin), Some(&put("holiday")))
            .await,
        201,
    )
    .await;
    assert_eq!(created["date"], "2030-01-02");
    assert_eq!(
        json(app.get(deadline).await, 200).await["due_date"],
        "2030-01-03"
    );
    let replaced = json(
        app.request(Method::PUT, path, Some(&admin), Some(&put("working_day")))
            .await,
        200,
    )
    .await;
    assert_eq!(replaced["kind"], "working_day");
    let deleted = app.request(Method::DELETE, path, Some(&admin), None).await;
    assert_eq!(deleted.status(), 204);
    problem(
        app.request(Method::DELETE, path, Some(&admin), None).await,
        404,
        "not_found",
    )
    .await;
    let p = problem(
        app.request(
            Method::PUT,
            "/api/v1/calendar/holidays/2030-02-30",
            Some(&admin),
            Some(&put("holiday")),
        )
        .await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "date");
    let p = problem(
        app.request(Method::PUT, path, Some(&admin), Some(&put("vacation")))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "kind");
}

#[tokio::test]
async fn an_admin_sets_and_clears_a_units_contact_email_and_its_events_leave_it_out() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let address = "vanthu@sokhcn.gov.vn";
    let set = json(
        app.patch_as(
            &admin,
            "/api/v1/units/so-khcn",
            &j!({"email": format!(" {address} ")}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(set["email"], address);
    let unit = json(app.get("/api/v1/units/so-khcn").await, 200).await;
    assert_eq!(unit["email"], address);
    let renamed = json(
        app.patch_as(&admin, "/api/v1/units/so-khcn", &j!({"name": "Sở KH&CN"}))
            .await,
        200,
    )
    .await;
    assert_eq!(renamed["email"], address, "absent stays");
    let cleared = json(
        app.patch_as(&admin, "/api/v1/units/so-khcn", &j!({"email": null}))
            .await,
        200,
    )
    .await;
    assert!(cleared["email"].is_null());
    assert!(json(app.get("/api/v1/units/so-khcn").await, 200).await["email"].is_null());

    let bad = "vanthu@sokhcn";
    let refused = problem(
        app.patch_as(&admin, "/api/v1/units/so-khcn", &j!({"email": bad}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "email");
    assert_eq!(refused["errors"][0]["code"], "invalid_email");
    assert!(!refused.to_string().contains(bad), "echoed: {refused}");

    let created = json(
        app.post_as(
            &admin,
            "/api/v1/units",
            &j!({"code": "so-moi", "name": "Sở Mới", "kind": "department", "email": "lienhe@somoi.gov.vn"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(created["email"], "lienhe@somoi.gov.vn");

    // Three changes of so-khcn (the refused one records none) and the new unit; on PostgreSQL
    // an event is listed once every older writing transaction on the server has ended.
    let events =
        crate::events::events_until(&app, &admin, "types=unit.updated,unit.created", 4).await;
    assert_eq!(events.len(), 4, "{events:?}");
    for event in &events {
        assert!(event["data"].get("email").is_none(), "{event}");
        assert!(!event.to_string().contains("@"), "an address in {event}");
    }
}
