//! API clients of agency portals: creating, listing, revoking, and rotating their secrets.

use diesel::Connection;

use crate::auth::token::random_token;
use crate::db::accounts::{self, NewApiClient};
use crate::db::login_failures;
use crate::domain::access::Role;
use crate::domain::account::client_login_key;
use crate::error::ApiError;
use crate::references::check_unit;
use crate::state::AppState;

use super::accounts::hashed;

pub use crate::db::accounts::ApiClient;

/// A client with its secret, which is shown this once and stored only as a hash.
#[derive(Debug)]
pub struct WithSecret {
    /// The client.
    pub client: ApiClient,
    /// Its secret in clear.
    pub secret: String,
}

/// A new secret and its hash, made on the bounded password threads.
async fn new_secret(state: &AppState) -> Result<(String, String), ApiError> {
    let secret = random_token(32);
    let secret_hash = hashed(state, secret.clone()).await?;
    Ok((secret, secret_hash))
}

/// Creates a client named `name` that acts as an officer of `unit` (an active unit).
pub async fn create_client(
    state: &AppState,
    name: String,
    unit: String,
) -> Result<WithSecret, ApiError> {
    let (secret, secret_hash) = new_secret(state).await?;
    let now = state.now();
    // Through the writer, as every change to accounts.
    let client = state
        .write(move |conn| {
            conn.transaction(|conn| {
                check_unit(conn, Role::Officer, Some(&unit))?;
                let id = uuid::Uuid::new_v4().to_string();
                let client_id = format!("pc_{}", random_token(15));
                accounts::insert_client(
                    conn,
                    &NewApiClient {
                        id: &id,
                        client_id: &client_id,
                        secret_hash: &secret_hash,
                        name: &name,
                        unit_code: &unit,
                        created_at: now,
                    },
                )?;
                accounts::find_client_login(conn, &client_id)?.ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("client {client_id} vanished after insert"))
                })
            })
        })
        .await?;
    Ok(WithSecret { client, secret })
}

/// Every client, the revoked ones too when asked.
pub async fn list_clients(
    state: &AppState,
    include_revoked: bool,
) -> Result<Vec<ApiClient>, ApiError> {
    state
        .read(move |conn| Ok(accounts::list_clients(conn, include_revoked)?))
        .await
}

/// Revokes a client (by record id or client id): it can no longer log in, and its tokens
/// stop working at once on this instance.
pub async fn revoke_client(state: &AppState, id: String) -> Result<(), ApiError> {
    let now = state.now();
    // Through the writer, as every change to accounts: on SQLite a pooled write would wait
    // on the writer's lock instead of taking its turn.
    let revoked = state
        .write(move |conn| Ok(accounts::revoke_client(conn, &id, now)?))
        .await?
        .ok_or_else(|| ApiError::not_found("API client"))?;
    state
        .accounts
        .forget(&format!("client:{}", revoked.client_id));
    Ok(())
}

/// Gives a client (by record id or client id) a new secret: tokens issued with the old
/// secret end and its counted login attempts are forgotten. A revoked client is a conflict.
pub async fn rotate_secret(state: &AppState, id: String) -> Result<WithSecret, ApiError> {
    let (secret, secret_hash) = new_secret(state).await?;
    let client = state
        .write(move |conn| {
            conn.transaction(|conn| {
                let client = accounts::find_client(conn, &id)?
                    .ok_or_else(|| ApiError::not_found("API client"))?;
                if client.revoked_at.is_some() {
                    return Err(ApiError::Conflict(
                        "This API client is revoked; create a new one".into(),
                    ));
                }
                accounts::rotate_client_secret(conn, &client.id, &secret_hash)?;
                login_failures::clear(conn, &client_login_key(&client.client_id))?;
                accounts::find_client(conn, &client.id)?.ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("client {id} vanished in its rotation"))
                })
            })
        })
        .await?;
    state
        .accounts
        .forget(&format!("client:{}", client.client_id));
    Ok(WithSecret { client, secret })
}
