//! The public Q&A: published questions and their answers, never the askers' details.

use actix_web::{get, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ReplyResponse;
use crate::api::extract::Query;
use crate::api::page::{after_cursor, parse_after};
use crate::api::{date_range, page_limit, split_page, Page};
use crate::domain::question::initials;
use crate::error::{ApiError, Problem};
use crate::service::questions::{self as service, PublicListing, Question, Reply};
use crate::state::AppState;

/// A published question and its answers. Never the asker's contact details.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicQuestion {
    /// Identifier.
    pub id: String,
    /// Title.
    pub title: String,
    /// The question.
    pub body: String,
    /// Category.
    pub category: Option<String>,
    /// The unit that answered.
    pub unit: Option<String>,
    /// The asker's initials, e.g. `N. V. A.`
    #[schema(example = "N. V. A.")]
    pub asker: String,
    /// When it was asked.
    pub asked_at: DateTime<Utc>,
    /// When it was first answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
    /// The answers, oldest first.
    pub replies: Vec<ReplyResponse>,
}

fn public_view(q: Question, replies: Vec<Reply>) -> PublicQuestion {
    PublicQuestion {
        asker: initials(&q.asker.name),
        id: q.id,
        title: q.title,
        body: q.body,
        category: q.category,
        unit: q.unit,
        asked_at: q.received_at.and_utc(),
        answered_at: q.answered_at.map(|t| t.and_utc()),
        published_at: q.published_at.map(|t| t.and_utc()),
        replies: replies.into_iter().map(ReplyResponse::from).collect(),
    }
}

/// Filters and page of the public Q&A.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicQuestionQuery {
    /// Only this category.
    pub category: Option<String>,
    /// Only this unit.
    pub unit: Option<String>,
    /// Words to find, with or without diacritics.
    pub q: Option<String>,
    /// Published on or after this day (Vietnam time).
    pub from: Option<NaiveDate>,
    /// Published on or before this day (Vietnam time).
    pub to: Option<NaiveDate>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The public Q&A: published questions with their answers, newest first.
#[utoipa::path(
    tag = "public",
    params(PublicQuestionQuery),
    responses(
        (status = 200, description = "A page of questions and answers", body = Page<PublicQuestion>),
        (status = 400, description = "Unreadable parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/public/questions")]
pub async fn list_public_questions(
    state: web::Data<AppState>,
    query: Query<PublicQuestionQuery>,
) -> Result<web::Json<Page<PublicQuestion>>, ApiError> {
    let query = query.into_inner();
    let limit = page_limit(query.limit)?;
    let after = parse_after(query.cursor.as_deref())?;
    let (from, to) = date_range(query.from, query.to)?;
    let listing = PublicListing {
        unit: query.unit,
        category: query.category,
        from,
        to,
        q: query.q,
        after,
        limit,
    };
    let mut items = service::list_public(&state, listing).await?;
    let next = split_page(&mut items, limit, |(last, _)| {
        after_cursor(last.published_at.unwrap_or(last.updated_at), &last.id)
    });
    Ok(web::Json(Page {
        items: items.into_iter().map(|(q, r)| public_view(q, r)).collect(),
        next_cursor: next,
    }))
}

/// One published question with its answers.
#[utoipa::path(
    tag = "public",
    params(("id" = String, Path, description = "Question id")),
    responses((status = 200, description = "The question", body = PublicQuestion))
)]
#[get("/public/questions/{id}")]
pub async fn get_public_question(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<web::Json<PublicQuestion>, ApiError> {
    let (q, r) = service::get_public(&state, id.into_inner()).await?;
    Ok(web::Json(public_view(q, r)))
}
