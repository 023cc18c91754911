//! The groups responses are reported by: the same staff groups, with the same slugs, as a
//! nomination's, so that reports across services line up.

use valued_platform::domain::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaffGroup {
    EstatesAndAncillary,
    AdministrativeAndClerical,
    AdditionalClinicalServices,
    Other,
}

impl StaffGroup {
    /// Every group, in the order reports list them.
    pub const ALL: &[StaffGroup] = &[
        Self::EstatesAndAncillary,
        Self::AdministrativeAndClerical,
        Self::AdditionalClinicalServices,
        Self::Other,
    ];

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(FieldError::new("staff_group", "Select your staff group"));
        }
        Self::ALL
            .iter()
            .copied()
            .find(|group| group.slug() == value)
            .ok_or_else(|| FieldError::new("staff_group", "Select your staff group from the list"))
    }

    pub fn slug(self) -> &'static str {
        match self {
            Self::EstatesAndAncillary => "estates-and-ancillary",
            Self::AdministrativeAndClerical => "administrative-and-clerical",
            Self::AdditionalClinicalServices => "additional-clinical-services",
            Self::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::EstatesAndAncillary => {
                "Estates and ancillary (porters, domestics, catering, maintenance)"
            }
            Self::AdministrativeAndClerical => {
                "Administrative and clerical (including secretaries and telephonists)"
            }
            Self::AdditionalClinicalServices => "Healthcare support workers",
            Self::Other => "Another support role",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn slugs_round_trip_and_unknowns_are_refused() {
        for group in StaffGroup::ALL {
            assert_eq!(
                StaffGroup::parse(&format!(" {} ", group.slug())).unwrap(),
                *group
            );
        }
        assert_eq!(
            StaffGroup::parse("").unwrap_err().message,
            "Select your staff group"
        );
        assert_eq!(
            StaffGroup::parse("Estates and ancillary")
                .unwrap_err()
                .field,
            "staff_group"
        );
    }
}
