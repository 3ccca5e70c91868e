//! A chart zoomed to the whole screen (`z` on the metrics pane or in
//! compare): round-number ticks beside the data, never over it; the raw
//! line dimmed under TensorBoard's smoothing; a cursor that reads out the
//! step, raw and smoothed values from the file's points; the best point
//! marked; one colour and glyph per run, with a legend, in compare.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Clear, Dataset, GraphType, Paragraph, Widget};

use super::metrics::downsample;
use crate::chart::{self, Prepared, XKind};
use crate::fmt;
use crate::runs::Better;
use crate::tui::app::App;
use crate::tui::overlay::ChartView;
use crate::tui::theme::Theme;

/// Line colours of runs, by row (cycled).
pub const COLORS: [Color; 8] = [
    Color::Cyan,
    Color::Yellow,
    Color::Magenta,
    Color::Green,
    Color::LightRed,
    Color::LightBlue,
    Color::White,
    Color::LightGreen,
];

/// Each run's glyph, drawn at its cursor point and in the legend. Seven
/// glyphs against eight colours: the pair differs for 56 runs, so runs
/// stay told apart past the colours (and without colour at all).
pub const GLYPHS: [char; 7] = ['●', '▲', '■', '◆', '▼', '✚', '✖'];

/// The colour and glyph of row `r`.
pub fn run_style(r: usize) -> (Color, char) {
    (COLORS[r % COLORS.len()], GLYPHS[r % GLYPHS.len()])
}

/// The mark of the best point.
const BEST: &str = "★";

/// Draws the zoomed chart over `area`.
pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(v) = app.zoomed() else { return };
    frame.render_widget(Clear, area);
    let view = View::new(v);
    view.render(&app.settings.theme, area, frame.buffer_mut());
}

/// A zoomed chart, prepared for one frame.
struct View<'a> {
    v: &'a ChartView,
    /// Each line prepared (plot space: log10 when asked).
    prepared: Vec<Prepared>,
    /// x and y bounds over every line.
    x: [f64; 2],
    y: [f64; 2],
    kind: XKind,
    /// The x of the first point (wall-time ticks count from it).
    origin: f64,
    better: Option<Better>,
}

impl<'a> View<'a> {
    fn new(v: &'a ChartView) -> View<'a> {
        // Lines are clipped together, to the percentiles of all their
        // values: each to its own would leave every run's start an outlier.
        let unclipped = chart::Options {
            clip: None,
            ..v.options
        };
        let mut prepared: Vec<Prepared> = v
            .lines
            .iter()
            .map(|l| chart::prepare(&l.points, unclipped))
            .collect();
        if let Some(share) = v.options.clip {
            chart::clip(&mut prepared, share);
        }
        let drawn: Vec<&Prepared> = prepared.iter().filter(|p| !p.raw.is_empty()).collect();
        let fold = |f: fn(&Prepared) -> [f64; 2]| {
            drawn.iter().fold([f64::MAX, f64::MIN], |acc, p| {
                let r = f(p);
                [acc[0].min(r[0]), acc[1].max(r[1])]
            })
        };
        let x = fold(|p| p.x);
        let y = fold(|p| p.y);
        let origin = drawn
            .iter()
            .filter_map(|p| p.raw.first().map(|q| q.0))
            .fold(f64::MAX, f64::min);
        View {
            v,
            kind: XKind::of(&v.x, if origin == f64::MAX { 0.0 } else { origin }),
            origin,
            x,
            y,
            prepared,
            better: crate::runs::summary::direction_of(&v.name),
        }
    }

    fn multi(&self) -> bool {
        self.v.lines.len() > 1
    }

    fn render(&self, t: &Theme, area: Rect, buf: &mut Buffer) {
        if area.height < 6 || area.width < 20 {
            Paragraph::new("too small for the chart: enlarge the terminal or Esc")
                .render(area, buf);
            return;
        }
        let title = Rect { height: 1, ..area };
        Paragraph::new(Span::styled(
            super::truncate(&self.title(), area.width as usize),
            t.title(),
        ))
        .render(title, buf);
        if self.x[0] > self.x[1] {
            Paragraph::new(Span::styled(self.empty_reason(), t.dim())).render(
                Rect {
                    y: area.y + 2,
                    height: 1,
                    ..area
                },
                buf,
            );
            return;
        }
        let legend = self.legend(t, area.width as usize);
        // Title, graph (at least 2 rows), x axis, tick labels, legend,
        // readout: the legend gives way first on a short screen.
        let legend_h = (legend.len() as u16)
            .min(area.height / 3)
            .min(area.height.saturating_sub(6));
        let graph_h = area.height.saturating_sub(4 + legend_h).max(2);
        let yt = self.y_ticks(graph_h);
        let labels: Vec<String> = yt.iter().map(|&v| self.y_label(v)).collect();
        let gutter = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1) as u16 + 1;
        let graph = Rect::new(
            area.x + gutter,
            area.y + 1,
            area.width.saturating_sub(gutter + 1),
            graph_h,
        );
        self.draw_y_axis(t, &yt, &labels, graph, buf);
        self.draw_lines(t, graph, buf);
        let cursor_x = self.x[0] + self.v.cursor * (self.x[1] - self.x[0]);
        self.draw_marks(t, graph, cursor_x, buf);
        let below = graph.y + graph.height;
        self.draw_x_axis(t, graph, below, buf);
        let mut y = below + 2;
        for line in legend.into_iter().take(legend_h as usize) {
            Paragraph::new(line).render(Rect::new(area.x, y, area.width, 1), buf);
            y += 1;
        }
        Paragraph::new(self.readout(t, cursor_x)).render(Rect::new(area.x, y, area.width, 1), buf);
    }

    /// The title: the series, where from, and every choice that changes
    /// what is drawn (smoothing weight, log and what it left out, clipping).
    fn title(&self) -> String {
        let v = self.v;
        let mut s = format!(" {} · {}", fmt::escape(&v.name), fmt::escape(&v.source));
        if v.options.smoothing > 0.0 {
            s.push_str(&format!(
                " · smoothed {} (TensorBoard EMA)",
                v.options.smoothing
            ));
        }
        let sum = |f: fn(&Prepared) -> usize| self.prepared.iter().map(f).sum::<usize>();
        if v.options.log_y {
            match sum(|p| p.not_positive) {
                0 => s.push_str(" · log"),
                n => s.push_str(&format!(" · log: {n} values ≤ 0 left out")),
            }
        }
        if v.options.clip.is_some() {
            s.push_str(&format!(
                " · clipped to 2–98%: {} outliers on the edge",
                sum(|p| p.clipped)
            ));
        }
        match sum(|p| p.non_finite) {
            0 => {}
            n => s.push_str(&format!(" · {n} NaN/Inf left out")),
        }
        if v.options.clip.is_none() && self.outliers_dominate() {
            s.push_str(" · outliers squeeze the rest (C: clip)");
        }
        s.push(' ');
        s
    }

    /// True when the 2nd–98th percentile of the raw values spans less than
    /// a fiftieth of the full y range: the curves are squeezed flat.
    fn outliers_dominate(&self) -> bool {
        let raw: Vec<f64> = self
            .prepared
            .iter()
            .flat_map(|p| p.raw.iter().map(|q| q.1))
            .collect();
        match (chart::percentile(&raw, 0.02), chart::percentile(&raw, 0.98)) {
            (Some(lo), Some(hi)) => (hi - lo) * 50.0 < self.y[1] - self.y[0],
            _ => false,
        }
    }

    fn empty_reason(&self) -> String {
        let total: usize = self.v.lines.iter().map(|l| l.points.len()).sum();
        if total == 0 {
            "no points to draw".into()
        } else if self.v.options.log_y {
            "no value above 0 to draw in log scale (Y: linear)".into()
        } else {
            "every value is NaN or infinite: nothing to draw".into()
        }
    }

    /// 3 to 6 round ticks, fewer on a short graph (one every two rows).
    fn y_ticks(&self, rows: u16) -> Vec<f64> {
        let max = (rows as usize / 2).clamp(2, 6);
        let [lo, hi] = self.y;
        if self.v.options.log_y {
            chart::log_ticks(lo, hi, max)
        } else {
            chart::ticks(lo, hi, max.min(3), max)
        }
    }

    fn y_label(&self, v: f64) -> String {
        fmt::metric(if self.v.options.log_y {
            10f64.powf(v)
        } else {
            v
        })
    }

    /// The column of `x` and the row of `y` in `graph`, as the chart maps them.
    fn cell(&self, graph: Rect, x: f64, y: f64) -> (u16, u16) {
        let fx = (x - self.x[0]) / (self.x[1] - self.x[0]);
        let fy = (self.y[1] - y) / (self.y[1] - self.y[0]);
        let c = (fx * f64::from(graph.width.saturating_sub(1))).round();
        let r = (fy * f64::from(graph.height.saturating_sub(1))).round();
        (
            graph.x + c.clamp(0.0, f64::from(graph.width.saturating_sub(1))) as u16,
            graph.y + r.clamp(0.0, f64::from(graph.height.saturating_sub(1))) as u16,
        )
    }

    fn draw_y_axis(
        &self,
        t: &Theme,
        ticks: &[f64],
        labels: &[String],
        graph: Rect,
        buf: &mut Buffer,
    ) {
        let axis_x = graph.x - 1;
        for row in graph.y..graph.y + graph.height {
            buf[(axis_x, row)].set_symbol("│").set_style(t.dim());
        }
        for (v, label) in ticks.iter().zip(labels) {
            let (_, row) = self.cell(graph, self.x[0], *v);
            buf[(axis_x, row)].set_symbol("┤");
            let w = label.chars().count() as u16;
            buf.set_string(axis_x - w, row, label, t.dim());
        }
    }

    fn draw_x_axis(&self, t: &Theme, graph: Rect, row: u16, buf: &mut Buffer) {
        let axis_y = row;
        buf[(graph.x - 1, axis_y)]
            .set_symbol("└")
            .set_style(t.dim());
        for col in graph.x..graph.x + graph.width {
            buf[(col, axis_y)].set_symbol("─").set_style(t.dim());
        }
        // Fewer ticks until their labels fit with a space between.
        let labels_row = axis_y + 1;
        for max in (2..=6).rev() {
            let ticks = chart::ticks(self.x[0], self.x[1], max.min(3), max);
            let placed: Vec<(u16, String)> = ticks
                .iter()
                .map(|&x| {
                    let (c, _) = self.cell(graph, x, self.y[0]);
                    (c, chart::tick_label(x, self.kind, self.origin))
                })
                .collect();
            let mut spans: Vec<(u16, &String)> = Vec::new();
            let mut end = 0u16;
            let right = graph.x + graph.width;
            let fits = placed.iter().all(|(c, l)| {
                let w = l.chars().count() as u16;
                let start = c
                    .saturating_sub(w / 2)
                    .clamp(graph.x, right.saturating_sub(w));
                let ok = spans.is_empty() || start > end;
                end = start + w;
                spans.push((start, l));
                ok
            });
            if fits || max == 2 {
                for (&(c, _), (start, l)) in placed.iter().zip(&spans) {
                    buf[(c, axis_y)].set_symbol("┬");
                    buf.set_string(*start, labels_row, l.as_str(), t.dim());
                }
                break;
            }
        }
        let name = format!("{}{}", fmt::escape(&self.v.x), self.kind.unit());
        let w = name.chars().count() as u16;
        let at = (graph.x + graph.width).saturating_sub(w).max(graph.x);
        // The axis name sits right of the last tick label when there is
        // room, else it is left to the readout line (which says the x too).
        let free = (at..at + w).all(|c| buf[(c, labels_row)].symbol() == " ");
        if free {
            buf.set_string(at, labels_row, &name, t.dim());
        }
    }

    fn line_style(&self, t: &Theme, r: usize) -> (Style, Style) {
        let (color, _) = run_style(r);
        let dimmed = self.v.highlight.is_some_and(|h| h != r);
        let main = if !self.multi() {
            t.metric()
        } else if dimmed {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().fg(color)
        };
        let raw = if !self.multi() {
            t.dim()
        } else {
            main.add_modifier(Modifier::DIM)
        };
        (main, raw)
    }

    fn draw_lines(&self, t: &Theme, graph: Rect, buf: &mut Buffer) {
        let n = (graph.width as usize) * 2;
        let smoothing = self.v.options.smoothing > 0.0;
        let mut data: Vec<(Vec<(f64, f64)>, Style)> = Vec::new();
        // The highlighted run last, so it is drawn over the others.
        let mut order: Vec<usize> = (0..self.prepared.len()).collect();
        if let Some(h) = self.v.highlight {
            order.retain(|&r| r != h);
            order.push(h);
        }
        // Raw lines first (dimmed under smoothing), smoothed over them all.
        for &r in &order {
            let (main, raw) = self.line_style(t, r);
            let p = &self.prepared[r];
            data.push((downsample(&p.raw, n), if smoothing { raw } else { main }));
        }
        if smoothing {
            for &r in &order {
                let (main, _) = self.line_style(t, r);
                data.push((downsample(&self.prepared[r].smoothed, n), main));
            }
        }
        let datasets: Vec<Dataset> = data
            .iter()
            .filter(|(d, _)| !d.is_empty())
            .map(|(d, style)| {
                Dataset::default()
                    .marker(Marker::Braille)
                    .graph_type(if d.len() == 1 {
                        GraphType::Scatter
                    } else {
                        GraphType::Line
                    })
                    .style(*style)
                    .data(d)
            })
            .collect();
        // No labels: the chart fills `graph` exactly, so ticks and marks
        // placed by `cell` line up with the data.
        Chart::new(datasets)
            .x_axis(Axis::default().bounds(self.x))
            .y_axis(Axis::default().bounds(self.y))
            .render(graph, buf);
    }

    /// The cursor's column, each run's glyph where the cursor meets its
    /// line, and the best point (one run).
    fn draw_marks(&self, t: &Theme, graph: Rect, cursor_x: f64, buf: &mut Buffer) {
        let (col, _) = self.cell(graph, cursor_x, self.y[0]);
        for row in graph.y..graph.y + graph.height {
            let cell = &mut buf[(col, row)];
            if matches!(cell.symbol(), " " | "\u{2800}") {
                cell.set_symbol("┊").set_style(t.dim());
            }
        }
        if !self.multi()
            && let Some((x, y)) = self.best(0)
        {
            let (c, r) = self.cell(graph, x, self.plot_y(y));
            buf[(c, r)]
                .set_symbol(BEST)
                .set_style(t.metric().add_modifier(Modifier::BOLD));
        }
        for (r, line) in self.v.lines.iter().enumerate() {
            let Some((x, raw, s)) = self.read(r, line, cursor_x) else {
                continue;
            };
            let y = if self.v.options.smoothing > 0.0 {
                s
            } else {
                raw
            };
            if self.v.options.log_y && y <= 0.0 {
                continue;
            }
            let (c, row) = self.cell(graph, x, self.plot_y(y));
            let (main, _) = self.line_style(t, r);
            let glyph = if self.multi() { run_style(r).1 } else { '●' };
            buf[(c, row)]
                .set_symbol(&glyph.to_string())
                .set_style(main.add_modifier(Modifier::BOLD));
        }
    }

    fn plot_y(&self, y: f64) -> f64 {
        let y = if self.v.options.log_y { y.log10() } else { y };
        y.clamp(self.y[0], self.y[1])
    }

    /// The best raw point of line `r`, when the name says which way is better.
    fn best(&self, r: usize) -> Option<(f64, f64)> {
        let better = self.better?;
        self.v.lines[r]
            .points
            .iter()
            .copied()
            .filter(|q| q.0.is_finite() && q.1.is_finite())
            .reduce(|a, b| if better.prefers(b.1, a.1) { b } else { a })
    }

    /// The file's point nearest the cursor, within the line's own x range
    /// (a shorter run has no value past its end).
    fn read(
        &self,
        r: usize,
        line: &crate::tui::overlay::ChartLine,
        x: f64,
    ) -> Option<(f64, f64, f64)> {
        let [x0, x1] = self.prepared[r].x;
        if self.prepared[r].raw.is_empty() || x < x0 - (x1 - x0) * 0.02 || x > x1 + (x1 - x0) * 0.02
        {
            return None;
        }
        chart::readout(&line.points, self.v.options.smoothing, x)
    }

    fn x_text(&self, x: f64) -> String {
        let unit = match self.kind {
            XKind::Count => String::new(),
            k => format!(" ({})", chart::tick_label(x, k, self.origin)),
        };
        format!("{} {}{unit}", fmt::escape(&self.v.x), fmt::metric(x))
    }

    /// The line under the chart: at the cursor, the step and (one run) the
    /// raw and smoothed values, and where the best point is.
    fn readout(&self, t: &Theme, cursor_x: f64) -> Line<'static> {
        let smoothing = self.v.options.smoothing > 0.0;
        if self.multi() {
            let at = self
                .v
                .lines
                .iter()
                .enumerate()
                .find_map(|(r, l)| self.read(r, l, cursor_x))
                .map_or(cursor_x, |q| q.0);
            return Line::from(vec![
                Span::styled("cursor ", t.dim()),
                Span::styled(self.x_text(at), t.title()),
                Span::styled(
                    format!(
                        " · each run's {} nearest the cursor, {} in the legend",
                        if smoothing { "raw (smoothed)" } else { "value" },
                        if self.better.is_some() {
                            "best first"
                        } else {
                            "by value"
                        }
                    ),
                    t.dim(),
                ),
            ]);
        }
        let mut spans = vec![Span::styled("cursor ", t.dim())];
        match self.read(0, &self.v.lines[0], cursor_x) {
            Some((x, raw, s)) => {
                spans.push(Span::styled(self.x_text(x), t.title()));
                spans.push(Span::raw(format!(" · raw {}", fmt::metric(raw))));
                if smoothing {
                    spans.push(Span::raw(format!(" · smoothed {}", fmt::metric(s))));
                }
            }
            None => spans.push(Span::styled("no point here", t.dim())),
        }
        Line::from(spans)
    }

    /// How line `r` moved over the last tenth of its steps (smoothed when
    /// smoothing is on): "last 10%: 0.41 → 0.39 ↓".
    fn trend(&self, r: usize) -> Option<String> {
        let (a, b) = chart::tail_change(&self.v.lines[r].points, self.v.options.smoothing, 0.1)?;
        let arrow = match b.partial_cmp(&a) {
            Some(std::cmp::Ordering::Less) => "↓",
            Some(std::cmp::Ordering::Greater) => "↑",
            _ => "→",
        };
        Some(format!(
            "over the last 10% of {}: {} → {} {arrow}",
            fmt::escape(&self.v.x),
            fmt::metric(a),
            fmt::metric(b)
        ))
    }

    /// One entry a run (compare): glyph, name, value at the cursor; packed
    /// into as few lines as fit.
    fn legend(&self, t: &Theme, width: usize) -> Vec<Line<'static>> {
        if !self.multi() {
            // One run: where its best is, and how its end moved.
            let mut spans = Vec::new();
            if let Some((x, y)) = self.best(0) {
                spans.push(Span::styled(
                    format!(
                        "{BEST} best {} at {} {}",
                        fmt::metric(y),
                        fmt::escape(&self.v.x),
                        fmt::metric(x)
                    ),
                    t.metric(),
                ));
            }
            if let Some(trend) = self.trend(0) {
                let sep = if spans.is_empty() { "" } else { " · " };
                spans.push(Span::styled(format!("{sep}{trend}"), t.dim()));
            }
            return if spans.is_empty() {
                Vec::new()
            } else {
                vec![Line::from(spans)]
            };
        }
        let [x0, x1] = self.x;
        let cursor_x = x0 + self.v.cursor * (x1 - x0);
        let smoothing = self.v.options.smoothing > 0.0;
        // Each run's value at the cursor (the smoothed one ranks when
        // smoothing is on: it is the line drawn bright), best first when
        // the metric's direction is known, else smallest first; runs
        // without a point there last.
        let mut entries: Vec<(usize, Option<(f64, f64)>)> = self
            .v
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.points.is_empty())
            .map(|(r, l)| (r, self.read(r, l, cursor_x).map(|(_, raw, s)| (raw, s))))
            .collect();
        let rank = |v: &Option<(f64, f64)>| {
            v.map(|(raw, s)| if smoothing { s } else { raw })
                .filter(|v| !v.is_nan())
        };
        let higher = self.better == Some(Better::Higher);
        entries.sort_by(|a, b| match (rank(&a.1), rank(&b.1)) {
            (Some(x), Some(y)) if higher => y.total_cmp(&x),
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        let best = self
            .better
            .and_then(|_| entries.first())
            .filter(|e| rank(&e.1).is_some())
            .map(|e| e.0);
        let mut lines = Vec::new();
        let mut spans: Vec<Span<'static>> = Vec::new();
        let mut used = 0;
        for (r, value) in entries {
            let line = &self.v.lines[r];
            let (_, glyph) = run_style(r);
            let (main, _) = self.line_style(t, r);
            let value = match value {
                Some((raw, s)) if smoothing => {
                    format!("{} ({})", fmt::metric(raw), fmt::metric(s))
                }
                Some((raw, _)) => fmt::metric(raw),
                None => "-".into(),
            };
            let mark = if best == Some(r) {
                format!(" {BEST}")
            } else {
                String::new()
            };
            let name = super::truncate(&fmt::escape(&line.label), 28);
            let text = format!("{glyph} {name} {value}{mark}   ");
            let w = text.chars().count();
            if used + w > width && !spans.is_empty() {
                lines.push(Line::from(std::mem::take(&mut spans)));
                used = 0;
            }
            used += w;
            let style = if self.v.highlight == Some(r) {
                main.add_modifier(Modifier::BOLD | Modifier::REVERSED)
            } else {
                main
            };
            spans.push(Span::styled(text, style));
        }
        if !spans.is_empty() {
            lines.push(Line::from(spans));
        }
        lines
    }
}
