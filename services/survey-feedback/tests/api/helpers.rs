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

/// Signed in through the test's OpenID Connect provider, a platform admin.
pub const PLATFORM_ADMIN: &str = "platform.admin@valued.example.org";

pub struct TestApp {
    pub client: SurveyServiceClient<Credentialed>,
    /// The gateway's credentialed channel to the service, for its other gRPC services.
    pub channel: Credentialed,
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

/// The embedded default: a SQLite file in the app's data directory.
pub async fn spawn_embedded_app_with_minimum(minimum_group_size: u32) -> TestApp {
    spawn_app_on(Settings {
        minimum_group_size,
        ..Settings::default()
    })
    .await
}

pub async fn spawn_app_with(mut settings: Settings) -> TestApp {
    let url = valued_testkit::postgres::fresh_database("survey")
        .await
        .expect("a fresh database");
    settings.database = DatabaseSettings::postgres(url);
    spawn_app_on(settings).await
}

async fn spawn_app_on(mut settings: Settings) -> TestApp {
    // Tests mix when they choose to (and every close mixes).
    settings.surveys.mix_seconds = 3_600;
    settings.grpc = valued_testkit::grpc::settings();
    let provider = OidcProvider::start()
        .await
        .expect("an OpenID Connect provider");
    settings.auth = OidcSettings {
        issuer: provider.issuer.clone(),
        audience: oidc::CLIENT_ID.into(),
        ..Default::default()
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
    let channel = valued_testkit::grpc::connect(url, &settings.grpc, valued_survey_feedback::NAME)
        .await
        .unwrap();
    let client = SurveyServiceClient::new(channel.clone());
    let admin_token =
        valued_testkit::roles::platform_admin(&platform, &db, &provider, PLATFORM_ADMIN)
            .await
            .expect("a platform admin");
    TestApp {
        client,
        channel,
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

    /// An ID token for `email` holding `role` over `scope` (e.g. `("trust_admin", "RR8")`).
    pub async fn admin_with(&self, email: &str, role: (&str, &str)) -> String {
        valued_testkit::roles::admin(&self.platform, &self.db, &self.provider, email, role)
            .await
            .expect("an admin")
    }

    /// A trust survey of RR8 started from the feeling-valued set, with staff group and band
    /// asked, closing tomorrow, published; returns it.
    pub async fn published_survey(&self, distribution: pb::Distribution) -> pb::Survey {
        let survey = self.draft_survey(pb::Scope::Trust, "RR8").await;
        self.client
            .clone()
            .update_survey(self.signed(pb::UpdateSurveyRequest {
                survey_id: survey.id.clone(),
                title: "Staff survey 2026".into(),
                introduction: "Tell us how it is.".into(),
                distribution: distribution as i32,
                closes_at: Some(prost_types::Timestamp {
                    seconds: (chrono::Utc::now() + chrono::Duration::days(1)).timestamp(),
                    nanos: 0,
                }),
                demographics: Some(pb::Demographics {
                    trusts: Vec::new(),
                    sites: Vec::new(),
                    ask_staff_group: true,
                    ask_band: true,
                }),
                anonymity: None,
            }))
            .await
            .expect("the survey is set up");
        self.client
            .clone()
            .publish_survey(self.signed(pb::PublishSurveyRequest {
                survey_id: survey.id.clone(),
            }))
            .await
            .expect("the survey is published")
            .into_inner()
            .survey
            .unwrap()
    }

    /// The ID token of `email`, once the service's copy holds their grant of `role` over `scope`.
    pub async fn token_for(&self, email: &str, role: &str, scope: &str) -> String {
        valued_testkit::roles::admin(
            &self.platform,
            &self.db,
            &self.provider,
            email,
            (role, scope),
        )
        .await
        .expect("an admin")
    }

    /// Delivers `envelopes` to the service as another service would publish them.
    pub async fn publish_as_peer(&self, envelopes: &[Envelope]) {
        self.platform
            .publish_as_peer(envelopes)
            .await
            .expect("the events are delivered");
    }

    pub async fn draft_survey(&self, scope: pb::Scope, code: &str) -> pb::Survey {
        self.client
            .clone()
            .create_survey(self.signed(pb::CreateSurveyRequest {
                scope: scope as i32,
                scope_code: code.into(),
                title: "Staff survey 2026".into(),
                starting_set: pb::StartingSet::FeelingValued as i32,
            }))
            .await
            .expect("the survey is created")
            .into_inner()
            .survey
            .unwrap()
    }

    /// A complete response to a feeling-valued survey: `point` on every agreement question.
    pub fn answers(
        survey: &pb::Survey,
        point: u32,
        staff_group: &str,
        band: &str,
    ) -> pb::SubmitResponseRequest {
        let answers = survey
            .sections
            .iter()
            .flat_map(|s| &s.questions)
            .filter(|q| q.kind == pb::QuestionKind::Agreement as i32)
            .map(|q| pb::Answer {
                question_id: q.id.clone(),
                value: Some(point),
                option_ids: Vec::new(),
                text: String::new(),
            })
            .collect();
        pb::SubmitResponseRequest {
            slug: survey.slug.clone(),
            invitation_code: String::new(),
            answers,
            trust_code: String::new(),
            site_code: String::new(),
            staff_group: staff_group.into(),
            band: band.into(),
        }
    }

    pub async fn submit(
        &self,
        request: pb::SubmitResponseRequest,
    ) -> Result<pb::SubmitResponseResponse, tonic::Status> {
        self.client
            .clone()
            .submit_response(request)
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn close(&self, survey_id: &str) -> pb::Survey {
        self.client
            .clone()
            .close_survey(self.signed(pb::CloseSurveyRequest {
                survey_id: survey_id.into(),
            }))
            .await
            .expect("the survey closes")
            .into_inner()
            .survey
            .unwrap()
    }

    pub async fn results(&self, survey_id: &str) -> Result<pb::GetResultsResponse, tonic::Status> {
        self.client
            .clone()
            .get_results(self.signed(pb::GetResultsRequest {
                survey_id: survey_id.into(),
            }))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn codes(&self, survey_id: &str, count: u32) -> Vec<String> {
        self.client
            .clone()
            .generate_invitation_codes(self.signed(pb::GenerateInvitationCodesRequest {
                survey_id: survey_id.into(),
                count,
            }))
            .await
            .expect("codes")
            .into_inner()
            .codes
            .into_iter()
            .map(|c| c.code)
            .collect()
    }

    /// Runs one round of the mixer now.
    pub async fn mix(&self) -> u64 {
        valued_survey_feedback::db::queries::mix_now(&self.db)
            .await
            .expect("the mixer runs")
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

pub fn fields(status: &tonic::Status) -> Vec<String> {
    valued_platform::grpc::field_errors(status)
        .into_iter()
        .map(|e| e.field)
        .collect()
}
