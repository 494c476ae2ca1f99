//! The command line: first start without a configured admin password, `create-user`,
//! `generate-demo`, and `--help` on every command.

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use helpers::{json, problem, start, TestDb};

fn portal_api(db: &TestDb, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portal-api"))
        .args(args)
        .env("DATABASE_URL", db.url())
        .env_remove("PORTAL_ADMIN_PASSWORD")
        .env_remove("PORTAL_ENV")
        // Development with no secret: a random one. A short one in the caller's environment
        // would be refused.
        .env_remove("PORTAL_JWT_SECRET")
        .env("RUST_LOG", "info")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run portal-api");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn the_first_start_prints_a_generated_admin_password_once() {
    let db = TestDb::create();
    let first = portal_api(&db, &["migrate"], "");
    let log = text(&first);
    assert!(first.status.success(), "{log}");
    let password = generated_password(&log);
    assert_eq!(password.len(), 20, "{log}");
    let again = portal_api(&db, &["migrate"], "");
    assert!(
        !text(&again).contains(&password),
        "the password is printed again"
    );

    let app = start(TestDb::Shared { url: db.url() }, &[]).await;
    json(app.login("admin", &password).await, 200).await;
}

#[tokio::test]
async fn create_user_reads_the_password_from_standard_input() {
    let db = TestDb::create();
    let args = [
        "create-user",
        "--username",
        "Op.One",
        "--role",
        "officer",
        "--unit",
        "so-khcn",
    ];
    let out = portal_api(&db, &args, "a long password from stdin\n");
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("created user op.one"), "{log}");
    assert!(!log.contains("a long password from stdin"));

    let refused = portal_api(&db, &args, "another long password\n");
    assert!(!refused.status.success());
    assert!(text(&refused).contains("taken"), "{}", text(&refused));
    let short = portal_api(
        &db,
        &["create-user", "--username", "x2y", "--role", "viewer"],
        "short\n",
    );
    assert!(!short.status.success());
    assert!(text(&short).contains("at least 10"), "{}", text(&short));
    let no_unit = portal_api(
        &db,
        &["create-user", "--username", "op2", "--role", "officer"],
        "a long password\n",
    );
    assert!(!no_unit.status.success());
    assert!(text(&no_unit).contains("unit"), "{}", text(&no_unit));

    let app = start(TestDb::Shared { url: db.url() }, &[]).await;
    let token = app.token("op.one", "a long password from stdin").await;
    let me = json(app.get_as(&token, "/api/v1/auth/me").await, 200).await;
    assert_eq!(me["role"], "officer");
    assert_eq!(me["unit"], "so-khcn");
    problem(
        app.login("op.one", "another long password").await,
        401,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn generate_demo_fills_the_database_with_usable_data() {
    let db = TestDb::create();
    let out = portal_api(
        &db,
        &[
            "generate-demo",
            "--submissions",
            "120",
            "--questions",
            "80",
            "--seed",
            "7",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("generated 120 submissions and 80 questions"),
        "{}",
        text(&out)
    );
    let app = start(TestDb::Shared { url: db.url() }, &[]).await;
    let admin = app.token("admin", &generated_password(&text(&out))).await;
    let all = json(
        app.get_as(&admin, "/api/v1/submissions?limit=100").await,
        200,
    )
    .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 100);
    assert!(all["next_cursor"].is_string());
    let public = json(
        app.get("/api/v1/public/articles?q=chuyen%20doi%20so").await,
        200,
    )
    .await;
    for article in public["items"].as_array().unwrap() {
        let text = format!(
            "{} {} {}",
            article["title"], article["summary"], article["body"]
        );
        assert!(text.contains("chuyển đổi số"), "{text}");
    }
    let report = json(
        app.get_as(&admin, "/api/v1/stats/quarterly?year=2024&quarter=3")
            .await,
        200,
    )
    .await;
    assert!(
        report["totals"]["submissions"]["received"]
            .as_i64()
            .unwrap()
            > 0,
        "{report}"
    );
    assert!(
        report["totals"]["questions"]["received"].as_i64().unwrap() > 0,
        "{report}"
    );
    problem(
        app.get("/api/v1/public/articles/none").await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn every_command_explains_itself_with_help() {
    let db = TestDb::create();
    for (command, mentions) in [
        ("serve", "Serve the HTTP API"),
        ("migrate", "migrations"),
        ("openapi", "OpenAPI"),
        ("create-user", "--username"),
        ("generate-demo", "--submissions"),
        ("healthcheck", "ready"),
    ] {
        let out = portal_api(&db, &[command, "--help"], "");
        assert!(out.status.success(), "{command}: {}", text(&out));
        assert!(text(&out).contains(mentions), "{command}: {}", text(&out));
    }
    let top = portal_api(&db, &["--help"], "");
    assert!(top.status.success());
    assert!(text(&top).contains("create-user"), "{}", text(&top));
    let unknown = portal_api(&db, &["no-such-command"], "");
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown));
    let missing = portal_api(&db, &["create-user", "--username", "op3"], "");
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(text(&missing).contains("--role"), "{}", text(&missing));
}

/// The admin password a first start printed in its log.
fn generated_password(log: &str) -> String {
    log.split("password=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(|p| {
            p.trim_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_string()
        })
        .unwrap_or_else(|| panic!("no generated password in: {log}"))
}
