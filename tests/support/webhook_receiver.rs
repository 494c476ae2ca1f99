//! A webhook receiver for tests, and the checks of what it got: an HTTP/1.1 server on
//! 127.0.0.1 that records every request as it arrives and answers it with the next reply of
//! its script (200 once the script is spent), at once while open and only when opened again
//! while held. Shared by the API tests and the fault tests, each of which includes this file.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long [`Receiver::until`] waits: the slowest wait is a 10 s timeout and a retry.
const DEADLINE: Duration = Duration::from_secs(60);

/// What the receiver answers to one request.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    Status(u16),
    /// Reads the request and never answers.
    Hang,
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    /// When its body had arrived.
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }
}

/// What the receiver's connections share.
struct Shared {
    got: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Reply>>,
    /// Whether answers go out at once (`true`) or wait until the receiver is opened again.
    open: tokio::sync::watch::Sender<bool>,
    answered: AtomicUsize,
}

/// The receiver; it stops when dropped.
pub struct Receiver {
    pub port: u16,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Starts a receiver that answers with `script`, then 200.
    pub async fn start(script: &[Reply]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            got: Mutex::new(Vec::new()),
            script: Mutex::new(script.iter().copied().collect()),
            open: tokio::sync::watch::Sender::new(true),
            answered: AtomicUsize::new(0),
        });
        let task = tokio::spawn({
            let shared = shared.clone();
            async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    tokio::spawn(serve(stream, shared.clone()));
                }
            }
        });
        Self { port, shared, task }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook?token=abc", self.port)
    }

    pub fn got(&self) -> Vec<Received> {
        self.shared.got.lock().unwrap().clone()
    }

    /// Waits until it got at least `n` requests, and returns them all.
    pub async fn until(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver got {} requests, not {n}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Requests got and not answered yet.
    pub fn holding(&self) -> usize {
        // Answered first: a request is counted as got before it is answered.
        let answered = self.shared.answered.load(Ordering::SeqCst);
        let got = self.shared.got.lock().unwrap().len();
        got.saturating_sub(answered)
    }

    /// From now on, answers wait until [`Receiver::open`].
    pub fn hold(&self) {
        self.shared.open.send_replace(false);
    }

    /// Sends the answers held and answers at once again.
    pub fn open(&self) {
        self.shared.open.send_replace(true);
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.open();
        self.task.abort();
    }
}

/// Reads one request after another from a connection, records each and answers it.
async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut buffer: Vec<u8> = Vec::new();
    loop {
        // The head.
        let head_end = loop {
            if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next().unwrap().split(' ');
        let method = request_line.next().unwrap().to_string();
        let path = request_line.next().unwrap().to_string();
        let headers: HashMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let length: usize = headers
            .get("content-length")
            .map_or(0, |v| v.parse().unwrap());
        while buffer.len() < head_end + length {
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        let body = buffer[head_end..head_end + length].to_vec();
        buffer.drain(..head_end + length);
        shared.got.lock().unwrap().push(Received {
            method,
            path,
            headers,
            body,
            at: chrono::Utc::now(),
        });
        let reply = shared
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Reply::Status(200));
        match reply {
            Reply::Hang => {
                // Keep the connection open without a word until the client gives up.
                let mut rest = [0u8; 1024];
                while matches!(stream.read(&mut rest).await, Ok(n) if n > 0) {}
                return;
            }
            Reply::Status(status) => {
                let mut open = shared.open.subscribe();
                let _ = open.wait_for(|open| *open).await;
                let answer = format!(
                    "HTTP/1.1 {status} Scripted\r\ncontent-type: text/plain\r\n\
                     content-length: 2\r\n\r\nok"
                );
                let sent = stream.write_all(answer.as_bytes()).await;
                shared.answered.fetch_add(1, Ordering::SeqCst);
                if sent.is_err() {
                    return;
                }
            }
        }
    }
}

/// Checks a request's Standard Webhooks headers and signature by hand: HMAC-SHA256 keyed with
/// the secret's decoded bytes over `{id}.{timestamp}.{body}`, base64, after `v1,`; and that it
/// was signed when it was sent.
pub fn assert_signed(request: &Received, secret: &str) {
    assert_eq!(request.method, "POST");
    assert_eq!(request.header("content-type"), "application/json");
    assert!(request.header("user-agent").starts_with("portal-api/"));
    let id = request.header("webhook-id");
    assert_eq!(request.json()["id"], id);
    let timestamp: i64 = request.header("webhook-timestamp").parse().unwrap();
    let skew = (request.at.timestamp() - timestamp).abs();
    assert!(
        skew < 60,
        "timestamp {timestamp} is {skew} s off its arrival"
    );
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&request.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    let signatures: Vec<&str> = request.header("webhook-signature").split(' ').collect();
    assert!(
        signatures.contains(&expected.as_str()),
        "{signatures:?} lacks {expected}"
    );
}

/// When `PORTAL_TEST_WEBHOOK_VERIFIER` names a Python with the `standardwebhooks` package,
/// checks the requests, each with its webhook's secret, with it too (tests/webhook_verify.py).
pub fn verify_with_the_reference_library(requests: &[(&Received, &str)]) {
    let Some(python) = std::env::var("PORTAL_TEST_WEBHOOK_VERIFIER")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        eprintln!("PORTAL_TEST_WEBHOOK_VERIFIER is not set: standardwebhooks not consulted");
        return;
    };
    let list: Vec<Value> = requests
        .iter()
        .map(|(r, secret)| {
            json!({
                "secret": secret,
                "headers": r.headers,
                "body_base64": STANDARD.encode(&r.body),
            })
        })
        .collect();
    let file = std::env::temp_dir().join(format!(
        "webhook-requests-{}.json",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&file, serde_json::to_vec(&list).unwrap()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/webhook_verify.py");
    let output = std::process::Command::new(&python)
        .arg(script)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let _ = std::fs::remove_file(&file);
    assert!(
        output.status.success(),
        "standardwebhooks refused a request:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
