//! Logging set-up and the request middleware: request ids, security headers, one log line
//! and metrics per request.

use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, ResponseError};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::config::Environment;
use crate::error::ApiError;
use crate::error::{problem_response, Problem, PROBLEM_JSON};
use crate::state::AppState;
use crate::{headers, metrics};

/// Header carrying the request id, in and out.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served, for handlers that want to mention it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Installs the global subscriber: JSON lines in production, readable lines otherwise.
/// `RUST_LOG` sets the filter (default `info`).
pub fn init(environment: Environment) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal; a log file or collector gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    // A second init (tests build several apps in one process) is not an error.
    let _ = match environment {
        Environment::Production => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        Environment::Development => builder.try_init(),
    };
}

/// Accepts a caller's request id only if it is short and plain, so it cannot forge log lines.
fn incoming_request_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    ok.then(|| value.to_string())
}

fn problem_for_status(status: StatusCode) -> Problem {
    let (code, detail) = match status {
        StatusCode::NOT_FOUND => ("not_found", "No resource at this address"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "This method is not allowed on this resource",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "The body is too large"),
        StatusCode::BAD_REQUEST => ("bad_request", "The request could not be read"),
        s if s.is_server_error() => (
            "internal_error",
            "The service could not complete the request; it has been logged",
        ),
        _ => ("error", "The request failed"),
    };
    Problem {
        problem_type: format!("urn:portal-api:problem:{code}"),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        status: status.as_u16(),
        detail: detail.to_string(),
        code: code.to_string(),
        errors: Vec::new(),
        allowed_actions: None,
    }
}

/// Wraps every request: assigns its id, turns bare error responses into problems, sets the
/// security headers, logs one line and records metrics.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let started = Instant::now();
    let request_id = incoming_request_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let state = req.app_data::<web::Data<AppState>>().cloned();
    // Both are the client's to choose and may be kilobytes long: the log and the metrics
    // get the method's label and the start of the path.
    let method = metrics::method_label(req.method().as_str());
    let path = loggable_path(req.path());
    let span = tracing::info_span!("request", request_id = %request_id);

    // Cloning the request before routing would break actix's path matching, so an error
    // that escapes the handlers is passed on as it is (actix answers it) and only recorded.
    // The whole path is checked: a cut one can end inside a percent-encoded character.
    let res = if !crate::api::extract::decodes_to_utf8(req.path()) {
        // A NUL or broken UTF-8 in the address would reach the database as a key.
        let (http_req, _) = req.into_parts();
        let refusal = ApiError::BadRequest(
            "The address is not valid UTF-8 text once percent-decoded, or holds a NUL".into(),
        );
        ServiceResponse::new(http_req, refusal.error_response()).map_into_right_body()
    } else {
        match next.call(req).instrument(span.clone()).await {
            Ok(res) => res.map_into_left_body(),
            Err(err) => {
                let status = err.as_response_error().status_code();
                record(
                    state.as_ref().map(|s| s.get_ref()),
                    &span,
                    method,
                    metrics::UNMATCHED,
                    &path,
                    status,
                    started,
                );
                return Err(err);
            }
        }
    };

    // Errors raised outside our handlers (unknown method, actix's own limits) come without
    // a problem body; every error answers the same shape, but for the tracking page's own
    // HTML ones (a citizen's browser shows them).
    let status = res.status();
    let policy = headers::Policy::for_request(res.request());
    let content_type = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let is_problem = content_type.starts_with(PROBLEM_JSON)
        || (policy.is_page() && content_type.starts_with("text/html"));
    let mut res = if status.as_u16() >= 400 && !is_problem {
        let problem = problem_for_status(status);
        let (http_req, _) = res.into_parts();
        ServiceResponse::new(http_req, problem_response(status, &problem)).map_into_right_body()
    } else {
        res
    };
    let headers = res.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, value);
    }
    policy.apply(headers);

    let route = metrics::route_label(res.request().match_pattern());
    record(
        state.as_ref().map(|s| s.get_ref()),
        &span,
        method,
        &route,
        &path,
        status,
        started,
    );
    Ok(res)
}

/// Longest path written to the log, in bytes; a longer one is cut and marked.
const LOGGED_PATH_BYTES: usize = 256;

/// The path as the log shows it: at most [`LOGGED_PATH_BYTES`], cut at a character boundary.
fn loggable_path(path: &str) -> String {
    if path.len() <= LOGGED_PATH_BYTES {
        return path.to_string();
    }
    let mut end = LOGGED_PATH_BYTES;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...({} bytes)", &path[..end], path.len())
}

fn record(
    state: Option<&AppState>,
    span: &tracing::Span,
    method: &'static str,
    route: &str,
    path: &str,
    status: StatusCode,
    started: Instant,
) {
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(state) = state {
        state
            .metrics
            .observe(method, route, status.as_u16(), elapsed);
    }
    let _entered = span.enter();
    tracing::info!(
        target: "portal_api::http",
        method = %method,
        route = %route,
        path = %path,
        status = status.as_u16(),
        latency_ms = elapsed * 1000.0,
        "request"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_paths_are_cut_in_the_log() {
        assert_eq!(loggable_path("/api/v1/units"), "/api/v1/units");
        let long = format!("/{}", "é".repeat(3000));
        let logged = loggable_path(&long);
        assert!(logged.len() < LOGGED_PATH_BYTES + 32, "{logged}");
        assert!(logged.ends_with("...(6001 bytes)"), "{logged}");
    }
}
