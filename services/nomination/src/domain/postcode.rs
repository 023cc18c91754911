use std::fmt;

use valued_platform::domain::FieldError;

/// A UK postcode, normalised to upper case with one space before the inward code (`SE1 7EH`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Postcode(String);

impl Postcode {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let compact: String = value
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        if compact.is_empty() {
            return Err(FieldError::new(field, "Enter a postcode"));
        }
        let well_formed = compact.is_ascii() && (5..=7).contains(&compact.len()) && {
            let (outward, inward) = compact.split_at(compact.len() - 3);
            let inward: Vec<char> = inward.chars().collect();
            let outward_ok = outward.starts_with(|c: char| c.is_ascii_alphabetic())
                && outward.chars().any(|c| c.is_ascii_digit())
                && outward.chars().all(|c| c.is_ascii_alphanumeric());
            outward_ok
                && inward[0].is_ascii_digit()
                && inward[1..].iter().all(char::is_ascii_alphabetic)
        };
        if !well_formed {
            return Err(FieldError::new(
                field,
                "Enter a real postcode, like SE1 7EH",
            ));
        }
        let (outward, inward) = compact.split_at(compact.len() - 3);
        Ok(Self(format!("{outward} {inward}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use valued_platform::domain::hostile;

    use super::*;

    #[test]
    fn normalises_real_postcodes() {
        for (input, expected) in [
            ("se17eh", "SE1 7EH"),
            (" B15 2GW ", "B15 2GW"),
            ("ng5 1pb", "NG5 1PB"),
            ("EC1A1BB", "EC1A 1BB"),
        ] {
            assert_eq!(Postcode::parse("p", input).unwrap().as_str(), expected);
        }
        for bad in ["", "SE1", "12345", "SE1 7E1", "SE1\n7EH!", "ZZZZZZZZ"] {
            assert!(Postcode::parse("p", bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn postcodes_are_normal_or_refused_with_a_reason(
            input in prop_oneof![
                hostile::TEXT,
                "[ \t]{0,2}[a-zA-Z]{1,2}[0-9][0-9a-zA-Z]? ?[0-9][a-zA-Z]{2}[ \t]{0,2}",
            ],
        ) {
            match Postcode::parse("postcode", &input) {
                Ok(postcode) => {
                    let compact: String = input.split_whitespace().collect();
                    let upper = compact.to_ascii_uppercase();
                    prop_assert_eq!(postcode.as_str().replace(' ', ""), upper);
                    let again = Postcode::parse("postcode", &postcode.to_string());
                    prop_assert_eq!(again, Ok(postcode.clone()));
                }
                Err(error) => prop_assert!(hostile::readable(&error, "postcode"), "{error:?}"),
            }
        }

        #[test]
        fn parsed_postcodes_have_one_space_before_a_digit_and_two_letters(input in "\\PC{0,10}") {
            if let Ok(postcode) = Postcode::parse("p", &input) {
                let (outward, inward) = postcode.as_str().split_once(' ').unwrap();
                prop_assert!(!outward.is_empty() && outward.len() <= 4);
                prop_assert_eq!(inward.len(), 3);
            }
        }
    }
}
