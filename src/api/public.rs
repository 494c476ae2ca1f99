//! Published content for everyone: the article list, one article, and the Atom feed.

use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::Query;
use super::page::{after_cursor, parse_after};
use super::submissions::filter_of;
use super::{page_limit, split_page, Page};
use crate::domain::content::Attachment;
use crate::domain::submission::Status;
use crate::error::{ApiError, Problem};
use crate::service::public::{self as service, ArticleSearch, Submission};
use crate::state::AppState;

/// A published article. No workflow notes, no internal names.
#[derive(Debug, Serialize, ToSchema)]
pub struct Article {
    /// Identifier.
    pub id: String,
    /// The unit it comes from.
    pub unit: String,
    /// Category code.
    pub category: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Sanitised HTML.
    pub body: String,
    /// Source document number.
    pub source_ref: Option<String>,
    /// Source document address.
    pub source_url: Option<String>,
    /// When the event took place.
    pub event_date: Option<NaiveDate>,
    /// Attachments.
    pub attachments: Vec<Attachment>,
    /// When it was published.
    pub published_at: DateTime<Utc>,
}

impl From<Submission> for Article {
    fn from(s: Submission) -> Self {
        Self {
            id: s.id,
            unit: s.unit,
            category: s.content.category,
            title: s.content.title,
            summary: s.content.summary,
            body: s.content.body,
            source_ref: s.content.source_ref,
            source_url: s.content.source_url,
            event_date: s.content.event_date,
            attachments: s.content.attachments,
            published_at: s.published_at.unwrap_or(s.updated_at).and_utc(),
        }
    }
}

/// Filters and page of the public list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArticleQuery {
    /// Only this category.
    pub category: Option<String>,
    /// Only this unit.
    pub unit: Option<String>,
    /// Words to find, with or without diacritics (`tuyen dung` finds `Tuyển dụng`).
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

/// List published articles, newest first.
#[utoipa::path(
    tag = "public",
    params(ArticleQuery),
    responses(
        (status = 200, description = "A page of articles", body = Page<Article>),
        (status = 400, description = "Unreadable parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/public/articles")]
pub async fn list_articles(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: Query<ArticleQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let search = || {
        Ok(ArticleSearch {
            limit: page_limit(query.limit)?,
            after: parse_after(query.cursor.as_deref())?,
            filter: filter_of(
                query.unit,
                Some(Status::Published),
                query.category,
                query.from,
                query.to,
                query.q.as_deref(),
            )?,
        })
    };
    let render = |mut items: Vec<_>, limit| {
        let next = split_page(&mut items, limit, |last: &service::Submission| {
            after_cursor(last.published_at.unwrap_or(last.updated_at), &last.id)
        });
        let page = Page {
            items: items.into_iter().map(Article::from).collect(),
            next_cursor: next,
        };
        Ok(web::Bytes::from(
            serde_json::to_vec(&page).map_err(anyhow::Error::from)?,
        ))
    };
    let body = service::article_page(&state, req.uri().to_string(), search, render).await?;
    Ok(HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(body))
}

/// Get a published article.
#[utoipa::path(
    tag = "public",
    params(("id" = String, Path, description = "Article id")),
    responses((status = 200, description = "The article", body = Article))
)]
#[get("/public/articles/{id}")]
pub async fn get_article(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<web::Json<Article>, ApiError> {
    let article = service::article(&state, id.into_inner()).await?;
    Ok(web::Json(article.into()))
}

/// Filters of the feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Only this category.
    pub category: Option<String>,
    /// Only this unit.
    pub unit: Option<String>,
}

/// Escapes text for XML content and attribute values.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 forbids are dropped rather than breaking the document.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The Atom feed of the 50 newest published articles.
#[utoipa::path(
    tag = "public",
    params(FeedQuery),
    responses((status = 200, description = "Atom 1.0", body = String, content_type = "application/atom+xml"))
)]
#[get("/public/feed.atom")]
pub async fn feed(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: Query<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let items = service::feed(&state, query.unit.clone(), query.category.clone()).await?;
    let info = req.connection_info();
    let base = format!("{}://{}", info.scheme(), info.host());
    let self_url = format!("{base}{}", req.uri());
    let updated = items
        .first()
        .and_then(|s| s.published_at)
        .map(|t| t.and_utc())
        .unwrap_or(DateTime::UNIX_EPOCH);
    let mut out = String::with_capacity(8192);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"vi\">\n");
    out.push_str("  <title>Cổng Thông tin điện tử tỉnh: tin bài mới</title>\n");
    out.push_str(&format!(
        "  <id>urn:portal-api:feed:articles{}</id>\n",
        xml(&feed_scope(&query))
    ));
    out.push_str(&format!("  <updated>{}</updated>\n", rfc3339(updated)));
    out.push_str(&format!(
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n",
        xml(&self_url)
    ));
    out.push_str("  <author><name>Cổng Thông tin điện tử tỉnh</name></author>\n");
    for s in items {
        let published = s.published_at.unwrap_or(s.updated_at).and_utc();
        out.push_str("  <entry>\n");
        out.push_str(&format!("    <id>urn:uuid:{}</id>\n", xml(&s.id)));
        out.push_str(&format!("    <title>{}</title>\n", xml(&s.content.title)));
        out.push_str(&format!(
            "    <link rel=\"alternate\" type=\"application/json\" href=\"{}/api/v1/public/articles/{}\"/>\n",
            xml(&base),
            xml(&s.id)
        ));
        out.push_str(&format!(
            "    <published>{}</published>\n",
            rfc3339(published)
        ));
        out.push_str(&format!("    <updated>{}</updated>\n", rfc3339(published)));
        out.push_str(&format!(
            "    <category term=\"{}\"/>\n",
            xml(&s.content.category)
        ));
        out.push_str(&format!(
            "    <author><name>{}</name></author>\n",
            xml(&s.unit)
        ));
        if !s.content.summary.is_empty() {
            out.push_str(&format!(
                "    <summary>{}</summary>\n",
                xml(&s.content.summary)
            ));
        }
        out.push_str(&format!(
            "    <content type=\"html\">{}</content>\n",
            xml(&s.content.body)
        ));
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    Ok(HttpResponse::Ok()
        .content_type("application/atom+xml; charset=utf-8")
        .body(out))
}

/// A stable suffix for the feed id, so each filtered feed has its own.
fn feed_scope(query: &FeedQuery) -> String {
    let mut scope = String::new();
    if let Some(unit) = &query.unit {
        scope.push_str(&format!(":unit:{unit}"));
    }
    if let Some(category) = &query.category {
        scope.push_str(&format!(":category:{category}"));
    }
    scope
}
