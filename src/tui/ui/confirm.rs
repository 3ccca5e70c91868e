//! The confirm popup: the plan's exact paths and bytes, what is kept and
//! skipped and why, and a question whose default is No.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::fmt;
use crate::ops::PlanKind;
use crate::tui::app::App;

fn plural(n: u64, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Draws the confirm popup over `area`; returns its largest scroll.
pub fn draw(frame: &mut Frame, app: &App, area: Rect) -> u16 {
    let Some(c) = app.confirm() else { return 0 };
    let t = &app.settings.theme;
    let plan = &c.plan;
    let runs: std::collections::BTreeSet<_> = plan.targets.iter().map(|x| &x.run).collect();
    let what = if plan.kind == PlanKind::Trash {
        "Moves"
    } else {
        "Frees"
    };
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{what} {} — {} in {}, {}.",
            fmt::size(plan.bytes()),
            plural(plan.targets.len() as u64, "path"),
            plural(runs.len() as u64, "run"),
            plural(plan.files(), "file")
        ),
        t.title(),
    ))];
    if plan.kind == PlanKind::Trash {
        lines.push(Line::from(Span::styled(
            "Runs go to outputs/.trash/ (restore with `runyard restore`; `runyard trash empty` frees the space).",
            t.dim(),
        )));
    }
    if !c.hidden.is_empty() {
        lines.push(Line::from(Span::styled(
            format!(
                "⚠ {} marked runs are not shown in the tree now (filter or folding):",
                c.hidden.len()
            ),
            t.error(),
        )));
        for h in &c.hidden {
            lines.push(Line::from(format!("    {}", fmt::escape(h))));
        }
    }
    lines.push(Line::from(""));
    for x in &plan.targets {
        let detail = if x.ident.is_dir {
            format!("  ({} files)", x.files)
        } else {
            String::new()
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:>9}  ", fmt::size_short(x.bytes)), t.reclaim()),
            Span::raw(fmt::escape(&x.rel.to_string_lossy()).into_owned()),
            Span::styled(format!("  {}{detail}", fmt::escape(&x.what)), t.dim()),
        ]));
    }
    for (title, notes) in [
        ("kept", &plan.kept),
        ("skipped", &plan.skipped),
        ("note", &plan.warnings),
    ] {
        if notes.is_empty() {
            continue;
        }
        lines.push(Line::from(Span::styled(format!("{title}:"), t.title())));
        for n in notes {
            lines.push(Line::from(vec![
                Span::raw(format!("  {}", fmt::escape(&n.rel.to_string_lossy()))),
                Span::styled(format!("  {}", fmt::escape(&n.why)), t.dim()),
            ]));
        }
    }
    if plan.shared > 0 {
        lines.push(Line::from(Span::styled(
            format!(
                "{} of hard-linked files here keep another link: deleting frees nothing of it.",
                fmt::size(plan.shared)
            ),
            t.dim(),
        )));
    }
    let height = (lines.len() as u16 + 4)
        .min(area.height.saturating_sub(2))
        .max(7);
    let popup = area.centered(Constraint::Percentage(90), Constraint::Length(height));
    let block = Block::bordered()
        .border_style(t.error())
        .title(Span::styled(format!(" {}? ", plan.kind.verb()), t.title()))
        .title_bottom(Line::from(vec![
            Span::styled(" y ", t.error()),
            Span::raw("apply   "),
            Span::styled("n/Esc/Enter ", t.title()),
            Span::raw("no, change nothing   "),
            Span::styled("j/k ", t.title()),
            Span::raw("scroll "),
        ]));
    frame.render_widget(Clear, popup);
    let para = Paragraph::new(lines)
        .block(block)
        .wrap(Wrap { trim: false });
    // The block's borders are counted in the lines: the last useful scroll
    // leaves the final line above the bottom border.
    let max =
        (para.line_count(popup.width).min(u16::MAX as usize) as u16).saturating_sub(popup.height);
    frame.render_widget(para.scroll((c.scroll.offset, 0)), popup);
    max
}
