//! The public vote's moments: its opening announced once, each ballot's results released once at
//! their time (not before) with the final count, the ledger head and the winners; a voter's
//! receipt emailed after each counted vote; the results emailed to voters who asked, whose
//! addresses are then forgotten; and erasure of the addresses kept meanwhile.

use chrono::Utc;
use sea_orm::{EntityTrait, PaginatorTrait};
use valued_platform::outbox::Outbox;
use valued_proto::events::v1 as ev;
use valued_proto::voting::v1 as pb;
use valued_voting::db::entities::{results_subscriber, voter_pass};
use valued_voting::moments;

use crate::helpers::{TestApp, spawn_app};
use crate::public_vote::{CAMPAIGN, at, finalist, timetable};

/// One round of the timetable job, as any replica runs it.
async fn round(app: &TestApp) -> moments::Announced {
    moments::round(&app.db, &Outbox::detached("voting"), Utc::now())
        .await
        .expect("a round")
}

/// Closes the vote now and puts its results time just past.
async fn close_and_release(app: &TestApp) {
    app.client
        .clone()
        .schedule_vote(app.signed(pb::ScheduleVoteRequest {
            campaign_id: CAMPAIGN.into(),
            opens_at: at(chrono::Duration::days(-2)),
            closes_at: at(chrono::Duration::seconds(-2)),
            results_at: at(chrono::Duration::seconds(-1)),
        }))
        .await
        .expect("rescheduled");
}

/// Porters: Sam and Jo; cleaners: Ali and Bea. Open now, results in two days.
async fn open_vote(app: &TestApp) -> (String, String) {
    let open = timetable(-1, 1, 2);
    app.announce(&[
        finalist("nominee-sam", "Sam Patel", "Porter", &open),
        finalist("nominee-jo", "Jo Bloggs", "Porter", &open),
        finalist("nominee-ali", "Ali Khan", "Cleaner", &open),
        finalist("nominee-bea", "Bea Jones", "Cleaner", &open),
    ])
    .await;
    let ballots = app.ballots_with(4).await;
    let porters = ballots.iter().find(|b| b.category_id == "Porter").unwrap();
    let cleaners = ballots.iter().find(|b| b.category_id == "Cleaner").unwrap();
    (porters.ballot_id.clone(), cleaners.ballot_id.clone())
}

#[tokio::test]
async fn the_vote_opening_is_announced_once_with_its_ballots_and_finalists() {
    let app = spawn_app().await;
    let (porters, cleaners) = open_vote(&app).await;
    // Several replicas at once, and again later: one announcement.
    let (a, b, c) = tokio::join!(round(&app), round(&app), round(&app));
    round(&app).await;
    assert_eq!(a.opened + b.opened + c.opened, 1);
    let opened = app.published_of::<ev::VoteOpened>().await;
    assert_eq!(opened.len(), 1, "{opened:?}");
    let opened = &opened[0];
    assert_eq!(opened.campaign_id, CAMPAIGN);
    assert_eq!(opened.campaign_name, "Health Heroes 2026");
    assert!(opened.closes_at.is_some() && opened.results_at.is_some());
    let ballots: Vec<(&str, &str, Vec<&str>)> = opened
        .ballots
        .iter()
        .map(|b| {
            (
                b.ballot_id.as_str(),
                b.category_id.as_str(),
                b.choice_ids.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        ballots,
        [
            (
                porters.as_str(),
                "Porter",
                vec!["nominee-sam", "nominee-jo"]
            ),
            (
                cleaners.as_str(),
                "Cleaner",
                vec!["nominee-ali", "nominee-bea"]
            ),
        ]
    );
    // The results are not due: nothing released.
    assert!(
        app.published_of::<ev::VoteResultsReleased>()
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_vote_that_has_not_opened_is_not_announced() {
    let app = spawn_app().await;
    app.announce(&[finalist(
        "nominee-sam",
        "Sam Patel",
        "Porter",
        &timetable(1, 2, 3),
    )])
    .await;
    app.ballots_with(1).await;
    assert_eq!(round(&app).await, moments::Announced::default());
    assert!(app.published_of::<ev::VoteOpened>().await.is_empty());
}

#[tokio::test]
async fn results_are_released_once_at_their_time_with_the_count_the_ledger_head_and_the_winner() {
    let app = spawn_app().await;
    let (porters, cleaners) = open_vote(&app).await;
    for (email, porter, cleaner) in [
        ("alex@example.org", "nominee-sam", "nominee-ali"),
        ("bo@example.org", "nominee-sam", "nominee-bea"),
        ("cy@example.org", "nominee-jo", "nominee-ali"),
    ] {
        let pass = app.voter_pass(CAMPAIGN, email).await;
        app.vote_with_pass(&porters, porter, &pass).await.unwrap();
        app.vote_with_pass(&cleaners, cleaner, &pass).await.unwrap();
    }
    round(&app).await;
    assert!(
        app.published_of::<ev::VoteResultsReleased>()
            .await
            .is_empty(),
        "nothing before the results time"
    );

    close_and_release(&app).await;
    let rounds = tokio::join!(round(&app), round(&app), round(&app));
    round(&app).await;
    assert_eq!(
        rounds.0.released + rounds.1.released + rounds.2.released,
        2,
        "one release per ballot"
    );
    let released = app.published_of::<ev::VoteResultsReleased>().await;
    assert_eq!(released.len(), 2, "{released:?}");
    let porters_out = released.iter().find(|r| r.ballot_id == porters).unwrap();
    let counts: Vec<(&str, &str, u64)> = porters_out
        .counts
        .iter()
        .map(|c| (c.choice_id.as_str(), c.label.as_str(), c.votes))
        .collect();
    assert_eq!(
        counts,
        [
            ("nominee-sam", "Sam Patel", 2),
            ("nominee-jo", "Jo Bloggs", 1)
        ]
    );
    assert_eq!(porters_out.total_votes, 3);
    assert_eq!(porters_out.winner_choice_ids, ["nominee-sam"]);
    assert_eq!(porters_out.campaign_id, CAMPAIGN);
    assert_eq!(porters_out.category_id, "Porter");
    assert_eq!(porters_out.title, "Porter of the year");
    // The ledger as it stood at the release: the same head the tally now shows.
    let tally = app.tally(&porters).await;
    assert_eq!(porters_out.ledger_head, tally.ledger_head);
    assert_eq!(porters_out.ledger_entries, 3);
    assert!(!porters_out.ledger_head.is_empty());
    let cleaners_out = released.iter().find(|r| r.ballot_id == cleaners).unwrap();
    assert_eq!(cleaners_out.winner_choice_ids, ["nominee-ali"]);
}

#[tokio::test]
async fn a_tie_at_the_top_gives_joint_winners_and_no_votes_no_winner() {
    let app = spawn_app().await;
    let (porters, cleaners) = open_vote(&app).await;
    for (email, porter) in [
        ("alex@example.org", "nominee-sam"),
        ("bo@example.org", "nominee-jo"),
    ] {
        let pass = app.voter_pass(CAMPAIGN, email).await;
        app.vote_with_pass(&porters, porter, &pass).await.unwrap();
    }
    close_and_release(&app).await;
    round(&app).await;
    let released = app.published_of::<ev::VoteResultsReleased>().await;
    let porters_out = released.iter().find(|r| r.ballot_id == porters).unwrap();
    assert_eq!(porters_out.winner_choice_ids, ["nominee-sam", "nominee-jo"]);
    let cleaners_out = released.iter().find(|r| r.ballot_id == cleaners).unwrap();
    assert!(cleaners_out.winner_choice_ids.is_empty());
    assert_eq!(cleaners_out.total_votes, 0);
}

#[tokio::test]
async fn a_verified_voter_is_sent_the_receipt_of_each_counted_vote() {
    let app = spawn_app().await;
    let (porters, cleaners) = open_vote(&app).await;
    let pass = app.voter_pass(CAMPAIGN, "Alex@Example.org").await;
    let first = app
        .vote_with_pass(&porters, "nominee-sam", &pass)
        .await
        .unwrap();
    let second = app
        .vote_with_pass(&cleaners, "nominee-ali", &pass)
        .await
        .unwrap();
    // A refused second vote sends nothing.
    app.vote_with_pass(&porters, "nominee-jo", &pass)
        .await
        .unwrap_err();
    let counted = app.published_of::<ev::VoterVoteCounted>().await;
    let sent: Vec<(&str, &str, &str)> = counted
        .iter()
        .map(|c| {
            (
                c.email.as_str(),
                c.ballot_title.as_str(),
                c.receipt.as_str(),
            )
        })
        .collect();
    assert_eq!(
        sent,
        [
            (
                "Alex@example.org",
                "Porter of the year",
                first.receipt.as_str()
            ),
            (
                "Alex@example.org",
                "Cleaner of the year",
                second.receipt.as_str()
            ),
        ]
    );
    assert!(
        counted
            .iter()
            .all(|c| c.campaign_name == "Health Heroes 2026")
    );
    // What was chosen never travels with the address.
    let raw = app
        .published()
        .await
        .into_iter()
        .filter(|e| e.event_type == <ev::VoterVoteCounted as valued_proto::events::Event>::TYPE)
        .map(|e| String::from_utf8_lossy(&e.payload).into_owned())
        .collect::<String>();
    assert!(!raw.contains("nominee-sam") && !raw.contains("Sam Patel"));

    // Once the pass has expired, retention forgets the address with it.
    let forgotten =
        valued_voting::verification::purge_expired(&app.db, Utc::now() + chrono::Duration::days(1))
            .await
            .unwrap();
    assert!(forgotten >= 1);
    assert_eq!(voter_pass::Entity::find().count(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn voters_who_asked_hear_the_results_once_and_their_addresses_are_then_forgotten() {
    let app = spawn_app().await;
    let (porters, _) = open_vote(&app).await;
    let asked = app
        .voter_pass_asking(CAMPAIGN, "alex@example.org", true)
        .await;
    app.vote_with_pass(&porters, "nominee-sam", &asked)
        .await
        .unwrap();
    let quiet = app.voter_pass(CAMPAIGN, "bo@example.org").await;
    app.vote_with_pass(&porters, "nominee-sam", &quiet)
        .await
        .unwrap();
    // Asked without verifying: kept nowhere, told nothing.
    app.verification_asking(CAMPAIGN, "never.verified@example.org", true)
        .await;
    assert_eq!(
        results_subscriber::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
    round(&app).await;
    assert!(
        app.published_of::<ev::VoterResultsReleased>()
            .await
            .is_empty()
    );

    close_and_release(&app).await;
    tokio::join!(round(&app), round(&app));
    round(&app).await;
    let told = app.published_of::<ev::VoterResultsReleased>().await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].email, "alex@example.org");
    assert_eq!(told[0].campaign_name, "Health Heroes 2026");
    let results: Vec<(&str, Vec<&str>)> = told[0]
        .ballots
        .iter()
        .map(|b| {
            (
                b.title.as_str(),
                b.winner_names.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            ("Porter of the year", vec!["Sam Patel"]),
            ("Cleaner of the year", vec![])
        ]
    );
    assert_eq!(
        results_subscriber::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0,
        "the address is deleted as the email is enqueued"
    );
}

#[tokio::test]
async fn erasure_removes_the_addresses_kept_and_export_shows_them_before() {
    let app = spawn_app().await;
    open_vote(&app).await;
    app.voter_pass_asking(CAMPAIGN, "alex@example.org", true)
        .await;
    app.verification(CAMPAIGN, "alex@example.org").await;
    let before = app.export_person("ALEX@example.org").await;
    let kept = &before["addresses_kept"];
    assert_eq!(
        kept["voter_passes"].as_array().unwrap().len(),
        1,
        "{before:#}"
    );
    assert_eq!(kept["results_requested"].as_array().unwrap().len(), 1);
    assert_eq!(kept["verifications"].as_array().unwrap().len(), 1);
    assert_eq!(kept["voter_passes"][0]["email"], "alex@example.org");

    let answered = app.erase("erasure-1", "alex@example.org").await;
    assert_eq!(answered.service, "voting");
    assert_eq!(
        answered.records, 3,
        "pass, results request, pending verification"
    );
    let after = app.export_person("ALEX@example.org").await;
    let kept = &after["addresses_kept"];
    for list in ["voter_passes", "results_requested", "verifications"] {
        assert!(kept[list].as_array().unwrap().is_empty(), "{after:#}");
    }
    assert!(!after.to_string().contains("alex@"), "{after:#}");
}

#[tokio::test]
async fn the_embedded_default_announces_the_same_moments_on_sqlite() {
    let app = crate::helpers::spawn_embedded_app().await;
    let (porters, _) = open_vote(&app).await;
    let pass = app
        .voter_pass_asking(CAMPAIGN, "alex@example.org", true)
        .await;
    app.vote_with_pass(&porters, "nominee-jo", &pass)
        .await
        .unwrap();
    round(&app).await;
    close_and_release(&app).await;
    round(&app).await;
    round(&app).await;
    assert_eq!(app.published_of::<ev::VoteOpened>().await.len(), 1);
    let released = app.published_of::<ev::VoteResultsReleased>().await;
    assert_eq!(released.len(), 2);
    let porters_out = released.iter().find(|r| r.ballot_id == porters).unwrap();
    assert_eq!(porters_out.winner_choice_ids, ["nominee-jo"]);
    assert_eq!(porters_out.ledger_entries, 1);
    assert_eq!(app.published_of::<ev::VoterVoteCounted>().await.len(), 1);
    assert_eq!(
        app.published_of::<ev::VoterResultsReleased>().await.len(),
        1
    );
}
