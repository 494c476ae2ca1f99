//! The tracking page citizens open from their mail, `/tra-cuu/{code}?key=…`: the question,
//! its status, due date and answers, and the form to rate the answer; without a key, the form
//! asking for it and the form to have a new link mailed. HTML rendered here from
//! `templates/pages/`, usable without JavaScript; not part of the JSON API nor of its
//! document, so it is registered beside it ([`routes`]).
//!
//! The key travels only in the query (`?key=`) or the form body, never in the path: the
//! request log writes the path alone.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use futures_util::StreamExt;
use minijinja::Value;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::api::client_of;
use crate::api::questions::tracking_view;
use crate::domain::question::{optional_text, NOTE_MAX};
use crate::error::ApiError;
use crate::headers::TRACKING_PAGE;
use crate::service::mail;
use crate::service::questions::{self as service, WithReplies};
use crate::state::AppState;

/// Largest rating form accepted: the longest comment the rule allows with every character
/// four UTF-8 bytes, each sent percent-encoded (12 bytes), and room for the key and score.
pub const FORM_LIMIT: usize = NOTE_MAX * 12 + 1024;

/// Registers the page: GET shows it, POST rates the answer. Other methods answer 405.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(format!("{TRACKING_PAGE}/{{code}}"))
            .route(web::get().to(show))
            .route(web::post().to(rate))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ApiError::MethodNotAllowed {
                    allow: "GET, POST".into(),
                })
            })),
    );
}

/// The page of a question (`?key=` given), or the form asking for its key.
async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
) -> HttpResponse {
    let code = code.into_inner();
    let Some(key) = field(req.query_string().as_bytes(), "key") else {
        return key_form(&state, StatusCode::OK, Some(&code), None);
    };
    match service::track(&state, code, Some(key.clone())).await {
        Ok(opened) => question_page(&state, StatusCode::OK, opened, &key, Notice::None),
        Err(e) => failure(&state, e),
    }
}

/// What the page says above the question after a rating was sent.
#[derive(Debug, Clone, Copy)]
enum Notice {
    None,
    Thanks,
    /// The score is missing or not 1–5.
    Score,
    /// The comment is too long or holds control characters.
    Comment,
    /// Rated already, or nothing to rate yet (told apart from the question as it stands).
    Conflict,
}

/// Rates the answer from the form (`key`, `score`, `comment`), then shows the page again: with
/// thanks, or with what was wrong. The page is rendered here rather than redirected to, so the
/// key never appears in a `Location` header.
async fn rate(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let code = code.into_inner();
    let body = match read_form(&req, payload).await {
        Ok(body) => body,
        Err(status) => return key_form(&state, status, None, Some("too_large")),
    };
    if field(&body, "action").as_deref() == Some("resend") {
        return resend(&state, &req, code, &body);
    }
    let key = field(&body, "key");
    let score = field(&body, "score").and_then(|s| s.parse::<i32>().ok());
    let comment = field(&body, "comment");
    let refused = match (score, optional_text(comment.as_deref(), NOTE_MAX)) {
        (None, _) => Notice::Score,
        (_, Err(_)) => Notice::Comment,
        (Some(score), Ok(comment)) => {
            match service::rate(&state, code.clone(), key.clone(), score, comment).await {
                Ok(opened) => {
                    let key = key.unwrap_or_default();
                    return question_page(&state, StatusCode::OK, opened, &key, Notice::Thanks);
                }
                // The score is the one field the use case checks.
                Err(ApiError::Validation(_)) => Notice::Score,
                Err(ApiError::Conflict(_)) => Notice::Conflict,
                Err(e) => return failure(&state, e),
            }
        }
    };
    // Refused: the question is shown as it stands, with the reason.
    match service::track(&state, code, key.clone()).await {
        Ok(opened) => {
            let status = match refused {
                Notice::Conflict => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            question_page(&state, status, opened, &key.unwrap_or_default(), refused)
        }
        Err(e) => failure(&state, e),
    }
}

/// Asks for a new link to be mailed (`email`), then answers one page whether or not the
/// code and the address match.
fn resend(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    code: String,
    body: &[u8],
) -> HttpResponse {
    let client = client_of(req, &state.settings.trusted_proxies);
    let email = field(body, "email").unwrap_or_default();
    match mail::request_resend(state, client, code, &email) {
        Ok(()) => key_form(state, StatusCode::ACCEPTED, None, Some("resent")),
        Err(ApiError::RateLimited { .. }) => key_form(
            state,
            StatusCode::TOO_MANY_REQUESTS,
            None,
            Some("rate_limited"),
        ),
        Err(_) => key_form(state, StatusCode::UNPROCESSABLE_ENTITY, None, Some("email")),
    }
}

/// The form body, read up to [`FORM_LIMIT`]; the status to answer when it is larger or
/// cannot be read.
async fn read_form(req: &HttpRequest, mut payload: web::Payload) -> Result<Vec<u8>, StatusCode> {
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > FORM_LIMIT) {
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| StatusCode::BAD_REQUEST)?;
        if body.len() + chunk.len() > FORM_LIMIT {
            return Err(StatusCode::PAYLOAD_TOO_LARGE);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The first value of `name` in a urlencoded query or form, trimmed; `None` when absent or
/// blank. Forms are read leniently: a field the page does not send is ignored.
fn field(urlencoded: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(urlencoded)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The page of an opened question.
fn question_page(
    state: &AppState,
    status: StatusCode,
    (q, replies): WithReplies,
    key: &str,
    notice: Notice,
) -> HttpResponse {
    // The same rule as the rating's own update: answered, not rated yet.
    let can_rate = q.answered_at.is_some() && q.rating_score.is_none();
    let problem = match notice {
        Notice::None | Notice::Thanks => None,
        Notice::Score => Some("score"),
        Notice::Comment => Some("comment"),
        Notice::Conflict if q.rating_score.is_some() => Some("rated"),
        Notice::Conflict => Some("unanswered"),
    };
    let view = tracking_view(q, replies, state.now());
    render(
        state,
        status,
        "pages/tracking.html",
        minijinja::context! {
            q => Value::from_serialize(&view),
            can_rate,
            key,
            thanks => matches!(notice, Notice::Thanks),
            problem,
            comment_max => NOTE_MAX,
        },
    )
}

/// The form asking for the key, with a reason when there is one. `code` is shown only when no
/// question was looked up, so that a wrong code and a wrong key answer the same page.
fn key_form(
    state: &AppState,
    status: StatusCode,
    code: Option<&str>,
    problem: Option<&str>,
) -> HttpResponse {
    render(
        state,
        status,
        "pages/tracking_key.html",
        minijinja::context! { code, problem },
    )
}

/// A failed use case as a page: one neutral answer to a wrong code or a wrong key, else the
/// status of the error with a request to try again (its cause logged, never shown).
fn failure(state: &AppState, e: ApiError) -> HttpResponse {
    match e {
        ApiError::NotFound(_) => key_form(state, StatusCode::NOT_FOUND, None, Some("not_found")),
        e => {
            e.log();
            let status = actix_web::ResponseError::status_code(&e);
            key_form(state, status, None, Some("unavailable"))
        }
    }
}

/// Renders a page with the style sheet inline and the headers of the page: a policy that
/// allows that style sheet by its hash and nothing else, no caching, no referrer.
fn render(
    state: &AppState,
    status: StatusCode,
    template: &str,
    context: impl Serialize,
) -> HttpResponse {
    let rendered = state
        .templates
        .render("pages/style.css", ())
        .and_then(|style| {
            let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&style));
            let page = state.templates.render(
                template,
                minijinja::context! {
                    style => Value::from_safe_string(style),
                    ..Value::from_serialize(&context)
                },
            )?;
            Ok((page, hash))
        });
    let (page, style_hash) = match rendered {
        Ok(rendered) => rendered,
        Err(e) => {
            tracing::error!(template, error = format!("{e:#}"), "page not rendered");
            return HttpResponse::InternalServerError()
                .content_type("text/html; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body(RENDER_FAILED);
        }
    };
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{style_hash}'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    let mut response = HttpResponse::build(status);
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    if let Ok(csp) = HeaderValue::from_str(&csp) {
        response.insert_header((header::CONTENT_SECURITY_POLICY, csp));
    }
    response.body(page)
}

/// What a browser gets when a page template fails (an operator's broken override).
const RENDER_FAILED: &str = "<!doctype html><html lang=\"vi\"><meta charset=\"utf-8\">\
    <title>Lỗi hệ thống</title><p>Hệ thống gặp lỗi khi hiển thị trang. Vui lòng thử lại sau.</p>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_and_missing_fields_are_absent() {
        assert_eq!(field(b"key=abc&score=5", "key").as_deref(), Some("abc"));
        assert_eq!(field(b"key=+a%2Bb+", "key").as_deref(), Some("a+b"));
        assert_eq!(field(b"key=&score=5", "key"), None);
        assert_eq!(field(b"key=%20%20", "key"), None);
        assert_eq!(field(b"score=5", "key"), None);
        assert_eq!(field(b"key=1&key=2", "key").as_deref(), Some("1"));
    }

    #[test]
    fn the_longest_allowed_comment_fits_the_form_limit() {
        let comment = "ệ".repeat(NOTE_MAX);
        let encoded: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("key", &"k".repeat(64))
            .append_pair("score", "5")
            .append_pair("comment", &comment)
            .finish();
        assert!(encoded.len() <= FORM_LIMIT, "{}", encoded.len());
    }
}
