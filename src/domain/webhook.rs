//! Webhooks: their secrets, the Standard Webhooks signature, the addresses they may reach and
//! the schedule of their retries.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// The prefix of every secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a new secret.
pub const SECRET_BYTES: usize = 32;
/// Longest URL a webhook may have.
pub const MAX_URL_LENGTH: usize = 2048;
/// How long a receiver has to answer, in seconds.
pub const TIMEOUT_SECONDS: u64 = 10;
/// Most bytes of a receiver's answer that are read.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// An endpoint whose deliveries have all failed this long is disabled.
pub const DISABLE_AFTER_DAYS: i64 = 5;
/// Seconds before each retry, by default: after the first failure 5 s, then 5 min, ...
pub const DEFAULT_RETRY_SECONDS: [u64; 7] = [5, 300, 1800, 7200, 18000, 36000, 36000];

/// A new secret: `whsec_` and the base64 of 32 random bytes.
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The key a secret stands for: the decoded bytes after `whsec_`.
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .ok()
}

/// The `webhook-signature` header: `v1,` and the base64 HMAC-SHA256, keyed with the secret's
/// bytes, of `{id}.{timestamp}.{body}`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Whether a webhook may be sent to `ip`: not loopback, private, link-local, unique-local,
/// shared (carrier NAT), unspecified, broadcast or multicast, unless private addresses are
/// allowed.
pub fn address_allowed(ip: IpAddr, allow_private: bool) -> bool {
    allow_private || is_public(ip)
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        // 100.64.0.0/10, shared address space.
        || (a == 100 && (64..128).contains(&b)))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // fe80::/10 link-local, fc00::/7 unique-local.
        || (first & 0xffc0) == 0xfe80
        || (first & 0xfe00) == 0xfc00)
}

/// Why a webhook URL is refused, before any name is resolved.
pub fn url_refusal(url: &str, https_required: bool) -> Option<String> {
    if url.len() > MAX_URL_LENGTH {
        return Some(format!("at most {MAX_URL_LENGTH} characters"));
    }
    let Ok(parsed) = url::Url::parse(url) else {
        return Some("not an absolute URL".into());
    };
    match parsed.scheme() {
        "https" => {}
        "http" if !https_required => {}
        "http" => return Some("must be https:// in production".into()),
        _ => return Some("must be an https:// (or, in development, http://) URL".into()),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Some("has no host".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Some("must not carry a user name or password".into());
    }
    if parsed.fragment().is_some() {
        return Some("must not have a #fragment".into());
    }
    None
}

/// Reads a retry schedule: seconds before each retry, comma-separated, at least one.
pub fn parse_retry_schedule(value: &str) -> Option<Vec<u64>> {
    let schedule: Option<Vec<u64>> = value
        .split(',')
        .map(|s| s.trim().parse::<u64>().ok().filter(|n| *n <= 7 * 24 * 3600))
        .collect();
    schedule.filter(|s| !s.is_empty() && s.len() <= 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_the_specification_example() {
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_new_secret_carries_32_random_bytes() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_"));
        assert_eq!(secret_key(&a).unwrap().len(), 32);
    }

    #[test]
    fn inward_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!address_allowed(ip, false), "{ip}");
            assert!(address_allowed(ip, true), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1::1", "100.128.0.1"] {
            assert!(address_allowed(ip.parse().unwrap(), false), "{ip}");
        }
    }

    #[test]
    fn urls_are_checked_for_scheme_host_and_credentials() {
        assert_eq!(url_refusal("https://example.vn/hook", true), None);
        assert_eq!(url_refusal("http://example.vn/hook", false), None);
        assert!(url_refusal("http://example.vn/hook", true).is_some());
        assert!(url_refusal("ftp://example.vn/", false).is_some());
        assert!(url_refusal("https://u:p@example.vn/", false).is_some());
        assert!(url_refusal("/relative", false).is_some());
        assert!(url_refusal(&format!("https://e.vn/{}", "a".repeat(3000)), false).is_some());
    }

    #[test]
    fn retry_schedules_are_read_from_seconds() {
        assert_eq!(parse_retry_schedule("1,1,1"), Some(vec![1, 1, 1]));
        assert_eq!(parse_retry_schedule("5, 300"), Some(vec![5, 300]));
        assert_eq!(parse_retry_schedule(""), None);
        assert_eq!(parse_retry_schedule("1,x"), None);
    }
}
