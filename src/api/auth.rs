//! Logging in (`POST /auth/token`), `GET /auth/me` and a person's own changes, `PATCH /auth/me`.

use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{Json, JsonOrForm};
use super::{double_option, email_change};
use crate::api::client_of;
use crate::auth::policy::Role;
use crate::auth::Principal;
use crate::domain::account::parse_name;
use crate::error::{ApiError, FieldError, Problem};
use crate::service::accounts::{self, Me, ProfileChange};
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
    /// Login name; `null` for API clients.
    pub username: Option<String>,
    /// Name shown to colleagues; `null` for API clients.
    pub display_name: Option<String>,
    /// Where mail for the person goes; `null` when none is set, and for API clients.
    #[schema(format = Email)]
    pub email: Option<String>,
    /// Whether the person gets the periodic digest; `null` for API clients.
    pub notify_digest: Option<bool>,
}

impl From<Me> for MeResponse {
    fn from(caller: Me) -> Self {
        let user = caller.user;
        Self {
            subject: caller.principal.subject,
            role: caller.principal.role,
            unit: caller.principal.unit,
            username: user.as_ref().map(|u| u.username.clone()),
            display_name: user.as_ref().map(|u| u.display_name.clone()),
            email: user.as_ref().and_then(|u| u.email.clone()),
            notify_digest: user.as_ref().map(|u| u.notify_digest),
        }
    }
}

/// Changes a person makes to their own account; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// New e-mail address; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Email, max_length = 254, example = "nguyen.van.a@sokhcn.gov.vn")]
    pub email: Option<Option<String>>,
    /// Digest on or off.
    pub notify_digest: Option<bool>,
    /// New display name, at most 200 characters.
    #[schema(max_length = 200, example = "Nguyễn Văn A")]
    pub display_name: Option<String>,
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
    let address = client_of(&req, &state.settings.trusted_proxies);
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
pub async fn me(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<MeResponse>, ApiError> {
    let caller = accounts::me(&state, principal).await?;
    Ok(web::Json(caller.into()))
}

/// Change my own e-mail address, digest setting or display name.
///
/// For people logged in with a password, whatever their role; an API client has no account
/// of its own to change (403). The caller's tokens keep working.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "The caller, changed", body = MeResponse),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/auth/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<UpdateMeRequest>,
) -> Result<web::Json<MeResponse>, ApiError> {
    // Before the body is looked at: a client learns nothing from its fields.
    principal.require_person()?;
    let req = body.into_inner();
    let mut errors = Vec::new();
    let email = email_change(req.email)
        .map_err(|why| errors.push(FieldError::new("email", why)))
        .ok()
        .flatten();
    let display_name = req
        .display_name
        .as_deref()
        .map(|n| parse_name(n, 200))
        .transpose()
        .map_err(|why| errors.push(FieldError::new("display_name", why)))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let change = ProfileChange {
        email,
        notify_digest: req.notify_digest,
        display_name,
    };
    let caller = accounts::change_own_profile(&state, principal, change).await?;
    Ok(web::Json(caller.into()))
}
