//! The tree pane: tasks → models → runs with status, sizes and key metric.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::{pane, truncate};
use crate::fmt;
use crate::tui::app::{App, Focus};
use crate::tui::tree::{Node, Row};

/// Draws the tree pane.
pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let c = &app.catalog;
    let title = if app.tree.filtering || !app.tree.query.is_empty() {
        let cursor = if app.tree.filtering { "▏" } else { "" };
        format!("/{}{cursor}", fmt::escape(&app.tree.query))
    } else {
        // Another tool's tree says so first, where truncation keeps it.
        let kind = match c.source {
            crate::sources::SourceKind::Layout => String::new(),
            k => format!("{}: ", k.title()),
        };
        format!(
            "{kind}{} ({} runs)",
            fmt::escape(&c.root.to_string_lossy()),
            c.runs.len()
        )
    };
    let title = truncate(&title, area.width.saturating_sub(6) as usize);
    let block = pane(app, &title, Focus::Tree);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if app.tree.rows.is_empty() {
        let text = if c.done.is_none() {
            vec![Line::from("scanning…")]
        } else if !app.tree.query.is_empty() {
            vec![Line::from("no run matches the filter (Esc clears it)")]
        } else {
            vec![
                Line::from(Span::styled("No runs yet.", app.settings.theme.title())),
                Line::from(""),
                Line::from("Runs live in experiments/<task>/<model>/<run_id>/,"),
                Line::from("with run ids like 2025-12-04_14-32-10_seed42."),
                Line::from(""),
                Line::from("Create one folder there and press r to rescan."),
            ]
        };
        frame.render_widget(
            Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: false }),
            inner,
        );
        return;
    }
    let width = inner.width as usize;
    let lines: Vec<Line> = app
        .tree
        .rows
        .iter()
        .enumerate()
        .skip(app.tree.offset)
        .take(inner.height as usize)
        .map(|(i, row)| row_line(app, row, width, i == app.tree.selected))
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn row_line<'a>(app: &App, row: &Row, width: usize, selected: bool) -> Line<'a> {
    let c = &app.catalog;
    let t = &app.settings.theme;
    let (name, count, usage, icon, metric) = match row.node {
        Node::Task(ti) => {
            let keys = c.runs_under(&c.tasks[ti].name, None);
            (
                c.tasks[ti].name.clone(),
                Some(keys.len()),
                Some(c.rollup(&keys)),
                None,
                None,
            )
        }
        Node::Model(ti, mi) => {
            let m = &c.tasks[ti].models[mi];
            (
                m.name.clone(),
                Some(m.runs.len()),
                Some(c.rollup(&m.runs)),
                None,
                None,
            )
        }
        Node::Run(k) => {
            let r = &c.runs[k];
            let status = app.status(k);
            let metric = app
                .key_metric(k)
                .map(|(name, v, _)| (fmt::escape(&name).into_owned(), fmt::metric(v)));
            (r.name.clone(), None, r.usage.clone(), Some(status), metric)
        }
    };
    let indent = "  ".repeat(row.depth as usize);
    let fold = match row.node {
        Node::Run(_) => "",
        _ if row.open => "▾ ",
        _ => "▸ ",
    };
    let marked = matches!(row.node, Node::Run(k) if app.marks.contains(&c.runs[k].path));
    let mut left: Vec<Span> = vec![Span::raw(format!("{indent}{fold}"))];
    if marked {
        left[0] = Span::raw(format!(
            "{}{fold}",
            &indent[..indent.len().saturating_sub(2)]
        ));
        left.push(Span::styled("* ", t.reclaim()));
    }
    if let Some(s) = icon {
        left.push(Span::styled(format!("{} ", s.icon()), t.status(s)));
    }
    let problems = matches!(row.node, Node::Run(k) if !c.runs[k].errors.is_empty()
        || app.loaded.summaries.get(&k).is_some_and(|s| !s.errors.is_empty()));

    // Right-hand columns, dropped as the pane narrows.
    let size = usage
        .as_ref()
        .map_or("…".to_string(), |u| fmt::size_short(u.total().disk));
    let reclaim = usage.as_ref().map_or(String::new(), |u| {
        let r = u.reclaimable().disk;
        if r == 0 {
            "-".into()
        } else {
            fmt::size_short(r)
        }
    });
    let (metric_name, metric_value) = metric.unwrap_or_default();
    let mut right: Vec<Span> = Vec::new();
    let mut right_w = 0;
    if width >= 34 {
        right.push(Span::raw(format!(" {size:>6}")));
        right_w += 7;
    }
    if width >= 42 {
        right.push(Span::styled(format!(" {reclaim:>6}"), t.reclaim()));
        right_w += 7;
    }
    // The key metric gets what is left after a readable name, up to 18
    // columns; when narrow, its value alone.
    let metric_w = width.saturating_sub(right_w + 34).min(18);
    if metric_w >= 6 {
        let full = format!("{metric_name} {metric_value}");
        let m = if full.width() <= metric_w {
            full
        } else {
            truncate(&metric_value, metric_w)
        };
        let m = m.trim().to_string();
        right.push(Span::styled(format!(" {m:<metric_w$}"), t.metric()));
        right_w += metric_w + 1;
    }
    let left_w: usize = left.iter().map(|s| s.content.width()).sum();
    let mut label = fmt::escape(&name).into_owned();
    if let Some(n) = count {
        label.push_str(&format!(" ({n})"));
    }
    // Flags survive a cut name: ⚑ an incident report links to the run,
    // ◇ it strays from the layout, ⚠ it has problems.
    let flagged = matches!(row.node, Node::Run(k)
        if app.notes.backlinks.get(&c.runs[k].path).is_some_and(|b| b.iter().any(|b| b.incident)));
    let strays =
        matches!(row.node, Node::Run(k) if app.notes.findings.contains_key(&c.runs[k].path));
    // ↯ its key metric's curve ends in NaN/Inf (the run diverged).
    let diverged = matches!(row.node, Node::Run(k) if app.loaded.summaries.get(&k).is_some_and(|s| {
        s.diverged_at(&crate::runs::KeySpec::for_task(&app.settings.key_metrics, &c.runs[k].task))
            .is_some()
    }));
    let mut flags = String::new();
    if flagged {
        flags.push_str(" ⚑");
    }
    if diverged {
        flags.push_str(" ↯");
    }
    if strays {
        flags.push_str(" ◇");
    }
    if problems {
        flags.push_str(" ⚠");
    }
    let avail = width.saturating_sub(left_w + right_w);
    let label = format!(
        "{}{flags}",
        truncate(&label, avail.saturating_sub(flags.width()))
    );
    let pad = avail.saturating_sub(label.width());
    // The filter's matches, highlighted in the name.
    let mut name_spans = Vec::new();
    // Match positions index the raw name; an escaped name shifts them, so skip.
    let highlight = if fmt::escape(&name).len() == name.len() {
        &row.highlight[..]
    } else {
        &[]
    };
    if highlight.is_empty() {
        match label.strip_suffix(flags.as_str()) {
            Some(base) if !flags.is_empty() => {
                name_spans.push(Span::raw(base.to_string()));
                name_spans.push(Span::styled(flags.clone(), t.error()));
            }
            _ => name_spans.push(Span::raw(label.clone())),
        }
    } else {
        for (i, ch) in label.chars().enumerate() {
            let style = if highlight.contains(&i) {
                t.matched()
            } else if problems && ch == '⚠' {
                t.error()
            } else {
                Style::new()
            };
            name_spans.push(Span::styled(ch.to_string(), style));
        }
    }
    let mut spans = left;
    spans.extend(name_spans);
    spans.push(Span::raw(" ".repeat(pad)));
    spans.extend(right);
    let line = Line::from(spans);
    if selected {
        line.style(t.selected(app.focus == Focus::Tree))
    } else {
        line
    }
}
