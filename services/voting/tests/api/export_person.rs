//! Subject access: a platform admin gets the votes cast with an address, however it was typed, and
//! nobody else's; a malformed address is named.

use tonic::Code;
use valued_proto::voting::v1 as pb;

use crate::helpers::{fields, spawn_app};

#[tokio::test]
async fn a_platform_admin_exports_the_votes_cast_with_an_address() {
    let app = spawn_app().await;
    let ballot = app
        .create_ballot("Porter of the year", &[("a", "Alex"), ("b", "Bea")])
        .await;
    app.vote(&ballot, "b", "Sam.Patel@example.org")
        .await
        .unwrap();
    app.vote(&ballot, "a", "someone.else@example.org")
        .await
        .unwrap();

    let json = app
        .client
        .clone()
        .export_person(app.signed(pb::ExportPersonRequest {
            email: " sam.patel@EXAMPLE.org".into(),
        }))
        .await
        .unwrap()
        .into_inner()
        .json;
    let held: serde_json::Value = serde_json::from_str(&json).unwrap();
    let votes = held["votes"].as_array().unwrap();
    assert_eq!(votes.len(), 1, "{held:#}");
    assert_eq!(votes[0]["ballot"], "Porter of the year");
    assert_eq!(votes[0]["choice_id"], "b");
    assert!(
        !json.contains("sam.patel"),
        "the address itself is never stored: {json}"
    );

    let malformed = app
        .client
        .clone()
        .export_person(app.signed(pb::ExportPersonRequest {
            email: "not an address".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert_eq!(fields(&malformed), ["email"]);

    // A signed-in person who is no platform admin gets nothing.
    let nobody = app
        .provider
        .verified_id_token("nobody@example.org")
        .await
        .unwrap();
    let refused = app
        .client
        .clone()
        .export_person(valued_testkit::roles::signed(
            &nobody,
            pb::ExportPersonRequest {
                email: "sam.patel@example.org".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
}
