//! A small closed-loop HTTP load generator for `bench/run.sh`.
//!
//! `load URL [--method M] [--body JSON] [--header "Name: value"]... [--connections N]
//! [--seconds S] [--warmup S] [--rate R]` keeps N requests in flight for S seconds after a
//! warm-up and prints one JSON line: requests, statuses, throughput, and p50/p99/max latency.
//! With `--rate`, the connections together start R requests a second, each on its schedule,
//! instead of as many as they can.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::Method;

struct Options {
    url: String,
    method: Method,
    body: Option<String>,
    headers: Vec<(String, String)>,
    connections: usize,
    seconds: f64,
    warmup: f64,
    rate: Option<f64>,
}

fn options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut o = Options {
        url: args.next().ok_or("usage: load URL [options]")?,
        method: Method::GET,
        body: None,
        headers: Vec::new(),
        connections: 64,
        seconds: 10.0,
        warmup: 2.0,
        rate: None,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--method" => o.method = value.parse().map_err(|_| "bad method")?,
            "--body" => o.body = Some(value),
            "--header" => {
                let (k, v) = value.split_once(':').ok_or("header must be Name: value")?;
                o.headers.push((k.trim().into(), v.trim().into()));
            }
            "--connections" => o.connections = value.parse().map_err(|_| "bad connections")?,
            "--seconds" => o.seconds = value.parse().map_err(|_| "bad seconds")?,
            "--warmup" => o.warmup = value.parse().map_err(|_| "bad warmup")?,
            "--rate" => o.rate = Some(value.parse().map_err(|_| "bad rate")?),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

async fn run(
    o: &Options,
    client: &reqwest::Client,
    until: Instant,
    record: bool,
) -> (Vec<u32>, BTreeMap<u16, u64>) {
    let mut tasks = tokio::task::JoinSet::new();
    // Each connection's interval between starts, when a rate is asked for.
    let interval = o
        .rate
        .map(|r| Duration::from_secs_f64(o.connections as f64 / r.max(0.001)));
    for n in 0..o.connections {
        let client = client.clone();
        let url = o.url.clone();
        let method = o.method.clone();
        let body = o.body.clone();
        let headers = o.headers.clone();
        let count = o.connections as f64;
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
            // Spread the connections' schedules over one interval.
            let mut next = interval.map(|i| Instant::now() + i.mul_f64(n as f64 / count));
            while Instant::now() < until {
                if let (Some(at), Some(i)) = (next.as_mut(), interval) {
                    tokio::time::sleep_until((*at).into()).await;
                    *at += i;
                }
                let mut req = client.request(method.clone(), &url);
                for (k, v) in &headers {
                    req = req.header(k, v);
                }
                if let Some(b) = &body {
                    req = req
                        .header("content-type", "application/json")
                        .body(b.clone());
                }
                let started = Instant::now();
                let status = match req.send().await {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        let _ = r.bytes().await;
                        s
                    }
                    Err(_) => 0,
                };
                if record {
                    latencies.push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    *statuses.entry(status).or_default() += 1;
                }
            }
            (latencies, statuses)
        });
    }
    let mut all = Vec::new();
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    while let Some(Ok((l, s))) = tasks.join_next().await {
        all.extend(l);
        for (k, v) in s {
            *statuses.entry(k).or_default() += v;
        }
    }
    (all, statuses)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

#[tokio::main]
async fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(o.connections)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    if o.warmup > 0.0 {
        run(
            &o,
            &client,
            Instant::now() + Duration::from_secs_f64(o.warmup),
            false,
        )
        .await;
    }
    let started = Instant::now();
    let (mut latencies, statuses) = run(
        &o,
        &client,
        started + Duration::from_secs_f64(o.seconds),
        true,
    )
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let statuses: Vec<String> = statuses
        .iter()
        .map(|(k, v)| format!("\"{k}\":{v}"))
        .collect();
    println!(
        "{{\"requests\":{},\"rps\":{:.1},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"max_ms\":{:.2},\"statuses\":{{{}}}}}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
        statuses.join(",")
    );
}
