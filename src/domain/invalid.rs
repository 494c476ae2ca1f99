//! Why a value was refused: a stable code for programs and a message for people. The refused
//! value itself is never part of it, so it cannot reach an answer or a log.

use std::borrow::Cow;
use std::fmt;

/// A refused value: a stable `code` (`required`, `too_long`, `invalid_email`, …) and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Stable, machine-readable: clients branch on it.
    pub code: &'static str,
    /// What is wrong, for a person.
    pub message: Cow<'static, str>,
}

impl Invalid {
    /// A refusal with its code and message.
    pub fn new(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// A value that must be given and is missing or empty.
    pub fn required() -> Self {
        Self::new("required", "must not be empty")
    }

    /// A text longer than `max` characters.
    pub fn too_long(max: usize) -> Self {
        Self::new("too_long", format!("must be at most {max} characters"))
    }

    /// A text shorter than `min` characters.
    pub fn too_short(min: usize) -> Self {
        Self::new("too_short", format!("must be at least {min} characters"))
    }

    /// A text with control characters where none belong.
    pub fn control_characters() -> Self {
        Self::new("control_character", "must not contain control characters")
    }

    /// A number outside its range.
    pub fn out_of_range(min: i64, max: i64) -> Self {
        Self::new("out_of_range", format!("must be between {min} and {max}"))
    }

    /// Anything else, with the generic code `invalid`.
    pub fn other(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new("invalid", message)
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for Invalid {
    fn from(message: String) -> Self {
        Self::other(message)
    }
}

impl From<&'static str> for Invalid {
    fn from(message: &'static str) -> Self {
        Self::other(message)
    }
}

impl From<Invalid> for String {
    fn from(invalid: Invalid) -> Self {
        invalid.message.into_owned()
    }
}
