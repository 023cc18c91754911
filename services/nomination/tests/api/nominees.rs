use valued_proto::events::v1::{
    NominationConfirmationRequested, NominationSubmitted, NomineeThanked,
};
use valued_proto::nomination::v1::ConfirmNominationRequest;
use valued_proto::nomination::v1::GetNomineeRequest;

use crate::helpers::{PLATFORM_ADMIN, TestApp, signed, spawn_admin_app, spawn_app, verified_token};

async fn nominate(app: &mut TestApp, nominee: &str, role: &str, nominator: &str) -> String {
    let mut request = app.valid_request();
    request.nominee_name = nominee.into();
    request.nominee_job_title = role.into();
    request.nominator_email = nominator.into();
    let id = app
        .client
        .submit_nomination(request)
        .await
        .unwrap()
        .into_inner()
        .nomination_id;
    app.nominee_of(&id).await
}

#[tokio::test]
async fn colleagues_nominating_the_same_person_meet_in_one_nominee() {
    let mut app = spawn_app().await;
    let first = nominate(&mut app, "Sam Patel", "Porter", "a@example.org").await;
    let second = nominate(&mut app, "sam  patel", "porter", "b@example.org").await;
    let third = nominate(&mut app, "Sam Patel.", "Porter ", "c@example.org").await;
    assert_eq!(first, second);
    assert_eq!(first, third);

    let (nominee, nomination_count) = app.nominee(&first).await;
    assert_eq!(nominee.name, "Sam Patel", "the name as first given");
    assert_eq!(nomination_count, 3);
    assert_eq!(nominee.trust_code, app.campaign.trusts[0].code);

    let requested = app.events::<NominationConfirmationRequested>().await;
    assert_eq!(requested.len(), 3, "each nominator confirms their own");
    for request in requested {
        app.client
            .confirm_nomination(ConfirmNominationRequest {
                confirm_token: request.confirm_token,
            })
            .await
            .unwrap();
    }
    let submitted = app.events::<NominationSubmitted>().await;
    assert_eq!(submitted.len(), 3);
    assert!(submitted.iter().all(|e| e.nominee_id == first));
    let thanked = app.events::<NomineeThanked>().await;
    assert_eq!(
        thanked.len(),
        1,
        "Sam is thanked once, not once per colleague"
    );
    assert_eq!(thanked[0].nominee_id, first);
}

#[tokio::test]
async fn another_role_or_trust_is_another_person() {
    let mut app = spawn_app().await;
    let porter = nominate(&mut app, "Sam Patel", "Porter", "a@example.org").await;
    let cleaner = nominate(&mut app, "Sam Patel", "Domestic assistant", "b@example.org").await;
    assert_ne!(porter, cleaner);

    let mut elsewhere = app.valid_request();
    elsewhere.trust_code = app.campaign.trusts[1].code.clone();
    elsewhere.nominator_email = "c@example.org".into();
    let id = app
        .client
        .submit_nomination(elsewhere)
        .await
        .unwrap()
        .into_inner()
        .nomination_id;
    assert_ne!(app.nominee_of(&id).await, porter);
}

#[tokio::test]
async fn an_unknown_nominee_is_not_found() {
    let (mut app, provider) = spawn_admin_app().await;
    let admin = verified_token(&provider, PLATFORM_ADMIN).await;
    for id in [uuid::Uuid::now_v7().to_string(), "not-an-id".to_owned()] {
        let status = app
            .client
            .get_nominee(signed(&admin, GetNomineeRequest { nominee_id: id }))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::NotFound);
    }
}

#[tokio::test]
async fn colleagues_nominating_at_the_same_moment_still_meet_in_one_nominee() {
    let app = spawn_app().await;
    let submissions = (0..6).map(|i| {
        let mut client = app.client.clone();
        let mut request = app.valid_request();
        request.nominator_email = format!("colleague-{i}@example.org");
        async move {
            client
                .submit_nomination(request)
                .await
                .unwrap()
                .into_inner()
                .nomination_id
        }
    });
    let mut nominees = Vec::new();
    for id in futures::future::join_all(submissions).await {
        nominees.push(app.nominee_of(&id).await);
    }
    assert!(nominees.iter().all(|n| *n == nominees[0]), "{nominees:?}");
    let (_, nomination_count) = app.nominee(&nominees[0]).await;
    assert_eq!(nomination_count, 6, "6 colleagues nominated Sam");
}
