//! The asker's details: how to reach them, and how they are shown in public.

use crate::domain::invalid::Invalid;

/// An e-mail address, checked for form only: one `@`, a dotted domain, no spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Reads an address as typed, trimmed; refuses it with `invalid_email`.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        let bad = || {
            Invalid::new(
                "invalid_email",
                "must be an e-mail address like ten@example.vn",
            )
        };
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && domain
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '-'));
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(bad());
        }
        Ok(Self(s.to_string()))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A Vietnamese phone number in one form, `+84` and 9 digits, so that `0912 345 678` and
/// `+84912345678` are the same number wherever they are stored or compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Reads `0` or `+84` then 9 digits, with spaces and dots allowed; refuses anything else
    /// with `invalid_phone`.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let compact: String = s.chars().filter(|c| !matches!(c, ' ' | '.')).collect();
        let digits = compact
            .strip_prefix("+84")
            .or_else(|| compact.strip_prefix('0'));
        match digits {
            Some(d) if d.len() == 9 && d.chars().all(|c| c.is_ascii_digit()) => {
                Ok(Self(format!("+84{d}")))
            }
            _ => Err(Invalid::new(
                "invalid_phone",
                "must be a Vietnamese phone number: 0 or +84 followed by 9 digits",
            )),
        }
    }

    /// The number as `+84` and 9 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Whether a contact field was left out: absent, or only blanks.
fn blank(field: Option<&str>) -> bool {
    field.is_none_or(|v| v.trim().is_empty())
}

/// The asker must be reachable: an e-mail address or a phone number (or both).
pub fn contact_given(email: Option<&str>, phone: Option<&str>) -> Result<(), Invalid> {
    if blank(email) && blank(phone) {
        Err(Invalid::other("give an e-mail address or a phone number"))
    } else {
        Ok(())
    }
}

/// An optional e-mail address: blank counts as none.
pub fn optional_email(email: Option<&str>) -> Result<Option<Email>, Invalid> {
    email
        .filter(|e| !blank(Some(e)))
        .map(Email::parse)
        .transpose()
}

/// An optional phone number: blank counts as none.
pub fn optional_phone(phone: Option<&str>) -> Result<Option<Phone>, Invalid> {
    phone
        .filter(|p| !blank(Some(p)))
        .map(Phone::parse)
        .transpose()
}

/// A name shortened to initials for the public, e.g. `Nguyễn Văn An` → `N. V. A.`
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
        .map(|c| format!("{}.", c.to_uppercase()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_kept_in_one_form_and_emails_checked_for_form() {
        assert_eq!(
            Phone::parse("0912 345.678").unwrap().as_str(),
            "+84912345678"
        );
        assert_eq!(
            Phone::parse("+84 912 345 678").unwrap().as_str(),
            "+84912345678"
        );
        assert_eq!(Phone::parse("0912345678"), Phone::parse("+84912345678"));
        for bad in [
            "912345678",
            "091234567",
            "+8491234567",
            "0912-345-678",
            "09123456789",
        ] {
            assert_eq!(
                Phone::parse(bad).unwrap_err().code,
                "invalid_phone",
                "{bad}"
            );
        }
        assert!(Email::parse("an.nguyen@binhphuoc.gov.vn").is_ok());
        assert_eq!(Email::parse(" an@x.vn ").unwrap().as_str(), "an@x.vn");
        for bad in [
            "an", "an@", "@x.vn", "an@x", "a n@x.vn", "an@x..vn", "a@b@c.vn",
        ] {
            assert_eq!(
                Email::parse(bad).unwrap_err().code,
                "invalid_email",
                "{bad}"
            );
        }
    }

    #[test]
    fn an_asker_gives_an_email_or_a_phone() {
        assert!(contact_given(None, None).is_err());
        assert!(contact_given(Some("  "), Some("")).is_err());
        assert!(contact_given(Some("an@x.vn"), None).is_ok());
        assert!(contact_given(None, Some("0912345678")).is_ok());
        assert_eq!(optional_phone(Some(" ")), Ok(None));
        assert_eq!(optional_email(None), Ok(None));
    }

    #[test]
    fn names_shorten_to_initials() {
        assert_eq!(initials("Nguyễn Văn An"), "N. V. A.");
        assert_eq!(initials("  đặng   thị  "), "Đ. T.");
        assert_eq!(initials(""), "");
    }
}
