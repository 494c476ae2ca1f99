//! Readiness: whether the database answers.

use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

/// Whether the database answers within the probe's patience (503 when it does not).
pub async fn ready(state: &AppState) -> Result<(), ApiError> {
    let pool = state.pool.clone();
    let url = state.settings.database_url.clone();
    // Its own connection wait, shorter than a request's: a probe must answer quickly.
    actix_web::web::block(move || db::ping(&pool, &url)).await??;
    Ok(())
}
