//! Command line: `serve` (default), `migrate`, `openapi`, `create-user`, `generate-demo`,
//! `healthcheck`; `--help` on each.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use portal_api::auth::password;
use portal_api::auth::policy::Role;
use portal_api::config::Settings;
use portal_api::domain::account::{parse_name, Username};
use portal_api::service::accounts::{self, NewAccount};
use portal_api::startup::{prepare_database, Application};
use portal_api::{db, openapi, telemetry};

/// The provincial e-portal service. Configuration comes from the environment (see README.md).
#[derive(Debug, Parser)]
#[command(name = "portal-api", version, about)]
struct Cli {
    /// What to do; without one, serve.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Apply database migrations and load reference data into a new database, then exit.
    Migrate,
    /// Print the OpenAPI document as JSON.
    Openapi,
    /// Create a user account; the password is read from standard input.
    CreateUser(CreateUser),
    /// Fill the configured database with realistic demonstration data.
    GenerateDemo(GenerateDemo),
    /// Exit 0 when the service on PORTAL_ADDR's port is ready (for container health checks).
    Healthcheck,
}

#[derive(Debug, Args)]
struct CreateUser {
    /// Login name: 3–64 characters of a-z, 0-9, `.`, `_`, `-`, `@`; stored in lower case.
    #[arg(long)]
    username: String,
    /// admin, editor, officer or viewer.
    #[arg(long)]
    role: String,
    /// The unit's code; required for officers.
    #[arg(long)]
    unit: Option<String>,
    /// The name shown to colleagues (the username when absent).
    #[arg(long)]
    display_name: Option<String>,
}

#[derive(Debug, Args)]
struct GenerateDemo {
    /// How many submissions to add.
    #[arg(long, default_value_t = 0)]
    submissions: usize,
    /// How many questions to add.
    #[arg(long, default_value_t = 0)]
    questions: usize,
    /// Seed of the random choices, for the same data again.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(),
        Command::Migrate => migrate(),
        Command::Openapi => {
            print!("{}", openapi::document_json());
            Ok(())
        }
        Command::Healthcheck => healthcheck(),
        Command::CreateUser(args) => create_user(args),
        Command::GenerateDemo(args) => generate_demo(args),
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
fn create_user(args: CreateUser) -> anyhow::Result<()> {
    let username =
        Username::parse(&args.username).map_err(|why| anyhow::anyhow!("--username {why}"))?;
    let role = Role::parse(&args.role)
        .ok_or_else(|| anyhow::anyhow!("--role must be admin, editor, officer or viewer"))?;
    let display_name = args
        .display_name
        .map(|n| parse_name(&n, 200).map_err(|why| anyhow::anyhow!("--display-name {why}")))
        .transpose()?;
    let unit = args.unit;
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
        email: None,
        notify_digest: true,
    };
    let user = accounts::insert_user(&mut conn, &account, &hash, settings.clock().now())
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
fn generate_demo(args: GenerateDemo) -> anyhow::Result<()> {
    let GenerateDemo {
        submissions,
        questions,
        seed,
    } = args;
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
