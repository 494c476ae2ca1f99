//! What identifies an account and what people type in: usernames, user ids, names.

use std::fmt;
use std::net::IpAddr;

use super::invalid::Invalid;

/// A login name: 3–64 characters of `a-z 0-9 . _ - @`, kept in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Normalises (trim, lower case) and checks a username.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim().to_lowercase();
        let len = s.chars().count();
        if !(3..=64).contains(&len) {
            let code = if len < 3 { "too_short" } else { "too_long" };
            return Err(Invalid::new(code, "must be 3 to 64 characters"));
        }
        if !s.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '@')
        }) {
            return Err(Invalid::other(
                "may contain only letters a-z, digits and . _ - @",
            ));
        }
        Ok(Self(s))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user account's id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserId(String);

impl UserId {
    /// An id as given in a path; unknown ids are simply not found.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The token subject of this user.
    pub fn subject(&self) -> String {
        format!("user:{}", self.0)
    }
}

/// A human-readable name: trimmed, not empty, at most `max` characters, no control characters.
pub fn parse_name(s: &str, max: usize) -> Result<String, Invalid> {
    let s = s.trim();
    if s.is_empty() {
        return Err(Invalid::required());
    }
    if s.chars().count() > max {
        return Err(Invalid::too_long(max));
    }
    if s.chars().any(char::is_control) {
        return Err(Invalid::control_characters());
    }
    Ok(s.to_string())
}

/// Optional free text: trimmed, at most `max` characters (newlines allowed).
pub fn parse_text(s: &str, max: usize) -> Result<String, Invalid> {
    let s = s.trim();
    if s.chars().count() > max {
        return Err(Invalid::too_long(max));
    }
    if s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(Invalid::control_characters());
    }
    Ok(s.to_string())
}

/// Login attempts allowed per login name within [`LOCKOUT_WINDOW_MINUTES`].
pub const MAX_FAILURES: i64 = 10;
/// The window over which login attempts are counted.
pub const LOCKOUT_WINDOW_MINUTES: i64 = 15;

/// The key a person's login attempts are counted under.
pub fn user_login_key(username: &str) -> String {
    format!("user:{username}")
}

/// The key an API client's login attempts are counted under.
pub fn client_login_key(client_id: &str) -> String {
    format!("client:{client_id}")
}

/// The key a client address's failed logins are counted under. An IPv6 client usually holds
/// a whole /64, so it counts as one address.
pub fn address_login_key(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => format!("addr:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("addr:{v4}"),
            None => {
                let s = v6.segments();
                format!("addr:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(
            Username::parse("  Editor.One ").unwrap().as_str(),
            "editor.one"
        );
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("bad name").is_err());
        assert!(Username::parse("tên").is_err());
        assert!(Username::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("  Sở Nội vụ ", 200).unwrap(), "Sở Nội vụ");
        assert!(parse_name("   ", 200).is_err());
        assert!(parse_name("a\u{0}b", 200).is_err());
        assert!(parse_name(&"x".repeat(201), 200).is_err());
        assert_eq!(
            parse_text("line one\nline two", 100).unwrap(),
            "line one\nline two"
        );
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_bit_prefix() {
        let key = |a: &str| address_login_key(a.parse().unwrap());
        assert_eq!(key("203.0.113.7"), "addr:203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7"), "addr:203.0.113.7");
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "addr:2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:bbbb::9"), key("2001:db8:1:2:aaaa::1"));
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
    }
}
