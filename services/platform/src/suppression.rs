//! Which figures about people a report may show: the NHS convention of withholding any group under
//! the minimum (11 by default), with complementary suppression so that nothing withheld can be
//! worked out by subtraction from what is shown. Survey results and the Insight dashboard's
//! nomination counts both go through it.
//!
//! The reader is assumed to know every shown figure, the parent's count (a survey's total, a
//! trust's count for its sites, the number of nominations a breakdown splits) when it is shown, and
//! that the cells of a partition add up to it. For one partition (say every trust of one question)
//! the withheld cells' sum is then known exactly. So:
//!
//! - a cell is shown only with at least `minimum` people;
//! - the withheld *non-empty* cells must be none, or at least two that add up to at least
//!   `minimum`: one alone would be its own count, and a sum under the minimum is itself a small
//!   group. An empty cell (nobody) is never counted as cover: it is withheld like any small
//!   cell, but withholding it hides nobody, and a reader who learns it was empty learns that the
//!   whole withheld sum sits in the others;
//! - otherwise the next-smallest shown cells are withheld too, until that holds or the whole
//!   partition is withheld (whose sum is then the parent's count, itself at least the minimum or
//!   withheld);
//! - a withheld parent withholds every cell under it (sites of a withheld trust).

/// The smallest group of people a report shows, unless a setting raises it.
pub const MINIMUM_GROUP_SIZE: u32 = 11;

/// Decides which cells of one partition to withhold. `cells` are the counts of every group of the
/// partition (empty groups included); `parent_shown` says whether the count they add up to is
/// shown. Returns one flag per cell, `true` for withheld.
pub fn withhold(cells: &[u64], parent_shown: bool, minimum: u32) -> Vec<bool> {
    let minimum = u64::from(minimum.max(1));
    if !parent_shown {
        return vec![true; cells.len()];
    }
    let mut withheld: Vec<bool> = cells.iter().map(|&c| c < minimum).collect();
    cover(cells, &mut withheld, minimum);
    withheld
}

/// Withholds the smallest cells still shown until the withheld non-empty cells of one partition
/// are none, or at least two adding up to at least `minimum`. Says whether it withheld any.
fn cover(cells: &[u64], withheld: &mut [bool], minimum: u64) -> bool {
    let mut changed = false;
    loop {
        let (count, sum) = cells
            .iter()
            .zip(withheld.iter())
            .filter(|&(&c, &w)| w && c > 0)
            .fold((0usize, 0u64), |(n, s), (&c, _)| (n + 1, s + c));
        if count == 0 || (count >= 2 && sum >= minimum) {
            return changed;
        }
        // The smallest cell still shown joins the withheld ones; ties go to the first listed,
        // so the result does not depend on anything but the counts and their order.
        let next = cells
            .iter()
            .enumerate()
            .filter(|&(i, _)| !withheld[i])
            .min_by_key(|&(_, &c)| c)
            .map(|(i, _)| i);
        match next {
            Some(i) => {
                withheld[i] = true;
                changed = true;
            }
            None => return changed,
        }
    }
}

/// What [`withhold_table`] withholds: each row's total, and each cell (`cells[row][column]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableWithheld {
    pub rows: Vec<bool>,
    pub cells: Vec<Vec<bool>>,
}

/// Decides which figures of a two-way table to withhold, when a reader sees its row totals, its
/// column totals and its cells (say the trusts of a region by month: each trust's page shows its
/// row, the region's page the trusts' totals and the months' totals). `cells[row][column]` are the
/// counts, empty ones included; every row has one per column. The row totals are a partition of
/// the parent, shown or not as `parent_shown` says; the column totals are shown or not as
/// `columns_shown` says (decided one level up, where they are cells themselves, or by
/// [`withhold`] over the column totals).
///
/// A row's total is withheld as [`withhold`] decides among the rows, and withholds its cells; a
/// withheld column total withholds its column. Every row and column whose total is shown is then
/// made safe as one partition (the module's rules) by withholding more cells, smallest first, until
/// none needs more. Subtraction can still chain across lines: a row whose only non-empty cell is
/// withheld gives that cell away (its total), which then no longer hides anything in its column.
/// So the cells a reader can work out line by line are followed to the end, and where they give
/// away a small group, the totals of the rows that gave them away are withheld too, and everything
/// decided again (at worst every row's total is withheld, and each column is safe on its own).
pub fn withhold_table(
    cells: &[Vec<u64>],
    columns_shown: &[bool],
    parent_shown: bool,
    minimum: u32,
) -> TableWithheld {
    let forced = vec![false; cells.len()];
    table_forced(cells, forced, columns_shown, parent_shown, minimum)
}

/// [`withhold_table`] for several tables of the same rows with the same row totals, each across
/// its own columns (a region's trusts by month, by staff group and by band): a row total is
/// withheld in all of them when any needs it withheld, so that no table shows what another hides.
/// `tables` are each table's cells and which of its column totals are shown.
pub fn withhold_tables(
    tables: &[(&[Vec<u64>], &[bool])],
    parent_shown: bool,
    minimum: u32,
) -> Vec<TableWithheld> {
    let rows = tables.first().map_or(0, |(cells, _)| cells.len());
    let mut forced = vec![false; rows];
    loop {
        let decided: Vec<TableWithheld> = tables
            .iter()
            .map(|(cells, columns_shown)| {
                table_forced(cells, forced.clone(), columns_shown, parent_shown, minimum)
            })
            .collect();
        let any: Vec<bool> = (0..rows)
            .map(|r| {
                decided
                    .iter()
                    .any(|t| t.rows.get(r).copied().unwrap_or(true))
            })
            .collect();
        if decided.iter().all(|t| t.rows == any) || any == forced {
            return decided;
        }
        forced = any;
    }
}

/// [`withhold_table`], with the row totals `forced` withheld whatever their counts.
fn table_forced(
    cells: &[Vec<u64>],
    mut forced: Vec<bool>,
    columns_shown: &[bool],
    parent_shown: bool,
    minimum: u32,
) -> TableWithheld {
    let minimum = u64::from(minimum.max(1));
    let row_totals: Vec<u64> = cells.iter().map(|row| row.iter().sum()).collect();
    loop {
        let rows: Vec<bool> = if parent_shown {
            let mut rows: Vec<bool> = row_totals
                .iter()
                .zip(&forced)
                .map(|(&total, &forced)| forced || total < minimum)
                .collect();
            cover(&row_totals, &mut rows, minimum);
            rows
        } else {
            vec![true; cells.len()]
        };
        let withheld = cover_lines(cells, &rows, columns_shown, minimum);
        let unsafe_rows = given_away(cells, &withheld, &rows, columns_shown, minimum);
        let before = forced.clone();
        for r in unsafe_rows {
            forced[r] = true;
        }
        if forced == before {
            if before.iter().all(|&f| f)
                || !forced_needed(cells, &withheld, &rows, columns_shown, minimum)
            {
                return TableWithheld {
                    rows,
                    cells: withheld,
                };
            }
            forced = vec![true; cells.len()];
        }
    }
}

/// The cells withheld once every shown row and column is safe on its own.
fn cover_lines(
    cells: &[Vec<u64>],
    rows: &[bool],
    columns_shown: &[bool],
    minimum: u64,
) -> Vec<Vec<bool>> {
    let at = |row: &[u64], c: usize| row.get(c).copied().unwrap_or(0);
    let mut withheld: Vec<Vec<bool>> = cells
        .iter()
        .zip(rows)
        .map(|(row, &row_withheld)| {
            columns_shown
                .iter()
                .enumerate()
                .map(|(c, &shown)| row_withheld || !shown || at(row, c) < minimum)
                .collect()
        })
        .collect();
    loop {
        let mut changed = false;
        for (r, row) in cells.iter().enumerate() {
            if !rows[r] {
                let values: Vec<u64> = (0..columns_shown.len()).map(|c| at(row, c)).collect();
                changed |= cover(&values, &mut withheld[r], minimum);
            }
        }
        for (c, &shown) in columns_shown.iter().enumerate() {
            if !shown {
                continue;
            }
            let column: Vec<u64> = cells.iter().map(|row| at(row, c)).collect();
            let mut flags: Vec<bool> = withheld.iter().map(|row| row[c]).collect();
            if cover(&column, &mut flags, minimum) {
                changed = true;
                for (row, flag) in withheld.iter_mut().zip(flags) {
                    row[c] = flag;
                }
            }
        }
        if !changed {
            return withheld;
        }
    }
}

/// A line of a table: a row or a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    Row(usize),
    Column(usize),
}

/// Follows what a reader works out from the shown totals, line by line, to the end (a line with
/// one withheld non-empty cell not yet worked out gives it away), and returns the lines that give
/// away a cell under the minimum or leave withheld cells adding up to less, with the cells worked
/// out.
fn worked_out(
    cells: &[Vec<u64>],
    withheld: &[Vec<bool>],
    rows: &[bool],
    columns_shown: &[bool],
    minimum: u64,
) -> (Vec<Line>, Vec<Vec<bool>>) {
    let value = |r: usize, c: usize| cells[r].get(c).copied().unwrap_or(0);
    let mut known: Vec<Vec<bool>> = withheld.iter().map(|row| vec![false; row.len()]).collect();
    let lines: Vec<(Line, Vec<(usize, usize)>)> = rows
        .iter()
        .enumerate()
        .filter(|&(_, &w)| !w)
        .map(|(r, _)| {
            (
                Line::Row(r),
                (0..columns_shown.len()).map(|c| (r, c)).collect(),
            )
        })
        .chain(
            columns_shown
                .iter()
                .enumerate()
                .filter(|&(_, &shown)| shown)
                .map(|(c, _)| (Line::Column(c), (0..cells.len()).map(|r| (r, c)).collect())),
        )
        .collect();
    let unknown = |known: &[Vec<bool>], line: &[(usize, usize)]| -> Vec<(usize, usize)> {
        line.iter()
            .copied()
            .filter(|&(r, c)| withheld[r][c] && value(r, c) > 0 && !known[r][c])
            .collect()
    };
    let mut exposing = Vec::new();
    loop {
        let mut changed = false;
        for (line, members) in &lines {
            if let [(r, c)] = unknown(&known, members)[..] {
                known[r][c] = true;
                changed = true;
                if value(r, c) < minimum {
                    exposing.push(*line);
                }
            }
        }
        if !changed {
            break;
        }
    }
    for (line, members) in &lines {
        let left = unknown(&known, members);
        let sum: u64 = left.iter().map(|&(r, c)| value(r, c)).sum();
        if !left.is_empty() && sum < minimum {
            exposing.push(*line);
        }
    }
    (exposing, known)
}

/// The rows whose totals, withheld, would stop a small group being worked out: an exposing row
/// itself, and for an exposing column the rows of the cells in it that were worked out.
fn given_away(
    cells: &[Vec<u64>],
    withheld: &[Vec<bool>],
    rows: &[bool],
    columns_shown: &[bool],
    minimum: u64,
) -> Vec<usize> {
    let (exposing, known) = worked_out(cells, withheld, rows, columns_shown, minimum);
    let mut more = Vec::new();
    for line in exposing {
        match line {
            Line::Row(r) => more.push(r),
            Line::Column(c) => more.extend(
                (0..cells.len()).filter(|&r| known[r].get(c).copied().unwrap_or(false) && !rows[r]),
            ),
        }
    }
    more
}

/// Whether anything is still given away.
fn forced_needed(
    cells: &[Vec<u64>],
    withheld: &[Vec<bool>],
    rows: &[bool],
    columns_shown: &[bool],
    minimum: u64,
) -> bool {
    !worked_out(cells, withheld, rows, columns_shown, minimum)
        .0
        .is_empty()
}

/// Whether a partition's total (a survey's, a question's, a breakdown's) may be shown.
pub fn total_shown(total: u64, minimum: u32) -> bool {
    total >= u64::from(minimum.max(1))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn cells_under_the_minimum_are_withheld() {
        assert_eq!(withhold(&[20, 30, 40], true, 11), [false, false, false]);
        assert_eq!(
            withhold(&[5, 30, 40, 12], true, 11),
            [true, false, false, true]
        );
    }

    #[test]
    fn an_empty_group_is_not_cover_for_a_lone_small_one() {
        // Total 75, shown 30 + 40: the 5 would be 75 - 70 whatever the empty group is.
        let shown = withhold(&[5, 0, 30, 40], true, 11);
        assert_eq!(shown, [true, true, true, false]);
    }

    #[test]
    fn two_small_groups_adding_up_under_the_minimum_need_more_cover() {
        // 3 + 4 = 7 is derivable as a group of 7: the next smallest (12) is withheld as well.
        assert_eq!(
            withhold(&[3, 4, 12, 50], true, 11),
            [true, true, true, false]
        );
    }

    #[test]
    fn two_small_groups_adding_up_to_the_minimum_are_enough() {
        assert_eq!(
            withhold(&[5, 6, 12, 50], true, 11),
            [true, true, false, false]
        );
    }

    #[test]
    fn a_withheld_parent_withholds_everything_under_it() {
        assert_eq!(withhold(&[20, 30], false, 11), [true, true]);
    }

    #[test]
    fn a_partition_of_only_empty_cells_and_large_ones_shows_the_large_ones() {
        assert_eq!(withhold(&[0, 0, 30], true, 11), [true, true, false]);
    }

    /// What a reader can work out from one shown partition: the sum of the withheld cells (the
    /// parent minus the shown cells), and each shown cell.
    fn exposes_a_small_group(cells: &[u64], withheld: &[bool], minimum: u64) -> bool {
        let shown_small = cells
            .iter()
            .zip(withheld)
            .any(|(&c, &w)| !w && c > 0 && c < minimum);
        let hidden: Vec<u64> = cells
            .iter()
            .zip(withheld)
            .filter(|&(&c, &w)| w && c > 0)
            .map(|(&c, _)| c)
            .collect();
        let sum: u64 = hidden.iter().sum();
        shown_small || hidden.len() == 1 || (!hidden.is_empty() && sum < minimum)
    }

    #[test]
    fn a_table_covers_a_small_cell_in_its_row_and_its_column() {
        // The 5 would be its row's total minus 80, and its column's minus 80: a cell beside it in
        // its row and one in its column are withheld, and then the corner that makes their own
        // row and column safe: a rectangle, no row or column with one withheld cell alone.
        let cells = vec![vec![5, 40, 40], vec![40, 40, 40], vec![40, 40, 40]];
        let t = withhold_table(&cells, &[true, true, true], true, 11);
        assert_eq!(t.rows, [false, false, false]);
        assert_eq!(
            t.cells,
            [
                [true, true, false],
                [true, true, false],
                [false, false, false]
            ]
        );
    }

    #[test]
    fn a_withheld_column_total_withholds_its_column() {
        // And so the rest of each row: else a row's total minus its 30 is its 40.
        let t = withhold_table(&[vec![30, 40], vec![30, 40]], &[true, false], true, 11);
        assert_eq!(t.rows, [false, false]);
        assert_eq!(t.cells, [[true, true], [true, true]]);
    }

    #[test]
    fn a_cell_its_row_gives_away_is_no_cover_in_its_column() {
        // Trust X had 20 nominations, all in October; trust Y 3 in October and 30 in November.
        // October's 3 needs cover, and X's 20 is the only cell there to give it; but X's total
        // gives its October away (its November is empty), and October's total minus 20 is 3. So
        // X's total is withheld, and Y's to cover it: each month is then safe on its own.
        let cells = [vec![20, 0], vec![3, 30]];
        let t = withhold_table(&cells, &[true, true], true, 11);
        assert_eq!(t.rows, [true, true], "{t:?}");
        let (exposing, _) = worked_out(&cells, &t.cells, &t.rows, &[true, true], 11);
        assert!(exposing.is_empty(), "{t:?}");
    }

    #[test]
    fn a_withheld_row_total_withholds_its_row() {
        // Rows of 3 and 9: each under the minimum, together 12.
        let t = withhold_table(
            &[vec![1, 2], vec![4, 5], vec![20, 20]],
            &[true, true],
            true,
            11,
        );
        assert_eq!(t.rows, [true, true, false]);
        assert!(t.cells[0].iter().chain(&t.cells[1]).all(|&w| w));
    }

    #[test]
    fn tables_of_the_same_rows_withhold_a_row_total_in_all_of_them() {
        // By month, X's total must go (see above); by band, nothing needs withholding.
        let by_month = [vec![20, 0], vec![3, 30]];
        let by_band = [vec![20], vec![33]];
        let decided = withhold_tables(
            &[
                (&by_month[..], &[true, true][..]),
                (&by_band[..], &[true][..]),
            ],
            true,
            11,
        );
        assert_eq!(decided[0].rows, [true, true]);
        assert_eq!(decided[1].rows, [true, true]);
        assert_eq!(
            withhold_table(&by_band, &[true], true, 11).rows,
            [false, false]
        );
    }

    proptest! {
        #[test]
        fn no_shown_partition_exposes_a_group_under_the_minimum(
            cells in prop::collection::vec(prop_oneof![Just(0u64), 1u64..15, 0u64..200], 1..12),
            minimum in 2u32..20,
        ) {
            let total: u64 = cells.iter().sum();
            let parent = total_shown(total, minimum);
            let withheld = withhold(&cells, parent, minimum);
            if parent {
                prop_assert!(!exposes_a_small_group(&cells, &withheld, u64::from(minimum)));
            } else {
                prop_assert!(withheld.iter().all(|&w| w));
            }
        }

        /// Sites within trusts within a total: whatever is shown at either level, no group under
        /// the minimum can be worked out, at either level.
        #[test]
        fn nested_partitions_expose_nobody(
            trusts in prop::collection::vec(prop::collection::vec(0u64..40, 1..5), 1..8),
            minimum in 2u32..15,
        ) {
            let trust_counts: Vec<u64> = trusts.iter().map(|s| s.iter().sum()).collect();
            let total: u64 = trust_counts.iter().sum();
            let total_ok = total_shown(total, minimum);
            let trust_withheld = withhold(&trust_counts, total_ok, minimum);
            if total_ok {
                prop_assert!(!exposes_a_small_group(&trust_counts, &trust_withheld, u64::from(minimum)));
            }
            for (sites, &trust_hidden) in trusts.iter().zip(&trust_withheld) {
                let site_withheld = withhold(sites, !trust_hidden, minimum);
                if trust_hidden {
                    prop_assert!(site_withheld.iter().all(|&w| w));
                } else {
                    prop_assert!(!exposes_a_small_group(sites, &site_withheld, u64::from(minimum)));
                }
            }
        }

        /// A two-way table whose row and column totals are shown (a region's trusts by month,
        /// beside the months' totals): no shown row or column lets a small cell be worked out,
        /// and nothing under the minimum is shown, at either level.
        #[test]
        fn no_row_or_column_of_a_table_exposes_a_small_group(
            cells in (1usize..6, 1usize..6).prop_flat_map(|(rows, columns)| {
                prop::collection::vec(
                    prop::collection::vec(prop_oneof![Just(0u64), 1u64..15, 0u64..60], columns),
                    rows,
                )
            }),
            minimum in 2u32..15,
        ) {
            let min = u64::from(minimum);
            let columns = cells[0].len();
            let column_totals: Vec<u64> = (0..columns).map(|c| cells.iter().map(|r| r[c]).sum()).collect();
            let total: u64 = column_totals.iter().sum();
            let shown = total_shown(total, minimum);
            let columns_withheld = withhold(&column_totals, shown, minimum);
            let columns_shown: Vec<bool> = columns_withheld.iter().map(|&w| !w).collect();
            let t = withhold_table(&cells, &columns_shown, shown, minimum);
            let row_totals: Vec<u64> = cells.iter().map(|r| r.iter().sum()).collect();
            if shown {
                prop_assert!(!exposes_a_small_group(&row_totals, &t.rows, min));
                prop_assert!(!exposes_a_small_group(&column_totals, &columns_withheld, min));
            }
            for (r, row) in cells.iter().enumerate() {
                if t.rows[r] {
                    prop_assert!(t.cells[r].iter().all(|&w| w));
                }
                for (c, &count) in row.iter().enumerate() {
                    if !t.cells[r][c] {
                        prop_assert!(count >= min);
                    }
                    if !columns_shown[c] {
                        prop_assert!(t.cells[r][c]);
                    }
                }
            }
            // Following what can be worked out line by line to the end, nothing small is.
            let (exposing, _) = worked_out(&cells, &t.cells, &t.rows, &columns_shown, min);
            prop_assert!(exposing.is_empty(), "{:?} exposes {:?}", t, exposing);
        }
    }
}
