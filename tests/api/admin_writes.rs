use reqwest::Method;
use serde_json::{json as j, Value};

use crate::helpers::{json, problem, spawn_app, TestApp};

/// Who calls, in the authorization matrix.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Caller {
    Anonymous,
    Admin,
    Editor,
    Officer,
    Viewer,
    Client,
}

struct Tokens {
    admin: String,
    editor: String,
    officer: String,
    viewer: String,
    client: String,
}

impl Tokens {
    async fn new(app: &TestApp) -> Self {
        let (_, client_id, secret) = app.client_for("so-khcn").await;
        let client = json(app.client_token(&client_id, &secret).await, 200).await;
        Self {
            admin: app.admin_token().await,
            editor: app.user("editor", None).await.token,
            officer: app.user("officer", Some("so-khcn")).await.token,
            viewer: app.user("viewer", None).await.token,
            client: client["access_token"].as_str().unwrap().to_string(),
        }
    }

    fn of(&self, caller: Caller) -> Option<&str> {
        match caller {
            Caller::Anonymous => None,
            Caller::Admin => Some(&self.admin),
            Caller::Editor => Some(&self.editor),
            Caller::Officer => Some(&self.officer),
            Caller::Viewer => Some(&self.viewer),
            Caller::Client => Some(&self.client),
        }
    }
}

/// One call of the matrix: method, path, body, success status, and who may make it.
type Case = (Method, String, Option<Value>, u16, &'static [Caller]);

/// Every admin endpoint, called by every kind of caller: allowed ones succeed, the others
/// answer 401 without a token and 403 with one.
#[tokio::test]
async fn each_role_is_allowed_or_refused_on_each_admin_endpoint() {
    let app = spawn_app().await;
    let tokens = Tokens::new(&app).await;
    let victim = app.user("viewer", None).await;
    let (client_record, _, _) = app.client_for("so-tu-phap").await;
    json(
        app.request(
            Method::PUT,
            "/api/v1/calendar/holidays/2031-01-02",
            Some(&tokens.admin),
            Some(&j!({"name": "Ngày thử", "kind": "holiday"})),
        )
        .await,
        201,
    )
    .await;

    use Caller::*;
    let admin_only: &[Caller] = &[Admin];
    let board: &[Caller] = &[Admin, Editor];
    let callers = [Anonymous, Editor, Officer, Viewer, Client, Admin];
    let mut n = 0;
    for caller in callers {
        n += 1;
        let cases: Vec<Case> = vec![
            (Method::GET, "/api/v1/users".into(), None, 200, admin_only),
            (
                Method::POST,
                "/api/v1/users".into(),
                Some(
                    j!({"username": format!("made-{n}"), "password": "a long password", "role": "viewer"}),
                ),
                201,
                admin_only,
            ),
            (
                Method::GET,
                format!("/api/v1/users/{}", victim.id),
                None,
                200,
                admin_only,
            ),
            (
                Method::PATCH,
                format!("/api/v1/users/{}", victim.id),
                Some(j!({"display_name": format!("Tên {n}")})),
                200,
                admin_only,
            ),
            (Method::GET, "/api/v1/clients".into(), None, 200, admin_only),
            (
                Method::POST,
                "/api/v1/clients".into(),
                Some(j!({"name": "Cổng", "unit": "so-khcn"})),
                201,
                admin_only,
            ),
            (
                Method::POST,
                "/api/v1/units".into(),
                Some(
                    j!({"code": format!("don-vi-{n}"), "name": "Đơn vị mới", "kind": "department"}),
                ),
                201,
                admin_only,
            ),
            (
                Method::PATCH,
                "/api/v1/units/so-khcn".into(),
                Some(j!({"name": "Sở Khoa học và Công nghệ"})),
                200,
                admin_only,
            ),
            (
                Method::POST,
                "/api/v1/categories".into(),
                Some(j!({"code": format!("chuyen-muc-{n}"), "name": "Chuyên mục"})),
                201,
                board,
            ),
            (
                Method::PATCH,
                "/api/v1/categories/tin-tuc".into(),
                Some(j!({"description": format!("Mô tả {n}")})),
                200,
                board,
            ),
            (
                Method::PUT,
                format!("/api/v1/calendar/holidays/2030-01-{:02}", n),
                Some(j!({"name": "Ngày nghỉ", "kind": "holiday"})),
                201,
                admin_only,
            ),
            (
                Method::DELETE,
                "/api/v1/calendar/holidays/2031-01-02".into(),
                None,
                204,
                admin_only,
            ),
            (
                Method::DELETE,
                format!("/api/v1/clients/{client_record}"),
                None,
                204,
                admin_only,
            ),
        ];
        for (method, path, body, ok, allowed) in cases {
            let response = app
                .request(method.clone(), &path, tokens.of(caller), body.as_ref())
                .await;
            let expected = if caller == Anonymous {
                401
            } else if allowed.contains(&caller) {
                ok
            } else {
                403
            };
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            assert_eq!(status, expected, "{caller:?} {method} {path}: {text}");
        }
    }
}

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
    let app = spawn_app().await;
    let editor = app.user("editor", None).await;
    let body = j!({"code": "moi-truong", "name": "Môi trường", "mandatory": true});
    let created = json(
        app.post_as(&editor.token, "/api/v1/categories", &body)
            .await,
        201,
    )
    .await;
    assert_eq!(created["answer_days"], 15);
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
