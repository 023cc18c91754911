//! Who runs a campaign's public vote: the one rule every organiser RPC is checked with.
//!
//! The nomination service owns campaigns and says, with each finalist it announces, whose campaign
//! it is (`finalist.announced.v1`'s scope, kept on each of the campaign's ballots). Its admins run
//! the vote as they run the rest of the campaign (nomination's `administers_campaign`): a trust
//! campaign its trust admins, a region campaign its region admins, a national one platform admins;
//! platform admins any. A ballot made by hand belongs to no campaign: platform admins only. So does
//! a campaign or ballot this service does not hold, so that a refusal tells nobody what exists.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};
use tonic::{Request, Status};
use valued_platform::auth::roles::{Admin, Admins, Role};

use crate::db::entities::ballot;
use crate::domain::{CampaignScope, parse_ballot_id};
use crate::error::Error;

/// What an organiser's call is about, as the request names it.
#[derive(Debug, Clone, Copy)]
pub enum Of<'a> {
    /// A campaign's public vote, by the campaign's id.
    Campaign(&'a str),
    /// One ballot, by its id as typed.
    Ballot(&'a str),
}

/// Whether `admin` runs the public vote of a campaign of `scope`.
pub fn runs(admin: &Admin, scope: &CampaignScope) -> bool {
    admin.is_platform_admin()
        || match scope {
            CampaignScope::Trust(code) => admin.holds(Role::TrustAdmin, code),
            CampaignScope::Region(code) => admin.holds(Role::RegionAdmin, code),
            CampaignScope::National => false,
        }
}

/// The caller, if they run the vote `of` names: UNAUTHENTICATED without a valid ID token,
/// PERMISSION_DENIED naming `what` for anyone else.
pub async fn campaign_admin<T>(
    admins: &Admins,
    db: &DatabaseConnection,
    request: &Request<T>,
    of: Of<'_>,
    what: &str,
) -> Result<Admin, Status> {
    let admin = admins.admin(request).await?;
    if admin.is_platform_admin() {
        return Ok(admin);
    }
    let may_run_some = admin
        .grants
        .iter()
        .any(|g| matches!(g.role, Role::TrustAdmin | Role::RegionAdmin));
    let allowed = may_run_some && {
        let scopes = scopes(db, of).await.map_err(Error::Database)?;
        !scopes.is_empty() && scopes.iter().all(|scope| runs(&admin, scope))
    };
    admin.require(allowed, what)?;
    Ok(admin)
}

/// The scopes the ballots `of` names were announced with: none for a ballot made by hand or
/// anything this service does not hold. A campaign's ballots all carry its newest scope; should
/// they not, the caller must run every one.
async fn scopes(
    db: &impl ConnectionTrait,
    of: Of<'_>,
) -> Result<Vec<CampaignScope>, sea_orm::DbErr> {
    let ballots = ballot::Entity::find()
        .select_only()
        .column(ballot::Column::CampaignScope)
        .column(ballot::Column::CampaignScopeCode)
        .distinct();
    let found: Vec<(String, String)> = match of {
        Of::Campaign(campaign_id) => {
            ballots
                .filter(ballot::Column::CampaignId.eq(campaign_id.trim()))
                .into_tuple()
                .all(db)
                .await?
        }
        Of::Ballot(ballot_id) => {
            let Ok(ballot_id) = parse_ballot_id(ballot_id) else {
                return Ok(Vec::new());
            };
            ballots
                .filter(ballot::Column::Id.eq(ballot_id))
                .filter(ballot::Column::CampaignId.is_not_null())
                .into_tuple()
                .all(db)
                .await?
        }
    };
    Ok(found
        .iter()
        .map(|(scope, code)| CampaignScope::parse(scope, code))
        .collect())
}

#[cfg(test)]
mod tests {
    use valued_platform::auth::Identity;
    use valued_platform::auth::roles::Grant;

    use super::*;

    fn holding(grants: &[(Role, &str)]) -> Admin {
        Admin {
            identity: Identity {
                iss: "https://id.example.org".into(),
                sub: "someone".into(),
                email: "someone@example.org".into(),
                email_verified: true,
                name: String::new(),
            },
            grants: grants
                .iter()
                .map(|(role, scope)| Grant {
                    role: *role,
                    scope: (*scope).to_owned(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_campaigns_own_admins_run_its_vote_and_platform_admins_any() {
        let trust = CampaignScope::Trust("RJ1".into());
        let region = CampaignScope::Region("Y56".into());
        let national = CampaignScope::National;
        let platform = holding(&[(Role::PlatformAdmin, "")]);
        for scope in [&trust, &region, &national] {
            assert!(runs(&platform, scope));
        }
        let rj1 = holding(&[(Role::TrustAdmin, "rj1")]);
        assert!(runs(&rj1, &trust));
        assert!(!runs(&rj1, &region) && !runs(&rj1, &national));
        assert!(!runs(&holding(&[(Role::TrustAdmin, "RJ2")]), &trust));
        let london = holding(&[(Role::RegionAdmin, "Y56")]);
        assert!(runs(&london, &region));
        // As in the nomination service: a region's admins do not run its trusts' own campaigns.
        assert!(!runs(&london, &trust) && !runs(&london, &national));
        assert!(!runs(&holding(&[(Role::RegionAdmin, "Y60")]), &region));
        // A judge of the campaign is no organiser of its vote.
        assert!(!runs(&holding(&[(Role::Judge, "RJ1")]), &trust));
    }
}
