//! Sign-in by emailed link (see `valued_platform::auth::sign_in_link`): this service, which owns the
//! grants, decides who may have a link, emails it through the outbox, and signs the ID token when
//! it is used.
//!
//! - [`request`]: an address that holds an unrevoked grant, or is named a platform admin in the
//!   settings, gets a single-use link that works for `sign_in_link_minutes`; any other address is
//!   answered the same and sent nothing. Only the token's SHA-256 is stored.
//! - [`redeem`]: the link's row is deleted as it is used (so two presses of one link sign in once),
//!   and an ID token for its address is signed for `sign_in_session_hours`. The sign-in is audited.
//! - [`first_link`]: a link for a named platform admin made without email, which `valued up` prints
//!   so that a newcomer can sign in to the embedded default with nothing else installed.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait,
};
use valued_platform::auth::sign_in_link::SigningKey;
use valued_platform::domain::EmailAddress;
use valued_platform::link_token::{hash_token, new_link_token};
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::AdminSignInLinkRequested;

use super::AuthSettings;
use crate::admin::audit;
use crate::db::entities::{role_grant, sign_in_link};
use crate::error::{Error, Result};

/// Whether `email` (normalised) may sign in at all: an unrevoked grant, or named in the settings.
async fn may_sign_in(
    db: &impl ConnectionTrait,
    settings: &AuthSettings,
    email: &str,
) -> Result<bool> {
    if settings
        .platform_admins
        .iter()
        .any(|admin| admin.trim().eq_ignore_ascii_case(email))
    {
        return Ok(true);
    }
    Ok(role_grant::Entity::find()
        .filter(role_grant::Column::Email.eq(email))
        .filter(role_grant::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .is_some())
}

/// Stores a new link for `email`; its token.
async fn store(
    db: &impl ConnectionTrait,
    email: &str,
    expires_at: DateTime<Utc>,
) -> Result<String> {
    let (token, hash) = new_link_token();
    sign_in_link::Entity::insert(sign_in_link::ActiveModel {
        token_hash: ActiveValue::Set(hash),
        email: ActiveValue::Set(email.to_owned()),
        expires_at: ActiveValue::Set(expires_at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(token)
}

fn lifetime(settings: &AuthSettings) -> chrono::Duration {
    chrono::Duration::minutes(i64::from(settings.sign_in_link_minutes.max(1)))
}

/// Emails `email` a sign-in link if it may sign in; nothing otherwise, and the same answer.
pub async fn request(
    db: &DatabaseConnection,
    outbox: &Outbox,
    settings: &AuthSettings,
    email: &EmailAddress,
) -> Result<()> {
    if settings.signing_key.is_none() {
        return Err(Error::Closed(
            "sign-in by email is not configured on this deployment".into(),
        ));
    }
    let email = email.normalised();
    if !may_sign_in(db, settings, &email).await? {
        tracing::info!("a sign-in link was asked for an address that holds no role");
        return Ok(());
    }
    let expires_at = Utc::now() + lifetime(settings);
    let txn = db.begin().await?;
    let link_token = store(&txn, &email, expires_at).await?;
    let event = AdminSignInLinkRequested {
        email: email.clone(),
        link_token,
        expires_at: Some(prost_types::Timestamp {
            seconds: expires_at.timestamp(),
            nanos: 0,
        }),
    };
    outbox.enqueue(&txn, None, &event).await?;
    outbox.commit(txn).await?;
    Ok(())
}

/// A link for `email` made without email (for `valued up`'s first platform admin); refused unless
/// the address may sign in.
pub async fn first_link(
    db: &DatabaseConnection,
    settings: &AuthSettings,
    email: &EmailAddress,
) -> Result<String> {
    let email = email.normalised();
    if !may_sign_in(db, settings, &email).await? {
        return Err(Error::Forbidden(format!("sign in as {email}")));
    }
    store(db, &email, Utc::now() + lifetime(settings)).await
}

/// Uses the link `token` once: an ID token for its address. NOT_FOUND when it is unknown, used,
/// expired, or its address has since lost every role.
pub async fn redeem(
    db: &DatabaseConnection,
    settings: &AuthSettings,
    key: &SigningKey,
    token: &str,
) -> Result<String> {
    let not_found = || Error::NotFound("sign-in link (it may have been used or expired)".into());
    let txn = db.begin().await?;
    let Some(link) = sign_in_link::Entity::find_by_id(hash_token(token))
        .one(&txn)
        .await?
    else {
        return Err(not_found());
    };
    // Deleted first: of two presses at once, only the one whose delete removed the row goes on.
    let deleted = sign_in_link::Entity::delete_by_id(link.token_hash.clone())
        .exec(&txn)
        .await?;
    if deleted.rows_affected != 1
        || link.expires_at <= Utc::now()
        || !may_sign_in(&txn, settings, &link.email).await?
    {
        txn.commit().await?;
        return Err(not_found());
    }
    audit::record_as(&txn, &link.email, "signed in by emailed link", None, "", "").await?;
    txn.commit().await?;
    let session =
        std::time::Duration::from_secs(u64::from(settings.sign_in_session_hours.max(1)) * 3600);
    key.sign(&link.email, &settings.audience, session)
        .map_err(|e| Error::Database(sea_orm::DbErr::Custom(e.to_string())))
}

/// Forgets links that expired unused (the upkeep round).
pub async fn forget_expired(db: &impl ConnectionTrait) -> Result<u64> {
    Ok(sign_in_link::Entity::delete_many()
        .filter(sign_in_link::Column::ExpiresAt.lte(Utc::now()))
        .exec(db)
        .await?
        .rows_affected)
}
