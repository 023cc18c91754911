use tonic::Code;
use valued_proto::voting::v1 as pb;

use crate::helpers::{counts, fields, spawn_app};

#[tokio::test]
async fn the_tally_counts_votes_per_choice_in_ballot_order() {
    let app = spawn_app().await;
    let ballot = app
        .create_ballot(
            "Cleaner of the year",
            &[("c", "Chris"), ("a", "Alex"), ("b", "Bea")],
        )
        .await;
    for (voter, choice) in [(1, "a"), (2, "a"), (3, "b"), (4, "a")] {
        app.vote(&ballot, choice, &format!("voter{voter}@example.org"))
            .await
            .unwrap();
    }

    let tally = app.tally(&ballot).await;
    assert_eq!(counts(&tally), [("c", 0), ("a", 3), ("b", 1)]);
    assert_eq!(tally.total_votes, 4);
    assert_eq!(tally.ballot_id, ballot);
}

#[tokio::test]
async fn an_unknown_ballot_has_no_tally_and_a_malformed_id_is_named() {
    let app = spawn_app().await;
    let mut client = app.client.clone();

    let unknown = client
        .get_tally(app.signed(pb::GetTallyRequest {
            ballot_id: uuid::Uuid::now_v7().to_string(),
        }))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);

    let malformed = client
        .get_tally(app.signed(pb::GetTallyRequest {
            ballot_id: "ballot-1".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert_eq!(fields(&malformed), ["ballot_id"]);
}
