//! The nominator confirms their email: the nomination counts, the trust hears about it, and the
//! nominee is thanked privately and asked for consent.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    TransactionTrait,
};
use valued_platform::domain::EmailAddress;
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::{NominationSubmitted, NomineeThanked};

use super::entities::{campaign, category, nomination, nominee, trust};
use super::queries::EXCERPT_WORDS;
use crate::domain::{
    Band, Relationship, StaffGroup, Status, StoryText, hash_token, new_link_token,
};
use crate::error::{Error, Result};

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

/// Thanks the nominee once (however many colleagues nominate them) and asks for their consent: at
/// their work address when a nominator gave one, else through the trust's contact as their manager.
pub(crate) async fn thank_nominee(
    txn: &DatabaseTransaction,
    outbox: &Outbox,
    nomination: &nomination::Model,
    campaign: &campaign::Model,
    trust: &trust::Model,
) -> Result<()> {
    let Some(nominee_id) = nomination.nominee_id else {
        // "I don't know their name": thanked once their manager identifies them.
        return Ok(());
    };
    let (token, hash) = new_link_token();
    let claimed = nominee::Entity::update_many()
        .col_expr(nominee::Column::ThankedAt, Expr::value(Utc::now()))
        .col_expr(nominee::Column::ConsentTokenHash, Expr::value(hash))
        .col_expr(
            nominee::Column::Email,
            Expr::value(nomination.nominee_email.clone()),
        )
        .filter(nominee::Column::Id.eq(nominee_id))
        .filter(nominee::Column::ThankedAt.is_null())
        .exec(txn)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(());
    }
    let nominee = nominee::Entity::find_by_id(nominee_id)
        .one(txn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("nominee {nominee_id}")))?;
    let confirmed = nomination::Entity::find()
        .filter(nomination::Column::NomineeId.eq(nominee_id))
        .filter(nomination::Column::ConfirmedAt.is_not_null())
        .count(txn)
        .await?;
    let work_address = EmailAddress::parse("nominee_email", &nomination.nominee_email).ok();
    let event = NomineeThanked {
        nominee_id: nominee_id.to_string(),
        nomination_id: nomination.id.to_string(),
        campaign_name: campaign.name.clone(),
        trust_name: trust.name.clone(),
        nominee_name: nominee.name,
        via_manager: work_address.is_none(),
        recipient_email: work_address
            .map(|a| a.to_string())
            .unwrap_or_else(|| trust.admin_email.clone()),
        consent_token: token,
        nomination_count: confirmed,
    };
    outbox.enqueue(txn, Some(&trust.code), &event).await?;
    Ok(())
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
        nominee_name: display_name(n),
        nominee_job_title: n.nominee_job_title.clone(),
        staff_group: label(&n.staff_group, |s| {
            StaffGroup::parse(s).ok().map(StaffGroup::label)
        }),
        nominator_name: n.nominator_name.clone(),
        nominator_email: n.nominator_email.clone(),
        relationship: label(&n.relationship, |s| {
            Relationship::parse(s).ok().map(Relationship::label)
        }),
        story_excerpt: StoryText::excerpt_of(&n.story, EXCERPT_WORDS),
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

/// The nominee as admins see them: the name, or that it is not known yet.
pub fn display_name(n: &nomination::Model) -> String {
    if n.nominee_name.is_empty() {
        "Name not known".to_owned()
    } else {
        n.nominee_name.clone()
    }
}
