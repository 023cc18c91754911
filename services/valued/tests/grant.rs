//! `valued grant`: how a deployment gives its first trust and region admins their roles, and
//! `valued grant --revoke` how it takes them away.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sea_orm::{EntityTrait, QueryOrder};
use valued::Settings;
use valued_nomination::db::entities::{audit_log, role_grant};

async fn nomination_db(settings: &Settings) -> sea_orm::DatabaseConnection {
    valued_platform::db::connect(
        &settings.nomination.settings.database,
        &settings.data_dir,
        valued_nomination::NAME,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn roles_are_stored_with_their_scope_and_bad_ones_are_refused() {
    let data_dir =
        std::env::temp_dir().join(format!("valued-grant-{}", uuid::Uuid::new_v4().simple()));
    let settings = Settings::embedded_on_free_ports(&data_dir).unwrap();

    valued::grant_role(&settings, "Awards@RJ1.example.org", "trust_admin", "rj1")
        .await
        .unwrap();
    valued::grant_role(&settings, "lead@example.org", "platform_admin", "")
        .await
        .unwrap();
    // Granting again changes nothing.
    valued::grant_role(&settings, "Awards@RJ1.example.org", "trust_admin", "RJ1")
        .await
        .unwrap();

    for (email, role, scope, why) in [
        (
            "a@example.org",
            "trust_admin",
            "",
            "give the region or trust code",
        ),
        ("a@example.org", "platform_admin", "RJ1", "no scope"),
        ("a@example.org", "judge", "", "campaign id"),
        ("a@example.org", "owner", "", "unknown role"),
        ("not an email", "trust_admin", "RJ1", "email address"),
    ] {
        let error = valued::grant_role(&settings, email, role, scope)
            .await
            .unwrap_err();
        assert!(error.to_string().contains(why), "{error}");
    }

    let db = nomination_db(&settings).await;
    let mut grants: Vec<(String, String, String)> = role_grant::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|g| (g.email, g.role, g.scope))
        .collect();
    grants.sort();
    assert_eq!(
        grants,
        [
            (
                "awards@rj1.example.org".into(),
                "trust_admin".into(),
                "RJ1".into()
            ),
            (
                "lead@example.org".into(),
                "platform_admin".into(),
                String::new()
            ),
        ]
    );
}

#[tokio::test]
async fn a_revoked_role_is_recorded_with_who_and_when_and_every_change_is_audited() {
    let data_dir =
        std::env::temp_dir().join(format!("valued-revoke-{}", uuid::Uuid::new_v4().simple()));
    let settings = Settings::embedded_on_free_ports(&data_dir).unwrap();
    valued::grant_role(&settings, "awards@rj1.example.org", "trust_admin", "RJ1")
        .await
        .unwrap();

    valued::revoke_role(&settings, "Awards@RJ1.example.org", "trust_admin", "rj1")
        .await
        .unwrap();
    // What is not held (any more) cannot be revoked; bad input is refused as when granting.
    for (email, role, scope, why) in [
        ("awards@rj1.example.org", "trust_admin", "RJ1", "not found"),
        ("awards@rj1.example.org", "trust_admin", "RRK", "not found"),
        (
            "awards@rj1.example.org",
            "trust_admin",
            "",
            "give the region or trust code",
        ),
        ("awards@rj1.example.org", "owner", "", "unknown role"),
    ] {
        let error = valued::revoke_role(&settings, email, role, scope)
            .await
            .unwrap_err();
        assert!(error.to_string().contains(why), "{error}");
    }

    let db = nomination_db(&settings).await;
    let stored = role_grant::Entity::find().all(&db).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].revoked_at.is_some());
    assert_eq!(stored[0].revoked_by.as_deref(), Some("command line"));

    // Granting it again invites afresh.
    valued::grant_role(&settings, "awards@rj1.example.org", "trust_admin", "RJ1")
        .await
        .unwrap();
    let stored = role_grant::Entity::find().all(&db).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].revoked_at, stored[0].revoked_by.as_deref()),
        (None, None)
    );

    let audit: Vec<(String, String, String, String)> = audit_log::Entity::find()
        .order_by_asc(audit_log::Column::At)
        .order_by_asc(audit_log::Column::Id)
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.actor, e.action, e.trust_code, e.detail))
        .collect();
    let entry = |action: &str| {
        (
            "command line".to_owned(),
            action.to_owned(),
            "RJ1".to_owned(),
            "awards@rj1.example.org trust_admin RJ1".to_owned(),
        )
    };
    assert_eq!(
        audit,
        [
            entry("grant_role"),
            entry("revoke_role"),
            entry("grant_role")
        ]
    );
}
