//! The run view: the run's overview (status, times, command, key config,
//! final and best values) beside a grid of every metric chart, or above
//! it below 120 columns. The selected chart's border is bright; `z`
//! zooms it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Clear, Dataset, GraphType, Paragraph, Wrap};

use super::metrics::{bounds, chart_points};
use super::truncate;
use crate::fmt;
use crate::runs::RunDetails;
use crate::runs::metrics::Series;
use crate::tui::app::App;
use crate::tui::overlay::Overlay;
use crate::tui::run_view::{OVERVIEW_ROWS, OVERVIEW_WIDTH, RunView};

/// Draws the run view over `area` (the panes' area: status and keys stay).
pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(Overlay::Run(v)) = &app.overlay else {
        return;
    };
    frame.render_widget(Clear, area);
    let t = &app.settings.theme;
    let details = app.selected_details();
    let (overview, grid) = if area.width >= 120 {
        (
            Rect {
                width: OVERVIEW_WIDTH,
                ..area
            },
            Rect {
                x: area.x + OVERVIEW_WIDTH,
                width: area.width - OVERVIEW_WIDTH,
                ..area
            },
        )
    } else {
        let top = OVERVIEW_ROWS.min(area.height / 2);
        (
            Rect {
                height: top,
                ..area
            },
            Rect {
                y: area.y + top,
                height: area.height - top,
                ..area
            },
        )
    };
    draw_overview(frame, app, details, overview);
    let Some(d) = details else {
        frame.render_widget(
            Paragraph::new(Span::styled("reading the run…", t.dim())),
            grid,
        );
        return;
    };
    let n = v.shown(&d.metrics.series).len();
    let (cols, rows) = v.grid_for(area.width, area.height, n);
    draw_grid(frame, app, v, &d.metrics.series, grid, (cols, rows));
}

/// The overview: what the run is and how it ended (or where it is).
fn draw_overview(frame: &mut Frame, app: &App, d: Option<&RunDetails>, area: Rect) {
    let t = &app.settings.theme;
    let Some(k) = app.selected_run() else {
        return;
    };
    let r = &app.catalog.runs[k];
    let status = app.status(k);
    let key = |k: &str| Span::styled(format!("{k:<8}"), t.dim());
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{} {} ", status.icon(), status.word()),
            t.status(status),
        ),
        Span::styled(fmt::escape(&r.label()).into_owned(), t.title()),
    ])];
    let mut times = Vec::new();
    if let Some(ts) = r.time() {
        times.push(format!("started {}", fmt::age(ts, app.now)));
    }
    if let Some(ts) = r.last_write() {
        times.push(format!("last write {}", fmt::age(ts, app.now)));
    }
    if !times.is_empty() {
        lines.push(Line::from(vec![key("time"), Span::raw(times.join(" · "))]));
    }
    if let Some(cmd) = d.and_then(|d| d.info.as_ref()?.command.as_deref()) {
        lines.push(Line::from(vec![
            key("command"),
            Span::raw(fmt::escape(cmd).into_owned()),
        ]));
    }
    // Key config: Hydra's overrides when there are, else the first leaves.
    let config: Vec<String> = match d {
        Some(d) => match &d.overrides {
            Some(o) if !o.items.is_empty() => o.items.clone(),
            _ => d
                .config
                .as_ref()
                .map(|c| {
                    c.summary()
                        .into_iter()
                        .filter(|(k, _)| !k.contains("dir") && !k.contains("path"))
                        .take(6)
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect()
                })
                .unwrap_or_default(),
        },
        None => Vec::new(),
    };
    if !config.is_empty() {
        lines.push(Line::from(vec![
            key("config"),
            Span::raw(fmt::escape(&config.join(" ")).into_owned()),
        ]));
    }
    let head = lines.len();
    // Final and best of each curve (scalars after), as LEET's summary.
    if let Some(d) = d {
        for s in &d.series {
            let last = s.stats.last_finite.map(|(_, y)| fmt::metric(y));
            let best = match s.better {
                Some(crate::runs::Better::Lower) => s.stats.min,
                Some(crate::runs::Better::Higher) => s.stats.max,
                None => None,
            };
            let mut spans = vec![
                Span::raw(format!("{} ", fmt::escape(&s.name))),
                Span::styled(last.unwrap_or_else(|| "-".into()), t.metric()),
            ];
            if let Some((x, y)) = best {
                spans.push(Span::styled(
                    format!("  best {} at {} {}", fmt::metric(y), s.x, fmt::metric(x)),
                    t.dim(),
                ));
            }
            lines.push(Line::from(spans));
        }
        for m in &d.key_metrics {
            if !d.series.iter().any(|s| s.name == m.name) {
                lines.push(Line::from(vec![
                    Span::raw(format!("{} ", fmt::escape(&m.name))),
                    Span::styled(fmt::metric(m.value), t.metric()),
                ]));
            }
        }
    }
    let narrow = area.width < 120;
    if narrow && let Some(d) = d {
        // Above the grid there is room for a few lines: the final values
        // come second, all on one line, before times and command.
        let mut finals: Vec<String> = d
            .series
            .iter()
            .filter_map(|s| {
                let (_, y) = s.stats.last_finite?;
                Some(format!("{} {}", fmt::escape(&s.name), fmt::metric(y)))
            })
            .collect();
        finals.extend(
            d.key_metrics
                .iter()
                .filter(|m| !d.series.iter().any(|s| s.name == m.name))
                .map(|m| format!("{} {}", fmt::escape(&m.name), fmt::metric(m.value))),
        );
        finals.dedup();
        lines.truncate(head);
        lines.insert(1, Line::from(Span::styled(finals.join(" · "), t.metric())));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(" run ", t.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if !narrow {
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    } else {
        // Above the grid: one line each, cut to the width.
        let lines: Vec<Line> = lines
            .into_iter()
            .map(|l| {
                let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
                let style = l.spans.first().map(|s| s.style).unwrap_or_default();
                Line::from(Span::styled(truncate(&text, inner.width as usize), style))
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

/// The grid of charts: the page holding the selected chart.
fn draw_grid(
    frame: &mut Frame,
    app: &App,
    v: &RunView,
    series: &[Series],
    area: Rect,
    (cols, rows): (usize, usize),
) {
    let t = &app.settings.theme;
    let shown = v.shown(series);
    // One line for the grid's own title: filter, page, grid size.
    let head = Rect { height: 1, ..area };
    let body = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    let per_page = cols * rows;
    let selected = v.selected.min(shown.len().saturating_sub(1));
    let page = selected / per_page.max(1);
    let pages = shown.len().div_ceil(per_page.max(1)).max(1);
    let filter = if v.typing || !v.filter.is_empty() {
        format!(
            " · /{}{}",
            fmt::escape(&v.filter),
            if v.typing { "▏" } else { "" }
        )
    } else {
        String::new()
    };
    let title = format!(
        " {} of {} metrics{filter} · {cols}×{rows} (+/-) · page {}/{pages}",
        shown.len(),
        series.len(),
        page + 1
    );
    frame.render_widget(
        Paragraph::new(Span::styled(truncate(&title, head.width as usize), t.dim())),
        head,
    );
    if shown.is_empty() {
        let why = if series.is_empty() {
            "this run has no metric curves (yet)"
        } else {
            "no metric name holds the filter's words (Esc clears it)"
        };
        frame.render_widget(
            Paragraph::new(Span::styled(why, t.dim())),
            Rect {
                y: body.y + 1,
                height: 1,
                ..body
            },
        );
        return;
    }
    let (w, h) = (body.width / cols as u16, body.height / rows as u16);
    for (slot, &i) in shown
        .iter()
        .skip(page * per_page)
        .take(per_page)
        .enumerate()
    {
        let (c, r) = ((slot % cols) as u16, (slot / cols) as u16);
        let cell = Rect {
            x: body.x + c * w,
            y: body.y + r * h,
            width: if c as usize == cols - 1 {
                body.width - c * w
            } else {
                w
            },
            height: if r as usize == rows - 1 {
                body.height - r * h
            } else {
                h
            },
        };
        draw_chart(
            frame,
            app,
            &series[i],
            page * per_page + slot == selected,
            cell,
        );
    }
}

/// One small chart: the series' name and last value in the border, the
/// line (smoothed as the pane's chart is), the y range at its corners.
fn draw_chart(frame: &mut Frame, app: &App, s: &Series, selected: bool, area: Rect) {
    let t = &app.settings.theme;
    let last = s
        .stats
        .last_finite
        .map(|(_, y)| fmt::metric(y))
        .unwrap_or_else(|| "-".into());
    let name = fmt::escape(&s.name);
    let title = truncate(
        &format!(" {name} {last} "),
        area.width.saturating_sub(2) as usize,
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if selected { t.title() } else { t.dim() })
        .title(Span::styled(
            title,
            if selected { t.title() } else { t.metric() },
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height < 2 || inner.width < 8 {
        return;
    }
    let data = chart_points(
        &s.points,
        app.chart.smoothing,
        app.chart.log_y,
        inner.width as usize,
    );
    if data.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled("no finite value", t.dim())),
            inner,
        );
        return;
    }
    let [x0, x1, y0, y1] = bounds(std::iter::once(data.as_slice()));
    // The range as text on the bottom line: x span and y span.
    let foot = Rect {
        y: inner.y + inner.height - 1,
        height: 1,
        ..inner
    };
    let plot = Rect {
        height: inner.height - 1,
        ..inner
    };
    let dataset = Dataset::default()
        .marker(Marker::Braille)
        .graph_type(if data.len() == 1 {
            GraphType::Scatter
        } else {
            GraphType::Line
        })
        .style(if selected { t.title() } else { t.metric() })
        .data(&data);
    frame.render_widget(
        Chart::new(vec![dataset])
            .x_axis(Axis::default().bounds([x0, x1]))
            .y_axis(Axis::default().bounds([y0, y1])),
        plot,
    );
    let range = format!(
        "{} {}–{} · y {}–{}",
        fmt::escape(&s.x),
        fmt::metric(x0),
        fmt::metric(x1),
        fmt::metric(y0),
        fmt::metric(y1)
    );
    frame.render_widget(
        Paragraph::new(Span::styled(truncate(&range, foot.width as usize), t.dim())),
        foot,
    );
}
