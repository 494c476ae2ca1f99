//! Mail: what is sent to whom, the SMTP setting, masked addresses, and message ids.

use super::text::sha256_hex;

/// Where and how SMTP mail is sent, read from `PORTAL_SMTP_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpTarget {
    /// Host name or address.
    pub host: String,
    /// Port (587 for STARTTLS, 465 for TLS, 25 without TLS by default).
    pub port: u16,
    /// How the connection is protected.
    pub tls: SmtpTls,
    /// User name and password, when the server wants a login.
    pub credentials: Option<(String, String)>,
}

/// The protection of an SMTP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// `smtp://`: plain connection upgraded with STARTTLS, which is required.
    StartTls,
    /// `smtps://`: TLS from the first byte.
    Wrapper,
    /// `smtp://…?tls=none`: no TLS (a server on the same host or network).
    None,
}

impl SmtpTarget {
    /// Reads `smtp://user:pass@host:587`, `smtps://user:pass@host:465` or
    /// `smtp://host:port?tls=none`. The error never repeats the URL (it may hold a password).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = url::Url::parse(raw.trim()).map_err(|_| "is not a URL".to_string())?;
        let mut tls = match url.scheme() {
            "smtp" => SmtpTls::StartTls,
            "smtps" => SmtpTls::Wrapper,
            _ => return Err("must start with smtp:// or smtps://".into()),
        };
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref()) {
                ("tls", "none") if tls == SmtpTls::StartTls => tls = SmtpTls::None,
                ("tls", "required" | "starttls") if tls == SmtpTls::StartTls => {}
                ("tls", "wrapper") => tls = SmtpTls::Wrapper,
                ("tls", _) => {
                    return Err("takes tls=none, tls=required or tls=wrapper".into());
                }
                _ => return Err("takes no query parameter but tls".into()),
            }
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("has no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = url.port().unwrap_or(match tls {
            SmtpTls::StartTls => 587,
            SmtpTls::Wrapper => 465,
            SmtpTls::None => 25,
        });
        let credentials = if url.username().is_empty() {
            None
        } else {
            let decode = |s: &str| {
                percent_decode(s)
                    .ok_or_else(|| "has a user or password that is not UTF-8".to_string())
            };
            Some((
                decode(url.username())?,
                decode(url.password().unwrap_or(""))?,
            ))
        };
        Ok(Self {
            host,
            port,
            tls,
            credentials,
        })
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Checks a sender, `Name <user@host>` or `user@host`; returns the address.
pub fn parse_mailbox(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let address = match (raw.rfind('<'), raw.ends_with('>')) {
        (Some(open), true) => &raw[open + 1..raw.len() - 1],
        (None, false) => raw,
        _ => return Err("must be an address or `Name <address>`".into()),
    };
    match super::question::Email::parse(address) {
        Ok(_) => Ok(address.to_string()),
        Err(_) if address.ends_with("@localhost") && address.len() > "@localhost".len() => {
            Ok(address.to_string())
        }
        Err(_) => Err("must be an address or `Name <address>`".into()),
    }
}

/// An address as logs and lists show it: `n***@example.vn`.
pub fn mask(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// `text` (a mail server's answer) with every copy of `address` masked, whatever its case: a
/// server that echoes the recipient must not put it in a log or the outbox.
pub fn redact(text: &str, address: &str) -> String {
    if address.is_empty() {
        return text.to_string();
    }
    // ASCII lowering keeps byte offsets, so a match in the lowered text is one in the text.
    let (lowered, wanted) = (text.to_ascii_lowercase(), address.to_ascii_lowercase());
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    while let Some(at) = lowered[rest..].find(&wanted) {
        out.push_str(&text[rest..rest + at]);
        out.push_str(&mask(address));
        rest += at + wanted.len();
    }
    out.push_str(&text[rest..]);
    out
}

/// The `Message-ID` of the message caused by `cause` (an event id, or the digest or reminder it
/// is) to `recipient`: the same for every attempt, so a message sent again after a crash is
/// recognised as the same one.
pub fn message_id(cause: &str, recipient: &str, domain: &str) -> String {
    let digest = sha256_hex(format!("{cause}\n{}", recipient.to_lowercase()).as_bytes());
    format!("<{}@{domain}>", &digest[..32])
}

/// The link to a question's tracking page, from `PORTAL_TRACKING_URL_TEMPLATE`: `{base}` is the
/// public base URL without its last `/`; `{code}` and `{key}` are URL-encoded. Without a key
/// the `key` parameter is left out, and the page asks for it.
pub fn tracking_url(template: &str, base: &str, code: &str, key: Option<&str>) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let base = base.trim_end_matches('/');
    let mut url = template
        .replace("{base}", base)
        .replace("{code}", &enc(code));
    match key {
        Some(key) => url.replace("{key}", &enc(key)),
        None => {
            for cut in ["?key={key}&", "&key={key}", "?key={key}"] {
                if let Some(at) = url.find(cut) {
                    let keep = if cut.ends_with('&') { "?" } else { "" };
                    url.replace_range(at..at + cut.len(), keep);
                    return url;
                }
            }
            url = url.replace("{key}", "");
            url
        }
    }
}

/// What a message is, and so which templates render it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailKind {
    /// To the asker: the question was received.
    Receipt,
    /// To the asker: the first answer.
    Answer,
    /// To the asker: a further reply.
    Reply,
    /// To the asker: the board rejected the question.
    Rejection,
    /// To the asker: the question is in the public Q&A.
    Publication,
    /// To the asker: a new access key, on request.
    KeyResent,
    /// To a unit's officers and contact: a question was routed to the unit.
    QuestionRouted,
    /// To a unit's officers: its item was returned for changes.
    ItemReturned,
    /// To a unit's officers: its item was rejected.
    ItemRejected,
    /// To a unit's officers: its item was published.
    ItemPublished,
    /// To staff: the morning digest.
    Digest,
    /// To a unit's officers and contact: an obligation period is due soon and not met.
    ObligationReminder,
    /// To a unit and the editors: an obligation period was missed.
    ObligationMissed,
}

impl MailKind {
    /// Every kind.
    pub const ALL: &'static [MailKind] = &[
        Self::Receipt,
        Self::Answer,
        Self::Reply,
        Self::Rejection,
        Self::Publication,
        Self::KeyResent,
        Self::QuestionRouted,
        Self::ItemReturned,
        Self::ItemRejected,
        Self::ItemPublished,
        Self::Digest,
        Self::ObligationReminder,
        Self::ObligationMissed,
    ];

    /// The stored name, and the name of its templates (`mail/{name}.subject.txt`, `.txt`,
    /// `.html`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Receipt => "receipt",
            Self::Answer => "answer",
            Self::Reply => "reply",
            Self::Rejection => "rejection",
            Self::Publication => "publication",
            Self::KeyResent => "key_resent",
            Self::QuestionRouted => "question_routed",
            Self::ItemReturned => "item_returned",
            Self::ItemRejected => "item_rejected",
            Self::ItemPublished => "item_published",
            Self::Digest => "digest",
            Self::ObligationReminder => "obligation_reminder",
            Self::ObligationMissed => "obligation_missed",
        }
    }

    /// The kind a stored name stands for.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == name)
    }

    /// Whether it goes to an asker (and so holds that asker's question only).
    pub fn to_asker(self) -> bool {
        matches!(
            self,
            Self::Receipt
                | Self::Answer
                | Self::Reply
                | Self::Rejection
                | Self::Publication
                | Self::KeyResent
        )
    }
}

/// Who is written to about an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The asker of the question, if they gave an e-mail.
    Asker,
    /// The unit's officers that have an e-mail, and the unit's contact address.
    Unit,
    /// The unit, and the editorial board.
    UnitAndEditors,
}

/// The message an event causes, and to whom. A new question's receipt is queued by the
/// question's own insert (it carries the access key, which no event does).
pub fn caused_by(kind: super::events::EventType) -> Option<(MailKind, Audience)> {
    use super::events::EventType as E;
    Some(match kind {
        E::QuestionAnswered => (MailKind::Answer, Audience::Asker),
        E::QuestionReplied => (MailKind::Reply, Audience::Asker),
        E::QuestionRejected => (MailKind::Rejection, Audience::Asker),
        E::QuestionPublished => (MailKind::Publication, Audience::Asker),
        E::QuestionAssigned => (MailKind::QuestionRouted, Audience::Unit),
        E::SubmissionReturned => (MailKind::ItemReturned, Audience::Unit),
        E::SubmissionRejected => (MailKind::ItemRejected, Audience::Unit),
        E::SubmissionPublished => (MailKind::ItemPublished, Audience::Unit),
        E::ObligationPeriodMissed => (MailKind::ObligationMissed, Audience::UnitAndEditors),
        _ => return None,
    })
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailStatus {
    /// Waiting to be sent, or to be tried again.
    Pending,
    /// Accepted by the SMTP server (or written to a file).
    Sent,
    /// Given up after a day of refusals, or refused for good.
    Failed,
}

impl MailStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    /// The status a name stands for.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "pending" => Some(Self::Pending),
            "sent" => Some(Self::Sent),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// Seconds before each retry of a message the server did not take: from a minute to hours,
/// about a day in all; after the last the message has failed.
pub const RETRY_SECONDS: &[u64] = &[
    60, 300, 900, 1800, 3600, 7200, 14_400, 21_600, 21_600, 14_400,
];

/// What a message says of one obligation period: the duty, the period and its due date in
/// Vietnamese, the items there are (`have`) and owed (`need`).
pub fn period_line(
    o: &super::compliance::Obligation,
    p: &super::compliance::Period,
    category_name: Option<&str>,
    have: i64,
    need: i64,
) -> serde_json::Map<String, serde_json::Value> {
    use super::reference::Cadence;
    use super::vn_format::date;
    let line = serde_json::json!({
        "obligation_id": o.id,
        "period_start": p.from.to_string(),
        "obligation": {
            "description": o.description,
            "category_name": category_name,
            "cadence_label": match o.cadence {
                Cadence::Monthly => "hằng tháng",
                Cadence::Quarterly => "hằng quý",
            },
        },
        "period": {"start": date(p.from), "end": date(p.to), "due_date": date(p.due)},
        "have": have,
        "need": need,
        "missing": (need - have).max(0),
    });
    match line {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_servers_answer_never_holds_the_address() {
        let answer = "550 5.1.1 <Nguoi.Hoi@example.vn>: Recipient address rejected";
        assert_eq!(
            redact(answer, "nguoi.hoi@example.vn"),
            "550 5.1.1 <n***@example.vn>: Recipient address rejected"
        );
        assert_eq!(redact("451 try later", "a@b.vn"), "451 try later");
        assert_eq!(redact("a@b.vn, A@B.VN", "a@b.vn"), "a***@b.vn, a***@b.vn");
    }

    #[test]
    fn smtp_urls_say_how_to_connect() {
        let t = SmtpTarget::parse("smtp://u%40x:p%3Aw@mail.example.vn:587").unwrap();
        assert_eq!(t.tls, SmtpTls::StartTls);
        assert_eq!(t.port, 587);
        assert_eq!(t.credentials, Some(("u@x".into(), "p:w".into())));
        let t = SmtpTarget::parse("smtps://u:p@mail.example.vn").unwrap();
        assert_eq!((t.tls, t.port), (SmtpTls::Wrapper, 465));
        let t = SmtpTarget::parse("smtp://127.0.0.1:2525?tls=none").unwrap();
        assert_eq!((t.tls, t.port, t.credentials), (SmtpTls::None, 2525, None));
        assert_eq!(t.host, "127.0.0.1");
        for bad in [
            "http://x",
            "smtp://",
            "smtp://h?tls=maybe",
            "smtp://h?x=1",
            "nope",
        ] {
            let err = SmtpTarget::parse(bad).unwrap_err();
            assert!(!err.contains(bad), "{bad}: {err}");
        }
        let err = SmtpTarget::parse("smtp://user:hunter2@h?tls=maybe").unwrap_err();
        assert!(!err.contains("hunter2"));
    }

    #[test]
    fn senders_are_an_address_or_a_named_one() {
        assert_eq!(
            parse_mailbox("Cổng TTĐT <no-reply@example.vn>").unwrap(),
            "no-reply@example.vn"
        );
        assert_eq!(parse_mailbox("a@example.vn").unwrap(), "a@example.vn");
        assert!(parse_mailbox("Name <nope>").is_err());
        assert!(parse_mailbox("x <a@b.vn").is_err());
    }

    #[test]
    fn addresses_are_masked_and_message_ids_fixed_by_cause_and_recipient() {
        assert_eq!(mask("nguyen.van.a@example.vn"), "n***@example.vn");
        assert_eq!(mask("nope"), "***");
        let a = message_id("evt_1", "A@x.vn", "portal.vn");
        assert_eq!(a, message_id("evt_1", "a@x.vn", "portal.vn"));
        assert_ne!(a, message_id("evt_1", "b@x.vn", "portal.vn"));
        assert_ne!(a, message_id("evt_2", "a@x.vn", "portal.vn"));
        assert!(a.starts_with('<') && a.ends_with("@portal.vn>"));
    }

    #[test]
    fn tracking_links_fill_the_template() {
        let t = "{base}/tra-cuu/{code}?key={key}";
        assert_eq!(
            tracking_url(t, "http://localhost:8080/", "Q26-ABC", Some("k+/")),
            "http://localhost:8080/tra-cuu/Q26-ABC?key=k%2B%2F"
        );
        assert_eq!(
            tracking_url(t, "http://x.vn", "Q26-ABC", None),
            "http://x.vn/tra-cuu/Q26-ABC"
        );
        assert_eq!(
            tracking_url("https://p.vn/track?code={code}&key={key}", "", "Q", None),
            "https://p.vn/track?code=Q"
        );
    }

    #[test]
    fn retries_stop_after_about_a_day() {
        let total: u64 = RETRY_SECONDS.iter().sum();
        assert!((80_000..=86_400).contains(&total), "{total}");
        for (kind, name) in MailKind::ALL.iter().map(|k| (*k, k.as_str())) {
            assert_eq!(MailKind::parse(name), Some(kind));
        }
    }
}
