//! A submission and its content: what a unit may post, for which unit, and how it is checked.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use url::Url;

use super::{Action, Status};
use crate::domain::access::{handles_submissions, is_board, Principal};
use crate::domain::account::{parse_name, parse_text};
use crate::domain::content::{parse_web_url, sanitize_html, Attachment};
use crate::domain::invalid::Invalid;

pub use crate::domain::content::{MAX_ATTACHMENTS, MAX_BODY_BYTES};

/// Longest title, source document number and attachment title, in characters.
pub const MAX_TITLE_CHARS: usize = 300;
/// Longest summary, in characters.
pub const MAX_SUMMARY_CHARS: usize = 2000;
/// Longest note of a workflow step, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;
/// Event dates outside these years are typing errors.
pub const EVENT_YEARS: std::ops::RangeInclusive<i32> = 1900..=2100;

/// What a unit says in a submission: everything an edit can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// Category code.
    pub category: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Sanitised HTML.
    pub body: String,
    /// Number and date of the source document.
    pub source_ref: Option<String>,
    /// Address of the source document.
    pub source_url: Option<String>,
    /// When the event took place.
    pub event_date: Option<NaiveDate>,
    /// Attached files and pages.
    pub attachments: Vec<Attachment>,
}

/// A submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// UUID.
    pub id: String,
    /// The unit it comes from.
    pub unit: String,
    /// The content.
    pub content: Content,
    /// Workflow status.
    pub status: Status,
    /// +1 on every change; the ETag.
    pub version: i32,
    /// Subject of the principal that created it.
    pub author: String,
    /// Creation time (UTC).
    pub created_at: NaiveDateTime,
    /// Last change (UTC).
    pub updated_at: NaiveDateTime,
    /// First time it was submitted (UTC).
    pub submitted_at: Option<NaiveDateTime>,
    /// Last time it was published (UTC).
    pub published_at: Option<NaiveDateTime>,
}

/// An edit: `None` keeps a field; for optional fields `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentChange {
    /// Category code.
    pub category: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Summary.
    pub summary: Option<String>,
    /// HTML body.
    pub body: Option<String>,
    /// Source document number.
    pub source_ref: Option<Option<String>>,
    /// Source document address.
    pub source_url: Option<Option<String>>,
    /// Event date.
    pub event_date: Option<Option<NaiveDate>>,
    /// Attachments, replacing the list.
    pub attachments: Option<Vec<Attachment>>,
}

impl ContentChange {
    /// The content once this edit is applied to `old`, still unchecked.
    pub fn apply(self, old: Content) -> Content {
        Content {
            category: self.category.unwrap_or(old.category),
            title: self.title.unwrap_or(old.title),
            summary: self.summary.unwrap_or(old.summary),
            body: self.body.unwrap_or(old.body),
            source_ref: self.source_ref.unwrap_or(old.source_ref),
            source_url: self.source_url.unwrap_or(old.source_url),
            event_date: self.event_date.unwrap_or(old.event_date),
            attachments: self.attachments.unwrap_or(old.attachments),
        }
    }
}

/// A refused field of some content: its name (`attachments[2].url`) and why.
pub type FieldRefusal = (String, Invalid);

/// Checks and cleans content as sent, in the order of its fields; every refused field is
/// reported at once. Relative links in the body are made absolute against `base`.
pub fn check_content(raw: Content, base: &Url) -> Result<Content, Vec<FieldRefusal>> {
    let mut errors = Vec::new();
    let mut check = |field: &str, r: Result<String, Invalid>| match r {
        Ok(v) => Some(v),
        Err(why) => {
            errors.push((field.to_string(), why));
            None
        }
    };
    let title = check("title", parse_name(&raw.title, MAX_TITLE_CHARS));
    let summary = check("summary", parse_text(&raw.summary, MAX_SUMMARY_CHARS));
    let body = check(
        "body",
        if raw.body.len() > MAX_BODY_BYTES {
            Err(Invalid::new(
                "too_long",
                format!("must be at most {MAX_BODY_BYTES} bytes"),
            ))
        } else {
            Ok(raw.body)
        },
    );
    let source_ref = raw
        .source_ref
        .and_then(|r| check("source_ref", parse_name(&r, MAX_TITLE_CHARS)));
    let source_url = raw
        .source_url
        .and_then(|u| check("source_url", parse_web_url(&u)));
    if raw.attachments.len() > MAX_ATTACHMENTS {
        check(
            "attachments",
            Err(Invalid::new(
                "too_many",
                format!("at most {MAX_ATTACHMENTS} attachments"),
            )),
        );
    }
    let mut attachments = Vec::new();
    for (i, a) in raw.attachments.iter().enumerate() {
        let url = check(&format!("attachments[{i}].url"), parse_web_url(&a.url));
        let title = check(
            &format!("attachments[{i}].title"),
            parse_name(&a.title, MAX_TITLE_CHARS),
        );
        if let (Some(url), Some(title)) = (url, title) {
            attachments.push(Attachment { url, title });
        }
    }
    if raw
        .event_date
        .is_some_and(|d| !EVENT_YEARS.contains(&d.year()))
    {
        check(
            "event_date",
            Err(Invalid::new(
                "out_of_range",
                "must be a date from 1900 to 2100",
            )),
        );
    }
    match (title, summary, body) {
        (Some(title), Some(summary), Some(body)) if errors.is_empty() => Ok(Content {
            category: raw.category,
            title,
            summary,
            body: sanitize_html(&body, base),
            source_ref,
            source_url,
            event_date: raw.event_date,
            attachments,
        }),
        _ => Err(errors),
    }
}

/// Why a principal may not post a new item as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotPosted {
    /// Its role does not post, or not for that unit (403).
    Forbidden,
    /// The `unit` field is wrong (422).
    Unit(Invalid),
}

/// The unit a new item is for. The board (editors, admins) posts for any unit and must name
/// it; an officer or API client posts for its own, which it may name.
pub fn posting_unit(principal: &Principal, asked: Option<&str>) -> Result<String, NotPosted> {
    if !handles_submissions(principal.role) {
        return Err(NotPosted::Forbidden);
    }
    match (principal.unit.as_deref(), asked, is_board(principal.role)) {
        (_, Some(unit), true) => Ok(unit.to_string()),
        (_, None, true) => Err(NotPosted::Unit(Invalid::new(
            "required",
            "editors must name the unit",
        ))),
        (Some(own), Some(unit), false) if own != unit => Err(NotPosted::Forbidden),
        (Some(own), _, false) => Ok(own.to_string()),
        (None, _, false) => Err(NotPosted::Forbidden),
    }
}

/// The status a new item starts in: a draft when asked, otherwise submitted at once.
pub fn initial_status(draft: bool) -> Status {
    if draft {
        Status::Draft
    } else {
        Status::Submitted
    }
}

/// The note stored with a workflow step: trimmed, empty as none; required for the steps the
/// unit must be told about (`return`, `reject`, `unpublish`).
pub fn step_note(action: Action, note: Option<&str>) -> Result<Option<String>, Invalid> {
    match note.map(|n| parse_text(n, MAX_NOTE_CHARS)).transpose()? {
        Some(n) if !n.is_empty() => Ok(Some(n)),
        _ if action.needs_note() => Err(Invalid::new(
            "required",
            format!("'{}' needs a note for the unit", action.as_str()),
        )),
        _ => Ok(None),
    }
}

/// Checks an idempotency key: 1–200 visible ASCII characters, surrounding spaces ignored.
pub fn parse_idempotency_key(raw: &str) -> Result<String, Invalid> {
    let key = raw.trim();
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Invalid::other("must be 1 to 200 visible ASCII characters"));
    }
    Ok(key.to_string())
}

/// The entity tag of a version, as `ETag` sends it.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// The versions a change is based on, as `If-Match` names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfMatch(pub String);

impl IfMatch {
    /// Whether it names `version`: `*`, or its tag, weak or strong, among a comma list.
    pub fn names(&self, version: i32) -> bool {
        let tag = etag(version);
        self.0
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.trim_start_matches("W/") == tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::Role;

    fn principal(role: Role, unit: Option<&str>) -> Principal {
        Principal {
            subject: "user:1".into(),
            role,
            unit: unit.map(str::to_string),
        }
    }

    fn base() -> Url {
        Url::parse("https://portal.example.vn/").unwrap()
    }

    fn content(title: &str) -> Content {
        Content {
            category: "tin-tuc".into(),
            title: title.into(),
            summary: String::new(),
            body: "<p>x</p>".into(),
            source_ref: None,
            source_url: None,
            event_date: None,
            attachments: vec![],
        }
    }

    #[test]
    fn the_board_names_the_unit_and_a_unit_posts_only_for_itself() {
        let editor = principal(Role::Editor, None);
        assert_eq!(posting_unit(&editor, Some("a")), Ok("a".into()));
        assert!(matches!(
            posting_unit(&editor, None),
            Err(NotPosted::Unit(why)) if why.code == "required"
        ));
        let officer = principal(Role::Officer, Some("a"));
        assert_eq!(posting_unit(&officer, None), Ok("a".into()));
        assert_eq!(posting_unit(&officer, Some("a")), Ok("a".into()));
        assert_eq!(posting_unit(&officer, Some("b")), Err(NotPosted::Forbidden));
        let unitless = principal(Role::Officer, None);
        assert_eq!(posting_unit(&unitless, None), Err(NotPosted::Forbidden));
        let viewer = principal(Role::Viewer, None);
        assert_eq!(posting_unit(&viewer, Some("a")), Err(NotPosted::Forbidden));
    }

    #[test]
    fn new_items_are_drafts_only_when_asked() {
        assert_eq!(initial_status(true), Status::Draft);
        assert_eq!(initial_status(false), Status::Submitted);
    }

    #[test]
    fn content_refusals_come_all_at_once_in_field_order() {
        let mut bad = content("");
        bad.source_url = Some("javascript:alert(1)".into());
        bad.attachments = vec![Attachment {
            url: "ftp://x".into(),
            title: "Tệp".into(),
        }];
        bad.event_date = NaiveDate::from_ymd_opt(1800, 1, 1);
        let errors = check_content(bad, &base()).unwrap_err();
        let fields: Vec<(&str, &str)> = errors.iter().map(|(f, w)| (f.as_str(), w.code)).collect();
        assert_eq!(
            fields,
            [
                ("title", "required"),
                ("source_url", "invalid_url"),
                ("attachments[0].url", "invalid_url"),
                ("event_date", "out_of_range"),
            ]
        );
        let mut long = content("x");
        long.body = "a".repeat(MAX_BODY_BYTES + 1);
        long.attachments = vec![
            Attachment {
                url: "https://a.vn".into(),
                title: "a".into()
            };
            MAX_ATTACHMENTS + 1
        ];
        let codes: Vec<&str> = check_content(long, &base())
            .unwrap_err()
            .iter()
            .map(|(_, w)| w.code)
            .collect();
        assert_eq!(codes, ["too_long", "too_many"]);
    }

    #[test]
    fn checked_content_is_trimmed_and_its_body_cleaned() {
        let mut raw = content("  Tin  ");
        raw.body = "<a href='/x' onclick='y()'>a</a><script>z</script>".into();
        let clean = check_content(raw, &base()).unwrap();
        assert_eq!(clean.title, "Tin");
        assert_eq!(
            clean.body,
            r#"<a href="https://portal.example.vn/x" rel="noopener noreferrer">a</a>"#
        );
    }

    #[test]
    fn an_edit_keeps_what_it_does_not_name_and_clears_what_it_nulls() {
        let mut old = content("Cũ");
        old.source_ref = Some("Số 1".into());
        let change = ContentChange {
            title: Some("Mới".into()),
            source_ref: Some(None),
            ..ContentChange::default()
        };
        let new = change.apply(old.clone());
        assert_eq!(new.title, "Mới");
        assert_eq!(new.source_ref, None);
        assert_eq!(new.body, old.body);
    }

    #[test]
    fn return_reject_and_unpublish_need_a_note_others_may_have_one() {
        assert_eq!(step_note(Action::Publish, None), Ok(None));
        assert_eq!(step_note(Action::Publish, Some("  ")), Ok(None));
        assert_eq!(
            step_note(Action::Return, Some(" Sửa ")),
            Ok(Some("Sửa".into()))
        );
        for action in [Action::Return, Action::Reject, Action::Unpublish] {
            assert_eq!(step_note(action, Some(" ")).unwrap_err().code, "required");
        }
        let long = "a".repeat(MAX_NOTE_CHARS + 1);
        assert_eq!(
            step_note(Action::Reject, Some(&long)).unwrap_err().code,
            "too_long"
        );
    }

    #[test]
    fn idempotency_keys_are_visible_ascii() {
        assert_eq!(parse_idempotency_key(" k-1 "), Ok("k-1".into()));
        for bad in ["", "  ", "a b", "khóa", &"a".repeat(201)] {
            assert!(parse_idempotency_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn if_match_names_a_version_strong_weak_or_any() {
        assert!(IfMatch("\"3\"".into()).names(3));
        assert!(IfMatch("W/\"3\"".into()).names(3));
        assert!(IfMatch("\"1\", \"3\"".into()).names(3));
        assert!(IfMatch("*".into()).names(7));
        assert!(!IfMatch("\"2\"".into()).names(3));
        assert!(!IfMatch("3".into()).names(3));
    }
}
