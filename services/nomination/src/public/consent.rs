//! A nominee's consent, asked for through the link in their thank-you and changeable through it.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::db::entities::{campaign, nomination, nominee};
use crate::domain::{Consent, hash_token};
use crate::error::{Error, Result};

pub struct ConsentRequest {
    pub nominee: nominee::Model,
    pub campaign: campaign::Model,
    pub confirmed_nominations: u64,
}

pub async fn find(db: &impl ConnectionTrait, token: &str) -> Result<ConsentRequest> {
    let not_found = || Error::NotFound("consent link".into());
    let nominee = nominee::Entity::find()
        .filter(nominee::Column::ConsentTokenHash.eq(hash_token(token)))
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
    Ok(ConsentRequest {
        nominee,
        campaign,
        confirmed_nominations,
    })
}

/// Records the nominee's answers; they may change them later through the same link.
pub async fn record(db: &impl ConnectionTrait, token: &str, consent: Consent) -> Result<()> {
    let updated = nominee::Entity::update_many()
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
        .col_expr(nominee::Column::ConsentAnsweredAt, Expr::value(Utc::now()))
        .filter(nominee::Column::ConsentTokenHash.eq(hash_token(token)))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        return Err(Error::NotFound("consent link".into()));
    }
    Ok(())
}
