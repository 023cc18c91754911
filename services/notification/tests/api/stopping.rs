//! Stopping: the sender gives back the emails it claimed and has not started, so another replica
//! sends them at once instead of after the claim's lease.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use valued_notification::Application;
use valued_notification::db::delivery::{self, status};
use valued_notification::email::{EmailSender, SendError};
use valued_notification::settings::{EmailSettings, SenderSettings, Settings, Transport};
use valued_platform::bus::InProcessBus;
use valued_platform::{DatabaseSettings, EventBus, Platform, RelaySettings, Shutdown};
use valued_proto::events::v1::NominationConfirmationRequested;

use crate::helpers::envelope;

/// An SMTP server that takes its time: each email is accepted after 200 ms.
#[derive(Default)]
struct Slow {
    sent: AtomicUsize,
}

#[async_trait]
impl EmailSender for Slow {
    async fn send(&self, _: lettre::Message) -> Result<String, SendError> {
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.sent.fetch_add(1, Ordering::SeqCst);
        Ok("250 accepted".into())
    }
}

#[tokio::test]
async fn stopping_releases_the_claimed_emails_it_has_not_started() {
    valued_testkit::init_test_logging();
    let url = valued_testkit::postgres::fresh_database("notification")
        .await
        .unwrap();
    let bus = Arc::new(InProcessBus::new(3));
    let shutdown = Shutdown::new();
    let platform = Platform {
        bus: bus.clone() as Arc<dyn EventBus>,
        shutdown: shutdown.clone(),
        data_dir: std::env::temp_dir(),
        relay: RelaySettings::default(),
    };
    let mut settings = Settings {
        database: DatabaseSettings::postgres(url),
        email: EmailSettings {
            transport: Transport::Smtp,
            ..EmailSettings::default()
        },
        // One email at a time, and a lease far longer than the test: a claim left behind would
        // still be `sending` at the end.
        sender: SenderSettings {
            concurrency: 1,
            lease_seconds: 600,
            poll_interval_ms: 50,
            ..SenderSettings::default()
        },
        ..Settings::default()
    };
    settings.grpc = valued_testkit::grpc::settings();
    let slow = Arc::new(Slow::default());
    let app = Application::build_with_sender(&settings, platform, slow.clone())
        .await
        .unwrap();
    let db = app.db().clone();
    let running = tokio::spawn(app.run_until_stopped());

    for i in 0..10 {
        let event = NominationConfirmationRequested {
            nomination_id: uuid::Uuid::now_v7().to_string(),
            campaign_name: "Health Heroes 2026".into(),
            nominator_name: "Alex Jones".into(),
            nominator_email: format!("nominator-{i}@example.org"),
            nominee_name: "Sam Patel".into(),
            confirm_token: "c0ffee01".into(),
        };
        assert!(
            bus.publish(&[envelope(&event)])
                .await
                .iter()
                .all(Result::is_ok)
        );
    }
    // Wait until the sender holds several claims at once, one of them on the wire.
    let claimed = || async {
        delivery::Entity::find()
            .filter(delivery::Column::Status.eq(status::SENDING))
            .all(&db)
            .await
            .unwrap()
            .len()
    };
    for _ in 0..200 {
        if claimed().await >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(claimed().await >= 3, "the sender claimed a batch");

    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the service stops promptly")
        .unwrap()
        .unwrap();

    let rows = delivery::Entity::find().all(&db).await.unwrap();
    assert_eq!(rows.len(), 10);
    let sent = rows.iter().filter(|r| r.status == status::SENT).count();
    assert_eq!(
        sent,
        slow.sent.load(Ordering::SeqCst),
        "every accepted email marked sent"
    );
    let released: Vec<_> = rows.iter().filter(|r| r.status != status::SENT).collect();
    assert!(
        !released.is_empty(),
        "some emails were still waiting when it stopped"
    );
    for row in released {
        assert_eq!(row.status, status::PENDING, "given back, not left claimed");
        assert_eq!(row.claimed_until, None);
        assert_eq!(
            row.attempts, 0,
            "no attempt counted for an email never sent"
        );
        assert!(
            row.next_attempt_at <= chrono::Utc::now(),
            "due again at once"
        );
    }
}
