//! Command line: `serve` (default), `migrate`, `openapi`, `healthcheck`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

use portal_api::auth::accounts::{self, NewAccount};
use portal_api::auth::password;
use portal_api::auth::policy::Role;
use portal_api::config::Settings;
use portal_api::domain::account::{parse_name, Username};
use portal_api::startup::{prepare_database, Application};
use portal_api::{db, openapi, telemetry};

const USAGE: &str = "\
portal-api: the provincial e-portal service

Usage: portal-api [COMMAND]

Commands:
  serve        serve the HTTP API (the default)
  migrate      apply database migrations and load reference data into a new database, then exit
  openapi      print the OpenAPI document as JSON
  create-user --username NAME --role admin|editor|officer|viewer [--unit CODE] [--display-name NAME]
               create a user account; the password is read from standard input
  generate-demo --submissions N --questions M [--seed S]
               fill the configured database with realistic demonstration data
  healthcheck  ask the running service on PORTAL_ADDR's port whether it is ready (for containers)
  help         print this text

Configuration comes from the environment; see README.md.";

fn main() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    let result = match command.as_str() {
        "serve" => serve(),
        "migrate" => migrate(),
        "openapi" => {
            print!("{}", openapi::document_json());
            Ok(())
        }
        "healthcheck" => healthcheck(),
        "create-user" => create_user(std::env::args().skip(2).collect()),
        "generate-demo" => generate_demo(std::env::args().skip(2).collect()),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("unknown command {other:?}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portal-api: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn settings() -> anyhow::Result<Settings> {
    let settings = Settings::from_env()?;
    telemetry::init(settings.environment);
    Ok(settings)
}

fn serve() -> anyhow::Result<()> {
    portal_api::malloc::limit_arenas();
    let settings = settings()?;
    let backend = db::Backend::from_url(&settings.database_url)?;
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings)?;
        tracing::info!(
            port = app.port(),
            database = backend.name(),
            "portal-api listening"
        );
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn migrate() -> anyhow::Result<()> {
    let settings = settings()?;
    let pool = db::connect(&settings.database_url, 1)?;
    prepare_database(&pool, &settings)?;
    println!("database is up to date");
    Ok(())
}

/// A dependency-free readiness check for container health probes (no curl in the image).
fn healthcheck() -> anyhow::Result<()> {
    let addr = std::env::var("PORTAL_ADDR").unwrap_or_else(|_| "0.0.0.0:8080".into());
    let port = addr.rsplit(':').next().unwrap_or("8080");
    let mut stream = TcpStream::connect(format!("127.0.0.1:{port}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(b"GET /health/ready HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status_line = answer.lines().next().unwrap_or_default();
    if status_line.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        anyhow::bail!("not ready: {status_line}")
    }
}

/// Creates a user from the command line; the password comes from standard input so that it
/// stays out of the shell history and the process list.
fn create_user(args: Vec<String>) -> anyhow::Result<()> {
    let mut username = None;
    let mut role = None;
    let mut unit = None;
    let mut display_name = None;
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--username" => username = Some(value),
            "--role" => role = Some(value),
            "--unit" => unit = Some(value),
            "--display-name" => display_name = Some(value),
            other => anyhow::bail!("unknown option {other}\n\n{USAGE}"),
        }
    }
    let username =
        Username::parse(&username.ok_or_else(|| anyhow::anyhow!("--username is required"))?)
            .map_err(|why| anyhow::anyhow!("--username {why}"))?;
    let role = role.ok_or_else(|| anyhow::anyhow!("--role is required"))?;
    let role = Role::parse(&role)
        .ok_or_else(|| anyhow::anyhow!("--role must be admin, editor, officer or viewer"))?;
    let display_name = match display_name {
        Some(n) => parse_name(&n, 200).map_err(|why| anyhow::anyhow!("--display-name {why}"))?,
        None => username.to_string(),
    };
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']);
    password::check_rules(password).map_err(|why| anyhow::anyhow!("the password {why}"))?;
    let hash = password::hash(password)?;

    let settings = settings()?;
    let pool = db::connect(&settings.database_url, 1)?;
    prepare_database(&pool, &settings)?;
    let mut conn = pool.get()?;
    let account = NewAccount {
        username,
        role,
        unit,
        display_name,
    };
    let user = accounts::create_user(&mut conn, &account, &hash)
        .map_err(|e| anyhow::anyhow!("{}", e.problem().detail))?;
    println!(
        "created user {} ({}) with id {}",
        user.username,
        user.role.as_str(),
        user.id
    );
    Ok(())
}

/// Fills the database with demonstration data.
fn generate_demo(args: Vec<String>) -> anyhow::Result<()> {
    let (mut submissions, mut questions, mut seed) = (0usize, 0usize, 42u64);
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| anyhow::anyhow!("{flag} needs a whole number"))
        };
        match flag.as_str() {
            "--submissions" => submissions = number()? as usize,
            "--questions" => questions = number()? as usize,
            "--seed" => seed = number()?,
            other => anyhow::bail!("unknown option {other}\n\n{USAGE}"),
        }
    }
    let settings = settings()?;
    let pool = db::connect(&settings.database_url, 1)?;
    prepare_database(&pool, &settings)?;
    let mut conn = pool.get()?;
    let made = portal_api::demo::generate(&mut conn, submissions, questions, seed)?;
    println!(
        "generated {} submissions and {} questions in {:.1} s",
        made.submissions, made.questions, made.seconds
    );
    Ok(())
}
