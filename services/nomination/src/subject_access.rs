//! What the nomination service holds about a person (UK GDPR Article 15), found by their email
//! address: the nominations they made and those about them, their nominee record with its consent
//! history, their drafts, their admin roles and what the audit log records them doing.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use valued_platform::db::{contains_text, same_email};

use crate::db::entities::{audit_log, consent_record, draft, nomination, nominee, role_grant};
use crate::error::Result;

/// Everything held about `email` (normalised), as JSON rows per table.
pub async fn export(db: &impl ConnectionTrait, email: &str) -> Result<Value> {
    let made = nomination::Entity::find()
        .filter(same_email(nomination::Column::NominatorEmail, email))
        .order_by_asc(nomination::Column::SubmittedAt)
        .into_json()
        .all(db)
        .await?;
    let nominees = nominee::Entity::find()
        .filter(same_email(nominee::Column::Email, email))
        .all(db)
        .await?;
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
        "drafts": drafts,
        "admin_roles": roles,
        "audit_log_as_actor": acted,
    }))
}
