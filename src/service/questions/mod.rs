//! Citizen questions: asking, following and rating them (askers) and the public Q&A here;
//! routing and answering them in [`staff`].

use chrono::{Datelike, NaiveDateTime};
use diesel::Connection;

use crate::auth::token::random_token;
use crate::db::events::record;
use crate::db::questions::{self as store, Asker, Filter, Pending};
use crate::db::submissions::After;
use crate::db::DbConnection;
use crate::domain::calendar::local_date;
use crate::domain::content::{index_text, query_terms};
use crate::domain::events::EventType;
use crate::domain::question::{
    answer_days, check_rating, key_hash, key_opens, normalize_tracking_code, opening_status,
    tracking_code, Actor, Email, Phone, Status,
};
use crate::error::ApiError;
use crate::service::events;
use crate::state::AppState;

mod staff;

pub use staff::{get_for_staff, list_for_staff, reply, take_step, StaffListing, Step};

/// Who asks, as checked at the door.
#[derive(Debug, Clone)]
pub struct NewAsker {
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: Option<Email>,
    /// Phone, in its one stored form.
    pub phone: Option<Phone>,
    /// Postal address.
    pub address: Option<String>,
    /// Organisation.
    pub organization: Option<String>,
}

/// A question as checked at the door.
#[derive(Debug, Clone)]
pub struct NewQuestion {
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// The unit asked, if any.
    pub unit: Option<String>,
    /// Category code, if any.
    pub category: Option<String>,
    /// Who asks.
    pub asker: NewAsker,
    /// Whether it may be shown in the public Q&A.
    pub publish_consent: bool,
}

use crate::db::mail::NewMail;
/// A question and a reply as stored, which the handlers turn into their answers.
pub use crate::db::questions::{Question, Reply};
use crate::domain::mail::MailKind;

/// What the asker keeps: the stored question and its access key, shown only this once.
#[derive(Debug)]
pub struct Asked {
    /// The question as stored.
    pub question: Question,
    /// The secret that, with the tracking code, opens the question.
    pub access_key: String,
}

/// A question with its replies, oldest first.
pub type WithReplies = (Question, Vec<Reply>);

/// A question with its replies and how the caller stands to it.
pub type ForStaff = (Question, Vec<Reply>, Actor);

/// Asks a question: checks the unit and category against the references, dates the answer in
/// working days, and stores it under a tracking code not given before.
pub async fn ask(state: &AppState, new: NewQuestion) -> Result<Asked, ApiError> {
    let access_key = random_token(32);
    let now = state.now();
    // Checked and dated against the references in memory: the writer, which all new
    // questions share, only inserts.
    let received_on = local_date(now.and_utc());
    let references = state.references.get(&state.pool, received_on).await?;
    let days = references
        .check(new.unit.as_deref(), new.category.as_deref())?
        .unwrap_or(state.settings.default_answer_days);
    let due = references
        .calendar
        .deadline_after(now.and_utc(), answer_days(days));
    let question = Question {
        id: uuid::Uuid::now_v7().to_string(),
        tracking_code: tracking_code(received_on.year()),
        access_key_hash: key_hash(&access_key),
        status: opening_status(new.unit.is_some()),
        title: new.title,
        body: new.body,
        category: new.category,
        unit: new.unit,
        asker: Asker {
            name: new.asker.name,
            email: new.asker.email.map(Email::into_inner),
            phone: new.asker.phone.map(Phone::into_inner),
            address: new.asker.address,
            organization: new.asker.organization,
        },
        publish_consent: new.publish_consent,
        rejection_note: None,
        received_at: now,
        due_at: due.due_at.naive_utc(),
        answered_at: None,
        published_at: None,
        updated_at: now,
        rating_score: None,
        rating_comment: None,
        rated_at: None,
    };
    // The receipt carries the access key for its link; it is queued with the question.
    let receipt = question.asker.email.as_ref().map(|email| {
        let mut data = serde_json::Map::new();
        data.insert("recipient_name".into(), question.asker.name.clone().into());
        NewMail::new("", MailKind::Receipt, email, &data, now)
            .about(&question.id, question.unit.as_deref())
            .with_secret(&access_key)
    });
    let pending = Pending {
        search_text: index_text(&format!("{} {}", question.title, question.body)),
        event: asked_event(&question),
        question,
        receipt,
        redraw,
    };
    // The writer stores it with the other new questions of its group; its event is built
    // here, off the writer, and again there only if its code was taken.
    let question = state.insert_question(pending).await?.ok_or_else(|| {
        ApiError::Unavailable(
            "No free tracking code was found; please send the question again".to_string(),
        )
    })?;
    Ok(Asked {
        question,
        access_key,
    })
}

/// Gives a question about to be stored another tracking code, and rebuilds its event for it.
fn redraw(pending: &mut Pending) {
    let year = local_date(pending.question.received_at.and_utc()).year();
    pending.question.tracking_code = tracking_code(year);
    pending.event = asked_event(&pending.question);
}

fn asked_event(question: &Question) -> crate::domain::events::NewEvent {
    events::question(
        EventType::QuestionAsked,
        question,
        "citizen",
        None,
        question.received_at,
    )
}

/// The one answer to a wrong code, a wrong key or no key, so neither can be guessed apart.
fn not_tracked() -> ApiError {
    ApiError::not_found("A question with this code and key")
}

/// The question a tracking code and access key open, read on `conn`.
fn opened(conn: &mut DbConnection, code: &str, key: &str) -> Result<Question, ApiError> {
    match store::find_by_code(conn, &normalize_tracking_code(code))? {
        Some(q) if key_opens(&q.access_key_hash, key) => Ok(q),
        _ => Err(not_tracked()),
    }
}

/// Follows a question with its tracking code and access key.
pub async fn track(
    state: &AppState,
    code: String,
    key: Option<String>,
) -> Result<WithReplies, ApiError> {
    let key = key.ok_or_else(not_tracked)?;
    state
        .read(move |conn| {
            let q = opened(conn, &code, &key)?;
            let replies = store::replies_of(conn, &q.id)?;
            Ok((q, replies))
        })
        .await
}

/// Records the asker's rating, once, after an answer.
pub async fn rate(
    state: &AppState,
    code: String,
    key: Option<String>,
    score: i32,
    comment: Option<String>,
) -> Result<WithReplies, ApiError> {
    let key = key.ok_or_else(not_tracked)?;
    let score = check_rating(score).map_err(|why| ApiError::invalid_field("score", why))?;
    let now = state.now();
    // Through the writer: the rating and its event are one unit of work.
    state
        .write(move |conn| {
            conn.transaction(|conn| rate_on(conn, &code, &key, score, comment.as_deref(), now))
        })
        .await
}

/// Rates the question the code and key open, with its event.
fn rate_on(
    conn: &mut DbConnection,
    code: &str,
    key: &str,
    score: i32,
    comment: Option<&str>,
    now: NaiveDateTime,
) -> Result<WithReplies, ApiError> {
    let q = opened(conn, code, key)?;
    if !store::rate(conn, &q.id, score, comment, now)? {
        let q = store::find(conn, &q.id)?.ok_or_else(|| ApiError::not_found("Question"))?;
        return Err(ApiError::Conflict(if q.rating_score.is_some() {
            "This answer has been rated already".into()
        } else {
            "There is no answer to rate yet".into()
        }));
    }
    let (q, replies) =
        store::find_with_replies(conn, &q.id)?.ok_or_else(|| ApiError::not_found("Question"))?;
    let event = events::question(EventType::QuestionRated, &q, "citizen", None, now);
    record(conn, &event)?;
    Ok((q, replies))
}

/// Words to search for; `None` when words were asked for but none can be searched, which
/// finds nothing.
fn search_terms(q: Option<&str>) -> Option<Vec<String>> {
    let terms = q.map(query_terms).unwrap_or_default();
    if q.is_some_and(|q| !q.trim().is_empty()) && terms.is_empty() {
        None
    } else {
        Some(terms)
    }
}

/// Filters of the public Q&A.
#[derive(Debug, Default)]
pub struct PublicListing {
    /// Only this unit.
    pub unit: Option<String>,
    /// Only this category.
    pub category: Option<String>,
    /// Published at or after (UTC).
    pub from: Option<NaiveDateTime>,
    /// Published before (UTC).
    pub to: Option<NaiveDateTime>,
    /// Words to find.
    pub q: Option<String>,
    /// Continue after this question.
    pub after: Option<After>,
    /// Page size; one more is read, so the caller knows whether a page follows.
    pub limit: usize,
}

/// Published questions with their answers, newest published first, up to `limit + 1`.
pub async fn list_public(
    state: &AppState,
    listing: PublicListing,
) -> Result<Vec<WithReplies>, ApiError> {
    let Some(terms) = search_terms(listing.q.as_deref()) else {
        return Ok(Vec::new());
    };
    let filter = Filter {
        unit: listing.unit,
        category: listing.category,
        from: listing.from,
        to: listing.to,
        terms,
        ..Default::default()
    };
    let fetch = listing.limit as i64 + 1;
    let after = listing.after;
    let (items, mut replies) = state
        .read(move |conn| {
            let items = store::list_published(conn, &filter, after.as_ref(), fetch)?;
            let ids: Vec<String> = items.iter().map(|q| q.id.clone()).collect();
            let replies = store::replies(conn, &ids)?;
            Ok((items, replies))
        })
        .await?;
    Ok(items
        .into_iter()
        .map(|q| {
            let r = replies.remove(&q.id).unwrap_or_default();
            (q, r)
        })
        .collect())
}

/// One published question with its answers; any other is 404.
pub async fn get_public(state: &AppState, id: String) -> Result<WithReplies, ApiError> {
    state
        .read(move |conn| {
            store::find_with_replies(conn, &id)?
                .filter(|(q, _)| q.status == Status::Published)
                .ok_or_else(|| ApiError::not_found("Question"))
        })
        .await
}
