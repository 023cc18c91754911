//! End-to-end throughput and latency of nominations (form POST → confirmation email accepted by
//! SMTP) with every service its own release process on PostgreSQL + RabbitMQ, next to the raw
//! ceilings measured in the same run: PostgreSQL single-row inserts and lapin confirmed publishes.
//!
//! cargo build --release -p valued && cargo bench -p valued-e2e --bench nominations

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../e2e/cluster.rs"]
#[allow(dead_code)]
mod cluster;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use sea_orm::{ConnectionTrait, Database};

const NOMINATIONS: usize = 500;
const CONCURRENCY: usize = 16;

#[tokio::main]
async fn main() {
    let postgres = postgres_insert_rate().await;
    let lapin = lapin_publish_rate().await;
    let (rate, p50, p99) = end_to_end().await;
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
    println!(
        "| Valued end to end ({NOMINATIONS} nominations, {CONCURRENCY} browsers) | {rate:.1} nominations/s |"
    );
    println!(
        "| end-to-end latency p50 / p99 | {:.0} ms / {:.0} ms |",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
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

async fn end_to_end() -> (f64, Duration, Duration) {
    let cluster = cluster::Cluster::start().await;
    let campaign = cluster.demo_campaign().await;
    let csrf = cluster.csrf_token().await;
    let url = cluster.url("/campaigns/health-heroes-2026/nominate");
    let start = Instant::now();
    let posted: HashMap<String, Instant> = futures::stream::iter(0..NOMINATIONS)
        .map(|i| {
            let email = format!("bench-{i}@example.org");
            let mut form = cluster::nomination_form(&campaign, &format!("Nominee {i}"), &email);
            form.push(("csrf_token", csrf.clone()));
            let (http, url) = (cluster.http.clone(), url.clone());
            async move {
                let sent = Instant::now();
                let response = http.post(&url).form(&form).send().await.unwrap();
                cluster::nomination_id(&response);
                (email, sent)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let emails = cluster
        .smtp
        .wait_for(NOMINATIONS, Duration::from_secs(300))
        .await;
    // The first email a nomination sends: the request to confirm it.
    let mut latencies: Vec<Duration> = emails
        .iter()
        .filter(|e| e.subject().starts_with("Confirm your nomination"))
        .filter_map(|e| {
            posted
                .get(&e.rcpt_to.join(","))
                .map(|sent| e.received_at - *sent)
        })
        .collect();
    assert_eq!(
        latencies.len(),
        NOMINATIONS,
        "every nominator asked to confirm"
    );
    let last = emails.iter().map(|e| e.received_at).max().unwrap();
    latencies.sort();
    let rate = NOMINATIONS as f64 / (last - start).as_secs_f64();
    (
        rate,
        latencies[NOMINATIONS / 2],
        latencies[NOMINATIONS * 99 / 100],
    )
}
