//! Voters verify their address before a campaign's public vote counts them. A voter gives their
//! address once; one email (`voter.verification_requested.v1`) carries a link and a 6-digit code,
//! for people who read mail on another device. Either verifies the address once, within
//! [`VerificationSettings::link_minutes`], and gives a voter pass: a secret for the voter's browser,
//! good for every ballot of that campaign for [`VerificationSettings::pass_hours`].
//!
//! A verification and a pass name the voter by their [`VoterKey`] (a keyed hash of the mailbox),
//! the link's token and the pass by their SHA-256, and the code by an HMAC of the verification's id
//! and the code under the voter-key secret (six digits are too few to hash plainly). Five wrong
//! codes spend a verification. Disposable addresses are refused, by the `mailchecker` crate's
//! maintained list, and so is an address the campaign's [eligibility](crate::eligibility) does
//! not accept, before anything is sent.
//!
//! The address itself is kept only as long as an email needs it: on the verification until it is
//! used (then it moves to the pass) or expires; on the pass until it expires, for each vote's
//! "your vote counted" email; and, when the voter asked to hear the results, in
//! `results_subscriber` until that email is enqueued. Retention ([`purge_expired`]) clears the
//! first two; erasure ([`crate::subject_access::Voters`]) all three.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use rand::Rng;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;
use uuid::Uuid;
use valued_platform::domain::{EmailAddress, FieldError};
use valued_platform::link_token::{hash_token, new_link_token};
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::VoterVerificationRequested;

use crate::db::entities::{ballot, results_subscriber, voter_pass, voter_verification};
use crate::domain::VoterKey;
use crate::eligibility;
use crate::error::{Error, Result};

/// Wrong codes after which a verification is spent.
pub const MAX_ATTEMPTS: i32 = 5;

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct VerificationSettings {
    /// How long the emailed link and code work.
    pub link_minutes: u32,
    /// How long a voter pass lets its holder vote.
    pub pass_hours: u32,
}

impl Default for VerificationSettings {
    fn default() -> Self {
        Self {
            link_minutes: 30,
            pass_hours: 4,
        }
    }
}

/// A voter pass just issued.
#[derive(Debug, Clone)]
pub struct Pass {
    pub token: String,
    pub campaign_id: String,
    pub expires_at: DateTime<Utc>,
}

/// Checks the address and sends it a link and a code for the campaign's public vote. The answer
/// does not depend on whether the address asked before.
pub async fn request(
    db: &DatabaseConnection,
    outbox: &Outbox,
    secret: &SecretString,
    settings: VerificationSettings,
    campaign_id: &str,
    email: &str,
    notify_results: bool,
) -> Result<DateTime<Utc>> {
    let address = EmailAddress::parse("email", email).map_err(|e| Error::Invalid(vec![e]))?;
    if !mailchecker::is_valid(address.as_str()) {
        return Err(Error::Invalid(vec![FieldError::new(
            "email",
            "Enter an email address you will keep: we cannot send to disposable addresses",
        )]));
    }
    let campaign = campaign_ballot(db, campaign_id).await?;
    let campaign_id = campaign.campaign_id.clone().unwrap_or_default();
    eligibility::check_address(db, secret, &campaign_id, &address).await?;
    let voter = VoterKey::derive(secret, &address);
    let (token, token_hash) = new_link_token();
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000));
    let id = Uuid::now_v7();
    let now = Utc::now();
    let expires_at = now + Duration::minutes(i64::from(settings.link_minutes.max(1)));
    let txn = db.begin().await?;
    voter_verification::Entity::insert(voter_verification::ActiveModel {
        id: ActiveValue::Set(id),
        campaign_id: ActiveValue::Set(campaign_id),
        voter_key: ActiveValue::Set(voter.as_str().to_owned()),
        domains: ActiveValue::Set(eligibility::domain_digests(secret, &address)),
        token_hash: ActiveValue::Set(token_hash),
        code_hash: ActiveValue::Set(code_hash(secret, id, &code)),
        attempts: ActiveValue::Set(0),
        created_at: ActiveValue::Set(now),
        expires_at: ActiveValue::Set(expires_at),
        used_at: ActiveValue::Set(None),
        email: ActiveValue::Set(Some(address.to_string())),
        notify_results: ActiveValue::Set(notify_results),
    })
    .exec_without_returning(&txn)
    .await?;
    let event = VoterVerificationRequested {
        campaign_name: campaign.campaign_name.clone(),
        email: address.to_string(),
        token,
        code,
        expires_at: Some(prost_types::Timestamp {
            seconds: expires_at.timestamp(),
            nanos: 0,
        }),
    };
    outbox.enqueue(&txn, None, &event).await?;
    outbox.commit(txn).await?;
    tracing::info!(verification_id = %id, "voter verification sent");
    Ok(expires_at)
}

/// Verifies with the link's token: once, before it expires.
pub async fn verify_link(
    db: &DatabaseConnection,
    settings: VerificationSettings,
    token: &str,
) -> Result<Pass> {
    let found = voter_verification::Entity::find()
        .filter(voter_verification::Column::TokenHash.eq(hash_token(token)))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    use_once(db, settings, &found).await
}

/// Verifies with the address and the code: once, before it expires, within [`MAX_ATTEMPTS`]
/// wrong codes. Only the newest verification of the address for the campaign is tried.
pub async fn verify_code(
    db: &DatabaseConnection,
    secret: &SecretString,
    settings: VerificationSettings,
    campaign_id: &str,
    email: &str,
    code: &str,
) -> Result<Pass> {
    let address = EmailAddress::parse("email", email).map_err(|e| Error::Invalid(vec![e]))?;
    let voter = VoterKey::derive(secret, &address);
    let found = voter_verification::Entity::find()
        .filter(voter_verification::Column::CampaignId.eq(campaign_id.trim()))
        .filter(voter_verification::Column::VoterKey.eq(voter.as_str()))
        .filter(voter_verification::Column::UsedAt.is_null())
        .filter(voter_verification::Column::ExpiresAt.gt(Utc::now()))
        .filter(voter_verification::Column::Attempts.lt(MAX_ATTEMPTS))
        .order_by_desc(voter_verification::Column::CreatedAt)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let code: String = code.chars().filter(char::is_ascii_digit).collect();
    if code_hash(secret, found.id, &code) != found.code_hash {
        voter_verification::Entity::update_many()
            .col_expr(
                voter_verification::Column::Attempts,
                sea_orm::sea_query::ExprTrait::add(
                    Expr::col(voter_verification::Column::Attempts),
                    1,
                ),
            )
            .filter(voter_verification::Column::Id.eq(found.id))
            .exec(db)
            .await?;
        return Err(Error::Invalid(vec![FieldError::new(
            "code",
            "The code does not match: check the latest email we sent you",
        )]));
    }
    use_once(db, settings, &found).await
}

/// What a voter pass stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub voter: VoterKey,
    pub campaign_id: String,
    /// Keyed digests of the voter's email domain and its parents, most specific first
    /// ([`eligibility::domain_digests`]); empty for a pass issued before they were kept.
    pub domains: String,
    /// The address they verified, where their vote's receipt goes.
    pub email: Option<String>,
}

impl Holder {
    fn of(pass: voter_pass::Model) -> Self {
        Self {
            voter: VoterKey::from_stored(pass.voter_key),
            campaign_id: pass.campaign_id,
            domains: pass.domains,
            email: pass.email,
        }
    }

    /// The digest of the voter's own email domain.
    pub fn domain(&self) -> Option<&str> {
        self.domains.split_whitespace().next()
    }
}

/// Who a pass stands for, while it has not expired.
pub async fn voter_of(db: &impl ConnectionTrait, pass: &str) -> Result<Holder> {
    let found = voter_pass::Entity::find_by_id(hash_token(pass))
        .one(db)
        .await?
        .filter(|p| p.expires_at > Utc::now())
        .ok_or_else(session_ended)?;
    Ok(Holder::of(found))
}

/// Who each of `passes` stands for, in one read: the holder of each pass that has not expired,
/// under the pass as given.
pub async fn voters_of(
    db: &impl ConnectionTrait,
    passes: &[&str],
) -> Result<HashMap<String, Holder>> {
    if passes.is_empty() {
        return Ok(HashMap::new());
    }
    let by_hash: HashMap<String, &str> = passes.iter().map(|&p| (hash_token(p), p)).collect();
    let now = Utc::now();
    Ok(voter_pass::Entity::find()
        .filter(voter_pass::Column::PassHash.is_in(by_hash.keys().cloned()))
        .all(db)
        .await?
        .into_iter()
        .filter(|p| p.expires_at > now)
        .filter_map(|p| {
            let pass = by_hash.get(&p.pass_hash)?;
            Some(((*pass).to_owned(), Holder::of(p)))
        })
        .collect())
}

/// The refusal of a pass that has expired or was never issued.
pub fn session_ended() -> Error {
    Error::Closed("Your voting session has ended: verify your email address again".into())
}

/// Forgets the addresses that no email needs any more: those of verifications that expired unused
/// and of voter passes that expired (the passes themselves go too: nothing can use them). The
/// number of rows changed.
pub async fn purge_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64> {
    let verifications = voter_verification::Entity::update_many()
        .col_expr(
            voter_verification::Column::Email,
            Expr::value(Option::<String>::None),
        )
        .filter(voter_verification::Column::Email.is_not_null())
        .filter(voter_verification::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected;
    let passes = voter_pass::Entity::delete_many()
        .filter(voter_pass::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected;
    Ok(verifications + passes)
}

/// Marks the verification used (conditionally, so that two uses at once give one pass) and issues
/// a pass.
async fn use_once(
    db: &DatabaseConnection,
    settings: VerificationSettings,
    found: &voter_verification::Model,
) -> Result<Pass> {
    let now = Utc::now();
    if found.expires_at <= now || found.used_at.is_some() || found.attempts >= MAX_ATTEMPTS {
        return Err(not_found());
    }
    let txn = db.begin().await?;
    let used = voter_verification::Entity::update_many()
        .col_expr(voter_verification::Column::UsedAt, Expr::value(now))
        .filter(voter_verification::Column::Id.eq(found.id))
        .filter(voter_verification::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if used.rows_affected != 1 {
        return Err(not_found());
    }
    let (token, pass_hash) = new_link_token();
    let expires_at = now + Duration::hours(i64::from(settings.pass_hours.max(1)));
    voter_pass::Entity::insert(voter_pass::ActiveModel {
        pass_hash: ActiveValue::Set(pass_hash),
        campaign_id: ActiveValue::Set(found.campaign_id.clone()),
        voter_key: ActiveValue::Set(found.voter_key.clone()),
        expires_at: ActiveValue::Set(expires_at),
        domains: ActiveValue::Set(found.domains.clone()),
        email: ActiveValue::Set(found.email.clone()),
    })
    .exec_without_returning(&txn)
    .await?;
    // The address has moved to the pass (and, if asked, to the results list): the verification
    // keeps no copy.
    voter_verification::Entity::update_many()
        .col_expr(
            voter_verification::Column::Email,
            Expr::value(Option::<String>::None),
        )
        .filter(voter_verification::Column::Id.eq(found.id))
        .exec(&txn)
        .await?;
    if let (true, Some(email)) = (found.notify_results, &found.email) {
        results_subscriber::Entity::insert(results_subscriber::ActiveModel {
            campaign_id: ActiveValue::Set(found.campaign_id.clone()),
            voter_key: ActiveValue::Set(found.voter_key.clone()),
            email: ActiveValue::Set(email.clone()),
            created_at: ActiveValue::Set(now),
        })
        .on_conflict(
            OnConflict::columns([
                results_subscriber::Column::CampaignId,
                results_subscriber::Column::VoterKey,
            ])
            .update_column(results_subscriber::Column::Email)
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(Pass {
        token,
        campaign_id: found.campaign_id.clone(),
        expires_at,
    })
}

/// One ballot of the campaign's public vote (its name and id), or NOT_FOUND when it has none.
async fn campaign_ballot(db: &impl ConnectionTrait, campaign_id: &str) -> Result<ballot::Model> {
    ballot::Entity::find()
        .filter(ballot::Column::CampaignId.eq(campaign_id.trim()))
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound("public vote".into()))
}

fn not_found() -> Error {
    Error::NotFound("verification".into())
}

#[expect(clippy::expect_used, reason = "HMAC accepts keys of any length")]
fn code_hash(secret: &SecretString, id: Uuid, code: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    mac.update(code.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposable_addresses_are_recognised_by_the_maintained_list() {
        assert!(!mailchecker::is_valid("someone@mailinator.com"));
        assert!(!mailchecker::is_valid("someone@10minutemail.com"));
        assert!(mailchecker::is_valid("sam.patel@nhs.net"));
    }

    #[test]
    fn a_code_hash_depends_on_the_secret_the_verification_and_the_code() {
        let id = Uuid::now_v7();
        let secret = SecretString::from("s");
        let hash = code_hash(&secret, id, "123456");
        assert_eq!(hash, code_hash(&secret, id, "123456"));
        assert_ne!(hash, code_hash(&secret, id, "123457"));
        assert_ne!(hash, code_hash(&secret, Uuid::now_v7(), "123456"));
        assert_ne!(hash, code_hash(&SecretString::from("t"), id, "123456"));
    }
}
