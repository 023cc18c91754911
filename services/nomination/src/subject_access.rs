//! What the nomination service holds about a person (UK GDPR Article 15), found by their email
//! address: the nominations they made and those about them, their nominee record with its consent
//! history, their drafts, their admin roles and what the audit log records them doing. Every
//! export is itself recorded in the audit log ([`record_export`]).

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};
use valued_platform::db::{contains_text, same_email};

use crate::admin::audit;
use crate::auth::Actor;
use crate::db::entities::{
    audit_log, consent_record, draft, nomination, nominee, nominee_address, role_grant,
};
use crate::domain::hash_token;
use crate::error::Result;
use crate::nominees::known_by;

/// An address as the audit log names it: by its SHA-256 only, as the erasure request keeps it, since
/// the log is kept when the person is erased.
pub fn address(email: &str) -> String {
    format!("the address with SHA-256 {}", hash_token(email))
}

/// Records in the audit log that `actor` exported what Valued holds about `email` (normalised).
pub async fn record_export(
    db: &impl ConnectionTrait,
    actor: &Actor<'_>,
    email: &str,
) -> Result<()> {
    let detail = format!("everything held about {}", address(email));
    audit::record_as(db, actor.name(), "export_person", None, "", &detail).await
}

/// Everything held about `email` (normalised), as JSON rows per table.
pub async fn export(db: &impl ConnectionTrait, email: &str) -> Result<Value> {
    let made = nomination::Entity::find()
        .filter(same_email(nomination::Column::NominatorEmail, email))
        .order_by_asc(nomination::Column::SubmittedAt)
        .into_json()
        .all(db)
        .await?;
    let nominees = known_by(db, email).await?;
    let ids: Vec<uuid::Uuid> = nominees.iter().map(|n| n.id).collect();
    let about = nomination::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(nomination::Column::NomineeId.is_in(ids.clone()))
                .add(same_email(nomination::Column::NomineeEmail, email)),
        )
        .order_by_asc(nomination::Column::SubmittedAt)
        .into_json()
        .all(db)
        .await?;
    let consent = consent_record::Entity::find()
        .filter(consent_record::Column::NomineeId.is_in(ids.clone()))
        .order_by_asc(consent_record::Column::RecordedAt)
        .into_json()
        .all(db)
        .await?;
    // Their addresses as nominees, and their address wherever it was given for someone (the
    // link's secret is not theirs to see, even hashed).
    let addresses = nominee_address::Entity::find()
        .select_only()
        .columns([
            nominee_address::Column::NomineeId,
            nominee_address::Column::Email,
            nominee_address::Column::CreatedAt,
            nominee_address::Column::ExpiresAt,
            nominee_address::Column::VerifiedAt,
        ])
        .filter(
            sea_orm::Condition::any()
                .add(nominee_address::Column::NomineeId.is_in(ids.clone()))
                .add(same_email(nominee_address::Column::Email, email)),
        )
        .order_by_asc(nominee_address::Column::CreatedAt)
        .into_json()
        .all(db)
        .await?;
    let nominees = nominee::Entity::find()
        .filter(nominee::Column::Id.is_in(ids))
        .into_json()
        .all(db)
        .await?;
    let drafts = draft::Entity::find()
        .filter(contains_text(draft::Column::Answers, email))
        .into_json()
        .all(db)
        .await?;
    let roles = role_grant::Entity::find()
        .filter(same_email(role_grant::Column::Email, email))
        .into_json()
        .all(db)
        .await?;
    let acted = audit_log::Entity::find()
        .filter(same_email(audit_log::Column::Actor, email))
        .order_by_asc(audit_log::Column::At)
        .into_json()
        .all(db)
        .await?;
    Ok(json!({
        "nominations_made": made,
        "nominations_about_them": about,
        "nominee_records": nominees,
        "consent_history": consent,
        "nominee_addresses": addresses,
        "drafts": drafts,
        "admin_roles": roles,
        "audit_log_as_actor": acted,
    }))
}
