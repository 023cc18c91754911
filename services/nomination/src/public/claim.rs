//! A nominee thanked through their manager claims their thank-you: the manager passes on the claim
//! link, and the nominee gives an email address of their own there. Valued sends a consent link to
//! that address, so that only someone holding it can answer; the trust's contact, who passed the
//! link on, cannot give their own address instead. Until it expires the link takes more than one
//! address (a nominee may have several), and a later answer from any of them replaces an earlier
//! one: whoever else got hold of the link and answered first, the nominee's own answer counts.

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};
use valued_platform::domain::{EmailAddress, FieldError};
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::NomineeClaimed;

use crate::db::entities::{campaign, nominee, nominee_address, trust};
use crate::domain::hash_token;
use crate::error::{Error, Result};
use crate::nominees::{UNVERIFIED_LINK_DAYS, consent_link};

/// The field the nominee types their address into.
pub const EMAIL: &str = "email";

/// What the nominee gives through their claim link: the link's token and their address.
pub struct Claim {
    pub token: String,
    pub email: EmailAddress,
}

/// Whom a claim link is for.
pub struct Claimable {
    pub nominee: nominee::Model,
    pub campaign: campaign::Model,
    pub trust: trust::Model,
}

/// The nominee whose claim link `token` is, while it has not expired.
pub async fn find(db: &impl ConnectionTrait, token: &str) -> Result<Claimable> {
    let not_found = || Error::NotFound("claim link".into());
    let nominee = nominee::Entity::find()
        .filter(nominee::Column::ClaimTokenHash.eq(hash_token(token)))
        .filter(nominee::Column::ClaimExpiresAt.gt(Utc::now()))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let campaign = campaign::Entity::find_by_id(nominee.campaign_id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let trust = trust::Entity::find_by_id(nominee.trust_code.clone())
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    Ok(Claimable {
        nominee,
        campaign,
        trust,
    })
}

/// Refuses the trust contact's address, which passed the link on, as the nominee's own.
fn not_the_trust_contact(address: &EmailAddress, trust: &trust::Model) -> Result<()> {
    let contact = EmailAddress::parse("trust_contact", &trust.admin_email)
        .map(|contact| contact.normalised())
        .unwrap_or_else(|_| trust.admin_email.trim().to_lowercase());
    if address.normalised() == contact {
        return Err(Error::Invalid(vec![FieldError::new(
            EMAIL,
            "Enter your own email address, not the address of the person who passed this link on \
             to you",
        )]));
    }
    Ok(())
}

/// Emails a consent link to the address the nominee gave (`nominee.claimed.v1`), in one
/// transaction. A malformed address or the trust contact's changes nothing, and so does an address
/// given before whose link still works (the same form sent twice sends one email).
pub async fn claim(
    db: &impl TransactionTrait<Transaction = DatabaseTransaction>,
    outbox: &Outbox,
    claim: &Claim,
) -> Result<()> {
    let txn = db.begin().await?;
    let found = find(&txn, &claim.token).await?;
    not_the_trust_contact(&claim.email, &found.trust)?;
    // One claim of a nominee at a time (on PostgreSQL; SQLite has one writer), so that the same
    // address sent twice at once is sent one link.
    nominee::Entity::find_by_id(found.nominee.id)
        .lock_exclusive()
        .one(&txn)
        .await?;
    let given_before = nominee_address::Entity::find()
        .filter(nominee_address::Column::NomineeId.eq(found.nominee.id))
        .filter(nominee_address::Column::Email.eq(claim.email.normalised()))
        .filter(nominee_address::working(Utc::now()))
        .one(&txn)
        .await?;
    if given_before.is_some() {
        return Ok(());
    }
    let expires_at = Utc::now() + chrono::Duration::days(UNVERIFIED_LINK_DAYS);
    let consent_token = consent_link(&txn, found.nominee.id, &claim.email, expires_at).await?;
    let event = NomineeClaimed {
        nominee_id: found.nominee.id.to_string(),
        campaign_name: found.campaign.name,
        trust_name: found.trust.name,
        nominee_name: found.nominee.name,
        recipient_email: claim.email.to_string(),
        consent_token,
    };
    outbox
        .enqueue(&txn, Some(&found.nominee.trust_code), &event)
        .await?;
    outbox.commit(txn).await?;
    tracing::info!(nominee_id = %found.nominee.id, "nominee claimed their thank-you");
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn trust(contact: &str) -> trust::Model {
        trust::Model {
            code: "RJ1".into(),
            name: "Guy's and St Thomas'".into(),
            region: "London".into(),
            admin_email: contact.into(),
            region_code: None,
            address: None,
            postcode: None,
            sender_name: String::new(),
            reply_to: String::new(),
        }
    }

    #[test]
    fn the_trust_contacts_address_is_not_the_nominees_own() {
        let trust = trust("Awards@GSTT.example.org");
        let address = |typed: &str| EmailAddress::parse(EMAIL, typed).unwrap();
        assert!(not_the_trust_contact(&address("sam@example.org"), &trust).is_ok());
        for contact in ["awards@gstt.example.org", " AWARDS@gstt.EXAMPLE.org"] {
            let Err(Error::Invalid(errors)) = not_the_trust_contact(&address(contact), &trust)
            else {
                panic!("{contact} accepted");
            };
            assert_eq!(errors[0].field, EMAIL);
            assert!(errors[0].message.contains("your own email address"));
        }
    }
}
