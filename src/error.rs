//! One error type for the whole API, answered as RFC 9457 problem details.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::invalid::Invalid;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One rejected input field.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as named in the request (dotted for nested fields).
    pub field: String,
    /// Stable machine-readable reason: `required`, `too_long`, `too_short`, `invalid_email`,
    /// `invalid_phone`, `out_of_range`, `unknown_field`, `invalid_type`, `invalid`, …
    #[schema(example = "too_long")]
    pub code: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// A rejected field with why: an [`Invalid`] keeps its code, a bare message is `invalid`.
    pub fn new(field: impl Into<String>, why: impl Into<Invalid>) -> Self {
        let why = why.into();
        Self {
            field: field.into(),
            code: why.code.to_string(),
            message: why.message.into_owned(),
        }
    }

    /// A rejected field with an explicit code.
    pub fn coded(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// Every field error of a `validator` check, sorted by field, each with its code and message.
/// The rejected values (which `validator` copies into its errors) are dropped here.
pub fn validation_errors(errors: validator::ValidationErrors) -> Vec<FieldError> {
    fn collect(prefix: &str, errors: validator::ValidationErrors, out: &mut Vec<FieldError>) {
        use validator::ValidationErrorsKind as Kind;
        for (name, kind) in errors.into_errors() {
            let field = if name == "__all__" {
                prefix.to_string()
            } else if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}.{name}")
            };
            match kind {
                Kind::Field(list) => out.extend(list.into_iter().map(|e| {
                    let message = e
                        .message
                        .map(|m| m.into_owned())
                        .unwrap_or_else(|| format!("is not valid ({})", e.code));
                    FieldError::coded(field.clone(), &e.code, message)
                })),
                Kind::Struct(inner) => collect(&field, *inner, out),
                Kind::List(items) => {
                    for (i, inner) in items {
                        collect(&format!("{field}[{i}]"), *inner, out);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    collect("", errors, &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field).then_with(|| a.code.cmp(&b.code)));
    out
}

/// Turns a refusal of the domain into a field error.
pub fn field(name: &str) -> impl Fn(Invalid) -> FieldError + '_ {
    move |why| FieldError::new(name, why)
}

/// RFC 9457 problem details, as every error answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    #[schema(example = "urn:portal-api:problem:not_found")]
    pub problem_type: String,
    /// Short summary of the kind of problem.
    #[schema(example = "Not Found")]
    pub title: String,
    /// The HTTP status.
    #[schema(example = 404)]
    pub status: u16,
    /// What went wrong in this occurrence.
    pub detail: String,
    /// Stable machine-readable identifier of the kind of problem.
    #[schema(example = "not_found")]
    pub code: String,
    /// The rejected fields, for `validation_failed` and `invalid_parameter`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(nullable = false)]
    pub errors: Vec<FieldError>,
    /// For `invalid_transition`: the actions the caller could take instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub allowed_actions: Option<Vec<String>>,
}

/// Everything a request can fail with. Each variant has a stable `code`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Input that parsed but broke a rule (422).
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// A body that is not JSON at all (400).
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// A request that cannot be read (400).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A query or path parameter that cannot be read (400).
    #[error("invalid parameter {}: {}", .0.field, .0.message)]
    InvalidParameter(FieldError),
    /// A body of the wrong media type (415).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// A body over the size limit (413).
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    /// No credentials, or a token that is invalid, expired, or whose account is gone (401).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// A login with a wrong username, password, client id or secret (401).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Authenticated, but the role may not do this (403).
    #[error("forbidden")]
    Forbidden,
    /// The request conflicts with the current state, e.g. a taken name (409).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The workflow does not allow this action from the current status (409).
    #[error("invalid transition")]
    InvalidTransition {
        /// The current status.
        status: String,
        /// The action asked for.
        action: String,
        /// What the caller could do instead.
        allowed: Vec<String>,
    },
    /// A change needs `If-Match` with the current ETag (428).
    #[error("precondition required")]
    PreconditionRequired,
    /// `If-Match` names an older version (412).
    #[error("precondition failed")]
    PreconditionFailed,
    /// An idempotency key reused with another request body (422).
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// Too many attempts; try again after the given number of seconds (429).
    #[error("rate limited")]
    RateLimited { retry_after: u64 },
    /// Nothing here, or nothing the caller may see (404).
    #[error("not found: {0}")]
    NotFound(String),
    /// The route exists but not with this method (405); `allow` lists the methods it has.
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    /// The database cannot be reached (503).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Every password-checking thread stayed busy; try again after the given seconds (503).
    #[error("overloaded")]
    Overloaded { retry_after: u64 },
    /// A failure inside the service; the cause is logged, never answered (500).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// The stable identifier answered as `code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::MalformedJson(_) => "malformed_json",
            Self::BadRequest(_) => "bad_request",
            Self::InvalidParameter(_) => "invalid_parameter",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::Unauthorized(_) => "unauthorized",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Forbidden => "forbidden",
            Self::Conflict(_) => "conflict",
            Self::RateLimited { .. } => "rate_limited",
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::PreconditionRequired => "precondition_required",
            Self::PreconditionFailed => "precondition_failed",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Unavailable(_) | Self::Overloaded { .. } => "service_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    /// A 404 with a detail naming what was looked for.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    /// A 422 for one field.
    pub fn invalid_field(field: impl Into<String>, why: impl Into<Invalid>) -> Self {
        Self::Validation(vec![FieldError::new(field, why)])
    }

    fn detail(&self) -> String {
        match self {
            Self::Validation(errors) if errors.len() == 1 => {
                format!("{}: {}", errors[0].field, errors[0].message)
            }
            Self::Validation(errors) => format!("{} fields are invalid", errors.len()),
            Self::MalformedJson(msg) => format!("The body is not valid JSON: {msg}"),
            Self::BadRequest(msg) => msg.clone(),
            Self::InvalidParameter(e) => format!("Parameter {}: {}", e.field, e.message),
            Self::UnsupportedMediaType => {
                "The body must be sent as application/json (Content-Type header)".into()
            }
            Self::PayloadTooLarge { limit } => {
                format!("The body is larger than the limit of {limit} bytes")
            }
            Self::Unauthorized(why) => why.clone(),
            Self::InvalidCredentials => "The credentials are not valid".into(),
            Self::Forbidden => "Your role does not allow this action".into(),
            Self::Conflict(why) => why.clone(),
            Self::RateLimited { retry_after } => {
                format!("Too many attempts; try again in {retry_after} seconds")
            }
            Self::InvalidTransition {
                status,
                action,
                allowed,
            } => {
                if allowed.is_empty() {
                    format!("'{action}' is not possible while the item is {status}; nothing is")
                } else {
                    format!(
                        "'{action}' is not possible while the item is {status}; possible: {}",
                        allowed.join(", ")
                    )
                }
            }
            Self::PreconditionRequired => {
                "Send If-Match with the item's current ETag, so that no change is lost".into()
            }
            Self::PreconditionFailed => {
                "The item changed since you read it: read it again and redo your change".into()
            }
            Self::IdempotencyKeyReused => {
                "This Idempotency-Key was used with a different request body".into()
            }
            Self::NotFound(what) => format!("{what} was not found"),
            Self::MethodNotAllowed { .. } => "This method is not allowed on this resource".into(),
            Self::Unavailable(what) => what.clone(),
            Self::Overloaded { retry_after } => format!(
                "Too many logins are being checked at once; try again in {retry_after} seconds"
            ),
            Self::Internal(_) => {
                "The service could not complete the request; it has been logged".into()
            }
        }
    }

    /// Logs what the answer does not say: an internal error's cause chain, an outage.
    pub fn log(&self) {
        match self {
            // The cause chain goes to the log only: it can name tables, paths or hosts.
            Self::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error")
            }
            Self::Unavailable(what) => tracing::warn!(detail = %what, "service unavailable"),
            _ => {}
        }
    }

    /// The problem body for this error.
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        Problem {
            problem_type: format!("urn:portal-api:problem:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: self.detail(),
            code: self.code().to_string(),
            errors: match self {
                Self::Validation(errors) => errors.clone(),
                Self::InvalidParameter(e) => vec![e.clone()],
                _ => Vec::new(),
            },
            allowed_actions: match self {
                Self::InvalidTransition { allowed, .. } => Some(allowed.clone()),
                _ => None,
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::MalformedJson(_) | Self::BadRequest(_) | Self::InvalidParameter(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unauthorized(_) | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::InvalidTransition { .. } => StatusCode::CONFLICT,
            Self::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable(_) | Self::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let mut response = problem_response(self.status_code(), &self.problem());
        let headers = response.headers_mut();
        match self {
            Self::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer realm=\"portal-api\""),
                );
            }
            Self::RateLimited { retry_after } | Self::Overloaded { retry_after } => {
                headers.insert(header::RETRY_AFTER, (*retry_after).into());
            }
            Self::MethodNotAllowed { allow } => {
                if let Ok(value) = header::HeaderValue::from_str(allow) {
                    headers.insert(header::ALLOW, value);
                }
            }
            _ => {}
        }
        response
    }
}

/// Serialises a problem with its media type.
pub fn problem_response(status: StatusCode, problem: &Problem) -> HttpResponse {
    let body = serde_json::to_vec(problem).unwrap_or_default();
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
        .body(body)
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            // The server went away in the middle: the request may be sent again.
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
            | Error::BrokenTransactionManager => {
                tracing::warn!(error = %e, "database connection lost");
                Self::Unavailable("The database connection was lost; send the request again".into())
            }
            e => Self::Internal(anyhow::Error::new(e).context("database query failed")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        // The cause names servers and databases: it goes to the log, not to the caller.
        tracing::warn!(error = %e, "no database connection");
        Self::Unavailable("The database is not reachable; try again shortly".into())
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        use crate::db::DbError;
        match e {
            DbError::Query(e) => e.into(),
            DbError::NoConnection(e) => e.into(),
            DbError::Internal(why) => Self::Internal(anyhow::anyhow!(why)),
            e @ (DbError::Busy | DbError::NotStored | DbError::Missing | DbError::NoAnswer) => {
                Self::Unavailable(e.to_string())
            }
        }
    }
}

impl From<crate::domain::access::Forbidden> for ApiError {
    fn from(_: crate::domain::access::Forbidden) -> Self {
        Self::Forbidden
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

/// Maps path parameter extractor failures onto problems.
pub fn path_error(err: actix_web::error::PathError) -> ApiError {
    match err {
        actix_web::error::PathError::Deserialize(e) => {
            ApiError::BadRequest(format!("Invalid path parameter: {e}"))
        }
        other => ApiError::BadRequest(other.to_string()),
    }
}
