//! "Tell us your story" pages in front of the real survey-feedback service (PostgreSQL, in-process
//! bus) and the fake nomination service's campaign: the form's errors, saving and coming back from
//! the emailed link without the phone number ever shown again, sending, the story on the campaign
//! page once approved, and withdrawal.

use std::time::Duration;

use valued_platform::auth::OidcSettings;
use valued_platform::{DatabaseSettings, Envelope};
use valued_proto::events::v1 as ev;
use valued_proto::survey::v1 as pb;
use valued_proto::survey::v1::story_service_client::StoryServiceClient;
use valued_testkit::oidc::{self, OidcProvider};
use valued_testkit::platform::TestPlatform;

use crate::fake::{FakeNomination, campaign};
use crate::helpers::{TestApp, spawn_app_with_survey};

const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const FORM: &str = "/campaigns/health-heroes/story";
const STORY: &str = "Our porters kept <every> ward moving through the snow.";

struct Stories {
    app: TestApp,
    stories: StoryServiceClient<valued_platform::grpc::Credentialed>,
    platform: TestPlatform,
    db: sea_orm::DatabaseConnection,
    admin_token: String,
    _provider: OidcProvider,
}

/// The gateway before the survey-feedback service, for a trust campaign of RJ1.
async fn spawn() -> Stories {
    let fake = FakeNomination::default();
    fake.state().campaign = valued_proto::nomination::v1::Campaign {
        scope: "trust".into(),
        scope_code: "RJ1".into(),
        ..campaign()
    };
    let nomination = fake.serve().await;
    let platform = TestPlatform::start("stories").await.unwrap();
    let provider = OidcProvider::start().await.unwrap();
    let settings = valued_survey_feedback::Settings {
        database: DatabaseSettings::postgres(
            valued_testkit::postgres::fresh_database("gateway_story")
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
    let stories = StoryServiceClient::new(
        valued_testkit::grpc::connect(url.clone(), &settings.grpc, valued_survey_feedback::NAME)
            .await
            .unwrap(),
    );
    let admin_token =
        valued_testkit::roles::platform_admin(&platform, &db, &provider, "admin@example.org")
            .await
            .unwrap();
    let app = spawn_app_with_survey(nomination, url, &settings.grpc).await;
    Stories {
        app,
        stories,
        platform,
        db,
        admin_token,
        _provider: provider,
    }
}

impl Stories {
    async fn page(&self, path: &str) -> (u16, String) {
        let response = self.app.get(path).await;
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

    /// Every event the service has published, decoded as `T` where of its type.
    async fn events<T: valued_proto::events::Event>(&self) -> Vec<T> {
        let published: Vec<Envelope> = self.platform.published(&self.db).await.unwrap();
        published
            .iter()
            .filter(|e| e.event_type == T::TYPE)
            .map(|e| e.decode().unwrap())
            .collect()
    }

    async fn approve_all(&self) {
        let waiting = self
            .stories
            .clone()
            .list_stories(valued_testkit::roles::signed(
                &self.admin_token,
                pb::ListStoriesRequest::default(),
            ))
            .await
            .unwrap()
            .into_inner()
            .stories;
        for story in waiting {
            self.stories
                .clone()
                .moderate_story(valued_testkit::roles::signed(
                    &self.admin_token,
                    pb::ModerateStoryRequest {
                        story_id: story.story_id,
                        decision: "approve".into(),
                        reason: String::new(),
                    },
                ))
                .await
                .unwrap();
        }
    }
}

const ANSWERS: &str = "works_in_nhs=yes&nhs_role=Porter&consent_publish=yes&consent_contact=yes\
    &email=teller%40example.org";

#[tokio::test]
async fn the_form_names_each_missing_answer_and_keeps_what_was_typed() {
    let stories = spawn().await;
    let (status, html) = stories.page(FORM).await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Tell us your story</h1>"), "{html}");
    for input in [
        "works_in_nhs",
        "nhs_role",
        "story",
        "consent_mp",
        "phone",
        "email",
    ] {
        assert!(html.contains(&format!(r#"id="{input}""#)), "{input}");
    }

    let refused = stories
        .post(
            FORM,
            "action=send&nhs_role=Porter&phone=12345&consent_contact=yes",
        )
        .await;
    assert_eq!(refused.status(), 400);
    let html = refused.text().await.unwrap();
    let summary: Vec<usize> = ["works_in_nhs", "story", "phone", "email"]
        .iter()
        .map(|field| {
            html.find(&format!(r##"<a href="#{field}">"##))
                .unwrap_or_else(|| panic!("{field} in the summary: {html}"))
        })
        .collect();
    assert!(summary.is_sorted(), "in page order: {summary:?}");
    assert!(html.contains(r#"value="Porter""#), "what was typed stays");
    assert!(html.contains("Enter a UK phone number"), "{html}");
    assert!(stories.events::<ev::StorySubmitted>().await.is_empty());
}

#[tokio::test]
async fn a_saved_story_comes_back_from_the_emailed_link_without_its_phone_number() {
    let stories = spawn().await;
    let saved = stories
        .post(
            FORM,
            &format!("action=save&{ANSWERS}&story=Half+told&phone=07700+900789"),
        )
        .await;
    assert_eq!(saved.status(), 200);
    let html = saved.text().await.unwrap();
    assert!(html.contains("Your story is saved"), "{html}");
    assert!(!html.contains("900789"));
    let link = stories.events::<ev::StoryDraftSaved>().await.remove(0);
    assert_eq!(link.email, "teller@example.org");

    let (status, html) = stories
        .page(&format!("/stories/drafts/{}", link.resume_token))
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("Half told") && html.contains(r#"value="Porter""#));
    assert!(html.contains("A number is saved"), "{html}");
    assert!(!html.contains("900789"), "the number is never shown again");
    assert!(
        html.contains(&link.resume_token),
        "the form carries on the draft"
    );

    let sent = stories
        .post(
            FORM,
            &format!(
                "action=send&draft_token={}&{ANSWERS}&story=All+told",
                link.resume_token
            ),
        )
        .await;
    assert_eq!(sent.status(), 303);
    let to = sent.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(to, "/campaigns/health-heroes/story/sent");
    let (status, html) = stories.page(&to).await;
    assert_eq!(status, 200);
    assert!(html.contains("Thank you for telling your story"));
    let (status, _) = stories
        .page(&format!("/stories/drafts/{}", link.resume_token))
        .await;
    assert_eq!(status, 404, "a sent draft's link is spent");
    let listed = stories
        .stories
        .clone()
        .list_stories(valued_testkit::roles::signed(
            &stories.admin_token,
            pb::ListStoriesRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner()
        .stories;
    assert_eq!(listed.len(), 1);
    assert!(listed[0].has_phone, "the saved number went with the story");
}

#[tokio::test]
async fn an_approved_story_shows_on_the_campaign_page_until_its_teller_withdraws_it() {
    let stories = spawn().await;
    let story = STORY
        .replace(' ', "+")
        .replace('<', "%3C")
        .replace('>', "%3E");
    let sent = stories
        .post(
            FORM,
            &format!("action=send&{ANSWERS}&story={story}&phone=07700+900789"),
        )
        .await;
    assert_eq!(sent.status(), 303);
    let (_, html) = stories.page("/campaigns/health-heroes").await;
    assert!(!html.contains("Our porters"), "not before moderation");
    assert!(html.contains(r#"href="/campaigns/health-heroes/story""#));

    stories.approve_all().await;
    let (status, html) = stories.page("/campaigns/health-heroes").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Our porters kept &lt;every&gt; ward moving through the snow."),
        "{html}"
    );
    assert!(!html.contains("900789"));

    let withdraw = stories.events::<ev::StorySubmitted>().await.remove(0);
    let path = format!("/stories/withdraw/{}", withdraw.withdraw_token);
    let (status, html) = stories.page(&path).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Withdraw my story"),
        "opening the link does nothing by itself"
    );
    let (_, still) = stories.page("/campaigns/health-heroes").await;
    assert!(still.contains("Our porters"));
    let withdrawn = stories.post(&path, "").await;
    assert_eq!(withdrawn.status(), 200);
    assert!(
        withdrawn
            .text()
            .await
            .unwrap()
            .contains("Your story has been withdrawn")
    );
    for _ in 0..50 {
        let (_, html) = stories.page("/campaigns/health-heroes").await;
        if !html.contains("Our porters") {
            let again = stories.post(&path, "").await;
            assert_eq!(again.status(), 404);
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the withdrawn story is still on the campaign page");
}
