//! A trust's settings over gRPC: its own admin, its region's admin and platform admins see and set
//! the awards contact, which confirmed nominations then go to; another trust's admin is told the
//! trust does not exist; a malformed address is named and changes nothing; changes are audited.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tonic::Code;
use valued_nomination::auth::Role;
use valued_nomination::db::entities::{audit_log, trust};
use valued_proto::events::v1 as ev;
use valued_proto::nomination::v1 as pb;

use crate::helpers::{PLATFORM_ADMIN, TestApp, cli_grant, signed, spawn_admin_app, verified_token};

async fn set(
    app: &TestApp,
    token: &str,
    code: &str,
    email: &str,
) -> Result<pb::TrustSettings, Code> {
    app.client
        .clone()
        .set_trust_settings(signed(
            token,
            pb::SetTrustSettingsRequest {
                settings: Some(pb::TrustSettings {
                    trust_code: code.into(),
                    awards_email: email.into(),
                    ..pb::TrustSettings::default()
                }),
            },
        ))
        .await
        .map(|r| r.into_inner().settings.unwrap())
        .map_err(|s| s.code())
}

async fn get(app: &TestApp, token: &str, code: &str) -> Result<pb::TrustSettings, Code> {
    app.client
        .clone()
        .get_trust_settings(signed(
            token,
            pb::GetTrustSettingsRequest {
                trust_code: code.into(),
            },
        ))
        .await
        .map(|r| r.into_inner().settings.unwrap())
        .map_err(|s| s.code())
}

async fn stored_contact(app: &TestApp, code: &str) -> String {
    trust::Entity::find_by_id(code.to_owned())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .admin_email
}

#[tokio::test]
async fn a_trusts_admins_set_its_awards_contact_and_no_one_else_sees_it() {
    let (app, provider) = spawn_admin_app().await;
    for (email, role, scope) in [
        ("awards@rj1.example.org", Role::TrustAdmin, "RJ1"),
        ("awards@rrk.example.org", Role::TrustAdmin, "RRK"),
        ("region@y56.example.org", Role::RegionAdmin, "Y56"),
    ] {
        cli_grant(&app, email, role, scope).await;
    }
    let own = verified_token(&provider, "awards@rj1.example.org").await;
    let other = verified_token(&provider, "awards@rrk.example.org").await;
    let region = verified_token(&provider, "region@y56.example.org").await;
    let platform = verified_token(&provider, PLATFORM_ADMIN).await;

    let shown = get(&app, &own, "rj1").await.unwrap();
    assert_eq!(shown.trust_code, "RJ1");
    assert!(!shown.name.is_empty());

    let saved = set(&app, &own, "RJ1", " Stars@RJ1.example.org ")
        .await
        .unwrap();
    assert_eq!(saved.awards_email, "stars@rj1.example.org");
    assert_eq!(stored_contact(&app, "RJ1").await, "stars@rj1.example.org");
    assert_eq!(
        get(&app, &region, "RJ1").await.unwrap().awards_email,
        "stars@rj1.example.org",
        "its region's admin sees it"
    );
    set(&app, &platform, "RJ1", "awards-team@rj1.example.org")
        .await
        .unwrap();

    assert_eq!(get(&app, &other, "RJ1").await.unwrap_err(), Code::NotFound);
    assert_eq!(
        set(&app, &other, "RJ1", "taken@rrk.example.org")
            .await
            .unwrap_err(),
        Code::NotFound
    );
    assert_eq!(
        set(&app, &own, "RJ1", "not an address").await.unwrap_err(),
        Code::InvalidArgument
    );
    assert_eq!(
        stored_contact(&app, "RJ1").await,
        "awards-team@rj1.example.org",
        "refusals change nothing"
    );
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("trust settings changed"))
        .filter(audit_log::Column::TrustCode.eq("RJ1"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(audited, 2);

    // Cleared: the trust has no contact again.
    set(&app, &own, "RJ1", "").await.unwrap();
    assert_eq!(stored_contact(&app, "RJ1").await, "");
}

fn fields_of(status: &tonic::Status) -> Vec<String> {
    valued_platform::grpc::field_errors(status)
        .into_iter()
        .map(|e| e.field)
        .collect()
}

#[tokio::test]
async fn the_sender_reply_to_and_domains_are_checked_stored_announced_once_and_audited() {
    let (app, provider) = spawn_admin_app().await;
    cli_grant(&app, "awards@rj1.example.org", Role::TrustAdmin, "RJ1").await;
    let own = verified_token(&provider, "awards@rj1.example.org").await;
    let settings = |sender_name: &str, reply_to: &str, domains: &[&str]| pb::TrustSettings {
        trust_code: "RJ1".into(),
        awards_email: "awards@rj1.example.org".into(),
        sender_name: sender_name.into(),
        reply_to: reply_to.into(),
        work_email_domains: domains.iter().map(|d| (*d).to_owned()).collect(),
        ..pb::TrustSettings::default()
    };
    let save = |settings: pb::TrustSettings| {
        let mut client = app.client.clone();
        let token = own.clone();
        async move {
            client
                .set_trust_settings(signed(
                    &token,
                    pb::SetTrustSettingsRequest {
                        settings: Some(settings),
                    },
                ))
                .await
                .map(|r| r.into_inner().settings.unwrap())
        }
    };

    // Every bad field named at once; nothing stored or announced.
    let refused = save(settings(
        "security@nhs.net",
        "not an address",
        &["nhs.net", "nhs", "gstt..nhs.uk"],
    ))
    .await
    .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        fields_of(&refused),
        [
            "sender_name",
            "reply_to",
            "work_email_domains[1]",
            "work_email_domains[2]"
        ]
    );
    assert_eq!(stored_contact(&app, "RJ1").await, "awards@gstt.example.org");

    let saved = save(settings(
        " Guy's and St Thomas' Staff Awards ",
        "Staff.Awards@gstt.example.org",
        &["@GSTT.nhs.uk", "nhs.net", "", "nhs.net"],
    ))
    .await
    .unwrap();
    assert_eq!(saved.sender_name, "Guy's and St Thomas' Staff Awards");
    assert_eq!(saved.reply_to, "Staff.Awards@gstt.example.org");
    assert_eq!(saved.work_email_domains, ["gstt.nhs.uk", "nhs.net"]);
    let shown = get(&app, &own, "RJ1").await.unwrap();
    assert_eq!(shown.work_email_domains, ["gstt.nhs.uk", "nhs.net"]);
    assert_eq!(shown.sender_name, "Guy's and St Thomas' Staff Awards");

    // Saved again unchanged: no second announcement, no audit entry.
    save(shown.clone()).await.unwrap();
    // Only the awards contact changed: not announced (no other service keeps it).
    save(pb::TrustSettings {
        awards_email: "team@rj1.example.org".into(),
        ..shown
    })
    .await
    .unwrap();
    let announced = app.events::<ev::TrustSettingsChanged>().await;
    assert_eq!(announced.len(), 1, "{announced:?}");
    assert_eq!(announced[0].trust_code, "RJ1");
    assert_eq!(
        announced[0].sender_name,
        "Guy's and St Thomas' Staff Awards"
    );
    assert_eq!(announced[0].reply_to, "Staff.Awards@gstt.example.org");
    assert_eq!(announced[0].work_email_domains, ["gstt.nhs.uk", "nhs.net"]);
    assert!(announced[0].changed_at.is_some());
    assert_eq!(announced[0].region_code, "Y56");
    let audited: Vec<String> = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("trust settings changed"))
        .filter(audit_log::Column::TrustCode.eq("RJ1"))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.detail)
        .collect();
    assert_eq!(audited.len(), 2, "{audited:?}");
    assert!(
        audited[0].contains("sender name set to Guy's and St Thomas' Staff Awards"),
        "{audited:?}"
    );
}

#[tokio::test]
async fn a_trusts_sites_are_kept_by_its_admins_and_the_form_takes_only_those() {
    let (mut app, provider) = spawn_admin_app().await;
    cli_grant(&app, "awards@rj1.example.org", Role::TrustAdmin, "RJ1").await;
    cli_grant(&app, "awards@rrk.example.org", Role::TrustAdmin, "RRK").await;
    let own = verified_token(&provider, "awards@rj1.example.org").await;
    let other = verified_token(&provider, "awards@rrk.example.org").await;
    let add = |token: &str, trust: &str, code: &str, name: &str| {
        let mut client = app.client.clone();
        let request = signed(
            token,
            pb::AddTrustSiteRequest {
                trust_code: trust.into(),
                site: Some(pb::TrustSite {
                    code: code.into(),
                    name: name.into(),
                }),
            },
        );
        async move {
            client
                .add_trust_site(request)
                .await
                .map(|r| r.into_inner().settings.unwrap().sites)
        }
    };
    let names = |sites: &[pb::TrustSite]| -> Vec<String> {
        sites
            .iter()
            .map(|s| format!("{} {}", s.code, s.name))
            .collect()
    };

    // The demo's two sites, then one added and one renamed.
    let sites = add(&own, "RJ1", "rj1ev", " Evelina London ").await.unwrap();
    assert_eq!(
        names(&sites),
        [
            "RJ1EV Evelina London",
            "RJ122 Guy's Hospital",
            "RJ121 St Thomas' Hospital"
        ]
    );
    let sites = add(&own, "RJ1", "RJ122", "Guy's").await.unwrap();
    assert!(names(&sites).contains(&"RJ122 Guy's".to_owned()));

    // Bad input named; another trust's site and another trust's list refused.
    let bad = add(&own, "RJ1", "RJ1", "").await.unwrap_err();
    assert_eq!(fields_of(&bad), ["site.code", "site.name"]);
    assert_eq!(
        add(&own, "RJ1", "RRK15", "Not ours")
            .await
            .unwrap_err()
            .code(),
        Code::AlreadyExists
    );
    assert_eq!(
        add(&other, "RJ1", "RJ1ZZ", "Taken over")
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );

    // The campaign offers them; a nomination naming a site the trust does not list is refused
    // at the field, one naming a listed site is taken.
    let campaign = app
        .client
        .get_campaign(pb::GetCampaignRequest {
            slug: app.campaign.slug.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .campaign
        .unwrap();
    let rj1 = campaign.trusts.iter().find(|t| t.code == "RJ1").unwrap();
    assert_eq!(rj1.sites.len(), 3);
    let mut request = app.valid_request();
    request.trust_code = "RJ1".into();
    request.site_code = "RRK15".into();
    let refused = app
        .client
        .submit_nomination(request.clone())
        .await
        .unwrap_err();
    assert_eq!(fields_of(&refused), ["site_code"]);
    assert_eq!(app.nomination_count().await, 0);
    request.site_code = "rj1ev".into();
    let id = app.submit_confirmed(request).await;
    assert_eq!(app.stored(&id).await.site_code, "RJ1EV");

    // Removed: gone from the list; the nomination keeps its code; removing it again is NOT_FOUND.
    let remove = |token: &str, code: &str| {
        let mut client = app.client.clone();
        let request = signed(
            token,
            pb::RemoveTrustSiteRequest {
                trust_code: "RJ1".into(),
                site_code: code.into(),
            },
        );
        async move { client.remove_trust_site(request).await.map(|_| ()) }
    };
    assert_eq!(
        remove(&other, "RJ1EV").await.unwrap_err().code(),
        Code::NotFound
    );
    remove(&own, "RJ1EV").await.unwrap();
    assert_eq!(
        remove(&own, "RJ1EV").await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(app.stored(&id).await.site_code, "RJ1EV");
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.is_in(["trust site added", "trust site removed"]))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(audited, 3);
}
