//! What the benchmarks share: sizes from the environment, latency percentiles, and a rate measured
//! with a number of clients at a time after an untimed warm-up.

use std::future::Future;
use std::ops::Range;
use std::time::{Duration, Instant};

use futures::StreamExt;

/// The value of the environment variable `name`, or `default` when it is unset or unreadable.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// p50 and p99 of `times`, in milliseconds.
pub fn percentiles(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    (at(0.50).as_secs_f64() * 1e3, at(0.99).as_secs_f64() * 1e3)
}

/// Requests sent, in each measure, before the clock starts: every connection opened and every
/// statement prepared, so that each measure times its steady state.
pub fn warm_up(clients: usize) -> usize {
    clients * 4
}

/// Rate (per second) and latencies of requests sent `clients` at a time.
pub struct Run {
    pub rate: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Run {
    pub fn of(started: Instant, mut latencies: Vec<Duration>) -> Self {
        let elapsed = started.elapsed();
        latencies.sort();
        let n = latencies.len();
        Self {
            rate: n as f64 / elapsed.as_secs_f64(),
            p50: latencies[n / 2],
            p99: latencies[(n * 99 / 100).min(n - 1)],
            max: latencies[n - 1],
        }
    }

    /// Sends requests `0..warm_up(clients)` untimed, then the next `requests` timed, `clients`
    /// at a time; `send(i)` is the `i`th request.
    pub async fn measure<F, Fut>(requests: usize, clients: usize, send: F) -> Self
    where
        F: Fn(usize) -> Fut,
        Fut: Future<Output = ()>,
    {
        let sent = |ids: Range<usize>| {
            futures::stream::iter(ids)
                .map(|i| {
                    let request = send(i);
                    async move {
                        let sent = Instant::now();
                        request.await;
                        sent.elapsed()
                    }
                })
                .buffer_unordered(clients)
                .collect::<Vec<Duration>>()
        };
        let warm = warm_up(clients);
        sent(0..warm).await;
        let started = Instant::now();
        let latencies = sent(warm..warm + requests).await;
        Self::of(started, latencies)
    }

    /// A table row: `what`, the rate in `unit`s a second, p50 / p99 / max.
    pub fn row(&self, what: &str, unit: &str) {
        println!(
            "| {what} | {:.0} {unit}/s | {:.1} / {:.1} / {:.1} ms |",
            self.rate,
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
            self.max.as_secs_f64() * 1e3
        );
    }
}

/// Serves `app` on a free port of 127.0.0.1 in the background; returns the URL of its `path`.
pub async fn serve(app: axum::Router, path: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{path}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A naive endpoint's rate: the form `form(i)` POSTed to `url` for each request of
/// [`Run::measure`], every answer a success and read to its end.
pub async fn post_forms<F>(url: &str, requests: usize, clients: usize, form: F) -> Run
where
    F: Fn(usize) -> Vec<(&'static str, String)>,
{
    let http = reqwest::Client::new();
    Run::measure(requests, clients, |i| {
        let request = http.post(url).form(&form(i));
        async move {
            let response = request.send().await.unwrap();
            assert!(response.status().is_success());
            response.bytes().await.unwrap();
        }
    })
    .await
}
