//! What the service sends out, apart from request handling: the event log numbered in commit
//! order, and webhook deliveries built on it.
//!
//! A thread of its own does the database work in rounds: time-driven events, numbering,
//! fan-out of new events to the webhooks that take them, then recording finished attempts and
//! claiming due deliveries. It wakes every [`POLL`], when an attempt finishes, or when told to
//! stop. The attempts themselves are sent on a small runtime of their own
//! ([`delivery::Deliveries`]). Every step is safe with several instances on one database:
//! numbering and fan-out take turns, and deliveries are claimed row by row with a lease.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::metrics::OutboxMetrics;

mod delivery;
mod http;
mod timed;

/// How often the outbox looks for new work when it is idle.
pub const POLL: Duration = Duration::from_millis(100);

/// Most events passed on to webhooks in one transaction.
const FAN_OUT_LIMIT: i64 = 1000;

/// How often the age of the oldest pending delivery is measured for `/metrics`.
const GAUGE_EVERY: Duration = Duration::from_secs(5);

/// How long a stopping outbox waits for attempts in flight before abandoning them.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// What wakes the outbox thread.
pub(crate) enum Message {
    /// An attempt finished.
    Finished(Box<delivery::Finished>),
    /// Stop.
    Stop,
}

/// The running outbox, kept by whoever stops the service.
pub struct OutboxThread {
    inbox: Sender<Message>,
    thread: Option<thread::JoinHandle<()>>,
}

impl OutboxThread {
    /// Starts the outbox thread and its delivery runtime.
    pub fn start(
        pool: DbPool,
        settings: &Settings,
        metrics: Arc<OutboxMetrics>,
    ) -> anyhow::Result<Self> {
        let (inbox, messages) = mpsc::channel::<Message>();
        let deliveries = delivery::Deliveries::start(settings, inbox.clone(), metrics.clone())?;
        let context = Context {
            pool,
            clock: settings.clock(),
            timed: timed::Schedule::default(),
            deliveries,
            metrics,
            last_scan: None,
            scan_again: false,
            last_gauge: None,
        };
        let thread = thread::Builder::new()
            .name("outbox".into())
            .spawn(move || run(context, messages))?;
        Ok(Self {
            inbox,
            thread: Some(thread),
        })
    }

    /// Stops claiming, gives attempts in flight a moment to finish, abandons the rest (they
    /// are due again at once) and waits for the thread.
    pub fn stop(mut self) {
        let _ = self.inbox.send(Message::Stop);
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the outbox thread panicked");
            }
        }
    }
}

impl Drop for OutboxThread {
    /// A service dropped without being stopped still stops its outbox (without waiting).
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.inbox.send(Message::Stop);
        }
    }
}

/// What the outbox works with.
struct Context {
    pool: DbPool,
    clock: Clock,
    timed: timed::Schedule,
    deliveries: delivery::Deliveries,
    metrics: Arc<OutboxMetrics>,
    /// When events were last numbered and fanned out.
    last_scan: Option<Instant>,
    /// Whether the last scan left work behind.
    scan_again: bool,
    last_gauge: Option<Instant>,
}

fn run(mut context: Context, messages: Receiver<Message>) {
    let mut wait = Duration::ZERO;
    loop {
        let mut stop = false;
        let mut take = |message: Message, context: &mut Context| match message {
            Message::Finished(finished) => context.deliveries.finished(*finished),
            Message::Stop => stop = true,
        };
        match messages.recv_timeout(wait) {
            Ok(message) => take(message, &mut context),
            Err(RecvTimeoutError::Timeout) => {}
            // Cannot happen while the context holds a sender; stop all the same.
            Err(RecvTimeoutError::Disconnected) => break,
        }
        while let Ok(message) = messages.try_recv() {
            take(message, &mut context);
        }
        if stop {
            break;
        }
        round(&mut context);
        wait = if context.scan_again {
            Duration::ZERO
        } else {
            context
                .last_scan
                .map_or(Duration::ZERO, |at| POLL.saturating_sub(at.elapsed()))
        };
    }
    shut_down(context, &messages);
}

/// One round: the scan when it is due, then the deliveries' step.
fn round(context: &mut Context) {
    let mut conn = match context.pool.get() {
        Ok(conn) => conn,
        Err(e) => {
            tracing::warn!(error = %e, "the outbox has no database connection");
            // Try again after a pause, not at once.
            context.last_scan = Some(Instant::now());
            context.scan_again = false;
            return;
        }
    };
    let now = context.clock.now();
    // Whether deliveries may be due; only asked when scanning (a round woken by a finished
    // attempt records it and claims anyway).
    let mut due = false;
    if context.scan_again || context.last_scan.is_none_or(|at| at.elapsed() >= POLL) {
        context.last_scan = Some(Instant::now());
        context.scan_again = false;
        context.timed.run_if_due(&mut conn, now);
        let probe = db::deliveries::probe(&mut conn, now).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "looking for webhook work failed");
            db::deliveries::Probe::default()
        });
        due = probe.due;
        if probe.new_events {
            match db::fanout::fan_out(&mut conn, now, FAN_OUT_LIMIT) {
                Ok(fan_out) => {
                    for kind in &fan_out.events {
                        context.metrics.event(*kind);
                    }
                    context.scan_again |= fan_out.more;
                    due |= fan_out.deliveries > 0;
                }
                Err(e) => tracing::warn!(error = %e, "passing events on to webhooks failed"),
            }
        }
    }
    if let Err(e) = context.deliveries.step(&mut conn, now, due) {
        tracing::warn!(error = %e, "recording or claiming webhook deliveries failed");
    }
    if context
        .last_gauge
        .is_none_or(|at| at.elapsed() >= GAUGE_EVERY)
    {
        context.last_gauge = Some(Instant::now());
        match db::deliveries::oldest_pending(&mut conn) {
            Ok(oldest) => {
                let age = oldest.map_or(0.0, |at| (now - at).as_seconds_f64());
                context.metrics.set_oldest_pending(age);
            }
            Err(e) => tracing::warn!(error = %e, "measuring the oldest pending delivery failed"),
        }
    }
}

/// Lets attempts in flight finish for up to [`STOP_GRACE`], then stops the delivery runtime,
/// records what finished and gives back what did not.
fn shut_down(mut context: Context, messages: &Receiver<Message>) {
    let deadline = Instant::now() + STOP_GRACE;
    while context.deliveries.sending() {
        let left = deadline.saturating_duration_since(Instant::now());
        match messages.recv_timeout(left) {
            Ok(Message::Finished(finished)) => context.deliveries.finished(*finished),
            Ok(Message::Stop) => {}
            Err(_) => break,
        }
    }
    context.deliveries.halt();
    // Attempts that finished while the runtime stopped.
    while let Ok(message) = messages.try_recv() {
        if let Message::Finished(finished) = message {
            context.deliveries.finished(*finished);
        }
    }
    let now = context.clock.now();
    let mut conn = context.pool.get().ok();
    if conn.is_none() {
        tracing::warn!(
            "the outbox has no database connection to record its last attempts; they are \
             retried when their lease runs out"
        );
    }
    context.deliveries.stop(conn.as_deref_mut(), now);
}
