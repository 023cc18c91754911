//! The admin pages' charts: horizontal bar charts drawn on the server as SVG (no script), one
//! labelled bar per group with its figure written at the bar's end, so a chart reads without
//! colour, and a table beside it always gives the same figures.

/// One bar: its label, its length in the chart's scale, and the figure written beside it (a
/// withheld figure has no length and says why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub label: String,
    pub length: u64,
    pub figure: String,
}

/// A horizontal bar chart of `bars`, each as long as its `length` out of `scale`. Its accessible
/// name is `title`, then `what` the bars show.
pub fn bar_chart(title: &str, what: &str, bars: &[Bar], scale: u64) -> minijinja::Value {
    const WIDTH: u64 = 640;
    const LABEL: u64 = 250;
    const BAR: u64 = 300;
    const ROW: u64 = 32;
    let height = ROW * bars.len() as u64 + 8;
    let mut svg = format!(
        "<svg class=\"valued-chart\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-labelledby=\"chart-{id}\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"chart-{id}\">{title}: {what} (figures in the table)</title>",
        id = chart_id(&format!("{title}: {what}")),
        title = escape(title),
        what = escape(what),
    );
    for (row, bar) in bars.iter().enumerate() {
        let y = row as u64 * ROW + 4;
        let length = (bar.length.min(scale) * BAR)
            .checked_div(scale)
            .unwrap_or(0);
        svg.push_str(&format!(
            "<text x=\"{x}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"14\" fill=\"#212b32\">{label}</text><rect x=\"{bx}\" y=\"{y}\" width=\"{length}\" height=\"22\" fill=\"#005eb8\"/><text x=\"{vx}\" y=\"{ty}\" font-size=\"14\" fill=\"#212b32\">{figure}</text>",
            x = LABEL - 8,
            ty = y + 16,
            label = escape(&bar.label),
            bx = LABEL,
            vx = LABEL + length + 6,
            figure = escape(&bar.figure),
        ));
    }
    svg.push_str("</svg>");
    minijinja::Value::from_safe_string(svg)
}

fn chart_id(title: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    title.hash(&mut hasher);
    format!("{:x}", hasher.finish())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_as_long_as_their_share_of_the_scale_and_a_bar_without_length_is_drawn_empty() {
        let bars = [
            Bar {
                label: "October 2026".into(),
                length: 30,
                figure: "30".into(),
            },
            Bar {
                label: "November 2026".into(),
                length: 0,
                figure: "fewer than 11".into(),
            },
        ];
        let svg = bar_chart("Nominations received", "by month", &bars, 30).to_string();
        assert!(svg.contains("width=\"300\""), "{svg}");
        assert!(svg.contains("width=\"0\""), "{svg}");
        assert!(svg.contains(">fewer than 11<"), "{svg}");
        assert!(svg.contains("<title id=\"chart-"), "{svg}");
        assert!(svg.contains("Nominations received: by month (figures in the table)"));
    }
}
