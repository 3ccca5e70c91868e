//! The `?` help: the keys of the view it was opened from first, then the
//! keys that work everywhere, then every other view's, then a legend of
//! the symbols the tree and the panes use. Every key line comes from the
//! live keymap table (the one dispatch reads), so help and keys never
//! disagree, rebindings included.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::runs::Status;
use crate::tui::app::{App, Focus};
use crate::tui::keymap::{Action, Binding, Mode, keys_label};
use crate::tui::overlay::{Help, Overlay};

/// The parts of the help: a view's keys, by mode and (for browsing) by
/// what the keys act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    /// Moving in the tree, views it opens, marks and plans.
    Tree,
    /// Scrolling a focused pane.
    Pane,
    /// The chart in the metrics pane.
    Chart,
    /// Keys that work in the view shown.
    Everywhere,
    /// Any other mode's own keys.
    Mode(Mode),
}

/// Chart keys: they act on the metrics pane's chart.
fn is_chart(a: Action) -> bool {
    matches!(
        a,
        Action::NextSeries
            | Action::PrevSeries
            | Action::CycleSmoothing
            | Action::NextXAxis
            | Action::ToggleLog
            | Action::ZoomChart
            | Action::PinChart
    )
}

/// Keys that scroll a focused pane (and move between panes).
fn is_pane(a: Action) -> bool {
    matches!(
        a,
        Action::Next
            | Action::Prev
            | Action::PageDown
            | Action::PageUp
            | Action::Top
            | Action::Bottom
            | Action::FocusNext
            | Action::FocusPrev
            | Action::Collapse
    )
}

/// True when `b` belongs in `section`, seen from the view `view`.
fn belongs(b: &Binding, section: Section, view: Mode) -> bool {
    let global = matches!(b.action, Action::Help | Action::Quit);
    match section {
        Section::Everywhere => b.mode == view && global,
        Section::Tree => b.mode == Mode::Browse && !global && !is_chart(b.action),
        Section::Pane => b.mode == Mode::Browse && is_pane(b.action),
        Section::Chart => b.mode == Mode::Browse && is_chart(b.action),
        Section::Mode(m) => b.mode == m && !(m == view && global),
    }
}

fn heading(section: Section) -> &'static str {
    match section {
        Section::Tree => "The tree",
        Section::Pane => "A focused pane (Tab)",
        Section::Chart => "The chart (metrics pane)",
        Section::Everywhere => "Everywhere in this view",
        Section::Mode(Mode::Browse) => "Browsing",
        Section::Mode(Mode::Filter) => "Typing a filter (/)",
        Section::Mode(Mode::Help) => "This help",
        Section::Mode(Mode::Confirm) => "A plan to confirm (d, P, D)",
        Section::Mode(Mode::ConfirmCount) => {
            "A plan of more than 10 runs to trash (type the count)"
        }
        Section::Mode(Mode::Promote) => "The promote picker (p)",
        Section::Mode(Mode::PromoteName) => "Editing the target name (e in the picker)",
        Section::Mode(Mode::Viewer) => "A plot full screen (o)",
        Section::Mode(Mode::Compare) => "Runs side by side (c)",
        Section::Mode(Mode::Chart) => "A chart zoomed to the whole screen (z)",
        Section::Mode(Mode::CompareFilter) => "Filtering compare's rows (/ in compare)",
        Section::Mode(Mode::Logs) => "A run's logs (t)",
        Section::Mode(Mode::LogsSearch) => "Searching the logs (/ in the logs)",
        Section::Mode(Mode::Run) => "The run view (w, or Enter on a run)",
        Section::Mode(Mode::RunFilter) => "Filtering the run view's metrics (/ in the run view)",
    }
}

/// The sections in the order the help shows them from `view` (with
/// `focus` when browsing): that view's first.
fn order(view: Mode, focus: Focus) -> Vec<Section> {
    let first: Vec<Section> = match (view, focus) {
        (Mode::Browse, Focus::Tree) => vec![Section::Tree, Section::Chart],
        (Mode::Browse, Focus::Metrics) => vec![Section::Pane, Section::Chart, Section::Tree],
        (Mode::Browse, _) => vec![Section::Pane, Section::Tree, Section::Chart],
        (m, _) => vec![Section::Mode(m)],
    };
    let mut all = first;
    all.push(Section::Everywhere);
    for s in [Section::Tree, Section::Chart] {
        if !all.contains(&s) {
            all.push(s);
        }
    }
    for m in [
        Mode::Filter,
        Mode::Confirm,
        Mode::ConfirmCount,
        Mode::Promote,
        Mode::PromoteName,
        Mode::Viewer,
        Mode::Compare,
        Mode::Chart,
        Mode::CompareFilter,
        Mode::Logs,
        Mode::LogsSearch,
        Mode::Run,
        Mode::RunFilter,
        Mode::Help,
    ] {
        if m != view {
            all.push(Section::Mode(m));
        }
    }
    all
}

/// What the symbols mean, as the tree, the run pane and compare use them.
fn legend() -> Vec<(String, &'static str)> {
    let mut rows: Vec<(String, &'static str)> = [
        (Status::Running, "running: wrote within the active window"),
        (
            Status::Stalled,
            "stalled: says running, wrote nothing lately (not protected)",
        ),
        (Status::Finished, "finished"),
        (Status::Failed, "failed (or crashed, killed, oom…)"),
        (
            Status::Unknown,
            "status unknown (run_info says nothing usable)",
        ),
    ]
    .into_iter()
    .map(|(s, what)| (s.icon().to_string(), what))
    .collect();
    rows.extend([
        (
            "*".to_string(),
            "marked (Space); in compare: the best of a column",
        ),
        (
            "⚠".to_string(),
            "problems reading the run (the run pane lists them)",
        ),
        (
            "↯".to_string(),
            "diverged: the key metric's curve ends in NaN/Inf",
        ),
        (
            "⚑".to_string(),
            "an incident note in the tracker links to the run",
        ),
        ("◇".to_string(), "strays from the layout (runyard check)"),
        ("▸ ▾".to_string(), "a folded / unfolded task or model"),
    ]);
    rows
}

/// The help's lines for the view `h` was opened from.
fn lines<'a>(app: &'a App, h: &Help) -> Vec<Line<'a>> {
    let t = &app.settings.theme;
    let mut lines = Vec::new();
    let view = h.view;
    for (i, section) in order(view, h.focus).into_iter().enumerate() {
        let rows: Vec<&Binding> = app
            .settings
            .bindings
            .iter()
            .filter(|b| belongs(b, section, view))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let title = if i == 0 {
            format!("{} — this view", heading(section))
        } else {
            heading(section).to_string()
        };
        lines.push(Line::from(Span::styled(title, t.title())));
        for b in rows {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<17} ", keys_label(b)), t.metric()),
                Span::raw(b.desc),
            ]));
        }
        lines.push(Line::from(""));
    }
    lines.push(Line::from(Span::styled("Symbols", t.title())));
    for (sym, what) in legend() {
        lines.push(Line::from(vec![
            Span::styled(format!("  {sym:<17} "), t.metric()),
            Span::raw(what),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "Mouse: wheel scrolls, click selects (again to fold).",
        t.dim(),
    )));
    lines
}

/// Draws the help overlay over `area`; returns its largest scroll.
pub fn draw(frame: &mut Frame, app: &App, area: Rect) -> u16 {
    let Some(Overlay::Help(h)) = &app.overlay else {
        return 0;
    };
    let t = &app.settings.theme;
    let lines = lines(app, h);
    let popup = area.centered(
        Constraint::Max(100),
        Constraint::Max(lines.len() as u16 + 2),
    );
    let inner_h = popup.height.saturating_sub(2) as usize;
    let max = lines.len().saturating_sub(inner_h);
    let offset = (h.scroll.offset as usize).min(max);
    let position = format!(
        " {}–{} of {} ",
        offset + 1,
        (offset + inner_h).min(lines.len()),
        lines.len()
    );
    let block = Block::bordered()
        .border_style(t.border(true))
        .title(Span::styled(" keys (Esc closes) ", t.title()))
        .title(Line::from(Span::styled(position, t.dim())).right_aligned())
        .title_bottom(Line::from(vec![
            Span::styled(" j/k PgDn/PgUp g/G ", t.title()),
            Span::raw("scroll  "),
            Span::styled("Esc/? ", t.title()),
            Span::raw("close "),
        ]));
    frame.render_widget(Clear, popup);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    // Lines are cut, not wrapped, so the scroll counts lines as drawn.
    let cut: Vec<Line> = lines
        .into_iter()
        .map(|l| {
            let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
            if unicode_width::UnicodeWidthStr::width(text.as_str()) <= inner.width as usize {
                l
            } else {
                let keys = l.spans.first().cloned();
                let rest: String = l.spans.iter().skip(1).map(|s| s.content.as_ref()).collect();
                let kw = keys.as_ref().map_or(0, |k| {
                    unicode_width::UnicodeWidthStr::width(k.content.as_ref())
                });
                let mut spans: Vec<Span> = keys.into_iter().collect();
                spans.push(Span::raw(super::truncate(
                    &rest,
                    (inner.width as usize).saturating_sub(kw),
                )));
                Line::from(spans)
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(cut).scroll((offset as u16, 0)), inner);
    max.min(u16::MAX as usize) as u16
}
