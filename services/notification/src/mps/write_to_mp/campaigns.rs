//! "Email your MP" for a campaign: the starting letter its organisers suggest, and how many have
//! written.
//!
//! - **Suggested wording.** A campaign's own admins set and clear a starting letter that
//!   supporters edit before they send it (the copy check applies to what they send, as to any
//!   letter). Who they are follows the campaign's scope, as in the nomination service: a trust
//!   campaign's trust admins, a region campaign's region admins, platform admins any (and alone a
//!   national campaign). This service holds no campaigns: the request describes the campaign as
//!   the nomination service does (the gateway reads it there), and the scope first described is
//!   kept with the wording, so a later description naming another scope changes nothing (a
//!   campaign's scope never changes at the nomination service). Each change is recorded,
//!   append-only, in its own transaction, with the admin who made it.
//! - **The count.** Each confirmed letter adds one to the count of every letter and to its
//!   campaign's, in the transaction that confirms it ([`count_confirmed`]): exactly once per
//!   letter, since only one confirmation of a letter commits, and never lowered, since retention
//!   and erasure delete letters, not counts.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue, ConnectionTrait, DatabaseConnection, EntityTrait};
use uuid::Uuid;
use valued_platform::auth::roles::{Admin, Role};
use valued_platform::domain::{FieldError, FieldErrors};

use super::entity::{tally, wording, wording_change};
use super::{BODY_MAX_CHARS, BODY_MIN_CHARS, begin_locked};
use crate::error::Error;

/// The count of every confirmed letter, whatever it was written for.
pub const ALL: &str = "all";

/// A letter's text, or a campaign's suggested wording: trimmed, [`BODY_MIN_CHARS`] to
/// [`BODY_MAX_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterText(String);

/// Why a text is no letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextLength {
    TooShort,
    TooLong,
}

impl LetterText {
    pub fn parse(text: &str) -> Result<Self, TextLength> {
        let text = text.trim();
        match text.chars().count() {
            n if n < BODY_MIN_CHARS => Err(TextLength::TooShort),
            n if n > BODY_MAX_CHARS => Err(TextLength::TooLong),
            _ => Ok(Self(text.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whose campaign it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CampaignScope {
    Trust(String),
    Region(String),
    National,
}

impl CampaignScope {
    /// `trust` or `region` with its code, or `national`; anything else is no scope.
    pub fn parse(scope: &str, code: &str) -> Option<Self> {
        let code = code.trim();
        match (scope.trim(), code.is_empty()) {
            ("trust", false) => Some(Self::Trust(code.to_owned())),
            ("region", false) => Some(Self::Region(code.to_owned())),
            ("national", _) => Some(Self::National),
            _ => None,
        }
    }

    fn parts(&self) -> (&'static str, &str) {
        match self {
            Self::Trust(code) => ("trust", code),
            Self::Region(code) => ("region", code),
            Self::National => ("national", ""),
        }
    }
}

/// Whether `admin` runs campaigns of `scope`: as the nomination service's `administers_campaign`.
pub fn organises(admin: &Admin, scope: &CampaignScope) -> bool {
    admin.is_platform_admin()
        || match scope {
            CampaignScope::Trust(code) => admin.holds(Role::TrustAdmin, code),
            CampaignScope::Region(code) => admin.holds(Role::RegionAdmin, code),
            CampaignScope::National => false,
        }
}

/// A campaign's id as typed: a UUID, or a field error at `field`.
pub fn parse_campaign_id(field: &str, typed: &str) -> Result<Uuid, FieldError> {
    Uuid::parse_str(typed.trim()).map_err(|_| FieldError::new(field, "No campaign has this id"))
}

/// A campaign as the nomination service describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: Uuid,
    pub slug: String,
    pub scope: CampaignScope,
}

impl Campaign {
    /// The described campaign, or the field errors (`campaign`) naming what is wrong with it.
    pub fn parse(id: &str, slug: &str, scope: &str, code: &str) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let id = errors.check(parse_campaign_id("campaign", id));
        let scope = errors.check(
            CampaignScope::parse(scope, code)
                .ok_or_else(|| FieldError::new("campaign", "The campaign has no scope")),
        );
        errors.into_result()?;
        match (id, scope) {
            (Some(id), Some(scope)) => Ok(Self {
                id,
                slug: slug.trim().to_owned(),
                scope,
            }),
            _ => Err(vec![FieldError::new("campaign", "No campaign has this id")]),
        }
    }
}

/// What an admin asks of a campaign's wording, as typed.
pub struct WordingRequest<'a> {
    /// The campaign as described, or why it is no campaign.
    pub campaign: Result<Campaign, Vec<FieldError>>,
    /// `None`: clear it.
    pub wording: Option<&'a str>,
}

/// A campaign's suggested wording, when it has one.
pub async fn wording(
    db: &impl ConnectionTrait,
    campaign_id: Uuid,
) -> Result<Option<(String, chrono::DateTime<Utc>)>, Error> {
    Ok(wording::Entity::find_by_id(campaign_id)
        .one(db)
        .await?
        .and_then(|row| row.wording.map(|text| (text, row.set_at))))
}

/// Sets or clears a campaign's suggested wording for `admin`, who must run the campaign (by the
/// scope kept with its wording, else as described): FORBIDDEN before anything typed is looked at,
/// then INVALID naming each bad field. Recorded with the admin in the same transaction. The
/// wording now stored.
pub async fn set_wording(
    db: &DatabaseConnection,
    admin: &Admin,
    request: WordingRequest<'_>,
) -> Result<Option<String>, Error> {
    const WHAT: &str = "change this campaign's suggested letter";
    let refuse = || {
        tracing::warn!(issuer = %admin.identity.iss, subject = %admin.identity.sub, WHAT, "permission denied");
        Error::Forbidden(WHAT.to_owned())
    };
    let campaign = match request.campaign {
        Ok(campaign) => campaign,
        // Nothing to find a scope in: platform admins only, and they are told what is wrong.
        Err(errors) if admin.is_platform_admin() => return Err(Error::Invalid(errors)),
        Err(_) => return Err(refuse()),
    };
    // Changes to one campaign's wording one at a time, so the scope read is the one kept.
    let txn = begin_locked(db, &format!("wording:{}", campaign.id)).await?;
    let stored = wording::Entity::find_by_id(campaign.id).one(&txn).await?;
    let scope = stored
        .as_ref()
        .and_then(|row| CampaignScope::parse(&row.campaign_scope, &row.campaign_scope_code))
        .unwrap_or_else(|| campaign.scope.clone());
    if !organises(admin, &scope) {
        return Err(refuse());
    }
    let text = match request.wording {
        None => None,
        Some(typed) => Some(LetterText::parse(typed).map_err(|length| {
            Error::Invalid(vec![FieldError::new(
                "wording",
                match length {
                    TextLength::TooShort => {
                        format!("Write the suggested letter ({BODY_MIN_CHARS} characters or more)")
                    }
                    TextLength::TooLong => {
                        format!("The suggested letter must be {BODY_MAX_CHARS} characters or fewer")
                    }
                },
            )])
        })?),
    };
    let now = Utc::now();
    let wording = text.as_ref().map(|t| t.as_str().to_owned());
    let (scope_name, scope_code) = scope.parts();
    wording::Entity::insert(wording::ActiveModel {
        campaign_id: ActiveValue::Set(campaign.id),
        campaign_slug: ActiveValue::Set(campaign.slug.clone()),
        campaign_scope: ActiveValue::Set(scope_name.to_owned()),
        campaign_scope_code: ActiveValue::Set(scope_code.to_owned()),
        wording: ActiveValue::Set(wording.clone()),
        set_at: ActiveValue::Set(now),
    })
    .on_conflict(
        // The scope stays as first described.
        OnConflict::column(wording::Column::CampaignId)
            .update_columns([wording::Column::Wording, wording::Column::SetAt])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    wording_change::Entity::insert(wording_change::ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        campaign_id: ActiveValue::Set(campaign.id),
        change: ActiveValue::Set(if wording.is_some() { "set" } else { "clear" }.to_owned()),
        wording: ActiveValue::Set(wording.clone()),
        admin_email: ActiveValue::Set(admin.identity.email.clone()),
        admin_issuer: ActiveValue::Set(admin.identity.iss.clone()),
        admin_subject: ActiveValue::Set(admin.identity.sub.clone()),
        changed_at: ActiveValue::Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    tracing::info!(campaign_id = %campaign.id, set = wording.is_some(), "suggested letter changed");
    Ok(wording)
}

/// Adds a confirmed letter to the count of every letter and to its campaign's, in the
/// confirmation's transaction `txn`. The rows are always taken in one order, so two confirmations
/// at once wait for each other instead of deadlocking.
pub(super) async fn count_confirmed(
    txn: &impl ConnectionTrait,
    campaign: Option<Uuid>,
) -> Result<(), sea_orm::DbErr> {
    let mut tallies = vec![ALL.to_owned()];
    tallies.extend(campaign.map(|id| id.to_string()));
    tallies.sort();
    for key in tallies {
        tally::Entity::insert(tally::ActiveModel {
            tally: ActiveValue::Set(key),
            letters: ActiveValue::Set(1),
        })
        .on_conflict(
            OnConflict::column(tally::Column::Tally)
                .value(
                    tally::Column::Letters,
                    Expr::col((tally::Entity, tally::Column::Letters)).add(1),
                )
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// How many letters were confirmed: every one, and those for `campaign`.
pub async fn count(
    db: &impl ConnectionTrait,
    campaign: Option<Uuid>,
) -> Result<(u64, u64), sea_orm::DbErr> {
    let of = async |key: String| -> Result<u64, sea_orm::DbErr> {
        Ok(tally::Entity::find_by_id(key)
            .one(db)
            .await?
            .map_or(0, |row| u64::try_from(row.letters).unwrap_or_default()))
    };
    let all = of(ALL.to_owned()).await?;
    let for_campaign = match campaign {
        Some(id) => of(id.to_string()).await?,
        None => 0,
    };
    Ok((all, for_campaign))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_needs_its_code_except_national() {
        assert_eq!(CampaignScope::parse("trust", ""), None);
        assert_eq!(CampaignScope::parse("", ""), None);
        assert_eq!(
            CampaignScope::parse("national", ""),
            Some(CampaignScope::National)
        );
    }

    #[test]
    fn a_letter_is_fifty_to_five_thousand_characters_once_trimmed() {
        assert_eq!(
            LetterText::parse(&format!("  {}  ", "a".repeat(49))),
            Err(TextLength::TooShort)
        );
        assert_eq!(
            LetterText::parse(&"é".repeat(50)).unwrap().as_str(),
            "é".repeat(50)
        );
        assert!(LetterText::parse(&"a".repeat(5000)).is_ok());
        assert_eq!(
            LetterText::parse(&"a".repeat(5001)),
            Err(TextLength::TooLong)
        );
    }
}
