//! Subject access and erasure (UK GDPR Articles 15 and 17) for platform admins: what this service
//! holds about an email address, and requests to erase a person with how far each has got. Only a
//! platform admin may do either; every export and request is audited.

use sea_orm::DatabaseConnection;
use uuid::Uuid;
use valued_platform::domain::EmailAddress;
use valued_platform::outbox::Outbox;

use crate::auth::{Actor, Principal};
use crate::erasure::{self, Progress};
use crate::error::{Error, Result};
use crate::subject_access;

/// How many erasure requests the list shows, newest first.
pub const RECENT: u64 = 50;

/// `email` checked and normalised, once `principal` is known to be a platform admin who may `what`.
fn platform_admin(principal: &Principal, what: &str, email: &str) -> Result<String> {
    principal.require(principal.is_platform_admin(), what)?;
    let email = EmailAddress::parse("email", email).map_err(|e| Error::Invalid(vec![e]))?;
    Ok(email.normalised())
}

/// Everything held about `email`, as the JSON text `valued export-person` files under
/// "nomination"; recorded in the audit log first.
pub async fn export(db: &DatabaseConnection, principal: &Principal, email: &str) -> Result<String> {
    let what = "export what Valued holds about a person";
    let email = platform_admin(principal, what, email)?;
    subject_access::record_export(db, &Actor::Admin(principal), &email).await?;
    let held = subject_access::export(db, &email).await?;
    Ok(held.to_string())
}

/// Requests the erasure of `email`'s person (see [`erasure::request`]); the request's id.
pub async fn request_erasure(
    db: &DatabaseConnection,
    outbox: &Outbox,
    principal: &Principal,
    email: &str,
) -> Result<Uuid> {
    let email = platform_admin(principal, "erase a person", email)?;
    erasure::request(db, outbox, &email, &Actor::Admin(principal)).await
}

/// Where the request `id` stands; an id that is no UUID is not found either.
pub async fn erasure_progress(
    db: &DatabaseConnection,
    principal: &Principal,
    id: &str,
) -> Result<Progress> {
    principal.require(principal.is_platform_admin(), "follow erasure requests")?;
    let id = Uuid::parse_str(id.trim())
        .map_err(|_| Error::NotFound(format!("erasure request {id:?}")))?;
    erasure::progress(db, id).await
}

/// The [`RECENT`] most recent requests, newest first.
pub async fn erasure_requests(
    db: &DatabaseConnection,
    principal: &Principal,
) -> Result<Vec<Progress>> {
    principal.require(principal.is_platform_admin(), "follow erasure requests")?;
    erasure::recent(db, RECENT).await
}
