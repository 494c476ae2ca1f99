//! API clients of agency portals: admin only.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{Json, Query};
use super::Page;
use crate::auth::policy::Action;
use crate::auth::Principal;
use crate::domain::account::parse_name;
use crate::error::{ApiError, Problem};
use crate::service::clients::{self, ApiClient, WithSecret};
use crate::state::AppState;

/// A new API client for an agency's own portal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClientRequest {
    /// What it is, e.g. the portal's name.
    #[schema(example = "Cổng TTĐT Sở KH&CN")]
    pub name: String,
    /// The unit it posts for; it acts as that unit's officer.
    #[schema(example = "so-khcn")]
    pub unit: String,
}

/// An API client (never its secret, except once at creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientResponse {
    /// Record id, for `DELETE /clients/{id}` and `POST /clients/{id}/secret` (which take the
    /// `client_id` too).
    pub id: String,
    /// Public id to log in with.
    pub client_id: String,
    /// Name.
    pub name: String,
    /// The unit it acts for.
    pub unit: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiClient> for ClientResponse {
    fn from(c: ApiClient) -> Self {
        Self {
            id: c.id,
            client_id: c.client_id,
            name: c.name,
            unit: c.unit_code,
            created_at: c.created_at.and_utc(),
            revoked_at: c.revoked_at.map(|t| t.and_utc()),
        }
    }
}

/// A new client with its secret, which is shown this once and stored only as a hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedClientResponse {
    /// The client.
    #[serde(flatten)]
    pub client: ClientResponse,
    /// The secret for `grant_type=client_credentials`. It cannot be shown again; rotate it with
    /// `POST /clients/{id}/secret`.
    pub client_secret: String,
}

/// The answer that shows a client's secret, never to be kept by a cache.
fn with_secret(mut answer: actix_web::HttpResponseBuilder, made: WithSecret) -> HttpResponse {
    answer
        .insert_header(("Cache-Control", "no-store"))
        .json(CreatedClientResponse {
            client: made.client.into(),
            client_secret: made.secret,
        })
}

/// Whether to list revoked clients too.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientQuery {
    /// `true` to include revoked clients.
    pub include_revoked: Option<bool>,
}

/// Create an API client bound to a unit.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    request_body = CreateClientRequest,
    responses(
        (status = 201, description = "Created; the secret is in this answer only", body = CreatedClientResponse),
        (status = 422, description = "Invalid field, unknown or deactivated unit", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/clients")]
pub async fn create_client(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateClientRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Action::ManageClients)?;
    let req = body.into_inner();
    let name = parse_name(&req.name, 200).map_err(|why| ApiError::invalid_field("name", why))?;
    let made = clients::create_client(&state, name, req.unit).await?;
    Ok(with_secret(HttpResponse::Created(), made))
}

/// List API clients.
///
/// The whole list as one page (`next_cursor` is always null): there are a few per unit.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    params(ClientQuery),
    responses((status = 200, description = "The clients", body = Page<ClientResponse>))
)]
#[get("/clients")]
pub async fn list_clients(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<ClientQuery>,
) -> Result<web::Json<Page<ClientResponse>>, ApiError> {
    principal.require(Action::ManageClients)?;
    let include_revoked = query.include_revoked.unwrap_or(false);
    let found = clients::list_clients(&state, include_revoked).await?;
    Ok(web::Json(Page::complete(
        found.into_iter().map(ClientResponse::from).collect(),
    )))
}

/// Revoke an API client: it can no longer log in, and its tokens stop working.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The client's record id, or its client_id")),
    responses((status = 204, description = "Revoked"))
)]
#[delete("/clients/{id}")]
pub async fn delete_client(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Action::ManageClients)?;
    clients::revoke_client(&state, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate an API client's secret.
///
/// Answers a new secret, shown this once. The old secret stops working at once, and so does
/// every token issued with it; the client's failed logins are forgotten.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The client's record id, or its client_id")),
    responses(
        (status = 200, description = "The new secret, in this answer only", body = CreatedClientResponse),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The client is revoked", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/clients/{id}/secret")]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Action::ManageClients)?;
    let made = clients::rotate_secret(&state, id.into_inner()).await?;
    Ok(with_secret(HttpResponse::Ok(), made))
}
