//! A webhook receiver for the benchmark: answers every POST with 204 at once, and counts.
//!
//! `webhook_sink ADDR` listens on ADDR. `GET /stats` answers
//! `{"received", "distinct", "first_ms", "last_ms", "delay_p50_ms", "delay_p99_ms",
//! "delay_max_ms"}`: deliveries received, distinct `webhook-id`s, the wall-clock times of the
//! first and last (Unix milliseconds), and the delay from each event's `occurred_at` to its
//! arrival. `DELETE /stats` starts counting again.

use std::collections::HashSet;
use std::sync::Mutex;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

#[derive(Default)]
struct Seen {
    received: u64,
    ids: HashSet<String>,
    first_ms: Option<i64>,
    last_ms: Option<i64>,
    delays_ms: Vec<i64>,
}

fn occurred_ms(body: &[u8]) -> Option<i64> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let at = chrono::DateTime::parse_from_rfc3339(value["occurred_at"].as_str()?).ok()?;
    Some(at.timestamp_millis())
}

async fn receive(seen: web::Data<Mutex<Seen>>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let now = chrono::Utc::now().timestamp_millis();
    let id = req
        .headers()
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let occurred = occurred_ms(&body);
    let mut seen = seen.lock().unwrap();
    seen.received += 1;
    seen.ids.insert(id);
    seen.first_ms.get_or_insert(now);
    seen.last_ms = Some(now);
    if let Some(at) = occurred {
        seen.delays_ms.push(now - at);
    }
    HttpResponse::NoContent().finish()
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn stats(seen: web::Data<Mutex<Seen>>) -> HttpResponse {
    let seen = seen.lock().unwrap();
    let mut delays = seen.delays_ms.clone();
    delays.sort_unstable();
    HttpResponse::Ok().json(serde_json::json!({
        "received": seen.received,
        "distinct": seen.ids.len(),
        "first_ms": seen.first_ms,
        "last_ms": seen.last_ms,
        "delay_p50_ms": percentile(&delays, 0.5),
        "delay_p99_ms": percentile(&delays, 0.99),
        "delay_max_ms": percentile(&delays, 1.0),
    }))
}

async fn reset(seen: web::Data<Mutex<Seen>>) -> HttpResponse {
    *seen.lock().unwrap() = Seen::default();
    HttpResponse::NoContent().finish()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18197".into());
    let seen = web::Data::new(Mutex::new(Seen::default()));
    HttpServer::new(move || {
        App::new()
            .app_data(seen.clone())
            .app_data(web::PayloadConfig::new(1024 * 1024))
            .route("/stats", web::get().to(stats))
            .route("/stats", web::delete().to(reset))
            .default_service(web::post().to(receive))
    })
    .workers(1)
    .bind(addr)?
    .run()
    .await
}
