use std::fmt;

use valued_platform::domain::FieldError;

/// An NHS Organisation Data Service code: 3 characters for a trust (e.g. `RJ1`), 5 for a site
/// (e.g. `RJ121`); letters and digits, starting with a letter, upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OdsCode(String);

impl OdsCode {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let code = value.trim().to_ascii_uppercase();
        let well_formed = matches!(code.len(), 3 | 5)
            && code.starts_with(|c: char| c.is_ascii_alphabetic())
            && code.chars().all(|c| c.is_ascii_alphanumeric());
        if well_formed {
            Ok(Self(code))
        } else if code.is_empty() {
            Err(FieldError::new(field, "Select a trust"))
        } else {
            Err(FieldError::new(field, "Select a trust from the list"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OdsCode {
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
    fn trust_and_site_codes() {
        assert_eq!(OdsCode::parse("t", " rj1 ").unwrap().as_str(), "RJ1");
        assert_eq!(OdsCode::parse("t", "RJ121").unwrap().as_str(), "RJ121");
        for bad in ["", "R", "RJ12", "1AB", "RJ-1", "RJ\n1", "ROOOOT"] {
            assert!(OdsCode::parse("t", bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn codes_are_well_formed_or_refused_with_a_reason(input in hostile::TEXT) {
            match OdsCode::parse("trust_code", &input) {
                Ok(code) => {
                    prop_assert_eq!(code.as_str(), input.trim().to_ascii_uppercase());
                    let again = OdsCode::parse("trust_code", &code.to_string());
                    prop_assert_eq!(again, Ok(code.clone()));
                }
                Err(error) => prop_assert!(hostile::readable(&error, "trust_code"), "{error:?}"),
            }
        }

        #[test]
        fn parsed_codes_are_short_and_alphanumeric(input in "\\PC{0,8}") {
            if let Ok(code) = OdsCode::parse("t", &input) {
                prop_assert!(code.as_str().len() == 3 || code.as_str().len() == 5);
                prop_assert!(code.as_str().chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
            }
        }
    }
}
