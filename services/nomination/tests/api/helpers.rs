use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tonic::transport::Channel;
use valued_nomination::{Application, DEMO_CAMPAIGN_SLUG, Settings};
use valued_platform::bus::InProcessBus;
use valued_platform::{
    DatabaseSettings, Envelope, EventBus, EventHandler, HandlerError, Platform, RelaySettings,
    Shutdown, Subscription,
};
use valued_proto::nomination::v1::nomination_service_client::NominationServiceClient;
use valued_proto::nomination::v1::{Campaign, GetCampaignRequest, SubmitNominationRequest};

/// Records every event the service publishes.
#[derive(Default, Clone)]
pub struct Recorder(Arc<Mutex<Vec<Envelope>>>);

#[async_trait]
impl EventHandler for Recorder {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        self.0.lock().unwrap().push(envelope.clone());
        Ok(())
    }
}

impl Recorder {
    pub fn events(&self) -> Vec<Envelope> {
        self.0.lock().unwrap().clone()
    }

    pub async fn wait_for(&self, count: usize) -> Vec<Envelope> {
        for _ in 0..200 {
            if self.events().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.events()
    }
}

pub struct TestApp {
    pub client: NominationServiceClient<Channel>,
    pub events: Recorder,
    pub db: sea_orm::DatabaseConnection,
    pub campaign: Campaign,
    _shutdown: ShutdownOnDrop,
}

struct ShutdownOnDrop(Shutdown);

impl Drop for ShutdownOnDrop {
    fn drop(&mut self) {
        self.0.trigger();
    }
}

/// The nomination service on a fresh PostgreSQL database, port 0, an in-process bus.
pub async fn spawn_app() -> TestApp {
    valued_testkit::init_test_logging();
    let url = valued_testkit::postgres::fresh_database("nomination")
        .await
        .unwrap();
    let bus = Arc::new(InProcessBus::new(3));
    let events = Recorder::default();
    let shutdown = Shutdown::new();
    bus.subscribe(
        Subscription::new("recorder", &["#"]),
        Arc::new(events.clone()),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let platform = Platform {
        bus: bus as Arc<dyn EventBus>,
        shutdown: shutdown.clone(),
        data_dir: std::env::temp_dir(),
        relay: RelaySettings {
            poll_interval_ms: 20,
            ..RelaySettings::default()
        },
    };
    let settings = Settings {
        database: DatabaseSettings::postgres(url),
        seed_demo: true,
        ..Settings::default()
    };
    let app = Application::build(&settings, platform).await.unwrap();
    let port = app.port();
    let db = app.db().clone();
    tokio::spawn(app.run_until_stopped());
    let client = NominationServiceClient::connect(format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();
    let mut test = TestApp {
        client,
        events,
        db,
        campaign: Campaign::default(),
        _shutdown: ShutdownOnDrop(shutdown),
    };
    test.campaign = test
        .client
        .get_campaign(GetCampaignRequest {
            slug: DEMO_CAMPAIGN_SLUG.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .campaign
        .unwrap();
    test
}

impl TestApp {
    pub fn valid_request(&self) -> SubmitNominationRequest {
        SubmitNominationRequest {
            campaign_id: self.campaign.id.clone(),
            category_id: self.campaign.categories[0].id.clone(),
            trust_code: self.campaign.trusts[0].code.clone(),
            nominee_name: "Sam Patel".into(),
            nominee_job_title: "Porter".into(),
            staff_group: "estates-and-ancillary".into(),
            story: "Sam always stops to help lost visitors find their way.".into(),
            nominator_name: "Alex Jones".into(),
            nominator_email: "alex@example.org".into(),
            relationship: "colleague".into(),
        }
    }

    pub async fn nomination_count(&self) -> u64 {
        valued_nomination::db::queries::nomination_count(&self.db)
            .await
            .unwrap()
    }
}
