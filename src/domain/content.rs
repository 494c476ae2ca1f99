//! The content of a submission: sanitised HTML, links, attachments, and its search text.

use super::invalid::Invalid;
use std::borrow::Cow;

use ammonia::UrlRelative;
use serde::{Deserialize, Serialize};
use url::Url;
use utoipa::ToSchema;

use super::text::fold;

/// A file or page attached to a submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// An http or https address, checked and stored in normal form like `source_url`.
    #[schema(example = "https://example.gov.vn/files/quyet-dinh-123.pdf")]
    pub url: String,
    /// What it is.
    #[schema(example = "Quyết định số 123/QĐ-UBND")]
    pub title: String,
}

/// Largest body accepted, in bytes of HTML.
pub const MAX_BODY_BYTES: usize = 512 * 1024;
/// Most attachments on one item.
pub const MAX_ATTACHMENTS: usize = 50;

/// Cleans HTML from a unit: no scripts, no event handlers, and every address in it (links,
/// images, quotes' sources) an absolute http or https address in normal form (`body_link`);
/// links cannot reach back into the portal's page.
pub fn sanitize_html(html: &str, base: &Url) -> String {
    let base = base.clone();
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .url_schemes(["http", "https"].into_iter().collect())
        .attribute_filter(move |_element, attribute, value| {
            if holds_address(attribute) {
                body_link(value, &base).map(Cow::Owned)
            } else {
                Some(Cow::Borrowed(value))
            }
        })
        // ammonia applies this after the filter, which leaves no relative address; should one
        // remain all the same, it is dropped rather than passed through.
        .url_relative(UrlRelative::Custom(Box::new(no_relative_address)))
        .clean(html)
        .to_string()
}

fn no_relative_address(_: &str) -> Option<Cow<'_, str>> {
    None
}

/// Attributes that hold an address: those ammonia checks, and `cite`, which its default policy
/// allows on quotes and edits without checking.
fn holds_address(attribute: &str) -> bool {
    matches!(
        attribute,
        "href"
            | "src"
            | "cite"
            | "xlink:href"
            | "action"
            | "formaction"
            | "data"
            | "ping"
            | "poster"
            | "longdesc"
    )
}

/// What an address in a body becomes: an absolute address in normal form (`web_url`), or a
/// relative one made absolute against `base`. `None` drops it: other schemes, references that
/// name a host of their own without a scheme (`//host/x`; `\host` and `/\host`, which
/// browsers read the same way, are refused for their backslash), and whatever `web_url` refuses.
pub fn body_link(value: &str, base: &Url) -> Option<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().any(refused_char) {
        return None;
    }
    match Url::parse(value) {
        Ok(_) => parse_web_url(value).ok(),
        Err(url::ParseError::RelativeUrlWithoutBase) if !value.starts_with("//") => {
            parse_web_url(base.join(value).ok()?.as_str()).ok()
        }
        Err(_) => None,
    }
}

/// The text of some HTML, without tags, for searching.
pub fn html_text(html: &str) -> String {
    let escaped = ammonia::Builder::empty().clean(html).to_string();
    escaped
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// Longest address accepted, in characters, both as sent and in normal form (where a letter
/// beyond ASCII counts as its percent-encoding), so that what is stored passes again.
pub const MAX_URL_CHARS: usize = 2000;

/// ASCII characters refused in an address as written: those never legal in a URL, and the
/// apostrophe, legal but able to end a quoted HTML attribute wherever an address is written
/// out unescaped (it can be sent as `%27`). Any whitespace or control character is refused.
fn refused_char(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '"' | '\'' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}'
        )
}

/// Checks a web address and gives it in normal form: `http://` or `https://` and a host, no
/// user name or password, at most 2,000 characters, none of the refused characters. Letters beyond
/// ASCII are allowed: the normal form percent-encodes them in paths and punycodes host names.
pub fn web_url(s: &str) -> Result<Url, String> {
    let s = s.trim();
    let too_long = || format!("must be at most {MAX_URL_CHARS} characters");
    if s.chars().count() > MAX_URL_CHARS {
        return Err(too_long());
    }
    let rest = ["https://", "http://"]
        .iter()
        .find_map(|scheme| {
            s.get(..scheme.len())
                .filter(|head| head.eq_ignore_ascii_case(scheme))
                .map(|_| &s[scheme.len()..])
        })
        .ok_or("must start with http:// or https://")?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("must name a host".into());
    }
    if s.chars().any(refused_char) {
        return Err(
            "must not contain spaces, quotes, control characters or any of < > \\ ^ ` { | }".into(),
        );
    }
    let url = Url::parse(s).map_err(|_| "must be a valid web address".to_string())?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain a user name or password".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if url.as_str().len() > MAX_URL_CHARS {
        return Err(too_long());
    }
    Ok(url)
}

/// Checks a web address (`web_url`) and gives the text that is stored.
pub fn parse_web_url(s: &str) -> Result<String, Invalid> {
    web_url(s)
        .map(String::from)
        .map_err(|why| Invalid::new("invalid_url", why))
}

/// The words of some text, folded and joined by single spaces: what search indexes hold, so
/// that every backend splits words the same way.
pub fn index_text(text: &str) -> String {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The folded text a submission is found by: title, summary, body text and document number.
pub fn search_text(
    title: &str,
    summary: &str,
    body_html: &str,
    source_ref: Option<&str>,
) -> String {
    index_text(&format!(
        "{title} {summary} {} {}",
        html_text(body_html),
        source_ref.unwrap_or("")
    ))
}

/// The words of a search query, folded; punctuation separates words and is dropped.
pub fn query_terms(q: &str) -> Vec<String> {
    fold(q)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://portal.example.vn/").unwrap()
    }

    fn clean(html: &str) -> String {
        sanitize_html(html, &base())
    }

    #[test]
    fn scripts_handlers_and_javascript_urls_are_removed() {
        let clean = clean(
            r#"<p onclick="x()">Hi<script>alert(1)</script><img src=x onerror=alert(1)>
               <a href="javascript:alert(1)">a</a><a href="https://ok.vn">b</a></p>"#,
        );
        assert!(!clean.contains("script"), "{clean}");
        assert!(
            !clean.contains("onerror") && !clean.contains("onclick"),
            "{clean}"
        );
        assert!(!clean.contains("javascript:"), "{clean}");
        assert!(
            clean.contains(r#"<a href="https://ok.vn/" rel="noopener noreferrer">b</a>"#),
            "{clean}"
        );
        assert!(
            clean.contains(r#"<img src="https://portal.example.vn/x">"#),
            "{clean}"
        );
    }

    #[test]
    fn cleaning_twice_changes_nothing() {
        for html in [
            "<p>Tuyển <b>dụng</b> <a href='https://a.vn'>x</a></p>",
            "<a href='/tin-tuc/1'>a</a><a href='a.html?x=1&amp;y=2#z'>b</a><img src='ảnh.png'>",
            "<a href='HTTPS://Bộ.VN/Tin tức'>c</a><a href='//evil.example/x'>d</a>",
            "<blockquote cite='../nguon'>e</blockquote><a href='mailto:a@b.vn'>f</a>",
        ] {
            let once = clean(html);
            assert_eq!(clean(&once), once, "{html}");
        }
    }

    #[test]
    fn search_text_is_folded_and_tag_free() {
        let text = search_text(
            "Tuyển dụng",
            "Thông báo",
            "<p>Đồng <b>Xoài</b> &amp; Bù Đăng</p>",
            Some("12/TB-UBND"),
        );
        assert_eq!(text, "tuyen dung thong bao dong xoai bu dang 12 tb ubnd");
        assert_eq!(
            query_terms("  Tuyển-dụng, 2024! "),
            ["tuyen", "dung", "2024"]
        );
        assert!(query_terms("'; --").is_empty());
    }

    #[test]
    fn web_urls_must_be_http_or_https_with_a_host() {
        assert!(parse_web_url("https://portal.binhphuoc.gov.vn/a?b=c").is_ok());
        for bad in [
            "javascript:alert(1)",
            "ftp://x",
            "https://",
            "http:///path",
            "https:evil.example",
            "https:/evil.example",
            "https://a b",
            "https://:80/",
            "https://a.vn:99999/",
        ] {
            assert!(parse_web_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn web_urls_are_stored_in_normal_form() {
        for (sent, stored) in [
            ("https://a.vn", "https://a.vn/"),
            (" HTTPS://EXAMPLE.vn/x ", "https://example.vn/x"),
            ("http://a.vn:80/a/../b?q=1#f", "http://a.vn/b?q=1#f"),
            (
                "https://bộ.vn/tin-tức?q=đồng",
                "https://xn--b-8xm.vn/tin-t%E1%BB%A9c?q=%C4%91%E1%BB%93ng",
            ),
            ("https://a.vn/x%27y", "https://a.vn/x%27y"),
        ] {
            assert_eq!(parse_web_url(sent).as_deref(), Ok(stored), "{sent}");
            assert_eq!(
                parse_web_url(stored).as_deref(),
                Ok(stored),
                "{stored} again"
            );
        }
    }

    #[test]
    fn web_urls_with_characters_that_break_out_of_html_are_refused() {
        for bad in [
            r#"https://a.vn/"><script>alert(1)</script>"#,
            "https://a.vn/'onmouseover='alert(1)",
            r"https://\\evil",
            r"https://a.vn\@evil.example/",
            "https://a.vn/<x>",
            "https://a.vn/a^b",
            "https://a.vn/a`b",
            "https://a.vn/{a}",
            "https://a.vn/a|b",
            "https://a.vn/a\tb",
            "https://a.vn/a\u{0}b",
            "https://a.vn/a\u{a0}b",
        ] {
            let why = String::from(parse_web_url(bad).unwrap_err());
            assert!(why.starts_with("must not contain"), "{bad}: {why}");
            assert!(
                !why.contains("script") && !why.contains("onmouseover"),
                "{why}"
            );
        }
    }

    #[test]
    fn web_urls_with_a_user_name_or_password_are_refused() {
        for bad in [
            "https://user:pw@a.vn/",
            "https://a.vn@evil.example/",
            "http://user@a.vn",
            "https://:pw@a.vn/",
        ] {
            assert_eq!(
                parse_web_url(bad).map_err(String::from),
                Err("must not contain a user name or password".into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn web_urls_are_at_most_2000_characters_sent_and_stored() {
        let fits = format!("https://a.vn/{}", "a".repeat(2000 - 13));
        assert_eq!(fits.len(), 2000);
        assert!(parse_web_url(&fits).is_ok());
        assert!(parse_web_url(&format!("{fits}a")).is_err());
        // 600 letters sent become 3,600 characters percent-encoded.
        let encoded = format!("https://a.vn/{}", "ứ".repeat(600));
        assert_eq!(
            parse_web_url(&encoded).map_err(String::from),
            Err("must be at most 2000 characters".into())
        );
    }

    #[test]
    fn relative_body_links_are_made_absolute_against_the_base() {
        assert_eq!(
            clean(r#"<a href="/tin-tuc/1">a</a>"#),
            r#"<a href="https://portal.example.vn/tin-tuc/1" rel="noopener noreferrer">a</a>"#
        );
        let nested = Url::parse("https://portal.example.vn/cong/tin/").unwrap();
        assert_eq!(
            body_link("a.html", &nested).as_deref(),
            Some("https://portal.example.vn/cong/tin/a.html")
        );
        assert_eq!(
            body_link("../b.html?x=1#y", &nested).as_deref(),
            Some("https://portal.example.vn/cong/b.html?x=1#y")
        );
        assert_eq!(
            body_link("ảnh đẹp.png", &base()),
            None,
            "spaces are refused, relative or not"
        );
        assert_eq!(
            body_link("ảnh.png", &base()).as_deref(),
            Some("https://portal.example.vn/%E1%BA%A3nh.png")
        );
    }

    #[test]
    fn protocol_relative_body_links_are_removed_and_their_text_kept() {
        for href in [
            "//evil.example/x",
            r"/\evil.example/x",
            r"\\evil.example/x",
            r"\/evil.example/x",
            " //evil.example/x",
            "/\t/evil.example/x",
            "/\n/evil.example/x",
        ] {
            let html = format!("<a href=\"{href}\">tin</a>");
            assert_eq!(
                clean(&html),
                r#"<a rel="noopener noreferrer">tin</a>"#,
                "{href:?}"
            );
        }
        assert_eq!(
            clean(r#"<img src="//evil.example/a.png" alt="x">"#),
            r#"<img alt="x">"#
        );
    }

    #[test]
    fn absolute_body_links_must_be_http_or_https_and_are_normalised() {
        assert_eq!(
            clean(r#"<a href="HTTPS://EXAMPLE.vn/x">a</a>"#),
            r#"<a href="https://example.vn/x" rel="noopener noreferrer">a</a>"#
        );
        for href in [
            "mailto:a@b.vn",
            "tel:+84123",
            "ftp://a.vn/x",
            "javascript:alert(1)",
            "data:text/html,x",
            "https:evil.example",
            "https://user:pw@a.vn/",
            "https://a.vn/'onmouseover='alert(1)",
            "https://a.vn/&quot;&gt;",
        ] {
            let html = format!("<a href=\"{href}\">a</a>");
            assert_eq!(
                clean(&html),
                r#"<a rel="noopener noreferrer">a</a>"#,
                "{href}"
            );
        }
    }

    #[test]
    fn quote_sources_are_checked_like_links() {
        assert_eq!(
            clean(r#"<blockquote cite="javascript:alert(1)">a</blockquote><q cite="/nguon">b</q>"#),
            r#"<blockquote>a</blockquote><q cite="https://portal.example.vn/nguon">b</q>"#
        );
    }
}
