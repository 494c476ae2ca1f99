//! Group commit: writer connections that run concurrent writes in one transaction each.
//!
//! SQLite with `synchronous=FULL` pays one fsync per commit, which caps single-row inserts at a
//! few thousand a second however many requests wait. The writer takes every job that is
//! waiting, runs each in its own savepoint (so one failing job rolls back alone), commits once,
//! and only then answers each caller: an acknowledged write is on disk. New questions, the
//! write that arrives by the thousand, take no savepoint, and on PostgreSQL a group's new
//! questions go in with one statement ([`QuestionTask`]).
//!
//! Each writer keeps its connection while its groups commit, so its page cache stays warm.
//! On SQLite that connection does not checkpoint as it commits: a checkpointer thread copies
//! the write-ahead log into the database file beside it, off the path every write waits on.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::{Connection, QueryResult};
use tokio::sync::oneshot;

use super::error::{DbError, FromDb};
use super::events::Collect;
use super::questions::{insert_pending, insert_pending_together, Pending, Question};
use super::{DbConnection, DbPool};

/// Most jobs committed together.
const MAX_GROUP: usize = 512;
/// Jobs that may wait for the writer before callers are told to retry.
const QUEUE: usize = 4096;
/// How long a writer runs every job in a savepoint after a job without one failed on
/// PostgreSQL and cost its whole group: a fault that repeats (a new database rule, say) then
/// costs one group, not every group.
const CAREFUL_FOR: Duration = Duration::from_secs(60);
/// How often the checkpointer copies SQLite's write-ahead log into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// A writer's own SQLite connection: a larger page cache (every write goes through it) and no
/// checkpoint in its commits (the checkpointer does them).
const SQLITE_WRITER_PRAGMAS: &str = "PRAGMA cache_size = -16384; PRAGMA wal_autocheckpoint = 0;";

type PooledConnection = diesel::r2d2::PooledConnection<super::ConnectionManager>;

trait Job: Send {
    /// Runs inside the group's transaction, in a savepoint of its own unless it is a new
    /// question and `careful` is false. Returns true when it failed outside a savepoint on
    /// PostgreSQL: the whole transaction is then aborted, and the group must be rolled back.
    fn run(&mut self, conn: &mut DbConnection, careful: bool) -> bool;
    /// Whether it ran and failed (its events are then dropped).
    fn failed(&self) -> bool;
    /// Answers the caller once the group committed or failed (the cause is logged where it
    /// happened: it names servers and databases).
    fn finish(self: Box<Self>, committed: bool);
    /// The new question this job stores, if it is one and has not run: the group may store
    /// it with the others in one statement, and then tells it with [`Job::stored`].
    fn new_question(&mut self) -> Option<&mut Pending> {
        None
    }
    /// Takes the outcome of storing [`Job::new_question`] with others; it then does not run.
    fn stored(&mut self, _outcome: Result<bool, DbError>) {}
}

/// Work in a savepoint of its own, so that one failing job rolls back alone.
struct Task<T, E, F> {
    work: Option<F>,
    result: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<T, E, F> Job for Task<T, E, F>
where
    T: Send,
    E: FromDb,
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send,
{
    fn run(&mut self, conn: &mut DbConnection, _careful: bool) -> bool {
        if let Some(work) = self.work.take() {
            self.result = Some(conn.transaction(work));
        }
        false
    }

    fn failed(&self) -> bool {
        matches!(self.result, Some(Err(_)))
    }

    fn finish(self: Box<Self>, committed: bool) {
        let result = match (committed, self.result) {
            (false, Some(Ok(_)) | None) => Err(DbError::NotStored.into()),
            (_, Some(result)) => result,
            (_, None) => Err(DbError::Internal("write job did not run".into()).into()),
        };
        let _ = self.reply.send(result);
    }
}

/// A new question: the one write that arrives by the thousand, so it takes no savepoint of its
/// own (a savepoint costs SQLite a statement journal and, with a full-text index, a flush of
/// that index; PostgreSQL two round trips), and a group's new questions go in together on
/// PostgreSQL: one statement for all of them, where five single-row inserts cost it about 1.7
/// times one five-row insert (measured with pgbench). One alone, on SQLite (whose statements
/// cost no round trip) and while the writer is careful, it is stored by itself.
///
/// On SQLite a statement that fails undoes itself and the transaction goes on. On PostgreSQL
/// it aborts the whole transaction: the group is then rolled back, the failed job gets its
/// error and every other job of the group a 503 to send again, so nothing answered as stored
/// is lost; for the next [`CAREFUL_FOR`] that writer gives every new question a savepoint.
///
/// Answers the stored question, or `None` when every tracking code drawn was taken.
struct QuestionTask {
    pending: Option<Pending>,
    result: Option<Result<Option<Question>, DbError>>,
    reply: oneshot::Sender<Result<Option<Question>, DbError>>,
}

impl QuestionTask {
    fn outcome(&mut self, outcome: Result<bool, DbError>) {
        self.result = Some(outcome.map(|stored| {
            self.pending
                .take()
                .filter(|_| stored)
                .map(|pending| pending.question)
        }));
    }
}

impl Job for QuestionTask {
    fn run(&mut self, conn: &mut DbConnection, careful: bool) -> bool {
        let Some(pending) = self.new_question() else {
            return false;
        };
        let outcome = if careful {
            conn.transaction(|conn| insert_pending(conn, pending))
        } else {
            insert_pending(conn, pending)
        };
        // A failed statement aborts a whole PostgreSQL transaction, and its COMMIT would then
        // quietly roll back the group: the group is rolled back and nobody is told otherwise.
        let poisoned = !careful && outcome.is_err() && matches!(conn, DbConnection::Pg(_));
        self.outcome(outcome);
        poisoned
    }

    fn failed(&self) -> bool {
        matches!(self.result, Some(Err(_)))
    }

    fn finish(self: Box<Self>, committed: bool) {
        let result = match (committed, self.result) {
            (false, Some(Ok(_)) | None) => Err(DbError::NotStored),
            (_, Some(result)) => result,
            (_, None) => Err(DbError::Internal("write job did not run".into())),
        };
        let _ = self.reply.send(result);
    }

    fn new_question(&mut self) -> Option<&mut Pending> {
        self.pending.as_mut().filter(|_| self.result.is_none())
    }

    fn stored(&mut self, outcome: Result<bool, DbError>) {
        self.outcome(outcome);
    }
}

/// Stores the group's new questions together on PostgreSQL when there are several and the
/// writer is not careful; false when the statement failed and the transaction is aborted.
fn store_new_questions(conn: &mut DbConnection, group: &mut [Box<dyn Job>], careful: bool) -> bool {
    if careful || !matches!(conn, DbConnection::Pg(_)) {
        return true;
    }
    let mut jobs: Vec<&mut Box<dyn Job>> = group
        .iter_mut()
        .filter_map(|job| job.new_question().is_some().then_some(job))
        .collect();
    if jobs.len() < 2 {
        return true;
    }
    let mut pending: Vec<&mut Pending> = jobs.iter_mut().filter_map(|j| j.new_question()).collect();
    match insert_pending_together(conn, &mut pending) {
        Ok(stored) => {
            for (job, stored) in jobs.iter_mut().zip(stored) {
                job.stored(Ok(stored));
            }
            true
        }
        Err(e) => {
            tracing::error!(error = %e, questions = jobs.len(), "storing new questions failed");
            for job in jobs.iter_mut() {
                job.stored(Err(DbError::NotStored));
            }
            false
        }
    }
}

/// What the writer thread is sent: a job, or `None` to stop after the jobs before it.
type Message = Option<Box<dyn Job>>;

/// A handle to the writer threads.
#[derive(Clone)]
pub struct Writer {
    queues: Arc<[SyncSender<Message>]>,
    next: Arc<AtomicUsize>,
}

/// The writer threads themselves, kept by whoever stops the service.
pub struct WriterThread {
    queues: Arc<[SyncSender<Message>]>,
    threads: Vec<thread::JoinHandle<()>>,
    checkpointer: Option<(SyncSender<()>, thread::JoinHandle<()>)>,
}

impl WriterThread {
    /// Commits what is queued, stops the threads and waits until their connections are
    /// released.
    pub fn stop(self) {
        for queue in self.queues.iter() {
            let _ = queue.send(None);
        }
        for thread in self.threads {
            if thread.join().is_err() {
                tracing::error!("a database writer thread panicked");
            }
        }
        if let Some((stop, thread)) = self.checkpointer {
            let _ = stop.send(());
            if thread.join().is_err() {
                tracing::error!("the database checkpointer thread panicked");
            }
        }
    }
}

impl Writer {
    /// Starts the writer threads, each with a queue. SQLite takes one writer at a time, so it
    /// gets one thread, and a checkpointer; PostgreSQL gets up to four, so that new rows are
    /// not all waiting on one connection's round trips. A writer keeps its connection between
    /// groups when the pool is large enough to spare it (more than twice the writers), else it
    /// draws one for each group.
    pub fn start(pool: DbPool, sqlite: bool) -> (Self, WriterThread) {
        let pool_size = usize::try_from(pool.max_size()).unwrap_or(usize::MAX);
        let threads = if sqlite {
            1
        } else {
            (pool_size / 4).clamp(1, 4)
        };
        let hold = pool_size > 2 * threads;
        let (queues, threads): (Vec<_>, Vec<_>) = (0..threads)
            .map(|n| {
                let (jobs, queue) = mpsc::sync_channel::<Message>(QUEUE);
                let pool = pool.clone();
                let thread = thread::Builder::new()
                    .name(format!("db-writer-{n}"))
                    .spawn(move || serve(pool, queue, hold, sqlite))
                    .expect("start a database writer thread");
                (jobs, thread)
            })
            .unzip();
        let checkpointer = sqlite.then(|| {
            let (stop, stopped) = mpsc::sync_channel::<()>(1);
            let pool = pool.clone();
            let thread = thread::Builder::new()
                .name("db-checkpoint".into())
                .spawn(move || checkpoint(pool, stopped))
                .expect("start the database checkpointer thread");
            (stop, thread)
        });
        let queues: Arc<[SyncSender<Message>]> = queues.into();
        let handle = WriterThread {
            queues: queues.clone(),
            threads,
            checkpointer,
        };
        let writer = Self {
            queues,
            next: Arc::new(AtomicUsize::new(0)),
        };
        (writer, handle)
    }

    /// Runs `work` in the next group commit of the first writer and returns its result once it
    /// is durable. Changes to existing rows all go through this one writer, so that two groups
    /// never lock the same rows in opposite orders.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: FromDb,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        self.send(0, work).await
    }

    /// Like [`Writer::write`], for work that only adds new rows: it may go to any writer.
    pub async fn insert<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: FromDb,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        self.send(self.any_queue(), work).await
    }

    /// Stores a new question with its event in any writer's next group commit (see
    /// [`QuestionTask`]): the question as stored, or `None` when no free tracking code was
    /// drawn.
    pub async fn insert_question(&self, pending: Pending) -> Result<Option<Question>, DbError> {
        self.submit(self.any_queue(), |reply| {
            Box::new(QuestionTask {
                pending: Some(pending),
                result: None,
                reply,
            })
        })
        .await
    }

    /// The next writer in turn, for new rows.
    fn any_queue(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed) % self.queues.len()
    }

    async fn send<T, E, F>(&self, queue: usize, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: FromDb,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        self.submit(queue, |reply| {
            Box::new(Task {
                work: Some(work),
                result: None,
                reply,
            })
        })
        .await
    }

    /// Queues the job `make` builds around its reply channel, and waits for its answer.
    async fn submit<T, E>(
        &self,
        queue: usize,
        make: impl FnOnce(oneshot::Sender<Result<T, E>>) -> Box<dyn Job>,
    ) -> Result<T, E>
    where
        E: FromDb,
    {
        let (reply, answer) = oneshot::channel();
        self.queues[queue]
            .try_send(Some(make(reply)))
            .map_err(|e| match e {
                mpsc::TrySendError::Full(_) => DbError::Busy,
                mpsc::TrySendError::Disconnected(_) => {
                    DbError::Internal("the database writer stopped".into())
                }
            })?;
        answer
            .await
            .map_err(|_| DbError::Internal("the database writer dropped a job".into()))?
    }
}

fn serve(pool: DbPool, queue: Receiver<Message>, hold: bool, sqlite: bool) {
    let mut held: Option<PooledConnection> = None;
    // The events the jobs record, inserted together just before the group commits.
    let events = Collect::start();
    // Until when every job keeps a savepoint, after one without failed and cost its group.
    let mut careful_until: Option<Instant> = None;
    let mut stopping = false;
    while !stopping {
        let Ok(Some(first)) = queue.recv() else {
            break;
        };
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(Some(job)) => group.push(job),
                Ok(None) => {
                    stopping = true;
                    break;
                }
                Err(_) => break,
            }
        }
        let conn = match held.take() {
            Some(conn) => Ok(conn),
            None => pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
                if sqlite {
                    conn.batch_execute(SQLITE_WRITER_PRAGMAS)
                        .map_err(|e| e.to_string())?;
                }
                Ok(conn)
            }),
        };
        let mut conn = match conn {
            Ok(conn) => conn,
            Err(why) => {
                tracing::warn!(error = %why, "database writer has no connection");
                for job in group {
                    job.finish(false);
                }
                continue;
            }
        };
        let careful = careful_until.is_some_and(|until| Instant::now() < until);
        let mut events_failed = false;
        let committed = match group_transaction(&mut conn, |conn| {
            let mut poisoned = !store_new_questions(conn, &mut group, careful);
            for job in group.iter_mut() {
                // After a failure that aborted the transaction, no later job could write.
                if poisoned {
                    break;
                }
                let mark = events.mark();
                poisoned = job.run(conn, careful);
                if job.failed() {
                    events.undo_to(mark);
                }
            }
            if poisoned {
                return false;
            }
            match events.insert(conn) {
                Ok(_) => true,
                Err(e) => {
                    tracing::error!(
                        error = %e,
                        jobs = group.len(),
                        "recording the group's events failed"
                    );
                    events_failed = true;
                    false
                }
            }
        }) {
            Ok(committed) => {
                if !committed && !events_failed {
                    careful_until = Some(Instant::now() + CAREFUL_FOR);
                    tracing::warn!(
                        jobs = group.len(),
                        careful_seconds = CAREFUL_FOR.as_secs(),
                        "a write failed outside a savepoint and its group was rolled back; \
                         every write keeps a savepoint for a while"
                    );
                }
                committed
            }
            Err(e) => {
                tracing::error!(error = %e, jobs = group.len(), "group commit failed");
                false
            }
        };
        events.discard();
        // After a failure the connection goes back to the pool, which discards it if broken.
        if hold && committed {
            held = Some(conn);
        }
        for job in group {
            job.finish(committed);
        }
    }
}

/// Copies SQLite's write-ahead log into the database file every [`CHECKPOINT_EVERY`], without
/// waiting for readers or blocking writers (`PASSIVE`), until told to stop.
fn checkpoint(pool: DbPool, stop: Receiver<()>) {
    while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        let done = pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
            conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE);")
                .map_err(|e| e.to_string())
        });
        if let Err(e) = done {
            tracing::warn!(error = %e, "write-ahead log checkpoint failed");
        }
    }
}

/// Runs the group in one transaction. On SQLite it begins `IMMEDIATE`, taking the write lock
/// first (waiting up to `busy_timeout`): a deferred transaction whose first job reads cannot
/// turn into a writer once another connection has committed since, and SQLite then answers
/// "database is locked" at once instead of waiting.
///
/// `work` answers whether the group may commit; if not, it is rolled back. Whether it
/// committed is returned.
fn group_transaction(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> bool,
) -> QueryResult<bool> {
    type Manager = <DbConnection as Connection>::TransactionManager;
    match conn {
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?
        }
        DbConnection::Pg(_) => Manager::begin_transaction(conn)?,
    }
    if work(conn) {
        Manager::commit_transaction(conn)?;
        Ok(true)
    } else {
        Manager::rollback_transaction(conn)?;
        Ok(false)
    }
}
