//! Creating a campaign from the browser (`/admin/campaigns/new`): its name and web address, the
//! introduction on its page, who it is for (a trust, a region or the whole country) and which
//! trusts take part, its timetable in UK time, how many nominations each person can make (blank:
//! the nomination service's default), and up to [`CATEGORY_ROWS`] categories with their word
//! limits and the staff groups and bands each is for; and changing one
//! (`/admin/campaigns/{slug}/edit`: all of that but its address, scope and trusts, with room for
//! [`BLANK_ROWS`] more categories). The nomination service decides whether the caller may, and
//! names every bad field; the page shows them in the NHS.UK error summary and keeps what was typed.

use axum::Form;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use minijinja::context;
use serde::Serialize;
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_platform::uk_time::{self, TypedTime};
use valued_proto::nomination::v1::{
    Campaign, Choice, CreateCampaignRequest, NewCategory, UpdateCampaignRequest,
};

use super::signed::{AdminResult, Signed, check_csrf};
use crate::routes::forms;
use crate::routes::page::{see_other, segment};
use crate::templates;

const PATH: &str = "/admin/campaigns/new";
/// The category rows a new campaign's form offers; blank rows are left out.
pub const CATEGORY_ROWS: usize = 4;
/// The blank rows the edit form offers after the campaign's categories.
pub const BLANK_ROWS: usize = 2;
/// The most rows a form is read with (the service allows 20 categories).
const MAX_ROWS: usize = 20;

/// The timetable's fields, in page order, and how the page asks for each.
const TIMES: [(&str, &str); 6] = [
    ("nominations_open_at", "Nominations open"),
    ("nominations_close_at", "Nominations close"),
    ("judging_close_at", "Judging closes"),
    ("vote_open_at", "The public vote opens"),
    ("vote_close_at", "The public vote closes"),
    ("results_at", "Results are announced"),
];

/// The campaign's own limit on nominations per person; blank: the service's default.
const PER_NOMINATOR: &str = "nominations_per_nominator";

/// The form as typed: every field by name (checkboxes repeat theirs).
#[derive(Debug, Default, Serialize)]
pub struct CampaignForm {
    name: String,
    slug: String,
    description: String,
    scope: String,
    scope_code: String,
    trust_codes: String,
    vote_per_region: bool,
    times: Vec<(String, String)>,
    nominations_per_nominator: String,
    categories: Vec<CategoryForm>,
    #[serde(skip)]
    csrf_token: String,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct CategoryForm {
    /// When editing, the category's id (empty for a new one).
    id: String,
    name: String,
    description: String,
    word_limit: String,
    staff_groups: Vec<String>,
    bands: Vec<String>,
}

impl CampaignForm {
    fn read(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self {
            times: TIMES
                .iter()
                .map(|(field, _)| ((*field).to_owned(), String::new()))
                .collect(),
            categories: vec![CategoryForm::default(); CATEGORY_ROWS],
            ..Self::default()
        };
        for (name, value) in pairs {
            if let Some((row, part)) = category_field(&name) {
                if form.categories.len() <= row {
                    form.categories.resize(row + 1, CategoryForm::default());
                }
                let category = &mut form.categories[row];
                match part {
                    "id" => category.id = value,
                    "name" => category.name = value,
                    "description" => category.description = value,
                    "word_limit" => category.word_limit = value,
                    "eligible_staff_groups" => category.staff_groups.push(value),
                    "eligible_bands" => category.bands.push(value),
                    _ => {}
                }
                continue;
            }
            if let Some(time) = form.times.iter_mut().find(|(field, _)| *field == name) {
                time.1 = value;
                continue;
            }
            match name.as_str() {
                "csrf_token" => form.csrf_token = value,
                "name" => form.name = value,
                "slug" => form.slug = value,
                "description" => form.description = value,
                "scope" => form.scope = value,
                "scope_code" => form.scope_code = value,
                "trust_codes" => form.trust_codes = value,
                "vote_per_region" => form.vote_per_region = value == "yes",
                PER_NOMINATOR => form.nominations_per_nominator = value,
                _ => {}
            }
        }
        form
    }

    /// The form for changing `campaign`, as it stands, with [`BLANK_ROWS`] more category rows.
    fn of(campaign: &Campaign) -> Self {
        let shown = |at: Option<&prost_types::Timestamp>| {
            uk_time::of(at).map(uk_time::input).unwrap_or_default()
        };
        let times = [
            campaign.nominations_open_at.as_ref(),
            campaign.nominations_close_at.as_ref(),
            campaign.judging_close_at.as_ref(),
            campaign.vote_open_at.as_ref(),
            campaign.vote_close_at.as_ref(),
            campaign.results_at.as_ref(),
        ];
        let mut categories: Vec<CategoryForm> = campaign
            .categories
            .iter()
            .map(|c| CategoryForm {
                id: c.id.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                word_limit: c.word_limit.to_string(),
                staff_groups: c.eligible_staff_groups.clone(),
                bands: c.eligible_bands.clone(),
            })
            .collect();
        categories.extend(std::iter::repeat_n(CategoryForm::default(), BLANK_ROWS));
        Self {
            name: campaign.name.clone(),
            slug: campaign.slug.clone(),
            description: campaign.description.clone(),
            scope: campaign.scope.clone(),
            scope_code: campaign.scope_code.clone(),
            trust_codes: campaign
                .trusts
                .iter()
                .map(|t| t.code.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            vote_per_region: campaign.vote_per_region,
            times: TIMES
                .iter()
                .zip(times)
                .map(|((field, _), at)| ((*field).to_owned(), shown(at)))
                .collect(),
            nominations_per_nominator: campaign
                .nominations_per_nominator
                .map(|limit| limit.to_string())
                .unwrap_or_default(),
            categories,
            csrf_token: String::new(),
        }
    }

    /// The change this form asks of campaign `campaign_id`.
    fn edit(&self, campaign_id: &str) -> Result<UpdateCampaignRequest, Vec<FieldError>> {
        let r = self.request()?;
        Ok(UpdateCampaignRequest {
            campaign_id: campaign_id.to_owned(),
            name: r.name,
            description: r.description,
            nominations_open_at: r.nominations_open_at,
            nominations_close_at: r.nominations_close_at,
            judging_close_at: r.judging_close_at,
            vote_open_at: r.vote_open_at,
            vote_close_at: r.vote_close_at,
            results_at: r.results_at,
            vote_per_region: r.vote_per_region,
            nominations_per_nominator: r.nominations_per_nominator,
            categories: r.categories,
        })
    }

    /// The category rows the request carries, in order: a blank new row is left out, and so is
    /// a category whose name was emptied (which removes it).
    fn kept_rows(&self) -> Vec<usize> {
        self.categories
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                let unnamed = c.name.trim().is_empty();
                let blank = unnamed
                    && c.description.trim().is_empty()
                    && c.word_limit.trim().is_empty()
                    && c.staff_groups.is_empty()
                    && c.bands.is_empty();
                if c.id.is_empty() { !blank } else { !unnamed }
            })
            .map(|(row, _)| row)
            .collect()
    }

    /// The service's field errors with its `categories[i]` (the request's i-th category) named
    /// by the form's row.
    fn at_rows(&self, errors: Vec<FieldError>) -> Vec<FieldError> {
        let rows = self.kept_rows();
        errors
            .into_iter()
            .map(|error| match category_field(&error.field) {
                Some((i, part)) if i < rows.len() => {
                    FieldError::new(&format!("categories[{}].{part}", rows[i]), error.message)
                }
                _ => error,
            })
            .collect()
    }

    /// The request, or the fields the page itself can tell are wrong (times, word limits).
    fn request(&self) -> Result<CreateCampaignRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut times = Vec::new();
        for ((field, typed), (_, label)) in self.times.iter().zip(TIMES) {
            times.push(parse_time(field, label, typed, &mut errors));
        }
        let nominations_per_nominator = match self.nominations_per_nominator.trim() {
            "" => None,
            // One too large for the request is still the service's to refuse, with its bounds.
            typed => match typed.parse::<u64>() {
                Ok(limit) => Some(u32::try_from(limit).unwrap_or(u32::MAX)),
                Err(_) => {
                    errors.push(FieldError::new(
                        PER_NOMINATOR,
                        "Nominations each person can make must be a whole number, like 5, or leave it blank",
                    ));
                    None
                }
            },
        };
        let mut categories = Vec::new();
        for row in self.kept_rows() {
            let category = &self.categories[row];
            let word_limit = match category.word_limit.trim() {
                "" => 0,
                typed => typed.parse().unwrap_or_else(|_| {
                    errors.push(FieldError::new(
                        &format!("categories[{row}].word_limit"),
                        "Word limit must be a whole number, like 300",
                    ));
                    0
                }),
            };
            categories.push(NewCategory {
                id: category.id.clone(),
                name: category.name.clone(),
                description: category.description.clone(),
                word_limit,
                eligible_staff_groups: category.staff_groups.clone(),
                eligible_bands: category.bands.clone(),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let timestamp = |at: Option<DateTime<Utc>>| {
            at.map(|at| prost_types::Timestamp {
                seconds: at.timestamp(),
                nanos: 0,
            })
        };
        Ok(CreateCampaignRequest {
            slug: self.slug.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            scope: self.scope.clone(),
            scope_code: self.scope_code.clone(),
            trust_codes: self
                .trust_codes
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|code| !code.is_empty())
                .map(str::to_owned)
                .collect(),
            nominations_open_at: timestamp(times[0]),
            nominations_close_at: timestamp(times[1]),
            judging_close_at: timestamp(times[2]),
            vote_open_at: timestamp(times[3]),
            vote_close_at: timestamp(times[4]),
            results_at: timestamp(times[5]),
            vote_per_region: self.vote_per_region,
            nominations_per_nominator,
            categories,
        })
    }
}

/// `categories[2].word_limit` → (2, "word_limit"), for up to [`MAX_ROWS`] rows.
fn category_field(name: &str) -> Option<(usize, &str)> {
    let rest = name.strip_prefix("categories[")?;
    let (row, part) = rest.split_once("].")?;
    let row: usize = row.parse().ok()?;
    (row < MAX_ROWS).then_some((row, part))
}

/// A typed UK time; empty is "not scheduled".
fn parse_time(
    field: &str,
    label: &str,
    typed: &str,
    errors: &mut Vec<FieldError>,
) -> Option<DateTime<Utc>> {
    if typed.trim().is_empty() {
        return None;
    }
    match uk_time::parse_input(typed) {
        Ok(at) => Some(at),
        Err(TypedTime::NotATime) => {
            errors.push(FieldError::new(
                field,
                format!("{label}: enter a date and time, or leave it empty"),
            ));
            None
        }
        Err(change) => {
            errors.push(FieldError::new(field, change.to_string()));
            None
        }
    }
}

/// The fields in page order, for the error summary.
fn fields() -> Vec<String> {
    let mut fields: Vec<String> = [
        "name",
        "slug",
        "description",
        "scope",
        "scope_code",
        "trust_codes",
    ]
    .iter()
    .map(|f| (*f).to_owned())
    .collect();
    fields.extend(TIMES.iter().map(|(f, _)| (*f).to_owned()));
    fields.push(PER_NOMINATOR.into());
    fields.push("categories".into());
    for row in 0..MAX_ROWS {
        for part in [
            "name",
            "description",
            "word_limit",
            "eligible_staff_groups",
            "eligible_bands",
        ] {
            fields.push(format!("categories[{row}].{part}"));
        }
    }
    fields
}

/// What the nomination service lists with every campaign that the form offers or explains.
#[derive(Default)]
struct Choices {
    /// The staff groups and bands a category may be for.
    staff_groups: Vec<Choice>,
    bands: Vec<Choice>,
    /// The service-wide limit of nominations per person, for a campaign that sets none.
    default_per_nominator: Option<u32>,
}

/// The choices, from the first campaign listed (none when no campaign exists yet: a category is
/// then for everyone, and the hint does without the default's number).
async fn choices(signed: &Signed) -> AdminResult<Choices> {
    let listed = signed.campaigns().await?;
    Ok(listed
        .into_iter()
        .next()
        .map(|c| Choices {
            default_per_nominator: Some(c.default_nominations_per_nominator)
                .filter(|limit| *limit > 0),
            staff_groups: c.staff_groups,
            bands: c.bands,
        })
        .unwrap_or_default())
}

/// The hint under the nominations-per-person field: what an empty field means.
fn per_nominator_hint(default: Option<u32>) -> String {
    let usual = default.map_or_else(
        || "the usual limit".to_owned(),
        |limit| format!("the usual {limit}"),
    );
    format!("Counted by email address, 1 to 1,000. Leave it empty for {usual}.")
}

/// The form page: a new campaign's, or (`editing`, the campaign's path) a change to one.
async fn page(
    signed: &Signed,
    headers: &HeaderMap,
    form: &CampaignForm,
    editing: Option<&str>,
    errors: &[FieldError],
) -> AdminResult<Response> {
    let choices = choices(signed).await?;
    let item = |c: &Choice| context! { value => c.value, label => c.label };
    let staff_groups: Vec<_> = choices.staff_groups.iter().map(item).collect();
    let bands: Vec<_> = choices.bands.iter().map(item).collect();
    let order = fields();
    let order: Vec<&str> = order.iter().map(String::as_str).collect();
    let summary = forms::summary(errors, &order, |_| None);
    let times: Vec<_> = form
        .times
        .iter()
        .zip(TIMES)
        .map(|((field, value), (_, label))| context! { field => field, label => label, value => value })
        .collect();
    let status = forms::status_for(errors);
    Ok(forms::form_page(headers, status, |csrf_token| {
        templates::render(
            "admin/campaign_new.html",
            context! {
                page_title => if editing.is_some() { format!("Change {}", form.name) } else { "Create a campaign".to_owned() },
                action => editing.map_or_else(|| PATH.to_owned(), str::to_owned),
                editing => editing.is_some(),
                form => form,
                times => times,
                per_nominator_hint => per_nominator_hint(choices.default_per_nominator),
                staff_groups => staff_groups,
                bands => bands,
                scopes => [
                    context! { value => "trust", label => "One trust's staff" },
                    context! { value => "region", label => "A region's trusts" },
                    context! { value => "national", label => "Every trust in the country" },
                ],
                csrf_token => csrf_token,
                field_errors => forms::by_field(&summary),
                errors => summary,
            },
        )
    })?)
}

/// `GET /admin/campaigns/new`
pub async fn new(signed: Signed, headers: HeaderMap) -> AdminResult<Response> {
    let form = CampaignForm::read(Vec::new());
    page(&signed, &headers, &form, None, &[]).await
}

/// `POST /admin/campaigns/new`: created, then off to its public page.
pub async fn create(
    signed: Signed,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AdminResult<Response> {
    let form = CampaignForm::read(pairs);
    check_csrf(&headers, &form.csrf_token, PATH)?;
    let request = match form.request() {
        Ok(request) => request,
        Err(errors) => return page(&signed, &headers, &form, None, &errors).await,
    };
    let created = signed
        .nomination()
        .create_campaign(signed.signed(request))
        .await;
    match created {
        Ok(created) => {
            let campaign = created.into_inner().campaign.unwrap_or_default();
            tracing::info!(campaign = %campaign.slug, "campaign created");
            Ok(see_other(&format!(
                "/campaigns/{}",
                segment(&campaign.slug)
            ))?)
        }
        Err(status) if status.code() == Code::InvalidArgument => {
            let errors = form.at_rows(valued_platform::grpc::field_errors(&status));
            page(&signed, &headers, &form, None, &errors).await
        }
        Err(status) => Err(signed.fail(status)),
    }
}

fn edit_path(slug: &str) -> String {
    format!("/admin/campaigns/{}/edit", segment(slug))
}

/// `GET /admin/campaigns/{slug}/edit`
pub async fn edit(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> AdminResult<Response> {
    let campaign = signed.campaign(&slug).await?;
    let form = CampaignForm::of(&campaign);
    page(&signed, &headers, &form, Some(&edit_path(&slug)), &[]).await
}

/// `POST /admin/campaigns/{slug}/edit`: changed, then back to the admin home page.
pub async fn update(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AdminResult<Response> {
    let path = edit_path(&slug);
    let campaign = signed.campaign(&slug).await?;
    let mut form = CampaignForm::read(pairs);
    check_csrf(&headers, &form.csrf_token, &path)?;
    // What cannot change is shown as it is, whatever was posted.
    let stored = CampaignForm::of(&campaign);
    form.slug = stored.slug;
    form.scope = stored.scope;
    form.scope_code = stored.scope_code;
    form.trust_codes = stored.trust_codes;
    let request = match form.edit(&campaign.id) {
        Ok(request) => request,
        Err(errors) => return page(&signed, &headers, &form, Some(&path), &errors).await,
    };
    let changed = signed
        .nomination()
        .update_campaign(signed.signed(request))
        .await;
    match changed {
        Ok(_) => {
            tracing::info!(campaign = %slug, "campaign changed");
            Ok(see_other("/admin?done=campaign-changed")?)
        }
        Err(status) if status.code() == Code::InvalidArgument => {
            let errors = form.at_rows(valued_platform::grpc::field_errors(&status));
            page(&signed, &headers, &form, Some(&path), &errors).await
        }
        Err(status) => Err(signed.fail(status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_form_is_read_row_by_row_and_blank_rows_are_left_out() {
        let form = CampaignForm::read(pairs(&[
            ("name", "Porters' Awards"),
            ("scope", "trust"),
            ("scope_code", "RJ1"),
            ("trust_codes", "RJ1, RRK  R1H"),
            ("nominations_open_at", "2027-03-01T09:00"),
            ("categories[0].name", "Porter of the year"),
            ("categories[2].name", "Domestic of the year"),
            ("categories[2].word_limit", "500"),
            ("categories[2].eligible_bands", "band-1"),
            ("categories[2].eligible_bands", "band-2"),
            ("categories[25].name", "beyond the rows"),
            ("nominations_per_nominator", " 2 "),
        ]));
        let request = form.request().unwrap();
        assert_eq!(request.nominations_per_nominator, Some(2));
        assert_eq!(request.trust_codes, ["RJ1", "RRK", "R1H"]);
        assert_eq!(request.categories.len(), 2);
        assert_eq!(request.categories[1].word_limit, 500);
        assert_eq!(request.categories[1].eligible_bands, ["band-1", "band-2"]);
        // 09:00 on 1 March is GMT.
        assert_eq!(
            request.nominations_open_at.unwrap().seconds,
            DateTime::parse_from_rfc3339("2027-03-01T09:00:00Z")
                .unwrap()
                .timestamp()
        );
        assert!(request.nominations_close_at.is_none(), "not scheduled");
        let blank = CampaignForm::read(pairs(&[("nominations_per_nominator", " ")]));
        assert_eq!(
            blank.request().unwrap().nominations_per_nominator,
            None,
            "the service's default"
        );
        let huge = CampaignForm::read(pairs(&[("nominations_per_nominator", "99999999999")]));
        assert_eq!(
            huge.request().unwrap().nominations_per_nominator,
            Some(u32::MAX),
            "the service refuses it with its bounds"
        );
    }

    #[test]
    fn the_services_errors_are_named_at_the_rows_they_came_from() {
        let form = CampaignForm::read(pairs(&[
            ("categories[0].name", "Porter of the year"),
            ("categories[2].description", "No name"),
            ("categories[3].id", "0193a000-0000-7000-8000-000000000001"),
            ("categories[3].word_limit", "300"),
            ("categories[4].id", "0193a000-0000-7000-8000-000000000002"),
            ("categories[4].name", "Kept"),
        ]));
        assert_eq!(
            form.kept_rows(),
            [0, 2, 4],
            "row 3's name was emptied: removed"
        );
        let errors = form.at_rows(vec![
            FieldError::new("categories[1].name", "Enter the category's name"),
            FieldError::new("name", "Enter the campaign's name"),
        ]);
        assert_eq!(errors[0].field, "categories[2].name");
        assert_eq!(errors[1].field, "name");
    }

    #[test]
    fn a_time_or_word_limit_that_is_not_one_is_named() {
        let form = CampaignForm::read(pairs(&[
            ("results_at", "next spring"),
            ("nominations_per_nominator", "five"),
            ("categories[1].name", "Cleaner of the year"),
            ("categories[1].word_limit", "lots"),
        ]));
        let fields: Vec<String> = form
            .request()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "results_at",
                "nominations_per_nominator",
                "categories[1].word_limit"
            ]
        );
    }
}
