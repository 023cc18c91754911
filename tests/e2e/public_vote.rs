//! A campaign's public vote across separate processes on PostgreSQL, RabbitMQ and a real SMTP
//! server: a finalist announced, told when voting opens; a voter verified by the code in their
//! email, voting and emailed their receipt; the vote closed, the results released, the winner
//! announced and emailed, and the voter who asked told the results.

use std::time::Duration;

use chrono::Utc;
use valued_proto::nomination::v1::{
    self as pb, nomination_service_client::NominationServiceClient,
};
use valued_proto::voting::v1 as vpb;
use valued_proto::voting::v1::voting_service_client::VotingServiceClient;
use valued_testkit::rabbitmq::Vhost;

use crate::cluster::{Cluster, PLATFORM_ADMIN};
use crate::journey::{email_to, signed};

/// The run of `token` characters after `marker` in `text`.
fn after(text: &str, marker: &str, token: fn(&char) -> bool) -> String {
    let (_, rest) = text.split_once(marker).expect("the marker");
    rest.chars().take_while(token).collect()
}

fn at(offset: chrono::Duration) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: (Utc::now() + offset).timestamp(),
        nanos: 0,
    })
}

#[tokio::test]
async fn a_finalist_is_voted_for_and_announced_the_winner_with_every_email_sent() {
    let vhost = Vhost::create().unwrap();
    let server = valued_testkit::postgres::server_url();
    let cluster = Cluster::start_on(
        vhost,
        |_| server.clone(),
        &[("VALUED__VOTING__MOMENTS__CHECK_SECONDS", "1")],
    )
    .await;
    let campaign = cluster.demo_campaign().await;
    let category = &campaign.categories[0];
    let mut nomination = NominationServiceClient::new(cluster.channel("nomination").await);
    let mut voting = VotingServiceClient::new(cluster.channel("voting").await);
    let admin = cluster
        .oidc
        .verified_id_token(PLATFORM_ADMIN)
        .await
        .unwrap();

    // Sam is nominated (with a work address), confirmed and consents to be listed.
    let id = nomination
        .submit_nomination(pb::SubmitNominationRequest {
            campaign_id: campaign.id.clone(),
            category_id: category.id.clone(),
            trust_code: campaign.trusts[0].code.clone(),
            nominee_name: "Sam Patel".into(),
            nominee_job_title: "Porter".into(),
            nominee_email: "sam.patel@example.org".into(),
            staff_group: "estates-and-ancillary".into(),
            story: "Always the first to help, knows every corridor and has a kind word.".into(),
            nominator_name: "Alex Jones".into(),
            nominator_email: "alex.jones@example.org".into(),
            relationship: "colleague".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .nomination_id;
    let confirm = email_to(
        &cluster,
        "alex.jones@example.org",
        "Confirm your nomination of Sam Patel",
    )
    .await;
    nomination
        .confirm_nomination(pb::ConfirmNominationRequest {
            confirm_token: after(&confirm.text_body(), "/confirm/", char::is_ascii_hexdigit),
        })
        .await
        .unwrap();
    let thanks = email_to(
        &cluster,
        "sam.patel@example.org",
        "Thank you, Sam Patel: a colleague nominated you",
    )
    .await;
    nomination
        .record_consent(pb::RecordConsentRequest {
            consent_token: after(&thanks.text_body(), "/consent/", char::is_ascii_hexdigit),
            consent: Some(pb::Consent {
                listed_publicly: true,
                story_published: true,
                shared_with_mp: false,
            }),
        })
        .await
        .unwrap();

    // Approved, judged and announced a finalist while the vote is open: the ballot is built, and
    // the opening told.
    cluster.make_finalist(&campaign, &id, true).await;
    let opened = email_to(
        &cluster,
        "sam.patel@example.org",
        "Voting is open in Health Heroes 2026",
    )
    .await;
    assert!(opened.text_body().contains("Dear Sam Patel"));
    let ballot = loop {
        let ballots = voting
            .list_campaign_ballots(vpb::ListCampaignBallotsRequest {
                campaign_id: campaign.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .ballots;
        if let Some(ballot) = ballots.into_iter().find(|b| !b.finalists.is_empty()) {
            break ballot;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // A voter verifies with the code from their email, asking to hear the results, and votes.
    voting
        .request_voter_verification(vpb::RequestVoterVerificationRequest {
            campaign_id: campaign.id.clone(),
            email: "voter@example.org".into(),
            notify_results: true,
        })
        .await
        .unwrap();
    let verify = email_to(
        &cluster,
        "voter@example.org",
        "Confirm your email address to vote in Health Heroes 2026",
    )
    .await;
    let pass = voting
        .verify_voter(vpb::VerifyVoterRequest {
            campaign_id: campaign.id.clone(),
            email: "voter@example.org".into(),
            code: after(&verify.text_body(), "Your code: ", char::is_ascii_digit),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .voter_pass;
    let cast = voting
        .cast_vote(vpb::CastVoteRequest {
            ballot_id: ballot.ballot_id.clone(),
            choice_id: ballot.finalists[0].choice_id.clone(),
            voter_pass: pass,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let counted = email_to(
        &cluster,
        "voter@example.org",
        "Your vote in Health Heroes 2026 has been counted",
    )
    .await;
    assert!(
        counted
            .text_body()
            .contains(&format!("Your receipt: {}", cast.receipt)),
        "{}",
        counted.text_body()
    );

    // The vote closes and its results come out: Sam has won, and the voter hears.
    voting
        .schedule_vote(signed(
            &admin,
            vpb::ScheduleVoteRequest {
                campaign_id: campaign.id.clone(),
                opens_at: at(chrono::Duration::hours(-1)),
                closes_at: at(chrono::Duration::seconds(-2)),
                results_at: at(chrono::Duration::seconds(-1)),
            },
        ))
        .await
        .unwrap();
    email_to(
        &cluster,
        "sam.patel@example.org",
        &format!("Congratulations: you have won {}", category.name),
    )
    .await;
    email_to(
        &cluster,
        "alex.jones@example.org",
        &format!("Sam Patel has won {}", category.name),
    )
    .await;
    let results = email_to(
        &cluster,
        "voter@example.org",
        "The results of Health Heroes 2026 are out",
    )
    .await;
    assert!(
        results
            .text_body()
            .contains(&format!("{}: Sam Patel (1 vote)", ballot.title)),
        "{}",
        results.text_body()
    );
    let winners = nomination
        .list_recognised(pb::ListRecognisedRequest {
            campaign_id: campaign.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert!(
        winners
            .iter()
            .any(|e| e.kind == "winner" && e.nominee_name == "Sam Patel"),
        "{winners:?}"
    );
    // Nothing twice: one winner email each, one results email, and voting keeps no address.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let won = cluster
        .smtp
        .received()
        .iter()
        .filter(|e| e.subject().contains("has won") || e.subject().contains("you have won"))
        .count();
    assert_eq!(won, 2);
    assert_eq!(cluster.row_count("voting", "results_subscriber").await, 0);
}
