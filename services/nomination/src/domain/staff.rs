//! The closed lists a nomination form offers.

use valued_platform::domain::FieldError;

macro_rules! choice {
    ($(#[$doc:meta])* $name:ident, $field:literal, $missing:literal { $($variant:ident => $slug:literal, $label:literal;)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),*];

            pub fn parse(value: &str) -> Result<Self, FieldError> {
                match value.trim() {
                    $($slug => Ok(Self::$variant),)*
                    "" => Err(FieldError::new($field, $missing)),
                    _ => Err(FieldError::new($field, concat!($missing, " from the list"))),
                }
            }

            pub fn slug(self) -> &'static str {
                match self { $(Self::$variant => $slug),* }
            }

            pub fn label(self) -> &'static str {
                match self { $(Self::$variant => $label),* }
            }
        }
    };
}

choice! {
    /// NHS staff groups of the support workforce (after the NHS Electronic Staff Record groups).
    StaffGroup, "staff_group", "Select their staff group" {
        EstatesAndAncillary => "estates-and-ancillary", "Estates and ancillary (porters, domestics, catering, maintenance)";
        AdministrativeAndClerical => "administrative-and-clerical", "Administrative and clerical (including secretaries and telephonists)";
        AdditionalClinicalServices => "additional-clinical-services", "Healthcare support workers";
        Other => "other", "Another support role";
    }
}

choice! {
    /// Agenda for Change pay band: support roles are mostly Bands 1 to 4.
    Band, "band", "Select their band" {
        Band1 => "band-1", "Band 1";
        Band2 => "band-2", "Band 2";
        Band3 => "band-3", "Band 3";
        Band4 => "band-4", "Band 4";
        NotSure => "not-sure", "I'm not sure";
    }
}

impl Band {
    /// The band question is optional: nothing chosen is `None`.
    pub fn parse_optional(value: &str) -> Result<Option<Self>, FieldError> {
        if value.trim().is_empty() {
            Ok(None)
        } else {
            Self::parse(value).map(Some)
        }
    }
}

choice! {
    /// How the nominator knows the nominee.
    Relationship, "relationship", "Select how you know them" {
        Colleague => "colleague", "I work with them";
        Manager => "manager", "I manage them";
        Patient => "patient", "I was their patient";
        FamilyOrFriendOfPatient => "patient-family", "I am a patient's family member or friend";
        Public => "public", "Member of the public";
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use valued_platform::domain::hostile;

    use super::*;

    #[test]
    fn slugs_round_trip_and_unknowns_are_refused() {
        for group in StaffGroup::ALL {
            assert_eq!(StaffGroup::parse(group.slug()).unwrap(), *group);
        }
        for relationship in Relationship::ALL {
            assert_eq!(
                Relationship::parse(relationship.slug()).unwrap(),
                *relationship
            );
        }
        assert_eq!(
            StaffGroup::parse("").unwrap_err().message,
            "Select their staff group"
        );
        assert_eq!(
            StaffGroup::parse("surgeons").unwrap_err().message,
            "Select their staff group from the list"
        );
    }

    /// Whatever is sent, a choice is one of the slugs (give or take spaces) or refused in words.
    fn chosen_or_refused<T: Copy>(
        input: &str,
        field: &str,
        parsed: Result<T, FieldError>,
        slug: fn(T) -> &'static str,
    ) -> Result<(), TestCaseError> {
        match parsed {
            Ok(choice) => prop_assert_eq!(slug(choice), input.trim()),
            Err(error) => prop_assert!(hostile::readable(&error, field), "{error:?}"),
        }
        Ok(())
    }

    fn every_slug() -> Vec<&'static str> {
        let groups = StaffGroup::ALL.iter().map(|c| c.slug());
        let bands = Band::ALL.iter().map(|c| c.slug());
        groups
            .chain(bands)
            .chain(Relationship::ALL.iter().map(|c| c.slug()))
            .collect()
    }

    proptest! {
        #[test]
        fn choices_are_slugs_or_refused_with_a_reason(
            input in prop_oneof![
                hostile::TEXT,
                proptest::sample::select(every_slug()).prop_map(|slug| format!(" {slug}\t")),
            ],
        ) {
            chosen_or_refused(&input, "staff_group", StaffGroup::parse(&input), StaffGroup::slug)?;
            chosen_or_refused(&input, "band", Band::parse(&input), Band::slug)?;
            let relationship = Relationship::parse(&input);
            chosen_or_refused(&input, "relationship", relationship, Relationship::slug)?;
            if let Ok(band) = Band::parse_optional(&input) {
                prop_assert_eq!(band.map_or("", Band::slug), input.trim());
            }
        }
    }
}
