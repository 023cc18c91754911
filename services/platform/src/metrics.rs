//! Counters every service exports through OpenTelemetry (over OTLP when an endpoint is configured),
//! so that a poison event or a failing consumer shows on a dashboard, not only in a log.

use std::sync::LazyLock;

use opentelemetry::KeyValue;
use opentelemetry::metrics::Counter;

/// What became of an event a consumer received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Handled,
    /// The handler failed; the event is delivered again later.
    Retried,
    /// Poison, or out of deliveries: the event went to the dead-letter queue.
    DeadLettered,
    /// The database was out of reach: the event waits for it in place, its deliveries unused.
    Waited,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Handled => "handled",
            Self::Retried => "retried",
            Self::DeadLettered => "dead_lettered",
            Self::Waited => "waited",
        }
    }
}

// Created on first use, after `telemetry::init` has installed the meter provider.
static EVENTS: LazyLock<Counter<u64>> = LazyLock::new(|| {
    opentelemetry::global::meter("valued")
        .u64_counter("valued.events")
        .with_description("Events consumers received, by consumer, event type and outcome")
        .build()
});

pub fn event(consumer: &str, event_type: &str, outcome: Outcome) {
    EVENTS.add(
        1,
        &[
            KeyValue::new("consumer", consumer.to_owned()),
            KeyValue::new("event_type", event_type.to_owned()),
            KeyValue::new("outcome", outcome.as_str()),
        ],
    );
}
