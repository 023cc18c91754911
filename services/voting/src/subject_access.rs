//! What the voting service holds about a person (UK GDPR Article 15): the votes cast under the
//! keyed hash of their address (the address itself is never stored), with the ballots and the
//! choices they made, and the receipt of each vote's entry in its ballot's ledger. The ledger
//! itself holds only a hash of that keyed hash (see [`crate::ledger`]): nothing in it is kept by
//! address, so erasure leaves it as it is, and the published chain stays whole.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use secrecy::SecretString;
use serde_json::{Value, json};
use valued_platform::domain::EmailAddress;

use crate::db::entities::{ballot, vote};
use crate::domain::VoterKey;
use crate::ledger;

/// Every vote cast by `email`'s person, found through the voter key the service derives with
/// `secret`.
pub async fn export(
    db: &impl ConnectionTrait,
    secret: &SecretString,
    email: &EmailAddress,
) -> Result<Value, sea_orm::DbErr> {
    let key = VoterKey::derive(secret, email);
    let mut votes = Vec::new();
    for cast in vote::Entity::find()
        .filter(vote::Column::VoterKey.eq(key.as_str()))
        .order_by_asc(vote::Column::CastAt)
        .all(db)
        .await?
    {
        let title = ballot::Entity::find_by_id(cast.ballot_id)
            .one(db)
            .await?
            .map(|b| b.title)
            .unwrap_or_default();
        let receipt = ledger::store::receipt_of(db, cast.ballot_id, key.as_str()).await?;
        votes.push(json!({
            "ballot_id": cast.ballot_id,
            "ballot": title,
            "choice_id": cast.choice_id,
            "cast_at": cast.cast_at,
            // counted, held for a check, or discarded after one (see `crate::held`).
            "status": cast.status,
            "ledger_receipt": receipt,
        }));
    }
    Ok(json!({ "votes": votes }))
}
