//! Voters verify their address before a campaign's public vote counts them: one email with a link
//! and a 6-digit code, either usable once and briefly; a voter pass for every ballot of the
//! campaign; disposable addresses refused; one counted vote per mailbox however it is typed.

use tonic::Code;
use valued_proto::events::v1 as ev;
use valued_proto::voting::v1 as pb;

use crate::helpers::{TestApp, spawn_app};

const CAMPAIGN: &str = "0193a1b2-0000-7000-8000-0000000000c1";

/// A campaign whose public vote is open, with two categories of one finalist each; their ballots.
async fn open_vote(app: &TestApp) -> Vec<pb::CampaignBallot> {
    crate::helpers::open_vote(app, CAMPAIGN, &[("sam", "porters"), ("ali", "cleaners")]).await
}

async fn verify(app: &TestApp, request: pb::VerifyVoterRequest) -> Result<String, tonic::Status> {
    app.client
        .clone()
        .verify_voter(request)
        .await
        .map(|r| r.into_inner().voter_pass)
}

#[tokio::test]
async fn one_email_carries_a_link_and_a_code_each_usable_once_for_every_ballot_of_the_campaign() {
    let app = spawn_app().await;
    let ballots = open_vote(&app).await;
    let (token, code) = app.verification(CAMPAIGN, "Alex@Example.org").await;
    assert_eq!(code.len(), 6);
    assert!(code.chars().all(|c| c.is_ascii_digit()));
    // Nothing of the address or the secrets is stored as such.
    let sent = app
        .published_of::<ev::VoterVerificationRequested>()
        .await
        .remove(0);
    assert_eq!(sent.email, "Alex@example.org");
    assert_eq!(sent.campaign_name, "Health Heroes 2026");

    let pass = verify(
        &app,
        pb::VerifyVoterRequest {
            token: token.clone(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // The link works once; so does the code of the same email.
    let again = verify(
        &app,
        pb::VerifyVoterRequest {
            token,
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(again.code(), Code::NotFound);
    let by_code = verify(
        &app,
        pb::VerifyVoterRequest {
            campaign_id: CAMPAIGN.into(),
            email: "alex@example.org".into(),
            code,
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(by_code.code(), Code::NotFound);

    // One pass, every category; the voter sees where they have voted.
    for ballot in &ballots {
        let choice = &ballot.finalists[0].choice_id;
        app.vote_with_pass(&ballot.ballot_id, choice, &pass)
            .await
            .unwrap();
    }
    let status = app
        .client
        .clone()
        .get_voter_status(pb::GetVoterStatusRequest {
            voter_pass: pass.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.voted_ballot_ids.len(), 2);

    // The same mailbox verified again, typed otherwise, is the same voter: no second vote.
    let second = app.voter_pass(CAMPAIGN, "alex+again@example.org").await;
    let refused = app
        .vote_with_pass(&ballots[0].ballot_id, "sam", &second)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::AlreadyExists);
}

#[tokio::test]
async fn the_code_works_from_another_device_and_five_wrong_codes_spend_it() {
    let app = spawn_app().await;
    open_vote(&app).await;
    let (_, code) = app.verification(CAMPAIGN, "jo@example.org").await;
    let by_code = |code: &str| pb::VerifyVoterRequest {
        campaign_id: CAMPAIGN.into(),
        email: "JO@example.org".into(),
        code: code.into(),
        ..Default::default()
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = verify(&app, by_code(wrong)).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    verify(&app, by_code(&format!("{} {}", &code[..3], &code[3..])))
        .await
        .unwrap();

    let (_, code) = app.verification(CAMPAIGN, "kim@example.org").await;
    let by_code = |code: &str| pb::VerifyVoterRequest {
        campaign_id: CAMPAIGN.into(),
        email: "kim@example.org".into(),
        code: code.into(),
        ..Default::default()
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        verify(&app, by_code(wrong)).await.unwrap_err();
    }
    let spent = verify(&app, by_code(&code)).await.unwrap_err();
    assert_eq!(spent.code(), Code::NotFound);
}

#[tokio::test]
async fn disposable_and_malformed_addresses_are_refused_at_the_field_and_nothing_is_sent() {
    let app = spawn_app().await;
    open_vote(&app).await;
    for email in ["someone@mailinator.com", "not an address"] {
        let refused = app
            .client
            .clone()
            .request_voter_verification(pb::RequestVoterVerificationRequest {
                campaign_id: CAMPAIGN.into(),
                email: email.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{email}");
        assert_eq!(crate::helpers::fields(&refused), ["email"]);
    }
    let unknown = app
        .client
        .clone()
        .request_voter_verification(pb::RequestVoterVerificationRequest {
            campaign_id: "no-such-campaign".into(),
            email: "alex@example.org".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    assert!(
        app.published_of::<ev::VoterVerificationRequested>()
            .await
            .is_empty()
    );
}
