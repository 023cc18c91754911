//! An OTLP receiver the test controls: an OpenTelemetry collector's gRPC endpoint (traces and
//! metrics) on a free loopback port, which keeps every span and metric data point the processes
//! pointed at it export, so that a test can check what an operator's tracing and metrics backends
//! would get.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point;
use opentelemetry_proto::tonic::resource::v1::Resource;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::{Request, Response, Status};

/// One span, as the process that ended it exported it.
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    /// The exporting process's `service.name`.
    pub service: String,
    pub name: String,
    /// Hex, as in a `traceparent`.
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    pub attributes: BTreeMap<String, String>,
}

/// One data point of a metric: a sum's or a gauge's value, a histogram's count.
#[derive(Debug, Clone)]
pub struct ReceivedPoint {
    pub service: String,
    pub metric: String,
    pub attributes: BTreeMap<String, String>,
    pub value: f64,
}

#[derive(Default)]
struct Received {
    spans: Mutex<Vec<ReceivedSpan>>,
    points: Mutex<Vec<ReceivedPoint>>,
}

pub struct OtlpReceiver {
    port: u16,
    received: Arc<Received>,
    server: JoinHandle<()>,
}

impl OtlpReceiver {
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let received = Arc::new(Received::default());
        let router = tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(Collector(received.clone())))
            .add_service(MetricsServiceServer::new(Collector(received.clone())));
        let server = tokio::spawn(async move {
            let incoming = tonic::transport::server::TcpIncoming::from(listener);
            if let Err(error) = router.serve_with_incoming(incoming).await {
                tracing::error!(%error, "OTLP receiver stopped");
            }
        });
        Ok(Self {
            port,
            received,
            server,
        })
    }

    /// What `VALUED__TELEMETRY__OTLP_ENDPOINT` should say.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn spans(&self) -> Vec<ReceivedSpan> {
        lock(&self.received.spans).clone()
    }

    pub fn points(&self) -> Vec<ReceivedPoint> {
        lock(&self.received.points).clone()
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

struct Collector(Arc<Received>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let mut spans = lock(&self.0.spans);
        for resource in request.into_inner().resource_spans {
            let service = service_name(resource.resource.as_ref());
            for scope in resource.scope_spans {
                spans.extend(scope.spans.into_iter().map(|span| ReceivedSpan {
                    service: service.clone(),
                    name: span.name,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    attributes: attributes(&span.attributes),
                }));
            }
        }
        Ok(Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Collector {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        let mut points = lock(&self.0.points);
        for resource in request.into_inner().resource_metrics {
            let service = service_name(resource.resource.as_ref());
            for scope in resource.scope_metrics {
                for metric in scope.metrics {
                    let point = |attributes: &[KeyValue], value: f64| ReceivedPoint {
                        service: service.clone(),
                        metric: metric.name.clone(),
                        attributes: self::attributes(attributes),
                        value,
                    };
                    let number = |value: Option<number_data_point::Value>| match value {
                        Some(number_data_point::Value::AsDouble(v)) => v,
                        #[allow(clippy::cast_precision_loss)]
                        Some(number_data_point::Value::AsInt(v)) => v as f64,
                        None => 0.0,
                    };
                    match &metric.data {
                        Some(Data::Sum(sum)) => points.extend(
                            sum.data_points
                                .iter()
                                .map(|p| point(&p.attributes, number(p.value))),
                        ),
                        Some(Data::Gauge(gauge)) => points.extend(
                            gauge
                                .data_points
                                .iter()
                                .map(|p| point(&p.attributes, number(p.value))),
                        ),
                        #[allow(clippy::cast_precision_loss)]
                        Some(Data::Histogram(histogram)) => points.extend(
                            histogram
                                .data_points
                                .iter()
                                .map(|p| point(&p.attributes, p.count as f64)),
                        ),
                        _ => {}
                    }
                }
            }
        }
        Ok(Response::new(ExportMetricsServiceResponse::default()))
    }
}

fn service_name(resource: Option<&Resource>) -> String {
    resource
        .map(|r| attributes(&r.attributes))
        .and_then(|mut attributes| attributes.remove("service.name"))
        .unwrap_or_default()
}

fn attributes(attributes: &[KeyValue]) -> BTreeMap<String, String> {
    attributes
        .iter()
        .map(|kv| {
            let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(Value::StringValue(s)) => s.clone(),
                Some(Value::BoolValue(b)) => b.to_string(),
                Some(Value::IntValue(i)) => i.to_string(),
                Some(Value::DoubleValue(d)) => d.to_string(),
                Some(other) => format!("{other:?}"),
                None => String::new(),
            };
            (kv.key.clone(), value)
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
