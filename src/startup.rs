//! Building and running the application: pool, migrations, reference data, HTTP server.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, OnceLock};

use actix_web::body::MessageBody;
use actix_web::dev::Server;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::password::PasswordPool;
use crate::auth::token::{random_token, TokenKeys};
use crate::auth::AccountCache;
use crate::cache::PublicCache;
use crate::config::{Environment, Settings};
use crate::db::writer::{Writer, WriterThread};
use crate::db::{self, DbPool};
use crate::error::{self, ApiError};
use crate::metrics::Metrics;
use crate::outbox::OutboxThread;
use crate::ratelimit::RateLimiter;
use crate::service::accounts;
use crate::state::{AppState, BODY_LIMIT};
use crate::{api, cors, openapi, telemetry};

/// A built service, bound to its port, ready to run.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    writer: WriterThread,
    outbox: OutboxThread,
    mail: crate::mail::MailThread,
}

impl Application {
    /// Connects to the database, migrates it, loads reference data into a new one and binds.
    pub fn build(settings: Settings) -> anyhow::Result<Self> {
        let pool = db::connect(&settings.database_url, settings.db_pool_size)?;
        prepare_database(&pool, &settings)?;
        let templates = crate::templates::Templates::load(settings.template_dir.as_deref())
            .context("cannot load the templates")?;
        let tokens = TokenKeys::new(&signing_secret(&settings), settings.token_ttl_seconds);
        let listener = TcpListener::bind(&settings.addr)
            .with_context(|| format!("cannot listen on {}", settings.addr))?;
        let port = listener.local_addr()?.port();
        let workers = settings.workers;
        let limits = Limits {
            shutdown_seconds: settings.shutdown_seconds,
            max_connections: settings.max_connections,
        };
        let questions_per_minute = settings.questions_per_minute;
        let sqlite = matches!(
            db::Backend::from_url(&settings.database_url)?,
            db::Backend::Sqlite(_)
        );
        let (writer, writer_thread) = Writer::start(pool.clone(), sqlite);
        let public_cache = PublicCache::new(settings.public_cache);
        let passwords = PasswordPool::start(settings.login_concurrency, settings.login_wait)
            .context("cannot start the password threads")?;
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            clock: settings.clock(),
            settings,
            metrics: Metrics::default(),
            tokens,
            passwords,
            accounts: AccountCache::default(),
            question_limit: RateLimiter::new(questions_per_minute),
            writer,
            public_cache,
            references: crate::references::ReferenceCache::default(),
            resend_limits: crate::ratelimit::ResendLimits::default(),
            templates,
        });
        let server = serve(listener, state.clone(), workers, limits)?;
        let outbox = OutboxThread::start(pool, &state.settings, state.metrics.outbox())
            .context("cannot start the outbox")?;
        let mail = crate::mail::MailThread::start(
            state.pool.clone(),
            &state.settings,
            state.templates.clone(),
        )
        .context("cannot start sending mail")?;
        Ok(Self {
            port,
            server,
            state,
            writer: writer_thread,
            outbox,
            mail,
        })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that stops the server from elsewhere (tests, embedding programs).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until the process is asked to stop (SIGTERM, SIGINT or the handle), then lets
    /// the writer commit what it holds and closes every database connection before returning,
    /// so nothing is still talking to the database while the process exits.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Self {
            server,
            state,
            writer,
            outbox,
            mail,
            ..
        } = self;
        let served = server.await;
        mail.stop();
        outbox.stop();
        writer.stop();
        let state = state.into_inner();
        // The workers drop their copies of the state as their threads end.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while Arc::strong_count(&state) > 1 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        drop(state);
        tracing::info!("stopped; database connections closed");
        served
    }
}

/// The configured JWT secret; in development without one, a random secret (tokens then do not
/// survive a restart).
fn signing_secret(settings: &Settings) -> Vec<u8> {
    match &settings.jwt_secret {
        Some(secret) => secret.expose().as_bytes().to_vec(),
        None => {
            debug_assert_eq!(settings.environment, Environment::Development);
            tracing::warn!(
                "PORTAL_JWT_SECRET is not set: using a random secret; tokens will not survive a \
                 restart or work across instances"
            );
            random_token(32).into_bytes()
        }
    }
}

/// Runs migrations; on a new database loads the reference data and creates the first admin.
pub fn prepare_database(pool: &DbPool, settings: &Settings) -> anyhow::Result<()> {
    let mut conn = pool.get().context("cannot get a database connection")?;
    let now = settings.clock().now();
    let applied = db::migrate(&mut conn)?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    if let Some(report) = db::seed::seed_if_empty(&mut conn, now)? {
        tracing::info!(
            units = report.units,
            categories = report.categories,
            holidays = report.holidays,
            obligations = report.obligations,
            "reference data loaded into the new database"
        );
    }
    match accounts::bootstrap_admin(&mut conn, settings.admin_password.as_ref(), now)? {
        Some(Some(generated)) => tracing::warn!(
            username = "admin",
            password = %generated,
            "FIRST START: created the admin account with this generated password. It is shown \
             only this once: log in and change it (PATCH /api/v1/users/{{id}})"
        ),
        Some(None) => tracing::info!(
            username = "admin",
            "created the admin account with the password in PORTAL_ADMIN_PASSWORD"
        ),
        None => {}
    }
    Ok(())
}

/// How much the server takes on, and how long it waits when stopping.
struct Limits {
    shutdown_seconds: u64,
    max_connections: usize,
}

fn serve(
    listener: TcpListener,
    state: web::Data<AppState>,
    workers: Option<usize>,
    limits: Limits,
) -> anyhow::Result<Server> {
    let spec = Arc::new(openapi::document());
    let mut server = HttpServer::new(move || {
        App::new()
            .into_utoipa_app()
            .configure(api::routes)
            .into_app()
            // The citizens' tracking page is HTML, outside the API and its document.
            .configure(api::tracking_page::routes)
            .app_data(state.clone())
            .app_data(
                web::PathConfig::default().error_handler(|err, _| error::path_error(err).into()),
            )
            .app_data(web::PayloadConfig::new(BODY_LIMIT))
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    .url("/openapi.json", (*spec).clone())
                    // Otherwise the explorer sends the document's address to
                    // validator.swagger.io and shows its badge from there.
                    .config(utoipa_swagger_ui::Config::default().validator_url("none")),
            )
            .default_service(web::to(not_found))
            .wrap(from_fn(head_as_get))
            .wrap(from_fn(cors::cors))
            .wrap(from_fn(telemetry::observe))
    })
    // SIGTERM: stop accepting, let requests in flight finish, then exit.
    .shutdown_timeout(limits.shutdown_seconds)
    // A client that sends its headers too slowly is cut off.
    .client_request_timeout(std::time::Duration::from_secs(10))
    .listen(listener)?;
    // actix counts connections per worker; the setting is for the whole instance.
    let workers = workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    server = server
        .workers(workers)
        .max_connections(limits.max_connections.div_ceil(workers).max(1));
    Ok(server.run())
}

/// Answers HEAD wherever GET is answered (load balancers probe with it): the request is
/// routed as a GET, and the connection, which remembers that it was a HEAD, sends the
/// answer's head without its body. Logs and metrics still say HEAD.
async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

/// Answers what no route took: 405 when the path exists for other methods, else 404.
async fn not_found(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    // Handlers registered with method macros are guarded per method, so a path that exists
    // for GET reaches here on POST; its pattern still matches.
    if let Some(pattern) = req.match_pattern() {
        Err(ApiError::MethodNotAllowed {
            allow: allowed_methods(&pattern),
        })
    } else {
        Err(ApiError::not_found("This address"))
    }
}

/// The methods a route pattern answers, as the `Allow` header of a 405 lists them; taken from
/// the OpenAPI document, which comes from the same registration as the routes.
fn allowed_methods(pattern: &str) -> String {
    static METHODS: OnceLock<HashMap<String, String>> = OnceLock::new();
    let methods = METHODS.get_or_init(|| {
        openapi::document()
            .paths
            .paths
            .into_iter()
            .map(|(path, item)| {
                let methods: Vec<&str> = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter_map(|(name, present)| present.then_some(name))
                .collect();
                (path, methods.join(", "))
            })
            .collect()
    });
    // Routes outside the document (the API explorer) only answer GET.
    methods
        .get(&without_regexes(pattern))
        .cloned()
        .unwrap_or_else(|| "GET".to_string())
}

/// A route pattern as the document names it: `{id:-?[0-9]+}` becomes `{id}`.
fn without_regexes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut in_regex = false;
    let mut depth = 0usize;
    for c in pattern.chars() {
        match c {
            '{' => {
                depth += 1;
                if !in_regex {
                    out.push(c);
                }
            }
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    in_regex = false;
                    out.push(c);
                }
            }
            ':' if depth == 1 => in_regex = true,
            _ if !in_regex => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_405_allows_the_methods_of_the_route() {
        assert_eq!(allowed_methods("/api/v1/users/{id}"), "GET, PATCH");
        assert_eq!(
            allowed_methods("/api/v1/obligations/{id:-?[0-9]+}"),
            "PATCH"
        );
        assert_eq!(without_regexes("/a/{id:[0-9]{2}}/b/{x}"), "/a/{id}/b/{x}");
    }
}
