//! Creating campaigns and their categories, checked against the domain rules: by an organiser
//! ([`create_for`]) or by the seed and the tests ([`create`]).

use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait,
};
use uuid::Uuid;
use valued_platform::domain::{FieldError, FieldErrors};

use crate::admin::audit;
use crate::auth::Principal;
use crate::db::entities::{
    campaign, campaign_trust, category, judge_assignment, nomination, region, trust,
};
use crate::domain::{Band, NewCampaignSpec, NominationsPerNominator, Scope, StaffGroup, Windows};
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
    /// Nominations one person may make to the campaign; `None`: the service-wide default.
    pub nominations_per_nominator: Option<NominationsPerNominator>,
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
        nominations_per_nominator: ActiveValue::Set(stored_limit(new.nominations_per_nominator)),
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
        category::Entity::insert(category::ActiveModel {
            id: ActiveValue::Set(Uuid::now_v7()),
            campaign_id: ActiveValue::Set(id),
            name: ActiveValue::Set(new_category.name.to_owned()),
            description: ActiveValue::Set(new_category.description.to_owned()),
            word_limit: ActiveValue::Set(
                i32::try_from(new_category.word_limit).unwrap_or(i32::MAX),
            ),
            position: ActiveValue::Set(position),
            eligible_staff_groups: ActiveValue::Set(slugs(
                new_category.eligible.iter().map(|g| g.slug()),
            )),
            eligible_bands: ActiveValue::Set(slugs(new_category.bands.iter().map(|b| b.slug()))),
        })
        .exec_without_returning(txn)
        .await?;
    }
    Ok(id)
}

/// Creates the campaign `spec` describes for `principal`, who must run campaigns of its scope:
/// platform admins any, region admins their region's and its trusts', trust admins their trust's.
/// The trusts and region must exist (a regional or national campaign with no trusts named takes
/// every trust of its region, or every trust) and the web address must be free, each refused at
/// its field. Audited. The new campaign's id.
pub async fn create_for(
    db: &DatabaseConnection,
    principal: &Principal,
    spec: &NewCampaignSpec,
) -> Result<Uuid> {
    let txn = db.begin().await?;
    let allowed = match &spec.scope {
        Scope::National => principal.is_platform_admin(),
        Scope::Region(code) => principal.administers_region(code),
        Scope::Trust(code) => match trust::Entity::find_by_id(code.clone()).one(&txn).await? {
            Some(found) => principal.administers_trust(&found),
            None => principal.is_platform_admin(),
        },
    };
    principal.require(allowed, "create a campaign for that trust or region")?;
    let mut errors = FieldErrors::new();
    let trusts = match &spec.scope {
        Scope::Region(code) => {
            if region::Entity::find_by_id(code.clone())
                .one(&txn)
                .await?
                .is_none()
            {
                errors.push(FieldError::new("scope_code", "No region has this code"));
            }
            let of_region: Vec<String> = trust::Entity::find()
                .filter(trust::Column::RegionCode.eq(code.as_str()))
                .all(&txn)
                .await?
                .into_iter()
                .map(|t| t.code)
                .collect();
            if spec.trusts.is_empty() {
                of_region
            } else {
                for code in &spec.trusts {
                    if !of_region.contains(code) {
                        errors.push(FieldError::new(
                            "trust_codes",
                            format!("{code} is not a trust of this region"),
                        ));
                    }
                }
                spec.trusts.clone()
            }
        }
        Scope::National if spec.trusts.is_empty() => trust::Entity::find()
            .all(&txn)
            .await?
            .into_iter()
            .map(|t| t.code)
            .collect(),
        _ => spec.trusts.clone(),
    };
    for code in &trusts {
        if trust::Entity::find_by_id(code.clone())
            .one(&txn)
            .await?
            .is_none()
        {
            let field = if matches!(&spec.scope, Scope::Trust(own) if own == code) {
                "scope_code"
            } else {
                "trust_codes"
            };
            errors.push(FieldError::new(
                field,
                format!("No trust has the code {code}"),
            ));
        }
    }
    if trusts.is_empty() {
        errors.push(FieldError::new(
            "trust_codes",
            "No trusts take part: import organisations first, or name the trusts",
        ));
    }
    let taken = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq(spec.slug.as_str()))
        .one(&txn)
        .await?
        .is_some();
    if taken {
        errors.push(FieldError::new(
            "slug",
            format!(
                "Another campaign already uses the web address {}: choose another",
                spec.slug
            ),
        ));
    }
    errors.into_result().map_err(Error::Invalid)?;
    let trust_refs: Vec<&str> = trusts.iter().map(String::as_str).collect();
    let categories: Vec<NewCategory<'_>> = spec
        .categories
        .iter()
        .map(|c| NewCategory {
            name: &c.name,
            description: &c.description,
            word_limit: c.word_limit,
            eligible: &c.eligible,
            bands: &c.bands,
        })
        .collect();
    let id = create(
        &txn,
        NewCampaign {
            slug: &spec.slug,
            name: &spec.name,
            description: &spec.description,
            scope: spec.scope.clone(),
            windows: spec.windows.clone(),
            trusts: &trust_refs,
            vote_per_region: spec.vote_per_region,
            nominations_per_nominator: spec.nominations_per_nominator,
        },
        &categories,
    )
    .await?;
    let trust_code = match &spec.scope {
        Scope::Trust(code) => code.as_str(),
        _ => "",
    };
    audit::record(
        &txn,
        principal,
        "campaign created",
        None,
        trust_code,
        &format!("{} ({})", spec.name, spec.slug),
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

/// Changes campaign `id` as `spec` says, for its own admins: name, introduction, timetable, the
/// vote's layout and the categories (by id; new ones added; one left out removed unless someone
/// was nominated or a judge assigned in it, which is refused at `categories`). The web address,
/// scope and trusts are the campaign's own (the caller parsed `spec` with them). Audited.
pub async fn update_for(
    db: &DatabaseConnection,
    principal: &Principal,
    found: &campaign::Model,
    spec: &NewCampaignSpec,
) -> Result<()> {
    principal.require(
        principal.administers_campaign(found),
        &format!("change {}", found.name),
    )?;
    let txn = db.begin().await?;
    let existing = category::Entity::find()
        .filter(category::Column::CampaignId.eq(found.id))
        .all(&txn)
        .await?;
    let mut errors = FieldErrors::new();
    for (i, kept) in spec.categories.iter().enumerate() {
        if let Some(id) = kept.id
            && !existing.iter().any(|c| c.id == id)
        {
            errors.push(FieldError::new(
                &format!("categories[{i}].name"),
                "This category is not one of the campaign's",
            ));
        }
    }
    let removed: Vec<&category::Model> = existing
        .iter()
        .filter(|c| !spec.categories.iter().any(|k| k.id == Some(c.id)))
        .collect();
    for gone in &removed {
        let nominated = nomination::Entity::find()
            .filter(nomination::Column::CategoryId.eq(gone.id))
            .one(&txn)
            .await?
            .is_some();
        let judged = judge_assignment::Entity::find()
            .filter(judge_assignment::Column::CategoryId.eq(gone.id))
            .one(&txn)
            .await?
            .is_some();
        if nominated || judged {
            errors.push(FieldError::new(
                "categories",
                format!(
                    "{} has nominations or judges, so it cannot be removed: keep it",
                    gone.name
                ),
            ));
        }
    }
    errors.into_result().map_err(Error::Invalid)?;
    let windows = &spec.windows;
    campaign::Entity::update(campaign::ActiveModel {
        id: ActiveValue::Unchanged(found.id),
        name: ActiveValue::Set(spec.name.clone()),
        description: ActiveValue::Set(spec.description.clone()),
        nominations_open_at: ActiveValue::Set(windows.nominations_open_at),
        nominations_close_at: ActiveValue::Set(windows.nominations_close_at),
        judging_close_at: ActiveValue::Set(windows.judging_close_at),
        vote_open_at: ActiveValue::Set(windows.vote_open_at),
        vote_close_at: ActiveValue::Set(windows.vote_close_at),
        results_at: ActiveValue::Set(windows.results_at),
        vote_per_region: ActiveValue::Set(spec.vote_per_region),
        nominations_per_nominator: ActiveValue::Set(stored_limit(spec.nominations_per_nominator)),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    for gone in removed {
        category::Entity::delete_by_id(gone.id).exec(&txn).await?;
    }
    for (position, kept) in (0..).zip(&spec.categories) {
        let row = category::ActiveModel {
            id: ActiveValue::Set(kept.id.unwrap_or_else(Uuid::now_v7)),
            campaign_id: ActiveValue::Set(found.id),
            name: ActiveValue::Set(kept.name.clone()),
            description: ActiveValue::Set(kept.description.clone()),
            word_limit: ActiveValue::Set(i32::try_from(kept.word_limit).unwrap_or(i32::MAX)),
            position: ActiveValue::Set(position),
            eligible_staff_groups: ActiveValue::Set(slugs(kept.eligible.iter().map(|g| g.slug()))),
            eligible_bands: ActiveValue::Set(slugs(kept.bands.iter().map(|b| b.slug()))),
        };
        if kept.id.is_some() {
            category::Entity::update(row).exec(&txn).await?;
        } else {
            category::Entity::insert(row)
                .exec_without_returning(&txn)
                .await?;
        }
    }
    let trust_code = match (found.scope.as_str(), found.scope_code.as_deref()) {
        ("trust", Some(code)) => code,
        _ => "",
    };
    audit::record(
        &txn,
        principal,
        "campaign changed",
        None,
        trust_code,
        &format!("{} ({})", spec.name, found.slug),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A campaign's limit as its column holds it (at most 1,000, so it always fits).
fn stored_limit(limit: Option<NominationsPerNominator>) -> Option<i32> {
    limit.map(|l| i32::try_from(l.get()).unwrap_or(i32::MAX))
}

fn slugs<'a>(slugs: impl Iterator<Item = &'a str>) -> String {
    slugs.collect::<Vec<_>>().join(",")
}
