//! A campaign's learning and career routes over gRPC: its trust's admin adds them (fitting a
//! category, a staff group, or everyone), bad input names every field and stores nothing, another
//! trust's admin may neither add, list nor remove them, the public campaign carries them without
//! counts, and each open through the public call adds one to a counter that only admins see. A
//! nominee's thank-you carries the routes that fit their nomination.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tonic::Code;
use valued_nomination::auth::Role;
use valued_nomination::db::entities::{audit_log, learning_route};
use valued_proto::events::v1::{FinalistAnnounced, NomineeThanked};
use valued_proto::nomination::v1 as pb;

use crate::helpers::{
    PLATFORM_ADMIN, TestApp, cli_grant, signed, spawn_admin_app, trust_campaign, verified_token,
};

async fn add(
    app: &TestApp,
    token: &str,
    campaign_id: &str,
    route: pb::LearningRoute,
) -> Result<pb::LearningRoute, tonic::Status> {
    app.client
        .clone()
        .add_learning_route(signed(
            token,
            pb::AddLearningRouteRequest {
                campaign_id: campaign_id.to_owned(),
                route: Some(route),
            },
        ))
        .await
        .map(|r| r.into_inner().route.unwrap())
}

async fn list(
    app: &TestApp,
    token: &str,
    campaign_id: &str,
) -> Result<Vec<pb::LearningRoute>, tonic::Status> {
    app.client
        .clone()
        .list_learning_routes(signed(
            token,
            pb::ListLearningRoutesRequest {
                campaign_id: campaign_id.to_owned(),
            },
        ))
        .await
        .map(|r| r.into_inner().routes)
}

async fn open(app: &TestApp, slug: &str, route_id: &str) -> Result<String, tonic::Status> {
    app.client
        .clone()
        .open_learning_route(pb::OpenLearningRouteRequest {
            campaign_slug: slug.to_owned(),
            route_id: route_id.to_owned(),
        })
        .await
        .map(|r| r.into_inner().url)
}

async fn stored(app: &TestApp) -> u64 {
    learning_route::Entity::find().count(&app.db).await.unwrap()
}

#[tokio::test]
async fn a_campaigns_admins_add_list_and_remove_its_learning_routes_and_see_them_opened() {
    let (mut app, provider) = spawn_admin_app().await;
    let (campaign_id, category_id) = trust_campaign(&mut app, "RJ1").await;
    let slug = "rj1-staff-awards";
    cli_grant(&app, "awards@rj1.example.org", Role::TrustAdmin, "RJ1").await;
    let admin = verified_token(&provider, "awards@rj1.example.org").await;
    cli_grant(&app, "awards@rrk.example.org", Role::TrustAdmin, "RRK").await;
    let other = verified_token(&provider, "awards@rrk.example.org").await;

    // Every bad field named, nothing stored.
    let refused = add(
        &app,
        &admin,
        &campaign_id,
        pb::LearningRoute {
            title: String::new(),
            url: "http://www.apprenticeships.gov.uk/".into(),
            description: "line\u{0}".into(),
            category_id: "not-a-category".into(),
            staff_group: "surgeons".into(),
            ..pb::LearningRoute::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    let fields: Vec<String> = valued_platform::grpc::field_errors(&refused)
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(
        fields,
        ["title", "url", "description", "category_id", "staff_group"]
    );
    assert_eq!(stored(&app).await, 0);

    let apprenticeships = add(
        &app,
        &admin,
        &campaign_id,
        pb::LearningRoute {
            title: "Apprenticeships in the NHS".into(),
            url: "https://www.healthcareers.nhs.uk/apprenticeships".into(),
            description: "Earn while you learn, at any band.".into(),
            ..pb::LearningRoute::default()
        },
    )
    .await
    .unwrap();
    let framework = add(
        &app,
        &admin,
        &campaign_id,
        pb::LearningRoute {
            title: "Support workforce framework (Bands 1 to 4)".into(),
            url: "https://example.org/framework".into(),
            category_id: category_id.clone(),
            staff_group: "estates-and-ancillary".into(),
            ..pb::LearningRoute::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(framework.category_id, category_id);
    assert_eq!(framework.staff_group, "estates-and-ancillary");

    // Another trust's admin may not add, list or remove them.
    let theirs = add(
        &app,
        &other,
        &campaign_id,
        pb::LearningRoute {
            title: "Taken over".into(),
            url: "https://example.org/".into(),
            ..pb::LearningRoute::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(theirs.code(), Code::PermissionDenied);
    assert_eq!(
        list(&app, &other, &campaign_id).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    assert_eq!(stored(&app).await, 2);

    // The public campaign carries them, as added, without counts.
    let campaign = app
        .client
        .clone()
        .get_campaign(pb::GetCampaignRequest { slug: slug.into() })
        .await
        .unwrap()
        .into_inner()
        .campaign
        .unwrap();
    let titles: Vec<&str> = campaign
        .learning_routes
        .iter()
        .map(|r| r.title.as_str())
        .collect();
    assert_eq!(
        titles,
        [
            "Apprenticeships in the NHS",
            "Support workforce framework (Bands 1 to 4)"
        ]
    );

    // Opened twice at once and once more: three opens, the stored address each time.
    let (first, second) = tokio::join!(
        open(&app, slug, &framework.id),
        open(&app, slug, &framework.id)
    );
    assert_eq!(first.unwrap(), "https://example.org/framework");
    assert_eq!(second.unwrap(), "https://example.org/framework");
    open(&app, slug, &framework.id).await.unwrap();
    // Not through another campaign, nor an unknown route.
    assert_eq!(
        open(&app, "health-heroes-2026", &framework.id)
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    assert_eq!(
        open(&app, slug, "nonsense").await.unwrap_err().code(),
        Code::NotFound
    );
    let opens: Vec<(String, u64)> = list(&app, &admin, &campaign_id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.title, r.opens))
        .collect();
    assert_eq!(
        opens,
        [
            ("Apprenticeships in the NHS".to_owned(), 0),
            ("Support workforce framework (Bands 1 to 4)".to_owned(), 3)
        ]
    );

    // Removed by its own admin only; once.
    let remove = |token: &str| {
        let mut client = app.client.clone();
        let request = signed(
            token,
            pb::RemoveLearningRouteRequest {
                campaign_id: campaign_id.clone(),
                route_id: apprenticeships.id.clone(),
            },
        );
        async move { client.remove_learning_route(request).await.map(drop) }
    };
    assert_eq!(
        remove(&other).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    remove(&admin).await.unwrap();
    assert_eq!(remove(&admin).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(stored(&app).await, 1);
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.is_in(["learning route added", "learning route removed"]))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(
        audited, 3,
        "two added, one removed; refusals are not audited"
    );
}

#[tokio::test]
async fn the_nominees_thank_you_carries_the_routes_that_fit_their_nomination() {
    let (mut app, provider) = spawn_admin_app().await;
    let admin = verified_token(&provider, PLATFORM_ADMIN).await;
    let campaign_id = app.campaign.id.clone();
    let category_id = app.campaign.categories[0].id.clone();
    for (title, category, group) in [
        ("For everyone", "", ""),
        ("For the category", category_id.as_str(), ""),
        ("For porters and domestics", "", "estates-and-ancillary"),
        ("For clerical staff", "", "administrative-and-clerical"),
    ] {
        add(
            &app,
            &admin,
            &campaign_id,
            pb::LearningRoute {
                title: title.into(),
                url: "https://example.org/".into(),
                category_id: category.into(),
                staff_group: group.into(),
                ..pb::LearningRoute::default()
            },
        )
        .await
        .unwrap();
    }

    // An estates-and-ancillary nomination in the first category.
    app.submit_confirmed(app.valid_request()).await;
    let thanked = app.events::<NomineeThanked>().await;
    assert_eq!(thanked.len(), 1);
    let routes: Vec<(&str, &str)> = thanked[0]
        .learning_routes
        .iter()
        .map(|r| (r.title.as_str(), r.campaign_slug.as_str()))
        .collect();
    let slug = app.campaign.slug.as_str();
    assert_eq!(
        routes,
        [
            ("For everyone", slug),
            ("For the category", slug),
            ("For porters and domestics", slug)
        ]
    );
    assert!(
        thanked[0]
            .learning_routes
            .iter()
            .all(|r| uuid::Uuid::parse_str(&r.route_id).is_ok())
    );
}

#[tokio::test]
async fn a_finalists_notice_carries_the_routes_that_fit_them() {
    let (mut app, provider) = spawn_admin_app().await;
    let admin = verified_token(&provider, PLATFORM_ADMIN).await;
    let campaign_id = app.campaign.id.clone();
    let porters = app.campaign.categories[0].id.clone();
    let other = app.campaign.categories[1].id.clone();
    for (title, category, group) in [
        ("For the porters' category", porters.as_str(), ""),
        ("For another category", other.as_str(), ""),
        ("For clerical staff", "", "administrative-and-clerical"),
    ] {
        add(
            &app,
            &admin,
            &campaign_id,
            pb::LearningRoute {
                title: title.into(),
                url: "https://example.org/".into(),
                category_id: category.into(),
                staff_group: group.into(),
                ..pb::LearningRoute::default()
            },
        )
        .await
        .unwrap();
    }
    crate::public_vote::finalists(&mut app, &admin).await;
    let announced = app.events::<FinalistAnnounced>().await;
    assert_eq!(announced.len(), 2);
    for finalist in &announced {
        let routes: Vec<&str> = finalist
            .learning_routes
            .iter()
            .map(|r| r.title.as_str())
            .collect();
        assert_eq!(routes, ["For the porters' category"]);
        assert_eq!(finalist.learning_routes[0].campaign_slug, app.campaign.slug);
    }
}
