//! The public vote's emails: a voter's receipt after each counted vote, the results to voters who
//! asked, and a finalist's news that voting opened and that the results are out (to the finalist,
//! not to their nominators), each once however often its event is delivered.

use std::time::Duration;

use valued_platform::Envelope;
use valued_proto::events::v1 as ev;

use crate::helpers::{envelope, spawn_app};

fn timestamp(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos: 0 })
}

fn finalist() -> ev::RecognisedNominee {
    ev::RecognisedNominee {
        campaign_name: "Health Heroes 2026".into(),
        category_name: "Porter of the year".into(),
        trust_name: "Guy's and St Thomas'".into(),
        nominee_name: "Jo Bloggs".into(),
        nominee_email: "jo.bloggs@example.org".into(),
        nominator_emails: vec!["dee@example.org".into()],
        ..Default::default()
    }
}

#[tokio::test]
async fn a_voter_is_sent_the_receipt_of_their_counted_vote_once() {
    let app = spawn_app().await;
    let counted = Envelope::new(
        "voting",
        None,
        &ev::VoterVoteCounted {
            email: "Voter@Example.org".into(),
            campaign_name: "Health Heroes 2026".into(),
            ballot_title: "Porter of the year".into(),
            receipt: "7K3QZ-M9D2A".into(),
            cast_at: timestamp(1_795_354_200),
        },
    );
    app.publish(&counted).await;
    app.publish(&counted).await;
    app.smtp.wait_for(1, Duration::from_secs(10)).await;
    app.settled().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = app.smtp.received();
    assert_eq!(received.len(), 1, "a redelivery sends nothing more");
    let email = &received[0];
    assert_eq!(email.rcpt_to, ["voter@example.org"]);
    assert_eq!(
        email.subject(),
        "Your vote in Health Heroes 2026 has been counted"
    );
    let text = email.text_body();
    assert!(text.contains("Your receipt: 7K3QZ-M9D2A"), "{text}");
    assert!(text.contains("Porter of the year"), "{text}");
    assert!(email.html_body().contains("7K3QZ-M9D2A"));
    // The receipt of a vote one asked for is transactional: nothing to unsubscribe from.
    assert!(email.header("List-Unsubscribe").is_none());
    // Admins reading deliveries do not see the receipt (with the published ledger it would say
    // how this person voted).
    let stored = app.deliveries().await;
    assert_eq!(stored.len(), 1);
    let shown = format!("{:?}", stored[0]);
    assert!(!shown.contains("7K3QZ-M9D2A"), "{shown}");
}

#[tokio::test]
async fn a_voter_who_asked_hears_the_results_with_the_winners() {
    let app = spawn_app().await;
    let results = Envelope::new(
        "voting",
        None,
        &ev::VoterResultsReleased {
            email: "alex@example.org".into(),
            campaign_id: "c".into(),
            campaign_name: "Health Heroes 2026".into(),
            ballots: vec![
                ev::BallotResult {
                    title: "Porter of the year".into(),
                    winner_names: vec!["Sam Patel".into()],
                    total_votes: 1_204,
                },
                ev::BallotResult {
                    title: "Cleaner of the year".into(),
                    winner_names: vec!["Ali Khan".into(), "Bea Jones".into()],
                    total_votes: 880,
                },
            ],
        },
    );
    let received = app.publish_and_receive(&results, 1).await;
    assert_eq!(received.len(), 1);
    let email = &received[0];
    assert_eq!(email.rcpt_to, ["alex@example.org"]);
    assert_eq!(email.subject(), "The results of Health Heroes 2026 are out");
    let text = email.text_body();
    assert!(
        text.contains("Porter of the year: Sam Patel (1204 votes)"),
        "{text}"
    );
    assert!(
        text.contains("Cleaner of the year: joint winners Ali Khan and Bea Jones (880 votes)"),
        "{text}"
    );
    // News the voter asked for, which they can stop.
    assert!(email.header("List-Unsubscribe").is_some());
}

#[tokio::test]
async fn a_finalist_hears_that_voting_opened_and_that_the_results_are_out_and_nobody_else_does() {
    let app = spawn_app().await;
    let opened = envelope(&ev::FinalistVoteOpened {
        finalist: Some(finalist()),
        closes_at: timestamp(1_795_354_200),
        results_at: timestamp(1_795_440_600),
    });
    let received = app.publish_and_receive(&opened, 1).await;
    assert_eq!(
        received.len(),
        1,
        "to the finalist alone, not their nominators"
    );
    let email = &received[0];
    assert_eq!(email.rcpt_to, ["jo.bloggs@example.org"]);
    assert_eq!(email.subject(), "Voting is open in Health Heroes 2026");
    let text = email.text_body();
    assert!(text.contains("Dear Jo Bloggs"), "{text}");
    assert!(text.contains("Porter of the year"), "{text}");
    assert!(text.contains("Voting closes on"), "{text}");
    assert!(email.header("List-Unsubscribe").is_some());

    let results = envelope(&ev::FinalistResultsReleased {
        finalist: Some(finalist()),
        winner_names: vec!["Sam Patel".into()],
    });
    let received = app.publish_and_receive(&results, 2).await;
    assert_eq!(received.len(), 2);
    let email = &received[1];
    assert_eq!(email.rcpt_to, ["jo.bloggs@example.org"]);
    assert_eq!(email.subject(), "The results of Porter of the year are out");
    let text = email.text_body();
    assert!(text.contains("The winner is Sam Patel."), "{text}");
}
