//! The metrics pane: key metrics first, scalars grouped by split, and a
//! braille chart of one series (`m` cycles); for a task or model, its runs
//! ranked by the key metric.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph};

use super::info::short_label;
use super::{pane, render_scrolled, truncate};
use crate::fmt;
use crate::runs::{Scalar, Series};
use crate::tui::app::{App, Focus};
use crate::tui::tree::Node;

/// Draws the metrics pane for the selection; returns its largest scroll.
pub fn draw(frame: &mut Frame, app: &App, area: Rect) -> u16 {
    let block = pane(app, "metrics", Focus::Metrics);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    match app.selected_node() {
        Some(Node::Run(k)) => {
            let details = app.selected_details();
            let key = details
                .map(|d| d.key_metrics.clone())
                .or_else(|| app.loaded.summaries.get(&k).map(|s| s.key_metrics.clone()))
                .unwrap_or_default();
            let scalars: &[Scalar] = details.map_or(&[], |d| &d.metrics.scalars);
            let series: &[Series] = details.map_or(&[], |d| &d.metrics.series);
            let notes: &[String] = details.map_or(&[], |d| &d.metrics.notes);
            let mut lines = scalar_lines(app, &key, scalars, series, inner.width as usize);
            // Files read in part or thinned: said before anything else is
            // read off the curves (the key line stays first).
            let at = usize::from(!key.is_empty()).min(lines.len());
            for (i, note) in notes.iter().enumerate() {
                lines.insert(
                    at + i,
                    Line::from(Span::styled(
                        format!("⋯ {}", fmt::escape(note)),
                        app.settings.theme.error(),
                    )),
                );
            }
            if series.is_empty() || inner.height < 10 {
                return render_scrolled(
                    frame,
                    Paragraph::new(lines),
                    inner,
                    app.panes.metrics.offset,
                );
            }
            let text_h = (lines.len() as u16).min(inner.height / 2).max(3);
            let [text, chart] =
                Layout::vertical([Constraint::Length(text_h), Constraint::Min(4)]).areas(inner);
            let max = render_scrolled(frame, Paragraph::new(lines), text, app.panes.metrics.offset);
            let i = app.chart.series.min(series.len() - 1);
            // Another x column of the same file (epoch beside step): the
            // curve against it, when the user picked one with X.
            let axes = x_axes(series, &series[i]);
            let shown = match app.chart.x_axis % (axes.len() + 1) {
                0 => series[i].clone(),
                a => against(&series[i], axes[a - 1]),
            };
            let part = part_read(notes, &series[i].file);
            draw_chart(frame, app, &shown, (i, series.len(), part), chart);
            max
        }
        Some(node) => render_scrolled(
            frame,
            Paragraph::new(ranking(app, node)),
            inner,
            app.panes.metrics.offset,
        ),
        None => 0,
    }
}

fn scalar_lines(
    app: &App,
    key: &[Scalar],
    scalars: &[Scalar],
    series: &[Series],
    width: usize,
) -> Vec<Line<'static>> {
    let t = &app.settings.theme;
    let mut lines = Vec::new();
    if key.is_empty() && scalars.is_empty() && series.is_empty() {
        let msg = if app.selected_details().is_none() {
            "loading…"
        } else {
            "no metrics in run_info.json or metrics/"
        };
        return vec![Line::from(Span::styled(msg, t.dim()))];
    }
    if !key.is_empty() {
        let mut spans = vec![Span::styled("key  ", t.dim())];
        for m in key {
            spans.push(Span::styled(
                format!("{} {}  ", fmt::escape(&m.name), fmt::metric(m.value)),
                t.metric(),
            ));
        }
        lines.push(Line::from(spans));
    }
    // A run whose key curve ends in NaN/Inf says where it went.
    if let Some(k) = app.selected_run()
        && let Some(s) = app.loaded.summaries.get(&k)
        && let Some((x, at)) = s.diverged_at(&crate::runs::KeySpec::for_task(
            &app.settings.key_metrics,
            &app.catalog.runs[k].task,
        ))
    {
        lines.push(Line::from(Span::styled(
            format!(
                "↯ diverged at {x} {}: the key metric ends in NaN/Inf",
                fmt::metric(at)
            ),
            t.error(),
        )));
    }
    // Scalars grouped by split (the part before '/'), in file order.
    let mut groups: Vec<(String, Vec<&Scalar>)> = Vec::new();
    for s in scalars {
        let split = s.name.split_once('/').map_or("", |(a, _)| a).to_string();
        match groups.iter_mut().find(|(g, _)| *g == split) {
            Some((_, v)) => v.push(s),
            None => groups.push((split, vec![s])),
        }
    }
    for (split, items) in groups {
        let head = if split.is_empty() {
            "·".to_string()
        } else {
            split.clone()
        };
        let head = format!("{head:<4} ");
        let mut w = head.chars().count();
        let mut line = vec![Span::styled(head, t.title())];
        for s in items {
            let name = s.name.strip_prefix(&format!("{split}/")).unwrap_or(&s.name);
            let cell = format!("{} {}  ", fmt::escape(name), fmt::metric(s.value));
            if w + cell.len() > width && w > 6 {
                lines.push(Line::from(std::mem::take(&mut line)));
                line.push(Span::raw("     "));
                w = 5;
            }
            w += cell.len();
            line.push(Span::raw(cell));
        }
        lines.push(Line::from(line));
    }
    if !series.is_empty() {
        // A name two files both log (train_metrics.csv and a jsonl) says
        // which file each is, or the list reads like a repeat.
        let names: Vec<String> = series
            .iter()
            .map(|s| {
                let shared = series.iter().filter(|o| o.name == s.name).count() > 1;
                if shared {
                    let file = s.file.rsplit('/').next().unwrap_or(&s.file);
                    format!("{} ({file})", s.name)
                } else {
                    s.name.clone()
                }
            })
            .collect();
        lines.push(Line::from(vec![
            Span::styled("series ", t.dim()),
            Span::raw(truncate(
                &fmt::escape(&names.join("  ")),
                width.saturating_sub(7),
            )),
        ]));
    }
    lines
}

/// At most `n` points that keep the curve's shape: min and max per bucket,
/// and the first and last points, so the line (and the axis drawn from it)
/// spans every x: a smoothed curve's last bucket has its extremes inside.
pub fn downsample(points: &[(f64, f64)], n: usize) -> Vec<(f64, f64)> {
    if points.len() <= n || n < 4 {
        return points.to_vec();
    }
    // Two places are kept for the ends.
    let buckets = n / 2 - 1;
    let per = points.len().div_ceil(buckets);
    let mut out = Vec::with_capacity(n);
    for chunk in points.chunks(per) {
        let lo = chunk
            .iter()
            .copied()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("chunks are not empty");
        let hi = chunk
            .iter()
            .copied()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .expect("chunks are not empty");
        if lo.0 <= hi.0 {
            out.extend([lo, hi]);
        } else {
            out.extend([hi, lo]);
        }
    }
    let (first, last) = (points[0], points[points.len() - 1]);
    if out.first().is_some_and(|p| p.0 > first.0) {
        out.insert(0, first);
    }
    if out.last().is_some_and(|p| p.0 < last.0) {
        out.push(last);
    }
    out
}

/// Columns that can serve as another x axis for `s`: series of the same
/// file named like a step, epoch or time column.
pub fn x_axes<'a>(all: &'a [Series], s: &Series) -> Vec<&'a Series> {
    all.iter()
        .filter(|o| o.file == s.file && o.name != s.name && o.x == s.x)
        .filter(|o| {
            let last = o.name.rsplit('/').next().unwrap_or(&o.name);
            matches!(
                last.to_ascii_lowercase().as_str(),
                "step"
                    | "global_step"
                    | "epoch"
                    | "iteration"
                    | "iter"
                    | "batch"
                    | "time"
                    | "wall_time"
                    | "elapsed"
                    | "samples"
            )
        })
        .collect()
}

/// `s` plotted against `axis` (matched on their shared x): the points
/// where both have a value.
pub fn against(s: &Series, axis: &Series) -> Series {
    let by_x: std::collections::HashMap<u64, f64> =
        axis.points.iter().map(|&(x, v)| (x.to_bits(), v)).collect();
    Series::new(
        s.name.clone(),
        axis.name
            .rsplit('/')
            .next()
            .unwrap_or(&axis.name)
            .to_string(),
        s.points
            .iter()
            .filter_map(|&(x, y)| by_x.get(&x.to_bits()).map(|&nx| (nx, y)))
            .collect(),
        s.file.clone(),
    )
}

/// The axes' bounds `[x0, x1, y0, y1]` over every point of `sets`, each
/// range at least 1 wide (a flat curve still gets an axis).
pub fn bounds<'a>(sets: impl Iterator<Item = &'a [(f64, f64)]>) -> [f64; 4] {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in sets.flatten() {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    // One x (or one value): a range of 1 around it, so a single point is
    // drawn in the middle, not on the edge of a made-up 0–1 axis.
    if x1 <= x0 {
        x0 -= 0.5;
        x1 = x0 + 1.0;
    }
    if y1 <= y0 {
        y0 -= 0.5;
        y1 = y0 + 1.0;
    }
    [x0, x1, y0, y1]
}

/// The points a chart `width` columns wide draws: finite points, smoothed
/// as TensorBoard does (its debiased moving average of weight `smoothing`,
/// 0: off; see [`crate::chart::smooth`]), in log10 when `log_y` (values ≤ 0
/// left out), then downsampled to two points a column (braille dots).
pub fn chart_points(
    points: &[(f64, f64)],
    smoothing: f64,
    log_y: bool,
    width: usize,
) -> Vec<(f64, f64)> {
    let mut ema = crate::chart::Ema::new(smoothing);
    let prepared: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .map(|(x, y)| (x, ema.push(y)))
        .filter(|p| !log_y || p.1 > 0.0)
        .map(|(x, y)| if log_y { (x, y.log10()) } else { (x, y) })
        .collect();
    downsample(&prepared, width * 2)
}

/// What the chart title says of a file read in part: its tail only, or its
/// curves thinned (the note above the chart says how).
fn part_read(notes: &[String], file: &str) -> &'static str {
    let of_file = |n: &&String| n.strip_prefix(file).is_some_and(|r| r.starts_with(':'));
    if notes.iter().filter(of_file).any(|n| n.contains(" read: ")) {
        " · tail only"
    } else if notes.iter().any(|n| of_file(&n)) {
        " · thinned"
    } else {
        ""
    }
}

/// Draws series `which.0` of `which.1`; `which.2` says if its file was read in part.
fn draw_chart(frame: &mut Frame, app: &App, s: &Series, which: (usize, usize, &str), area: Rect) {
    let (i, n, part) = which;
    let t = &app.settings.theme;
    let data = chart_points(
        &s.points,
        app.chart.smoothing,
        app.chart.log_y,
        area.width as usize,
    );
    if data.is_empty() {
        // Nothing finite to draw: say why instead of a blank chart.
        let why = if s.stats.points > 0 && s.stats.non_finite == s.stats.points {
            format!(
                " {} · all {} values are NaN or infinite: nothing to draw ({}/{}, m: next)",
                fmt::escape(&s.name),
                s.stats.points,
                i + 1,
                n
            )
        } else if app.chart.log_y {
            format!(
                " {} · no value above 0 to draw in log scale (Y: linear) ({}/{})",
                fmt::escape(&s.name),
                i + 1,
                n
            )
        } else {
            format!(" {} · no points ({}/{})", fmt::escape(&s.name), i + 1, n)
        };
        frame.render_widget(
            Paragraph::new(Span::styled(truncate(&why, area.width as usize), t.dim())),
            area,
        );
        return;
    }
    // Smoothed, the raw line stays beneath, dimmed, and the axes keep to
    // the raw values (what the file says), as in TensorBoard.
    let raw = if app.chart.smoothing > 0.0 {
        chart_points(&s.points, 0.0, app.chart.log_y, area.width as usize)
    } else {
        Vec::new()
    };
    let [x0, x1, y0, y1] = bounds([data.as_slice(), raw.as_slice()].into_iter());
    let file = s.file.rsplit('/').next().unwrap_or(&s.file);
    let mut mode = part.to_string();
    if app.chart.smoothing > 0.0 {
        mode.push_str(&format!(" · smoothed {} (raw dimmed)", app.chart.smoothing));
    }
    if app.chart.log_y {
        mode.push_str(" · log");
    }
    let title = format!(
        " {} · {} vs {}{mode} ({}/{}, m: next, X: x axis, S: smooth, Y: log, z: zoom) ",
        fmt::escape(&s.name),
        fmt::escape(file),
        fmt::escape(&s.x),
        i + 1,
        n
    );
    let ylabel = |v: f64| fmt::metric(if app.chart.log_y { 10f64.powf(v) } else { v });
    // A line needs two points: one point is drawn as a dot.
    let dataset = Dataset::default()
        .marker(Marker::Braille)
        .graph_type(if data.len() == 1 {
            GraphType::Scatter
        } else {
            GraphType::Line
        })
        .style(t.metric())
        .data(&data);
    let raw_set = Dataset::default()
        .marker(Marker::Braille)
        .graph_type(GraphType::Line)
        .style(t.dim())
        .data(&raw);
    // The x column's name is in the title: as an axis title it was drawn
    // over the data.
    let chart = Chart::new(vec![raw_set, dataset])
        .x_axis(
            Axis::default()
                .bounds([x0, x1])
                .labels([fmt::metric(x0), fmt::metric(x1)]),
        )
        .y_axis(Axis::default().bounds([y0, y1]).labels([
            ylabel(y0),
            ylabel((y0 + y1) / 2.0),
            ylabel(y1),
        ]));
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    frame.render_widget(
        Paragraph::new(Span::styled(
            truncate(&title, head.width as usize),
            t.title(),
        )),
        head,
    );
    frame.render_widget(chart, body);
}

/// A task's or model's runs ranked by the key metric (from the kept
/// roll-up, see [`super::info::group`]).
fn ranking(app: &App, node: Node) -> Vec<Line<'static>> {
    let t = &app.settings.theme;
    let g = super::info::group(app, node);
    let Some((metric, lower, ranked)) = &g.ranking else {
        return vec![Line::from(Span::styled("no key metrics yet", t.dim()))];
    };
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "runs by {} ({} is better)",
            fmt::escape(metric),
            if *lower { "lower" } else { "higher" }
        ),
        t.dim(),
    ))];
    for (i, (k, v)) in ranked.iter().enumerate() {
        lines.push(Line::from(vec![
            Span::raw(format!("{:>2}. ", i + 1)),
            Span::styled(format!("{:<8}", fmt::metric(*v)), t.metric()),
            Span::raw(fmt::escape(&short_label(app, node, *k)).into_owned()),
        ]));
    }
    lines
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_single_point_sits_in_the_middle_of_its_axes() {
        assert_eq!(
            bounds(std::iter::once(&[(5.0, 2.0)][..])),
            [4.5, 5.5, 1.5, 2.5]
        );
    }
    use super::*;

    #[test]
    fn another_column_of_the_file_can_be_the_x_axis() {
        let series = |name: &str, pts: &[(f64, f64)]| {
            crate::runs::Series::new(
                name.into(),
                "step".into(),
                pts.to_vec(),
                "metrics/train_steps.csv".into(),
            )
        };
        let all = vec![
            series("train/loss", &[(100.0, 2.0), (200.0, 1.0), (300.0, 0.5)]),
            series("train/epoch", &[(100.0, 1.0), (300.0, 2.0)]),
        ];
        let axes = super::x_axes(&all, &all[0]);
        assert_eq!(axes.len(), 1);
        let by_epoch = super::against(&all[0], axes[0]);
        assert_eq!(by_epoch.x, "epoch");
        assert_eq!(by_epoch.points, vec![(1.0, 2.0), (2.0, 0.5)]);
        // The epoch column has no other x axis of its own besides itself.
        assert!(super::x_axes(&all, &all[1]).is_empty());
    }

    #[test]
    fn smoothing_and_log_scale() {
        let pts = [(0.0, 1.0), (1.0, 3.0), (2.0, f64::NAN), (3.0, 0.0)];
        // Raw: the NaN is dropped.
        assert_eq!(
            super::chart_points(&pts, 0.0, false, 100),
            vec![(0.0, 1.0), (1.0, 3.0), (3.0, 0.0)]
        );
        // TensorBoard's EMA 0.5: 0.5/0.5 = 1, (0.25+1.5)/0.75, (0.875+0)/0.875 = 1.
        let smoothed = super::chart_points(&pts, 0.5, false, 100);
        assert_eq!(smoothed.len(), 3);
        assert!((smoothed[1].1 - 1.75 / 0.75).abs() < 1e-12);
        assert!((smoothed[2].1 - 1.0).abs() < 1e-12);
        // Log: zero cannot be drawn and is left out.
        let log = super::chart_points(&pts, 0.0, true, 100);
        assert_eq!(log.len(), 2);
        assert!((log[1].1 - 3f64.log10()).abs() < 1e-12);
    }

    #[test]
    fn downsampling_keeps_extremes_and_bounds_the_count() {
        let points: Vec<(f64, f64)> = (0..1_000_000)
            .map(|i| (i as f64, ((i % 1000) as f64).sin()))
            .collect();
        let d = downsample(&points, 200);
        assert!(d.len() <= 200, "{}", d.len());
        let max = points.iter().map(|p| p.1).fold(f64::MIN, f64::max);
        assert!(d.iter().any(|p| p.1 == max));
        assert!(d.windows(2).all(|w| w[0].0 <= w[1].0));
        assert_eq!(downsample(&points[..10], 200).len(), 10);
        // The last point is neither the low nor the high of its bucket,
        // yet the line still starts at the first x and ends at the last.
        let mut wavy: Vec<(f64, f64)> = (0..200).map(|i| (i as f64, (i % 5) as f64)).collect();
        wavy[199].1 = 2.0;
        let d = downsample(&wavy, 40);
        assert!(d.len() <= 40, "{}", d.len());
        assert_eq!((d[0].0, d[d.len() - 1].0), (0.0, 199.0));
    }
}
