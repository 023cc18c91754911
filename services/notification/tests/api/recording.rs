//! Recording sent emails: a connection goes on to its next email while the last ones' sent marks
//! are written, but no more than `sender.unrecorded_at_most` emails are ever accepted by the SMTP
//! server and not yet recorded (the most a crash at that moment could send twice).

use std::time::Duration;

use sea_orm::{ConnectionTrait, TransactionTrait};

use valued_notification::db::delivery::{NewDelivery, insert_all_once};
use valued_notification::email::RenderedEmail;
use valued_notification::policy::Verdict;

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn while_the_sent_marks_cannot_be_written_a_sender_goes_on_only_up_to_its_bound() {
    let app = spawn_app_with(|settings| {
        settings.sender.concurrency = 2;
        settings.sender.unrecorded_at_most = 5;
    })
    .await;
    // Recording a sent email adds its `email.sent.v1` row to the outbox: held up here until the
    // lock goes.
    let lock = app.db.begin().await.unwrap();
    lock.execute_unprepared("LOCK TABLE outbox IN EXCLUSIVE MODE")
        .await
        .unwrap();
    // Twenty emails due at once, as one claim finds them.
    assert_eq!(twenty_due(&app).await, 20);
    app.smtp.wait_for(5, Duration::from_secs(10)).await;
    // Longer than a send takes: two connections would have sent the other fifteen by now.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        app.smtp.received_count(),
        5,
        "more than the two on the wire, no more than five unrecorded"
    );

    lock.commit().await.unwrap();
    app.smtp.wait_for(20, Duration::from_secs(10)).await;
    let deliveries = app.settled().await;
    assert_eq!(deliveries.len(), 20);
    assert!(
        deliveries.iter().all(|d| d.status == "sent"),
        "{deliveries:?}"
    );
    assert_eq!(app.smtp.received_count(), 20, "each sent once");
}

/// When a sent mark cannot be written, those emails stay sent and unrecorded until their claims
/// lapse: their places are not given to other emails, and the rest of the batch is given back unsent
/// rather than sent and later sent again.
#[tokio::test]
async fn when_the_sent_marks_fail_the_rest_of_the_batch_is_given_back_unsent() {
    let app = spawn_app_with(|settings| {
        settings.sender.concurrency = 2;
        settings.sender.unrecorded_at_most = 5;
        settings.sender.lease_seconds = 2;
        // A failed round is followed by a pause of four polls: one round is watched below.
        settings.sender.poll_interval_ms = 1_000;
    })
    .await;
    // Recording a sent email adds its `email.sent.v1` row to the outbox: every such write fails.
    app.db
        .execute_unprepared("ALTER TABLE outbox RENAME TO outbox_away")
        .await
        .unwrap();
    assert_eq!(twenty_due(&app).await, 20);
    app.smtp.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sent = app.smtp.received_count();
    assert!(
        (1..=5).contains(&sent),
        "{sent} sent while nothing could be recorded"
    );

    app.db
        .execute_unprepared("ALTER TABLE outbox_away RENAME TO outbox")
        .await
        .unwrap();
    let deliveries = app.settled().await;
    assert_eq!(deliveries.len(), 20);
    assert!(
        deliveries.iter().all(|d| d.status == "sent"),
        "{deliveries:?}"
    );
    // Each one arrived; only those sent while nothing could be recorded came twice.
    let received = app.smtp.received();
    for i in 0..20 {
        let to = format!("nominator-{i}@example.org");
        assert!(received.iter().any(|e| e.rcpt_to.join(",") == to), "{to}");
    }
    assert!(received.len() <= 20 + sent, "{} received", received.len());
}

/// Twenty deliveries due now, made in one transaction; returns how many were made.
async fn twenty_due(app: &crate::helpers::TestApp) -> u64 {
    let deliveries = (0..20)
        .map(|i| {
            let delivery = NewDelivery {
                cause_event_id: uuid::Uuid::now_v7(),
                recipient: format!("nominator-{i}@example.org"),
                reply_to: None,
                sender_name: None,
                template: "nomination_confirm",
                email: RenderedEmail {
                    subject: "Confirm your nomination".into(),
                    text: "Please confirm.".into(),
                    html: "<p>Please confirm.</p>".into(),
                },
                verdict: Verdict::Send,
                unsolicited: None,
            };
            (delivery, None)
        })
        .collect();
    insert_all_once(&app.db, deliveries).await.unwrap()
}
