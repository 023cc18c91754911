//! The RabbitMQ bus (lapin).
//!
//! Topology, all durable and prefixed by `bus.prefix`:
//! - `<prefix>.events`: the topic exchange every event is published to. Its alternate exchange
//!   `<prefix>.unrouted` (fanout → queue `<prefix>.unrouted`) keeps events no consumer is bound to,
//!   so `mandatory` publishing never loses them and still catches a missing exchange.
//! - per consumer, quorum queue `<prefix>.<consumer>` with `x-delivery-limit`; past it (or when
//!   rejected as poison) a message is dead-lettered at-least-once through `<prefix>.dead-letter` to
//!   `<prefix>.<consumer>.dlq`.
//!
//! Recovery is ours, not lapin's, and bounded. A lost connection fails every channel on it: each
//! consumer's session ends and is built afresh (connect, declare, consume) with backoff, forever;
//! the publishing channel is rebuilt on the relay's next round. Every wait on the broker (connect,
//! declare, consume, a publisher confirm, an ack) gives up after `bus.recovery_seconds`, so nothing
//! waits on a dead channel, and a consumer never stops watching its channel while its handlers
//! finish. lapin's automatic recovery is off: it replays the topology onto the same channel objects,
//! and a handler's ack on a delivery of the lost incarnation could stay pending with its in-flight
//! permit held, which stopped the consumer from reading its stream (and so from ever noticing the
//! failure) after a broker restart under load. [`BusHealth`] says which part is down and since when.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::{FutureExt, StreamExt};
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    BasicRejectOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
};
use tokio::sync::{Mutex, Semaphore};
use tokio::task::JoinHandle;
use tracing::Instrument;
use uuid::Uuid;

use super::health::{BusHealth, Part};
use super::{BusError, EventBus, EventHandler, HandlerError, Subscription, retry_delay};
use crate::envelope::{Envelope, EnvelopeError};
use crate::metrics::Outcome;
use crate::settings::BusSettings;
use crate::shutdown::Shutdown;

/// How often each consumer's dead-letter queue is counted.
const DEAD_LETTERS_EVERY: Duration = Duration::from_secs(30);

pub struct AmqpBus {
    settings: BusSettings,
    connection: Arc<Mutex<Option<Arc<Connection>>>>,
    publisher: Arc<Mutex<Option<Channel>>>,
    health: BusHealth,
}

impl AmqpBus {
    /// Connects and declares the exchanges. A broker that cannot be reached now is not fatal: the
    /// relay and the consumers keep trying, and the outbox keeps every event meanwhile.
    pub async fn connect(settings: &BusSettings) -> Result<Self, BusError> {
        let bus = Self {
            settings: settings.clone(),
            connection: Arc::default(),
            publisher: Arc::default(),
            health: BusHealth::new(settings.stalled_after()),
        };
        if let Err(error) = bus.connection().await {
            tracing::warn!(%error, "broker unreachable at start; will keep trying");
        }
        Ok(bus)
    }

    pub fn exchange(&self) -> String {
        format!("{}.events", self.settings.prefix)
    }

    pub fn queue_name(&self, consumer: &str) -> String {
        format!("{}.{consumer}", self.settings.prefix)
    }

    fn bound(&self) -> Duration {
        self.settings.recovery_bound()
    }

    /// Another handle on the same connection, publisher and health, for a task of its own.
    fn handle(&self) -> Self {
        Self {
            settings: self.settings.clone(),
            connection: self.connection.clone(),
            publisher: self.publisher.clone(),
            health: self.health.clone(),
        }
    }

    /// Until `shutdown`, exports every [`DEAD_LETTERS_EVERY`] how many messages `consumer`'s
    /// dead-letter queue holds: a passive `queue.declare` answers with the count and changes
    /// nothing. While the broker is out of reach the last count stands (and liveness says why).
    fn watch_dead_letters(self, consumer: String, shutdown: Shutdown) {
        let bus = Arc::new(self);
        crate::periodic::every(
            "dead-letter queue depth",
            DEAD_LETTERS_EVERY,
            shutdown,
            move || {
                let (bus, consumer) = (bus.clone(), consumer.clone());
                async move {
                    let messages = bus.dead_letter_count(&consumer).await?;
                    crate::metrics::dlq_messages(&consumer, messages);
                    Ok(())
                }
            },
        );
    }

    async fn dead_letter_count(&self, consumer: &str) -> Result<u32, BusError> {
        let channel = self.channel().await?;
        let queue = format!("{}.dlq", self.queue_name(consumer));
        let counted = within(
            self.bound(),
            "counting dead letters",
            message_count(&channel, &queue),
        )
        .await;
        close_quietly(&channel).await;
        counted
    }

    /// The shared connection while it is connected; otherwise a new one, its exchanges declared,
    /// within the bound. A connection in any other state is never handed out again.
    async fn connection(&self) -> Result<Arc<Connection>, BusError> {
        let mut current = self.connection.lock().await;
        if let Some(connection) = current.as_ref() {
            if connection.status().connected() {
                return Ok(connection.clone());
            }
            if let Some(old) = current.take() {
                // Whatever state it is in, it is finished: close it in the background.
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(
                        Duration::from_secs(1),
                        old.close(320, "replaced".into()),
                    )
                    .await;
                });
            }
        }
        let properties = ConnectionProperties::default()
            .with_connection_name(format!("valued-{}", std::process::id()).into());
        let connection = within(
            self.bound(),
            "connecting",
            Connection::connect(self.settings.amqp_url(), properties),
        )
        .await?;
        let declared = within(self.bound(), "declaring the exchanges", async {
            let channel = connection.create_channel().await?;
            declare_exchanges(&channel, &self.settings.prefix).await?;
            channel.close(200, "declared".into()).await
        })
        .await;
        if let Err(error) = declared {
            let _ = connection.close(320, "declaring failed".into()).await;
            return Err(error);
        }
        let connection = Arc::new(connection);
        *current = Some(connection.clone());
        Ok(connection)
    }

    async fn channel(&self) -> Result<Channel, BusError> {
        let connection = self.connection().await?;
        within(
            self.bound(),
            "opening a channel",
            connection.create_channel(),
        )
        .await
    }

    /// The confirm-mode channel the relay publishes on while it is connected, otherwise a new one.
    async fn publishing_channel(&self) -> Result<Channel, BusError> {
        let mut publisher = self.publisher.lock().await;
        if let Some(channel) = publisher.as_ref()
            && channel.status().connected()
        {
            return Ok(channel.clone());
        }
        *publisher = None;
        let channel = self.channel().await?;
        within(
            self.bound(),
            "confirm.select",
            channel.confirm_select(ConfirmSelectOptions::default()),
        )
        .await?;
        *publisher = Some(channel.clone());
        Ok(channel)
    }

    /// Whether `queue` exists, with `queue_policies` (otherwise it is always declared): asked on a
    /// channel of its own, since a passive declare of a missing queue closes its channel. A queue
    /// declared again must match its arguments exactly, so with policies in charge one that exists
    /// (made earlier, perhaps with arguments) is used as it is.
    async fn queue_exists(&self, subscription: &Subscription) -> Result<bool, BusError> {
        if !self.settings.queue_policies {
            return Ok(false);
        }
        let queue = self.queue_name(&subscription.consumer);
        let probe = self.channel().await?;
        let passive = QueueDeclareOptions {
            passive: true,
            durable: true,
            ..Default::default()
        };
        let declared = tokio::time::timeout(
            self.bound(),
            probe.queue_declare(queue.as_str().into(), passive, FieldTable::default()),
        )
        .await;
        match declared {
            Ok(Ok(_)) => {
                close_quietly(&probe).await;
                Ok(true)
            }
            Ok(Err(error)) if not_found(&error) => Ok(false),
            Ok(Err(error)) => Err(unavailable(error)),
            Err(_) => Err(timed_out("asking whether the queue exists")),
        }
    }

    /// Declares `subscription`'s queue (unless it `exists`: see [`Self::queue_exists`]) and its
    /// dead-letter queue, and binds them.
    async fn declare_queue(
        &self,
        channel: &Channel,
        subscription: &Subscription,
        exists: bool,
    ) -> Result<String, lapin::Error> {
        let prefix = &self.settings.prefix;
        let queue = self.queue_name(&subscription.consumer);
        let dead_letter_queue = format!("{queue}.dlq");
        let durable = QueueDeclareOptions {
            durable: true,
            ..Default::default()
        };

        channel
            .queue_declare(
                dead_letter_queue.as_str().into(),
                durable,
                quorum_arguments(&[]),
            )
            .await?;
        channel
            .queue_bind(
                dead_letter_queue.as_str().into(),
                format!("{prefix}.dead-letter").into(),
                queue.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;

        // Where its dead letters go (the dead-letter exchange, with the queue's own name as the key
        // its `.dlq` is bound by) is fixed for life, and the broker takes the key only beside the
        // exchange; the rest is tuning, which with `queue_policies` is the broker's policy's.
        let mut arguments = vec![
            (
                "x-dead-letter-exchange",
                AMQPValue::LongString(format!("{prefix}.dead-letter").into()),
            ),
            (
                "x-dead-letter-routing-key",
                AMQPValue::LongString(queue.as_str().into()),
            ),
        ];
        if self.settings.queue_policies {
            if exists {
                tracing::debug!(%queue, "queue exists: its policy governs it");
            } else {
                channel
                    .queue_declare(queue.as_str().into(), durable, quorum_arguments(&arguments))
                    .await?;
            }
        } else {
            arguments.extend([
                (
                    "x-delivery-limit",
                    AMQPValue::LongInt(
                        i32::try_from(self.settings.delivery_limit).unwrap_or(i32::MAX),
                    ),
                ),
                (
                    "x-dead-letter-strategy",
                    AMQPValue::LongString("at-least-once".into()),
                ),
                ("x-overflow", AMQPValue::LongString("reject-publish".into())),
            ]);
            channel
                .queue_declare(queue.as_str().into(), durable, quorum_arguments(&arguments))
                .await?;
        }
        for pattern in &subscription.patterns {
            channel
                .queue_bind(
                    queue.as_str().into(),
                    self.exchange().into(),
                    pattern.as_str().into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        Ok(queue)
    }

    /// One consuming session: a channel, the queue declared, consuming until shutdown (`Ok`) or
    /// until the channel is lost (`Err`: the caller builds a new session).
    async fn consume_session(
        &self,
        subscription: &Subscription,
        handler: &Arc<dyn EventHandler>,
        shutdown: &Shutdown,
    ) -> Result<(), BusError> {
        let channel = self.channel().await?;
        let prefetch = self.settings.prefetch.max(1);
        let tag = format!("{}-{}", subscription.consumer, Uuid::now_v7());
        let exists = self.queue_exists(subscription).await?;
        let started = within(self.bound(), "starting to consume", async {
            channel
                .basic_qos(prefetch, BasicQosOptions::default())
                .await?;
            let queue = self.declare_queue(&channel, subscription, exists).await?;
            let consumer = channel
                .basic_consume(
                    queue.as_str().into(),
                    tag.as_str().into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            Ok((queue, consumer))
        })
        .await;
        let (queue, mut consumer) = match started {
            Ok(started) => started,
            Err(error) => {
                close_quietly(&channel).await;
                return Err(error);
            }
        };
        self.health.mark_up(&Part::consumer(&subscription.consumer));
        tracing::info!(consumer = %subscription.consumer, %queue, "consuming");
        // Handlers of this session only: a new session never waits for permits an old one holds.
        let in_flight = Arc::new(Semaphore::new(usize::from(prefetch)));
        let settle_within = self.bound();
        let lost = loop {
            // Both waits also watch the channel, so a lost channel is noticed even while every
            // permit is held or the stream is silent.
            let permit = tokio::select! {
                biased;
                _ = shutdown.wait() => break None,
                _ = channel_lost(&channel) => break Some("channel lost".to_owned()),
                permit = in_flight.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break Some("in-flight limit closed".to_owned()),
                },
            };
            let next = tokio::select! {
                biased;
                _ = shutdown.wait() => break None,
                _ = channel_lost(&channel) => break Some("channel lost".to_owned()),
                next = consumer.next() => next,
            };
            match next {
                Some(Ok(delivery)) => {
                    let handler = handler.clone();
                    let consumer_name = subscription.consumer.clone();
                    let shutdown = shutdown.clone();
                    tokio::spawn(async move {
                        handle_delivery(
                            &consumer_name,
                            handler.as_ref(),
                            delivery,
                            settle_within,
                            shutdown,
                        )
                        .await;
                        drop(permit);
                    });
                }
                Some(Err(error)) => break Some(error.to_string()),
                None => break Some("consumer cancelled by the broker".to_owned()),
            }
        };
        if let Some(reason) = lost {
            close_quietly(&channel).await;
            return Err(BusError::Unavailable(reason));
        }
        // Stop taking deliveries, then let the in-flight handlers finish and settle.
        let _ = tokio::time::timeout(
            self.bound(),
            channel.basic_cancel(tag.as_str().into(), BasicCancelOptions::default()),
        )
        .await;
        let _ =
            tokio::time::timeout(self.bound(), in_flight.acquire_many(u32::from(prefetch))).await;
        tracing::info!(consumer = %subscription.consumer, "consumer drained");
        Ok(())
    }

    /// Publishes on the confirm channel; an error means the channel is dropped so that the next
    /// round builds a new one.
    async fn publish_confirmed(&self, envelopes: &[Envelope]) -> Vec<Result<(), BusError>> {
        let channel = match self.publishing_channel().await {
            Ok(channel) => channel,
            Err(error) => {
                return envelopes
                    .iter()
                    .map(|_| Err(BusError::Unavailable(error.to_string())))
                    .collect();
            }
        };
        let exchange = self.exchange();
        let options = BasicPublishOptions {
            mandatory: true,
            ..Default::default()
        };
        // One deadline for the whole batch: a confirm that never comes fails the round.
        let deadline = tokio::time::Instant::now() + self.bound();
        // Pipelined: send every message, then await all the confirms.
        let mut pending = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            let span = tracing::info_span!(
                "publish",
                otel.name = %format!("{} publish", envelope.routing_key()),
                messaging.system = "rabbitmq",
                messaging.destination.name = %exchange,
                messaging.message.id = %envelope.id,
            );
            crate::telemetry::set_parent(&span, envelope.traceparent.as_deref());
            let sent = tokio::time::timeout_at(
                deadline,
                channel
                    .basic_publish(
                        exchange.as_str().into(),
                        envelope.routing_key().into(),
                        options,
                        &envelope.payload,
                        properties(envelope),
                    )
                    .instrument(span),
            )
            .await;
            pending.push(sent);
        }
        let mut results = Vec::with_capacity(pending.len());
        for sent in pending {
            results.push(match sent {
                Err(_) => Err(timed_out("publishing")),
                Ok(Err(error)) => Err(unavailable(error)),
                Ok(Ok(confirm)) => match tokio::time::timeout_at(deadline, confirm).await {
                    Err(_) => Err(timed_out("waiting for the broker's confirm")),
                    Ok(Ok(Confirmation::Ack(None))) => Ok(()),
                    Ok(Ok(Confirmation::Ack(Some(returned)))) => Err(BusError::Refused(format!(
                        "returned: {}",
                        returned.reply_text.as_str()
                    ))),
                    Ok(Ok(Confirmation::Nack(_))) => {
                        Err(BusError::Refused("nacked by the broker".into()))
                    }
                    Ok(Ok(Confirmation::NotRequested)) => {
                        Err(BusError::Refused("channel not in confirm mode".into()))
                    }
                    Ok(Err(error)) => Err(unavailable(error)),
                },
            });
        }
        results
    }
}

#[async_trait]
impl EventBus for AmqpBus {
    async fn publish(&self, envelopes: &[Envelope]) -> Vec<Result<(), BusError>> {
        let results = self.publish_confirmed(envelopes).await;
        let part = Part::publisher();
        if results
            .iter()
            .any(|r| matches!(r, Err(BusError::Unavailable(_))))
        {
            self.health.mark_down(&part);
            // Never reuse a channel that failed or timed out.
            *self.publisher.lock().await = None;
        } else {
            self.health.mark_up(&part);
        }
        results
    }

    async fn subscribe(
        &self,
        subscription: Subscription,
        handler: Arc<dyn EventHandler>,
        shutdown: Shutdown,
    ) -> Result<JoinHandle<()>, BusError> {
        let part = Part::consumer(&subscription.consumer);
        // Not consuming until the first session starts.
        self.health.mark_down(&part);
        // Declare now, so that events published after subscribe returns are queued for us. If
        // the broker cannot be reached, the session declares the queue when it can.
        let declared = async {
            let exists = self.queue_exists(&subscription).await?;
            let channel = self.channel().await?;
            let declared = within(
                self.bound(),
                "declaring the queue",
                self.declare_queue(&channel, &subscription, exists),
            )
            .await;
            close_quietly(&channel).await;
            declared
        };
        if let Err(error) = declared.await {
            tracing::warn!(consumer = %subscription.consumer, %error, "could not declare the queue yet; will keep trying");
        }
        self.handle()
            .watch_dead_letters(subscription.consumer.clone(), shutdown.clone());
        let bus = self.handle();
        Ok(tokio::spawn(async move {
            let mut failures = 0;
            while !shutdown.is_triggered() {
                let started = tokio::time::Instant::now();
                match bus
                    .consume_session(&subscription, &handler, &shutdown)
                    .await
                {
                    Ok(()) => break,
                    Err(error) => {
                        bus.health.mark_down(&part);
                        // A session that ran a while was a success: start the backoff again.
                        if started.elapsed() > bus.bound() {
                            failures = 0;
                        }
                        failures += 1;
                        // Capped low: a connection attempt is cheap, and email should resume
                        // within a couple of seconds of the broker's return.
                        let delay = retry_delay(failures, Duration::from_secs(2));
                        tracing::warn!(consumer = %subscription.consumer, %error, ?delay, "consumer lost; reconnecting");
                        tokio::select! {
                            _ = shutdown.wait() => break,
                            _ = tokio::time::sleep(delay) => {}
                        }
                    }
                }
            }
        }))
    }

    fn health(&self) -> BusHealth {
        self.health.clone()
    }
}

/// Resolves once `channel` is no longer connected (checked twice a second).
async fn channel_lost(channel: &Channel) {
    loop {
        if !channel.status().connected() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// How many messages `queue` holds: a passive declare, which changes nothing and is refused (closing
/// the channel) when there is no such queue.
pub(super) async fn message_count(channel: &Channel, queue: &str) -> Result<u32, lapin::Error> {
    let declared = channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?;
    Ok(declared.message_count())
}

async fn close_quietly(channel: &Channel) {
    if channel.status().connected() {
        let _ =
            tokio::time::timeout(Duration::from_secs(1), channel.close(200, "done".into())).await;
    }
}

/// Runs `step` against the broker, giving up after `bound`.
async fn within<T>(
    bound: Duration,
    what: &'static str,
    step: impl Future<Output = Result<T, lapin::Error>>,
) -> Result<T, BusError> {
    match tokio::time::timeout(bound, step).await {
        Ok(result) => result.map_err(unavailable),
        Err(_) => Err(timed_out(what)),
    }
}

/// A channel closed by the broker with NOT_FOUND (a passive declare of a missing queue).
pub(super) fn not_found(error: &lapin::Error) -> bool {
    use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
    matches!(error.kind(), lapin::ErrorKind::ProtocolError(amqp)
        if matches!(amqp.kind(), AMQPErrorKind::Soft(AMQPSoftError::NOTFOUND)))
}

fn timed_out(what: &str) -> BusError {
    BusError::Unavailable(format!("{what} took longer than the recovery bound"))
}

async fn declare_exchanges(channel: &Channel, prefix: &str) -> Result<(), lapin::Error> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    let unrouted = format!("{prefix}.unrouted");
    channel
        .exchange_declare(
            unrouted.as_str().into(),
            ExchangeKind::Fanout,
            durable,
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_declare(
            unrouted.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..Default::default()
            },
            quorum_arguments(&[]),
        )
        .await?;
    channel
        .queue_bind(
            unrouted.as_str().into(),
            unrouted.as_str().into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let mut events_arguments = FieldTable::default();
    events_arguments.insert(
        "alternate-exchange".into(),
        AMQPValue::LongString(unrouted.as_str().into()),
    );
    channel
        .exchange_declare(
            format!("{prefix}.events").into(),
            ExchangeKind::Topic,
            durable,
            events_arguments,
        )
        .await?;
    channel
        .exchange_declare(
            format!("{prefix}.dead-letter").into(),
            ExchangeKind::Direct,
            durable,
            FieldTable::default(),
        )
        .await
}

fn quorum_arguments(extra: &[(&str, AMQPValue)]) -> FieldTable {
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    for (key, value) in extra {
        arguments.insert((*key).into(), value.clone());
    }
    arguments
}

fn properties(envelope: &Envelope) -> BasicProperties {
    let mut headers = BTreeMap::new();
    let mut put = |key: &str, value: &str| {
        headers.insert(ShortString::from(key), AMQPValue::LongString(value.into()));
    };
    put("occurred_at", &envelope.occurred_at.to_rfc3339());
    put("correlation_id", &envelope.correlation_id.to_string());
    if let Some(tenant) = &envelope.tenant {
        put("tenant", tenant);
    }
    if let Some(causation) = envelope.causation_id {
        put("causation_id", &causation.to_string());
    }
    if let Some(traceparent) = &envelope.traceparent {
        put("traceparent", traceparent);
    }
    BasicProperties::default()
        .with_message_id(envelope.id.to_string().into())
        .with_type(envelope.event_type.as_str().into())
        .with_app_id(envelope.source.as_str().into())
        .with_content_type("application/x-protobuf".into())
        .with_delivery_mode(2)
        .with_timestamp(u64::try_from(envelope.occurred_at.timestamp()).unwrap_or_default())
        .with_headers(FieldTable::from(headers))
}

fn header<'a>(headers: Option<&'a FieldTable>, key: &str) -> Option<&'a AMQPValue> {
    headers.and_then(|h| h.inner().get(key))
}

pub(super) fn header_text(headers: Option<&FieldTable>, key: &str) -> Option<String> {
    match header(headers, key)? {
        AMQPValue::LongString(value) => {
            Some(String::from_utf8_lossy(value.as_bytes()).into_owned())
        }
        AMQPValue::ShortString(value) => Some(value.as_str().to_owned()),
        _ => None,
    }
}

fn delivery_count(headers: Option<&FieldTable>) -> u32 {
    match header(headers, "x-delivery-count") {
        Some(AMQPValue::LongLongInt(n)) => u32::try_from(*n).unwrap_or(u32::MAX),
        Some(AMQPValue::LongInt(n)) => u32::try_from(*n).unwrap_or(u32::MAX),
        Some(AMQPValue::LongUInt(n)) => *n,
        _ => 0,
    }
}

fn envelope_of(delivery: &lapin::message::Delivery) -> Result<Envelope, EnvelopeError> {
    let properties = &delivery.properties;
    let headers = properties.headers().as_ref();
    let id = properties
        .message_id()
        .as_ref()
        .ok_or(EnvelopeError::Missing("message_id"))?
        .as_str()
        .parse::<Uuid>()
        .map_err(|_| EnvelopeError::Invalid("message_id"))?;
    let event_type = properties
        .kind()
        .as_ref()
        .ok_or(EnvelopeError::Missing("type"))?
        .as_str()
        .to_owned();
    let parse_uuid = |key: &'static str| -> Result<Option<Uuid>, EnvelopeError> {
        header_text(headers, key)
            .map(|v| v.parse().map_err(|_| EnvelopeError::Invalid(key)))
            .transpose()
    };
    let occurred_at = header_text(headers, "occurred_at")
        .ok_or(EnvelopeError::Missing("occurred_at"))?
        .parse::<DateTime<Utc>>()
        .map_err(|_| EnvelopeError::Invalid("occurred_at"))?;
    Ok(Envelope {
        id,
        event_type,
        source: properties
            .app_id()
            .as_ref()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        occurred_at,
        tenant: header_text(headers, "tenant"),
        correlation_id: parse_uuid("correlation_id")?.unwrap_or(id),
        causation_id: parse_uuid("causation_id")?,
        traceparent: header_text(headers, "traceparent"),
        payload: delivery.data.clone(),
    })
}

async fn handle_delivery(
    consumer: &str,
    handler: &dyn EventHandler,
    delivery: lapin::message::Delivery,
    settle_within: Duration,
    shutdown: Shutdown,
) {
    let envelope = match envelope_of(&delivery) {
        Ok(envelope) => envelope,
        Err(error) => {
            tracing::error!(consumer, %error, "malformed message: dead-lettering");
            crate::metrics::event(consumer, "malformed", Outcome::DeadLettered);
            let _ = tokio::time::timeout(
                settle_within,
                delivery.reject(BasicRejectOptions { requeue: false }),
            )
            .await;
            return;
        }
    };
    let span = tracing::info_span!(
        "receive",
        otel.name = %format!("{} receive", envelope.routing_key()),
        messaging.system = "rabbitmq",
        messaging.consumer.group.name = consumer,
        messaging.message.id = %envelope.id,
    );
    crate::telemetry::set_parent(&span, envelope.traceparent.as_deref());
    let waiting = super::handle_waiting_for_database(consumer, handler, &envelope, || {
        !shutdown.is_triggered() && delivery.acker.usable()
    });
    let Some(outcome) = waiting.instrument(span).await else {
        // Shutting down, or the channel went: the broker delivers it again.
        return;
    };
    let event_type = envelope.event_type.as_str();
    let settle = match outcome {
        Ok(()) => {
            crate::metrics::event(consumer, event_type, Outcome::Handled);
            delivery.ack(BasicAckOptions::default()).boxed()
        }
        Err(HandlerError::Poison(error)) => {
            tracing::error!(consumer, event_id = %envelope.id, error = %format!("{error:#}"), "poison event: dead-lettering");
            crate::metrics::event(consumer, event_type, Outcome::DeadLettered);
            delivery
                .reject(BasicRejectOptions { requeue: false })
                .boxed()
        }
        Err(HandlerError::Retry(error)) => {
            let count = delivery_count(delivery.properties.headers().as_ref());
            tracing::warn!(consumer, event_id = %envelope.id, deliveries = count + 1, error = %format!("{error:#}"), "handler failed; will be redelivered");
            // After the delivery limit the broker dead-letters it instead.
            crate::metrics::event(consumer, event_type, Outcome::Retried);
            // Back off before requeueing so a short outage does not burn the delivery limit.
            tokio::time::sleep(retry_delay(count, Duration::from_secs(5))).await;
            delivery
                .reject(BasicRejectOptions { requeue: true })
                .boxed()
        }
    };
    // Bounded: a settle on a channel that died never holds the handler's permit. Unsettled, the
    // delivery goes back to the queue with its channel; the inbox makes the second handling a no-op.
    match tokio::time::timeout(settle_within, settle).await {
        Ok(Ok(true)) => {}
        Ok(Ok(false)) => {
            tracing::warn!(consumer, event_id = %envelope.id, "channel gone before the delivery was settled; the broker redelivers it");
        }
        Ok(Err(error)) => {
            tracing::warn!(consumer, event_id = %envelope.id, %error, "could not settle delivery; the broker redelivers it");
        }
        Err(_) => {
            tracing::warn!(consumer, event_id = %envelope.id, "settling the delivery took longer than the recovery bound; the broker redelivers it");
        }
    }
}

fn unavailable(error: lapin::Error) -> BusError {
    BusError::Unavailable(error.to_string())
}

#[cfg(test)]
mod tests {
    use valued_proto::events::v1::BallotOpened;
    use valued_testkit::rabbitmq::Vhost;

    use super::*;

    struct Poison;

    #[async_trait]
    impl EventHandler for Poison {
        async fn handle(&self, _: &Envelope) -> Result<(), HandlerError> {
            Err(HandlerError::Poison(anyhow::anyhow!("cannot be handled")))
        }
    }

    #[tokio::test]
    async fn a_consumers_dead_letters_are_counted_and_left_where_they_are() {
        let vhost = Vhost::create().unwrap();
        let bus = AmqpBus::connect(&BusSettings {
            recovery_seconds: 5,
            ..BusSettings::amqp(&vhost.amqp_url(), "t")
        })
        .await
        .unwrap();
        let shutdown = Shutdown::new();
        bus.subscribe(
            Subscription::new("counted", &["ballot.#"]),
            Arc::new(Poison),
            shutdown.clone(),
        )
        .await
        .unwrap();
        assert_eq!(bus.dead_letter_count("counted").await.unwrap(), 0);

        let events: Vec<Envelope> = (0..2)
            .map(|_| Envelope::new("test", None, &BallotOpened::default()))
            .collect();
        assert!(bus.publish(&events).await.iter().all(Result::is_ok));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while bus.dead_letter_count("counted").await.unwrap() < 2 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "never dead-lettered"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Counting takes nothing from the queue: counted again, and as the broker's management
        // sees it (its statistics lag a few seconds).
        assert_eq!(bus.dead_letter_count("counted").await.unwrap(), 2);
        while vhost.message_count("t.counted.dlq").unwrap() != 2 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the broker lost them"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(
            bus.dead_letter_count("nobody").await.is_err(),
            "no queue, no count"
        );
        shutdown.trigger();
    }
}
