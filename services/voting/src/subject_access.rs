//! What the voting service holds about a person (UK GDPR Article 15): the votes cast under the
//! keyed hash of their address, with the ballots and the choices they made, and the receipt of
//! each vote's entry in its ballot's ledger; and the address itself where an email still needs it
//! (a verification not yet used, an unexpired voter pass, a request to hear the results; see
//! [`crate::verification`]; a held vote's receipt, see [`crate::held`]).
//!
//! Erasure (Article 17, [`Voters`]) removes those kept addresses. The votes and the ledger hold
//! only keyed hashes (the ledger a hash of the keyed hash, see [`crate::ledger`]): nothing in them
//! is kept by address, so erasure leaves them as they are, and the published chain stays whole.

use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
};
use secrecy::SecretString;
use serde_json::{Value, json};
use valued_platform::domain::EmailAddress;
use valued_platform::erasure::{Erase, Person};

use crate::db::entities::{
    ballot, held_receipt, results_subscriber, vote, voter_pass, voter_verification,
};
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
    let verifications = voter_verification::Entity::find()
        .filter(voter_verification::Column::VoterKey.eq(key.as_str()))
        .filter(voter_verification::Column::Email.is_not_null())
        .all(db)
        .await?
        .into_iter()
        .map(|v| {
            json!({
                "campaign_id": v.campaign_id,
                "email": v.email,
                "expires_at": v.expires_at,
                "notify_results": v.notify_results,
            })
        })
        .collect::<Vec<_>>();
    let passes = voter_pass::Entity::find()
        .filter(voter_pass::Column::VoterKey.eq(key.as_str()))
        .filter(voter_pass::Column::Email.is_not_null())
        .all(db)
        .await?
        .into_iter()
        .map(|p| json!({ "campaign_id": p.campaign_id, "email": p.email, "expires_at": p.expires_at }))
        .collect::<Vec<_>>();
    let results = results_subscriber::Entity::find()
        .filter(results_subscriber::Column::VoterKey.eq(key.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(
            |r| json!({ "campaign_id": r.campaign_id, "email": r.email, "asked_at": r.created_at }),
        )
        .collect::<Vec<_>>();
    let held = held_receipt::Entity::find()
        .filter(held_receipt::Column::VoterKey.eq(key.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|h| json!({ "vote_id": h.vote_id, "email": h.email }))
        .collect::<Vec<_>>();
    Ok(json!({
        "votes": votes,
        "addresses_kept": {
            "verifications": verifications,
            "voter_passes": passes,
            "results_requested": results,
            "held_vote_receipts": held,
        },
    }))
}

/// Erases the addresses kept of a person's mailbox (found by its voter key, so every spelling of
/// it): off their verifications and voter passes (which keep working, without emails), their
/// requests to hear the results, and their held votes' receipts.
pub struct Voters {
    pub secret: SecretString,
}

#[async_trait]
impl Erase for Voters {
    async fn erase(
        &self,
        txn: &DatabaseTransaction,
        person: &Person,
    ) -> Result<u64, sea_orm::DbErr> {
        let Ok(address) = EmailAddress::parse("email", &person.email) else {
            return Ok(0);
        };
        let key = VoterKey::derive(&self.secret, &address);
        let verifications = voter_verification::Entity::update_many()
            .col_expr(
                voter_verification::Column::Email,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                voter_verification::Column::NotifyResults,
                Expr::value(false),
            )
            .filter(voter_verification::Column::VoterKey.eq(key.as_str()))
            .filter(voter_verification::Column::Email.is_not_null())
            .exec(txn)
            .await?
            .rows_affected;
        let passes = voter_pass::Entity::update_many()
            .col_expr(
                voter_pass::Column::Email,
                Expr::value(Option::<String>::None),
            )
            .filter(voter_pass::Column::VoterKey.eq(key.as_str()))
            .filter(voter_pass::Column::Email.is_not_null())
            .exec(txn)
            .await?
            .rows_affected;
        let results = results_subscriber::Entity::delete_many()
            .filter(results_subscriber::Column::VoterKey.eq(key.as_str()))
            .exec(txn)
            .await?
            .rows_affected;
        let held = held_receipt::Entity::delete_many()
            .filter(held_receipt::Column::VoterKey.eq(key.as_str()))
            .exec(txn)
            .await?
            .rows_affected;
        Ok(verifications + passes + results + held)
    }
}
