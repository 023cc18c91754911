//! Imports from the browser, for platform admins: organisations (`/admin/organisations`, regions,
//! trusts and sites in the NHS ODS layout, into the nomination service) and the MP directory
//! (`/admin/mps`, the layout of mp_lookup.csv, into the notification service), as `valued import`
//! does. The service that owns the data checks the whole file first and imports it only when every
//! line is good; each bad line is named on the page. Organisations files run to tens of thousands
//! of sites, so a clean one is written in the background and its page shows the progress.

use std::time::Duration;

use axum::extract::{Multipart, Path};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_platform::uk_time;
use valued_proto::nomination::v1::{
    GetOrganisationsImportRequest, OrganisationsImport, OrganisationsImportState,
    StartOrganisationsImportRequest,
};
use valued_proto::notification::v1::ImportMpsRequest;

use super::signed::{AdminResult, Signed, check_csrf};
use super::upload::Upload;
use crate::routes::forms;
use crate::routes::page::{self, see_other};
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

/// `GET /admin/organisations`
pub async fn organisations(signed: Signed, headers: HeaderMap) -> AdminResult<Response> {
    signed.roles().await?;
    page(&ORGANISATIONS, &headers, (None, Vec::new()), &[])
}

/// How long sending a file waits for its import to end before showing its progress instead: most
/// files are written within it, and their page shows the result at once.
const WAIT_FOR_THE_END: Duration = Duration::from_secs(3);

/// `POST /admin/organisations` (multipart: `csrf_token`, then `file`): a bad file is named line
/// by line on the form; a clean one is started and its page shown.
pub async fn import_organisations(
    signed: Signed,
    headers: HeaderMap,
    form: Multipart,
) -> AdminResult<Response> {
    let csv = match read_upload(&ORGANISATIONS, &headers, form).await? {
        Ok(csv) => csv,
        Err(page) => return Ok(page),
    };
    let started = signed
        .nomination()
        .start_organisations_import(signed.signed(StartOrganisationsImportRequest { csv }))
        .await;
    let id = match started {
        Ok(response) => response.into_inner().import.unwrap_or_default().id,
        Err(status) => return refused(&ORGANISATIONS, &signed, &headers, status),
    };
    let deadline = tokio::time::Instant::now() + WAIT_FOR_THE_END;
    while tokio::time::Instant::now() < deadline {
        let import = import_of(&signed, &id).await?;
        if import.state() != OrganisationsImportState::Importing {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(see_other(&format!("{}/imports/{id}", ORGANISATIONS.path))?)
}

async fn import_of(signed: &Signed, id: &str) -> AdminResult<OrganisationsImport> {
    signed
        .nomination()
        .get_organisations_import(
            signed.signed(GetOrganisationsImportRequest { id: id.to_owned() }),
        )
        .await
        .map(|response| response.into_inner().import.unwrap_or_default())
        .map_err(|status| signed.fail(status))
}

/// `GET /admin/organisations/imports/{id}`: an import's progress, or how it ended.
pub async fn organisations_import(signed: Signed, Path(id): Path<String>) -> AdminResult<Response> {
    let import = import_of(&signed, &id).await?;
    let holds = format!(
        "{}, {} and {}",
        counted(import.regions, "region", "regions"),
        counted(import.trusts, "trust", "trusts"),
        counted(import.sites, "site", "sites"),
    );
    let state = match import.state() {
        OrganisationsImportState::Imported => "imported",
        OrganisationsImportState::Failed => "failed",
        _ => "importing",
    };
    let percent = (import.written * 100)
        .checked_div(import.total)
        .unwrap_or(100);
    let when = |at: Option<&prost_types::Timestamp>| uk_time::when_of(at).unwrap_or_default();
    Ok(page::render(
        "admin/import_progress.html",
        context! {
            page_title => "Organisations import",
            state => state,
            done => format!("Imported {holds}"),
            failure => import.failure,
            written => import.written,
            total => import.total,
            percent => percent,
            holds => holds,
            here => format!("{}/imports/{}", ORGANISATIONS.path, import.id),
            started_by => import.started_by,
            started_at => when(import.started_at.as_ref()),
            finished_at => uk_time::when_of(import.finished_at.as_ref()),
        },
    )?)
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
