//! The Insight dashboard over gRPC, on a seeded set of nominations in the demo organisations
//! (London: RJ1; Midlands: RRK and RX1): the counts per trust, region and country, per month,
//! staff group and band; counts under 11 withheld with whatever would give them away; and only a
//! trust's or region's own admins (and platform admins) see its figures.

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, IntoActiveModel};
use tonic::Code;
use uuid::Uuid;
use valued_nomination::auth::Role;
use valued_nomination::db::entities::{nomination, recognition};
use valued_platform::DatabaseSettings;
use valued_proto::nomination::v1 as pb;

use crate::helpers::{
    PLATFORM_ADMIN, TestApp, cli_grant, signed, spawn_admin_app, spawn_admin_app_on, verified_token,
};

fn at(month: u32, day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, 12, 0, 0).unwrap()
}

/// Stores `n` nominations of `trust`, submitted on `submitted`, confirmed on `confirmed` (if
/// any), with their ids.
async fn seed(
    app: &TestApp,
    trust: &str,
    (group, band): (&str, &str),
    n: usize,
    submitted: DateTime<Utc>,
    confirmed: Option<DateTime<Utc>>,
) -> Vec<Uuid> {
    let campaign = Uuid::parse_str(&app.campaign.id).unwrap();
    let category = Uuid::parse_str(&app.campaign.categories[0].id).unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let id = Uuid::now_v7();
        nomination::Model {
            id,
            campaign_id: campaign,
            category_id: category,
            trust_code: trust.into(),
            nominee_name: format!("Nominee {i}"),
            nominee_job_title: "Porter".into(),
            staff_group: group.into(),
            story: "Always kind.".into(),
            nominator_name: "A colleague".into(),
            nominator_email: format!("colleague{i}@{id}.example.org"),
            relationship: "colleague".into(),
            status: if confirmed.is_some() {
                "pending"
            } else {
                "unconfirmed"
            }
            .into(),
            submitted_at: submitted,
            nominee_key: format!("nominee {i}"),
            nominee_id: None,
            band: band.into(),
            nominee_email: String::new(),
            site_code: String::new(),
            nominee_description: String::new(),
            team: false,
            confirm_token_hash: None,
            confirmed_at: confirmed,
            match_reviewed_by: String::new(),
            moderation_reason: String::new(),
            forwarded_from: None,
        }
        .into_active_model()
        .insert(&app.db)
        .await
        .unwrap();
        ids.push(id);
    }
    ids
}

async fn announce(app: &TestApp, ids: &[Uuid], kind: &str, when: DateTime<Utc>) {
    for id in ids {
        recognition::Model {
            nomination_id: *id,
            kind: kind.into(),
            campaign_id: Uuid::parse_str(&app.campaign.id).unwrap(),
            category_id: Uuid::parse_str(&app.campaign.categories[0].id).unwrap(),
            region_code: String::new(),
            announced_by: PLATFORM_ADMIN.into(),
            announced_at: when,
        }
        .into_active_model()
        .insert(&app.db)
        .await
        .unwrap();
    }
}

async fn insight(
    app: &TestApp,
    token: Option<&str>,
    scope: &str,
    code: &str,
) -> Result<pb::GetInsightResponse, Code> {
    let message = pb::GetInsightRequest {
        scope: scope.into(),
        scope_code: code.into(),
    };
    let request = match token {
        Some(token) => signed(token, message),
        None => tonic::Request::new(message),
    };
    app.client
        .clone()
        .get_insight(request)
        .await
        .map(tonic::Response::into_inner)
        .map_err(|s| s.code())
}

/// A count as a reader sees it: the number, or `None` where it is withheld.
fn shown(count: Option<&pb::InsightCount>) -> Option<u64> {
    count.filter(|c| !c.withheld).map(|c| c.value)
}

/// One breakdown's received counts, by code.
fn received(
    d: &pb::GetInsightResponse,
    dimension: pb::InsightDimension,
) -> Vec<(String, Option<u64>)> {
    d.breakdowns
        .iter()
        .find(|b| b.dimension == dimension as i32)
        .unwrap()
        .rows
        .iter()
        .map(|r| (r.code.clone(), shown(r.received.as_ref())))
        .collect()
}

const ESTATES: (&str, &str) = ("estates-and-ancillary", "band-2");
const CLERICAL: (&str, &str) = ("administrative-and-clerical", "band-3");

/// The figures below, on the embedded default's SQLite as on PostgreSQL.
#[tokio::test]
async fn the_dashboard_reads_the_same_from_sqlite() {
    let file = std::env::temp_dir().join(format!("valued-insight-{}.db", Uuid::now_v7()));
    let database = DatabaseSettings::postgres(format!("sqlite://{}?mode=rwc", file.display()));
    let (app, provider) = spawn_admin_app_on(database).await;
    seed_set(&app).await;
    let platform = verified_token(&provider, PLATFORM_ADMIN).await;
    let country = insight(&app, Some(&platform), "national", "")
        .await
        .unwrap();
    let total = country.total.as_ref().unwrap();
    assert_eq!(shown(total.received.as_ref()), Some(37));
    assert_eq!(shown(total.confirmed.as_ref()), Some(32));
    assert_eq!(
        received(&country, pb::InsightDimension::Month),
        [
            ("2026-10".to_owned(), Some(14)),
            ("2026-11".to_owned(), Some(23))
        ]
    );
    drop(app);
    let _ = std::fs::remove_file(file);
}

/// London's RJ1: 14 received in October, 12 of them confirmed, 2 finalists announced in
/// November. Midlands' RRK: 20 received and confirmed in November; RX1: 3 received then, never
/// confirmed. Both Midlands trusts' nominees are clerical staff in band 3.
async fn seeded() -> (TestApp, valued_testkit::oidc::OidcProvider) {
    let (app, provider) = spawn_admin_app().await;
    seed_set(&app).await;
    (app, provider)
}

async fn seed_set(app: &TestApp) {
    let confirmed = seed(app, "RJ1", ESTATES, 12, at(10, 5), Some(at(10, 6))).await;
    seed(app, "RJ1", ESTATES, 2, at(10, 7), None).await;
    announce(app, &confirmed[..2], "finalist", at(11, 20)).await;
    seed(app, "RRK", CLERICAL, 20, at(11, 2), Some(at(11, 3))).await;
    seed(app, "RX1", CLERICAL, 3, at(11, 4), None).await;
}

#[tokio::test]
async fn a_trusts_admin_sees_its_counts_by_month_staff_group_and_band() {
    let (app, provider) = seeded().await;
    cli_grant(&app, "awards@rj1.example.org", Role::TrustAdmin, "RJ1").await;
    let own = verified_token(&provider, "awards@rj1.example.org").await;

    let rj1 = insight(&app, Some(&own), "trust", "rj1").await.unwrap();
    assert_eq!(
        (rj1.scope.as_str(), rj1.scope_code.as_str()),
        ("trust", "RJ1")
    );
    assert_eq!(rj1.minimum_group_size, 11);
    let total = rj1.total.as_ref().unwrap();
    assert_eq!(shown(total.received.as_ref()), Some(14));
    assert_eq!(shown(total.confirmed.as_ref()), Some(12));
    let finalists = total.finalists.clone().unwrap();
    assert!(
        finalists.withheld && finalists.value == 0,
        "2 finalists are withheld"
    );
    assert_eq!(finalists.withheld_reason, "fewer than 11");
    assert_eq!(
        received(&rj1, pb::InsightDimension::Month),
        [
            ("2026-10".to_owned(), Some(14)),
            ("2026-11".to_owned(), None)
        ]
    );
    let groups = received(&rj1, pb::InsightDimension::StaffGroup);
    assert!(groups.contains(&("estates-and-ancillary".to_owned(), Some(14))));
    assert!(
        groups
            .iter()
            .filter(|(code, _)| code != "estates-and-ancillary")
            .all(|(_, n)| n.is_none())
    );
    assert!(received(&rj1, pb::InsightDimension::Band).contains(&("band-2".to_owned(), Some(14))));
}

#[tokio::test]
async fn a_small_trust_is_withheld_with_its_neighbour_and_the_country_adds_up() {
    let (app, provider) = seeded().await;
    cli_grant(&app, "region@y60.example.org", Role::RegionAdmin, "Y60").await;
    let region = verified_token(&provider, "region@y60.example.org").await;
    let platform = verified_token(&provider, PLATFORM_ADMIN).await;

    let midlands = insight(&app, Some(&region), "region", "Y60").await.unwrap();
    assert_eq!(midlands.name, "Midlands");
    assert_eq!(
        shown(midlands.total.as_ref().unwrap().received.as_ref()),
        Some(23)
    );
    // RX1's 3 are too few, and RRK's 20 would give them away (23 - 20).
    assert_eq!(
        received(&midlands, pb::InsightDimension::Trust),
        [("RRK".to_owned(), None), ("RX1".to_owned(), None)]
    );
    let rrk = insight(&app, Some(&region), "trust", "RRK").await.unwrap();
    let received_rrk = rrk.total.as_ref().unwrap().received.clone().unwrap();
    assert!(received_rrk.withheld);
    assert_eq!(
        received_rrk.withheld_reason,
        "withheld so that a small group cannot be worked out"
    );
    // RX1 confirmed none: an empty group is no cover, and RRK's 20 confirmations are shown.
    assert_eq!(
        shown(rrk.total.as_ref().unwrap().confirmed.as_ref()),
        Some(20)
    );

    let country = insight(&app, Some(&platform), "national", "")
        .await
        .unwrap();
    assert_eq!(country.name, "England");
    assert_eq!(
        shown(country.total.as_ref().unwrap().received.as_ref()),
        Some(37)
    );
    assert_eq!(
        received(&country, pb::InsightDimension::Region),
        [("Y56".to_owned(), Some(14)), ("Y60".to_owned(), Some(23))]
    );
    assert_eq!(
        received(&country, pb::InsightDimension::Month),
        [
            ("2026-10".to_owned(), Some(14)),
            ("2026-11".to_owned(), Some(23))
        ]
    );
}

#[tokio::test]
async fn only_a_trusts_or_regions_own_admins_see_its_figures() {
    let (app, provider) = seeded().await;
    cli_grant(&app, "awards@rrk.example.org", Role::TrustAdmin, "RRK").await;
    cli_grant(&app, "region@y56.example.org", Role::RegionAdmin, "Y56").await;
    let other_trust = verified_token(&provider, "awards@rrk.example.org").await;
    let other_region = verified_token(&provider, "region@y56.example.org").await;
    let nobody = verified_token(&provider, "nobody@example.org").await;
    let platform = verified_token(&provider, PLATFORM_ADMIN).await;

    assert_eq!(
        insight(&app, Some(&other_trust), "trust", "RJ1")
            .await
            .unwrap_err(),
        Code::NotFound
    );
    assert_eq!(
        insight(&app, Some(&other_trust), "region", "Y60")
            .await
            .unwrap_err(),
        Code::NotFound
    );
    assert_eq!(
        insight(&app, Some(&other_trust), "national", "")
            .await
            .unwrap_err(),
        Code::PermissionDenied
    );
    assert_eq!(
        insight(&app, Some(&other_region), "trust", "RRK")
            .await
            .unwrap_err(),
        Code::NotFound
    );
    assert!(
        insight(&app, Some(&other_region), "trust", "RJ1")
            .await
            .is_ok(),
        "its region's trust"
    );
    assert_eq!(
        insight(&app, Some(&nobody), "trust", "RJ1")
            .await
            .unwrap_err(),
        Code::PermissionDenied
    );
    assert_eq!(
        insight(&app, None, "trust", "RJ1").await.unwrap_err(),
        Code::Unauthenticated
    );
    assert_eq!(
        insight(&app, Some(&platform), "trust", "XXX")
            .await
            .unwrap_err(),
        Code::NotFound
    );
    assert_eq!(
        insight(&app, Some(&platform), "everything", "")
            .await
            .unwrap_err(),
        Code::InvalidArgument
    );
}
