use valued_platform::grpc::field_errors;
use valued_proto::events::v1::{
    NominationConfirmationRequested, NominationSubmitted, NomineeThanked,
};
use valued_proto::nomination::v1::{ConfirmNominationRequest, ListCampaignsRequest};

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_demo_campaign_is_seeded_with_support_staff_categories() {
    let mut app = spawn_app().await;
    let campaigns = app
        .client
        .list_campaigns(ListCampaignsRequest {})
        .await
        .unwrap()
        .into_inner()
        .campaigns;
    assert_eq!(campaigns.len(), 1);
    let names: Vec<&str> = campaigns[0]
        .categories
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Porter of the year",
            "Domestic / housekeeper of the year",
            "Admin and clerical hero",
            "Healthcare support worker of the year"
        ]
    );
    assert!(campaigns[0].trusts.len() >= 2);
}

#[tokio::test]
async fn a_nomination_counts_once_its_nominator_confirms_their_email() {
    let mut app = spawn_app().await;
    let request = app.valid_request();
    let id = app
        .client
        .submit_nomination(request.clone())
        .await
        .unwrap()
        .into_inner()
        .nomination_id;
    assert_eq!(status_of(&mut app, &id).await, "unconfirmed");

    let requested = app.events::<NominationConfirmationRequested>().await;
    assert_eq!(requested.len(), 1);
    assert_eq!(requested[0].nomination_id, id);
    assert_eq!(requested[0].nominator_email, "alex@example.org");
    assert_eq!(requested[0].nominee_name, "Sam Patel");
    assert!(
        app.events::<NominationSubmitted>().await.is_empty(),
        "the trust hears nothing before the nominator confirms"
    );

    let wrong = app
        .client
        .confirm_nomination(ConfirmNominationRequest {
            confirm_token: "0".repeat(64),
        })
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), tonic::Code::NotFound);

    let confirm_token = requested[0].confirm_token.clone();
    let confirmed = app
        .client
        .confirm_nomination(ConfirmNominationRequest {
            confirm_token: confirm_token.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(confirmed.newly_confirmed);
    assert_eq!(confirmed.nominee_name, "Sam Patel");
    assert_eq!(status_of(&mut app, &id).await, "pending");

    let again = app
        .client
        .confirm_nomination(ConfirmNominationRequest { confirm_token })
        .await
        .unwrap()
        .into_inner();
    assert!(!again.newly_confirmed, "a second click changes nothing");

    let submitted = app.events::<NominationSubmitted>().await;
    assert_eq!(submitted.len(), 1, "announced exactly once");
    assert_eq!(submitted[0].nomination_id, id);
    assert_eq!(submitted[0].nominator_email, "alex@example.org");
    assert!(submitted[0].trust_admin_email.ends_with("example.org"));
    assert_eq!(submitted[0].category_name, app.campaign.categories[0].name);
    assert!(
        submitted[0]
            .staff_group
            .starts_with("Estates and ancillary")
    );

    // No work address was given: the thank-you goes through the trust's contact.
    let thanked = app.events::<NomineeThanked>().await;
    assert_eq!(thanked.len(), 1);
    assert!(thanked[0].via_manager);
    assert_eq!(thanked[0].recipient_email, submitted[0].trust_admin_email);
    assert_eq!(thanked[0].nominee_name, "Sam Patel");
}

async fn status_of(app: &mut crate::helpers::TestApp, id: &str) -> String {
    app.stored(id).await.status
}

#[tokio::test]
async fn invalid_fields_are_all_reported_and_nothing_is_stored() {
    let mut app = spawn_app().await;
    let mut request = app.valid_request();
    request.nominee_name = "Sam\r\nBcc: someone@example.org".into();
    request.nominator_email = "alex@".into();
    request.story = "word ".repeat(301);
    request.staff_group = "surgeons".into();
    let status = app.client.submit_nomination(request).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let fields: Vec<String> = field_errors(&status).into_iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        ["nominee_name", "staff_group", "story", "nominator_email"]
    );
    assert_eq!(app.nomination_count().await, 0);
    assert!(app.platform.events().is_empty());
}

#[tokio::test]
async fn unknown_trust_category_or_campaign_is_refused() {
    let mut app = spawn_app().await;
    let mut request = app.valid_request();
    request.trust_code = "ZZZ".into();
    request.category_id = uuid::Uuid::now_v7().to_string();
    let status = app.client.submit_nomination(request).await.unwrap_err();
    let errors = field_errors(&status);
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].message, "Select a category from the list");
    assert_eq!(errors[1].message, "Select a trust from the list");

    let mut request = app.valid_request();
    request.campaign_id = uuid::Uuid::now_v7().to_string();
    let status = app.client.submit_nomination(request).await.unwrap_err();
    assert_eq!(field_errors(&status)[0].field, "campaign_id");
    assert_eq!(app.nomination_count().await, 0);
}

#[tokio::test]
async fn concurrent_nominations_are_each_stored_and_announced() {
    let app = spawn_app().await;
    let (mut a, mut b) = (app.client.clone(), app.client.clone());
    let mut other = app.valid_request();
    other.nominee_name = "Jo Bloggs".into();
    let (first, second) = tokio::join!(
        a.submit_nomination(app.valid_request()),
        b.submit_nomination(other)
    );
    let (first, second) = (
        first.unwrap().into_inner().nomination_id,
        second.unwrap().into_inner().nomination_id,
    );
    assert_ne!(first, second);
    assert_eq!(app.nomination_count().await, 2);
    let mut announced: Vec<String> = app
        .events::<NominationConfirmationRequested>()
        .await
        .into_iter()
        .map(|e| e.nomination_id)
        .collect();
    announced.sort();
    let mut expected = vec![first, second];
    expected.sort();
    assert_eq!(announced, expected);
}
