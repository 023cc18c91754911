//! The voting service: ballots, their choices and votes, one counted vote per voter per ballot,
//! each appended to its ballot's tamper-evident ledger and counted in a maintained tally
//! ([`ledger`]). A campaign's vote may be for staff only ([`eligibility`]); bursts of votes from one
//! network or email domain toward one finalist are held for an admin's check ([`held`]). A
//! campaign's own admins run its vote ([`organisers`]); a staff-only vote may take the work-email
//! domains the trusts taking part have set ([`trust_domains`]).
//! Publishes `ballot.opened.v1` through its outbox (nothing per vote but the voter's own receipt:
//! see [`db::queries::cast_votes`]), and the public vote's
//! moments as they pass ([`moments`]): `vote.opened.v1`, `vote.results_released.v1`; and the
//! voters' own emails (`voter.verification_requested.v1`, `voter.vote_counted.v1`,
//! `voter.results_released.v1`).

pub mod db;
pub mod domain;
pub mod eligibility;
pub mod error;
pub mod finalists;
mod grpc;
pub mod held;
pub mod intake;
pub mod ledger;
pub mod moments;
pub mod organisers;
pub mod schedule;
pub mod subject_access;
pub mod trust_domains;
pub mod verification;

pub use grpc::PUBLIC_RPCS;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tonic::service::Routes;
use valued_platform::auth::OidcSettings;
use valued_platform::auth::roles::Admins;
use valued_platform::host::ServiceHost;
use valued_platform::{DatabaseSettings, GrpcSettings, Platform};
use valued_proto::voting::v1::voting_service_server::VotingServiceServer;

pub const NAME: &str = "voting";
const GRPC_NAMES: &[&str] = &["valued.voting.v1.VotingService"];

/// The voter-key secret used when none is configured. Fine on a laptop; production must set
/// `VALUED__VOTING__VOTER_KEY_SECRET`, or anyone with this source could test guessed emails
/// against the stored keys.
pub const DEV_ONLY_VOTER_KEY_SECRET: &str = "dev-only-voter-key-change-me";

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub grpc: GrpcSettings,
    /// The HMAC key that turns a voter's email into the key stored with their vote. Changing it
    /// makes every earlier voter look new, so it must stay fixed while any ballot is open.
    pub voter_key_secret: SecretString,
    /// The OpenID Connect issuer and audience signed-in admins' ID tokens are checked against
    /// (`valued` takes them from `nomination.auth` when not set). Roles come from this service's
    /// own copy of the grants.
    pub auth: OidcSettings,
    /// How often one client address and one voter's address may vote.
    pub rate_limits: valued_platform::limits::RateLimits,
    /// How long handled events' inbox rows are kept.
    pub retention: valued_platform::inbox::InboxRetention,
    /// How long a voter's emailed link and code, and the voter pass they give, last.
    pub verification: verification::VerificationSettings,
    /// When a burst of votes from one network or email domain toward one finalist is held for a
    /// check (see [`held`]).
    pub flags: held::FlagSettings,
    /// How often the public votes' timetables are checked for moments to announce.
    pub moments: moments::MomentSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database: DatabaseSettings::default(),
            grpc: GrpcSettings::default(),
            voter_key_secret: SecretString::from(DEV_ONLY_VOTER_KEY_SECRET),
            auth: OidcSettings::default(),
            rate_limits: valued_platform::limits::RateLimits::default(),
            retention: valued_platform::inbox::InboxRetention::default(),
            verification: verification::VerificationSettings::default(),
            flags: held::FlagSettings::default(),
            moments: moments::MomentSettings::default(),
        }
    }
}

impl Settings {
    /// Whether the voter key is the compiled-in development one.
    pub fn uses_development_key(&self) -> bool {
        self.voter_key_secret.expose_secret() == DEV_ONLY_VOTER_KEY_SECRET
    }
}

pub struct Application {
    host: ServiceHost,
    voter_key_secret: SecretString,
    rate_limits: valued_platform::limits::RateLimits,
    verification: verification::VerificationSettings,
    guard: held::Guard,
    moments: moments::MomentSettings,
    admins: Admins,
}

impl Application {
    pub async fn build(settings: &Settings, platform: Platform) -> anyhow::Result<Self> {
        let mut host =
            ServiceHost::start::<db::Migrator>(NAME, &settings.database, &settings.grpc, platform)
                .await?;
        let admins = host.admins(&settings.auth).await?;
        host.retain_messaging(settings.retention);
        let announced = finalists::subscription();
        let consumer = announced.consumer.clone();
        host.consume(
            announced,
            valued_platform::inbox::Idempotent::new(
                &consumer,
                host.db.clone(),
                finalists::Finalists,
            ),
        )
        .await?;
        let trusts = trust_domains::subscription();
        let consumer = trusts.consumer.clone();
        host.consume(
            trusts,
            valued_platform::inbox::Idempotent::new(
                &consumer,
                host.db.clone(),
                trust_domains::TrustDomains,
            ),
        )
        .await?;
        // Votes are kept only under a keyed hash (see `erasure` in README); staff lists lose the
        // person, and voters' addresses kept while an email needs them (see `verification`) go.
        let secret = settings.voter_key_secret.clone();
        host.erasure((
            eligibility::Erasure {
                secret: secret.clone(),
            },
            subject_access::Voters { secret },
        ))
        .await?;
        if settings.uses_development_key() {
            tracing::warn!("voting uses the development voter-key secret; set voter_key_secret");
        }
        Ok(Self {
            host,
            voter_key_secret: settings.voter_key_secret.clone(),
            rate_limits: settings.rate_limits,
            verification: settings.verification,
            guard: held::Guard::new(&settings.flags, &settings.voter_key_secret),
            moments: settings.moments,
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
        let timetable = {
            let (db, outbox, guard) =
                (self.host.db.clone(), self.host.outbox(), self.guard.clone());
            valued_platform::periodic::every(
                "public vote timetable",
                std::time::Duration::from_secs(self.moments.check_seconds.max(1)),
                self.host.platform.shutdown.clone(),
                move || {
                    let (db, outbox, guard) = (db.clone(), outbox.clone(), guard.clone());
                    async move {
                        let now = chrono::Utc::now();
                        let announced = moments::round(&db, &outbox, now).await?;
                        if announced != moments::Announced::default() {
                            tracing::info!(?announced, "public vote moments announced");
                        }
                        let forgotten = verification::purge_expired(&db, now).await?;
                        if forgotten > 0 {
                            tracing::info!(forgotten, "expired voter addresses forgotten");
                        }
                        let receipts = held::forget_receipts(&db, now).await?;
                        if receipts > 0 {
                            tracing::info!(receipts, "held votes' receipt addresses forgotten");
                        }
                        let cleared = guard.forget_signals(&db, now).await?;
                        if cleared > 0 {
                            tracing::info!(cleared, "votes' network and domain digests forgotten");
                        }
                        Ok(())
                    }
                },
            )
        };
        let intake = intake::Intake::new(
            self.host.db.clone(),
            self.host.outbox(),
            self.guard,
            self.voter_key_secret.clone(),
        );
        let api = grpc::VotingApi {
            db: self.host.db.clone(),
            outbox: self.host.outbox(),
            voter_key_secret: self.voter_key_secret,
            rate_limits: self.rate_limits,
            verification: self.verification,
            intake,
            admins: self.admins,
        };
        let served = self
            .host
            .run(Routes::new(VotingServiceServer::new(api)), GRPC_NAMES)
            .await;
        let _ = timetable.await;
        served
    }
}

pub async fn migrate(settings: &Settings, data_dir: &std::path::Path) -> anyhow::Result<()> {
    valued_platform::host::migrate::<db::Migrator>(NAME, &settings.database, data_dir).await
}
