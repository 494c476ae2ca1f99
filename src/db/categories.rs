//! Content categories (chuyên mục).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::categories;
use super::DbConnection;

/// A category as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = categories)]
pub struct Category {
    /// Stable slug.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Longer description.
    pub description: String,
    /// Required on every unit's portal by Decree 42/2022 Art. 4.
    pub mandatory: bool,
    /// Working days to answer a question on this topic.
    pub answer_days: i32,
    /// The legal text behind the category.
    pub legal_basis: String,
}

/// A category to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = categories)]
pub struct NewCategory<'a> {
    /// Stable slug.
    pub code: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Longer description.
    pub description: &'a str,
    /// Mandatory flag.
    pub mandatory: bool,
    /// Working days to answer.
    pub answer_days: i32,
    /// Legal basis.
    pub legal_basis: &'a str,
    /// Display order.
    pub position: i32,
    /// Creation time (UTC).
    pub created_at: NaiveDateTime,
    /// Last change (UTC).
    pub updated_at: NaiveDateTime,
}

/// All categories, in display order.
pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<Category>> {
    categories::table
        .order((categories::position.asc(), categories::code.asc()))
        .select(Category::as_select())
        .load(conn)
}

/// Inserts one category.
pub fn insert(conn: &mut DbConnection, category: &NewCategory<'_>) -> QueryResult<()> {
    diesel::insert_into(categories::table)
        .values(category)
        .execute(conn)
        .map(drop)
}
