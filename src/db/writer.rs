//! Group commit: writer connections that run concurrent writes in one transaction each.
//!
//! SQLite with `synchronous=FULL` pays one fsync per commit, which caps single-row inserts at a
//! few thousand a second however many requests wait. The writer takes every job that is
//! waiting, runs each in its own savepoint (so one failing job rolls back alone), commits once,
//! and only then answers each caller: an acknowledged write is on disk.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::{Connection, QueryResult};
use tokio::sync::oneshot;

use super::{DbConnection, DbPool};
use crate::error::ApiError;

/// Most jobs committed together.
const MAX_GROUP: usize = 512;
/// Jobs that may wait for the writer before callers are told to retry.
const QUEUE: usize = 4096;

trait Job: Send {
    /// Runs inside the group's transaction, in a savepoint of its own.
    fn run(&mut self, conn: &mut DbConnection);
    /// Answers the caller once the group committed (`None`) or failed (`Some(why)`).
    fn finish(self: Box<Self>, commit_error: Option<&str>);
}

struct Task<T, F> {
    work: Option<F>,
    result: Option<Result<T, ApiError>>,
    reply: oneshot::Sender<Result<T, ApiError>>,
}

impl<T, F> Job for Task<T, F>
where
    T: Send,
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send,
{
    fn run(&mut self, conn: &mut DbConnection) {
        if let Some(work) = self.work.take() {
            self.result = Some(conn.transaction(work));
        }
    }

    fn finish(self: Box<Self>, commit_error: Option<&str>) {
        let result = match (commit_error, self.result) {
            // The cause is logged where it happened; it names servers and databases.
            (Some(_), Some(Ok(_)) | None) => Err(ApiError::Unavailable(
                "The database did not store the change; send it again".into(),
            )),
            (_, Some(result)) => result,
            (_, None) => Err(ApiError::Internal(anyhow::anyhow!("write job did not run"))),
        };
        let _ = self.reply.send(result);
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
    }
}

impl Writer {
    /// Starts `threads` writer threads, each with a queue; each draws a connection from the
    /// pool when it has work. SQLite takes one writer at a time, so it gets one thread;
    /// PostgreSQL gets a few, so that new rows are not all waiting on one connection's round
    /// trips.
    pub fn start(pool: DbPool, threads: usize) -> (Self, WriterThread) {
        let (queues, threads): (Vec<_>, Vec<_>) = (0..threads.max(1))
            .map(|n| {
                let (jobs, queue) = mpsc::sync_channel::<Message>(QUEUE);
                let pool = pool.clone();
                let thread = thread::Builder::new()
                    .name(format!("db-writer-{n}"))
                    .spawn(move || serve(pool, queue))
                    .expect("start a database writer thread");
                (jobs, thread)
            })
            .unzip();
        let queues: Arc<[SyncSender<Message>]> = queues.into();
        let handle = WriterThread {
            queues: queues.clone(),
            threads,
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
    pub async fn write<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        self.send(0, work).await
    }

    /// Like [`Writer::write`], for work that only adds new rows: it may go to any writer.
    pub async fn insert<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let n = self.next.fetch_add(1, Ordering::Relaxed) % self.queues.len();
        self.send(n, work).await
    }

    async fn send<T, F>(&self, queue: usize, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let task: Message = Some(Box::new(Task {
            work: Some(work),
            result: None,
            reply,
        }));
        self.queues[queue].try_send(task).map_err(|e| match e {
            mpsc::TrySendError::Full(_) => {
                ApiError::Unavailable("The service is busy writing; retry shortly".into())
            }
            mpsc::TrySendError::Disconnected(_) => {
                ApiError::Internal(anyhow::anyhow!("the database writer stopped"))
            }
        })?;
        answer
            .await
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("the database writer dropped a job")))?
    }
}

fn serve(pool: DbPool, queue: Receiver<Message>) {
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
        let mut conn = match pool.get() {
            Ok(conn) => conn,
            Err(e) => {
                let why = e.to_string();
                tracing::warn!(error = %why, "database writer has no connection");
                for job in group {
                    job.finish(Some(&why));
                }
                continue;
            }
        };
        let committed = group_transaction(&mut conn, |conn| {
            for job in group.iter_mut() {
                job.run(conn);
            }
        });
        let why = committed.err().map(|e| {
            tracing::error!(error = %e, jobs = group.len(), "group commit failed");
            e.to_string()
        });
        for job in group {
            job.finish(why.as_deref());
        }
    }
}

/// Runs the group in one transaction. On SQLite it begins `IMMEDIATE`, taking the write lock
/// first (waiting up to `busy_timeout`): a deferred transaction whose first job reads cannot
/// turn into a writer once another connection has committed since, and SQLite then answers
/// "database is locked" at once instead of waiting.
fn group_transaction(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection),
) -> QueryResult<()> {
    type Manager = <DbConnection as Connection>::TransactionManager;
    match conn {
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?
        }
        DbConnection::Pg(_) => Manager::begin_transaction(conn)?,
    }
    work(conn);
    Manager::commit_transaction(conn)
}
