//! A ballot as created: a title and between 2 and 50 choices, each with an id the caller picks
//! (e.g. a finalist's nomination id) and a label voters read.

use std::collections::HashSet;

use valued_platform::domain::{FieldError, FieldErrors, single_line};

/// A ballot as sent by the caller, before anything is known to be valid.
#[derive(Debug, Clone, Default)]
pub struct BallotRequest {
    pub title: String,
    pub choices: Vec<ChoiceRequest>,
}

#[derive(Debug, Clone, Default)]
pub struct ChoiceRequest {
    pub id: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChoice {
    pub id: String,
    pub label: String,
}

/// A ballot whose title and choices are well formed; choices keep the order they were given in.
#[derive(Debug, Clone)]
pub struct NewBallot {
    pub title: String,
    pub choices: Vec<NewChoice>,
}

impl NewBallot {
    pub const TITLE_MAX_CHARS: usize = 200;
    pub const MIN_CHOICES: usize = 2;
    pub const MAX_CHOICES: usize = 50;
    pub const CHOICE_ID_MAX_CHARS: usize = 64;
    pub const LABEL_MAX_CHARS: usize = 200;

    /// Parses the title and every choice, reporting all the errors at once.
    pub fn parse(request: &BallotRequest) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let title = errors.check(single_line(
            "title",
            "a title",
            &request.title,
            Self::TITLE_MAX_CHARS,
        ));
        if !(Self::MIN_CHOICES..=Self::MAX_CHOICES).contains(&request.choices.len()) {
            errors.push(FieldError::new(
                "choices",
                format!(
                    "Give between {} and {} choices",
                    Self::MIN_CHOICES,
                    Self::MAX_CHOICES
                ),
            ));
        }
        let mut ids = HashSet::new();
        // Labels differing only in case would look like the same choice to a voter.
        let mut labels = HashSet::new();
        let mut choices = Vec::with_capacity(request.choices.len());
        for (index, choice) in request.choices.iter().enumerate() {
            let id_field = format!("choices[{index}].id");
            let label_field = format!("choices[{index}].label");
            let id = errors.check(single_line(
                &id_field,
                "a choice id",
                &choice.id,
                Self::CHOICE_ID_MAX_CHARS,
            ));
            let label = errors.check(single_line(
                &label_field,
                "a choice label",
                &choice.label,
                Self::LABEL_MAX_CHARS,
            ));
            if let Some(id) = &id
                && !ids.insert(id.clone())
            {
                errors.push(FieldError::new(&id_field, "Choice ids must be unique"));
            }
            if let Some(label) = &label
                && !labels.insert(label.to_lowercase())
            {
                errors.push(FieldError::new(
                    &label_field,
                    "Choice labels must be unique",
                ));
            }
            if let (Some(id), Some(label)) = (id, label) {
                choices.push(NewChoice { id, label });
            }
        }
        errors.into_result()?;
        match title {
            Some(title) => Ok(Self { title, choices }),
            None => Err(vec![FieldError::new("form", "The form could not be read")]),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use proptest::prelude::*;
    use valued_platform::domain::hostile;

    use super::*;

    fn request(choices: &[(&str, &str)]) -> BallotRequest {
        BallotRequest {
            title: "  Porter of the year  ".into(),
            choices: choices
                .iter()
                .map(|(id, label)| ChoiceRequest {
                    id: (*id).into(),
                    label: (*label).into(),
                })
                .collect(),
        }
    }

    fn owned_request(title: String, choices: Vec<(String, String)>) -> BallotRequest {
        BallotRequest {
            title,
            choices: choices
                .into_iter()
                .map(|(id, label)| ChoiceRequest { id, label })
                .collect(),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_well_formed_ballot_parses_in_order() {
        let ballot =
            NewBallot::parse(&request(&[("b", "Sam Patel"), ("a", " Jo Bloggs ")])).unwrap();
        assert_eq!(ballot.title, "Porter of the year");
        let ids: Vec<&str> = ballot.choices.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["b", "a"]);
        assert_eq!(ballot.choices[1].label, "Jo Bloggs");
    }

    #[test]
    fn needs_between_two_and_fifty_choices() {
        let one = NewBallot::parse(&request(&[("a", "A")])).unwrap_err();
        assert_eq!(fields(&one), ["choices"]);
        let many: Vec<(String, String)> = (0..51)
            .map(|i| (format!("c{i}"), format!("Choice {i}")))
            .collect();
        let many: Vec<(&str, &str)> = many.iter().map(|(i, l)| (i.as_str(), l.as_str())).collect();
        assert_eq!(
            fields(&NewBallot::parse(&request(&many)).unwrap_err()),
            ["choices"]
        );
        assert!(NewBallot::parse(&request(&many[..50])).is_ok());
    }

    #[test]
    fn duplicate_and_blank_choices_are_named() {
        let errors = NewBallot::parse(&BallotRequest {
            title: "Line one\nline two".into(),
            ..request(&[("a", "Sam"), ("a", "SAM"), (" ", "Jo")])
        })
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "title",
                "choices[1].id",
                "choices[1].label",
                "choices[2].id"
            ]
        );
    }

    #[test]
    fn labels_that_look_the_same_are_the_same_label() {
        let errors = NewBallot::parse(&request(&[
            ("a", "Sam Patel"),
            ("b", "Sam\u{200B} Patel"),
            ("c", "\u{202E}Sam Patel\u{202C}"),
        ]))
        .unwrap_err();
        assert_eq!(fields(&errors), ["choices[1].label", "choices[2].label"]);
    }

    /// A field a ballot's error may name: the title, the choices, or one choice's id or label.
    fn ballot_field(field: &str) -> bool {
        let choice = field
            .strip_prefix("choices[")
            .and_then(|rest| rest.split_once("]."));
        matches!(field, "title" | "choices")
            || choice.is_some_and(|(index, part)| {
                index.parse::<usize>().is_ok() && matches!(part, "id" | "label")
            })
    }

    proptest! {
        #[test]
        fn ballots_are_clean_or_refused_field_by_field(
            title in prop_oneof![hostile::TEXT, hostile::LONG_TEXT],
            choices in proptest::collection::vec(
                (prop_oneof!["[a-z]{1,3}", hostile::TEXT], hostile::TEXT),
                0..8,
            ),
        ) {
            let request = owned_request(title, choices);
            match NewBallot::parse(&request) {
                Ok(ballot) => {
                    prop_assert!(hostile::clean_line(&ballot.title, NewBallot::TITLE_MAX_CHARS));
                    for NewChoice { id, label } in &ballot.choices {
                        prop_assert!(hostile::clean_line(id, NewBallot::CHOICE_ID_MAX_CHARS));
                        prop_assert!(hostile::clean_line(label, NewBallot::LABEL_MAX_CHARS));
                    }
                    let choices = ballot.choices.iter().map(|c| (c.id.clone(), c.label.clone()));
                    let rendered = owned_request(ballot.title.clone(), choices.collect());
                    let again = NewBallot::parse(&rendered);
                    prop_assert_eq!(format!("{again:?}"), format!("{:?}", Ok::<_, ()>(ballot)));
                }
                Err(errors) => {
                    prop_assert!(!errors.is_empty());
                    for error in &errors {
                        prop_assert!(ballot_field(&error.field), "{error:?}");
                        prop_assert!(hostile::readable(error, &error.field), "{error:?}");
                    }
                }
            }
        }

        #[test]
        fn parsed_ballots_have_unique_ids_and_bounded_text(
            title in "\\PC{0,250}",
            choices in proptest::collection::vec(("[a-c ]{0,3}", "\\PC{0,10}"), 0..6),
        ) {
            let request = owned_request(title, choices);
            if let Ok(ballot) = NewBallot::parse(&request) {
                prop_assert!(ballot.title.chars().count() <= NewBallot::TITLE_MAX_CHARS);
                prop_assert_eq!(ballot.choices.len(), request.choices.len());
                let ids: HashSet<&str> = ballot.choices.iter().map(|c| c.id.as_str()).collect();
                prop_assert_eq!(ids.len(), ballot.choices.len());
                prop_assert!(ballot.choices.iter().all(|c| !c.id.is_empty() && !c.label.is_empty()));
            }
        }
    }
}
