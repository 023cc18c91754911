//! Imports from the browser, for platform admins: organisations (`/admin/organisations`, regions,
//! trusts and sites in the NHS ODS layout, into the nomination service) and the MP directory
//! (`/admin/mps`, the layout of mp_lookup.csv, into the notification service), as `valued import`
//! does. The service that owns the data checks the whole file first and imports it only when every
//! line is good; each bad line is named on the page.

use axum::extract::{Multipart, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_proto::nomination::v1::ImportOrganisationsRequest;
use valued_proto::notification::v1::ImportMpsRequest;

use super::signed::{AdminResult, Signed, check_csrf};
use super::upload::Upload;
use crate::routes::forms;
use crate::routes::page::see_other;
use crate::templates;

/// The largest file taken: within the 4 MB a gRPC message may carry.
pub const MAX_FILE_BYTES: usize = 3 * 1024 * 1024;

/// What one import page says and where it posts.
struct Import {
    path: &'static str,
    title: &'static str,
    intro: &'static [&'static str],
}

const ORGANISATIONS: Import = Import {
    path: "/admin/organisations",
    title: "Import organisations",
    intro: &[
        "Add or update regions, trusts and their sites from a CSV file in the NHS Organisation Data Service layout: a header row, then code,name,address,postcode,parent on each line. A line with no parent is a region; a 3-character code under a region is a trust; a 5-character code under a trust is a site.",
        "The whole file is checked first. If any line is wrong, nothing is imported and every wrong line is listed. Importing again updates names, addresses and parents; trusts' own settings are kept.",
    ],
};

const MPS: Import = Import {
    path: "/admin/mps",
    title: "Import the MP directory",
    intro: &[
        "Replace the directory of MPs that \"Email your MP\" and the MP digests use, from a CSV file in the layout of mp_lookup.csv (the House of Commons members' list with their constituencies and parliament.uk addresses).",
        "The whole file is checked first. If any line is wrong, nothing is imported and every wrong line is listed. MPs without a usable parliament.uk address are listed after the import: they get no email until someone checks them.",
    ],
};

fn page(
    import: &Import,
    headers: &HeaderMap,
    (done, flagged): (Option<String>, Vec<String>),
    errors: &[FieldError],
) -> AdminResult<Response> {
    // Every message of the service's is about the file: each is listed, all linked to the input.
    let summary: Vec<forms::SummaryError> = errors
        .iter()
        .map(|error| forms::SummaryError {
            field: "file".into(),
            message: match error.field.strip_prefix("line ") {
                Some(line) => format!("Line {line}: {}", error.message),
                None => error.message.clone(),
            },
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(forms::form_page(headers, status, |csrf_token| {
        templates::render(
            "admin/import.html",
            context! {
                page_title => import.title,
                intro => import.intro,
                action => import.path,
                done => done,
                flagged => flagged,
                max_megabytes => MAX_FILE_BYTES / (1024 * 1024),
                csrf_token => csrf_token,
                field_errors => forms::by_field(&summary),
                errors => summary,
            },
        )
    })?)
}

/// The page's form: the CSRF token, then the file. A file over the limit, or none, is named.
async fn read_upload(
    import: &Import,
    headers: &HeaderMap,
    form: Multipart,
) -> AdminResult<Result<Vec<u8>, Response>> {
    let upload = Upload::read(form, "file").await;
    check_csrf(headers, upload.text("csrf_token"), import.path)?;
    let problem = if upload.too_large {
        format!(
            "The file must be smaller than {} MB",
            MAX_FILE_BYTES / (1024 * 1024)
        )
    } else if upload.file.is_empty() {
        "Select a CSV file to import".to_owned()
    } else {
        return Ok(Ok(upload.file));
    };
    Ok(Err(page(
        import,
        headers,
        (None, Vec::new()),
        &[FieldError::new("file", problem)],
    )?))
}

/// The refused import's lines named, or the refusal as any admin call shows it.
fn refused(
    import: &Import,
    signed: &Signed,
    headers: &HeaderMap,
    status: tonic::Status,
) -> AdminResult<Response> {
    if status.code() == Code::InvalidArgument {
        let errors = valued_platform::grpc::field_errors(&status);
        page(import, headers, (None, Vec::new()), &errors)
    } else {
        Err(signed.fail(status))
    }
}

fn counted(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OrganisationsQuery {
    done: String,
    regions: u32,
    trusts: u32,
    sites: u32,
}

/// `GET /admin/organisations`
pub async fn organisations(
    signed: Signed,
    headers: HeaderMap,
    Query(query): Query<OrganisationsQuery>,
) -> AdminResult<Response> {
    signed.roles().await?;
    let done = (query.done == "imported").then(|| {
        format!(
            "Imported {}, {} and {}",
            counted(query.regions, "region", "regions"),
            counted(query.trusts, "trust", "trusts"),
            counted(query.sites, "site", "sites"),
        )
    });
    page(&ORGANISATIONS, &headers, (done, Vec::new()), &[])
}

/// `POST /admin/organisations` (multipart: `csrf_token`, then `file`).
pub async fn import_organisations(
    signed: Signed,
    headers: HeaderMap,
    form: Multipart,
) -> AdminResult<Response> {
    let csv = match read_upload(&ORGANISATIONS, &headers, form).await? {
        Ok(csv) => csv,
        Err(page) => return Ok(page),
    };
    let imported = signed
        .nomination()
        .import_organisations(signed.signed(ImportOrganisationsRequest { csv }))
        .await;
    match imported {
        Ok(response) => {
            let r = response.into_inner();
            Ok(see_other(&format!(
                "{}?done=imported&regions={}&trusts={}&sites={}",
                ORGANISATIONS.path, r.regions, r.trusts, r.sites
            ))?)
        }
        Err(status) => refused(&ORGANISATIONS, &signed, &headers, status),
    }
}

/// `GET /admin/mps`
pub async fn mps(signed: Signed, headers: HeaderMap) -> AdminResult<Response> {
    signed.roles().await?;
    page(&MPS, &headers, (None, Vec::new()), &[])
}

/// `POST /admin/mps` (multipart: `csrf_token`, then `file`). The summary and the MPs to check
/// are shown at once (the import is done; reloading the page does not repeat it).
pub async fn import_mps(
    signed: Signed,
    headers: HeaderMap,
    form: Multipart,
) -> AdminResult<Response> {
    let csv = match read_upload(&MPS, &headers, form).await? {
        Ok(csv) => csv,
        Err(page) => return Ok(page),
    };
    // The notification service checks the caller against its own copy of the grants.
    signed.platform_admin().await?;
    let client = signed.clients.notification.clone();
    let request = ImportMpsRequest { csv };
    let imported = super::notifications::through_grant_copy(|| {
        let mut client = client.clone();
        let request = signed.signed(request.clone());
        async move { client.import_mps(request).await }
    })
    .await;
    match imported {
        Ok(r) => {
            let done = format!(
                "Imported {}: {} added, {} updated, {} unchanged, {} removed",
                counted(r.members, "MP", "MPs"),
                r.added,
                r.updated,
                r.unchanged,
                r.removed
            );
            let flagged = r
                .needs_check
                .into_iter()
                .map(|f| format!("{} ({}): {}", f.name, f.constituency, f.reason))
                .collect();
            page(&MPS, &headers, (Some(done), flagged), &[])
        }
        Err(status) => refused(&MPS, &signed, &headers, status),
    }
}
