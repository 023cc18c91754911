//! `valued votes verify BALLOT`: how an auditor with the voting database checks a ballot's ledger.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sea_orm::ConnectionTrait;
use valued::Settings;
use valued_platform::domain::EmailAddress;
use valued_platform::outbox::Outbox;
use valued_voting::db::queries;
use valued_voting::domain::{
    BallotRequest, ChoiceRequest, NewBallot, NewVote, VoteRequest, VoterKey,
};

/// A ballot in the embedded default's voting database with `choices` cast by voter1@, voter2@, ...
async fn ballot_with_votes(
    settings: &Settings,
    choices: &[&str],
) -> (sea_orm::DatabaseConnection, String) {
    valued_voting::migrate(&settings.voting.settings, &settings.data_dir)
        .await
        .unwrap();
    let db = valued_platform::db::connect(
        &settings.voting.settings.database,
        &settings.data_dir,
        valued_voting::NAME,
    )
    .await
    .unwrap();
    let outbox = Outbox::detached(valued_voting::NAME);
    let ballot = NewBallot::parse(&BallotRequest {
        title: "Porter of the year".into(),
        choices: ["sam", "jo"]
            .iter()
            .map(|id| ChoiceRequest {
                id: (*id).into(),
                label: id.to_uppercase(),
            })
            .collect(),
    })
    .unwrap();
    let ballot_id = queries::create_ballot(&db, &outbox, &ballot)
        .await
        .unwrap()
        .to_string();
    for (index, choice) in choices.iter().enumerate() {
        let vote = NewVote::parse(&VoteRequest {
            ballot_id: ballot_id.clone(),
            choice_id: (*choice).into(),
            voter_email: format!("voter{index}@example.org"),
            ..VoteRequest::default()
        })
        .unwrap();
        let address =
            EmailAddress::parse("voter_email", &format!("voter{index}@example.org")).unwrap();
        let key = VoterKey::derive(&settings.voting.settings.voter_key_secret, &address);
        let ballotted = queries::Ballotted {
            choice_id: vote.choice_id.clone(),
            voter: key,
            verified_for: None,
            signals: None,
            receipt_to: None,
        };
        queries::cast_vote(&db, &outbox, None, vote.ballot_id, ballotted)
            .await
            .unwrap();
    }
    (db, ballot_id)
}

/// Runs the `valued votes verify` command on the embedded default under `data_dir`: whether it
/// succeeded, and what it printed.
fn valued_votes_verify(data_dir: &std::path::Path, ballot: &str) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_valued"))
        .args(["votes", "verify", ballot])
        .env("VALUED__DATA_DIR", data_dir)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test]
async fn an_untouched_ledger_verifies_and_a_changed_row_is_named() {
    let data_dir =
        std::env::temp_dir().join(format!("valued-votes-{}", uuid::Uuid::new_v4().simple()));
    let settings = Settings::embedded_on_free_ports(&data_dir).unwrap();
    let (db, ballot) = ballot_with_votes(&settings, &["sam", "jo", "jo"]).await;

    let report = valued::verify_votes(&settings, &ballot).await.unwrap();
    assert!(report.intact(), "{:?}", report.breaks);
    assert_eq!(report.entries, 3);
    let counts: Vec<(&str, u64, u64, u64)> = report
        .counts
        .iter()
        .map(|c| (c.choice_id.as_str(), c.ledger, c.tally, c.votes))
        .collect();
    assert_eq!(counts, [("sam", 1, 1, 1), ("jo", 2, 2, 2)]);
    let (ok, printed) = valued_votes_verify(&data_dir, &ballot);
    assert!(ok, "{printed}");
    assert!(
        printed.contains("Entries: 3") && printed.contains("  jo: 2 / 2 / 2"),
        "{printed}"
    );

    db.execute_unprepared("UPDATE ledger_entry SET choice_id = 'sam' WHERE seq = 2")
        .await
        .unwrap();
    let report = valued::verify_votes(&settings, &ballot).await.unwrap();
    assert!(!report.intact());
    let at: Vec<(Option<u64>, &str)> = report.breaks.iter().map(|b| (b.seq(), b.kind())).collect();
    assert_eq!(
        &at[..2],
        [(Some(2), "altered"), (Some(2), "choice_differs")]
    );

    for bad in ["ballot-1", &uuid::Uuid::now_v7().to_string()] {
        let error = valued::verify_votes(&settings, bad).await.unwrap_err();
        assert!(
            error.to_string().contains("UUID") || error.to_string().contains("not found"),
            "{error}"
        );
    }
}
