use valued_platform::domain::{FieldError, FieldErrors, single_line};

#[derive(Debug, Clone, Default)]
pub struct SurveyRequest {
    pub title: String,
    pub question: String,
}

/// A survey with a title and one question, answered on a scale of 1 to 5.
#[derive(Debug, Clone)]
pub struct NewSurvey {
    pub title: String,
    pub question: String,
}

impl NewSurvey {
    pub const TITLE_MAX_CHARS: usize = 200;
    pub const QUESTION_MAX_CHARS: usize = 500;

    pub fn parse(request: &SurveyRequest) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let title = errors.check(single_line(
            "title",
            "a title",
            &request.title,
            Self::TITLE_MAX_CHARS,
        ));
        let question = errors.check(single_line(
            "question",
            "the question",
            &request.question,
            Self::QUESTION_MAX_CHARS,
        ));
        errors.into_result()?;
        match (title, question) {
            (Some(title), Some(question)) => Ok(Self { title, question }),
            _ => Err(vec![FieldError::new("form", "The form could not be read")]),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use proptest::prelude::*;
    use valued_platform::domain::hostile;

    use super::*;

    #[test]
    fn title_and_question_are_required_on_one_line() {
        let survey = NewSurvey::parse(&SurveyRequest {
            title: " Staff survey 2026 ".into(),
            question: "Do you feel valued at work?".into(),
        })
        .unwrap();
        assert_eq!(survey.title, "Staff survey 2026");

        let errors = NewSurvey::parse(&SurveyRequest {
            title: String::new(),
            question: "Do you\nfeel valued?".into(),
        })
        .unwrap_err();
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "Enter a title",
                "Question must be on one line, without special characters"
            ]
        );
    }

    proptest! {
        #[test]
        fn surveys_are_clean_or_refused_field_by_field(
            title in prop_oneof![hostile::TEXT, hostile::LONG_TEXT],
            question in prop_oneof![hostile::TEXT, hostile::LONG_TEXT],
        ) {
            match NewSurvey::parse(&SurveyRequest { title, question }) {
                Ok(survey) => {
                    prop_assert!(hostile::clean_line(&survey.title, NewSurvey::TITLE_MAX_CHARS));
                    let max = NewSurvey::QUESTION_MAX_CHARS;
                    prop_assert!(hostile::clean_line(&survey.question, max));
                    let again = NewSurvey::parse(&SurveyRequest {
                        title: survey.title.clone(),
                        question: survey.question.clone(),
                    });
                    prop_assert_eq!(format!("{again:?}"), format!("{:?}", Ok::<_, ()>(survey)));
                }
                Err(errors) => {
                    let fields = ["title", "question"];
                    prop_assert!(hostile::all_readable(&errors, &fields), "{errors:?}");
                }
            }
        }
    }
}
