//! `spawn_app` and the throwaway databases behind it.

use std::collections::HashMap;
use std::path::PathBuf;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use portal_api::config::Settings;
use portal_api::startup::Application;
use reqwest::Response;
use serde_json::Value;

/// Environment variable naming the PostgreSQL server to test against.
pub const POSTGRES_ENV: &str = "PORTAL_TEST_POSTGRES_URL";

/// A database that exists for one test and is removed afterwards.
pub enum TestDb {
    Sqlite { dir: PathBuf },
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    fn create() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        match std::env::var(POSTGRES_ENV).ok().filter(|v| !v.is_empty()) {
            Some(admin_url) => {
                let name = format!("portal_test_{id}");
                let mut conn = PgConnection::establish(&admin_url).unwrap_or_else(|e| {
                    panic!("{POSTGRES_ENV} is set but PostgreSQL cannot be reached: {e}")
                });
                conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
                    .expect("create the test database");
                Self::Postgres { admin_url, name }
            }
            None => {
                let dir = std::env::temp_dir().join(format!("portal-api-test-{id}"));
                std::fs::create_dir_all(&dir).expect("create the test folder");
                Self::Sqlite { dir }
            }
        }
    }

    /// The URL the service is given.
    pub fn url(&self) -> String {
        match self {
            Self::Sqlite { dir } => format!("sqlite://{}", dir.join("portal.db").display()),
            Self::Postgres { admin_url, name } => with_database(admin_url, name),
        }
    }

    /// Makes the database unreachable for the running service.
    pub fn destroy(&self) {
        match self {
            Self::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Self::Postgres { admin_url, name } => {
                if let Ok(mut conn) = PgConnection::establish(admin_url) {
                    let _ = conn
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.destroy();
    }
}

/// Replaces the database name in a PostgreSQL URL, keeping any query string.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let server = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

/// A running service and a client for it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDb,
}

/// Starts the service on a fresh database, on a free port.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the service with extra environment settings.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        portal_api::telemetry::init(portal_api::config::Environment::Development);
    }
    let db = TestDb::create();
    let mut env: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".to_string(), db.url()),
        ("PORTAL_ADDR".to_string(), "127.0.0.1:0".to_string()),
        ("PORTAL_WORKERS".to_string(), "1".to_string()),
        ("PORTAL_DB_POOL_SIZE".to_string(), "4".to_string()),
    ]);
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    let settings = Settings::from_lookup(|k| env.get(k).cloned()).expect("test settings");
    let app = Application::build(settings).expect("build the application");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
        db,
    }
}

impl TestApp {
    /// GET a path of the service.
    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request sent")
    }
}

/// Asserts a status and returns the JSON body.
pub async fn json(response: Response, status: u16) -> Value {
    let got = response.status().as_u16();
    let body = response.text().await.expect("body");
    assert_eq!(got, status, "unexpected status; body: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// Asserts an RFC 9457 problem with this status and code, and returns it.
pub async fn problem(response: Response, status: u16, code: &str) -> Value {
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = json(response, status).await;
    assert_eq!(content_type, "application/problem+json", "body: {body}");
    assert_eq!(body["status"], status, "body: {body}");
    assert_eq!(body["code"], code, "body: {body}");
    assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string());
    body
}
