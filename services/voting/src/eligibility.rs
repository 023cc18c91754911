//! Who may vote in a campaign's public vote. Public (any verified address) unless a platform admin
//! makes it staff only: addresses at the work-email domains they list (`nhs.net`, a trust's own;
//! a domain or any subdomain of it) and/or on a list they upload. Each change is audited in
//! `vote_audit`.
//!
//! Nothing here keeps an address: the uploaded list is stored as the voters' [`VoterKey`]s (the
//! keyed hash their votes are stored under), so an address on it matches however the voter types
//! it (case, `+tag`, Gmail's dots). Erasing a person takes them off every list ([`Erasure`]).
//! A staff-only vote may also take the domains the trusts taking part have set on their settings
//! pages ([`crate::trust_domains`]), as they stand when a voter verifies and when they vote.
//!
//! # Where it is enforced
//!
//! - **Asking to verify** ([`crate::verification::request`]): an address the vote does not accept
//!   is refused at the field `email`, saying what the vote accepts, before anything is stored or
//!   sent.
//! - **Casting a vote**, against the setting as it is then: a pass issued before the setting
//!   tightened does not vote for a voter it no longer admits. The check works from what the pass
//!   holds: the voter key (for the list) and the keyed digests ([`domain_digests`]) of the voter's
//!   email domain and each parent domain, taken from the address when they asked to verify and
//!   carried by the verification onto the pass. A listed domain admits the pass when its digest is
//!   among them. Passes issued before the digests were kept carry none: under a domain rule they
//!   vote only if their voter is on the list (verifying again gives a new pass).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait,
};
use secrecy::SecretString;
use uuid::Uuid;
use valued_platform::domain::{EmailAddress, FieldError};

use crate::db::entities::{ballot, eligible_voter, vote_audit, vote_eligibility};
use crate::domain::signal_digest;
use crate::domain::{NewEligibility, StaffList, VoterKey, domain_and_parents};
use crate::error::{Error, Result};
use crate::trust_domains;
use valued_platform::domain::WorkDomain;

/// The kind under which domains are digested ([`signal_digest`]).
pub const DOMAIN: &str = "domain";

/// How many list rows are written per statement.
const CHUNK: usize = 1_000;

/// A campaign's eligibility as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub campaign_id: String,
    pub staff: bool,
    /// The domains the admin gave.
    pub domains: Vec<WorkDomain>,
    /// The domains the trusts taking part have set are accepted too.
    pub trust_domains: bool,
    /// Those domains as they stand now (empty unless `trust_domains`).
    pub from_trusts: Vec<WorkDomain>,
    /// Voters on the uploaded list.
    pub listed: u64,
    /// When and by whom it was last set (never, for a vote left public).
    pub updated: Option<(DateTime<Utc>, String)>,
}

impl Setting {
    fn public(campaign_id: &str) -> Self {
        Self {
            campaign_id: campaign_id.to_owned(),
            staff: false,
            domains: Vec::new(),
            trust_domains: false,
            from_trusts: Vec::new(),
            listed: 0,
            updated: None,
        }
    }

    /// Every domain the vote accepts: the admin's, then the trusts' not among them.
    pub fn accepted_domains(&self) -> Vec<&WorkDomain> {
        let mut all: Vec<&WorkDomain> = self.domains.iter().collect();
        for domain in &self.from_trusts {
            if !all.contains(&domain) {
                all.push(domain);
            }
        }
        all
    }

    /// What the vote accepts, for a voter it refused.
    pub fn accepts(&self) -> String {
        let domains: Vec<&str> = self
            .accepted_domains()
            .into_iter()
            .map(WorkDomain::as_str)
            .collect();
        let listed = "the work address your employer gave the organisers";
        match (domains.as_slice(), self.listed > 0) {
            ([], _) => format!("This vote is for staff only: use {listed}"),
            (domains, false) => format!(
                "This vote is for staff only: use your work email address ending {}",
                either(domains)
            ),
            (domains, true) => format!(
                "This vote is for staff only: use your work email address ending {}, or {listed}",
                either(domains)
            ),
        }
    }

    /// The accepted domains' digests, as a pass holds its voter's.
    fn domain_digests(&self, secret: &SecretString) -> Vec<String> {
        self.accepted_domains()
            .into_iter()
            .map(|d| signal_digest(secret, DOMAIN, d.as_str()))
            .collect()
    }
}

/// `a`, `a or b`, `a, b or c`.
fn either(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The keyed digests of the address's domain and each parent domain, space-separated, most
/// specific first: what a verification and a voter pass keep of the domain.
pub fn domain_digests(secret: &SecretString, address: &EmailAddress) -> String {
    domain_and_parents(address)
        .iter()
        .map(|domain| signal_digest(secret, DOMAIN, domain))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The campaign's setting (public when never set).
pub async fn of(db: &impl ConnectionTrait, campaign_id: &str) -> Result<Setting> {
    let campaign_id = campaign_id.trim();
    let Some(row) = vote_eligibility::Entity::find_by_id(campaign_id)
        .one(db)
        .await?
    else {
        return Ok(Setting::public(campaign_id));
    };
    let from_trusts = if row.staff && row.trust_domains {
        trust_domains::of_campaign(db, campaign_id).await?
    } else {
        Vec::new()
    };
    Ok(Setting {
        campaign_id: row.campaign_id,
        staff: row.staff,
        domains: row
            .domains
            .lines()
            .filter(|d| !d.is_empty())
            .map(WorkDomain::from_stored)
            .collect(),
        trust_domains: row.trust_domains,
        from_trusts,
        listed: u64::try_from(row.listed).unwrap_or(0),
        updated: Some((row.updated_at, row.updated_by)),
    })
}

/// The setting of a campaign that has a public vote (NOT_FOUND otherwise).
pub async fn get(db: &impl ConnectionTrait, campaign_id: &str) -> Result<Setting> {
    has_public_vote(db, campaign_id).await?;
    of(db, campaign_id).await
}

/// Whether `setting` admits the voter with `voter` key whose pass (or address) gives
/// `domain_digests`.
pub async fn admits(
    db: &impl ConnectionTrait,
    secret: &SecretString,
    setting: &Setting,
    voter: &VoterKey,
    domain_digests: &str,
) -> Result<bool> {
    if !setting.staff {
        return Ok(true);
    }
    let held: HashSet<&str> = domain_digests.split_whitespace().collect();
    if setting
        .domain_digests(secret)
        .iter()
        .any(|listed| held.contains(listed.as_str()))
    {
        return Ok(true);
    }
    if setting.listed == 0 {
        return Ok(false);
    }
    Ok(
        eligible_voter::Entity::find_by_id((
            setting.campaign_id.clone(),
            voter.as_str().to_owned(),
        ))
        .one(db)
        .await?
        .is_some(),
    )
}

/// Refuses, at the field `email`, an address the campaign's vote does not accept.
pub async fn check_address(
    db: &impl ConnectionTrait,
    secret: &SecretString,
    campaign_id: &str,
    address: &EmailAddress,
) -> Result<()> {
    let setting = of(db, campaign_id).await?;
    let voter = VoterKey::derive(secret, address);
    if admits(
        db,
        secret,
        &setting,
        &voter,
        &domain_digests(secret, address),
    )
    .await?
    {
        Ok(())
    } else {
        tracing::info!("voter verification refused: not eligible");
        Err(Error::Invalid(vec![FieldError::new(
            "email",
            setting.accepts(),
        )]))
    }
}

/// Refuses a vote by a pass whose voter the campaign's vote no longer admits.
pub async fn check_pass(
    db: &impl ConnectionTrait,
    secret: &SecretString,
    setting: &Setting,
    voter: &VoterKey,
    domain_digests: &str,
) -> Result<()> {
    if admits(db, secret, setting, voter, domain_digests).await? {
        Ok(())
    } else {
        tracing::info!("vote refused: the voter is no longer eligible");
        Err(Error::Ineligible(format!(
            "{}. Verify your email address again with an address it accepts",
            setting.accepts()
        )))
    }
}

/// Sets the campaign's eligibility (NOT_FOUND when it has no public vote) and records who did it;
/// the setting as it now stands.
pub async fn set(
    db: &DatabaseConnection,
    secret: &SecretString,
    actor: &str,
    campaign_id: &str,
    new: &NewEligibility,
) -> Result<Setting> {
    let campaign_id = campaign_id.trim();
    let txn = db.begin().await?;
    has_public_vote(&txn, campaign_id).await?;
    let before = of(&txn, campaign_id).await?;
    let (staff, domains, trusts, listed, detail) = match new {
        NewEligibility::Public => {
            clear_list(&txn, campaign_id).await?;
            (false, Vec::new(), false, 0, "public".to_owned())
        }
        NewEligibility::Staff {
            domains,
            list,
            trust_domains,
        } => {
            let (listed, list_detail) = match list {
                StaffList::Keep => (before.listed, format!("list of {} kept", before.listed)),
                StaffList::Replace(addresses) => {
                    let keys: HashSet<String> = addresses
                        .iter()
                        .map(|a| VoterKey::derive(secret, a).as_str().to_owned())
                        .collect();
                    clear_list(&txn, campaign_id).await?;
                    let keys: Vec<String> = keys.into_iter().collect();
                    for chunk in keys.chunks(CHUNK) {
                        eligible_voter::Entity::insert_many(chunk.iter().map(|key| {
                            eligible_voter::ActiveModel {
                                campaign_id: ActiveValue::Set(campaign_id.to_owned()),
                                voter_key: ActiveValue::Set(key.clone()),
                            }
                        }))
                        .exec_without_returning(&txn)
                        .await?;
                    }
                    let listed = u64::try_from(keys.len()).unwrap_or(u64::MAX);
                    (listed, format!("list of {listed} uploaded"))
                }
            };
            let from_trusts = if *trust_domains {
                trust_domains::of_campaign(&txn, campaign_id).await?
            } else {
                Vec::new()
            };
            if domains.is_empty() && from_trusts.is_empty() && listed == 0 {
                return Err(Error::Invalid(vec![if *trust_domains {
                    FieldError::new(
                        "trust_domains",
                        "The trusts taking part have set no work-email domains yet: give one \
                         here, or upload a list of staff addresses",
                    )
                } else {
                    FieldError::new(
                        "domains",
                        "Give at least one work-email domain, take the trusts' own, or upload a \
                         list of staff addresses",
                    )
                }]));
            }
            let names: Vec<&str> = domains.iter().map(WorkDomain::as_str).collect();
            let trusts = if *trust_domains {
                "; and the trusts' own domains"
            } else {
                ""
            };
            let detail = format!(
                "staff: domains [{}]{trusts}; {list_detail}",
                names.join(", ")
            );
            (true, domains.clone(), *trust_domains, listed, detail)
        }
    };
    let now = Utc::now();
    vote_eligibility::Entity::insert(vote_eligibility::ActiveModel {
        campaign_id: ActiveValue::Set(campaign_id.to_owned()),
        staff: ActiveValue::Set(staff),
        domains: ActiveValue::Set(
            domains
                .iter()
                .map(WorkDomain::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        listed: ActiveValue::Set(i64::try_from(listed).unwrap_or(i64::MAX)),
        trust_domains: ActiveValue::Set(trusts),
        updated_at: ActiveValue::Set(now),
        updated_by: ActiveValue::Set(actor.to_owned()),
    })
    .on_conflict(
        OnConflict::column(vote_eligibility::Column::CampaignId)
            .update_columns([
                vote_eligibility::Column::Staff,
                vote_eligibility::Column::Domains,
                vote_eligibility::Column::Listed,
                vote_eligibility::Column::TrustDomains,
                vote_eligibility::Column::UpdatedAt,
                vote_eligibility::Column::UpdatedBy,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    vote_audit::Entity::insert(vote_audit::ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        campaign_id: ActiveValue::Set(campaign_id.to_owned()),
        actor: ActiveValue::Set(actor.to_owned()),
        action: ActiveValue::Set("set_vote_eligibility".into()),
        detail: ActiveValue::Set(detail),
        at: ActiveValue::Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    tracing::info!(staff, listed, trusts, "public vote eligibility set");
    of(db, campaign_id).await
}

/// Takes an erased person off every campaign's staff list (the rest of what voting keeps of a
/// voter is a keyed hash it needs for one vote each: see `subject_access`).
pub struct Erasure {
    pub secret: SecretString,
}

#[async_trait::async_trait]
impl valued_platform::erasure::Erase for Erasure {
    async fn erase(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        person: &valued_platform::erasure::Person,
    ) -> std::result::Result<u64, sea_orm::DbErr> {
        let Ok(address) = EmailAddress::parse("email", &person.email) else {
            return Ok(0);
        };
        let key = VoterKey::derive(&self.secret, &address);
        let listed = eligible_voter::Entity::find()
            .filter(eligible_voter::Column::VoterKey.eq(key.as_str()))
            .all(txn)
            .await?;
        for row in &listed {
            eligible_voter::Entity::delete_by_id((row.campaign_id.clone(), row.voter_key.clone()))
                .exec(txn)
                .await?;
            vote_eligibility::Entity::update_many()
                .col_expr(
                    vote_eligibility::Column::Listed,
                    Expr::col(vote_eligibility::Column::Listed).sub(1),
                )
                .filter(vote_eligibility::Column::CampaignId.eq(row.campaign_id.as_str()))
                .exec(txn)
                .await?;
        }
        Ok(u64::try_from(listed.len()).unwrap_or(u64::MAX))
    }
}

async fn clear_list(db: &impl ConnectionTrait, campaign_id: &str) -> Result<()> {
    eligible_voter::Entity::delete_many()
        .filter(eligible_voter::Column::CampaignId.eq(campaign_id))
        .exec(db)
        .await?;
    Ok(())
}

async fn has_public_vote(db: &impl ConnectionTrait, campaign_id: &str) -> Result<()> {
    ballot::Entity::find()
        .filter(ballot::Column::CampaignId.eq(campaign_id.trim()))
        .one(db)
        .await?
        .map(|_| ())
        .ok_or_else(|| Error::NotFound("public vote".into()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn staff(domains: &[&str], listed: u64) -> Setting {
        Setting {
            staff: true,
            domains: domains.iter().map(|d| WorkDomain::from_stored(d)).collect(),
            listed,
            ..Setting::public("c")
        }
    }

    #[test]
    fn a_refusal_says_what_the_vote_accepts() {
        assert_eq!(
            staff(&["nhs.net"], 0).accepts(),
            "This vote is for staff only: use your work email address ending nhs.net"
        );
        assert_eq!(
            staff(&["nhs.net", "gstt.nhs.uk", "kch.nhs.uk"], 3).accepts(),
            "This vote is for staff only: use your work email address ending nhs.net, \
             gstt.nhs.uk or kch.nhs.uk, or the work address your employer gave the organisers"
        );
        assert_eq!(
            staff(&[], 3).accepts(),
            "This vote is for staff only: use the work address your employer gave the organisers"
        );
    }

    #[test]
    fn a_listed_domain_admits_its_subdomains_through_the_digests_alone() {
        let secret = SecretString::from("s");
        let setting = staff(&["gstt.nhs.uk"], 0);
        let listed = setting.domain_digests(&secret);
        let digests =
            |typed: &str| domain_digests(&secret, &EmailAddress::parse("email", typed).unwrap());
        let held = digests("sam@ward.gstt.nhs.uk");
        assert!(listed.iter().any(|l| held.split(' ').any(|h| h == l)));
        for other in [
            "sam@nhs.uk",
            "sam@notgstt.nhs.uk",
            "sam@gstt.nhs.uk.evil.org",
        ] {
            let held = digests(other);
            assert!(
                !listed.iter().any(|l| held.split(' ').any(|h| h == l)),
                "{other}"
            );
        }
    }
}
