//! Charts drawn as SVG by hand (no chart library in any bundle): horizontal bars, labels above
//! each bar so they stay readable at 360 px. Each chart sits beside a table with the same numbers.

use leptos::prelude::*;

/// Horizontal bars, one per `(label, value)`, scaled to the largest value.
#[component]
pub fn BarChart(
    /// What the chart shows, for screen readers (the table beside it has the numbers).
    title: String,
    items: Vec<(String, i64)>,
) -> impl IntoView {
    const ROW: i64 = 34;
    const WIDTH: i64 = 600;
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let height = ROW * items.len() as i64 + 4;
    let bars = items
        .into_iter()
        .enumerate()
        .map(|(i, (label, value))| {
            let y = i as i64 * ROW;
            // Leave room for the value after the bar.
            let w = value * (WIDTH - 60) / max;
            view! {
                <g data-testid="bar" data-value=value.to_string()>
                    <text x="0" y=y + 12 class="bar-label">{label}</text>
                    <rect x="0" y=y + 16 width=w.max(1) height="12" rx="2" class="bar"></rect>
                    <text x=w + 6 y=y + 27 class="bar-value">{value}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg class="chart" role="img" aria-label=title viewBox=format!("0 0 {WIDTH} {height}")
            preserveAspectRatio="xMinYMin meet" data-testid="bar-chart">
            {bars}
        </svg>
    }
}
