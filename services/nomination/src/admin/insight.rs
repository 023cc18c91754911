//! The Insight dashboard, aggregate only: the figures of a trust for its admins (and its region's,
//! and platform admins), of a region for its admins and platform admins, and of the country for
//! platform admins. What is counted and what is withheld is [`crate::domain::insight`]'s; here the
//! caller is checked and the facts are read.
//!
//! Every dashboard is decided from the whole country's figures (see the domain module: a trust's
//! figure may be withheld to cover a neighbour), so each call reads one row per nomination and per
//! announcement: a handful of columns, no text.

use std::collections::HashMap;

use sea_orm::{DatabaseConnection, EntityTrait, QuerySelect};
use uuid::Uuid;
use valued_platform::domain::FieldError;
use valued_platform::uk_time;
use valued_proto::nomination::v1 as pb;

use crate::admin::recognition::{FINALIST, WINNER};
use crate::admin::trusts;
use crate::auth::Principal;
use crate::db::entities::{nomination, recognition, region, trust};
use crate::domain::insight::{self, Fact, Measure, Organisations, Scope};
use crate::error::{Error, Result};

/// The dashboard of `scope` ("trust", "region" or "national") and `code`, if `principal` may see
/// it: NOT_FOUND for a trust or region they do not administer, as for one that does not exist;
/// PERMISSION_DENIED for the country's figures to anyone but a platform admin.
pub async fn dashboard(
    db: &DatabaseConnection,
    principal: &Principal,
    scope: &str,
    code: &str,
) -> Result<pb::GetInsightResponse> {
    let scope = match scope.trim() {
        "trust" => Scope::Trust(trusts::administered(db, principal, code).await?.code),
        "region" => {
            let code = code.trim().to_ascii_uppercase();
            match region::Entity::find_by_id(code.clone()).one(db).await? {
                Some(found) if principal.administers_region(&found.code) => {
                    Scope::Region(found.code)
                }
                _ => return Err(Error::NotFound(format!("region {code}"))),
            }
        }
        "national" => {
            principal.require(principal.is_platform_admin(), "see the national figures")?;
            Scope::National
        }
        _ => {
            return Err(Error::Invalid(vec![FieldError::new(
                "scope",
                "Choose a trust, a region or national",
            )]));
        }
    };
    let organisations = organisations(db).await?;
    let facts = facts(db).await?;
    insight::dashboard(&organisations, &facts, &scope)
        .ok_or_else(|| Error::NotFound("dashboard".to_owned()))
}

async fn organisations(db: &DatabaseConnection) -> Result<Organisations> {
    let regions = region::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.code, r.name))
        .collect();
    let trusts = trust::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.code, t.name, t.region_code.unwrap_or_default()))
        .collect();
    Ok(Organisations { regions, trusts })
}

type NominationRow = (
    Uuid,
    String,
    String,
    String,
    chrono::DateTime<chrono::Utc>,
    Option<chrono::DateTime<chrono::Utc>>,
    Option<Uuid>,
);

/// Every nomination received and confirmed, and every finalist and winner announced, where and
/// when it belongs. A nomination forwarded from a trust's winners into a regional or national
/// campaign is the same nomination again: it is not received twice, but its announcements count.
async fn facts(db: &DatabaseConnection) -> Result<Vec<Fact>> {
    use nomination::Column as N;
    let nominations: Vec<NominationRow> = nomination::Entity::find()
        .select_only()
        .columns([
            N::Id,
            N::TrustCode,
            N::StaffGroup,
            N::Band,
            N::SubmittedAt,
            N::ConfirmedAt,
            N::ForwardedFrom,
        ])
        .into_tuple()
        .all(db)
        .await?;
    let fact = |measure, trust: &str, at, group: &str, band: &str| Fact {
        measure,
        trust: trust.to_owned(),
        month: uk_time::month(at),
        staff_group: group.to_owned(),
        band: band.to_owned(),
    };
    let mut facts = Vec::with_capacity(nominations.len() * 2);
    let mut by_id = HashMap::with_capacity(nominations.len());
    for (id, trust, group, band, submitted_at, confirmed_at, forwarded_from) in &nominations {
        by_id.insert(*id, (trust.as_str(), group.as_str(), band.as_str()));
        if forwarded_from.is_some() {
            continue;
        }
        facts.push(fact(Measure::Received, trust, *submitted_at, group, band));
        if let Some(at) = confirmed_at {
            facts.push(fact(Measure::Confirmed, trust, *at, group, band));
        }
    }
    let announced: Vec<(Uuid, String, chrono::DateTime<chrono::Utc>)> = recognition::Entity::find()
        .select_only()
        .columns([
            recognition::Column::NominationId,
            recognition::Column::Kind,
            recognition::Column::AnnouncedAt,
        ])
        .into_tuple()
        .all(db)
        .await?;
    for (id, kind, at) in announced {
        let measure = match kind.as_str() {
            FINALIST => Measure::Finalist,
            WINNER => Measure::Winner,
            _ => continue,
        };
        if let Some((trust, group, band)) = by_id.get(&id) {
            facts.push(fact(measure, trust, at, group, band));
        }
    }
    Ok(facts)
}
