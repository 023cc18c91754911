//! The loaders the public and signed-in flows share: a campaign (with its trusts and categories), a
//! category of a campaign, a trust open to a campaign, a nomination with its trust, a nominee.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use uuid::Uuid;
use valued_platform::domain::FieldError;

use super::entities::{
    campaign, campaign_item, campaign_trust, category, learning_route, nomination, nominee, site,
    trust,
};
use crate::domain::RecordId;
use crate::error::{Error, Result};

/// A campaign with the trusts it is open to, its categories in display order, and its page's key
/// dates (soonest first), resources and news (newest first).
#[derive(Debug, Clone)]
pub struct CampaignView {
    pub campaign: campaign::Model,
    pub trusts: Vec<trust::Model>,
    /// The sites of those trusts, by name.
    pub sites: Vec<site::Model>,
    pub categories: Vec<category::Model>,
    pub items: Vec<campaign_item::Model>,
    /// The files of those items that are uploaded resources, by item, without their content.
    pub files: std::collections::HashMap<Uuid, crate::admin::page_files::FileMeta>,
    /// Its learning and career routes, then (for a trust's own campaign) its trust's, as added.
    pub learning_routes: Vec<learning_route::Model>,
}

pub async fn campaign_views(db: &impl ConnectionTrait) -> Result<Vec<CampaignView>> {
    let campaigns = campaign::Entity::find()
        .order_by_asc(campaign::Column::Name)
        .all(db)
        .await?;
    let mut views = Vec::with_capacity(campaigns.len());
    for campaign in campaigns {
        views.push(view(db, campaign).await?);
    }
    Ok(views)
}

pub async fn campaign_by_slug(db: &impl ConnectionTrait, slug: &str) -> Result<CampaignView> {
    let campaign = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq(slug))
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("campaign {slug}")))?;
    view(db, campaign).await
}

async fn view(db: &impl ConnectionTrait, campaign: campaign::Model) -> Result<CampaignView> {
    let trusts = trusts_of(db, &campaign).await?;
    let sites = site::Entity::find()
        .filter(site::Column::TrustCode.is_in(trusts.iter().map(|t| t.code.as_str())))
        .order_by_asc(site::Column::Name)
        .all(db)
        .await?;
    let categories = category::Entity::find()
        .filter(category::Column::CampaignId.eq(campaign.id))
        .order_by_asc(category::Column::Position)
        .all(db)
        .await?;
    let mut items = campaign_item::Entity::find()
        .filter(campaign_item::Column::CampaignId.eq(campaign.id))
        .order_by_asc(campaign_item::Column::CreatedAt)
        .all(db)
        .await?;
    // Each kind apart: dates soonest first, news newest first, resources as added (stable).
    items.sort_by_key(|item| {
        let at = item.at.map_or(0, |at| at.timestamp());
        match item.kind.as_str() {
            "date" => (0, at),
            "news" => (1, -at),
            _ => (2, 0),
        }
    });
    let resources: Vec<Uuid> = items
        .iter()
        .filter(|item| item.kind == "resource" && item.url.is_empty())
        .map(|item| item.id)
        .collect();
    let files = crate::admin::page_files::metas_of(db, &resources).await?;
    let learning_routes = crate::admin::learning_routes::on_page_of(db, &campaign).await?;
    Ok(CampaignView {
        campaign,
        trusts,
        sites,
        categories,
        items,
        files,
        learning_routes,
    })
}

/// The trusts a campaign is open to, by name.
pub async fn trusts_of(
    db: &impl ConnectionTrait,
    campaign: &campaign::Model,
) -> Result<Vec<trust::Model>> {
    let codes: Vec<String> = campaign_trust::Entity::find()
        .filter(campaign_trust::Column::CampaignId.eq(campaign.id))
        .all(db)
        .await?
        .into_iter()
        .map(|link| link.trust_code)
        .collect();
    Ok(trust::Entity::find()
        .filter(trust::Column::Code.is_in(codes))
        .order_by_asc(trust::Column::Name)
        .all(db)
        .await?)
}

pub async fn campaign(db: &impl ConnectionTrait, id: &RecordId) -> Result<campaign::Model> {
    let not_found = || Error::NotFound(format!("campaign {id}"));
    let id = id.id().ok_or_else(not_found)?;
    campaign::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)
}

/// One of the campaign's categories; anything else is the caller's mistake.
pub async fn category_of(
    db: &impl ConnectionTrait,
    campaign: &campaign::Model,
    category_id: &RecordId,
) -> Result<category::Model> {
    let invalid = || {
        Error::Invalid(vec![FieldError::new(
            "category_id",
            "Select a category of this campaign",
        )])
    };
    let id = category_id.id().ok_or_else(invalid)?;
    category::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|c| c.campaign_id == campaign.id)
        .ok_or_else(invalid)
}

/// The trust, when the campaign is open to it.
pub async fn trust_in_campaign(
    db: &impl ConnectionTrait,
    campaign_id: Uuid,
    code: &str,
) -> Result<Option<trust::Model>> {
    use sea_orm::sea_query::Query;
    let linked = Query::select()
        .column(campaign_trust::Column::TrustCode)
        .from(campaign_trust::Entity)
        .and_where(campaign_trust::Column::CampaignId.eq(campaign_id))
        .to_owned();
    Ok(trust::Entity::find_by_id(code.to_owned())
        .filter(trust::Column::Code.in_subquery(linked))
        .one(db)
        .await?)
}

pub async fn nomination(db: &impl ConnectionTrait, id: &RecordId) -> Result<nomination::Model> {
    let not_found = || Error::NotFound(format!("nomination {id}"));
    let id = id.id().ok_or_else(not_found)?;
    nomination::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)
}

/// A nomination with the trust it belongs to, loaded for an admin action.
pub async fn nomination_and_trust(
    db: &impl ConnectionTrait,
    id: &RecordId,
) -> Result<(nomination::Model, trust::Model)> {
    let nomination = nomination(db, id).await?;
    let trust = trust(db, &nomination.trust_code).await?;
    Ok((nomination, trust))
}

pub async fn trust(db: &impl ConnectionTrait, code: &str) -> Result<trust::Model> {
    trust::Entity::find_by_id(code.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("trust {code}")))
}

pub async fn nomination_count(db: &impl ConnectionTrait) -> Result<u64> {
    Ok(nomination::Entity::find().count(db).await?)
}

/// A nominee and how many nominations name them.
pub async fn nominee(db: &impl ConnectionTrait, id: &RecordId) -> Result<(nominee::Model, u64)> {
    let not_found = || Error::NotFound(format!("nominee {id}"));
    let id = id.id().ok_or_else(not_found)?;
    let nominee = nominee::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let count = nomination::Entity::find()
        .filter(nomination::Column::NomineeId.eq(id))
        .count(db)
        .await?;
    Ok((nominee, count))
}
