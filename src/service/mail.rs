//! Mail as people ask for it: the admins' view of the outbox, and a new tracking link for an
//! asker who lost theirs.

use crate::auth::token::random_token;
use crate::db::mail::{self as outbox, Listed, NewMail};
use crate::db::page::After;
use crate::db::questions as store;
use crate::domain::access::{Action, Principal};
use crate::domain::mail::{MailKind, MailStatus};
use crate::domain::question::{key_hash, normalize_tracking_code, Email};
use crate::error::ApiError;
use crate::state::AppState;

/// Messages newest first, of one status or all: admins only.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    status: Option<MailStatus>,
    after: Option<After>,
    limit: usize,
) -> Result<Vec<Listed>, ApiError> {
    principal.require(Action::ReadMail)?;
    state
        .read(move |conn| {
            Ok(outbox::list(
                conn,
                status,
                after.as_ref(),
                i64::try_from(limit).unwrap_or(100) + 1,
            )?)
        })
        .await
}

/// Asks for a new tracking link for the question of `code`, to be mailed to `email` if it is
/// the question's: refused (429) past the limit of the client's address; past the limit of the
/// code or of the e-mail, or when they do not match, nothing is sent and the answer is the
/// same. The work is spawned to run after the caller has answered, so its timing tells nothing
/// either.
pub fn request_resend(
    state: &actix_web::web::Data<AppState>,
    client: Option<std::net::IpAddr>,
    code: String,
    email: &str,
) -> Result<(), ApiError> {
    let now = std::time::Instant::now();
    let limits = &state.resend_limits;
    if let Some(addr) = client {
        if let Err(wait) = limits.per_address.check(addr, now) {
            return Err(ApiError::RateLimited {
                retry_after: wait.as_secs().max(1),
            });
        }
    }
    let email = Email::parse(email).map_err(|why| ApiError::invalid_field("email", why))?;
    let allowed = code.len() <= 32
        && limits
            .per_code
            .check(normalize_tracking_code(&code), now)
            .is_ok()
        && limits
            .per_email
            .check(email.as_str().to_lowercase(), now)
            .is_ok();
    if allowed {
        let state = state.clone();
        actix_web::rt::spawn(async move {
            if let Err(e) = resend_key(&state, code, email).await {
                tracing::warn!(error = %e, "issuing a new tracking key failed");
            }
        });
    }
    Ok(())
}

/// Issues a new access key for the question of `code` and mails its link, when `email` is the
/// one the question was asked with; does nothing otherwise. The caller answers the same either
/// way and runs this after answering, so neither the answer nor its timing tells whether the
/// code or the e-mail exists.
pub async fn resend_key(state: &AppState, code: String, email: Email) -> Result<bool, ApiError> {
    let code = normalize_tracking_code(&code);
    let now = state.now();
    state
        .write(move |conn| {
            let Some(q) = store::find_by_code(conn, &code)? else {
                return Ok(false);
            };
            // Mailed to the address stored with the question, not to the one typed.
            let Some(stored) = q
                .asker
                .email
                .clone()
                .filter(|stored| stored.eq_ignore_ascii_case(email.as_str()))
            else {
                return Ok(false);
            };
            let key = random_token(32);
            store::set_access_key_hash(conn, &q.id, &key_hash(&key), now)?;
            let mut data = serde_json::Map::new();
            data.insert("recipient_name".into(), q.asker.name.clone().into());
            let cause = format!("resend:{}", uuid::Uuid::now_v7());
            let mail = NewMail::new(cause, MailKind::KeyResent, stored, &data, now)
                .about(&q.id, q.unit.as_deref())
                .with_secret(key);
            outbox::queue(conn, vec![mail])?;
            Ok(true)
        })
        .await
}
