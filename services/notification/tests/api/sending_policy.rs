//! What makes the emails trustworthy, against a real SMTP server: retries with backoff, the
//! suppression list, an SMTP outage, one-click unsubscribe, the per-recipient throttle and the
//! service-wide rate limit.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use valued_proto::events::v1 as ev;
use valued_proto::notification::v1::{GetUnsubscribeRequest, UnsubscribeRequest};
use valued_testkit::smtp::ReceivedEmail;

use crate::helpers::{
    PUBLIC_URL, TestApp, confirmation_requested, envelope, has_link, spawn_app, spawn_app_with,
};

/// Another transactional email to `to`: the nominee's notice with its consent link.
pub(crate) fn nominee_thanked(to: &str) -> ev::NomineeThanked {
    ev::NomineeThanked {
        nominee_id: uuid::Uuid::now_v7().to_string(),
        nomination_id: uuid::Uuid::now_v7().to_string(),
        campaign_name: "Health Heroes 2026".into(),
        trust_name: "Guy's and St Thomas' NHS Foundation Trust".into(),
        nominee_name: "Sam Patel".into(),
        recipient_email: to.into(),
        via_manager: false,
        consent_token: "c0a5e7".into(),
        nomination_count: 1,
        claim_token: String::new(),
        learning_routes: Vec::new(),
    }
}

fn recognised(nominee_email: &str) -> ev::RecognisedNominee {
    ev::RecognisedNominee {
        nominee_id: uuid::Uuid::now_v7().to_string(),
        nomination_id: uuid::Uuid::now_v7().to_string(),
        campaign_name: "Health Heroes 2026".into(),
        category_name: "Porter of the year".into(),
        trust_name: "Guy's and St Thomas' NHS Foundation Trust".into(),
        nominee_name: "Sam Patel".into(),
        nominee_job_title: "Porter".into(),
        nominee_email: nominee_email.into(),
        ..Default::default()
    }
}

/// A non-transactional email to `to`.
pub(crate) fn finalist(to: &str) -> ev::FinalistAnnounced {
    ev::FinalistAnnounced {
        finalist: Some(recognised(to)),
        announced_at: None,
        vote: None,
        ..Default::default()
    }
}

/// Another non-transactional email to `to`.
pub(crate) fn winner(to: &str) -> ev::WinnerAnnounced {
    ev::WinnerAnnounced {
        winner: Some(recognised(to)),
        announced_at: None,
    }
}

fn to(emails: &[ReceivedEmail], address: &str) -> usize {
    emails
        .iter()
        .filter(|e| e.rcpt_to.iter().any(|r| r == address))
        .count()
}

impl TestApp {
    /// The status of every delivery to `address`, oldest first.
    async fn statuses(&self, address: &str) -> Vec<String> {
        let mut deliveries = self.deliveries().await;
        deliveries.retain(|d| d.recipient == address);
        deliveries.reverse();
        deliveries.into_iter().map(|d| d.status).collect()
    }
}

#[tokio::test]
async fn a_temporary_failure_is_retried_with_backoff_and_sent_once() {
    let app = spawn_app().await;
    app.smtp.fail_next(2, "451 4.3.0 Try again later");
    let started = Instant::now();
    app.publish(&envelope(&confirmation_requested("alex@example.org")))
        .await;
    let emails = app.smtp.wait_for(1, Duration::from_secs(10)).await;
    // Backoff from 100 ms: the two retries waited 100 ms and 200 ms.
    assert!(started.elapsed() >= Duration::from_millis(300));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.smtp.received().len(), 1, "sent once");
    let deliveries = app.settled().await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].status, "sent");
    assert_eq!(deliveries[0].attempts, 3, "two 451s, then accepted");
    assert_eq!(emails[0].rcpt_to, ["alex@example.org"]);
}

#[tokio::test]
async fn a_rejected_address_is_suppressed_and_never_emailed_again() {
    let app = spawn_app().await;
    app.smtp.fail_next(1, "550 5.1.1 No such user");
    app.publish(&envelope(&confirmation_requested("gone@example.org")))
        .await;
    let deliveries = app.settled().await;
    assert_eq!(deliveries[0].status, "failed");
    assert_eq!(deliveries[0].attempts, 1, "a 5xx is not retried");
    assert!(deliveries[0].last_error.contains("550"));

    // Later emails to the address, transactional or not, from any trust: recorded, not sent.
    app.publish(&envelope(&nominee_thanked("Gone@Example.org")))
        .await;
    app.publish(&envelope(&finalist("gone@example.org"))).await;
    app.publish(&envelope(&confirmation_requested("alex@example.org")))
        .await;
    app.smtp.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = app.smtp.received();
    assert_eq!(to(&received, "gone@example.org"), 0);
    assert_eq!(
        to(&received, "alex@example.org"),
        1,
        "others still get theirs"
    );
    app.settled().await;
    assert_eq!(
        app.statuses("gone@example.org").await,
        ["failed", "suppressed", "suppressed"]
    );
}

#[tokio::test]
async fn a_refused_sender_address_suppresses_no_recipient() {
    let app = spawn_app().await;
    app.smtp
        .fail_next_mail_from(1, "553 5.7.1 Sender address rejected: not owned by user");
    app.publish(&envelope(&confirmation_requested("alex@example.org")))
        .await;
    let deliveries = app.settled().await;
    assert_eq!(deliveries[0].status, "failed");
    assert!(deliveries[0].last_error.contains("553"));
    // The recipient did nothing wrong: the next email to them goes.
    let emails = app
        .publish_and_receive(&envelope(&nominee_thanked("alex@example.org")), 1)
        .await;
    assert_eq!(emails.len(), 1);
}

#[tokio::test]
async fn an_address_suppressed_after_its_email_was_queued_is_not_sent_it() {
    let app = spawn_app_with(|settings| settings.sender.retry_base_ms = 1_000).await;
    // The first email is held back by a retry; meanwhile a second one is rejected.
    app.smtp.fail_next(1, "451 4.3.0 Try again later");
    app.publish(&envelope(&confirmation_requested("gone@example.org")))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.smtp.fail_next(1, "550 5.1.1 No such user");
    app.publish(&envelope(&nominee_thanked("gone@example.org")))
        .await;
    let deliveries = app.settled().await;
    let mut statuses: Vec<&str> = deliveries.iter().map(|d| d.status.as_str()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, ["failed", "suppressed"]);
    assert!(app.smtp.received().is_empty());
}

#[tokio::test]
async fn mail_waits_out_a_30_second_smtp_outage_none_lost_none_doubled() {
    let app = spawn_app_with(|settings| settings.sender.retry_max_ms = 2_000).await;
    // One email first, so the sender holds an open connection when the server goes.
    app.publish(&envelope(&confirmation_requested("first@example.org")))
        .await;
    app.smtp.wait_for(1, Duration::from_secs(10)).await;
    app.smtp.stop();
    let addresses: Vec<String> = (0..10).map(|i| format!("n{i}@example.org")).collect();
    for address in &addresses {
        app.publish(&envelope(&confirmation_requested(address)))
            .await;
    }
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(
        app.smtp.received().len(),
        1,
        "nothing got through the outage"
    );
    let waiting = app.deliveries().await;
    // Waiting, or in the middle of another attempt (claimed: `sending`) as the list is read.
    assert!(
        waiting
            .iter()
            .filter(|d| d.recipient != "first@example.org")
            .all(|d| matches!(d.status.as_str(), "pending" | "sending") && d.attempts > 1),
        "every email is waiting to be retried: {waiting:?}"
    );

    app.smtp.restart().await.unwrap();
    app.smtp.wait_for(11, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let received = app.smtp.received();
    assert_eq!(received.len(), 11, "none lost, none doubled");
    let ids: HashSet<String> = received.iter().map(ReceivedEmail::message_id).collect();
    assert_eq!(ids.len(), 11);
    for address in &addresses {
        assert_eq!(to(&received, address), 1, "{address}");
    }
    assert!(app.settled().await.iter().all(|d| d.status == "sent"));
}

#[tokio::test]
async fn unsubscribing_stops_the_next_non_transactional_email_but_not_a_transactional_one() {
    let app = spawn_app().await;
    let news = app
        .publish_and_receive(&envelope(&finalist("sam@example.org")), 1)
        .await;
    let header = news[0].header("List-Unsubscribe").unwrap();
    let url = header
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned();
    let prefix = format!("{PUBLIC_URL}/unsubscribe/");
    assert!(url.starts_with(&prefix), "{url}");
    let token = url[prefix.len()..].to_owned();
    assert_eq!(token.len(), 64, "an unguessable token");
    assert!(
        has_link(&news[0], &url),
        "the same link in the email, for people to see"
    );
    assert_eq!(
        news[0].header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );

    let mut client = app.client.clone();
    let page = client
        .get_unsubscribe(GetUnsubscribeRequest {
            token: token.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.masked_email, "s***@example.org");
    assert!(!page.unsubscribed);
    client
        .unsubscribe(UnsubscribeRequest {
            token: token.clone(),
            one_click: true,
        })
        .await
        .unwrap();
    let unknown = client
        .unsubscribe(UnsubscribeRequest {
            token: "0".repeat(64),
            one_click: true,
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);

    app.publish(&envelope(&winner("sam@example.org"))).await;
    let emails = app
        .publish_and_receive(&envelope(&nominee_thanked("sam@example.org")), 2)
        .await;
    assert_eq!(emails.len(), 2, "the transactional email still went");
    assert!(
        emails[1].header("List-Unsubscribe").is_none(),
        "transactional emails carry no unsubscribe link"
    );
    assert!(!emails[1].text_body().contains("/unsubscribe/"));
    assert!(!emails[1].html_body().contains("unsubscribe"));
    app.settled().await;
    let mut statuses = app.statuses("sam@example.org").await;
    statuses.sort_unstable();
    assert_eq!(statuses, ["sent", "sent", "unsubscribed"]);
}

#[tokio::test]
async fn non_transactional_emails_beyond_the_daily_limit_wait_for_a_free_slot() {
    let app = spawn_app_with(|settings| {
        settings.throttle.per_recipient_per_day = 2;
        settings.throttle.window_seconds = 4;
    })
    .await;
    let started = Instant::now();
    for _ in 0..3 {
        app.publish(&envelope(&finalist("sam@example.org"))).await;
    }
    app.smtp.wait_for(2, Duration::from_secs(10)).await;
    // A transactional email is not held back by the throttle.
    app.publish(&envelope(&nominee_thanked("sam@example.org")))
        .await;
    app.smtp.wait_for(3, Duration::from_secs(3)).await;
    let received = app.smtp.received();
    assert_eq!(
        received.len(),
        3,
        "two news emails and the transactional one"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    let held: Vec<_> = app
        .deliveries()
        .await
        .into_iter()
        .filter(|d| d.status == "pending")
        .collect();
    assert_eq!(held.len(), 1);
    assert!(held[0].last_error.starts_with("throttled"), "{held:?}");
    assert_eq!(held[0].attempts, 0, "waiting is not a failed attempt");

    let all = app.smtp.wait_for(4, Duration::from_secs(10)).await;
    assert_eq!(all.len(), 4, "the third news email went once a slot freed");
    assert!(started.elapsed() >= Duration::from_secs(4));
    assert!(app.settled().await.iter().all(|d| d.status == "sent"));
}

#[tokio::test]
async fn emails_held_back_by_the_throttle_go_together_as_one_summary() {
    let app = spawn_app_with(|settings| {
        settings.throttle.per_recipient_per_day = 1;
        // Long enough that the three below are all waiting when the slot frees, however busy the
        // machine running the tests is.
        settings.throttle.window_seconds = 8;
    })
    .await;
    app.publish(&envelope(&finalist("sam@example.org"))).await;
    app.smtp.wait_for(1, Duration::from_secs(10)).await;
    // Three more news emails the same day: over the limit, they wait for the next slot...
    app.publish(&envelope(&winner("sam@example.org"))).await;
    app.publish(&envelope(&finalist("sam@example.org"))).await;
    app.publish(&envelope(&winner("sam@example.org"))).await;
    // ...and when it frees, one summary carries all three.
    let emails = app.smtp.wait_for(2, Duration::from_secs(25)).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let emails = if emails.len() >= 2 {
        app.smtp.received()
    } else {
        emails
    };
    assert_eq!(
        to(&emails, "sam@example.org"),
        2,
        "the first, then one summary"
    );
    let summary = emails
        .iter()
        .find(|e| e.subject() == "3 updates from Valued")
        .expect("a summary");
    let text = summary.text_body();
    assert!(
        text.contains("Congratulations: you have won Porter of the year")
            && text.contains("Congratulations: you are a finalist in Health Heroes 2026"),
        "{text}"
    );
    assert!(summary.header("List-Unsubscribe").is_some());
    let mut statuses = app.statuses("sam@example.org").await;
    statuses.sort_unstable();
    assert_eq!(statuses, ["folded", "folded", "sent", "sent"]);
}

#[tokio::test]
async fn the_service_wide_rate_limit_spaces_out_sending() {
    let app = spawn_app_with(|settings| settings.sender.max_per_second = 5).await;
    for i in 0..10 {
        app.publish(&envelope(&confirmation_requested(&format!(
            "n{i}@example.org"
        ))))
        .await;
    }
    let emails = app.smtp.wait_for(10, Duration::from_secs(10)).await;
    assert_eq!(emails.len(), 10);
    let first = emails.iter().map(|e| e.received_at).min().unwrap();
    let last = emails.iter().map(|e| e.received_at).max().unwrap();
    // A burst of 5, then one every 200 ms.
    assert!(
        last - first >= Duration::from_millis(800),
        "{:?}",
        last - first
    );
}

/// Emails to one person held back at the same moment (as when a claimed batch holds several of
/// theirs) share one carrier: one waits for the slot, the others fold into it.
#[tokio::test]
async fn emails_held_back_at_the_same_moment_share_one_carrier() {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
    use valued_notification::db::delivery::{self, NewDelivery, insert_all_once, status};
    use valued_notification::email::RenderedEmail;
    use valued_notification::policy::{Verdict, summary};

    let app = spawn_app().await;
    let to = "sam@example.org";
    let news = |subject: &str| NewDelivery {
        cause_event_id: uuid::Uuid::now_v7(),
        recipient: to.into(),
        reply_to: None,
        sender_name: None,
        template: "winner_notice",
        email: RenderedEmail {
            subject: subject.into(),
            text: "t".into(),
            html: "h".into(),
        },
        verdict: Verdict::Send,
        unsolicited: None,
    };
    // Three claimed at once (so that the running sender leaves them alone), then held back together.
    let txn = app.db.begin().await.unwrap();
    let made = insert_all_once(
        &txn,
        ["one", "two", "three"]
            .map(|subject| (news(subject), None))
            .to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(made, 3);
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(status::SENDING))
        .col_expr(delivery::Column::ClaimedUntil, Expr::value(later))
        .filter(delivery::Column::Recipient.eq(to))
        .exec(&txn)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    let rows = delivery::Entity::find()
        .filter(delivery::Column::Recipient.eq(to))
        .all(&app.db)
        .await
        .unwrap();
    futures::future::try_join_all(
        rows.iter()
            .map(|row| summary::defer(&app.db, row, later, "throttled")),
    )
    .await
    .unwrap();

    let mut statuses = app.statuses(to).await;
    statuses.sort_unstable();
    assert_eq!(statuses, ["folded", "folded", "pending"]);
}
