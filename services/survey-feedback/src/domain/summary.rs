//! Reporting responses per staff group without exposing anyone: a group with fewer responses than
//! the minimum is withheld, and so is a second group when one withheld group could otherwise be
//! worked out by subtraction.

use super::StaffGroup;

/// What the database holds for one group of one survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCount {
    pub group: StaffGroup,
    pub responses: u64,
    pub score_sum: u64,
}

/// One line of a report. When `suppressed`, `responses` and `mean_score` are 0: withheld, not
/// measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupSummary {
    pub group: StaffGroup,
    pub suppressed: bool,
    pub responses: u64,
    pub mean_score: f64,
}

/// Summarises `counts` (in any order; a missing group had no responses) as one line per staff
/// group, in [`StaffGroup::ALL`] order — listing every group, so that which groups answered is not
/// itself revealed.
pub fn summarise(counts: &[GroupCount], minimum: u32) -> Vec<GroupSummary> {
    let counts: Vec<GroupCount> = StaffGroup::ALL
        .iter()
        .map(|&group| {
            counts
                .iter()
                .find(|c| c.group == group)
                .copied()
                .unwrap_or(GroupCount {
                    group,
                    responses: 0,
                    score_sum: 0,
                })
        })
        .collect();
    let mut suppressed: Vec<bool> = counts
        .iter()
        .map(|c| c.responses < u64::from(minimum))
        .collect();

    // Suppression by subtraction: the survey's total is not secret (every response is announced
    // by a `survey.response_recorded.v1` event, and totals get quoted). If exactly one group is
    // withheld, total minus the visible groups is that group's count, and with any overall
    // figure its answers too. So withhold the next-smallest group as well: then only the sum of
    // the withheld groups can be worked out, not how it splits between them. (With two or more
    // groups withheld, empty ones included, that split is already unknown; a lone withheld group
    // with no responses exposes nobody.)
    let withheld: Vec<usize> = (0..counts.len()).filter(|&i| suppressed[i]).collect();
    if let [only] = withheld[..]
        && counts[only].responses > 0
    {
        let next_smallest = (0..counts.len())
            .filter(|&i| !suppressed[i])
            .min_by_key(|&i| counts[i].responses);
        if let Some(i) = next_smallest {
            suppressed[i] = true;
        }
    }

    counts
        .iter()
        .zip(suppressed)
        .map(|(c, suppressed)| GroupSummary {
            group: c.group,
            suppressed,
            responses: if suppressed { 0 } else { c.responses },
            mean_score: if suppressed || c.responses == 0 {
                0.0
            } else {
                c.score_sum as f64 / c.responses as f64
            },
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use StaffGroup::*;

    fn count(group: StaffGroup, responses: u64, score_sum: u64) -> GroupCount {
        GroupCount {
            group,
            responses,
            score_sum,
        }
    }

    fn shown(summary: &[GroupSummary]) -> Vec<(StaffGroup, bool, u64)> {
        summary
            .iter()
            .map(|s| (s.group, s.suppressed, s.responses))
            .collect()
    }

    #[test]
    fn small_groups_are_withheld_and_large_ones_reported() {
        let summary = summarise(
            &[
                count(Other, 12, 36),
                count(EstatesAndAncillary, 11, 44),
                count(AdministrativeAndClerical, 10, 50),
                count(AdditionalClinicalServices, 3, 15),
            ],
            11,
        );
        assert_eq!(
            shown(&summary),
            [
                (EstatesAndAncillary, false, 11),
                (AdministrativeAndClerical, true, 0),
                (AdditionalClinicalServices, true, 0),
                (Other, false, 12),
            ]
        );
        assert_eq!(summary[0].mean_score, 4.0);
        assert_eq!(summary[1].mean_score, 0.0);
        assert_eq!(summary[3].mean_score, 3.0);
    }

    #[test]
    fn a_lone_withheld_group_takes_the_next_smallest_with_it() {
        let summary = summarise(
            &[
                count(EstatesAndAncillary, 40, 120),
                count(AdministrativeAndClerical, 3, 6),
                count(AdditionalClinicalServices, 15, 45),
                count(Other, 20, 60),
            ],
            11,
        );
        assert_eq!(
            shown(&summary),
            [
                (EstatesAndAncillary, false, 40),
                (AdministrativeAndClerical, true, 0),
                (AdditionalClinicalServices, true, 0),
                (Other, false, 20),
            ]
        );
    }

    #[test]
    fn a_lone_empty_group_hides_nothing_else() {
        let summary = summarise(
            &[
                count(EstatesAndAncillary, 20, 60),
                count(AdministrativeAndClerical, 20, 60),
                count(AdditionalClinicalServices, 20, 60),
            ],
            11,
        );
        let withheld: Vec<StaffGroup> = summary
            .iter()
            .filter(|s| s.suppressed)
            .map(|s| s.group)
            .collect();
        assert_eq!(withheld, [Other]);
    }

    #[test]
    fn empty_groups_are_withheld_without_hiding_others() {
        let summary = summarise(&[count(EstatesAndAncillary, 11, 55)], 11);
        assert_eq!(
            shown(&summary),
            [
                (EstatesAndAncillary, false, 11),
                (AdministrativeAndClerical, true, 0),
                (AdditionalClinicalServices, true, 0),
                (Other, true, 0),
            ]
        );
    }

    fn any_counts() -> impl Strategy<Value = Vec<GroupCount>> {
        proptest::collection::vec((0u64..30, 0u64..=4), StaffGroup::ALL.len()).prop_map(|rows| {
            StaffGroup::ALL
                .iter()
                .zip(rows)
                // Every response scores 1..=5, so the sum lies in n..=5n.
                .map(|(&group, (n, extra))| count(group, n, n + n * extra))
                .collect()
        })
    }

    proptest! {
        #[test]
        fn no_small_group_is_shown_or_derivable(counts in any_counts(), minimum in 0u32..20) {
            let summary = summarise(&counts, minimum);
            prop_assert_eq!(
                summary.iter().map(|s| s.group).collect::<Vec<_>>(),
                StaffGroup::ALL.to_vec()
            );
            let mut withheld = Vec::new();
            for (line, actual) in summary.iter().zip(&counts) {
                if line.suppressed {
                    prop_assert_eq!((line.responses, line.mean_score), (0, 0.0));
                    withheld.push(actual.responses);
                } else {
                    prop_assert!(line.responses >= u64::from(minimum));
                    prop_assert_eq!(line.responses, actual.responses);
                    if line.responses > 0 {
                        prop_assert!((1.0..=5.0).contains(&line.mean_score));
                    }
                }
            }
            // A lone withheld group with responses would be the total minus the visible groups.
            let visible = summary.len() - withheld.len();
            prop_assert!(!matches!(withheld[..], [n] if n > 0) || visible == 0);
        }
    }
}
