use crate::helpers::{problem, spawn_app};

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = spawn_app().await;
    problem(app.get("/api/v1/nothing-here").await, 404, "not_found").await;
    problem(app.get("/favicon.ico").await, 404, "not_found").await;
}

#[tokio::test]
async fn a_method_the_route_does_not_take_is_a_405_problem() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        (reqwest::Method::POST, "/api/v1/calendar/deadline", "GET"),
        (reqwest::Method::POST, "/health/live", "GET"),
        (reqwest::Method::DELETE, "/api/v1/units", "GET, POST"),
        (reqwest::Method::PUT, "/api/v1/auth/token", "POST"),
    ] {
        let response = app
            .client
            .request(method, format!("{}{path}", app.address))
            .header("content-type", "application/json")
            .body("{this is not json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{path}");
        assert_eq!(response.headers()["allow"], allow, "{path}");
        problem(response, 405, "method_not_allowed").await;
    }
}
