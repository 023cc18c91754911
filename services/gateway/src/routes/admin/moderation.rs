//! Moderation: a campaign's queue with a decision form per nomination, nominee match review, a
//! trust's audit log and the CSV export of a campaign's nominations.

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use valued_platform::domain::FieldError;
use valued_proto::nomination::v1::{
    Campaign, GetNomineeRequest, ListAuditLogRequest, ListModerationQueueRequest,
    ListNominationsRequest, ModerateNominationRequest, Nomination, ReviewNomineeMatchRequest,
};

use super::nomination_view::{NominationView, trust_name};
use super::signed::{AdminResult, Signed, check_csrf, csv_download, field_errors};
use crate::error::GatewayError;
use crate::routes::campaign_view::CampaignView;
use crate::routes::forms::{self, SummaryError};
use crate::routes::page::{self, see_other, segment};
use crate::templates;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QueueQuery {
    trust: String,
    done: String,
}

/// A form that came back with errors: which nomination, which form, what was typed.
#[derive(Debug, Default, Serialize)]
struct Rejected {
    nomination_id: String,
    form: String,
    reason: String,
    nominee_name: String,
    nominee_job_title: String,
    errors: Vec<SummaryError>,
}

#[derive(Debug, Serialize)]
struct QueueItem {
    nomination: NominationView,
    /// How many nominations name the same nominee, when this one still needs its match reviewed.
    match_count: Option<u64>,
    /// A nominee described, not named: the moderator can name them.
    needs_name: bool,
}

/// `GET /admin/campaigns/{slug}/moderation?trust=`
pub async fn queue(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<QueueQuery>,
) -> AdminResult<Response> {
    queue_page(&signed, &headers, &slug, &query.trust, &query.done, None).await
}

async fn queue_page(
    signed: &Signed,
    headers: &HeaderMap,
    slug: &str,
    trust: &str,
    done: &str,
    rejected: Option<Rejected>,
) -> AdminResult<Response> {
    let campaign = signed.campaign(slug).await?;
    let nominations = signed
        .nomination()
        .list_moderation_queue(signed.signed(ListModerationQueueRequest {
            campaign_id: campaign.id.clone(),
            trust_code: trust.to_owned(),
        }))
        .await
        .map_err(|s| signed.fail(s))?
        .into_inner()
        .nominations;
    let mut items = Vec::with_capacity(nominations.len());
    for nomination in &nominations {
        items.push(queue_item(signed, nomination, &campaign).await?);
    }
    let status = if rejected.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let done = match done {
        "approve" => Some("Nomination approved"),
        "reject" => Some("Nomination rejected"),
        "request_info" => Some("Question sent to the nominator"),
        "match" => Some("Nominee match recorded"),
        _ => None,
    };
    let view = CampaignView::from(&campaign);
    let trust_label = (!trust.is_empty()).then(|| trust_name(&campaign, trust));
    Ok(forms::form_page(headers, status, |csrf_token| {
        templates::render(
            "admin/moderation.html",
            context! {
                page_title => format!("Moderation queue – {}", view.name),
                errors => rejected.as_ref().map(|r| r.errors.clone()).unwrap_or_default(),
                campaign => view,
                trusts => campaign.trusts.iter().map(|t| context! { value => t.code, label => t.name }).collect::<Vec<_>>(),
                trust => trust,
                trust_label => trust_label,
                audit_path => (!trust.is_empty()).then(|| format!("/admin/trusts/{}/audit", segment(trust))),
                items => items,
                rejected => rejected,
                done => done,
                csrf_token => csrf_token,
            },
        )
    })?)
}

async fn queue_item(
    signed: &Signed,
    nomination: &Nomination,
    campaign: &Campaign,
) -> AdminResult<QueueItem> {
    let view = NominationView::new(nomination, campaign);
    let needs_name = !view.match_reviewed && view.nominee_name.trim().is_empty();
    let match_count = if !view.match_reviewed && !needs_name && !view.nominee_id.is_empty() {
        let nominee = signed
            .nomination()
            .get_nominee(signed.signed(GetNomineeRequest {
                nominee_id: view.nominee_id.clone(),
            }))
            .await
            .map_err(|s| signed.fail(s))?
            .into_inner()
            .nominee;
        nominee
            .map(|n| n.nomination_count)
            .filter(|count| *count > 1)
    } else {
        None
    };
    Ok(QueueItem {
        nomination: view,
        match_count,
        needs_name,
    })
}

fn queue_path(slug: &str, trust: &str, done: &str) -> String {
    let mut path = format!("/admin/campaigns/{}/moderation", segment(slug));
    let mut query = Vec::new();
    if !trust.is_empty() {
        query.push(format!("trust={}", segment(trust)));
    }
    if !done.is_empty() {
        query.push(format!("done={}", segment(done)));
    }
    if !query.is_empty() {
        path.push('?');
        path.push_str(&query.join("&"));
    }
    path
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ModerateForm {
    csrf_token: String,
    action: String,
    reason: String,
    trust: String,
}

/// `POST /admin/campaigns/{slug}/moderation/{id}`: approve, reject or ask for more information.
pub async fn moderate(
    signed: Signed,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
    Form(form): Form<ModerateForm>,
) -> AdminResult<Response> {
    check_csrf(
        &headers,
        &form.csrf_token,
        &queue_path(&slug, &form.trust, ""),
    )?;
    let decided = signed
        .nomination()
        .moderate_nomination(signed.signed(ModerateNominationRequest {
            nomination_id: id.clone(),
            action: form.action.clone(),
            reason: form.reason.clone(),
        }))
        .await;
    match decided {
        Ok(_) => {
            tracing::info!(action = %form.action, "nomination moderated");
            Ok(see_other(&queue_path(&slug, &form.trust, &form.action))?)
        }
        Err(status) => {
            let errors = field_errors(&signed, status)?;
            let form_id = format!("{}-{id}", form_name(&form.action));
            let rejected = Rejected {
                errors: summary(&errors, &form_id),
                nomination_id: id,
                form: form.action.clone(),
                reason: form.reason,
                ..Rejected::default()
            };
            queue_page(&signed, &headers, &slug, &form.trust, "", Some(rejected)).await
        }
    }
}

/// The id prefix of the reason box of each form.
fn form_name(action: &str) -> &'static str {
    match action {
        "reject" => "reject",
        "request_info" => "request-info",
        _ => "decision",
    }
}

/// The error summary for the form whose inputs are `<field>-<form_id>`.
fn summary(errors: &[FieldError], form_id: &str) -> Vec<SummaryError> {
    errors
        .iter()
        .map(|e| SummaryError {
            field: format!("{}-{form_id}", e.field.replace('_', "-")),
            message: e.message.clone(),
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MatchForm {
    csrf_token: String,
    /// "same", "different" or "name".
    decision: String,
    nominee_name: String,
    nominee_job_title: String,
    trust: String,
}

/// `POST /admin/campaigns/{slug}/matches/{id}`: the same person, a different one, or a name for a
/// nominee who was only described.
pub async fn review_match(
    signed: Signed,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
    Form(form): Form<MatchForm>,
) -> AdminResult<Response> {
    check_csrf(
        &headers,
        &form.csrf_token,
        &queue_path(&slug, &form.trust, ""),
    )?;
    let missing_choice = form.decision != "same" && form.decision != "different";
    if form.decision != "name" && missing_choice {
        let rejected = Rejected {
            errors: vec![SummaryError {
                field: format!("decision-match-{id}"),
                message: "Select whether this is the same person".into(),
            }],
            nomination_id: id,
            form: "match".into(),
            ..Rejected::default()
        };
        return queue_page(&signed, &headers, &slug, &form.trust, "", Some(rejected)).await;
    }
    let request = ReviewNomineeMatchRequest {
        nomination_id: id.clone(),
        same_person: form.decision == "same",
        nominee_name: if form.decision == "name" {
            form.nominee_name.clone()
        } else {
            String::new()
        },
        nominee_job_title: if form.decision == "name" {
            form.nominee_job_title.clone()
        } else {
            String::new()
        },
    };
    match signed
        .nomination()
        .review_nominee_match(signed.signed(request))
        .await
    {
        Ok(_) => Ok(see_other(&queue_path(&slug, &form.trust, "match"))?),
        Err(status) => {
            let errors = field_errors(&signed, status)?;
            let rejected = Rejected {
                errors: summary(&errors, &format!("name-{id}")),
                nomination_id: id,
                form: "name".into(),
                nominee_name: form.nominee_name,
                nominee_job_title: form.nominee_job_title,
                ..Rejected::default()
            };
            queue_page(&signed, &headers, &slug, &form.trust, "", Some(rejected)).await
        }
    }
}

#[derive(Debug, Serialize)]
struct AuditView {
    at: String,
    actor: String,
    action: String,
    nomination_id: String,
    detail: String,
}

/// `GET /admin/trusts/{code}/audit`: who did what and when in one trust.
pub async fn audit(signed: Signed, Path(code): Path<String>) -> AdminResult<Response> {
    let entries = signed
        .nomination()
        .list_audit_log(signed.signed(ListAuditLogRequest {
            trust_code: code.clone(),
        }))
        .await
        .map_err(|s| signed.fail(s))?
        .into_inner()
        .entries;
    let entries: Vec<AuditView> = entries
        .into_iter()
        .map(|e| AuditView {
            at: valued_platform::uk_time::of(e.at.as_ref())
                .map(valued_platform::uk_time::when_exactly)
                .unwrap_or_default(),
            actor: e.actor,
            action: e.action.replace('_', " "),
            nomination_id: e.nomination_id,
            detail: e.detail,
        })
        .collect();
    Ok(page::render(
        "admin/audit.html",
        context! {
            page_title => format!("Audit log – {code}"),
            trust_code => code,
            entries => entries,
        },
    )?)
}

const CSV_HEADER: [&str; 17] = [
    "id",
    "submitted_at",
    "status",
    "category",
    "trust_code",
    "trust",
    "nominee_name",
    "nominee_description",
    "nominee_job_title",
    "team",
    "staff_group",
    "band",
    "story",
    "nominator_name",
    "nominator_email",
    "relationship",
    "moderation_reason",
];

/// `GET /admin/campaigns/{slug}/nominations.csv`: every nomination of the campaign the caller may see.
pub async fn export(signed: Signed, Path(slug): Path<String>) -> AdminResult<Response> {
    let campaign = signed.campaign(&slug).await?;
    let nominations = signed
        .nomination()
        .list_nominations(signed.signed(ListNominationsRequest {
            campaign_id: campaign.id.clone(),
        }))
        .await
        .map_err(|s| signed.fail(s))?
        .into_inner()
        .nominations;
    let body = to_csv(&campaign, &nominations)?;
    tracing::info!(rows = nominations.len(), "nominations exported");
    Ok(csv_download(
        &campaign.slug,
        "nominations",
        body.into_bytes(),
    )?)
}

fn to_csv(campaign: &Campaign, nominations: &[Nomination]) -> AdminResult<String> {
    let internal = |e: csv::Error| GatewayError::Internal(format!("CSV export: {e}"));
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(CSV_HEADER).map_err(internal)?;
    for nomination in nominations {
        let view = NominationView::new(nomination, campaign);
        let submitted = nomination
            .submitted_at
            .as_ref()
            .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
            .map(|d| d.to_rfc3339())
            .unwrap_or_default();
        let row = [
            view.id,
            submitted,
            nomination.status.clone(),
            view.category,
            view.trust_code,
            view.trust,
            view.nominee_name,
            view.nominee_description,
            view.nominee_job_title,
            if view.team { "yes" } else { "no" }.to_owned(),
            view.staff_group,
            view.band,
            view.story,
            view.nominator_name,
            view.nominator_email,
            view.relationship,
            view.moderation_reason,
        ];
        writer
            .write_record(row.iter().map(|cell| neutralise(cell).into_owned()))
            .map_err(internal)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| GatewayError::Internal(format!("CSV export: {e}")))?;
    Ok(String::from_utf8(bytes).map_err(|e| GatewayError::Internal(e.to_string()))?)
}

/// A cell a spreadsheet will not run as a formula (OWASP's CSV injection advice): one starting with
/// `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading single quote.
pub(crate) fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_other_cells_kept() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("-2+3"), "'-2+3");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("\tx"), "'\tx");
        assert_eq!(neutralise("Sam Patel"), "Sam Patel");
        assert_eq!(neutralise("a=b"), "a=b");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn the_export_quotes_commas_and_neutralises_formulas() {
        let campaign = Campaign::default();
        let nomination = Nomination {
            id: "n1".into(),
            nominee_name: "=cmd|' /C calc'!A0".into(),
            story: "Kind, \"calm\" and quick".into(),
            ..Nomination::default()
        };
        let csv = to_csv(&campaign, &[nomination]).unwrap();
        let mut lines = csv.lines();
        assert!(lines.next().unwrap().starts_with("id,submitted_at,status"));
        let row = lines.next().unwrap();
        assert!(row.contains("'=cmd|' /C calc'!A0"), "{row}");
        assert!(row.contains("\"Kind, \"\"calm\"\" and quick\""), "{row}");
    }
}
