//! Turnout per hour on the admin vote page: a category's votes in each hour of its voting window,
//! counted, held and discarded apart and never by finalist, as a table and as a column chart drawn
//! on the server (SVG, no script), the table giving the same figures.

use chrono::{DateTime, Utc};
use serde::Serialize;
use valued_proto::voting::v1::HourTurnout;

use valued_platform::uk_time;

/// One hour as the table shows it.
#[derive(Debug, Serialize, PartialEq, Eq)]
struct Row {
    /// "1 December 2026, 09:00 to 09:59 (UK time)".
    hour: String,
    counted: u64,
    held: u64,
    discarded: u64,
    total: u64,
}

/// One hour's column of the chart, in the chart's own units: counted votes at the bottom, held
/// ones above them, discarded ones on top.
#[derive(Debug, Serialize, PartialEq, Eq)]
struct Column {
    x: u32,
    counted_y: u32,
    counted_height: u32,
    held_y: u32,
    held_height: u32,
    discarded_y: u32,
    discarded_height: u32,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
struct Chart {
    width: u32,
    height: u32,
    column_width: u32,
    axis_y: u32,
    columns: Vec<Column>,
    /// The most votes in an hour, the scale's top.
    most: u64,
    /// The first and last hours drawn, as the axis names them: "1 Dec 09:00".
    first: String,
    last: String,
    last_x: u32,
}

/// The tallest column.
const PLOT_HEIGHT: u32 = 120;
/// Room above the columns for the scale, and below them for the axis labels.
const TOP: u32 = 24;
const BOTTOM: u32 = 28;
/// The plot's width in its own units (the chart scales to its column): the hours share it, each
/// at least one unit wide.
const PLOT_WIDTH: u32 = 400;
/// At most this many hours are drawn (three weeks); the table lists every hour whatever the span.
const MAX_HOURS: i64 = 24 * 21;

/// What the page shows of a category's votes per hour: its rows, and its chart when the hours
/// from the first vote to the last are few enough to draw.
pub fn view(hours: &[HourTurnout]) -> minijinja::Value {
    let hours: Vec<(DateTime<Utc>, &HourTurnout)> = hours
        .iter()
        .filter_map(|h| uk_time::of(h.hour.as_ref()).map(|at| (at, h)))
        .collect();
    let rows: Vec<Row> = hours
        .iter()
        .map(|(at, h)| Row {
            hour: uk_time::hour(*at),
            counted: h.counted,
            held: h.held,
            discarded: h.discarded,
            total: total(h),
        })
        .collect();
    minijinja::context! {
        rows => rows,
        chart => chart(&hours),
    }
}

fn total(h: &HourTurnout) -> u64 {
    h.counted.saturating_add(h.held).saturating_add(h.discarded)
}

/// The chart of every hour from the first with votes to the last, those without votes empty.
fn chart(hours: &[(DateTime<Utc>, &HourTurnout)]) -> Option<Chart> {
    let (first, _) = hours.first()?;
    let (last, _) = hours.last()?;
    let span = (*last - *first).num_hours() + 1;
    if !(1..=MAX_HOURS).contains(&span) {
        return None;
    }
    let slots = u32::try_from(span).ok()?;
    let column_width = (PLOT_WIDTH / slots).clamp(1, 40);
    let most = hours
        .iter()
        .map(|(_, h)| total(h))
        .max()
        .unwrap_or(0)
        .max(1);
    let scale = |votes: u64| {
        u32::try_from(votes.saturating_mul(u64::from(PLOT_HEIGHT)) / most).unwrap_or(PLOT_HEIGHT)
    };
    let axis_y = TOP + PLOT_HEIGHT;
    let columns = hours
        .iter()
        .filter_map(|(at, h)| {
            let slot = u32::try_from((*at - *first).num_hours()).ok()?;
            // Heights from the bottom, so that rounding never draws more than the hour had.
            let counted_top = scale(h.counted);
            let held_top = scale(h.counted.saturating_add(h.held));
            let discarded_top = scale(total(h));
            Some(Column {
                x: slot * column_width,
                counted_y: axis_y - counted_top,
                counted_height: counted_top,
                held_y: axis_y - held_top,
                held_height: held_top - counted_top,
                discarded_y: axis_y - discarded_top,
                discarded_height: discarded_top - held_top,
            })
        })
        .collect();
    let width = (slots * column_width).max(PLOT_WIDTH);
    Some(Chart {
        width,
        height: axis_y + BOTTOM,
        column_width,
        axis_y,
        columns,
        most,
        first: uk_time::short(*first),
        last: uk_time::short(*last),
        last_x: width,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn hour(at: &str, counted: u64, held: u64, discarded: u64) -> HourTurnout {
        HourTurnout {
            hour: Some(prost_types::Timestamp {
                seconds: DateTime::parse_from_rfc3339(at).unwrap().timestamp(),
                nanos: 0,
            }),
            counted,
            held,
            discarded,
        }
    }

    fn timed(hours: &[HourTurnout]) -> Vec<(DateTime<Utc>, &HourTurnout)> {
        hours
            .iter()
            .map(|h| (uk_time::of(h.hour.as_ref()).unwrap(), h))
            .collect()
    }

    #[test]
    fn hours_without_votes_are_gaps_and_columns_stack_to_scale() {
        let hours = [
            hour("2026-12-01T09:00:00Z", 30, 0, 0),
            hour("2026-12-01T12:00:00Z", 10, 15, 5),
        ];
        let chart = chart(&timed(&hours)).unwrap();
        // Four hours, 09:00 to 12:00, the middle two without votes; few hours are drawn wide.
        assert_eq!(chart.column_width, 40);
        assert_eq!(chart.most, 30);
        assert_eq!(
            chart.columns.iter().map(|c| c.x).collect::<Vec<_>>(),
            [0, 3 * 40]
        );
        assert_eq!(chart.width, PLOT_WIDTH);
        let full = &chart.columns[0];
        assert_eq!((full.counted_height, full.counted_y), (PLOT_HEIGHT, TOP));
        let mixed = &chart.columns[1];
        assert_eq!(
            (
                mixed.counted_height,
                mixed.held_height,
                mixed.discarded_height
            ),
            (PLOT_HEIGHT / 3, PLOT_HEIGHT / 2, PLOT_HEIGHT / 6)
        );
        assert_eq!(mixed.discarded_y, TOP);
        assert_eq!(chart.first, "1 Dec 09:00");
    }

    #[test]
    fn rows_read_in_uk_time_and_a_long_span_has_no_chart() {
        let hours = [
            hour("2027-06-01T09:00:00Z", 1, 2, 3),
            hour("2027-07-01T09:00:00Z", 1, 0, 0),
        ];
        assert!(chart(&timed(&hours)).is_none());
        let view = view(&hours);
        let rows = view.get_attr("rows").unwrap();
        let first = rows.get_item(&0.into()).unwrap();
        assert_eq!(
            first.get_attr("hour").unwrap().as_str(),
            Some("1 June 2027, 10:00 to 10:59 (UK time)")
        );
        assert_eq!(first.get_attr("total").unwrap(), 6.into());
    }
}
