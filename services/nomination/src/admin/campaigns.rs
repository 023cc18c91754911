//! Creating campaigns and their categories, checked against the domain rules.

use sea_orm::{ActiveValue, ConnectionTrait, EntityTrait};
use uuid::Uuid;
use valued_platform::domain::FieldError;

use crate::db::entities::{campaign, campaign_trust, category};
use crate::domain::{Band, Scope, StaffGroup, Windows};
use crate::error::{Error, Result};

pub struct NewCampaign<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub scope: Scope,
    pub windows: Windows,
    /// The trusts whose staff can be nominated.
    pub trusts: &'a [&'a str],
    /// The public vote has a ballot per region and category (each region's finalists voted on
    /// apart) instead of one per category.
    pub vote_per_region: bool,
}

pub struct NewCategory<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub word_limit: u32,
    /// Empty: every support staff group.
    pub eligible: &'a [StaffGroup],
    /// Empty: every band.
    pub bands: &'a [Band],
}

pub async fn create(
    txn: &impl ConnectionTrait,
    new: NewCampaign<'_>,
    categories: &[NewCategory<'_>],
) -> Result<Uuid> {
    new.windows
        .validate()
        .map_err(|e| Error::Invalid(vec![FieldError::new("windows", e.to_string())]))?;
    let id = Uuid::now_v7();
    let (scope, scope_code) = new.scope.columns();
    let windows = new.windows;
    campaign::Entity::insert(campaign::ActiveModel {
        id: ActiveValue::Set(id),
        slug: ActiveValue::Set(new.slug.to_owned()),
        name: ActiveValue::Set(new.name.to_owned()),
        description: ActiveValue::Set(new.description.to_owned()),
        scope: ActiveValue::Set(scope.to_owned()),
        scope_code: ActiveValue::Set(scope_code.map(str::to_owned)),
        nominations_open_at: ActiveValue::Set(windows.nominations_open_at),
        nominations_close_at: ActiveValue::Set(windows.nominations_close_at),
        judging_close_at: ActiveValue::Set(windows.judging_close_at),
        vote_open_at: ActiveValue::Set(windows.vote_open_at),
        vote_close_at: ActiveValue::Set(windows.vote_close_at),
        results_at: ActiveValue::Set(windows.results_at),
        finalists_per_region: ActiveValue::NotSet,
        vote_per_region: ActiveValue::Set(new.vote_per_region),
    })
    .exec_without_returning(txn)
    .await?;
    for trust in new.trusts {
        campaign_trust::Entity::insert(campaign_trust::ActiveModel {
            campaign_id: ActiveValue::Set(id),
            trust_code: ActiveValue::Set((*trust).to_owned()),
        })
        .exec_without_returning(txn)
        .await?;
    }
    for (position, new_category) in (0..).zip(categories) {
        let eligible: Vec<&str> = new_category.eligible.iter().map(|g| g.slug()).collect();
        category::Entity::insert(category::ActiveModel {
            id: ActiveValue::Set(Uuid::now_v7()),
            campaign_id: ActiveValue::Set(id),
            name: ActiveValue::Set(new_category.name.to_owned()),
            description: ActiveValue::Set(new_category.description.to_owned()),
            word_limit: ActiveValue::Set(
                i32::try_from(new_category.word_limit).unwrap_or(i32::MAX),
            ),
            position: ActiveValue::Set(position),
            eligible_staff_groups: ActiveValue::Set(eligible.join(",")),
            eligible_bands: ActiveValue::Set(
                new_category
                    .bands
                    .iter()
                    .map(|b| b.slug())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        })
        .exec_without_returning(txn)
        .await?;
    }
    Ok(id)
}
