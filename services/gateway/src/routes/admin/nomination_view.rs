//! A nomination as the admin pages show it.

use serde::Serialize;
use valued_proto::nomination::v1::{Campaign, Nomination};

/// A nomination as the admin pages show it.
#[derive(Debug, Serialize)]
pub(super) struct NominationView {
    pub(super) id: String,
    pub(super) nominee_name: String,
    pub(super) nominee_description: String,
    pub(super) nominee_job_title: String,
    pub(super) team: bool,
    pub(super) category: String,
    pub(super) trust: String,
    pub(super) trust_code: String,
    pub(super) staff_group: String,
    pub(super) band: String,
    pub(super) story: String,
    pub(super) nominator_name: String,
    pub(super) nominator_email: String,
    pub(super) relationship: String,
    pub(super) status: String,
    pub(super) moderation_reason: String,
    pub(super) submitted_on: String,
    pub(super) nominee_id: String,
    pub(super) match_reviewed: bool,
}

impl NominationView {
    pub(super) fn new(nomination: &Nomination, campaign: &Campaign) -> Self {
        let label = |choices: &[valued_proto::nomination::v1::Choice], value: &str| {
            choices
                .iter()
                .find(|c| c.value == value)
                .map_or_else(|| value.to_owned(), |c| c.label.clone())
        };
        Self {
            id: nomination.id.clone(),
            nominee_name: nomination.nominee_name.clone(),
            nominee_description: nomination.nominee_description.clone(),
            nominee_job_title: nomination.nominee_job_title.clone(),
            team: nomination.team,
            category: campaign
                .categories
                .iter()
                .find(|c| c.id == nomination.category_id)
                .map_or_else(|| nomination.category_id.clone(), |c| c.name.clone()),
            trust: trust_name(campaign, &nomination.trust_code),
            trust_code: nomination.trust_code.clone(),
            staff_group: label(&campaign.staff_groups, &nomination.staff_group),
            band: label(&campaign.bands, &nomination.band),
            story: nomination.story.clone(),
            nominator_name: nomination.nominator_name.clone(),
            nominator_email: nomination.nominator_email.clone(),
            relationship: label(&campaign.relationships, &nomination.relationship),
            status: nomination.status.replace('_', " "),
            moderation_reason: nomination.moderation_reason.clone(),
            submitted_on: valued_platform::uk_time::when_of(nomination.submitted_at.as_ref())
                .unwrap_or_default(),
            nominee_id: nomination.nominee_id.clone(),
            match_reviewed: !nomination.match_reviewed_by.is_empty(),
        }
    }
}

pub(super) fn trust_name(campaign: &Campaign, code: &str) -> String {
    campaign
        .trusts
        .iter()
        .find(|t| t.code == code)
        .map_or_else(|| code.to_owned(), |t| t.name.clone())
}
