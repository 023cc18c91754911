//! The embedded bus: topic routing, at-least-once delivery, redelivery on handler error and a
//! dead-letter list after the delivery limit, all in memory. `publish` returns once every matching
//! consumer has finished with the event, so an outbox row is only marked published after its
//! effects committed: a crash before then republishes it on restart, as with RabbitMQ.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{
    BusError, BusHealth, EventBus, EventHandler, HandlerError, Subscription, TopicPattern,
    retry_delay,
};
use crate::envelope::Envelope;
use crate::metrics::{self, Outcome};
use crate::shutdown::Shutdown;

#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub consumer: String,
    pub envelope: Envelope,
    pub error: String,
}

struct Delivery {
    envelope: Envelope,
    done: oneshot::Sender<()>,
}

struct Route {
    patterns: Vec<TopicPattern>,
    queue: mpsc::UnboundedSender<Delivery>,
}

#[derive(Default)]
struct State {
    routes: RwLock<Vec<Route>>,
    dead_letters: Mutex<Vec<DeadLetter>>,
    unrouted: Mutex<Vec<Envelope>>,
}

#[derive(Clone)]
pub struct InProcessBus {
    state: Arc<State>,
    delivery_limit: u32,
}

impl InProcessBus {
    pub fn new(delivery_limit: u32) -> Self {
        Self {
            state: Arc::default(),
            delivery_limit: delivery_limit.max(1),
        }
    }

    /// Events that exhausted their deliveries or were poison.
    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        self.state
            .dead_letters
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }

    /// Events no consumer was bound to (kept, as RabbitMQ's alternate exchange keeps them).
    pub fn unrouted(&self) -> Vec<Envelope> {
        self.state
            .unrouted
            .lock()
            .map(|u| u.clone())
            .unwrap_or_default()
    }

    fn queues_for(&self, routing_key: &str) -> Vec<mpsc::UnboundedSender<Delivery>> {
        let Ok(routes) = self.state.routes.read() else {
            return Vec::new();
        };
        routes
            .iter()
            .filter(|route| !route.queue.is_closed())
            .filter(|route| route.patterns.iter().any(|p| p.matches(routing_key)))
            .map(|route| route.queue.clone())
            .collect()
    }

    async fn publish_one(&self, envelope: &Envelope) -> Result<(), BusError> {
        let queues = self.queues_for(envelope.routing_key());
        if queues.is_empty() {
            if let Ok(mut unrouted) = self.state.unrouted.lock() {
                unrouted.push(envelope.clone());
            }
            return Ok(());
        }
        let mut pending = Vec::with_capacity(queues.len());
        for queue in queues {
            let (done, finished) = oneshot::channel();
            queue
                .send(Delivery {
                    envelope: envelope.clone(),
                    done,
                })
                .map_err(|_| BusError::Unavailable("consumer stopped".into()))?;
            pending.push(finished);
        }
        for finished in pending {
            finished
                .await
                .map_err(|_| BusError::Unavailable("consumer stopped mid-delivery".into()))?;
        }
        Ok(())
    }
}

#[async_trait]
impl EventBus for InProcessBus {
    async fn publish(&self, envelopes: &[Envelope]) -> Vec<Result<(), BusError>> {
        futures::future::join_all(envelopes.iter().map(|e| self.publish_one(e))).await
    }

    async fn subscribe(
        &self,
        subscription: Subscription,
        handler: Arc<dyn EventHandler>,
        shutdown: Shutdown,
    ) -> Result<JoinHandle<()>, BusError> {
        let (queue, mut deliveries) = mpsc::unbounded_channel();
        let patterns = subscription
            .patterns
            .iter()
            .map(|p| TopicPattern::new(p))
            .collect();
        self.state
            .routes
            .write()
            .map_err(|_| BusError::Unavailable("routing table poisoned".into()))?
            .push(Route { patterns, queue });
        let bus = self.clone();
        Ok(tokio::spawn(async move {
            loop {
                let delivery = tokio::select! {
                    biased;
                    _ = shutdown.wait() => break,
                    delivery = deliveries.recv() => match delivery {
                        Some(delivery) => delivery,
                        None => break,
                    },
                };
                bus.deliver(
                    &subscription.consumer,
                    handler.as_ref(),
                    delivery,
                    &shutdown,
                )
                .await;
            }
            deliveries.close();
        }))
    }

    fn health(&self) -> BusHealth {
        // Nothing to lose: the bus is the process itself.
        BusHealth::default()
    }
}

impl InProcessBus {
    async fn deliver(
        &self,
        consumer: &str,
        handler: &dyn EventHandler,
        delivery: Delivery,
        shutdown: &Shutdown,
    ) {
        let envelope = delivery.envelope;
        let event_type = envelope.event_type.as_str();
        for attempt in 1..=self.delivery_limit {
            let waiting = super::handle_waiting_for_database(consumer, handler, &envelope, || {
                !shutdown.is_triggered()
            });
            let Some(outcome) = waiting.await else {
                // Shutting down: in-process deliveries end with the process.
                break;
            };
            let error = match outcome {
                Ok(()) => {
                    metrics::event(consumer, event_type, Outcome::Handled);
                    break;
                }
                Err(error) => error,
            };
            let exhausted =
                matches!(error, HandlerError::Poison(_)) || attempt == self.delivery_limit;
            tracing::warn!(consumer, event_id = %envelope.id, attempt, %error, "handler failed");
            let outcome = if exhausted {
                Outcome::DeadLettered
            } else {
                Outcome::Retried
            };
            metrics::event(consumer, event_type, outcome);
            if exhausted {
                if let Ok(mut dead) = self.state.dead_letters.lock() {
                    dead.push(DeadLetter {
                        consumer: consumer.to_owned(),
                        envelope: envelope.clone(),
                        error: error.to_string(),
                    });
                }
                break;
            }
            tokio::time::sleep(retry_delay(attempt, Duration::from_secs(2))).await;
        }
        let _ = delivery.done.send(());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use valued_proto::events::v1::{BallotOpened, NominationSubmitted};

    use super::*;

    struct Counting {
        calls: AtomicU32,
        fail_first: u32,
        poison: bool,
    }

    #[async_trait]
    impl EventHandler for Counting {
        async fn handle(&self, _: &Envelope) -> Result<(), HandlerError> {
            let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            if self.poison {
                return Err(HandlerError::Poison(anyhow::anyhow!("cannot decode")));
            }
            if call <= self.fail_first {
                return Err(HandlerError::Retry(anyhow::anyhow!("database down")));
            }
            Ok(())
        }
    }

    fn handler(fail_first: u32, poison: bool) -> Arc<Counting> {
        Arc::new(Counting {
            calls: AtomicU32::new(0),
            fail_first,
            poison,
        })
    }

    #[tokio::test]
    async fn routes_by_pattern_and_redelivers_after_errors() {
        let bus = InProcessBus::new(5);
        let shutdown = Shutdown::new();
        let nominations = handler(2, false);
        let votes = handler(0, false);
        bus.subscribe(
            Subscription::new("n", &["nomination.#"]),
            nominations.clone(),
            shutdown.clone(),
        )
        .await
        .unwrap();
        bus.subscribe(
            Subscription::new("v", &["ballot.*.v1"]),
            votes.clone(),
            shutdown.clone(),
        )
        .await
        .unwrap();

        let results = bus
            .publish(&[Envelope::new("test", None, &NominationSubmitted::default())])
            .await;
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(
            nominations.calls.load(Ordering::SeqCst),
            3,
            "two failures, then success"
        );
        assert_eq!(votes.calls.load(Ordering::SeqCst), 0);
        assert!(bus.dead_letters().is_empty());

        bus.publish(&[Envelope::new("test", None, &BallotOpened::default())])
            .await;
        assert_eq!(votes.calls.load(Ordering::SeqCst), 1);
    }

    /// A poison event shows in the `valued.events` counter as dead-lettered, not only in a log.
    #[tokio::test]
    async fn dead_letters_are_counted_in_the_metrics() {
        use opentelemetry_sdk::metrics::{InMemoryMetricExporter, SdkMeterProvider};
        let exporter = InMemoryMetricExporter::default();
        let provider = SdkMeterProvider::builder()
            .with_periodic_exporter(exporter.clone())
            .build();
        opentelemetry::global::set_meter_provider(provider.clone());

        let bus = InProcessBus::new(3);
        let shutdown = Shutdown::new();
        bus.subscribe(
            Subscription::new("poisoned", &["nomination.#"]),
            handler(0, true),
            shutdown.clone(),
        )
        .await
        .unwrap();
        bus.publish(&[Envelope::new("test", None, &NominationSubmitted::default())])
            .await;
        provider.force_flush().unwrap();
        let exported = format!("{:?}", exporter.get_finished_metrics().unwrap());
        assert!(exported.contains("valued.events"), "{exported}");
        assert!(exported.contains("dead_lettered"), "{exported}");
        assert!(exported.contains("poisoned"), "{exported}");
    }

    #[tokio::test]
    async fn dead_letters_poison_at_once_and_failures_at_the_limit() {
        let bus = InProcessBus::new(3);
        let poison = handler(0, true);
        let failing = handler(u32::MAX, false);
        let shutdown = Shutdown::new();
        bus.subscribe(
            Subscription::new("p", &["nomination.#"]),
            poison.clone(),
            shutdown.clone(),
        )
        .await
        .unwrap();
        bus.subscribe(
            Subscription::new("f", &["nomination.#"]),
            failing.clone(),
            shutdown.clone(),
        )
        .await
        .unwrap();
        bus.publish(&[Envelope::new("test", None, &NominationSubmitted::default())])
            .await;
        assert_eq!(poison.calls.load(Ordering::SeqCst), 1);
        assert_eq!(failing.calls.load(Ordering::SeqCst), 3);
        let mut consumers: Vec<_> = bus.dead_letters().into_iter().map(|d| d.consumer).collect();
        consumers.sort();
        assert_eq!(consumers, ["f", "p"]);
    }

    #[tokio::test]
    async fn keeps_unrouted_events() {
        let bus = InProcessBus::new(3);
        let envelope = Envelope::new("test", None, &BallotOpened::default());
        assert!(bus.publish(std::slice::from_ref(&envelope)).await[0].is_ok());
        assert_eq!(bus.unrouted(), vec![envelope]);
    }
}
