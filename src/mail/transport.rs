//! Where messages go: an SMTP server (lettre), or `.eml` files in a folder when none is set.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::ContentTransferEncoding;
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport as _};

use crate::domain::mail::{SmtpTarget, SmtpTls};

/// How long one SMTP command may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// A message ready to go.
pub struct Outgoing<'a> {
    /// `Message-ID`, with its angle brackets.
    pub message_id: &'a str,
    /// The recipient's address.
    pub to: &'a str,
    /// Subject line.
    pub subject: &'a str,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: String,
    /// The `Date` header.
    pub date: std::time::SystemTime,
    /// A name for its file, when written to one.
    pub file_stem: String,
}

/// Why a message did not go.
#[derive(Debug)]
pub enum SendError {
    /// Worth trying again later (4xx, connection trouble, a full disk).
    Transient(String),
    /// Never going to work (5xx, an address the server refuses).
    Permanent(String),
}

/// Where messages go.
pub enum Transport {
    /// An SMTP server.
    Smtp(Box<SmtpTransport>),
    /// `.eml` files in this folder.
    Files(PathBuf),
}

impl Transport {
    /// The transport the settings ask for.
    pub fn from_settings(settings: &crate::config::MailSettings) -> anyhow::Result<Self> {
        let Some(url) = &settings.smtp_url else {
            std::fs::create_dir_all(&settings.dir).map_err(|e| {
                anyhow::anyhow!(
                    "cannot create the mail folder {} (PORTAL_MAIL_DIR): {e}",
                    settings.dir.display()
                )
            })?;
            return Ok(Self::Files(settings.dir.clone()));
        };
        let target = SmtpTarget::parse(url.expose())
            .map_err(|why| anyhow::anyhow!("PORTAL_SMTP_URL {why}"))?;
        let mut builder = match target.tls {
            SmtpTls::StartTls => SmtpTransport::starttls_relay(&target.host)?,
            SmtpTls::Wrapper => SmtpTransport::relay(&target.host)?,
            SmtpTls::None => SmtpTransport::builder_dangerous(&target.host),
        }
        .port(target.port)
        .timeout(Some(SMTP_TIMEOUT));
        if let Some((user, password)) = target.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Self::Smtp(Box::new(builder.build())))
    }

    /// What the start-up log says about it (never a password).
    pub fn describe(&self) -> String {
        match self {
            Self::Smtp(_) => "mail is sent through the SMTP server of PORTAL_SMTP_URL".into(),
            Self::Files(dir) => format!(
                "no PORTAL_SMTP_URL: mail is written as .eml files to {}",
                dir.display()
            ),
        }
    }

    /// Sends one message.
    pub fn send(&self, from: &str, m: &Outgoing<'_>) -> Result<(), SendError> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| SendError::Permanent(format!("the sender is not an address: {e}")))?;
        let to: Mailbox =
            m.to.parse()
                .map_err(|_| SendError::Permanent("the recipient is not an address".into()))?;
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(m.subject)
            .message_id(Some(m.message_id.to_string()))
            .date(m.date)
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::plain(readable(&m.text)))
                    .singlepart(SinglePart::html(readable(&m.html))),
            )
            .map_err(|e| SendError::Permanent(format!("the message cannot be built: {e}")))?;
        match self {
            Self::Smtp(smtp) => smtp.send(&message).map(|_| ()).map_err(|e| {
                // The server's answer as it gave it: the worker masks the recipient in it
                // before it is logged or stored.
                let why = format!("SMTP: {e}");
                if e.is_permanent() {
                    SendError::Permanent(why)
                } else {
                    SendError::Transient(why)
                }
            }),
            Self::Files(dir) => write_file(dir, &m.file_stem, &message.formatted())
                .map_err(|e| SendError::Transient(format!("writing the message file failed: {e}"))),
        }
    }
}

/// A part as plain UTF-8 (`8bit`, lines of up to 998 bytes as RFC 5322 allows), so that a
/// written `.eml` reads as text; base64 when a line is longer.
fn readable(text: &str) -> Body {
    let lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    let fits = lines
        .iter()
        .all(|l| l.len() <= 998 && !l.contains(['\0', '\r']));
    if fits {
        let mut crlf = lines.join("\r\n");
        if !crlf.ends_with("\r\n") {
            crlf.push_str("\r\n");
        }
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::EightBit)
    } else {
        Body::new(text.to_string())
    }
}

/// Writes `bytes` to `dir/stem.eml` whole: to a temporary name first, then renamed, so a reader
/// never sees half a message.
fn write_file(dir: &std::path::Path, stem: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{stem}.tmp"));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, dir.join(format!("{stem}.eml")))
}
