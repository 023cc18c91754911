//! End-to-end throughput and latency of nominations (form POST → confirmation email accepted by
//! SMTP) with every service its own release process on PostgreSQL + RabbitMQ, next to the raw
//! ceilings measured in the same run: PostgreSQL single-row inserts and lapin confirmed publishes.
//!
//! Two measures on one cluster: latency at a steady rate sent open loop (each POST leaves at its
//! scheduled time whether or not earlier ones were answered, and is timed from that time, so a
//! stall shows in the figures instead of slowing the sender), then throughput with a number of
//! browsers each sending its next nomination as soon as the last is answered.
//!
//! cargo build --release -p valued && cargo bench -p valued-e2e --bench nominations
//!
//! Sizes: `BENCH_STEADY_RATE` (100 a second) for `BENCH_STEADY_SECONDS` (10);
//! `BENCH_NOMINATIONS` (2000) from `BENCH_BROWSERS` (64).
//! Settings for a tuning run: `BENCH_SET="VALUED__…=value …"` restarts the services with them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../e2e/cluster.rs"]
#[allow(dead_code)]
mod cluster;
#[allow(dead_code)]
mod measure;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use sea_orm::{ConnectionTrait, Database};

use measure::env_or;

/// Clients of the raw PostgreSQL insert measure.
const CONCURRENCY: usize = 16;

#[tokio::main]
async fn main() {
    let steady_rate: u64 = env_or("BENCH_STEADY_RATE", 100);
    let steady_seconds: u64 = env_or("BENCH_STEADY_SECONDS", 10);
    let nominations: usize = env_or("BENCH_NOMINATIONS", 2_000);
    let browsers: usize = env_or("BENCH_BROWSERS", 64);
    let postgres = postgres_insert_rate().await;
    let lapin = lapin_publish_rate().await;
    let mut cluster = cluster::Cluster::start().await;
    cluster
        .restart_with(&std::env::var("BENCH_SET").unwrap_or_default())
        .await;
    let bench = Bench::new(&cluster).await;
    // Every connection and statement used once before anything is timed.
    bench.closed_loop(0, browsers, browsers * 2).await;
    let steady = bench
        .open_loop(browsers * 2, steady_rate, steady_seconds)
        .await;
    let first = browsers * 2 + usize::try_from(steady_rate * steady_seconds).unwrap();
    let (rate, p50, p99) = bench.closed_loop(first, browsers, nominations).await;
    println!();
    println!("| measure | figure |");
    println!("|---|---|");
    println!(
        "| PostgreSQL single-row INSERT, 1 client, autocommit | {:.0} rows/s |",
        postgres.0
    );
    println!(
        "| PostgreSQL single-row INSERT, {CONCURRENCY} clients, autocommit | {:.0} rows/s |",
        postgres.1
    );
    println!(
        "| lapin confirmed publish, one confirm at a time | {:.0} msg/s |",
        lapin.0
    );
    println!(
        "| lapin confirmed publish, 100 confirms pipelined | {:.0} msg/s |",
        lapin.1
    );
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "| POST → email accepted at a steady {steady_rate}/s open loop, p50 / p99 / max | {:.0} ms / {:.0} ms / {:.0} ms |",
        ms(steady.p50),
        ms(steady.p99),
        ms(steady.max)
    );
    println!(
        "| Valued end to end ({nominations} nominations, {browsers} browsers) | {rate:.1} nominations/s |"
    );
    println!(
        "| end-to-end latency p50 / p99, closed loop | {:.0} ms / {:.0} ms |",
        ms(p50),
        ms(p99)
    );
    println!(
        "| ratio: end to end / PostgreSQL 1-client inserts | {:.3} |",
        rate / postgres.0
    );
    println!(
        "| ratio: end to end / lapin pipelined publishes | {:.3} |",
        rate / lapin.1
    );
}

async fn postgres_insert_rate() -> (f64, f64) {
    let url = valued_testkit::postgres::fresh_database("bench")
        .await
        .unwrap();
    let db = Database::connect(&url).await.unwrap();
    db.execute_unprepared("CREATE TABLE t (id uuid PRIMARY KEY, body text NOT NULL, at timestamptz NOT NULL DEFAULT now())")
        .await
        .unwrap();
    let insert = |db: sea_orm::DatabaseConnection| async move {
        db.execute_unprepared(&format!(
            "INSERT INTO t (id, body) VALUES ('{}', 'a nomination-sized row of text')",
            uuid::Uuid::new_v4()
        ))
        .await
        .unwrap();
    };
    let rows = 2_000;
    let start = Instant::now();
    for _ in 0..rows {
        insert(db.clone()).await;
    }
    let single = f64::from(rows) / start.elapsed().as_secs_f64();
    let start = Instant::now();
    futures::stream::iter(0..rows)
        .map(|_| insert(db.clone()))
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    let concurrent = f64::from(rows) / start.elapsed().as_secs_f64();
    (single, concurrent)
}

async fn lapin_publish_rate() -> (f64, f64) {
    let vhost = valued_testkit::rabbitmq::Vhost::create().unwrap();
    let connection = Connection::connect(&vhost.amqp_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-queue-type".into(),
        lapin::types::AMQPValue::LongString("quorum".into()),
    );
    channel
        .queue_declare(
            "bench".into(),
            QueueDeclareOptions {
                durable: true,
                ..Default::default()
            },
            arguments,
        )
        .await
        .unwrap();
    let payload = vec![7u8; 400];
    let publish = || {
        channel.basic_publish(
            "".into(),
            "bench".into(),
            BasicPublishOptions {
                mandatory: true,
                ..Default::default()
            },
            &payload,
            BasicProperties::default().with_delivery_mode(2),
        )
    };
    let messages = 2_000;
    let start = Instant::now();
    for _ in 0..messages {
        publish().await.unwrap().await.unwrap();
    }
    let one_at_a_time = f64::from(messages) / start.elapsed().as_secs_f64();
    let start = Instant::now();
    for _ in 0..messages / 100 {
        let mut confirms = Vec::with_capacity(100);
        for _ in 0..100 {
            confirms.push(publish().await.unwrap());
        }
        for confirm in confirms {
            confirm.await.unwrap();
        }
    }
    let pipelined = f64::from(messages) / start.elapsed().as_secs_f64();
    (one_at_a_time, pipelined)
}

/// The demo campaign's form on a running cluster.
struct Bench<'a> {
    cluster: &'a cluster::Cluster,
    campaign: valued_proto::nomination::v1::Campaign,
    csrf: String,
    url: String,
}

/// Latencies of an open-loop run.
struct Steady {
    p50: Duration,
    p99: Duration,
    max: Duration,
}

impl<'a> Bench<'a> {
    async fn new(cluster: &'a cluster::Cluster) -> Self {
        Self {
            cluster,
            campaign: cluster.demo_campaign().await,
            csrf: cluster.csrf_token().await,
            url: cluster.url("/campaigns/health-heroes-2026/nominate"),
        }
    }

    /// Sends nomination `i` (its nominator `bench-{i}@example.org`).
    fn nominate(&self, i: usize) -> impl std::future::Future<Output = String> + use<> {
        let email = format!("bench-{i}@example.org");
        let mut form = cluster::nomination_form(&self.campaign, &format!("Nominee {i}"), &email);
        form.push(("csrf_token", self.csrf.clone()));
        let (http, url) = (self.cluster.http.clone(), self.url.clone());
        async move {
            let response = http.post(&url).form(&form).send().await.unwrap();
            cluster::nomination_id(&response);
            email
        }
    }

    /// Waits for the confirmation emails of `sent` (nominator → when it was sent); returns each
    /// one's latency, sorted, and when the last of them arrived.
    async fn latencies(&self, sent: &HashMap<String, Instant>) -> (Vec<Duration>, Instant) {
        let deadline = Instant::now() + Duration::from_secs(300);
        // Only what arrived since the last look is copied from the sink, so that waiting does not
        // compete with the services for the CPU.
        let mut seen = 0;
        let mut arrived: Vec<(Duration, Instant)> = Vec::new();
        loop {
            let new = self.cluster.smtp.received_after(seen);
            seen += new.len();
            // The first email a nomination sends: the request to confirm it.
            arrived.extend(
                new.iter()
                    .filter(|e| e.subject().starts_with("Confirm your nomination"))
                    .filter_map(|e| {
                        sent.get(&e.rcpt_to.join(","))
                            .map(|at| (e.received_at - *at, e.received_at))
                    }),
            );
            if arrived.len() >= sent.len() {
                assert_eq!(arrived.len(), sent.len(), "one confirmation per nominator");
                let last = arrived.iter().map(|(_, at)| *at).max().unwrap();
                let mut latencies: Vec<Duration> = arrived.into_iter().map(|(d, _)| d).collect();
                latencies.sort();
                return (latencies, last);
            }
            assert!(
                Instant::now() < deadline,
                "{} of {} confirmations after 300 s",
                arrived.len(),
                sent.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Nominations `first..first + count` from `browsers` browsers, each sending its next as soon
    /// as the last is answered: nominations a second (until the last email) and latency p50 / p99.
    async fn closed_loop(
        &self,
        first: usize,
        browsers: usize,
        count: usize,
    ) -> (f64, Duration, Duration) {
        let start = Instant::now();
        let sent: HashMap<String, Instant> = futures::stream::iter(first..first + count)
            .map(|i| {
                let nominate = self.nominate(i);
                async move {
                    let at = Instant::now();
                    (nominate.await, at)
                }
            })
            .buffer_unordered(browsers)
            .collect()
            .await;
        let (latencies, last) = self.latencies(&sent).await;
        let rate = count as f64 / (last - start).as_secs_f64();
        let n = latencies.len();
        (rate, latencies[n / 2], latencies[(n * 99 / 100).min(n - 1)])
    }

    /// Nominations from `first` at `rate` a second for `seconds`, each sent at its scheduled time
    /// on a task of its own and timed from that time.
    async fn open_loop(&self, first: usize, rate: u64, seconds: u64) -> Steady {
        let count = usize::try_from(rate * seconds).unwrap();
        let interval = Duration::from_secs_f64(1.0 / rate as f64);
        let start = Instant::now() + Duration::from_millis(100);
        let mut tasks = Vec::with_capacity(count);
        for k in 0..count {
            let at = start + interval * u32::try_from(k).unwrap();
            tokio::time::sleep_until(at.into()).await;
            let nominate = self.nominate(first + k);
            tasks.push(tokio::spawn(async move { (nominate.await, at) }));
        }
        let mut sent = HashMap::with_capacity(count);
        for task in tasks {
            let (email, at) = task.await.unwrap();
            sent.insert(email, at);
        }
        let (latencies, _) = self.latencies(&sent).await;
        let n = latencies.len();
        Steady {
            p50: latencies[n / 2],
            p99: latencies[(n * 99 / 100).min(n - 1)],
            max: latencies[n - 1],
        }
    }
}
