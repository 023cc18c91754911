//! Erasing a suggester or supporter (UK GDPR Article 17) and what subject access finds about them.
//!
//! A named suggestion keeps its suggester's name and address until retention forgets them; erasure
//! forgets them at once, leaving the suggestion on the board as if it were anonymous. Supports are
//! kept only as keyed hashes of the suggestion and the address, so a person's supports are found by
//! deriving their key for each suggestion; they are deleted and the counts follow.

use async_trait::async_trait;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
};
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;
use valued_platform::erasure::{Erase, Person};

use super::domain::SupporterKey;
use super::entities::{suggestion, support};

/// This service's erasure of a person from the suggestion box.
pub struct Suggesters {
    pub secret: SecretString,
}

#[async_trait]
impl Erase for Suggesters {
    async fn erase(
        &self,
        txn: &DatabaseTransaction,
        person: &Person,
    ) -> Result<u64, sea_orm::DbErr> {
        let named = super::queries::forget_suggesters()
            .filter(by_email(&person.email))
            .exec(txn)
            .await?
            .rows_affected;
        let mut supports = 0;
        for id in supported_by(txn, &self.secret, &person.email).await? {
            let (suggestion_id, key) = id;
            let deleted = support::Entity::delete_many()
                .filter(support::Column::SuggestionId.eq(suggestion_id))
                .filter(support::Column::SupporterKey.eq(key.as_str()))
                .exec(txn)
                .await?
                .rows_affected;
            if deleted > 0 {
                suggestion::Entity::update_many()
                    .col_expr(
                        suggestion::Column::Supporters,
                        Expr::col(suggestion::Column::Supporters).sub(1),
                    )
                    .filter(suggestion::Column::Id.eq(suggestion_id))
                    .exec(txn)
                    .await?;
                supports += deleted;
            }
        }
        Ok(named + supports)
    }
}

/// What the suggestion box holds about `email`: the suggestions they posted with their name, and
/// how many suggestions they support (only as keyed hashes: which ones, is all there is).
pub async fn export(
    db: &impl ConnectionTrait,
    secret: &SecretString,
    email: &str,
) -> Result<Value, sea_orm::DbErr> {
    let posted: Vec<Value> = suggestion::Entity::find()
        .filter(by_email(email))
        .all(db)
        .await?
        .into_iter()
        .map(|s| {
            json!({
                "trust_code": s.trust_code,
                "text": s.text,
                "name": s.suggester_name,
                "email": s.suggester_email,
                "status": s.status,
                "posted_on": s.posted_on,
            })
        })
        .collect();
    let supported: Vec<String> = supported_by(db, secret, email)
        .await?
        .into_iter()
        .map(|(id, _)| id.to_string())
        .collect();
    Ok(json!({ "suggestions_posted": posted, "suggestions_supported": supported }))
}

fn by_email(email: &str) -> sea_orm::sea_query::SimpleExpr {
    Expr::expr(Func::lower(Expr::col(suggestion::Column::SuggesterEmail)))
        .eq(email.trim().to_lowercase())
}

/// The supports stored under `email`'s key, found by deriving it for every suggestion.
async fn supported_by(
    db: &impl ConnectionTrait,
    secret: &SecretString,
    email: &str,
) -> Result<Vec<(Uuid, SupporterKey)>, sea_orm::DbErr> {
    let ids: Vec<Uuid> = suggestion::Entity::find()
        .select_only()
        .column(suggestion::Column::Id)
        .filter(suggestion::Column::Supporters.gt(0))
        .into_tuple()
        .all(db)
        .await?;
    let mut found = Vec::new();
    for id in ids {
        let Some(key) = SupporterKey::derive_from_typed(secret, id, email) else {
            return Ok(Vec::new());
        };
        let held = support::Entity::find()
            .filter(support::Column::SuggestionId.eq(id))
            .filter(support::Column::SupporterKey.eq(key.as_str()))
            .one(db)
            .await?
            .is_some();
        if held {
            found.push((id, key));
        }
    }
    Ok(found)
}
