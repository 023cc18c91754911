//! Dead-letter queues on the machine's RabbitMQ (a fresh vhost per test): a consumer that keeps
//! failing dead-letters its events; listing shows them and leaves them where they were; replaying
//! after the fix gets each handled exactly once and empties the dead-letter queue.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use valued_platform::bus::AmqpBus;
use valued_platform::bus::dlq::{DeadLetters, DlqError, Replay};
use valued_platform::{
    BusSettings, Envelope, EventBus, EventHandler, HandlerError, Shutdown, Subscription,
};
use valued_proto::events::v1::BallotOpened;
use valued_testkit::eventually;
use valued_testkit::rabbitmq::Vhost;

const CONSUMER: &str = "dlq-test";

/// Fails every event until fixed (the poison one as poison, the others as worth a retry), then
/// handles them, counting how often each was handled.
#[derive(Default)]
struct Flaky {
    fixed: AtomicBool,
    poison: Mutex<Option<uuid::Uuid>>,
    handled: Mutex<HashMap<uuid::Uuid, u32>>,
}

#[async_trait]
impl EventHandler for Flaky {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        if !self.fixed.load(Ordering::SeqCst) {
            if *self.poison.lock().unwrap() == Some(envelope.id) {
                return Err(HandlerError::Poison(anyhow::anyhow!("cannot be handled")));
            }
            return Err(HandlerError::Retry(anyhow::anyhow!("a dependency is down")));
        }
        *self.handled.lock().unwrap().entry(envelope.id).or_default() += 1;
        Ok(())
    }
}

fn settings(vhost: &Vhost) -> BusSettings {
    BusSettings {
        delivery_limit: 2,
        recovery_seconds: 5,
        ..BusSettings::amqp(&vhost.amqp_url(), "t")
    }
}

/// A fresh vhost and a bus on it whose consumer `CONSUMER` is the (still failing) [`Flaky`].
async fn subscribed() -> (Vhost, BusSettings, AmqpBus, Arc<Flaky>, Shutdown) {
    let vhost = Vhost::create().unwrap();
    let settings = settings(&vhost);
    let bus = AmqpBus::connect(&settings).await.unwrap();
    let handler = Arc::new(Flaky::default());
    let shutdown = Shutdown::new();
    bus.subscribe(
        Subscription::new(CONSUMER, &["ballot.#"]),
        handler.clone(),
        shutdown.clone(),
    )
    .await
    .unwrap();
    (vhost, settings, bus, handler, shutdown)
}

#[tokio::test]
async fn dead_letters_are_listed_in_place_and_replayed_once() {
    let (vhost, settings, bus, handler, shutdown) = subscribed().await;

    let events: Vec<Envelope> = (0..3)
        .map(|_| Envelope::new("test", None, &BallotOpened::default()))
        .collect();
    *handler.poison.lock().unwrap() = Some(events[2].id);
    for envelope in &events {
        // One at a time, so that they are dead-lettered in this order.
        assert!(bus.publish(std::slice::from_ref(envelope)).await[0].is_ok());
        let queue = format!("t.{CONSUMER}.dlq");
        let before = events.iter().position(|e| e.id == envelope.id).unwrap();
        eventually("dead-lettered", || {
            vhost.message_count(&queue).unwrap() == before + 1
        })
        .await;
    }
    let ids: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();

    let dead_letters = DeadLetters::connect(&settings).await.unwrap();
    let listing = dead_letters.list(CONSUMER, 100).await.unwrap();
    for letter in &listing.letters {
        println!("{letter:?}");
    }
    assert_eq!(listing.total, 3);
    let listed: Vec<String> = listing
        .letters
        .iter()
        .map(|l| l.id.clone().unwrap())
        .collect();
    assert_eq!(listed, ids, "every dead letter, in the order it came");
    let reasons: Vec<_> = listing
        .letters
        .iter()
        .map(|l| l.reason.as_deref())
        .collect();
    assert_eq!(
        reasons,
        [
            Some("delivery_limit"),
            Some("delivery_limit"),
            Some("rejected")
        ]
    );
    for letter in &listing.letters {
        assert_eq!(letter.event_type.as_deref(), Some("ballot.opened.v1"));
        assert!(letter.occurred_at.is_some());
        assert!(letter.dead_lettered_at.is_some());
        assert_eq!(letter.deaths, 1);
    }

    // Listing again (part, then all) finds the same messages in the same order: nothing lost or
    // moved by looking.
    let first = dead_letters.list(CONSUMER, 1).await.unwrap();
    assert_eq!(first.letters.len(), 1);
    assert_eq!(first.letters[0].id.as_deref(), Some(ids[0].as_str()));
    for _ in 0..3 {
        let again = dead_letters.list(CONSUMER, 100).await.unwrap();
        let again: Vec<String> = again
            .letters
            .iter()
            .map(|l| l.id.clone().unwrap())
            .collect();
        assert_eq!(again, ids);
    }
    assert_eq!(
        vhost.message_count(&format!("t.{CONSUMER}.dlq")).unwrap(),
        3
    );

    // Fixed: replay one by id, then the rest.
    handler.fixed.store(true, Ordering::SeqCst);
    let replayed = dead_letters
        .replay(
            CONSUMER,
            &Replay::Ids(vec![ids[1].clone(), "no-such-id".into()]),
        )
        .await
        .unwrap();
    assert_eq!(replayed.replayed.len(), 1);
    assert_eq!(replayed.replayed[0].id.as_deref(), Some(ids[1].as_str()));
    assert_eq!(replayed.not_found, ["no-such-id"]);
    assert_eq!(replayed.left, 2);
    eventually("the replayed event handled", || {
        handler.handled.lock().unwrap().contains_key(&events[1].id)
    })
    .await;
    let rest = dead_letters.list(CONSUMER, 100).await.unwrap();
    let rest: Vec<String> = rest.letters.iter().map(|l| l.id.clone().unwrap()).collect();
    assert_eq!(
        rest,
        [ids[0].clone(), ids[2].clone()],
        "the others kept, in order"
    );

    let replayed = dead_letters.replay(CONSUMER, &Replay::All).await.unwrap();
    assert_eq!(replayed.replayed.len(), 2);
    assert_eq!(replayed.left, 0);
    eventually("every event handled", || {
        handler.handled.lock().unwrap().len() == 3
    })
    .await;
    // Time for any duplicate to arrive.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let handled = handler.handled.lock().unwrap().clone();
    for event in &events {
        assert_eq!(handled.get(&event.id), Some(&1), "handled exactly once");
    }
    // rabbitmqctl's counts are the broker's periodic statistics: they catch up.
    eventually("the dead-letter queue empty", || {
        vhost.message_count(&format!("t.{CONSUMER}.dlq")).unwrap() == 0
    })
    .await;
    assert!(
        dead_letters
            .list(CONSUMER, 100)
            .await
            .unwrap()
            .letters
            .is_empty()
    );
    shutdown.trigger();
}

#[tokio::test]
async fn a_replay_the_broker_refuses_leaves_every_dead_letter_in_place() {
    let (vhost, settings, bus, handler, shutdown) = subscribed().await;
    let events: Vec<Envelope> = (0..2)
        .map(|_| Envelope::new("test", None, &BallotOpened::default()))
        .collect();
    // Poison, so that they are dead-lettered at once, in order.
    for envelope in &events {
        *handler.poison.lock().unwrap() = Some(envelope.id);
        assert!(bus.publish(std::slice::from_ref(envelope)).await[0].is_ok());
        let before = events.iter().position(|e| e.id == envelope.id).unwrap();
        eventually("dead-lettered", || {
            vhost.message_count(&format!("t.{CONSUMER}.dlq")).unwrap() == before + 1
        })
        .await;
    }
    shutdown.trigger();
    // The consumer's queue takes nothing more: it was declared with x-overflow reject-publish,
    // so the broker nacks the replay's publish.
    vhost
        .ctl(&[
            "set_policy",
            "-p",
            &vhost.name,
            "--apply-to",
            "queues",
            "full",
            &format!("^t\\.{CONSUMER}$"),
            r#"{"max-length":0}"#,
        ])
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;

    let dead_letters = DeadLetters::connect(&settings).await.unwrap();
    let error = dead_letters
        .replay(CONSUMER, &Replay::All)
        .await
        .unwrap_err();
    // A quorum queue's length limit is soft: it may take one message before refusing.
    let DlqError::NotReplayed { replayed, .. } = error else {
        panic!("{error}");
    };
    let listing = dead_letters.list(CONSUMER, 100).await.unwrap();
    let listed: Vec<String> = listing
        .letters
        .iter()
        .map(|l| l.id.clone().unwrap())
        .collect();
    let ids: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();
    assert!(replayed < ids.len(), "the broker refused one");
    assert_eq!(
        listed,
        ids[replayed..],
        "the refused one and those after it still dead-lettered, in order"
    );
    eventually("the replayed ones in the consumer's queue", || {
        vhost.message_count(&format!("t.{CONSUMER}")).unwrap() == replayed
    })
    .await;
}

#[tokio::test]
async fn an_unknown_consumer_is_refused_and_no_queue_is_made() {
    let vhost = Vhost::create().unwrap();
    let settings = settings(&vhost);
    let dead_letters = DeadLetters::connect(&settings).await.unwrap();
    let error = dead_letters.list("nobody", 10).await.unwrap_err();
    assert!(
        matches!(&error, DlqError::UnknownConsumer { queue, .. } if queue == "t.nobody.dlq"),
        "{error}"
    );
    let error = dead_letters
        .replay("nobody", &Replay::All)
        .await
        .unwrap_err();
    assert!(matches!(error, DlqError::UnknownConsumer { .. }), "{error}");
    let queues = vhost
        .ctl(&[
            "list_queues",
            "-p",
            &vhost.name,
            "--quiet",
            "--no-table-headers",
            "name",
        ])
        .unwrap();
    assert!(!queues.contains("nobody"), "no queue declared: {queues}");
}

#[tokio::test]
async fn the_in_process_bus_has_no_dead_letter_queue() {
    let error = DeadLetters::connect(&BusSettings::default())
        .await
        .err()
        .unwrap();
    assert!(matches!(error, DlqError::InProcess));
    assert!(error.to_string().contains("no dead-letter queue"));
}
