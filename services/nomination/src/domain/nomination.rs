use uuid::Uuid;
use valued_platform::domain::{EmailAddress, FieldError, FieldErrors, PersonName, single_line};

use super::{Band, OdsCode, Relationship, StaffGroup, StoryText};

/// A nomination as typed into the form, before anything is known to be valid.
#[derive(Debug, Clone, Default)]
pub struct NominationRequest {
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
}

/// A nomination whose every field is well formed. Whether its campaign, category and trust exist is
/// checked against the database when it is stored.
#[derive(Debug, Clone)]
pub struct NewNomination {
    pub campaign_id: Uuid,
    pub category_id: Uuid,
    pub trust_code: OdsCode,
    pub nominee_name: PersonName,
    pub nominee_job_title: String,
    pub staff_group: StaffGroup,
    pub story: StoryText,
    pub nominator_name: PersonName,
    pub nominator_email: EmailAddress,
    pub relationship: Relationship,
    pub band: Option<Band>,
}

impl NewNomination {
    pub const JOB_TITLE_MAX_CHARS: usize = 100;

    /// Parses every field, reporting all the errors at once. The story's word limit is the
    /// category's.
    pub fn parse(request: &NominationRequest, word_limit: u32) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let campaign_id = errors.check(parse_id(
            "campaign_id",
            &request.campaign_id,
            "Choose a campaign",
        ));
        let category_id = errors.check(parse_id(
            "category_id",
            &request.category_id,
            "Select a category",
        ));
        let trust_code = errors.check(OdsCode::parse("trust_code", &request.trust_code));
        let nominee_name = errors.check(PersonName::parse(
            "nominee_name",
            "their full name",
            &request.nominee_name,
        ));
        let nominee_job_title = errors.check(single_line(
            "nominee_job_title",
            "their job title",
            &request.nominee_job_title,
            Self::JOB_TITLE_MAX_CHARS,
        ));
        let staff_group = errors.check(StaffGroup::parse(&request.staff_group));
        let story = errors.check(StoryText::parse("story", &request.story, word_limit));
        let nominator_name = errors.check(PersonName::parse(
            "nominator_name",
            "your full name",
            &request.nominator_name,
        ));
        let nominator_email = errors.check(EmailAddress::parse(
            "nominator_email",
            &request.nominator_email,
        ));
        let relationship = errors.check(Relationship::parse(&request.relationship));
        let band = errors.check(Band::parse_optional(&request.band));
        errors.into_result()?;
        match (
            campaign_id,
            category_id,
            trust_code,
            nominee_name,
            nominee_job_title,
            staff_group,
            story,
            nominator_name,
            nominator_email,
            relationship,
            band,
        ) {
            (
                Some(campaign_id),
                Some(category_id),
                Some(trust_code),
                Some(nominee_name),
                Some(nominee_job_title),
                Some(staff_group),
                Some(story),
                Some(nominator_name),
                Some(nominator_email),
                Some(relationship),
                Some(band),
            ) => Ok(Self {
                campaign_id,
                category_id,
                trust_code,
                nominee_name,
                nominee_job_title,
                staff_group,
                story,
                nominator_name,
                nominator_email,
                relationship,
                band,
            }),
            _ => Err(vec![FieldError::new("form", "The form could not be read")]),
        }
    }
}

fn parse_id(field: &str, value: &str, missing: &str) -> Result<Uuid, FieldError> {
    value
        .trim()
        .parse()
        .map_err(|_| FieldError::new(field, missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn valid_request() -> NominationRequest {
        NominationRequest {
            campaign_id: Uuid::now_v7().to_string(),
            category_id: Uuid::now_v7().to_string(),
            trust_code: "RJ1".into(),
            nominee_name: "Sam Patel".into(),
            nominee_job_title: "Porter".into(),
            staff_group: "estates-and-ancillary".into(),
            story: "Sam knows every corridor and always has a kind word for patients.".into(),
            nominator_name: "Alex Jones".into(),
            nominator_email: "alex.jones@example.org".into(),
            relationship: "colleague".into(),
            band: String::new(),
        }
    }

    #[test]
    fn a_complete_form_parses() {
        let nomination = NewNomination::parse(&valid_request(), 300).unwrap();
        assert_eq!(nomination.nominee_name.as_str(), "Sam Patel");
        assert_eq!(nomination.trust_code.as_str(), "RJ1");
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let request = NominationRequest {
            nominee_name: "Sam\r\nBcc: victim@example.org".into(),
            nominator_email: "not-an-email".into(),
            story: "word ".repeat(20),
            trust_code: String::new(),
            ..valid_request()
        };
        let errors = NewNomination::parse(&request, 10).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["trust_code", "nominee_name", "story", "nominator_email"]
        );
    }
}
