//! The quarterly report built by its use case straight from a database, without HTTP: on a
//! SQLite file, and on PostgreSQL too when `PORTAL_TEST_POSTGRES_URL` is set.

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use portal_api::config::Settings;
use portal_api::db::{self, DbPool};
use portal_api::domain::compliance::report::QuarterlyReport;
use portal_api::domain::compliance::Reason;
use portal_api::domain::period::{Quarter, WindowKind};
use portal_api::service::report::quarterly_report_on;
use portal_api::startup::prepare_database;

/// A database that exists for one test.
enum TestDb {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    fn sqlite() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("portal-api-report-{id}"));
        std::fs::create_dir_all(&dir).expect("create the test folder");
        Self::Sqlite(dir)
    }

    /// A fresh PostgreSQL database, when a server is named.
    fn postgres() -> Option<Self> {
        let admin_url = std::env::var("PORTAL_TEST_POSTGRES_URL")
            .ok()
            .filter(|v| !v.is_empty())?;
        let name = format!("portal_report_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(&admin_url).expect("reach PostgreSQL");
        conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .expect("create the test database");
        Some(Self::Postgres { admin_url, name })
    }

    fn url(&self) -> String {
        match self {
            Self::Sqlite(dir) => format!("sqlite://{}", dir.join("portal.db").display()),
            Self::Postgres { admin_url, name } => {
                let server = admin_url
                    .rsplit_once('/')
                    .map_or(&admin_url[..], |(s, _)| s);
                format!("{server}/{name}")
            }
        }
    }

    /// Migrated and loaded with the reference data, as the service starts.
    fn prepared(&self) -> DbPool {
        let env = HashMap::from([
            ("DATABASE_URL", self.url()),
            (
                "PORTAL_ADMIN_PASSWORD",
                "admin-password-for-tests".to_string(),
            ),
            (
                "PORTAL_JWT_SECRET",
                "test-secret-test-secret-test-secret-0123".to_string(),
            ),
        ]);
        let settings = Settings::from_lookup(|k| env.get(k).cloned()).expect("settings");
        let pool = db::connect(&self.url(), 2).expect("connect");
        prepare_database(&pool, &settings).expect("prepare the database");
        pool
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            Self::Sqlite(dir) => {
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

fn submission(id: &str, unit: &str, category: &str, day: &str) -> String {
    format!(
        "INSERT INTO submissions (id, unit_code, category_code, title, summary, body, attachments, \
         status, version, author, search_text, created_at, updated_at, submitted_at) VALUES \
         ('{id}', '{unit}', '{category}', 'Tin {id}', '', '', '[]', 'submitted', 1, 'user:test', \
         'tin', '{day} 03:00:00', '{day} 03:00:00', '{day} 03:00:00');"
    )
}

fn question(id: &str, unit: &str, received: &str, due: &str, answered: Option<&str>) -> String {
    let (status, answered) = match answered {
        Some(day) => ("answered", format!("'{day} 03:00:00'")),
        None => ("assigned", "NULL".into()),
    };
    format!(
        "INSERT INTO questions (id, tracking_code, access_key_hash, title, body, unit_code, \
         asker_name, publish_consent, status, search_text, received_at, due_at, answered_at, \
         updated_at) VALUES ('{id}', 'Q24-{id}', 'x', 'Hỏi', 'Hỏi', '{unit}', 'A', FALSE, \
         '{status}', 'hoi', '{received} 03:00:00', '{due} 16:59:59', {answered}, \
         '{received} 03:00:00');"
    )
}

/// The first calendar quarter of 2024, seen from 20 April: so-khcn meets its monthly duty and
/// answers its question in three working days (counted by the report: the row predates the
/// recorded count); so-khdt is late in February, misses March and leaves a question overdue;
/// so-noi-vu submits nothing. Every other unit left in 2023.
fn seed(pool: &DbPool) {
    let mut sql = vec![
        "DELETE FROM obligations;".to_string(),
        "UPDATE units SET active = FALSE, deactivated_at = '2023-01-01 00:00:00' \
         WHERE code NOT IN ('so-khcn', 'so-khdt', 'so-noi-vu');"
            .to_string(),
        "INSERT INTO obligations (unit_code, category_code, cadence, min_items, due_day, \
         starts_on, description, created_at, updated_at) VALUES \
         ('so-khcn', 'khoa-hoc-cong-nghe', 'monthly', 1, NULL, '2024-01-01', '', \
          '2024-01-01 00:00:00', '2024-01-01 00:00:00'), \
         ('so-khdt', NULL, 'monthly', 1, 10, '2024-01-01', '', \
          '2024-01-01 00:00:00', '2024-01-01 00:00:00');"
            .to_string(),
    ];
    for (id, day) in [
        ("a1", "2024-01-10"),
        ("a2", "2024-02-10"),
        ("a3", "2024-03-10"),
    ] {
        sql.push(submission(id, "so-khcn", "khoa-hoc-cong-nghe", day));
    }
    sql.push(submission("b1", "so-khdt", "dau-tu", "2024-01-05"));
    sql.push(submission("b2", "so-khdt", "tin-tuc", "2024-02-20"));
    // Tuesday 2 to Friday 5 January: three working days.
    sql.push(question(
        "q1",
        "so-khcn",
        "2024-01-02",
        "2024-01-23",
        Some("2024-01-05"),
    ));
    sql.push(question("q2", "so-khdt", "2024-02-01", "2024-02-22", None));
    let mut conn = pool.get().expect("a connection");
    conn.batch_execute(&sql.join("\n"))
        .expect("seed the quarter");
}

fn report(pool: &DbPool, only: Option<&str>) -> QuarterlyReport {
    let period = Quarter::new(2024, 1).unwrap().window(WindowKind::Calendar);
    let today = NaiveDate::from_ymd_opt(2024, 4, 20).unwrap();
    let mut conn = pool.get().expect("a connection");
    quarterly_report_on(&mut conn, period, only.map(String::from), today).expect("the report")
}

fn check(db: &TestDb) {
    let pool = db.prepared();
    seed(&pool);
    let all = report(&pool, None);
    let mut rows: Vec<(&str, Vec<Reason>)> = all
        .units
        .iter()
        .map(|r| (r.unit.code.as_str(), r.reasons.clone()))
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            ("so-khcn", vec![]),
            (
                "so-khdt",
                vec![Reason::ObligationMissed, Reason::OverdueQuestions]
            ),
            ("so-noi-vu", vec![Reason::NoSubmissions]),
        ]
    );
    assert_eq!(all.non_compliant, ["so-khdt", "so-noi-vu"]);

    let khcn = &all.units.iter().find(|r| r.unit.code == "so-khcn").unwrap();
    assert_eq!(khcn.submissions.received, 3);
    assert_eq!((khcn.obligations.due, khcn.obligations.met), (3, 3));
    assert_eq!(
        (khcn.questions.answered, khcn.questions.answered_on_time),
        (1, 1)
    );
    assert_eq!(khcn.questions.median_working_days_to_answer, Some(3.0));
    let khdt = &all.units.iter().find(|r| r.unit.code == "so-khdt").unwrap();
    let o = &khdt.obligations;
    assert_eq!((o.due, o.met, o.late, o.missing), (3, 1, 1, 1));
    assert_eq!(khdt.questions.overdue_open, 1);

    let t = &all.totals;
    assert_eq!((t.units, t.compliant), (3, 1));
    assert_eq!(t.submissions.received, 5);
    assert_eq!((t.obligations.due, t.obligations.met), (6, 4));
    assert_eq!((t.questions.received, t.questions.overdue_open), (2, 1));

    let own = report(&pool, Some("so-khdt"));
    assert_eq!(own.units.len(), 1);
    assert_eq!(own.units[0].unit.code, "so-khdt");
    assert_eq!(own.totals.obligations.missing, 1);
}

#[test]
fn the_report_is_built_from_a_sqlite_database() {
    check(&TestDb::sqlite());
}

#[test]
fn the_report_is_built_from_a_postgresql_database() {
    match TestDb::postgres() {
        Some(db) => check(&db),
        None => eprintln!("PORTAL_TEST_POSTGRES_URL is not set: PostgreSQL not tested"),
    }
}
