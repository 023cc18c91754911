use tonic::Code;
use valued_proto::events::v1::BallotOpened;

use crate::helpers::{ballot_request, counts, fields, spawn_app};

#[tokio::test]
async fn a_new_ballot_lists_every_choice_with_no_votes_and_is_announced() {
    let app = spawn_app().await;

    let ballot_id = app
        .create_ballot(
            "Porter of the year",
            &[
                ("sam", "Sam Patel"),
                ("jo", "Jo Bloggs"),
                ("ali", "Ali Khan"),
            ],
        )
        .await;

    let tally = app.tally(&ballot_id).await;
    assert_eq!(counts(&tally), [("sam", 0), ("jo", 0), ("ali", 0)]);
    assert_eq!(tally.choices[1].label, "Jo Bloggs");
    assert_eq!(tally.total_votes, 0);
    assert_eq!(
        app.published_of::<BallotOpened>().await,
        [BallotOpened {
            ballot_id,
            title: "Porter of the year".into(),
            choice_ids: vec!["sam".into(), "jo".into(), "ali".into()],
        }]
    );
}

#[tokio::test]
async fn a_malformed_ballot_is_refused_naming_each_bad_field_and_nothing_is_stored() {
    let app = spawn_app().await;
    let mut client = app.client.clone();

    let one_choice = client
        .create_ballot(app.signed(ballot_request(
            "Porter of the year",
            &[("sam", "Sam Patel")],
        )))
        .await
        .unwrap_err();
    assert_eq!(one_choice.code(), Code::InvalidArgument);
    assert_eq!(fields(&one_choice), ["choices"]);

    let long_title = "x".repeat(201);
    let many_faults = client
        .create_ballot(app.signed(ballot_request(
            &long_title,
            &[("sam", "Sam"), ("sam", "Jo"), ("ali", "")],
        )))
        .await
        .unwrap_err();
    assert_eq!(many_faults.code(), Code::InvalidArgument);
    assert_eq!(
        fields(&many_faults),
        ["title", "choices[1].id", "choices[2].label"]
    );

    assert!(app.published().await.is_empty());
}

#[tokio::test]
async fn only_a_platform_admin_creates_ballots_and_reads_tallies() {
    let app = spawn_app().await;
    let ballot_id = app
        .create_ballot("Porter of the year", &[("a", "A"), ("b", "B")])
        .await;
    let someone = app
        .provider
        .verified_id_token("someone@example.org")
        .await
        .unwrap();
    let mut client = app.client.clone();

    let anonymous = client
        .create_ballot(ballot_request(
            "Cleaner of the year",
            &[("a", "A"), ("b", "B")],
        ))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    let not_an_admin = client
        .create_ballot(valued_testkit::roles::signed(
            &someone,
            ballot_request("Cleaner of the year", &[("a", "A"), ("b", "B")]),
        ))
        .await
        .unwrap_err();
    assert_eq!(not_an_admin.code(), Code::PermissionDenied);
    let tally = |ballot_id: &str| valued_proto::voting::v1::GetTallyRequest {
        ballot_id: ballot_id.into(),
    };
    assert_eq!(
        client
            .get_tally(tally(&ballot_id))
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );
    assert_eq!(
        client
            .get_tally(valued_testkit::roles::signed(&someone, tally(&ballot_id)))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    // Nothing was created by the refused calls: the admin's ballot is the only one announced.
    assert_eq!(app.published_of::<BallotOpened>().await.len(), 1);
}
