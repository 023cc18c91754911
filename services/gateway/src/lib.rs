//! The web pages of Valued: server-rendered HTML in the NHS.UK frontend that works without
//! JavaScript, calling the services over gRPC. The gateway keeps nothing durable.

use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;
use tokio::net::TcpListener;
use valued_platform::Shutdown;

pub mod assets;
pub mod client_address;
pub mod clients;
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod overload;
pub mod retry;
pub mod routes;
pub mod session;
pub mod templates;

pub use error::{GatewayError, Result};

/// The one name of this service: crate, binary section, Deployment.
pub const NAME: &str = "gateway";

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub http: HttpSettings,
    /// Serve `/outbox`, the developer's view of every email sent (with personal details). On in the
    /// embedded default; deployments turn it off until admin sign-in exists.
    pub outbox: bool,
    /// Admin sign-in through OpenID Connect (`gateway.auth.issuer` empty: admin pages say sign-in
    /// is not configured).
    pub auth: session::AuthSettings,
    /// Where the notification service writes each email as an `.eml` file (the embedded default's
    /// file transport): `/outbox` then shows an email whole, its links working, where the
    /// notification API only gives bodies with their link tokens removed. Set by `valued up`.
    #[serde(skip)]
    pub mail_files: Option<std::path::PathBuf>,
    /// The privacy notice at `/privacy`, linked from every page and email.
    pub privacy: routes::privacy::PrivacySettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            http: HttpSettings::default(),
            outbox: true,
            auth: session::AuthSettings::default(),
            mail_files: None,
            privacy: routes::privacy::PrivacySettings::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct HttpSettings {
    pub host: String,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// How many proxies in front of the gateway (an ingress, a load balancer) append the client's
    /// address to `X-Forwarded-For`; 0 when clients connect directly. Rate limits count clients by
    /// this address.
    pub trusted_proxies: usize,
    /// How long a page may take before the gateway answers "there is a problem" instead: above
    /// the longest page (a 10 MB upload, an import's 3 s wait) and the retry budget, below an
    /// ingress's usual 60 s.
    pub request_timeout_seconds: u64,
    /// Requests handled at once; more are refused at once with a 503 page (`overload`).
    pub max_in_flight: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 0,
            trusted_proxies: 0,
            request_timeout_seconds: 30,
            max_in_flight: 512,
        }
    }
}

/// A service the gateway calls: where it listens (a gRPC URL like `http://127.0.0.1:50051`) and
/// the credential the gateway signs its calls to it with.
#[derive(Debug, Clone)]
pub struct Peer {
    pub url: String,
    pub credential: valued_platform::auth::service::Credential,
}

impl Peer {
    /// The service `name` at `url`, whose gRPC settings hold its service key.
    pub fn new(
        name: &str,
        url: String,
        grpc: &valued_platform::GrpcSettings,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            url,
            credential: grpc.credential(NAME, name)?,
        })
    }
}

/// The services the gateway calls.
#[derive(Debug, Clone)]
pub struct Peers {
    pub nomination: Peer,
    pub notification: Peer,
    /// For the admin page's subject access export only.
    pub voting: Peer,
    /// Surveys, the suggestion box and stories.
    pub survey_feedback: Peer,
}

pub struct Application {
    listener: TcpListener,
    port: u16,
    router: axum::Router,
    shutdown: Shutdown,
}

impl Application {
    /// Binds the listener and prepares the gRPC channels; they connect on first use, so the gateway
    /// can start before the services it calls.
    pub async fn build(
        settings: &Settings,
        peers: Peers,
        shutdown: Shutdown,
    ) -> anyhow::Result<Self> {
        templates::check().context("gateway templates")?;
        let clients = clients::Clients::connect_lazy(&peers)?;
        let listener = TcpListener::bind((settings.http.host.as_str(), settings.http.port))
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {}:{}",
                    settings.http.host, settings.http.port
                )
            })?;
        let port = listener
            .local_addr()
            .context("gateway listener address")?
            .port();
        tracing::info!(port, "gateway listening");
        Ok(Self {
            listener,
            port,
            router: routes::router(
                clients,
                settings
                    .outbox
                    .then(|| routes::outbox::MailFiles(settings.mail_files.clone())),
                &settings.auth,
                settings.privacy.clone(),
            )
            .layer(axum::middleware::from_fn_with_state(
                client_address::TrustedProxies(settings.http.trusted_proxies),
                client_address::carry,
            ))
            .layer(axum::middleware::from_fn_with_state(
                overload::Bounds::new(
                    Duration::from_secs(settings.http.request_timeout_seconds),
                    settings.http.max_in_flight,
                ),
                overload::guard,
            ))
            .layer(axum::middleware::from_fn(routes::metered)),
            shutdown,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the shutdown is triggered, then lets requests in flight finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let shutdown = self.shutdown;
        let router = self
            .router
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(self.listener, router)
            .with_graceful_shutdown(async move { shutdown.wait().await })
            .await
            .context("gateway HTTP server")
    }
}
