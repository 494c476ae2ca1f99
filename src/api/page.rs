//! Pages of lists: the page body, its size limit, and the opaque cursor that continues it.

use base64::Engine;
use chrono::{DateTime, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, FieldError};
use crate::service::submissions::After;

/// One page of a list; `next_cursor` is null on the last page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null when there is none.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Page<T> {
    /// A whole, bounded list answered as a single page.
    pub fn complete(items: Vec<T>) -> Self {
        Self {
            items,
            next_cursor: None,
        }
    }
}

/// Cuts rows fetched as `limit + 1` down to the page; when more follow, returns the cursor
/// that continues after the page's last row.
pub fn split_page<R>(
    rows: &mut Vec<R>,
    limit: usize,
    cursor: impl Fn(&R) -> String,
) -> Option<String> {
    (rows.len() > limit).then(|| {
        rows.truncate(limit);
        cursor(&rows[limit - 1])
    })
}

/// Page size when none is asked for.
pub const DEFAULT_LIMIT: usize = 20;
/// Largest page size.
pub const MAX_LIMIT: usize = 100;

/// Checks `?limit=`: 1 to [`MAX_LIMIT`], default [`DEFAULT_LIMIT`].
pub fn page_limit(limit: Option<u32>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT as u32).contains(&n) => Ok(n as usize),
        Some(_) => Err(ApiError::InvalidParameter(FieldError::new(
            "limit",
            format!("must be from 1 to {MAX_LIMIT}"),
        ))),
    }
}

/// An opaque position in a list: the sort key of the last item served, base64url-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

fn not_a_cursor() -> ApiError {
    ApiError::InvalidParameter(FieldError::new("cursor", "is not a cursor this API gave"))
}

impl Cursor {
    /// The cursor that continues after `key`.
    pub fn encode(key: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
    }

    /// Reads a cursor given back by a client.
    pub fn decode(s: &str) -> Result<Self, ApiError> {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .map(Self)
            .ok_or_else(not_a_cursor)
    }

    /// The sort key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The cursor of a newest-first list that continues after the item sorted at `at` with `id`.
pub fn after_cursor(at: NaiveDateTime, id: &str) -> String {
    Cursor::encode(&format!("{}|{id}", at.and_utc().timestamp_micros()))
}

/// Reads a cursor made by [`after_cursor`]; no cursor is the start of the list.
pub fn parse_after(cursor: Option<&str>) -> Result<Option<After>, ApiError> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let decoded = Cursor::decode(cursor)?;
    let (micros, id) = decoded.as_str().split_once('|').ok_or_else(not_a_cursor)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(not_a_cursor)?;
    Ok(Some(After {
        at: at.naive_utc(),
        id: id.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_survives_its_cursor() {
        let at = DateTime::from_timestamp_micros(1_767_225_600_123_456)
            .unwrap()
            .naive_utc();
        let cursor = after_cursor(at, "a|b");
        assert_eq!(
            parse_after(Some(&cursor)).unwrap(),
            Some(After {
                at,
                id: "a|b".into()
            })
        );
        assert_eq!(parse_after(None).unwrap(), None);
    }

    #[test]
    fn a_cursor_the_api_did_not_give_is_refused() {
        for bad in ["%%%", &Cursor::encode("no-bar"), &Cursor::encode("x|id")] {
            assert_eq!(
                parse_after(Some(bad)).unwrap_err().code(),
                "invalid_parameter",
                "{bad}"
            );
        }
    }

    #[test]
    fn pages_end_with_the_cursor_of_their_last_row() {
        let mut rows = vec![1, 2, 3];
        assert_eq!(
            split_page(&mut rows, 2, |r| r.to_string()),
            Some("2".into())
        );
        assert_eq!(rows, [1, 2]);
        let mut rows = vec![1, 2];
        assert_eq!(split_page(&mut rows, 2, |r| r.to_string()), None);
        assert!(page_limit(Some(0)).is_err() && page_limit(Some(101)).is_err());
        assert_eq!(page_limit(None).unwrap(), DEFAULT_LIMIT);
    }
}
