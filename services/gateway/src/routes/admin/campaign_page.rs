//! What a campaign's page shows besides its categories (`/admin/campaigns/{slug}/page`): key dates
//! (its own events, like One Team week or the ceremony), resources (posters, toolkits: links, or
//! files uploaded through a second form) and news, added and removed by the campaign's admins. The
//! nomination service checks who may, decides an uploaded file's type from its content, and names
//! every bad field.

use axum::Form;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query};
use axum::http::HeaderMap;
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_platform::grpc::CAMPAIGN_FILE_MAX_BYTES;
use valued_platform::uk_time;
use valued_proto::nomination::v1::{
    AddCampaignItemRequest, CampaignItem, RemoveCampaignItemRequest,
};

use super::signed::{AdminResult, ButtonForm, DoneQuery, Signed, check_csrf};
use super::upload::Upload;
use crate::routes::campaign_view::CampaignView;
use crate::routes::forms;
use crate::routes::page::{see_other, segment};
use crate::templates;

fn path_of(slug: &str) -> String {
    format!("/admin/campaigns/{}/page", segment(slug))
}

/// The inputs of both forms, in page order: an item's, then an upload's.
const FIELDS: &[&str] = &[
    "kind",
    "title",
    "at",
    "url",
    "body",
    "file_title",
    "file_body",
    "file",
];

/// The body an upload may have: the largest file taken and the rest of its form. Past it, the page
/// names the file as too large.
pub(super) fn upload_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(CAMPAIGN_FILE_MAX_BYTES + 64 * 1024)
}

/// The upload form as typed (the file is never sent back).
#[derive(Debug, Default, Serialize)]
pub struct UploadForm {
    title: String,
    body: String,
}

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
    (form, upload): (&ItemForm, &UploadForm),
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
                    upload => upload,
                    upload_path => format!("{}/files", path_of(&campaign.slug)),
                    max_megabytes => CAMPAIGN_FILE_MAX_BYTES / (1024 * 1024),
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
        "uploaded" => Some("Uploaded to the campaign's page"),
        _ => None,
    };
    let forms = (&ItemForm::default(), &UploadForm::default());
    page(&signed, &headers, &slug, forms, done, &[]).await
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
    let forms = (&form, &UploadForm::default());
    let item = match form.item() {
        Ok(item) => item,
        Err(errors) => return page(&signed, &headers, &slug, forms, None, &errors).await,
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
            page(&signed, &headers, &slug, forms, None, &errors).await
        }
        Err(status) => Err(signed.fail(status)),
    }
}

/// `POST /admin/campaigns/{slug}/page/files` (multipart: `csrf_token`, `title`, `body`, then
/// `file`): adds a resource that is an uploaded file. A file too large for the body, or none, is
/// named here; the nomination service checks the rest (the title, the file's type by its content,
/// its size) and stores nothing unless all is well.
pub async fn upload(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    form: Multipart,
) -> AdminResult<Response> {
    let path = path_of(&slug);
    let upload = Upload::read(form, "file").await;
    check_csrf(&headers, upload.text("csrf_token"), &path)?;
    let typed = UploadForm {
        title: upload.text("title").to_owned(),
        body: upload.text("body").to_owned(),
    };
    let forms = (&ItemForm::default(), &typed);
    let problem = if upload.too_large || upload.file.len() > CAMPAIGN_FILE_MAX_BYTES {
        Some(format!(
            "The selected file must be smaller than {} MB",
            CAMPAIGN_FILE_MAX_BYTES / (1024 * 1024)
        ))
    } else if upload.file_name.is_empty() && upload.file.is_empty() {
        Some("Select a file to upload".to_owned())
    } else {
        None
    };
    if let Some(problem) = problem {
        let mut errors = Vec::new();
        if typed.title.trim().is_empty() {
            errors.push(FieldError::new("file_title", "Enter the title"));
        }
        errors.push(FieldError::new("file", problem));
        return page(&signed, &headers, &slug, forms, None, &errors).await;
    }
    let campaign = signed.campaign(&slug).await?;
    let added = signed
        .nomination()
        .add_campaign_item(signed.signed(AddCampaignItemRequest {
            campaign_id: campaign.id,
            item: Some(CampaignItem {
                kind: "resource".into(),
                title: typed.title.clone(),
                body: typed.body.clone(),
                ..CampaignItem::default()
            }),
            file_content: upload.file,
            file_name: upload.file_name,
        }))
        .await;
    match added {
        Ok(_) => Ok(see_other(&format!("{path}?done=uploaded"))?),
        Err(status) if status.code() == Code::InvalidArgument => {
            // The service names the item's fields; on this form they are the upload's.
            let errors: Vec<FieldError> = valued_platform::grpc::field_errors(&status)
                .into_iter()
                .map(|e| match e.field.as_str() {
                    "title" | "body" => FieldError::new(&format!("file_{}", e.field), e.message),
                    _ => FieldError::new("file", e.message),
                })
                .collect();
            page(&signed, &headers, &slug, forms, None, &errors).await
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
