//! The nomination form as NHS.UK question pages: one group of questions a page, Check your answers,
//! then the submission and the "Check your email" page. Every page's form carries all the answers
//! (those of other pages in hidden fields), so the gateway keeps nothing between requests; a form
//! posted whole to `/campaigns/{slug}/nominate` is a submission, whichever page it came from.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use minijinja::context;
use tonic::Code;
use uuid::Uuid;
use valued_platform::domain::{EmailAddress, FieldError};
use valued_platform::grpc::field_errors;

pub mod answers;
pub mod drafts;
pub mod pages;
pub mod view;

pub use answers::NominationForm;
pub use pages::Page;
use view::{Shown, render};

use super::forms::{self, PathParams, PublicForm, PublicPost, Sender};
use crate::clients::{Clients, NOMINATION};
use crate::error::{GatewayError, Result, rate_limited};
use crate::retry;
use crate::routes::campaign_view::CampaignView;
use crate::routes::page::{self, see_other, segment};

/// `GET /campaigns/{slug}/nominate`: the first question.
pub async fn show(
    State(clients): State<Clients>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let campaign = clients.campaign(&slug).await?;
    let form = NominationForm {
        campaign_id: campaign.id.clone(),
        ..NominationForm::default()
    };
    render(&headers, Shown::Page(Page::Category), &campaign, &form, &[])
}

/// `GET /campaigns/{slug}/nominate/{page}`: the answers travel in forms, so a page opened by its
/// address starts the form again.
pub async fn restart(Path((slug, _)): Path<(String, String)>) -> Result<Response> {
    see_other(&start(&slug))
}

/// `POST /campaigns/{slug}/nominate/{page}`: the answers of `page` (or a Back, Change or Save button
/// on it), with every other answer so far.
pub async fn step(
    State(clients): State<Clients>,
    Path((slug, page)): Path<(String, String)>,
    headers: HeaderMap,
    PublicForm { mut form, sender }: PublicForm<NominationForm>,
) -> Result<Response> {
    if sender == Sender::Bot {
        return thanked(&slug);
    }
    let campaign = clients.campaign(&slug).await?;
    if form.campaign_id.is_empty() {
        form.campaign_id = campaign.id.clone();
    }
    let go = form.go.clone();
    match (page.as_str(), go.as_str()) {
        ("check", _) => render(&headers, Shown::Check, &campaign, &form, &[]),
        ("save", "show") => render(&headers, Shown::Save, &campaign, &form, &[]),
        ("save", _) => {
            let errors: Vec<FieldError> =
                EmailAddress::parse("nominator_email", &form.nominator_email)
                    .err()
                    .into_iter()
                    .collect();
            if errors.is_empty() {
                drafts::save(&clients, &headers, &campaign, form).await
            } else {
                render(&headers, Shown::Save, &campaign, &form, &errors)
            }
        }
        (page, go) => {
            let page = Page::parse(page).ok_or(GatewayError::NotFound)?;
            match go {
                "show" => render(&headers, Shown::Page(page), &campaign, &form, &[]),
                "change" => {
                    form.then = "check".into();
                    render(&headers, Shown::Page(page), &campaign, &form, &[])
                }
                "save" => {
                    form.from = page.slug().into();
                    if form.nominator_email.trim().is_empty() {
                        render(&headers, Shown::Save, &campaign, &form, &[])
                    } else {
                        drafts::save(&clients, &headers, &campaign, form).await
                    }
                }
                _ => {
                    let errors = page.check(&form, &campaign);
                    let shown = match page.next() {
                        _ if !errors.is_empty() => Shown::Page(page),
                        Some(next) if form.then != "check" => Shown::Page(next),
                        _ => Shown::Check,
                    };
                    if errors.is_empty() {
                        form.then.clear();
                    }
                    render(&headers, shown, &campaign, &form, &errors)
                }
            }
        }
    }
}

/// `POST /campaigns/{slug}/nominate`: sends the nomination. What the service refuses is shown on the
/// page that asks it; the user comes back to Check your answers from there.
pub async fn submit(
    State(clients): State<Clients>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    PublicForm { form, sender }: PublicForm<NominationForm>,
) -> Result<Response> {
    if sender == Sender::Bot {
        return thanked(&slug);
    }
    let mut form = form;
    // The form names its campaign; without it (a client that did not render the form), the
    // address does. The service checks that the campaign exists and is open.
    if form.campaign_id.is_empty() {
        form.campaign_id = clients.campaign(&slug).await?.id;
    }
    // The key makes the submission safe to send again: across a restart of the service here, and
    // from the user's browser after a failure.
    let mut form = form.keyed();
    let request = form.to_request();
    let submitted = retry::idempotent("submit nomination", || {
        let (mut nomination, request) = (clients.nomination.clone(), request.clone());
        async move { nomination.submit_nomination(request).await }
    })
    .await;
    let status = match submitted {
        Ok(response) => {
            return see_other(&format!(
                "/campaigns/{}/nominated/{}",
                segment(&slug),
                segment(&response.into_inner().nomination_id)
            ));
        }
        Err(status) => status,
    };
    let errors = match status.code() {
        Code::InvalidArgument => {
            let errors = field_errors(&status);
            if errors.is_empty() {
                vec![FieldError::new("", status.message())]
            } else {
                errors
            }
        }
        // The campaign is closed, this was already sent, or too much came from the network: the
        // service's message says so.
        Code::FailedPrecondition | Code::AlreadyExists => {
            vec![FieldError::new("", status.message())]
        }
        _ if rate_limited(&status) => vec![FieldError::new("", status.message())],
        // Still away after every retry, too busy (shed), or too slow (timed out): the answers
        // stay in the browser with their key, so sending them again makes one nomination
        // whatever became of these attempts.
        _ if retry::transient(&status)
            || matches!(status.code(), Code::ResourceExhausted | Code::Cancelled) =>
        {
            return Err(GatewayError::NotSent {
                service: NOMINATION,
                status,
            });
        }
        _ => return Err(GatewayError::from_status(NOMINATION, status)),
    };
    tracing::info!(fields = errors.len(), "nomination refused");
    let campaign = clients.campaign(&slug).await?;
    match Page::owning(&errors) {
        Some(page) => {
            let own: Vec<FieldError> = errors.into_iter().filter(|e| page.owns(&e.field)).collect();
            form.then = "check".into();
            render(&headers, Shown::Page(page), &campaign, &form, &own)
        }
        None => render(&headers, Shown::Check, &campaign, &form, &errors),
    }
}

/// `GET /campaigns/{slug}/nominated/{id}`: "Check your email". Shows nothing of the nomination itself:
/// the id in the address is not a credential.
pub async fn confirmation(
    State(clients): State<Clients>,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response> {
    if !forms::is_token(&id) {
        return Err(GatewayError::NotFound);
    }
    let campaign = CampaignView::from(&clients.campaign(&slug).await?);
    page::render(
        "nominated.html",
        context! {
            page_title => "Check your email",
            campaign => campaign,
            reference => id,
        },
    )
}

impl PublicPost for NominationForm {
    const NAME: &'static str = "nomination form";

    /// Every page's form goes back to the start of the form.
    fn back(_: &str, params: &PathParams) -> String {
        start(params.get("slug"))
    }
}

fn start(slug: &str) -> String {
    format!("/campaigns/{}/nominate", segment(slug))
}

/// What a bot that filled in the honeypot sees: the page a nomination leads to.
fn thanked(slug: &str) -> Result<Response> {
    see_other(&format!(
        "/campaigns/{}/nominated/{}",
        segment(slug),
        Uuid::now_v7()
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod tests {
    use valued_proto::nomination::v1::{Campaign, Category, Choice, Trust};

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
                    sites: Vec::new(),
                },
                Trust {
                    code: "RJ1".into(),
                    name: "Guy's and St Thomas' NHS Foundation Trust".into(),
                    region: "London".into(),
                    sites: Vec::new(),
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

    pub(crate) fn filled() -> NominationForm {
        NominationForm {
            campaign_id: campaign().id,
            category_id: "cat-team".into(),
            trust_code: "RJ1".into(),
            nominee_kind: answers::PERSON.into(),
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

    fn page_html(page: Page, form: &NominationForm, errors: &[FieldError]) -> String {
        pages::render_page(page, &campaign(), form, errors, "tok").unwrap()
    }

    #[test]
    fn each_page_asks_its_own_questions_and_carries_the_other_answers() {
        let form = filled();
        for page in Page::ALL {
            let html = page_html(page, &form, &[]);
            for field in page.fields() {
                assert!(
                    html.contains(&format!("id=\"{field}\"")),
                    "{page:?}: #{field}"
                );
            }
            for (name, _) in form.answers() {
                let hidden = format!("<input type=\"hidden\" name=\"{name}\"");
                let shown = page.fields().contains(&name);
                let value_given = form
                    .answers()
                    .iter()
                    .any(|(n, v)| *n == name && !v.is_empty());
                assert_eq!(
                    html.matches(&hidden).count(),
                    // Once in the form, once in the Back form (the first page has a Back link).
                    match (shown, value_given, page.previous()) {
                        (true, true, Some(_)) => 1,
                        (false, true, Some(_)) => 2,
                        (false, true, None) => 1,
                        _ => 0,
                    },
                    "{page:?}: {name}"
                );
            }
            assert!(html.contains(r#"<input type="hidden" name="csrf_token" value="tok">"#));
            assert!(html.contains(
                r#"name="website" type="text" value="" tabindex="-1" autocomplete="off""#
            ));
            assert!(html.contains(&format!(
                r#"action="/campaigns/health-heroes/nominate/{}""#,
                page.slug()
            )));
            assert!(
                html.contains(r#"name="go" value="save""#),
                "{page:?}: save and come back later"
            );
            assert!(!html.contains("<script>"), "no inline script");
            assert!(
                html.contains(&format!(
                    "<title>{} – Valued – NHS</title>",
                    page.title().replace('\'', "&#x27;")
                )),
                "{page:?}"
            );
        }
    }

    #[test]
    fn the_first_page_goes_back_to_the_campaign_and_the_others_carry_the_answers_back() {
        let html = page_html(Page::Category, &filled(), &[]);
        assert!(html.contains(r#"<a class="nhsuk-back-link" href="/campaigns/health-heroes">"#));
        let html = page_html(Page::Story, &filled(), &[]);
        assert!(html.contains(r#"<form method="post" action="/campaigns/health-heroes/nominate/workplace" novalidate>"#));
        assert!(
            html.contains(
                r#"<button class="nhsuk-back-link" type="submit" name="go" value="show">"#
            )
        );
        let from_check = NominationForm {
            then: "check".into(),
            ..filled()
        };
        let html = page_html(Page::Story, &from_check, &[]);
        assert!(html.contains(r#"action="/campaigns/health-heroes/nominate/check" novalidate>"#));
        assert!(html.contains(r#"<input type="hidden" name="then" value="check">"#));
    }

    #[test]
    fn the_questions_offer_the_campaign_s_answers() {
        let form = NominationForm::default();
        let html = page_html(Page::StaffGroup, &form, &[]);
        for slug in ["estates-and-ancillary", "other", "band-1", "not-sure"] {
            assert!(
                html.contains(&format!("value=\"{slug}\"")),
                "{slug} missing"
            );
        }
        let html = page_html(Page::AboutYou, &form, &[]);
        assert!(html.contains(r#"value="colleague""#) && html.contains(r#"value="public""#));
        assert!(html.contains(r#"autocomplete="email" spellcheck="false""#));
        let html = page_html(Page::Workplace, &form, &[]);
        assert!(html.contains(r#"<optgroup label="London">"#));
        let html = page_html(Page::Category, &form, &[]);
        assert!(html.contains("Someone who makes the whole team better."));
        let html = page_html(Page::Nominee, &form, &[]);
        for kind in ["person", "team", "unknown"] {
            assert!(html.contains(&format!("value=\"{kind}\"")), "{kind}");
        }
    }

    #[test]
    fn a_trust_s_listed_sites_are_offered_by_name_and_shown_by_name_when_checked() {
        let mut listed = campaign();
        listed.trusts[1].sites = vec![
            valued_proto::nomination::v1::TrustSite {
                code: "RJ121".into(),
                name: "St Thomas' Hospital".into(),
            },
            valued_proto::nomination::v1::TrustSite {
                code: "RJ122".into(),
                name: "Guy's Hospital".into(),
            },
        ];
        let form = NominationForm {
            site_code: "RJ122".into(),
            ..filled()
        };
        let html = pages::render_page(Page::Workplace, &listed, &form, &[], "tok").unwrap();
        assert!(html.contains(r#"<select class="nhsuk-select" id="site_code" name="site_code""#));
        assert!(
            html.contains(
                r#"<optgroup label="Guy&#x27;s and St Thomas&#x27; NHS Foundation Trust">"#
            )
        );
        assert!(html.contains(r#"<option value="RJ122" selected>Guy&#x27;s Hospital</option>"#));
        assert!(html.contains("Not listed, or I do not know"));
        let check = pages::render_check(&listed, &form, &[], "tok").unwrap();
        assert!(check.contains("Guy&#x27;s Hospital (RJ122)"));
        // A campaign whose trusts list no sites asks for the code.
        let html = page_html(Page::Workplace, &form, &[]);
        assert!(html.contains(r#"id="site_code" name="site_code" type="text" value="RJ122""#));
        assert!(!html.contains("<select class=\"nhsuk-select\" id=\"site_code\""));
    }

    #[test]
    fn the_story_shows_the_word_limit_of_the_category_chosen() {
        let mut campaign = campaign();
        campaign.categories[1].word_limit = 250;
        let html = pages::render_page(Page::Story, &campaign, &filled(), &[], "tok").unwrap();
        assert!(html.contains(r#"data-maxwords="250""#));
        assert!(html.contains("You can enter up to 250 words"));
        assert!(html.contains("Team player"));
        assert!(html.contains("She &quot;always&quot; helps &amp; smiles.</textarea>"));
    }

    #[test]
    fn errors_are_summarised_and_shown_beside_their_fields() {
        let errors = vec![
            FieldError::new(
                "nominee_email",
                "Enter an email address in the correct format, like name@example.com",
            ),
            FieldError::new("nominee_name", "Enter their name without <tags>"),
            FieldError::new("team", "Choose one"),
        ];
        let html = page_html(Page::Nominee, &filled(), &errors);
        assert!(html.contains("<title>Error: Who are you nominating? – Valued – NHS</title>"));
        assert!(html.contains(
            r#"<div class="nhsuk-error-summary" data-module="nhsuk-error-summary" tabindex="-1">"#
        ));
        let kind = html
            .find(r##"<a href="#nominee_kind">Choose one</a>"##)
            .unwrap();
        let name = html
            .find(r##"<a href="#nominee_name">Enter their name without &lt;tags&gt;</a>"##)
            .unwrap();
        let email = html.find(r##"<a href="#nominee_email">"##).unwrap();
        assert!(
            kind < name && name < email,
            "the summary follows the page order"
        );
        assert_eq!(html.matches("nhsuk-form-group--error").count(), 3);
        assert!(html.contains(r#"id="nominee_name-error""#));
        assert!(html.contains(r#"class="nhsuk-input nhsuk-input--error" id="nominee_email""#));
    }

    #[test]
    fn values_are_kept_and_escaped() {
        let html = page_html(Page::Nominee, &filled(), &[]);
        assert!(html.contains("value=\"&lt;script&gt;alert(1)&lt;&#x2f;script&gt;\""));
        assert!(!html.contains("<script>alert(1)"));
        assert!(html.contains(r#"value="person" checked"#));
        let html = page_html(Page::AboutYou, &filled(), &[]);
        assert!(html.contains("value=\"Sam O&#x27;Brien\""));
        assert!(html.contains(r#"value="colleague" checked"#));
        let html = page_html(Page::Workplace, &filled(), &[]);
        assert!(html.contains(r#"<option value="RJ1" selected>"#));
    }

    #[test]
    fn check_your_answers_lists_every_answer_with_a_change_button() {
        let html = pages::render_check(&campaign(), &filled(), &[], "tok").unwrap();
        assert!(html.contains(
            "<title>Check your answers before sending your nomination – Valued – NHS</title>"
        ));
        for shown in [
            "Team player",
            "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;",
            "Estates and ancillary",
            "Guy&#x27;s and St Thomas&#x27; NHS Foundation Trust",
            "I work with them",
        ] {
            assert!(html.contains(shown), "{shown}");
        }
        for page in Page::ALL {
            assert!(
                html.contains(&format!(
                    r#"formaction="/campaigns/health-heroes/nominate/{}""#,
                    page.slug()
                )),
                "{page:?}"
            );
        }
        assert!(html.contains(r#"<form method="post" action="/campaigns/health-heroes/nominate" novalidate id="answers">"#));
        assert!(
            html.contains(
                r#"name="website" type="text" value="" tabindex="-1" autocomplete="off""#
            )
        );
        assert!(html.contains("Send nomination"));
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
