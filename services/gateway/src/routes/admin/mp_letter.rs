//! The letter a campaign suggests its supporters start from when they email their MP
//! (`/admin/campaigns/{slug}/mp-letter`), set and cleared by the campaign's admins, with how many
//! have written for the campaign. The notification service checks who may, from its own copy of
//! the grants, and names a bad field.

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_proto::nomination::v1::Campaign;
use valued_proto::notification::v1::{
    MpLetterCampaign, SetMpLetterWordingRequest, SetMpLetterWordingResponse,
};

use super::notifications::through_grant_copy;
use super::signed::{AdminResult, ButtonForm, DoneQuery, Signed, check_csrf};
use crate::clients::NOTIFICATION;
use crate::routes::forms;
use crate::routes::page::{see_other, segment};
use crate::routes::write_to_mp;
use crate::templates;

fn path_of(slug: &str) -> String {
    format!("/admin/campaigns/{}/mp-letter", segment(slug))
}

const FIELDS: &[&str] = &["wording"];

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct WordingForm {
    #[serde(skip_serializing)]
    csrf_token: String,
    wording: String,
}

async fn page(
    signed: &Signed,
    headers: &HeaderMap,
    campaign: &Campaign,
    form: &WordingForm,
    done: Option<&str>,
    errors: &[FieldError],
) -> AdminResult<Response> {
    let clients = &signed.clients;
    let (stored, written) = tokio::join!(
        write_to_mp::suggested_wording(clients, &campaign.id),
        write_to_mp::letters_written(clients, Some(&campaign.id))
    );
    let summary = forms::summary(errors, FIELDS, |_| None);
    Ok(forms::form_page(
        headers,
        forms::status_for(errors),
        |csrf_token| {
            templates::render(
                "admin/mp_letter.html",
                context! {
                    page_title => format!("Email your MP: {}", campaign.name),
                    campaign_slug => &campaign.slug,
                    path => path_of(&campaign.slug),
                    public_path => write_to_mp::campaign_path(campaign),
                    has_wording => !stored.is_empty(),
                    written => written.and_then(|(_, ours)| write_to_mp::people_have_written(ours)),
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

/// `GET /admin/campaigns/{slug}/mp-letter`
pub async fn show(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<DoneQuery>,
) -> AdminResult<Response> {
    let done = match query.done.as_str() {
        "saved" => Some("The suggested letter is saved"),
        "cleared" => Some("The suggested letter is removed"),
        _ => None,
    };
    let campaign = signed.campaign(&slug).await?;
    let form = WordingForm {
        wording: write_to_mp::suggested_wording(&signed.clients, &campaign.id).await,
        ..WordingForm::default()
    };
    page(&signed, &headers, &campaign, &form, done, &[]).await
}

/// `POST /admin/campaigns/{slug}/mp-letter`: sets the wording.
pub async fn save(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<WordingForm>,
) -> AdminResult<Response> {
    let path = path_of(&slug);
    check_csrf(&headers, &form.csrf_token, &path)?;
    let campaign = signed.campaign(&slug).await?;
    match set(&signed, &campaign, Some(&form.wording)).await {
        Ok(_) => Ok(see_other(&format!("{path}?done=saved"))?),
        Err(status) if status.code() == Code::InvalidArgument => {
            let errors = valued_platform::grpc::field_errors(&status);
            page(&signed, &headers, &campaign, &form, None, &errors).await
        }
        Err(status) => Err(signed.failed_at(NOTIFICATION, status)),
    }
}

/// `POST /admin/campaigns/{slug}/mp-letter/clear`: removes the wording.
pub async fn clear(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<ButtonForm>,
) -> AdminResult<Response> {
    let path = path_of(&slug);
    check_csrf(&headers, &form.csrf_token, &path)?;
    let campaign = signed.campaign(&slug).await?;
    set(&signed, &campaign, None)
        .await
        .map_err(|status| signed.failed_at(NOTIFICATION, status))?;
    Ok(see_other(&format!("{path}?done=cleared"))?)
}

/// Sets (`Some`) or clears the campaign's wording as the signed-in admin, describing the campaign
/// as the nomination service does. Whether the caller runs the campaign, the notification service
/// alone says; just after signing in its copy of the grants may not know them yet, so a refusal
/// then is tried again.
async fn set(
    signed: &Signed,
    campaign: &Campaign,
    wording: Option<&str>,
) -> Result<SetMpLetterWordingResponse, tonic::Status> {
    let request = SetMpLetterWordingRequest {
        campaign: Some(MpLetterCampaign {
            campaign_id: campaign.id.clone(),
            slug: campaign.slug.clone(),
            name: campaign.name.clone(),
            scope: campaign.scope.clone(),
            scope_code: campaign.scope_code.clone(),
        }),
        wording: wording.unwrap_or_default().to_owned(),
        clear: wording.is_none(),
    };
    let client = signed.clients.notification.clone();
    let ask = || {
        let mut client = client.clone();
        let request = signed.signed(request.clone());
        async move { client.set_mp_letter_wording(request).await }
    };
    if signed.just_signed_in() {
        through_grant_copy(ask).await
    } else {
        ask().await.map(tonic::Response::into_inner)
    }
}
