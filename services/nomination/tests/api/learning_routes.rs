//! A campaign's learning and career routes over gRPC: its trust's admin adds them (fitting a
//! category, a staff group, or everyone), bad input names every field and stores nothing, another
//! trust's admin may neither add, list nor remove them, the public campaign carries them without
//! counts, and each open through the public call adds one to a counter that only admins see. A
//! nominee's thank-you carries the routes that fit their nomination.
//!
//! A trust's own routes the same way: its admins (and its region's) look after them, another
//! trust's or region's admin is told the trust is not there, the database holds each route to one
//! owner, a nominee is offered their own trust's routes after the campaign's (in the thank-you and
//! the finalist's notice) and not another trust's, and a trust's own campaign's page shows them.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
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
            ..pb::OpenLearningRouteRequest::default()
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

async fn add_to_trust(
    app: &TestApp,
    token: &str,
    trust_code: &str,
    route: pb::LearningRoute,
) -> Result<pb::LearningRoute, tonic::Status> {
    app.client
        .clone()
        .add_trust_learning_route(signed(
            token,
            pb::AddTrustLearningRouteRequest {
                trust_code: trust_code.to_owned(),
                route: Some(route),
            },
        ))
        .await
        .map(|r| r.into_inner().route.unwrap())
}

async fn list_of_trust(
    app: &TestApp,
    token: &str,
    trust_code: &str,
) -> Result<pb::ListTrustLearningRoutesResponse, tonic::Status> {
    app.client
        .clone()
        .list_trust_learning_routes(signed(
            token,
            pb::ListTrustLearningRoutesRequest {
                trust_code: trust_code.to_owned(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn open_of_trust(
    app: &TestApp,
    trust_code: &str,
    route_id: &str,
) -> Result<String, tonic::Status> {
    app.client
        .clone()
        .open_learning_route(pb::OpenLearningRouteRequest {
            trust_code: trust_code.to_owned(),
            route_id: route_id.to_owned(),
            ..pb::OpenLearningRouteRequest::default()
        })
        .await
        .map(|r| r.into_inner().url)
}

fn route(title: &str, url: &str, staff_group: &str) -> pb::LearningRoute {
    pb::LearningRoute {
        title: title.into(),
        url: url.into(),
        staff_group: staff_group.into(),
        ..pb::LearningRoute::default()
    }
}

#[tokio::test]
async fn a_trusts_admins_add_list_and_remove_its_learning_routes_and_see_them_opened() {
    let (app, provider) = spawn_admin_app().await;
    cli_grant(&app, "awards@rj1.example.org", Role::TrustAdmin, "RJ1").await;
    let admin = verified_token(&provider, "awards@rj1.example.org").await;
    cli_grant(&app, "awards@rrk.example.org", Role::TrustAdmin, "RRK").await;
    let other = verified_token(&provider, "awards@rrk.example.org").await;
    // RJ1 is in London (Y56); RRK in the Midlands (Y60).
    cli_grant(&app, "region@y56.example.org", Role::RegionAdmin, "Y56").await;
    let region = verified_token(&provider, "region@y56.example.org").await;
    cli_grant(&app, "region@y60.example.org", Role::RegionAdmin, "Y60").await;
    let other_region = verified_token(&provider, "region@y60.example.org").await;

    // Every bad field named (a trust's route names no category), nothing stored.
    let refused = add_to_trust(
        &app,
        &admin,
        "RJ1",
        pb::LearningRoute {
            title: String::new(),
            url: "http://www.example.nhs.uk/careers".into(),
            description: "line\u{0}".into(),
            category_id: app.campaign.categories[0].id.clone(),
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

    let careers = add_to_trust(
        &app,
        &admin,
        "rj1",
        route("Careers at RJ1", "https://www.example.nhs.uk/careers", ""),
    )
    .await
    .unwrap();
    assert_eq!(careers.trust_code, "RJ1");
    assert_eq!(careers.category_id, "");
    let clerical = add_to_trust(
        &app,
        &region,
        "RJ1",
        route(
            "RJ1 admin apprenticeships",
            "https://www.example.nhs.uk/admin-apprenticeships",
            "administrative-and-clerical",
        ),
    )
    .await
    .unwrap();
    assert_eq!(clerical.staff_group, "administrative-and-clerical");

    // Another trust's admin, and another region's, learn nothing of RJ1's routes: not found, as
    // for its settings.
    for token in [&other, &other_region] {
        let refused = add_to_trust(
            &app,
            token,
            "RJ1",
            route("Taken over", "https://example.org/", ""),
        )
        .await
        .unwrap_err();
        assert_eq!(refused.code(), Code::NotFound);
        assert_eq!(
            list_of_trust(&app, token, "RJ1").await.unwrap_err().code(),
            Code::NotFound
        );
    }
    assert_eq!(stored(&app).await, 2);

    // Opened twice at once and once more: three opens, the stored address each time.
    let (first, second) = tokio::join!(
        open_of_trust(&app, "RJ1", &careers.id),
        open_of_trust(&app, "RJ1", &careers.id)
    );
    assert_eq!(first.unwrap(), "https://www.example.nhs.uk/careers");
    assert_eq!(second.unwrap(), "https://www.example.nhs.uk/careers");
    open_of_trust(&app, "rj1", &careers.id).await.unwrap();
    // Not through another trust, nor a campaign, nor naming both, nor an unknown route.
    for followed in [
        pb::OpenLearningRouteRequest {
            trust_code: "RRK".into(),
            route_id: careers.id.clone(),
            ..Default::default()
        },
        pb::OpenLearningRouteRequest {
            campaign_slug: app.campaign.slug.clone(),
            route_id: careers.id.clone(),
            ..Default::default()
        },
        pb::OpenLearningRouteRequest {
            campaign_slug: app.campaign.slug.clone(),
            trust_code: "RJ1".into(),
            route_id: careers.id.clone(),
        },
        pb::OpenLearningRouteRequest {
            trust_code: "RJ1".into(),
            route_id: "nonsense".into(),
            ..Default::default()
        },
    ] {
        let refused = app
            .client
            .clone()
            .open_learning_route(followed.clone())
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::NotFound, "{followed:?}");
    }
    let listed = list_of_trust(&app, &admin, "RJ1").await.unwrap();
    let opens: Vec<(&str, u64, &str)> = listed
        .routes
        .iter()
        .map(|r| (r.title.as_str(), r.opens, r.trust_code.as_str()))
        .collect();
    assert_eq!(
        opens,
        [
            ("Careers at RJ1", 3, "RJ1"),
            ("RJ1 admin apprenticeships", 0, "RJ1")
        ]
    );
    assert_eq!(
        listed.trust_name,
        "Guy's and St Thomas' NHS Foundation Trust"
    );
    assert!(
        listed
            .staff_groups
            .iter()
            .any(|g| g.value == "administrative-and-clerical")
    );
    assert!(
        list(&app, &admin, &app.campaign.id)
            .await
            .is_err_and(|s| s.code() == Code::PermissionDenied),
        "a trust admin has no say over the national campaign's routes"
    );

    // Removed by the trust's admins only; once.
    let remove = |token: &str| {
        let mut client = app.client.clone();
        let request = signed(
            token,
            pb::RemoveTrustLearningRouteRequest {
                trust_code: "RJ1".into(),
                route_id: clerical.id.clone(),
            },
        );
        async move { client.remove_trust_learning_route(request).await.map(drop) }
    };
    assert_eq!(remove(&other).await.unwrap_err().code(), Code::NotFound);
    remove(&admin).await.unwrap();
    assert_eq!(remove(&admin).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(stored(&app).await, 1);
    let audited: Vec<(String, String, String)> = audit_log::Entity::find()
        .filter(audit_log::Column::Action.is_in(["learning route added", "learning route removed"]))
        .order_by_asc(audit_log::Column::At)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.actor, a.action, a.trust_code))
        .collect();
    let entry = |actor: &str, action: &str| (actor.to_owned(), action.to_owned(), "RJ1".to_owned());
    assert_eq!(
        audited,
        [
            entry("awards@rj1.example.org", "learning route added"),
            entry("region@y56.example.org", "learning route added"),
            entry("awards@rj1.example.org", "learning route removed"),
        ],
        "in RJ1's audit log; refusals are not audited"
    );
}

#[tokio::test]
async fn a_route_belongs_to_exactly_one_campaign_or_trust_and_a_trusts_fits_every_category() {
    let (app, _provider) = spawn_admin_app().await;
    let campaign_id = uuid::Uuid::parse_str(&app.campaign.id).unwrap();
    let category_id = uuid::Uuid::parse_str(&app.campaign.categories[0].id).unwrap();
    let row = |campaign_id, trust_code: Option<&str>, category_id| learning_route::Model {
        id: uuid::Uuid::now_v7(),
        campaign_id,
        trust_code: trust_code.map(str::to_owned),
        title: "A route".into(),
        url: "https://example.org/".into(),
        description: String::new(),
        category_id,
        staff_group: String::new(),
        opens: 0,
        created_at: chrono::Utc::now(),
    };
    for (what, bad) in [
        ("both owners", row(Some(campaign_id), Some("RJ1"), None)),
        ("no owner", row(None, None, None)),
        (
            "a trust's with a category",
            row(None, Some("RJ1"), Some(category_id)),
        ),
    ] {
        let inserted = learning_route::Entity::insert(learning_route::ActiveModel::from(bad))
            .exec_without_returning(&app.db)
            .await;
        assert!(inserted.is_err(), "the database refuses {what}");
    }
    for good in [
        row(Some(campaign_id), None, Some(category_id)),
        row(None, Some("RJ1"), None),
    ] {
        learning_route::Entity::insert(learning_route::ActiveModel::from(good))
            .exec_without_returning(&app.db)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_nominee_is_offered_their_own_trusts_routes_after_the_campaigns_in_the_thank_you_and_finalist_notice()
 {
    let (mut app, provider) = spawn_admin_app().await;
    let admin = verified_token(&provider, PLATFORM_ADMIN).await;
    let campaign_id = app.campaign.id.clone();
    add(
        &app,
        &admin,
        &campaign_id,
        route(
            "The campaign's apprenticeships",
            "https://www.healthcareers.nhs.uk/apprenticeships",
            "",
        ),
    )
    .await
    .unwrap();
    for (trust, title, url, group) in [
        (
            "RJ1",
            "Careers at RJ1",
            "https://rj1.example.nhs.uk/careers",
            "",
        ),
        (
            "RJ1",
            "RJ1 porters' training",
            "https://rj1.example.nhs.uk/porters",
            "estates-and-ancillary",
        ),
        (
            "RJ1",
            "RJ1 clerical training",
            "https://rj1.example.nhs.uk/clerical",
            "administrative-and-clerical",
        ),
        // Offered by the campaign already: not twice.
        (
            "RJ1",
            "Apprenticeships again",
            "https://www.healthcareers.nhs.uk/apprenticeships",
            "",
        ),
        (
            "RRK",
            "Learning at RRK",
            "https://rrk.example.nhs.uk/learning",
            "",
        ),
    ] {
        add_to_trust(&app, &admin, trust, route(title, url, group))
            .await
            .unwrap();
    }

    // Sam, a porter at RJ1, and Jo, a porter at RRK, are thanked and become finalists.
    crate::public_vote::finalists(&mut app, &admin).await;
    let slug = app.campaign.slug.clone();
    let offered =
        |routes: &[valued_proto::events::v1::LearningRouteLink]| -> Vec<(String, String, String)> {
            routes
                .iter()
                .map(|r| {
                    (
                        r.title.clone(),
                        r.campaign_slug.clone(),
                        r.trust_code.clone(),
                    )
                })
                .collect()
        };
    let campaigns = (
        "The campaign's apprenticeships".to_owned(),
        slug.clone(),
        String::new(),
    );
    let of_trust = |title: &str, code: &str| (title.to_owned(), String::new(), code.to_owned());
    let for_sam = vec![
        campaigns.clone(),
        of_trust("Careers at RJ1", "RJ1"),
        of_trust("RJ1 porters' training", "RJ1"),
    ];
    let for_jo = vec![campaigns.clone(), of_trust("Learning at RRK", "RRK")];

    let thanked = app.events::<NomineeThanked>().await;
    assert_eq!(thanked.len(), 2);
    for thanks in &thanked {
        let expected = if thanks.nominee_name == "Sam Patel" {
            &for_sam
        } else {
            &for_jo
        };
        assert_eq!(
            &offered(&thanks.learning_routes),
            expected,
            "{}",
            thanks.nominee_name
        );
    }
    let announced = app.events::<FinalistAnnounced>().await;
    assert_eq!(announced.len(), 2);
    for finalist in &announced {
        let name = &finalist.finalist.as_ref().unwrap().nominee_name;
        let expected = if name == "Sam Patel" {
            &for_sam
        } else {
            &for_jo
        };
        assert_eq!(&offered(&finalist.learning_routes), expected, "{name}");
    }
    assert!(
        thanked
            .iter()
            .flat_map(|t| &t.learning_routes)
            .all(|r| uuid::Uuid::parse_str(&r.route_id).is_ok())
    );
}

#[tokio::test]
async fn a_trust_campaigns_page_shows_its_trusts_routes_after_its_own_and_a_national_one_does_not()
{
    let (mut app, provider) = spawn_admin_app().await;
    let admin = verified_token(&provider, PLATFORM_ADMIN).await;
    let (campaign_id, _) = trust_campaign(&mut app, "RJ1").await;
    add(
        &app,
        &admin,
        &campaign_id,
        route("The awards' own route", "https://example.org/awards", ""),
    )
    .await
    .unwrap();
    let rj1 = add_to_trust(
        &app,
        &admin,
        "RJ1",
        route(
            "Careers at RJ1",
            "https://rj1.example.nhs.uk/careers",
            "estates-and-ancillary",
        ),
    )
    .await
    .unwrap();
    open_of_trust(&app, "RJ1", &rj1.id).await.unwrap();
    add_to_trust(
        &app,
        &admin,
        "RRK",
        route("Learning at RRK", "https://rrk.example.nhs.uk/learning", ""),
    )
    .await
    .unwrap();
    let shown = |slug: &str| {
        let mut client = app.client.clone();
        let request = pb::GetCampaignRequest { slug: slug.into() };
        async move {
            client
                .get_campaign(request)
                .await
                .unwrap()
                .into_inner()
                .campaign
                .unwrap()
                .learning_routes
                .into_iter()
                .map(|r| (r.title, r.trust_code, r.staff_group, r.opens))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        shown("rj1-staff-awards").await,
        [
            (
                "The awards' own route".to_owned(),
                String::new(),
                String::new(),
                0
            ),
            (
                "Careers at RJ1".to_owned(),
                "RJ1".to_owned(),
                "estates-and-ancillary".to_owned(),
                0
            ),
        ],
        "the trust's route too, without its count"
    );
    assert!(
        shown(&app.campaign.slug).await.is_empty(),
        "a national campaign's page shows no trust's routes"
    );
}

/// The table is made again to take a trust as a route's owner: the campaigns' routes already
/// there come through whole, on PostgreSQL as on the embedded default's SQLite.
#[tokio::test]
async fn the_campaigns_routes_come_through_the_table_being_made_again() {
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::{Alias, Expr, Query};
    use sea_orm_migration::MigratorTrait;
    use valued_nomination::db::Migrator;
    use valued_platform::DatabaseSettings;

    let sqlite = std::env::temp_dir().join(format!("valued-routes-{}.db", uuid::Uuid::now_v7()));
    let postgres = valued_testkit::postgres::fresh_database("routes")
        .await
        .unwrap();
    for url in [postgres, format!("sqlite://{}?mode=rwc", sqlite.display())] {
        let db = valued_platform::db::connect(
            &DatabaseSettings::postgres(url.clone()),
            &std::env::temp_dir(),
            "nomination",
        )
        .await
        .unwrap();
        let before = Migrator::migrations()
            .iter()
            .position(|m| m.name() == "m20261127_000120_trust_learning_route")
            .unwrap();
        Migrator::up(&db, Some(u32::try_from(before).unwrap()))
            .await
            .unwrap();
        let (id, campaign_id, category_id) = (
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7(),
        );
        let created_at = chrono::Utc::now();
        let columns = [
            "id",
            "campaign_id",
            "title",
            "url",
            "description",
            "category_id",
            "staff_group",
            "opens",
            "created_at",
        ];
        let row: [Expr; 9] = [
            id.into(),
            campaign_id.into(),
            "Apprenticeships".into(),
            "https://example.org/".into(),
            "Earn while you learn.".into(),
            category_id.into(),
            "estates-and-ancillary".into(),
            7_i64.into(),
            created_at.into(),
        ];
        db.execute(
            Query::insert()
                .into_table(Alias::new("learning_route"))
                .columns(columns.map(Alias::new))
                .values(row)
                .unwrap(),
        )
        .await
        .unwrap();
        Migrator::up(&db, None).await.unwrap();
        let kept = learning_route::Entity::find_by_id(id)
            .one(&db)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("the route is kept on {url}"));
        assert_eq!(
            (
                kept.campaign_id,
                kept.trust_code,
                kept.title.as_str(),
                kept.category_id,
                kept.staff_group.as_str(),
                kept.opens
            ),
            (
                Some(campaign_id),
                None,
                "Apprenticeships",
                Some(category_id),
                "estates-and-ancillary",
                7
            ),
            "{url}"
        );
        assert_eq!(kept.created_at.timestamp(), created_at.timestamp());
        db.close().await.unwrap();
    }
    let _ = std::fs::remove_file(sqlite);
}
