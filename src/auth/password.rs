//! Password and client-secret hashing (argon2id, PHC strings).

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// Shortest password accepted for a person's account.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted: argon2 hashes any length, but a megabyte of input should not.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Hashes a password or secret with argon2id and a fresh random salt.
pub fn hash(secret: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

/// Checks a password against a stored hash; a malformed hash is a mismatch.
pub fn verify(secret: &str, stored: &str) -> bool {
    Argon2::default()
        .verify_password(secret.as_bytes(), stored)
        .is_ok()
}

/// Spends the same time as [`verify`] against a real hash, for logins whose account does not
/// exist, so that response times do not tell which usernames exist.
pub fn verify_dummy(secret: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("not a real password").unwrap_or_default());
    let _ = verify(secret, stored);
}

/// Checks a new password against the rules; the message never repeats the password.
pub fn check_rules(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!("must be at most {MAX_PASSWORD_BYTES} bytes"));
    }
    if password.trim().is_empty() {
        return Err("must not be only spaces".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(!h.contains("correct horse battery"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse battery!", &h));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn two_hashes_of_one_password_differ() {
        assert_ne!(
            hash("same password").unwrap(),
            hash("same password").unwrap()
        );
    }

    #[test]
    fn password_rules() {
        assert!(check_rules("short").is_err());
        assert!(check_rules("          ").is_err());
        assert!(check_rules(&"x".repeat(2000)).is_err());
        assert!(check_rules("mật khẩu dài đủ").is_ok());
        assert!(!check_rules("short").unwrap_err().contains("short"));
    }
}
