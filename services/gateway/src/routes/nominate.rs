//! The nomination form (one page for now), its submission and the confirmation page.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use tonic::Code;
use uuid::Uuid;
use valued_platform::domain::FieldError;
use valued_platform::grpc::field_errors;
use valued_proto::nomination::v1::{Campaign, Choice, SubmitNominationRequest};

use super::{CampaignView, page, see_other, segment};
use crate::clients::{Clients, NOMINATION};
use crate::csrf;
use crate::error::{GatewayError, Result};
use crate::templates;

/// The form's fields in the order the page shows them (the error summary follows it). Each is named
/// after its field of `SubmitNominationRequest`, and is the id of its input (of the first radio).
pub const FIELDS: [&str; 9] = [
    "nominee_name",
    "nominee_job_title",
    "trust_code",
    "staff_group",
    "category_id",
    "story",
    "nominator_name",
    "nominator_email",
    "relationship",
];

/// The honeypot: a field people never see. A bot that fills it in is thanked and ignored.
pub const HONEYPOT: &str = "website";

/// What the form sends back. Every field is optional here: the nomination service validates.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NominationForm {
    pub campaign_id: String,
    pub category_id: String,
    pub trust_code: String,
    pub nominee_name: String,
    pub nominee_job_title: String,
    pub staff_group: String,
    pub story: String,
    pub nominator_name: String,
    pub nominator_email: String,
    pub relationship: String,
    pub band: String,
    #[serde(skip_serializing)]
    pub csrf_token: String,
    #[serde(skip_serializing)]
    pub website: String,
}

impl NominationForm {
    fn into_request(self, campaign_id: String) -> SubmitNominationRequest {
        SubmitNominationRequest {
            campaign_id,
            category_id: self.category_id,
            trust_code: self.trust_code,
            nominee_name: self.nominee_name,
            nominee_job_title: self.nominee_job_title,
            staff_group: self.staff_group,
            story: self.story,
            nominator_name: self.nominator_name,
            nominator_email: self.nominator_email,
            relationship: self.relationship,
            band: self.band,
            ..Default::default()
        }
    }
}

/// `GET /campaigns/{slug}/nominate`
pub async fn show(
    State(clients): State<Clients>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let campaign = clients.campaign(&slug).await?;
    let (token, set_cookie) = csrf::token_for(&headers);
    let form = NominationForm {
        campaign_id: campaign.id.clone(),
        ..NominationForm::default()
    };
    let html = render_form(&campaign, &form, &[], token.as_str())?;
    let mut response = Html(html).into_response();
    if let Some(cookie) = set_cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// `POST /campaigns/{slug}/nominate`
pub async fn submit(
    State(clients): State<Clients>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let form: NominationForm = serde_urlencoded::from_bytes(&body)
        .map_err(|e| GatewayError::BadRequest(format!("nomination form: {e}")))?;
    if !csrf::verify(&headers, &form.csrf_token) {
        return Err(GatewayError::Forbidden {
            form: format!("/campaigns/{}/nominate", segment(&slug)),
        });
    }
    if !form.website.trim().is_empty() {
        tracing::info!("honeypot filled in: nomination discarded");
        return see_other(&format!(
            "/campaigns/{}/nominated/{}",
            segment(&slug),
            Uuid::now_v7()
        ));
    }

    // The form names its campaign; without it (a client that did not render the form), the
    // address does. The service checks that the campaign exists and is open.
    let campaign_id = if form.campaign_id.is_empty() {
        clients.campaign(&slug).await?.id
    } else {
        form.campaign_id.clone()
    };
    let submitted = clients
        .nomination
        .clone()
        .submit_nomination(form.clone().into_request(campaign_id))
        .await;
    match submitted {
        Ok(response) => see_other(&format!(
            "/campaigns/{}/nominated/{}",
            segment(&slug),
            segment(&response.into_inner().nomination_id)
        )),
        Err(status) => {
            let errors = match status.code() {
                Code::InvalidArgument => {
                    let errors = field_errors(&status);
                    if errors.is_empty() {
                        vec![FieldError::new("", status.message())]
                    } else {
                        errors
                    }
                }
                // The campaign is closed, or this was already sent: the service's message says so.
                Code::FailedPrecondition | Code::AlreadyExists => {
                    vec![FieldError::new("", status.message())]
                }
                _ => return Err(GatewayError::from_status(NOMINATION, status)),
            };
            tracing::info!(fields = errors.len(), "nomination refused");
            let campaign = clients.campaign(&slug).await?;
            let token = csrf::CsrfToken::from_cookie(&headers)
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default();
            let html = render_form(&campaign, &form, &errors, &token)?;
            Ok((StatusCode::BAD_REQUEST, Html(html)).into_response())
        }
    }
}

/// `GET /campaigns/{slug}/nominated/{id}`. Shows nothing of the nomination itself: the id in the
/// address is not a credential.
pub async fn confirmation(
    State(clients): State<Clients>,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response> {
    let plain = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !plain {
        return Err(GatewayError::NotFound);
    }
    let campaign = CampaignView::from(&clients.campaign(&slug).await?);
    page(
        "nominated.html",
        context! {
            page_title => "Nomination sent",
            campaign => campaign,
            reference => id,
        },
    )
}

#[derive(Serialize)]
struct Item {
    value: String,
    label: String,
    hint: Option<String>,
}

#[derive(Serialize)]
struct OptionGroup {
    label: String,
    options: Vec<Item>,
}

#[derive(Serialize)]
struct SummaryError<'a> {
    /// The id of the input to link to; empty for an error of the whole form.
    field: &'a str,
    message: &'a str,
}

/// The nomination form, with `errors` (from the nomination service) in the error summary and beside
/// their fields, and the values the user typed kept.
pub fn render_form(
    campaign: &Campaign,
    form: &NominationForm,
    errors: &[FieldError],
    csrf_token: &str,
) -> std::result::Result<String, minijinja::Error> {
    let view = CampaignView::from(campaign);

    let mut summary: Vec<SummaryError<'_>> = errors
        .iter()
        .map(|e| SummaryError {
            field: if FIELDS.contains(&e.field.as_str()) {
                e.field.as_str()
            } else {
                ""
            },
            message: e.message.as_str(),
        })
        .collect();
    summary.sort_by_key(|e| {
        FIELDS
            .iter()
            .position(|f| *f == e.field)
            .unwrap_or(FIELDS.len())
    });
    let mut field_errors: HashMap<&str, &str> = HashMap::new();
    for error in &summary {
        if !error.field.is_empty() {
            field_errors.entry(error.field).or_insert(error.message);
        }
    }

    let categories: Vec<Item> = campaign
        .categories
        .iter()
        .map(|c| Item {
            value: c.id.clone(),
            label: c.name.clone(),
            hint: (!c.description.is_empty()).then(|| c.description.clone()),
        })
        .collect();
    let mut story_hint =
        "Tell us what they did and the difference it made to patients, visitors or colleagues."
            .to_owned();
    if view.word_limit.is_none() {
        let limits: Vec<String> = campaign
            .categories
            .iter()
            .filter(|c| c.word_limit > 0)
            .map(|c| format!("{}: {} words", c.name, c.word_limit))
            .collect();
        if !limits.is_empty() {
            story_hint.push_str(&format!(
                " The word limit depends on the category ({}).",
                limits.join("; ")
            ));
        }
    }

    templates::render(
        "nominate.html",
        context! {
            page_title => "Nominate someone",
            campaign => view.clone(),
            max_words => view.word_limit,
            story_hint => story_hint,
            form => form,
            csrf_token => csrf_token,
            errors => summary,
            field_errors => field_errors,
            categories => categories,
            trust_groups => trust_groups(campaign),
            staff_groups => items(&campaign.staff_groups),
            relationships => items(&campaign.relationships),
            bands => items(&campaign.bands),
        },
    )
}

/// The answers the nomination service offers (it owns the lists and parses what comes back).
fn items(choices: &[Choice]) -> Vec<Item> {
    choices
        .iter()
        .map(|choice| Item {
            value: choice.value.clone(),
            label: choice.label.clone(),
            hint: None,
        })
        .collect()
}

/// The campaign's trusts grouped by region, regions and trusts in the order the service gives them.
fn trust_groups(campaign: &Campaign) -> Vec<OptionGroup> {
    let mut groups: Vec<OptionGroup> = Vec::new();
    for trust in &campaign.trusts {
        let option = Item {
            value: trust.code.clone(),
            label: trust.name.clone(),
            hint: None,
        };
        match groups.iter_mut().find(|g| g.label == trust.region) {
            Some(group) => group.options.push(option),
            None => groups.push(OptionGroup {
                label: trust.region.clone(),
                options: vec![option],
            }),
        }
    }
    groups
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod tests {
    use valued_proto::nomination::v1::{Category, Choice, Trust};

    use super::*;

    pub(crate) fn campaign() -> Campaign {
        Campaign {
            id: "0193a1b2-0000-7000-8000-000000000001".into(),
            slug: "health-heroes".into(),
            name: "Health Heroes 2026".into(),
            description:
                "Thank the people who keep the NHS running.\n\nNominations close in March.".into(),
            trusts: vec![
                Trust {
                    code: "RRK".into(),
                    name: "University Hospitals Birmingham NHS Foundation Trust".into(),
                    region: "Midlands".into(),
                },
                Trust {
                    code: "RJ1".into(),
                    name: "Guy's and St Thomas' NHS Foundation Trust".into(),
                    region: "London".into(),
                },
            ],
            categories: vec![
                Category {
                    id: "cat-unsung".into(),
                    name: "Unsung hero".into(),
                    description: "Someone who goes above and beyond, out of sight.".into(),
                    word_limit: 300,
                    ..Category::default()
                },
                Category {
                    id: "cat-team".into(),
                    name: "Team player".into(),
                    description: "Someone who makes the whole team better.".into(),
                    word_limit: 300,
                    ..Category::default()
                },
            ],
            staff_groups: choices(&[
                ("estates-and-ancillary", "Estates and ancillary"),
                ("other", "Another support role"),
            ]),
            relationships: choices(&[
                ("colleague", "I work with them"),
                ("public", "Member of the public"),
            ]),
            bands: choices(&[("band-1", "Band 1"), ("not-sure", "I'm not sure")]),
            nominations_open_at: Some(days_from_now(-1)),
            nominations_close_at: Some(days_from_now(30)),
            ..Campaign::default()
        }
    }

    fn choices(pairs: &[(&str, &str)]) -> Vec<Choice> {
        pairs
            .iter()
            .map(|(value, label)| Choice {
                value: (*value).into(),
                label: (*label).into(),
            })
            .collect()
    }

    pub(crate) fn days_from_now(days: i64) -> prost_types::Timestamp {
        let at = chrono::Utc::now() + chrono::Duration::days(days);
        prost_types::Timestamp {
            seconds: at.timestamp(),
            nanos: 0,
        }
    }

    fn filled() -> NominationForm {
        NominationForm {
            campaign_id: campaign().id,
            category_id: "cat-team".into(),
            trust_code: "RJ1".into(),
            nominee_name: "<script>alert(1)</script>".into(),
            nominee_job_title: "Porter".into(),
            staff_group: "estates-and-ancillary".into(),
            story: "She \"always\" helps & smiles.".into(),
            nominator_name: "Sam O'Brien".into(),
            nominator_email: "not-an-email".into(),
            relationship: "colleague".into(),
            ..NominationForm::default()
        }
    }

    fn errors() -> Vec<FieldError> {
        vec![
            // In another order than the page: the summary follows the page.
            FieldError::new(
                "nominator_email",
                "Enter an email address in the correct format, like name@example.com",
            ),
            FieldError::new("nominee_name", "Enter their name without <tags>"),
            FieldError::new("campaign_id", "This campaign is not open for nominations"),
        ]
    }

    #[test]
    fn the_empty_form_has_every_field_the_service_expects() {
        let html = render_form(&campaign(), &NominationForm::default(), &[], "tok").unwrap();
        for field in FIELDS {
            assert!(
                html.contains(&format!("name=\"{field}\"")),
                "{field} missing"
            );
            assert!(
                html.contains(&format!("id=\"{field}\"")),
                "#{field} missing"
            );
        }
        assert!(html.contains(r#"<input type="hidden" name="csrf_token" value="tok">"#));
        assert!(
            html.contains(r#"name="campaign_id" value="0193a1b2-0000-7000-8000-000000000001""#)
        );
        assert!(
            html.contains(
                r#"name="website" type="text" value="" tabindex="-1" autocomplete="off""#
            )
        );
        assert!(html.contains(r#"action="/campaigns/health-heroes/nominate""#));
        for slug in [
            "estates-and-ancillary",
            "other",
            "colleague",
            "public",
            "band-1",
            "not-sure",
        ] {
            assert!(
                html.contains(&format!("value=\"{slug}\"")),
                "{slug} missing"
            );
        }
        assert!(html.contains(r#"<optgroup label="London">"#));
        assert!(html.contains(r#"autocomplete="email" spellcheck="false""#));
        assert!(html.contains(r#"data-maxwords="300""#));
        assert!(html.contains("You can enter up to 300 words"));
        assert!(!html.contains("nhsuk-error-summary"));
        assert!(!html.contains("nhsuk-form-group--error"));
        assert!(html.contains("<title>Nominate someone – Valued – NHS</title>"));
        assert!(!html.contains("<script>"), "no inline script");
    }

    #[test]
    fn errors_are_summarised_and_shown_beside_their_fields() {
        let html = render_form(&campaign(), &filled(), &errors(), "tok").unwrap();

        assert!(html.contains("<title>Error: Nominate someone – Valued – NHS</title>"));
        assert!(html.contains(
            r#"<div class="nhsuk-error-summary" data-module="nhsuk-error-summary" tabindex="-1">"#
        ));
        assert!(html.contains(r#"<div role="alert">"#));
        assert!(html.contains("There is a problem"));
        let name_link = html
            .find(r##"<a href="#nominee_name">Enter their name without &lt;tags&gt;</a>"##)
            .unwrap();
        let email_link = html
            .find(r##"<a href="#nominator_email">Enter an email address in the correct format, like name@example.com</a>"##)
            .unwrap();
        assert!(name_link < email_link, "the summary follows the page order");
        // An error of no field is listed without a link.
        assert!(html.contains("This campaign is not open for nominations"));
        assert!(!html.contains(r##"href="#campaign_id""##));

        assert_eq!(html.matches("nhsuk-form-group--error").count(), 2);
        assert!(html.contains(
            r#"<span class="nhsuk-error-message" id="nominee_name-error">
  <span class="nhsuk-u-visually-hidden">Error:</span> Enter their name without &lt;tags&gt;
</span>"#
        ));
        assert!(html.contains(r#"id="nominator_email-error""#));
        assert!(html.contains(r#"class="nhsuk-input nhsuk-input--error" id="nominator_email""#));
        assert!(html.contains(r#"aria-describedby="nominator_email-hint nominator_email-error""#));
    }

    #[test]
    fn values_are_kept_and_escaped() {
        let html = render_form(&campaign(), &filled(), &errors(), "tok").unwrap();
        assert!(html.contains("value=\"&lt;script&gt;alert(1)&lt;&#x2f;script&gt;\""));
        assert!(!html.contains("<script>alert(1)"));
        assert!(html.contains("value=\"Sam O&#x27;Brien\""));
        assert!(html.contains("She &quot;always&quot; helps &amp; smiles.</textarea>"));
        assert!(html.contains(r#"value="not-an-email""#));
        assert!(html.contains(r#"<option value="RJ1" selected>"#));
        assert!(html.contains(r#"value="cat-team" checked"#));
        assert!(html.contains(r#"value="estates-and-ancillary" checked"#));
        assert!(html.contains(r#"value="colleague" checked"#));
        assert_eq!(html.matches(" checked").count(), 3);
    }

    #[test]
    fn different_word_limits_are_named_in_the_hint() {
        let mut campaign = campaign();
        campaign.categories[1].word_limit = 500;
        let html = render_form(&campaign, &NominationForm::default(), &[], "tok").unwrap();
        assert!(!html.contains("data-maxwords"));
        assert!(html.contains("Unsung hero: 300 words; Team player: 500 words"));
    }

    #[test]
    fn the_form_parses_from_urlencoded_with_fields_missing() {
        let form: NominationForm = serde_urlencoded::from_str(
            "csrf_token=abc&nominee_name=Ann+Lee&story=Line+1%0D%0ALine+2&website=&extra=1",
        )
        .unwrap();
        assert_eq!(form.nominee_name, "Ann Lee");
        assert_eq!(form.story, "Line 1\r\nLine 2");
        assert_eq!(form.csrf_token, "abc");
        assert!(form.website.is_empty());
        assert!(form.relationship.is_empty());
    }
}
