//! Creating a campaign over gRPC: a platform admin creates a national campaign with two categories
//! and its timetable, and it is listed as the form shows it; a trust admin creates their own
//! trust's campaign and no other; bad input names every field and stores nothing; a web address in
//! use is refused at its field; each creation is in the audit log. A campaign's own limit on
//! nominations per person replaces the service's default there and nowhere else.

use prost_types::Timestamp;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tonic::Code;
use valued_nomination::auth::Role;
use valued_nomination::db::entities::{audit_log, campaign};
use valued_proto::events::v1::NominationDeclined;
use valued_proto::nomination::v1 as pb;
use valued_testkit::oidc::OidcProvider;

use crate::helpers::{PLATFORM_ADMIN, TestApp, cli_grant, signed, spawn_admin_app, verified_token};

const RJ1_ADMIN: &str = "awards@rj1.example.org";

fn at(days: i64) -> Option<Timestamp> {
    let at = chrono::Utc::now() + chrono::Duration::days(days);
    Some(Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    })
}

fn request(name: &str, scope: &str, code: &str) -> pb::CreateCampaignRequest {
    pb::CreateCampaignRequest {
        name: name.into(),
        description: "Tell us who keeps the wards moving.".into(),
        scope: scope.into(),
        scope_code: code.into(),
        nominations_open_at: at(-1),
        nominations_close_at: at(30),
        judging_close_at: at(40),
        categories: vec![
            pb::NewCategory {
                name: "Porter of the year".into(),
                ..pb::NewCategory::default()
            },
            pb::NewCategory {
                name: "Domestic of the year".into(),
                word_limit: 500,
                eligible_staff_groups: vec!["estates-and-ancillary".into()],
                eligible_bands: vec!["band-1".into(), "band-2".into()],
                ..pb::NewCategory::default()
            },
        ],
        ..pb::CreateCampaignRequest::default()
    }
}

async fn create(
    app: &TestApp,
    token: &str,
    request: pb::CreateCampaignRequest,
) -> Result<pb::Campaign, tonic::Status> {
    app.client
        .clone()
        .create_campaign(signed(token, request))
        .await
        .map(|r| r.into_inner().campaign.unwrap())
}

/// `email` invited as `trust`'s admin from the command line, and signed in.
async fn signed_in_trust_admin(
    app: &TestApp,
    provider: &OidcProvider,
    email: &str,
    trust: &str,
) -> String {
    cli_grant(app, email, Role::TrustAdmin, trust).await;
    verified_token(provider, email).await
}

async fn campaigns(app: &TestApp) -> u64 {
    campaign::Entity::find().count(&app.db).await.unwrap()
}

#[tokio::test]
async fn a_platform_admin_creates_a_national_campaign_with_its_categories_and_timetable() {
    let (app, provider) = spawn_admin_app().await;
    let admin = verified_token(&provider, PLATFORM_ADMIN).await;

    let asked = request("Unsung Heroes 2027", "national", "");
    let closes = asked.nominations_close_at;
    let created = create(&app, &admin, asked).await.unwrap();
    assert_eq!(created.slug, "unsung-heroes-2027");
    assert_eq!(created.scope, "national");
    let names: Vec<&str> = created.categories.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Porter of the year", "Domestic of the year"]);
    assert_eq!(created.categories[0].word_limit, 300);
    assert_eq!(created.categories[1].word_limit, 500);
    assert_eq!(created.categories[1].eligible_bands, ["band-1", "band-2"]);
    assert!(created.trusts.len() >= 3, "every trust takes part");
    assert_eq!(created.nominations_close_at, closes);

    // The public sees it as it was made.
    let shown = app
        .client
        .clone()
        .get_campaign(pb::GetCampaignRequest {
            slug: "unsung-heroes-2027".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .campaign
        .unwrap();
    assert_eq!(shown.id, created.id);
    assert_eq!(shown.description, "Tell us who keeps the wards moving.");

    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("campaign created"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].actor, PLATFORM_ADMIN);

    // Its web address is now taken.
    let before = campaigns(&app).await;
    let taken = create(&app, &admin, request("Unsung Heroes 2027", "national", ""))
        .await
        .unwrap_err();
    assert_eq!(taken.code(), Code::InvalidArgument);
    let errors = valued_platform::grpc::field_errors(&taken);
    assert_eq!(errors[0].field, "slug", "{errors:?}");
    assert_eq!(campaigns(&app).await, before);
}

#[tokio::test]
async fn a_trust_admin_creates_their_own_trusts_campaign_and_no_other() {
    let (app, provider) = spawn_admin_app().await;
    let trust_admin = signed_in_trust_admin(&app, &provider, RJ1_ADMIN, "RJ1").await;

    let own = create(&app, &trust_admin, request("RJ1 Stars", "trust", "rj1"))
        .await
        .unwrap();
    assert_eq!(own.scope_code, "RJ1");
    let trusts: Vec<&str> = own.trusts.iter().map(|t| t.code.as_str()).collect();
    assert_eq!(trusts, ["RJ1"]);

    let before = campaigns(&app).await;
    for (scope, code) in [("trust", "RRK"), ("region", "Y56"), ("national", "")] {
        let refused = create(&app, &trust_admin, request("Not theirs", scope, code))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{scope} {code}");
    }
    assert_eq!(campaigns(&app).await, before, "nothing was stored");
}

#[tokio::test]
async fn bad_input_names_every_field_and_stores_nothing() {
    let (app, provider) = spawn_admin_app().await;
    let admin = verified_token(&provider, PLATFORM_ADMIN).await;
    let before = campaigns(&app).await;
    let mut bad = request("", "trust", "ZZZ");
    bad.slug = "Bad Address!".into();
    bad.judging_close_at = at(10);
    bad.categories[1].word_limit = 5;
    bad.categories.push(pb::NewCategory::default());
    let refused = create(&app, &admin, bad).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    let fields: Vec<String> = valued_platform::grpc::field_errors(&refused)
        .into_iter()
        .map(|e| e.field)
        .collect();
    for expected in [
        "name",
        "slug",
        "judging_close_at",
        "categories[1].word_limit",
        "categories[2].name",
    ] {
        assert!(
            fields.iter().any(|f| f == expected),
            "{expected} in {fields:?}"
        );
    }

    // A well-formed trust code no trust has, named at its field.
    let refused = create(&app, &admin, request("Ghost trust awards", "trust", "ZZZ"))
        .await
        .unwrap_err();
    let errors = valued_platform::grpc::field_errors(&refused);
    assert_eq!(errors[0].field, "scope_code", "{errors:?}");
    assert_eq!(campaigns(&app).await, before, "nothing was stored");
}

/// The edit of `created` that keeps everything as it is, for a test to change.
fn unchanged(created: &pb::Campaign) -> pb::UpdateCampaignRequest {
    pb::UpdateCampaignRequest {
        campaign_id: created.id.clone(),
        name: created.name.clone(),
        description: created.description.clone(),
        nominations_open_at: created.nominations_open_at,
        nominations_close_at: created.nominations_close_at,
        judging_close_at: created.judging_close_at,
        vote_open_at: created.vote_open_at,
        vote_close_at: created.vote_close_at,
        results_at: created.results_at,
        vote_per_region: created.vote_per_region,
        nominations_per_nominator: created.nominations_per_nominator,
        categories: created
            .categories
            .iter()
            .map(|c| pb::NewCategory {
                id: c.id.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                word_limit: c.word_limit,
                eligible_staff_groups: c.eligible_staff_groups.clone(),
                eligible_bands: c.eligible_bands.clone(),
            })
            .collect(),
    }
}

async fn update(
    app: &TestApp,
    token: &str,
    request: pb::UpdateCampaignRequest,
) -> Result<pb::Campaign, tonic::Status> {
    app.client
        .clone()
        .update_campaign(signed(token, request))
        .await
        .map(|r| r.into_inner().campaign.unwrap())
}

#[tokio::test]
async fn a_campaigns_admin_changes_its_timetable_and_categories_but_not_one_with_nominations() {
    let (app, provider) = spawn_admin_app().await;
    let trust_admin = signed_in_trust_admin(&app, &provider, RJ1_ADMIN, "RJ1").await;
    let created = create(&app, &trust_admin, request("RJ1 Stars", "trust", "RJ1"))
        .await
        .unwrap();
    // Someone is nominated in the first category.
    let mut nominated = app.valid_request();
    nominated.campaign_id = created.id.clone();
    nominated.category_id = created.categories[0].id.clone();
    nominated.trust_code = "RJ1".into();
    app.client
        .clone()
        .submit_nomination(nominated)
        .await
        .unwrap();

    // Renamed, judging moved, the second category renamed and a third added.
    let mut edit = unchanged(&created);
    edit.name = "RJ1 Stars 2027".into();
    let judging_closes = at(50);
    edit.judging_close_at = judging_closes;
    edit.categories[1].name = "Cleaner of the year".into();
    edit.categories.push(pb::NewCategory {
        name: "Team of the year".into(),
        ..pb::NewCategory::default()
    });
    let changed = update(&app, &trust_admin, edit).await.unwrap();
    assert_eq!(changed.name, "RJ1 Stars 2027");
    assert_eq!(changed.slug, created.slug, "the web address stays");
    assert_eq!(changed.judging_close_at, judging_closes);
    let names: Vec<&str> = changed.categories.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Porter of the year",
            "Cleaner of the year",
            "Team of the year"
        ]
    );
    assert_eq!(
        changed.categories[1].id, created.categories[1].id,
        "changed in place"
    );

    // The category with a nomination cannot go; the empty one can.
    let mut remove_nominated = unchanged(&changed);
    remove_nominated.categories.remove(0);
    let refused = update(&app, &trust_admin, remove_nominated)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    let errors = valued_platform::grpc::field_errors(&refused);
    assert_eq!(errors[0].field, "categories");
    assert!(
        errors[0].message.contains("Porter of the year"),
        "{errors:?}"
    );
    let mut remove_empty = unchanged(&changed);
    remove_empty.categories.remove(2);
    let trimmed = update(&app, &trust_admin, remove_empty).await.unwrap();
    assert_eq!(trimmed.categories.len(), 2);

    // A timetable out of order is named; another trust's admin may not touch it.
    let mut bad = unchanged(&trimmed);
    bad.judging_close_at = at(10);
    let refused = update(&app, &trust_admin, bad).await.unwrap_err();
    let errors = valued_platform::grpc::field_errors(&refused);
    assert_eq!(errors[0].field, "judging_close_at", "{errors:?}");
    let other = signed_in_trust_admin(&app, &provider, "awards@rrk.example.org", "RRK").await;
    let mut theirs = unchanged(&trimmed);
    theirs.name = "Taken over".into();
    let refused = update(&app, &other, theirs).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("campaign changed"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(audited, 2, "each change is audited, refusals are not");
}

#[tokio::test]
async fn a_campaigns_admins_add_and_remove_its_key_dates_resources_and_news() {
    let (app, provider) = spawn_admin_app().await;
    let trust_admin = signed_in_trust_admin(&app, &provider, RJ1_ADMIN, "RJ1").await;
    let created = create(&app, &trust_admin, request("RJ1 Stars", "trust", "RJ1"))
        .await
        .unwrap();
    let add = |item: pb::CampaignItem| {
        let mut client = app.client.clone();
        let request = pb::AddCampaignItemRequest {
            campaign_id: created.id.clone(),
            item: Some(item),
            ..pb::AddCampaignItemRequest::default()
        };
        let token = trust_admin.clone();
        async move {
            client
                .add_campaign_item(signed(&token, request))
                .await
                .map(|r| r.into_inner().item.unwrap())
        }
    };
    let item = |kind: &str, title: &str, days: i64| pb::CampaignItem {
        kind: kind.into(),
        title: title.into(),
        at: at(days),
        body: "Details to follow.".into(),
        ..pb::CampaignItem::default()
    };
    add(item("date", "Awards ceremony", 60)).await.unwrap();
    add(item("date", "One Team week", 20)).await.unwrap();
    add(item("news", "Nominations are open", -1)).await.unwrap();
    let poster = add(pb::CampaignItem {
        kind: "resource".into(),
        title: "Poster (PDF)".into(),
        url: "https://example.org/poster.pdf".into(),
        ..pb::CampaignItem::default()
    })
    .await
    .unwrap();

    let refused = add(pb::CampaignItem {
        kind: "resource".into(),
        title: "Bad link".into(),
        url: "javascript:alert(1)".into(),
        ..pb::CampaignItem::default()
    })
    .await
    .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        valued_platform::grpc::field_errors(&refused)[0].field,
        "url"
    );

    let shown = app
        .client
        .clone()
        .get_campaign(pb::GetCampaignRequest {
            slug: created.slug.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .campaign
        .unwrap();
    let titles: Vec<&str> = shown.items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "One Team week",
            "Awards ceremony",
            "Nominations are open",
            "Poster (PDF)"
        ],
        "dates soonest first, then news, then resources"
    );

    // Another trust's admin may not touch it; its own admin removes the poster.
    let other = signed_in_trust_admin(&app, &provider, "awards@rrk.example.org", "RRK").await;
    let remove = |token: &str| {
        let mut client = app.client.clone();
        let request = signed(
            token,
            pb::RemoveCampaignItemRequest {
                campaign_id: created.id.clone(),
                item_id: poster.id.clone(),
            },
        );
        async move { client.remove_campaign_item(request).await.map(drop) }
    };
    assert_eq!(
        remove(&other).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    remove(&trust_admin).await.unwrap();
    assert_eq!(
        remove(&trust_admin).await.unwrap_err().code(),
        Code::NotFound
    );
    let audited = audit_log::Entity::find()
        .filter(
            audit_log::Column::Action
                .is_in(["campaign page item added", "campaign page item removed"]),
        )
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(audited, 5);
}

/// A nomination from the test's nominator to `campaign`'s first category and trust, for `nominee`.
fn nomination_to(
    app: &TestApp,
    campaign: &pb::Campaign,
    nominee: &str,
) -> pb::SubmitNominationRequest {
    let mut request = app.valid_request();
    request.campaign_id = campaign.id.clone();
    request.category_id = campaign.categories[0].id.clone();
    request.trust_code = campaign.trusts[0].code.clone();
    request.nominee_name = nominee.into();
    request
}

#[tokio::test]
async fn a_campaigns_own_limit_on_nominations_per_person_holds_there_and_nowhere_else() {
    let (app, provider) = spawn_admin_app().await;
    let admin = verified_token(&provider, PLATFORM_ADMIN).await;
    let mut asked = request("Porters' Choice 2027", "national", "");
    asked.nominations_per_nominator = Some(2);
    let limited = create(&app, &admin, asked).await.unwrap();
    assert_eq!(limited.nominations_per_nominator, Some(2));
    assert_eq!(
        limited.default_nominations_per_nominator, 20,
        "the service-wide default, shown beside it"
    );
    assert_eq!(
        app.campaign.nominations_per_nominator, None,
        "the demo campaign sets none"
    );

    for nominee in ["Sam Patel", "Jo Bloggs", "Alex Smith"] {
        app.client
            .clone()
            .submit_nomination(nomination_to(&app, &limited, nominee))
            .await
            .unwrap();
    }
    assert_eq!(app.nomination_count().await, 2, "the third is not taken");
    let declined = app.events::<NominationDeclined>().await;
    assert_eq!(declined.len(), 1);
    assert_eq!(
        (
            declined[0].reason.as_str(),
            declined[0].limit,
            declined[0].campaign_slug.as_str(),
            declined[0].nominee_name.as_str(),
        ),
        ("limit_reached", 2, "porters-choice-2027", "Alex Smith"),
        "the nominator is told the campaign's own limit"
    );

    // The same nominator, in a campaign without a limit of its own: the service's 20 applies.
    for nominee in ["Sam Patel", "Jo Bloggs", "Alex Smith"] {
        app.client
            .clone()
            .submit_nomination(nomination_to(&app, &app.campaign, nominee))
            .await
            .unwrap();
    }
    assert_eq!(app.nomination_count().await, 5, "all three taken");
    assert_eq!(app.events::<NominationDeclined>().await.len(), 1);
}

#[tokio::test]
async fn a_limit_on_nominations_per_person_out_of_bounds_is_refused_at_its_field_and_changes_nothing()
 {
    let (app, provider) = spawn_admin_app().await;
    let admin = verified_token(&provider, PLATFORM_ADMIN).await;
    let refused_at_its_field = |refused: tonic::Status| {
        assert_eq!(refused.code(), Code::InvalidArgument);
        let errors = valued_platform::grpc::field_errors(&refused);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "nominations_per_nominator");
        assert_eq!(
            errors[0].message,
            "Nominations each person can make must be a whole number from 1 to 1,000, or leave it blank"
        );
    };
    let before = campaigns(&app).await;
    for bad in [0, 1001] {
        let mut asked = request("Porters' Choice 2027", "national", "");
        asked.nominations_per_nominator = Some(bad);
        refused_at_its_field(create(&app, &admin, asked).await.unwrap_err());
    }
    assert_eq!(campaigns(&app).await, before, "nothing was stored");

    let mut asked = request("Porters' Choice 2027", "national", "");
    asked.nominations_per_nominator = Some(5);
    let created = create(&app, &admin, asked).await.unwrap();
    let mut bad = unchanged(&created);
    bad.name = "Renamed with a bad limit".into();
    bad.nominations_per_nominator = Some(1001);
    refused_at_its_field(update(&app, &admin, bad).await.unwrap_err());
    let stored = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq(created.slug.as_str()))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.nominations_per_nominator),
        ("Porters' Choice 2027", Some(5)),
        "nothing changed"
    );

    // The edges are taken; left out, the campaign goes back to the service's default.
    let mut most = unchanged(&created);
    most.nominations_per_nominator = Some(1000);
    let changed = update(&app, &admin, most).await.unwrap();
    assert_eq!(changed.nominations_per_nominator, Some(1000));
    let mut default = unchanged(&changed);
    default.nominations_per_nominator = None;
    let changed = update(&app, &admin, default).await.unwrap();
    assert_eq!(changed.nominations_per_nominator, None);
}
