//! Drawing: the layout, the status line and the key-hint bar. Each pane
//! and popup has its own file.

mod compare;
mod confirm;
mod disk;
mod help;
mod info;
pub mod metrics;
mod promote;
mod tree;
mod viewer;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect, Size};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::app::{App, Areas, Focus};
use super::overlay::Overlay;
use crate::fmt;

/// Below this the layout cannot show anything useful.
const MIN_WIDTH: u16 = 40;
const MIN_HEIGHT: u16 = 10;

/// What a frame measured, for [`crate::tui::update::update`]: where the
/// panes went (for the mouse), how far each can scroll, how many tree rows
/// fit, and the size the plot view wants its image at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrawReport {
    /// Where the tree and panes went.
    pub areas: Areas,
    /// Tree rows that fit.
    pub tree_page: usize,
    /// The largest useful scroll of run_info.
    pub info: u16,
    /// Of the metrics pane.
    pub metrics: u16,
    /// Of the disk pane.
    pub disk: u16,
    /// Of the overlay (help, confirm).
    pub overlay: u16,
    /// The size (columns, rows) the shown plot is drawn at.
    pub plot: Option<Size>,
}

/// Draws one frame from the app and says what it measured.
pub fn draw(frame: &mut Frame, app: &App) -> DrawReport {
    let mut report = DrawReport::default();
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "runyard: terminal too small ({}×{}, need {MIN_WIDTH}×{MIN_HEIGHT})",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(truncate(&msg, area.width as usize)), area);
        return report;
    }
    let [main, status, hints] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let (tree_area, right) = if main.width >= 80 {
        let tree_pct = if main.width < 120 { 50 } else { 45 };
        let [l, r] = Layout::horizontal([
            Constraint::Percentage(tree_pct),
            Constraint::Percentage(100 - tree_pct),
        ])
        .areas(main);
        (l, r)
    } else {
        let [t, b] =
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(main);
        (t, b)
    };
    let [info_area, metrics_area, disk_area] = Layout::vertical([
        Constraint::Percentage(38),
        Constraint::Percentage(37),
        Constraint::Percentage(25),
    ])
    .areas(right);
    report.areas = Areas {
        tree: tree_area,
        panes: [info_area, metrics_area, disk_area],
    };
    report.tree_page = (tree_area.height.saturating_sub(2) as usize).max(1);

    tree::draw(frame, app, tree_area);
    report.info = info::draw(frame, app, info_area);
    report.metrics = metrics::draw(frame, app, metrics_area);
    report.disk = disk::draw(frame, app, disk_area);
    draw_status(frame, app, status);
    draw_hints(frame, app, hints);
    match &app.overlay {
        None => {}
        Some(Overlay::Help(_)) => report.overlay = help::draw(frame, app, area),
        Some(Overlay::Confirm(_)) => report.overlay = confirm::draw(frame, app, area),
        Some(Overlay::Promote(_)) => promote::draw(frame, app, area),
        Some(Overlay::Compare(_)) => compare::draw(frame, app, main),
        // The status and key-hint lines stay: messages (copied, no desktop)
        // and the viewer's keys show there.
        Some(Overlay::Viewer(_)) => report.plot = viewer::draw(frame, app, main),
    }
    report
}

/// Renders text scrolled by `scroll` (clamped to the content) and returns
/// the largest scroll that still shows something, so keys and the wheel
/// stop at the end instead of scrolling into blank space.
fn render_scrolled(frame: &mut Frame, para: Paragraph, area: Rect, scroll: u16) -> u16 {
    let total = para.line_count(area.width).min(u16::MAX as usize) as u16;
    let max = total.saturating_sub(area.height);
    frame.render_widget(para.scroll((scroll.min(max), 0)), area);
    max
}

/// A bordered pane with a title, highlighted when focused.
fn pane<'a>(app: &App, title: &'a str, focus: Focus) -> Block<'a> {
    let focused = app.focus == focus;
    Block::bordered()
        .border_style(app.settings.theme.border(focused))
        .title(Span::styled(
            format!(" {title} "),
            app.settings.theme.title(),
        ))
}

/// Cuts a string to `width` columns, ending in `…` when cut.
pub fn truncate(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw + 1 > width {
            break;
        }
        out.push(c);
        w += cw;
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// A `key value` line for the info panes.
fn fact<'a>(app: &App, key: &str, value: impl Into<Span<'a>>) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{key:<10}"), app.settings.theme.dim()),
        value.into(),
    ])
}

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

fn draw_status(frame: &mut Frame, app: &App, area: Rect) {
    let c = &app.catalog;
    let right = match c.done {
        None => {
            let p = c.progress;
            let tick = (app.scan_started.elapsed().as_millis() / 100) as usize % SPINNER.len();
            format!(
                "{} scanning · {} entries · {}/{} runs sized ",
                SPINNER[tick],
                p.entries,
                c.runs_sized(),
                c.runs.len()
            )
        }
        Some(s) => {
            let cached = if s.cached_runs > 0 {
                format!(" · {} runs cached", s.cached_runs)
            } else {
                String::new()
            };
            let live = if app.live.how.is_empty() {
                String::new()
            } else {
                format!(" · {}", app.live.how)
            };
            format!(
                "scanned {} entries in {:.1}s{cached}{live} ",
                s.entries,
                s.millis as f64 / 1000.0
            )
        }
    };
    let left = match (&app.message, app.applying, &app.busy) {
        (_, Some((done, total)), _) => format!(" applying… {done}/{total} paths"),
        (Some((m, _)), _, _) => format!(" {m}"),
        (None, None, Some(busy)) => format!(" {busy}"),
        (None, None, None) => {
            let all: Vec<_> = c.run_keys().collect();
            let u = c.rollup(&all);
            let mut s = format!(
                " {} runs · {} · {} reclaimable · sort: {}",
                c.runs.len(),
                fmt::size(u.total().disk),
                fmt::size(u.reclaimable().disk),
                app.tree.sort.label()
            );
            if !app.marks.is_empty() {
                s.push_str(&format!(" · {} marked", app.marks.len()));
            }
            if !app.tree.query.is_empty() {
                let shown = app.tree.rows.iter().filter(|r| r.depth == 2).count();
                s.push_str(&format!(
                    " · filter “{}”: {shown} shown",
                    fmt::escape(&app.tree.query)
                ));
            }
            s
        }
    };
    let width = area.width as usize;
    let right = truncate(&right, width * 3 / 5);
    let left = truncate(&left, width.saturating_sub(right.width() + 1));
    let pad = width.saturating_sub(left.width() + right.width());
    let line = Line::from(vec![
        Span::raw(left),
        Span::raw(" ".repeat(pad)),
        Span::styled(right, app.settings.theme.dim()),
    ]);
    frame.render_widget(Paragraph::new(line).style(Style::new()), area);
}

fn draw_hints(frame: &mut Frame, app: &App, area: Rect) {
    let mode = app.mode();
    let mut spans = vec![Span::raw(" ")];
    // From the live keymap, so a rebinding in the config shows here too.
    for b in app.settings.bindings.iter().filter(|b| b.mode == mode) {
        let (Some(hint), Some(first)) = (b.hint, b.keys.first()) else {
            continue;
        };
        let mut keys = super::keymap::key_label(first);
        if let Some(k) = b
            .hint_pair
            .and_then(|p| app.settings.bindings.iter().find(|o| o.name == p))
            .and_then(|o| o.keys.first())
        {
            keys = format!("{keys}/{}", super::keymap::key_label(k));
        }
        spans.push(Span::styled(keys, app.settings.theme.title()));
        spans.push(Span::styled(format!(" {hint}  "), app.settings.theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
