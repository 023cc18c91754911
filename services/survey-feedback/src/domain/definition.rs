//! A survey's content as its builder edits it: sections of questions, the demographics asked, and
//! the anonymity settings. Stored as one JSON document on the survey's row, so an edit is a read,
//! a change in memory (checked here) and one write; publishing freezes it.

use serde::{Deserialize, Serialize};
use valued_platform::domain::{FieldError, FieldErrors, multi_line, single_line};

pub const MAX_SECTIONS: usize = 30;
pub const MAX_QUESTIONS: usize = 150;
pub const MAX_OPTIONS: usize = 20;
pub const MIN_OPTIONS: usize = 2;
pub const MAX_TRUSTS: usize = 500;
pub const MAX_SITES: usize = 2_000;
pub const QUESTION_TEXT_MAX: usize = 300;
pub const HINT_MAX: usize = 500;
pub const OPTION_MAX: usize = 200;
pub const SECTION_TITLE_MAX: usize = 200;
pub const SECTION_DESCRIPTION_MAX: usize = 1_000;
pub const TITLE_MAX: usize = 200;
pub const INTRODUCTION_MAX: usize = 2_000;
pub const CODE_MAX: usize = 20;
pub const LABEL_MAX: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Agreement,
    SingleChoice,
    MultipleChoice,
    Recommend,
    FreeText,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub kind: Kind,
    pub text: String,
    #[serde(default)]
    pub hint: String,
    pub required: bool,
    #[serde(default)]
    pub options: Vec<Choice>,
    #[serde(default)]
    pub standard_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Definition {
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub code: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub trust_code: String,
    pub code: String,
    pub label: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Demographics {
    pub trusts: Vec<Group>,
    pub sites: Vec<Site>,
    pub ask_staff_group: bool,
    pub ask_band: bool,
}

/// What an admin typed for a question, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct QuestionInput {
    pub kind: Option<Kind>,
    pub text: String,
    pub hint: String,
    pub required: bool,
    pub options: Vec<(String, String)>,
}

fn new_id(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}{}", &id[..10])
}

impl QuestionInput {
    /// The checked question, keeping the ids of options sent with an id `existing` has. Errors are
    /// named under `field` ("question.text", "question.options[1]").
    pub fn parse(
        &self,
        field: &str,
        existing: Option<&Question>,
    ) -> Result<Question, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let kind = self.kind;
        if kind.is_none() {
            errors.push(FieldError::new(
                &format!("{field}.kind"),
                "Select the type of question",
            ));
        }
        let text = errors.check(single_line(
            &format!("{field}.text"),
            "the question",
            &self.text,
            QUESTION_TEXT_MAX,
        ));
        let hint = if self.hint.trim().is_empty() {
            Some(String::new())
        } else {
            errors.check(multi_line(
                &format!("{field}.hint"),
                "the hint",
                &self.hint,
                HINT_MAX,
            ))
        };
        let mut options = Vec::new();
        let choice = matches!(kind, Some(Kind::SingleChoice | Kind::MultipleChoice));
        if choice {
            if self.options.len() < MIN_OPTIONS || self.options.len() > MAX_OPTIONS {
                errors.push(FieldError::new(
                    &format!("{field}.options"),
                    format!("Give between {MIN_OPTIONS} and {MAX_OPTIONS} options"),
                ));
            }
            let mut used: Vec<String> = Vec::new();
            let mut next = existing
                .map(|q| {
                    q.options
                        .iter()
                        .filter_map(|o| o.id.strip_prefix('o')?.parse::<u32>().ok())
                        .max()
                        .unwrap_or(0)
                })
                .unwrap_or(0);
            for (i, (id, label)) in self.options.iter().take(MAX_OPTIONS).enumerate() {
                let name = format!("{field}.options[{i}]");
                let Some(label) = errors.check(single_line(&name, "the option", label, OPTION_MAX))
                else {
                    continue;
                };
                if options.iter().any(|o: &Choice| o.label == label) {
                    errors.push(FieldError::new(&name, "Each option must be different"));
                    continue;
                }
                let keep = existing.and_then(|q| q.options.iter().find(|o| &o.id == id));
                let id = match keep {
                    Some(o) if !used.contains(&o.id) => o.id.clone(),
                    _ => {
                        next += 1;
                        format!("o{next}")
                    }
                };
                used.push(id.clone());
                options.push(Choice { id, label });
            }
        }
        errors.into_result()?;
        let (Some(kind), Some(text), Some(hint)) = (kind, text, hint) else {
            return Err(vec![FieldError::new(
                field,
                "The question could not be read",
            )]);
        };
        // A standard question stays standard only while it asks the same thing the same way, so
        // that results compared across trusts and years compare like with like.
        let standard_key = existing
            .filter(|q| q.kind == kind && q.text == text && q.options == options)
            .map(|q| q.standard_key.clone())
            .unwrap_or_default();
        Ok(Question {
            id: existing.map_or_else(|| new_id("q"), |q| q.id.clone()),
            kind,
            text,
            hint,
            required: self.required,
            options,
            standard_key,
        })
    }
}

pub fn parse_section(title: &str, description: &str) -> Result<(String, String), Vec<FieldError>> {
    let mut errors = FieldErrors::new();
    let title = errors.check(single_line(
        "title",
        "a section title",
        title,
        SECTION_TITLE_MAX,
    ));
    let description = if description.trim().is_empty() {
        Some(String::new())
    } else {
        errors.check(multi_line(
            "description",
            "the description",
            description,
            SECTION_DESCRIPTION_MAX,
        ))
    };
    errors.into_result()?;
    match (title, description) {
        (Some(t), Some(d)) => Ok((t, d)),
        _ => Err(vec![FieldError::new("title", "Enter a section title")]),
    }
}

/// A trust, region or site code: letters, digits and dashes, at most 20.
pub fn parse_code(field: &str, value: &str) -> Result<String, FieldError> {
    let value = value.trim().to_ascii_uppercase();
    if value.is_empty() {
        return Err(FieldError::new(field, "Enter a code"));
    }
    if value.len() > CODE_MAX || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(FieldError::new(
            field,
            format!("Enter a code of letters, numbers and dashes, {CODE_MAX} characters or fewer"),
        ));
    }
    Ok(value)
}

impl Demographics {
    pub fn parse(
        trusts: &[(String, String)],
        sites: &[(String, String, String)],
        ask_staff_group: bool,
        ask_band: bool,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        if trusts.len() > MAX_TRUSTS {
            errors.push(FieldError::new(
                "demographics.trusts",
                format!("List {MAX_TRUSTS} trusts or fewer"),
            ));
        }
        if sites.len() > MAX_SITES {
            errors.push(FieldError::new(
                "demographics.sites",
                format!("List {MAX_SITES} sites or fewer"),
            ));
        }
        let mut parsed_trusts: Vec<Group> = Vec::new();
        for (i, (code, label)) in trusts.iter().take(MAX_TRUSTS).enumerate() {
            let field = format!("demographics.trusts[{i}]");
            let code = errors.check(parse_code(&field, code));
            let label = errors.check(single_line(&field, "the trust's name", label, LABEL_MAX));
            if let (Some(code), Some(label)) = (code, label) {
                if parsed_trusts.iter().any(|t| t.code == code) {
                    errors.push(FieldError::new(&field, "Each trust may be listed once"));
                } else {
                    parsed_trusts.push(Group { code, label });
                }
            }
        }
        let mut parsed_sites: Vec<Site> = Vec::new();
        for (i, (trust_code, code, label)) in sites.iter().take(MAX_SITES).enumerate() {
            let field = format!("demographics.sites[{i}]");
            let trust = errors.check(parse_code(&field, trust_code));
            let code = errors.check(parse_code(&field, code));
            let label = errors.check(single_line(&field, "the site's name", label, LABEL_MAX));
            if let (Some(trust_code), Some(code), Some(label)) = (trust, code, label) {
                if parsed_sites
                    .iter()
                    .any(|s| s.trust_code == trust_code && s.code == code)
                {
                    errors.push(FieldError::new(&field, "Each site may be listed once"));
                } else {
                    parsed_sites.push(Site {
                        trust_code,
                        code,
                        label,
                    });
                }
            }
        }
        errors.into_result()?;
        Ok(Self {
            trusts: parsed_trusts,
            sites: parsed_sites,
            ask_staff_group,
            ask_band,
        })
    }
}

impl Definition {
    pub fn questions(&self) -> impl Iterator<Item = (&Section, &Question)> {
        self.sections
            .iter()
            .flat_map(|s| s.questions.iter().map(move |q| (s, q)))
    }

    pub fn question_count(&self) -> usize {
        self.sections.iter().map(|s| s.questions.len()).sum()
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions().map(|(_, q)| q).find(|q| q.id == id)
    }

    fn find_question(&self, id: &str) -> Option<(usize, usize)> {
        self.sections.iter().enumerate().find_map(|(s, section)| {
            section
                .questions
                .iter()
                .position(|q| q.id == id)
                .map(|q| (s, q))
        })
    }

    fn find_section(&self, id: &str) -> Option<usize> {
        self.sections.iter().position(|s| s.id == id)
    }

    pub fn add_section(&mut self, title: String, description: String) -> Result<String, String> {
        if self.sections.len() >= MAX_SECTIONS {
            return Err(format!("A survey can have {MAX_SECTIONS} sections at most"));
        }
        let id = new_id("s");
        self.sections.push(Section {
            id: id.clone(),
            title,
            description,
            questions: Vec::new(),
        });
        Ok(id)
    }

    pub fn update_section(&mut self, id: &str, title: String, description: String) -> bool {
        match self.find_section(id) {
            Some(i) => {
                self.sections[i].title = title;
                self.sections[i].description = description;
                true
            }
            None => false,
        }
    }

    pub fn remove_section(&mut self, id: &str) -> bool {
        match self.find_section(id) {
            Some(i) => {
                self.sections.remove(i);
                true
            }
            None => false,
        }
    }

    pub fn move_section(&mut self, id: &str, position: usize) -> bool {
        match self.find_section(id) {
            Some(i) => {
                let section = self.sections.remove(i);
                let at = position.min(self.sections.len());
                self.sections.insert(at, section);
                true
            }
            None => false,
        }
    }

    /// Adds `question` to the section `section_id`; `Err` with what stops it.
    pub fn add_question(&mut self, section_id: &str, question: Question) -> Result<(), String> {
        if self.question_count() >= MAX_QUESTIONS {
            return Err(format!(
                "A survey can have {MAX_QUESTIONS} questions at most"
            ));
        }
        let Some(s) = self.find_section(section_id) else {
            return Err("section not found".into());
        };
        self.sections[s].questions.push(question);
        Ok(())
    }

    pub fn question_mut(&mut self, id: &str) -> Option<&mut Question> {
        let (s, q) = self.find_question(id)?;
        Some(&mut self.sections[s].questions[q])
    }

    pub fn remove_question(&mut self, id: &str) -> bool {
        match self.find_question(id) {
            Some((s, q)) => {
                self.sections[s].questions.remove(q);
                true
            }
            None => false,
        }
    }

    pub fn move_question(&mut self, id: &str, section_id: &str, position: usize) -> bool {
        let (Some((s, q)), Some(to)) = (self.find_question(id), self.find_section(section_id))
        else {
            return false;
        };
        let question = self.sections[s].questions.remove(q);
        let list = &mut self.sections[to].questions;
        let at = position.min(list.len());
        list.insert(at, question);
        true
    }

    /// Appends the built-in "feeling valued" question set as its own section.
    pub fn add_feeling_valued(&mut self) -> Result<(), String> {
        let set = feeling_valued();
        if self.sections.len() >= MAX_SECTIONS
            || self.question_count() + set.questions.len() > MAX_QUESTIONS
        {
            return Err(
                "There is no room left in the survey for the feeling valued questions".into(),
            );
        }
        self.sections.push(set);
        Ok(())
    }
}

/// The built-in "feeling valued" set: the same questions, with the same keys, in every survey
/// that starts from it, so results can be compared across trusts and over time.
pub fn feeling_valued() -> Section {
    let agreement = |key: &str, text: &str| Question {
        id: new_id("q"),
        kind: Kind::Agreement,
        text: text.to_owned(),
        hint: String::new(),
        required: true,
        options: Vec::new(),
        standard_key: format!("feeling-valued/{key}"),
    };
    Section {
        id: new_id("s"),
        title: "Feeling valued".to_owned(),
        description: "How far do you agree or disagree with each statement?".to_owned(),
        questions: vec![
            agreement("valued-by-organisation", "I feel valued by my organisation"),
            agreement("valued-by-team", "I feel valued by the people I work with"),
            agreement(
                "thanked",
                "I am thanked when I have done a good job",
            ),
            agreement(
                "recommend-as-employer",
                "I would recommend my organisation as a place to work",
            ),
            agreement("think-about-leaving", "I often think about leaving my organisation"),
            Question {
                id: new_id("q"),
                kind: Kind::Recommend,
                text: "How likely are you to recommend your organisation to a friend as a place to work?"
                    .to_owned(),
                hint: "0 is not at all likely, 10 is extremely likely".to_owned(),
                required: false,
                options: Vec::new(),
                standard_key: "feeling-valued/recommend-score".to_owned(),
            },
            Question {
                id: new_id("q"),
                kind: Kind::FreeText,
                text: "What one thing would make you feel more valued at work?".to_owned(),
                hint: "Do not include names or anything that could identify you or anyone else"
                    .to_owned(),
                required: false,
                options: Vec::new(),
                standard_key: "feeling-valued/one-thing".to_owned(),
            },
        ],
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn input(kind: Kind, text: &str, options: &[&str]) -> QuestionInput {
        QuestionInput {
            kind: Some(kind),
            text: text.into(),
            hint: String::new(),
            required: true,
            options: options
                .iter()
                .map(|o| (String::new(), (*o).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn choice_questions_need_two_to_twenty_distinct_options() {
        let errors = input(Kind::SingleChoice, "Which shift?", &["Days"])
            .parse("question", None)
            .unwrap_err();
        assert_eq!(errors[0].field, "question.options");
        let errors = input(Kind::SingleChoice, "Which shift?", &["Days", "Days"])
            .parse("question", None)
            .unwrap_err();
        assert_eq!(errors[0].field, "question.options[1]");
        let q = input(Kind::MultipleChoice, "Which shifts?", &["Days", "Nights"])
            .parse("question", None)
            .unwrap();
        assert_eq!(q.options[1].id, "o2");
    }

    #[test]
    fn editing_keeps_option_ids_and_drops_the_standard_key_when_the_wording_changes() {
        let set = feeling_valued();
        let original = &set.questions[0];
        let same = QuestionInput {
            kind: Some(Kind::Agreement),
            text: original.text.clone(),
            hint: "new hint".into(),
            required: true,
            options: Vec::new(),
        }
        .parse("question", Some(original))
        .unwrap();
        assert_eq!(same.standard_key, original.standard_key);
        assert_eq!(same.id, original.id);
        let changed = input(Kind::Agreement, "I feel quite valued", &[])
            .parse("question", Some(original))
            .unwrap();
        assert_eq!(changed.standard_key, "");
    }

    #[test]
    fn moving_reorders_within_and_across_sections() {
        let mut d = Definition::default();
        let a = d.add_section("A".into(), String::new()).unwrap();
        let b = d.add_section("B".into(), String::new()).unwrap();
        for text in ["one", "two", "three"] {
            let q = input(Kind::FreeText, text, &[])
                .parse("question", None)
                .unwrap();
            d.add_question(&a, q).unwrap();
        }
        let three = d.sections[0].questions[2].id.clone();
        assert!(d.move_question(&three, &a, 0));
        let texts: Vec<_> = d.sections[0]
            .questions
            .iter()
            .map(|q| q.text.as_str())
            .collect();
        assert_eq!(texts, ["three", "one", "two"]);
        assert!(d.move_question(&three, &b, 9));
        assert_eq!(d.sections[1].questions[0].text, "three");
        assert!(d.move_section(&b, 0));
        assert_eq!(d.sections[0].title, "B");
    }
}
