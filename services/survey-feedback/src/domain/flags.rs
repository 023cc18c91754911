//! What free-text answers are flagged for before an admin screens them: email addresses, UK phone
//! numbers and what look like people's names. A heuristic to point the screener at text, never a
//! guarantee: every answer is read by a person before it is shown.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    Name,
    Phone,
    Email,
}

impl Flag {
    pub fn slug(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Phone => "phone",
            Self::Email => "email",
        }
    }

    pub fn parse(slug: &str) -> Option<Self> {
        [Self::Name, Self::Phone, Self::Email]
            .into_iter()
            .find(|f| f.slug() == slug)
    }
}

/// Capitalised words that are not names however they appear.
const NOT_NAMES: &[&str] = &[
    "I",
    "I'm",
    "I've",
    "I'd",
    "I'll",
    "NHS",
    "A&E",
    "HR",
    "OK",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Christmas",
    "Trust",
    "Band",
    "Covid",
    "COVID",
    "England",
    "Scotland",
    "Wales",
    "UK",
    "Ward",
    "Estates",
];

/// The flags for `text`, and the flagged words or spans as they appear in it.
pub fn flag(text: &str) -> (Vec<Flag>, Vec<String>) {
    let mut flags = Vec::new();
    let mut spans = Vec::new();
    let mut add = |flag: Flag, span: &str| {
        if !flags.contains(&flag) {
            flags.push(flag);
        }
        if !spans.iter().any(|s| s == span) {
            spans.push(span.to_owned());
        }
    };

    let words: Vec<&str> = text.split_whitespace().collect();
    for word in &words {
        let w = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '@' && c != '.');
        let w = w.trim_end_matches('.');
        if let Some((local, domain)) = w.split_once('@')
            && !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
        {
            add(Flag::Email, w);
        }
    }

    // Phone numbers: runs of digits (with spaces, dashes, brackets or a leading +44) that make a
    // UK number: 10 or 11 digits starting 0, or +44 and 9 or 10 more.
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() || chars[i] == '+' || chars[i] == '(' {
            let start = i;
            let mut digits = String::new();
            let mut end = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit() || matches!(chars[i], ' ' | '-' | '(' | ')' | '+'))
            {
                if chars[i].is_ascii_digit() {
                    digits.push(chars[i]);
                    end = i + 1;
                }
                i += 1;
            }
            let uk = (digits.starts_with('0') && (10..=11).contains(&digits.len()))
                || (digits.starts_with("44") && (11..=12).contains(&digits.len()));
            if uk {
                let span: String = chars[start..end].iter().collect();
                add(Flag::Phone, span.trim());
            }
        }
        i += 1;
    }

    // Names: a capitalised word that does not start a sentence, or two capitalised words in a row.
    let mut sentence_start = true;
    let mut previous_capitalised = false;
    for word in &words {
        let clean = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '&');
        let capitalised = clean.chars().next().is_some_and(|c| c.is_uppercase())
            && clean.chars().skip(1).any(|c| c.is_lowercase())
            && !NOT_NAMES.contains(&clean);
        if capitalised && (!sentence_start || previous_capitalised) {
            add(Flag::Name, clean);
        }
        previous_capitalised = capitalised && !sentence_start;
        if capitalised && sentence_start {
            previous_capitalised = true;
        }
        sentence_start = word.ends_with(['.', '!', '?', ':']) || word.ends_with(".\"");
    }
    flags.sort();
    (flags, spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_phones_and_names_are_flagged() {
        let (flags, spans) = flag(
            "My manager Sarah never says thanks. Call 0113 496 0000 or email s.jones@nhs.net.",
        );
        assert_eq!(flags, [Flag::Name, Flag::Phone, Flag::Email]);
        assert!(spans.contains(&"Sarah".to_owned()));
        assert!(spans.contains(&"0113 496 0000".to_owned()));
        assert!(spans.contains(&"s.jones@nhs.net".to_owned()));
        let (flags, _) = flag("Ring +44 7700 900123 any time");
        assert_eq!(flags, [Flag::Phone]);
    }

    #[test]
    fn ordinary_sentences_are_not_flagged() {
        let (flags, spans) = flag(
            "More thanks from managers. I think the NHS could say thank you on Monday. We work 12 hour shifts.",
        );
        assert!(flags.is_empty(), "{spans:?}");
    }

    #[test]
    fn a_full_name_at_the_start_of_a_sentence_is_flagged() {
        let (flags, spans) = flag("John Smith on ward 3 is great.");
        assert_eq!(flags, [Flag::Name]);
        assert_eq!(spans, ["Smith"]);
    }
}
