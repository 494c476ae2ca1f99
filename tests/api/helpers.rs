//! `spawn_app` and the throwaway databases behind it.

use std::collections::HashMap;
use std::path::PathBuf;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use portal_api::config::Settings;
use portal_api::startup::Application;
use reqwest::{Method, Response};
use serde_json::Value;

/// Environment variable naming the PostgreSQL server to test against.
pub const POSTGRES_ENV: &str = "PORTAL_TEST_POSTGRES_URL";

/// A database that exists for one test and is removed afterwards.
pub enum TestDb {
    Sqlite {
        dir: PathBuf,
    },
    Postgres {
        admin_url: String,
        name: String,
    },
    /// Another instance's database, left to its owner.
    Shared {
        url: String,
    },
}

impl TestDb {
    pub fn create() -> Self {
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
            Self::Shared { url } => url.clone(),
        }
    }

    /// A connection of the test's own to its SQLite file, waiting (as the service's do) while
    /// the service holds the write lock instead of failing with "database is locked".
    pub fn open_sqlite(dir: &std::path::Path) -> diesel::SqliteConnection {
        let mut conn =
            diesel::SqliteConnection::establish(&dir.join("portal.db").to_string_lossy())
                .expect("open the test db");
        conn.batch_execute("PRAGMA busy_timeout = 10000;")
            .expect("set the busy timeout");
        conn
    }

    /// Runs SQL directly on the database, behind the service's back.
    pub fn execute(&self, statement: &str) {
        match self {
            Self::Sqlite { dir } => {
                let mut conn = Self::open_sqlite(dir);
                conn.batch_execute(statement).expect("run SQL");
            }
            _ => {
                let mut conn = PgConnection::establish(&self.url()).expect("connect to test db");
                conn.batch_execute(statement).expect("run SQL");
            }
        }
    }

    /// The single number a query (`SELECT count(*) AS n ...`) answers, read behind the
    /// service's back.
    pub fn count(&self, query: &str) -> i64 {
        let rows: Vec<Count> = match self {
            Self::Sqlite { dir } => {
                let mut conn = Self::open_sqlite(dir);
                diesel::sql_query(query).load(&mut conn).expect("count")
            }
            _ => {
                let mut conn = PgConnection::establish(&self.url()).expect("connect to test db");
                diesel::sql_query(query).load(&mut conn).expect("count")
            }
        };
        rows[0].n
    }

    /// Whether the text appears anywhere in the stored data.
    pub fn contains(&self, needle: &str) -> bool {
        match self {
            Self::Sqlite { dir } => ["portal.db", "portal.db-wal"].iter().any(|f| {
                std::fs::read(dir.join(f))
                    .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
                    .unwrap_or(false)
            }),
            Self::Postgres { .. } => {
                let mut conn = PgConnection::establish(&self.url()).expect("connect to test db");
                let tables: Vec<Name> = diesel::sql_query(
                    "SELECT table_name::text AS name FROM information_schema.tables \
                     WHERE table_schema = 'public'",
                )
                .load(&mut conn)
                .expect("list tables");
                tables.iter().any(|t| {
                    let hits: Vec<Count> = diesel::sql_query(format!(
                        "SELECT count(*) AS n FROM \"{}\" t WHERE t::text LIKE $1",
                        t.name
                    ))
                    .bind::<diesel::sql_types::Text, _>(format!("%{needle}%"))
                    .load(&mut conn)
                    .expect("search table");
                    hits[0].n > 0
                })
            }
            Self::Shared { .. } => panic!("search the owning instance's database"),
        }
    }

    /// Makes the database unreachable for the running service.
    pub fn destroy(&self) {
        match self {
            Self::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Self::Shared { .. } => {}
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

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
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
    /// Declared before `db`: the service stops before its database is removed.
    pub _server: RunningServer,
    pub db: TestDb,
}

/// A service running on a thread of its own; dropping it stops the service and waits until
/// every one of its database connections is closed.
pub struct RunningServer {
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningServer {
    fn start(app: Application) -> Self {
        let handle = app.handle();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the service");
            runtime
                .block_on(app.run_until_stopped())
                .expect("the service ran");
        });
        Self {
            handle,
            thread: Some(thread),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        // `stop` sends its command at once; the future only reports completion.
        drop(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts the service on a fresh database, on a free port.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Password of the first admin in every test.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
/// JWT secret of every test service, so tests can forge tokens.
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// Starts the service with extra environment settings.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    start(TestDb::create(), extra).await
}

/// Starts the service with its clock stopped at `now` (UTC, `YYYY-MM-DDTHH:MM:SS`).
pub async fn spawn_app_at(now: &str) -> TestApp {
    spawn_app_at_with(now, &[]).await
}

/// Starts the service with its clock stopped at `now`, and extra environment settings.
pub async fn spawn_app_at_with(now: &str, extra: &[(&str, &str)]) -> TestApp {
    start_with(TestDb::create(), extra, Some(instant(now))).await
}

fn instant(now: &str) -> chrono::NaiveDateTime {
    chrono::NaiveDateTime::parse_from_str(now, "%Y-%m-%dT%H:%M:%S").expect("a time")
}

pub async fn start(db: TestDb, extra: &[(&str, &str)]) -> TestApp {
    start_with(db, extra, None).await
}

async fn start_with(
    db: TestDb,
    extra: &[(&str, &str)],
    fixed_now: Option<chrono::NaiveDateTime>,
) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        portal_api::telemetry::init(portal_api::config::Environment::Development);
    }
    let mut env: HashMap<String, String> = HashMap::from([
        (
            "PORTAL_ADMIN_PASSWORD".to_string(),
            ADMIN_PASSWORD.to_string(),
        ),
        ("PORTAL_JWT_SECRET".to_string(), JWT_SECRET.to_string()),
        ("DATABASE_URL".to_string(), db.url()),
        ("PORTAL_ADDR".to_string(), "127.0.0.1:0".to_string()),
        ("PORTAL_WORKERS".to_string(), "1".to_string()),
        ("PORTAL_DB_POOL_SIZE".to_string(), "4".to_string()),
        (
            "PORTAL_MAIL_DIR".to_string(),
            std::env::temp_dir()
                .join(format!("portal-mail-{}", uuid::Uuid::new_v4()))
                .display()
                .to_string(),
        ),
    ]);
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    let mut settings = Settings::from_lookup(|k| env.get(k).cloned()).expect("test settings");
    settings.fixed_now = fixed_now;
    let app = Application::build(settings).expect("build the application");
    let address = format!("http://127.0.0.1:{}", app.port());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
        _server: RunningServer::start(app),
        db,
    }
}

/// A user made for a test, with a token.
pub struct TestUser {
    pub id: String,
    pub username: String,
    pub password: String,
    pub token: String,
}

impl TestApp {
    /// A second service instance on the same database, as behind a load balancer.
    pub async fn second_instance(&self) -> TestApp {
        start(TestDb::Shared { url: self.db.url() }, &[]).await
    }

    /// Another instance on the same database, its clock stopped at `now` (UTC,
    /// `YYYY-MM-DDTHH:MM:SS`): what an instance sees later on.
    pub async fn second_instance_at(&self, now: &str) -> TestApp {
        self.second_instance_at_with(now, &[]).await
    }

    /// Another instance at `now`, with extra environment settings.
    pub async fn second_instance_at_with(&self, now: &str, extra: &[(&str, &str)]) -> TestApp {
        let db = TestDb::Shared { url: self.db.url() };
        start_with(db, extra, Some(instant(now))).await
    }

    /// GET a path of the service.
    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path, None, None).await
    }

    /// GET with a bearer token.
    pub async fn get_as(&self, token: &str, path: &str) -> Response {
        self.request(Method::GET, path, Some(token), None).await
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.expect("request sent")
    }

    /// POST a JSON body with a bearer token.
    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path, Some(token), Some(body))
            .await
    }

    /// PATCH a JSON body with a bearer token.
    pub async fn patch_as(&self, token: &str, path: &str, body: &Value) -> Response {
        self.request(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    /// Asks for a token with a password; returns the raw answer.
    pub async fn login(&self, username: &str, password: &str) -> Response {
        let body = serde_json::json!({
            "grant_type": "password", "username": username, "password": password
        });
        self.request(Method::POST, "/api/v1/auth/token", None, Some(&body))
            .await
    }

    /// A token for a user whose password is known to work.
    pub async fn token(&self, username: &str, password: &str) -> String {
        let body = json(self.login(username, password).await, 200).await;
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// The first admin's token.
    pub async fn admin_token(&self) -> String {
        self.token("admin", ADMIN_PASSWORD).await
    }

    /// Asks a question as a citizen (`POST /api/v1/questions`, expecting 201): the answer.
    pub async fn ask(&self, body: &Value) -> Value {
        let asked = self
            .request(Method::POST, "/api/v1/questions", None, Some(body))
            .await;
        json(asked, 201).await
    }

    /// The id of the question with tracking code `code`, from the staff list.
    pub async fn question_id(&self, token: &str, code: &str) -> String {
        let list = json(self.get_as(token, "/api/v1/questions?limit=100").await, 200).await;
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["tracking_code"] == code)
            .map(|q| q["id"].as_str().unwrap().to_string())
            .expect("the question is listed")
    }

    /// Creates a user through the API and logs it in.
    pub async fn user(&self, role: &str, unit: Option<&str>) -> TestUser {
        let admin = self.admin_token().await;
        let username = format!("{role}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
        let body = serde_json::json!({
            "username": username, "password": password, "role": role, "unit": unit
        });
        let created = json(self.post_as(&admin, "/api/v1/users", &body).await, 201).await;
        let token = self.token(&username, &password).await;
        TestUser {
            id: created["id"].as_str().unwrap().to_string(),
            username,
            password,
            token,
        }
    }

    /// Creates an API client for a unit; returns (record id, client_id, secret).
    pub async fn client_for(&self, unit: &str) -> (String, String, String) {
        let admin = self.admin_token().await;
        let body = serde_json::json!({ "name": "Cổng TTĐT thử nghiệm", "unit": unit });
        let created = json(self.post_as(&admin, "/api/v1/clients", &body).await, 201).await;
        (
            created["id"].as_str().unwrap().to_string(),
            created["client_id"].as_str().unwrap().to_string(),
            created["client_secret"].as_str().unwrap().to_string(),
        )
    }

    /// A token for an API client.
    pub async fn client_token(&self, client_id: &str, secret: &str) -> Response {
        let body = serde_json::json!({
            "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret
        });
        self.request(Method::POST, "/api/v1/auth/token", None, Some(&body))
            .await
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

/// Opens a connection and completes one request on it (so a worker holds it, kept alive).
pub async fn held_connection(address: &str) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address.trim_start_matches("http://"))
        .await
        .unwrap();
    stream
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: portal\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 1024];
    let n = stream.read(&mut answer).await.unwrap();
    assert!(answer[..n].starts_with(b"HTTP/1.1 200"));
    stream
}
