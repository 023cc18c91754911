//! The suggestion box's public pages in front of the real survey-feedback service (PostgreSQL,
//! in-process bus) and the fake nomination service's trusts: post a suggestion (refused field by
//! field first), see it on the board only once a trust admin approved it, support it once.

use valued_platform::DatabaseSettings;
use valued_platform::auth::OidcSettings;
use valued_proto::survey::v1 as pb;
use valued_proto::survey::v1::feedback_service_client::FeedbackServiceClient;
use valued_testkit::oidc::{self, OidcProvider};
use valued_testkit::platform::TestPlatform;

use crate::fake::{FakeNomination, campaign};
use crate::helpers::{TestApp, spawn_app_with_survey};

const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const NEW: &str = "/suggestions/RJ1/new";

struct Suggestions {
    app: TestApp,
    feedback: FeedbackServiceClient<valued_platform::grpc::Credentialed>,
    admin_token: String,
    _platform: TestPlatform,
    _provider: OidcProvider,
}

async fn spawn() -> Suggestions {
    let fake = FakeNomination::default();
    fake.state().campaign = campaign();
    let nomination = fake.serve().await;
    let platform = TestPlatform::start("survey").await.unwrap();
    let provider = OidcProvider::start().await.unwrap();
    let settings = valued_survey_feedback::Settings {
        database: DatabaseSettings::postgres(
            valued_testkit::postgres::fresh_database("gateway_suggestions")
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
    let service = valued_survey_feedback::Application::build(&settings, platform.platform())
        .await
        .unwrap();
    let url = format!("http://127.0.0.1:{}", service.port());
    let db = service.db().clone();
    tokio::spawn(service.run_until_stopped());
    let feedback = FeedbackServiceClient::new(
        valued_testkit::grpc::connect(url.clone(), &settings.grpc, valued_survey_feedback::NAME)
            .await
            .unwrap(),
    );
    let admin_token =
        valued_testkit::roles::platform_admin(&platform, &db, &provider, "admin@example.org")
            .await
            .unwrap();
    let app = spawn_app_with_survey(nomination, url, &settings.grpc).await;
    Suggestions {
        app,
        feedback,
        admin_token,
        _platform: platform,
        _provider: provider,
    }
}

impl Suggestions {
    /// The page at `path`, with the slashes the templates escape (`&#x2f;`) as typed.
    async fn page(&self, path: &str) -> (u16, String) {
        let response = self.app.get(path).await;
        (response.status().as_u16(), text(response).await)
    }

    /// POSTs `fields` with the CSRF token.
    async fn post(&self, path: &str, fields: &str) -> reqwest::Response {
        self.app
            .post_form(
                path,
                &format!("csrf_token={CSRF}&website=&{fields}"),
                Some(&format!("valued_csrf={CSRF}")),
            )
            .await
    }

    async fn approve_all(&self) {
        let waiting = self
            .feedback
            .clone()
            .list_trust_suggestions(valued_testkit::roles::signed(
                &self.admin_token,
                pb::ListTrustSuggestionsRequest {
                    trust_code: "RJ1".into(),
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .suggestions;
        for s in waiting {
            self.feedback
                .clone()
                .moderate_suggestion(valued_testkit::roles::signed(
                    &self.admin_token,
                    pb::ModerateSuggestionRequest {
                        suggestion_id: s.suggestion.unwrap().suggestion_id,
                        approve: true,
                    },
                ))
                .await
                .unwrap();
        }
    }
}

async fn text(response: reqwest::Response) -> String {
    response.text().await.unwrap().replace("&#x2f;", "/")
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_suggestion_is_refused_field_by_field_then_posted_and_shown_once_approved() {
    let b = spawn().await;
    let (status, index) = b.page("/suggestions").await;
    assert_eq!(status, 200);
    assert!(index.contains("href=\"/suggestions/RJ1\""), "{index}");
    assert!(index.contains("University Hospitals Birmingham"), "{index}");
    assert_eq!(b.page("/suggestions/XYZ").await.0, 404, "no such trust");

    let (status, form) = b.page(NEW).await;
    assert_eq!(status, 200);
    assert!(form.contains("name=\"csrf_token\""), "{form}");

    // Nothing typed, and a name without an address: each field named in the error summary, and
    // what was typed kept.
    let refused = b.post(NEW, "text=&name=Sam+Patel&email=").await;
    assert_eq!(refused.status().as_u16(), 400);
    let page = text(refused).await;
    assert!(page.contains("There is a problem"), "{page}");
    assert!(
        page.contains("href=\"#text\">Enter your suggestion"),
        "{page}"
    );
    assert!(
        page.contains("href=\"#email\">Enter an email address"),
        "{page}"
    );
    assert!(page.contains("value=\"Sam Patel\""), "{page}");
    let long = "x".repeat(1001);
    let page = text(b.post(NEW, &format!("text={long}")).await).await;
    assert!(
        page.contains("Your suggestion must be 1000 characters or fewer"),
        "{page}"
    );

    // Without the CSRF token, nothing is posted.
    let forged = b
        .app
        .post_form(NEW, "text=More+lockers&website=", None)
        .await;
    assert_eq!(forged.status().as_u16(), 403);

    let posted = b
        .post(NEW, "text=More+lockers+by+the+lodge&name=&email=")
        .await;
    assert_eq!(posted.status().as_u16(), 303);
    assert_eq!(location(&posted), "/suggestions/RJ1/posted");
    let (status, thanks) = b.page("/suggestions/RJ1/posted").await;
    assert_eq!(status, 200);
    assert!(thanks.contains("Thank you for your suggestion"), "{thanks}");

    let (_, board) = b.page("/suggestions/RJ1").await;
    assert!(!board.contains("More lockers"), "not before moderation");
    b.approve_all().await;
    let (status, board) = b.page("/suggestions/rj1").await;
    assert_eq!(status, 200);
    assert!(board.contains("More lockers by the lodge"), "{board}");
    assert!(board.contains("Received"), "{board}");
    assert!(board.contains("0 people support this"), "{board}");
    assert!(
        board.contains("/support\""),
        "a plain link to support it: {board}"
    );
}

#[tokio::test]
async fn a_supporter_counts_once_however_often_they_press() {
    let b = spawn().await;
    b.post(
        NEW,
        "text=Later+shifts&name=Jo+Bloggs&email=jo%40example.org",
    )
    .await;
    b.approve_all().await;
    let (_, board) = b.page("/suggestions/RJ1").await;
    let support = board
        .split("href=\"")
        .find_map(|rest| {
            let link = rest.split('"').next()?;
            link.ends_with("/support").then(|| link.to_owned())
        })
        .expect("a support link");
    assert!(
        !board.contains("Jo Bloggs"),
        "the board names nobody: {board}"
    );

    let (status, page) = b.page(&support).await;
    assert_eq!(status, 200);
    assert!(page.contains("Later shifts"), "{page}");

    let refused = b.post(&support, "email=not+an+address").await;
    assert_eq!(refused.status().as_u16(), 400);
    let page = text(refused).await;
    assert!(page.contains("href=\"#email\""), "{page}");

    let first = b.post(&support, "email=ana%40example.org").await;
    assert_eq!(location(&first), "/suggestions/RJ1?done=supported");
    let again = b.post(&support, "email=Ana%2Bagain%40Example.org").await;
    assert_eq!(location(&again), "/suggestions/RJ1?done=already");
    let (_, board) = b.page("/suggestions/RJ1?done=already").await;
    assert!(
        board.contains("You have already supported that suggestion"),
        "{board}"
    );
    assert!(board.contains("1 person supports this"), "{board}");

    let unknown = "/suggestions/RJ1/0193a1b2-0000-7000-8000-00000000dead/support";
    assert_eq!(b.page(unknown).await.0, 404);
}
