//! Admin roles in a service that keeps a copy of the grants (voting, survey-feedback, notification):
//! announced on its bus as the nomination service announces them.

use std::time::Duration;

use anyhow::Context;
use sea_orm::{DatabaseConnection, EntityTrait};
use valued_platform::auth::roles::entity as role_copy;
use valued_platform::{Envelope, EventBus};
use valued_proto::events::v1::RoleChanged;

use crate::oidc::OidcProvider;
use crate::platform::TestPlatform;

/// Announces on the test platform's bus, as the nomination service would, that `email` (an account
/// of `provider`) is a platform admin, waits until the service's copy in `db` has it, and returns an
/// ID token for that account.
pub async fn platform_admin(
    platform: &TestPlatform,
    db: &DatabaseConnection,
    provider: &OidcProvider,
    email: &str,
) -> anyhow::Result<String> {
    admin(platform, db, provider, email, ("platform_admin", "")).await
}

/// As [`platform_admin`], for the role `(role, scope)`: `("trust_admin", "RJ1")`,
/// `("region_admin", "Y56")`.
pub async fn admin(
    platform: &TestPlatform,
    db: &DatabaseConnection,
    provider: &OidcProvider,
    email: &str,
    (role, scope): (&str, &str),
) -> anyhow::Result<String> {
    let token = provider.verified_id_token(email).await?;
    platform
        .publish_as_peer(&[grant(provider, email, role, scope)])
        .await?;
    copied_grant(db, email, role, scope).await?;
    Ok(token)
}

/// Waits (up to 5 s) until the service's copy in `db` holds the platform admin grant to `email`.
pub async fn copied(db: &DatabaseConnection, email: &str) -> anyhow::Result<()> {
    copied_grant(db, email, "platform_admin", "").await
}

/// Waits (up to 5 s) until the service's copy in `db` holds the grant of `role` over `scope` to
/// `email`.
pub async fn copied_grant(
    db: &DatabaseConnection,
    email: &str,
    role: &str,
    scope: &str,
) -> anyhow::Result<()> {
    let key = (email.to_owned(), role.to_owned(), scope.to_owned());
    for _ in 0..200 {
        if role_copy::Entity::find_by_id(key.clone())
            .one(db)
            .await?
            .is_some()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    anyhow::bail!("the service did not copy the {role} grant to {email} within 5 s")
}

/// Announces on `bus` that `email` (an account of `provider`) is a platform admin, as the
/// nomination service would, without waiting for the service's copy; returns an ID token for it.
pub async fn announce_platform_admin(
    bus: &dyn EventBus,
    provider: &OidcProvider,
    email: &str,
) -> anyhow::Result<String> {
    let token = provider.verified_id_token(email).await?;
    let results = bus.publish(&[platform_admin_grant(provider, email)]).await;
    for result in results {
        result.context("publishing role.changed.v1")?;
    }
    Ok(token)
}

/// `role.changed.v1` binding a platform admin grant to `email`'s account at `provider`.
pub fn platform_admin_grant(provider: &OidcProvider, email: &str) -> Envelope {
    grant(provider, email, "platform_admin", "")
}

/// `role.changed.v1` binding `role` over `scope` to `email`'s account at `provider`.
pub fn grant(provider: &OidcProvider, email: &str, role: &str, scope: &str) -> Envelope {
    let change = RoleChanged {
        email: email.to_owned(),
        role: role.to_owned(),
        scope: scope.to_owned(),
        issuer: provider.issuer.clone(),
        subject: email.to_owned(),
        revoked: false,
        changed_at: None,
        version: 1,
    };
    Envelope::new("nomination", None, &change)
}

/// `message` carrying `token` as its bearer, as the gateway sends a signed-in admin's calls.
pub fn signed<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = format!("Bearer {token}").parse() {
        request.metadata_mut().insert("authorization", value);
    }
    request
}
