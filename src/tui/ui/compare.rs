//! Runs side by side: a table of runs × metrics (the best of each column
//! marked, the highlighted column sortable) over a chart that overlays one
//! series across the runs.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Clear, Dataset, GraphType, Paragraph};

use super::chart::run_style;
use super::metrics::{bounds, chart_points};
use crate::fmt;
use crate::tui::app::App;

/// Draws the comparison over `area`.
pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(c) = app.compare() else { return };
    let t = &app.settings.theme;
    frame.render_widget(Clear, area);
    let rows = c.table.runs.len() as u16;
    let table_h = (rows + 3).min(area.height / 2).max(4);
    let [top, bottom] =
        Layout::vertical([Constraint::Length(table_h), Constraint::Min(0)]).areas(area);

    // The table: the run's name (what differs), its status and the
    // hyperparameters that differ always show; then as many metric
    // columns as fit from one that keeps the highlighted column in view.
    let inner = Block::bordered().inner(top);
    let width = inner.width as usize;
    let name_w = c
        .table
        .names
        .iter()
        .map(|r| r.chars().count() + 3)
        .max()
        .unwrap_or(3)
        .clamp(6, (width / 3).max(6));
    let status_w = 9;
    let param_w = |i: usize| -> usize {
        let head = c.table.params[i].chars().count();
        let vals = c
            .table
            .config
            .iter()
            .filter_map(|row| row[i].as_ref().map(|v| v.chars().count()))
            .max()
            .unwrap_or(1);
        head.max(vals).clamp(4, 14) + 1
    };
    let mut params = Vec::new();
    let mut fixed = name_w + status_w;
    for i in 0..c.table.params.len() {
        // Hyperparameters take at most two thirds: metrics need room too.
        if fixed + param_w(i) > width * 2 / 3 {
            break;
        }
        fixed += param_w(i);
        params.push(i);
    }
    let metric_cols: Vec<usize> = (0..c.table.columns.len())
        .filter(|&i| c.aliases || c.table.columns[i].same_as.is_none() || i == c.column)
        .collect();
    let col_w = |i: usize| c.table.columns[i].name.chars().count().clamp(7, 16) + 3;
    let avail = width.saturating_sub(fixed);
    let at = metric_cols.iter().position(|&i| i == c.column).unwrap_or(0);
    let mut first = 0;
    while first < at
        && metric_cols[first..=at]
            .iter()
            .map(|&i| col_w(i))
            .sum::<usize>()
            > avail
    {
        first += 1;
    }
    let mut shown = Vec::new();
    let mut used = 0;
    for &i in &metric_cols[first..] {
        if used + col_w(i) > avail {
            break;
        }
        used += col_w(i);
        shown.push(i);
    }
    let hidden_aliases = c.table.columns.len() - metric_cols.len();
    // The title says which columns show, so hidden ones are not a surprise.
    let visible = c.visible();
    let filtered = if c.filter.is_empty() && !c.typing {
        String::new()
    } else {
        format!(
            " · filter /{}{} ({} shown)",
            fmt::escape(&c.filter),
            if c.typing { "▏" } else { "" },
            visible.len()
        )
    };
    let mut title = format!(
        " compare {rows} runs{filtered} · {} differing config keys{} · metrics {}–{} of {}",
        c.table.params.len(),
        if params.len() < c.table.params.len() {
            format!(" ({} shown)", params.len())
        } else {
            String::new()
        },
        first + 1,
        first + shown.len(),
        metric_cols.len(),
    );
    if hidden_aliases > 0 {
        title.push_str(&format!(" (+{hidden_aliases} repeats hidden, a)"));
    }
    title.push_str(" · * best ");
    let block = Block::bordered()
        .border_style(t.border(true))
        .title(Span::styled(title, t.title()));
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
    let rcut = |s: &str, w: usize| -> String {
        let s = fmt::escape(s).into_owned();
        if s.chars().count() <= w {
            format!("{s:>w$}")
        } else {
            let keep: String = s.chars().take(w.saturating_sub(1)).collect();
            format!("{keep}…")
        }
    };
    let mut lines = Vec::new();
    let mut head = vec![
        Span::styled(cut("run", name_w), t.dim()),
        Span::styled(cut("status", status_w), t.dim()),
    ];
    for &i in &params {
        head.push(Span::styled(
            format!("{} ", rcut(&c.table.params[i], param_w(i) - 1)),
            t.title(),
        ));
    }
    for &i in &shown {
        let col = &c.table.columns[i];
        let arrow = match (crate::compare::is_count(&col.name), col.lower_is_better) {
            (true, _) => "",
            (false, true) => "↓",
            (false, false) => "↑",
        };
        let text = format!(" {}", rcut(&format!("{}{arrow}", col.name), col_w(i) - 1));
        let style = if i == c.column {
            t.selected(true)
        } else {
            t.dim()
        };
        head.push(Span::styled(text, style));
    }
    lines.push(Line::from(head));
    // Scroll so the selected row stays in view, among the rows the
    // filter keeps.
    let fit = (inner.height as usize).saturating_sub(1).max(1);
    let at = visible.iter().position(|&r| r == c.row).unwrap_or(0);
    let skip = at
        .saturating_sub(fit - 1)
        .min(visible.len().saturating_sub(fit));
    for &r in visible.iter().skip(skip).take(fit) {
        let name = &c.table.names[r];
        let (color, glyph) = run_style(r);
        let dimmed = c.highlight && r != c.row;
        let mut name_style = if dimmed {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().fg(color)
        };
        if r == c.row {
            name_style = name_style.add_modifier(Modifier::REVERSED);
        }
        let status = c.table.status.get(r).map_or("-", String::as_str);
        let mut spans = vec![
            Span::styled(cut(&format!("{glyph} {name}"), name_w), name_style),
            Span::styled(
                cut(status, status_w),
                if status == "failed" {
                    t.error()
                } else {
                    t.dim()
                },
            ),
        ];
        for &i in &params {
            let v = c.table.config[r][i].as_deref().unwrap_or("-");
            spans.push(Span::raw(format!("{} ", rcut(v, param_w(i) - 1))));
        }
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
    if visible.is_empty() {
        lines.push(Line::from(Span::styled(
            "no row contains the filter's words (Esc in the filter: every row)",
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
        .filter(|(r, _)| visible.contains(r))
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
            let color = if c.highlight && *r != c.row {
                Color::DarkGray
            } else {
                run_style(*r).0
            };
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::new().fg(color))
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
                        " {} ({}/{}, m: next · z: zoom · v: highlight the selected run) · colours and glyphs follow the rows ",
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
