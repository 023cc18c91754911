//! Managing role grants over gRPC: ListRoleGrants shows an admin only the grants they manage,
//! GrantRole invites and RevokeRole revokes within the same rights as `valued grant --revoke`
//! allows an admin, with field errors for a bad invitation, and every change in the audit log.

use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};
use tonic::Code;
use valued_nomination::auth::Role;
use valued_nomination::db::entities::{audit_log, role_grant};
use valued_proto::events::v1::{AdminInvited, RoleChanged};
use valued_proto::nomination::v1 as pb;

use valued_testkit::oidc::OidcProvider;

use crate::helpers::{
    PLATFORM_ADMIN, TestApp, cli_grant, signed, spawn_admin_app, trust_campaign, verified_token,
};

const LONDON: &str = "region@y56.example.org";
const GSTT: &str = "awards@rj1.example.org";
const UHB: &str = "awards@rrk.example.org";
const JUDGE: &str = "judge@example.org";

/// The London region admin, a trust admin in London (RJ1) and one in the Midlands (RRK), and a
/// judge of the national demo campaign, all invited from the command line.
async fn some_people(app: &TestApp) {
    cli_grant(app, LONDON, Role::RegionAdmin, "Y56").await;
    cli_grant(app, GSTT, Role::TrustAdmin, "RJ1").await;
    cli_grant(app, UHB, Role::TrustAdmin, "RRK").await;
    cli_grant(app, JUDGE, Role::Judge, &app.campaign.id).await;
}

/// `email` signed in, their invitations bound by a first call.
async fn signed_in(app: &mut TestApp, provider: &OidcProvider, email: &str) -> String {
    let token = verified_token(provider, email).await;
    app.client
        .who_am_i(signed(&token, pb::WhoAmIRequest {}))
        .await
        .unwrap();
    token
}

async fn list(app: &mut TestApp, token: &str) -> Result<pb::ListRoleGrantsResponse, tonic::Status> {
    app.client
        .list_role_grants(signed(token, pb::ListRoleGrantsRequest {}))
        .await
        .map(tonic::Response::into_inner)
}

/// (email, role, scope) of every grant `token` is shown.
async fn listed(app: &mut TestApp, token: &str) -> Vec<(String, String, String)> {
    list(app, token)
        .await
        .unwrap()
        .grants
        .into_iter()
        .map(|g| (g.email, g.role, g.scope))
        .collect()
}

fn key(email: &str, role: &str, scope: &str) -> (String, String, String) {
    (email.into(), role.into(), scope.into())
}

async fn revoke(
    app: &mut TestApp,
    token: &str,
    (email, role, scope): (&str, &str, &str),
) -> Result<(), Code> {
    app.client
        .revoke_role(signed(
            token,
            pb::RevokeRoleRequest {
                email: email.into(),
                role: role.into(),
                scope: scope.into(),
            },
        ))
        .await
        .map(|_| ())
        .map_err(|status| status.code())
}

async fn invite(
    app: &mut TestApp,
    token: &str,
    (email, role, scope): (&str, &str, &str),
) -> Result<pb::RoleGrant, tonic::Status> {
    app.client
        .grant_role(signed(
            token,
            pb::GrantRoleRequest {
                email: email.into(),
                role: role.into(),
                scope: scope.into(),
            },
        ))
        .await
        .map(|r| r.into_inner().grant.unwrap())
}

async fn grant_count(app: &TestApp) -> u64 {
    role_grant::Entity::find().count(&app.db).await.unwrap()
}

/// Every audit entry about a role, as (actor, action, detail), oldest first.
async fn role_audit(app: &TestApp) -> Vec<(String, String, String)> {
    audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.ends_with("_role"))
        .map(|e| (e.actor, e.action, e.detail))
        .collect()
}

fn audited(actor: &str, action: &str, detail: &str) -> (String, String, String) {
    (actor.into(), action.into(), detail.into())
}

#[tokio::test]
async fn each_admin_is_shown_only_the_grants_they_manage() {
    let (mut app, provider) = spawn_admin_app().await;
    let platform = verified_token(&provider, PLATFORM_ADMIN).await;
    some_people(&app).await;
    let campaign = app.campaign.id.clone();

    // A platform admin manages every grant, bound or not, and may grant every role.
    let all = list(&mut app, &platform).await.unwrap();
    assert_eq!(
        all.grants
            .iter()
            .map(|g| (g.email.as_str(), g.role.as_str(), g.scope.as_str()))
            .collect::<Vec<_>>(),
        [
            (PLATFORM_ADMIN, "platform_admin", ""),
            (LONDON, "region_admin", "Y56"),
            (GSTT, "trust_admin", "RJ1"),
            (UHB, "trust_admin", "RRK"),
            (JUDGE, "judge", campaign.as_str()),
        ]
    );
    assert_eq!(
        all.grantable_roles,
        ["platform_admin", "region_admin", "trust_admin", "judge"]
    );
    let names: Vec<&str> = all.grants.iter().map(|g| g.scope_name.as_str()).collect();
    assert_eq!(
        names,
        [
            "",
            "London",
            "Guy's and St Thomas' NHS Foundation Trust",
            "University Hospitals Birmingham NHS Foundation Trust",
            app.campaign.name.as_str(),
        ]
    );
    assert!(all.grants[0].bound, "the platform admin has signed in");
    assert!(all.grants[0].yours, "their own grant");
    assert!(all.grants[1..].iter().all(|g| !g.yours));
    assert!(all.grants[1..].iter().all(|g| !g.bound && !g.revoked));

    // The London region admin sees London's trust admins only: not the Midlands', not the national
    // campaign's judges, not the platform admin, not themselves.
    let london = verified_token(&provider, LONDON).await;
    let theirs = list(&mut app, &london).await.unwrap();
    assert_eq!(
        listed(&mut app, &london).await,
        [key(GSTT, "trust_admin", "RJ1")]
    );
    assert_eq!(theirs.grantable_roles, ["trust_admin"]);

    // A judge, or a trust admin of a trust without a campaign of its own, manages nobody.
    for email in [JUDGE, GSTT] {
        let token = verified_token(&provider, email).await;
        let nothing = list(&mut app, &token).await.unwrap();
        assert!(nothing.grants.is_empty(), "{email}: {:?}", nothing.grants);
        assert!(nothing.grantable_roles.is_empty());
    }

    // Someone holding no role is refused before anything is looked up.
    let nobody = verified_token(&provider, "nobody@example.org").await;
    assert_eq!(
        list(&mut app, &nobody).await.unwrap_err().code(),
        Code::PermissionDenied
    );
}

#[tokio::test]
async fn a_platform_admin_revokes_and_the_next_call_is_refused() {
    let (mut app, provider) = spawn_admin_app().await;
    let platform = verified_token(&provider, PLATFORM_ADMIN).await;
    some_people(&app).await;
    let uhb = verified_token(&provider, UHB).await;
    let export = pb::ListAuditLogRequest {
        trust_code: "RRK".into(),
    };
    app.client
        .list_audit_log(signed(&uhb, export.clone()))
        .await
        .unwrap();

    revoke(&mut app, &platform, (UHB, "trust_admin", " rrk "))
        .await
        .unwrap();
    let refused = app
        .client
        .list_audit_log(signed(&uhb, export))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);

    // The list keeps it, revoked, with who revoked it and when.
    let grants = list(&mut app, &platform).await.unwrap().grants;
    let revoked = grants.iter().find(|g| g.email == UHB).unwrap();
    assert!(revoked.revoked && revoked.bound);
    assert_eq!(revoked.revoked_by, PLATFORM_ADMIN);
    let at = revoked.revoked_at.unwrap().seconds;
    assert!((chrono::Utc::now().timestamp() - at).abs() < 60, "{at}");
    assert_eq!(
        grants.last().unwrap().email,
        UHB,
        "revoked grants come last"
    );

    // The other services' copies hear of it.
    let changes = app.events::<RoleChanged>().await;
    let last = changes.iter().rfind(|e| e.email == UHB).unwrap();
    assert!(last.revoked);

    // Revoking it again, or a grant nobody holds, is NOT_FOUND.
    for missing in [
        (UHB, "trust_admin", "RRK"),
        ("someone@example.org", "trust_admin", "RRK"),
        (GSTT, "trust_admin", "RRK"),
    ] {
        assert_eq!(
            revoke(&mut app, &platform, missing).await,
            Err(Code::NotFound),
            "{missing:?}"
        );
    }
    let detail = format!("{UHB} trust_admin RRK");
    assert_eq!(
        role_audit(&app).await.last().unwrap(),
        &audited(PLATFORM_ADMIN, "revoke_role", &detail)
    );

    // A platform admin cannot revoke their own role (and so leave nobody to grant any), only
    // another's.
    cli_grant(&app, PLATFORM_ADMIN, Role::PlatformAdmin, "").await;
    cli_grant(&app, "second.admin@example.org", Role::PlatformAdmin, "").await;
    assert_eq!(
        revoke(&mut app, &platform, (PLATFORM_ADMIN, "platform_admin", "")).await,
        Err(Code::FailedPrecondition)
    );
    revoke(
        &mut app,
        &platform,
        ("second.admin@example.org", "platform_admin", ""),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_region_admin_manages_their_trusts_admins_and_nothing_above() {
    let (mut app, provider) = spawn_admin_app().await;
    signed_in(&mut app, &provider, PLATFORM_ADMIN).await;
    some_people(&app).await;
    let london = signed_in(&mut app, &provider, LONDON).await;
    let before = grant_count(&app).await;
    let audit_before = role_audit(&app).await;

    let campaign = app.campaign.id.clone();
    for refused in [
        (PLATFORM_ADMIN, "platform_admin", ""),
        (LONDON, "region_admin", "Y56"),
        (UHB, "trust_admin", "RRK"),
        (JUDGE, "judge", campaign.as_str()),
    ] {
        assert_eq!(
            revoke(&mut app, &london, refused).await,
            Err(Code::PermissionDenied),
            "revoke {refused:?}"
        );
    }
    for refused in [
        ("new@example.org", "platform_admin", ""),
        ("new@example.org", "region_admin", "Y56"),
        ("new@example.org", "region_admin", "Y60"),
        ("new@example.org", "trust_admin", "RRK"),
        ("new@example.org", "judge", campaign.as_str()),
    ] {
        let status = invite(&mut app, &london, refused).await.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "invite {refused:?}");
    }
    assert_eq!(grant_count(&app).await, before, "nothing stored");
    assert_eq!(role_audit(&app).await, audit_before, "nothing audited");

    // Their own region's trust admins they invite and revoke.
    let invited = invite(
        &mut app,
        &london,
        ("Deputy@Example.org", "trust_admin", "rj1"),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            invited.email.as_str(),
            invited.role.as_str(),
            invited.scope.as_str()
        ),
        ("deputy@example.org", "trust_admin", "RJ1")
    );
    assert_eq!(
        invited.scope_name,
        "Guy's and St Thomas' NHS Foundation Trust"
    );
    assert!(!invited.bound && !invited.revoked);
    revoke(&mut app, &london, (GSTT, "trust_admin", "RJ1"))
        .await
        .unwrap();
    let deputy = verified_token(&provider, "deputy@example.org").await;
    app.client
        .list_audit_log(signed(
            &deputy,
            pb::ListAuditLogRequest {
                trust_code: "RJ1".into(),
            },
        ))
        .await
        .unwrap();

    let audit = role_audit(&app).await;
    assert_eq!(
        audit[audit_before.len()..],
        [
            audited(LONDON, "grant_role", "deputy@example.org trust_admin RJ1"),
            audited(LONDON, "revoke_role", &format!("{GSTT} trust_admin RJ1")),
            audited(
                "deputy@example.org",
                "bind_role",
                &format!(
                    "deputy@example.org trust_admin RJ1 bound to {} deputy@example.org",
                    provider.issuer
                )
            ),
        ]
    );
}

#[tokio::test]
async fn a_bad_invitation_names_each_field_and_stores_nothing() {
    let (mut app, provider) = spawn_admin_app().await;
    let platform = signed_in(&mut app, &provider, PLATFORM_ADMIN).await;
    let before = grant_count(&app).await;
    let audit_before = role_audit(&app).await;

    for (request, fields) in [
        (("", "", ""), &["email", "role"][..]),
        (("not an email", "boss", "RJ1"), &["email", "role"]),
        (("a@example.org", "trust_admin", ""), &["scope"]),
        (("a@example.org", "platform_admin", "RJ1"), &["scope"]),
        (("a@example.org", "region_admin", "Y5 6"), &["scope"]),
        (("a@example.org", "judge", "no/such"), &["scope"]),
        // Well formed, but naming nothing.
        (("a@example.org", "trust_admin", "ZZZ"), &["scope"]),
        (("a@example.org", "region_admin", "RJ1"), &["scope"]),
        (("a@example.org", "judge", "no-such-campaign"), &["scope"]),
    ] {
        let status = invite(&mut app, &platform, request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{request:?}");
        let named: Vec<String> = valued_platform::grpc::field_errors(&status)
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(named, fields, "{request:?}: {status:?}");
    }
    let status = invite(&mut app, &platform, ("a@example.org", "trust_admin", "ZZZ"))
        .await
        .unwrap_err();
    assert_eq!(
        valued_platform::grpc::field_errors(&status)[0].message,
        "There is no trust with the code ZZZ"
    );
    // A malformed revocation is named the same way.
    let status = app
        .client
        .revoke_role(signed(&platform, pb::RevokeRoleRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(grant_count(&app).await, before, "nothing stored");
    assert_eq!(role_audit(&app).await, audit_before, "nothing audited");

    // A judge's campaign may be named by its slug; the grant is over its id.
    let (slug, id) = (app.campaign.slug.clone(), app.campaign.id.clone());
    let judge = invite(&mut app, &platform, ("judge@example.org", "judge", &slug))
        .await
        .unwrap();
    assert_eq!(judge.scope, app.campaign.id);
    assert_eq!(judge.scope_name, app.campaign.name);
    // Inviting again changes nothing and audits nothing more.
    invite(&mut app, &platform, ("judge@example.org", "judge", &id))
        .await
        .unwrap();
    let audit = role_audit(&app).await;
    assert_eq!(
        audit[audit_before.len()..],
        [audited(
            PLATFORM_ADMIN,
            "grant_role",
            &format!("judge@example.org judge {}", app.campaign.id)
        )]
    );
}

#[tokio::test]
async fn a_campaigns_admins_manage_its_judges_only() {
    let (mut app, provider) = spawn_admin_app().await;
    some_people(&app).await;
    let (own, _) = trust_campaign(&mut app, "RJ1").await;
    cli_grant(&app, "panel@example.org", Role::Judge, &own).await;
    let gstt = signed_in(&mut app, &provider, GSTT).await;

    let theirs = list(&mut app, &gstt).await.unwrap();
    assert_eq!(theirs.grantable_roles, ["judge"]);
    assert_eq!(
        listed(&mut app, &gstt).await,
        [key("panel@example.org", "judge", &own)]
    );
    assert_eq!(theirs.grants[0].scope_name, "RJ1 staff awards");

    let added = invite(
        &mut app,
        &gstt,
        ("second@example.org", "judge", "rj1-staff-awards"),
    )
    .await
    .unwrap();
    assert_eq!(added.scope, own);
    let national = app.campaign.id.clone();
    for refused in [
        ("second@example.org", "judge", national.as_str()),
        ("second@example.org", "trust_admin", "RJ1"),
    ] {
        let status = invite(&mut app, &gstt, refused).await.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{refused:?}");
    }
    assert_eq!(
        revoke(&mut app, &gstt, (JUDGE, "judge", &national)).await,
        Err(Code::PermissionDenied)
    );
    revoke(&mut app, &gstt, ("panel@example.org", "judge", &own))
        .await
        .unwrap();
    let grants = list(&mut app, &gstt).await.unwrap().grants;
    let states: Vec<(&str, bool)> = grants
        .iter()
        .map(|g| (g.email.as_str(), g.revoked))
        .collect();
    assert_eq!(
        states,
        [("second@example.org", false), ("panel@example.org", true)]
    );
    assert_eq!(grants[1].revoked_by, GSTT);
}

#[tokio::test]
async fn someone_invited_from_the_people_page_is_emailed_once_and_the_command_line_emails_nobody() {
    let (mut app, provider) = spawn_admin_app().await;
    let admin = signed_in(&mut app, &provider, PLATFORM_ADMIN).await;
    cli_grant(&app, LONDON, Role::RegionAdmin, "Y56").await;

    invite(
        &mut app,
        &admin,
        (" Awards@RJ1.example.org ", "trust_admin", "RJ1"),
    )
    .await
    .unwrap();
    // Invited again while the grant stands: nothing new to tell them.
    invite(&mut app, &admin, (GSTT, "trust_admin", "RJ1"))
        .await
        .unwrap();
    let sent = app.events::<AdminInvited>().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].email, GSTT);
    assert_eq!(sent[0].role, "trust_admin");
    assert!(!sent[0].scope_name.is_empty(), "the trust is named");
    assert_eq!(sent[0].invited_by, PLATFORM_ADMIN);

    // Revoked, then invited again: told again.
    revoke(&mut app, &admin, (GSTT, "trust_admin", "RJ1"))
        .await
        .unwrap();
    invite(&mut app, &admin, (GSTT, "trust_admin", "RJ1"))
        .await
        .unwrap();
    assert_eq!(app.events::<AdminInvited>().await.len(), 2);
}
