//! The mail outbox: messages queued in the transaction of the change that causes them, claimed
//! by the mail worker with a lease (one instance sends a message at a time), and recorded as
//! sent, to be tried again, or failed.
//!
//! A message is one cause (an event id, a digest, a reminder, a key re-sent) to one recipient;
//! `(cause, recipient)` is unique, so nothing queues the same message twice.

use std::cell::RefCell;
use std::collections::BTreeSet;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};

use super::page::{newest_first_after, After};
use super::schema::{mail_outbox, questions, units};
use super::{accounts, reminders};
use super::{portable_query as query, write_transaction, DbConnection, DbError};
use crate::domain::access::Role;
use crate::domain::events::NewEvent;
use crate::domain::mail::{self, Audience, MailKind, MailStatus};

/// A message about to be queued.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = mail_outbox, treat_none_as_default_value = false)]
pub struct NewMail {
    /// UUID.
    pub id: String,
    /// What causes it: an event id, or `digest:…`, `reminder:…`, `resend:…`.
    pub cause: String,
    /// Which templates render it.
    pub kind: String,
    /// The address it goes to.
    pub recipient: String,
    /// What it is about (a question's or an item's id, an obligation period).
    pub subject_id: Option<String>,
    /// The unit it concerns.
    pub unit_code: Option<String>,
    /// What the templates need beyond what is read when it is sent, as a JSON object.
    pub data: String,
    /// An asker's access key for the link; cleared once sent or failed.
    pub secret: Option<String>,
    /// `pending`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// When it is due.
    pub next_attempt_at: Option<NaiveDateTime>,
    /// Lease of the instance sending it.
    pub lease_until: Option<NaiveDateTime>,
    /// When it was queued.
    pub created_at: NaiveDateTime,
}

impl NewMail {
    /// A pending message, due at once.
    pub fn new(
        cause: impl Into<String>,
        kind: MailKind,
        recipient: impl Into<String>,
        data: &serde_json::Map<String, serde_json::Value>,
        now: NaiveDateTime,
    ) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            cause: cause.into(),
            kind: kind.as_str().into(),
            recipient: recipient.into(),
            subject_id: None,
            unit_code: None,
            data: serde_json::Value::Object(data.clone()).to_string(),
            secret: None,
            status: MailStatus::Pending.as_str().into(),
            attempts: 0,
            next_attempt_at: Some(now),
            lease_until: None,
            created_at: now,
        }
    }

    /// About `subject_id`.
    pub fn about(mut self, subject_id: impl Into<String>, unit: Option<&str>) -> Self {
        self.subject_id = Some(subject_id.into());
        self.unit_code = unit.map(str::to_string);
        self
    }

    /// With an access key for its link.
    pub fn with_secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(secret.into());
        self
    }
}

thread_local! {
    /// Messages of the writer's group in progress on this thread, when it collects them.
    static COLLECTED: RefCell<Option<Vec<NewMail>>> = const { RefCell::new(None) };
}

/// Starts collecting on this thread (the writer, with its events).
pub(super) fn collect_start() {
    COLLECTED.with(|c| *c.borrow_mut() = Some(Vec::new()));
}

/// Stops collecting on this thread.
pub(super) fn collect_stop() {
    COLLECTED.with(|c| *c.borrow_mut() = None);
}

/// How many are collected.
pub(super) fn collect_mark() -> usize {
    COLLECTED.with(|c| c.borrow().as_ref().map_or(0, Vec::len))
}

/// Drops what was collected after `mark` (the job failed), or everything (`0`).
pub(super) fn collect_undo_to(mark: usize) {
    COLLECTED.with(|c| {
        if let Some(list) = c.borrow_mut().as_mut() {
            list.truncate(mark);
        }
    });
}

/// Takes what was collected.
pub(super) fn collect_take() -> Vec<NewMail> {
    COLLECTED
        .with(|c| c.borrow_mut().as_mut().map(std::mem::take))
        .unwrap_or_default()
}

/// Queues messages in the caller's transaction: they are sent if it commits, never if it rolls
/// back. In the writer they are inserted with the group's events just before it commits.
pub fn queue(conn: &mut DbConnection, list: Vec<NewMail>) -> Result<(), DbError> {
    if list.is_empty() {
        return Ok(());
    }
    let left = COLLECTED.with(|c| match c.borrow_mut().as_mut() {
        Some(collected) => {
            collected.extend(list);
            None
        }
        None => Some(list),
    });
    match left {
        Some(list) => insert(conn, &list),
        None => Ok(()),
    }
}

/// Inserts messages, passing over any already queued for the same cause and recipient.
pub(super) fn insert(conn: &mut DbConnection, list: &[NewMail]) -> Result<(), DbError> {
    for chunk in list.chunks(200) {
        match conn {
            DbConnection::Pg(c) => {
                diesel::insert_into(mail_outbox::table)
                    .values(chunk)
                    .on_conflict_do_nothing()
                    .execute(c)?;
            }
            DbConnection::Sqlite(c) => {
                diesel::insert_or_ignore_into(mail_outbox::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// The messages the events cause, queued in the events' transaction: to the asker of a
/// question answered, replied to, rejected or published; to the unit's officers and contact
/// address for a question routed to it and an item returned, rejected or published; and to the
/// editors too for a missed obligation period.
pub(super) fn for_events(conn: &mut DbConnection, list: &[NewEvent]) -> Result<(), DbError> {
    let concerned: Vec<(&NewEvent, MailKind, Audience)> = list
        .iter()
        .filter_map(|e| mail::caused_by(e.kind).map(|(kind, audience)| (e, kind, audience)))
        .collect();
    if concerned.is_empty() {
        return Ok(());
    }
    let mut out = Vec::new();
    let asked: Vec<&str> = concerned
        .iter()
        .filter(|(_, _, a)| *a == Audience::Asker)
        .map(|(e, _, _)| e.subject_id.as_str())
        .collect();
    let askers: Vec<(String, Option<String>, String)> = if asked.is_empty() {
        Vec::new()
    } else {
        questions::table
            .filter(questions::id.eq_any(&asked))
            .filter(questions::asker_email.is_not_null())
            .select((questions::id, questions::asker_email, questions::asker_name))
            .load(conn)?
    };
    let mut editors: Option<Vec<(String, Option<String>)>> = None;
    for (event, kind, audience) in concerned {
        let mut recipients: Vec<(String, Option<String>)> = match audience {
            Audience::Asker => askers
                .iter()
                .filter(|(id, _, _)| *id == event.subject_id)
                .filter_map(|(_, email, name)| Some((email.clone()?, Some(name.clone()))))
                .collect(),
            Audience::Unit | Audience::UnitAndEditors => match &event.unit {
                Some(unit) => accounts::unit_recipients(conn, unit)?,
                None => Vec::new(),
            },
        };
        if audience == Audience::UnitAndEditors {
            if editors.is_none() {
                editors = Some(board_recipients(conn)?);
            }
            for (email, name) in editors.iter().flatten() {
                push_unique(&mut recipients, email.clone(), name.clone());
            }
        }
        let board: BTreeSet<String> = if audience == Audience::UnitAndEditors {
            editors
                .iter()
                .flatten()
                .map(|(e, _)| e.to_lowercase())
                .collect()
        } else {
            BTreeSet::new()
        };
        if kind == MailKind::ObligationMissed && !recipients.is_empty() {
            record_missed(conn, event, recipients.len())?;
        }
        for (email, name) in recipients {
            let mut data = event.data.clone();
            data.insert("recipient_name".into(), name.into());
            if audience == Audience::UnitAndEditors {
                data.insert(
                    "for_board".into(),
                    board.contains(&email.to_lowercase()).into(),
                );
            }
            out.push(
                NewMail::new(&event.id, kind, email, &data, event.occurred_at)
                    .about(&event.subject_id, event.unit.as_deref()),
            );
        }
    }
    insert(conn, &out)
}

/// Records the missed-period notice of `event` (an `obligation.period_missed`), so the
/// obligations' status shows when it went out.
fn record_missed(
    conn: &mut DbConnection,
    event: &NewEvent,
    recipients: usize,
) -> Result<(), DbError> {
    let id = event.data.get("obligation_id").and_then(|v| v.as_i64());
    let start = event
        .data
        .get("period_start")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse::<chrono::NaiveDate>().ok());
    if let (Some(id), Some(start)) = (id, start) {
        let kind = reminders::ReminderKind::Missed;
        reminders::record(conn, (id, start), kind, event.occurred_at, recipients)?;
    }
    Ok(())
}

fn push_unique(list: &mut Vec<(String, Option<String>)>, email: String, name: Option<String>) {
    if !list.iter().any(|(e, _)| e.eq_ignore_ascii_case(&email)) {
        list.push((email, name));
    }
}

/// The addresses of the editorial board: enabled editors and admins that have one.
fn board_recipients(conn: &mut DbConnection) -> Result<Vec<(String, Option<String>)>, DbError> {
    let mut list = accounts::role_recipients(conn, Role::Editor)?;
    for (email, name) in accounts::role_recipients(conn, Role::Admin)? {
        push_unique(&mut list, email, name);
    }
    Ok(list)
}

/// A message claimed for one attempt.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    /// The message.
    #[diesel(sql_type = Text)]
    pub id: String,
    /// Its cause: with the recipient, what fixes its `Message-ID`.
    #[diesel(sql_type = Text)]
    pub cause: String,
    /// Which templates render it.
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// Where it goes.
    #[diesel(sql_type = Text)]
    pub recipient: String,
    /// What it is about.
    #[diesel(sql_type = Nullable<Text>)]
    pub subject_id: Option<String>,
    /// The unit it concerns.
    #[diesel(sql_type = Nullable<Text>)]
    pub unit_code: Option<String>,
    /// JSON object.
    #[diesel(sql_type = Text)]
    pub data: String,
    /// An access key for its link.
    #[diesel(sql_type = Nullable<Text>)]
    pub secret: Option<String>,
    /// Attempts before this one.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

/// Claims up to `limit` due messages, leasing them until `lease_until`: until then no
/// instance claims them again, and if this one dies they are due again when it runs out.
pub fn claim(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<Claimed>, DbError> {
    write_transaction(conn, |conn| {
        let lock = match conn {
            DbConnection::Pg(_) => "FOR UPDATE SKIP LOCKED",
            DbConnection::Sqlite(_) => "",
        };
        let sql = format!(
            "UPDATE mail_outbox SET lease_until = ? WHERE id IN (\
             SELECT id FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= ? \
             AND (lease_until IS NULL OR lease_until <= ?) \
             ORDER BY next_attempt_at, id LIMIT ? {lock}) \
             RETURNING id, cause, kind, recipient, subject_id, unit_code, data, secret, attempts"
        );
        Ok(query(conn, &sql)
            .bind::<Timestamp, _>(lease_until)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .load(conn)?)
    })
}

/// Whether a message is due: the idle worker's one read.
pub fn any_due(conn: &mut DbConnection, now: NaiveDateTime) -> Result<bool, DbError> {
    let found: Option<String> = mail_outbox::table
        .filter(mail_outbox::status.eq("pending"))
        .filter(mail_outbox::next_attempt_at.le(now))
        .filter(
            mail_outbox::lease_until
                .is_null()
                .or(mail_outbox::lease_until.le(now)),
        )
        .select(mail_outbox::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Taken by the server (or written to its file), with the subject it had.
    Sent {
        /// The rendered subject, kept for the admins' list.
        subject: String,
    },
    /// Not taken; tried again after `retry_in`, or failed when `None`.
    Refused {
        /// Why, without the recipient's address.
        error: String,
        /// When to try again; `None`: it has failed.
        retry_in: Option<Duration>,
    },
}

/// Records an attempt at a message this instance claimed.
pub fn finish(
    conn: &mut DbConnection,
    id: &str,
    outcome: &Outcome,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let target = mail_outbox::table.filter(mail_outbox::id.eq(id));
    match outcome {
        Outcome::Sent { subject } => diesel::update(target)
            .set((
                mail_outbox::status.eq("sent"),
                mail_outbox::attempts.eq(mail_outbox::attempts + 1),
                mail_outbox::sent_at.eq(Some(now)),
                mail_outbox::secret.eq(None::<String>),
                mail_outbox::lease_until.eq(None::<NaiveDateTime>),
                mail_outbox::next_attempt_at.eq(None::<NaiveDateTime>),
                mail_outbox::subject.eq(Some(subject)),
                mail_outbox::last_error.eq(None::<String>),
            ))
            .execute(conn)?,
        Outcome::Refused {
            error,
            retry_in: Some(after),
        } => diesel::update(target)
            .set((
                mail_outbox::attempts.eq(mail_outbox::attempts + 1),
                mail_outbox::lease_until.eq(None::<NaiveDateTime>),
                mail_outbox::next_attempt_at.eq(Some(now + *after)),
                mail_outbox::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
        Outcome::Refused {
            error,
            retry_in: None,
        } => diesel::update(target)
            .set((
                mail_outbox::status.eq("failed"),
                mail_outbox::attempts.eq(mail_outbox::attempts + 1),
                mail_outbox::secret.eq(None::<String>),
                mail_outbox::lease_until.eq(None::<NaiveDateTime>),
                mail_outbox::next_attempt_at.eq(None::<NaiveDateTime>),
                mail_outbox::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// A message as the admins' list shows it.
#[derive(Debug, Clone, Queryable)]
pub struct Listed {
    /// UUID.
    pub id: String,
    /// Kind.
    pub kind: String,
    /// Full address (the API masks it).
    pub recipient: String,
    /// What it is about.
    pub subject_id: Option<String>,
    /// Unit.
    pub unit_code: Option<String>,
    /// Status.
    pub status: String,
    /// Attempts.
    pub attempts: i32,
    /// Next attempt.
    pub next_attempt_at: Option<NaiveDateTime>,
    /// Last refusal.
    pub last_error: Option<String>,
    /// Subject line, once rendered.
    pub subject: Option<String>,
    /// Queued.
    pub created_at: NaiveDateTime,
    /// Sent.
    pub sent_at: Option<NaiveDateTime>,
}

/// Messages newest first, of one status or all, after a position; `limit` rows.
pub fn list(
    conn: &mut DbConnection,
    status: Option<MailStatus>,
    after: Option<&After>,
    limit: i64,
) -> Result<Vec<Listed>, DbError> {
    let mut q = mail_outbox::table
        .select((
            mail_outbox::id,
            mail_outbox::kind,
            mail_outbox::recipient,
            mail_outbox::subject_id,
            mail_outbox::unit_code,
            mail_outbox::status,
            mail_outbox::attempts,
            mail_outbox::next_attempt_at,
            mail_outbox::last_error,
            mail_outbox::subject,
            mail_outbox::created_at,
            mail_outbox::sent_at,
        ))
        .into_boxed();
    if let Some(status) = status {
        q = q.filter(mail_outbox::status.eq(status.as_str()));
    }
    let q = newest_first_after!(q, mail_outbox::created_at, mail_outbox::id, after);
    Ok(q.limit(limit).load(conn)?)
}

/// The names of units, for the templates.
pub fn unit_name(conn: &mut DbConnection, code: &str) -> Result<Option<String>, DbError> {
    Ok(units::table
        .filter(units::code.eq(code))
        .select(units::name)
        .first(conn)
        .optional()?)
}
