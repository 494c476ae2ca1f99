//! Logging in (`POST /auth/token`) and `GET /auth/me`.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::JsonOrForm;
use crate::auth::policy::Role;
use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use crate::ratelimit::client_address;
use crate::service::login::{self, Credentials};
use crate::state::AppState;

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

impl From<TokenRequest> for Credentials {
    fn from(request: TokenRequest) -> Self {
        match request {
            TokenRequest::Password { username, password } => Self::Password { username, password },
            TokenRequest::ClientCredentials {
                client_id,
                client_secret,
            } => Self::Client {
                client_id,
                client_secret,
            },
        }
    }
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
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let address = client_address(
        req.peer_addr().map(|a| a.ip()),
        forwarded,
        &state.settings.trusted_proxies,
    );
    let token = login::login(&state, body.into_inner().into(), address).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(TokenResponse {
            access_token: token.access_token,
            token_type: "Bearer",
            expires_in: token.expires_in,
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
