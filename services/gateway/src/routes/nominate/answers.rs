//! The answers of a nomination as they travel between the question pages: every page's form carries
//! all of them, those of other pages in hidden fields, so the gateway keeps nothing between requests.

use serde::{Deserialize, Serialize};
use valued_proto::nomination::v1::SubmitNominationRequest;

/// Who is nominated: the values of the `nominee_kind` question.
pub const PERSON: &str = "person";
pub const TEAM: &str = "team";
/// A person whose name the nominator does not know: they describe them for the site manager.
pub const UNKNOWN: &str = "unknown";

/// What a form sends back. Every answer is named after its field of `SubmitNominationRequest`
/// (`nominee_kind` stands for `team` and "I don't know their name"); every field is optional here.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NominationForm {
    pub campaign_id: String,
    pub category_id: String,
    pub nominee_kind: String,
    pub nominee_name: String,
    pub nominee_description: String,
    pub nominee_job_title: String,
    pub nominee_email: String,
    pub staff_group: String,
    pub band: String,
    pub trust_code: String,
    pub site_code: String,
    pub story: String,
    pub nominator_name: String,
    pub nominator_email: String,
    pub relationship: String,
    /// The saved draft these answers continue, if any.
    pub draft_token: String,
    /// Made when Check your answers is first shown and sent with the submission, so that sending
    /// it again (a retry, a double click, a resend) never makes a second nomination.
    pub idempotency_key: String,
    // What the form asks of the gateway, not answers.
    #[serde(skip_serializing)]
    pub csrf_token: String,
    #[serde(skip_serializing)]
    pub website: String,
    /// `continue` (the default), `save`, `show` (Back) or `change` (from Check your answers).
    #[serde(skip_serializing)]
    pub go: String,
    /// `check` when the page was reached from Check your answers, which it then returns to.
    #[serde(skip_serializing)]
    pub then: String,
    /// On the save page: the page the user was on.
    #[serde(skip_serializing)]
    pub from: String,
}

impl NominationForm {
    /// Every answer with its field name, in page order.
    pub fn answers(&self) -> [(&'static str, &str); 17] {
        [
            ("campaign_id", &self.campaign_id),
            ("category_id", &self.category_id),
            ("nominee_kind", &self.nominee_kind),
            ("nominee_name", &self.nominee_name),
            ("nominee_description", &self.nominee_description),
            ("nominee_job_title", &self.nominee_job_title),
            ("nominee_email", &self.nominee_email),
            ("staff_group", &self.staff_group),
            ("band", &self.band),
            ("trust_code", &self.trust_code),
            ("site_code", &self.site_code),
            ("story", &self.story),
            ("nominator_name", &self.nominator_name),
            ("nominator_email", &self.nominator_email),
            ("relationship", &self.relationship),
            ("draft_token", &self.draft_token),
            ("idempotency_key", &self.idempotency_key),
        ]
    }

    /// These answers with an idempotency key: the one they carry, or a new one.
    pub fn keyed(&self) -> Self {
        let mut form = self.clone();
        if form.idempotency_key.trim().is_empty() {
            form.idempotency_key = uuid::Uuid::new_v4().to_string();
        }
        form
    }

    /// The answers a form carries in hidden fields: every one given, except those of `shown` (the
    /// page's own inputs).
    pub fn hidden(&self, shown: &[&str]) -> Vec<(&'static str, String)> {
        self.answers()
            .into_iter()
            .filter(|(name, value)| !value.is_empty() && !shown.contains(name))
            .map(|(name, value)| (name, value.to_owned()))
            .collect()
    }

    /// Person, team or unknown: as answered, or as the other answers imply (a form posted whole,
    /// without the question, names a person).
    pub fn kind(&self) -> &str {
        match self.nominee_kind.as_str() {
            "" if !self.nominee_name.trim().is_empty() => PERSON,
            "" if !self.nominee_description.trim().is_empty() => UNKNOWN,
            kind => kind,
        }
    }

    /// The answers as the nomination service takes them, for a submission or a draft.
    pub fn to_request(&self) -> SubmitNominationRequest {
        let kind = self.kind();
        SubmitNominationRequest {
            campaign_id: self.campaign_id.clone(),
            category_id: self.category_id.clone(),
            trust_code: self.trust_code.clone(),
            nominee_name: if kind == UNKNOWN {
                String::new()
            } else {
                self.nominee_name.clone()
            },
            nominee_job_title: self.nominee_job_title.clone(),
            staff_group: self.staff_group.clone(),
            story: self.story.clone(),
            nominator_name: self.nominator_name.clone(),
            nominator_email: self.nominator_email.clone(),
            relationship: self.relationship.clone(),
            band: self.band.clone(),
            nominee_email: self.nominee_email.clone(),
            site_code: self.site_code.clone(),
            nominee_description: if kind == UNKNOWN {
                self.nominee_description.clone()
            } else {
                String::new()
            },
            team: kind == TEAM,
            draft_token: self.draft_token.clone(),
            idempotency_key: self.idempotency_key.clone(),
        }
    }

    /// The answers of a saved draft, which `draft_token` continues.
    pub fn from_draft(answers: SubmitNominationRequest, draft_token: &str) -> Self {
        let nominee_kind = if answers.team {
            TEAM
        } else if !answers.nominee_name.is_empty() {
            PERSON
        } else if !answers.nominee_description.is_empty() {
            UNKNOWN
        } else {
            ""
        };
        Self {
            campaign_id: answers.campaign_id,
            category_id: answers.category_id,
            nominee_kind: nominee_kind.to_owned(),
            nominee_name: answers.nominee_name,
            nominee_description: answers.nominee_description,
            nominee_job_title: answers.nominee_job_title,
            nominee_email: answers.nominee_email,
            staff_group: answers.staff_group,
            band: answers.band,
            trust_code: answers.trust_code,
            site_code: answers.site_code,
            story: answers.story,
            nominator_name: answers.nominator_name,
            nominator_email: answers.nominator_email,
            relationship: answers.relationship,
            draft_token: draft_token.to_owned(),
            ..Self::default()
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_form_posted_whole_names_a_person() {
        let form: NominationForm =
            serde_urlencoded::from_str("nominee_name=Ann+Lee&nominee_job_title=Porter").unwrap();
        assert_eq!(form.kind(), PERSON);
        let request = form.to_request();
        assert_eq!(request.nominee_name, "Ann Lee");
        assert!(!request.team);
    }

    #[test]
    fn only_the_answers_of_the_kind_chosen_are_sent() {
        let form = NominationForm {
            nominee_kind: UNKNOWN.into(),
            nominee_name: "typed before changing their mind".into(),
            nominee_description: "Tall porter on ward 7, nights".into(),
            ..NominationForm::default()
        };
        let request = form.to_request();
        assert_eq!(request.nominee_name, "");
        assert_eq!(request.nominee_description, "Tall porter on ward 7, nights");

        let team = NominationForm {
            nominee_kind: TEAM.into(),
            nominee_name: "Ward 7 domestics".into(),
            nominee_description: "left over".into(),
            ..NominationForm::default()
        };
        let request = team.to_request();
        assert!(request.team);
        assert_eq!(request.nominee_description, "");
    }

    #[test]
    fn a_draft_comes_back_as_it_was_saved() {
        for kind in [PERSON, TEAM, UNKNOWN] {
            let form = NominationForm {
                campaign_id: "c".into(),
                nominee_kind: kind.into(),
                nominee_name: "Ward 7".into(),
                nominee_description: "Tall".into(),
                story: "Kind.\r\nAlways.".into(),
                band: "band-2".into(),
                ..NominationForm::default()
            };
            let back = NominationForm::from_draft(form.to_request(), "tok");
            assert_eq!(back.kind(), kind);
            assert_eq!(back.to_request(), form.to_request().with_token("tok"));
        }
    }

    trait WithToken {
        fn with_token(self, token: &str) -> Self;
    }

    impl WithToken for SubmitNominationRequest {
        fn with_token(mut self, token: &str) -> Self {
            self.draft_token = token.into();
            self
        }
    }

    #[test]
    fn hidden_fields_skip_the_page_s_own_and_empty_answers() {
        let form = NominationForm {
            campaign_id: "c".into(),
            nominee_name: "Ann".into(),
            story: "Kind".into(),
            csrf_token: "secret".into(),
            ..NominationForm::default()
        };
        assert_eq!(
            form.hidden(&["story"]),
            [
                ("campaign_id", "c".to_owned()),
                ("nominee_name", "Ann".into())
            ]
        );
    }
}
