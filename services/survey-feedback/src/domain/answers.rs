//! One respondent's answers, checked against the survey they answer, and the form they are kept
//! in: the respondent's groups and the answers, nothing else (no id, no time, no invitation).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use valued_platform::domain::{FieldError, FieldErrors, multi_line};

use super::bands::Band;
use super::definition::{Definition, Demographics, Kind};
use super::staff_group::StaffGroup;

pub const FREE_TEXT_MAX: usize = 2_000;
pub const MAX_ANSWERS: usize = 200;

/// One answer as stored: a point on a scale, the options chosen, or text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Point(u8),
    Options(Vec<String>),
    Text(String),
}

/// A respondent's groups ("" = prefer not to say, or not asked) and answers by question id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sheet {
    pub trust: String,
    pub site: String,
    pub staff_group: String,
    pub band: String,
    pub answers: BTreeMap<String, Value>,
}

/// An answer as a request carries it.
#[derive(Debug, Clone, Default)]
pub struct AnswerInput {
    pub question_id: String,
    pub value: Option<u32>,
    pub option_ids: Vec<String>,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
pub struct SheetInput {
    pub answers: Vec<AnswerInput>,
    pub trust_code: String,
    pub site_code: String,
    pub staff_group: String,
    pub band: String,
}

impl Sheet {
    /// Checks `input` against the survey: every required question answered, every value in range
    /// and every group one the survey offers. `fixed_trust` is a trust survey's trust.
    pub fn parse(
        input: &SheetInput,
        definition: &Definition,
        demographics: &Demographics,
        fixed_trust: Option<&str>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        if input.answers.len() > MAX_ANSWERS {
            return Err(vec![FieldError::new("answers", "Too many answers")]);
        }
        let given: BTreeMap<&str, &AnswerInput> = input
            .answers
            .iter()
            .map(|a| (a.question_id.trim(), a))
            .collect();
        for id in given.keys() {
            if definition.question(id).is_none() {
                errors.push(FieldError::new(
                    &format!("answers.{id}"),
                    "This question is not in the survey",
                ));
            }
        }
        let mut answers = BTreeMap::new();
        for (_, question) in definition.questions() {
            let field = format!("answers.{}", question.id);
            let answer = given.get(question.id.as_str());
            let value = match (question.kind, answer) {
                (_, None) => None,
                (Kind::Agreement, Some(a)) => match a.value {
                    None => None,
                    Some(v @ 1..=5) => Some(Value::Point(v as u8)),
                    Some(_) => {
                        errors.push(FieldError::new(
                            &field,
                            "Select how far you agree or disagree",
                        ));
                        continue;
                    }
                },
                (Kind::Recommend, Some(a)) => match a.value {
                    None => None,
                    Some(v @ 0..=10) => Some(Value::Point(v as u8)),
                    Some(_) => {
                        errors.push(FieldError::new(&field, "Select a number from 0 to 10"));
                        continue;
                    }
                },
                (Kind::SingleChoice | Kind::MultipleChoice, Some(a)) => {
                    let mut chosen: Vec<String> = Vec::new();
                    let mut bad = false;
                    for id in &a.option_ids {
                        let id = id.trim();
                        if id.is_empty() {
                            continue;
                        }
                        if !question.options.iter().any(|o| o.id == id)
                            || chosen.iter().any(|c| c == id)
                        {
                            bad = true;
                        } else {
                            chosen.push(id.to_owned());
                        }
                    }
                    if bad || (question.kind == Kind::SingleChoice && chosen.len() > 1) {
                        errors.push(FieldError::new(&field, "Select from the options given"));
                        continue;
                    }
                    (!chosen.is_empty()).then_some(Value::Options(chosen))
                }
                (Kind::FreeText, Some(a)) => {
                    if a.text.trim().is_empty() {
                        None
                    } else {
                        match multi_line(&field, "your answer", &a.text, FREE_TEXT_MAX) {
                            Ok(text) => Some(Value::Text(text)),
                            Err(error) => {
                                errors.push(error);
                                continue;
                            }
                        }
                    }
                }
            };
            match value {
                Some(value) => {
                    answers.insert(question.id.clone(), value);
                }
                None if question.required => errors.push(FieldError::new(
                    &field,
                    match question.kind {
                        Kind::FreeText => "Enter your answer",
                        _ => "Select an answer",
                    },
                )),
                None => {}
            }
        }

        let trust = match fixed_trust {
            Some(code) => code.to_owned(),
            None => pick(
                &mut errors,
                "trust_code",
                &input.trust_code,
                demographics.trusts.iter().map(|t| t.code.as_str()),
                "Select your trust from the list",
            ),
        };
        let site = if demographics.sites.is_empty() {
            String::new()
        } else {
            let trust = trust.clone();
            pick(
                &mut errors,
                "site_code",
                &input.site_code,
                demographics
                    .sites
                    .iter()
                    .filter(|s| s.trust_code == trust)
                    .map(|s| s.code.as_str()),
                "Select your site from the list (for your trust)",
            )
        };
        let staff_group = if demographics.ask_staff_group {
            pick(
                &mut errors,
                "staff_group",
                &input.staff_group,
                StaffGroup::ALL.iter().map(|g| g.slug()),
                "Select your staff group from the list",
            )
        } else {
            String::new()
        };
        let band = if demographics.ask_band {
            pick(
                &mut errors,
                "band",
                &input.band,
                Band::ALL.iter().map(|b| b.slug()),
                "Select your band from the list",
            )
        } else {
            String::new()
        };
        errors.into_result()?;
        Ok(Self {
            trust,
            site,
            staff_group,
            band,
            answers,
        })
    }
}

/// `value` when it is one of `allowed` (codes compared without case), "" for prefer not to say.
fn pick<'a>(
    errors: &mut FieldErrors,
    field: &str,
    value: &str,
    allowed: impl Iterator<Item = &'a str>,
    message: &str,
) -> String {
    let value = value.trim();
    if value.is_empty() {
        return String::new();
    }
    let mut allowed = allowed.peekable();
    if allowed.peek().is_none() {
        // Not asked: whatever was sent is ignored.
        return String::new();
    }
    match allowed.find(|a| a.eq_ignore_ascii_case(value)) {
        Some(found) => found.to_owned(),
        None => {
            errors.push(FieldError::new(field, message));
            String::new()
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::definition::{Group, feeling_valued};

    fn survey() -> (Definition, Demographics) {
        (
            Definition {
                sections: vec![feeling_valued()],
            },
            Demographics {
                trusts: vec![Group {
                    code: "RR8".into(),
                    label: "Leeds".into(),
                }],
                sites: Vec::new(),
                ask_staff_group: true,
                ask_band: true,
            },
        )
    }

    fn answer(id: &str, value: u32) -> AnswerInput {
        AnswerInput {
            question_id: id.into(),
            value: Some(value),
            ..AnswerInput::default()
        }
    }

    #[test]
    fn every_required_question_and_every_bad_value_is_named() {
        let (d, demo) = survey();
        let qs: Vec<_> = d.questions().map(|(_, q)| q.id.clone()).collect();
        let input = SheetInput {
            answers: vec![answer(&qs[0], 6), answer(&qs[1], 4)],
            trust_code: "XYZ".into(),
            band: "band-12".into(),
            ..SheetInput::default()
        };
        let errors = Sheet::parse(&input, &d, &demo, None).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&format!("answers.{}", qs[0]).as_str()));
        assert!(!fields.contains(&format!("answers.{}", qs[1]).as_str()));
        assert!(fields.contains(&format!("answers.{}", qs[2]).as_str()));
        assert!(fields.contains(&"trust_code"));
        assert!(fields.contains(&"band"));
        // Optional questions (recommend score, free text) are not required.
        assert!(!fields.contains(&format!("answers.{}", qs[5]).as_str()));
    }

    #[test]
    fn a_complete_sheet_keeps_groups_and_answers_only() {
        let (d, demo) = survey();
        let qs: Vec<_> = d.questions().map(|(_, q)| q.id.clone()).collect();
        let mut answers: Vec<_> = qs[..5].iter().map(|q| answer(q, 4)).collect();
        answers.push(AnswerInput {
            question_id: qs[6].clone(),
            text: " More thanks ".into(),
            ..AnswerInput::default()
        });
        let sheet = Sheet::parse(
            &SheetInput {
                answers,
                trust_code: "rr8".into(),
                staff_group: "other".into(),
                ..SheetInput::default()
            },
            &d,
            &demo,
            None,
        )
        .unwrap();
        assert_eq!(sheet.trust, "RR8");
        assert_eq!(sheet.band, "");
        assert_eq!(sheet.answers[&qs[6]], Value::Text("More thanks".into()));
        assert_eq!(sheet.answers.len(), 6);
    }
}
