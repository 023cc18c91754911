//! The nomination service: campaigns, the trusts they are open to, categories and nominations.
//! Publishes `nomination.*` events through its outbox.

pub mod admin;
pub mod auth;
pub mod db;
pub mod domain;
pub mod erasure;
pub mod error;
mod grpc;
mod nominees;
pub mod organisations;
pub mod public;
pub mod public_vote;
pub mod retention;
pub mod subject_access;

use serde::Deserialize;
use tonic::service::Routes;
use valued_platform::host::ServiceHost;
use valued_platform::inbox::Idempotent;
use valued_platform::{DatabaseSettings, GrpcSettings, Platform};
use valued_proto::nomination::v1::nomination_service_server::NominationServiceServer;

pub use db::seed::DEMO_CAMPAIGN_SLUG;
pub use grpc::PUBLIC_RPCS;

pub const NAME: &str = "nomination";
const GRPC_NAMES: &[&str] = &["valued.nomination.v1.NominationService"];

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub grpc: GrpcSettings,
    /// Seed the demo campaign when it is missing.
    pub seed_demo: bool,
    /// Nominations one person (by email) may make to one campaign that sets no limit of its own.
    pub nominations_per_nominator: u64,
    /// How long a saved draft and its resume link last.
    pub draft_days: u32,
    /// Admin sign-in: the OpenID Connect issuer whose ID tokens admin calls carry.
    pub auth: auth::AuthSettings,
    /// How long what never counted is kept.
    pub retention: retention::RetentionSettings,
    /// How often one client address and one email address may take each public action.
    pub rate_limits: valued_platform::limits::RateLimits,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database: DatabaseSettings::default(),
            grpc: GrpcSettings::default(),
            seed_demo: false,
            nominations_per_nominator: 20,
            draft_days: 30,
            auth: auth::AuthSettings::default(),
            retention: retention::RetentionSettings::default(),
            rate_limits: valued_platform::limits::RateLimits::default(),
        }
    }
}

pub struct Application {
    host: ServiceHost,
    limits: public::submit::Limits,
    rate_limits: valued_platform::limits::RateLimits,
    draft_lifetime: chrono::Duration,
    auth: auth::AuthSettings,
    sign_in: Option<std::sync::Arc<valued_platform::auth::sign_in_link::SigningKey>>,
    retention: retention::RetentionSettings,
}

impl Application {
    pub async fn build(settings: &Settings, platform: Platform) -> anyhow::Result<Self> {
        let sign_in = settings.auth.signing_key()?.map(std::sync::Arc::new);
        let mut host =
            ServiceHost::start::<db::Migrator>(NAME, &settings.database, &settings.grpc, platform)
                .await?;
        host.erasure(erasure::Nominations).await?;
        let answers = erasure::answers_subscription();
        let consumer = answers.consumer.clone();
        host.consume(
            answers,
            Idempotent::new(&consumer, host.db.clone(), erasure::Answers),
        )
        .await?;
        let vote = public_vote::subscription();
        let consumer = vote.consumer.clone();
        host.consume(
            vote,
            Idempotent::new(
                &consumer,
                host.db.clone(),
                public_vote::PublicVote {
                    outbox: host.outbox(),
                },
            ),
        )
        .await?;
        host.retain_messaging(valued_platform::inbox::InboxRetention {
            inbox_days: settings.retention.inbox_days,
            check_seconds: settings.retention.check_seconds,
        });
        let (seed_demo, outbox) = (settings.seed_demo, host.outbox());
        host.once_database_reachable("seeding and announcing the role grants", move |db| {
            let outbox = outbox.clone();
            async move {
                if seed_demo {
                    db::seed::demo(&db).await?;
                }
                auth::announce_all(&db, &outbox).await?;
                Ok(())
            }
        })
        .await?;
        let limits = public::submit::Limits {
            per_nominator: settings.nominations_per_nominator,
        };
        Ok(Self {
            host,
            limits,
            rate_limits: settings.rate_limits,
            draft_lifetime: chrono::Duration::days(i64::from(settings.draft_days)),
            auth: settings.auth.clone(),
            sign_in,
            retention: settings.retention.clone(),
        })
    }

    /// A single-use sign-in link's token for `email`, made without sending email: `valued up`
    /// prints one for the first platform admin. Refused unless the address may sign in.
    pub async fn sign_in_link_for(&self, email: &str) -> anyhow::Result<String> {
        let email = valued_platform::domain::EmailAddress::parse("email", email)
            .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))?;
        Ok(auth::links::first_link(&self.host.db, &self.auth, &email).await?)
    }

    pub fn port(&self) -> u16 {
        self.host.port()
    }

    pub fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.host.db
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let purge = {
            let (db, settings) = (self.host.db.clone(), self.retention.clone());
            valued_platform::periodic::every(
                "nomination retention",
                std::time::Duration::from_secs(self.retention.check_seconds.max(1)),
                self.host.platform.shutdown.clone(),
                move || {
                    let (db, settings) = (db.clone(), settings.clone());
                    async move {
                        let purged = retention::purge(&db, &settings, chrono::Utc::now()).await?;
                        auth::links::forget_expired(&db).await?;
                        if purged != retention::Purged::default() {
                            tracing::info!(?purged, "retention purge");
                        }
                        Ok(())
                    }
                },
            )
        };
        // Imports started from the browser are written by the replica that took them; this
        // round takes over one whose replica stopped, once its lease has run out.
        let imports = {
            let db = self.host.db.clone();
            valued_platform::periodic::every(
                "organisations imports",
                std::time::Duration::from_secs(5),
                self.host.platform.shutdown.clone(),
                move || {
                    let db = db.clone();
                    async move {
                        organisations::run_pending(&db).await?;
                        Ok(())
                    }
                },
            )
        };
        let api = grpc::NominationApi {
            db: self.host.db.clone(),
            outbox: self.host.outbox(),
            limits: self.limits,
            rate_limits: self.rate_limits,
            draft_lifetime: self.draft_lifetime,
            verifier: std::sync::Arc::new(auth::Verifier::new(self.auth.oidc())),
            auth: self.auth,
            sign_in: self.sign_in,
        };
        let served = self
            .host
            .run(
                // A campaign's page takes files larger than tonic's default 4 MB message.
                Routes::new(
                    NominationServiceServer::new(api)
                        .max_decoding_message_size(valued_platform::grpc::FILE_MESSAGE_MAX_BYTES),
                ),
                GRPC_NAMES,
            )
            .await;
        let _ = purge.await;
        let _ = imports.await;
        served
    }
}

pub async fn migrate(settings: &Settings, data_dir: &std::path::Path) -> anyhow::Result<()> {
    valued_platform::host::migrate::<db::Migrator>(NAME, &settings.database, data_dir).await
}
