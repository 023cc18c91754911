//! An anonymous response: which survey, the respondent's staff group and their score. Nothing
//! else is taken, so nothing else can be stored.

use uuid::Uuid;
use valued_platform::domain::{FieldError, FieldErrors};

use super::StaffGroup;

#[derive(Debug, Clone, Default)]
pub struct ResponseRequest {
    pub survey_id: String,
    pub staff_group: String,
    pub score: u32,
}

/// A score from 1 (strongly disagree) to 5 (strongly agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Score(u8);

impl Score {
    pub const MIN: u8 = 1;
    pub const MAX: u8 = 5;

    pub fn parse(value: u32) -> Result<Self, FieldError> {
        u8::try_from(value)
            .ok()
            .filter(|score| (Self::MIN..=Self::MAX).contains(score))
            .map(Self)
            .ok_or_else(|| FieldError::new("score", "Choose a score from 1 to 5"))
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

#[derive(Debug, Clone)]
pub struct NewResponse {
    pub survey_id: Uuid,
    pub staff_group: StaffGroup,
    pub score: Score,
}

impl NewResponse {
    pub fn parse(request: &ResponseRequest) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let survey_id = errors.check(parse_survey_id(&request.survey_id));
        let staff_group = errors.check(StaffGroup::parse(&request.staff_group));
        let score = errors.check(Score::parse(request.score));
        errors.into_result()?;
        match (survey_id, staff_group, score) {
            (Some(survey_id), Some(staff_group), Some(score)) => Ok(Self {
                survey_id,
                staff_group,
                score,
            }),
            _ => Err(vec![FieldError::new("form", "The form could not be read")]),
        }
    }
}

/// A survey id is a UUID; anything else cannot name a survey.
pub fn parse_survey_id(value: &str) -> Result<Uuid, FieldError> {
    value
        .trim()
        .parse()
        .map_err(|_| FieldError::new("survey_id", "Choose a survey"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use proptest::prelude::*;
    use valued_platform::domain::hostile;

    use super::*;

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let errors = NewResponse::parse(&ResponseRequest {
            survey_id: "survey-1".into(),
            staff_group: "surgeons".into(),
            score: 0,
        })
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["survey_id", "staff_group", "score"]);
    }

    proptest! {
        #[test]
        fn responses_are_read_or_refused_field_by_field(
            survey_id in prop_oneof![hostile::TEXT, Just(Uuid::now_v7().to_string())],
            staff_group in prop_oneof![
                hostile::TEXT,
                proptest::sample::select(StaffGroup::ALL).prop_map(|g| format!(" {}", g.slug())),
            ],
            score in prop_oneof![0u32..8, any::<u32>()],
        ) {
            let request = ResponseRequest { survey_id, staff_group, score };
            match NewResponse::parse(&request) {
                Ok(response) => {
                    let survey_id = request.survey_id.trim().parse().ok();
                    prop_assert_eq!(Some(response.survey_id), survey_id);
                    prop_assert_eq!(response.staff_group.slug(), request.staff_group.trim());
                    prop_assert_eq!(u32::from(response.score.value()), request.score);
                }
                Err(errors) => {
                    let fields = ["survey_id", "staff_group", "score"];
                    prop_assert!(hostile::all_readable(&errors, &fields), "{errors:?}");
                }
            }
        }

        #[test]
        fn only_one_to_five_is_a_score(value in any::<u32>()) {
            match Score::parse(value) {
                Ok(score) => prop_assert!((1..=5).contains(&value) && u32::from(score.value()) == value),
                Err(error) => {
                    prop_assert!(!(1..=5).contains(&value));
                    prop_assert_eq!(error.field, "score");
                }
            }
        }
    }
}
