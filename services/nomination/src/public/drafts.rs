//! Drafts: a half-finished nomination kept so its nominator can come back to it from an emailed link.

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait,
};
use uuid::Uuid;
use valued_platform::domain::{EmailAddress, FieldError};
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::DraftSaved;

use crate::db::entities::{campaign, draft};
use crate::domain::{NominationRequest, hash_token, new_link_token};
use crate::error::{Error, Result};

/// A saved draft: the secret to reach it again, and when it goes.
pub struct SavedDraft {
    pub token: String,
    pub expires_at: chrono::DateTime<Utc>,
}

/// The answers so far, for a new draft or the one `token` reaches.
pub struct SaveDraft {
    pub token: Option<String>,
    pub answers: NominationRequest,
    /// Email the nominator a link to the draft.
    pub email_link: bool,
}

/// Creates or updates a draft. With `email_link`, the nominator is emailed a link to it.
pub async fn save(
    db: &DatabaseConnection,
    outbox: &Outbox,
    save: &SaveDraft,
    lifetime: Duration,
) -> Result<SavedDraft> {
    let answers = &save.answers;
    let campaign = match answers.campaign_id.trim().parse::<Uuid>() {
        Ok(id) => campaign::Entity::find_by_id(id).one(db).await?,
        Err(_) => None,
    }
    .ok_or_else(|| {
        Error::Invalid(vec![FieldError::new(
            "campaign_id",
            "This campaign does not exist",
        )])
    })?;
    let email = if save.email_link {
        Some(
            EmailAddress::parse("nominator_email", &answers.nominator_email)
                .map_err(|e| Error::Invalid(vec![e]))?,
        )
    } else {
        None
    };
    let json = serde_json::to_string(answers)
        .map_err(|e| Error::Database(sea_orm::DbErr::Custom(e.to_string())))?;
    let now = Utc::now();
    let expires_at = now + lifetime;

    let txn = db.begin().await?;
    draft::Entity::delete_many()
        .filter(draft::Column::ExpiresAt.lt(now))
        .exec(&txn)
        .await?;
    let existing = match &save.token {
        None => None,
        Some(token) => {
            let token = token.trim();
            find(&txn, token).await?.map(|d| (token.to_owned(), d))
        }
    };
    let token = match existing {
        Some((token, found)) => {
            draft::Entity::update(draft::ActiveModel {
                id: ActiveValue::Unchanged(found.id),
                answers: ActiveValue::Set(json),
                campaign_id: ActiveValue::Set(campaign.id),
                updated_at: ActiveValue::Set(now),
                expires_at: ActiveValue::Set(expires_at),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
            token
        }
        None => {
            let (token, hash) = new_link_token();
            draft::Entity::insert(draft::ActiveModel {
                id: ActiveValue::Set(Uuid::now_v7()),
                token_hash: ActiveValue::Set(hash),
                campaign_id: ActiveValue::Set(campaign.id),
                answers: ActiveValue::Set(json),
                updated_at: ActiveValue::Set(now),
                expires_at: ActiveValue::Set(expires_at),
            })
            .exec_without_returning(&txn)
            .await?;
            token
        }
    };
    if let Some(email) = email {
        let event = DraftSaved {
            draft_id: Uuid::now_v7().to_string(),
            campaign_name: campaign.name.clone(),
            campaign_slug: campaign.slug.clone(),
            nominator_email: email.to_string(),
            resume_token: token.clone(),
            expires_at: Some(prost_types::Timestamp {
                seconds: expires_at.timestamp(),
                nanos: 0,
            }),
        };
        outbox.enqueue(&txn, None, &event).await?;
    }
    outbox.commit(txn).await?;
    Ok(SavedDraft { token, expires_at })
}

/// A draft's answers and its campaign, while it has not expired.
pub async fn load(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<(NominationRequest, campaign::Model, chrono::DateTime<Utc>)> {
    let not_found = || Error::NotFound("draft (the link may have expired)".into());
    let found = find(db, token).await?.ok_or_else(not_found)?;
    let answers: NominationRequest = serde_json::from_str(&found.answers)
        .map_err(|e| Error::Database(sea_orm::DbErr::Custom(format!("draft answers: {e}"))))?;
    let campaign = campaign::Entity::find_by_id(found.campaign_id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    Ok((answers, campaign, found.expires_at))
}

/// Deletes the draft a submission completes (nothing when it had gone already).
pub async fn delete(db: &impl ConnectionTrait, token: &str) -> Result<()> {
    draft::Entity::delete_many()
        .filter(draft::Column::TokenHash.eq(hash_token(token)))
        .exec(db)
        .await?;
    Ok(())
}

async fn find(db: &impl ConnectionTrait, token: &str) -> Result<Option<draft::Model>> {
    Ok(draft::Entity::find()
        .filter(draft::Column::TokenHash.eq(hash_token(token)))
        .filter(draft::Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?)
}
