//! A nomination already made, or one too many, is not taken; the form answers as it does for any
//! nomination, so that nobody learns from it who nominated whom, and the nominator's own mailbox is
//! told why (`nomination.declined.v1`).

use valued_nomination::Settings;
use valued_proto::events::v1::{NominationConfirmationRequested, NominationDeclined};

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn nominating_the_same_person_twice_stores_one_and_tells_only_the_nominators_mailbox() {
    let mut app = spawn_app().await;
    let first = app
        .client
        .submit_nomination(app.valid_request())
        .await
        .unwrap()
        .into_inner();
    let mut again = app.valid_request();
    again.nominee_name = "  sam   PATEL ".into();
    // Whoever typed the nominator's address learns nothing from the answer.
    let second = app
        .client
        .submit_nomination(again)
        .await
        .unwrap()
        .into_inner();
    assert_ne!(second.nomination_id, first.nomination_id);
    assert_eq!(app.nomination_count().await, 1);
    assert_eq!(
        app.events::<NominationConfirmationRequested>().await.len(),
        1,
        "one confirmation, for the first"
    );
    let declined = app.events::<NominationDeclined>().await;
    assert_eq!(declined.len(), 1);
    assert_eq!(declined[0].reason, "already_nominated");
    assert_eq!(declined[0].nominator_email, "alex@example.org");
    assert_eq!(declined[0].nominee_name, "sam   PATEL");
    assert_eq!(declined[0].category_name, "Porter of the year");

    // The same person in another category is a different nomination.
    let mut other_category = app.valid_request();
    other_category.category_id = app.campaign.categories[1].id.clone();
    app.client.submit_nomination(other_category).await.unwrap();
    assert_eq!(app.nomination_count().await, 2);
}

#[tokio::test]
async fn identical_submissions_at_the_same_moment_store_one() {
    let app = spawn_app().await;
    let attempts = (0..5).map(|_| {
        let mut client = app.client.clone();
        let request = app.valid_request();
        async move { client.submit_nomination(request).await }
    });
    let results = futures::future::join_all(attempts).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(app.nomination_count().await, 1);
    assert_eq!(app.events::<NominationDeclined>().await.len(), 4);
}

#[tokio::test]
async fn one_person_can_make_only_so_many_nominations_to_a_campaign_and_hears_so_by_email() {
    let mut app = spawn_app_with(Settings {
        nominations_per_nominator: 2,
        ..Settings::default()
    })
    .await;
    for nominee in ["Sam Patel", "Jo Bloggs"] {
        let mut request = app.valid_request();
        request.nominee_name = nominee.into();
        app.client.submit_nomination(request).await.unwrap();
    }
    let mut third = app.valid_request();
    third.nominee_name = "Alex Smith".into();
    app.client.submit_nomination(third.clone()).await.unwrap();
    assert_eq!(app.nomination_count().await, 2);
    let declined = app.events::<NominationDeclined>().await;
    assert_eq!(declined.len(), 1);
    assert_eq!(
        (declined[0].reason.as_str(), declined[0].limit),
        ("limit_reached", 2)
    );

    // Someone else still can.
    third.nominator_email = "someone.else@example.org".into();
    app.client.submit_nomination(third).await.unwrap();
    assert_eq!(app.nomination_count().await, 3);
}
