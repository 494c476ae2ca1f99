//! The content of a submission: sanitised HTML, links, attachments, and its search text.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::text::fold;

/// A file or page attached to a submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// An http or https address.
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

/// Cleans HTML from a unit: no scripts, no event handlers, no `javascript:` or other
/// non-web URLs, and links that cannot reach back into the portal's page.
pub fn sanitize_html(html: &str) -> String {
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .url_schemes(["http", "https", "mailto", "tel"].into_iter().collect())
        .clean(html)
        .to_string()
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

/// Checks a web address: absolute http or https, at most 2,000 characters, no spaces.
pub fn parse_web_url(s: &str) -> Result<String, String> {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or("must start with http:// or https://")?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("must name a host".into());
    }
    if s.len() > 2000 {
        return Err("must be at most 2000 characters".into());
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    Ok(s.to_string())
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

    #[test]
    fn scripts_handlers_and_javascript_urls_are_removed() {
        let clean = sanitize_html(
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
            clean.contains(r#"<a href="https://ok.vn" rel="noopener noreferrer">b</a>"#),
            "{clean}"
        );
        assert!(clean.contains("<img src=\"x\">"), "{clean}");
    }

    #[test]
    fn cleaning_twice_changes_nothing() {
        let once = sanitize_html("<p>Tuyển <b>dụng</b> <a href='https://a.vn'>x</a></p>");
        assert_eq!(sanitize_html(&once), once);
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
            "https://a b",
        ] {
            assert!(parse_web_url(bad).is_err(), "{bad}");
        }
    }
}
