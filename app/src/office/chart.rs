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
    frame(title, "bar-chart", height, bars)
}

/// The `<svg>` every chart is drawn in: scaled to the width it gets, named for screen readers.
fn frame(title: String, testid: &'static str, height: i64, body: impl IntoView) -> impl IntoView {
    view! {
        <svg class="chart" role="img" aria-label=title viewBox=format!("0 0 {WIDTH} {height}")
            preserveAspectRatio="xMinYMin meet" data-testid=testid>
            {body}
        </svg>
    }
}

/// The drawing width of every chart (the `<svg>` scales it to the screen).
const WIDTH: i64 = 600;

/// One bar per row, split into coloured parts that sum to the row's total (a status
/// distribution); the words of each part are in the legend and in each part's tooltip.
#[component]
pub fn StackedBars(
    title: String,
    /// The parts' names and CSS classes, in drawing order.
    parts: Vec<(String, &'static str)>,
    /// Each row's label and its count per part.
    rows: Vec<(String, Vec<i64>)>,
) -> impl IntoView {
    const ROW: i64 = 34;
    let height = ROW * rows.len() as i64 + 4;
    let bars = rows
        .into_iter()
        .enumerate()
        .map(|(i, (label, counts))| {
            let y = i as i64 * ROW;
            let sum: i64 = counts.iter().sum();
            let total = sum.max(1);
            let mut x = 0;
            let segs = counts
                .iter()
                .zip(&parts)
                .filter(|(n, _)| **n > 0)
                .map(|(n, (name, class))| {
                    let w = n * WIDTH / total;
                    let seg = view! {
                        <rect x=x y=y + 16 width=w height="12" class=format!("seg {class}")>
                            <title>{format!("{name}: {n}")}</title>
                        </rect>
                    };
                    x += w;
                    seg
                })
                .collect_view();
            view! {
                <g data-testid="stack" data-total=sum.to_string()>
                    <text x="0" y=y + 12 class="bar-label">{label}</text>
                    {segs}
                </g>
            }
        })
        .collect_view();
    view! {
        {frame(title, "stacked-chart", height, bars)}
        <ul class="legend">
            {parts.into_iter().map(|(name, class)| view! { <li><span class=format!("swatch {class}")></span>{name}</li> }).collect_view()}
        </ul>
    }
}

/// A line over time: one point per `(label, value)`, oldest first; the first and last labels
/// under the axis (the table beside it has every value).
#[component]
pub fn LineChart(title: String, points: Vec<(String, i64)>) -> impl IntoView {
    const HEIGHT: i64 = 160;
    const TOP: i64 = 16;
    let max = points.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let n = points.len() as i64;
    let x_of = |i: i64| {
        if n > 1 {
            8 + i * (WIDTH - 16) / (n - 1)
        } else {
            WIDTH / 2
        }
    };
    let y_of = |v: i64| TOP + (HEIGHT - TOP) - v * (HEIGHT - TOP) / max;
    let path = points
        .iter()
        .enumerate()
        .map(|(i, (_, v))| format!("{},{}", x_of(i as i64), y_of(*v)))
        .collect::<Vec<_>>()
        .join(" ");
    let dots = points
        .iter()
        .enumerate()
        .map(|(i, (label, v))| {
            view! {
                <circle cx=x_of(i as i64) cy=y_of(*v) r="4" class="dot" data-testid="point" data-value=v.to_string()>
                    <title>{format!("{label}: {v}")}</title>
                </circle>
            }
        })
        .collect_view();
    let first = points.first().map(|(l, _)| l.clone()).unwrap_or_default();
    let last = points.last().map(|(l, _)| l.clone()).unwrap_or_default();
    let body = view! {
        <text x="0" y="12" class="bar-value">{max}</text>
        <line x1="0" y1=HEIGHT x2=WIDTH y2=HEIGHT class="axis"></line>
        <polyline points=path class="line"></polyline>
        {dots}
        <text x="0" y=HEIGHT + 18 class="bar-label">{first}</text>
        <text x=WIDTH y=HEIGHT + 18 class="bar-label" text-anchor="end">{last}</text>
    };
    frame(title, "line-chart", HEIGHT + 24, body)
}
