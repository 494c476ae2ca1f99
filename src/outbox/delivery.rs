//! Webhook delivery: claims due deliveries, sends them on a runtime of their own (apart from
//! the threads that answer requests, so a slow receiver never slows the API), at most
//! `webhook_concurrency` at once, and records what each attempt got, a batch per transaction.

use std::collections::HashMap;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use super::http::{self, Answer, Reach};
use super::Message;
use crate::config::{Environment, Settings};
use crate::db::deliveries::{self, Attempted, Claimed, Next};
use crate::db::{DbConnection, DbError};
use crate::metrics::{DeliveryOutcome, OutboxMetrics};

/// How long a claimed delivery is this instance's to send: longer than the receiver's
/// timeout, so a live instance always records before another may claim it again; if the
/// instance dies, the delivery is due again when the lease runs out.
pub const LEASE_SECONDS: i64 = 30;

/// Threads of the delivery runtime: sending is mostly waiting, and TLS handshakes are the
/// only real work.
const SEND_THREADS: usize = 2;

/// One attempt that finished, waiting to be recorded.
#[derive(Debug)]
pub struct Finished {
    delivery_id: i64,
    webhook_id: String,
    claimed_attempts: i32,
    attempted_at: NaiveDateTime,
    answer: Answer,
    took: Duration,
}

/// The sending side of the outbox.
pub struct Deliveries {
    /// `None` once halted.
    runtime: Option<tokio::runtime::Runtime>,
    client: reqwest::Client,
    reach: Reach,
    retry_seconds: Vec<u64>,
    concurrency: usize,
    /// Deliveries being sent, with the attempts made before this one.
    in_flight: HashMap<i64, i32>,
    /// Attempts finished and not yet recorded.
    finished: Vec<Finished>,
    inbox: Sender<Message>,
    metrics: Arc<OutboxMetrics>,
}

impl Deliveries {
    /// Builds the client and starts the runtime; `inbox` is where finished attempts are sent.
    pub fn start(
        settings: &Settings,
        inbox: Sender<Message>,
        metrics: Arc<OutboxMetrics>,
    ) -> anyhow::Result<Self> {
        let concurrency = settings.webhook_concurrency.max(1);
        let reach = Reach {
            allow_private: settings.webhook_allow_private,
            https_required: settings.environment == Environment::Production,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(SEND_THREADS)
            // Name lookups block a thread each.
            .max_blocking_threads(concurrency.min(64))
            .thread_name("webhook-send")
            .enable_all()
            .build()?;
        let client = http::client(reach, concurrency)?;
        Ok(Self {
            runtime: Some(runtime),
            client,
            reach,
            retry_seconds: settings.webhook_retry_seconds.clone(),
            concurrency,
            in_flight: HashMap::new(),
            finished: Vec::new(),
            inbox,
            metrics,
        })
    }

    /// Takes a finished attempt back from the runtime.
    pub fn finished(&mut self, finished: Finished) {
        self.in_flight.remove(&finished.delivery_id);
        self.finished.push(finished);
    }

    /// Whether attempts are still being sent.
    pub fn sending(&self) -> bool {
        !self.in_flight.is_empty()
    }

    /// Records the finished attempts and claims as many due deliveries as there is room for
    /// (when `due` says some may be), in one transaction, then starts sending those. Costs
    /// nothing when nothing finished and nothing is due.
    pub fn step(
        &mut self,
        conn: &mut DbConnection,
        now: NaiveDateTime,
        due: bool,
    ) -> Result<(), DbError> {
        let room = self.concurrency.saturating_sub(self.in_flight.len());
        if self.finished.is_empty() && (room == 0 || !due) {
            return Ok(());
        }
        let done: Vec<Attempted> = self
            .finished
            .iter()
            .map(|f| attempted(f, now, &self.retry_seconds))
            .collect();
        let lease_until = now + chrono::Duration::seconds(LEASE_SECONDS);
        let room = i64::try_from(room).unwrap_or(i64::MAX);
        let settled = deliveries::settle(conn, now, &done, room, lease_until)?;
        self.finished.clear();
        account(&self.metrics, &done, &settled.recorded);
        for webhook in &settled.disabled {
            tracing::warn!(
                webhook = %webhook,
                "webhook disabled: its deliveries have all failed for days"
            );
        }
        for claimed in settled.claimed {
            self.send(claimed, now);
        }
        Ok(())
    }

    fn send(&mut self, claimed: Claimed, now: NaiveDateTime) {
        self.in_flight.insert(claimed.id, claimed.attempts);
        let client = self.client.clone();
        let reach = self.reach;
        let inbox = self.inbox.clone();
        let request = http::Request {
            url: claimed.url,
            event_id: claimed.event_id,
            payload: claimed.payload,
            secret: claimed.secret,
            timestamp: now.and_utc().timestamp(),
        };
        let (delivery_id, webhook_id, claimed_attempts) =
            (claimed.id, claimed.webhook_id, claimed.attempts);
        let Some(runtime) = &self.runtime else {
            // Halted: the claim is given back with the others in flight.
            return;
        };
        runtime.spawn(async move {
            let started = Instant::now();
            let answer = http::send(&client, reach, request).await;
            let finished = Finished {
                delivery_id,
                webhook_id,
                claimed_attempts,
                attempted_at: now,
                answer,
                took: started.elapsed(),
            };
            // The outbox may be gone (stopping): the lease then lets the attempt be retried.
            let _ = inbox.send(Message::Finished(Box::new(finished)));
        });
    }

    /// Stops sending: attempts still in flight are cancelled.
    pub fn halt(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_millis(200));
        }
    }

    /// Records what finished and gives back what did not, so that it is due at once (here
    /// after a restart, or on another instance). Call after [`Deliveries::halt`] and after
    /// taking the last finished attempts.
    pub fn stop(mut self, conn: Option<&mut DbConnection>, now: NaiveDateTime) {
        self.halt();
        let Some(conn) = conn else {
            return;
        };
        let done: Vec<Attempted> = self
            .finished
            .iter()
            .map(|f| attempted(f, now, &self.retry_seconds))
            .collect();
        if !done.is_empty() {
            let lease_until = now + chrono::Duration::seconds(LEASE_SECONDS);
            match deliveries::settle(conn, now, &done, 0, lease_until) {
                Ok(settled) => account(&self.metrics, &done, &settled.recorded),
                Err(e) => tracing::warn!(error = %e, "recording the last webhook attempts failed"),
            }
        }
        let abandoned: Vec<(i64, i32)> = self.in_flight.drain().collect();
        if let Err(e) = deliveries::release(conn, &abandoned) {
            tracing::warn!(
                error = %e,
                "giving back unsent webhook deliveries failed; they are retried when their \
                 lease runs out"
            );
        }
    }
}

/// Counts the attempts recorded, and logs the failed ones (without URL or secret).
fn account(metrics: &OutboxMetrics, done: &[Attempted], recorded: &[bool]) {
    for (attempt, _) in done.iter().zip(recorded).filter(|(_, kept)| **kept) {
        metrics.delivered(outcome(attempt.next));
        let number = attempt.claimed_attempts + 1;
        let why = attempt.error.as_deref().unwrap_or("");
        match attempt.next {
            Next::Succeeded => {}
            Next::RetryAt(at) => tracing::debug!(
                webhook = %attempt.webhook_id,
                delivery = attempt.delivery_id,
                attempt = number,
                status = ?attempt.http_status,
                error = why,
                retry_at = %at,
                "webhook attempt failed; it will be retried"
            ),
            Next::Failed => tracing::info!(
                webhook = %attempt.webhook_id,
                delivery = attempt.delivery_id,
                attempt = number,
                status = ?attempt.http_status,
                error = why,
                "webhook delivery failed for the last time"
            ),
        }
    }
}

/// An attempt as recorded, with where its delivery stands now.
fn attempted(f: &Finished, now: NaiveDateTime, retry_seconds: &[u64]) -> Attempted {
    let (http_status, error) = match &f.answer {
        Answer::Status(status) => (Some(i32::from(*status)), None),
        Answer::Error(why) => (None, Some(why.clone())),
    };
    let succeeded = matches!(f.answer, Answer::Status(s) if (200..300).contains(&s));
    Attempted {
        delivery_id: f.delivery_id,
        webhook_id: f.webhook_id.clone(),
        claimed_attempts: f.claimed_attempts,
        attempted_at: f.attempted_at,
        http_status,
        error,
        duration_ms: i64::try_from(f.took.as_millis()).unwrap_or(i64::MAX),
        next: next_state(succeeded, f.claimed_attempts + 1, retry_seconds, now),
    }
}

/// Where a delivery stands after its attempt number `attempt` (1 for the first): taken, or
/// retried after the schedule's entry for that attempt, or failed once the schedule is spent.
fn next_state(succeeded: bool, attempt: i32, retry_seconds: &[u64], now: NaiveDateTime) -> Next {
    if succeeded {
        return Next::Succeeded;
    }
    let index = usize::try_from(attempt - 1).unwrap_or(usize::MAX);
    match retry_seconds.get(index) {
        Some(seconds) => {
            let wait = i64::try_from(*seconds).unwrap_or(i64::MAX / 2);
            Next::RetryAt(now + chrono::Duration::seconds(wait))
        }
        None => Next::Failed,
    }
}

fn outcome(next: Next) -> DeliveryOutcome {
    match next {
        Next::Succeeded => DeliveryOutcome::Succeeded,
        Next::RetryAt(_) => DeliveryOutcome::Retry,
        Next::Failed => DeliveryOutcome::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn a_failure_waits_its_turn_in_the_schedule_then_gives_up() {
        let now = at("2026-03-02 10:00:00");
        let schedule = [5, 300, 1800];
        assert_eq!(next_state(true, 1, &schedule, now), Next::Succeeded);
        assert_eq!(next_state(true, 4, &schedule, now), Next::Succeeded);
        assert_eq!(
            next_state(false, 1, &schedule, now),
            Next::RetryAt(at("2026-03-02 10:00:05"))
        );
        assert_eq!(
            next_state(false, 3, &schedule, now),
            Next::RetryAt(at("2026-03-02 10:30:00"))
        );
        assert_eq!(next_state(false, 4, &schedule, now), Next::Failed);
    }

    #[test]
    fn only_a_2xx_is_a_success() {
        let now = at("2026-03-02 10:00:00");
        let finished = |answer| Finished {
            delivery_id: 1,
            webhook_id: "w".into(),
            claimed_attempts: 0,
            attempted_at: now,
            answer,
            took: Duration::from_millis(12),
        };
        for (answer, ok) in [
            (Answer::Status(200), true),
            (Answer::Status(204), true),
            (Answer::Status(301), false),
            (Answer::Status(500), false),
            (Answer::Error("timed out after 10 s".into()), false),
        ] {
            let a = attempted(&finished(answer), now, &[1]);
            assert_eq!(a.next == Next::Succeeded, ok, "{a:?}");
            assert_eq!(a.duration_ms, 12);
        }
    }
}
