//! A closed survey's results: every question broken down by trust, site within trust, staff group
//! and band, with [suppression](valued_platform::suppression) applied, computed once at the close.
//!
//! The snapshot is the contract's own `GetResultsResponse` (stored in its wire form), so what is
//! stored is exactly what is served; free-text comments are added when served, from the screened
//! answers, into the cells that are shown.

use std::collections::HashMap;

use valued_platform::suppression::{total_shown, withhold};
use valued_proto::survey::v1 as pb;

use super::answers::{Sheet, Value};
use super::bands::Band;
use super::definition::{Definition, Demographics, Group, Kind, Question};
use super::staff_group::StaffGroup;

pub const NOT_GIVEN: &str = "Prefer not to say or not given";

/// What a survey is, for computing its results.
pub struct Facts<'a> {
    pub definition: &'a Definition,
    pub demographics: &'a Demographics,
    /// A trust survey's trust.
    pub fixed_trust: Option<&'a Group>,
    pub minimum: u32,
}

/// A free-text answer taken out of the responses at the close, with the one group it may be
/// shown under (its trust).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub question_id: String,
    pub trust: String,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
struct Tally {
    n: u64,
    counts: Vec<u64>,
}

impl Tally {
    fn new(width: usize) -> Self {
        Self {
            n: 0,
            counts: vec![0; width],
        }
    }
}

/// The groups of one breakdown: codes in report order, the last being "not given".
struct Groups {
    codes: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl Groups {
    fn new(listed: impl Iterator<Item = (String, String)>) -> Self {
        let mut codes: Vec<(String, String)> = listed.collect();
        codes.push((String::new(), NOT_GIVEN.to_owned()));
        let index = codes
            .iter()
            .enumerate()
            .map(|(i, (c, _))| (c.clone(), i))
            .collect();
        Self { codes, index }
    }

    fn of(&self, code: &str) -> usize {
        self.index
            .get(code)
            .copied()
            .unwrap_or(self.codes.len() - 1)
    }
}

fn width(q: &Question) -> usize {
    match q.kind {
        Kind::Agreement => 5,
        Kind::Recommend => 11,
        Kind::SingleChoice | Kind::MultipleChoice => q.options.len(),
        Kind::FreeText => 0,
    }
}

/// The keys and labels of a question's counts.
fn keys(q: &Question) -> Vec<(String, String)> {
    match q.kind {
        Kind::Agreement => [
            "Strongly disagree",
            "Disagree",
            "Neither agree nor disagree",
            "Agree",
            "Strongly agree",
        ]
        .iter()
        .enumerate()
        .map(|(i, l)| ((i + 1).to_string(), (*l).to_owned()))
        .collect(),
        Kind::Recommend => (0..=10).map(|i| (i.to_string(), i.to_string())).collect(),
        Kind::SingleChoice | Kind::MultipleChoice => q
            .options
            .iter()
            .map(|o| (o.id.clone(), o.label.clone()))
            .collect(),
        Kind::FreeText => Vec::new(),
    }
}

struct QuestionTallies {
    total: Tally,
    trusts: Vec<Tally>,
    sites: Vec<Vec<Tally>>,
    staff: Vec<Tally>,
    bands: Vec<Tally>,
}

/// Computes the results of `sheets` (every response of the survey) and takes out the free-text
/// answers, in the order given (the caller shuffles them before storing).
pub fn compute(
    facts: &Facts<'_>,
    sheets: impl IntoIterator<Item = Sheet>,
) -> (pb::GetResultsResponse, Vec<Comment>) {
    let questions: Vec<(&str, &Question)> = facts
        .definition
        .questions()
        .map(|(s, q)| (s.title.as_str(), q))
        .collect();
    let trusts = match facts.fixed_trust {
        Some(t) => Groups::new(std::iter::once((t.code.clone(), t.label.clone()))),
        None => Groups::new(
            facts
                .demographics
                .trusts
                .iter()
                .map(|t| (t.code.clone(), t.label.clone())),
        ),
    };
    let ask_sites = !facts.demographics.sites.is_empty();
    let sites: Vec<Groups> = trusts
        .codes
        .iter()
        .map(|(trust, _)| {
            Groups::new(
                facts
                    .demographics
                    .sites
                    .iter()
                    .filter(|s| &s.trust_code == trust)
                    .map(|s| (s.code.clone(), s.label.clone())),
            )
        })
        .collect();
    let staff = Groups::new(
        StaffGroup::ALL
            .iter()
            .map(|g| (g.slug().to_owned(), g.label().to_owned())),
    );
    let bands = Groups::new(
        Band::ALL
            .iter()
            .map(|b| (b.slug().to_owned(), b.label().to_owned())),
    );
    let option_index: Vec<HashMap<&str, usize>> = questions
        .iter()
        .map(|(_, q)| {
            q.options
                .iter()
                .enumerate()
                .map(|(i, o)| (o.id.as_str(), i))
                .collect()
        })
        .collect();

    let mut tallies: Vec<QuestionTallies> = questions
        .iter()
        .map(|(_, q)| {
            let w = width(q);
            QuestionTallies {
                total: Tally::new(w),
                trusts: vec![Tally::new(w); trusts.codes.len()],
                sites: sites
                    .iter()
                    .map(|g| vec![Tally::new(w); g.codes.len()])
                    .collect(),
                staff: vec![Tally::new(w); staff.codes.len()],
                bands: vec![Tally::new(w); bands.codes.len()],
            }
        })
        .collect();
    let mut comments = Vec::new();
    let mut responses: u64 = 0;

    for mut sheet in sheets {
        responses += 1;
        let t = trusts.of(&sheet.trust);
        let s = sites[t].of(&sheet.site);
        let g = staff.of(&sheet.staff_group);
        let b = bands.of(&sheet.band);
        for (qi, (_, q)) in questions.iter().enumerate() {
            let Some(value) = sheet.answers.remove(&q.id) else {
                continue;
            };
            let mut hits: [usize; 1] = [usize::MAX];
            let mut many: Vec<usize> = Vec::new();
            match (&value, q.kind) {
                (Value::Point(p), Kind::Agreement) if (1..=5).contains(p) => {
                    hits[0] = usize::from(*p) - 1;
                }
                (Value::Point(p), Kind::Recommend) if *p <= 10 => hits[0] = usize::from(*p),
                (Value::Options(ids), Kind::SingleChoice | Kind::MultipleChoice) => {
                    many = ids
                        .iter()
                        .filter_map(|id| option_index[qi].get(id.as_str()).copied())
                        .collect();
                    if many.is_empty() {
                        continue;
                    }
                }
                (Value::Text(text), Kind::FreeText) => comments.push(Comment {
                    question_id: q.id.clone(),
                    trust: trusts.codes[t].0.clone(),
                    text: text.clone(),
                }),
                _ => continue,
            }
            let qt = &mut tallies[qi];
            for tally in [
                &mut qt.total,
                &mut qt.trusts[t],
                &mut qt.sites[t][s],
                &mut qt.staff[g],
                &mut qt.bands[b],
            ] {
                tally.n += 1;
                for &k in hits.iter().filter(|&&k| k != usize::MAX).chain(&many) {
                    tally.counts[k] += 1;
                }
            }
        }
    }

    let survey_shown = total_shown(responses, facts.minimum);
    let reason_small = format!("fewer than {} responses", facts.minimum);
    let reason_cover = "withheld so that a small group cannot be worked out".to_owned();
    let results = questions
        .iter()
        .zip(&tallies)
        .map(|((section, q), qt)| {
            let keys = keys(q);
            let cell = |dimension: pb::Dimension,
                        (code, label): &(String, String),
                        parent: &str,
                        tally: &Tally,
                        withheld: bool|
             -> pb::Cell {
                let small = tally.n < u64::from(facts.minimum);
                pb::Cell {
                    dimension: dimension as i32,
                    code: code.clone(),
                    label: label.clone(),
                    parent_code: parent.to_owned(),
                    withheld,
                    withheld_reason: match (withheld, small) {
                        (false, _) => String::new(),
                        (true, true) => reason_small.clone(),
                        (true, false) => reason_cover.clone(),
                    },
                    responses: if withheld { 0 } else { tally.n },
                    counts: keys
                        .iter()
                        .zip(&tally.counts)
                        .map(|((key, label), &count)| pb::OptionCount {
                            key: key.clone(),
                            label: label.clone(),
                            count: if withheld { 0 } else { count },
                        })
                        .collect(),
                    score: if withheld { 0.0 } else { score(q.kind, tally) },
                    comments: Vec::new(),
                }
            };
            let total_ok = survey_shown && total_shown(qt.total.n, facts.minimum);
            let mut cells = vec![cell(
                pb::Dimension::Total,
                &(String::new(), "All responses".to_owned()),
                "",
                &qt.total,
                !total_ok,
            )];
            // A trust survey's one trust is the total: its sites hang off the total.
            let trust_withheld = if facts.fixed_trust.is_some() {
                vec![!total_ok; 1]
            } else {
                let counts: Vec<u64> = qt.trusts.iter().map(|t| t.n).collect();
                let w = withhold(&counts, total_ok, facts.minimum);
                for (i, group) in trusts.codes.iter().enumerate() {
                    cells.push(cell(pb::Dimension::Trust, group, "", &qt.trusts[i], w[i]));
                }
                w
            };
            if ask_sites {
                for (t, (trust, _)) in trusts.codes.iter().enumerate() {
                    if trust.is_empty() {
                        // Respondents who did not give their trust were not asked a site.
                        continue;
                    }
                    let counts: Vec<u64> = qt.sites[t].iter().map(|s| s.n).collect();
                    let w = withhold(&counts, !trust_withheld[t], facts.minimum);
                    for (i, group) in sites[t].codes.iter().enumerate() {
                        cells.push(cell(
                            pb::Dimension::Site,
                            group,
                            trust,
                            &qt.sites[t][i],
                            w[i],
                        ));
                    }
                }
            }
            for (asked, dimension, groups, list) in [
                (
                    facts.demographics.ask_staff_group,
                    pb::Dimension::StaffGroup,
                    &staff,
                    &qt.staff,
                ),
                (
                    facts.demographics.ask_band,
                    pb::Dimension::Band,
                    &bands,
                    &qt.bands,
                ),
            ] {
                if !asked {
                    continue;
                }
                let counts: Vec<u64> = list.iter().map(|t| t.n).collect();
                let w = withhold(&counts, total_ok, facts.minimum);
                for (i, group) in groups.codes.iter().enumerate() {
                    cells.push(cell(dimension, group, "", &list[i], w[i]));
                }
            }
            pb::QuestionResult {
                question_id: q.id.clone(),
                kind: kind_to_pb(q.kind) as i32,
                text: q.text.clone(),
                standard_key: q.standard_key.clone(),
                section_title: (*section).to_owned(),
                cells,
            }
        })
        .collect();
    (
        pb::GetResultsResponse {
            survey_id: String::new(),
            title: String::new(),
            closed_at: None,
            responses: if survey_shown { responses } else { 0 },
            total_withheld: !survey_shown,
            minimum_group_size: facts.minimum,
            questions: results,
        },
        comments,
    )
}

pub fn kind_to_pb(kind: Kind) -> pb::QuestionKind {
    match kind {
        Kind::Agreement => pb::QuestionKind::Agreement,
        Kind::SingleChoice => pb::QuestionKind::SingleChoice,
        Kind::MultipleChoice => pb::QuestionKind::MultipleChoice,
        Kind::Recommend => pb::QuestionKind::Recommend,
        Kind::FreeText => pb::QuestionKind::FreeText,
    }
}

/// Agreement: the share agreeing (4 or 5), 0 to 100. Recommend: the net promoter score (9–10
/// minus 0–6, in percentage points). Others: none.
fn score(kind: Kind, tally: &Tally) -> f64 {
    if tally.n == 0 {
        return 0.0;
    }
    let n = tally.n as f64;
    match kind {
        Kind::Agreement => (tally.counts[3] + tally.counts[4]) as f64 * 100.0 / n,
        Kind::Recommend => {
            let promoters: u64 = tally.counts[9..=10].iter().sum();
            let detractors: u64 = tally.counts[0..=6].iter().sum();
            (promoters as f64 - detractors as f64) * 100.0 / n
        }
        _ => 0.0,
    }
}

/// The results as CSV: one row per question and cell, withheld cells saying so, never a number.
pub fn csv(results: &pb::GetResultsResponse) -> String {
    let mut out = String::from(
        "question,section,dimension,trust,group,responses,score,answer,count,comments\n",
    );
    for q in &results.questions {
        for c in &q.cells {
            let dimension = match pb::Dimension::try_from(c.dimension) {
                Ok(pb::Dimension::Total) => "total",
                Ok(pb::Dimension::Trust) => "trust",
                Ok(pb::Dimension::Site) => "site",
                Ok(pb::Dimension::StaffGroup) => "staff group",
                Ok(pb::Dimension::Band) => "band",
                _ => "",
            };
            let trust = if c.dimension == pb::Dimension::Site as i32 {
                c.parent_code.as_str()
            } else {
                ""
            };
            let base = [
                field(&q.text),
                field(&q.section_title),
                field(dimension),
                field(trust),
                field(&c.label),
            ]
            .join(",");
            if c.withheld {
                out.push_str(&format!("{base},withheld,withheld,,,\n"));
                continue;
            }
            let comments = field(&c.comments.join("\n---\n"));
            if c.counts.is_empty() {
                out.push_str(&format!("{base},{},,,,{comments}\n", c.responses));
            }
            for (i, count) in c.counts.iter().enumerate() {
                let score = if i == 0
                    && matches!(q.kind, k if k == pb::QuestionKind::Agreement as i32 || k == pb::QuestionKind::Recommend as i32)
                {
                    format!("{:.1}", c.score)
                } else {
                    String::new()
                };
                out.push_str(&format!(
                    "{base},{},{score},{},{},\n",
                    c.responses,
                    field(&count.label),
                    count.count
                ));
            }
        }
    }
    out
}

/// One CSV field, quoted when it needs to be, and defused against spreadsheet formulas.
fn field(value: &str) -> String {
    let mut value = value.to_owned();
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        value.insert(0, '\'');
    }
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::domain::definition::{Demographics, Group, feeling_valued};

    fn survey(trusts: usize) -> (Definition, Demographics) {
        (
            Definition {
                sections: vec![feeling_valued()],
            },
            Demographics {
                trusts: (0..trusts)
                    .map(|i| Group {
                        code: format!("T{i}"),
                        label: format!("Trust {i}"),
                    })
                    .collect(),
                sites: Vec::new(),
                ask_staff_group: true,
                ask_band: true,
            },
        )
    }

    fn sheet(d: &Definition, trust: &str, group: &str, band: &str, point: u8) -> Sheet {
        let mut answers = BTreeMap::new();
        for (_, q) in d.questions() {
            if q.kind == Kind::Agreement {
                answers.insert(q.id.clone(), Value::Point(point));
            }
        }
        Sheet {
            trust: trust.into(),
            site: String::new(),
            staff_group: group.into(),
            band: band.into(),
            answers,
        }
    }

    #[test]
    fn a_survey_under_the_minimum_shows_nothing() {
        let (d, demo) = survey(2);
        let facts = Facts {
            definition: &d,
            demographics: &demo,
            fixed_trust: None,
            minimum: 11,
        };
        let sheets: Vec<_> = (0..10)
            .map(|_| sheet(&d, "T0", "other", "band-2", 4))
            .collect();
        let (r, _) = compute(&facts, sheets);
        assert!(r.total_withheld);
        assert_eq!(r.responses, 0);
        assert!(
            r.questions
                .iter()
                .flat_map(|q| &q.cells)
                .all(|c| c.withheld && c.responses == 0)
        );
    }

    #[test]
    fn a_lone_small_trust_takes_the_next_smallest_with_it() {
        let (d, demo) = survey(3);
        let facts = Facts {
            definition: &d,
            demographics: &demo,
            fixed_trust: None,
            minimum: 11,
        };
        let mut sheets = Vec::new();
        for (trust, n) in [("T0", 30), ("T1", 12), ("T2", 4)] {
            for _ in 0..n {
                sheets.push(sheet(&d, trust, "other", "band-2", 5));
            }
        }
        let (r, _) = compute(&facts, sheets);
        assert_eq!(r.responses, 46);
        let q = &r.questions[0];
        let shown: Vec<_> = q
            .cells
            .iter()
            .filter(|c| c.dimension == pb::Dimension::Trust as i32)
            .map(|c| (c.code.as_str(), c.withheld, c.responses))
            .collect();
        assert_eq!(
            shown,
            [
                ("T0", false, 30),
                ("T1", true, 0),
                ("T2", true, 0),
                ("", true, 0)
            ]
        );
        assert_eq!(q.cells[0].responses, 46);
        assert!((q.cells[0].score - 100.0).abs() < 1e-9);
        let csv = csv(&r);
        assert!(csv.contains("trust,,Trust 1,withheld,withheld"));
    }

    proptest! {
        /// Over random groupings, no shown figure of any breakdown reveals a group under the
        /// minimum, directly or as the total minus the shown cells.
        #[test]
        fn no_group_under_the_minimum_is_shown_or_derivable(
            people in prop::collection::vec((0usize..5, 0usize..5, 0usize..9), 0..150),
        ) {
            let (d, demo) = survey(4);
            let facts = Facts { definition: &d, demographics: &demo, fixed_trust: None, minimum: 11 };
            let trust_codes = ["T0", "T1", "T2", "T3", ""];
            let sheets: Vec<_> = people
                .iter()
                .map(|&(t, g, b)| {
                    sheet(&d, trust_codes[t], StaffGroup::ALL.get(g).map_or("", |g| g.slug()), Band::ALL[b].slug(), 3)
                })
                .collect();
            let n = sheets.len() as u64;
            let (r, _) = compute(&facts, sheets);
            for q in &r.questions {
                let total = &q.cells[0];
                if total.withheld {
                    prop_assert!(q.cells.iter().all(|c| c.withheld));
                    continue;
                }
                prop_assert!(total.responses >= 11);
                // The true size of every group, to check what a reader could work out.
                let truth = |dimension: pb::Dimension, code: &str| -> u64 {
                    people.iter().filter(|&&(t, g, b)| match dimension {
                        pb::Dimension::Trust => trust_codes[t] == code,
                        pb::Dimension::StaffGroup => StaffGroup::ALL.get(g).map_or("", |g| g.slug()) == code,
                        _ => Band::ALL[b].slug() == code,
                    }).count() as u64
                };
                for dimension in [pb::Dimension::Trust, pb::Dimension::StaffGroup, pb::Dimension::Band] {
                    let cells: Vec<_> = q.cells.iter().filter(|c| c.dimension == dimension as i32).collect();
                    prop_assert!(cells.iter().all(|c| c.withheld || c.responses >= 11));
                    let shown: u64 = cells.iter().filter(|c| !c.withheld).map(|c| c.responses).sum();
                    let hidden = total.responses - shown;
                    // What a reader can work out: the withheld cells' sum, which must not be a
                    // small group, nor one group's own count.
                    prop_assert!(hidden == 0 || hidden >= 11, "hidden sum {} of {}", hidden, n);
                    let hidden_groups = cells
                        .iter()
                        .filter(|c| c.withheld && truth(dimension, &c.code) > 0)
                        .count();
                    prop_assert!(hidden == 0 || hidden_groups >= 2, "one group alone withheld");
                    for c in cells.iter().filter(|c| !c.withheld) {
                        prop_assert_eq!(c.responses, truth(dimension, &c.code));
                    }
                }
            }
        }
    }
}
