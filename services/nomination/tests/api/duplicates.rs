use valued_nomination::Settings;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn nominating_the_same_person_twice_is_refused_with_a_clear_message() {
    let mut app = spawn_app().await;
    app.client
        .submit_nomination(app.valid_request())
        .await
        .unwrap();
    let mut again = app.valid_request();
    again.nominee_name = "  sam   PATEL ".into();
    let status = app.client.submit_nomination(again).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::AlreadyExists);
    assert_eq!(
        status.message(),
        "You have already nominated sam   PATEL for Porter of the year"
    );
    assert_eq!(app.nomination_count().await, 1);
    assert_eq!(
        app.platform.wait_for_events(1).await.len(),
        1,
        "one event, for the first"
    );

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
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|s| s.code() == tonic::Code::AlreadyExists)
    );
    assert_eq!(app.nomination_count().await, 1);
}

#[tokio::test]
async fn one_person_can_make_only_so_many_nominations_to_a_campaign() {
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
    let status = app
        .client
        .submit_nomination(third.clone())
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
    assert!(
        status.message().contains("the most one person can make"),
        "{}",
        status.message()
    );

    // Someone else still can.
    third.nominator_email = "someone.else@example.org".into();
    app.client.submit_nomination(third).await.unwrap();
    assert_eq!(app.nomination_count().await, 3);
}
