//! Learning and career routes: apprenticeships, the support workforce framework for Bands 1 to 4,
//! a trust's learning pages. A campaign's (`/admin/campaigns/{slug}/routes`) each fit one of its
//! categories and/or a staff group, or everyone, and whoever may change the campaign's page looks
//! after them; a trust's (`/admin/trusts/{code}/routes`) each fit a staff group or everyone, are
//! offered to the trust's nominees beside their campaign's, and its admins look after them. Both
//! pages add and remove routes and show how often each was opened (a count, nothing about who).
//! The nomination service checks who may and names every bad field.

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_proto::nomination::v1::{
    AddLearningRouteRequest, AddTrustLearningRouteRequest, Campaign, Category, Choice,
    LearningRoute, ListLearningRoutesRequest, ListTrustLearningRoutesRequest,
    RemoveLearningRouteRequest, RemoveTrustLearningRouteRequest,
};

use super::signed::{AdminResult, ButtonForm, DoneQuery, Signed, check_csrf};
use crate::routes::campaign_view::CampaignView;
use crate::routes::forms;
use crate::routes::page::{see_other, segment};
use crate::templates;

fn path_of(slug: &str) -> String {
    format!("/admin/campaigns/{}/routes", segment(slug))
}

fn trust_path_of(code: &str) -> String {
    format!("/admin/trusts/{}/routes", segment(code))
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
pub(crate) fn fits(
    categories: &[Category],
    staff_groups: &[Choice],
    route: &LearningRoute,
) -> String {
    let category = categories
        .iter()
        .find(|c| !route.category_id.is_empty() && c.id == route.category_id)
        .map(|c| c.name.as_str());
    let group = staff_groups
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

/// Whose routes a page shows: a campaign's (which fit its categories too) or a trust's.
enum Owner {
    Campaign(Box<Campaign>),
    Trust {
        code: String,
        name: String,
        staff_groups: Vec<Choice>,
    },
}

/// The choices of a select, as the form macros take them.
fn options<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<minijinja::Value> {
    pairs
        .map(|(value, label)| context! { value => value, label => label })
        .collect()
}

/// The page of `owner`'s `routes`, with the form as typed and any errors.
fn page(
    headers: &HeaderMap,
    owner: &Owner,
    routes: &[LearningRoute],
    (form, done, errors): (&RouteForm, Option<&str>, &[FieldError]),
) -> AdminResult<Response> {
    let (categories, staff_groups): (&[Category], &[Choice]) = match owner {
        Owner::Campaign(campaign) => (&campaign.categories, &campaign.staff_groups),
        Owner::Trust { staff_groups, .. } => (&[], staff_groups),
    };
    let routes: Vec<minijinja::Value> = routes
        .iter()
        .map(|route| {
            context! {
                id => segment(&route.id),
                title => route.title,
                url => route.url,
                description => route.description,
                fits => fits(categories, staff_groups, route),
                opens => route.opens,
            }
        })
        .collect();
    let (page_title, path, campaign, trust) = match owner {
        Owner::Campaign(campaign) => (
            format!("Learning and career routes: {}", campaign.name),
            path_of(&campaign.slug),
            Some(CampaignView::from(campaign.as_ref())),
            None,
        ),
        Owner::Trust { code, name, .. } => (
            format!("Learning and career routes: {name}"),
            trust_path_of(code),
            None,
            Some(context! { code => code, name => name }),
        ),
    };
    let categories = options(categories.iter().map(|c| (c.id.as_str(), c.name.as_str())));
    let staff_groups = options(
        staff_groups
            .iter()
            .map(|g| (g.value.as_str(), g.label.as_str())),
    );
    let summary = forms::summary(errors, FIELDS, |_| None);
    Ok(forms::form_page(
        headers,
        forms::status_for(errors),
        |csrf_token| {
            templates::render(
                "admin/learning_routes.html",
                context! {
                    page_title => page_title,
                    campaign => campaign,
                    trust => trust,
                    path => path,
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

async fn campaign_page(
    signed: &Signed,
    headers: &HeaderMap,
    slug: &str,
    shown: (&RouteForm, Option<&str>, &[FieldError]),
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
    page(
        headers,
        &Owner::Campaign(Box::new(campaign)),
        &routes,
        shown,
    )
}

/// The banner after an add or a remove at `place`: "Route added to the campaign's page".
fn done_of(query: &DoneQuery, place: &str) -> Option<String> {
    match query.done.as_str() {
        "added" => Some(format!("Route added to {place}")),
        "removed" => Some(format!("Route removed from {place}")),
        _ => None,
    }
}

/// What an add answers: back to the page at `path` with its banner; for bad input, the page again
/// (`again`) with the fields the service named; anything else fails.
async fn answer_add<T>(
    signed: &Signed,
    path: &str,
    added: std::result::Result<T, tonic::Status>,
    again: impl AsyncFnOnce(Vec<FieldError>) -> AdminResult<Response>,
) -> AdminResult<Response> {
    match added {
        Ok(_) => Ok(see_other(&format!("{path}?done=added"))?),
        Err(status) if status.code() == Code::InvalidArgument => {
            again(valued_platform::grpc::field_errors(&status)).await
        }
        Err(status) => Err(signed.fail(status)),
    }
}

/// `GET /admin/campaigns/{slug}/routes`
pub async fn show(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<DoneQuery>,
) -> AdminResult<Response> {
    let done = done_of(&query, "the campaign's page");
    let shown = (&RouteForm::default(), done.as_deref(), &[][..]);
    campaign_page(&signed, &headers, &slug, shown).await
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
    answer_add(&signed, &path, added, async |errors: Vec<FieldError>| {
        campaign_page(&signed, &headers, &slug, (&form, None, &errors)).await
    })
    .await
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

async fn trust_page(
    signed: &Signed,
    headers: &HeaderMap,
    code: &str,
    shown: (&RouteForm, Option<&str>, &[FieldError]),
) -> AdminResult<Response> {
    let listed = signed
        .nomination()
        .list_trust_learning_routes(signed.signed(ListTrustLearningRoutesRequest {
            trust_code: code.to_owned(),
        }))
        .await
        .map_err(|s| signed.fail(s))?
        .into_inner();
    let owner = Owner::Trust {
        code: code.to_ascii_uppercase(),
        name: listed.trust_name,
        staff_groups: listed.staff_groups,
    };
    page(headers, &owner, &listed.routes, shown)
}

/// `GET /admin/trusts/{code}/routes`: the trust's own routes, which its nominees are offered in
/// whichever campaign thanks them, and its trust-wide campaigns' pages show.
pub async fn show_trust(
    signed: Signed,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(query): Query<DoneQuery>,
) -> AdminResult<Response> {
    let done = done_of(&query, "the trust's routes");
    let shown = (&RouteForm::default(), done.as_deref(), &[][..]);
    trust_page(&signed, &headers, &code, shown).await
}

/// `POST /admin/trusts/{code}/routes`: adds a route to the trust.
pub async fn add_to_trust(
    signed: Signed,
    headers: HeaderMap,
    Path(code): Path<String>,
    Form(form): Form<RouteForm>,
) -> AdminResult<Response> {
    let path = trust_path_of(&code);
    check_csrf(&headers, &form.csrf_token, &path)?;
    let added = signed
        .nomination()
        .add_trust_learning_route(signed.signed(AddTrustLearningRouteRequest {
            trust_code: code.clone(),
            route: Some(form.route()),
        }))
        .await;
    answer_add(&signed, &path, added, async |errors: Vec<FieldError>| {
        trust_page(&signed, &headers, &code, (&form, None, &errors)).await
    })
    .await
}

/// `POST /admin/trusts/{code}/routes/{id}/remove`
pub async fn remove_from_trust(
    signed: Signed,
    headers: HeaderMap,
    Path((code, id)): Path<(String, String)>,
    Form(form): Form<ButtonForm>,
) -> AdminResult<Response> {
    let path = trust_path_of(&code);
    check_csrf(&headers, &form.csrf_token, &path)?;
    signed
        .nomination()
        .remove_trust_learning_route(signed.signed(RemoveTrustLearningRouteRequest {
            trust_code: code,
            route_id: id,
        }))
        .await
        .map_err(|s| signed.fail(s))?;
    Ok(see_other(&format!("{path}?done=removed"))?)
}
