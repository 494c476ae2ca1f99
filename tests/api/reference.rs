use crate::helpers::{json, problem, spawn_app};

#[tokio::test]
async fn units_lists_the_31_seeded_units_with_vietnamese_names() {
    let app = spawn_app().await;
    let body = json(app.get("/api/v1/units").await, 200).await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 31);
    assert!(body["next_cursor"].is_null());
    assert_eq!(items[0]["code"], "vp-ubnd");
    assert_eq!(items[0]["name"], "Văn phòng UBND tỉnh");
    let xoai = items.iter().find(|u| u["code"] == "tp-dong-xoai").unwrap();
    assert_eq!(xoai["name"], "UBND thành phố Đồng Xoài");
    assert_eq!(xoai["kind"], "district");
    assert_eq!(xoai["active"], true);
    assert_eq!(xoai["successors"], serde_json::json!([]));
}

#[tokio::test]
async fn units_filter_by_kind_and_active() {
    let app = spawn_app().await;
    let districts = json(app.get("/api/v1/units?kind=district").await, 200).await;
    let districts = districts["items"].as_array().unwrap();
    assert_eq!(districts.len(), 11);
    assert!(districts.iter().all(|u| u["kind"] == "district"));
    let departments = json(
        app.get("/api/v1/units?kind=department&active=true").await,
        200,
    )
    .await;
    assert_eq!(departments["items"].as_array().unwrap().len(), 20);
    let inactive = json(app.get("/api/v1/units?active=false").await, 200).await;
    assert_eq!(inactive["items"], serde_json::json!([]));
}

#[tokio::test]
async fn an_unknown_unit_kind_is_a_400_naming_the_parameter() {
    let app = spawn_app().await;
    let body = problem(
        app.get("/api/v1/units?kind=ward").await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "kind");
    let body = problem(
        app.get("/api/v1/units?active=maybe").await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "active");
}

#[tokio::test]
async fn a_unit_is_found_by_its_code() {
    let app = spawn_app().await;
    let unit = json(app.get("/api/v1/units/so-khcn").await, 200).await;
    assert_eq!(unit["code"], "so-khcn");
    assert_eq!(unit["kind"], "department");
    assert!(unit["fields"].as_array().unwrap().len() > 1, "{unit}");
    let standing = json(app.get("/api/v1/units/so-tttt").await, 200).await;
    assert_eq!(standing["is_standing_agency"], true);
}

#[tokio::test]
async fn an_unknown_unit_is_a_404_problem() {
    let app = spawn_app().await;
    let body = problem(
        app.get("/api/v1/units/does-not-exist").await,
        404,
        "not_found",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("does-not-exist"));
}

#[tokio::test]
async fn categories_list_the_seeded_categories_with_answer_days() {
    let app = spawn_app().await;
    let body = json(app.get("/api/v1/categories").await, 200).await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 12);
    let first = &items[0];
    assert_eq!(first["code"], "gioi-thieu");
    assert_eq!(first["mandatory"], true);
    assert_eq!(first["answer_days"], 15);
    assert_eq!(first["legal_basis"], "NĐ 42/2022 Điều 4");
    let labour = items
        .iter()
        .find(|c| c["code"] == "lao-dong-viec-lam")
        .unwrap();
    assert_eq!(labour["mandatory"], false);
}
