//! The public vote's moments as the voting service announces them: finalists hear that voting
//! opened and that the results are out, and the winner is announced from the result (as the
//! public vote, in the audit log), once however often the result arrives; a finalist who withdrew
//! consent to be listed is neither announced nor told.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ActiveValue, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;
use valued_nomination::admin::recognition::PUBLIC_VOTE;
use valued_nomination::db::entities::{audit_log, campaign};
use valued_platform::Envelope;
use valued_proto::events::v1 as ev;
use valued_proto::events::v1::NomineeThanked;
use valued_proto::nomination::v1 as pb;

use crate::helpers::{PLATFORM_ADMIN, TestApp, signed, spawn_admin_app, verified_token};

/// Two porters of the demo campaign announced as finalists (Sam in London, Jo in the Midlands),
/// each having agreed to be listed: Sam's and Jo's nominee ids, nomination ids, and Jo's consent
/// link (to withdraw with).
pub(crate) struct Finalists {
    sam_nominee: String,
    sam: String,
    jo_nominee: String,
    jo: String,
    jo_consent: String,
    porter: String,
}

pub(crate) async fn finalists(app: &mut TestApp, admin: &str) -> Finalists {
    let porter = app.campaign.categories[0].id.clone();
    let valid = app.valid_request();
    let nominate = |trust: &str, name: &str, nominator: &str| pb::SubmitNominationRequest {
        trust_code: trust.into(),
        nominee_name: name.into(),
        nominator_name: "A Colleague".into(),
        nominator_email: nominator.into(),
        story: format!(
            "{name} keeps the hospital moving, day and night, and always has a kind word."
        ),
        ..valid.clone()
    };
    let sam = app
        .submit_confirmed(nominate("RJ1", "Sam Patel", "alex@example.org"))
        .await;
    let jo = app
        .submit_confirmed(nominate("RRK", "Jo Bloggs", "dee@example.org"))
        .await;
    let thanked = app.events::<NomineeThanked>().await;
    let mut jo_consent = String::new();
    for name in ["Sam Patel", "Jo Bloggs"] {
        let thanks = thanked.iter().find(|t| t.nominee_name == name).unwrap();
        let own = format!("{}@example.org", name.to_lowercase().replace(' ', "."));
        let consent_token = app.claim(thanks, &own).await;
        app.client
            .record_consent(consent(&consent_token, true))
            .await
            .unwrap();
        if name == "Jo Bloggs" {
            jo_consent = consent_token;
        }
    }
    for id in [&sam, &jo] {
        app.approve(admin, id).await;
    }
    // Judging is over: finalists may be announced.
    campaign::Entity::update(campaign::ActiveModel {
        id: ActiveValue::Unchanged(app.campaign.id.parse::<Uuid>().unwrap()),
        nominations_open_at: ActiveValue::Set(Some(Utc::now() - chrono::Duration::days(30))),
        nominations_close_at: ActiveValue::Set(Some(Utc::now() - chrono::Duration::days(2))),
        judging_close_at: ActiveValue::Set(Some(Utc::now() - chrono::Duration::days(1))),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .unwrap();
    for (region, id) in [("Y56", &sam), ("Y60", &jo)] {
        app.client
            .announce_finalists(signed(
                admin,
                pb::AnnounceFinalistsRequest {
                    campaign_id: app.campaign.id.clone(),
                    category_id: porter.clone(),
                    region_code: region.into(),
                    nomination_ids: vec![id.clone()],
                },
            ))
            .await
            .unwrap();
    }
    Finalists {
        sam_nominee: app.nominee_of(&sam).await,
        jo_nominee: app.nominee_of(&jo).await,
        sam,
        jo,
        jo_consent,
        porter,
    }
}

fn consent(token: &str, listed: bool) -> pb::RecordConsentRequest {
    pb::RecordConsentRequest {
        consent_token: token.into(),
        consent: Some(pb::Consent {
            listed_publicly: listed,
            story_published: listed,
            shared_with_mp: false,
        }),
    }
}

fn opened(app: &TestApp, f: &Finalists) -> Envelope {
    let at = |days: i64| {
        Some(prost_types::Timestamp {
            seconds: (Utc::now() + chrono::Duration::days(days)).timestamp(),
            nanos: 0,
        })
    };
    Envelope::new(
        "voting",
        None,
        &ev::VoteOpened {
            campaign_id: app.campaign.id.clone(),
            campaign_name: app.campaign.name.clone(),
            ballots: vec![ev::OpenedBallot {
                ballot_id: Uuid::now_v7().to_string(),
                category_id: f.porter.clone(),
                title: "Porter of the year".into(),
                choice_ids: vec![f.sam_nominee.clone(), f.jo_nominee.clone()],
            }],
            opens_at: at(0),
            closes_at: at(7),
            results_at: at(8),
        },
    )
}

/// The ballot's result: `(choice id, votes)`, the winners those with the most.
fn released(app: &TestApp, f: &Finalists, votes: &[(&str, u64)]) -> Envelope {
    let top = votes.iter().map(|(_, n)| *n).max().unwrap_or(0);
    Envelope::new(
        "voting",
        None,
        &ev::VoteResultsReleased {
            campaign_id: app.campaign.id.clone(),
            campaign_name: app.campaign.name.clone(),
            category_id: f.porter.clone(),
            ballot_id: Uuid::now_v7().to_string(),
            title: "Porter of the year".into(),
            counts: votes
                .iter()
                .map(|(id, n)| ev::ReleasedCount {
                    choice_id: (*id).into(),
                    votes: *n,
                    ..Default::default()
                })
                .collect(),
            total_votes: votes.iter().map(|(_, n)| n).sum(),
            winner_choice_ids: votes
                .iter()
                .filter(|(_, n)| *n == top && top > 0)
                .map(|(id, _)| (*id).into())
                .collect(),
            ..Default::default()
        },
    )
}

impl TestApp {
    /// Waits until at least `count` events of type `T` are published, and returns them all.
    async fn wait_for<T: valued_proto::events::Event>(&self, count: usize) -> Vec<T> {
        for _ in 0..100 {
            let found = self.events::<T>().await;
            if found.len() >= count {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.events::<T>().await
    }

    /// Lets the service handle what was delivered (a handled event leaves nothing to wait for).
    async fn settle(&self) {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn the_vote_winner_is_announced_once_by_the_public_vote_and_the_other_finalists_hear() {
    let (mut app, provider) = spawn_admin_app().await;
    let admin = verified_token(&provider, PLATFORM_ADMIN).await;
    let f = finalists(&mut app, &admin).await;

    // Voting opens: each finalist hears, once, however often the moment arrives.
    let open = opened(&app, &f);
    app.platform
        .publish_as_peer(&[open.clone(), open, opened(&app, &f)])
        .await
        .unwrap();
    app.wait_for::<ev::FinalistVoteOpened>(2).await;
    app.settle().await;
    let told = app.events::<ev::FinalistVoteOpened>().await;
    let mut names: Vec<String> = told
        .iter()
        .map(|t| t.finalist.clone().unwrap().nominee_name)
        .collect();
    names.sort();
    assert_eq!(names, ["Jo Bloggs", "Sam Patel"]);
    assert!(told.iter().all(|t| t.closes_at.is_some()));

    // The results: Sam won. Delivered twice, and released a second time.
    let result = released(&app, &f, &[(&f.sam_nominee, 5), (&f.jo_nominee, 3)]);
    app.platform
        .publish_as_peer(&[
            result.clone(),
            result,
            released(&app, &f, &[(&f.sam_nominee, 5), (&f.jo_nominee, 3)]),
        ])
        .await
        .unwrap();
    app.wait_for::<ev::WinnerAnnounced>(1).await;
    app.settle().await;
    let winners = app.events::<ev::WinnerAnnounced>().await;
    assert_eq!(winners.len(), 1, "the winner is announced once");
    let winner = winners[0].winner.clone().unwrap();
    assert_eq!(winner.nomination_id, f.sam);
    assert_eq!(winner.nominee_name, "Sam Patel");
    assert_eq!(winner.nominee_email, "sam.patel@example.org");
    // Jo did not win: told once that the results are out, and who won.
    let heard = app.events::<ev::FinalistResultsReleased>().await;
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert_eq!(heard[0].finalist.as_ref().unwrap().nomination_id, f.jo);
    assert_eq!(heard[0].winner_names, ["Sam Patel"]);
    // Audited as the public vote, not as a person.
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("announce_winner"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].actor, PUBLIC_VOTE);
    // The winner is listed as such.
    let listed = app
        .client
        .list_recognised(pb::ListRecognisedRequest {
            campaign_id: app.campaign.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert!(
        listed
            .iter()
            .any(|e| e.nominee_name == "Sam Patel" && e.kind == "winner"),
        "{listed:?}"
    );
}

#[tokio::test]
async fn a_finalist_who_withdrew_consent_is_neither_told_nor_announced_and_a_tie_announces_both() {
    let (mut app, provider) = spawn_admin_app().await;
    let admin = verified_token(&provider, PLATFORM_ADMIN).await;
    let f = finalists(&mut app, &admin).await;
    // Jo withdraws consent to be listed.
    app.client
        .record_consent(consent(&f.jo_consent, false))
        .await
        .unwrap();

    app.platform
        .publish_as_peer(&[opened(&app, &f)])
        .await
        .unwrap();
    app.wait_for::<ev::FinalistVoteOpened>(1).await;
    app.settle().await;
    let told = app.events::<ev::FinalistVoteOpened>().await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].finalist.as_ref().unwrap().nominee_name, "Sam Patel");

    // A tie at the top: both won, but only Sam is announced.
    app.platform
        .publish_as_peer(&[released(
            &app,
            &f,
            &[(&f.sam_nominee, 4), (&f.jo_nominee, 4)],
        )])
        .await
        .unwrap();
    app.wait_for::<ev::WinnerAnnounced>(1).await;
    app.settle().await;
    let winners: Vec<String> = app
        .events::<ev::WinnerAnnounced>()
        .await
        .into_iter()
        .map(|w| w.winner.unwrap().nomination_id)
        .collect();
    assert_eq!(winners, std::slice::from_ref(&f.sam));
    assert!(app.events::<ev::FinalistResultsReleased>().await.is_empty());
    assert!(!winners.contains(&f.jo));
}
