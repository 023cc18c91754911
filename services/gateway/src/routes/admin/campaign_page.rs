//! What a campaign's page shows besides its categories (`/admin/campaigns/{slug}/page`): key dates
//! (its own events, like One Team week or the ceremony), resources (posters, toolkits, links) and
//! news, added and removed by the campaign's admins. The nomination service checks who may and
//! names every bad field.

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_platform::uk_time;
use valued_proto::nomination::v1::{
    AddCampaignItemRequest, CampaignItem, RemoveCampaignItemRequest,
};

use super::signed::{AdminResult, ButtonForm, DoneQuery, Signed, check_csrf};
use crate::routes::campaign_view::CampaignView;
use crate::routes::forms;
use crate::routes::page::{see_other, segment};
use crate::templates;

fn path_of(slug: &str) -> String {
    format!("/admin/campaigns/{}/page", segment(slug))
}

const FIELDS: &[&str] = &["kind", "title", "at", "url", "body"];

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ItemForm {
    #[serde(skip_serializing)]
    csrf_token: String,
    kind: String,
    title: String,
    /// `YYYY-MM-DD`, as a date input sends it.
    at: String,
    url: String,
    body: String,
}

impl ItemForm {
    fn item(&self) -> Result<CampaignItem, Vec<FieldError>> {
        let at = match self.at.trim() {
            "" => None,
            day => match uk_time::parse_input(&format!("{day}T12:00")) {
                Ok(at) => Some(prost_types::Timestamp {
                    seconds: at.timestamp(),
                    nanos: 0,
                }),
                Err(_) => {
                    return Err(vec![FieldError::new(
                        "at",
                        "Enter the date as a day, month and year",
                    )]);
                }
            },
        };
        Ok(CampaignItem {
            kind: self.kind.clone(),
            title: self.title.clone(),
            at,
            url: self.url.clone(),
            body: self.body.clone(),
            ..CampaignItem::default()
        })
    }
}

async fn page(
    signed: &Signed,
    headers: &HeaderMap,
    slug: &str,
    form: &ItemForm,
    done: Option<&str>,
    errors: &[FieldError],
) -> AdminResult<Response> {
    let campaign = signed.campaign(slug).await?;
    let view = CampaignView::from(&campaign);
    let summary = forms::summary(errors, FIELDS, |_| None);
    Ok(forms::form_page(
        headers,
        forms::status_for(errors),
        |csrf_token| {
            templates::render(
                "admin/campaign_page.html",
                context! {
                    page_title => format!("Campaign page: {}", campaign.name),
                    campaign => view,
                    path => path_of(&campaign.slug),
                    form => form,
                    kinds => [
                        context! { value => "date", label => "A key date (an event of the campaign)" },
                        context! { value => "news", label => "A news item" },
                        context! { value => "resource", label => "A resource (a poster, toolkit or link)" },
                    ],
                    done => done,
                    csrf_token => csrf_token,
                    field_errors => forms::by_field(&summary),
                    errors => summary,
                },
            )
        },
    )?)
}

/// `GET /admin/campaigns/{slug}/page`
pub async fn show(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<DoneQuery>,
) -> AdminResult<Response> {
    let done = match query.done.as_str() {
        "added" => Some("Added to the campaign's page"),
        "removed" => Some("Removed from the campaign's page"),
        _ => None,
    };
    page(&signed, &headers, &slug, &ItemForm::default(), done, &[]).await
}

/// `POST /admin/campaigns/{slug}/page`: adds an item.
pub async fn add(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<ItemForm>,
) -> AdminResult<Response> {
    let path = path_of(&slug);
    check_csrf(&headers, &form.csrf_token, &path)?;
    let item = match form.item() {
        Ok(item) => item,
        Err(errors) => return page(&signed, &headers, &slug, &form, None, &errors).await,
    };
    let campaign = signed.campaign(&slug).await?;
    let added = signed
        .nomination()
        .add_campaign_item(signed.signed(AddCampaignItemRequest {
            campaign_id: campaign.id,
            item: Some(item),
            ..AddCampaignItemRequest::default()
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

/// `POST /admin/campaigns/{slug}/page/{id}/remove`
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
        .remove_campaign_item(signed.signed(RemoveCampaignItemRequest {
            campaign_id: campaign.id,
            item_id: id,
        }))
        .await
        .map_err(|s| signed.fail(s))?;
    Ok(see_other(&format!("{path}?done=removed"))?)
}
