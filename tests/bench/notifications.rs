//! Notification throughput and latency: emails per second through the notification service (event
//! on RabbitMQ → inbox and delivery rows on PostgreSQL → pooled SMTP) into the test kit's SMTP sink,
//! next to a bare lettre loop against the same sink in the same run; then event → email-accepted
//! latency at a steady 100 events per second.
//!
//! cargo build --release -p valued && cargo bench -p valued-e2e --bench notifications
//!
//! Size: `BENCH_EMAILS` (2000). Settings for a tuning run: `BENCH_SET="VALUED__…=value …"`
//! restarts the services with them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../e2e/cluster.rs"]
#[allow(dead_code)]
mod cluster;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use lettre::Message;
use lettre::message::Mailbox;
use lettre::transport::smtp::client::AsyncSmtpConnection;
use valued_platform::bus::AmqpBus;
use valued_platform::{BusSettings, Envelope, EventBus};
use valued_proto::events::v1::NominationConfirmationRequested;

const STEADY_RATE: u64 = 100;
const STEADY_SECONDS: u64 = 10;

fn message(to: &str) -> Message {
    Message::builder()
        .from(
            "Valued <no-reply@valued.example.org>"
                .parse::<Mailbox>()
                .unwrap(),
        )
        .to(to.parse().unwrap())
        .subject("Confirm your nomination of Sam Patel")
        .body("Please confirm your nomination: http://127.0.0.1/confirm/0000".to_owned())
        .unwrap()
}

fn event(to: &str) -> Envelope {
    Envelope::new(
        "bench",
        Some("RJ1"),
        &NominationConfirmationRequested {
            nomination_id: uuid::Uuid::now_v7().to_string(),
            campaign_name: "Health Heroes 2026".into(),
            nominator_name: "Alex Jones".into(),
            nominator_email: to.into(),
            nominee_name: "Sam Patel".into(),
            confirm_token: "0".repeat(64),
        },
    )
}

#[tokio::main]
async fn main() {
    let emails: usize = std::env::var("BENCH_EMAILS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let mut cluster = cluster::Cluster::start().await;
    cluster
        .restart_with(&std::env::var("BENCH_SET").unwrap_or_default())
        .await;
    let bare_one = bare_lettre(&cluster, 1, emails).await;
    let bare_eight = bare_lettre(&cluster, 8, emails).await;
    let bus = AmqpBus::connect(&BusSettings::amqp(&cluster.vhost.amqp_url(), "valued"))
        .await
        .unwrap();
    let through = through_the_service(&cluster, &bus, emails).await;
    let (p50, p99) = steady_latency(&cluster, &bus).await;
    println!();
    println!("| measure | figure |");
    println!("|---|---|");
    println!("| bare lettre loop, 1 connection (TCP_NODELAY) | {bare_one:.0} emails/s |");
    println!("| bare lettre, 8 connections (TCP_NODELAY) | {bare_eight:.0} emails/s |");
    println!("| notification service, {emails} events published at once | {through:.0} emails/s |");
    println!(
        "| event → email accepted at a steady {STEADY_RATE}/s, p50 / p99 | {:.0} ms / {:.0} ms |",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
    println!(
        "| ratio: service / bare lettre with the same 8 connections | {:.3} |",
        through / bare_eight
    );
}

/// The raw ceiling: `connections` lettre SMTP connections sending as fast as the sink accepts.
async fn bare_lettre(cluster: &cluster::Cluster, connections: usize, emails: usize) -> f64 {
    let already = cluster.smtp.received_count();
    let per_connection = emails / connections;
    let start = Instant::now();
    futures::stream::iter(0..connections)
        .map(|c| {
            let port = cluster.smtp.port();
            async move {
                let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .unwrap();
                stream.set_nodelay(true).unwrap();
                let mut connection = AsyncSmtpConnection::connect_with_transport(
                    Box::new(stream),
                    &lettre::transport::smtp::extension::ClientId::default(),
                )
                .await
                .unwrap();
                for i in 0..per_connection {
                    let email = message(&format!("bare-{c}-{i}@example.org"));
                    connection
                        .send(email.envelope(), &email.formatted())
                        .await
                        .unwrap();
                }
                connection.quit().await.ok();
            }
        })
        .buffer_unordered(connections)
        .collect::<Vec<_>>()
        .await;
    let rate = (per_connection * connections) as f64 / start.elapsed().as_secs_f64();
    assert!(cluster.smtp.received_count() >= already + per_connection * connections);
    rate
}

/// `emails` events published at once; emails per second until the sink has every one.
async fn through_the_service(cluster: &cluster::Cluster, bus: &AmqpBus, emails: usize) -> f64 {
    let before = cluster.smtp.received_count();
    let events: Vec<Envelope> = (0..emails)
        .map(|i| event(&format!("through-{i}@example.org")))
        .collect();
    let start = Instant::now();
    for chunk in events.chunks(100) {
        assert!(bus.publish(chunk).await.into_iter().all(|r| r.is_ok()));
    }
    let received = cluster
        .smtp
        .wait_for(before + emails, Duration::from_secs(600))
        .await;
    assert!(received.len() >= before + emails, "every email sent");
    let last = received.iter().map(|e| e.received_at).max().unwrap();
    emails as f64 / (last - start).as_secs_f64()
}

/// Events published at a steady rate; each one's latency from publish to SMTP acceptance.
async fn steady_latency(cluster: &cluster::Cluster, bus: &AmqpBus) -> (Duration, Duration) {
    let total = (STEADY_RATE * STEADY_SECONDS) as usize;
    let before = cluster.smtp.received_count();
    let mut sent: HashMap<String, Instant> = HashMap::new();
    let mut ticker = tokio::time::interval(Duration::from_millis(1000 / STEADY_RATE));
    for i in 0..total {
        ticker.tick().await;
        let to = format!("steady-{i}@example.org");
        let envelope = event(&to);
        sent.insert(to, Instant::now());
        assert!(
            bus.publish(std::slice::from_ref(&envelope))
                .await
                .into_iter()
                .all(|r| r.is_ok())
        );
    }
    let received = cluster
        .smtp
        .wait_for(before + total, Duration::from_secs(120))
        .await;
    let mut latencies: Vec<Duration> = received
        .iter()
        .filter_map(|e| sent.get(&e.rcpt_to.join(",")).map(|at| e.received_at - *at))
        .collect();
    assert_eq!(latencies.len(), total, "every steady email sent");
    latencies.sort();
    (latencies[total / 2], latencies[total * 99 / 100])
}
