//! User accounts: admin only.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{Json, Query};
use super::{double_option, email_change, split_page, Cursor, Page};
use crate::auth::password;
use crate::auth::policy::{Action, Role};
use crate::auth::Principal;
use crate::domain::account::{parse_name, UserId, Username};
use crate::domain::question::Email;
use crate::error::{ApiError, FieldError};
use crate::service::accounts::{self, AccountChange, NewAccount, User, UserFilter};
use crate::state::AppState;

/// A new user account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// Login name: 3–64 characters of a-z, 0-9, `.`, `_`, `-`, `@`; stored in lower case.
    #[schema(example = "nguyen.van.a")]
    pub username: String,
    /// At least 10 characters.
    #[schema(example = "a long passphrase")]
    pub password: String,
    /// Role.
    pub role: Role,
    /// Unit code: required for officers.
    #[schema(example = "so-khcn")]
    pub unit: Option<String>,
    /// Name shown to colleagues.
    #[schema(example = "Nguyễn Văn A")]
    pub display_name: Option<String>,
    /// Where mail for the person goes; none when absent or `null`.
    #[schema(format = Email, max_length = 254, example = "nguyen.van.a@sokhcn.gov.vn")]
    pub email: Option<String>,
    /// Whether the person gets the periodic digest (default `true`).
    #[serde(default = "digest_default")]
    #[schema(default = true)]
    pub notify_digest: bool,
}

fn digest_default() -> bool {
    true
}

/// Changes to a user account; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    /// New role.
    pub role: Option<Role>,
    /// New unit; `null` removes it (not for officers).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub unit: Option<Option<String>>,
    /// New display name.
    pub display_name: Option<String>,
    /// `true` disables the account: it cannot log in, and its tokens stop working.
    pub disabled: Option<bool>,
    /// A new password (a reset), at least 10 characters.
    pub password: Option<String>,
    /// New e-mail address; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    pub email: Option<Option<String>>,
    /// Digest on or off.
    pub notify_digest: Option<bool>,
}

/// A user account (never its password).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    /// Identifier.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Unit, for officers.
    pub unit: Option<String>,
    /// Display name.
    pub display_name: String,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// Where mail for the person goes.
    #[schema(format = Email)]
    pub email: Option<String>,
    /// Whether the person gets the periodic digest.
    pub notify_digest: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserResponse {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            username: u.username,
            role: u.role,
            unit: u.unit,
            display_name: u.display_name,
            disabled: u.disabled,
            email: u.email,
            notify_digest: u.notify_digest,
            created_at: u.created_at.and_utc(),
            updated_at: u.updated_at.and_utc(),
        }
    }
}

/// Filters and page of the user list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Only this role.
    pub role: Option<Role>,
    /// Only this unit.
    pub unit: Option<String>,
    /// Only disabled (`true`) or enabled (`false`) accounts.
    pub disabled: Option<bool>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Create a user account.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = UserResponse),
        (status = 409, description = "The username is taken", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Action::ManageUsers)?;
    let req = body.into_inner();
    let mut errors = Vec::new();
    let username = Username::parse(&req.username)
        .map_err(|why| errors.push(FieldError::new("username", why)))
        .ok();
    if let Err(why) = password::check_rules(&req.password) {
        errors.push(FieldError::new("password", why));
    }
    let display_name = match req.display_name.as_deref().map(|n| parse_name(n, 200)) {
        Some(Err(why)) => {
            errors.push(FieldError::new("display_name", why));
            None
        }
        Some(Ok(n)) => Some(n),
        None => None,
    };
    let email = match req.email.as_deref().map(Email::parse) {
        Some(Err(why)) => {
            errors.push(FieldError::new("email", why));
            None
        }
        Some(Ok(e)) => Some(e),
        None => None,
    };
    let (Some(username), true) = (username, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let account = NewAccount {
        username,
        role: req.role,
        unit: req.unit,
        display_name,
        email,
        notify_digest: req.notify_digest,
    };
    let user = accounts::create_user(&state, account, req.password).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/users/{}", user.id)))
        .json(UserResponse::from(user)))
}

/// List user accounts, by username.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    params(UserQuery),
    responses((status = 200, description = "A page of users", body = Page<UserResponse>))
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<UserQuery>,
) -> Result<web::Json<Page<UserResponse>>, ApiError> {
    principal.require(Action::ManageUsers)?;
    let query = query.into_inner();
    let limit = super::page_limit(query.limit)?;
    let after = query.cursor.as_deref().map(Cursor::decode).transpose()?;
    let filter = UserFilter {
        role: query.role,
        unit: query.unit,
        disabled: query.disabled,
    };
    let after = after.map(|c| c.as_str().to_string());
    let mut users = accounts::list_users(&state, filter, after, limit).await?;
    let next = split_page(&mut users, limit, |last| Cursor::encode(&last.username));
    Ok(web::Json(Page {
        items: users.into_iter().map(UserResponse::from).collect(),
        next_cursor: next,
    }))
}

/// Get a user account.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, description = "The user", body = UserResponse))
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<UserResponse>, ApiError> {
    principal.require(Action::ManageUsers)?;
    let user = accounts::get_user(&state, UserId::new(id.into_inner())).await?;
    Ok(web::Json(user.into()))
}

/// Change a user account: role, unit, display name, e-mail address and digest, disable or
/// enable, reset the password.
///
/// A password reset, a disable, and a role or unit change end every token issued before it
/// (enabling the account again does not bring them back); a password reset also lifts a
/// lockout. The last enabled admin can be neither disabled nor demoted (409).
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The changed user", body = UserResponse),
        (status = 409, description = "It would leave no enabled admin", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<UpdateUserRequest>,
) -> Result<web::Json<UserResponse>, ApiError> {
    principal.require(Action::ManageUsers)?;
    let req = body.into_inner();
    let display_name = req
        .display_name
        .as_deref()
        .map(|n| parse_name(n, 200).map_err(|why| ApiError::invalid_field("display_name", why)))
        .transpose()?;
    let email = email_change(req.email).map_err(|why| ApiError::invalid_field("email", why))?;
    if let Some(p) = &req.password {
        password::check_rules(p).map_err(|why| ApiError::invalid_field("password", why))?;
    }
    let change = AccountChange {
        role: req.role,
        unit: req.unit,
        display_name,
        disabled: req.disabled,
        password: req.password,
        email,
        notify_digest: req.notify_digest,
    };
    let user = accounts::change_user(&state, UserId::new(id.into_inner()), change).await?;
    Ok(web::Json(user.into()))
}

/// Lift a user's login lockout.
///
/// Forgets the failed logins counted for the user's login name, so the user may log in again
/// at once instead of waiting for the 15-minute window to pass. Failed logins counted for a
/// client address are not affected.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 204, description = "Unlocked"))
)]
#[post("/users/{id}/unlock")]
pub async fn unlock_user(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Action::ManageUsers)?;
    accounts::unlock_user(&state, UserId::new(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}
