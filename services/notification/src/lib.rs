//! The notification service: turns events into emails, each sent exactly once per event, recipient
//! and template, through SMTP (or, in the embedded default, a readable file outbox).
//!
//! Two subscriptions, each with its own queue and inbox: `events` (consumer `notification`)
//! renders the emails each event asks for, and the MP digest ([`mps::digest`], consumer
//! `notification-mp-digest`) records the finalists and winners whose MP is to be told. Every
//! email's fate under the sending [`policy`] is decided once and recorded by [`db`] as a verdict;
//! the [`sender`] sends. Everything about MPs, the "Email your MP" letters included, is in [`mps`];
//! [`error::Error`] is the one error type, made a gRPC status in one place.

pub mod db;
pub mod email;
pub mod error;
mod events;
mod grpc;

pub use grpc::PUBLIC_RPCS;
pub mod erasure;
pub mod mps;
pub mod policy;
mod redact;
pub mod retention;
pub mod sender;
pub mod senders;
pub mod settings;
pub mod subject_access;
pub mod templates;
pub mod webhook;

use std::sync::Arc;

use tokio::sync::Notify;
use tonic::service::Routes;
use valued_platform::host::ServiceHost;
use valued_platform::inbox::Idempotent;
use valued_platform::{Platform, Subscription};
use valued_proto::notification::v1::notification_service_server::NotificationServiceServer;

pub use settings::Settings;

use crate::email::{EmailSender, FileOutbox, SmtpSender};
use crate::settings::Transport;

pub const NAME: &str = "notification";
const GRPC_NAMES: &[&str] = &["valued.notification.v1.NotificationService"];

pub struct Application {
    host: ServiceHost,
    sender: sender::Sender,
    mp_digest: mps::DigestJob,
    webhook: Option<webhook::WebhookServer>,
    letters: mps::write_to_mp::LetterDesk,
    retention: retention::RetentionJob,
    previews: Vec<valued_proto::notification::v1::TemplatePreview>,
    link_tokens: redact::LinkTokens,
    admins: valued_platform::auth::roles::Admins,
    developer_outbox: bool,
    rate_limits: valued_platform::limits::RateLimits,
}

impl Application {
    pub async fn build(settings: &Settings, platform: Platform) -> anyhow::Result<Self> {
        let (email, outbox): (Arc<dyn EmailSender>, _) = match settings.email.transport {
            Transport::Smtp => (Arc::new(SmtpSender::new(&settings.smtp)?), None),
            Transport::File => {
                let outbox = FileOutbox::new(platform.data_dir.join("outbox"))?;
                let dir = outbox.dir.clone();
                (Arc::new(outbox), Some(dir))
            }
        };
        Self::build_with(settings, platform, email, outbox).await
    }

    /// As [`Application::build`], with the email transport supplied by the caller.
    pub async fn build_with_sender(
        settings: &Settings,
        platform: Platform,
        email: Arc<dyn EmailSender>,
    ) -> anyhow::Result<Self> {
        Self::build_with(settings, platform, email, None).await
    }

    /// The application sending through `email`; `outbox` is the file transport's directory, whose
    /// emails retention deletes with the deliveries' bodies.
    async fn build_with(
        settings: &Settings,
        platform: Platform,
        email: Arc<dyn EmailSender>,
        outbox: Option<std::path::PathBuf>,
    ) -> anyhow::Result<Self> {
        let mut host =
            ServiceHost::start::<db::Migrator>(NAME, &settings.database, &settings.grpc, platform)
                .await?;
        let templates =
            Arc::new(templates::Templates::new()?.with_privacy_notice(&settings.email.public_url));
        let wake = Arc::new(Notify::new());
        let letters = mps::write_to_mp::LetterDesk {
            db: host.db.clone(),
            lookup: mps::PostcodeLookup::new(host.db.clone(), &settings.postcodes)?,
            templates: templates.clone(),
            public_url: settings.email.public_url.clone(),
            settings: settings.write_to_mp.clone(),
            unsolicited_per_day: settings.policy.unsolicited_per_recipient_per_day,
            sender_wake: wake.clone(),
            count_period: chrono::Duration::hours(
                i64::try_from(settings.mp_digest.period_hours.max(1)).unwrap_or(168),
            ),
            count_check_every: std::time::Duration::from_secs(
                settings.mp_digest.check_seconds.max(1),
            ),
        };
        let handler = events::Notifications::new(
            templates.clone(),
            events::Links::new(&settings.email.public_url),
            wake.clone(),
        )
        .with_policy(&settings.policy);
        let previews = handler
            .preview()
            .into_iter()
            .chain(mps::write_to_mp::preview(&templates))
            .chain(policy::summary::preview(&templates))
            .map(
                |(template, email)| valued_proto::notification::v1::TemplatePreview {
                    template: template.to_owned(),
                    subject: email.subject,
                    text_body: email.text,
                    html_body: email.html,
                    transactional: policy::kind(template) == policy::Kind::Transactional,
                },
            )
            .collect();
        host.consume(
            Subscription::new(events::CONSUMER, &handler.event_types()),
            Idempotent::new(events::CONSUMER, host.db.clone(), handler),
        )
        .await?;
        host.consume(
            Subscription::new(senders::CONSUMER, senders::EVENT_TYPES),
            Idempotent::new(senders::CONSUMER, host.db.clone(), senders::TrustSenders),
        )
        .await?;
        host.consume(
            Subscription::new(mps::digest::CONSUMER, mps::digest::EVENT_TYPES),
            Idempotent::new(
                mps::digest::CONSUMER,
                host.db.clone(),
                mps::digest::DigestItems,
            ),
        )
        .await?;
        let mp_digest = mps::DigestJob::new(
            host.db.clone(),
            mps::PostcodeLookup::new(host.db.clone(), &settings.postcodes)?,
            &settings.mp_digest,
            &settings.email.public_url,
            wake.clone(),
        )?;
        // On PostgreSQL the sender has connections of its own, so that its claims and marks never
        // queue behind the consumer's transactions (one per event, `bus.prefetch` at once).
        let sender_db = if valued_platform::db::is_postgres(&host.db)
            && settings.sender.database_connections > 0
        {
            let own = valued_platform::DatabaseSettings {
                max_connections: settings.sender.database_connections,
                ..settings.database.clone()
            };
            let own = valued_platform::db::connect(&own, &host.platform.data_dir, NAME).await?;
            valued_platform::metrics::watch_pool("notification.sender", &own);
            own
        } else {
            host.db.clone()
        };
        let sender = sender::Sender::new(settings, sender_db, email, wake, host.outbox())?;
        let webhook = webhook::WebhookServer::bind(&settings.webhook, host.db.clone()).await?;
        let admins = host.admins(&settings.auth).await?;
        host.erasure(erasure::Notifications).await?;
        let retention = retention::RetentionJob::new(host.db.clone(), settings, outbox);
        Ok(Self {
            retention,
            admins,
            developer_outbox: settings.developer_outbox,
            rate_limits: settings.rate_limits,
            host,
            sender,
            mp_digest,
            webhook,
            letters,
            previews,
            link_tokens: redact::LinkTokens::new(&settings.email.public_url),
        })
    }

    pub fn port(&self) -> u16 {
        self.host.port()
    }

    pub fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.host.db
    }

    /// The port of the bounce and complaint webhook, when it is on.
    pub fn webhook_port(&self) -> Option<u16> {
        self.webhook
            .as_ref()
            .and_then(|w| w.local_addr().ok())
            .map(|a| a.port())
    }

    /// The "Email your MP" desk, whose weekly counts this application sends.
    pub fn letters(&self) -> mps::write_to_mp::LetterDesk {
        self.letters.clone()
    }

    /// The MP digest job this application runs every `mp_digest.check_seconds`.
    pub fn mp_digest(&self) -> mps::DigestJob {
        self.mp_digest.clone()
    }

    /// The retention job this application runs every `retention.check_seconds`.
    pub fn retention(&self) -> retention::RetentionJob {
        self.retention.clone()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let due_age =
            sender::watch_due(self.sender.db.clone(), self.host.platform.shutdown.clone());
        let sender = self.sender.spawn(self.host.platform.shutdown.clone());
        let mp_digest = self.mp_digest.spawn(self.host.platform.shutdown.clone());
        let retention = self.retention.spawn(self.host.platform.shutdown.clone());
        let webhook = self
            .webhook
            .map(|w| w.spawn(self.host.platform.shutdown.clone()));
        let letter_counts = self
            .letters
            .clone()
            .spawn_counts(self.host.platform.shutdown.clone());
        let api = grpc::NotificationApi {
            db: self.host.db.clone(),
            letters: self.letters,
            previews: self.previews,
            link_tokens: self.link_tokens,
            admins: self.admins,
            developer_outbox: self.developer_outbox,
            rate_limits: self.rate_limits,
        };
        self.host
            .run(Routes::new(NotificationServiceServer::new(api)), GRPC_NAMES)
            .await?;
        let _ = sender.await;
        let _ = due_age.await;
        let _ = mp_digest.await;
        let _ = retention.await;
        let _ = letter_counts.await;
        if let Some(webhook) = webhook {
            let _ = webhook.await;
        }
        Ok(())
    }
}

pub async fn migrate(settings: &Settings, data_dir: &std::path::Path) -> anyhow::Result<()> {
    valued_platform::host::migrate::<db::Migrator>(NAME, &settings.database, data_dir).await
}
