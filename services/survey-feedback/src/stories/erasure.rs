//! A person's stories, erased on request: each one told from their email address loses its text,
//! role, phone number and email and leaves the campaign page; the row and its audit trail stay,
//! with nothing personal, so that moderators' past decisions remain accountable. Subject access
//! finds the stories told from an address, without their phone numbers.

use async_trait::async_trait;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::json;
use valued_platform::erasure::{Erase, Person};

use super::entities::{story, story_audit};
use super::{forget, status};

pub struct Stories;

#[async_trait]
impl Erase for Stories {
    async fn erase(
        &self,
        txn: &DatabaseTransaction,
        person: &Person,
    ) -> Result<u64, sea_orm::DbErr> {
        let theirs = story::Entity::find()
            .filter(story::Column::Email.eq(person.email.as_str()))
            .all(txn)
            .await?;
        let mut erased = 0;
        for found in theirs {
            if found.status == status::DRAFT {
                story::Entity::delete_by_id(found.id).exec(txn).await?;
            } else {
                forget(txn, found, status::WITHDRAWN).await?;
            }
            erased += 1;
        }
        Ok(erased)
    }
}

/// What subject access finds about `email` (normalised): each story told from it, its consents
/// and what was done to it (the audit trail), and whether a phone number is held. The number
/// itself is never exported: it is sealed, and shown only to an admin who calls the teller.
pub async fn export(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Vec<serde_json::Value>, sea_orm::DbErr> {
    let theirs = story::Entity::find()
        .filter(story::Column::Email.eq(email))
        .order_by_asc(story::Column::UpdatedAt)
        .all(db)
        .await?;
    let mut told = Vec::with_capacity(theirs.len());
    for s in theirs {
        let trail: Vec<serde_json::Value> = story_audit::Entity::find()
            .filter(story_audit::Column::StoryId.eq(s.id))
            .order_by_asc(story_audit::Column::At)
            .all(db)
            .await?
            .into_iter()
            .map(|a| json!({ "action": a.action, "at": a.at, "reason": a.reason }))
            .collect();
        told.push(json!({
            "campaign": s.campaign_name,
            "status": s.status,
            "works_in_nhs": s.works_in_nhs,
            "nhs_role": s.nhs_role,
            "story": s.story,
            "consent_publish": s.consent_publish,
            "consent_press": s.consent_press,
            "consent_mp": s.consent_mp,
            "consent_contact": s.consent_contact,
            "phone_number_held": s.phone_sealed.is_some(),
            "email": s.email,
            "updated_at": s.updated_at,
            "submitted_at": s.submitted_at,
            "moderated_at": s.moderated_at,
            "audit": trail,
        }));
    }
    Ok(told)
}
