//! Access tokens: HS256 JWTs with issuer, audience, lifetime and id.

use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::domain::access::Role;

/// Issuer and audience of every token.
pub const ISSUER: &str = "portal-api";
/// The audience: this API.
pub const AUDIENCE: &str = "portal-api";

/// What a token says. Role and unit are informative: the live account decides.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// `user:<id>` or `client:<client_id>`.
    pub sub: String,
    /// Role when issued.
    pub role: Role,
    /// Unit when issued.
    pub unit: Option<String>,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Token id.
    pub jti: String,
    /// The account's credentials version when issued; a later version refuses the token.
    pub cv: i32,
}

/// Clock difference tolerated between the instance that issued a token and the one checking
/// it, for `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: u64 = 5;

/// Signing and checking keys, made once from the secret.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Lifetime of issued tokens, in seconds.
    pub ttl_seconds: i64,
}

impl TokenKeys {
    /// Keys for this secret and token lifetime.
    pub fn new(secret: &[u8], ttl_seconds: i64) -> Self {
        // Only HS256 is accepted: a token naming another algorithm (or "none") is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_seconds,
        }
    }

    /// Issues a token for a subject whose credentials are at version `cv`.
    pub fn issue(
        &self,
        sub: String,
        role: Role,
        unit: Option<String>,
        cv: i32,
    ) -> anyhow::Result<String> {
        // The system clock, not the service's: jsonwebtoken checks `exp` against it.
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub,
            role,
            unit,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + self.ttl_seconds,
            jti: uuid::Uuid::new_v4().to_string(),
            cv,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("cannot sign a token: {e}"))
    }

    /// Checks signature, algorithm, issuer, audience, expiry, `nbf` and `iat` (neither in the
    /// future); `None` for any failure.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        // The system clock, as jsonwebtoken used for `exp` just above.
        let latest = Utc::now().timestamp() + LEEWAY_SECONDS as i64;
        (claims.iat <= latest).then_some(claims)
    }
}

/// `n` random bytes from the OS generator, base64url without padding.
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_token_verifies_with_the_same_secret_only() {
        let keys = TokenKeys::new(&[7; 32], 900);
        let token = keys.issue("user:1".into(), Role::Editor, None, 1).unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!(claims.sub, "user:1");
        assert_eq!(claims.role, Role::Editor);
        assert_eq!(claims.exp - claims.iat, 900);
        assert!(TokenKeys::new(&[8; 32], 900).verify(&token).is_none());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let keys = TokenKeys::new(&[7; 32], -60);
        let token = keys.issue("user:1".into(), Role::Admin, None, 1).unwrap();
        assert!(keys.verify(&token).is_none());
    }

    fn signed(keys: &TokenKeys, claims: serde_json::Value) -> String {
        encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap()
    }

    #[test]
    fn a_token_from_the_future_is_refused() {
        let keys = TokenKeys::new(&[7; 32], 900);
        let now = Utc::now().timestamp();
        let claims = |iat: i64, nbf: Option<i64>| {
            let mut c = serde_json::json!({
                "sub": "user:1", "role": "admin", "unit": null, "iss": ISSUER, "aud": AUDIENCE,
                "iat": iat, "exp": now + 900, "jti": "x", "cv": 1
            });
            if let Some(nbf) = nbf {
                c["nbf"] = nbf.into();
            }
            c
        };
        assert!(keys.verify(&signed(&keys, claims(now, None))).is_some());
        assert!(keys
            .verify(&signed(&keys, claims(now + 2, Some(now + 2))))
            .is_some());
        assert!(keys
            .verify(&signed(&keys, claims(now + 3600, None)))
            .is_none());
        assert!(keys
            .verify(&signed(&keys, claims(now, Some(now + 3600))))
            .is_none());
        let mut without_version = claims(now, None);
        without_version.as_object_mut().unwrap().remove("cv");
        assert!(keys.verify(&signed(&keys, without_version)).is_none());
    }
}
