//! Kinds used by the reference data: units and obligations.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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

#[cfg(test)]
mod tests {
    use super::*;

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
