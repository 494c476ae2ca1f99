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

/// One category by code.
pub fn find(conn: &mut DbConnection, code: &str) -> QueryResult<Option<Category>> {
    categories::table
        .find(code)
        .select(Category::as_select())
        .first(conn)
        .optional()
}

/// Changes to a category; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = categories)]
pub struct CategoryChanges {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// Mandatory flag.
    pub mandatory: Option<bool>,
    /// Working days to answer.
    pub answer_days: Option<i32>,
    /// Legal basis.
    pub legal_basis: Option<String>,
    /// Time of the change.
    pub updated_at: Option<NaiveDateTime>,
}

/// Applies changes to a category; false when there is no such category.
pub fn update(conn: &mut DbConnection, code: &str, changes: &CategoryChanges) -> QueryResult<bool> {
    let n = diesel::update(categories::table.find(code))
        .set(changes)
        .execute(conn)?;
    Ok(n > 0)
}

/// The next display position, after every existing category.
pub fn next_position(conn: &mut DbConnection) -> QueryResult<i32> {
    let max: Option<i32> = categories::table
        .select(diesel::dsl::max(categories::position))
        .first(conn)?;
    Ok(max.map_or(0, |m| m + 1))
}
