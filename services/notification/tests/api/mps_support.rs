//! What the MP tests share: the notification service with its MP digest job in the test's hands,
//! the real House of Commons directory, and a local stand-in for the postcode service that speaks
//! postcodes.io's JSON. Real MP addresses only ever reach the test's own SMTP sink.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use valued_testkit::oidc::OidcProvider;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::DatabaseConnection;
use valued_notification::mps::{self, DigestJob, MpDigestSettings, PostcodesSettings};
use valued_notification::settings::{EmailSettings, SenderSettings, SmtpSettings, Transport};
use valued_notification::{Application, Settings};
use valued_platform::bus::InProcessBus;
use valued_platform::{DatabaseSettings, Envelope, EventBus, Platform, RelaySettings, Shutdown};
use valued_testkit::smtp::SmtpSink;

/// The House of Commons as published (650 constituencies, 2024 boundaries).
pub const MP_LOOKUP_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mp_lookup.csv");

/// A postcodes.io stand-in: `GET /postcodes/{postcode}` answers from a fixed table (postcode →
/// 2024 constituency code) or 404, counts the requests, and can be made slow.
pub struct FakePostcodes {
    pub base_url: String,
    state: Arc<FakeState>,
}

struct FakeState {
    answers: HashMap<String, String>,
    requests: AtomicUsize,
    delay_ms: AtomicU64,
}

impl FakePostcodes {
    pub async fn start(answers: &[(&str, &str)]) -> Self {
        let state = Arc::new(FakeState {
            answers: answers
                .iter()
                .map(|(postcode, code)| (compact(postcode), (*code).to_owned()))
                .collect(),
            requests: AtomicUsize::new(0),
            delay_ms: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/postcodes/{postcode}", get(answer))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base_url, state }
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// Every answer from now on takes this long.
    pub fn slow_down(&self, delay: Duration) {
        let millis = u64::try_from(delay.as_millis()).unwrap();
        self.state.delay_ms.store(millis, Ordering::SeqCst);
    }

    pub fn settings(&self) -> PostcodesSettings {
        PostcodesSettings {
            base_url: self.base_url.clone(),
            timeout_ms: 500,
        }
    }
}

fn compact(postcode: &str) -> String {
    postcode.replace(' ', "").to_uppercase()
}

async fn answer(
    State(state): State<Arc<FakeState>>,
    Path(postcode): Path<String>,
) -> impl IntoResponse {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let key = compact(&postcode);
    match state.answers.get(&key) {
        Some(code) => (
            StatusCode::OK,
            Json(serde_json::json!({
                "status": 200,
                "result": {
                    "postcode": format!("{} {}", &key[..key.len() - 3], &key[key.len() - 3..]),
                    "country": "England",
                    "parliamentary_constituency": "Somewhere",
                    "parliamentary_constituency_2024": "Somewhere",
                    "codes": {
                        "admin_district": "E09000022",
                        "parliamentary_constituency": code,
                        "parliamentary_constituency_2024": code,
                    },
                },
            })),
        ),
        None => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "status": 404, "error": "Postcode not found" })),
        ),
    }
}

/// A fresh notification database (its URL and a connection), migrated, with the real MP directory
/// imported.
pub async fn directory_database() -> (String, DatabaseConnection) {
    let (url, db) = fresh_database().await;
    import_file(&db, MP_LOOKUP_CSV).await.unwrap();
    (url, db)
}

/// A fresh, migrated notification database: its URL and a connection.
pub async fn fresh_database() -> (String, DatabaseConnection) {
    valued_testkit::init_test_logging();
    let url = valued_testkit::postgres::fresh_database("notification_mps")
        .await
        .unwrap();
    let settings = Settings {
        database: DatabaseSettings::postgres(url.clone()),
        ..Settings::default()
    };
    valued_notification::migrate(&settings, &std::env::temp_dir())
        .await
        .unwrap();
    let db = valued_platform::db::connect(
        &settings.database,
        &std::env::temp_dir(),
        valued_notification::NAME,
    )
    .await
    .unwrap();
    (url, db)
}

pub async fn import_file(
    db: &DatabaseConnection,
    path: &str,
) -> Result<mps::ImportSummary, mps::ImportError> {
    let file = std::fs::File::open(path).unwrap();
    mps::import(db, file, &indicatif::ProgressBar::hidden()).await
}

/// The platform admin the MP tests sign in as (the test provider names the account by it too).
pub const PLATFORM_ADMIN: &str = "platform.admin@valued.example.org";

/// The notification service with the MP directory imported, the postcode service faked, and the
/// digest job left to the test (its own loop would not run for an hour).
pub struct MpApp {
    /// The gRPC API's port.
    pub port: u16,
    /// Its gRPC settings, with the key calls are signed with.
    pub grpc: valued_platform::GrpcSettings,
    /// A platform admin's ID token (see [`MpApp::signed`]).
    pub admin_token: String,
    /// The provider admins sign in through, kept running (its issuer names their accounts).
    pub provider: OidcProvider,
    /// The "Email your MP" desk, whose weekly counts the test runs itself.
    pub letters: valued_notification::mps::write_to_mp::LetterDesk,
    pub bus: Arc<InProcessBus>,
    pub smtp: SmtpSink,
    pub db: DatabaseConnection,
    pub digest: DigestJob,
    /// The retention job, whose rounds the test runs itself.
    pub retention: valued_notification::retention::RetentionJob,
    pub postcodes: FakePostcodes,
    shutdown: Shutdown,
}

impl Drop for MpApp {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

pub async fn spawn_mp_app(postcodes: FakePostcodes) -> MpApp {
    spawn_mp_app_with(postcodes, |_| {}).await
}

/// As [`spawn_mp_app`], with the settings changed by `configure` first.
pub async fn spawn_mp_app_with(
    postcodes: FakePostcodes,
    configure: impl FnOnce(&mut Settings),
) -> MpApp {
    let smtp = SmtpSink::start().await.unwrap();
    let (url, db) = directory_database().await;
    let bus = Arc::new(InProcessBus::new(3));
    let shutdown = Shutdown::new();
    let platform = Platform {
        bus: bus.clone() as Arc<dyn EventBus>,
        shutdown: shutdown.clone(),
        data_dir: std::env::temp_dir(),
        relay: RelaySettings::default(),
    };
    let mut settings = Settings {
        database: DatabaseSettings::postgres(url),
        email: EmailSettings {
            transport: Transport::Smtp,
            public_url: crate::helpers::PUBLIC_URL.into(),
            ..EmailSettings::default()
        },
        smtp: SmtpSettings::local(smtp.port()),
        sender: SenderSettings {
            poll_interval_ms: 50,
            ..SenderSettings::default()
        },
        postcodes: postcodes.settings(),
        mp_digest: MpDigestSettings {
            period_hours: 168,
            check_seconds: 3_600,
        },
        ..Settings::default()
    };
    settings.grpc = valued_testkit::grpc::settings();
    let provider = OidcProvider::start().await.unwrap();
    settings.auth = valued_platform::auth::OidcSettings {
        issuer: provider.issuer.clone(),
        audience: valued_testkit::oidc::CLIENT_ID.into(),
        ..Default::default()
    };
    configure(&mut settings);
    let app = Application::build(&settings, platform).await.unwrap();
    let digest = app.mp_digest();
    let retention = app.retention();
    let letters = app.letters();
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    let admin = PLATFORM_ADMIN;
    let admin_token =
        valued_testkit::roles::announce_platform_admin(bus.as_ref(), &provider, admin)
            .await
            .unwrap();
    valued_testkit::roles::copied(&db, admin).await.unwrap();
    MpApp {
        admin_token,
        provider,
        port,
        grpc: settings.grpc.clone(),
        letters,
        bus,
        smtp,
        db,
        digest,
        retention,
        postcodes,
        shutdown,
    }
}

impl MpApp {
    /// `message` as a platform admin sends it.
    pub fn signed<T>(&self, message: T) -> tonic::Request<T> {
        valued_testkit::roles::signed(&self.admin_token, message)
    }

    /// A client of its gRPC API, signing calls as a Valued service.
    pub async fn client(
        &self,
    ) -> valued_proto::notification::v1::notification_service_client::NotificationServiceClient<
        valued_platform::grpc::Credentialed,
    > {
        let url = format!("http://127.0.0.1:{}", self.port);
        valued_proto::notification::v1::notification_service_client::NotificationServiceClient::new(
            valued_testkit::grpc::connect(url, &self.grpc, valued_notification::NAME)
                .await
                .unwrap(),
        )
    }

    pub async fn publish(&self, envelopes: &[Envelope]) {
        let results = self.bus.publish(envelopes).await;
        assert!(results.iter().all(Result::is_ok));
    }
}
