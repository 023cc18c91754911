//! Tracing everywhere; OpenTelemetry traces and metrics over OTLP when an endpoint is configured; W3C
//! trace context carried in event envelopes (AMQP headers) and gRPC metadata.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::settings::{LogFormat, TelemetrySettings};

/// Flushes and shuts the exporters down when dropped (at the end of `main`).
#[must_use = "dropping the guard stops exporting telemetry"]
pub struct TelemetryGuard {
    tracer: Option<SdkTracerProvider>,
    meter: Option<SdkMeterProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(tracer) = self.tracer.take() {
            let _ = tracer.shutdown();
        }
        if let Some(meter) = self.meter.take() {
            let _ = meter.shutdown();
        }
    }
}

/// Installs the global subscriber (once per process; later calls only return an empty guard).
pub fn init(service_name: &str, settings: &TelemetrySettings) -> anyhow::Result<TelemetryGuard> {
    use anyhow::Context as _;
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter =
        EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(&settings.filter))?;
    let fmt = match settings.format {
        // Colours only for a person at a terminal: a file or a log collector gets plain text.
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer().json().boxed(),
    };
    let mut guard = TelemetryGuard {
        tracer: None,
        meter: None,
    };
    let otel_layer = if settings.otlp_endpoint.is_empty() {
        None
    } else {
        // One instance id per process: replicas of a service export apart (Prometheus's
        // `instance`), and a restarted process starts series of its own.
        let resource = Resource::builder()
            .with_service_name(service_name.to_owned())
            .with_attribute(opentelemetry::KeyValue::new(
                "service.instance.id",
                uuid::Uuid::new_v4().to_string(),
            ))
            .build();
        let spans = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(&settings.otlp_endpoint)
            .build()
            .context("building the OTLP span exporter")?;
        let tracer_provider = SdkTracerProvider::builder()
            .with_batch_exporter(spans)
            .with_resource(resource.clone())
            .build();
        let metrics = opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .with_endpoint(&settings.otlp_endpoint)
            .build()
            .context("building the OTLP metric exporter")?;
        let meter_provider = SdkMeterProvider::builder()
            .with_periodic_exporter(metrics)
            .with_resource(resource)
            .build();
        opentelemetry::global::set_meter_provider(meter_provider.clone());
        let tracer = tracer_provider.tracer(service_name.to_owned());
        guard.tracer = Some(tracer_provider);
        guard.meter = Some(meter_provider);
        Some(tracing_opentelemetry::layer().with_tracer(tracer))
    };
    // A second init in one process (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel_layer)
        .try_init();
    Ok(guard)
}

/// The W3C `traceparent` of the current span, when it is being traced.
pub fn current_traceparent() -> Option<String> {
    let context = tracing::Span::current().context();
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove("traceparent")
}

/// Makes `span` a child of the remote span named by `traceparent`.
pub fn set_parent(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(traceparent) = traceparent else {
        return;
    };
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let context = TraceContextPropagator::new().extract(&carrier);
    let _ = span.set_parent(context);
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TraceContextExt;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[test]
    fn trace_context_survives_the_trip_through_an_envelope_header() {
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            let publisher = tracing::info_span!("nomination.submitted.v1 publish");
            let traceparent = publisher
                .in_scope(current_traceparent)
                .expect("a traceparent inside a traced span");
            let publisher_trace = publisher.context().span().span_context().trace_id();
            assert!(traceparent.contains(&publisher_trace.to_string()));

            let consumer = tracing::info_span!("nomination.submitted.v1 receive");
            set_parent(&consumer, Some(&traceparent));
            assert_eq!(
                consumer.context().span().span_context().trace_id(),
                publisher_trace
            );
        });
    }

    #[test]
    fn no_trace_no_traceparent() {
        assert_eq!(current_traceparent(), None);
    }
}
