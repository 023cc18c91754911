//! The metrics every service exports through OpenTelemetry (over OTLP when an endpoint is
//! configured; the collector serves them to Prometheus too), so that what an operator watches shows
//! on a dashboard, not only in a log: RED (rate, errors, duration) per RPC and per page route, what
//! consumers did with events, the broker, database pool saturation, the outbox's and the sender's
//! backlog, dead-letter queue depth and SMTP outcomes.
//!
//! [`CATALOGUE`] lists every instrument once; the alerts and dashboards in
//! `k8s/components/monitoring` may use only the names Prometheus sees for them
//! ([`Instrument::prometheus_names`]), which `k8s/components/monitoring/metrics.txt` lists (a test
//! below keeps it in step, `deploy/validate-k8s.sh` checks every PromQL expression against it).
//!
//! Every attribute takes its values from a bounded set: RPC method names the server serves, route
//! templates (never raw paths), status codes and classes, consumer and pool names.
//!
//! Instruments are created on first use, after `telemetry::init` has installed the meter provider.

use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Gauge, Histogram, Meter, ObservableGauge};
use sea_orm::{DatabaseConnection, DbBackend};

/// What kind of instrument, which decides the names Prometheus gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Histogram,
    Gauge,
}

/// One instrument: its OpenTelemetry name, kind and unit (UCUM; a `{…}` annotation names what is
/// counted and does not reach Prometheus).
#[derive(Debug, Clone, Copy)]
pub struct Instrument {
    pub name: &'static str,
    pub kind: Kind,
    pub unit: &'static str,
    pub description: &'static str,
}

impl Instrument {
    /// The series names Prometheus sees once the collector's `prometheus` exporter has translated
    /// this instrument (its default translation, `UnderscoreEscapingWithSuffixes`): dots become
    /// underscores, the unit is appended (`s` → `_seconds`; annotations in braces are dropped), a
    /// counter ends in `_total`, a histogram is `_bucket`, `_sum` and `_count`.
    pub fn prometheus_names(&self) -> Vec<String> {
        let mut base = self.name.replace('.', "_");
        let unit = match self.unit {
            "s" => "seconds",
            _ => "",
        };
        if !unit.is_empty() && !base.ends_with(unit) {
            base = format!("{base}_{unit}");
        }
        match self.kind {
            Kind::Counter => vec![format!("{base}_total")],
            Kind::Gauge => vec![base],
            Kind::Histogram => ["bucket", "sum", "count"]
                .iter()
                .map(|suffix| format!("{base}_{suffix}"))
                .collect(),
        }
    }

    fn counter(&self) -> Counter<u64> {
        meter()
            .u64_counter(self.name)
            .with_unit(self.unit)
            .with_description(self.description)
            .build()
    }

    /// A duration histogram in seconds, its buckets from 1 ms to 30 s.
    fn histogram(&self) -> Histogram<f64> {
        meter()
            .f64_histogram(self.name)
            .with_unit(self.unit)
            .with_description(self.description)
            .with_boundaries(SECONDS_BUCKETS.to_vec())
            .build()
    }

    pub(crate) fn gauge(&self) -> Gauge<u64> {
        meter()
            .u64_gauge(self.name)
            .with_unit(self.unit)
            .with_description(self.description)
            .build()
    }

    fn seconds_gauge(&self) -> Gauge<f64> {
        meter()
            .f64_gauge(self.name)
            .with_unit(self.unit)
            .with_description(self.description)
            .build()
    }
}

fn meter() -> Meter {
    opentelemetry::global::meter("valued")
}

/// The SDK's default buckets are for milliseconds; these are for seconds.
const SECONDS_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

pub const EVENTS: Instrument = Instrument {
    name: "valued.events",
    kind: Kind::Counter,
    unit: "{event}",
    description: "Events consumers received, by consumer, event type and outcome",
};
pub const BUS_DOWN_SINCE: Instrument = Instrument {
    name: "valued.bus.down_since",
    kind: Kind::Gauge,
    unit: "s",
    description: "When a consumer or the publisher lost the broker (Unix seconds); 0 while it works",
};
pub const RPC_REQUESTS: Instrument = Instrument {
    name: "valued.rpc.server.requests",
    kind: Kind::Counter,
    unit: "{request}",
    description: "gRPC calls served, by method and gRPC status code",
};
pub const RPC_DURATION: Instrument = Instrument {
    name: "valued.rpc.server.duration",
    kind: Kind::Histogram,
    unit: "s",
    description: "How long gRPC calls took, to the end of the response, by method and status code",
};
pub const RPC_SHED: Instrument = Instrument {
    name: "valued.rpc.server.shed",
    kind: Kind::Counter,
    unit: "{request}",
    description: "gRPC calls refused at once because the server had its most calls in flight, by method",
};
pub const HTTP_REQUESTS: Instrument = Instrument {
    name: "valued.http.server.requests",
    kind: Kind::Counter,
    unit: "{request}",
    description: "Web requests served, by route template, method and status class",
};
pub const HTTP_DURATION: Instrument = Instrument {
    name: "valued.http.server.duration",
    kind: Kind::Histogram,
    unit: "s",
    description: "How long web requests took to their response headers, by route, method and status class",
};
pub const OUTBOX_OLDEST_AGE: Instrument = Instrument {
    name: "valued.outbox.oldest_age",
    kind: Kind::Gauge,
    unit: "s",
    description: "Age of the oldest unpublished outbox row when the relay last looked (0: none)",
};
pub const DB_POOL_CONNECTIONS: Instrument = Instrument {
    name: "valued.db.pool.connections",
    kind: Kind::Gauge,
    unit: "{connection}",
    description: "Open database connections of a pool, by state (idle, in_use)",
};
pub const DB_POOL_MAX: Instrument = Instrument {
    name: "valued.db.pool.max_connections",
    kind: Kind::Gauge,
    unit: "{connection}",
    description: "The most connections a database pool opens",
};
pub const DLQ_MESSAGES: Instrument = Instrument {
    name: "valued.bus.dlq.messages",
    kind: Kind::Gauge,
    unit: "{message}",
    description: "Messages in a consumer's dead-letter queue (RabbitMQ only)",
};
pub const DUE_OLDEST_AGE: Instrument = Instrument {
    name: "valued.notification.due.oldest_age",
    kind: Kind::Gauge,
    unit: "s",
    description: "How long the longest-waiting due email has been due and unsent (0: none)",
};
pub const EMAILS: Instrument = Instrument {
    name: "valued.notification.emails",
    kind: Kind::Counter,
    unit: "{email}",
    description: "Emails the sender dealt with, by outcome and template",
};

/// Every instrument the services export.
pub const CATALOGUE: [Instrument; 13] = [
    EVENTS,
    BUS_DOWN_SINCE,
    RPC_REQUESTS,
    RPC_DURATION,
    RPC_SHED,
    HTTP_REQUESTS,
    HTTP_DURATION,
    OUTBOX_OLDEST_AGE,
    DB_POOL_CONNECTIONS,
    DB_POOL_MAX,
    DLQ_MESSAGES,
    DUE_OLDEST_AGE,
    EMAILS,
];

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

static EVENTS_COUNTER: LazyLock<Counter<u64>> = LazyLock::new(|| EVENTS.counter());

pub fn event(consumer: &str, event_type: &str, outcome: Outcome) {
    EVENTS_COUNTER.add(
        1,
        &[
            KeyValue::new("consumer", consumer.to_owned()),
            KeyValue::new("event_type", event_type.to_owned()),
            KeyValue::new("outcome", outcome.as_str()),
        ],
    );
}

static RPC_COUNTER: LazyLock<Counter<u64>> = LazyLock::new(|| RPC_REQUESTS.counter());
static RPC_HISTOGRAM: LazyLock<Histogram<f64>> = LazyLock::new(|| RPC_DURATION.histogram());

/// One gRPC call served: `method` is `package.Service/Method` (or `unknown`), `code` its
/// `grpc-status` (semantic conventions' `rpc.grpc.status_code`, a number).
pub fn rpc(method: &str, code: tonic::Code, elapsed: Duration) {
    let attributes = [
        KeyValue::new("rpc.method", method.to_owned()),
        KeyValue::new("rpc.grpc.status_code", i64::from(code as i32)),
    ];
    RPC_COUNTER.add(1, &attributes);
    RPC_HISTOGRAM.record(elapsed.as_secs_f64(), &attributes);
}

static SHED_COUNTER: LazyLock<Counter<u64>> = LazyLock::new(|| RPC_SHED.counter());

/// One gRPC call shed past the server's bound (`grpc::Bounds::max_in_flight`); it is also counted
/// by [`rpc`] with the RESOURCE_EXHAUSTED it was answered.
pub fn rpc_shed(method: &str) {
    SHED_COUNTER.add(1, &[KeyValue::new("rpc.method", method.to_owned())]);
}

static HTTP_COUNTER: LazyLock<Counter<u64>> = LazyLock::new(|| HTTP_REQUESTS.counter());
static HTTP_HISTOGRAM: LazyLock<Histogram<f64>> = LazyLock::new(|| HTTP_DURATION.histogram());

/// One web request answered: `route` is the route template that matched (`unmatched` when none
/// did), `method` one of the standard methods (`_OTHER` otherwise), `status` the HTTP status.
pub fn http(route: &str, method: &http::Method, status: http::StatusCode, elapsed: Duration) {
    let method = match *method {
        http::Method::GET => "GET",
        http::Method::POST => "POST",
        http::Method::HEAD => "HEAD",
        http::Method::PUT => "PUT",
        http::Method::DELETE => "DELETE",
        http::Method::PATCH => "PATCH",
        http::Method::OPTIONS => "OPTIONS",
        _ => "_OTHER",
    };
    let class = match status.as_u16() / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    };
    let attributes = [
        KeyValue::new("http.route", route.to_owned()),
        KeyValue::new("http.request.method", method),
        KeyValue::new("http.response.status_class", class),
    ];
    HTTP_COUNTER.add(1, &attributes);
    HTTP_HISTOGRAM.record(elapsed.as_secs_f64(), &attributes);
}

static OUTBOX_AGE_GAUGE: LazyLock<Gauge<f64>> = LazyLock::new(|| OUTBOX_OLDEST_AGE.seconds_gauge());

/// The relay of `service` saw its oldest unpublished row `age` old (zero: none).
pub fn outbox_oldest_age(service: &str, age: Duration) {
    OUTBOX_AGE_GAUGE.record(
        age.as_secs_f64(),
        &[KeyValue::new("service", service.to_owned())],
    );
}

static DLQ_GAUGE: LazyLock<Gauge<u64>> = LazyLock::new(|| DLQ_MESSAGES.gauge());

/// `consumer`'s dead-letter queue holds `messages`.
pub fn dlq_messages(consumer: &str, messages: u32) {
    DLQ_GAUGE.record(
        u64::from(messages),
        &[KeyValue::new("consumer", consumer.to_owned())],
    );
}

static DUE_AGE_GAUGE: LazyLock<Gauge<f64>> = LazyLock::new(|| DUE_OLDEST_AGE.seconds_gauge());

/// The longest-waiting due email has been due for `age` (zero: none is due).
pub fn due_oldest_age(age: Duration) {
    DUE_AGE_GAUGE.record(age.as_secs_f64(), &[]);
}

/// What became of one email the sender claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailOutcome {
    /// The SMTP server accepted it.
    Sent,
    /// A temporary failure or the server out of reach: it is tried again later.
    Deferred,
    /// Given up: a permanent failure, or out of attempts.
    Failed,
    /// A 5xx to RCPT TO, DATA or the message: a hard bounce; the address is now suppressed.
    Bounced,
    /// Not sent, by the policy's verdict (suppressed, unsubscribed, …).
    Skipped,
    /// Held back by the recipient's throttle, to go later in a summary.
    Throttled,
}

impl EmailOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Deferred => "deferred",
            Self::Failed => "failed",
            Self::Bounced => "bounced",
            Self::Skipped => "skipped",
            Self::Throttled => "throttled",
        }
    }
}

static EMAILS_COUNTER: LazyLock<Counter<u64>> = LazyLock::new(|| EMAILS.counter());

pub fn email(outcome: EmailOutcome, template: &str) {
    EMAILS_COUNTER.add(
        1,
        &[
            KeyValue::new("outcome", outcome.as_str()),
            KeyValue::new("template", template.to_owned()),
        ],
    );
}

/// The pools [`watch_pool`] was given, read at each export.
static POOLS: Mutex<Vec<(String, DatabaseConnection)>> = Mutex::new(Vec::new());

/// The observable gauges that read [`POOLS`]; kept so that their callbacks stay registered.
static POOL_GAUGES: LazyLock<[ObservableGauge<u64>; 2]> = LazyLock::new(|| {
    let connections = meter()
        .u64_observable_gauge(DB_POOL_CONNECTIONS.name)
        .with_unit(DB_POOL_CONNECTIONS.unit)
        .with_description(DB_POOL_CONNECTIONS.description)
        .with_callback(|observer| {
            for (pool, usage) in pool_usage() {
                let name = KeyValue::new("pool", pool);
                observer.observe(usage.idle, &[name.clone(), KeyValue::new("state", "idle")]);
                observer.observe(
                    usage.open - usage.idle,
                    &[name, KeyValue::new("state", "in_use")],
                );
            }
        })
        .build();
    let max = meter()
        .u64_observable_gauge(DB_POOL_MAX.name)
        .with_unit(DB_POOL_MAX.unit)
        .with_description(DB_POOL_MAX.description)
        .with_callback(|observer| {
            for (pool, usage) in pool_usage() {
                observer.observe(usage.max, &[KeyValue::new("pool", pool)]);
            }
        })
        .build();
    [connections, max]
});

/// Exports how many connections of `db`'s pool are open, idle and allowed, as `pool` (the service's
/// name, or `<service>.<purpose>` for a pool of its own).
pub fn watch_pool(pool: &str, db: &DatabaseConnection) {
    POOLS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((pool.to_owned(), db.clone()));
    LazyLock::force(&POOL_GAUGES);
}

struct PoolUsage {
    open: u64,
    idle: u64,
    max: u64,
}

fn pool_usage() -> Vec<(String, PoolUsage)> {
    fn usage<DB: sea_orm::sqlx::Database>(pool: &sea_orm::sqlx::Pool<DB>) -> PoolUsage {
        let open = u64::from(pool.size());
        PoolUsage {
            open,
            idle: u64::try_from(pool.num_idle()).unwrap_or(u64::MAX).min(open),
            max: u64::from(pool.options().get_max_connections()),
        }
    }
    POOLS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter_map(|(name, db)| {
            let usage = match db.get_database_backend() {
                DbBackend::Postgres => usage(db.get_postgres_connection_pool()),
                DbBackend::Sqlite => usage(db.get_sqlite_connection_pool()),
                _ => return None,
            };
            Some((name.clone(), usage))
        })
        .collect()
}

/// Reading what was recorded, in tests: each test runs in a process of its own (nextest), so it
/// can install its own global meter provider before the first instrument is made.
#[cfg(test)]
pub(crate) mod recorded {
    use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, SdkMeterProvider};

    use super::Instrument;

    /// Installs a meter provider that keeps what it exports in memory.
    pub fn install() -> (SdkMeterProvider, InMemoryMetricExporter) {
        let exporter = InMemoryMetricExporter::default();
        let provider = SdkMeterProvider::builder()
            .with_periodic_exporter(exporter.clone())
            .build();
        opentelemetry::global::set_meter_provider(provider.clone());
        (provider, exporter)
    }

    /// Every data point of `instrument` (a counter's sum, a histogram's count) with its attributes
    /// as `key=value` strings, sorted, after a flush.
    pub fn points(
        provider: &SdkMeterProvider,
        exporter: &InMemoryMetricExporter,
        instrument: &Instrument,
    ) -> Vec<(Vec<String>, u64)> {
        provider.force_flush().expect("flushed");
        let mut points = Vec::new();
        for resource in exporter.get_finished_metrics().expect("exported") {
            for scope in resource.scope_metrics() {
                for metric in scope.metrics().filter(|m| m.name() == instrument.name) {
                    let attributes =
                        |attributes: &mut dyn Iterator<Item = &opentelemetry::KeyValue>| {
                            let mut pairs: Vec<String> = attributes
                                .map(|kv| format!("{}={}", kv.key, kv.value))
                                .collect();
                            pairs.sort();
                            pairs
                        };
                    match metric.data() {
                        AggregatedMetrics::U64(MetricData::Sum(sum)) => {
                            for point in sum.data_points() {
                                points.push((attributes(&mut point.attributes()), point.value()));
                            }
                        }
                        AggregatedMetrics::F64(MetricData::Histogram(histogram)) => {
                            for point in histogram.data_points() {
                                points.push((attributes(&mut point.attributes()), point.count()));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The list the alerts and dashboards are checked against (`deploy/validate-k8s.sh`).
    const LISTED: &str = include_str!("../../../k8s/components/monitoring/metrics.txt");

    #[test]
    fn the_monitoring_list_names_every_series_prometheus_sees() {
        let listed: Vec<&str> = LISTED
            .lines()
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect();
        let exported: Vec<String> = CATALOGUE
            .iter()
            .flat_map(Instrument::prometheus_names)
            .collect();
        assert_eq!(
            listed, exported,
            "k8s/components/monitoring/metrics.txt is out of step with metrics::CATALOGUE"
        );
    }

    #[test]
    fn names_translate_as_the_collector_does() {
        assert_eq!(
            RPC_DURATION.prometheus_names(),
            [
                "valued_rpc_server_duration_seconds_bucket",
                "valued_rpc_server_duration_seconds_sum",
                "valued_rpc_server_duration_seconds_count"
            ]
        );
        assert_eq!(
            EMAILS.prometheus_names(),
            ["valued_notification_emails_total"]
        );
        assert_eq!(
            OUTBOX_OLDEST_AGE.prometheus_names(),
            ["valued_outbox_oldest_age_seconds"]
        );
        assert_eq!(DLQ_MESSAGES.prometheus_names(), ["valued_bus_dlq_messages"]);
    }

    #[test]
    fn every_unit_is_one_the_translation_knows() {
        for instrument in CATALOGUE {
            let unit = instrument.unit;
            assert!(
                unit == "s" || (unit.starts_with('{') && unit.ends_with('}')),
                "{}: unit {unit:?} (a dimensionless `1` would add `_ratio`)",
                instrument.name
            );
        }
    }
}
