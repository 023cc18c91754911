//! The survey-feedback service: surveys and their anonymous responses, reported per staff group
//! with small groups suppressed. Publishes `survey.response_recorded.v1` through its outbox.

pub mod db;
pub mod domain;
pub mod error;
mod grpc;

pub use grpc::PUBLIC_RPCS;

use serde::Deserialize;
use tonic::service::Routes;
use valued_platform::auth::OidcSettings;
use valued_platform::auth::roles::Admins;
use valued_platform::host::ServiceHost;
use valued_platform::{DatabaseSettings, GrpcSettings, Platform};
use valued_proto::survey::v1::survey_service_server::SurveyServiceServer;

pub const NAME: &str = "survey-feedback";
const GRPC_NAMES: &[&str] = &["valued.survey.v1.SurveyService"];

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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database: DatabaseSettings::default(),
            grpc: GrpcSettings::default(),
            minimum_group_size: 11,
            auth: OidcSettings::default(),
            retention: valued_platform::inbox::InboxRetention::default(),
        }
    }
}

pub struct Application {
    host: ServiceHost,
    minimum_group_size: u32,
    admins: Admins,
}

impl Application {
    pub async fn build(settings: &Settings, platform: Platform) -> anyhow::Result<Self> {
        let mut host =
            ServiceHost::start::<db::Migrator>(NAME, &settings.database, &settings.grpc, platform)
                .await?;
        let admins = host.admins(&settings.auth).await?;
        // Nothing here is kept by email address (see `erasure` in README).
        host.erasure(valued_platform::erasure::NothingByEmail)
            .await?;
        host.retain_messaging(settings.retention);
        Ok(Self {
            host,
            minimum_group_size: settings.minimum_group_size,
            admins,
        })
    }

    pub fn port(&self) -> u16 {
        self.host.port()
    }

    pub fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.host.db
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let api = grpc::SurveyApi {
            db: self.host.db.clone(),
            outbox: self.host.outbox(),
            minimum_group_size: self.minimum_group_size,
            admins: self.admins,
        };
        self.host
            .run(Routes::new(SurveyServiceServer::new(api)), GRPC_NAMES)
            .await
    }
}

pub async fn migrate(settings: &Settings, data_dir: &std::path::Path) -> anyhow::Result<()> {
    valued_platform::host::migrate::<db::Migrator>(NAME, &settings.database, data_dir).await
}
