//! Dead-letter queues on RabbitMQ, for operators: list what a consumer's `<prefix>.<consumer>.dlq`
//! holds without losing or reordering it, and replay chosen messages to the consumer's own queue.
//!
//! Listing takes every message there is one by one with `basic.get` (unacknowledged, so the
//! broker keeps them), describes the first `limit`, then hands them all back with one
//! `basic.nack` (requeue): a quorum queue on RabbitMQ 3.x puts returned messages at its tail, so
//! only a full turn brings the queue back to the order it had. Each return counts as a delivery
//! on the dead-letter queue (its `x-delivery-count` rises by one per listing). The dead-letter
//! queues have no dead-letter exchange of their own, and on RabbitMQ 3.x no delivery limit, so
//! nothing is dropped for it there; RabbitMQ 4.x gives quorum queues a default limit of 20 (see
//! deploy/DLQ.md).
//!
//! Replaying publishes each chosen message, body and properties as they are (less the dead-letter
//! queue's `x-delivery-count`), to the consumer's queue and acknowledges it on the dead-letter
//! queue only after the broker confirms the publish, so a replay that dies midway loses nothing;
//! at worst a message is in both queues, and the consumer's inbox makes the second handling a
//! no-op. It goes through `<prefix>.dead-letter` with the routing key `replay:<prefix>.<consumer>`
//! (bound here to the consumer's queue) rather than the default exchange, which the services'
//! broker users may not write to. Only messages that were in the dead-letter queue when the replay
//! began are looked at, so events that fail again and come back are not replayed twice in one run.
use chrono::{DateTime, Utc};
use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions, ConfirmSelectOptions,
    QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};

use super::amqp::{header_text, message_count, not_found};
use crate::settings::{BusKind, BusSettings};

#[derive(Debug, thiserror::Error)]
pub enum DlqError {
    #[error(
        "the in-process bus (bus.kind = in_process) has no dead-letter queue: its dead letters live \
         only in the memory of the process that ran the consumer. Point bus.kind and bus.amqp_url \
         at the broker"
    )]
    InProcess,
    #[error("no dead-letter queue {queue}: is {consumer:?} a consumer on this broker and prefix?")]
    UnknownConsumer { consumer: String, queue: String },
    #[error("broker: {0}")]
    Broker(#[from] lapin::Error),
    #[error(
        "the broker did not take the replayed message {id}: {reason}; it and those after it stay \
         dead-lettered ({replayed} replayed before it)"
    )]
    NotReplayed {
        id: String,
        reason: String,
        replayed: usize,
    },
}

pub type Result<T, E = DlqError> = std::result::Result<T, E>;

/// One dead-lettered message, as its properties and headers describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The event id (`message_id`).
    pub id: Option<String>,
    /// The event type (the AMQP `type`, also its routing key).
    pub event_type: Option<String>,
    /// When the event happened (the envelope's `occurred_at` header).
    pub occurred_at: Option<String>,
    /// When the broker dead-lettered it from the consumer's queue (`x-death`).
    pub dead_lettered_at: Option<DateTime<Utc>>,
    /// Why (`x-first-death-reason`): `delivery_limit` after too many failed deliveries,
    /// `rejected` when the consumer found it poison or malformed, `expired`, `maxlen`.
    pub reason: Option<String>,
    /// Times it has been dead-lettered from the consumer's queue (`x-death` count).
    pub deaths: u64,
    /// Deliveries from the dead-letter queue itself (its `x-delivery-count`): each listing and
    /// each replay that handed it back counts one. The consumer's failed deliveries before it was
    /// dead-lettered are not carried over; `reason` says whether they reached the limit.
    pub delivery_count: Option<u64>,
}

/// What `list` saw: the first messages in queue order, and how many the queue held.
#[derive(Debug, Clone)]
pub struct Listing {
    pub queue: String,
    pub total: u32,
    pub letters: Vec<DeadLetter>,
}

/// Which dead letters to replay.
#[derive(Debug, Clone)]
pub enum Replay {
    All,
    Ids(Vec<String>),
}

/// What `replay` did.
#[derive(Debug, Clone, Default)]
pub struct Replayed {
    pub replayed: Vec<DeadLetter>,
    /// Ids asked for that were not in the dead-letter queue.
    pub not_found: Vec<String>,
    /// Of the messages in the dead-letter queue when the replay began, those still there.
    pub left: u32,
}

/// A connection to the broker for looking at and replaying dead letters.
pub struct DeadLetters {
    prefix: String,
    connection: Connection,
}

impl DeadLetters {
    pub async fn connect(settings: &BusSettings) -> Result<Self> {
        if settings.kind == BusKind::InProcess {
            return Err(DlqError::InProcess);
        }
        let properties = ConnectionProperties::default()
            .with_connection_name(format!("valued-dlq-{}", std::process::id()).into());
        let connection = Connection::connect(settings.amqp_url(), properties).await?;
        Ok(Self {
            prefix: settings.prefix.clone(),
            connection,
        })
    }

    pub fn queue_name(&self, consumer: &str) -> String {
        format!("{}.{consumer}", self.prefix)
    }

    pub fn dead_letter_queue(&self, consumer: &str) -> String {
        format!("{}.dlq", self.queue_name(consumer))
    }

    /// The first `limit` dead letters of `consumer`, in queue order, and how many there are; all
    /// left where they were, in their order.
    pub async fn list(&self, consumer: &str, limit: usize) -> Result<Listing> {
        let channel = self.connection.create_channel().await?;
        let (queue, total) = self.existing(&channel, consumer).await?;
        let mut letters = Vec::new();
        let mut last_tag = None;
        let mut taken = 0;
        // Every message there at the start is taken, even past `limit`: a quorum queue on
        // RabbitMQ 3.x puts returned messages at its tail, so handing back only the first few
        // would move them behind the rest. Taking all of them and returning all turns the queue
        // round once, back to its order.
        for _ in 0..total {
            let Some(message) = channel
                .basic_get(queue.as_str().into(), BasicGetOptions { no_ack: false })
                .await?
            else {
                break;
            };
            let delivery = message.delivery;
            if letters.len() < limit {
                letters.push(describe(&delivery.properties, &self.queue_name(consumer)));
            }
            last_tag = Some(delivery.delivery_tag);
            taken += 1;
        }
        if let Some(tag) = last_tag {
            // Everything taken goes back, in order.
            channel
                .basic_nack(
                    tag,
                    BasicNackOptions {
                        multiple: true,
                        requeue: true,
                    },
                )
                .await?;
            self.counted_back(&channel, &queue, taken).await?;
        }
        channel.close(200, "listed".into()).await?;
        Ok(Listing {
            queue,
            total,
            letters,
        })
    }

    /// Moves the chosen dead letters of `consumer` back to its queue, each acknowledged on the
    /// dead-letter queue only once the broker has confirmed it in the consumer's queue.
    pub async fn replay(&self, consumer: &str, which: &Replay) -> Result<Replayed> {
        let channel = self.connection.create_channel().await?;
        let (dead_letter_queue, total) = self.existing(&channel, consumer).await?;
        let queue = self.queue_name(consumer);
        // The consumer's queue must exist too (passive), and receive replays.
        channel
            .queue_declare(
                queue.as_str().into(),
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await?;
        let exchange = format!("{}.dead-letter", self.prefix);
        let routing_key = format!("replay:{queue}");
        channel
            .queue_bind(
                queue.as_str().into(),
                exchange.as_str().into(),
                routing_key.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;

        let mut done = Replayed::default();
        let mut wanted: Vec<String> = match which {
            Replay::All => Vec::new(),
            Replay::Ids(ids) => ids.clone(),
        };
        // Taken and not chosen, held unacknowledged until the end: the last of them; and the
        // chosen one being replayed, until it is acknowledged.
        let mut last_kept = None;
        let mut kept = 0;
        let mut in_flight = None;
        let outcome = async {
            // Only what was there at the start: a replayed event that fails again comes back at
            // the tail and must not be replayed again by this run.
            // And all of them, even once every id asked for is found, so that those kept go
            // back in their order (see `list`).
            for _ in 0..total {
                let Some(message) = channel
                    .basic_get(
                        dead_letter_queue.as_str().into(),
                        BasicGetOptions { no_ack: false },
                    )
                    .await?
                else {
                    break;
                };
                let delivery = message.delivery;
                let letter = describe(&delivery.properties, &queue);
                let chosen = match which {
                    Replay::All => true,
                    Replay::Ids(_) => match &letter.id {
                        Some(id) => match wanted.iter().position(|w| w == id) {
                            Some(at) => {
                                wanted.swap_remove(at);
                                true
                            }
                            None => false,
                        },
                        None => false,
                    },
                };
                if !chosen {
                    kept += 1;
                    last_kept = Some(delivery.delivery_tag);
                    continue;
                }
                in_flight = Some(delivery.delivery_tag);
                let confirm = channel
                    .basic_publish(
                        exchange.as_str().into(),
                        routing_key.as_str().into(),
                        BasicPublishOptions {
                            mandatory: true,
                            ..Default::default()
                        },
                        &delivery.data,
                        replayed_properties(&delivery.properties),
                    )
                    .await?
                    .await?;
                let id = letter.id.clone().unwrap_or_else(|| "(no id)".into());
                match confirm {
                    Confirmation::Ack(None) => {}
                    Confirmation::Ack(Some(returned)) => {
                        return Err(DlqError::NotReplayed {
                            id,
                            reason: format!("returned: {}", returned.reply_text.as_str()),
                            replayed: done.replayed.len(),
                        });
                    }
                    Confirmation::Nack(_) => {
                        return Err(DlqError::NotReplayed {
                            id,
                            reason: "nacked (is the consumer's queue full?)".into(),
                            replayed: done.replayed.len(),
                        });
                    }
                    Confirmation::NotRequested => {
                        return Err(DlqError::NotReplayed {
                            id,
                            reason: "the channel is not in confirm mode".into(),
                            replayed: done.replayed.len(),
                        });
                    }
                }
                channel
                    .basic_ack(delivery.delivery_tag, BasicAckOptions::default())
                    .await?;
                in_flight = None;
                done.replayed.push(letter);
            }
            Ok(())
        }
        .await;
        // Whatever happened, hand back everything taken and not replayed, with one nack up to the
        // latest unacknowledged delivery: closing the channel would too, but this way they go
        // back in order.
        if let Some(tag) = in_flight.or(last_kept) {
            let held = kept + u32::from(in_flight.is_some());
            let returned = async {
                channel
                    .basic_nack(
                        tag,
                        BasicNackOptions {
                            multiple: true,
                            requeue: true,
                        },
                    )
                    .await?;
                self.counted_back(&channel, &dead_letter_queue, held).await
            }
            .await;
            // After a failure the channel may be gone: the broker hands them back then anyway,
            // and the failure is the error to report.
            if outcome.is_ok() {
                returned?;
            }
        }
        outcome?;
        channel.close(200, "replayed".into()).await?;
        done.not_found = wanted;
        // Counted, not asked: the broker's count lags the nack that hands messages back.
        done.left = total.saturating_sub(u32::try_from(done.replayed.len()).unwrap_or(u32::MAX));
        Ok(done)
    }

    /// Waits (a little) until `queue` counts at least `returned` messages again. The broker takes
    /// back nacked messages asynchronously, and its count lags them; a command run just after
    /// this one (another listing, a replay) would otherwise miss them.
    async fn counted_back(&self, channel: &Channel, queue: &str, returned: u32) -> Result<()> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if message_count(channel, queue).await? >= returned
                || tokio::time::Instant::now() > deadline
            {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The dead-letter queue's name and message count; a passive declare, so an unknown consumer
    /// is refused rather than given a new queue.
    async fn existing(&self, channel: &Channel, consumer: &str) -> Result<(String, u32)> {
        let queue = self.dead_letter_queue(consumer);
        match message_count(channel, &queue).await {
            Ok(count) => Ok((queue, count)),
            Err(error) if not_found(&error) => Err(DlqError::UnknownConsumer {
                consumer: consumer.to_owned(),
                queue,
            }),
            Err(error) => Err(error.into()),
        }
    }
}

/// The message as it was published: the dead-letter queue's delivery count is dropped (the
/// consumer's queue counts its own deliveries afresh); `x-death` stays as its history.
fn replayed_properties(properties: &BasicProperties) -> BasicProperties {
    let mut replayed = properties.clone();
    if let Some(headers) = properties.headers() {
        let kept: std::collections::BTreeMap<_, _> = headers
            .inner()
            .iter()
            .filter(|(key, _)| key.as_str() != "x-delivery-count")
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        replayed = replayed.with_headers(FieldTable::from(kept));
    }
    replayed
}

fn describe(properties: &BasicProperties, from_queue: &str) -> DeadLetter {
    let headers = properties.headers().as_ref();
    let death = x_death(headers, from_queue);
    DeadLetter {
        id: properties
            .message_id()
            .as_ref()
            .map(|id| id.as_str().to_owned()),
        event_type: properties.kind().as_ref().map(|t| t.as_str().to_owned()),
        occurred_at: header_text(headers, "occurred_at"),
        dead_lettered_at: death
            .and_then(|d| d.inner().get("time"))
            .and_then(|time| match time {
                AMQPValue::Timestamp(seconds) => i64::try_from(*seconds)
                    .ok()
                    .and_then(|s| DateTime::from_timestamp(s, 0)),
                _ => None,
            }),
        reason: header_text(headers, "x-first-death-reason").or_else(|| {
            death
                .and_then(|d| d.inner().get("reason"))
                .and_then(text_of)
        }),
        deaths: death
            .and_then(|d| d.inner().get("count"))
            .and_then(number_of)
            .unwrap_or(0),
        delivery_count: headers
            .and_then(|h| h.inner().get("x-delivery-count"))
            .and_then(number_of),
    }
}

/// The `x-death` entry for the consumer's queue (the first one if none names it).
fn x_death<'a>(headers: Option<&'a FieldTable>, from_queue: &str) -> Option<&'a FieldTable> {
    let Some(AMQPValue::FieldArray(deaths)) = headers.and_then(|h| h.inner().get("x-death")) else {
        return None;
    };
    let tables = || {
        deaths.as_slice().iter().filter_map(|death| match death {
            AMQPValue::FieldTable(table) => Some(table),
            _ => None,
        })
    };
    tables()
        .find(|t| {
            t.inner()
                .get("queue")
                .and_then(text_of)
                .is_some_and(|q| q == from_queue)
        })
        .or_else(|| tables().next())
}

fn text_of(value: &AMQPValue) -> Option<String> {
    match value {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

fn number_of(value: &AMQPValue) -> Option<u64> {
    match value {
        AMQPValue::LongLongInt(n) => u64::try_from(*n).ok(),
        AMQPValue::LongInt(n) => u64::try_from(*n).ok(),
        AMQPValue::LongUInt(n) => Some(u64::from(*n)),
        AMQPValue::ShortInt(n) => u64::try_from(*n).ok(),
        AMQPValue::ShortUInt(n) => Some(u64::from(*n)),
        AMQPValue::ShortShortInt(n) => u64::try_from(*n).ok(),
        AMQPValue::ShortShortUInt(n) => Some(u64::from(*n)),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use lapin::types::{FieldArray, ShortString};

    use super::*;

    fn headers(entries: Vec<(&str, AMQPValue)>) -> FieldTable {
        let mut table = FieldTable::default();
        for (key, value) in entries {
            table.insert(ShortString::from(key), value);
        }
        table
    }

    #[test]
    fn a_dead_letter_is_described_from_its_death_for_the_consumers_queue() {
        let death = |queue: &str, count: i64, time: u64| {
            AMQPValue::FieldTable(headers(vec![
                ("queue", AMQPValue::LongString(queue.into())),
                ("reason", AMQPValue::LongString("delivery_limit".into())),
                ("count", AMQPValue::LongLongInt(count)),
                ("time", AMQPValue::Timestamp(time)),
            ]))
        };
        let properties = BasicProperties::default()
            .with_message_id("e1".into())
            .with_type("ballot.opened.v1".into())
            .with_headers(headers(vec![
                (
                    "x-death",
                    AMQPValue::FieldArray(FieldArray::from(vec![
                        death("elsewhere", 5, 1),
                        death("valued.c", 2, 1_800_000_000),
                    ])),
                ),
                (
                    "x-first-death-reason",
                    AMQPValue::LongString("rejected".into()),
                ),
                ("x-delivery-count", AMQPValue::LongLongInt(3)),
                (
                    "occurred_at",
                    AMQPValue::LongString("2026-11-27T10:00:00Z".into()),
                ),
            ]));
        let letter = describe(&properties, "valued.c");
        assert_eq!(letter.id.as_deref(), Some("e1"));
        assert_eq!(letter.event_type.as_deref(), Some("ballot.opened.v1"));
        assert_eq!(letter.reason.as_deref(), Some("rejected"));
        assert_eq!(letter.deaths, 2);
        assert_eq!(
            letter.dead_lettered_at,
            DateTime::from_timestamp(1_800_000_000, 0)
        );
        assert_eq!(letter.delivery_count, Some(3));
        assert_eq!(letter.occurred_at.as_deref(), Some("2026-11-27T10:00:00Z"));

        let replayed = replayed_properties(&properties);
        let replayed_headers = replayed.headers().as_ref().unwrap().inner();
        assert!(!replayed_headers.contains_key("x-delivery-count"));
        assert!(replayed_headers.contains_key("x-death"), "its history kept");
        assert!(replayed_headers.contains_key("occurred_at"));
        assert_eq!(replayed.message_id(), properties.message_id());
    }

    #[test]
    fn a_message_without_headers_is_still_listed() {
        let letter = describe(&BasicProperties::default(), "valued.c");
        assert_eq!(letter.id, None);
        assert_eq!(letter.deaths, 0);
        assert_eq!(letter.reason, None);
    }
}
