//! A per-instance limit of requests per client address over a sliding minute.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window the limit counts over.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Counts recent requests per address (or per other key: an e-mail, a tracking code).
#[derive(Debug)]
pub struct RateLimiter<K = IpAddr> {
    per_window: usize,
    window: Duration,
    seen: Mutex<HashMap<K, VecDeque<Instant>>>,
}

impl RateLimiter<IpAddr> {
    /// A limiter allowing `per_window` requests per address per [`WINDOW`].
    pub fn new(per_window: usize) -> Self {
        Self::over(per_window, WINDOW)
    }
}

impl<K: std::hash::Hash + Eq> RateLimiter<K> {
    /// A limiter allowing `per_window` requests per key per `window`.
    pub fn over(per_window: usize, window: Duration) -> Self {
        Self {
            per_window,
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request for `addr` at `now`; when over the limit, returns how long to wait.
    pub fn check(&self, addr: K, now: Instant) -> Result<(), Duration> {
        let window = self.window;
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 100_000 {
            // Forget quiet addresses so the map cannot grow without bound.
            seen.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        let times = seen.entry(addr).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            times.pop_front();
        }
        if times.len() >= self.per_window {
            let oldest = times.front().copied().unwrap_or(now);
            return Err(window.saturating_sub(now.duration_since(oldest)));
        }
        times.push_back(now);
        Ok(())
    }
}

/// The client's address: the socket peer, unless the peer is a trusted proxy; then the last
/// address in `X-Forwarded-For` that is not a trusted proxy.
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let Some(header) = forwarded_for else {
        return Some(peer);
    };
    let mut hops = header.split(',').rev().map(str::trim);
    let mut last = peer;
    for hop in hops.by_ref() {
        let Ok(addr) = hop.parse::<IpAddr>() else {
            // An unreadable hop was written by someone untrusted: stop at what we know.
            return Some(last);
        };
        if !trusted.contains(&addr) {
            return Some(addr);
        }
        last = addr;
    }
    Some(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_limit_holds_within_the_window_and_recovers_after_it() {
        let limiter = RateLimiter::new(3);
        let start = Instant::now();
        for i in 0..3 {
            assert!(limiter
                .check(ip("10.0.0.1"), start + Duration::from_secs(i))
                .is_ok());
        }
        let wait = limiter
            .check(ip("10.0.0.1"), start + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(limiter
            .check(ip("10.0.0.2"), start + Duration::from_secs(10))
            .is_ok());
        assert!(limiter
            .check(ip("10.0.0.1"), start + Duration::from_secs(60))
            .is_ok());
        assert!(limiter
            .check(ip("10.0.0.1"), start + Duration::from_secs(60))
            .is_err());
        assert!(limiter
            .check(ip("10.0.0.1"), start + Duration::from_secs(62))
            .is_ok());
    }

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let proxy = ip("192.0.2.10");
        let trusted = [proxy, ip("192.0.2.11")];
        let header = Some("203.0.113.7, 198.51.100.1, 192.0.2.11");
        assert_eq!(
            client_address(Some(ip("203.0.113.99")), header, &trusted),
            Some(ip("203.0.113.99"))
        );
        assert_eq!(
            client_address(Some(proxy), header, &trusted),
            Some(ip("198.51.100.1"))
        );
        assert_eq!(client_address(Some(proxy), None, &trusted), Some(proxy));
        assert_eq!(
            client_address(Some(proxy), Some("garbage, 192.0.2.11"), &trusted),
            Some(ip("192.0.2.11"))
        );
        assert_eq!(
            client_address(Some(proxy), Some("192.0.2.11"), &trusted),
            Some(ip("192.0.2.11"))
        );
    }
}

/// The limits on `POST /tracking/{code}/resend`: a client address may ask 10 times a minute; an
/// e-mail and a tracking code are each written to at most 3 times an hour, whoever asks.
#[derive(Debug)]
pub struct ResendLimits {
    /// Per client address, per minute.
    pub per_address: RateLimiter<IpAddr>,
    /// Per e-mail (folded to lower case), per hour.
    pub per_email: RateLimiter<String>,
    /// Per tracking code, per hour.
    pub per_code: RateLimiter<String>,
}

impl Default for ResendLimits {
    fn default() -> Self {
        Self {
            per_address: RateLimiter::new(10),
            per_email: RateLimiter::over(3, Duration::from_secs(3600)),
            per_code: RateLimiter::over(3, Duration::from_secs(3600)),
        }
    }
}
