use sea_orm::{ConnectionTrait, Statement};
use tonic::Code;

use crate::helpers::{TestApp, counts, fields, spawn_app, spawn_embedded_app};

async fn porter_ballot(app: &TestApp) -> String {
    app.create_ballot(
        "Porter of the year",
        &[("sam", "Sam Patel"), ("jo", "Jo Bloggs")],
    )
    .await
}

#[tokio::test]
async fn a_vote_is_counted_in_the_tally() {
    let app = spawn_app().await;
    let ballot = porter_ballot(&app).await;

    let vote = app.vote(&ballot, "jo", "alex@example.org").await.unwrap();

    assert!(uuid::Uuid::parse_str(&vote.vote_id).is_ok());
    let tally = app.tally(&ballot).await;
    assert_eq!(counts(&tally), [("sam", 0), ("jo", 1)]);
    assert_eq!(tally.total_votes, 1);
}

#[tokio::test]
async fn a_second_vote_by_the_same_email_however_typed_is_refused_and_not_counted() {
    let app = spawn_app().await;
    let ballot = porter_ballot(&app).await;
    app.vote(&ballot, "jo", "alex.smith@example.org")
        .await
        .unwrap();

    for again in [
        "alex.smith@example.org",
        "  Alex.Smith@EXAMPLE.org ",
        "ALEX.SMITH@example.org",
        "alex.smith+second.go@example.org",
    ] {
        let refused = app.vote(&ballot, "sam", again).await.unwrap_err();
        assert_eq!(refused.code(), Code::AlreadyExists, "{again}");
        assert_eq!(refused.message(), "You have already voted in this ballot");
    }

    let tally = app.tally(&ballot).await;
    assert_eq!(counts(&tally), [("sam", 0), ("jo", 1)]);
}

#[tokio::test]
async fn the_same_voter_may_vote_once_in_each_ballot() {
    let app = spawn_app().await;
    let porters = porter_ballot(&app).await;
    let cleaners = app
        .create_ballot("Cleaner of the year", &[("a", "A"), ("b", "B")])
        .await;

    app.vote(&porters, "sam", "alex@example.org").await.unwrap();
    app.vote(&cleaners, "b", "alex@example.org").await.unwrap();

    assert_eq!(app.tally(&porters).await.total_votes, 1);
    assert_eq!(app.tally(&cleaners).await.total_votes, 1);
}

#[tokio::test]
async fn a_thousand_concurrent_votes_by_one_voter_however_typed_count_once() {
    let app = spawn_app().await;
    let ballot = porter_ballot(&app).await;

    // The same Gmail mailbox, with plus-tags, dots and either domain.
    let attempts = (0..1_000).map(|i| {
        let app = &app;
        let ballot = ballot.clone();
        let choice = if i % 2 == 0 { "sam" } else { "jo" };
        let typed = match i % 4 {
            0 => format!("Alex.Smith+{i}@gmail.com"),
            1 => format!("alexsmith+{i}@googlemail.com"),
            2 => "a.l.e.x.s.m.i.t.h@gmail.com".to_owned(),
            _ => "ALEXSMITH@GMAIL.COM".to_owned(),
        };
        async move { app.vote(&ballot, choice, &typed).await }
    });
    let results = futures::future::join_all(attempts).await;

    let accepted = results.iter().filter(|r| r.is_ok()).count();
    let refused: Vec<Code> = results
        .iter()
        .filter_map(|r| r.as_ref().err().map(tonic::Status::code))
        .collect();
    assert_eq!(accepted, 1, "{refused:?}");
    assert_eq!(refused, vec![Code::AlreadyExists; 999]);
    assert_eq!(app.tally(&ballot).await.total_votes, 1);
}

#[tokio::test]
async fn the_embedded_sqlite_default_also_counts_one_vote_per_voter() {
    let app = spawn_embedded_app().await;
    let ballot = porter_ballot(&app).await;

    let attempts = (0..10).map(|_| app.vote(&ballot, "sam", "alex@example.org"));
    let results = futures::future::join_all(attempts).await;

    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .flat_map(|r| r.as_ref().err())
            .all(|e| e.code() == Code::AlreadyExists)
    );
    assert_eq!(counts(&app.tally(&ballot).await), [("sam", 1), ("jo", 0)]);
}

#[tokio::test]
async fn concurrent_votes_by_different_voters_are_all_counted() {
    let app = spawn_app().await;
    let ballot = porter_ballot(&app).await;

    let (a, b, c) = tokio::join!(
        app.vote(&ballot, "sam", "a@example.org"),
        app.vote(&ballot, "sam", "b@example.org"),
        app.vote(&ballot, "jo", "c@example.org"),
    );

    assert!(a.is_ok() && b.is_ok() && c.is_ok());
    assert_eq!(counts(&app.tally(&ballot).await), [("sam", 2), ("jo", 1)]);
}

#[tokio::test]
async fn a_vote_in_an_unknown_ballot_is_not_found() {
    let app = spawn_app().await;

    let missing = app
        .vote(&uuid::Uuid::now_v7().to_string(), "sam", "alex@example.org")
        .await
        .unwrap_err();

    assert_eq!(missing.code(), Code::NotFound);
}

#[tokio::test]
async fn a_choice_from_another_ballot_is_refused_and_nothing_is_counted() {
    let app = spawn_app().await;
    let porters = porter_ballot(&app).await;
    let _cleaners = app
        .create_ballot("Cleaner of the year", &[("chris", "Chris"), ("bea", "Bea")])
        .await;

    let refused = app
        .vote(&porters, "chris", "alex@example.org")
        .await
        .unwrap_err();

    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(fields(&refused), ["choice_id"]);
    assert_eq!(app.tally(&porters).await.total_votes, 0);
    // The refusal used nothing up: the same voter can still vote properly.
    app.vote(&porters, "sam", "alex@example.org").await.unwrap();
}

#[tokio::test]
async fn a_malformed_vote_names_each_bad_field() {
    let app = spawn_app().await;
    let ballot = porter_ballot(&app).await;

    let refused = app
        .vote(&ballot, "", "alex at example.org")
        .await
        .unwrap_err();

    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(fields(&refused), ["choice_id", "voter_email"]);
}

/// A vote publishes nothing that names its choice (an event naming it, read beside the voter's
/// receipt event at the same second, would tell whoever reads the broker how each address voted),
/// and neither the email nor the stored voter key travels anywhere.
#[tokio::test]
async fn nothing_published_ties_a_voter_to_their_choice() {
    let app = spawn_app().await;
    let ballot = app
        .create_ballot(
            "Porter of the year",
            &[
                ("choice-sam-7f3a", "Sam Patel"),
                ("choice-jo-9c1d", "Jo Bloggs"),
            ],
        )
        .await;
    let before = app.published().await.len();
    app.vote(&ballot, "choice-sam-7f3a", "Alex.Smith@example.org")
        .await
        .unwrap();
    app.vote(&ballot, "choice-jo-9c1d", "jo.bloggs@example.org")
        .await
        .unwrap();
    app.vote(&ballot, "choice-jo-9c1d", "alex.smith@example.org")
        .await
        .unwrap_err();
    assert_eq!(
        counts(&app.tally(&ballot).await),
        [("choice-sam-7f3a", 1), ("choice-jo-9c1d", 1)]
    );

    let keys = stored_column(&app, "voter_key").await;
    let published = app.published().await;
    for envelope in &published[before..] {
        let text = format!("{envelope:?}").to_lowercase();
        let payload = String::from_utf8_lossy(&envelope.payload).to_lowercase();
        for secret in [
            "choice-sam-7f3a",
            "choice-jo-9c1d",
            "alex.smith",
            "jo.bloggs",
            "example.org",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(keys.clone())
        {
            assert!(
                !text.contains(&secret) && !payload.contains(&secret),
                "{secret} in {}",
                envelope.event_type
            );
        }
    }
}

#[tokio::test]
async fn only_a_keyed_hash_of_the_email_is_stored() {
    let app = spawn_app().await;
    let ballot = porter_ballot(&app).await;
    app.vote(&ballot, "sam", "Alex.Smith@example.org")
        .await
        .unwrap();

    let columns = stored_column_names(&app, "vote").await;
    // Besides the vote and its voter key: whether it counts, and the keyed digests the burst flags
    // work from (none for a ballot made by hand).
    assert_eq!(
        columns,
        [
            "ballot_id",
            "cast_at",
            "choice_id",
            "domain",
            "held_by",
            "id",
            "network",
            "status",
            "voter_key"
        ]
    );
    let keys = stored_column(&app, "voter_key").await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].len(), 64);
    assert!(keys[0].chars().all(|c| c.is_ascii_hexdigit()));
    let everything = app
        .db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT CAST(v AS text) FROM vote v".to_owned(),
        ))
        .await
        .unwrap();
    let row: String = everything[0].try_get_by_index(0).unwrap();
    assert!(!row.to_lowercase().contains("alex"), "{row}");
}

async fn stored_column(app: &TestApp, column: &str) -> Vec<String> {
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!("SELECT {column} FROM vote"),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| row.try_get_by_index(0).unwrap())
        .collect()
}

async fn stored_column_names(app: &TestApp, table: &str) -> Vec<String> {
    let rows = app
        .db
        .query_all_raw(Statement::from_sql_and_values(
            app.db.get_database_backend(),
            "SELECT column_name::text FROM information_schema.columns WHERE table_name = $1 ORDER BY column_name",
            [table.into()],
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| row.try_get_by_index(0).unwrap())
        .collect()
}

/// The votes waiting for a ballot are stored together: each still gets its own answer, and the
/// chain, the tally and the events are what storing them one at a time would have made.
async fn a_batch_answers_each_vote_as_if_cast_alone(app: &TestApp) {
    use valued_voting::db::queries::{self, Ballotted};
    use valued_voting::domain::VoterKey;
    use valued_voting::error::Error;

    let ballot = porter_ballot(app).await;
    let ballot_id = uuid::Uuid::parse_str(&ballot).unwrap();
    app.vote(&ballot, "sam", "early@example.org").await.unwrap();
    let vote = |choice: &str, voter: &str| Ballotted {
        choice_id: choice.into(),
        voter: VoterKey::from_stored(voter.into()),
        verified_for: None,
        signals: None,
        receipt_to: None,
    };
    let early = VoterKey::derive(
        &secrecy::SecretString::from("test-voter-key-secret"),
        &valued_platform::domain::EmailAddress::parse("email", "early@example.org").unwrap(),
    );
    let batch = vec![
        vote("jo", "voter-a"),
        vote("nobody", "voter-b"),
        vote("sam", "voter-a"),
        Ballotted {
            voter: early,
            ..vote("jo", "")
        },
        vote("sam", "voter-c"),
    ];
    let outbox = valued_platform::outbox::Outbox::detached("voting");
    let answers = queries::cast_votes(&app.db, &outbox, None, ballot_id, batch)
        .await
        .unwrap();

    assert_eq!(answers.len(), 5);
    let first = answers[0].as_ref().unwrap();
    assert!(!first.held);
    assert_eq!(first.choice_label, "Jo Bloggs");
    assert_eq!(first.ballot_title, "Porter of the year");
    assert!(matches!(&answers[1], Err(Error::Invalid(errors)) if errors[0].field == "choice_id"));
    assert!(
        matches!(answers[2], Err(Error::AlreadyVoted)),
        "a second vote in one batch"
    );
    assert!(
        matches!(answers[3], Err(Error::AlreadyVoted)),
        "voted before the batch"
    );
    let last = answers[4].as_ref().unwrap();
    assert_ne!(first.receipt, last.receipt);

    let tally = app.tally(&ballot).await;
    assert_eq!(counts(&tally), [("sam", 2), ("jo", 1)]);
    let report = valued_voting::ledger::store::verify(&app.db, ballot_id)
        .await
        .unwrap();
    assert!(report.intact(), "{report:?}");
    assert_eq!(report.entries, 3);
}

#[tokio::test]
async fn a_batch_on_postgres_answers_each_vote_as_if_cast_alone() {
    a_batch_answers_each_vote_as_if_cast_alone(&spawn_app().await).await;
}

#[tokio::test]
async fn a_batch_on_the_embedded_sqlite_default_answers_each_vote_as_if_cast_alone() {
    a_batch_answers_each_vote_as_if_cast_alone(&spawn_embedded_app().await).await;
}
