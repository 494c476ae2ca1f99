//! What the service sends out, apart from request handling: the event log numbered in commit
//! order, and (built on it) webhook deliveries.
//!
//! A thread of its own wakes every [`POLL`] (or when told to stop) and does one round of each
//! step. Every step is safe with several instances on one database: numbering takes an
//! advisory lock in turns, and work is claimed row by row.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::thread;
use std::time::Duration;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::DbPool;

mod timed;

/// How often the outbox looks for new work when it is idle.
pub const POLL: Duration = Duration::from_millis(100);

/// The running outbox, kept by whoever stops the service.
pub struct OutboxThread {
    stop: SyncSender<()>,
    thread: thread::JoinHandle<()>,
}

impl OutboxThread {
    /// Starts the outbox thread.
    pub fn start(pool: DbPool, settings: &Settings) -> Self {
        let context = Context {
            pool,
            clock: settings.clock(),
            timed: timed::Schedule::default(),
        };
        let (stop, stopped) = mpsc::sync_channel::<()>(1);
        let thread = thread::Builder::new()
            .name("outbox".into())
            .spawn(move || run(context, stopped))
            .expect("start the outbox thread");
        Self { stop, thread }
    }

    /// Stops after the round in progress.
    pub fn stop(self) {
        let _ = self.stop.send(());
        if self.thread.join().is_err() {
            tracing::error!("the outbox thread panicked");
        }
    }
}

/// What the outbox works with.
struct Context {
    pool: DbPool,
    clock: Clock,
    timed: timed::Schedule,
}

fn run(mut context: Context, stop: Receiver<()>) {
    loop {
        let busy = round(&mut context);
        let wait = if busy { Duration::ZERO } else { POLL };
        match stop.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
        }
    }
}

/// One round; whether there was work (so the next round starts at once).
fn round(context: &mut Context) -> bool {
    let mut conn = match context.pool.get() {
        Ok(conn) => conn,
        Err(e) => {
            tracing::warn!(error = %e, "the outbox has no database connection");
            return false;
        }
    };
    let now = context.clock.now();
    context.timed.run_if_due(&mut conn, now);
    false
}
