//! Erasing a person from the notification service: nothing more is sent to them, and no stored
//! email keeps their address or what was written to them.

use std::time::Duration;

use valued_platform::Envelope;
use valued_proto::events::v1::{ErasureRequested, NominationConfirmationRequested};

use crate::helpers::{envelope, spawn_app};

fn confirmation_for(email: &str) -> Envelope {
    envelope(&NominationConfirmationRequested {
        nomination_id: uuid::Uuid::now_v7().to_string(),
        campaign_name: "Health Heroes 2026".into(),
        nominator_name: "Alex Jones".into(),
        nominator_email: email.into(),
        nominee_name: "Sam Patel".into(),
        confirm_token: "a-live-confirm-token".into(),
    })
}

#[tokio::test]
async fn an_erased_person_is_sent_nothing_more_and_no_email_keeps_them() {
    let app = spawn_app().await;
    let sent = app
        .publish_and_receive(&confirmation_for("Alex@Example.org"), 1)
        .await;
    assert_eq!(sent.len(), 1);
    // The mail server is away: the next email to them waits.
    app.smtp.stop();
    app.publish(&confirmation_for("alex@example.org")).await;
    app.publish(&confirmation_for("someone.else@example.org"))
        .await;
    for _ in 0..200 {
        if app.deliveries().await.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    app.publish(&Envelope::new(
        "nomination",
        None,
        &ErasureRequested {
            request_id: uuid::Uuid::now_v7().to_string(),
            email: "alex@example.org".into(),
            requested_at: None,
            names: vec!["Alex Jones".into()],
        },
    ))
    .await;
    let mut erased = Vec::new();
    for _ in 0..200 {
        erased = app
            .deliveries()
            .await
            .into_iter()
            .filter(|d| !d.recipient.contains("someone.else"))
            .collect();
        if erased
            .iter()
            .all(|d| !d.recipient.to_lowercase().contains("alex"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(erased.len(), 2);
    for delivery in &erased {
        let text = format!("{delivery:?}").to_lowercase();
        assert!(!text.contains("alex"), "{delivery:?}");
        assert!(!text.contains("confirm-token"), "{delivery:?}");
    }
    assert!(
        erased.iter().any(|d| d.status == "erased"),
        "the waiting one is never sent: {erased:?}"
    );

    // Back: only the other person's email goes.
    app.smtp.restart().await.unwrap();
    app.smtp.wait_for(2, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received: Vec<String> = app
        .smtp
        .received()
        .iter()
        .flat_map(|e| e.rcpt_to.clone())
        .collect();
    assert_eq!(
        received
            .iter()
            .filter(|r| r.contains("someone.else"))
            .count(),
        1
    );
    assert_eq!(
        received
            .iter()
            .filter(|r| r.to_lowercase().contains("alex"))
            .count(),
        1,
        "only the email sent before the erasure: {received:?}"
    );
}

/// The race behind a flaky run: the person is erased while the sender holds their email (its
/// status `sending`), and the send then fails. The sender's retry must not revive it.
#[tokio::test]
async fn an_email_erased_while_it_is_being_sent_is_not_revived_by_the_senders_outcome() {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use valued_notification::db::delivery::{self, NewDelivery, Verdict, status};
    use valued_notification::email::RenderedEmail;

    let (_, db) = crate::mps_support::fresh_database().await;
    let cause = uuid::Uuid::now_v7();
    delivery::insert_once(
        &db,
        NewDelivery {
            cause_event_id: cause,
            recipient: "alex@example.org".into(),
            reply_to: None,
            sender_name: None,
            template: "nomination_confirm",
            email: RenderedEmail {
                subject: "Confirm".into(),
                text: "Hello Alex".into(),
                html: "<p>Hello Alex</p>".into(),
            },
            verdict: Verdict::Send,
            unsolicited: None,
        },
    )
    .await
    .unwrap();
    let claimed = delivery::claim_due(&db, 10, chrono::Duration::seconds(60))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let id = claimed[0].id;
    // What erasure does to an email not yet sent, while the sender is still at it.
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(status::ERASED))
        .filter(delivery::Column::Id.eq(id))
        .exec(&db)
        .await
        .unwrap();
    delivery::mark_retry(
        &db,
        id,
        1,
        "response error: incomplete response",
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    delivery::mark_failed(&db, id, 2, "given up").await.unwrap();
    let row = delivery::Entity::find_by_id(id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, status::ERASED);
    assert!(
        delivery::claim_due(&db, 10, chrono::Duration::seconds(60))
            .await
            .unwrap()
            .is_empty(),
        "nothing to send"
    );
}
