//! Group commit: one writer connection that runs concurrent inserts in one transaction.
//!
//! SQLite with `synchronous=FULL` pays one fsync per commit, which caps single-row inserts at a
//! few thousand a second however many requests wait. The writer takes every job that is
//! waiting, runs each in its own savepoint (so one failing job rolls back alone), commits once,
//! and only then answers each caller: an acknowledged write is on disk.

use std::sync::mpsc::{self, Receiver, SyncSender};
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
            (Some(why), Some(Ok(_))) => Err(ApiError::Unavailable(format!(
                "The database did not store the change ({why}); send it again"
            ))),
            (_, Some(result)) => result,
            (_, None) => Err(ApiError::Internal(anyhow::anyhow!("write job did not run"))),
        };
        let _ = self.reply.send(result);
    }
}

/// What the writer thread is sent: a job, or `None` to stop after the jobs before it.
type Message = Option<Box<dyn Job>>;

/// A handle to the writer thread.
#[derive(Clone)]
pub struct Writer {
    jobs: SyncSender<Message>,
}

/// The writer thread itself, kept by whoever stops the service.
pub struct WriterThread {
    jobs: SyncSender<Message>,
    thread: thread::JoinHandle<()>,
}

impl WriterThread {
    /// Commits what is queued, stops the thread and waits until its connection is released.
    pub fn stop(self) {
        let _ = self.jobs.send(None);
        if self.thread.join().is_err() {
            tracing::error!("the database writer thread panicked");
        }
    }
}

impl Writer {
    /// Starts the writer thread; it draws its connection from the pool when it has work.
    pub fn start(pool: DbPool) -> (Self, WriterThread) {
        let (jobs, queue) = mpsc::sync_channel::<Message>(QUEUE);
        let thread = thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || serve(pool, queue))
            .expect("start the database writer thread");
        let handle = WriterThread {
            jobs: jobs.clone(),
            thread,
        };
        (Self { jobs }, handle)
    }

    /// Runs `work` in the next group commit and returns its result once it is durable.
    pub async fn write<T, F>(&self, work: F) -> Result<T, ApiError>
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
        self.jobs.try_send(task).map_err(|e| match e {
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
