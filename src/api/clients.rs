//! API clients of agency portals: admin only.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{Json, Query};
use super::Page;
use crate::auth::accounts::{check_unit, random_token, rotate_client_secret};
use crate::auth::policy::{Action, Role};
use crate::auth::{password, Principal};
use crate::db::{self, accounts::ApiClient, accounts::NewApiClient};
use crate::domain::account::parse_name;
use crate::error::{ApiError, Problem};
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

/// A new secret and its hash, made on the bounded password threads.
async fn new_secret(state: &AppState) -> Result<(String, String), ApiError> {
    let secret = random_token(32);
    let hashed = secret.clone();
    let secret_hash = state
        .passwords
        .run(move || password::hash(&hashed))
        .await??;
    Ok((secret, secret_hash))
}

/// The answer that shows a client's secret, never to be kept by a cache.
fn with_secret(
    mut answer: actix_web::HttpResponseBuilder,
    client: ApiClient,
    secret: String,
) -> HttpResponse {
    answer
        .insert_header(("Cache-Control", "no-store"))
        .json(CreatedClientResponse {
            client: client.into(),
            client_secret: secret,
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
    let (secret, secret_hash) = new_secret(&state).await?;
    let unit = req.unit;
    let client = state
        .write(move |conn| {
            conn.transaction(|conn| {
                check_unit(conn, Role::Officer, Some(&unit))?;
                let id = uuid::Uuid::new_v4().to_string();
                let client_id = format!("pc_{}", random_token(15));
                db::accounts::insert_client(
                    conn,
                    &NewApiClient {
                        id: &id,
                        client_id: &client_id,
                        secret_hash: &secret_hash,
                        name: &name,
                        unit_code: &unit,
                        created_at: db::now(),
                    },
                )?;
                db::accounts::find_client_login(conn, &client_id)?.ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("client {client_id} vanished after insert"))
                })
            })
        })
        .await?;
    Ok(with_secret(HttpResponse::Created(), client, secret))
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
    let clients = state
        .read(move |conn| Ok(db::accounts::list_clients(conn, include_revoked)?))
        .await?;
    Ok(web::Json(Page::complete(
        clients.into_iter().map(ClientResponse::from).collect(),
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
    let id = id.into_inner();
    let revoked = state
        .read(move |conn| Ok(db::accounts::revoke_client(conn, &id, db::now())?))
        .await?
        .ok_or_else(|| ApiError::not_found("API client"))?;
    state
        .accounts
        .forget(&format!("client:{}", revoked.client_id));
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
    let id = id.into_inner();
    let (secret, secret_hash) = new_secret(&state).await?;
    let client = state
        .write(move |conn| rotate_client_secret(conn, &id, &secret_hash))
        .await?;
    state
        .accounts
        .forget(&format!("client:{}", client.client_id));
    Ok(with_secret(HttpResponse::Ok(), client, secret))
}
