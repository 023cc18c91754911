//! `valued dlq list|replay CONSUMER` as an operator runs it: the binary, configured by the
//! environment, against the machine's RabbitMQ (a fresh vhost).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use valued_platform::bus::AmqpBus;
use valued_platform::{
    BusSettings, Envelope, EventBus, EventHandler, HandlerError, Shutdown, Subscription,
};
use valued_proto::events::v1::BallotOpened;
use valued_testkit::rabbitmq::Vhost;

/// Poison until fixed.
#[derive(Default)]
struct Poison(AtomicBool);

#[async_trait]
impl EventHandler for Poison {
    async fn handle(&self, _: &Envelope) -> Result<(), HandlerError> {
        if self.0.load(Ordering::SeqCst) {
            return Ok(());
        }
        Err(HandlerError::Poison(anyhow::anyhow!("cannot be handled")))
    }
}

fn valued(vhost: &Vhost, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_valued"))
        .args(args)
        .env("VALUED__BUS__KIND", "amqp")
        .env("VALUED__BUS__AMQP_URL", vhost.amqp_url())
        .env("VALUED__BUS__PREFIX", "cli")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn an_operator_lists_and_replays_a_consumers_dead_letters() {
    let vhost = Vhost::create().unwrap();
    let bus = AmqpBus::connect(&BusSettings::amqp(&vhost.amqp_url(), "cli"))
        .await
        .unwrap();
    let handler = Arc::new(Poison::default());
    let shutdown = Shutdown::new();
    bus.subscribe(
        Subscription::new("voting-finalists", &["ballot.#"]),
        handler.clone(),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let event = Envelope::new("voting", None, &BallotOpened::default());
    assert!(bus.publish(std::slice::from_ref(&event)).await[0].is_ok());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while vhost.message_count("cli.voting-finalists.dlq").unwrap() < 1 {
        assert!(tokio::time::Instant::now() < deadline, "not dead-lettered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let (ok, out, err) = valued(&vhost, &["dlq", "list", "voting-finalists"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with(&format!("{} ballot.opened.v1 occurred ", event.id)),
        "{out}"
    );
    assert!(lines[0].contains(" reason rejected deaths 1 "), "{out}");
    assert_eq!(lines[1], "1 dead-lettered in cli.voting-finalists.dlq");

    let (ok, _, err) = valued(&vhost, &["dlq", "list", "voting-nobody"]);
    assert!(!ok);
    assert!(
        err.contains("no dead-letter queue cli.voting-nobody.dlq"),
        "{err}"
    );

    handler.0.store(true, Ordering::SeqCst);
    let (ok, out, err) = valued(
        &vhost,
        &[
            "dlq",
            "replay",
            "voting-finalists",
            "--id",
            &event.id.to_string(),
        ],
    );
    assert!(ok, "{err}");
    assert!(out.starts_with(&format!("replayed {} ", event.id)), "{out}");
    assert!(
        out.contains("1 replayed to cli.voting-finalists; 0 left in cli.voting-finalists.dlq"),
        "{out}"
    );
    let (ok, out, err) = valued(&vhost, &["dlq", "list", "voting-finalists"]);
    assert!(ok, "{err}");
    assert_eq!(out, "0 dead-lettered in cli.voting-finalists.dlq\n");
    shutdown.trigger();
}

#[test]
fn the_embedded_bus_has_no_dead_letter_queue_to_look_at() {
    let output = Command::new(env!("CARGO_BIN_EXE_valued"))
        .args(["dlq", "list", "notification"])
        .env("VALUED__BUS__KIND", "in_process")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("has no dead-letter queue"), "{err}");
}
