//! Roles are invitations to an email that bind, on the first sign-in with that email verified, to
//! the account (`iss` + `sub`) that signed in; revocation takes effect at once; every grant, binding,
//! revocation and export is in the audit log.

use sea_orm::{EntityTrait, QueryOrder};
use valued_nomination::auth::{Actor, Grant, Principal, Role, grant, revoke};
use valued_nomination::db::entities::{audit_log, role_grant};
use valued_platform::outbox::Outbox;
use valued_proto::nomination::v1 as pb;

use crate::helpers::{
    PLATFORM_ADMIN, TestApp, sign_in_as, signed, spawn_admin_app, verified_token,
};

const TRUST_ADMIN: &str = "awards@trust.example.org";

/// The roles `token` holds, as WhoAmI reports them.
async fn roles(app: &mut TestApp, token: &str) -> Vec<(String, String)> {
    app.client
        .who_am_i(signed(token, pb::WhoAmIRequest {}))
        .await
        .unwrap()
        .into_inner()
        .grants
        .into_iter()
        .map(|g| (g.role, g.scope))
        .collect()
}

/// The export of the demo campaign, as `token` asks for it.
async fn export(app: &mut TestApp, token: &str) -> Result<usize, tonic::Code> {
    app.client
        .list_nominations(signed(
            token,
            pb::ListNominationsRequest {
                campaign_id: app.campaign.id.clone(),
            },
        ))
        .await
        .map(|r| r.into_inner().nominations.len())
        .map_err(|status| status.code())
}

async fn stored_grant(app: &TestApp, email: &str, role: Role, scope: &str) -> role_grant::Model {
    role_grant::Entity::find_by_id((email.to_owned(), role.slug().to_owned(), scope.to_owned()))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

/// Invites [`TRUST_ADMIN`] to administer the demo campaign's first trust, from the command line.
async fn invite_trust_admin(app: &TestApp) -> String {
    let trust = app.campaign.trusts[0].code.clone();
    grant(
        &app.db,
        &Outbox::detached("nomination"),
        &Actor::CommandLine,
        TRUST_ADMIN,
        Role::TrustAdmin,
        &trust,
    )
    .await
    .unwrap();
    trust
}

/// Every audit entry as (actor, action, trust, detail), oldest first.
async fn audit(app: &TestApp) -> Vec<(String, String, String, String)> {
    audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.actor, e.action, e.trust_code, e.detail))
        .collect()
}

fn entry(actor: &str, action: &str, trust: &str, detail: &str) -> (String, String, String, String) {
    (actor.into(), action.into(), trust.into(), detail.into())
}

#[tokio::test]
async fn a_grant_binds_to_the_first_account_that_signs_in_with_the_email_verified() {
    let (mut app, provider) = spawn_admin_app().await;
    let trust = invite_trust_admin(&app).await;
    let holds = vec![("trust_admin".to_owned(), trust.clone())];

    // An account whose email the issuer has not verified cannot claim the invitation.
    let unverified = sign_in_as(&provider, "unverified-account", TRUST_ADMIN, false).await;
    assert!(roles(&mut app, &unverified).await.is_empty());
    assert_eq!(
        export(&mut app, &unverified).await,
        Err(tonic::Code::PermissionDenied)
    );
    let invitation = stored_grant(&app, TRUST_ADMIN, Role::TrustAdmin, &trust).await;
    assert_eq!((invitation.issuer, invitation.subject), (None, None));

    // The first verified sign-in binds it to that account.
    let first = sign_in_as(&provider, "first-account", TRUST_ADMIN, true).await;
    assert_eq!(roles(&mut app, &first).await, holds);
    let bound = stored_grant(&app, TRUST_ADMIN, Role::TrustAdmin, &trust).await;
    assert_eq!(bound.issuer.as_deref(), Some(provider.issuer.as_str()));
    assert_eq!(bound.subject.as_deref(), Some("first-account"));

    // Another account showing the same verified email later gets nothing, however often it tries.
    let second = sign_in_as(&provider, "second-account", TRUST_ADMIN, true).await;
    for _ in 0..2 {
        assert!(roles(&mut app, &second).await.is_empty());
        assert_eq!(
            export(&mut app, &second).await,
            Err(tonic::Code::PermissionDenied)
        );
    }
    // The bound account keeps it even when a later token does not say the email is verified.
    let first_unverified = sign_in_as(&provider, "first-account", TRUST_ADMIN, false).await;
    assert_eq!(roles(&mut app, &first_unverified).await, holds);
    assert!(export(&mut app, &first_unverified).await.is_ok());
    assert!(export(&mut app, &first).await.is_ok());

    let detail = format!("{TRUST_ADMIN} trust_admin {trust}");
    let bound_detail = format!("{detail} bound to {} first-account", provider.issuer);
    let exported = format!("0 nominations of {}", app.campaign.name);
    assert_eq!(
        audit(&app).await,
        [
            entry("command line", "grant_role", &trust, &detail),
            entry(TRUST_ADMIN, "bind_role", &trust, &bound_detail),
            entry(TRUST_ADMIN, "export", &trust, &exported),
            entry(TRUST_ADMIN, "export", &trust, &exported),
        ]
    );
}

#[tokio::test]
async fn settings_platform_admins_bind_like_any_grant_and_can_be_revoked_at_once() {
    let (mut app, provider) = spawn_admin_app().await;
    let impostor = sign_in_as(&provider, "impostor", PLATFORM_ADMIN, false).await;
    assert!(roles(&mut app, &impostor).await.is_empty());
    assert!(
        role_grant::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty(),
        "an unverified sign-in stores nothing"
    );

    let admin = verified_token(&provider, PLATFORM_ADMIN).await;
    assert_eq!(
        roles(&mut app, &admin).await,
        [("platform_admin".to_owned(), String::new())]
    );
    let stored = stored_grant(&app, PLATFORM_ADMIN, Role::PlatformAdmin, "").await;
    assert_eq!(stored.subject.as_deref(), Some(PLATFORM_ADMIN));
    assert!(roles(&mut app, &impostor).await.is_empty());
    assert!(export(&mut app, &admin).await.is_ok());

    revoke(
        &app.db,
        &Outbox::detached("nomination"),
        &Actor::CommandLine,
        PLATFORM_ADMIN,
        Role::PlatformAdmin,
        "",
    )
    .await
    .unwrap();
    // The very next call is refused with the same token, and the settings do not grant it again.
    assert!(roles(&mut app, &admin).await.is_empty());
    assert_eq!(
        export(&mut app, &admin).await,
        Err(tonic::Code::PermissionDenied)
    );
    let revoked = stored_grant(&app, PLATFORM_ADMIN, Role::PlatformAdmin, "").await;
    assert!(revoked.revoked_at.is_some());
    assert_eq!(revoked.revoked_by.as_deref(), Some("command line"));

    let detail = format!("{PLATFORM_ADMIN} platform_admin ");
    let audit = audit(&app).await;
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|(actor, action, _, _)| (actor.as_str(), action.as_str()))
        .collect();
    let trusts = app.campaign.trusts.len();
    let mut expected = vec![("settings", "grant_role"), (PLATFORM_ADMIN, "bind_role")];
    expected.extend(std::iter::repeat_n((PLATFORM_ADMIN, "export"), trusts));
    expected.push(("command line", "revoke_role"));
    assert_eq!(actions, expected);
    assert_eq!(audit[0].3, detail);
    assert_eq!(audit.last().unwrap().3, detail);
}

#[tokio::test]
async fn admins_revoke_only_below_them_and_judges_lose_their_panel_at_once() {
    let (mut app, provider) = spawn_admin_app().await;
    let platform = verified_token(&provider, PLATFORM_ADMIN).await;
    let campaign = app.campaign.id.clone();
    app.client
        .assign_judge(signed(
            &platform,
            pb::AssignJudgeRequest {
                campaign_id: campaign.clone(),
                category_id: app.campaign.categories[0].id.clone(),
                judge_email: "judge@example.org".into(),
            },
        ))
        .await
        .unwrap();
    let judge = verified_token(&provider, "judge@example.org").await;
    let work = pb::ListJudgingWorkRequest {
        campaign_id: campaign.clone(),
    };
    app.client
        .list_judging_work(signed(&judge, work.clone()))
        .await
        .unwrap();

    let trust = invite_trust_admin(&app).await;
    let someone = |grants: Vec<Grant>| Principal {
        email: "someone@example.org".into(),
        name: String::new(),
        grants,
    };
    let trust_admin = someone(vec![Grant {
        role: Role::TrustAdmin,
        scope: trust.clone(),
    }]);
    let elsewhere = someone(vec![Grant {
        role: Role::RegionAdmin,
        scope: "NOWHERE".into(),
    }]);
    // Nobody but a platform admin revokes a national campaign's judge, or a fellow trust admin.
    for (who, role, email, scope) in [
        (
            &trust_admin,
            Role::Judge,
            "judge@example.org",
            campaign.as_str(),
        ),
        (&trust_admin, Role::TrustAdmin, TRUST_ADMIN, trust.as_str()),
        (&elsewhere, Role::TrustAdmin, TRUST_ADMIN, trust.as_str()),
        (&elsewhere, Role::PlatformAdmin, PLATFORM_ADMIN, ""),
    ] {
        let refused = revoke(
            &app.db,
            &Outbox::detached("nomination"),
            &Actor::Admin(who),
            email,
            role,
            scope,
        )
        .await;
        assert!(
            matches!(refused, Err(valued_nomination::error::Error::Forbidden(_))),
            "{role:?} {scope}: {refused:?}"
        );
    }

    let platform_admin = someone(vec![Grant {
        role: Role::PlatformAdmin,
        scope: String::new(),
    }]);
    revoke(
        &app.db,
        &Outbox::detached("nomination"),
        &Actor::Admin(&platform_admin),
        "judge@example.org",
        Role::Judge,
        &campaign,
    )
    .await
    .unwrap();
    let refused = app
        .client
        .list_judging_work(signed(&judge, work))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let judging = stored_grant(&app, "judge@example.org", Role::Judge, &campaign).await;
    assert_eq!(judging.revoked_by.as_deref(), Some("someone@example.org"));

    let judge_detail = format!("judge@example.org judge {campaign}");
    let audit = audit(&app).await;
    let grants: Vec<_> = audit
        .iter()
        .filter(|(_, action, _, _)| action.ends_with("_role"))
        .cloned()
        .collect();
    assert_eq!(
        grants,
        [
            entry(
                "settings",
                "grant_role",
                "",
                &format!("{PLATFORM_ADMIN} platform_admin ")
            ),
            entry(
                PLATFORM_ADMIN,
                "bind_role",
                "",
                &format!(
                    "{PLATFORM_ADMIN} platform_admin  bound to {} {PLATFORM_ADMIN}",
                    provider.issuer
                )
            ),
            entry(PLATFORM_ADMIN, "grant_role", "", &judge_detail),
            entry(
                "judge@example.org",
                "bind_role",
                "",
                &format!(
                    "{judge_detail} bound to {} judge@example.org",
                    provider.issuer
                )
            ),
            entry(
                "command line",
                "grant_role",
                &trust,
                &format!("{TRUST_ADMIN} trust_admin {trust}")
            ),
            entry("someone@example.org", "revoke_role", "", &judge_detail),
        ]
    );
}
