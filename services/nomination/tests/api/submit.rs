use valued_platform::grpc::field_errors;
use valued_proto::events::v1::NominationSubmitted;
use valued_proto::nomination::v1::{GetNominationRequest, ListCampaignsRequest};

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
async fn a_valid_nomination_is_stored_and_announced_once() {
    let mut app = spawn_app().await;
    let request = app.valid_request();
    let id = app
        .client
        .submit_nomination(request.clone())
        .await
        .unwrap()
        .into_inner()
        .nomination_id;

    let stored = app
        .client
        .get_nomination(GetNominationRequest {
            nomination_id: id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let stored = stored.nomination.unwrap();
    assert_eq!(stored.nominee_name, "Sam Patel");
    assert_eq!(stored.status, "submitted");

    let events = app.platform.wait_for_events(1).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "nomination.submitted.v1");
    assert_eq!(
        events[0].tenant.as_deref(),
        Some(request.trust_code.as_str())
    );
    let event: NominationSubmitted = events[0].decode().unwrap();
    assert_eq!(event.nomination_id, id);
    assert_eq!(event.nominator_email, "alex@example.org");
    assert!(event.trust_admin_email.ends_with("example.org"));
    assert_eq!(event.category_name, app.campaign.categories[0].name);

    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.platform.events().len(), 1, "published exactly once");
    assert_eq!(
        valued_platform::outbox::pending_count(&app.db)
            .await
            .unwrap(),
        0
    );
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
        .platform
        .wait_for_events(2)
        .await
        .iter()
        .map(|e| e.decode::<NominationSubmitted>().unwrap().nomination_id)
        .collect();
    announced.sort();
    let mut expected = vec![first, second];
    expected.sort();
    assert_eq!(announced, expected);
}
