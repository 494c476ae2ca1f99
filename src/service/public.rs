//! Published content for everyone: a page of articles (kept a short while in the public
//! cache), one article, and the newest articles for the feed.

use actix_web::web::Bytes;

use crate::db::submissions::{self as store, After, Filter};
use crate::domain::submission::Status;
use crate::error::ApiError;
use crate::state::AppState;

pub use crate::db::submissions::Submission;

/// Entries in the feed.
pub const FEED_SIZE: i64 = 50;

/// Which published articles a page holds.
#[derive(Debug)]
pub struct ArticleSearch {
    /// The filter; `None` when the search can find nothing (no searchable word).
    pub filter: Option<Filter>,
    /// Continue after this position.
    pub after: Option<After>,
    /// Page size.
    pub limit: usize,
}

/// The answer for the public page `key`: from the public cache when this page was answered
/// recently, else `render`ed from the articles that `search` reads (its `limit + 1` of them,
/// so that the renderer sees whether more follow) and kept, unless content was published or
/// unpublished meanwhile. The query is read only on a miss: a cached page costs one lookup.
/// The cache keeps exactly the bytes answered.
pub async fn article_page(
    state: &AppState,
    key: String,
    search: impl FnOnce() -> Result<ArticleSearch, ApiError>,
    render: impl FnOnce(Vec<Submission>, usize) -> Result<Bytes, ApiError>,
) -> Result<Bytes, ApiError> {
    if let Some(body) = state.public_cache.get(&key) {
        return Ok(body);
    }
    let generation = state.public_cache.generation();
    let ArticleSearch {
        filter,
        after,
        limit,
    } = search()?;
    let items = match filter {
        None => Vec::new(),
        Some(filter) => {
            state
                .read(move |conn| {
                    Ok(store::list_published(
                        conn,
                        &filter,
                        after.as_ref(),
                        limit as i64 + 1,
                    )?)
                })
                .await?
        }
    };
    let body = render(items, limit)?;
    state.public_cache.put(key, body.clone(), generation);
    Ok(body)
}

/// A published article by id; not found when it is not (or no longer) published.
pub async fn article(state: &AppState, id: String) -> Result<Submission, ApiError> {
    state
        .read(move |conn| Ok(store::find(conn, &id)?))
        .await?
        .filter(|s| s.status == Status::Published)
        .ok_or_else(|| ApiError::not_found("Article"))
}

/// The [`FEED_SIZE`] newest published articles, of one unit or category if given.
pub async fn feed(
    state: &AppState,
    unit: Option<String>,
    category: Option<String>,
) -> Result<Vec<Submission>, ApiError> {
    let filter = Filter {
        unit,
        category,
        ..Default::default()
    };
    state
        .read(move |conn| Ok(store::list_published(conn, &filter, None, FEED_SIZE)?))
        .await
}
