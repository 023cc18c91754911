use chrono::{Duration, Utc};
use sea_orm::TransactionTrait;
use valued_nomination::admin::campaigns::{NewCampaign, NewCategory, create};
use valued_nomination::domain::{Band, Scope, StaffGroup, Windows};
use valued_platform::grpc::field_errors;
use valued_proto::nomination::v1::GetCampaignRequest;

use crate::helpers::{TestApp, spawn_app};

/// A campaign for one trust whose nominations window is `open`..`close` days from now.
async fn campaign_with_window(app: &mut TestApp, slug: &str, open: i64, close: i64) {
    campaign_with(app, slug, open, close, &[]).await;
}

/// As above, with its one category open only to `bands` (all when empty).
pub async fn campaign_with(app: &mut TestApp, slug: &str, open: i64, close: i64, bands: &[Band]) {
    let txn = app.db.begin().await.unwrap();
    let windows = Windows {
        nominations_open_at: Some(Utc::now() + Duration::days(open)),
        nominations_close_at: Some(Utc::now() + Duration::days(close)),
        ..Windows::default()
    };
    let category = NewCategory {
        name: "Porter of the year",
        description: "",
        word_limit: 100,
        eligible: &[],
        bands,
    };
    let new = NewCampaign {
        slug,
        name: "RJ1 staff awards",
        description: "",
        scope: Scope::Trust("RJ1".into()),
        windows,
        trusts: &["RJ1"],
        vote_per_region: false,
        nominations_per_nominator: None,
    };
    create(&txn, new, &[category]).await.unwrap();
    txn.commit().await.unwrap();
    let campaign = app
        .client
        .get_campaign(GetCampaignRequest { slug: slug.into() })
        .await
        .unwrap()
        .into_inner()
        .campaign
        .unwrap();
    assert_eq!(
        (campaign.scope.as_str(), campaign.scope_code.as_str()),
        ("trust", "RJ1")
    );
    app.campaign = campaign;
}

#[tokio::test]
async fn a_closed_campaign_refuses_nominations_and_stores_nothing() {
    let mut app = spawn_app().await;
    campaign_with_window(&mut app, "closed", -30, -1).await;
    let status = app
        .client
        .submit_nomination(app.valid_request())
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
    assert!(
        status
            .message()
            .starts_with("RJ1 staff awards is not taking nominations: nominations closed on"),
        "{}",
        status.message()
    );
    assert_eq!(app.nomination_count().await, 0);
    assert!(app.platform.events().is_empty());
}

#[tokio::test]
async fn a_campaign_not_yet_open_says_when_it_opens() {
    let mut app = spawn_app().await;
    campaign_with_window(&mut app, "soon", 3, 30).await;
    let status = app
        .client
        .submit_nomination(app.valid_request())
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
    let opens = (Utc::now() + Duration::days(3))
        .format("%-d %B %Y")
        .to_string();
    assert!(
        status
            .message()
            .ends_with(&format!("nominations open on {opens}")),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn an_open_campaign_takes_nominations() {
    let mut app = spawn_app().await;
    campaign_with_window(&mut app, "open", -1, 30).await;
    app.client
        .submit_nomination(app.valid_request())
        .await
        .unwrap();
    assert_eq!(app.nomination_count().await, 1);
}

#[tokio::test]
async fn a_category_refuses_staff_groups_it_is_not_for() {
    let mut app = spawn_app().await;
    // The demo's "Porter of the year" is for estates and ancillary staff.
    assert_eq!(
        app.campaign.categories[0].eligible_staff_groups,
        [StaffGroup::EstatesAndAncillary.slug()]
    );
    let mut request = app.valid_request();
    request.staff_group = "administrative-and-clerical".into();
    let status = app.client.submit_nomination(request).await.unwrap_err();
    let errors = field_errors(&status);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "staff_group");
    assert!(
        errors[0]
            .message
            .starts_with("Porter of the year is not open to Administrative and clerical")
    );
    assert_eq!(app.nomination_count().await, 0);
}

#[tokio::test]
async fn a_category_can_be_limited_to_pay_bands_and_not_sure_is_always_welcome() {
    let mut app = spawn_app().await;
    campaign_with(
        &mut app,
        "bands",
        -1,
        30,
        &[Band::Band1, Band::Band2, Band::Band3],
    )
    .await;
    let mut request = app.valid_request();
    request.band = "band-4".into();
    let status = app
        .client
        .submit_nomination(request.clone())
        .await
        .unwrap_err();
    let errors = field_errors(&status);
    assert_eq!(
        (errors[0].field.as_str(), errors[0].message.as_str()),
        ("band", "Porter of the year is not open to Band 4")
    );

    request.band = "not-sure".into();
    app.client.submit_nomination(request.clone()).await.unwrap();
    request.band = "band-2".into();
    request.nominee_name = "Jo Bloggs".into();
    let id = app
        .client
        .submit_nomination(request)
        .await
        .unwrap()
        .into_inner()
        .nomination_id;
    let stored = app.stored(&id).await;
    assert_eq!(stored.band, "band-2");
    assert_eq!(stored.status, "unconfirmed");
    for request in app
        .events::<valued_proto::events::v1::NominationConfirmationRequested>()
        .await
    {
        app.client
            .confirm_nomination(valued_proto::nomination::v1::ConfirmNominationRequest {
                confirm_token: request.confirm_token,
            })
            .await
            .unwrap();
    }
    let bands: Vec<String> = app
        .events::<valued_proto::events::v1::NominationSubmitted>()
        .await
        .into_iter()
        .map(|e| e.band)
        .collect();
    assert_eq!(bands, ["I'm not sure", "Band 2"]);
}
