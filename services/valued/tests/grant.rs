//! `valued grant`: how a deployment gives its first trust and region admins their roles.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sea_orm::EntityTrait;
use valued::Settings;
use valued_nomination::db::entities::role_grant;

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

    let db = valued_platform::db::connect(
        &settings.nomination.settings.database,
        &settings.data_dir,
        valued_nomination::NAME,
    )
    .await
    .unwrap();
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
