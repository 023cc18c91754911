//! A campaign's public vote, built from the finalists the nomination service announces: a ballot per
//! category with the finalists as their consent allows, taking votes only while open, and showing
//! its count to nobody before the results time.

use std::time::Duration;

use chrono::Utc;
use tonic::Code;
use valued_platform::Envelope;
use valued_proto::events::v1 as ev;
use valued_proto::voting::v1 as pb;

use crate::helpers::{TestApp, spawn_app};

pub const CAMPAIGN: &str = "0193a1b2-0000-7000-8000-000000000001";

pub fn at(offset: chrono::Duration) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: (Utc::now() + offset).timestamp(),
        nanos: 0,
    })
}

/// A timetable: open from `opens` (days from now) to `closes`, results at `results`.
pub fn timetable(opens: i64, closes: i64, results: i64) -> ev::VoteTimetable {
    ev::VoteTimetable {
        opens_at: at(chrono::Duration::days(opens)),
        closes_at: at(chrono::Duration::days(closes)),
        results_at: at(chrono::Duration::days(results)),
    }
}

pub fn finalist(nominee: &str, name: &str, category: &str, vote: &ev::VoteTimetable) -> Envelope {
    Envelope::new(
        "nomination",
        None,
        &announced(nominee, name, category, vote),
    )
}

/// What [`finalist`] announces: `name` (the nominee `nominee`) a finalist in `category` of the
/// national campaign [`CAMPAIGN`], from London.
pub fn announced(
    nominee: &str,
    name: &str,
    category: &str,
    vote: &ev::VoteTimetable,
) -> ev::FinalistAnnounced {
    ev::FinalistAnnounced {
        finalist: Some(ev::RecognisedNominee {
            nominee_id: nominee.into(),
            campaign_id: CAMPAIGN.into(),
            campaign_name: "Health Heroes 2026".into(),
            category_id: category.into(),
            category_name: format!("{category} of the year"),
            region_code: "E40000003".into(),
            region_name: "London".into(),
            trust_name: "Guy's and St Thomas'".into(),
            nominee_name: name.into(),
            nominee_job_title: "Porter".into(),
            story_excerpt: format!("{name} always helps."),
            ..Default::default()
        }),
        announced_at: None,
        vote: Some(*vote),
        campaign_scope: "national".into(),
        ..Default::default()
    }
}

impl TestApp {
    pub async fn campaign_ballots(&self) -> Vec<pb::CampaignBallot> {
        self.client
            .clone()
            .list_campaign_ballots(pb::ListCampaignBallotsRequest {
                campaign_id: CAMPAIGN.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .ballots
    }

    /// The campaign's ballots once `count` finalists are on them.
    pub async fn ballots_with(&self, count: usize) -> Vec<pb::CampaignBallot> {
        self.ballots_of(CAMPAIGN, count).await
    }
}

fn names(ballot: &pb::CampaignBallot) -> Vec<&str> {
    ballot.finalists.iter().map(|f| f.name.as_str()).collect()
}

#[tokio::test]
async fn announced_finalists_make_a_ballot_per_category_that_takes_votes_but_hides_its_count() {
    let app = spawn_app().await;
    let open = timetable(-1, 6, 8);
    let sam = finalist("nominee-sam", "Sam Patel", "Porter", &open);
    app.announce(&[
        sam.clone(),
        finalist("nominee-jo", "Jo Bloggs", "Porter", &open),
        finalist("nominee-ali", "Ali Khan", "Cleaner", &open),
    ])
    .await;
    // Announced again (a redelivery, or the same finalist twice): nothing doubles.
    app.announce(&[sam]).await;
    let ballots = app.ballots_with(3).await;
    assert_eq!(ballots.len(), 2);
    let porters = ballots.iter().find(|b| b.category_id == "Porter").unwrap();
    assert_eq!(names(porters), ["Sam Patel", "Jo Bloggs"]);
    assert_eq!(porters.title, "Porter of the year");
    assert_eq!(porters.stage, "open");
    assert_eq!(
        porters.finalists[0].story_excerpt,
        "Sam Patel always helps."
    );
    assert_eq!(porters.finalists[0].trust_name, "Guy's and St Thomas'");

    // A typed address alone does not vote in a campaign's public vote: a verified one does.
    let unverified = app
        .vote(&porters.ballot_id, "nominee-jo", "alex@example.org")
        .await
        .unwrap_err();
    assert_eq!(unverified.code(), Code::FailedPrecondition);
    let pass = app.voter_pass(CAMPAIGN, "alex@example.org").await;
    app.vote_with_pass(&porters.ballot_id, "nominee-jo", &pass)
        .await
        .unwrap();
    // Nobody, a platform admin included, sees the count before the results time.
    let hidden = app
        .client
        .clone()
        .get_tally(app.signed(pb::GetTallyRequest {
            ballot_id: porters.ballot_id.clone(),
        }))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::FailedPrecondition);
    assert!(
        hidden
            .message()
            .starts_with("The results will be published on"),
        "{}",
        hidden.message()
    );
    // The ledger check says the chain is whole, but not how the votes fall; the export waits.
    let checked = app
        .client
        .clone()
        .verify_ledger(app.signed(pb::VerifyLedgerRequest {
            ballot_id: porters.ballot_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(checked.intact);
    assert_eq!(checked.entries, 1);
    assert!(checked.counts.is_empty(), "{:?}", checked.counts);
    let export = app
        .client
        .clone()
        .export_ledger(app.signed(pb::ExportLedgerRequest {
            ballot_id: porters.ballot_id.clone(),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(export.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn votes_before_the_opening_or_after_the_close_are_refused_and_results_show_when_due() {
    let app = spawn_app().await;
    app.announce(&[
        finalist("nominee-sam", "Sam Patel", "Porter", &timetable(2, 9, 10)),
        finalist("nominee-ali", "Ali Khan", "Cleaner", &timetable(-9, -2, -1)),
    ])
    .await;
    let ballots = app.ballots_with(2).await;
    let (waiting, done) = (&ballots[0], &ballots[1]);
    assert_eq!(
        (waiting.stage.as_str(), done.stage.as_str()),
        ("waiting", "results")
    );

    let pass = app.voter_pass(CAMPAIGN, "alex@example.org").await;
    let early = app
        .vote_with_pass(&waiting.ballot_id, "nominee-sam", &pass)
        .await
        .unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition);
    assert!(
        early.message().starts_with("Voting opens on"),
        "{}",
        early.message()
    );
    let late = app
        .vote_with_pass(&done.ballot_id, "nominee-ali", &pass)
        .await
        .unwrap_err();
    assert_eq!(late.code(), Code::FailedPrecondition);
    assert!(
        late.message().starts_with("Voting closed on"),
        "{}",
        late.message()
    );
    // Past its results time, the closed ballot's count is there (nothing counted).
    assert_eq!(app.tally(&done.ballot_id).await.total_votes, 0);
}

#[tokio::test]
async fn a_finalist_who_withdraws_consent_leaves_the_ballot_and_cannot_be_voted_for() {
    let app = spawn_app().await;
    let open = timetable(-1, 6, 8);
    app.announce(&[
        finalist("nominee-sam", "Sam Patel", "Porter", &open),
        finalist("nominee-jo", "Jo Bloggs", "Porter", &open),
    ])
    .await;
    let ballot = app.ballots_with(2).await.remove(0);
    let consent = |listed: bool, story: bool| {
        Envelope::new(
            "nomination",
            None,
            &ev::ConsentChanged {
                nominee_id: "nominee-jo".into(),
                campaign_id: CAMPAIGN.into(),
                listed_publicly: listed,
                story_published: story,
                ..Default::default()
            },
        )
    };
    app.announce(&[consent(true, false)]).await;
    for _ in 0..100 {
        let ballots = app.campaign_ballots().await;
        if ballots[0].finalists[1].story_excerpt.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.campaign_ballots().await[0].finalists[1].story_excerpt,
        ""
    );

    app.announce(&[consent(false, false)]).await;
    let ballots = app.ballots_with(1).await;
    assert_eq!(names(&ballots[0]), ["Sam Patel"]);
    let pass = app.voter_pass(CAMPAIGN, "alex@example.org").await;
    let refused = app
        .vote_with_pass(&ballot.ballot_id, "nominee-jo", &pass)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
}

/// A campaign's vote open now in two categories (porters and cleaners), and a verified voter's
/// pass for it.
async fn two_open_categories(app: &TestApp) -> (Vec<pb::CampaignBallot>, String) {
    app.announce(&[
        finalist("nominee-sam", "Sam Patel", "Porter", &timetable(-1, 6, 8)),
        finalist("nominee-ali", "Ali Khan", "Cleaner", &timetable(-1, 6, 8)),
    ])
    .await;
    let ballots = app.ballots_with(2).await;
    let pass = app.voter_pass(CAMPAIGN, "alex@example.org").await;
    (ballots, pass)
}

#[tokio::test]
async fn an_admin_closes_extends_and_watches_the_vote_without_seeing_how_it_falls() {
    let app = spawn_app().await;
    let (ballots, pass) = two_open_categories(&app).await;
    app.vote_with_pass(&ballots[0].ballot_id, "nominee-sam", &pass)
        .await
        .unwrap();
    let schedule = |opens: i64, closes: i64, results: i64| pb::ScheduleVoteRequest {
        campaign_id: CAMPAIGN.into(),
        opens_at: at(chrono::Duration::hours(opens)),
        closes_at: at(chrono::Duration::hours(closes)),
        results_at: at(chrono::Duration::hours(results)),
    };

    // Closed now: the next vote is refused.
    let changed = app
        .client
        .clone()
        .schedule_vote(app.signed(schedule(-24, 0, 48)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(changed.ballots, 2);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let closed = app
        .vote_with_pass(&ballots[1].ballot_id, "nominee-ali", &pass)
        .await
        .unwrap_err();
    assert!(
        closed.message().starts_with("Voting closed on"),
        "{}",
        closed.message()
    );
    // Extended: it counts again.
    app.client
        .clone()
        .schedule_vote(app.signed(schedule(-24, 24, 48)))
        .await
        .unwrap();
    app.vote_with_pass(&ballots[1].ballot_id, "nominee-ali", &pass)
        .await
        .unwrap();

    // A timetable out of order names each bad time; a caller without the role is refused.
    let bad = app
        .client
        .clone()
        .schedule_vote(app.signed(schedule(5, 1, 0)))
        .await
        .unwrap_err();
    assert_eq!(crate::helpers::fields(&bad), ["closes_at", "results_at"]);
    let anonymous = app
        .client
        .clone()
        .schedule_vote(schedule(-24, 24, 48))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);

    // Turnout: votes per ballot and voters verified, no finalist's count.
    let turnout = app
        .client
        .clone()
        .get_turnout(app.signed(pb::GetTurnoutRequest {
            campaign_id: CAMPAIGN.into(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(turnout.verified_voters, 1);
    let votes: Vec<u64> = turnout.ballots.iter().map(|b| b.votes).collect();
    assert_eq!(votes, [1, 1]);

    // Each change is audited with who made it.
    use sea_orm::EntityTrait;
    let audit = valued_voting::db::entities::vote_audit::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(audit.len(), 2);
    assert!(
        audit
            .iter()
            .all(|a| a.actor == crate::helpers::PLATFORM_ADMIN
                && a.action == "schedule_vote"
                && a.campaign_id == CAMPAIGN)
    );
}

#[tokio::test]
async fn results_and_receipts_are_public_only_from_the_results_time() {
    let app = spawn_app().await;
    let open = timetable(-1, 6, 8);
    app.announce(&[
        finalist("nominee-sam", "Sam Patel", "Porter", &open),
        finalist("nominee-jo", "Jo Bloggs", "Porter", &open),
        finalist("nominee-ali", "Ali Khan", "Porter", &open),
    ])
    .await;
    let ballot = app.ballots_with(3).await.remove(0);
    let mut receipts = Vec::new();
    for (voter, choice) in [
        ("alex@example.org", "nominee-jo"),
        ("bea@example.org", "nominee-jo"),
        ("cal@example.org", "nominee-sam"),
    ] {
        let pass = app.voter_pass(CAMPAIGN, voter).await;
        let cast = app
            .vote_with_pass(&ballot.ballot_id, choice, &pass)
            .await
            .unwrap();
        receipts.push(cast.receipt);
    }
    let results = || async {
        app.client
            .clone()
            .get_campaign_results(pb::GetCampaignResultsRequest {
                campaign_id: CAMPAIGN.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .ballots
            .remove(0)
    };
    let find = |receipt: String| {
        let mut client = app.client.clone();
        let ballot_id = ballot.ballot_id.clone();
        async move {
            client
                .find_receipt(pb::FindReceiptRequest { ballot_id, receipt })
                .await
        }
    };

    // While the vote runs: the stage and the results time, nothing counted, no receipt found.
    let running = results().await;
    assert_eq!(running.stage, "open");
    assert!(!running.released);
    assert!(running.choices.is_empty() && running.winner_choice_ids.is_empty());
    assert_eq!((running.total_votes, running.ledger_entries), (0, 0));
    assert_eq!(running.ledger_head, "");
    assert_eq!(
        find(receipts[0].clone()).await.unwrap_err().code(),
        Code::FailedPrecondition
    );

    // Closed with the results out now.
    app.client
        .clone()
        .schedule_vote(app.signed(pb::ScheduleVoteRequest {
            campaign_id: CAMPAIGN.into(),
            opens_at: at(chrono::Duration::days(-1)),
            closes_at: at(chrono::Duration::zero()),
            results_at: at(chrono::Duration::zero()),
        }))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let out = results().await;
    assert_eq!(out.stage, "results");
    assert!(out.released);
    let counts: Vec<(&str, u64)> = out
        .choices
        .iter()
        .map(|c| (c.label.as_str(), c.votes))
        .collect();
    assert_eq!(
        counts,
        [("Sam Patel", 1), ("Jo Bloggs", 2), ("Ali Khan", 0)]
    );
    assert_eq!(out.winner_choice_ids, ["nominee-jo"]);
    assert_eq!((out.total_votes, out.ledger_entries), (3, 3));
    assert_eq!(
        out.ledger_head,
        app.tally(&ballot.ballot_id).await.ledger_head
    );

    // A receipt as a person might type it finds its entry and the finalist it counts for.
    let typed = receipts[2].to_lowercase().replace('-', " ");
    let found = find(typed).await.unwrap().into_inner();
    assert_eq!(found.choice_label, "Sam Patel");
    let entry = found.entry.unwrap();
    assert_eq!(
        (entry.seq, entry.receipt.as_str()),
        (3, receipts[2].as_str())
    );
    assert_eq!(entry.choice_id, "nominee-sam");

    let unknown = if receipts[0].starts_with('0') {
        "ZZZZZ-ZZZZZ"
    } else {
        "00000-00000"
    };
    assert_eq!(
        find(unknown.into()).await.unwrap_err().code(),
        Code::NotFound
    );
    let garbled = find("7K2QD".into()).await.unwrap_err();
    assert_eq!(crate::helpers::fields(&garbled), ["receipt"]);
}

/// Each vote's answer says how many of the campaign's open categories its voter has left, and a
/// pass that has ended (or never was) is refused on its own, whatever votes wait with it.
#[tokio::test]
async fn a_vote_says_what_is_left_and_an_ended_pass_is_refused_alone() {
    let app = spawn_app().await;
    let (ballots, pass) = two_open_categories(&app).await;
    let before = app.published().await.len();
    let ended = "f".repeat(64);
    let (first, lost) = tokio::join!(
        app.vote_with_pass(&ballots[0].ballot_id, "nominee-sam", &pass),
        app.vote_with_pass(&ballots[0].ballot_id, "nominee-sam", &ended),
    );
    let first = first.unwrap();
    assert!(!first.receipt.is_empty());
    assert_eq!(first.open_ballots_left, 1);
    let lost = lost.unwrap_err();
    assert_eq!(lost.code(), Code::FailedPrecondition);
    assert!(
        lost.message().starts_with("Your voting session has ended"),
        "{}",
        lost.message()
    );
    let last = app
        .vote_with_pass(&ballots[1].ballot_id, "nominee-ali", &pass)
        .await
        .unwrap();
    assert_eq!(last.open_ballots_left, 0);

    // Published for the votes: the voter's two receipts, which name no finalist.
    let published = app.published().await;
    let receipts: Vec<ev::VoterVoteCounted> = published[before..]
        .iter()
        .map(|e| {
            assert!(
                !String::from_utf8_lossy(&e.payload).contains("nominee-"),
                "{}",
                e.event_type
            );
            e.decode().unwrap()
        })
        .collect();
    assert_eq!(receipts.len(), 2);
    assert_eq!(receipts[0].receipt, first.receipt);
    assert_eq!(receipts[1].receipt, last.receipt);
}
