//! Reads and writes of the suggestion box. Each admin action is audited in its own transaction;
//! a named suggester's status email is enqueued in the same transaction as the change.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait, TryInsertResult,
};
use uuid::Uuid;
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::SuggestionStatusChanged;

use super::domain::{Moderation, NewSuggestion, Status, StatusChange, SupporterKey, TrustCode};
use super::entities::{audit, suggestion, support};
use crate::error::{Error, Result};

pub async fn post(db: &impl ConnectionTrait, new: &NewSuggestion) -> Result<Uuid> {
    let id = Uuid::new_v4();
    suggestion::Entity::insert(suggestion::ActiveModel {
        id: ActiveValue::Set(id),
        trust_code: ActiveValue::Set(new.trust_code.as_str().to_owned()),
        text: ActiveValue::Set(new.text.clone()),
        suggester_name: ActiveValue::Set(new.suggester.as_ref().map(|s| s.name.as_str().into())),
        suggester_email: ActiveValue::Set(new.suggester.as_ref().map(|s| s.email.as_str().into())),
        moderation: ActiveValue::Set(Moderation::Waiting.slug().into()),
        status: ActiveValue::Set(Status::Received.slug().into()),
        public_reason: ActiveValue::Set(None),
        supporters: ActiveValue::Set(0),
        posted_on: ActiveValue::Set(Utc::now().date_naive()),
        decided_at: ActiveValue::Set(None),
    })
    .exec_without_returning(db)
    .await?;
    // Nothing about the suggester is logged.
    tracing::info!(trust = new.trust_code.as_str(), "suggestion posted");
    Ok(id)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<suggestion::Model> {
    suggestion::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("suggestion {id}")))
}

/// A trust's approved suggestions, newest first.
pub async fn board(db: &impl ConnectionTrait, trust: &TrustCode) -> Result<Vec<suggestion::Model>> {
    Ok(suggestion::Entity::find()
        .filter(suggestion::Column::TrustCode.eq(trust.as_str()))
        .filter(suggestion::Column::Moderation.eq(Moderation::Approved.slug()))
        .order_by_desc(suggestion::Column::PostedOn)
        .order_by_desc(suggestion::Column::Supporters)
        .all(db)
        .await?)
}

/// Every suggestion of a trust: waiting ones first, then newest first.
pub async fn of_trust(
    db: &impl ConnectionTrait,
    trust: &TrustCode,
) -> Result<Vec<suggestion::Model>> {
    let mut all = suggestion::Entity::find()
        .filter(suggestion::Column::TrustCode.eq(trust.as_str()))
        .order_by_desc(suggestion::Column::PostedOn)
        .all(db)
        .await?;
    all.sort_by_key(|s| Moderation::from_stored(&s.moderation) != Moderation::Waiting);
    Ok(all)
}

/// Counts the support of `key` for an approved suggestion, once: whether it was new, and the count.
/// The primary key (suggestion, key) decides between racing requests; the count moves in the same
/// transaction as the row it counts.
pub async fn support(
    db: &DatabaseConnection,
    suggestion_id: Uuid,
    key: &SupporterKey,
) -> Result<(bool, u64)> {
    let found = find(db, suggestion_id).await?;
    if Moderation::from_stored(&found.moderation) != Moderation::Approved {
        return Err(Error::NotFound(format!("suggestion {suggestion_id}")));
    }
    let txn = db.begin().await?;
    let inserted = support::Entity::insert(support::ActiveModel {
        suggestion_id: ActiveValue::Set(suggestion_id),
        supporter_key: ActiveValue::Set(key.as_str().to_owned()),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(&txn)
    .await?;
    let new = matches!(inserted, TryInsertResult::Inserted(rows) if rows > 0);
    if new {
        suggestion::Entity::update_many()
            .col_expr(
                suggestion::Column::Supporters,
                Expr::col(suggestion::Column::Supporters).add(1),
            )
            .filter(suggestion::Column::Id.eq(suggestion_id))
            .exec(&txn)
            .await?;
    }
    let count = find(&txn, suggestion_id).await?.supporters;
    txn.commit().await?;
    Ok((new, u64::try_from(count).unwrap_or(0)))
}

/// Approves or rejects a waiting suggestion (or changes an earlier decision), audited.
pub async fn moderate(
    db: &DatabaseConnection,
    suggestion: &suggestion::Model,
    approve: bool,
    actor: &str,
) -> Result<()> {
    let now = Utc::now();
    let decision = if approve {
        Moderation::Approved
    } else {
        Moderation::Rejected
    };
    let txn = db.begin().await?;
    suggestion::Entity::update_many()
        .col_expr(suggestion::Column::Moderation, Expr::value(decision.slug()))
        .col_expr(suggestion::Column::DecidedAt, Expr::value(now))
        .filter(suggestion::Column::Id.eq(suggestion.id))
        .exec(&txn)
        .await?;
    record(&txn, now, actor, decision.slug(), suggestion, "").await?;
    txn.commit().await?;
    tracing::info!(suggestion = %suggestion.id, decision = decision.slug(), "suggestion moderated");
    Ok(())
}

/// Sets an approved suggestion's status and public reason, audited; a named suggester is told
/// through `suggestion.status_changed.v1`, enqueued in the same transaction.
pub async fn set_status(
    db: &DatabaseConnection,
    outbox: &Outbox,
    suggestion: &suggestion::Model,
    change: &StatusChange,
    actor: &str,
) -> Result<()> {
    if Moderation::from_stored(&suggestion.moderation) != Moderation::Approved {
        return Err(Error::Precondition(
            "approve the suggestion for the board before giving it a status".into(),
        ));
    }
    let now = Utc::now();
    let txn = db.begin().await?;
    suggestion::Entity::update_many()
        .col_expr(
            suggestion::Column::Status,
            Expr::value(change.status.slug()),
        )
        .col_expr(
            suggestion::Column::PublicReason,
            Expr::value(change.public_reason.clone()),
        )
        .col_expr(suggestion::Column::DecidedAt, Expr::value(now))
        .filter(suggestion::Column::Id.eq(suggestion.id))
        .exec(&txn)
        .await?;
    record(
        &txn,
        now,
        actor,
        &format!("status:{}", change.status.slug()),
        suggestion,
        &change.public_reason,
    )
    .await?;
    if let (Some(name), Some(email)) = (&suggestion.suggester_name, &suggestion.suggester_email) {
        let event = SuggestionStatusChanged {
            suggester_email: email.clone(),
            suggester_name: name.clone(),
            trust_code: suggestion.trust_code.clone(),
            text: suggestion.text.clone(),
            status: change.status.slug().into(),
            status_label: change.status.label().into(),
            public_reason: change.public_reason.clone(),
            changed_at: Some(prost_types::Timestamp {
                seconds: now.timestamp(),
                nanos: 0,
            }),
        };
        outbox
            .enqueue(&txn, Some(&suggestion.trust_code), &event)
            .await?;
    }
    outbox.commit(txn).await?;
    tracing::info!(suggestion = %suggestion.id, status = change.status.slug(), "suggestion status set");
    Ok(())
}

/// Forgets the name and address of the suggester of every suggestion the caller's filter keeps:
/// the suggestions stay, as if anonymous.
pub fn forget_suggesters() -> sea_orm::UpdateMany<suggestion::Entity> {
    suggestion::Entity::update_many()
        .col_expr(
            suggestion::Column::SuggesterName,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            suggestion::Column::SuggesterEmail,
            Expr::value(Option::<String>::None),
        )
}

async fn record(
    txn: &impl ConnectionTrait,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    suggestion: &suggestion::Model,
    detail: &str,
) -> Result<()> {
    audit::Entity::insert(audit::ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        at: ActiveValue::Set(at),
        actor: ActiveValue::Set(actor.to_owned()),
        action: ActiveValue::Set(action.to_owned()),
        suggestion_id: ActiveValue::Set(suggestion.id),
        trust_code: ActiveValue::Set(suggestion.trust_code.clone()),
        detail: ActiveValue::Set(detail.to_owned()),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}
