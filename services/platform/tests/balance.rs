//! Calls on one client channel spread over every replica its name resolves to, call by call (not
//! connection by connection), and follow the replicas as they come and go: two gRPC servers on
//! loopback stand in for two pods behind a headless Service, and a resolver the test changes
//! stands in for its DNS answer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tonic_health::ServingStatus;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use valued_platform::balance::{self, Replicas, Timeouts};

/// What the test's "DNS" answers now.
#[derive(Clone, Default)]
struct Answer(Arc<Mutex<BTreeSet<SocketAddr>>>);

impl Answer {
    fn set(&self, addresses: &[SocketAddr]) {
        *self.0.lock().unwrap() = addresses.iter().copied().collect();
    }
}

#[async_trait::async_trait]
impl Replicas for Answer {
    async fn addresses(&self) -> std::io::Result<BTreeSet<SocketAddr>> {
        Ok(self.0.lock().unwrap().clone())
    }
}

/// A replica: a gRPC server whose health service names itself (`name` SERVING, any other
/// replica's name NOT_SERVING), so an answer says which replica gave it.
async fn replica(name: &'static str, others: &[&'static str]) -> SocketAddr {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(name, ServingStatus::Serving)
        .await;
    for other in others {
        reporter
            .set_service_status(*other, ServingStatus::NotServing)
            .await;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        // The reporter lives as long as the server.
        let _reporter = reporter;
        tonic::transport::Server::builder()
            .add_service(health)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .unwrap();
    });
    address
}

/// Which replica answered each of `calls` calls, made one after another on `channel`.
async fn who_answers(channel: &tonic::transport::Channel, calls: usize) -> Vec<&'static str> {
    let mut answers = Vec::new();
    for _ in 0..calls {
        let mut client = HealthClient::new(channel.clone());
        let status = client
            .check(HealthCheckRequest {
                service: "a".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        answers.push(if status == ServingStatus::Serving as i32 {
            "a"
        } else {
            "b"
        });
    }
    answers
}

#[tokio::test]
async fn calls_spread_over_every_replica_and_follow_them_as_they_come_and_go() {
    let a = replica("a", &["b"]).await;
    let b = replica("b", &["a"]).await;
    let answer = Answer::default();
    answer.set(&[a, b]);
    let refresh = Duration::from_millis(100);
    let channel = balance::across(
        answer.clone(),
        "http://nomination-grpc:50051".parse().unwrap(),
        Timeouts {
            connect: Duration::from_secs(2),
            request: Duration::from_secs(5),
        },
        refresh,
    );

    let answers = who_answers(&channel, 200).await;
    let by_a = answers.iter().filter(|r| **r == "a").count();
    assert!(
        (40..=160).contains(&by_a),
        "one channel's 200 calls spread over both replicas: a answered {by_a}"
    );

    // Replica a leaves the answer (its pod is no longer ready): within a refresh or two, every
    // call goes to b.
    answer.set(&[b]);
    tokio::time::sleep(refresh * 5).await;
    assert_eq!(who_answers(&channel, 50).await, vec!["b"; 50]);

    // It comes back, and takes calls again.
    answer.set(&[a, b]);
    tokio::time::sleep(refresh * 5).await;
    assert!(who_answers(&channel, 100).await.contains(&"a"));

    // An empty answer (a DNS blip) keeps the replicas last known.
    answer.set(&[]);
    tokio::time::sleep(refresh * 5).await;
    let answers = who_answers(&channel, 100).await;
    assert!(answers.contains(&"a") && answers.contains(&"b"));
}

#[tokio::test]
async fn a_url_naming_an_address_is_one_replica_and_a_name_is_resolved() {
    let a = replica("a", &["b"]).await;
    let timeouts = Timeouts {
        connect: Duration::from_secs(2),
        request: Duration::from_secs(5),
    };
    let by_address = balance::channel(&format!("http://{a}"), timeouts).unwrap();
    assert_eq!(who_answers(&by_address, 3).await, vec!["a"; 3]);
    let by_name = balance::channel(&format!("http://localhost:{}", a.port()), timeouts).unwrap();
    assert_eq!(who_answers(&by_name, 3).await, vec!["a"; 3]);
    assert!(balance::channel("not a url", timeouts).is_err());
}
