//! The vote ledger: every counted vote is an entry in its ballot's hash chain, the voter's receipt
//! names it, and verifying recomputes the chain and the counts and names every break, whichever
//! way a row of the database was tampered with.

use sea_orm::{ConnectionTrait, Statement, Value};
use tonic::Code;
use valued_proto::voting::v1 as pb;
use valued_voting::ledger;

use crate::helpers::{TestApp, counts, spawn_app, spawn_embedded_app};

async fn porter_ballot(app: &TestApp) -> String {
    app.create_ballot(
        "Porter of the year",
        &[("sam", "Sam Patel"), ("jo", "Jo Bloggs")],
    )
    .await
}

/// Casts `choices` in order, by voter1@, voter2@, ...; their receipts.
async fn votes(app: &TestApp, ballot: &str, choices: &[&str]) -> Vec<String> {
    let mut receipts = Vec::new();
    for (index, choice) in choices.iter().enumerate() {
        let cast = app
            .vote(ballot, choice, &format!("voter{}@example.org", index + 1))
            .await
            .unwrap();
        receipts.push(cast.receipt);
    }
    receipts
}

async fn verify(app: &TestApp, ballot: &str) -> pb::VerifyLedgerResponse {
    app.client
        .clone()
        .verify_ledger(app.signed(pb::VerifyLedgerRequest {
            ballot_id: ballot.into(),
        }))
        .await
        .expect("a report")
        .into_inner()
}

/// The whole ledger, read `page` entries at a time, and the last page's answer.
async fn export(
    app: &TestApp,
    ballot: &str,
    page: u32,
) -> (Vec<pb::LedgerEntry>, pb::ExportLedgerResponse) {
    let mut entries = Vec::new();
    let mut after_seq = 0;
    loop {
        let answer = app
            .client
            .clone()
            .export_ledger(app.signed(pb::ExportLedgerRequest {
                ballot_id: ballot.into(),
                after_seq,
                limit: page,
            }))
            .await
            .expect("a page")
            .into_inner();
        entries.extend(answer.page.iter().cloned());
        if answer.next_after_seq == 0 {
            return (entries, answer);
        }
        after_seq = answer.next_after_seq;
    }
}

/// `(seq, kind)` of every break that is at an entry.
fn breaks(report: &pb::VerifyLedgerResponse) -> Vec<(u64, &str)> {
    report
        .breaks
        .iter()
        .filter(|b| b.seq != 0)
        .map(|b| (b.seq, b.kind.as_str()))
        .collect()
}

fn kinds(report: &pb::VerifyLedgerResponse) -> Vec<&str> {
    report.breaks.iter().map(|b| b.kind.as_str()).collect()
}

/// Runs `sql` on the test's database with the ballot's id as `$1`.
async fn tamper(app: &TestApp, ballot: &str, sql: &str) {
    let ballot: uuid::Uuid = ballot.parse().unwrap();
    app.db
        .execute_raw(Statement::from_sql_and_values(
            app.db.get_database_backend(),
            sql,
            [Value::from(ballot)],
        ))
        .await
        .unwrap();
}

fn assert_chain(ballot: &str, entries: &[pb::LedgerEntry], head: &str) {
    let ballot_id = ballot.parse().unwrap();
    let mut prev = ledger::genesis(ballot_id);
    for (entry, seq) in entries.iter().zip(1..) {
        assert_eq!(entry.seq, seq);
        assert_eq!(entry.prev_hash, prev, "entry {seq} links to the one before");
        assert!(entry.cast_hour.ends_with(":00:00Z"), "{}", entry.cast_hour);
        assert_eq!(entry.receipt, ledger::receipt(&entry.hash));
        prev.clone_from(&entry.hash);
    }
    assert_eq!(head, prev);
}

#[tokio::test]
async fn votes_form_a_gap_free_chain_whose_counts_agree_everywhere() {
    let app = spawn_app().await;
    let ballot = porter_ballot(&app).await;
    votes(&app, &ballot, &["jo", "sam", "jo", "jo", "sam"]).await;

    let (entries, answer) = export(&app, &ballot, 2).await;

    assert_eq!(entries.len(), 5);
    assert_eq!(answer.entries, 5);
    assert_chain(&ballot, &entries, &answer.head);
    let choices: Vec<&str> = entries.iter().map(|e| e.choice_id.as_str()).collect();
    assert_eq!(choices, ["jo", "sam", "jo", "jo", "sam"]);
    let report = verify(&app, &ballot).await;
    assert!(report.intact, "{:?}", report.breaks);
    assert_eq!(report.head, answer.head);
    assert_eq!(report.entries, 5);
    let checked: Vec<(&str, u64, u64, u64)> = report
        .counts
        .iter()
        .map(|c| (c.choice_id.as_str(), c.ledger, c.tally, c.votes))
        .collect();
    assert_eq!(checked, [("sam", 2, 2, 2), ("jo", 3, 3, 3)]);
    let tally = app.tally(&ballot).await;
    assert_eq!(counts(&tally), [("sam", 2), ("jo", 3)]);
    assert_eq!((tally.ledger_head, tally.ledger_entries), (answer.head, 5));
}

#[tokio::test]
async fn the_export_holds_nothing_that_names_a_voter() {
    let app = spawn_app().await;
    let ballot = porter_ballot(&app).await;
    app.vote(&ballot, "sam", "Alex.Smith@example.org")
        .await
        .unwrap();

    let (entries, _) = export(&app, &ballot, 0).await;

    let key: String = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT voter_key FROM vote".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap();
    let text = format!("{entries:?}").to_lowercase();
    for secret in ["alex", "example.org", &key] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert_ne!(entries[0].voter_hash, key);
    assert_eq!(
        entries[0].voter_hash,
        ledger::voter_hash_of(ballot.parse().unwrap(), &key)
    );
}

#[tokio::test]
async fn each_receipt_names_the_voters_own_entry() {
    let app = spawn_app().await;
    let ballot = porter_ballot(&app).await;
    let receipts = votes(&app, &ballot, &["sam", "jo", "jo"]).await;

    let (entries, _) = export(&app, &ballot, 0).await;

    for (receipt, choice) in receipts.iter().zip(["sam", "jo", "jo"]) {
        assert_eq!(receipt.len(), 11, "{receipt}");
        let found: Vec<&pb::LedgerEntry> =
            entries.iter().filter(|e| e.receipt == *receipt).collect();
        assert_eq!(found.len(), 1, "{receipt}");
        assert_eq!(found[0].choice_id, choice);
        assert_eq!(ledger::receipt(&found[0].hash), *receipt);
    }
}

#[tokio::test]
async fn a_refused_vote_appends_nothing() {
    let app = spawn_app().await;
    let ballot = porter_ballot(&app).await;
    votes(&app, &ballot, &["sam"]).await;

    let refused = app
        .vote(&ballot, "jo", "Voter1@example.org")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::AlreadyExists);
    let chosen_elsewhere = app
        .vote(&ballot, "chris", "voter2@example.org")
        .await
        .unwrap_err();
    assert_eq!(chosen_elsewhere.code(), Code::InvalidArgument);

    let (entries, _) = export(&app, &ballot, 0).await;
    assert_eq!(entries.len(), 1);
    assert!(verify(&app, &ballot).await.intact);
}

#[tokio::test]
async fn a_changed_choice_is_named_by_its_sequence() {
    let app = spawn_app().await;
    let ballot = porter_ballot(&app).await;
    votes(&app, &ballot, &["sam", "sam", "jo", "sam"]).await;

    tamper(
        &app,
        &ballot,
        "UPDATE ledger_entry SET choice_id = 'sam' WHERE ballot_id = $1 AND seq = 3",
    )
    .await;

    let report = verify(&app, &ballot).await;
    assert!(!report.intact);
    assert_eq!(breaks(&report), [(3, "altered"), (3, "choice_differs")]);
    assert!(kinds(&report).contains(&"votes_mismatch"));
    assert!(kinds(&report).contains(&"tally_mismatch"));
}

#[tokio::test]
async fn a_deleted_entry_is_named_by_its_sequence() {
    let app = spawn_app().await;
    let ballot = porter_ballot(&app).await;
    votes(&app, &ballot, &["sam", "jo", "jo", "sam"]).await;

    tamper(
        &app,
        &ballot,
        "DELETE FROM ledger_entry WHERE ballot_id = $1 AND seq = 3",
    )
    .await;

    let report = verify(&app, &ballot).await;
    assert_eq!(breaks(&report), [(3, "missing")]);
    assert!(kinds(&report).contains(&"unrecorded"));
    assert_eq!(report.entries, 3);
}

#[tokio::test]
async fn an_inserted_entry_is_named_by_its_sequence_however_well_forged() {
    let app = spawn_app().await;
    let ballot = porter_ballot(&app).await;
    votes(&app, &ballot, &["sam", "jo"]).await;
    let (entries, answer) = export(&app, &ballot, 0).await;
    let ballot_id: uuid::Uuid = ballot.parse().unwrap();
    // Hashed exactly as the service would have: only the counted votes can tell.
    let forged = ledger::Entry::next(
        ballot_id,
        3,
        "jo",
        ledger::voter_hash_of(ballot_id, "made-up"),
        chrono::Utc::now(),
        answer.head.clone(),
    );
    assert_eq!(forged.prev_hash, entries[1].hash);

    app.db
        .execute_raw(Statement::from_sql_and_values(
            app.db.get_database_backend(),
            "INSERT INTO ledger_entry (ballot_id, seq, choice_id, voter_hash, cast_hour, prev_hash, hash) \
             VALUES ($1, 3, 'jo', $2, $3, $4, $5)",
            [
                ballot_id.into(),
                forged.voter_hash.clone().into(),
                forged.cast_hour.into(),
                forged.prev_hash.clone().into(),
                forged.hash.clone().into(),
            ],
        ))
        .await
        .unwrap();
    tamper(
        &app,
        &ballot,
        "UPDATE tally SET votes = votes + 1 WHERE ballot_id = $1 AND choice_id = 'jo'",
    )
    .await;

    let report = verify(&app, &ballot).await;
    assert_eq!(breaks(&report), [(3, "unmatched")]);
    assert_eq!(kinds(&report), ["unmatched", "votes_mismatch"]);
    assert_eq!(report.head, forged.hash);
}

#[tokio::test]
async fn swapped_entries_are_each_named_as_out_of_place() {
    let app = spawn_app().await;
    let ballot = porter_ballot(&app).await;
    votes(&app, &ballot, &["sam", "jo", "sam", "jo"]).await;

    for sql in [
        "UPDATE ledger_entry SET seq = 0 WHERE ballot_id = $1 AND seq = 2",
        "UPDATE ledger_entry SET seq = 2 WHERE ballot_id = $1 AND seq = 3",
        "UPDATE ledger_entry SET seq = 3 WHERE ballot_id = $1 AND seq = 0",
    ] {
        tamper(&app, &ballot, sql).await;
    }

    let report = verify(&app, &ballot).await;
    assert_eq!(
        breaks(&report),
        [
            (2, "moved"),
            (2, "broken_link"),
            (3, "moved"),
            (3, "broken_link"),
            (4, "broken_link")
        ]
    );
    assert_eq!(
        report.breaks[0].detail,
        "entry 2 is entry 3 moved out of place"
    );
}

#[tokio::test]
async fn a_tally_out_of_step_with_the_ledger_is_reported() {
    let app = spawn_app().await;
    let ballot = porter_ballot(&app).await;
    votes(&app, &ballot, &["sam", "jo"]).await;

    tamper(
        &app,
        &ballot,
        "UPDATE tally SET votes = 7 WHERE ballot_id = $1 AND choice_id = 'sam'",
    )
    .await;

    let report = verify(&app, &ballot).await;
    assert_eq!(kinds(&report), ["tally_mismatch"]);
    assert_eq!(report.breaks[0].seq, 0);
    assert_eq!(
        report.breaks[0].detail,
        "choice sam: the ledger counts 1, the maintained tally 7"
    );
}

async fn concurrent_votes_chain_without_gaps(app: &TestApp, voters: usize) {
    let ballot = porter_ballot(app).await;

    let attempts = (0..voters).map(|i| {
        let ballot = ballot.clone();
        let choice = if i % 3 == 0 { "sam" } else { "jo" };
        async move {
            app.vote(&ballot, choice, &format!("voter{i}@example.org"))
                .await
        }
    });
    let results = futures::future::join_all(attempts).await;

    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let (entries, answer) = export(app, &ballot, 0).await;
    assert_eq!(entries.len(), voters);
    assert_chain(&ballot, &entries, &answer.head);
    let report = verify(app, &ballot).await;
    assert!(report.intact, "{:?}", report.breaks);
    let sam = voters.div_ceil(3) as u64;
    let tally = app.tally(&ballot).await;
    assert_eq!(counts(&tally), [("sam", sam), ("jo", voters as u64 - sam)]);
}

#[tokio::test]
async fn concurrent_votes_on_postgres_chain_without_gaps() {
    let app = spawn_app().await;
    concurrent_votes_chain_without_gaps(&app, 60).await;
}

#[tokio::test]
async fn concurrent_votes_on_the_embedded_sqlite_default_chain_without_gaps() {
    let app = spawn_embedded_app().await;
    concurrent_votes_chain_without_gaps(&app, 30).await;
}

#[tokio::test]
async fn only_a_platform_admin_verifies_or_exports_a_ledger_and_an_unknown_ballot_is_not_found() {
    let app = spawn_app().await;
    let ballot = porter_ballot(&app).await;
    let someone = app
        .provider
        .verified_id_token("someone@example.org")
        .await
        .unwrap();
    let mut client = app.client.clone();
    let verify_request = || pb::VerifyLedgerRequest {
        ballot_id: ballot.clone(),
    };
    let export_request = || pb::ExportLedgerRequest {
        ballot_id: ballot.clone(),
        ..Default::default()
    };

    let codes = [
        client
            .verify_ledger(verify_request())
            .await
            .unwrap_err()
            .code(),
        client
            .verify_ledger(valued_testkit::roles::signed(&someone, verify_request()))
            .await
            .unwrap_err()
            .code(),
        client
            .export_ledger(export_request())
            .await
            .unwrap_err()
            .code(),
        client
            .export_ledger(valued_testkit::roles::signed(&someone, export_request()))
            .await
            .unwrap_err()
            .code(),
    ];
    assert_eq!(
        codes,
        [
            Code::Unauthenticated,
            Code::PermissionDenied,
            Code::Unauthenticated,
            Code::PermissionDenied
        ]
    );

    let unknown = uuid::Uuid::now_v7().to_string();
    let missing = client
        .verify_ledger(app.signed(pb::VerifyLedgerRequest { ballot_id: unknown }))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let empty = verify(&app, &ballot).await;
    assert!(empty.intact);
    assert_eq!((empty.head.as_str(), empty.entries), ("", 0));
}

#[tokio::test]
async fn subject_access_gives_the_receipt_of_each_of_the_persons_entries() {
    let app = spawn_app().await;
    let ballot = porter_ballot(&app).await;
    let receipts = votes(&app, &ballot, &["sam", "jo"]).await;

    let json = app
        .client
        .clone()
        .export_person(app.signed(pb::ExportPersonRequest {
            email: "Voter2@example.org".into(),
        }))
        .await
        .unwrap()
        .into_inner()
        .json;

    let held: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(held["votes"][0]["ledger_receipt"], receipts[1].as_str());
    assert!(!json.contains(&receipts[0]), "{json}");
}
