//! Sending one webhook attempt: the HTTP client, the address check after name resolution, the
//! Standard Webhooks headers, and a short account of what went wrong.

use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use url::{Host, Url};

use crate::domain::webhook::{self, MAX_RESPONSE_BYTES, TIMEOUT_SECONDS};

/// The `user-agent` of every delivery.
const USER_AGENT: &str = concat!("portal-api/", env!("CARGO_PKG_VERSION"), " (webhooks)");

/// Longest error text kept for an attempt.
const MAX_ERROR_CHARS: usize = 200;

/// What a delivery may reach: private addresses or not, plain `http://` or not.
#[derive(Debug, Clone, Copy)]
pub struct Reach {
    /// Whether loopback, private, link-local and unique-local addresses may be reached.
    pub allow_private: bool,
    /// Whether `http://` URLs are refused (production).
    pub https_required: bool,
}

/// The client deliveries are sent with: a [`TIMEOUT_SECONDS`] limit on the whole exchange, no
/// redirects, no proxy from the environment (it would resolve names where they are not
/// checked), and names resolved by [`PublicOnly`].
pub fn client(reach: Reach, concurrency: usize) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(TIMEOUT_SECONDS))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(PublicOnly {
            allow_private: reach.allow_private,
        }))
        .user_agent(USER_AGENT)
        .pool_max_idle_per_host(concurrency)
        .build()
}

/// Resolves names with the system resolver and keeps only the addresses a webhook may reach,
/// at every connection: a name that now resolves inward is refused, whatever it resolved to
/// when the webhook was saved.
struct PublicOnly {
    allow_private: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let kept: Vec<SocketAddr> = found
                .filter(|a| webhook::address_allowed(a.ip(), allow_private))
                .collect();
            if kept.is_empty() {
                return Err(Box::new(Refused) as Box<dyn StdError + Send + Sync>);
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// A name that resolved to no address a webhook may reach.
#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REFUSED_NAME)
    }
}

impl StdError for Refused {}

const REFUSED_NAME: &str =
    "refused: the host resolves only to loopback, private or link-local addresses";
const REFUSED_ADDRESS: &str = "refused: the address is loopback, private or link-local";

/// One attempt to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// Where.
    pub url: String,
    /// The event id (`webhook-id`).
    pub event_id: String,
    /// The body.
    pub payload: String,
    /// The webhook's secret, `whsec_…`.
    pub secret: String,
    /// Unix seconds (`webhook-timestamp`).
    pub timestamp: i64,
}

/// What came back: the receiver's status, or why there was none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The receiver answered with this status.
    Status(u16),
    /// No answer: refused before sending, cut off, or the connection failed.
    Error(String),
}

/// Sends one attempt and reads at most [`MAX_RESPONSE_BYTES`] of the answer.
pub async fn send(client: &reqwest::Client, reach: Reach, request: Request) -> Answer {
    if let Some(refusal) = webhook::url_refusal(&request.url, reach.https_required) {
        return Answer::Error(format!("refused: the URL {refusal}"));
    }
    let Ok(url) = Url::parse(&request.url) else {
        return Answer::Error("refused: the URL cannot be read".into());
    };
    // The resolver is not asked about a host written as an address: check it here.
    let literal = match url.host() {
        Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        _ => None,
    };
    if literal.is_some_and(|ip| !webhook::address_allowed(ip, reach.allow_private)) {
        return Answer::Error(REFUSED_ADDRESS.into());
    }
    let Some(key) = webhook::secret_key(&request.secret) else {
        return Answer::Error("the webhook's secret cannot be read".into());
    };
    let signature = webhook::sign(
        &key,
        &request.event_id,
        request.timestamp,
        request.payload.as_bytes(),
    );
    let sent = client
        .post(url)
        .header("webhook-id", &request.event_id)
        .header("webhook-timestamp", request.timestamp.to_string())
        .header("webhook-signature", signature)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .body(request.payload)
        .send()
        .await;
    let mut response = match sent {
        Ok(response) => response,
        Err(e) => return Answer::Error(describe(&e)),
    };
    let status = response.status().as_u16();
    // The answer's body is not used; it is read (up to the cap) so the connection can be
    // reused, and a receiver that stalls in it is cut by the same timeout.
    let mut read = 0usize;
    while read < MAX_RESPONSE_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) | Err(_) => break,
        }
    }
    Answer::Status(status)
}

/// A short account of a failed exchange, without the URL (its query may carry a token).
fn describe(e: &reqwest::Error) -> String {
    let mut source: Option<&(dyn StdError + 'static)> = e.source();
    let mut root: Option<&(dyn StdError + 'static)> = None;
    while let Some(cause) = source {
        if cause.downcast_ref::<Refused>().is_some() {
            return REFUSED_NAME.into();
        }
        root = Some(cause);
        source = cause.source();
    }
    let text = if e.is_timeout() {
        format!("timed out after {TIMEOUT_SECONDS} s")
    } else {
        let cause = root.map_or_else(|| "no cause given".to_string(), ToString::to_string);
        if e.is_connect() {
            format!("could not connect: {cause}")
        } else {
            format!("failed: {cause}")
        }
    };
    text.chars().take(MAX_ERROR_CHARS).collect()
}
