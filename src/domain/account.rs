//! Identifiers typed in by people: usernames, codes of units and categories, names.

use std::fmt;

use super::invalid::Invalid;

/// A login name: 3–64 characters of `a-z 0-9 . _ - @`, kept in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Normalises (trim, lower case) and checks a username.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim().to_lowercase();
        let len = s.chars().count();
        if !(3..=64).contains(&len) {
            return Err("must be 3 to 64 characters".into());
        }
        if !s.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '@')
        }) {
            return Err("may contain only letters a-z, digits and . _ - @".into());
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

/// A stable slug for units and categories: lower-case words of `a-z 0-9` joined by `-`, 2–64 long.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Code(String);

impl Code {
    /// Checks a code; it is not normalised, so that what is stored is what was sent.
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok_chars = s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
        if !(2..=64).contains(&s.len()) || !ok_chars {
            return Err("must be 2 to 64 characters: lower-case words of a-z and 0-9 joined by single hyphens, e.g. so-khcn".into());
        }
        Ok(Self(s.to_string()))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
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
    fn codes_are_hyphenated_lower_case_words() {
        assert!(Code::parse("so-khcn").is_ok());
        assert!(Code::parse("h-bu-dang").is_ok());
        for bad in [
            "So-KHCN",
            "so--khcn",
            "-so",
            "so-",
            "s",
            "sở-khcn",
            "so khcn",
        ] {
            assert!(Code::parse(bad).is_err(), "{bad}");
        }
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
}
