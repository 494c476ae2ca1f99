//! Password and client-secret hashing (argon2id, PHC strings), and the bounded pool of
//! threads that does it for requests.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::{oneshot, Semaphore};

/// Shortest password accepted for a person's account.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted: argon2 hashes any length, but a megabyte of input should not.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Memory of one hash, in KiB: OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane).
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Passes over the memory.
pub const PASSES: u32 = 2;
/// Lanes (threads) of one hash.
pub const LANES: u32 = 1;

/// argon2id with the parameters above, written out so the memory of a check is known and does
/// not move with the crate's defaults. Stored hashes carry their own parameters and verify
/// with those.
fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, Some(32)).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password or secret with argon2id and a fresh random salt.
pub fn hash(secret: &str) -> anyhow::Result<String> {
    argon2()
        .hash_password(secret.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

/// Checks a password against a stored hash; a malformed hash is a mismatch.
pub fn verify(secret: &str, stored: &str) -> bool {
    argon2().verify_password(secret.as_bytes(), stored).is_ok()
}

/// Spends the same time as [`verify`] against a real hash, for logins whose account does not
/// exist, so that response times do not tell which usernames exist.
pub fn verify_dummy(secret: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("not a real password").unwrap_or_default());
    let _ = verify(secret, stored);
}

/// The pool refused a hash: every thread was busy for longer than the wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

type Job = Box<dyn FnOnce() + Send>;

/// A fixed number of threads that hash and check passwords for requests.
///
/// Each hash holds [`MEMORY_KIB`] of memory while it runs, so the number of threads bounds
/// the memory a flood of logins can take; fixed threads also keep the allocator from
/// spreading freed hash memory over many per-thread arenas. A request waits at most `wait`
/// for a free thread and is otherwise refused, so a flood is answered instead of queued.
pub struct PasswordPool {
    permits: Arc<Semaphore>,
    jobs: mpsc::Sender<Job>,
    wait: Duration,
}

impl PasswordPool {
    /// Starts `threads` hashing threads; requests wait up to `wait` for one of them.
    pub fn start(threads: usize, wait: Duration) -> std::io::Result<Self> {
        let threads = threads.max(1);
        crate::malloc::large_allocations_from_the_os();
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("password-{i}"))
                .spawn(move || loop {
                    // The lock is held only to take a job; the pool ends when its sender does.
                    let job = receiver.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })?;
        }
        Ok(Self {
            permits: Arc::new(Semaphore::new(threads)),
            jobs: sender,
            wait,
        })
    }

    /// Runs `work` on a hashing thread, waiting for one at most the pool's wait.
    pub async fn run<T, F>(&self, work: F) -> Result<T, Busy>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = actix_web::rt::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| Busy)?
            .map_err(|_| Busy)?;
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            // The permit is given back when the work ends, even if the request has gone.
            let _permit = permit;
            let _ = done.send(work());
        });
        self.jobs.send(job).map_err(|_| Busy)?;
        result.await.map_err(|_| Busy)
    }
}

/// Checks a new password against the rules; the message never repeats the password.
pub fn check_rules(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!("must be at most {MAX_PASSWORD_BYTES} bytes"));
    }
    if password.trim().is_empty() {
        return Err("must not be only spaces".into());
    }
    Ok(())
}

impl From<Busy> for crate::error::ApiError {
    fn from(_: Busy) -> Self {
        Self::Overloaded { retry_after: 1 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(!h.contains("correct horse battery"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse battery!", &h));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn two_hashes_of_one_password_differ() {
        assert_ne!(
            hash("same password").unwrap(),
            hash("same password").unwrap()
        );
    }

    #[test]
    fn hashes_use_the_stated_parameters() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.contains("$m=19456,t=2,p=1$"), "{h}");
    }

    #[actix_web::test]
    async fn the_pool_refuses_work_beyond_its_threads_after_the_wait() {
        let pool = PasswordPool::start(1, Duration::from_millis(50)).unwrap();
        let (release, held) = std::sync::mpsc::channel::<()>();
        let busy = pool.run(move || held.recv().ok());
        let waiting = async {
            // The first job holds the only thread until this one has been refused.
            let refused = pool.run(|| ()).await;
            release.send(()).unwrap();
            refused
        };
        let (first, second) = tokio::join!(busy, waiting);
        assert_eq!(first, Ok(Some(())));
        assert_eq!(second, Err(Busy));
        assert_eq!(pool.run(|| 7).await, Ok(7));
    }

    #[test]
    fn password_rules() {
        assert!(check_rules("short").is_err());
        assert!(check_rules("          ").is_err());
        assert!(check_rules(&"x".repeat(2000)).is_err());
        assert!(check_rules("mật khẩu dài đủ").is_ok());
        assert!(!check_rules("short").unwrap_err().contains("short"));
    }
}
