//! Learning and career routes: apprenticeships, the support workforce framework for Bands 1 to 4,
//! a trust's learning pages. A route belongs to a campaign or to a trust ([`Owner`]). A campaign's
//! fits one of its categories and/or one staff group, or everyone, and whoever may change the
//! campaign's page looks after them; a trust's fits one staff group or everyone, and the trust's
//! admins (its region's, platform admins) look after them, as they do its settings. Both are
//! added, removed and listed (with how often each was opened), each change audited; a nominee is
//! offered the campaign's routes that fit them, then their trust's. A visitor following one adds
//! one to its count and nothing else. A route is parsed at the edge into [`NewRoute`] with every
//! bad field named.

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
use crate::db::entities::{campaign, category, learning_route, trust};
use crate::domain::StaffGroup;
use crate::error::{Error, Result};

/// A route as typed.
#[derive(Debug, Clone, Default)]
pub struct RouteRequest {
    pub title: String,
    pub url: String,
    pub description: String,
    /// One of the campaign's category ids; empty: every category (and always for a trust's).
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
    /// `request` for a campaign whose categories are `Some(categories)`, or for a trust (`None`),
    /// whose routes fit every category.
    pub fn parse(
        request: &RouteRequest,
        categories: Option<&[Uuid]>,
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
        let category_id = match (request.category_id.trim(), categories) {
            ("", _) => Some(None),
            (_, None) => {
                errors.push(FieldError::new(
                    "category_id",
                    "A trust's route fits every category: leave the category empty",
                ));
                None
            }
            (typed, Some(categories)) => match Uuid::parse_str(typed) {
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

/// Whose routes: a campaign's or a trust's.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    Campaign(&'a campaign::Model),
    Trust(&'a trust::Model),
}

impl Owner<'_> {
    /// The trust whose audit log records a change: the campaign's, for a trust's own campaign.
    fn audited_trust(&self) -> &str {
        match self {
            Self::Campaign(found) => trust_of(found),
            Self::Trust(found) => &found.code,
        }
    }

    /// How the audit log names it.
    fn audited_as(&self) -> String {
        match self {
            Self::Campaign(found) => found.slug.clone(),
            Self::Trust(found) => format!("trust {}", found.code),
        }
    }

    fn owns(&self) -> Expr {
        match self {
            Self::Campaign(found) => learning_route::Column::CampaignId.eq(found.id),
            Self::Trust(found) => learning_route::Column::TrustCode.eq(found.code.as_str()),
        }
    }

    /// Who may change its routes: whoever may change the campaign's page, or administers the trust
    /// (the gRPC layer finds a trust through `trusts::administered`, which answers NOT_FOUND to
    /// anyone else, as for its settings).
    fn require_admin(&self, principal: &Principal) -> Result<()> {
        match self {
            Self::Campaign(found) => principal.require(
                principal.administers_campaign(found),
                &format!("change the page of {}", found.name),
            ),
            Self::Trust(found) => principal.require(
                principal.administers_trust(found),
                &format!("change the learning routes of {}", found.name),
            ),
        }
    }
}

/// Parses `request` for `owner` (against a campaign's categories) and adds it, for whoever may
/// change the owner's routes.
pub async fn add(
    db: &DatabaseConnection,
    principal: &Principal,
    owner: Owner<'_>,
    request: &RouteRequest,
) -> Result<learning_route::Model> {
    owner.require_admin(principal)?;
    let route = match owner {
        Owner::Campaign(found) => {
            let categories: Vec<Uuid> = category::Entity::find()
                .filter(category::Column::CampaignId.eq(found.id))
                .all(db)
                .await?
                .into_iter()
                .map(|c| c.id)
                .collect();
            NewRoute::parse(request, Some(&categories))
        }
        Owner::Trust(_) => NewRoute::parse(request, None),
    }
    .map_err(Error::Invalid)?;
    let (campaign_id, trust_code) = match owner {
        Owner::Campaign(found) => (Some(found.id), None),
        Owner::Trust(found) => (None, Some(found.code.clone())),
    };
    let txn = db.begin().await?;
    let model = learning_route::Model {
        id: Uuid::now_v7(),
        campaign_id,
        trust_code,
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
        owner.audited_trust(),
        &format!("on {}: {} ({})", owner.audited_as(), route.title, route.url),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Removes route `id` from `owner`, for whoever may change its routes; NOT_FOUND if it is not
/// there.
pub async fn remove(
    db: &DatabaseConnection,
    principal: &Principal,
    owner: Owner<'_>,
    id: Uuid,
) -> Result<()> {
    owner.require_admin(principal)?;
    let txn = db.begin().await?;
    let route = learning_route::Entity::find_by_id(id)
        .filter(owner.owns())
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound("that learning route".into()))?;
    learning_route::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        principal,
        "learning route removed",
        None,
        owner.audited_trust(),
        &format!("on {}: {} ({})", owner.audited_as(), route.title, route.url),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// `owner`'s routes with their counts, for whoever may change them.
pub async fn list(
    db: &DatabaseConnection,
    principal: &Principal,
    owner: Owner<'_>,
) -> Result<Vec<learning_route::Model>> {
    owner.require_admin(principal)?;
    of(db, owner).await
}

/// `owner`'s routes, as added.
pub async fn of(
    db: &impl sea_orm::ConnectionTrait,
    owner: Owner<'_>,
) -> Result<Vec<learning_route::Model>> {
    owned_by(db, owner.owns()).await
}

async fn owned_by(
    db: &impl sea_orm::ConnectionTrait,
    owner: Expr,
) -> Result<Vec<learning_route::Model>> {
    Ok(learning_route::Entity::find()
        .filter(owner)
        .order_by_asc(learning_route::Column::CreatedAt)
        .order_by_asc(learning_route::Column::Id)
        .all(db)
        .await?)
}

/// What a campaign's public page lists: its own routes, then (for a trust's own campaign) the
/// trust's, each as added.
pub async fn on_page_of(
    db: &impl sea_orm::ConnectionTrait,
    found: &campaign::Model,
) -> Result<Vec<learning_route::Model>> {
    let mut routes = of(db, Owner::Campaign(found)).await?;
    if let ("trust", Some(code)) = (found.scope.as_str(), found.scope_code.as_deref()) {
        routes.extend(owned_by(db, learning_route::Column::TrustCode.eq(code)).await?);
    }
    Ok(routes)
}

/// The routes offered to a nominee of `nominee_trust` nominated in `campaign`'s `category_id`
/// and `staff_group`, as the events carry them: the campaign's routes naming that category or
/// none and that staff group or none, then the trust's naming that staff group or none (leaving
/// out one whose address the campaign already offers); each as added, linked through the page that
/// counts its opens.
pub async fn links_fitting(
    db: &impl sea_orm::ConnectionTrait,
    campaign: &campaign::Model,
    nominee_trust: &trust::Model,
    category_id: Uuid,
    staff_group: &str,
) -> Result<Vec<LearningRouteLink>> {
    let fits = |route: &learning_route::Model| {
        route.category_id.is_none_or(|id| id == category_id)
            && (route.staff_group.is_empty() || route.staff_group == staff_group)
    };
    let campaigns: Vec<learning_route::Model> = of(db, Owner::Campaign(campaign))
        .await?
        .into_iter()
        .filter(fits)
        .collect();
    let trusts: Vec<learning_route::Model> = of(db, Owner::Trust(nominee_trust))
        .await?
        .into_iter()
        .filter(|route| fits(route) && !campaigns.iter().any(|c| c.url == route.url))
        .collect();
    Ok(campaigns
        .into_iter()
        .map(|route| LearningRouteLink {
            title: route.title,
            description: route.description,
            campaign_slug: campaign.slug.clone(),
            route_id: route.id.to_string(),
            trust_code: String::new(),
        })
        .chain(trusts.into_iter().map(|route| LearningRouteLink {
            title: route.title,
            description: route.description,
            campaign_slug: String::new(),
            route_id: route.id.to_string(),
            trust_code: nominee_trust.code.clone(),
        }))
        .collect())
}

/// Whose route a visitor follows, as the link's path names it.
#[derive(Debug, Clone, Copy)]
pub enum Followed<'a> {
    /// `/campaigns/{slug}/routes/{id}`
    Campaign(&'a str),
    /// `/trusts/{code}/routes/{id}`
    Trust(&'a str),
}

/// A visitor follows route `id` of the campaign or trust the link names: one more open, and its
/// stored address. NOT_FOUND for anything else, so that nothing typed into the request is ever
/// sent back.
pub async fn open(db: &DatabaseConnection, followed: Followed<'_>, id: Uuid) -> Result<String> {
    let not_found = || Error::NotFound("that learning route".into());
    let owned = match followed {
        Followed::Campaign(slug) => {
            let found = campaign::Entity::find()
                .filter(campaign::Column::Slug.eq(slug))
                .one(db)
                .await?
                .ok_or_else(not_found)?;
            learning_route::Column::CampaignId.eq(found.id)
        }
        Followed::Trust(code) => learning_route::Column::TrustCode.eq(code.to_ascii_uppercase()),
    };
    let route = learning_route::Entity::find_by_id(id)
        .filter(owned)
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

    fn fields(request: &RouteRequest, categories: Option<&[Uuid]>) -> Vec<String> {
        NewRoute::parse(request, categories)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn every_bad_field_is_named() {
        assert_eq!(
            fields(&RouteRequest::default(), Some(&[])),
            ["title", "url"]
        );
        let bad = RouteRequest {
            title: "Apprenticeships".into(),
            url: "http://example.org/".into(),
            description: "a\u{0}b".into(),
            category_id: Uuid::now_v7().to_string(),
            staff_group: "surgeons".into(),
        };
        assert_eq!(
            fields(&bad, Some(&[Uuid::now_v7()])),
            ["url", "description", "category_id", "staff_group"]
        );
        let long = RouteRequest {
            title: "x".repeat(121),
            url: format!("https://example.org/{}", "a".repeat(500)),
            ..RouteRequest::default()
        };
        assert_eq!(fields(&long, Some(&[])), ["title", "url"]);
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
            Some(&[category]),
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
            Some(&[]),
        )
        .unwrap();
        assert_eq!((anyone.category_id, anyone.staff_group), (None, None));
    }

    #[test]
    fn a_trusts_route_fits_every_category_and_may_name_a_staff_group() {
        let request = RouteRequest {
            title: "Our trust's apprenticeships".into(),
            url: "https://www.example.nhs.uk/careers".into(),
            staff_group: "administrative-and-clerical".into(),
            ..RouteRequest::default()
        };
        let route = NewRoute::parse(&request, None).unwrap();
        assert_eq!(route.category_id, None);
        assert_eq!(
            route.staff_group,
            Some(StaffGroup::AdministrativeAndClerical)
        );
        let with_category = RouteRequest {
            category_id: Uuid::now_v7().to_string(),
            ..request
        };
        assert_eq!(fields(&with_category, None), ["category_id"]);
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
