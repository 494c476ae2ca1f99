//! Logging in (`POST /auth/token`) and `GET /auth/me`.

use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::JsonOrForm;
use crate::auth::policy::Role;
use crate::auth::{password, Principal};
use crate::db::{self, accounts, login_failures};
use crate::domain::account::Username;
use crate::error::{ApiError, Problem};
use crate::startup::AppState;

/// Failed logins allowed per login name within [`LOCKOUT_WINDOW_MINUTES`].
pub const MAX_FAILURES: i64 = 10;
/// The window over which failed logins are counted.
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

/// Login names as typed can be long; failure counts keep a bounded prefix.
fn bounded(s: &str) -> String {
    s.chars().take(64).collect()
}

/// What a login checks: the account's hash, if the login name exists and may log in.
struct LoginTarget {
    key: String,
    subject: Option<(String, Role, Option<String>)>,
    hash: Option<String>,
}

fn lookup(conn: &mut db::DbConnection, request: &TokenRequest) -> Result<LoginTarget, ApiError> {
    Ok(match request {
        TokenRequest::Password { username, .. } => {
            let name = Username::parse(username).ok();
            let key = match &name {
                Some(n) => format!("user:{n}"),
                None => format!("user:{}", bounded(username)),
            };
            let found = match &name {
                Some(n) => accounts::find_login(conn, n.as_str())?,
                None => None,
            };
            match found {
                Some((user, hash)) if !user.disabled => LoginTarget {
                    key,
                    subject: Some((format!("user:{}", user.id), user.role, user.unit)),
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
            let key = format!("client:{}", bounded(client_id));
            match accounts::find_client_login(conn, client_id)? {
                Some(c) if c.revoked_at.is_none() => LoginTarget {
                    key,
                    subject: Some((
                        format!("client:{}", c.client_id),
                        Role::Officer,
                        Some(c.unit_code),
                    )),
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
/// After 10 failed attempts for one login name within 15 minutes, further attempts answer 429
/// with `Retry-After` until the window has passed.
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
        (status = 429, description = "Too many failed attempts for this login name", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/token")]
pub async fn token(
    state: web::Data<AppState>,
    body: JsonOrForm<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner();
    let window = Duration::minutes(LOCKOUT_WINDOW_MINUTES);
    let (request, target) = db::run(&state.pool, move |conn| {
        let target = lookup(conn, &request)?;
        let now = db::now();
        let (failures, oldest) = login_failures::recent(conn, &target.key, now - window)?;
        if failures >= MAX_FAILURES {
            let until = oldest.unwrap_or(now) + window;
            let retry_after = (until - now).num_seconds().max(1) as u64;
            return Err(ApiError::RateLimited { retry_after });
        }
        Ok((request, target))
    })
    .await?;

    let verified = web::block(move || {
        let secret = match &request {
            TokenRequest::Password { password, .. } => password,
            TokenRequest::ClientCredentials { client_secret, .. } => client_secret,
        };
        match &target.hash {
            Some(hash) => password::verify(secret, hash),
            None => {
                // Same work for a name that does not exist, so timing does not tell.
                password::verify_dummy(secret);
                false
            }
        }
    })
    .await?;

    let key = target.key.clone();
    let subject = if verified { target.subject } else { None };
    let Some((sub, role, unit)) = subject else {
        db::run(&state.pool, move |conn| {
            let now = db::now();
            Ok(login_failures::record(conn, &key, now, now - window)?)
        })
        .await?;
        return Err(ApiError::InvalidCredentials);
    };
    db::run(&state.pool, move |conn| {
        Ok(login_failures::clear(conn, &key)?)
    })
    .await?;
    state.accounts.forget(&sub);
    let access_token = state.tokens.issue(sub, role, unit)?;
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
