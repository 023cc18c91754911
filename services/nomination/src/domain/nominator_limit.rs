use valued_platform::domain::FieldError;

/// How many nominations one person (by email) may make to a campaign, as its organisers set it:
/// a whole number from 1 to 1,000. A campaign without one uses the service-wide
/// `nominations_per_nominator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NominationsPerNominator(u32);

impl NominationsPerNominator {
    /// What a campaign's limit may be.
    pub const RANGE: std::ops::RangeInclusive<u32> = 1..=1000;
    /// The field the campaign form and its request use.
    pub const FIELD: &'static str = "nominations_per_nominator";

    pub fn parse(value: u32) -> Result<Self, FieldError> {
        if Self::RANGE.contains(&value) {
            Ok(Self(value))
        } else {
            // The range as GOV.UK style writes numbers (a test keeps the two together).
            Err(FieldError::new(
                Self::FIELD,
                "Nominations each person can make must be a whole number from 1 to 1,000, or leave it blank",
            ))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn one_to_a_thousand_and_nothing_else() {
        assert_eq!(NominationsPerNominator::parse(1).unwrap().get(), 1);
        assert_eq!(NominationsPerNominator::parse(1000).unwrap().get(), 1000);
        for bad in [0, 1001, u32::MAX] {
            let error = NominationsPerNominator::parse(bad).unwrap_err();
            assert_eq!(error.field, "nominations_per_nominator");
            assert_eq!(
                error.message,
                "Nominations each person can make must be a whole number from 1 to 1,000, or leave it blank"
            );
        }
    }

    proptest! {
        #[test]
        fn a_limit_is_taken_exactly_when_it_is_in_range(value in any::<u32>()) {
            let parsed = NominationsPerNominator::parse(value);
            prop_assert_eq!(parsed.is_ok(), (1..=1000).contains(&value));
            if let Ok(limit) = parsed {
                prop_assert_eq!(limit.get(), value);
            }
        }
    }
}
