//! Workflow steps: submit, withdraw, review, publish, return, reject, unpublish.

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{if_match, respond, SubmissionResponse};
use crate::api::extract::Json;
use crate::auth::Principal;
use crate::domain::submission::Action;
use crate::error::{ApiError, Problem};
use crate::service::submissions as service;
use crate::state::AppState;

/// A workflow step.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// The step to take.
    pub action: Action,
    /// Required for `return`, `reject` and `unpublish`; the unit sees it.
    pub note: Option<String>,
}

/// Take a workflow step: submit, withdraw, start_review, publish, return, reject, unpublish.
///
/// `return`, `reject` and `unpublish` need a `note`, which the unit sees. A step the current
/// status does not allow answers 409 `invalid_transition` with `allowed_actions`; a step the
/// caller's role never takes answers 403. `If-Match` is optional here; when sent, a stale one
/// answers 412.
#[utoipa::path(
    tag = "submissions",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Submission id"),
        ("If-Match" = Option<String>, Header, description = "Optional: the ETag the step is based on"),
    ),
    request_body = TransitionRequest,
    responses(
        (status = 200, description = "The submission after the step", body = SubmissionResponse),
        (status = 409, description = "Not possible from the current status (`allowed_actions` lists what is)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names an older version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A note is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/submissions/{id}/transitions")]
pub async fn transition_submission(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<TransitionRequest>,
) -> Result<HttpResponse, ApiError> {
    let TransitionRequest { action, note } = body.into_inner();
    let updated = service::transition(
        &state,
        &principal,
        id.into_inner(),
        if_match(&req),
        action,
        note,
    )
    .await?;
    Ok(respond(StatusCode::OK, updated))
}
