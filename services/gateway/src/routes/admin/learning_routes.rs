//! A campaign's learning and career routes (`/admin/campaigns/{slug}/routes`): apprenticeships,
//! the support workforce framework for Bands 1 to 4, a trust's learning pages, each fitting one of
//! the campaign's categories and/or a staff group, or everyone. Whoever may change the campaign's
//! page adds and removes them here and sees how often each was opened from the public page (a
//! count, nothing about who). The nomination service checks who may and names every bad field.

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_proto::nomination::v1::{
    AddLearningRouteRequest, Campaign, LearningRoute, ListLearningRoutesRequest,
    RemoveLearningRouteRequest,
};

use super::signed::{AdminResult, ButtonForm, DoneQuery, Signed, check_csrf};
use crate::routes::campaign_view::CampaignView;
use crate::routes::forms;
use crate::routes::page::{see_other, segment};
use crate::templates;

fn path_of(slug: &str) -> String {
    format!("/admin/campaigns/{}/routes", segment(slug))
}

const FIELDS: &[&str] = &["title", "url", "description", "category_id", "staff_group"];

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct RouteForm {
    #[serde(skip_serializing)]
    csrf_token: String,
    title: String,
    url: String,
    description: String,
    category_id: String,
    staff_group: String,
}

impl RouteForm {
    fn route(&self) -> LearningRoute {
        LearningRoute {
            title: self.title.clone(),
            url: self.url.clone(),
            description: self.description.clone(),
            category_id: self.category_id.clone(),
            staff_group: self.staff_group.clone(),
            ..LearningRoute::default()
        }
    }
}

/// Whom a route is for, in words: "Porter of the year, Estates and ancillary (…)", or "Everyone".
pub(crate) fn fits(campaign: &Campaign, route: &LearningRoute) -> String {
    let category = campaign
        .categories
        .iter()
        .find(|c| !route.category_id.is_empty() && c.id == route.category_id)
        .map(|c| c.name.as_str());
    let group = campaign
        .staff_groups
        .iter()
        .find(|g| !route.staff_group.is_empty() && g.value == route.staff_group)
        .map(|g| g.label.as_str());
    let named: Vec<&str> = [category, group].into_iter().flatten().collect();
    if named.is_empty() {
        "Everyone".to_owned()
    } else {
        named.join(", ")
    }
}

async fn page(
    signed: &Signed,
    headers: &HeaderMap,
    slug: &str,
    form: &RouteForm,
    done: Option<&str>,
    errors: &[FieldError],
) -> AdminResult<Response> {
    let campaign = signed.campaign(slug).await?;
    let routes = signed
        .nomination()
        .list_learning_routes(signed.signed(ListLearningRoutesRequest {
            campaign_id: campaign.id.clone(),
        }))
        .await
        .map_err(|s| signed.fail(s))?
        .into_inner()
        .routes;
    let routes: Vec<minijinja::Value> = routes
        .iter()
        .map(|route| {
            context! {
                id => segment(&route.id),
                title => route.title,
                url => route.url,
                description => route.description,
                fits => fits(&campaign, route),
                opens => route.opens,
            }
        })
        .collect();
    let categories: Vec<minijinja::Value> = campaign
        .categories
        .iter()
        .map(|c| context! { value => c.id, label => c.name })
        .collect();
    let staff_groups: Vec<minijinja::Value> = campaign
        .staff_groups
        .iter()
        .map(|g| context! { value => g.value, label => g.label })
        .collect();
    let view = CampaignView::from(&campaign);
    let summary = forms::summary(errors, FIELDS, |_| None);
    Ok(forms::form_page(
        headers,
        forms::status_for(errors),
        |csrf_token| {
            templates::render(
                "admin/learning_routes.html",
                context! {
                    page_title => format!("Learning and career routes: {}", campaign.name),
                    campaign => view,
                    path => path_of(&campaign.slug),
                    routes => routes,
                    categories => categories,
                    staff_groups => staff_groups,
                    form => form,
                    done => done,
                    csrf_token => csrf_token,
                    field_errors => forms::by_field(&summary),
                    errors => summary,
                },
            )
        },
    )?)
}

/// `GET /admin/campaigns/{slug}/routes`
pub async fn show(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<DoneQuery>,
) -> AdminResult<Response> {
    let done = match query.done.as_str() {
        "added" => Some("Route added to the campaign's page"),
        "removed" => Some("Route removed from the campaign's page"),
        _ => None,
    };
    page(&signed, &headers, &slug, &RouteForm::default(), done, &[]).await
}

/// `POST /admin/campaigns/{slug}/routes`: adds a route.
pub async fn add(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<RouteForm>,
) -> AdminResult<Response> {
    let path = path_of(&slug);
    check_csrf(&headers, &form.csrf_token, &path)?;
    let campaign = signed.campaign(&slug).await?;
    let added = signed
        .nomination()
        .add_learning_route(signed.signed(AddLearningRouteRequest {
            campaign_id: campaign.id,
            route: Some(form.route()),
        }))
        .await;
    match added {
        Ok(_) => Ok(see_other(&format!("{path}?done=added"))?),
        Err(status) if status.code() == Code::InvalidArgument => {
            let errors = valued_platform::grpc::field_errors(&status);
            page(&signed, &headers, &slug, &form, None, &errors).await
        }
        Err(status) => Err(signed.fail(status)),
    }
}

/// `POST /admin/campaigns/{slug}/routes/{id}/remove`
pub async fn remove(
    signed: Signed,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
    Form(form): Form<ButtonForm>,
) -> AdminResult<Response> {
    let path = path_of(&slug);
    check_csrf(&headers, &form.csrf_token, &path)?;
    let campaign = signed.campaign(&slug).await?;
    signed
        .nomination()
        .remove_learning_route(signed.signed(RemoveLearningRouteRequest {
            campaign_id: campaign.id,
            route_id: id,
        }))
        .await
        .map_err(|s| signed.fail(s))?;
    Ok(see_other(&format!("{path}?done=removed"))?)
}
