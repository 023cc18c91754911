//! The survey-feedback service: staff surveys (built by admins, answered anonymously, with
//! single-use invitations), reported at the close with small groups suppressed. Publishes
//! `survey.invitation_requested.v1` and `survey.closed.v1` through its outbox; nothing per response.

pub mod db;
pub mod domain;
pub mod error;
mod grpc;
pub mod stories;
pub mod suggestions;

pub use grpc::PUBLIC_RPCS;
pub use stories::grpc::PUBLIC_RPCS as STORY_PUBLIC_RPCS;

use anyhow::Context;
use serde::Deserialize;
use tonic::service::Routes;
use valued_platform::auth::OidcSettings;
use valued_platform::auth::roles::Admins;
use valued_platform::host::ServiceHost;
use valued_platform::{DatabaseSettings, GrpcSettings, Platform};
use valued_proto::survey::v1::feedback_service_server::FeedbackServiceServer;
use valued_proto::survey::v1::survey_service_server::SurveyServiceServer;

pub const NAME: &str = "survey-feedback";
const GRPC_NAMES: &[&str] = &[
    "valued.survey.v1.SurveyService",
    "valued.survey.v1.StoryService",
    "valued.survey.v1.FeedbackService",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub grpc: GrpcSettings,
    /// Groups with fewer responses than this are withheld from summaries, so that nobody's answer
    /// can be picked out of a small group. 11 follows common NHS staff-survey practice.
    pub minimum_group_size: u32,
    /// The OpenID Connect issuer and audience signed-in admins' ID tokens are checked against
    /// (`valued` takes them from `nomination.auth` when not set). Roles come from this service's
    /// own copy of the grants.
    pub auth: OidcSettings,
    /// How long handled events' inbox rows are kept.
    pub retention: valued_platform::inbox::InboxRetention,
    /// The suggestion box: its supporter key, rate limits and retention.
    pub suggestions: suggestions::SuggestionSettings,
    /// "Tell us your story": sealing keys for phone numbers, drafts' lifetime, retention.
    pub stories: stories::StorySettings,
    /// Surveys: how often responses are mixed and due surveys closed.
    pub surveys: SurveySettings,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default)]
pub struct SurveySettings {
    /// Seconds between rounds of the mixer (which moves pending responses and used invitation
    /// codes into their tables in random order, so they cannot be joined by transaction id or
    /// row order) and of the check that closes surveys whose closing time has passed.
    pub mix_seconds: u64,
}

impl Default for SurveySettings {
    fn default() -> Self {
        Self { mix_seconds: 60 }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database: DatabaseSettings::default(),
            grpc: GrpcSettings::default(),
            minimum_group_size: valued_platform::suppression::MINIMUM_GROUP_SIZE,
            auth: OidcSettings::default(),
            retention: valued_platform::inbox::InboxRetention::default(),
            surveys: SurveySettings::default(),
            stories: stories::StorySettings::default(),
            suggestions: suggestions::SuggestionSettings::default(),
        }
    }
}

pub struct Application {
    host: ServiceHost,
    minimum_group_size: u32,
    admins: Admins,
    surveys: SurveySettings,
    stories: stories::StorySettings,
    keyring: std::sync::Arc<valued_platform::sealed::Keyring>,
    suggestions: suggestions::SuggestionSettings,
}

impl Application {
    pub async fn build(settings: &Settings, platform: Platform) -> anyhow::Result<Self> {
        let mut host =
            ServiceHost::start::<db::Migrator>(NAME, &settings.database, &settings.grpc, platform)
                .await?;
        let admins = host.admins(&settings.auth).await?;
        let keyring = valued_platform::sealed::Keyring::from_settings(&settings.stories.sealing)
            .context("survey_feedback.stories.sealing")?;
        if settings.stories.uses_development_key() {
            tracing::warn!(
                "survey-feedback seals phone numbers under the development key; set \
                 survey_feedback.stories.sealing"
            );
        }
        // Survey answers are kept by no email address; stories, named suggesters and supporters
        // are (see `erasure` in README).
        host.erasure((
            stories::erasure::Stories,
            suggestions::erasure::Suggesters {
                secret: settings.suggestions.supporter_key_secret.clone(),
            },
        ))
        .await?;
        if settings.suggestions.uses_development_key() {
            tracing::warn!(
                "survey-feedback uses the development supporter-key secret; set suggestions.supporter_key_secret"
            );
        }
        host.retain_messaging(settings.retention);
        Ok(Self {
            host,
            minimum_group_size: settings.minimum_group_size,
            admins,
            surveys: settings.surveys,
            stories: settings.stories.clone(),
            keyring: std::sync::Arc::new(keyring),
            suggestions: settings.suggestions.clone(),
        })
    }

    pub fn port(&self) -> u16 {
        self.host.port()
    }

    pub fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.host.db
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let mixer = {
            let db = self.host.db.clone();
            let outbox = self.host.outbox();
            let minimum = self.minimum_group_size;
            valued_platform::periodic::every(
                "survey mixer",
                std::time::Duration::from_secs(self.surveys.mix_seconds.max(1)),
                self.host.platform.shutdown.clone(),
                move || {
                    let db = db.clone();
                    let outbox = outbox.clone();
                    async move {
                        db::queries::mix_now(&db).await?;
                        let closed = db::queries::close_due(&db, &outbox, minimum).await?;
                        if closed > 0 {
                            tracing::info!(closed, "surveys closed at their closing time");
                        }
                        Ok(())
                    }
                },
            )
        };
        let upkeep = stories::upkeep::spawn(
            self.host.db.clone(),
            self.keyring.clone(),
            self.stories.clone(),
            self.host.platform.shutdown.clone(),
        );
        let story_api = stories::grpc::StoryApi {
            db: self.host.db.clone(),
            outbox: self.host.outbox(),
            keyring: self.keyring,
            settings: self.stories,
            admins: self.admins.clone(),
        };
        let api = grpc::SurveyApi {
            db: self.host.db.clone(),
            outbox: self.host.outbox(),
            minimum_group_size: self.minimum_group_size,
            admins: self.admins.clone(),
        };
        let feedback = suggestions::FeedbackApi {
            db: self.host.db.clone(),
            outbox: self.host.outbox(),
            admins: self.admins,
            rate_limits: self.suggestions.rate_limits,
            supporter_key_secret: self.suggestions.supporter_key_secret.clone(),
        };
        let retention = suggestions::retain(
            self.host.db.clone(),
            self.suggestions.retention,
            self.host.platform.shutdown.clone(),
        );
        let routes = Routes::new(SurveyServiceServer::new(api))
            .add_service(
                valued_proto::survey::v1::story_service_server::StoryServiceServer::new(story_api),
            )
            .add_service(FeedbackServiceServer::new(feedback));
        let served = self.host.run(routes, GRPC_NAMES).await;
        let _ = upkeep.await;
        let _ = mixer.await;
        let _ = retention.await;
        served
    }
}

pub async fn migrate(settings: &Settings, data_dir: &std::path::Path) -> anyhow::Result<()> {
    valued_platform::host::migrate::<db::Migrator>(NAME, &settings.database, data_dir).await
}
