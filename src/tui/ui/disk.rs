//! The disk pane: where a run's (or a task's, a model's) bytes are, with bars.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::pane;
use crate::catalog::{RunUsage, Usage};
use crate::fmt;
use crate::tui::app::{App, Focus};
use crate::tui::tree::Node;

/// Draws the disk pane for the selection; returns its largest scroll.
pub fn draw(frame: &mut Frame, app: &App, area: Rect) -> u16 {
    let block = pane(app, "disk usage", Focus::Disk);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let node = app.selected_node();
    let c = &app.catalog;
    let usage = match node {
        Some(Node::Run(k)) => match &c.runs[k].usage {
            Some(u) => u.clone(),
            None => {
                frame.render_widget(
                    Paragraph::new(Span::styled("sizing…", app.settings.theme.dim())),
                    inner,
                );
                return 0;
            }
        },
        // Summed with the rows: the root's is every run (100,000 on a
        // big tree), every frame otherwise.
        Some(n) => match app.tree.totals.whole(n) {
            Some(u) => u.clone(),
            None => c.rollup(&app.runs_of(node)),
        },
        None => c.rollup(&app.runs_of(node)),
    };
    let mut lines = bars(app, &usage, inner.width as usize);
    if let Some(Node::Task(_) | Node::Model(..)) = node {
        let keys = app.runs_of(node);
        let mut most: Vec<_> = keys
            .iter()
            .filter_map(|&k| Some((k, c.runs[k].usage.as_ref()?.reclaimable().disk)))
            .filter(|(_, r)| *r > 0)
            .collect();
        most.sort_by_key(|(_, r)| std::cmp::Reverse(*r));
        if !most.is_empty() {
            lines.push(Line::from(Span::styled(
                "most to free:",
                app.settings.theme.dim(),
            )));
        }
        for (k, r) in most.into_iter().take(5) {
            lines.push(Line::from(vec![
                Span::styled(
                    format!("  {:>8} ", fmt::size_short(r)),
                    app.settings.theme.reclaim(),
                ),
                Span::raw(
                    fmt::escape(&super::info::short_label(
                        app,
                        node.expect("matched above"),
                        k,
                    ))
                    .into_owned(),
                ),
            ]));
        }
    }
    super::render_scrolled(frame, Paragraph::new(lines), inner, app.panes.disk.offset)
}

fn bars(app: &App, u: &RunUsage, width: usize) -> Vec<Line<'static>> {
    let t = &app.settings.theme;
    let total = u.total().disk.max(1);
    let bar_w = width.saturating_sub(12 + 9 + 16).clamp(0, 30);
    let row = |name: &str, usage: Usage, ephemeral: bool, note: String| {
        let filled = ((usage.disk as f64 / total as f64) * bar_w as f64).round() as usize;
        Line::from(vec![
            Span::styled(format!("{name:<12}"), t.dim()),
            Span::raw(format!("{:>8} ", fmt::size_short(usage.disk))),
            Span::styled("█".repeat(filled.min(bar_w)), t.bar(ephemeral)),
            Span::styled("░".repeat(bar_w - filled.min(bar_w)), t.dim()),
            Span::styled(note, if ephemeral { t.reclaim() } else { t.dim() }),
        ])
    };
    let sparse = |usage: Usage| {
        if usage.apparent > usage.disk.saturating_mul(2) + 4096 {
            format!(" apparent {}", fmt::size_short(usage.apparent))
        } else {
            String::new()
        }
    };
    let prune = if u.prunable.disk > 0 {
        format!(" {} prunable", fmt::size_short(u.prunable.disk))
    } else {
        String::new()
    };
    let mut lines = vec![
        row("tmp", u.tmp, true, " ephemeral".into()),
        row("cache", u.cache, true, " ephemeral".into()),
        row("checkpoints", u.checkpoints, false, prune),
        row("data", u.data, false, sparse(u.data)),
        row("other", u.other, false, sparse(u.other)),
    ];
    lines.push(Line::from(vec![
        Span::styled(format!("{:<12}", "total"), t.dim()),
        Span::raw(format!("{:>8} ", fmt::size_short(u.total().disk))),
        Span::styled(
            format!("· {} reclaimable", fmt::size(u.reclaimable().disk)),
            t.reclaim(),
        ),
    ]));
    if u.shared > 0 {
        lines.push(Line::from(Span::styled(
            format!(
                "{} hard-linked, counted elsewhere",
                fmt::size_short(u.shared)
            ),
            t.dim(),
        )));
    }
    lines
}
