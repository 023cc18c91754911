//! A nominee's consent, asked for through a link bound to one address of theirs (the work address a
//! nominator gave, or one they gave themselves through their claim link) and changeable through it.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, TransactionTrait,
};
use uuid::Uuid;
use valued_platform::db::same_email;
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::ConsentChanged;

use crate::db::entities::{campaign, consent_record, nomination, nominee, nominee_address};
use crate::domain::{Consent, hash_token};
use crate::error::{Error, Result};
use crate::nominees::thank_through_manager;

pub struct ConsentRequest {
    pub nominee: nominee::Model,
    pub campaign: campaign::Model,
    pub confirmed_nominations: u64,
    /// The address the link was sent to.
    pub address: nominee_address::Model,
    /// The answers last given through this address's link, if it has been answered.
    pub given: Option<Consent>,
}

/// The address whose consent link `token` is: not disowned, and answered or not yet expired.
async fn address_of(db: &impl ConnectionTrait, token: &str) -> Result<nominee_address::Model> {
    nominee_address::Entity::find()
        .filter(nominee_address::Column::TokenHash.eq(hash_token(token)))
        .filter(nominee_address::working(Utc::now()))
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound("consent link".into()))
}

pub async fn find(db: &impl ConnectionTrait, token: &str) -> Result<ConsentRequest> {
    let not_found = || Error::NotFound("consent link".into());
    let address = address_of(db, token).await?;
    let nominee = nominee::Entity::find_by_id(address.nominee_id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let campaign = campaign::Entity::find_by_id(nominee.campaign_id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let confirmed_nominations = nomination::Entity::find()
        .filter(nomination::Column::NomineeId.eq(nominee.id))
        .filter(nomination::Column::ConfirmedAt.is_not_null())
        .count(db)
        .await?;
    let given = consent_record::Entity::find()
        .filter(consent_record::Column::NomineeId.eq(nominee.id))
        .filter(consent_record::Column::Address.eq(address.email.clone()))
        .order_by_desc(consent_record::Column::RecordedAt)
        .order_by_desc(consent_record::Column::Id)
        .one(db)
        .await?
        .map(|r| Consent {
            listed_publicly: r.listed_publicly,
            story_published: r.story_published,
            shared_with_mp: r.shared_with_mp,
        });
    Ok(ConsentRequest {
        nominee,
        campaign,
        confirmed_nominations,
        address,
        given,
    })
}

/// Records the nominee's answers given through the link `token`: answering verifies the link's
/// address (whoever answers holds that mailbox), the answers become the nominee's current consent
/// (the latest verified answer replaces an earlier one, from whichever of their addresses), are kept
/// as a dated entry in their consent history naming that address, and are announced
/// (`nominee.consent_changed.v1`), all in one transaction. They may change them later through the
/// same link; giving the same answers again through an answered link changes nothing.
pub async fn record(
    db: &impl TransactionTrait<Transaction = DatabaseTransaction>,
    outbox: &Outbox,
    token: &str,
    consent: Consent,
) -> Result<()> {
    let not_found = || Error::NotFound("consent link".into());
    let now = Utc::now();
    let txn = db.begin().await?;
    let address = address_of(&txn, token).await?;
    // Conditional on the token, so that a link disowned meanwhile records nothing.
    let verified = nominee_address::Entity::update_many()
        .col_expr(
            nominee_address::Column::VerifiedAt,
            Expr::value(address.verified_at.unwrap_or(now)),
        )
        .filter(nominee_address::Column::NomineeId.eq(address.nominee_id))
        .filter(nominee_address::Column::Email.eq(address.email.clone()))
        .filter(nominee_address::Column::TokenHash.eq(address.token_hash.clone()))
        .exec(&txn)
        .await?;
    if verified.rows_affected == 0 {
        return Err(not_found());
    }
    let nominee = nominee::Entity::find_by_id(address.nominee_id)
        .one(&txn)
        .await?
        .ok_or_else(not_found)?;
    if address.verified_at.is_some() && nominee.consent() == consent {
        // The same answers again (a second press, say): nothing to change.
        return Ok(());
    }
    let mut current = nominee::Entity::update_many()
        .col_expr(
            nominee::Column::ListedPublicly,
            Expr::value(consent.listed_publicly),
        )
        .col_expr(
            nominee::Column::StoryPublished,
            Expr::value(consent.story_published),
        )
        .col_expr(
            nominee::Column::SharedWithMp,
            Expr::value(consent.shared_with_mp),
        )
        .col_expr(nominee::Column::ConsentAnsweredAt, Expr::value(now));
    if nominee.email.trim().is_empty() {
        // Where to tell them if they become a finalist: an address they showed is theirs.
        current = current.col_expr(nominee::Column::Email, Expr::value(address.email.clone()));
    }
    current
        .filter(nominee::Column::Id.eq(nominee.id))
        .exec(&txn)
        .await?;
    consent_record::Entity::insert(consent_record::ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        nominee_id: ActiveValue::Set(nominee.id),
        listed_publicly: ActiveValue::Set(consent.listed_publicly),
        story_published: ActiveValue::Set(consent.story_published),
        shared_with_mp: ActiveValue::Set(consent.shared_with_mp),
        recorded_at: ActiveValue::Set(now),
        address: ActiveValue::Set(Some(address.email)),
    })
    .exec_without_returning(&txn)
    .await?;
    let changed = ConsentChanged {
        nominee_id: nominee.id.to_string(),
        campaign_id: nominee.campaign_id.to_string(),
        listed_publicly: consent.listed_publicly,
        story_published: consent.story_published,
        shared_with_mp: consent.shared_with_mp,
        changed_at: Some(prost_types::Timestamp {
            seconds: now.timestamp(),
            nanos: 0,
        }),
    };
    outbox
        .enqueue(&txn, Some(&nominee.trust_code), &changed)
        .await?;
    outbox.commit(txn).await?;
    Ok(())
}

/// "This is not me": whoever holds the link's mailbox is not the nominee. The link stops working
/// and no answer is recorded; the address is no longer the one a finalist notice would go to. When
/// that leaves the nominee with no link that works, their thank-you goes through their trust's
/// contact instead, with a claim link, as when no address was given. A link already answered
/// cannot be disowned: its answers came from the mailbox it was sent to.
pub async fn disown(
    db: &impl TransactionTrait<Transaction = DatabaseTransaction>,
    outbox: &Outbox,
    token: &str,
) -> Result<()> {
    let txn = db.begin().await?;
    let address = address_of(&txn, token).await?;
    if address.verified_at.is_some() {
        return Err(Error::Closed(
            "This link has been used to answer already, so it cannot be turned off".into(),
        ));
    }
    let deleted = nominee_address::Entity::delete_many()
        .filter(nominee_address::Column::NomineeId.eq(address.nominee_id))
        .filter(nominee_address::Column::Email.eq(address.email.clone()))
        .filter(nominee_address::Column::TokenHash.eq(address.token_hash.clone()))
        .filter(nominee_address::Column::VerifiedAt.is_null())
        .exec(&txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(Error::NotFound("consent link".into()));
    }
    nominee::Entity::update_many()
        .col_expr(nominee::Column::Email, Expr::value(""))
        .filter(nominee::Column::Id.eq(address.nominee_id))
        .filter(same_email(nominee::Column::Email, &address.email))
        .exec(&txn)
        .await?;
    let now = Utc::now();
    let links_left = nominee_address::Entity::find()
        .filter(nominee_address::Column::NomineeId.eq(address.nominee_id))
        .filter(nominee_address::working(now))
        .count(&txn)
        .await?;
    let nominee = nominee::Entity::find_by_id(address.nominee_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound("consent link".into()))?;
    let claimable = nominee.claim_expires_at.is_some_and(|at| at > now);
    if links_left == 0 && !claimable {
        thank_through_manager(&txn, outbox, &nominee).await?;
    }
    outbox.commit(txn).await?;
    tracing::info!(nominee_id = %address.nominee_id, "consent link disowned");
    Ok(())
}
