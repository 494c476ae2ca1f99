//! The SMTP server of the mail tests: `tests/smtp_sink.py` (aiosmtpd, from the CI venv),
//! started by a test; each message it takes is written to a folder and announced by a line.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// The Python with aiosmtpd: `PORTAL_TEST_SMTP_PYTHON`, else the CI venv's.
fn python() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("PORTAL_TEST_SMTP_PYTHON") {
        return Some(p.into());
    }
    let venv = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/venv/bin/python"));
    venv.exists().then_some(venv)
}

/// The SMTP server of a test.
pub struct Sink {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    pub dir: PathBuf,
    pub port: u16,
    /// Messages taken so far.
    pub received: usize,
}

impl Sink {
    /// Starts it, refusing the first `refuse` messages with a 451; `None` when there is no
    /// aiosmtpd here (CI always has it: `PORTAL_TEST_REQUIRE_SMTP`).
    pub async fn start(refuse: u32) -> Option<Self> {
        Self::start_with(refuse, 0).await
    }

    /// Starts it, refusing the first `refuse` messages with a 451 and then rejecting `reject`
    /// with a 550 that names the recipient.
    pub async fn start_with(refuse: u32, reject: u32) -> Option<Self> {
        let Some(python) = python() else {
            assert!(
                std::env::var("PORTAL_TEST_REQUIRE_SMTP").is_err(),
                "PORTAL_TEST_REQUIRE_SMTP is set but no Python with aiosmtpd was found"
            );
            eprintln!("skipped: no Python with aiosmtpd (set PORTAL_TEST_SMTP_PYTHON)");
            return None;
        };
        let dir = std::env::temp_dir().join(format!("portal-smtp-{}", uuid::Uuid::new_v4()));
        let mut child = Command::new(python)
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_sink.py"))
            .arg(&dir)
            .arg("--refuse")
            .arg(refuse.to_string())
            .arg("--reject")
            .arg(reject.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the SMTP server");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines
            .next_line()
            .await
            .unwrap()
            .expect("the server's first line");
        let port = first
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        Some(Self {
            child,
            lines,
            dir,
            port,
            received: 0,
        })
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// The next line the server prints (`received NNNN`, `refused` or `rejected`), within a minute.
    pub async fn line(&mut self) -> String {
        tokio::time::timeout(Duration::from_secs(60), self.lines.next_line())
            .await
            .expect("the SMTP server got nothing within a minute")
            .unwrap()
            .expect("the SMTP server ended")
    }

    /// The next message taken, decoded.
    pub async fn next(&mut self) -> Value {
        loop {
            let line = self.line().await;
            if let Some(name) = line.strip_prefix("received ") {
                self.received += 1;
                let text = std::fs::read_to_string(self.dir.join(format!("{name}.json"))).unwrap();
                return serde_json::from_str(&text).unwrap();
            }
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
