use std::sync::Arc;
use std::time::Duration;

use valued_notification::settings::{EmailSettings, SenderSettings, SmtpSettings, Transport};
use valued_notification::{Application, Settings};
use valued_platform::bus::InProcessBus;
use valued_platform::grpc::Credentialed;
use valued_platform::{DatabaseSettings, Envelope, EventBus, Platform, RelaySettings, Shutdown};
use valued_proto::events::Event;
use valued_proto::events::v1::{NominationConfirmationRequested, NominationSubmitted};
use valued_proto::notification::v1::notification_service_client::NotificationServiceClient;
use valued_proto::notification::v1::{Delivery, ListDeliveriesRequest};
use valued_testkit::smtp::{ReceivedEmail, SmtpSink};

pub struct TestApp {
    pub bus: Arc<InProcessBus>,
    /// The SMTP sink, shared with the [`TestApp::replica`]s.
    pub smtp: Arc<SmtpSink>,
    pub client: NotificationServiceClient<Credentialed>,
    /// Its gRPC settings, with the key calls are signed with.
    pub grpc: valued_platform::GrpcSettings,
    /// The bounce and complaint webhook's address (`http://127.0.0.1:<port>`), signed with
    /// [`WEBHOOK_SECRET`].
    pub webhook_url: String,
    /// The gRPC API's address (`http://127.0.0.1:<port>`).
    pub grpc_url: String,
    /// The service's own database.
    pub db: sea_orm::DatabaseConnection,
    database_url: String,
    shutdown: Shutdown,
}

/// The webhook's shared secret, in tests.
pub const WEBHOOK_SECRET: &str = "test-webhook-secret";

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

/// Where links in emails point, in tests.
pub const PUBLIC_URL: &str = "https://valued.example.org";

/// The notification service on a fresh PostgreSQL database and an in-process bus, sending to an
/// SMTP sink the test controls.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// As [`spawn_app`], with the settings changed by `configure` first.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    valued_testkit::init_test_logging();
    let smtp = Arc::new(SmtpSink::start().await.unwrap());
    let url = valued_testkit::postgres::fresh_database("notification")
        .await
        .unwrap();
    start(smtp, url, configure).await
}

impl TestApp {
    /// Another replica of the service beside this one: a process of its own (sender, consumers on
    /// a bus of its own, gRPC server) on the same database, sending to the same SMTP sink, with
    /// the settings changed by `configure`. Stops when dropped.
    pub async fn replica(&self, configure: impl FnOnce(&mut Settings)) -> TestApp {
        start(self.smtp.clone(), self.database_url.clone(), configure).await
    }
}

/// The service on the database at `url`, sending to `smtp`.
async fn start(smtp: Arc<SmtpSink>, url: String, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let bus = Arc::new(InProcessBus::new(3));
    let shutdown = Shutdown::new();
    let platform = Platform {
        bus: bus.clone() as Arc<dyn EventBus>,
        shutdown: shutdown.clone(),
        data_dir: std::env::temp_dir(),
        relay: RelaySettings::default(),
    };
    let mut settings = Settings {
        database: DatabaseSettings::postgres(url.clone()),
        email: EmailSettings {
            transport: Transport::Smtp,
            public_url: PUBLIC_URL.into(),
            ..EmailSettings::default()
        },
        smtp: SmtpSettings::local(smtp.port()),
        sender: SenderSettings {
            retry_base_ms: 100,
            poll_interval_ms: 50,
            ..SenderSettings::default()
        },
        ..Settings::default()
    };
    settings.webhook.secret = WEBHOOK_SECRET.into();
    settings.webhook.listen = "127.0.0.1:0".into();
    settings.grpc = valued_testkit::grpc::settings();
    // The tests read deliveries as the developer outbox does.
    settings.developer_outbox = true;
    configure(&mut settings);
    let app = Application::build(&settings, platform).await.unwrap();
    let port = app.port();
    let db = app.db().clone();
    let webhook_url = format!(
        "http://127.0.0.1:{}",
        app.webhook_port().unwrap_or_default()
    );
    tokio::spawn(app.run_until_stopped());
    let grpc_url = format!("http://127.0.0.1:{port}");
    let client = NotificationServiceClient::new(
        valued_testkit::grpc::connect(grpc_url.clone(), &settings.grpc, valued_notification::NAME)
            .await
            .unwrap(),
    );
    TestApp {
        bus,
        smtp,
        client,
        grpc: settings.grpc.clone(),
        webhook_url,
        grpc_url,
        db,
        database_url: url,
        shutdown,
    }
}

pub fn nomination_submitted(nominator_email: &str) -> Envelope {
    let event = NominationSubmitted {
        nomination_id: uuid::Uuid::now_v7().to_string(),
        campaign_name: "Health Heroes 2026".into(),
        trust_code: "RJ1".into(),
        trust_name: "Guy's and St Thomas' NHS Foundation Trust".into(),
        trust_admin_email: "awards@gstt.example.org".into(),
        category_name: "Porter of the year".into(),
        nominee_name: "Sam Patel".into(),
        nominee_job_title: "Porter".into(),
        nominator_name: "Alex Jones".into(),
        nominator_email: nominator_email.into(),
        story_excerpt: "Sam always helps.".into(),
        ..Default::default()
    };
    Envelope::new("nomination", Some("RJ1"), &event)
}

/// A transactional email (the nominator's confirmation link) to `to`.
pub fn confirmation_requested(to: &str) -> NominationConfirmationRequested {
    NominationConfirmationRequested {
        nomination_id: uuid::Uuid::now_v7().to_string(),
        campaign_name: "Health Heroes 2026".into(),
        nominator_name: "Alex Jones".into(),
        nominator_email: to.into(),
        nominee_name: "Sam Patel".into(),
        confirm_token: "c0ffee01".into(),
    }
}

/// `event` as the nomination service would publish it.
pub fn envelope(event: &impl Event) -> Envelope {
    Envelope::new("nomination", Some("RJ1"), event)
}

/// Whether `email` carries the link `url` in its plain text and as a link in its HTML (where the
/// templates' escaping writes `/` as `&#x2f;`).
pub fn has_link(email: &ReceivedEmail, url: &str) -> bool {
    let html = email.html_body().replace("&#x2f;", "/");
    email.text_body().contains(url) && html.contains(&format!("href=\"{url}\""))
}

impl TestApp {
    /// Publishes `envelope` and waits until `count` emails have arrived in all, and a little longer
    /// for any that should not.
    pub async fn publish_and_receive(
        &self,
        envelope: &Envelope,
        count: usize,
    ) -> Vec<ReceivedEmail> {
        self.publish(envelope).await;
        self.smtp.wait_for(count, Duration::from_secs(10)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.smtp.received()
    }

    pub async fn publish(&self, envelope: &Envelope) {
        let results = self.bus.publish(std::slice::from_ref(envelope)).await;
        assert!(results.iter().all(Result::is_ok));
    }

    pub async fn deliveries(&self) -> Vec<Delivery> {
        let request = ListDeliveriesRequest {
            limit: 100,
            recipient: String::new(),
        };
        self.client
            .clone()
            .list_deliveries(request)
            .await
            .unwrap()
            .into_inner()
            .deliveries
    }

    /// Waits until every delivery has left `pending`/`sending`.
    pub async fn settled(&self) -> Vec<Delivery> {
        for _ in 0..200 {
            let deliveries = self.deliveries().await;
            if !deliveries.is_empty()
                && deliveries
                    .iter()
                    .all(|d| d.status != "pending" && d.status != "sending")
            {
                return deliveries;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.deliveries().await
    }
}
