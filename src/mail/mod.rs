//! The mail worker: a thread of its own that claims due messages from the outbox (with a lease,
//! so that several instances never send one at once), renders them from `templates/mail/`,
//! sends them (SMTP, or `.eml` files when no server is set) and records each attempt: sent,
//! tried again later on a schedule of about a day, or failed for admins to see.
//!
//! At least once: a message sent whose answer was lost (the process died) is sent again when its
//! lease runs out, under the same `Message-ID`, fixed by its cause and recipient.

pub mod render;
pub mod transport;

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::mail::{self as outbox, Claimed, Outcome};
use crate::db::DbPool;
use crate::domain::mail::{mask, message_id, parse_mailbox, redact};
use crate::templates::Templates;
use render::Links;
use transport::{Outgoing, SendError, Transport};

/// How often an idle worker looks for due messages.
pub const POLL: Duration = Duration::from_millis(200);

/// Messages claimed at once.
const BATCH: i64 = 8;

/// How long a claim holds its messages: a message is sent only while at least
/// [`LEASE_MARGIN_SECONDS`] of it are left, so no other instance can claim it meanwhile.
const LEASE_SECONDS: i64 = 60;
const LEASE_MARGIN_SECONDS: i64 = 35;

/// The running worker, kept by whoever stops the service.
pub struct MailThread {
    stop: Sender<()>,
    thread: Option<thread::JoinHandle<()>>,
}

impl MailThread {
    /// Starts the worker; says in the log where mail goes.
    pub fn start(pool: DbPool, settings: &Settings, templates: Templates) -> anyhow::Result<Self> {
        let transport = Transport::from_settings(&settings.mail)?;
        tracing::info!("{}", transport.describe());
        let sender = parse_mailbox(&settings.mail.from).map_err(anyhow::Error::msg)?;
        let domain = sender
            .rsplit_once('@')
            .map_or("localhost", |(_, d)| d)
            .to_string();
        let worker = Worker {
            pool,
            clock: settings.clock(),
            templates,
            transport,
            from: settings.mail.from.clone(),
            domain,
            links: Links {
                base: settings
                    .public_base_url
                    .as_str()
                    .trim_end_matches('/')
                    .to_string(),
                tracking: settings.mail.tracking_url_template.clone(),
            },
            retry_seconds: settings.mail.retry_seconds.clone(),
        };
        let (stop, stopped) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("mail".into())
            .spawn(move || worker.run(&stopped))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops after the message in hand and waits for the thread.
    pub fn stop(mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the mail thread panicked");
            }
        }
    }
}

impl Drop for MailThread {
    fn drop(&mut self) {
        let _ = self.stop.send(());
    }
}

/// What a round of the worker ended with.
enum Round {
    /// A full batch: more may be waiting.
    More,
    /// Nothing more is due now.
    Idle,
    /// Asked to stop.
    Stop,
}

struct Worker {
    pool: DbPool,
    clock: Clock,
    templates: Templates,
    transport: Transport,
    from: String,
    domain: String,
    links: Links,
    retry_seconds: Vec<u64>,
}

impl Worker {
    fn run(self, stopped: &Receiver<()>) {
        let mut wait = Duration::ZERO;
        loop {
            match stopped.recv_timeout(wait) {
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {}
            }
            wait = match self.round(stopped) {
                // Asked to stop while sending a batch (the message was taken there).
                Ok(Round::Stop) => return,
                Ok(Round::More) => Duration::ZERO,
                Ok(Round::Idle) => POLL,
                Err(e) => {
                    tracing::warn!(error = %e, "sending mail failed; trying again shortly");
                    POLL * 5
                }
            };
        }
    }

    /// Claims and sends one batch.
    fn round(&self, stopped: &Receiver<()>) -> Result<Round, crate::db::DbError> {
        let now = self.clock.now();
        let claimed = {
            let mut conn = self.pool.get()?;
            if !outbox::any_due(&mut conn, now)? {
                return Ok(Round::Idle);
            }
            let lease_until = now + chrono::Duration::seconds(LEASE_SECONDS);
            outbox::claim(&mut conn, now, lease_until, BATCH)?
        };
        let full = claimed.len() as i64 == BATCH;
        let started = std::time::Instant::now();
        for m in &claimed {
            let spent = i64::try_from(started.elapsed().as_secs()).unwrap_or(i64::MAX);
            // The rest are left to their lease: due again when it runs out, here or elsewhere.
            if stopped.try_recv().is_ok() {
                return Ok(Round::Stop);
            }
            if spent > LEASE_SECONDS - LEASE_MARGIN_SECONDS {
                return Ok(Round::Idle);
            }
            let outcome = self.attempt(m)?;
            let mut conn = self.pool.get()?;
            outbox::finish(&mut conn, &m.id, &outcome, self.clock.now())?;
        }
        Ok(if full { Round::More } else { Round::Idle })
    }

    /// Renders and sends one message. A connection is held while rendering only, never while
    /// the mail server answers, so a slow server ties up none of the pool.
    fn attempt(&self, m: &Claimed) -> Result<Outcome, crate::db::DbError> {
        let to = mask(&m.recipient);
        let rendered = {
            let mut conn = self.pool.get()?;
            render::render(&self.templates, &mut conn, &self.links, m)
        };
        let rendered = match rendered {
            Ok(r) => r,
            Err(why) => {
                tracing::error!(mail = %m.id, kind = %m.kind, to = %to, error = %why, "a message cannot be rendered; it has failed");
                return Ok(Outcome::Refused {
                    error: format!("not rendered: {why}"),
                    retry_in: None,
                });
            }
        };
        let message_id = message_id(&m.cause, &m.recipient, &self.domain);
        let outgoing = Outgoing {
            message_id: &message_id,
            to: &m.recipient,
            subject: &rendered.subject,
            text: rendered.text,
            html: rendered.html,
            date: render::system_time(self.clock.now()),
            file_stem: format!("{}-{}", m.id, m.kind),
        };
        Ok(match self.transport.send(&self.from, &outgoing) {
            Ok(()) => {
                tracing::info!(mail = %m.id, kind = %m.kind, to = %to, "mail sent");
                Outcome::Sent {
                    subject: rendered.subject,
                }
            }
            Err(SendError::Permanent(why)) => {
                let why = redact(&why, &m.recipient);
                tracing::warn!(mail = %m.id, kind = %m.kind, to = %to, error = %why, "mail refused for good");
                Outcome::Refused {
                    error: why,
                    retry_in: None,
                }
            }
            Err(SendError::Transient(why)) => {
                let why = redact(&why, &m.recipient);
                let retry_in = usize::try_from(m.attempts)
                    .ok()
                    .and_then(|n| self.retry_seconds.get(n))
                    .map(|s| chrono::Duration::seconds(i64::try_from(*s).unwrap_or(i64::MAX / 2)));
                tracing::warn!(mail = %m.id, kind = %m.kind, to = %to, error = %why, retry = retry_in.is_some(), "mail not taken");
                Outcome::Refused {
                    error: why,
                    retry_in,
                }
            }
        })
    }
}
