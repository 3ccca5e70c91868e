//! Runs side by side: a table of runs × metrics (the best of each column
//! marked, the highlighted column sortable) over a chart that overlays one
//! series across the runs.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Clear, Dataset, GraphType, Paragraph};

use super::metrics::{bounds, chart_points};
use crate::fmt;
use crate::tui::app::App;

/// Line colours of the overlaid runs, in row order (cycled).
const COLORS: [Color; 6] = [
    Color::Cyan,
    Color::Yellow,
    Color::Magenta,
    Color::Green,
    Color::LightRed,
    Color::LightBlue,
];

/// Draws the comparison over `area`.
pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(c) = app.compare() else { return };
    let t = &app.settings.theme;
    frame.render_widget(Clear, area);
    let rows = c.table.runs.len() as u16;
    let table_h = (rows + 3).min(area.height / 2).max(4);
    let [top, bottom] =
        Layout::vertical([Constraint::Length(table_h), Constraint::Min(0)]).areas(area);

    // The table: the run column, then as many metric columns as fit from
    // one that keeps the highlighted column in view.
    let inner = Block::bordered().inner(top);
    let run_w = c
        .table
        .runs
        .iter()
        .map(|r| r.chars().count())
        .max()
        .unwrap_or(3)
        .min(inner.width as usize / 2);
    let col_w = |i: usize| c.table.columns[i].name.chars().count().max(8) + 3;
    let avail = (inner.width as usize).saturating_sub(run_w + 1);
    let mut first = 0;
    while first < c.column && (first..=c.column).map(col_w).sum::<usize>() > avail {
        first += 1;
    }
    let mut shown = Vec::new();
    let mut used = 0;
    for i in first..c.table.columns.len() {
        if used + col_w(i) > avail {
            break;
        }
        used += col_w(i);
        shown.push(i);
    }
    // The title says which columns show, so hidden ones are not a surprise.
    let block = Block::bordered()
        .border_style(t.border(true))
        .title(Span::styled(
            format!(
                " compare {rows} runs (* best, ↑↓ which way is better) · columns {}–{} of {}, h/l · j/k scroll ",
                first + 1,
                first + shown.len(),
                c.table.columns.len()
            ),
            t.title(),
        ));
    frame.render_widget(block, top);
    let cut = |s: &str, w: usize| -> String {
        let s = fmt::escape(s).into_owned();
        if s.chars().count() <= w {
            format!("{s:<w$}")
        } else {
            let keep: String = s.chars().take(w.saturating_sub(1)).collect();
            format!("{keep}…")
        }
    };
    let mut lines = Vec::new();
    let mut head = vec![Span::styled(cut("run", run_w), t.dim())];
    for &i in &shown {
        let col = &c.table.columns[i];
        let arrow = match (crate::compare::is_count(&col.name), col.lower_is_better) {
            (true, _) => "",
            (false, true) => "↓",
            (false, false) => "↑",
        };
        let text = format!(" {:>w$}", format!("{}{arrow}", col.name), w = col_w(i) - 1);
        let style = if i == c.column {
            t.selected(true)
        } else {
            t.dim()
        };
        head.push(Span::styled(text, style));
    }
    lines.push(Line::from(head));
    // Scroll only as far as the last rows filling the table.
    let fit = (inner.height as usize).saturating_sub(1).max(1);
    let skip = c.row.min(c.table.runs.len().saturating_sub(fit));
    for (r, run) in c.table.runs.iter().enumerate().skip(skip) {
        let color = COLORS[r % COLORS.len()];
        let mut spans = vec![Span::styled(cut(run, run_w), Style::new().fg(color))];
        for &i in &shown {
            let best = c.table.columns[i].best == Some(r);
            let text = match c.table.values[r][i] {
                Some(v) => format!("{}{}", fmt::metric(v), if best { "*" } else { " " }),
                None => "- ".to_string(),
            };
            let style = if best {
                t.metric().add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            };
            spans.push(Span::styled(
                format!(" {text:>w$}", w = col_w(i) - 1),
                style,
            ));
        }
        lines.push(Line::from(spans));
    }
    if c.table.columns.is_empty() {
        lines.push(Line::from(Span::styled(
            "these runs have no scalar metrics",
            t.dim(),
        )));
    }
    frame.render_widget(Paragraph::new(lines), inner);

    // The chart: one series overlaid across the runs that have it.
    let Some((name, per_run)) = c.series.get(c.chart) else {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "no series shared by two runs to overlay",
                t.dim(),
            ))
            .block(Block::bordered().border_style(t.border(false))),
            bottom,
        );
        return;
    };
    let width = bottom.width.saturating_sub(10) as usize;
    let data: Vec<(usize, Vec<(f64, f64)>)> = per_run
        .iter()
        .enumerate()
        .filter_map(|(r, p)| {
            p.as_ref().map(|p| {
                (
                    r,
                    chart_points(p, app.chart.smoothing, app.chart.log_y, width),
                )
            })
        })
        .filter(|(_, d)| !d.is_empty())
        .collect();
    let [x0, x1, y0, y1] = bounds(data.iter().map(|(_, d)| d.as_slice()));
    let datasets = data
        .iter()
        .map(|(r, d)| {
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::new().fg(COLORS[r % COLORS.len()]))
                .data(d)
        })
        .collect();
    let ylabel = |v: f64| fmt::metric(if app.chart.log_y { 10f64.powf(v) } else { v });
    let chart = Chart::new(datasets)
        .block(
            Block::bordered()
                .border_style(t.border(false))
                .title(Span::styled(
                    format!(
                        " {} ({}/{}, m: next) · colours follow the rows ",
                        fmt::escape(name),
                        c.chart + 1,
                        c.series.len()
                    ),
                    t.title(),
                )),
        )
        .x_axis(
            Axis::default()
                .bounds([x0, x1])
                .labels([fmt::metric(x0), fmt::metric(x1)]),
        )
        .y_axis(
            Axis::default()
                .bounds([y0, y1])
                .labels([ylabel(y0), ylabel(y1)]),
        );
    frame.render_widget(chart, bottom);
}
