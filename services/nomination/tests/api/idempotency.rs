//! A submission carrying the form's idempotency key may be sent again (the gateway retrying across
//! a restart, a double click, a browser resending the form): it is answered as the first sending
//! was and does nothing more. The same key with other answers is refused.

use tonic::Code;
use valued_nomination::Settings;
use valued_proto::events::v1::{NominationConfirmationRequested, NominationDeclined};
use valued_proto::nomination::v1::SubmitNominationRequest;

use crate::helpers::{spawn_app, spawn_app_with};

const KEY: &str = "0193a1b2-0000-7000-8000-00000000c0de";

fn keyed(request: SubmitNominationRequest, key: &str) -> SubmitNominationRequest {
    SubmitNominationRequest {
        idempotency_key: key.into(),
        ..request
    }
}

#[tokio::test]
async fn a_keyed_submission_sent_again_is_answered_as_the_first_and_stored_once() {
    let app = spawn_app().await;
    let request = keyed(app.valid_request(), KEY);
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            app.client
                .clone()
                .submit_nomination(request.clone())
                .await
                .unwrap()
                .into_inner()
                .nomination_id,
        );
    }
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(app.stored(&ids[0]).await.nominee_name, "Sam Patel");
    assert_eq!(app.nomination_count().await, 1);
    assert_eq!(
        app.events::<NominationConfirmationRequested>().await.len(),
        1,
        "one email asking to confirm"
    );
    assert!(
        app.events::<NominationDeclined>().await.is_empty(),
        "a repeat is not taken for a second nomination of the same person"
    );

    // The same key with other answers is not the same submission.
    let mut changed = request.clone();
    changed.story = "Another story altogether, about the night of the storm.".into();
    let refused = app
        .client
        .clone()
        .submit_nomination(changed)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::AlreadyExists);
    assert!(refused.message().contains("already sent"), "{refused:?}");
    assert_eq!(app.nomination_count().await, 1);

    // Without a key, or with another, it is a new sending (here: the same person again, declined
    // as ever).
    app.client
        .clone()
        .submit_nomination(app.valid_request())
        .await
        .unwrap();
    assert_eq!(app.events::<NominationDeclined>().await.len(), 1);
    assert_eq!(app.nomination_count().await, 1);
}

#[tokio::test]
async fn a_key_sent_twenty_times_at_once_makes_one_nomination() {
    let app = spawn_app().await;
    let request = keyed(app.valid_request(), KEY);
    let sendings = (0..20).map(|_| {
        let (mut client, request) = (app.client.clone(), request.clone());
        async move { client.submit_nomination(request).await }
    });
    let answers = futures::future::join_all(sendings).await;
    let ids: std::collections::HashSet<String> = answers
        .into_iter()
        .map(|answer| answer.unwrap().into_inner().nomination_id)
        .collect();
    assert_eq!(
        ids.len(),
        1,
        "every sending answered with the one id: {ids:?}"
    );
    assert_eq!(app.nomination_count().await, 1);
    assert_eq!(
        app.events::<NominationConfirmationRequested>().await.len(),
        1
    );
    assert!(app.events::<NominationDeclined>().await.is_empty());
}

#[tokio::test]
async fn a_declined_submission_sent_again_is_declined_once() {
    let app = spawn_app_with(Settings {
        nominations_per_nominator: 1,
        ..Settings::default()
    })
    .await;
    app.client
        .clone()
        .submit_nomination(app.valid_request())
        .await
        .unwrap();
    let mut second = keyed(app.valid_request(), KEY);
    second.nominee_name = "Jo Bloggs".into();
    let first_answer = app
        .client
        .clone()
        .submit_nomination(second.clone())
        .await
        .unwrap()
        .into_inner();
    let again = app
        .client
        .clone()
        .submit_nomination(second)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.nomination_id, first_answer.nomination_id);
    assert_eq!(app.nomination_count().await, 1);
    let declined = app.events::<NominationDeclined>().await;
    assert_eq!(declined.len(), 1, "one email saying the limit is reached");
    assert_eq!(declined[0].reason, "limit_reached");
}

#[tokio::test]
async fn a_key_that_is_not_one_is_named() {
    let app = spawn_app().await;
    for bad in ["short", "0193a1b2-0000-7000-8000-00000000c0de'; DROP TABLE"] {
        let refused = app
            .client
            .clone()
            .submit_nomination(keyed(app.valid_request(), bad))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{bad}");
        let errors = valued_platform::grpc::field_errors(&refused);
        assert_eq!(errors[0].field, "idempotency_key", "{errors:?}");
    }
    assert_eq!(app.nomination_count().await, 0);
}

#[tokio::test]
async fn repeats_do_not_use_up_the_rate_limit() {
    // Two submissions naming one email address a day.
    let mut settings = Settings::default();
    settings.rate_limits.per_address_per_day = 2;
    let app = spawn_app_with(settings).await;
    let request = keyed(app.valid_request(), KEY);
    for _ in 0..5 {
        app.client
            .clone()
            .submit_nomination(request.clone())
            .await
            .unwrap();
    }
    let mut other = app.valid_request();
    other.nominee_name = "Jo Bloggs".into();
    app.client.clone().submit_nomination(other).await.unwrap();
    assert_eq!(app.nomination_count().await, 2);
}
