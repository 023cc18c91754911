//! The question pages of the nomination form, one group of questions each, in order; what each asks,
//! what it checks before the next page, and how it is drawn.
//!
//! The nomination service decides whether a nomination is valid. A page checks only what the user
//! must answer before going on (and the word limit it shows), with the service's messages; what the
//! service refuses at the end is sent back to the page that owns the field.

use serde::Serialize;
use valued_platform::domain::{EmailAddress, FieldError, FieldErrors, PersonName};
use valued_proto::nomination::v1::{Campaign, Category, Choice};

use super::answers::{NominationForm, PERSON, TEAM, UNKNOWN};
use crate::routes::campaign_view::CampaignView;
use crate::routes::forms::{self, SummaryError};
use crate::routes::page::segment;
use crate::templates;

/// A question page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Category,
    Nominee,
    StaffGroup,
    Workplace,
    Story,
    AboutYou,
}

impl Page {
    pub const ALL: [Page; 6] = [
        Page::Category,
        Page::Nominee,
        Page::StaffGroup,
        Page::Workplace,
        Page::Story,
        Page::AboutYou,
    ];

    /// Its segment of the address, `/campaigns/{slug}/nominate/{page}`.
    pub fn slug(self) -> &'static str {
        match self {
            Page::Category => "category",
            Page::Nominee => "nominee",
            Page::StaffGroup => "staff-group",
            Page::Workplace => "workplace",
            Page::Story => "story",
            Page::AboutYou => "about-you",
        }
    }

    pub fn parse(slug: &str) -> Option<Page> {
        Page::ALL.into_iter().find(|p| p.slug() == slug)
    }

    pub fn title(self) -> &'static str {
        match self {
            Page::Category => "Choose a category",
            Page::Nominee => "Who are you nominating?",
            Page::StaffGroup => "Their staff group and pay band",
            Page::Workplace => "Where do they work?",
            Page::Story => "Tell us their story",
            Page::AboutYou => "About you",
        }
    }

    /// The inputs of the page, in page order; each is the id of its input (of its first radio).
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Page::Category => &["category_id"],
            Page::Nominee => &[
                "nominee_kind",
                "nominee_name",
                "nominee_description",
                "nominee_job_title",
                "nominee_email",
            ],
            Page::StaffGroup => &["staff_group", "band"],
            Page::Workplace => &["trust_code", "site_code"],
            Page::Story => &["story"],
            Page::AboutYou => &["nominator_name", "nominator_email", "relationship"],
        }
    }

    /// Whether an error the service reports about `field` belongs on this page.
    pub fn owns(self, field: &str) -> bool {
        anchor(field).map_or_else(
            || self.fields().contains(&field),
            |a| self.fields().contains(&a),
        )
    }

    fn index(self) -> usize {
        Page::ALL
            .iter()
            .position(|p| *p == self)
            .unwrap_or_default()
    }

    pub fn next(self) -> Option<Page> {
        Page::ALL.get(self.index() + 1).copied()
    }

    pub fn previous(self) -> Option<Page> {
        self.index()
            .checked_sub(1)
            .and_then(|i| Page::ALL.get(i).copied())
    }

    /// What must be answered before the next page, with the messages the service gives.
    pub fn check(self, form: &NominationForm, campaign: &Campaign) -> Vec<FieldError> {
        let mut errors = FieldErrors::new();
        match self {
            Page::Category => {
                let ids = campaign.categories.iter().map(|c| c.id.as_str());
                errors.check(choice(
                    "category_id",
                    &form.category_id,
                    ids,
                    "Select a category",
                ));
            }
            Page::Nominee => {
                let kinds = [PERSON, TEAM, UNKNOWN].into_iter();
                errors.check(choice(
                    "nominee_kind",
                    form.kind(),
                    kinds,
                    "Select who you are nominating",
                ));
                match form.kind() {
                    PERSON => {
                        errors.check(PersonName::parse(
                            "nominee_name",
                            "their full name",
                            &form.nominee_name,
                        ));
                    }
                    TEAM => {
                        errors.check(PersonName::parse(
                            "nominee_name",
                            "the team's name",
                            &form.nominee_name,
                        ));
                    }
                    UNKNOWN => {
                        errors.check(required(
                            "nominee_description",
                            &form.nominee_description,
                            "Describe the person you are nominating",
                        ));
                    }
                    _ => {}
                }
                errors.check(required(
                    "nominee_job_title",
                    &form.nominee_job_title,
                    "Enter their job title",
                ));
                if !form.nominee_email.trim().is_empty() {
                    errors.check(EmailAddress::parse("nominee_email", &form.nominee_email));
                }
            }
            Page::StaffGroup => {
                let category = category(campaign, form);
                let groups = eligible(
                    &campaign.staff_groups,
                    category.map(|c| &c.eligible_staff_groups),
                );
                errors.check(choice(
                    "staff_group",
                    &form.staff_group,
                    groups.iter().map(|c| c.value.as_str()),
                    "Select their staff group",
                ));
                if !form.band.is_empty() {
                    let bands = eligible(&campaign.bands, category.map(|c| &c.eligible_bands));
                    errors.check(choice(
                        "band",
                        &form.band,
                        bands.iter().map(|c| c.value.as_str()),
                        "Select their band",
                    ));
                }
            }
            Page::Workplace => {
                let codes = campaign.trusts.iter().map(|t| t.code.as_str());
                errors.check(choice(
                    "trust_code",
                    &form.trust_code,
                    codes,
                    "Select a trust",
                ));
            }
            Page::Story => {
                errors.check(required(
                    "story",
                    &form.story,
                    "Tell us why they deserve to be recognised",
                ));
                let limit = category(campaign, form).map_or(0, |c| c.word_limit);
                let words = form.story.split_whitespace().count();
                if limit > 0 && words > limit as usize {
                    errors.push(FieldError::new(
                        "story",
                        format!("Your story must be {limit} words or fewer (it has {words})"),
                    ));
                }
            }
            Page::AboutYou => {
                errors.check(PersonName::parse(
                    "nominator_name",
                    "your full name",
                    &form.nominator_name,
                ));
                errors.check(EmailAddress::parse(
                    "nominator_email",
                    &form.nominator_email,
                ));
                let relationships = campaign.relationships.iter().map(|c| c.value.as_str());
                errors.check(choice(
                    "relationship",
                    &form.relationship,
                    relationships,
                    "Select how you know them",
                ));
            }
        }
        errors.into_result().err().unwrap_or_default()
    }

    /// The first page with a question still to answer; `None` when all are answered.
    pub fn first_unanswered(form: &NominationForm, campaign: &Campaign) -> Option<Page> {
        Page::ALL
            .into_iter()
            .find(|page| !page.check(form, campaign).is_empty())
    }

    /// The first page that owns one of `errors`.
    pub fn owning(errors: &[FieldError]) -> Option<Page> {
        Page::ALL
            .into_iter()
            .find(|page| errors.iter().any(|e| page.owns(&e.field)))
    }
}

/// The input that answers a field the service names, where it is not the field itself.
fn anchor(field: &str) -> Option<&'static str> {
    (field == "team").then_some("nominee_kind")
}

fn required(field: &str, value: &str, message: &str) -> Result<(), FieldError> {
    if value.trim().is_empty() {
        Err(FieldError::new(field, message))
    } else {
        Ok(())
    }
}

/// One of `values`: "Select …" when empty, "Select … from the list" when not one of them.
fn choice<'a>(
    field: &str,
    value: &str,
    mut values: impl Iterator<Item = &'a str>,
    missing: &str,
) -> Result<(), FieldError> {
    let value = value.trim();
    if value.is_empty() {
        Err(FieldError::new(field, missing))
    } else if values.any(|v| v == value) {
        Ok(())
    } else {
        Err(FieldError::new(field, format!("{missing} from the list")))
    }
}

fn category<'a>(campaign: &'a Campaign, form: &NominationForm) -> Option<&'a Category> {
    campaign
        .categories
        .iter()
        .find(|c| c.id == form.category_id)
}

/// The choices a category is open to (all when it names none).
fn eligible<'a>(choices: &'a [Choice], only: Option<&Vec<String>>) -> Vec<&'a Choice> {
    choices
        .iter()
        .filter(|c| only.is_none_or(|only| only.is_empty() || only.contains(&c.value)))
        .collect()
}

#[derive(Serialize)]
struct Item {
    value: String,
    label: String,
    hint: Option<String>,
}

impl Item {
    fn of(choice: &Choice) -> Self {
        Item {
            value: choice.value.clone(),
            label: choice.label.clone(),
            hint: None,
        }
    }
}

#[derive(Serialize)]
struct OptionGroup {
    label: String,
    options: Vec<Item>,
}

/// Where a page's Back link goes: a plain link, or a form that carries the answers to a page.
#[derive(Serialize)]
struct Back {
    href: Option<String>,
    action: Option<String>,
    fields: Vec<(&'static str, String)>,
}

fn nominate_path(campaign: &Campaign, page: &str) -> String {
    format!("/campaigns/{}/nominate/{page}", segment(&campaign.slug))
}

impl Back {
    /// Back to `page` with every answer as it was when this page was drawn.
    fn to(campaign: &Campaign, page: &str, form: &NominationForm) -> Self {
        Back {
            href: None,
            action: Some(nominate_path(campaign, page)),
            fields: form.hidden(&[]),
        }
    }
}

/// A question page with the answers so far, `errors` (of this page) in the error summary and beside
/// their inputs.
pub fn render_page(
    page: Page,
    campaign: &Campaign,
    form: &NominationForm,
    errors: &[FieldError],
    csrf_token: &str,
) -> Result<String, minijinja::Error> {
    let view = CampaignView::from(campaign);
    let summary = forms::summary(errors, page.fields(), anchor);
    let back = if form.then == "check" {
        Back::to(campaign, "check", form)
    } else {
        match page.previous() {
            Some(previous) => Back::to(campaign, previous.slug(), form),
            None => Back {
                href: Some(format!("/campaigns/{}", view.slug)),
                action: None,
                fields: Vec::new(),
            },
        }
    };
    let chosen = category(campaign, form);
    let word_limit = chosen.map_or(0, |c| c.word_limit);
    templates::render(
        &format!("nominate/{}.html", page.slug()),
        minijinja::context! {
            page_title => page.title(),
            campaign => view,
            page => page.slug(),
            step => page.index() + 1,
            steps => Page::ALL.len(),
            action => nominate_path(campaign, page.slug()),
            back => back,
            hidden => form.hidden(page.fields()),
            then => form.then,
            form => form,
            csrf_token => csrf_token,
            field_errors => forms::by_field(&summary),
            errors => summary,
            category => chosen.map(|c| c.name.clone()),
            max_words => (word_limit > 0).then_some(word_limit),
            categories => campaign.categories.iter().map(|c| Item {
                value: c.id.clone(),
                label: c.name.clone(),
                hint: (!c.description.is_empty()).then(|| c.description.clone()),
            }).collect::<Vec<_>>(),
            kinds => kinds(),
            staff_groups => eligible(&campaign.staff_groups, chosen.map(|c| &c.eligible_staff_groups))
                .into_iter().map(Item::of).collect::<Vec<_>>(),
            bands => eligible(&campaign.bands, chosen.map(|c| &c.eligible_bands))
                .into_iter().map(Item::of).collect::<Vec<_>>(),
            trust_groups => trust_groups(campaign),
            site_groups => site_groups(campaign),
            relationships => campaign.relationships.iter().map(Item::of).collect::<Vec<_>>(),
        },
    )
}

fn kinds() -> Vec<Item> {
    [
        (PERSON, "A person", None),
        (TEAM, "A team", Some("Their name is the team's name")),
        (
            UNKNOWN,
            "A person whose name I do not know",
            Some("Describe them and we will ask their site manager who they are"),
        ),
    ]
    .into_iter()
    .map(|(value, label, hint)| Item {
        value: value.into(),
        label: label.into(),
        hint: hint.map(str::to_owned),
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

/// At most this many sites are offered as a list; past it, the page asks for the code.
const MAX_SITES_LISTED: usize = 400;

/// The sites of the campaign's trusts, grouped by trust, when any trust lists its sites and they
/// are few enough for one list; otherwise none (the page asks for a site's ODS code).
fn site_groups(campaign: &Campaign) -> Vec<OptionGroup> {
    let listed: usize = campaign.trusts.iter().map(|t| t.sites.len()).sum();
    if listed > MAX_SITES_LISTED {
        return Vec::new();
    }
    campaign
        .trusts
        .iter()
        .filter(|t| !t.sites.is_empty())
        .map(|t| OptionGroup {
            label: t.name.clone(),
            options: t
                .sites
                .iter()
                .map(|s| Item {
                    value: s.code.clone(),
                    label: s.name.clone(),
                    hint: None,
                })
                .collect(),
        })
        .collect()
}

/// A site as Check your answers shows it: its name and code when a trust lists it.
fn site_label(campaign: &Campaign, code: &str) -> String {
    campaign
        .trusts
        .iter()
        .flat_map(|t| &t.sites)
        .find(|s| s.code.eq_ignore_ascii_case(code.trim()))
        .map_or_else(|| code.to_owned(), |s| format!("{} ({})", s.name, s.code))
}

/// One answer on Check your answers.
#[derive(Serialize)]
struct Row {
    key: &'static str,
    value: String,
    /// The page that asks it, for its Change button.
    page: &'static str,
}

/// The answers as Check your answers lists them, grouped by page.
fn rows(campaign: &Campaign, form: &NominationForm) -> Vec<Row> {
    let label = |choices: &[Choice], value: &str| {
        choices
            .iter()
            .find(|c| c.value == value)
            .map_or_else(|| value.to_owned(), |c| c.label.clone())
    };
    let or_not_given = |value: &str| {
        if value.trim().is_empty() {
            "Not given".to_owned()
        } else {
            value.to_owned()
        }
    };
    let kind = form.kind();
    let kind_label = kinds()
        .into_iter()
        .find(|k| k.value == kind)
        .map(|k| k.label)
        .unwrap_or_default();
    let mut rows = vec![
        Row {
            key: "Category",
            value: category(campaign, form)
                .map_or_else(|| form.category_id.clone(), |c| c.name.clone()),
            page: Page::Category.slug(),
        },
        Row {
            key: "Nominating",
            value: kind_label,
            page: Page::Nominee.slug(),
        },
    ];
    if kind == UNKNOWN {
        rows.push(Row {
            key: "Description",
            value: form.nominee_description.clone(),
            page: Page::Nominee.slug(),
        });
    } else {
        rows.push(Row {
            key: if kind == TEAM { "Team name" } else { "Name" },
            value: form.nominee_name.clone(),
            page: Page::Nominee.slug(),
        });
    }
    let trust = campaign
        .trusts
        .iter()
        .find(|t| t.code == form.trust_code)
        .map_or_else(|| form.trust_code.clone(), |t| t.name.clone());
    rows.extend([
        Row {
            key: "Job title",
            value: form.nominee_job_title.clone(),
            page: Page::Nominee.slug(),
        },
        Row {
            key: "Their work email",
            value: or_not_given(&form.nominee_email),
            page: Page::Nominee.slug(),
        },
        Row {
            key: "Staff group",
            value: label(&campaign.staff_groups, &form.staff_group),
            page: Page::StaffGroup.slug(),
        },
        Row {
            key: "Pay band",
            value: or_not_given(&label(&campaign.bands, &form.band)),
            page: Page::StaffGroup.slug(),
        },
        Row {
            key: "NHS trust",
            value: trust,
            page: Page::Workplace.slug(),
        },
        Row {
            key: "Site",
            value: or_not_given(&site_label(campaign, &form.site_code)),
            page: Page::Workplace.slug(),
        },
        Row {
            key: "Their story",
            value: form.story.clone(),
            page: Page::Story.slug(),
        },
        Row {
            key: "Your name",
            value: form.nominator_name.clone(),
            page: Page::AboutYou.slug(),
        },
        Row {
            key: "Your email",
            value: form.nominator_email.clone(),
            page: Page::AboutYou.slug(),
        },
        Row {
            key: "How you know them",
            value: label(&campaign.relationships, &form.relationship),
            page: Page::AboutYou.slug(),
        },
    ]);
    rows
}

/// Check your answers: every answer with a Change button, and the button that sends the nomination.
/// `errors` are those the service gave that belong to no page.
pub fn render_check(
    campaign: &Campaign,
    form: &NominationForm,
    errors: &[FieldError],
    csrf_token: &str,
) -> Result<String, minijinja::Error> {
    let view = CampaignView::from(campaign);
    let summary: Vec<SummaryError> = forms::summary(errors, &[], anchor);
    templates::render(
        "nominate/check.html",
        minijinja::context! {
            page_title => "Check your answers before sending your nomination",
            campaign => view,
            back => Back::to(campaign, Page::AboutYou.slug(), form),
            action => format!("/campaigns/{}/nominate", segment(&campaign.slug)),
            hidden => form.hidden(&[]),
            rows => rows(campaign, form),
            csrf_token => csrf_token,
            errors => summary,
        },
    )
}

/// The page the user saved from, to go back (or carry on) to.
fn saved_from(form: &NominationForm) -> &str {
    if form.from == "check" || Page::parse(&form.from).is_some() {
        form.from.as_str()
    } else {
        Page::Category.slug()
    }
}

/// The page that asks for an email address to send a link to the saved answers.
pub fn render_save(
    campaign: &Campaign,
    form: &NominationForm,
    errors: &[FieldError],
    csrf_token: &str,
) -> Result<String, minijinja::Error> {
    let view = CampaignView::from(campaign);
    let fields = ["nominator_email"];
    let summary = forms::summary(errors, &fields, anchor);
    let from = saved_from(form);
    templates::render(
        "nominate/save.html",
        minijinja::context! {
            page_title => "Save your nomination and come back later",
            campaign => view,
            back => Back::to(campaign, from, form),
            action => nominate_path(campaign, "save"),
            hidden => form.hidden(&fields),
            from => from,
            form => form,
            csrf_token => csrf_token,
            field_errors => forms::by_field(&summary),
            errors => summary,
        },
    )
}

/// "We have emailed you a link", with a button to carry on now.
pub fn render_saved(
    campaign: &Campaign,
    form: &NominationForm,
    expires_on: Option<String>,
    csrf_token: &str,
) -> Result<String, minijinja::Error> {
    let from = saved_from(form);
    templates::render(
        "nominate/saved.html",
        minijinja::context! {
            page_title => "We have emailed you a link",
            campaign => CampaignView::from(campaign),
            email => form.nominator_email,
            expires_on => expires_on,
            action => nominate_path(campaign, from),
            hidden => form.hidden(&[]),
            csrf_token => csrf_token,
        },
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::routes::nominate::tests::{campaign, filled};

    #[test]
    fn pages_follow_each_other() {
        assert_eq!(Page::Category.previous(), None);
        assert_eq!(Page::Category.next(), Some(Page::Nominee));
        assert_eq!(Page::AboutYou.next(), None);
        assert_eq!(Page::AboutYou.previous(), Some(Page::Story));
        for page in Page::ALL {
            assert_eq!(Page::parse(page.slug()), Some(page));
        }
        assert_eq!(Page::parse("check"), None);
    }

    #[test]
    fn every_field_of_the_request_has_a_page() {
        for field in [
            "category_id",
            "nominee_name",
            "nominee_description",
            "nominee_job_title",
            "nominee_email",
            "team",
            "staff_group",
            "band",
            "trust_code",
            "site_code",
            "story",
            "nominator_name",
            "nominator_email",
            "relationship",
        ] {
            assert!(
                Page::owning(&[FieldError::new(field, "x")]).is_some(),
                "{field}"
            );
        }
        assert_eq!(Page::owning(&[FieldError::new("campaign_id", "x")]), None);
        assert_eq!(
            Page::owning(&[
                FieldError::new("nominator_email", "x"),
                FieldError::new("story", "y")
            ]),
            Some(Page::Story)
        );
    }

    #[test]
    fn an_empty_form_stops_at_every_page() {
        let form = NominationForm::default();
        let campaign = campaign();
        let messages: Vec<Vec<String>> = Page::ALL
            .iter()
            .map(|p| {
                p.check(&form, &campaign)
                    .into_iter()
                    .map(|e| e.message)
                    .collect()
            })
            .collect();
        assert_eq!(
            messages,
            [
                vec!["Select a category"],
                vec!["Select who you are nominating", "Enter their job title"],
                vec!["Select their staff group"],
                vec!["Select a trust"],
                vec!["Tell us why they deserve to be recognised"],
                vec![
                    "Enter your full name",
                    "Enter an email address",
                    "Select how you know them"
                ],
            ]
        );
        assert_eq!(
            Page::first_unanswered(&form, &campaign),
            Some(Page::Category)
        );
    }

    #[test]
    fn a_complete_form_passes_every_page() {
        let campaign = campaign();
        let form = NominationForm {
            nominator_email: "sam@example.org".into(),
            nominee_name: "Ann Lee".into(),
            ..filled()
        };
        for page in Page::ALL {
            assert_eq!(page.check(&form, &campaign), [], "{page:?}");
        }
        assert_eq!(Page::first_unanswered(&form, &campaign), None);
    }

    #[test]
    fn the_nominee_page_asks_what_the_kind_needs() {
        let campaign = campaign();
        let unknown = NominationForm {
            nominee_kind: UNKNOWN.into(),
            nominee_job_title: "Porter".into(),
            ..NominationForm::default()
        };
        let errors = Page::Nominee.check(&unknown, &campaign);
        assert_eq!(
            errors,
            [FieldError::new(
                "nominee_description",
                "Describe the person you are nominating"
            )]
        );
        let team = NominationForm {
            nominee_kind: TEAM.into(),
            nominee_job_title: "Domestics".into(),
            nominee_email: "not an email".into(),
            ..NominationForm::default()
        };
        let fields: Vec<String> = Page::Nominee
            .check(&team, &campaign)
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["nominee_name", "nominee_email"]);
    }

    #[test]
    fn the_story_keeps_to_the_category_s_word_limit() {
        let mut campaign = campaign();
        campaign.categories[1].word_limit = 3;
        let form = NominationForm {
            story: "one two three four".into(),
            ..filled()
        };
        assert_eq!(
            Page::Story.check(&form, &campaign),
            [FieldError::new(
                "story",
                "Your story must be 3 words or fewer (it has 4)"
            )]
        );
    }

    #[test]
    fn a_category_limited_to_some_groups_offers_only_those() {
        let mut campaign = campaign();
        campaign.categories[1].eligible_staff_groups = vec!["other".into()];
        let form = filled();
        assert_eq!(
            Page::StaffGroup.check(&form, &campaign),
            [FieldError::new(
                "staff_group",
                "Select their staff group from the list"
            )]
        );
        let html = render_page(Page::StaffGroup, &campaign, &form, &[], "tok").unwrap();
        assert!(!html.contains(r#"type="radio" value="estates-and-ancillary""#));
        assert!(html.contains(r#"type="radio" value="other""#));
    }
}
