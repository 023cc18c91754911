//! The audit log: one entry for every admin action, in the action's transaction; read per trust.

use chrono::Utc;
use sea_orm::{ActiveValue, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::auth::Principal;
use crate::db::entities::{audit_log, trust};
use crate::error::{Error, Result};

/// Writes one audit entry in the caller's transaction.
pub async fn record(
    txn: &impl ConnectionTrait,
    principal: &Principal,
    action: &str,
    nomination_id: Option<Uuid>,
    trust_code: &str,
    detail: &str,
) -> Result<()> {
    record_as(
        txn,
        &principal.email,
        action,
        nomination_id,
        trust_code,
        detail,
    )
    .await
}

/// As [`record`], for an actor named otherwise: someone signing in, the command line, the settings.
pub async fn record_as(
    txn: &impl ConnectionTrait,
    actor: &str,
    action: &str,
    nomination_id: Option<Uuid>,
    trust_code: &str,
    detail: &str,
) -> Result<()> {
    audit_log::Entity::insert(audit_log::ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        at: ActiveValue::Set(Utc::now()),
        actor: ActiveValue::Set(actor.to_owned()),
        action: ActiveValue::Set(action.to_owned()),
        nomination_id: ActiveValue::Set(nomination_id),
        trust_code: ActiveValue::Set(trust_code.to_owned()),
        detail: ActiveValue::Set(detail.to_owned()),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// One trust's audit log, newest first.
pub async fn audit_log(
    db: &impl ConnectionTrait,
    principal: &Principal,
    trust_code: &str,
) -> Result<Vec<audit_log::Model>> {
    let trust = trust::Entity::find_by_id(trust_code.trim().to_uppercase())
        .one(db)
        .await?;
    // An unknown trust is refused like another's, so that its existence is not given away; a
    // platform admin, who may read every trust's, is told it is not there.
    if trust.is_none() && principal.is_platform_admin() {
        return Err(Error::NotFound(format!("trust {trust_code}")));
    }
    let allowed = trust
        .as_ref()
        .is_some_and(|t| principal.administers_trust(t));
    principal.require(allowed, &format!("read the audit log of {trust_code}"))?;
    Ok(audit_log::Entity::find()
        .filter(audit_log::Column::TrustCode.eq(trust_code.trim().to_uppercase()))
        .order_by_desc(audit_log::Column::At)
        .all(db)
        .await?)
}
