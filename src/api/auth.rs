//! Logging in (`POST /auth/token`) and `GET /auth/me`.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::JsonOrForm;
use crate::auth::accounts::{address_login_key, client_login_key, user_login_key};
use crate::auth::policy::Role;
use crate::auth::{password, Principal};
use crate::db::{self, accounts, login_failures};
use crate::domain::account::Username;
use crate::error::{ApiError, Problem};
use crate::ratelimit::client_address;
use crate::state::AppState;

/// Login attempts allowed per login name within [`LOCKOUT_WINDOW_MINUTES`].
pub const MAX_FAILURES: i64 = 10;
/// The window over which login attempts are counted.
pub const LOCKOUT_WINDOW_MINUTES: i64 = 15;

/// A token request: a person's username and password, or an agency portal's client credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "grant_type", rename_all = "snake_case")]
pub enum TokenRequest {
    /// A person logs in.
    Password {
        /// Login name.
        username: String,
        /// Password.
        password: String,
    },
    /// An agency portal logs in as its unit's officer.
    ClientCredentials {
        /// The client's public id.
        client_id: String,
        /// The secret shown when the client was created.
        client_secret: String,
    },
}

/// An access token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
}

/// Who the caller is.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    /// `user:<id>` or `client:<client_id>`.
    pub subject: String,
    /// Role; API clients are officers.
    pub role: Role,
    /// The unit, for officers and API clients.
    pub unit: Option<String>,
}

/// Login names as typed can be long; attempt counts keep a bounded prefix.
fn bounded(s: &str) -> String {
    s.chars().take(64).collect()
}

/// Who a login would be, if its credentials verify.
struct LoginSubject {
    sub: String,
    role: Role,
    unit: Option<String>,
    credentials_version: i32,
}

/// What a login checks: the account's hash, if the login name exists and may log in.
struct LoginTarget {
    key: String,
    subject: Option<LoginSubject>,
    hash: Option<String>,
}

fn lookup(conn: &mut db::DbConnection, request: &TokenRequest) -> Result<LoginTarget, ApiError> {
    Ok(match request {
        TokenRequest::Password { username, .. } => {
            let name = Username::parse(username).ok();
            let key = match &name {
                Some(n) => user_login_key(n.as_str()),
                None => user_login_key(&bounded(username)),
            };
            let found = match &name {
                Some(n) => accounts::find_login(conn, n.as_str())?,
                None => None,
            };
            match found {
                Some((user, hash)) if !user.disabled => LoginTarget {
                    key,
                    subject: Some(LoginSubject {
                        sub: format!("user:{}", user.id),
                        role: user.role,
                        unit: user.unit,
                        credentials_version: user.credentials_version,
                    }),
                    hash: Some(hash),
                },
                _ => LoginTarget {
                    key,
                    subject: None,
                    hash: None,
                },
            }
        }
        TokenRequest::ClientCredentials { client_id, .. } => {
            let key = client_login_key(&bounded(client_id));
            match accounts::find_client_login(conn, client_id)? {
                Some(c) if c.revoked_at.is_none() => LoginTarget {
                    key,
                    subject: Some(LoginSubject {
                        sub: format!("client:{}", c.client_id),
                        role: Role::Officer,
                        unit: Some(c.unit_code),
                        credentials_version: c.credentials_version,
                    }),
                    hash: Some(c.secret_hash),
                },
                _ => LoginTarget {
                    key,
                    subject: None,
                    hash: None,
                },
            }
        }
    })
}

/// Get an access token.
///
/// `grant_type=password` for people, `grant_type=client_credentials` for agency portals
/// (which act as an officer of their unit). The body may be JSON or an HTML form.
///
/// Every attempt is counted before its password is checked. After 10 attempts for one login
/// name within 15 minutes (a successful login starts the count again), and after
/// `PORTAL_LOGIN_FAILURES_PER_ADDRESS` failed attempts from one client address, further
/// attempts answer 429 with `Retry-After` until the oldest has left the window. When every
/// password check is busy for longer than `PORTAL_LOGIN_WAIT_MS`, the answer is 503 with
/// `Retry-After`.
#[utoipa::path(
    tag = "auth",
    request_body(
        content(
            (TokenRequest = "application/json"),
            (TokenRequest = "application/x-www-form-urlencoded"),
        ),
    ),
    responses(
        (status = 200, description = "A token", body = TokenResponse),
        (status = 401, description = "Wrong credentials, or a disabled or revoked account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A missing field or unknown grant_type", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts for this login name, or failed attempts from this address", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "Too many logins are being checked at once", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/token")]
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonOrForm<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner();
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let address = client_address(
        req.peer_addr().map(|a| a.ip()),
        forwarded,
        &state.settings.trusted_proxies,
    )
    .map(address_login_key);
    let limits = login_failures::Limits {
        window: Duration::minutes(LOCKOUT_WINDOW_MINUTES),
        per_login: MAX_FAILURES,
        per_address: state.settings.login_failures_per_address,
    };
    let (request, target, attempt) = state
        .read(move |conn| {
            let target = lookup(conn, &request)?;
            let attempt =
                login_failures::admit(conn, &target.key, address.as_deref(), db::now(), limits)?
                    .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
            Ok((request, target, attempt))
        })
        .await?;

    let hash = target.hash;
    let checked = state
        .passwords
        .run(move || {
            let secret = match &request {
                TokenRequest::Password { password, .. } => password,
                TokenRequest::ClientCredentials { client_secret, .. } => client_secret,
            };
            match &hash {
                Some(hash) => password::verify(secret, hash),
                None => {
                    // Same work for a name that does not exist, so timing does not tell.
                    password::verify_dummy(secret);
                    false
                }
            }
        })
        .await;
    let verified = match checked {
        Ok(verified) => verified,
        Err(busy) => {
            state
                .read(move |conn| Ok(login_failures::withdraw(conn, attempt)?))
                .await?;
            return Err(busy.into());
        }
    };
    let subject = if verified { target.subject } else { None };
    let Some(subject) = subject else {
        return Err(ApiError::InvalidCredentials);
    };
    let key = target.key;
    state
        .read(move |conn| Ok(login_failures::succeeded(conn, &key, attempt)?))
        .await?;
    state.accounts.forget(&subject.sub);
    let access_token = state.tokens.issue(
        subject.sub,
        subject.role,
        subject.unit,
        subject.credentials_version,
    )?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: state.tokens.ttl_seconds,
        }))
}

/// Who am I.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller", body = MeResponse))
)]
#[get("/auth/me")]
pub async fn me(principal: Principal) -> web::Json<MeResponse> {
    web::Json(MeResponse {
        subject: principal.subject,
        role: principal.role,
        unit: principal.unit,
    })
}
