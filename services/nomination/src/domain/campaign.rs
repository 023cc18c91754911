//! When a campaign takes nominations, and who it is for.

use chrono::{DateTime, Utc};

/// Whose staff a campaign recognises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Trust(String),
    Region(String),
    National,
}

impl Scope {
    pub fn from_columns(scope: &str, code: Option<&str>) -> Option<Self> {
        match (scope, code) {
            ("trust", Some(code)) => Some(Self::Trust(code.to_owned())),
            ("region", Some(code)) => Some(Self::Region(code.to_owned())),
            ("national", _) => Some(Self::National),
            _ => None,
        }
    }

    pub fn columns(&self) -> (&'static str, Option<&str>) {
        match self {
            Self::Trust(code) => ("trust", Some(code)),
            Self::Region(code) => ("region", Some(code)),
            Self::National => ("national", None),
        }
    }
}

/// A campaign's timetable. Each stage starts no earlier than the one before ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Windows {
    pub nominations_open_at: Option<DateTime<Utc>>,
    pub nominations_close_at: Option<DateTime<Utc>>,
    pub judging_close_at: Option<DateTime<Utc>>,
    pub vote_open_at: Option<DateTime<Utc>>,
    pub vote_close_at: Option<DateTime<Utc>>,
    pub results_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("{later} must be after {earlier}")]
    OutOfOrder {
        earlier: &'static str,
        later: &'static str,
    },
    #[error("nominations open on {}", .0.format("%-d %B %Y"))]
    NotYetOpen(DateTime<Utc>),
    #[error("nominations closed on {}", .0.format("%-d %B %Y"))]
    Closed(DateTime<Utc>),
    #[error("nominations are not open")]
    NotScheduled,
    #[error("judging starts when nominations close on {}", .0.format("%-d %B %Y"))]
    JudgingNotStarted(DateTime<Utc>),
    #[error("judging closed on {}", .0.format("%-d %B %Y"))]
    JudgingClosed(DateTime<Utc>),
    #[error("finalists and winners are chosen once judging closes on {}", .0.format("%-d %B %Y"))]
    JudgingStillOpen(DateTime<Utc>),
}

impl Windows {
    /// Checks the stages are in order (unscheduled stages are skipped).
    pub fn validate(&self) -> Result<(), WindowError> {
        let stages = [
            ("nominations opening", self.nominations_open_at),
            ("nominations closing", self.nominations_close_at),
            ("judging closing", self.judging_close_at),
            ("the public vote opening", self.vote_open_at),
            ("the public vote closing", self.vote_close_at),
            ("results", self.results_at),
        ];
        let mut previous: Option<(&'static str, DateTime<Utc>)> = None;
        for (name, at) in stages {
            let Some(at) = at else { continue };
            if let Some((earlier, before)) = previous
                && at <= before
            {
                return Err(WindowError::OutOfOrder {
                    earlier,
                    later: name,
                });
            }
            previous = Some((name, at));
        }
        Ok(())
    }

    /// Whether a nomination made at `now` counts: only between opening and closing.
    pub fn accepts_nominations_at(&self, now: DateTime<Utc>) -> Result<(), WindowError> {
        match (self.nominations_open_at, self.nominations_close_at) {
            (Some(open), _) if now < open => Err(WindowError::NotYetOpen(open)),
            (_, Some(close)) if now >= close => Err(WindowError::Closed(close)),
            (Some(_), _) => Ok(()),
            (None, _) => Err(WindowError::NotScheduled),
        }
    }

    /// Whether judges may score at `now`: after nominations close, before judging closes.
    pub fn accepts_scores_at(&self, now: DateTime<Utc>) -> Result<(), WindowError> {
        match (self.nominations_close_at, self.judging_close_at) {
            (Some(start), _) if now < start => Err(WindowError::JudgingNotStarted(start)),
            (_, Some(end)) if now >= end => Err(WindowError::JudgingClosed(end)),
            _ => Ok(()),
        }
    }

    /// Whether finalists or winners may be announced at `now`: once judging has closed.
    pub fn accepts_announcements_at(&self, now: DateTime<Utc>) -> Result<(), WindowError> {
        match self.judging_close_at {
            Some(end) if now < end => Err(WindowError::JudgingStillOpen(end)),
            _ => Ok(()),
        }
    }
}

/// Whether a category's comma-separated list of slugs admits `slug`; an empty list admits all.
pub fn eligible(eligible_slugs: &str, slug: &str) -> bool {
    let slugs: Vec<&str> = eligible_slugs
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    slugs.is_empty() || slugs.contains(&slug)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use proptest::prelude::*;
    use valued_platform::domain::hostile;

    use super::*;
    use crate::domain::StaffGroup;

    fn at(days: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_790_000_000, 0).unwrap() + Duration::days(days)
    }

    #[test]
    fn judging_follows_nominations_and_announcements_follow_judging() {
        let windows = Windows {
            nominations_open_at: Some(at(0)),
            nominations_close_at: Some(at(30)),
            judging_close_at: Some(at(60)),
            ..Windows::default()
        };
        assert_eq!(
            windows.accepts_scores_at(at(29)),
            Err(WindowError::JudgingNotStarted(at(30)))
        );
        assert!(windows.accepts_scores_at(at(30)).is_ok());
        assert_eq!(
            windows.accepts_scores_at(at(60)),
            Err(WindowError::JudgingClosed(at(60)))
        );
        assert_eq!(
            windows.accepts_announcements_at(at(59)),
            Err(WindowError::JudgingStillOpen(at(60)))
        );
        assert!(windows.accepts_announcements_at(at(60)).is_ok());
    }

    #[test]
    fn nominations_count_only_inside_the_window() {
        let windows = Windows {
            nominations_open_at: Some(at(0)),
            nominations_close_at: Some(at(30)),
            ..Windows::default()
        };
        assert_eq!(
            windows.accepts_nominations_at(at(-1)),
            Err(WindowError::NotYetOpen(at(0)))
        );
        assert!(windows.accepts_nominations_at(at(0)).is_ok());
        assert!(windows.accepts_nominations_at(at(29)).is_ok());
        assert_eq!(
            windows.accepts_nominations_at(at(30)),
            Err(WindowError::Closed(at(30)))
        );
        assert_eq!(
            Windows::default().accepts_nominations_at(at(0)),
            Err(WindowError::NotScheduled)
        );
    }

    #[test]
    fn stages_must_follow_each_other() {
        let mut windows = Windows {
            nominations_open_at: Some(at(0)),
            nominations_close_at: Some(at(30)),
            judging_close_at: Some(at(45)),
            vote_open_at: Some(at(50)),
            vote_close_at: Some(at(60)),
            results_at: Some(at(61)),
        };
        assert!(windows.validate().is_ok());
        windows.vote_open_at = Some(at(40));
        assert_eq!(
            windows.validate(),
            Err(WindowError::OutOfOrder {
                earlier: "judging closing",
                later: "the public vote opening"
            })
        );
    }

    #[test]
    fn eligibility_by_staff_group() {
        assert!(eligible("", StaffGroup::Other.slug()));
        assert!(eligible(
            "estates-and-ancillary",
            StaffGroup::EstatesAndAncillary.slug()
        ));
        let porters_and_hcsws = "estates-and-ancillary, additional-clinical-services";
        assert!(!eligible(
            porters_and_hcsws,
            StaffGroup::AdministrativeAndClerical.slug()
        ));
    }

    proptest! {
        #[test]
        fn any_list_of_slugs_is_read(list in hostile::TEXT, slug in hostile::TEXT) {
            let listed = list.split(',').any(|s| !s.trim().is_empty() && s.trim() == slug);
            let nothing_listed = list.split(',').all(|s| s.trim().is_empty());
            prop_assert_eq!(eligible(&list, &slug), listed || nothing_listed);
        }

        #[test]
        fn a_valid_timetable_accepts_nominations_exactly_between_open_and_close(
            open in -1_000i64..1_000, length in 1i64..500, probe in -2_000i64..2_000
        ) {
            let windows = Windows { nominations_open_at: Some(at(open)), nominations_close_at: Some(at(open + length)), ..Windows::default() };
            prop_assert!(windows.validate().is_ok());
            let inside = probe >= open && probe < open + length;
            prop_assert_eq!(windows.accepts_nominations_at(at(probe)).is_ok(), inside);
        }
    }
}
