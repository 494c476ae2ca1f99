//! Accounts: people's user accounts and agencies' API clients.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{api_clients, units, users};
use super::DbConnection;
use crate::domain::access::{is_board, Principal, Role};

/// A user account as stored (the hash never leaves the db and auth layers).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: String,
    username: String,
    password_hash: String,
    role: String,
    unit_code: Option<String>,
    display_name: String,
    disabled: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    credentials_version: i32,
    email: Option<String>,
    notify_digest: bool,
}

/// A person's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// UUID.
    pub id: String,
    /// Login name, lower case.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Unit, for officers.
    pub unit: Option<String>,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Disabled accounts cannot log in, and their tokens stop working.
    pub disabled: bool,
    /// Creation time (UTC).
    pub created_at: NaiveDateTime,
    /// Last change (UTC).
    pub updated_at: NaiveDateTime,
    /// Moves on when the password, role, unit or enabled state changes; tokens carry it.
    pub credentials_version: i32,
    /// Where mail for this person goes, as parsed; none: no mail.
    pub email: Option<String>,
    /// Whether the person wants the periodic digest.
    pub notify_digest: bool,
}

fn corrupt(what: String) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(what.into())
}

impl UserRow {
    fn into_user(self) -> QueryResult<(User, String)> {
        let role = Role::parse(&self.role)
            .ok_or_else(|| corrupt(format!("user {} has unknown role {}", self.id, self.role)))?;
        Ok((
            User {
                id: self.id,
                username: self.username,
                role,
                unit: self.unit_code,
                display_name: self.display_name,
                disabled: self.disabled,
                created_at: self.created_at,
                updated_at: self.updated_at,
                credentials_version: self.credentials_version,
                email: self.email,
                notify_digest: self.notify_digest,
            },
            self.password_hash,
        ))
    }
}

/// A user account to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    /// UUID.
    pub id: &'a str,
    /// Normalised login name.
    pub username: &'a str,
    /// argon2id PHC string.
    pub password_hash: &'a str,
    /// Stored role.
    pub role: &'a str,
    /// Unit code.
    pub unit_code: Option<&'a str>,
    /// Display name.
    pub display_name: &'a str,
    /// Disabled flag.
    pub disabled: bool,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
    /// E-mail address, as parsed.
    pub email: Option<&'a str>,
    /// Whether the person wants the periodic digest.
    pub notify_digest: bool,
}

/// Changes to a user account; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    /// New password hash.
    pub password_hash: Option<String>,
    /// New role.
    pub role: Option<String>,
    /// New unit (`Some(None)` clears it).
    pub unit_code: Option<Option<String>>,
    /// New display name.
    pub display_name: Option<String>,
    /// Disable or enable.
    pub disabled: Option<bool>,
    /// New e-mail address (`Some(None)` clears it).
    pub email: Option<Option<String>>,
    /// Digest on or off.
    pub notify_digest: Option<bool>,
    /// Time of the change.
    pub updated_at: Option<NaiveDateTime>,
}

/// Inserts a user; a taken username is a unique violation.
pub fn insert_user(conn: &mut DbConnection, user: &NewUser<'_>) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values(user)
        .execute(conn)
        .map(drop)
}

/// A user by id.
pub fn find_user(conn: &mut DbConnection, id: &str) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(|r| r.into_user().map(|(u, _)| u))
        .transpose()
}

/// A user with the stored password hash, by normalised username, for logging in.
pub fn find_login(conn: &mut DbConnection, username: &str) -> QueryResult<Option<(User, String)>> {
    users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(UserRow::into_user)
        .transpose()
}

/// Filters for listing users.
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    /// Only this role.
    pub role: Option<Role>,
    /// Only this unit.
    pub unit: Option<String>,
    /// Only disabled (true) or enabled (false) accounts.
    pub disabled: Option<bool>,
}

/// Up to `limit` users after `after` (a username), in username order.
pub fn list_users(
    conn: &mut DbConnection,
    filter: &UserFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<User>> {
    let mut query = users::table.into_boxed();
    if let Some(role) = filter.role {
        query = query.filter(users::role.eq(role.as_str()));
    }
    if let Some(unit) = &filter.unit {
        query = query.filter(users::unit_code.eq(unit.clone()));
    }
    if let Some(disabled) = filter.disabled {
        query = query.filter(users::disabled.eq(disabled));
    }
    if let Some(after) = after {
        query = query.filter(users::username.gt(after.to_string()));
    }
    query
        .order(users::username.asc())
        .limit(limit)
        .select(UserRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| r.into_user().map(|(u, _)| u))
        .collect()
}

/// Moves a user's credentials version on, so every token issued before is refused.
pub fn bump_user_credentials(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::credentials_version.eq(users::credentials_version + 1))
        .execute(conn)
        .map(drop)
}

/// Applies changes to a user; false when there is no such user.
pub fn update_user(conn: &mut DbConnection, id: &str, changes: &UserChanges) -> QueryResult<bool> {
    let n = diesel::update(users::table.find(id))
        .set(changes)
        .execute(conn)?;
    Ok(n > 0)
}

/// How many users exist at all.
pub fn count_users(conn: &mut DbConnection) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

/// How many enabled admins exist.
pub fn count_active_admins(conn: &mut DbConnection) -> QueryResult<i64> {
    users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::disabled.eq(false))
        .count()
        .get_result(conn)
}

/// A person who gets the periodic digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestRecipient {
    /// The user's id.
    pub user_id: String,
    /// Where the digest goes.
    pub email: String,
    /// Name to address the person by.
    pub display_name: String,
    /// The account's role, as stored: an admin stays `Admin` (the digest's content follows
    /// [`is_board`]).
    pub role: Role,
    /// The unit, for officers.
    pub unit_code: Option<String>,
}

/// Keeps the first of each address, compared without regard to case: a message goes to an
/// address once however many accounts share it (and the outbox refuses a second message of
/// one cause to one recipient).
fn distinct_addresses(
    recipients: impl IntoIterator<Item = (String, Option<String>)>,
) -> Vec<(String, Option<String>)> {
    let mut seen = std::collections::HashSet::new();
    recipients
        .into_iter()
        .filter(|(email, _)| seen.insert(email.to_lowercase()))
        .collect()
}

/// Who mail about a unit goes to: the e-mail address and display name of each enabled
/// officer of the unit that has an address (by username), then the unit's contact address
/// (no name); each address once, compared without regard to case.
pub fn unit_recipients(
    conn: &mut DbConnection,
    unit_code: &str,
) -> QueryResult<Vec<(String, Option<String>)>> {
    let officers: Vec<(Option<String>, String)> = users::table
        .filter(users::role.eq(Role::Officer.as_str()))
        .filter(users::unit_code.eq(unit_code))
        .filter(users::disabled.eq(false))
        .filter(users::email.is_not_null())
        .order(users::username.asc())
        .select((users::email, users::display_name))
        .load(conn)?;
    let contact: Option<String> = units::table
        .find(unit_code)
        .select(units::email)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten();
    let officers = officers
        .into_iter()
        .filter_map(|(email, name)| email.map(|e| (e, Some(name))));
    Ok(distinct_addresses(
        officers.chain(contact.map(|e| (e, None))),
    ))
}

/// The e-mail address and display name of each enabled user of `role` that has an address,
/// by username; each address once, compared without regard to case.
pub fn role_recipients(
    conn: &mut DbConnection,
    role: Role,
) -> QueryResult<Vec<(String, Option<String>)>> {
    let found: Vec<(Option<String>, String)> = users::table
        .filter(users::role.eq(role.as_str()))
        .filter(users::disabled.eq(false))
        .filter(users::email.is_not_null())
        .order(users::username.asc())
        .select((users::email, users::display_name))
        .load(conn)?;
    Ok(distinct_addresses(found.into_iter().filter_map(
        |(email, name)| email.map(|e| (e, Some(name))),
    )))
}

/// Everyone who gets the periodic digest, by username: enabled users with an e-mail address
/// and `notify_digest` on, whose role is officer or the editorial board (editors and
/// admins, [`is_board`]). One per account: each gets a digest of their own.
pub fn digest_recipients(conn: &mut DbConnection) -> QueryResult<Vec<DigestRecipient>> {
    let roles: Vec<&str> = Role::ALL
        .into_iter()
        .filter(|r| *r == Role::Officer || is_board(*r))
        .map(|r| r.as_str())
        .collect();
    let rows: Vec<UserRow> = users::table
        .filter(users::role.eq_any(roles))
        .filter(users::disabled.eq(false))
        .filter(users::notify_digest.eq(true))
        .filter(users::email.is_not_null())
        .order(users::username.asc())
        .select(UserRow::as_select())
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let (user, _) = row.into_user()?;
        if let Some(email) = user.email {
            out.push(DigestRecipient {
                user_id: user.id,
                email,
                display_name: user.display_name,
                role: user.role,
                unit_code: user.unit,
            });
        }
    }
    Ok(out)
}

/// An API client as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = api_clients)]
pub struct ApiClient {
    /// UUID of the record.
    pub id: String,
    /// Public identifier used to log in.
    pub client_id: String,
    /// argon2id hash of the secret.
    pub secret_hash: String,
    /// What the client is (e.g. the agency portal's name).
    pub name: String,
    /// The unit it acts for.
    pub unit_code: String,
    /// Creation time (UTC).
    pub created_at: NaiveDateTime,
    /// When it was revoked; revoked clients cannot log in.
    pub revoked_at: Option<NaiveDateTime>,
    /// Moves on when the secret is rotated or the client revoked; tokens carry it.
    pub credentials_version: i32,
}

/// An API client to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = api_clients)]
pub struct NewApiClient<'a> {
    /// UUID of the record.
    pub id: &'a str,
    /// Public identifier.
    pub client_id: &'a str,
    /// argon2id hash of the secret.
    pub secret_hash: &'a str,
    /// Name.
    pub name: &'a str,
    /// Unit code.
    pub unit_code: &'a str,
    /// Creation time.
    pub created_at: NaiveDateTime,
}

/// Inserts an API client.
pub fn insert_client(conn: &mut DbConnection, client: &NewApiClient<'_>) -> QueryResult<()> {
    diesel::insert_into(api_clients::table)
        .values(client)
        .execute(conn)
        .map(drop)
}

/// Clients in creation order; revoked ones only when asked.
pub fn list_clients(conn: &mut DbConnection, include_revoked: bool) -> QueryResult<Vec<ApiClient>> {
    let mut query = api_clients::table.into_boxed();
    if !include_revoked {
        query = query.filter(api_clients::revoked_at.is_null());
    }
    query
        .order((api_clients::created_at.asc(), api_clients::id.asc()))
        .select(ApiClient::as_select())
        .load(conn)
}

/// A client by its public client id, for logging in.
pub fn find_client_login(
    conn: &mut DbConnection,
    client_id: &str,
) -> QueryResult<Option<ApiClient>> {
    api_clients::table
        .filter(api_clients::client_id.eq(client_id))
        .select(ApiClient::as_select())
        .first(conn)
        .optional()
}

/// A client, revoked or not, by its record id or its public client id.
pub fn find_client(conn: &mut DbConnection, id: &str) -> QueryResult<Option<ApiClient>> {
    api_clients::table
        .filter(api_clients::id.eq(id).or(api_clients::client_id.eq(id)))
        .select(ApiClient::as_select())
        .first(conn)
        .optional()
}

/// Revokes a client by record id or client id; returns the client as it was, or `None` if
/// there is none or it was revoked already.
pub fn revoke_client(
    conn: &mut DbConnection,
    id: &str,
    at: NaiveDateTime,
) -> QueryResult<Option<ApiClient>> {
    let Some(client) = find_client(conn, id)?.filter(|c| c.revoked_at.is_none()) else {
        return Ok(None);
    };
    diesel::update(api_clients::table.find(&client.id))
        .set((
            api_clients::revoked_at.eq(Some(at)),
            api_clients::credentials_version.eq(api_clients::credentials_version + 1),
        ))
        .execute(conn)?;
    Ok(Some(client))
}

/// Gives a client (by record id) a new secret hash and moves its credentials version on, so
/// tokens issued with the old secret are refused.
pub fn rotate_client_secret(
    conn: &mut DbConnection,
    id: &str,
    secret_hash: &str,
) -> QueryResult<()> {
    diesel::update(api_clients::table.find(id))
        .set((
            api_clients::secret_hash.eq(secret_hash),
            api_clients::credentials_version.eq(api_clients::credentials_version + 1),
        ))
        .execute(conn)
        .map(drop)
}

/// The principal a token subject stands for now, with its credentials version: `None` when
/// the account is disabled, revoked, or gone.
pub fn principal(conn: &mut DbConnection, subject: &str) -> QueryResult<Option<(Principal, i32)>> {
    if let Some(id) = subject.strip_prefix("user:") {
        Ok(find_user(conn, id)?.filter(|u| !u.disabled).map(|u| {
            let principal = Principal {
                subject: subject.to_string(),
                role: u.role,
                unit: u.unit,
            };
            (principal, u.credentials_version)
        }))
    } else if let Some(client_id) = subject.strip_prefix("client:") {
        Ok(find_client_login(conn, client_id)?
            .filter(|c| c.revoked_at.is_none())
            .map(|c| {
                let principal = Principal {
                    subject: subject.to_string(),
                    role: Role::Officer,
                    unit: Some(c.unit_code),
                };
                (principal, c.credentials_version)
            }))
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_kept_once_whatever_its_case() {
        let got = distinct_addresses([
            ("An@So.gov.vn".to_string(), Some("An".to_string())),
            ("binh@so.gov.vn".to_string(), Some("Bình".to_string())),
            ("an@so.gov.vn".to_string(), None),
        ]);
        assert_eq!(
            got,
            [
                ("An@So.gov.vn".to_string(), Some("An".to_string())),
                ("binh@so.gov.vn".to_string(), Some("Bình".to_string())),
            ]
        );
    }
}
