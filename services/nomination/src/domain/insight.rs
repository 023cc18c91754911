//! The Insight dashboard's figures: how many nominations were received, confirmed by their
//! nominators, and announced as finalists and winners, by month, staff group and band, for a
//! trust, a region or the whole country; aggregate only, every count withheld as
//! [`valued_platform::suppression`] says.
//!
//! Each dashboard is one part of one hierarchy: the country's regions, each region's trusts, and
//! across them the months (staff groups, bands). Whoever may see a region's dashboard may see each
//! of its trusts', and the region's figures are the sums of theirs, so a small trust's month could
//! be worked out as the region's month minus its neighbours'. The figures are therefore decided
//! together, top down: first the country's table of regions by month, whose row totals are the
//! regions' totals and column totals the country's months; then each region's table of trusts by
//! month, whose column totals are the region's row of the country's table, shown or withheld as
//! decided there. Each dashboard shows its own part. A trust's figure may so be withheld to cover
//! a small neighbour: the price of nobody being worked out from two dashboards side by side.
//!
//! The four measures are counted and withheld apart. What is not protected: differences between
//! measures of one group (received minus confirmed is the nominations never confirmed; finalists
//! and winners are announced publicly anyway).

use std::collections::{HashMap, HashSet};

use valued_platform::suppression::{self, TableWithheld, total_shown, withhold, withhold_tables};
use valued_proto::nomination::v1 as pb;

use super::{Band, StaffGroup};

/// The smallest count of nominations a dashboard shows.
pub const MINIMUM: u32 = suppression::MINIMUM_GROUP_SIZE;

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// A nomination submitted (not a copy forwarded from a trust's winners), in its month.
    Received,
    /// A nomination its nominator confirmed, in the month they did.
    Confirmed,
    /// A finalist announced, in the month it was.
    Finalist,
    /// A winner announced, in the month it was.
    Winner,
}

impl Measure {
    const ALL: [Self; 4] = [
        Self::Received,
        Self::Confirmed,
        Self::Finalist,
        Self::Winner,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// One thing counted, where and when it belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub measure: Measure,
    pub trust: String,
    /// Year and month, UK time.
    pub month: (i32, u32),
    /// A `StaffGroup` slug, or anything else for "not given".
    pub staff_group: String,
    /// A `Band` slug, or anything else for "not given".
    pub band: String,
}

/// The organisations the figures are arranged by.
#[derive(Debug, Clone, Default)]
pub struct Organisations {
    /// Regions: code and name.
    pub regions: Vec<(String, String)>,
    /// Trusts: code, name and region code (empty: in no region).
    pub trusts: Vec<(String, String, String)>,
}

/// Whose dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Trust(String),
    Region(String),
    National,
}

const DIMENSIONS: [pb::InsightDimension; 3] = [
    pb::InsightDimension::Month,
    pb::InsightDimension::StaffGroup,
    pb::InsightDimension::Band,
];

const NOT_GIVEN: &str = "Not given";
const NO_REGION: &str = "Not in a region";

/// A list of groups: codes and labels in order, and where each code is.
struct Groups {
    listed: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl Groups {
    fn new(listed: Vec<(String, String)>) -> Self {
        let index = listed
            .iter()
            .enumerate()
            .map(|(i, (code, _))| (code.clone(), i))
            .collect();
        Self { listed, index }
    }

    /// `code`'s place; an unknown code is "not given" (the last group).
    fn of(&self, code: &str) -> usize {
        self.index
            .get(code)
            .copied()
            .unwrap_or(self.listed.len().saturating_sub(1))
    }
}

/// "November 2026".
fn month_label((year, month): (i32, u32)) -> String {
    chrono::NaiveDate::from_ymd_opt(year, month, 1)
        .map(|first| first.format("%B %Y").to_string())
        .unwrap_or_default()
}

/// Every month from the first fact's to the last's.
fn months(facts: &[Fact]) -> Groups {
    let first = facts.iter().map(|f| f.month).min();
    let last = facts.iter().map(|f| f.month).max();
    let mut listed = Vec::new();
    if let (Some(mut at), Some(last)) = (first, last) {
        while at <= last {
            listed.push((format!("{:04}-{:02}", at.0, at.1), month_label(at)));
            at = if at.1 >= 12 {
                (at.0 + 1, 1)
            } else {
                (at.0, at.1 + 1)
            };
        }
    }
    Groups::new(listed)
}

fn staff_groups() -> Groups {
    let mut listed: Vec<(String, String)> = StaffGroup::ALL
        .iter()
        .map(|g| (g.slug().to_owned(), g.label().to_owned()))
        .collect();
    listed.push((String::new(), NOT_GIVEN.to_owned()));
    Groups::new(listed)
}

fn bands() -> Groups {
    let mut listed: Vec<(String, String)> = Band::ALL
        .iter()
        .map(|b| (b.slug().to_owned(), b.label().to_owned()))
        .collect();
    listed.push((String::new(), NOT_GIVEN.to_owned()));
    Groups::new(listed)
}

/// One measure's counts and what is withheld of them, as one dashboard shows them.
#[derive(Debug, Default)]
struct Shown {
    total: (u64, bool),
    /// Per dimension, per group.
    dimensions: Vec<Vec<(u64, bool)>>,
    /// A region's trusts or the country's regions.
    organisations: Vec<(u64, bool)>,
}

fn pairs(values: &[u64], withheld: &[bool]) -> Vec<(u64, bool)> {
    values
        .iter()
        .copied()
        .zip(withheld.iter().copied())
        .collect()
}

fn shown_of(withheld: &[bool]) -> Vec<bool> {
    withheld.iter().map(|&w| !w).collect()
}

fn row_totals(table: &[Vec<u64>]) -> Vec<u64> {
    table.iter().map(|row| row.iter().sum()).collect()
}

/// One table per dimension, of the same rows, withheld together.
fn tables(
    cells: &[Vec<Vec<u64>>],
    columns_shown: &[Vec<bool>],
    parent_shown: bool,
) -> Vec<TableWithheld> {
    let pairs: Vec<(&[Vec<u64>], &[bool])> = cells
        .iter()
        .zip(columns_shown)
        .map(|(c, s)| (c.as_slice(), s.as_slice()))
        .collect();
    withhold_tables(&pairs, parent_shown, MINIMUM)
}

/// The dashboard of `scope`, or `None` when `organisations` has no such trust or region.
pub fn dashboard(
    organisations: &Organisations,
    facts: &[Fact],
    scope: &Scope,
) -> Option<pb::GetInsightResponse> {
    // Regions (the last for trusts in none, or unknown), and trusts (any a fact names that the
    // list does not know, in no region).
    let mut regions = organisations.regions.clone();
    regions.push((String::new(), NO_REGION.to_owned()));
    let regions = Groups::new(regions);
    let mut trusts = organisations.trusts.clone();
    let mut known: HashSet<String> = trusts.iter().map(|(code, _, _)| code.clone()).collect();
    for fact in facts {
        if known.insert(fact.trust.clone()) {
            trusts.push((fact.trust.clone(), fact.trust.clone(), String::new()));
        }
    }
    let trust_index: HashMap<&str, usize> = trusts
        .iter()
        .enumerate()
        .map(|(i, (code, _, _))| (code.as_str(), i))
        .collect();
    let region_of: Vec<usize> = trusts
        .iter()
        .map(|(_, _, region)| regions.of(region))
        .collect();
    // Each region's trusts, and each trust's place among them.
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); regions.listed.len()];
    let mut place = vec![0; trusts.len()];
    for (t, &r) in region_of.iter().enumerate() {
        place[t] = members[r].len();
        members[r].push(t);
    }

    let groups = [months(facts), staff_groups(), bands()];
    // counts[measure][dimension][trust][group]
    let mut counts: Vec<Vec<Vec<Vec<u64>>>> = Measure::ALL
        .iter()
        .map(|_| {
            groups
                .iter()
                .map(|g| vec![vec![0u64; g.listed.len()]; trusts.len()])
                .collect()
        })
        .collect();
    for fact in facts {
        let Some(&t) = trust_index.get(fact.trust.as_str()) else {
            continue;
        };
        let month = format!("{:04}-{:02}", fact.month.0, fact.month.1);
        let at = [
            groups[0].of(&month),
            groups[1].of(&fact.staff_group),
            groups[2].of(&fact.band),
        ];
        for (d, &g) in at.iter().enumerate() {
            counts[fact.measure.index()][d][t][g] += 1;
        }
    }

    let (name, scope_name, scope_code) = match scope {
        Scope::Trust(code) => {
            let t = *trust_index.get(code.as_str())?;
            (trusts[t].1.clone(), "trust", code.clone())
        }
        Scope::Region(code) => {
            let r = *regions.index.get(code.as_str())?;
            if code.is_empty() {
                return None;
            }
            (regions.listed[r].1.clone(), "region", code.clone())
        }
        Scope::National => ("England".to_owned(), "national", String::new()),
    };

    let mut shown: Vec<Shown> = Vec::new();
    for measure in Measure::ALL {
        let by_trust = &counts[measure.index()];
        // The country's tables: regions by group, one per dimension.
        let country: Vec<Vec<Vec<u64>>> = by_trust
            .iter()
            .zip(&groups)
            .map(|(cells, listed)| {
                members
                    .iter()
                    .map(|trusts_of| {
                        (0..listed.listed.len())
                            .map(|g| trusts_of.iter().map(|&t| cells[t][g]).sum())
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let columns: Vec<Vec<u64>> = country
            .iter()
            .zip(&groups)
            .map(|(table, listed)| {
                (0..listed.listed.len())
                    .map(|g| table.iter().map(|row| row[g]).sum())
                    .collect()
            })
            .collect();
        let grand: u64 = columns.first().map_or(0, |c| c.iter().sum());
        let grand_shown = total_shown(grand, MINIMUM);
        let columns_withheld: Vec<Vec<bool>> = columns
            .iter()
            .map(|c| withhold(c, grand_shown, MINIMUM))
            .collect();
        let columns_shown: Vec<Vec<bool>> = columns_withheld.iter().map(|w| shown_of(w)).collect();
        let national = tables(&country, &columns_shown, grand_shown);
        let region_totals = row_totals(&country[0]);
        // A region's tables: its trusts by group, under its row of the country's.
        let region_tables = |r: usize| -> (Vec<Vec<Vec<u64>>>, Vec<TableWithheld>) {
            let cells: Vec<Vec<Vec<u64>>> = by_trust
                .iter()
                .map(|table| members[r].iter().map(|&t| table[t].clone()).collect())
                .collect();
            let shown: Vec<Vec<bool>> = national.iter().map(|n| shown_of(&n.cells[r])).collect();
            let withheld = tables(&cells, &shown, !national[0].rows[r]);
            (cells, withheld)
        };
        let view = match scope {
            Scope::National => Shown {
                total: (grand, !grand_shown),
                dimensions: columns
                    .iter()
                    .zip(&columns_withheld)
                    .map(|(c, w)| pairs(c, w))
                    .collect(),
                organisations: pairs(&region_totals, &national[0].rows),
            },
            Scope::Region(code) => {
                let r = regions.of(code);
                let (cells, withheld) = region_tables(r);
                Shown {
                    total: (region_totals[r], national[0].rows[r]),
                    dimensions: country
                        .iter()
                        .zip(&national)
                        .map(|(table, n)| pairs(&table[r], &n.cells[r]))
                        .collect(),
                    organisations: pairs(&row_totals(&cells[0]), &withheld[0].rows),
                }
            }
            Scope::Trust(code) => {
                let t = trust_index.get(code.as_str()).copied().unwrap_or(0);
                let (cells, withheld) = region_tables(region_of[t]);
                let i = place[t];
                Shown {
                    total: (row_totals(&cells[0])[i], withheld[0].rows[i]),
                    dimensions: cells
                        .iter()
                        .zip(&withheld)
                        .map(|(table, w)| pairs(&table[i], &w.cells[i]))
                        .collect(),
                    organisations: Vec::new(),
                }
            }
        };
        shown.push(view);
    }

    let row = |code: &str, label: &str, of: &dyn Fn(&Shown) -> (u64, bool)| pb::InsightRow {
        code: code.to_owned(),
        label: label.to_owned(),
        received: Some(count(of(&shown[0]))),
        confirmed: Some(count(of(&shown[1]))),
        finalists: Some(count(of(&shown[2]))),
        winners: Some(count(of(&shown[3]))),
    };
    let mut breakdowns: Vec<pb::InsightBreakdown> = DIMENSIONS
        .iter()
        .zip(&groups)
        .enumerate()
        .map(|(d, (dimension, listed))| pb::InsightBreakdown {
            dimension: *dimension as i32,
            rows: listed
                .listed
                .iter()
                .enumerate()
                .map(|(g, (code, label))| row(code, label, &|s: &Shown| s.dimensions[d][g]))
                .collect(),
        })
        .collect();
    match scope {
        Scope::National => breakdowns.push(pb::InsightBreakdown {
            dimension: pb::InsightDimension::Region as i32,
            rows: regions
                .listed
                .iter()
                .enumerate()
                // Trusts in no region are listed only when there are any.
                .filter(|(r, _)| !members[*r].is_empty() || *r + 1 < regions.listed.len())
                .map(|(r, (code, label))| row(code, label, &|s: &Shown| s.organisations[r]))
                .collect(),
        }),
        Scope::Region(code) => breakdowns.push(pb::InsightBreakdown {
            dimension: pb::InsightDimension::Trust as i32,
            rows: members[regions.of(code)]
                .iter()
                .enumerate()
                .map(|(i, &t)| row(&trusts[t].0, &trusts[t].1, &|s: &Shown| s.organisations[i]))
                .collect(),
        }),
        Scope::Trust(_) => {}
    }
    Some(pb::GetInsightResponse {
        scope: scope_name.to_owned(),
        scope_code,
        name,
        total: Some(row("", "All nominations", &|s: &Shown| s.total)),
        breakdowns,
        minimum_group_size: MINIMUM,
    })
}

/// One count as the contract carries it: a withheld one is 0, with why.
fn count((value, withheld): (u64, bool)) -> pb::InsightCount {
    let reason = if !withheld {
        String::new()
    } else if value < u64::from(MINIMUM) {
        format!("fewer than {MINIMUM}")
    } else {
        "withheld so that a small group cannot be worked out".to_owned()
    };
    pb::InsightCount {
        value: if withheld { 0 } else { value },
        withheld,
        withheld_reason: reason,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn organisations() -> Organisations {
        let region = |code: &str, name: &str| (code.to_owned(), name.to_owned());
        let trust = |code: &str, region: &str| {
            (code.to_owned(), format!("Trust {code}"), region.to_owned())
        };
        Organisations {
            regions: vec![region("R1", "North"), region("R2", "South")],
            trusts: vec![
                trust("A", "R1"),
                trust("B", "R1"),
                trust("C", "R1"),
                trust("D", "R2"),
                trust("E", "R2"),
            ],
        }
    }

    fn facts(
        measure: Measure,
        trust: &str,
        month: u32,
        group: &str,
        band: &str,
        n: usize,
    ) -> Vec<Fact> {
        (0..n)
            .map(|_| Fact {
                measure,
                trust: trust.to_owned(),
                month: (2026, month),
                staff_group: group.to_owned(),
                band: band.to_owned(),
            })
            .collect()
    }

    fn breakdown(
        d: &pb::GetInsightResponse,
        dimension: pb::InsightDimension,
    ) -> Vec<(String, Option<u64>)> {
        d.breakdowns
            .iter()
            .find(|b| b.dimension == dimension as i32)
            .unwrap()
            .rows
            .iter()
            .map(|r| (r.code.clone(), figure(r.received.as_ref())))
            .collect()
    }

    fn figure(count: Option<&pb::InsightCount>) -> Option<u64> {
        count.filter(|c| !c.withheld).map(|c| c.value)
    }

    #[test]
    fn a_trusts_dashboard_counts_its_own_nominations_by_month_group_and_band() {
        let mut all = facts(
            Measure::Received,
            "A",
            10,
            "estates-and-ancillary",
            "band-2",
            12,
        );
        all.extend(facts(
            Measure::Confirmed,
            "A",
            11,
            "estates-and-ancillary",
            "band-2",
            12,
        ));
        all.extend(facts(
            Measure::Received,
            "B",
            11,
            "administrative-and-clerical",
            "band-3",
            15,
        ));
        all.extend(facts(Measure::Received, "D", 10, "other", "", 20));
        let a = dashboard(&organisations(), &all, &Scope::Trust("A".into())).unwrap();
        let total = a.total.as_ref().unwrap();
        assert_eq!(figure(total.received.as_ref()), Some(12));
        assert_eq!(figure(total.confirmed.as_ref()), Some(12));
        assert_eq!(figure(total.finalists.as_ref()), None);
        assert_eq!(
            total.finalists.as_ref().unwrap().withheld_reason,
            "fewer than 11"
        );
        assert_eq!(
            breakdown(&a, pb::InsightDimension::Month),
            [
                ("2026-10".to_owned(), Some(12)),
                ("2026-11".to_owned(), None)
            ]
        );
        let groups = breakdown(&a, pb::InsightDimension::StaffGroup);
        assert_eq!(groups[0], ("estates-and-ancillary".to_owned(), Some(12)));
        assert!(groups[1..].iter().all(|(_, v)| v.is_none()));
        assert_eq!(
            breakdown(&a, pb::InsightDimension::Band)[1],
            ("band-2".to_owned(), Some(12))
        );
        assert!(
            a.breakdowns
                .iter()
                .all(|b| b.dimension != pb::InsightDimension::Trust as i32)
        );

        let country = dashboard(&organisations(), &all, &Scope::National).unwrap();
        assert_eq!(
            figure(country.total.as_ref().unwrap().received.as_ref()),
            Some(47)
        );
        assert_eq!(
            breakdown(&country, pb::InsightDimension::Region),
            [("R1".to_owned(), Some(27)), ("R2".to_owned(), Some(20))]
        );
        let north = dashboard(&organisations(), &all, &Scope::Region("R1".into())).unwrap();
        assert_eq!(north.name, "North");
        assert_eq!(
            breakdown(&north, pb::InsightDimension::Trust),
            [
                ("A".to_owned(), Some(12)),
                ("B".to_owned(), Some(15)),
                ("C".to_owned(), None)
            ]
        );
    }

    #[test]
    fn a_small_trust_is_covered_by_its_neighbour_on_every_dashboard() {
        let mut all = facts(Measure::Received, "A", 10, "other", "band-1", 30);
        all.extend(facts(Measure::Received, "B", 10, "other", "band-1", 5));
        all.extend(facts(Measure::Received, "D", 10, "other", "band-1", 40));
        let north = dashboard(&organisations(), &all, &Scope::Region("R1".into())).unwrap();
        assert_eq!(
            figure(north.total.as_ref().unwrap().received.as_ref()),
            Some(35)
        );
        assert_eq!(
            breakdown(&north, pb::InsightDimension::Trust),
            [
                ("A".to_owned(), None),
                ("B".to_owned(), None),
                ("C".to_owned(), None)
            ]
        );
        let a = dashboard(&organisations(), &all, &Scope::Trust("A".into())).unwrap();
        let received = a.total.as_ref().unwrap().received.clone().unwrap();
        assert!(received.withheld && received.value == 0);
        assert_eq!(
            received.withheld_reason,
            "withheld so that a small group cannot be worked out"
        );
        assert!(
            a.breakdowns.iter().flat_map(|b| &b.rows).all(|r| r
                .received
                .as_ref()
                .unwrap()
                .withheld)
        );
    }

    #[test]
    fn an_unknown_scope_has_no_dashboard() {
        assert!(dashboard(&organisations(), &[], &Scope::Trust("Z".into())).is_none());
        assert!(dashboard(&organisations(), &[], &Scope::Region("R9".into())).is_none());
        let empty = dashboard(&organisations(), &[], &Scope::National).unwrap();
        assert!(breakdown(&empty, pb::InsightDimension::Month).is_empty());
    }

    /// What a reader of the parent's figure and its parts' shown figures learns: the withheld
    /// parts' sum, which must be zero, or at least the minimum and shared by two non-empty parts;
    /// and no shown part is under the minimum.
    fn safe(parent: Option<u64>, parts: &[(u64, Option<u64>)]) -> Result<(), TestCaseError> {
        let minimum = u64::from(MINIMUM);
        for (truth, shown) in parts {
            if let Some(shown) = shown {
                prop_assert_eq!(shown, truth);
                prop_assert!(*shown >= minimum);
            }
        }
        if let Some(parent) = parent {
            let hidden: u64 = parent - parts.iter().filter_map(|(_, s)| *s).sum::<u64>();
            let hidden_parts = parts.iter().filter(|(t, s)| s.is_none() && *t > 0).count();
            prop_assert!(
                hidden == 0 || (hidden >= minimum && hidden_parts >= 2),
                "hidden {} in {} parts of {:?}",
                hidden,
                hidden_parts,
                parts
            );
        }
        Ok(())
    }

    proptest! {
        /// Over random nominations, reading every dashboard side by side (the country's, each
        /// region's, each trust's), no count under the minimum is shown or can be worked out by
        /// subtraction: not within one dashboard, nor a trust's month from its region's.
        #[test]
        fn no_small_group_can_be_worked_out_across_dashboards(
            people in prop::collection::vec((0usize..5, 1u32..4, 0usize..5), 0..160),
        ) {
            let orgs = organisations();
            let all: Vec<Fact> = people
                .iter()
                .map(|&(t, month, g)| Fact {
                    measure: Measure::Received,
                    trust: orgs.trusts[t].0.clone(),
                    month: (2026, month),
                    staff_group: StaffGroup::ALL.get(g).map_or("", |g| g.slug()).to_owned(),
                    band: String::new(),
                })
                .collect();
            let truth = |trusts: &[&str], d: pb::InsightDimension, code: &str| -> u64 {
                all.iter()
                    .filter(|f| trusts.contains(&f.trust.as_str()))
                    .filter(|f| match d {
                        pb::InsightDimension::Month => format!("{:04}-{:02}", f.month.0, f.month.1) == code,
                        pb::InsightDimension::StaffGroup => f.staff_group == code,
                        pb::InsightDimension::Band => f.band == code,
                        _ => true,
                    })
                    .count() as u64
            };
            let view = |scope: Scope| dashboard(&orgs, &all, &scope).unwrap();
            let country = view(Scope::National);
            let regions = [("R1", vec!["A", "B", "C"]), ("R2", vec!["D", "E"])];
            let every: Vec<&str> = vec!["A", "B", "C", "D", "E"];
            for d in DIMENSIONS {
                let rows = breakdown(&country, d);
                let parts: Vec<(u64, Option<u64>)> = rows.iter().map(|(c, s)| (truth(&every, d, c), *s)).collect();
                safe(figure(country.total.as_ref().unwrap().received.as_ref()), &parts)?;
                for (r, (region, trusts)) in regions.iter().enumerate() {
                    let dashboard = view(Scope::Region((*region).to_owned()));
                    let region_rows = breakdown(&dashboard, d);
                    let trust_rows: Vec<Vec<(String, Option<u64>)>> = trusts
                        .iter()
                        .map(|t| breakdown(&view(Scope::Trust((*t).to_owned())), d))
                        .collect();
                    // A region's month is its trusts' months added up.
                    for (g, (code, shown)) in region_rows.iter().enumerate() {
                        let parts: Vec<(u64, Option<u64>)> = trusts
                            .iter()
                            .zip(&trust_rows)
                            .map(|(t, rows)| (truth(&[t], d, code), rows[g].1))
                            .collect();
                        safe(*shown, &parts)?;
                    }
                    let region_total = figure(dashboard.total.as_ref().unwrap().received.as_ref());
                    let by_region = breakdown(&country, pb::InsightDimension::Region);
                    prop_assert_eq!(by_region[r].1, region_total);
                    let parts: Vec<(u64, Option<u64>)> = region_rows.iter().map(|(c, s)| (truth(trusts, d, c), *s)).collect();
                    safe(region_total, &parts)?;
                }
            }
        }
    }
}
