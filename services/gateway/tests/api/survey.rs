//! Answering a staff survey through the pages, in front of the real survey-feedback service
//! (PostgreSQL, in-process bus): the open link's page asks every question of the feeling-valued
//! set and the groups; a missing required answer is named and linked; an answer is thanked
//! without naming the survey; an invitation code answers once, typed however it was printed;
//! a closed survey says so.

use valued_platform::DatabaseSettings;
use valued_platform::auth::OidcSettings;
use valued_proto::survey::v1 as pb;
use valued_proto::survey::v1::survey_service_client::SurveyServiceClient;
use valued_testkit::oidc::{self, OidcProvider};
use valued_testkit::platform::TestPlatform;

use crate::fake::{FakeNomination, campaign};
use crate::helpers::{TestApp, spawn_app_with_survey};

const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

struct Surveys {
    app: TestApp,
    client: SurveyServiceClient<valued_platform::grpc::Credentialed>,
    admin_token: String,
    _platform: TestPlatform,
    _provider: OidcProvider,
}

async fn spawn() -> Surveys {
    let fake = FakeNomination::default();
    fake.state().campaign = campaign();
    let nomination = fake.serve().await;
    let platform = TestPlatform::start("survey").await.unwrap();
    let provider = OidcProvider::start().await.unwrap();
    let mut settings = valued_survey_feedback::Settings {
        database: DatabaseSettings::postgres(
            valued_testkit::postgres::fresh_database("gateway_survey")
                .await
                .unwrap(),
        ),
        grpc: valued_testkit::grpc::settings(),
        auth: OidcSettings {
            issuer: provider.issuer.clone(),
            audience: oidc::CLIENT_ID.into(),
            ..Default::default()
        },
        ..valued_survey_feedback::Settings::default()
    };
    settings.surveys.mix_seconds = 3_600;
    let service = valued_survey_feedback::Application::build(&settings, platform.platform())
        .await
        .unwrap();
    let url = format!("http://127.0.0.1:{}", service.port());
    let db = service.db().clone();
    tokio::spawn(service.run_until_stopped());
    let client = SurveyServiceClient::new(
        valued_testkit::grpc::connect(url.clone(), &settings.grpc, valued_survey_feedback::NAME)
            .await
            .unwrap(),
    );
    let admin_token =
        valued_testkit::roles::platform_admin(&platform, &db, &provider, "admin@example.org")
            .await
            .unwrap();
    let app = spawn_app_with_survey(nomination, url, &settings.grpc).await;
    Surveys {
        app,
        client,
        admin_token,
        _platform: platform,
        _provider: provider,
    }
}

impl Surveys {
    fn signed<T>(&self, message: T) -> tonic::Request<T> {
        valued_testkit::roles::signed(&self.admin_token, message)
    }

    /// A published trust survey of the feeling-valued set, asking the staff group.
    async fn published(&self, distribution: pb::Distribution) -> pb::Survey {
        let mut client = self.client.clone();
        let survey = client
            .create_survey(self.signed(pb::CreateSurveyRequest {
                scope: pb::Scope::Trust as i32,
                scope_code: "RJ1".into(),
                title: "Do you feel valued?".into(),
                starting_set: pb::StartingSet::FeelingValued as i32,
            }))
            .await
            .unwrap()
            .into_inner()
            .survey
            .unwrap();
        client
            .update_survey(self.signed(pb::UpdateSurveyRequest {
                survey_id: survey.id.clone(),
                title: "Do you feel valued?".into(),
                introduction: "Ten minutes, anonymous.".into(),
                distribution: distribution as i32,
                closes_at: Some(prost_types::Timestamp {
                    seconds: (chrono::Utc::now() + chrono::Duration::days(7)).timestamp(),
                    nanos: 0,
                }),
                demographics: Some(pb::Demographics {
                    ask_staff_group: true,
                    ..pb::Demographics::default()
                }),
                anonymity: None,
            }))
            .await
            .unwrap();
        client
            .publish_survey(self.signed(pb::PublishSurveyRequest {
                survey_id: survey.id.clone(),
            }))
            .await
            .unwrap()
            .into_inner()
            .survey
            .unwrap()
    }

    async fn page(&self, path: &str) -> (u16, String) {
        let response = self
            .app
            .client
            .get(format!("{}{path}", self.app.address))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn post(&self, path: &str, fields: &str) -> reqwest::Response {
        self.app
            .post_form(
                path,
                &format!("csrf_token={CSRF}&website=&{fields}"),
                Some(&format!("valued_csrf={CSRF}")),
            )
            .await
    }
}

/// Every agreement question answered `point`, as the form sends it.
fn agreeing(survey: &pb::Survey, point: u32) -> String {
    survey
        .sections
        .iter()
        .flat_map(|s| &s.questions)
        .filter(|q| q.kind == pb::QuestionKind::Agreement as i32)
        .map(|q| format!("q-{}={point}", q.id))
        .collect::<Vec<_>>()
        .join("&")
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn staff_answer_by_the_open_link_and_are_told_what_is_missing() {
    let surveys = spawn().await;
    let survey = surveys.published(pb::Distribution::OpenLink).await;
    let path = format!("/surveys/{}", survey.slug);

    let (status, page) = surveys.page(&path).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<h1>Do you feel valued?</h1>"), "{page}");
    assert!(page.contains("I feel valued by my organisation"), "{page}");
    assert!(page.contains("results are only shown for groups of 11 or more people"));
    assert!(page.contains("Which staff group are you in?"), "{page}");
    assert!(page.contains("Prefer not to say"));
    // The recommend question offers 0 to 10; the free-text one is optional.
    assert!(page.contains("10 (extremely likely)") && page.contains("0 (not at all likely)"));
    assert!(page.contains("What one thing would make you feel more valued at work? (optional)"));

    // Nothing answered: every required question is named, linked to its input, and nothing
    // typed is lost.
    let first = &survey.sections[0].questions[0];
    let response = surveys
        .post(&path, "staff_group=estates-and-ancillary")
        .await;
    assert_eq!(response.status().as_u16(), 400);
    let page = response.text().await.unwrap();
    assert!(page.contains("There is a problem"), "{page}");
    assert!(
        page.contains(&format!("href=\"#q-{}\"", first.id)),
        "{page}"
    );
    assert!(
        page.contains("value=\"estates-and-ancillary\" checked"),
        "{page}"
    );

    // Answered: thanked on a page that names no survey.
    let response = surveys
        .post(
            &path,
            &format!(
                "staff_group=prefer-not-to-say&{}&q-{}=More+thanks",
                agreeing(&survey, 4),
                survey.sections[0].questions.last().unwrap().id
            ),
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/surveys/thank-you");
    let (status, page) = surveys.page("/surveys/thank-you").await;
    assert_eq!(status, 200);
    assert!(page.contains("your answers have been sent"), "{page}");

    // Closed: the link says so.
    surveys
        .client
        .clone()
        .close_survey(surveys.signed(pb::CloseSurveyRequest {
            survey_id: survey.id.clone(),
        }))
        .await
        .unwrap();
    let (status, page) = surveys.page(&path).await;
    assert_eq!(status, 410, "{page}");
    assert!(page.contains("This survey has closed"), "{page}");
    let response = surveys.post(&path, &agreeing(&survey, 4)).await;
    assert_eq!(response.status().as_u16(), 410);
}

#[tokio::test]
async fn a_printed_code_answers_once_however_it_is_typed() {
    let surveys = spawn().await;
    let survey = surveys.published(pb::Distribution::Invitation).await;
    let codes = surveys
        .client
        .clone()
        .generate_invitation_codes(surveys.signed(pb::GenerateInvitationCodesRequest {
            survey_id: survey.id.clone(),
            count: 2,
        }))
        .await
        .unwrap()
        .into_inner()
        .codes;
    let code = &codes[0];

    // An invitation-only survey has no open link.
    let (status, _) = surveys.page(&format!("/surveys/{}", survey.slug)).await;
    assert_eq!(status, 404);

    // Typed in lower case with spaces, the code is read as printed.
    let (status, page) = surveys.page("/surveys/invitation").await;
    assert_eq!(status, 200);
    assert!(page.contains("Enter your invitation code"), "{page}");
    let response = surveys
        .post(
            "/surveys/invitation",
            &format!("code={}", code.code.to_lowercase().replace('-', "+")),
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), code.path);
    let response = surveys.post("/surveys/invitation", "code=").await;
    assert_eq!(response.status().as_u16(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Enter the code printed on your invitation")
    );

    let (status, page) = surveys.page(&code.path).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("I feel valued by my organisation"));
    let response = surveys
        .post(
            &code.path,
            &format!("staff_group=estates-and-ancillary&{}", agreeing(&survey, 5)),
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/surveys/thank-you");

    // Used: the same code opens nothing and sends nothing.
    let (status, page) = surveys.page(&code.path).await;
    assert_eq!(status, 404, "{page}");
    assert!(
        page.contains("This invitation code does not work"),
        "{page}"
    );
    let response = surveys
        .post(
            &code.path,
            &format!("staff_group=estates-and-ancillary&{}", agreeing(&survey, 1)),
        )
        .await;
    assert!(
        matches!(response.status().as_u16(), 404 | 409),
        "{}",
        response.status()
    );
    // The other code still works.
    let (status, _) = surveys.page(&codes[1].path).await;
    assert_eq!(status, 200);
}
