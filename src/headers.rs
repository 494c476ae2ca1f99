//! The security headers of every answer: content sniffing, framing, referrers and content
//! security policy.

use actix_web::http::header::{
    HeaderMap, HeaderValue, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use actix_web::HttpRequest;

/// Where the API explorer (Swagger UI) is served.
pub const DOCS: &str = "/docs";

/// The policy of the API explorer: its own scripts, styles and fonts only, no eval, no
/// plugins, and never inside another site's frame.
///
/// Swagger UI loads `swagger-ui-bundle.js`, `swagger-ui-standalone-preset.js` and
/// `swagger-initializer.js` as files (no inline script), two style sheets and two icons from
/// its own folder, and fetches `/openapi.json` (and "Try it out" calls) from this origin.
/// Its style sheet draws icons as `data:` images, hence `img-src data:`. The one inline style
/// is the `<style>` element inside the Swagger logo of the top bar
/// (`.logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}`, in
/// `swagger-ui-standalone-preset.js`): allowed by its hash rather than by `'unsafe-inline'`.
/// Another Swagger UI version may change it; `tests/api/headers.rs` renders the page in
/// Chromium and names the hash of any inline style refused.
pub const DOCS_CSP: &str = "default-src 'self'; \
     style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; \
     img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// The policy of every other answer (JSON, problems, metrics, the Atom feed): nothing in it
/// is meant to load anything or be framed, so a browser that renders one anyway runs nothing.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// What an answer needs beyond the headers every answer gets, decided from its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    docs: bool,
}

impl Policy {
    /// Reads the request: its route (or raw path when no route took it).
    pub fn for_request(req: &HttpRequest) -> Self {
        // The route template when a route matched (it sees through percent-encoding), else the
        // raw path.
        let pattern = req.match_pattern();
        let paths = [Some(req.path()), pattern.as_deref()];
        let any = |f: &dyn Fn(&str) -> bool| paths.iter().flatten().any(|p| f(p));
        Self {
            docs: any(&|p| under(p, DOCS)),
        }
    }

    /// Sets the headers on an answer.
    pub fn apply(self, headers: &mut HeaderMap) {
        // Browsers must take every answer for what its Content-Type says.
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        // Addresses here can carry a tracking code and its key (`?key=`).
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        let csp = if self.docs { DOCS_CSP } else { API_CSP };
        headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    }
}

/// Whether `path` is `prefix` or below it (`/docs` is under itself, not under `/doc`).
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn policy(req: TestRequest) -> Policy {
        Policy::for_request(&req.to_http_request())
    }

    fn value(headers: &HeaderMap, name: actix_web::http::header::HeaderName) -> &str {
        headers.get(name).unwrap().to_str().unwrap()
    }

    fn headers(policy: Policy) -> HeaderMap {
        let mut headers = HeaderMap::new();
        policy.apply(&mut headers);
        headers
    }

    #[test]
    fn only_the_explorer_gets_the_explorer_policy() {
        for path in ["/docs", "/docs/", "/docs/swagger-ui.css"] {
            let h = headers(policy(TestRequest::get().uri(path)));
            assert_eq!(value(&h, CONTENT_SECURITY_POLICY), DOCS_CSP, "{path}");
        }
        for path in ["/docsx", "/openapi.json", "/api/v1/units", "/nowhere"] {
            let h = headers(policy(TestRequest::get().uri(path)));
            assert_eq!(value(&h, CONTENT_SECURITY_POLICY), API_CSP, "{path}");
            assert_eq!(value(&h, X_FRAME_OPTIONS), "DENY");
            assert_eq!(value(&h, REFERRER_POLICY), "no-referrer");
            assert_eq!(value(&h, X_CONTENT_TYPE_OPTIONS), "nosniff");
        }
        assert!(DOCS_CSP.contains("frame-ancestors 'none'"));
        assert!(!DOCS_CSP.contains("unsafe"));
    }
}
