//! The security headers of every answer: content sniffing, framing, referrers, content
//! security policy and, for anything personal, caching.

use actix_web::http::header::{
    HeaderMap, HeaderValue, AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use actix_web::HttpRequest;

/// Where the API explorer (Swagger UI) is served.
pub const DOCS: &str = "/docs";

/// Where citizens follow their questions in a browser (`/tra-cuu/{code}?key=…`).
pub const TRACKING_PAGE: &str = "/tra-cuu";

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

/// Paths whose answers concern one person or hold a credential: tokens and the caller's own
/// account, a citizen's question (its tracking key) and its tracking page, accounts and API
/// clients. Every answer under them, errors included, is `no-store`.
const PERSONAL: [&str; 6] = [
    "/api/v1/auth",
    "/api/v1/tracking",
    "/api/v1/questions",
    "/api/v1/users",
    "/api/v1/clients",
    TRACKING_PAGE,
];

/// What an answer needs beyond the headers every answer gets, decided from its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    docs: bool,
    page: bool,
    no_store: bool,
}

impl Policy {
    /// Reads the request: its route (or raw path when no route took it) and whether it carried
    /// credentials.
    pub fn for_request(req: &HttpRequest) -> Self {
        // The route template when a route matched (it sees through percent-encoding), else the
        // raw path; either naming a personal area is enough.
        let pattern = req.match_pattern();
        let paths = [Some(req.path()), pattern.as_deref()];
        let any = |f: &dyn Fn(&str) -> bool| paths.iter().flatten().any(|p| f(p));
        Self {
            docs: any(&|p| under(p, DOCS)),
            page: any(&|p| under(p, TRACKING_PAGE)),
            no_store: req.headers().contains_key(AUTHORIZATION)
                || any(&|p| PERSONAL.iter().any(|prefix| under(p, prefix))),
        }
    }

    /// Whether the answer is the tracking page, which renders its own errors as HTML.
    pub fn is_page(self) -> bool {
        self.page
    }

    /// Sets the headers on an answer. A `Cache-Control` the handler chose is kept, and so is
    /// the tracking page's own policy (it allows the hash of its style sheet); everywhere
    /// else the policy is this module's.
    pub fn apply(self, headers: &mut HeaderMap) {
        // Browsers must take every answer for what its Content-Type says.
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        // Addresses here can carry a tracking code and its key (`?key=`).
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        let csp = if self.docs { DOCS_CSP } else { API_CSP };
        if !(self.page && headers.contains_key(CONTENT_SECURITY_POLICY)) {
            headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
        }
        if self.no_store && !headers.contains_key(CACHE_CONTROL) {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
}

/// Whether `path` is `prefix` or below it (`/api/v1/users` is under itself, not under
/// `/api/v1/use`).
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
    fn personal_areas_and_credentials_are_not_stored() {
        for path in [
            "/api/v1/auth/token",
            "/api/v1/auth/me",
            "/api/v1/tracking/Q24-7KX9M2?key=k",
            "/api/v1/questions",
            "/api/v1/questions/12/replies",
            "/api/v1/users/3",
            "/api/v1/clients",
            "/tra-cuu/Q24-7KX9M2?key=k",
        ] {
            let h = headers(policy(TestRequest::get().uri(path)));
            assert_eq!(value(&h, CACHE_CONTROL), "no-store", "{path}");
        }
        let with_token = TestRequest::get()
            .uri("/api/v1/units")
            .insert_header((AUTHORIZATION, "Bearer x"));
        assert_eq!(
            value(&headers(policy(with_token)), CACHE_CONTROL),
            "no-store"
        );
        for path in [
            "/api/v1/units",
            "/api/v1/public/questions",
            "/api/v1/usersx",
            "/docs/",
            "/metrics",
        ] {
            let h = headers(policy(TestRequest::get().uri(path)));
            assert!(!h.contains_key(CACHE_CONTROL), "{path}");
        }
    }

    #[test]
    fn a_cache_control_the_handler_set_is_kept() {
        let mut h = HeaderMap::new();
        h.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=5"),
        );
        policy(TestRequest::get().uri("/api/v1/auth/me")).apply(&mut h);
        assert_eq!(value(&h, CACHE_CONTROL), "private, max-age=5");
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

    #[test]
    fn only_the_tracking_page_keeps_a_policy_of_its_own() {
        let own = "default-src 'none'; style-src 'sha256-x'";
        let with_own = |path: &str| {
            let mut h = HeaderMap::new();
            h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(own));
            policy(TestRequest::get().uri(path)).apply(&mut h);
            value(&h, CONTENT_SECURITY_POLICY).to_string()
        };
        assert_eq!(with_own("/tra-cuu/Q24-7KX9M2"), own);
        for path in ["/api/v1/tracking/Q24-7KX9M2", "/tra-cuux", "/docs/"] {
            assert_ne!(with_own(path), own, "{path}");
        }
        // Without one of its own, the page loads nothing.
        let h = headers(policy(TestRequest::get().uri("/tra-cuu/Q24-7KX9M2")));
        assert_eq!(value(&h, CONTENT_SECURITY_POLICY), API_CSP);
    }
}
