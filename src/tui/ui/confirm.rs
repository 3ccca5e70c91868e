//! The confirm popup: the plan one run at a time (a line per run with its
//! subtotal, its paths below it), what is kept and skipped and why, the
//! total at the top and the bottom, and a question whose default is No.
//! No line wraps: paths are shortened in the middle, keeping the file name.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

use crate::fmt;
use crate::ops::{PlanKind, by_run::by_run};
use crate::tui::app::App;

/// A run as the popup shows it, escaped.
fn run_label(run: &std::path::Path) -> String {
    fmt::escape(&crate::ops::by_run::run_label(run)).into_owned()
}

/// `left` then `right`, the path in `left` shortened so the line fits `width`.
fn fit(indent: &str, path: &str, right: &str, width: usize) -> String {
    let room = width.saturating_sub(indent.width() + right.width()).max(12);
    format!("{indent}{}{right}", fmt::shorten_path(path, room))
}

/// Draws the confirm popup over `area`; returns its largest scroll.
pub fn draw(frame: &mut Frame, app: &App, area: Rect) -> u16 {
    let Some(c) = app.confirm() else { return 0 };
    let t = &app.settings.theme;
    let plan = &c.plan;
    let groups = by_run(plan);
    let total = crate::ops::by_run::total_line(plan, groups.len());
    // The popup's width is known before its lines: they are cut to it.
    let popup_w = (area.width as u32 * 9 / 10).max(20).min(area.width as u32) as u16;
    let width = popup_w.saturating_sub(2) as usize;
    let cut = |s: String| super::truncate(&s, width);
    let mut lines = vec![Line::from(Span::styled(
        cut(format!("{total}.")),
        t.title(),
    ))];
    if plan.kind == PlanKind::Trash {
        lines.push(Line::from(Span::styled(
            cut("Runs go to outputs/.trash/ (undo: `runyard restore`; `runyard trash empty` frees the space).".into()),
            t.dim(),
        )));
    }
    if !c.hidden.is_empty() {
        lines.push(Line::from(Span::styled(
            cut(format!(
                "⚠ {} not shown in the tree now (filter or folding):",
                fmt::count_as(c.hidden.len() as u64, "marked run is", "marked runs are")
            )),
            t.error(),
        )));
        for h in &c.hidden {
            lines.push(Line::from(fit("    ", &fmt::escape(h), "", width)));
        }
    }
    lines.push(Line::from(""));
    for g in &groups {
        // The paths are listed below: a long list of what goes would only
        // push the run's name out of its line.
        let what = g
            .what()
            .filter(|w| w.width() <= 24)
            .unwrap_or_else(|| fmt::count(g.targets.len() as u64, "path"));
        let files = if g.targets.iter().any(|x| x.ident.is_dir) {
            format!(" · {}", fmt::count(g.files, "file"))
        } else {
            String::new()
        };
        let right = format!("  {}{files}", fmt::escape(&what));
        let size = format!("{:>6}  ", fmt::size_short(g.bytes));
        let room = width.saturating_sub(size.width() + right.width()).max(12);
        lines.push(Line::from(vec![
            Span::styled(size, t.reclaim()),
            Span::styled(fmt::shorten_path(&run_label(g.run), room), t.title()),
            Span::styled(
                super::truncate(&right, width.saturating_sub(8 + room)),
                t.dim(),
            ),
        ]));
        for x in &g.targets {
            let rel = x.rel.strip_prefix(&x.run).unwrap_or(&x.rel);
            let rel = fmt::escape(&rel.to_string_lossy()).into_owned();
            let detail = if x.ident.is_dir {
                format!(" · {}", fmt::count(x.files, "file"))
            } else {
                String::new()
            };
            let size = format!("{:>14}  ", fmt::size_short(x.bytes));
            let right = format!("  {}{detail}", fmt::escape(&x.what));
            let room = width.saturating_sub(size.width() + right.width()).max(12);
            lines.push(Line::from(vec![
                Span::styled(size, t.dim()),
                Span::raw(fmt::shorten_path(&rel, room)),
                Span::styled(
                    super::truncate(&right, width.saturating_sub(16 + room)),
                    t.dim(),
                ),
            ]));
        }
    }
    if !plan.kept.is_empty() {
        // What survives, one line per run: the names say it best.
        lines.push(Line::from(Span::styled(
            format!("kept ({}):", plan.kept.len()),
            t.title(),
        )));
        let mut by_run: Vec<(String, Vec<String>)> = Vec::new();
        for n in &plan.kept {
            let (run, rest) = match crate::ops::by_run::split_run(&n.rel) {
                Some((run, rest)) => (run, rest),
                None => (n.rel.clone(), Default::default()),
            };
            let run = fmt::escape(&run.to_string_lossy()).into_owned();
            let name = rest.file_name().map(fmt::escape_os).unwrap_or_default();
            match by_run.iter_mut().find(|(r, _)| *r == run) {
                Some((_, names)) => names.push(name),
                None => by_run.push((run, vec![name])),
            }
        }
        for (run, names) in by_run {
            let names = format!("  {}", names.join(", "));
            let room = (width.saturating_sub(2) / 2).max(12);
            let run = fmt::shorten_path(&run, room.min(run.width()));
            lines.push(Line::from(vec![
                Span::raw(format!("  {run}")),
                Span::styled(
                    super::truncate(&names, width.saturating_sub(2 + run.width())),
                    t.dim(),
                ),
            ]));
        }
    }
    for (title, notes) in [("skipped", &plan.skipped), ("note", &plan.warnings)] {
        if notes.is_empty() {
            continue;
        }
        lines.push(Line::from(Span::styled(
            format!("{title} ({}):", notes.len()),
            t.title(),
        )));
        // The path, then why on its own line: reasons are what to read here.
        for n in notes {
            let why = fmt::escape(&crate::tui::overlay::explorer_words(&n.why)).into_owned();
            lines.push(Line::from(fit("  ", &run_label(&n.rel), "", width)));
            lines.push(Line::from(Span::styled(
                super::truncate(&format!("      {why}"), width),
                t.dim(),
            )));
        }
    }
    if plan.shared > 0 {
        lines.push(Line::from(Span::styled(
            cut(format!(
                "{} of hard-linked files here keep another link: deleting frees nothing of it.",
                fmt::size(plan.shared)
            )),
            t.dim(),
        )));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        cut(format!("Total: {total}.")),
        t.title(),
    )));
    // The status and key-hint lines stay visible below the popup.
    let height = (lines.len() as u16 + 2)
        .min(area.height.saturating_sub(4))
        .max(7);
    let popup = area.centered(Constraint::Length(popup_w), Constraint::Length(height));
    let inner_h = height.saturating_sub(2) as usize;
    let max = lines.len().saturating_sub(inner_h).min(u16::MAX as usize) as u16;
    let offset = c.scroll.offset.min(max) as usize;
    let position = if max == 0 {
        String::new()
    } else {
        format!(
            " {}–{} of {} ",
            offset + 1,
            (offset + inner_h).min(lines.len()),
            lines.len()
        )
    };
    let block = Block::bordered()
        .border_style(t.error())
        .title(Span::styled(format!(" {}? ", plan.kind.verb()), t.title()))
        .title(Line::from(Span::styled(position, t.dim())).right_aligned())
        .title_bottom(Line::from(match &app.count_gate {
            // Trashing many runs: `y` does nothing, the count must be typed.
            Some(g) => vec![
                Span::styled(format!(" type {} ", g.need), t.error()),
                Span::raw(format!("{}▏ ", g.typed)),
                Span::styled("Enter ", t.error()),
                Span::raw("apply when it matches  "),
                Span::styled("Esc ", t.title()),
                Span::raw("no  "),
                Span::styled("↑/↓ ", t.title()),
                Span::raw("scroll "),
            ],
            None => vec![
                Span::styled(" y ", t.error()),
                Span::raw("apply  "),
                Span::styled("n/Esc ", t.title()),
                Span::raw("no  "),
                Span::styled("j/k/G/g ", t.title()),
                Span::raw("scroll  "),
                Span::styled("? ", t.title()),
                Span::raw("keys "),
            ],
        }));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((offset as u16, 0)),
        popup,
    );
    max
}
