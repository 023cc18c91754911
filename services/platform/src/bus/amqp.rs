//! The RabbitMQ bus (lapin, automatic recovery).
//!
//! Topology, all durable and prefixed by `bus.prefix`:
//! - `<prefix>.events`: the topic exchange every event is published to. Its alternate exchange
//!   `<prefix>.unrouted` (fanout → queue `<prefix>.unrouted`) keeps events no consumer is bound to,
//!   so `mandatory` publishing never loses them and still catches a missing exchange.
//! - per consumer, quorum queue `<prefix>.<consumer>` with `x-delivery-limit`; past it (or when
//!   rejected as poison) a message is dead-lettered at-least-once through `<prefix>.dead-letter` to
//!   `<prefix>.<consumer>.dlq`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt;
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

use super::{BusError, EventBus, EventHandler, HandlerError, Subscription, retry_delay};
use crate::envelope::{Envelope, EnvelopeError};
use crate::metrics::Outcome;
use crate::settings::BusSettings;
use crate::shutdown::Shutdown;

pub struct AmqpBus {
    settings: BusSettings,
    connection: Arc<Mutex<Option<Arc<Connection>>>>,
    publisher: Mutex<Option<Channel>>,
}

impl AmqpBus {
    pub async fn connect(settings: &BusSettings) -> Result<Self, BusError> {
        let bus = Self {
            settings: settings.clone(),
            connection: Arc::default(),
            publisher: Mutex::default(),
        };
        let channel = bus.channel().await?;
        declare_exchanges(&channel, &settings.prefix)
            .await
            .map_err(unavailable)?;
        Ok(bus)
    }

    pub fn exchange(&self) -> String {
        format!("{}.events", self.settings.prefix)
    }

    pub fn queue_name(&self, consumer: &str) -> String {
        format!("{}.{consumer}", self.settings.prefix)
    }

    /// The shared connection, reconnecting if automatic recovery gave up on the old one.
    async fn connection(&self) -> Result<Arc<Connection>, BusError> {
        let mut current = self.connection.lock().await;
        if let Some(connection) = current.as_ref() {
            let status = connection.status();
            if status.connected() || status.connecting() || status.reconnecting() {
                return Ok(connection.clone());
            }
        }
        let properties = ConnectionProperties::default()
            .enable_auto_recover()
            .with_connection_name(format!("valued-{}", std::process::id()).into());
        let connection = Arc::new(
            Connection::connect(self.settings.amqp_url(), properties)
                .await
                .map_err(unavailable)?,
        );
        *current = Some(connection.clone());
        Ok(connection)
    }

    async fn channel(&self) -> Result<Channel, BusError> {
        self.connection()
            .await?
            .create_channel()
            .await
            .map_err(unavailable)
    }

    /// The confirm-mode channel the relay publishes on, recreated when it is closed for good.
    async fn publishing_channel(&self) -> Result<Channel, BusError> {
        let mut publisher = self.publisher.lock().await;
        if let Some(channel) = publisher.as_ref() {
            let status = channel.status();
            if status.connected() || status.reconnecting() {
                return Ok(channel.clone());
            }
        }
        let channel = self.channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(unavailable)?;
        *publisher = Some(channel.clone());
        Ok(channel)
    }

    async fn declare_queue(
        &self,
        channel: &Channel,
        subscription: &Subscription,
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

        let arguments = quorum_arguments(&[
            (
                "x-delivery-limit",
                AMQPValue::LongInt(i32::try_from(self.settings.delivery_limit).unwrap_or(i32::MAX)),
            ),
            (
                "x-dead-letter-exchange",
                AMQPValue::LongString(format!("{prefix}.dead-letter").into()),
            ),
            (
                "x-dead-letter-routing-key",
                AMQPValue::LongString(queue.as_str().into()),
            ),
            (
                "x-dead-letter-strategy",
                AMQPValue::LongString("at-least-once".into()),
            ),
            ("x-overflow", AMQPValue::LongString("reject-publish".into())),
        ]);
        channel
            .queue_declare(queue.as_str().into(), durable, arguments)
            .await?;
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

    /// One consuming session: declare, consume until shutdown or a failure recovery cannot mend.
    async fn consume_session(
        &self,
        subscription: &Subscription,
        handler: &Arc<dyn EventHandler>,
        shutdown: &Shutdown,
    ) -> Result<(), BusError> {
        let channel = self.channel().await?;
        let prefetch = self.settings.prefetch.max(1);
        channel
            .basic_qos(prefetch, BasicQosOptions::default())
            .await
            .map_err(unavailable)?;
        let queue = self
            .declare_queue(&channel, subscription)
            .await
            .map_err(unavailable)?;
        let tag = format!("{}-{}", subscription.consumer, Uuid::now_v7());
        let mut consumer = channel
            .basic_consume(
                queue.as_str().into(),
                tag.as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(unavailable)?;
        tracing::info!(consumer = %subscription.consumer, %queue, "consuming");
        let in_flight = Arc::new(Semaphore::new(usize::from(prefetch)));
        loop {
            let next = tokio::select! {
                biased;
                _ = shutdown.wait() => break,
                next = consumer.next() => next,
            };
            match next {
                Some(Ok(delivery)) => {
                    let Ok(permit) = in_flight.clone().acquire_owned().await else {
                        break;
                    };
                    let handler = handler.clone();
                    let consumer_name = subscription.consumer.clone();
                    tokio::spawn(async move {
                        handle_delivery(&consumer_name, handler.as_ref(), delivery).await;
                        drop(permit);
                    });
                }
                Some(Err(error)) => {
                    tracing::warn!(consumer = %subscription.consumer, %error, "consumer interrupted; waiting for recovery");
                    channel
                        .wait_for_recovery(error)
                        .await
                        .map_err(unavailable)?;
                }
                None => {
                    return Err(BusError::Unavailable(
                        "consumer cancelled by the broker".into(),
                    ));
                }
            }
        }
        // Stop taking deliveries, then let the in-flight handlers finish and ack.
        let _ = channel
            .basic_cancel(tag.as_str().into(), BasicCancelOptions::default())
            .await;
        let _ = in_flight.acquire_many(u32::from(prefetch)).await;
        tracing::info!(consumer = %subscription.consumer, "consumer drained");
        Ok(())
    }
}

#[async_trait]
impl EventBus for AmqpBus {
    async fn publish(&self, envelopes: &[Envelope]) -> Vec<Result<(), BusError>> {
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
            let sent = channel
                .basic_publish(
                    exchange.as_str().into(),
                    envelope.routing_key().into(),
                    options,
                    &envelope.payload,
                    properties(envelope),
                )
                .instrument(span)
                .await;
            pending.push(sent);
        }
        let mut results = Vec::with_capacity(pending.len());
        for sent in pending {
            results.push(match sent {
                Err(error) => Err(unavailable(error)),
                Ok(confirm) => match confirm.await {
                    Ok(Confirmation::Ack(None)) => Ok(()),
                    Ok(Confirmation::Ack(Some(returned))) => Err(BusError::Refused(format!(
                        "returned: {}",
                        returned.reply_text.as_str()
                    ))),
                    Ok(Confirmation::Nack(_)) => {
                        Err(BusError::Refused("nacked by the broker".into()))
                    }
                    Ok(Confirmation::NotRequested) => {
                        Err(BusError::Refused("channel not in confirm mode".into()))
                    }
                    Err(error) => Err(unavailable(error)),
                },
            });
        }
        results
    }

    async fn subscribe(
        &self,
        subscription: Subscription,
        handler: Arc<dyn EventHandler>,
        shutdown: Shutdown,
    ) -> Result<JoinHandle<()>, BusError> {
        // Declare now, so that events published after subscribe returns are queued for us.
        let channel = self.channel().await?;
        self.declare_queue(&channel, &subscription)
            .await
            .map_err(unavailable)?;
        let _ = channel.close(200, "declared".into()).await;
        let bus = Self {
            settings: self.settings.clone(),
            connection: self.connection.clone(),
            publisher: Mutex::default(),
        };
        Ok(tokio::spawn(async move {
            let mut failures = 0;
            while !shutdown.is_triggered() {
                match bus
                    .consume_session(&subscription, &handler, &shutdown)
                    .await
                {
                    Ok(()) => break,
                    Err(error) => {
                        failures += 1;
                        let delay = retry_delay(failures, Duration::from_secs(5));
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

    fn is_healthy(&self) -> bool {
        self.connection
            .try_lock()
            .map(|c| c.as_ref().is_some_and(|c| c.status().connected()))
            // Someone is (re)connecting right now.
            .unwrap_or(false)
    }
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

fn header_text(headers: Option<&FieldTable>, key: &str) -> Option<String> {
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
) {
    let envelope = match envelope_of(&delivery) {
        Ok(envelope) => envelope,
        Err(error) => {
            tracing::error!(consumer, %error, "malformed message: dead-lettering");
            crate::metrics::event(consumer, "malformed", Outcome::DeadLettered);
            let _ = delivery.reject(BasicRejectOptions { requeue: false }).await;
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
    let outcome = handler.handle(&envelope).instrument(span).await;
    let event_type = envelope.event_type.as_str();
    let settled = match outcome {
        Ok(()) => {
            crate::metrics::event(consumer, event_type, Outcome::Handled);
            delivery.ack(BasicAckOptions::default()).await
        }
        Err(HandlerError::Poison(error)) => {
            tracing::error!(consumer, event_id = %envelope.id, error = %format!("{error:#}"), "poison event: dead-lettering");
            crate::metrics::event(consumer, event_type, Outcome::DeadLettered);
            delivery.reject(BasicRejectOptions { requeue: false }).await
        }
        Err(HandlerError::Retry(error)) => {
            let count = delivery_count(delivery.properties.headers().as_ref());
            tracing::warn!(consumer, event_id = %envelope.id, deliveries = count + 1, error = %format!("{error:#}"), "handler failed; will be redelivered");
            // After the delivery limit the broker dead-letters it instead.
            crate::metrics::event(consumer, event_type, Outcome::Retried);
            // Back off before requeueing so a short outage does not burn the delivery limit.
            tokio::time::sleep(retry_delay(count, Duration::from_secs(5))).await;
            delivery.reject(BasicRejectOptions { requeue: true }).await
        }
    };
    if let Err(error) = settled {
        // The broker redelivers it; the inbox makes the second handling a no-op.
        tracing::warn!(consumer, event_id = %envelope.id, %error, "could not settle delivery");
    }
}

fn unavailable(error: lapin::Error) -> BusError {
    BusError::Unavailable(error.to_string())
}
