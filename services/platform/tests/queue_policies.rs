//! With `bus.queue_policies`, a consumer queue's delivery limit and dead-lettering are the broker's
//! policy's (in Kubernetes an operator's `Policy`): an operator changes them on a live queue, and
//! a queue declared earlier with arguments is taken over as it is, not refused. On the machine's
//! RabbitMQ, a fresh vhost per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use valued_platform::bus::AmqpBus;
use valued_platform::{
    BusSettings, Envelope, EventBus, EventHandler, HandlerError, Shutdown, Subscription,
};
use valued_proto::events::v1::BallotOpened;
use valued_testkit::eventually;
use valued_testkit::rabbitmq::Vhost;

/// Fails every event (worth a retry, as when a dependency is down), counting its deliveries.
#[derive(Default)]
struct AlwaysFailing {
    deliveries: Mutex<HashMap<uuid::Uuid, u32>>,
}

#[async_trait]
impl EventHandler for AlwaysFailing {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        *self
            .deliveries
            .lock()
            .unwrap()
            .entry(envelope.id)
            .or_default() += 1;
        Err(HandlerError::Retry(anyhow::anyhow!("a dependency is down")))
    }
}

/// Counts what it handles.
#[derive(Default)]
struct Counting {
    handled: Mutex<Vec<uuid::Uuid>>,
}

#[async_trait]
impl EventHandler for Counting {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        self.handled.lock().unwrap().push(envelope.id);
        Ok(())
    }
}

/// The consumers' policy, as `k8s/base/rabbitmq.yaml` sets it, with `limit` deliveries.
fn set_policy(vhost: &Vhost, limit: u32) {
    let definition = format!(
        r#"{{"delivery-limit":{limit},"dead-letter-strategy":"at-least-once","overflow":"reject-publish"}}"#
    );
    vhost
        .ctl(&[
            "set_policy",
            "-p",
            &vhost.name,
            "--apply-to",
            "queues",
            "--priority",
            "0",
            "p-consumers",
            r"^p\.[a-z-]+$",
            &definition,
        ])
        .unwrap();
}

fn settings(vhost: &Vhost, queue_policies: bool) -> BusSettings {
    BusSettings {
        // Ignored with policies; a queue declared without them keeps it.
        delivery_limit: 50,
        queue_policies,
        recovery_seconds: 5,
        ..BusSettings::amqp(&vhost.amqp_url(), "p")
    }
}

#[tokio::test]
async fn the_policy_sets_the_delivery_limit_and_an_operator_changes_it_on_a_live_queue() {
    let vhost = Vhost::create().unwrap();
    set_policy(&vhost, 1);
    let bus = AmqpBus::connect(&settings(&vhost, true)).await.unwrap();
    let handler = Arc::new(AlwaysFailing::default());
    let shutdown = Shutdown::new();
    bus.subscribe(
        Subscription::new("failing", &["ballot.#"]),
        handler.clone(),
        shutdown.clone(),
    )
    .await
    .unwrap();

    let first = Envelope::new("test", None, &BallotOpened::default());
    assert!(bus.publish(std::slice::from_ref(&first)).await[0].is_ok());
    eventually("dead-lettered by the policy's limit", || {
        vhost.message_count("p.failing.dlq").unwrap() == 1
    })
    .await;
    assert_eq!(
        handler.deliveries.lock().unwrap()[&first.id],
        2,
        "the policy's delivery limit (1 redelivery), not the setting's 50"
    );

    // The operator raises the limit: the live queue takes it, nothing is declared again.
    set_policy(&vhost, 3);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let second = Envelope::new("test", None, &BallotOpened::default());
    assert!(bus.publish(std::slice::from_ref(&second)).await[0].is_ok());
    eventually("dead-lettered by the new limit", || {
        vhost.message_count("p.failing.dlq").unwrap() == 2
    })
    .await;
    assert_eq!(handler.deliveries.lock().unwrap()[&second.id], 4);
    shutdown.trigger();
}

#[tokio::test]
async fn a_queue_declared_earlier_with_arguments_is_taken_over_as_it_is() {
    let vhost = Vhost::create().unwrap();
    // Before policies: the queue is declared with its arguments (delivery limit 50).
    let before = Shutdown::new();
    AmqpBus::connect(&settings(&vhost, false))
        .await
        .unwrap()
        .subscribe(
            Subscription::new("kept", &["ballot.#"]),
            Arc::new(Counting::default()),
            before.clone(),
        )
        .await
        .unwrap();
    before.trigger();
    set_policy(&vhost, 1);

    // After: declaring it with other arguments would be refused (PRECONDITION_FAILED) and the
    // consumer would never start; it is used as it is instead.
    let bus = AmqpBus::connect(&settings(&vhost, true)).await.unwrap();
    let handler = Arc::new(Counting::default());
    let shutdown = Shutdown::new();
    bus.subscribe(
        Subscription::new("kept", &["ballot.#"]),
        handler.clone(),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let event = Envelope::new("test", None, &BallotOpened::default());
    assert!(bus.publish(std::slice::from_ref(&event)).await[0].is_ok());
    eventually("handled on the queue made earlier", || {
        handler.handled.lock().unwrap().as_slice() == [event.id]
    })
    .await;
    assert!(bus.health().down().is_empty(), "{:?}", bus.health().down());
    shutdown.trigger();
}
