//! The story form's answers, parsed at the edge: a draft keeps what is typed within bounds, a
//! submission must be complete. Every bad field is named.

use uuid::Uuid;
use valued_platform::domain::{
    EmailAddress, FieldError, FieldErrors, allowed_in_multi_line, is_blank, single_line, tidy,
};

/// Where a story is told: a campaign as the nomination service describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub scope: Scope,
}

/// Whose campaign it is, and so who moderates its stories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Trust(String),
    Region(String),
    National,
}

impl Scope {
    pub fn parse(scope: &str, code: &str) -> Result<Self, FieldError> {
        let code = || single_line("campaign.scope_code", "the trust or region code", code, 20);
        match scope.trim() {
            "trust" => Ok(Self::Trust(code()?.to_ascii_uppercase())),
            "region" => Ok(Self::Region(code()?.to_ascii_uppercase())),
            "national" => Ok(Self::National),
            _ => Err(FieldError::new(
                "campaign.scope",
                "Campaign scope must be trust, region or national",
            )),
        }
    }

    /// As stored: the scope's name and its code ("" for national).
    pub fn parts(&self) -> (&'static str, &str) {
        match self {
            Self::Trust(code) => ("trust", code),
            Self::Region(code) => ("region", code),
            Self::National => ("national", ""),
        }
    }
}

/// The campaign as the request describes it.
#[derive(Debug, Clone, Default)]
pub struct CampaignRequest {
    pub campaign_id: String,
    pub slug: String,
    pub name: String,
    pub scope: String,
    pub scope_code: String,
}

impl Campaign {
    pub fn parse(request: &CampaignRequest) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let id =
            errors.check(request.campaign_id.trim().parse::<Uuid>().map_err(|_| {
                FieldError::new("campaign.campaign_id", "This campaign does not exist")
            }));
        let slug = errors.check(single_line(
            "campaign.slug",
            "the campaign's address",
            &request.slug,
            100,
        ));
        let name = errors.check(single_line(
            "campaign.name",
            "the campaign's name",
            &request.name,
            200,
        ));
        let scope = errors.check(Scope::parse(&request.scope, &request.scope_code));
        errors.into_result()?;
        match (id, slug, name, scope) {
            (Some(id), Some(slug), Some(name), Some(scope)) => Ok(Self {
                id,
                slug,
                name,
                scope,
            }),
            _ => Err(vec![FieldError::new("campaign", "Campaign is incomplete")]),
        }
    }
}

/// A UK phone number, kept as its digits from the leading 0 (`07700900123`): 10 or 11 digits,
/// typed with spaces, dashes, brackets or `+44` as people write them. Its `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub const MAX_TYPED: usize = 25;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let typed = value.trim();
        let refusal = || {
            FieldError::new(
                field,
                "Enter a UK phone number, like 01632 960 001 or 07700 900 982",
            )
        };
        if typed.chars().count() > Self::MAX_TYPED {
            return Err(FieldError::new(
                field,
                format!(
                    "Phone number must be {} characters or fewer",
                    Self::MAX_TYPED
                ),
            ));
        }
        if !typed
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '+'))
        {
            return Err(refusal());
        }
        let without_brackets = typed.replace("(0)", "");
        let digits: String = without_brackets
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let plus = typed.starts_with('+');
        if typed.chars().skip(1).any(|c| c == '+') || (typed.contains('+') && !plus) {
            return Err(refusal());
        }
        let national = if plus {
            digits
                .strip_prefix("44")
                .map(|rest| format!("0{rest}"))
                .ok_or_else(refusal)?
        } else if let Some(rest) = digits.strip_prefix("0044") {
            format!("0{rest}")
        } else {
            digits
        };
        let fits = (10..=11).contains(&national.len())
            && matches!(
                national.get(..2),
                Some("01" | "02" | "03" | "05" | "07" | "08")
            );
        fits.then_some(Self(national)).ok_or_else(refusal)
    }

    /// The digits from the leading 0.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PhoneNumber(..)")
    }
}

/// The form's answers as typed (the gRPC message, before parsing).
#[derive(Clone, Default)]
pub struct AnswersRequest {
    pub works_in_nhs: String,
    pub nhs_role: String,
    pub story: String,
    pub consent_publish: bool,
    pub consent_press: bool,
    pub consent_mp: bool,
    pub consent_contact: bool,
    pub phone: String,
    pub email: String,
}

/// A story's bounds.
pub const MAX_WORDS: usize = 500;
pub const MAX_STORY_CHARS: usize = 5_000;
pub const MAX_ROLE_CHARS: usize = 100;

/// Answers as kept, draft or submitted. A draft's may be incomplete; a submission's are not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers {
    /// "yes", "no", or "" on a draft not yet answered.
    pub works_in_nhs: String,
    pub nhs_role: String,
    pub story: String,
    pub consent_publish: bool,
    pub consent_press: bool,
    pub consent_mp: bool,
    pub consent_contact: bool,
    /// Only with `consent_contact`; `None` on a draft keeps the one saved.
    pub phone: Option<PhoneNumber>,
    pub email: Option<EmailAddress>,
}

impl Answers {
    /// A draft's answers: each given one within its bounds, none required.
    pub fn parse_draft(
        request: &AnswersRequest,
        email_link: bool,
    ) -> Result<Self, Vec<FieldError>> {
        Self::parse(request, false, email_link)
    }

    /// A submission's answers: every required one given and well formed.
    pub fn parse_submission(request: &AnswersRequest) -> Result<Self, Vec<FieldError>> {
        Self::parse(request, true, true)
    }

    fn parse(
        request: &AnswersRequest,
        complete: bool,
        email_required: bool,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let works_in_nhs = match request.works_in_nhs.trim() {
            "yes" | "no" => request.works_in_nhs.trim().to_owned(),
            "" if !complete => String::new(),
            _ => {
                errors.push(FieldError::new(
                    "works_in_nhs",
                    "Select yes if you work in the NHS",
                ));
                String::new()
            }
        };
        let nhs_role = if is_blank(&request.nhs_role) && !(complete && works_in_nhs == "yes") {
            String::new()
        } else {
            errors
                .check(single_line(
                    "nhs_role",
                    "your role",
                    &request.nhs_role,
                    MAX_ROLE_CHARS,
                ))
                .unwrap_or_default()
        };
        let story = errors
            .check(parse_story(&request.story, complete))
            .unwrap_or_default();
        let phone = if is_blank(&request.phone) {
            None
        } else if !request.consent_contact {
            errors.push(FieldError::new(
                "phone",
                "Give a phone number only if you agree that we may contact you",
            ));
            None
        } else {
            errors.check(PhoneNumber::parse("phone", &request.phone))
        };
        let email = if is_blank(&request.email) && !email_required {
            None
        } else {
            errors.check(EmailAddress::parse("email", &request.email))
        };
        errors.into_result()?;
        Ok(Self {
            works_in_nhs,
            nhs_role,
            story,
            consent_publish: request.consent_publish,
            consent_press: request.consent_press,
            consent_mp: request.consent_mp,
            consent_contact: request.consent_contact,
            phone,
            email,
        })
    }
}

/// The story itself: within the word and character limits; required on submission.
fn parse_story(value: &str, required: bool) -> Result<String, FieldError> {
    let text = tidy(value);
    if is_blank(&text) {
        return if required {
            Err(FieldError::new("story", "Tell us your story"))
        } else {
            Ok(String::new())
        };
    }
    let words = text.split_whitespace().count();
    if words > MAX_WORDS {
        return Err(FieldError::new(
            "story",
            format!("Your story must be {MAX_WORDS} words or fewer (it has {words})"),
        ));
    }
    if text.chars().count() > MAX_STORY_CHARS {
        return Err(FieldError::new(
            "story",
            format!("Your story must be {MAX_STORY_CHARS} characters or fewer"),
        ));
    }
    if !text.chars().all(allowed_in_multi_line) {
        return Err(FieldError::new(
            "story",
            "Your story contains characters we cannot accept",
        ));
    }
    Ok(text)
}

/// A moderator's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

impl Decision {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        match value.trim() {
            "approve" => Ok(Self::Approve),
            "reject" => Ok(Self::Reject),
            _ => Err(FieldError::new("decision", "Select approve or reject")),
        }
    }
}

/// Why an admin did something, for the audit trail: one line, up to 500 characters.
pub fn parse_reason(value: &str, required: bool) -> Result<String, FieldError> {
    if !required && is_blank(value) {
        return Ok(String::new());
    }
    single_line("reason", "a reason", value, 500)
}

pub fn parse_story_id(value: &str) -> Result<Uuid, FieldError> {
    value
        .trim()
        .parse()
        .map_err(|_| FieldError::new("story_id", "This story does not exist"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn uk_phone_numbers_are_read_as_people_write_them() {
        for (typed, digits) in [
            ("07700 900123", "07700900123"),
            ("+44 7700 900123", "07700900123"),
            ("+44 (0)7700 900123", "07700900123"),
            ("0044 7700-900-123", "07700900123"),
            ("(01632) 960001", "01632960001"),
            ("020 7946 0018", "02079460018"),
            ("016977 3456", "0169773456"),
        ] {
            assert_eq!(PhoneNumber::parse("phone", typed).unwrap().as_str(), digits);
        }
    }

    #[test]
    fn other_numbers_and_text_are_refused_naming_the_field() {
        for typed in [
            "",
            "12345",
            "0770090012345",
            "+1 415 555 0100",
            "09098 790123",
            "07700 9OO123",
            "07700+900123",
            "call me",
            "07700 900123 ext 5 please call",
        ] {
            let refused = PhoneNumber::parse("phone", typed).unwrap_err();
            assert_eq!(refused.field, "phone", "{typed}");
        }
    }

    #[test]
    fn a_phone_number_without_consent_to_contact_is_refused() {
        let request = AnswersRequest {
            phone: "07700 900123".into(),
            ..AnswersRequest::default()
        };
        let errors = Answers::parse_draft(&request, false).unwrap_err();
        assert_eq!(errors[0].field, "phone");
    }

    #[test]
    fn a_submission_names_every_missing_answer() {
        let errors = Answers::parse_submission(&AnswersRequest::default()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["works_in_nhs", "story", "email"]);
        let role = AnswersRequest {
            works_in_nhs: "yes".into(),
            ..AnswersRequest::default()
        };
        let errors = Answers::parse_submission(&role).unwrap_err();
        assert!(errors.iter().any(|e| e.field == "nhs_role"));
    }

    #[test]
    fn a_story_over_the_word_limit_is_refused_with_its_count() {
        let request = AnswersRequest {
            story: "word ".repeat(MAX_WORDS + 1),
            ..AnswersRequest::default()
        };
        let errors = Answers::parse_draft(&request, false).unwrap_err();
        assert!(errors[0].message.contains("(it has 501)"), "{errors:?}");
    }

    #[test]
    fn debug_hides_the_phone_number() {
        let phone = PhoneNumber::parse("phone", "07700 900123").unwrap();
        assert!(!format!("{phone:?}").contains("900123"));
    }

    proptest! {
        #[test]
        fn any_typed_phone_is_parsed_or_refused_without_panicking(typed in ".{0,30}") {
            if let Ok(phone) = PhoneNumber::parse("phone", &typed) {
                prop_assert!(phone.as_str().chars().all(|c| c.is_ascii_digit()));
                prop_assert!((10..=11).contains(&phone.as_str().len()));
            }
        }
    }
}
