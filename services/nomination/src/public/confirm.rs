//! The nominator confirms their email: the nomination counts, the trust hears about it, and the
//! nominee is thanked privately and asked for consent.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait};
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::NominationSubmitted;

use crate::db::entities::{campaign, category, nomination, trust};
use crate::domain::{Band, Relationship, StaffGroup, Status, StoryText, hash_token};
use crate::error::{Error, Result};
use crate::nominees::thank_nominee;

pub struct Confirmed {
    pub nomination: nomination::Model,
    pub campaign: campaign::Model,
    /// False when the link had been used already: nothing changed.
    pub newly: bool,
}

/// Confirms the nomination the token belongs to. Following the link twice changes nothing.
pub async fn confirm(db: &DatabaseConnection, outbox: &Outbox, token: &str) -> Result<Confirmed> {
    let not_found = || Error::NotFound("confirmation link".into());
    let found = nomination::Entity::find()
        .filter(nomination::Column::ConfirmTokenHash.eq(hash_token(token)))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let campaign = campaign::Entity::find_by_id(found.campaign_id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let txn = db.begin().await?;
    // Conditional on the status, so two clicks at once confirm once.
    let updated = nomination::Entity::update_many()
        .col_expr(
            nomination::Column::Status,
            Expr::value(Status::Pending.slug()),
        )
        .col_expr(nomination::Column::ConfirmedAt, Expr::value(Utc::now()))
        .filter(nomination::Column::Id.eq(found.id))
        .filter(nomination::Column::Status.eq(Status::Unconfirmed.slug()))
        .exec(&txn)
        .await?;
    let newly = updated.rows_affected == 1;
    if newly {
        let trust = trust::Entity::find_by_id(found.trust_code.clone())
            .one(&txn)
            .await?
            .ok_or_else(not_found)?;
        let category = category::Entity::find_by_id(found.category_id)
            .one(&txn)
            .await?
            .ok_or_else(not_found)?;
        let event = submitted_event(&found, &campaign, &trust, &category);
        outbox.enqueue(&txn, Some(&trust.code), &event).await?;
        thank_nominee(&txn, outbox, &found, &campaign, &trust).await?;
    }
    outbox.commit(txn).await?;
    if newly {
        tracing::info!(nomination_id = %found.id, "nomination confirmed");
    }
    Ok(Confirmed {
        nomination: found,
        campaign,
        newly,
    })
}

fn submitted_event(
    n: &nomination::Model,
    campaign: &campaign::Model,
    trust: &trust::Model,
    category: &category::Model,
) -> NominationSubmitted {
    let label = |slug: &str, parse: fn(&str) -> Option<&'static str>| {
        parse(slug).unwrap_or_default().to_owned()
    };
    NominationSubmitted {
        nomination_id: n.id.to_string(),
        campaign_id: campaign.id.to_string(),
        campaign_name: campaign.name.clone(),
        trust_code: trust.code.clone(),
        trust_name: trust.name.clone(),
        trust_admin_email: trust.admin_email.clone(),
        category_id: category.id.to_string(),
        category_name: category.name.clone(),
        nominee_name: n.display_name(),
        nominee_job_title: n.nominee_job_title.clone(),
        staff_group: label(&n.staff_group, |s| {
            StaffGroup::parse(s).ok().map(StaffGroup::label)
        }),
        nominator_name: n.nominator_name.clone(),
        nominator_email: n.nominator_email.clone(),
        relationship: label(&n.relationship, |s| {
            Relationship::parse(s).ok().map(Relationship::label)
        }),
        story_excerpt: StoryText::excerpt_of(&n.story, StoryText::EXCERPT_WORDS),
        submitted_at: Some(prost_types::Timestamp {
            seconds: n.submitted_at.timestamp(),
            nanos: 0,
        }),
        nominee_id: n.nominee_id.map(|id| id.to_string()).unwrap_or_default(),
        band: label(&n.band, |s| {
            Band::parse_optional(s).ok().flatten().map(Band::label)
        }),
    }
}
