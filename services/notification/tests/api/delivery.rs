use std::time::Duration;

use crate::helpers::{nomination_submitted, spawn_app};

#[tokio::test]
async fn a_nomination_sends_a_confirmation_and_a_review_request() {
    let app = spawn_app().await;
    app.publish(&nomination_submitted("alex@example.org")).await;
    let emails = app.smtp.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(emails.len(), 2);
    let mut recipients: Vec<String> = emails.iter().map(|e| e.rcpt_to.join(",")).collect();
    recipients.sort();
    assert_eq!(recipients, ["alex@example.org", "awards@gstt.example.org"]);
    for email in &emails {
        assert_eq!(
            email.content_types(),
            ["multipart/alternative", "text/plain", "text/html"]
        );
        assert!(email.message_id().ends_with("@valued.delivery"));
        assert!(
            email
                .header("From")
                .unwrap()
                .contains("no-reply@valued.example.org")
        );
    }
    let deliveries = app.settled().await;
    assert!(
        deliveries
            .iter()
            .all(|d| d.status == "sent" && d.attempts == 1)
    );
}

#[tokio::test]
async fn the_same_event_delivered_three_times_sends_once() {
    let app = spawn_app().await;
    let envelope = nomination_submitted("alex@example.org");
    for _ in 0..3 {
        app.publish(&envelope).await;
    }
    app.smtp.wait_for(2, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.smtp.received().len(), 2);
    assert_eq!(app.deliveries().await.len(), 2);
}

#[tokio::test]
async fn concurrent_duplicates_still_send_once() {
    let app = spawn_app().await;
    let envelope = nomination_submitted("alex@example.org");
    tokio::join!(
        app.publish(&envelope),
        app.publish(&envelope),
        app.publish(&envelope)
    );
    app.smtp.wait_for(2, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.smtp.received().len(), 2);
}

#[tokio::test]
async fn a_temporary_smtp_failure_is_retried_and_then_sent() {
    let app = spawn_app().await;
    app.smtp.fail_next(2, "451 4.3.0 Try again later");
    app.publish(&nomination_submitted("alex@example.org")).await;
    let emails = app.smtp.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(emails.len(), 2);
    let deliveries = app.settled().await;
    assert!(deliveries.iter().all(|d| d.status == "sent"));
    let attempts: u32 = deliveries.iter().map(|d| d.attempts).sum();
    assert_eq!(attempts, 4, "two failed attempts, then one success each");
}

#[tokio::test]
async fn a_permanent_smtp_failure_is_not_retried() {
    let app = spawn_app().await;
    app.smtp.fail_next(1, "550 5.1.1 No such user");
    app.publish(&nomination_submitted("alex@example.org")).await;
    let deliveries = app.settled().await;
    let failed: Vec<_> = deliveries.iter().filter(|d| d.status == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 1);
    assert!(failed[0].last_error.contains("550"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.smtp.received().len(), 1, "only the other email went");
}

#[tokio::test]
async fn an_event_without_a_usable_admin_address_still_confirms_to_the_nominator() {
    let app = spawn_app().await;
    let mut envelope = nomination_submitted("alex@example.org");
    let mut event: valued_proto::events::v1::NominationSubmitted = envelope.decode().unwrap();
    event.trust_admin_email = "not an address\r\nBcc: x@y.z".into();
    envelope.payload = prost::Message::encode_to_vec(&event);
    app.publish(&envelope).await;
    let emails = app.smtp.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.smtp.received().len(), 1);
    assert_eq!(emails[0].rcpt_to, ["alex@example.org"]);
}

/// What the due-email age gauge reads: the longest-waiting email that is due and unsent, whether
/// waiting to be claimed or claimed; one not yet due, or sent, does not count.
#[tokio::test]
async fn the_oldest_due_email_is_the_longest_waiting_unsent_one() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    use valued_notification::db::delivery::{self, Column, Entity, status};

    // The database alone, no sender: the rows stay as written.
    let (_, db) = crate::mps_support::fresh_database().await;
    assert_eq!(delivery::oldest_due(&db).await.unwrap(), None);
    let mut ids = Vec::new();
    for recipient in [
        "a@example.org",
        "b@example.org",
        "c@example.org",
        "d@example.org",
    ] {
        ids.push(recorded(&db, recipient).await);
    }
    let now = chrono::Utc::now();
    let set = |id: uuid::Uuid, status: &'static str, due: chrono::DateTime<chrono::Utc>| {
        let db = db.clone();
        async move {
            Entity::update_many()
                .col_expr(Column::Status, Expr::value(status))
                .col_expr(Column::NextAttemptAt, Expr::value(due))
                .filter(Column::Id.eq(id))
                .exec(&db)
                .await
                .unwrap();
        }
    };
    let minutes = chrono::Duration::minutes;
    set(ids[0], status::SENT, now - minutes(60)).await;
    set(ids[1], status::SENDING, now - minutes(10)).await;
    set(ids[2], status::PENDING, now - minutes(5)).await;
    set(ids[3], status::PENDING, now + minutes(30)).await;
    let oldest = delivery::oldest_due(&db).await.unwrap().unwrap();
    assert_eq!(
        oldest.timestamp_millis(),
        (now - minutes(10)).timestamp_millis(),
        "the claimed one due 10 minutes ago; not the sent one, nor the one due later"
    );
}

/// What a sender claims: lapsed claims (their sender died) and due emails, oldest first, up to its
/// batch; never one not yet due, one another sender's claim still holds, or one another sender is
/// claiming at this moment (it skips that row instead of waiting for it). Each comes back claimed.
#[tokio::test]
async fn a_claim_takes_lapsed_and_due_emails_oldest_first_and_skips_what_others_hold() {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
    use valued_notification::db::delivery::{self, Column, Entity, status};

    // The database alone, no sender: the rows stay as written.
    let (_, db) = crate::mps_support::fresh_database().await;
    let now = chrono::Utc::now();
    let minutes = chrono::Duration::minutes;
    // (status, due, claimed until)
    let rows = [
        (status::PENDING, now - minutes(5), None),
        (status::PENDING, now - minutes(20), None),
        (status::PENDING, now + minutes(30), None),
        (status::SENDING, now - minutes(2), Some(now - minutes(1))),
        (status::SENDING, now - minutes(40), Some(now + minutes(10))),
        (status::SENT, now - minutes(60), None),
    ];
    let mut ids = Vec::new();
    for (n, (status, due, claimed_until)) in rows.into_iter().enumerate() {
        let recipient = format!("r{n}@example.org");
        let id = recorded(&db, &recipient).await;
        Entity::update_many()
            .col_expr(Column::Status, Expr::value(status))
            .col_expr(Column::NextAttemptAt, Expr::value(due))
            .col_expr(Column::ClaimedUntil, Expr::value(claimed_until))
            .filter(Column::Id.eq(id))
            .exec(&db)
            .await
            .unwrap();
        ids.push(id);
    }
    let lease = chrono::Duration::seconds(60);
    let claimed_ids = |rows: &[delivery::Model]| rows.iter().map(|r| r.id).collect::<Vec<_>>();

    // Two at most: the lapsed claim first, then the email due longest, in the order they fell due.
    let first = delivery::claim_due(&db, 2, lease).await.unwrap();
    assert_eq!(claimed_ids(&first), [ids[1], ids[3]]);
    for row in &first {
        assert_eq!(row.status, status::SENDING);
        assert!(row.claimed_until.unwrap() > now + chrono::Duration::seconds(50));
    }

    // Another sender is claiming the last due email: it is skipped, not waited for.
    let other = db.begin().await.unwrap();
    other
        .execute_unprepared(&format!(
            "SELECT id FROM delivery WHERE id = '{}' FOR UPDATE",
            ids[0]
        ))
        .await
        .unwrap();
    let skipped = tokio::time::timeout(Duration::from_secs(5), delivery::claim_due(&db, 10, lease))
        .await
        .expect("the claim skips the locked row instead of waiting")
        .unwrap();
    assert!(skipped.is_empty(), "{skipped:?}");
    other.rollback().await.unwrap();

    // Free again, it is the only one left: not the one due later, the one still held, or the sent.
    let last = delivery::claim_due(&db, 10, lease).await.unwrap();
    assert_eq!(claimed_ids(&last), [ids[0]]);
    let none = delivery::claim_due(&db, 10, lease).await.unwrap();
    assert!(none.is_empty(), "{none:?}");
}

/// An email to `recipient`, due now, as an event handler records it.
fn new_delivery(recipient: &str) -> valued_notification::db::delivery::NewDelivery {
    valued_notification::db::delivery::NewDelivery {
        cause_event_id: uuid::Uuid::now_v7(),
        recipient: recipient.into(),
        reply_to: None,
        sender_name: None,
        template: "nomination_confirm",
        email: valued_notification::email::RenderedEmail {
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
        },
        verdict: valued_notification::policy::Verdict::Send,
        unsolicited: None,
    }
}

/// Records [`new_delivery`] to `recipient` as an event handler does; returns its id.
async fn recorded(db: &sea_orm::DatabaseConnection, recipient: &str) -> uuid::Uuid {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use valued_notification::db::delivery::{self, Column, Entity};

    assert!(
        delivery::insert_once(db, new_delivery(recipient))
            .await
            .unwrap()
    );
    Entity::find()
        .filter(Column::Recipient.eq(recipient))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .id
}
