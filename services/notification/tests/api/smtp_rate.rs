//! The deployment-wide rate to the SMTP relay (`sender.max_per_second`): however many replicas
//! send, the relay sees no more than the rate (and one second's burst) in any window.
//!
//! The bucket's bound is exact for its tokens (see the unit tests of `db::smtp_rate`); an email
//! reaches the relay after its token by its round's claim, policy decision and send, and when one
//! round takes longer than a later one (a busy machine: measured here, 41 in a second about one run
//! in three), their emails arrive closer together than their tokens were taken.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::helpers::{TestApp, confirmation_requested, envelope, spawn_app, spawn_app_with};

const RATE: u32 = 20;
/// The bucket holds one second's worth.
const BURST: u32 = RATE;
/// Emails the relay may see in a second beyond the tokens' bound: a quarter of a second's worth of
/// variation in the time from a token to its email's arrival.
const LAG_ALLOWANCE: u32 = RATE / 4;

/// The most emails the sink received in any one-second window.
fn busiest_second(received: &[Instant]) -> usize {
    let mut times = received.to_vec();
    times.sort_unstable();
    times
        .iter()
        .enumerate()
        .map(|(i, start)| {
            times[i..]
                .iter()
                .take_while(|t| **t - *start < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

impl TestApp {
    /// The rate's bucket as stored: tokens, refill time (seconds since the epoch), last grant.
    async fn smtp_rate_row(&self) -> (f64, f64, i64) {
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT tokens, refilled_at, granted FROM smtp_rate",
            ))
            .await
            .unwrap()
            .expect("the bucket's row");
        (
            row.try_get_by_index(0).unwrap(),
            row.try_get_by_index(1).unwrap(),
            row.try_get_by_index(2).unwrap(),
        )
    }
}

#[tokio::test]
async fn two_replicas_share_one_rate_and_send_every_email_once() {
    const EMAILS: usize = 120;
    let app = spawn_app_with(|settings| settings.sender.max_per_second = RATE).await;
    // A second replica on the same database, with a From of its own to tell its emails apart.
    let second = app
        .replica(|settings| {
            settings.sender.max_per_second = RATE;
            settings.email.from = "Valued <replica-two@valued.example.org>".into();
        })
        .await;

    let started = Instant::now();
    for i in 0..EMAILS {
        app.publish(&envelope(&confirmation_requested(&format!(
            "nominator-{i}@example.org"
        ))))
        .await;
    }
    let received = app.smtp.wait_for(EMAILS, Duration::from_secs(30)).await;
    assert_eq!(received.len(), EMAILS, "every email arrived");
    let elapsed = received
        .iter()
        .map(|email| email.received_at)
        .max()
        .unwrap()
        - started;
    // Nothing more arrives later: each email went once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = app.smtp.received();
    assert_eq!(received.len(), EMAILS);
    let message_ids: HashSet<_> = received.iter().map(|e| e.message_id()).collect();
    assert_eq!(message_ids.len(), EMAILS, "no email sent twice");
    let deliveries = app.settled().await;
    assert!(deliveries.iter().all(|d| d.status == "sent"));

    let by_second = received
        .iter()
        .filter(|e| e.mail_from == "replica-two@valued.example.org")
        .count();
    assert!(
        by_second > 0 && by_second < EMAILS,
        "both replicas sent: {by_second} of {EMAILS} by the second"
    );
    // The relay saw the rate, not the rate per replica (two replicas limited each on its own could
    // send 80 in a second; without a rate, 102 arrived within one second here): no second held more
    // than the rate and the burst (and the allowance for the lag), and the whole took at least as
    // long as the tokens beyond the burst take to come, which is exact.
    let times: Vec<Instant> = received.iter().map(|e| e.received_at).collect();
    let busiest = busiest_second(&times);
    assert!(
        busiest <= (RATE + BURST + LAG_ALLOWANCE) as usize,
        "{busiest} emails in one second"
    );
    let least = Duration::from_secs_f64(f64::from(EMAILS as u32 - BURST) / f64::from(RATE));
    assert!(elapsed >= least, "{elapsed:?}, at least {least:?}");
    drop(second);
}

#[tokio::test]
async fn without_a_rate_the_bucket_is_never_touched() {
    let app = spawn_app().await;
    for i in 0..5 {
        app.publish(&envelope(&confirmation_requested(&format!(
            "nominator-{i}@example.org"
        ))))
        .await;
    }
    assert_eq!(app.smtp.wait_for(5, Duration::from_secs(10)).await.len(), 5);
    // As the migration left it: empty at the epoch, nothing ever granted.
    assert_eq!(app.smtp_rate_row().await, (0.0, 0.0, 0));
}

#[tokio::test]
async fn an_idle_sender_leaves_the_shared_bucket_alone_until_an_email_is_due() {
    let app = spawn_app_with(|settings| settings.sender.max_per_second = RATE).await;
    // Several of the sender's polls (every 250 ms) with nothing to send.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        app.smtp_rate_row().await,
        (0.0, 0.0, 0),
        "no poll locked or wrote the bucket"
    );
    app.publish(&envelope(&confirmation_requested("nominator@example.org")))
        .await;
    assert_eq!(app.smtp.wait_for(1, Duration::from_secs(10)).await.len(), 1);
    let (_, refilled_at, granted) = app.smtp_rate_row().await;
    assert!(
        refilled_at > 0.0 && granted > 0,
        "the email took its token from the bucket"
    );
}
