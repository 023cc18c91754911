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
    assert_eq!(insert_all_once(&app.db, deliveries).await.unwrap(), 20);
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
