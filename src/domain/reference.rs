//! Reference data: the codes and kinds of units and categories, the rules of succession, and
//! the kinds used by obligations.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::invalid::Invalid;

/// What kind of government unit this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// A provincial department, board or agency (sở, ban, ngành).
    Department,
    /// A district-level People's Committee (UBND huyện, thị xã, thành phố).
    District,
}

/// How often an obligation falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    /// Every calendar month.
    Monthly,
    /// Every calendar quarter.
    Quarterly,
}

macro_rules! text_enum {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// The stored and wire form.
            pub fn as_str(&self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Reads the stored form; `None` for anything else.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

text_enum!(UnitKind { Department => "department", District => "district" });
text_enum!(Cadence { Monthly => "monthly", Quarterly => "quarterly" });

/// Why a unit may not be named, given whether it is active (`None`: no such unit); `None`
/// when it may.
pub fn unit_refusal(code: &str, active: Option<bool>) -> Option<String> {
    match active {
        None => Some(format!("no unit has the code {code:?}")),
        Some(false) => Some(format!("unit {code:?} is deactivated")),
        Some(true) => None,
    }
}

/// Checks a slug: lower-case words of `a-z 0-9` joined by single hyphens, 2–64 long. It is
/// not normalised, so that what is stored is what was sent.
fn slug(s: &str) -> Result<String, Invalid> {
    let ok_chars = s.split('-').all(|part| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    });
    if !(2..=64).contains(&s.len()) || !ok_chars {
        return Err(Invalid::new(
            "invalid_code",
            "must be 2 to 64 characters: lower-case words of a-z and 0-9 joined by single \
             hyphens, e.g. so-khcn",
        ));
    }
    Ok(s.to_string())
}

macro_rules! code_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// Checks a code (see the type's rules).
            pub fn parse(s: &str) -> Result<Self, Invalid> {
                slug(s).map(Self)
            }

            /// The code.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

code_type!(
    /// A unit's stable code, e.g. `so-khcn`: lower-case words of `a-z 0-9` joined by `-`.
    UnitCode
);
code_type!(
    /// A category's stable code, e.g. `khoa-hoc-cong-nghe`, with the rules of [`UnitCode`].
    CategoryCode
);

/// Why `successor` may not take over the duties of unit `code`, given whether it is active
/// (`None`: no such unit) and whether it was already named; `None` when it may.
pub fn successor_refusal(
    code: &str,
    successor: &str,
    active: Option<bool>,
    named_before: bool,
) -> Option<String> {
    if successor == code {
        return Some("a unit cannot succeed itself".into());
    }
    if named_before {
        return Some("named twice".into());
    }
    match active {
        None => Some(format!("no unit has the code {successor:?}")),
        Some(false) => Some(format!("unit {successor:?} is itself deactivated")),
        Some(true) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_hyphenated_lower_case_words() {
        assert!(UnitCode::parse("so-khcn").is_ok());
        assert!(CategoryCode::parse("h-bu-dang").is_ok());
        for bad in [
            "So-KHCN",
            "so--khcn",
            "-so",
            "so-",
            "s",
            "sở-khcn",
            "so khcn",
        ] {
            assert_eq!(
                UnitCode::parse(bad).unwrap_err().code,
                "invalid_code",
                "{bad}"
            );
        }
    }

    #[test]
    fn a_successor_is_another_active_unit_named_once() {
        let refusal = |s, active, twice| successor_refusal("a", s, active, twice);
        assert_eq!(refusal("b", Some(true), false), None);
        assert!(refusal("a", Some(true), false).unwrap().contains("itself"));
        assert_eq!(refusal("b", Some(true), true).unwrap(), "named twice");
        assert!(refusal("b", None, false).unwrap().contains("no unit"));
        assert!(refusal("b", Some(false), false)
            .unwrap()
            .contains("deactivated"));
    }

    #[test]
    fn kinds_round_trip_through_their_stored_form() {
        for kind in [UnitKind::Department, UnitKind::District] {
            assert_eq!(UnitKind::parse(kind.as_str()), Some(kind));
        }
        for cadence in [Cadence::Monthly, Cadence::Quarterly] {
            assert_eq!(Cadence::parse(cadence.as_str()), Some(cadence));
        }
        assert_eq!(UnitKind::parse("ward"), None);
    }
}
