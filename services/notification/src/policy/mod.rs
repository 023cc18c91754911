//! Which emails go, and which don't: the rules that make people trust what we send.
//!
//! - The **suppression list** ([`suppression`]): an address that bounced permanently (an SMTP 5xx
//!   reply to RCPT TO, DATA or the message, or a permanent bounce reported by the provider's webhook) or
//!   complained is never sent anything again, from any trust. Checked when a delivery is created and
//!   again just before it is sent; a skipped delivery is kept with the status `suppressed`.
//! - **Unsubscribes** ([`preference`]): every non-transactional email carries an RFC 8058 one-click
//!   `List-Unsubscribe` link with the recipient's own unguessable token. After an unsubscribe the
//!   address gets no further non-transactional email (status `unsubscribed`); transactional ones
//!   still go.
//! - **Throttle** ([`throttle`]): at most `throttle.per_recipient_per_day` non-transactional emails
//!   per address in any 24 hours; the rest wait for a free slot, none is dropped or folded.
//! - **Unsolicited cap** ([`unsolicited`]): at most `policy.unsolicited_per_recipient_per_day` emails
//!   that a public form makes us send to a typed address, per address in any 24 hours, transactional
//!   or not; the rest are recorded as `capped` and never sent.
//!
//! Each email's fate is decided once, by [`admit`] (which asks [`decide`]), where it is made (and
//! again by the sender, with [`decide`], just before it goes); the [`Verdict`] is passed down to
//! `db/`, which records it and asks nothing.
//!
//! [`kind`] says which templates are transactional: an email someone's own action or role asks for
//! and needs (a confirmation link, a saved draft, a question about their nomination, a nomination to
//! review). Everything else, including any template added later that is not listed here, is
//! non-transactional and can be unsubscribed from.

pub mod preference;
pub mod summary;
pub mod suppression;
pub mod throttle;
pub mod unsolicited;

use sea_orm::{ConnectionTrait, DbErr};

use self::unsolicited::Origin;
use crate::templates;

/// Whether a recipient can opt out of an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Asked for by the recipient's own action or role; always sent (unless suppressed).
    Transactional,
    /// News the recipient may not want: carries an unsubscribe link, obeys unsubscribes and the
    /// throttle.
    NonTransactional,
}

/// Templates that are transactional; every other template is not.
const TRANSACTIONAL: &[&str] = &[
    // The nominator's confirmation link, without which the nomination does not count.
    templates::NOMINATION_CONFIRM,
    // The link back to a saved draft, asked for by the nominator.
    templates::DRAFT_RESUME,
    // Why a nomination the nominator just tried to send was not taken.
    templates::NOMINATION_DECLINED,
    // The link and code a voter asked for, without which they cannot vote.
    templates::VOTE_VERIFICATION,
    // A voter's receipt for the vote they just cast, the only proof they hold that it counted.
    templates::VOTE_COUNTED,
    // The receipt for a nomination just made.
    templates::NOMINATION_RECEIVED,
    // A question about a nomination, which only the nominator can answer.
    templates::MORE_INFO_NEEDED,
    // The trust admin's work queue: operational, part of the role.
    templates::NOMINATION_TO_REVIEW,
    // The nominee's one notice that they were nominated, carrying the consent link their story
    // needs before it can be shared.
    templates::NOMINEE_THANKS,
    // The consent link a nominee asked for at an address of their own.
    templates::NOMINEE_CONSENT_LINK,
    // A supporter's link to send the letter they just wrote to their MP.
    templates::MP_LETTER_CONFIRM,
    // A constituent's own letter, sent at their request: never throttled or unsubscribed away.
    templates::MP_LETTER,
];

pub fn kind(template: &str) -> Kind {
    if TRANSACTIONAL.contains(&template) {
        Kind::Transactional
    } else {
        Kind::NonTransactional
    }
}

pub use crate::db::delivery::Verdict;

/// The policy's decision about one email to one recipient, made once and passed down: the
/// [`Verdict`] that the delivery is recorded (or, at send time, closed) with, and the recipient's
/// one-click unsubscribe token for a non-transactional email's link and `List-Unsubscribe` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    pub unsubscribe_token: Option<String>,
    /// When the email takes one of its recipient's daily slots of unsolicited email: the key the
    /// slots are counted by ([`unsolicited::key`]).
    pub unsolicited: Option<String>,
}

/// Decides whether an email from `template` goes to `recipient` (a normalised address), making the
/// recipient's unsubscribe token if the email is non-transactional.
pub async fn decide(
    db: &impl ConnectionTrait,
    recipient: &str,
    template: &str,
) -> Result<Decision, DbErr> {
    let preference = match kind(template) {
        Kind::Transactional => None,
        Kind::NonTransactional => Some(preference::for_address(db, recipient).await?),
    };
    let verdict = if suppression::is_suppressed(db, recipient).await? {
        Verdict::Suppressed
    } else if preference
        .as_ref()
        .is_some_and(|p| p.unsubscribed_at.is_some())
    {
        Verdict::Unsubscribed
    } else {
        Verdict::Send
    };
    Ok(Decision {
        verdict,
        unsubscribe_token: preference.map(|p| p.token),
        unsolicited: None,
    })
}

/// As [`decide`] for many emails at once, in order: one query for the suppression list and one
/// (two when addresses are new) for the preferences of the non-transactional ones, whatever their
/// number. The sender decides each claimed batch with it.
pub async fn decide_all(
    db: &impl ConnectionTrait,
    emails: &[(&str, &str)],
) -> Result<Vec<Decision>, DbErr> {
    let recipients: Vec<&str> = emails.iter().map(|(recipient, _)| *recipient).collect();
    let suppressed = suppression::suppressed_among(db, &recipients).await?;
    let opting: Vec<&str> = emails
        .iter()
        .filter(|(_, template)| kind(template) == Kind::NonTransactional)
        .map(|(recipient, _)| *recipient)
        .collect();
    let preferences = preference::for_addresses(db, &opting).await?;
    emails
        .iter()
        .map(|&(recipient, template)| {
            let preference = match kind(template) {
                Kind::Transactional => None,
                Kind::NonTransactional => Some(preferences.get(recipient).ok_or_else(|| {
                    DbErr::RecordNotFound(format!("email_preference for {recipient}"))
                })?),
            };
            let verdict = if suppressed.contains(recipient) {
                Verdict::Suppressed
            } else if preference.is_some_and(|p| p.unsubscribed_at.is_some()) {
                Verdict::Unsubscribed
            } else {
                Verdict::Send
            };
            Ok(Decision {
                verdict,
                unsubscribe_token: preference.map(|p| p.token.clone()),
                unsolicited: None,
            })
        })
        .collect()
}

/// Decides a new email as [`decide`] does and, when it goes to an address typed into a public form
/// (see [`unsolicited::CAPPED`]), applies the daily cap: `Capped` when `recipient` (normalised) has
/// had `unsolicited_per_day` such emails in the last 24 hours (`0` turns the cap off). Call it in the
/// transaction that records the delivery: the address stays locked until that commits. The sender's
/// later check asks [`decide`] alone, so an email let through keeps its place.
pub async fn admit(
    txn: &impl ConnectionTrait,
    recipient: &str,
    template: &str,
    origin: Origin,
    unsolicited_per_day: u32,
) -> Result<Decision, DbErr> {
    let mut decisions =
        admit_all(txn, &[(recipient, template, origin)], unsolicited_per_day).await?;
    decisions
        .pop()
        .ok_or_else(|| DbErr::Custom("no decision for the email".into()))
}

/// As [`admit`] for many new emails `(recipient, template, origin)` at once, in order, with the
/// same queries whatever their number: [`decide_all`], then the cap's slots for those it applies to
/// ([`unsolicited::slots`]; the second email to an address in the batch counts the first).
pub async fn admit_all(
    txn: &impl ConnectionTrait,
    emails: &[(&str, &str, Origin)],
    unsolicited_per_day: u32,
) -> Result<Vec<Decision>, DbErr> {
    let pairs: Vec<(&str, &str)> = emails
        .iter()
        .map(|&(recipient, template, _)| (recipient, template))
        .collect();
    let mut decisions = decide_all(txn, &pairs).await?;
    if unsolicited_per_day == 0 {
        return Ok(decisions);
    }
    let capped: Vec<usize> = emails
        .iter()
        .zip(&decisions)
        .enumerate()
        .filter(|(_, ((_, template, origin), decision))| {
            decision.verdict == Verdict::Send && unsolicited::is_capped(template, *origin)
        })
        .map(|(at, _)| at)
        .collect();
    let recipients: Vec<&str> = capped.iter().map(|&at| emails[at].0).collect();
    let slots = unsolicited::slots(txn, &recipients, unsolicited_per_day).await?;
    for (at, slot) in capped.into_iter().zip(slots) {
        let (recipient, template, _) = emails[at];
        let decision = &mut decisions[at];
        match slot {
            Some(key) => decision.unsolicited = Some(key),
            None => {
                decision.verdict = Verdict::Capped;
                tracing::warn!(
                    template,
                    recipient = %unsolicited::for_logs(recipient),
                    per_day = unsolicited_per_day,
                    "capped: this address had its day's unsolicited emails; not sending"
                );
            }
        }
    }
    Ok(decisions)
}

/// As [`decide`], for an email that carries no unsubscribe link in its body.
pub async fn verdict(
    db: &impl ConnectionTrait,
    recipient: &str,
    template: &str,
) -> Result<Verdict, DbErr> {
    Ok(decide(db, recipient, template).await?.verdict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_templates_are_transactional() {
        assert_eq!(kind(templates::NOMINATION_CONFIRM), Kind::Transactional);
        assert_eq!(kind(templates::NOMINATION_TO_REVIEW), Kind::Transactional);
        assert_eq!(kind(templates::FINALIST_NOTICE), Kind::NonTransactional);
        assert_eq!(kind(templates::WINNER_NOTICE), Kind::NonTransactional);
        assert_eq!(kind("mp_digest"), Kind::NonTransactional);
        assert_eq!(kind("a_template_added_later"), Kind::NonTransactional);
    }
}
