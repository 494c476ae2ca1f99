//! Keyset pagination of newest-first lists: where a page ends, and the condition that continues
//! after it. A position, unlike an offset, stays put while new rows arrive.

use chrono::NaiveDateTime;

/// A position in a newest-first list: the sort time and the id of the last item served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    /// Sort time of the last item.
    pub at: NaiveDateTime,
    /// Its id, to break ties.
    pub id: String,
}

/// Orders a boxed query newest first by `($at, $id)` and, given `Some(&After)`, keeps only the
/// rows after that position: older, or as old with a smaller id. The two columns are a table's
/// sort time (nullable or not) and its text primary key; the order and the condition must use
/// the same pair, or a page would skip or repeat rows.
macro_rules! newest_first_after {
    ($query:expr, $at:expr, $id:expr, $after:expr) => {{
        let mut query = $query;
        let after: Option<&$crate::db::page::After> = $after;
        if let Some(after) = after {
            query = query.filter(
                $at.lt(after.at)
                    .or($at.eq(after.at).and($id.lt(after.id.clone()))),
            );
        }
        query.order(($at.desc(), $id.desc()))
    }};
}

pub(crate) use newest_first_after;
