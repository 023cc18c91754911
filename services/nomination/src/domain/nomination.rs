use uuid::Uuid;
use valued_platform::domain::{
    EmailAddress, FieldError, FieldErrors, PersonName, is_blank, single_line, tidy,
};

use super::ods_code::OdsCode;
use super::staff::{Band, Relationship, StaffGroup};
use super::story::StoryText;

/// A nomination as typed into the form, before anything is known to be valid. Drafts keep it as
/// JSON.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
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
    pub nominee_email: String,
    pub site_code: String,
    pub nominee_description: String,
    pub team: bool,
}

/// Who is nominated: a named person or team, or someone the nominator can only describe (their
/// site manager identifies them later).
#[derive(Debug, Clone)]
pub enum NomineeIdentity {
    Named(PersonName),
    Described(String),
}

impl NomineeIdentity {
    /// The name as shown to admins: the description, marked, when no name was given.
    pub fn display(&self) -> String {
        match self {
            Self::Named(name) => name.to_string(),
            Self::Described(_) => "Name not known".to_owned(),
        }
    }
}

/// A nomination whose every field is well formed. Whether its campaign, category and trust exist is
/// checked against the database when it is stored.
#[derive(Debug, Clone)]
pub struct NewNomination {
    pub campaign_id: Uuid,
    pub category_id: Uuid,
    pub trust_code: OdsCode,
    pub nominee: NomineeIdentity,
    pub nominee_job_title: String,
    pub staff_group: StaffGroup,
    pub story: StoryText,
    pub nominator_name: PersonName,
    pub nominator_email: EmailAddress,
    pub relationship: Relationship,
    pub band: Option<Band>,
    pub nominee_email: Option<EmailAddress>,
    pub site_code: Option<OdsCode>,
    pub team: bool,
}

impl NewNomination {
    pub const JOB_TITLE_MAX_CHARS: usize = 100;
    pub const DESCRIPTION_MAX_CHARS: usize = 500;

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
        let nominee = errors.check(nominee_identity(request));
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
        let nominee_email = errors.check(optional(&request.nominee_email, |value| {
            EmailAddress::parse("nominee_email", value)
        }));
        let site_code = errors.check(optional(&request.site_code, |value| {
            OdsCode::parse("site_code", value)
        }));
        errors.into_result()?;
        match (
            campaign_id,
            category_id,
            trust_code,
            nominee,
            nominee_job_title,
            staff_group,
            story,
            nominator_name,
            nominator_email,
            relationship,
            band,
            nominee_email,
            site_code,
        ) {
            (
                Some(campaign_id),
                Some(category_id),
                Some(trust_code),
                Some(nominee),
                Some(nominee_job_title),
                Some(staff_group),
                Some(story),
                Some(nominator_name),
                Some(nominator_email),
                Some(relationship),
                Some(band),
                Some(nominee_email),
                Some(site_code),
            ) => Ok(Self {
                campaign_id,
                category_id,
                trust_code,
                nominee,
                nominee_job_title,
                staff_group,
                story,
                nominator_name,
                nominator_email,
                relationship,
                band,
                nominee_email,
                site_code,
                team: request.team,
            }),
            _ => Err(vec![FieldError::new("form", "The form could not be read")]),
        }
    }
}

/// A name, or for "I don't know their name" a description; never both missing.
fn nominee_identity(request: &NominationRequest) -> Result<NomineeIdentity, FieldError> {
    if blank(&request.nominee_name) && !blank(&request.nominee_description) {
        return single_line(
            "nominee_description",
            "a description of them",
            &request.nominee_description,
            NewNomination::DESCRIPTION_MAX_CHARS,
        )
        .map(NomineeIdentity::Described);
    }
    let label = if request.team {
        "the team's name"
    } else {
        "their full name"
    };
    PersonName::parse("nominee_name", label, &request.nominee_name).map(NomineeIdentity::Named)
}

/// Whether an answer shows nothing once tidied: it was not given.
fn blank(value: &str) -> bool {
    is_blank(&tidy(value))
}

/// An optional answer: `None` when blank, else parsed.
fn optional<T>(
    value: &str,
    parse: impl FnOnce(&str) -> Result<T, FieldError>,
) -> Result<Option<T>, FieldError> {
    if blank(value) {
        Ok(None)
    } else {
        parse(value).map(Some)
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
    use proptest::prelude::*;
    use valued_platform::domain::hostile;

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
            ..NominationRequest::default()
        }
    }

    #[test]
    fn a_complete_form_parses() {
        let nomination = NewNomination::parse(&valid_request(), 300).unwrap();
        assert_eq!(nomination.nominee.display(), "Sam Patel");
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

    #[test]
    fn someone_can_be_described_when_their_name_is_not_known() {
        let request = NominationRequest {
            nominee_name: String::new(),
            nominee_description: "The porter with the red scarf on the night shift".into(),
            ..valid_request()
        };
        let nomination = NewNomination::parse(&request, 300).unwrap();
        assert!(matches!(nomination.nominee, NomineeIdentity::Described(_)));

        let neither = NominationRequest {
            nominee_name: String::new(),
            ..valid_request()
        };
        let errors = NewNomination::parse(&neither, 300).unwrap_err();
        assert_eq!(errors[0].field, "nominee_name");
    }

    #[test]
    fn optional_answers_are_checked_only_when_given() {
        let request = NominationRequest {
            nominee_email: "sam@nhs".into(),
            site_code: "??".into(),
            ..valid_request()
        };
        let fields: Vec<String> = NewNomination::parse(&request, 300)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["nominee_email", "site_code"]);
    }

    #[test]
    fn invisible_answers_count_as_not_given() {
        let request = NominationRequest {
            nominee_name: "\u{200B}\u{202E}".into(),
            nominee_description: "The porter with the red scarf".into(),
            nominee_email: "\u{FEFF}".into(),
            site_code: "\u{2066}\u{2069}".into(),
            ..valid_request()
        };
        let nomination = NewNomination::parse(&request, 300).unwrap();
        assert!(matches!(nomination.nominee, NomineeIdentity::Described(_)));
        assert!(nomination.nominee_email.is_none() && nomination.site_code.is_none());
    }

    /// The form a nomination would be typed as: parsing it again gives the same nomination.
    fn rendered(nomination: &NewNomination) -> NominationRequest {
        let (nominee_name, nominee_description) = match &nomination.nominee {
            NomineeIdentity::Named(name) => (name.to_string(), String::new()),
            NomineeIdentity::Described(description) => (String::new(), description.clone()),
        };
        NominationRequest {
            campaign_id: nomination.campaign_id.to_string(),
            category_id: nomination.category_id.to_string(),
            trust_code: nomination.trust_code.to_string(),
            nominee_name,
            nominee_job_title: nomination.nominee_job_title.clone(),
            staff_group: nomination.staff_group.slug().into(),
            story: nomination.story.as_str().into(),
            nominator_name: nomination.nominator_name.to_string(),
            nominator_email: nomination.nominator_email.to_string(),
            relationship: nomination.relationship.slug().into(),
            band: nomination.band.map_or("", Band::slug).into(),
            nominee_email: nomination
                .nominee_email
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            site_code: nomination
                .site_code
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            nominee_description,
            team: nomination.team,
        }
    }

    /// A valid form with any of its answers replaced by hostile text.
    fn hostile_request() -> impl Strategy<Value = NominationRequest> {
        (
            proptest::collection::vec(proptest::option::weighted(0.1, hostile::TEXT), 14),
            any::<bool>(),
        )
            .prop_map(|(answers, team)| {
                let mut request = NominationRequest {
                    team,
                    ..valid_request()
                };
                let fields = [
                    &mut request.campaign_id,
                    &mut request.category_id,
                    &mut request.trust_code,
                    &mut request.nominee_name,
                    &mut request.nominee_job_title,
                    &mut request.staff_group,
                    &mut request.story,
                    &mut request.nominator_name,
                    &mut request.nominator_email,
                    &mut request.relationship,
                    &mut request.band,
                    &mut request.nominee_email,
                    &mut request.site_code,
                    &mut request.nominee_description,
                ];
                for (field, answer) in fields.into_iter().zip(answers) {
                    if let Some(answer) = answer {
                        *field = answer;
                    }
                }
                request
            })
    }

    const FIELDS: [&str; 14] = [
        "campaign_id",
        "category_id",
        "trust_code",
        "nominee_name",
        "nominee_job_title",
        "staff_group",
        "story",
        "nominator_name",
        "nominator_email",
        "relationship",
        "band",
        "nominee_email",
        "site_code",
        "nominee_description",
    ];

    proptest! {
        #[test]
        fn nominations_are_clean_or_refused_field_by_field(
            request in hostile_request(),
            limit in 1u32..300,
        ) {
            match NewNomination::parse(&request, limit) {
                Ok(nomination) => {
                    let job_title = &nomination.nominee_job_title;
                    let max = NewNomination::JOB_TITLE_MAX_CHARS;
                    prop_assert!(hostile::clean_line(job_title, max));
                    let (nominee, max) = match &nomination.nominee {
                        NomineeIdentity::Named(name) => (name.as_str(), PersonName::MAX_CHARS),
                        NomineeIdentity::Described(description) => {
                            (description.as_str(), NewNomination::DESCRIPTION_MAX_CHARS)
                        }
                    };
                    prop_assert!(hostile::clean_line(nominee, max));
                    let again = NewNomination::parse(&rendered(&nomination), limit);
                    prop_assert_eq!(format!("{again:?}"), format!("{:?}", Ok::<_, ()>(nomination)));
                }
                Err(errors) => {
                    prop_assert!(!errors.is_empty());
                    prop_assert!(hostile::all_readable(&errors, &FIELDS), "{errors:?}");
                    let mut fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                    fields.dedup();
                    prop_assert_eq!(fields.len(), errors.len(), "one error a field");
                }
            }
        }
    }
}
