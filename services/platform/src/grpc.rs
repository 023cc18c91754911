//! gRPC plumbing shared by every service: serving with health, trace context and (when configured)
//! reflection; readiness that follows the database and liveness that follows the broker;
//! field-level validation errors as `google.rpc.BadRequest`.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic::{Code, Status};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tonic_types::{ErrorDetails, StatusExt};

use crate::auth::service::{self, Credential, Gate};
use crate::bus::EventBus;
use crate::domain::FieldError;
use crate::settings::GrpcSettings;
use crate::shutdown::Shutdown;

pub async fn bind(settings: &GrpcSettings) -> std::io::Result<TcpListener> {
    TcpListener::bind((settings.host.as_str(), settings.port)).await
}

/// What one server takes: how long a call may run, how many calls it may have in flight across all
/// its connections (more are shed), and how long a connection lives (`GrpcSettings`).
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub request_timeout: Duration,
    pub max_in_flight: usize,
    pub max_connection_age: Option<Duration>,
}

impl Bounds {
    pub fn of(settings: &GrpcSettings) -> Self {
        Self {
            request_timeout: Duration::from_secs(settings.request_timeout_seconds.max(1)),
            max_in_flight: settings.max_in_flight.max(1),
            max_connection_age: (settings.max_connection_age_seconds > 0)
                .then(|| Duration::from_secs(settings.max_connection_age_seconds)),
        }
    }
}

/// Serves `routes` plus gRPC health (and reflection when `reflection` is set) until `shutdown`,
/// then lets in-flight calls finish. `names` are the fully qualified service names whose health
/// follows the database. Every call but health and reflection must carry a service credential that
/// `gate` accepts. Calls run within `bounds`.
#[allow(clippy::too_many_arguments)]
pub async fn serve(
    listener: TcpListener,
    routes: Routes,
    names: &'static [&'static str],
    readiness: Readiness,
    reflection: bool,
    gate: Gate,
    bounds: Bounds,
    shutdown: Shutdown,
) -> Result<(), tonic::transport::Error> {
    let (reporter, health) = tonic_health::server::health_reporter();
    let mut routes = routes.add_service(health);
    if reflection {
        match tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(valued_proto::FILE_DESCRIPTOR_SET)
            .build_v1()
        {
            Ok(reflection) => routes = routes.add_service(reflection),
            Err(error) => tracing::warn!(%error, "gRPC reflection unavailable"),
        }
    }
    let monitor = tokio::spawn(readiness.monitor(reporter, names, shutdown.clone()));
    let mut server = tonic::transport::Server::builder().timeout(bounds.request_timeout);
    if let Some(age) = bounds.max_connection_age {
        // No `max_connection_age_grace`: with one set, tonic 0.14 skips the graceful close at the
        // age and only cuts the connection, calls in flight and all, once the grace has passed
        // too (`connection_timeout_future`). Without it, the age sends GOAWAY and calls in flight
        // finish.
        server = server.max_connection_age(age);
    }
    let served = server
        .trace_fn(request_span)
        .layer(MeteredLayer)
        .layer(Admit(Shed(Arc::new(tokio::sync::Semaphore::new(
            bounds.max_in_flight,
        )))))
        .layer(Admit(Authenticate(Arc::new(gate))))
        .add_routes(routes)
        // Without TCP_NODELAY (which the builder's setting does not give an incoming stream of our
        // own) a response written in two segments waits ~40 ms for the client's delayed ACK.
        .serve_with_incoming_shutdown(
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown.wait(),
        )
        .await;
    monitor.abort();
    served
}

fn request_span(request: &http::Request<()>) -> tracing::Span {
    let span = tracing::info_span!(
        "grpc",
        otel.name = %request.uri().path().trim_start_matches('/'),
        rpc.system = "grpc",
        otel.kind = "server",
    );
    let traceparent = request
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok());
    crate::telemetry::set_parent(&span, traceparent);
    span
}

/// Records every call's method, `grpc-status` and duration ([`crate::metrics::rpc`]), calls the
/// gate refuses included. The status is read where it is: in the response headers for a
/// "trailers-only" answer (an error before any message, a refusal, an unknown method); otherwise in
/// the trailers that end the body, which the body is wrapped to see as they pass, so the duration
/// runs to the end of the response. A body that ends without trailers counts as UNKNOWN, and a
/// non-200 answer without `grpc-status` by gRPC's HTTP status mapping. A call dropped before its
/// status (the client went away, or tonic's request timeout, which wraps this layer, gave up on it)
/// counts as CANCELLED, with the time it ran. A path the server does not serve is recorded as
/// `unknown`, so a caller cannot mint new series. Calls shed past the server's bound ([`Shed`],
/// inside this one) are counted with the RESOURCE_EXHAUSTED they are answered.
#[derive(Clone, Copy)]
struct MeteredLayer;

impl<S> tower::Layer<S> for MeteredLayer {
    type Service = Metered<S>;

    fn layer(&self, inner: S) -> Metered<S> {
        Metered { inner }
    }
}

#[derive(Clone)]
struct Metered<S> {
    inner: S,
}

impl<S, B> tower::Service<http::Request<B>> for Metered<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let mut call = Call {
            method: served_method(request.uri().path()),
            started: std::time::Instant::now(),
            recorded: false,
        };
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            if let Some(status) = Status::from_header_map(response.headers()) {
                call.finish(status.code());
                return Ok(response);
            }
            if response.status() != http::StatusCode::OK {
                call.finish(code_of_http_status(response.status()));
                return Ok(response);
            }
            let (parts, body) = response.into_parts();
            let body = MeteredBody { inner: body, call };
            Ok(http::Response::from_parts(
                parts,
                tonic::body::Body::new(body),
            ))
        })
    }
}

/// A call being served, recorded once: when its status is known, or as CANCELLED when it is
/// dropped before (its caller went away, or the server's request timeout, a layer outside this
/// one, gave up on it; tonic answers that with CANCELLED too).
struct Call {
    method: &'static str,
    started: std::time::Instant,
    recorded: bool,
}

impl Call {
    fn finish(&mut self, code: Code) {
        if !std::mem::replace(&mut self.recorded, true) {
            crate::metrics::rpc(self.method, code, self.started.elapsed());
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.finish(Code::Cancelled);
    }
}

/// A response body that records its call when the trailers carrying `grpc-status` pass.
struct MeteredBody {
    inner: tonic::body::Body,
    call: Call,
}

impl http_body::Body for MeteredBody {
    type Data = <tonic::body::Body as http_body::Body>::Data;
    type Error = Status;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        let code = match &polled {
            std::task::Poll::Ready(Some(Ok(frame))) => frame.trailers_ref().map(|trailers| {
                Status::from_header_map(trailers).map_or(Code::Unknown, |s| s.code())
            }),
            std::task::Poll::Ready(Some(Err(status))) => Some(status.code()),
            std::task::Poll::Ready(None) => Some(Code::Unknown),
            std::task::Poll::Pending => None,
        };
        if let Some(code) = code {
            self.call.finish(code);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// gRPC's mapping of an HTTP status that came without `grpc-status`.
fn code_of_http_status(status: http::StatusCode) -> Code {
    match status.as_u16() {
        400 => Code::Internal,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::Unimplemented,
        429 | 502..=504 => Code::Unavailable,
        _ => Code::Unknown,
    }
}

/// `path` (`/package.Service/Method`) as a metric attribute: the method when a Valued service, health
/// or reflection serves it, otherwise `unknown`.
fn served_method(path: &str) -> &'static str {
    static SERVED: std::sync::LazyLock<std::collections::HashSet<String>> =
        std::sync::LazyLock::new(|| {
            use prost::Message as _;
            let mut served: std::collections::HashSet<String> = [
                "grpc.health.v1.Health/Check",
                "grpc.health.v1.Health/Watch",
                "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect();
            if let Ok(files) =
                prost_types::FileDescriptorSet::decode(valued_proto::FILE_DESCRIPTOR_SET)
            {
                for file in &files.file {
                    for service in &file.service {
                        for method in &service.method {
                            served.insert(format!(
                                "{}.{}/{}",
                                file.package(),
                                service.name(),
                                method.name()
                            ));
                        }
                    }
                }
            }
            served
        });
    SERVED
        .get(path.trim_start_matches('/'))
        .map_or("unknown", String::as_str)
}

/// Calls that answer without a service credential: health (for probes, which carry no metadata)
/// and reflection (served only when configured).
fn open_to_anyone(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.Health/") || path.starts_with("/grpc.reflection.")
}

/// What one of our layers decides about a call before it goes further in: let it through, holding
/// a guard until its response comes, or answer it at once with a status (boxed: the refused path
/// is the rare one).
trait Admission: Clone + Send + 'static {
    type Guard: Send + 'static;

    fn admit<B>(&self, request: &mut http::Request<B>) -> Result<Self::Guard, Box<Status>>;
}

/// The layer of an [`Admission`].
#[derive(Clone)]
struct Admit<A>(A);

impl<S, A: Clone> tower::Layer<S> for Admit<A> {
    type Service = Admitting<S, A>;

    fn layer(&self, inner: S) -> Admitting<S, A> {
        Admitting {
            inner,
            admission: self.0.clone(),
        }
    }
}

#[derive(Clone)]
struct Admitting<S, A> {
    inner: S,
    admission: A,
}

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<S, A, B> tower::Service<http::Request<B>> for Admitting<S, A>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    A: Admission,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        match self.admission.admit(&mut request) {
            Ok(guard) => {
                let response = self.inner.call(request);
                Box::pin(async move {
                    let response = response.await;
                    drop(guard);
                    response
                })
            }
            Err(status) => Box::pin(std::future::ready(Ok(status.into_http()))),
        }
    }
}

/// Bounds the calls a server has in flight, across all its connections, to the semaphore's permits:
/// a call past them is answered RESOURCE_EXHAUSTED at once, not queued, and counted
/// ([`crate::metrics::rpc_shed`]), so that a caller can go elsewhere or tell its user to try again
/// while the calls the server holds finish. Health is never shed: a probe that fails under load
/// would take a busy replica out of service, or restart it, when it most needs to finish its work.
#[derive(Clone)]
struct Shed(Arc<tokio::sync::Semaphore>);

impl Admission for Shed {
    type Guard = Option<tokio::sync::OwnedSemaphorePermit>;

    fn admit<B>(&self, request: &mut http::Request<B>) -> Result<Self::Guard, Box<Status>> {
        let path = request.uri().path();
        if path.starts_with("/grpc.health.v1.Health/") {
            return Ok(None);
        }
        match self.0.clone().try_acquire_owned() {
            Ok(permit) => Ok(Some(permit)),
            Err(_) => {
                crate::metrics::rpc_shed(served_method(path));
                let busy = Status::resource_exhausted("the service is busy: try again shortly");
                Err(Box::new(busy))
            }
        }
    }
}

/// Refuses, UNAUTHENTICATED, every call whose service credential the gate does not accept, and
/// tells the handlers which service is calling ([`Caller`] in the request's extensions).
#[derive(Clone)]
struct Authenticate(Arc<Gate>);

impl Admission for Authenticate {
    type Guard = ();

    fn admit<B>(&self, request: &mut http::Request<B>) -> Result<(), Box<Status>> {
        if open_to_anyone(request.uri().path()) {
            return Ok(());
        }
        let token = request
            .headers()
            .get(service::HEADER)
            .and_then(|v| v.to_str().ok());
        match self.0.verify(token) {
            Ok(caller) => {
                request.extensions_mut().insert(caller);
                Ok(())
            }
            Err(status) => {
                tracing::warn!(path = %request.uri().path(), reason = %status.message(), "call refused");
                Err(Box::new(status))
            }
        }
    }
}

/// A client interceptor that carries the caller's trace context to the server.
pub fn propagate_trace(mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
    if let Some(traceparent) = crate::telemetry::current_traceparent()
        && let Ok(value) = traceparent.parse()
    {
        request.metadata_mut().insert("traceparent", value);
    }
    Ok(request)
}

/// What every client of a Valued service adds to each call: the caller's trace context, a fresh
/// service credential for the callee and, within a public request, the client address it came from
/// (`limits::as_client`).
#[derive(Clone, Debug)]
pub struct Outgoing(pub Credential);

impl tonic::service::Interceptor for Outgoing {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        let mut request = propagate_trace(request)?;
        let token = self
            .0
            .token()
            .parse()
            .map_err(|_| Status::internal("unencodable service credential"))?;
        request.metadata_mut().insert(service::HEADER, token);
        if let Some(client) = crate::limits::current_client()
            && let Ok(value) = client.parse()
        {
            request
                .metadata_mut()
                .insert(crate::limits::CLIENT_HEADER, value);
        }
        Ok(request)
    }
}

/// A channel to a Valued service whose every call carries `Outgoing`.
pub type Credentialed =
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Outgoing>;

/// `channel` wrapped so that each call is signed with `credential`; use it with any generated client:
/// `VotingServiceClient::new(credentialed(channel, credential))`.
pub fn credentialed(channel: tonic::transport::Channel, credential: Credential) -> Credentialed {
    tonic::service::interceptor::InterceptedService::new(channel, Outgoing(credential))
}

/// The largest file a campaign's page takes as a resource (a poster or toolkit).
pub const CAMPAIGN_FILE_MAX_BYTES: usize = 10 * 1024 * 1024;

/// The largest message the nomination service decodes, and the gateway's client of it: a campaign
/// file with the rest of its message. tonic's default (4 MB) is below a campaign file; the
/// encoding side has no default limit.
pub const FILE_MESSAGE_MAX_BYTES: usize = CAMPAIGN_FILE_MAX_BYTES + 256 * 1024;

/// The health service name for the liveness probe: SERVING while the process can do its work or
/// is within the bound of getting it back; NOT_SERVING once a consumer or the publisher has been
/// without the broker for longer than `bus.stalled_seconds`, so that an orchestrator restarts it.
/// The empty name (readiness) follows what serving calls needs: the database.
pub const LIVENESS: &str = "liveness";

/// What health depends on: the service's database (readiness) and the bus (liveness).
#[derive(Clone)]
pub struct Readiness {
    pub db: Option<DatabaseConnection>,
    pub bus: Option<Arc<dyn EventBus>>,
}

impl Readiness {
    /// Whether the service can serve calls. A broker outage does not make it unready: events wait
    /// in the outbox, and taking every replica out of service would turn a broker blip into an
    /// outage of the site.
    pub async fn is_ready(&self) -> bool {
        match &self.db {
            Some(db) => matches!(
                tokio::time::timeout(Duration::from_secs(3), db.ping()).await,
                Ok(Ok(()))
            ),
            None => true,
        }
    }

    /// Whether the process is live: no part of its bus down for longer than the bound.
    pub fn is_live(&self) -> bool {
        self.bus
            .as_ref()
            .is_none_or(|bus| bus.health().stalled().is_empty())
    }

    async fn monitor(
        self,
        reporter: HealthReporter,
        names: &'static [&'static str],
        shutdown: Shutdown,
    ) {
        // Not ready until the database has answered: the health service starts out serving, and a
        // database still coming up can take the first check a while to fail.
        for name in names.iter().copied().chain([""]) {
            reporter
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
        let (mut ready, mut live) = (Some(ServingStatus::NotServing), None);
        let mut reported_down = tokio::time::Instant::now();
        loop {
            let ready_now = if !shutdown.is_triggered() && self.is_ready().await {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            if ready != Some(ready_now) {
                tracing::info!(status = ?ready_now, "readiness changed");
                for name in names.iter().copied().chain([""]) {
                    reporter.set_service_status(name, ready_now).await;
                }
                ready = Some(ready_now);
            }
            let live_now = if self.is_live() {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            if live != Some(live_now) {
                if live_now == ServingStatus::NotServing {
                    tracing::error!(
                        "without the broker for longer than the bound: reporting not live"
                    );
                }
                reporter.set_service_status(LIVENESS, live_now).await;
                live = Some(live_now);
            }
            // Which part is down and since when, every 10 s while it is.
            if let Some(bus) = &self.bus
                && reported_down.elapsed() >= Duration::from_secs(10)
            {
                for down in bus.health().down() {
                    tracing::warn!(
                        part = %down.part,
                        since = %chrono::DateTime::<chrono::Utc>::from(down.since).to_rfc3339(),
                        down_for = ?down.duration,
                        "without the broker"
                    );
                }
                reported_down = tokio::time::Instant::now();
            }
            tokio::select! {
                _ = shutdown.wait(), if !shutdown.is_triggered() => {}
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
        }
    }
}

/// INVALID_ARGUMENT naming every bad field, so that a form can show each message beside its field.
pub fn invalid_argument(errors: &[FieldError]) -> Status {
    let violations: Vec<tonic_types::FieldViolation> = errors
        .iter()
        .map(|e| tonic_types::FieldViolation::new(e.field.clone(), e.message.clone()))
        .collect();
    let summary = errors
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    Status::with_error_details(
        Code::InvalidArgument,
        summary,
        ErrorDetails::with_bad_request(violations),
    )
}

/// The field errors carried by an INVALID_ARGUMENT status (empty for any other status).
pub fn field_errors(status: &Status) -> Vec<FieldError> {
    if status.code() != Code::InvalidArgument {
        return Vec::new();
    }
    status
        .get_error_details()
        .bad_request()
        .map(|bad| {
            bad.field_violations
                .iter()
                .map(|v| FieldError {
                    field: v.field.clone(),
                    message: v.description.clone(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A database error as the caller should see it: UNAVAILABLE while the database cannot be reached
/// (worth retrying), INTERNAL otherwise, with the detail only in the logs.
pub fn database_error(error: &sea_orm::DbErr) -> Status {
    if crate::db::unreachable(error) {
        tracing::warn!(%error, "database unavailable");
        Status::unavailable("database unavailable")
    } else {
        internal(error)
    }
}

/// Logs an internal error and returns a status that reveals nothing of it.
pub fn internal(error: &dyn std::fmt::Display) -> Status {
    tracing::error!(%error, "internal error");
    Status::internal("internal error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_no_service_serves_is_one_method_unknown() {
        assert_eq!(
            served_method("/valued.nomination.v1.NominationService/GetCampaign"),
            "valued.nomination.v1.NominationService/GetCampaign"
        );
        assert_eq!(
            served_method("/grpc.health.v1.Health/Check"),
            "grpc.health.v1.Health/Check"
        );
        assert_eq!(
            served_method("/valued.nomination.v1.NominationService/x1"),
            "unknown"
        );
        assert_eq!(served_method("/anything/at-all"), "unknown");
    }

    #[test]
    fn a_call_dropped_before_its_status_counts_once_as_cancelled() {
        let (provider, exporter) = crate::metrics::recorded::install();
        let method = "valued.nomination.v1.NominationService/GetCampaign";
        let call = || Call {
            method,
            started: std::time::Instant::now(),
            recorded: false,
        };
        // Timed out or abandoned: dropped with no status.
        drop(call());
        // Answered: recorded with its status, and not again when dropped.
        let mut answered = call();
        answered.finish(Code::Ok);
        drop(answered);
        let mut points =
            crate::metrics::recorded::points(&provider, &exporter, &crate::metrics::RPC_REQUESTS);
        points.sort();
        let of = |code: Code| {
            (
                vec![
                    format!("rpc.grpc.status_code={}", code as i32),
                    format!("rpc.method={method}"),
                ],
                1,
            )
        };
        assert_eq!(points, [of(Code::Ok), of(Code::Cancelled)]);
    }

    #[tokio::test]
    async fn every_call_is_counted_by_method_and_status_refusals_included() {
        use valued_proto::nomination::v1::GetCampaignRequest;
        use valued_proto::nomination::v1::nomination_service_client::NominationServiceClient;

        let (provider, exporter) = crate::metrics::recorded::install();
        let settings = GrpcSettings {
            service_key: Some(crate::auth::service::random_key()),
            ..GrpcSettings::default()
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = Shutdown::new();
        let server = tokio::spawn(serve(
            listener,
            Routes::default(),
            &[],
            Readiness {
                db: None,
                bus: None,
            },
            false,
            settings.gate("nomination").unwrap(),
            Bounds::of(&settings),
            shutdown.clone(),
        ));
        let channel = tonic::transport::Channel::from_shared(url)
            .unwrap()
            .connect()
            .await
            .unwrap();
        // Health (open to anyone) answers OK once the monitor has reported readiness.
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
        let mut ok = false;
        for _ in 0..50 {
            let request = tonic_health::pb::HealthCheckRequest::default();
            if health.check(request).await.is_ok() {
                ok = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(ok, "health answered");
        // A Valued method without a credential: refused by the gate, before any handler.
        let refused = NominationServiceClient::new(channel.clone())
            .get_campaign(GetCampaignRequest::default())
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::Unauthenticated);
        // Signed, but this server has no nomination service: UNIMPLEMENTED.
        let credential = settings.credential("test", "nomination").unwrap();
        let missing = NominationServiceClient::new(credentialed(channel, credential))
            .get_campaign(GetCampaignRequest::default())
            .await
            .unwrap_err();
        assert_eq!(missing.code(), Code::Unimplemented);

        let requests =
            crate::metrics::recorded::points(&provider, &exporter, &crate::metrics::RPC_REQUESTS);
        let count = |method: &str, code: Code| {
            requests
                .iter()
                .find(|(attributes, _)| {
                    attributes
                        == &[
                            format!("rpc.grpc.status_code={}", code as i32),
                            format!("rpc.method={method}"),
                        ]
                })
                .map_or(0, |(_, n)| *n)
        };
        assert_eq!(count("grpc.health.v1.Health/Check", Code::Ok), 1);
        let get_campaign = "valued.nomination.v1.NominationService/GetCampaign";
        assert_eq!(count(get_campaign, Code::Unauthenticated), 1);
        assert_eq!(count(get_campaign, Code::Unimplemented), 1);
        let durations =
            crate::metrics::recorded::points(&provider, &exporter, &crate::metrics::RPC_DURATION);
        let timed: u64 = durations.iter().map(|(_, n)| n).sum();
        assert!(timed >= 3, "every call timed: {durations:?}");
        shutdown.trigger();
        server.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn calls_past_the_bound_are_shed_at_once_and_counted_but_health_never_is() {
        use tower::{Layer as _, Service as _};

        let (provider, exporter) = crate::metrics::recorded::install();
        // The handler holds each call until a permit to finish is released to it.
        let release = Arc::new(tokio::sync::Semaphore::new(0));
        let handler = {
            let release = release.clone();
            tower::service_fn(move |_: http::Request<()>| {
                let release = release.clone();
                async move {
                    release.acquire().await.unwrap().forget();
                    Ok::<_, std::convert::Infallible>(http::Response::new(
                        tonic::body::Body::empty(),
                    ))
                }
            })
        };
        let mut shed = Admit(Shed(Arc::new(tokio::sync::Semaphore::new(2)))).layer(handler);
        let mut call = |path: &str| shed.call(http::Request::builder().uri(path).body(()).unwrap());
        let answered = |response: http::Response<tonic::body::Body>| {
            Status::from_header_map(response.headers()).map(|status| status.code())
        };
        let get_campaign = "/valued.nomination.v1.NominationService/GetCampaign";
        let held = [call(get_campaign), call(get_campaign)];

        // Two in flight: a third is answered at once, RESOURCE_EXHAUSTED, its handler never run.
        let refused = tokio::time::timeout(Duration::from_secs(1), call(get_campaign))
            .await
            .expect("answered at once, not queued")
            .unwrap();
        assert_eq!(answered(refused), Some(Code::ResourceExhausted));
        // A probe still goes to its handler while the server is full.
        let probe = call("/grpc.health.v1.Health/Check");

        release.add_permits(3);
        for answer in futures::future::join_all(held.into_iter().chain([probe])).await {
            assert_eq!(answered(answer.unwrap()), None, "served");
        }
        // The permits are back: the next call is taken.
        let next = call(get_campaign);
        release.add_permits(1);
        assert_eq!(answered(next.await.unwrap()), None, "served");

        let shed =
            crate::metrics::recorded::points(&provider, &exporter, &crate::metrics::RPC_SHED);
        let method = get_campaign.trim_start_matches('/');
        assert_eq!(shed, [(vec![format!("rpc.method={method}")], 1)]);
    }

    #[test]
    fn field_errors_survive_the_status() {
        let errors = vec![
            FieldError::new("nominee_name", "Enter the nominee's name"),
            FieldError::new("story", "Story must be 300 words or fewer"),
        ];
        let status = invalid_argument(&errors);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(field_errors(&status), errors);
    }
}

#[cfg(test)]
mod readiness_tests {
    use std::sync::Arc;

    use super::*;
    use crate::bus::InProcessBus;
    use crate::settings::DatabaseSettings;

    #[tokio::test]
    async fn readiness_follows_the_database() {
        let dir = std::env::temp_dir().join(format!("valued-readiness-{}", uuid::Uuid::now_v7()));
        let db = crate::db::connect(&DatabaseSettings::default(), &dir, "readiness")
            .await
            .unwrap();
        let readiness = Readiness {
            db: Some(db.clone()),
            bus: Some(Arc::new(InProcessBus::new(1))),
        };
        assert!(readiness.is_ready().await);
        db.close_by_ref().await.unwrap();
        assert!(
            !readiness.is_ready().await,
            "not ready once the database is gone"
        );
    }
}
