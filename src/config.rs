//! Settings, read from the environment.

use std::fmt;

use anyhow::{bail, Context};

use crate::domain::content::web_url;

/// Where the service runs; production is strict about secrets and logs JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Local work: readable logs, a random JWT secret if none is given.
    Development,
    /// A real deployment: JSON logs, a JWT secret is required.
    Production,
}

impl Environment {
    fn parse(s: &str) -> anyhow::Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "development" | "dev" => Ok(Self::Development),
            "production" | "prod" => Ok(Self::Production),
            other => bail!("PORTAL_ENV must be development or production, not {other:?}"),
        }
    }
}

/// A value that must never reach a log: its `Debug` prints a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Shortest JWT secret accepted: HS256 wants at least 256 bits of key.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// Everything the service is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `sqlite://PATH` or `postgres://...`.
    pub database_url: String,
    /// Address to listen on, `host:port`; port 0 picks a free one.
    pub addr: String,
    /// Development or production.
    pub environment: Environment,
    /// Signing key for access tokens, if given.
    pub jwt_secret: Option<Secret>,
    /// Largest number of pooled database connections.
    pub db_pool_size: u32,
    /// HTTP worker threads; `None` for one per core.
    pub workers: Option<usize>,
    /// Lifetime of access tokens, in seconds.
    pub token_ttl_seconds: i64,
    /// Password of the first `admin` account, created when there is no user.
    pub admin_password: Option<Secret>,
    /// Working days to answer a question when a new category names none.
    pub default_answer_days: i32,
    /// Questions one client address may ask per minute, per instance.
    pub questions_per_minute: usize,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Web origins allowed to call the API from a browser (`*` for any); none by default.
    pub cors_origins: Vec<String>,
    /// Seconds to finish requests in flight after SIGTERM.
    pub shutdown_seconds: u64,
    /// Open client connections the instance serves at once; more wait to be accepted.
    pub max_connections: usize,
    /// How long public article pages are reused (zero: not at all).
    pub public_cache: std::time::Duration,
    /// Passwords checked or hashed at once; further requests wait [`Settings::login_wait`].
    pub login_concurrency: usize,
    /// How long a login waits for a free password check before it is answered 503.
    pub login_wait: std::time::Duration,
    /// Failed logins one client address may make, over all login names, per 15 minutes.
    pub login_failures_per_address: i64,
    /// Where the portal's public pages are: relative links in bodies are made absolute
    /// against it.
    pub public_base_url: url::Url,
    /// Whether webhooks may reach loopback, private, link-local and unique-local addresses.
    pub webhook_allow_private: bool,
    /// Seconds before each retry of a failed webhook delivery.
    pub webhook_retry_seconds: Vec<u64>,
    /// Webhook deliveries in flight at once, per instance.
    pub webhook_concurrency: usize,
    /// Where mail goes: an SMTP server, or `.eml` files in a folder.
    pub mail: MailSettings,
    /// Folder whose template files replace the embedded ones (`PORTAL_TEMPLATE_DIR`).
    pub template_dir: Option<std::path::PathBuf>,
    /// A fixed "now" for the clock-dependent rules (deadlines, overdue). Tests set it; it is
    /// deliberately not read from the environment.
    pub fixed_now: Option<chrono::NaiveDateTime>,
}

/// How mail is sent and what its links look like.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `smtp://user:pass@host:587` (STARTTLS), `smtps://…:465` (TLS), `smtp://host:port?tls=none`;
    /// `None`: messages are written to [`MailSettings::dir`] instead.
    pub smtp_url: Option<Secret>,
    /// The sender, `Cổng TTĐT <no-reply@example.vn>` or a bare address.
    pub from: String,
    /// Where messages are written as `.eml` files when no SMTP server is set.
    pub dir: std::path::PathBuf,
    /// The link to a question's tracking page: `{base}`, `{code}` and `{key}` are filled in.
    pub tracking_url_template: String,
}

/// Default sender of mail.
pub const DEFAULT_MAIL_FROM: &str = "Cổng TTĐT <no-reply@localhost>";
/// Default folder of written messages.
pub const DEFAULT_MAIL_DIR: &str = "data/mail";
/// Default link to a question's tracking page.
pub const DEFAULT_TRACKING_URL_TEMPLATE: &str = "{base}/tra-cuu/{code}?key={key}";

/// Default database: a SQLite file beside the working folder.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/portal.db";
/// Default listen address.
pub const DEFAULT_ADDR: &str = "0.0.0.0:8080";
/// Default address of the public pages.
pub const DEFAULT_PUBLIC_BASE_URL: &str = "http://localhost:8080";

impl Settings {
    /// The clock the service reads: fixed when `fixed_now` is set (tests), else the system's.
    pub fn clock(&self) -> crate::clock::Clock {
        crate::clock::Clock::fixed_or_system(self.fixed_now)
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads the settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());
        let environment = match get("PORTAL_ENV") {
            Some(v) => Environment::parse(&v)?,
            None => Environment::Development,
        };
        let jwt_secret = get("PORTAL_JWT_SECRET").map(Secret::new);
        match (&jwt_secret, environment) {
            (None, Environment::Production) => bail!(
                "PORTAL_JWT_SECRET is required when PORTAL_ENV=production \
                 (a random string of at least {MIN_JWT_SECRET_BYTES} bytes)"
            ),
            // A short key is as weak on a test server as in production, and tokens signed with
            // it there may be taken to one that shares it.
            (Some(s), _) if s.expose().len() < MIN_JWT_SECRET_BYTES => bail!(
                "PORTAL_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes long (it has {}); \
                 leave it unset in development for a random one",
                s.expose().len()
            ),
            _ => {}
        }
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        let default_pool = if database_url.starts_with("sqlite") {
            8
        } else {
            16
        };
        let db_pool_size = match get("PORTAL_DB_POOL_SIZE") {
            Some(v) => number(&v, "PORTAL_DB_POOL_SIZE", 1, 512)?,
            None => default_pool,
        };
        let workers = match get("PORTAL_WORKERS") {
            Some(v) => Some(number(&v, "PORTAL_WORKERS", 1, 256)?),
            None => None,
        };
        let token_ttl_seconds = match get("PORTAL_TOKEN_TTL_SECONDS") {
            Some(v) => number(&v, "PORTAL_TOKEN_TTL_SECONDS", 60, 86_400)?,
            None => 900,
        };
        let default_answer_days = match get("PORTAL_DEFAULT_ANSWER_DAYS") {
            Some(v) => number(&v, "PORTAL_DEFAULT_ANSWER_DAYS", 1, 365)?,
            None => 15,
        };
        let admin_password = get("PORTAL_ADMIN_PASSWORD").map(Secret::new);
        let questions_per_minute = match get("PORTAL_QUESTIONS_PER_MINUTE") {
            Some(v) => number(&v, "PORTAL_QUESTIONS_PER_MINUTE", 1, 1_000_000)?,
            None => 10,
        };
        let trusted_proxies = match get("PORTAL_TRUSTED_PROXIES") {
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse().with_context(|| {
                        format!("PORTAL_TRUSTED_PROXIES: {s:?} is not an IP address")
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        let public_base_url = web_url(
            &get("PORTAL_PUBLIC_BASE_URL").unwrap_or_else(|| DEFAULT_PUBLIC_BASE_URL.into()),
        )
        .map_err(|why| anyhow::anyhow!("PORTAL_PUBLIC_BASE_URL {why}"))?;
        Ok(Self {
            database_url,
            addr: get("PORTAL_ADDR").unwrap_or_else(|| DEFAULT_ADDR.into()),
            environment,
            jwt_secret,
            db_pool_size,
            workers,
            token_ttl_seconds,
            admin_password,
            default_answer_days,
            questions_per_minute,
            trusted_proxies,
            cors_origins: get("PORTAL_CORS_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|o| o.trim().trim_end_matches('/').to_string())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            shutdown_seconds: match get("PORTAL_SHUTDOWN_SECONDS") {
                Some(v) => number(&v, "PORTAL_SHUTDOWN_SECONDS", 0, 3600)?,
                None => 30,
            },
            max_connections: match get("PORTAL_MAX_CONNECTIONS") {
                Some(v) => number(&v, "PORTAL_MAX_CONNECTIONS", 1, 1_000_000)?,
                None => 4096,
            },
            public_cache: std::time::Duration::from_millis(match get("PORTAL_PUBLIC_CACHE_MS") {
                Some(v) => number(&v, "PORTAL_PUBLIC_CACHE_MS", 0, 60_000)?,
                None => 1000,
            }),
            login_concurrency: match get("PORTAL_LOGIN_CONCURRENCY") {
                Some(v) => number(&v, "PORTAL_LOGIN_CONCURRENCY", 1, 256)?,
                None => {
                    2 * std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
                }
            },
            login_wait: std::time::Duration::from_millis(match get("PORTAL_LOGIN_WAIT_MS") {
                Some(v) => number(&v, "PORTAL_LOGIN_WAIT_MS", 0, 30_000)?,
                None => 1000,
            }),
            login_failures_per_address: match get("PORTAL_LOGIN_FAILURES_PER_ADDRESS") {
                Some(v) => number(&v, "PORTAL_LOGIN_FAILURES_PER_ADDRESS", 1, 1_000_000)?,
                None => 30,
            },
            public_base_url,
            webhook_allow_private: match get("PORTAL_WEBHOOK_ALLOW_PRIVATE") {
                Some(v) => flag(&v, "PORTAL_WEBHOOK_ALLOW_PRIVATE")?,
                None => false,
            },
            webhook_retry_seconds: match get("PORTAL_WEBHOOK_RETRY_SECONDS") {
                Some(v) => crate::domain::webhook::parse_retry_schedule(&v).ok_or_else(|| {
                    anyhow::anyhow!(
                        "PORTAL_WEBHOOK_RETRY_SECONDS must be 1 to 20 comma-separated numbers of \
                         seconds, each at most a week (got {v:?})"
                    )
                })?,
                None => crate::domain::webhook::DEFAULT_RETRY_SECONDS.to_vec(),
            },
            webhook_concurrency: match get("PORTAL_WEBHOOK_CONCURRENCY") {
                Some(v) => number(&v, "PORTAL_WEBHOOK_CONCURRENCY", 1, 1024)?,
                None => 64,
            },
            mail: MailSettings {
                smtp_url: match get("PORTAL_SMTP_URL") {
                    Some(v) => {
                        crate::domain::mail::SmtpTarget::parse(&v)
                            .map_err(|why| anyhow::anyhow!("PORTAL_SMTP_URL {why}"))?;
                        Some(Secret::new(v.trim()))
                    }
                    None => None,
                },
                from: {
                    let from = get("PORTAL_MAIL_FROM").unwrap_or_else(|| DEFAULT_MAIL_FROM.into());
                    crate::domain::mail::parse_mailbox(&from)
                        .map_err(|why| anyhow::anyhow!("PORTAL_MAIL_FROM {why} (got {from:?})"))?;
                    from.trim().to_string()
                },
                dir: get("PORTAL_MAIL_DIR")
                    .unwrap_or_else(|| DEFAULT_MAIL_DIR.into())
                    .into(),
                tracking_url_template: {
                    let t = get("PORTAL_TRACKING_URL_TEMPLATE")
                        .unwrap_or_else(|| DEFAULT_TRACKING_URL_TEMPLATE.into());
                    if !t.contains("{code}") {
                        bail!("PORTAL_TRACKING_URL_TEMPLATE must contain {{code}} (got {t:?})");
                    }
                    t.trim().to_string()
                },
            },
            template_dir: get("PORTAL_TEMPLATE_DIR").map(Into::into),
            fixed_now: None,
        })
    }
}

fn flag(value: &str, name: &str) -> anyhow::Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => bail!("{name} must be true or false (got {value:?})"),
    }
}

fn number<T>(value: &str, name: &str, min: T, max: T) -> anyhow::Result<T>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    value
        .trim()
        .parse::<T>()
        .ok()
        .filter(|n| *n >= min && *n <= max)
        .with_context(|| format!("{name} must be a whole number from {min} to {max}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_configuration() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(s.addr, DEFAULT_ADDR);
        assert_eq!(s.environment, Environment::Development);
        assert!(s.jwt_secret.is_none());
        assert_eq!(s.public_base_url.as_str(), "http://localhost:8080/");
    }

    #[test]
    fn the_public_base_url_is_kept_in_normal_form() {
        let s = settings(&[("PORTAL_PUBLIC_BASE_URL", " HTTPS://Cong.Example.VN/tin/ ")]).unwrap();
        assert_eq!(s.public_base_url.as_str(), "https://cong.example.vn/tin/");
    }

    #[test]
    fn a_public_base_url_that_is_not_a_web_address_is_refused_with_the_variable_named() {
        for bad in [
            "cong.example.vn",
            "ftp://cong.example.vn",
            "https://",
            "file:///srv/www",
            "https://user:pw@cong.example.vn",
            "https://cong example.vn",
        ] {
            let err = settings(&[("PORTAL_PUBLIC_BASE_URL", bad)]).unwrap_err();
            assert!(
                err.to_string().starts_with("PORTAL_PUBLIC_BASE_URL must"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn production_refuses_to_start_without_a_jwt_secret() {
        let err = settings(&[("PORTAL_ENV", "production")]).unwrap_err();
        assert!(err.to_string().contains("PORTAL_JWT_SECRET"));
    }

    #[test]
    fn a_short_jwt_secret_is_refused_in_every_environment() {
        for environment in ["production", "development"] {
            let err = settings(&[
                ("PORTAL_ENV", environment),
                ("PORTAL_JWT_SECRET", &"k".repeat(31)),
            ])
            .unwrap_err()
            .to_string();
            assert!(err.contains("PORTAL_JWT_SECRET"), "{environment}: {err}");
            assert!(err.contains("at least 32 bytes"), "{environment}: {err}");
            let ok = settings(&[
                ("PORTAL_ENV", environment),
                ("PORTAL_JWT_SECRET", &"k".repeat(32)),
            ]);
            assert!(ok.is_ok(), "{environment}");
        }
        let err = settings(&[("PORTAL_JWT_SECRET", "short")]).unwrap_err();
        assert!(err.to_string().contains("PORTAL_JWT_SECRET"), "{err}");
    }

    #[test]
    fn development_without_a_jwt_secret_starts() {
        let s = settings(&[("PORTAL_ENV", "development")]).unwrap();
        assert!(s.jwt_secret.is_none());
        // Blank counts as unset, as compose files pass `${PORTAL_JWT_SECRET:-}`.
        let s = settings(&[("PORTAL_JWT_SECRET", "  ")]).unwrap();
        assert!(s.jwt_secret.is_none());
    }

    #[test]
    fn bad_numbers_are_refused_with_the_variable_named() {
        let err = settings(&[("PORTAL_DB_POOL_SIZE", "lots")]).unwrap_err();
        assert!(err.to_string().contains("PORTAL_DB_POOL_SIZE"));
        let err = settings(&[("PORTAL_ENV", "staging")]).unwrap_err();
        assert!(err.to_string().contains("PORTAL_ENV"));
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let secret = "super-secret-value-of-32-bytes-or-more";
        let s = settings(&[("PORTAL_JWT_SECRET", secret)]).unwrap();
        assert!(!format!("{s:?}").contains(secret));
    }
}
