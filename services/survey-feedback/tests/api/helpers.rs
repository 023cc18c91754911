//! `spawn_app()`: the survey-feedback service on port 0 with a fresh PostgreSQL database and an
//! in-process bus whose every event a recorder keeps, and a gRPC client talking to it.

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use valued_platform::auth::OidcSettings;
use valued_platform::grpc::Credentialed;
use valued_platform::{DatabaseSettings, Envelope};
use valued_proto::survey::v1 as pb;
use valued_proto::survey::v1::survey_service_client::SurveyServiceClient;
use valued_survey_feedback::{Application, Settings};
use valued_testkit::oidc::{self, OidcProvider};
use valued_testkit::platform::TestPlatform;

pub const ESTATES: &str = "estates-and-ancillary";
pub const ADMIN: &str = "administrative-and-clerical";
pub const CLINICAL: &str = "additional-clinical-services";
pub const OTHER: &str = "other";

/// Signed in through the test's OpenID Connect provider, a platform admin.
pub const PLATFORM_ADMIN: &str = "platform.admin@valued.example.org";

pub struct TestApp {
    pub client: SurveyServiceClient<Credentialed>,
    /// A platform admin's ID token (see [`TestApp::signed`]).
    pub admin_token: String,
    /// The provider admins sign in through.
    pub provider: OidcProvider,
    pub db: DatabaseConnection,
    /// Records every event the service publishes; dropping it stops the service.
    platform: TestPlatform,
}

/// The service with the default minimum group size (11).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Settings::default()).await
}

pub async fn spawn_app_with_minimum(minimum_group_size: u32) -> TestApp {
    spawn_app_with(Settings {
        minimum_group_size,
        ..Settings::default()
    })
    .await
}

/// The embedded default: a SQLite file in the app's data directory.
pub async fn spawn_embedded_app_with_minimum(minimum_group_size: u32) -> TestApp {
    spawn_app_on(Settings {
        minimum_group_size,
        ..Settings::default()
    })
    .await
}

async fn spawn_app_with(mut settings: Settings) -> TestApp {
    let url = valued_testkit::postgres::fresh_database("survey")
        .await
        .expect("a fresh database");
    settings.database = DatabaseSettings::postgres(url);
    spawn_app_on(settings).await
}

async fn spawn_app_on(mut settings: Settings) -> TestApp {
    settings.grpc = valued_testkit::grpc::settings();
    let provider = OidcProvider::start()
        .await
        .expect("an OpenID Connect provider");
    settings.auth = OidcSettings {
        issuer: provider.issuer.clone(),
        audience: oidc::CLIENT_ID.into(),
    };
    let platform = TestPlatform::start("survey")
        .await
        .expect("an in-process platform");
    let app = Application::build(&settings, platform.platform())
        .await
        .expect("the app builds");
    let port = app.port();
    let db = app.db().clone();
    tokio::spawn(app.run_until_stopped());
    let url = format!("http://127.0.0.1:{port}");
    let client = SurveyServiceClient::new(
        valued_testkit::grpc::connect(url, &settings.grpc, valued_survey_feedback::NAME)
            .await
            .unwrap(),
    );
    let admin_token =
        valued_testkit::roles::platform_admin(&platform, &db, &provider, PLATFORM_ADMIN)
            .await
            .expect("a platform admin");
    TestApp {
        client,
        admin_token,
        provider,
        db,
        platform,
    }
}

impl TestApp {
    /// `message` as the platform admin sends it.
    pub fn signed<T>(&self, message: T) -> tonic::Request<T> {
        valued_testkit::roles::signed(&self.admin_token, message)
    }

    pub async fn create_survey(&self) -> String {
        self.client
            .clone()
            .create_survey(self.signed(pb::CreateSurveyRequest {
                title: "Staff survey 2026".into(),
                question: "Do you feel valued at work?".into(),
            }))
            .await
            .expect("the survey is created")
            .into_inner()
            .survey_id
    }

    pub async fn respond(
        &self,
        survey_id: &str,
        staff_group: &str,
        score: u32,
    ) -> Result<pb::SubmitResponseResponse, tonic::Status> {
        self.client
            .clone()
            .submit_response(pb::SubmitResponseRequest {
                survey_id: survey_id.into(),
                staff_group: staff_group.into(),
                score,
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// Submits one response per score.
    pub async fn respond_all(&self, survey_id: &str, staff_group: &str, scores: &[u32]) {
        for &score in scores {
            self.respond(survey_id, staff_group, score)
                .await
                .expect("a response is recorded");
        }
    }

    pub async fn summary(&self, survey_id: &str) -> pb::GetSummaryResponse {
        self.client
            .clone()
            .get_summary(self.signed(pb::GetSummaryRequest {
                survey_id: survey_id.into(),
            }))
            .await
            .expect("a summary")
            .into_inner()
    }

    /// Every event published so far (by id: delivery is at-least-once), once the outbox relay has
    /// published all it holds.
    pub async fn published(&self) -> Vec<Envelope> {
        self.platform
            .published(&self.db)
            .await
            .expect("the outbox is drained")
    }

    /// The first column of every row `sql` returns, as text.
    pub async fn strings(&self, sql: &str) -> Vec<String> {
        self.db
            .query_all_raw(Statement::from_string(
                self.db.get_database_backend(),
                sql.to_owned(),
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index(0).unwrap())
            .collect()
    }
}

/// `(staff group, suppressed, responses, mean)` of every line of a summary, in order.
pub fn lines(summary: &pb::GetSummaryResponse) -> Vec<(&str, bool, u64, f64)> {
    summary
        .groups
        .iter()
        .map(|g| {
            (
                g.staff_group.as_str(),
                g.suppressed,
                g.responses,
                g.mean_score,
            )
        })
        .collect()
}

pub fn fields(status: &tonic::Status) -> Vec<String> {
    valued_platform::grpc::field_errors(status)
        .into_iter()
        .map(|e| e.field)
        .collect()
}
