//! The daily cap on unsolicited email: anyone on the web can type any address into a public form
//! (a nomination, "save and come back later", "Email your MP"), so no form may make Valued email one
//! third party more than `policy.unsolicited_per_recipient_per_day` times in any 24 hours, whatever
//! is typed. The emails these forms cause toward a typed address are listed in [`CAPPED`]; beyond
//! the cap a delivery is recorded as `capped` and never sent.
//!
//! Counted per normalised address (as the suppression list keys it), across all trusts: an email
//! let through takes one of its recipient's slots (the delivery's `unsolicited_at`) in the
//! transaction that records it. On PostgreSQL the count and the slot for one address are serialised
//! with a transaction-scoped advisory lock held until that commit, so two events at once cannot both
//! take the last slot. On SQLite (the embedded default) the database has one writer at a time.

use chrono::{Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, Statement,
};
use sha2::{Digest, Sha256};
use valued_platform::domain::EmailAddress;

use crate::db::delivery::{Column, Entity};
use crate::templates;

/// The window the cap counts over, rolling.
pub fn window() -> Duration {
    Duration::hours(24)
}

/// The emails an unauthenticated form can make us send to an address someone typed into it.
/// Emails to trust contacts, admins and MPs are not here: those addresses are configured, not
/// typed, and have their own rules.
pub const CAPPED: &[&str] = &[
    // The public nomination form: "Confirm your nomination" to the nominator's address as typed.
    templates::NOMINATION_CONFIRM,
    // "Save and come back later": the resume link, to whatever address was typed.
    templates::DRAFT_RESUME,
    // The public nomination form again: why a nomination was not taken, to the nominator's address
    // as typed.
    templates::NOMINATION_DECLINED,
    // The public vote: the link and code to verify a voter's address, to the address as typed.
    templates::VOTE_VERIFICATION,
    // "Email your MP": the link that sends the letter, to the supporter's address as typed.
    templates::MP_LETTER_CONFIRM,
    // The nominee's thank-you, when it goes to the work address the nominator typed (a confirmed
    // nomination needs only the nominator's own mailbox). Not when it goes to the trust's contact
    // ([`Origin::TrustContact`]).
    templates::NOMINEE_THANKS,
    // The consent link a nominee asks for through the claim link their manager passed on, to
    // whatever address is typed there.
    templates::NOMINEE_CONSENT_LINK,
];
// Not capped, each for its reason: `nomination_received` goes to a nominator who has just followed
// the link sent to that address; `nomination_to_review` to the trust's contact; `more_info_needed`
// is an admin's question; `finalist_notice` and `winner_notice` are admins' decisions (and
// throttled); `mp_letter`, `mp_supporter_count` and the MP digest go to MPs; `summary` carries
// throttled email; `sign_in_link` goes only to an address that holds an admin role (the nomination
// service sends nothing to any other, and limits requests per address), and `admin_invitation` is
// an admin's decision.

/// Where an email's recipient address came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// From the event: for the templates in [`CAPPED`], typed into a public form.
    Typed,
    /// The trust's configured contact (e.g. a nominee thanked through their manager).
    TrustContact,
}

/// Whether an email from `template` to an address from `origin` is under the cap.
pub fn is_capped(template: &str, origin: Origin) -> bool {
    origin == Origin::Typed && CAPPED.contains(&template)
}

/// What the cap counts `recipient` by: a digest of the mailbox behind the address
/// ([`EmailAddress::identity`]), so that `Victim@`, `victim+1@` and `victim+2@` share one day's slots.
/// A digest, not the address: the slot outlives nothing but the cap's window.
pub fn key(recipient: &str) -> String {
    let identity = EmailAddress::parse("recipient", recipient)
        .map_or_else(|_| recipient.to_lowercase(), |address| address.identity());
    let digest = Sha256::digest(identity.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `recipient`'s mailbox has a slot left today: fewer than `per_day` emails took one in
/// the last 24 hours, whatever form of its address they went to. On PostgreSQL this takes the
/// mailbox's lock, held until `txn` ends: the caller records the delivery, with its slot, in the
/// same transaction.
pub async fn has_slot(
    txn: &impl ConnectionTrait,
    recipient: &str,
    per_day: u32,
) -> Result<bool, DbErr> {
    Ok(slots(txn, &[recipient], per_day).await?[0].is_some())
}

/// A day's slot for each email to `recipients`, in order (an address may come more than once: each
/// email after the first counts those before it): the key it is counted by while slots remain,
/// `None` once the mailbox has had `per_day`. On PostgreSQL the mailboxes' locks are taken, in the
/// order of their keys (so two batches never wait on each other in a cycle), and held until `txn`
/// ends; the caller records the deliveries, with their slots, in the same transaction. One count
/// for all of them.
pub async fn slots(
    txn: &impl ConnectionTrait,
    recipients: &[&str],
    per_day: u32,
) -> Result<Vec<Option<String>>, DbErr> {
    use sea_orm::{FromQueryResult, QuerySelect};
    if recipients.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = recipients.iter().map(|r| key(r)).collect();
    let unique: std::collections::BTreeSet<&str> = keys.iter().map(String::as_str).collect();
    if valued_platform::db::is_postgres(txn) {
        // One statement: a VALUES list is scanned in the order written, which is the keys' order.
        let rows: Vec<String> = (1..=unique.len()).map(|n| format!("(${n})")).collect();
        txn.query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "SELECT pg_advisory_xact_lock(hashtext(k)) FROM (VALUES {}) AS keys (k)",
                rows.join(", ")
            ),
            unique
                .iter()
                .map(|key| format!("notification.unsolicited:{key}").into()),
        ))
        .await?;
    }
    #[derive(FromQueryResult)]
    struct Taken {
        unsolicited_key: Option<String>,
        taken: i64,
    }
    let mut taken: std::collections::HashMap<String, u64> = Entity::find()
        .select_only()
        .column(Column::UnsolicitedKey)
        .column_as(
            sea_orm::sea_query::Expr::from(sea_orm::sea_query::Func::count(
                sea_orm::sea_query::Expr::col(Column::Id),
            )),
            "taken",
        )
        .filter(Column::UnsolicitedKey.is_in(unique.iter().map(|k| (*k).to_owned())))
        .filter(Column::UnsolicitedAt.gt(Utc::now() - window()))
        .group_by(Column::UnsolicitedKey)
        .into_model::<Taken>()
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|row| Some((row.unsolicited_key?, u64::try_from(row.taken).unwrap_or(0))))
        .collect();
    Ok(keys
        .into_iter()
        .map(|key| {
            let count = taken.entry(key.clone()).or_default();
            (*count < u64::from(per_day)).then(|| {
                *count += 1;
                key
            })
        })
        .collect())
}

/// `recipient` as logs may show it: its domain and a short hash of the whole address, never the
/// address itself.
pub fn for_logs(recipient: &str) -> String {
    let digest = Sha256::digest(recipient.as_bytes());
    let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let domain = recipient.rsplit_once('@').map_or("", |(_, domain)| domain);
    format!("sha256:{hash}@{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_typed_addresses_of_listed_templates_are_capped() {
        assert!(is_capped(templates::DRAFT_RESUME, Origin::Typed));
        assert!(is_capped(templates::NOMINATION_DECLINED, Origin::Typed));
        assert!(is_capped(templates::NOMINATION_CONFIRM, Origin::Typed));
        assert!(is_capped(templates::MP_LETTER_CONFIRM, Origin::Typed));
        assert!(is_capped(templates::NOMINEE_THANKS, Origin::Typed));
        assert!(!is_capped(templates::NOMINEE_THANKS, Origin::TrustContact));
        assert!(is_capped(templates::NOMINEE_CONSENT_LINK, Origin::Typed));
        assert!(!is_capped(templates::NOMINATION_TO_REVIEW, Origin::Typed));
        assert!(!is_capped(templates::NOMINATION_RECEIVED, Origin::Typed));
        assert!(!is_capped(templates::MP_LETTER, Origin::Typed));
    }

    #[test]
    fn logs_see_the_domain_and_a_hash_not_the_address() {
        let shown = for_logs("victim@example.org");
        assert!(shown.ends_with("@example.org"), "{shown}");
        assert!(!shown.contains("victim"), "{shown}");
        assert_eq!(shown, for_logs("victim@example.org"));
        assert_ne!(shown, for_logs("other@example.org"));
    }
}
