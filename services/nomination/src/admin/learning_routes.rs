//! A campaign's learning and career routes: apprenticeships, the support workforce framework for
//! Bands 1 to 4, a trust's learning pages. Each fits one of the campaign's categories and/or one
//! staff group, or everyone. Whoever may change the campaign's page adds, removes and lists them
//! (with how often each was opened), each change audited; a visitor following one from a public
//! page adds one to its count and nothing else. A route is parsed at the edge into [`NewRoute`]
//! with every bad field named.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use uuid::Uuid;
use valued_platform::domain::{FieldError, FieldErrors, is_blank, single_line};
use valued_proto::events::v1::LearningRouteLink;

use crate::admin::audit;
use crate::admin::page_items::trust_of;
use crate::auth::Principal;
use crate::db::entities::{campaign, category, learning_route};
use crate::domain::StaffGroup;
use crate::error::{Error, Result};

/// A route as typed.
#[derive(Debug, Clone, Default)]
pub struct RouteRequest {
    pub title: String,
    pub url: String,
    pub description: String,
    /// One of the campaign's category ids; empty: every category.
    pub category_id: String,
    /// A staff-group slug; empty: every group.
    pub staff_group: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRoute {
    pub title: String,
    pub url: String,
    pub description: String,
    pub category_id: Option<Uuid>,
    pub staff_group: Option<StaffGroup>,
}

impl NewRoute {
    /// `request` for a campaign whose categories are `categories`.
    pub fn parse(
        request: &RouteRequest,
        categories: &[Uuid],
    ) -> std::result::Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let title = errors.check(single_line("title", "the title", &request.title, 120));
        let url = errors.check(parse_https_url(&request.url));
        let description = if is_blank(&request.description) {
            Some(String::new())
        } else {
            errors.check(single_line(
                "description",
                "the description",
                &request.description,
                300,
            ))
        };
        let category_id = match request.category_id.trim() {
            "" => Some(None),
            typed => match Uuid::parse_str(typed) {
                Ok(id) if categories.contains(&id) => Some(Some(id)),
                _ => {
                    errors.push(FieldError::new(
                        "category_id",
                        "Select a category of this campaign, or every category",
                    ));
                    None
                }
            },
        };
        let staff_group = if request.staff_group.trim().is_empty() {
            Some(None)
        } else {
            match StaffGroup::parse(&request.staff_group) {
                Ok(group) => Some(Some(group)),
                Err(_) => {
                    errors.push(FieldError::new(
                        "staff_group",
                        "Select a staff group from the list, or every staff group",
                    ));
                    None
                }
            }
        };
        errors.into_result()?;
        match (title, url, description, category_id, staff_group) {
            (Some(title), Some(url), Some(description), Some(category_id), Some(staff_group)) => {
                Ok(Self {
                    title,
                    url,
                    description,
                    category_id,
                    staff_group,
                })
            }
            _ => Err(vec![FieldError::new("title", "Enter the title")]),
        }
    }
}

/// A route's link: `https://` and a host with a dot, at most 500 characters, no spaces, quotes or
/// angle brackets.
fn parse_https_url(typed: &str) -> std::result::Result<String, FieldError> {
    let url = typed.trim();
    let ok = url.len() <= 500
        && url.strip_prefix("https://").is_some_and(|rest| {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            host.contains('.') && !host.starts_with('.') && !host.contains('@')
        })
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>');
    if ok {
        Ok(url.to_owned())
    } else {
        Err(FieldError::new(
            "url",
            "Enter the link as a web address starting with https://, like https://www.healthcareers.nhs.uk/",
        ))
    }
}

fn require_page_admin(principal: &Principal, found: &campaign::Model) -> Result<()> {
    principal.require(
        principal.administers_campaign(found),
        &format!("change the page of {}", found.name),
    )
}

/// Parses `request` against `found`'s categories and adds it, for whoever may change the
/// campaign's page.
pub async fn add(
    db: &DatabaseConnection,
    principal: &Principal,
    found: &campaign::Model,
    request: &RouteRequest,
) -> Result<learning_route::Model> {
    require_page_admin(principal, found)?;
    let categories: Vec<Uuid> = category::Entity::find()
        .filter(category::Column::CampaignId.eq(found.id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let route = NewRoute::parse(request, &categories).map_err(Error::Invalid)?;
    let txn = db.begin().await?;
    let model = learning_route::Model {
        id: Uuid::now_v7(),
        campaign_id: found.id,
        title: route.title.clone(),
        url: route.url.clone(),
        description: route.description.clone(),
        category_id: route.category_id,
        staff_group: route
            .staff_group
            .map(|g| g.slug().to_owned())
            .unwrap_or_default(),
        opens: 0,
        created_at: Utc::now(),
    };
    learning_route::Entity::insert(learning_route::ActiveModel::from(model.clone()))
        .exec_without_returning(&txn)
        .await?;
    audit::record(
        &txn,
        principal,
        "learning route added",
        None,
        trust_of(found),
        &format!("on {}: {} ({})", found.slug, route.title, route.url),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Removes route `id` from `found`, for whoever may change its page; NOT_FOUND if it is not there.
pub async fn remove(
    db: &DatabaseConnection,
    principal: &Principal,
    found: &campaign::Model,
    id: Uuid,
) -> Result<()> {
    require_page_admin(principal, found)?;
    let txn = db.begin().await?;
    let route = learning_route::Entity::find_by_id(id)
        .filter(learning_route::Column::CampaignId.eq(found.id))
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound("that learning route of the campaign".into()))?;
    learning_route::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        principal,
        "learning route removed",
        None,
        trust_of(found),
        &format!("on {}: {} ({})", found.slug, route.title, route.url),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// `found`'s routes with their counts, for whoever may change its page.
pub async fn list(
    db: &DatabaseConnection,
    principal: &Principal,
    found: &campaign::Model,
) -> Result<Vec<learning_route::Model>> {
    require_page_admin(principal, found)?;
    of_campaign(db, found.id).await
}

/// A campaign's routes, as added.
pub async fn of_campaign(
    db: &impl sea_orm::ConnectionTrait,
    campaign_id: Uuid,
) -> Result<Vec<learning_route::Model>> {
    Ok(learning_route::Entity::find()
        .filter(learning_route::Column::CampaignId.eq(campaign_id))
        .order_by_asc(learning_route::Column::CreatedAt)
        .order_by_asc(learning_route::Column::Id)
        .all(db)
        .await?)
}

/// The campaign's routes that fit a nomination in `category_id` of someone in `staff_group`: those
/// naming that category or none, and that staff group or none; as added.
pub async fn fitting(
    db: &impl sea_orm::ConnectionTrait,
    campaign_id: Uuid,
    category_id: Uuid,
    staff_group: &str,
) -> Result<Vec<learning_route::Model>> {
    Ok(of_campaign(db, campaign_id)
        .await?
        .into_iter()
        .filter(|route| route.category_id.is_none_or(|id| id == category_id))
        .filter(|route| route.staff_group.is_empty() || route.staff_group == staff_group)
        .collect())
}

/// [`fitting`] as the events carry them: each route linked through the campaign's page.
pub async fn links_fitting(
    db: &impl sea_orm::ConnectionTrait,
    campaign: &campaign::Model,
    category_id: Uuid,
    staff_group: &str,
) -> Result<Vec<LearningRouteLink>> {
    Ok(fitting(db, campaign.id, category_id, staff_group)
        .await?
        .into_iter()
        .map(|route| LearningRouteLink {
            title: route.title,
            description: route.description,
            campaign_slug: campaign.slug.clone(),
            route_id: route.id.to_string(),
        })
        .collect())
}

/// A visitor follows route `id` of the campaign at `slug`: one more open, and its stored address.
/// NOT_FOUND for anything else, so that nothing typed into the request is ever sent back.
pub async fn open(db: &DatabaseConnection, slug: &str, id: Uuid) -> Result<String> {
    let not_found = || Error::NotFound("that learning route".into());
    let found = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq(slug))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let route = learning_route::Entity::find_by_id(id)
        .filter(learning_route::Column::CampaignId.eq(found.id))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    // One statement, so that opens at the same moment are each counted.
    learning_route::Entity::update_many()
        .col_expr(
            learning_route::Column::Opens,
            Expr::col(learning_route::Column::Opens).add(1),
        )
        .filter(learning_route::Column::Id.eq(route.id))
        .exec(db)
        .await?;
    Ok(route.url)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fields(request: &RouteRequest, categories: &[Uuid]) -> Vec<String> {
        NewRoute::parse(request, categories)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn every_bad_field_is_named() {
        assert_eq!(fields(&RouteRequest::default(), &[]), ["title", "url"]);
        let bad = RouteRequest {
            title: "Apprenticeships".into(),
            url: "http://example.org/".into(),
            description: "a\u{0}b".into(),
            category_id: Uuid::now_v7().to_string(),
            staff_group: "surgeons".into(),
        };
        assert_eq!(
            fields(&bad, &[Uuid::now_v7()]),
            ["url", "description", "category_id", "staff_group"]
        );
        let long = RouteRequest {
            title: "x".repeat(121),
            url: format!("https://example.org/{}", "a".repeat(500)),
            ..RouteRequest::default()
        };
        assert_eq!(fields(&long, &[]), ["title", "url"]);
    }

    #[test]
    fn a_good_route_fits_what_it_names() {
        let category = Uuid::now_v7();
        let route = NewRoute::parse(
            &RouteRequest {
                title: "Support workforce framework (Bands 1 to 4)".into(),
                url: " https://www.hee.nhs.uk/our-work/talent-for-care ".into(),
                description: String::new(),
                category_id: category.to_string(),
                staff_group: "estates-and-ancillary".into(),
            },
            &[category],
        )
        .unwrap();
        assert_eq!(route.url, "https://www.hee.nhs.uk/our-work/talent-for-care");
        assert_eq!(route.category_id, Some(category));
        assert_eq!(route.staff_group, Some(StaffGroup::EstatesAndAncillary));
        assert_eq!(route.description, "");
        let anyone = NewRoute::parse(
            &RouteRequest {
                title: "Apprenticeships".into(),
                url: "https://www.apprenticeships.gov.uk/".into(),
                ..RouteRequest::default()
            },
            &[],
        )
        .unwrap();
        assert_eq!((anyone.category_id, anyone.staff_group), (None, None));
    }

    #[test]
    fn only_https_links_are_taken() {
        for bad in [
            "",
            "example.org",
            "http://example.org/",
            "javascript:alert(1)",
            "https://",
            "https://localhost/",
            "https://user@evil.example/",
            "https://ex ample.org",
            r#"https://example.org/"><script>"#,
            "//example.org/",
        ] {
            assert!(parse_https_url(bad).is_err(), "{bad}");
        }
        for good in [
            "https://www.healthcareers.nhs.uk/",
            "https://example.org/a?b=c#d",
        ] {
            assert_eq!(parse_https_url(good).as_deref(), Ok(good));
        }
    }
}
