//! "Tell us your story" through StoryService: drafts saved and continued, consents per purpose,
//! moderation and every reveal of a phone number audited, reveals refused without the role or the
//! consent, key rotation keeping every number readable, no phone number in plain text anywhere,
//! and what subject access and erasure find of a teller.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use prost::Message;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use secrecy::SecretString;
use tonic::Code;
use valued_platform::DatabaseSettings;
use valued_platform::Envelope;
use valued_platform::auth::OidcSettings;
use valued_platform::grpc::Credentialed;
use valued_platform::sealed::{Keyring, SealingSettings};
use valued_proto::events::Event;
use valued_proto::events::v1::{ErasureRequested, StoryDraftSaved, StoryPublished, StorySubmitted};
use valued_proto::survey::v1 as pb;
use valued_proto::survey::v1::feedback_service_client::FeedbackServiceClient;
use valued_proto::survey::v1::story_service_client::StoryServiceClient;
use valued_survey_feedback::stories::upkeep;
use valued_survey_feedback::{Application, Settings};
use valued_testkit::oidc::{self, OidcProvider};
use valued_testkit::platform::TestPlatform;

use crate::helpers::fields;

const KEY_A: &str = "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=";
const KEY_B: &str = "YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmI=";
const PHONE: &str = "07700 900123";
const DIGITS: &str = "07700900123";
const TRUST: &str = "RJ1";
const PLATFORM_ADMIN: &str = "platform.admin@valued.example.org";
const TRUST_ADMIN: &str = "trust.admin@rj1.nhs.example";
const OTHER_TRUST_ADMIN: &str = "trust.admin@rj2.nhs.example";

fn sealing(keys: &[(&str, &str)], current: &str) -> SealingSettings {
    SealingSettings {
        current: current.to_owned(),
        keys: keys
            .iter()
            .map(|(id, key)| ((*id).to_owned(), SecretString::from(*key)))
            .collect(),
    }
}

/// Everything the service's tracing writes, at every level.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct StoryApp {
    client: StoryServiceClient<Credentialed>,
    /// The same server's FeedbackService, which answers subject access for the whole service.
    feedback: FeedbackServiceClient<Credentialed>,
    db: DatabaseConnection,
    url: String,
    platform: TestPlatform,
    provider: OidcProvider,
    platform_admin: String,
}

async fn spawn(database_url: Option<String>, sealing: SealingSettings) -> StoryApp {
    let url = match database_url {
        Some(url) => url,
        None => valued_testkit::postgres::fresh_database("stories")
            .await
            .expect("a fresh database"),
    };
    let mut settings = Settings {
        database: DatabaseSettings::postgres(url.clone()),
        grpc: valued_testkit::grpc::settings(),
        ..Settings::default()
    };
    settings.stories.sealing = sealing;
    let provider = OidcProvider::start().await.expect("a provider");
    settings.auth = OidcSettings {
        issuer: provider.issuer.clone(),
        audience: oidc::CLIENT_ID.into(),
        ..Default::default()
    };
    let platform = TestPlatform::start("stories").await.expect("a platform");
    let app = Application::build(&settings, platform.platform())
        .await
        .expect("the app builds");
    let (port, db) = (app.port(), app.db().clone());
    tokio::spawn(app.run_until_stopped());
    let channel = valued_testkit::grpc::connect(
        format!("http://127.0.0.1:{port}"),
        &settings.grpc,
        valued_survey_feedback::NAME,
    )
    .await
    .unwrap();
    let client = StoryServiceClient::new(channel.clone());
    let feedback = FeedbackServiceClient::new(channel);
    let platform_admin =
        valued_testkit::roles::platform_admin(&platform, &db, &provider, PLATFORM_ADMIN)
            .await
            .unwrap();
    StoryApp {
        client,
        feedback,
        db,
        url,
        platform,
        provider,
        platform_admin,
    }
}

fn campaign() -> pb::StoryCampaign {
    pb::StoryCampaign {
        campaign_id: "0193a000-0000-7000-8000-000000000001".into(),
        slug: "rj1-stars-2026".into(),
        name: "RJ1 Stars 2026".into(),
        scope: "trust".into(),
        scope_code: TRUST.into(),
    }
}

fn answers(phone: &str) -> pb::StoryAnswers {
    pb::StoryAnswers {
        works_in_nhs: "yes".into(),
        nhs_role: "Porter".into(),
        story: "The night shift team kept the wards moving through the snow.".into(),
        consent_publish: true,
        consent_press: false,
        consent_mp: true,
        consent_contact: !phone.is_empty(),
        phone: phone.into(),
        email: "teller@nhs.example".into(),
    }
}

impl StoryApp {
    async fn token(&self, email: &str, role: (&str, &str)) -> String {
        valued_testkit::roles::admin(&self.platform, &self.db, &self.provider, email, role)
            .await
            .unwrap()
    }

    async fn submit(&self, answers: pb::StoryAnswers) -> String {
        self.send("", campaign(), answers)
            .await
            .expect("the story is sent")
    }

    /// Sends a story (completing the draft `token` reaches, if any); its id.
    async fn send(
        &self,
        token: &str,
        campaign: pb::StoryCampaign,
        answers: pb::StoryAnswers,
    ) -> Result<String, tonic::Status> {
        let request = pb::SubmitStoryRequest {
            draft_token: token.into(),
            campaign: Some(campaign),
            answers: Some(answers),
        };
        let sent = self.client.clone().submit_story(request).await?;
        Ok(sent.into_inner().story_id)
    }

    /// Saves a new draft of `answers`; its token.
    async fn save(
        &self,
        answers: pb::StoryAnswers,
        email_link: bool,
    ) -> Result<String, tonic::Status> {
        let request = pb::SaveStoryDraftRequest {
            draft_token: String::new(),
            campaign: Some(campaign()),
            answers: Some(answers),
            email_link,
        };
        let saved = self.client.clone().save_story_draft(request).await?;
        Ok(saved.into_inner().draft_token)
    }

    async fn draft(&self, token: &str) -> Result<pb::GetStoryDraftResponse, tonic::Status> {
        let request = pb::GetStoryDraftRequest {
            draft_token: token.into(),
        };
        Ok(self
            .client
            .clone()
            .get_story_draft(request)
            .await?
            .into_inner())
    }

    async fn withdraw(&self, token: &str) -> Result<(), tonic::Status> {
        let request = pb::WithdrawStoryRequest {
            withdraw_token: token.into(),
        };
        self.client.clone().withdraw_story(request).await?;
        Ok(())
    }

    async fn reveal(&self, token: &str, story_id: &str) -> Result<String, tonic::Status> {
        let request = pb::RevealStoryPhoneRequest {
            story_id: story_id.into(),
            reason: "To hear more for the campaign film".into(),
        };
        self.client
            .clone()
            .reveal_story_phone(valued_testkit::roles::signed(token, request))
            .await
            .map(|r| r.into_inner().phone)
    }

    async fn moderate(
        &self,
        token: &str,
        story_id: &str,
        decision: &str,
    ) -> Result<pb::ModerateStoryResponse, tonic::Status> {
        let request = pb::ModerateStoryRequest {
            story_id: story_id.into(),
            decision: decision.into(),
            reason: "Checked with the ward".into(),
        };
        self.client
            .clone()
            .moderate_story(valued_testkit::roles::signed(token, request))
            .await
            .map(tonic::Response::into_inner)
    }

    async fn audit(&self, story_id: &str) -> Vec<(String, String)> {
        let request = pb::ListStoryAuditRequest {
            story_id: story_id.into(),
        };
        self.client
            .clone()
            .list_story_audit(valued_testkit::roles::signed(&self.platform_admin, request))
            .await
            .unwrap()
            .into_inner()
            .entries
            .into_iter()
            .map(|e| (e.action, e.actor))
            .collect()
    }

    async fn published_stories(&self) -> Vec<String> {
        self.client
            .clone()
            .list_published_stories(pb::ListPublishedStoriesRequest {
                campaign: Some(campaign()),
            })
            .await
            .unwrap()
            .into_inner()
            .stories
            .into_iter()
            .map(|s| s.story_id)
            .collect()
    }

    /// Every text value of every table of the database, one line per row.
    async fn every_table_as_text(&self) -> String {
        let backend = self.db.get_database_backend();
        let tables: Vec<String> = self
            .db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index(0).unwrap())
            .collect();
        assert!(tables.iter().any(|t| t == "story"), "{tables:?}");
        assert!(tables.iter().any(|t| t.contains("outbox")), "{tables:?}");
        let mut text = String::new();
        for table in tables {
            let rows = self
                .db
                .query_all_raw(Statement::from_string(
                    backend,
                    format!("SELECT CAST(t.* AS text) FROM \"{table}\" t"),
                ))
                .await
                .unwrap();
            for row in rows {
                let line: String = row.try_get_by_index(0).unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        }
        text
    }
}

/// The forms a phone number might be found in: typed, its digits, and its digits after `+44`.
fn phone_forms() -> [&'static str; 4] {
    [PHONE, DIGITS, "7700900123", "900123"]
}

#[tokio::test]
async fn a_draft_is_saved_and_continued_without_its_phone_number_coming_back() {
    let app = spawn(None, sealing(&[("a", KEY_A)], "a")).await;
    let mut first = answers(PHONE);
    first.story = "Half told".into();
    let token = app.save(first, true).await.unwrap();

    let resumed = app.draft(&token).await.unwrap();
    let got = resumed.answers.unwrap();
    assert_eq!(got.story, "Half told");
    assert!(got.consent_contact && resumed.has_phone);
    assert_eq!(got.phone, "", "the phone number is never returned");
    assert_eq!(resumed.campaign.unwrap().slug, "rj1-stars-2026");

    // Finishing without typing the number again keeps the saved one.
    let mut rest = answers("");
    rest.consent_contact = true;
    let story_id = app.send(&token, campaign(), rest).await.unwrap();
    assert_eq!(
        app.reveal(&app.platform_admin, &story_id).await.unwrap(),
        DIGITS
    );
    let gone = app.draft(&token).await.unwrap_err();
    assert_eq!(
        gone.code(),
        Code::NotFound,
        "a sent draft's link no longer opens it"
    );

    // Once the relay has published what the outbox holds.
    let events = app.platform.published(&app.db).await.unwrap();
    let resume = events
        .iter()
        .find(|e| e.event_type == StoryDraftSaved::TYPE)
        .expect("the resume link is emailed");
    let resume = StoryDraftSaved::decode(resume.payload.as_slice()).unwrap();
    assert_eq!(resume.email, "teller@nhs.example");
    assert!(events.iter().any(|e| e.event_type == StorySubmitted::TYPE));
}

#[tokio::test]
async fn bad_answers_are_refused_naming_each_field_and_nothing_is_stored() {
    let app = spawn(None, sealing(&[("a", KEY_A)], "a")).await;
    let mut bad = answers("01234");
    bad.works_in_nhs = "maybe".into();
    bad.story = "word ".repeat(501);
    bad.email = "not an email".into();
    let refused = app.send("", campaign(), bad).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        fields(&refused),
        ["works_in_nhs", "story", "phone", "email"]
    );

    let mut no_consent = answers("");
    no_consent.phone = PHONE.into();
    let refused = app.save(no_consent, false).await.unwrap_err();
    assert_eq!(
        fields(&refused),
        ["phone"],
        "a number only with consent to contact"
    );
    let stories = app
        .db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT id FROM story",
        ))
        .await
        .unwrap();
    assert!(stories.is_empty());
}

#[tokio::test]
async fn moderation_is_for_the_campaigns_admins_audited_and_publishes_only_with_consent() {
    let app = spawn(None, sealing(&[("a", KEY_A)], "a")).await;
    let consented = app.submit(answers(PHONE)).await;
    let mut private = answers("");
    private.consent_publish = false;
    let not_consented = app.submit(private).await;
    let trust_admin = app.token(TRUST_ADMIN, ("trust_admin", TRUST)).await;
    let other_admin = app.token(OTHER_TRUST_ADMIN, ("trust_admin", "RJ2")).await;

    let refused = app
        .moderate(&other_admin, &consented, "approve")
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        Code::PermissionDenied,
        "another trust's admin is refused"
    );
    let missing = uuid::Uuid::now_v7().to_string();
    let refused = app
        .moderate(&other_admin, &missing, "approve")
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        Code::PermissionDenied,
        "as for a story that does not exist"
    );
    let refused = app
        .client
        .clone()
        .moderate_story(pb::ModerateStoryRequest {
            story_id: consented.clone(),
            decision: "approve".into(),
            reason: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert!(
        app.published_stories().await.is_empty(),
        "nothing shows before moderation"
    );

    let approved = app
        .moderate(&trust_admin, &consented, "approve")
        .await
        .unwrap();
    assert!(approved.published);
    let approved = app
        .moderate(&trust_admin, &not_consented, "approve")
        .await
        .unwrap();
    assert!(
        !approved.published,
        "approved, but not consented to publication"
    );
    assert_eq!(
        app.published_stories().await,
        std::slice::from_ref(&consented)
    );
    let again = app
        .moderate(&trust_admin, &consented, "reject")
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);

    assert_eq!(
        app.audit(&consented).await,
        [
            ("submitted".to_owned(), String::new()),
            ("approved".to_owned(), TRUST_ADMIN.to_owned()),
        ]
    );
    let published: Vec<_> = app
        .platform
        .published(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == StoryPublished::TYPE)
        .collect();
    assert_eq!(published.len(), 1);

    // A story told under another description of the campaign does not show on its page.
    let mut forged = campaign();
    forged.scope_code = "RJ2".into();
    let forged_id = app.send("", forged, answers("")).await.unwrap();
    app.moderate(&other_admin, &forged_id, "approve")
        .await
        .unwrap();
    assert_eq!(app.published_stories().await, [consented]);
}

#[tokio::test]
async fn a_reveal_needs_the_role_and_the_consent_and_each_one_is_audited() {
    let app = spawn(None, sealing(&[("a", KEY_A)], "a")).await;
    let story = app.submit(answers(PHONE)).await;
    let no_contact = app.submit(answers("")).await;
    let trust_admin = app.token(TRUST_ADMIN, ("trust_admin", TRUST)).await;
    let other_admin = app.token(OTHER_TRUST_ADMIN, ("trust_admin", "RJ2")).await;
    let judge = app
        .token(
            "judge@nhs.example",
            ("judge", "0193a000-0000-7000-8000-000000000001"),
        )
        .await;

    let anonymous = app
        .client
        .clone()
        .reveal_story_phone(pb::RevealStoryPhoneRequest {
            story_id: story.clone(),
            reason: "curious".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    for token in [&other_admin, &judge] {
        let refused = app.reveal(token, &story).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
    }
    let without_reason = app
        .client
        .clone()
        .reveal_story_phone(valued_testkit::roles::signed(
            &trust_admin,
            pb::RevealStoryPhoneRequest {
                story_id: story.clone(),
                reason: " ".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(fields(&without_reason), ["reason"]);
    let refused = app.reveal(&trust_admin, &no_contact).await.unwrap_err();
    assert_eq!(
        refused.code(),
        Code::FailedPrecondition,
        "no consent to contact"
    );
    assert_eq!(
        app.audit(&story).await.len(),
        1,
        "refusals reveal nothing and record nothing"
    );

    assert_eq!(app.reveal(&trust_admin, &story).await.unwrap(), DIGITS);
    assert_eq!(
        app.reveal(&app.platform_admin, &story).await.unwrap(),
        DIGITS
    );
    assert_eq!(
        app.audit(&story).await,
        [
            ("submitted".to_owned(), String::new()),
            ("phone_revealed".to_owned(), TRUST_ADMIN.to_owned()),
            ("phone_revealed".to_owned(), PLATFORM_ADMIN.to_owned()),
        ]
    );
}

#[tokio::test]
async fn withdrawal_takes_the_story_off_the_page_and_erases_its_number() {
    let app = spawn(None, sealing(&[("a", KEY_A)], "a")).await;
    let story = app.submit(answers(PHONE)).await;
    let trust_admin = app.token(TRUST_ADMIN, ("trust_admin", TRUST)).await;
    app.moderate(&trust_admin, &story, "approve").await.unwrap();
    assert_eq!(app.published_stories().await, std::slice::from_ref(&story));
    let submitted = app
        .platform
        .published(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.event_type == StorySubmitted::TYPE)
        .unwrap();
    let link = StorySubmitted::decode(submitted.payload.as_slice()).unwrap();

    app.withdraw(&link.withdraw_token).await.unwrap();

    assert!(app.published_stories().await.is_empty());
    let refused = app.reveal(&trust_admin, &story).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let twice = app.withdraw(&link.withdraw_token).await.unwrap_err();
    assert_eq!(twice.code(), Code::NotFound);
    let text = app.every_table_as_text().await;
    assert!(!text.contains("night shift"), "the story's text is erased");
    assert_eq!(app.audit(&story).await.last().unwrap().0, "withdrawn");
}

#[tokio::test]
async fn rotation_rewraps_every_number_under_the_new_key_and_the_old_one_can_go() {
    let app = spawn(None, sealing(&[("a", KEY_A)], "a")).await;
    let mut stories = Vec::new();
    for phone in ["07700 900001", "07700 900002", "020 7946 0018"] {
        stories.push(app.submit(answers(phone)).await);
    }
    let url = app.url.clone();
    drop(app);

    // Key B becomes current while A still opens; a round re-wraps every data key.
    let during = sealing(&[("a", KEY_A), ("b", KEY_B)], "b");
    let app = spawn(Some(url.clone()), during.clone()).await;
    let keyring = Keyring::from_settings(&during).unwrap();
    let rewrapped = upkeep::rewrap(&app.db, &keyring).await.unwrap();
    assert_eq!(rewrapped, 3);
    assert_eq!(upkeep::rewrap(&app.db, &keyring).await.unwrap(), 0);
    let stored = app.every_table_as_text().await;
    assert!(!stored.contains("v1.a."), "no value names key A");
    drop(app);

    // With A gone, every number still opens.
    let app = spawn(Some(url), sealing(&[("b", KEY_B)], "b")).await;
    // The restarted service signs admins in through a new provider (the first admin's grant is
    // still bound to the old one): another platform admin reveals.
    let admin = app
        .token("second.admin@valued.example.org", ("platform_admin", ""))
        .await;
    let mut revealed = Vec::new();
    for story in &stories {
        revealed.push(app.reveal(&admin, story).await.unwrap());
    }
    assert_eq!(revealed, ["07700900001", "07700900002", "02079460018"]);
}

#[tokio::test]
async fn after_the_journey_no_phone_number_is_in_plain_text_anywhere() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_global_default(subscriber);
    let app = spawn(None, sealing(&[("a", KEY_A)], "a")).await;

    let token = app.save(answers(PHONE), true).await.unwrap();
    let story = app.send(&token, campaign(), answers(PHONE)).await.unwrap();
    let trust_admin = app.token(TRUST_ADMIN, ("trust_admin", TRUST)).await;
    app.moderate(&trust_admin, &story, "approve").await.unwrap();
    assert_eq!(app.reveal(&trust_admin, &story).await.unwrap(), DIGITS);
    let listed = app
        .client
        .clone()
        .list_stories(valued_testkit::roles::signed(
            &trust_admin,
            pb::ListStoriesRequest {
                campaign_id: String::new(),
                include_moderated: true,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.stories[0].has_phone);

    let published = app.platform.published(&app.db).await.unwrap();
    assert!(published.len() >= 3, "{}", published.len());
    let tables = app.every_table_as_text().await;
    assert!(tables.contains("v1.a."), "the number is stored, sealed");
    let messages: Vec<String> = published
        .iter()
        .map(|e| format!("{e:?} {}", String::from_utf8_lossy(&e.payload)))
        .collect();
    let listing = format!("{listed:?}");
    let logs = logs.text();
    assert!(!logs.is_empty(), "the logs were captured");
    for form in phone_forms() {
        assert!(!tables.contains(form), "a table holds {form}");
        assert!(
            messages.iter().all(|m| !m.contains(form)),
            "a message holds {form}"
        );
        assert!(!listing.contains(form), "the moderators' list holds {form}");
        assert!(!logs.contains(form), "the logs hold {form}");
    }
}

#[tokio::test]
async fn subject_access_finds_a_tellers_stories_without_the_number_and_erasure_leaves_none() {
    let app = spawn(None, sealing(&[("a", KEY_A)], "a")).await;
    let story = app.submit(answers(PHONE)).await;
    let mut second = answers("");
    second.story = "Our domestics are the heart of the ward.".into();
    second.email = "Teller@NHS.example".into();
    app.submit(second).await;
    app.submit(pb::StoryAnswers {
        story: "The switchboard never sleeps.".into(),
        email: "someone.else@nhs.example".into(),
        ..answers("")
    })
    .await;
    let trust_admin = app.token(TRUST_ADMIN, ("trust_admin", TRUST)).await;
    app.reveal(&trust_admin, &story).await.unwrap();

    let export = |token: String| {
        let mut feedback = app.feedback.clone();
        async move {
            let request = pb::FeedbackExportPersonRequest {
                email: "teller@nhs.example".into(),
            };
            feedback
                .export_person(valued_testkit::roles::signed(&token, request))
                .await
                .map(|r| serde_json::from_str::<serde_json::Value>(&r.into_inner().json).unwrap())
        }
    };
    let refused = export(trust_admin.clone()).await.unwrap_err();
    assert_eq!(
        refused.code(),
        Code::PermissionDenied,
        "platform admins only"
    );

    let held = export(app.platform_admin.clone()).await.unwrap();
    let told = held["stories_told"].as_array().unwrap();
    assert_eq!(
        told.len(),
        2,
        "both of theirs, not the other teller's: {held:#}"
    );
    assert_eq!(told[0]["nhs_role"], "Porter");
    assert_eq!(told[0]["phone_number_held"], true);
    assert_eq!(told[0]["consent_mp"], true);
    assert_eq!(told[1]["story"], "Our domestics are the heart of the ward.");
    assert_eq!(told[1]["phone_number_held"], false);
    let actions: Vec<&str> = told[0]["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["submitted", "phone_revealed"]);
    let text = held.to_string();
    for form in phone_forms() {
        assert!(!text.contains(form), "the export holds {form}");
    }

    let request = Envelope::new(
        "nomination",
        None,
        &ErasureRequested {
            request_id: "erasure-1".into(),
            email: "teller@nhs.example".into(),
            requested_at: None,
            names: Vec::new(),
        },
    );
    app.platform.publish_as_peer(&[request]).await.unwrap();
    let mut left = told.len();
    for _ in 0..50 {
        left = export(app.platform_admin.clone()).await.unwrap()["stories_told"]
            .as_array()
            .unwrap()
            .len();
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "nothing is found of them after erasure");
    let stored = app.every_table_as_text().await;
    assert!(
        !stored.contains("night shift"),
        "their stories' text is erased"
    );
    assert!(!stored.contains("heart of the ward"));
    assert!(!stored.contains("teller@nhs.example"));
    assert!(
        stored.contains("someone.else@nhs.example"),
        "the other teller's stays"
    );
}
