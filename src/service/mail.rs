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
