//! Drawing: the layout, the status line and the key-hint bar. Each pane
//! and popup has its own file.

mod chart;
mod compare;
mod confirm;
mod disk;
mod help;
pub(crate) mod info;
mod logs;
pub mod metrics;
mod promote;
mod run_view;
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
    let shape = Shape::of(main.width, main.height);
    let (tree_area, right) = if shape.side_by_side {
        let [l, r] = Layout::horizontal([
            Constraint::Percentage(shape.tree_pct),
            Constraint::Percentage(100 - shape.tree_pct),
        ])
        .areas(main);
        (l, r)
    } else {
        let [t, b] =
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(main);
        (t, b)
    };
    // Stacked, each pane gets its share; as tabs, the shown one gets it all
    // and the others none (their drawing is skipped).
    let [info_area, metrics_area, disk_area] = if shape.tabs {
        let mut areas = [Rect::default(); 3];
        areas[tab_index(app.tab)] = right;
        areas
    } else {
        Layout::vertical([
            Constraint::Percentage(38),
            Constraint::Percentage(37),
            Constraint::Percentage(25),
        ])
        .areas(right)
    };
    report.areas = Areas {
        tree: tree_area,
        panes: [info_area, metrics_area, disk_area],
    };
    // Less the borders and the column header.
    report.tree_page = (tree_area.height.saturating_sub(3) as usize).max(1);

    use crate::tui::spans::span;
    span("tree_pane", || tree::draw(frame, app, tree_area));
    if !info_area.is_empty() {
        report.info = span("info_pane", || info::draw(frame, app, info_area));
    }
    if !metrics_area.is_empty() {
        report.metrics = span("metrics_pane", || metrics::draw(frame, app, metrics_area));
    }
    if !disk_area.is_empty() {
        report.disk = span("disk_pane", || disk::draw(frame, app, disk_area));
    }
    if shape.tabs {
        draw_tabs(frame, app, right);
    }
    draw_status(frame, app, status);
    draw_hints(frame, app, hints);
    match &app.overlay {
        None => {}
        Some(Overlay::Help(_)) => report.overlay = help::draw(frame, app, area),
        Some(Overlay::Confirm(_)) => report.overlay = confirm::draw(frame, app, area),
        Some(Overlay::Promote(_)) => promote::draw(frame, app, area),
        Some(Overlay::Compare(_)) => compare::draw(frame, app, main),
        Some(Overlay::Chart(_)) => chart::draw(frame, app, main),
        Some(Overlay::Logs(_)) => logs::draw(frame, app, main),
        Some(Overlay::Run(_)) => run_view::draw(frame, app, main),
        // The status and key-hint lines stay: messages (copied, no desktop)
        // and the viewer's keys show there.
        Some(Overlay::Viewer(_)) => report.plot = viewer::draw(frame, app, main),
    }
    report
}

/// How the main area is shared at a size (the breakpoint table in
/// docs/explorer.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// The tree left, the panes right (else the tree above them).
    pub side_by_side: bool,
    /// The tree's share of the width, side by side.
    pub tree_pct: u16,
    /// The three panes share one place as tabs (Tab shows the next).
    pub tabs: bool,
}

impl Shape {
    /// The shape for a main area of `width` × `height`.
    pub fn of(width: u16, height: u16) -> Shape {
        let side_by_side = width >= 80;
        // At 60 columns the tree has the full width; from 120 it gets as
        // much, so a wider terminal never shows fewer tree columns.
        let tree_pct = match width {
            0..120 => 64,
            120..160 => 50,
            _ => 45,
        };
        // Stacked, each pane needs room for a few lines and the chart for
        // ten: below that height they take turns.
        let tabs = !side_by_side || width < 120 || height < 36;
        Shape {
            side_by_side,
            tree_pct,
            tabs,
        }
    }
}

fn tab_index(f: Focus) -> usize {
    match f {
        Focus::Metrics => 1,
        Focus::Disk => 2,
        _ => 0,
    }
}

/// The tab row over the shared pane's top border: which pane is shown,
/// and that Tab shows the next.
fn draw_tabs(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.settings.theme;
    let mut spans = vec![Span::raw("─")];
    for (i, name) in ["run", "metrics", "disk"].into_iter().enumerate() {
        let shown = tab_index(app.tab) == i;
        let label = if shown {
            format!("[{name}]")
        } else {
            format!(" {name} ")
        };
        let style = if shown {
            t.selected(app.focus != Focus::Tree)
        } else {
            t.dim()
        };
        spans.push(Span::styled(label, style));
    }
    let row = Rect {
        x: area.x + 1,
        y: area.y,
        width: area.width.saturating_sub(2),
        height: 1.min(area.height),
    };
    frame.render_widget(Paragraph::new(Line::from(spans)), row);
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
    // Focus shows without colour too: a thick border and a marked title.
    let (kind, title) = if focused {
        (ratatui::widgets::BorderType::Thick, format!(" ▶ {title} "))
    } else {
        (ratatui::widgets::BorderType::Plain, format!(" {title} "))
    };
    Block::bordered()
        .border_type(kind)
        .border_style(app.settings.theme.border(focused))
        .title(Span::styled(title, app.settings.theme.title()))
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

/// The status line, by priority: what is under way or just happened
/// (applying, a message, the typed count a confirm waits for), the marks
/// and the filter's count come first and are never cut; the tree's totals
/// next; the scan statistics last, cut first.
fn draw_status(frame: &mut Frame, app: &App, area: Rect) {
    let c = &app.catalog;
    let scan = match c.done {
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
    let mut first: Vec<String> = Vec::new();
    if let Some(g) = &app.count_gate {
        first.push(format!(
            "type {} then Enter to trash {} runs{}: {}▏",
            g.need,
            g.need,
            if g.hidden > 0 {
                format!(" ({} hidden by the filter)", g.hidden)
            } else {
                String::new()
            },
            g.typed
        ));
    }
    match (&app.message, app.applying, &app.busy) {
        (_, Some((done, total)), _) => first.push(format!("applying… {done}/{total} paths")),
        (Some((m, _)), _, _) => first.push(m.clone()),
        (None, None, Some(busy)) => first.push(busy.clone()),
        (None, None, None) => {}
    }
    if !app.marks.is_empty() {
        let marks = super::update::marks_summary(app);
        // A message about the marks already says it.
        if !first.iter().any(|m| m.contains(&marks)) {
            first.push(marks);
        }
    }
    if !app.tree.query.is_empty() {
        let pending = crate::tui::query_filter::pending(c, &app.configs, &app.tree.query);
        first.push(format!(
            "filter: {} of {} runs{}",
            app.tree.shown.count,
            c.runs.len(),
            if pending > 0 {
                format!(" ({pending} pending: config not read yet)")
            } else {
                String::new()
            }
        ));
    }
    // Summed with the rows, not per frame (100,000 runs' usage).
    let u = &app.tree.totals.all;
    let mut sort = app.tree.sort.label();
    if app.tree.reverse {
        sort.push_str(" ↑");
    }
    let totals = format!(
        "{} runs · {} · {} reclaimable · sort: {sort}",
        c.runs.len(),
        fmt::size(u.total().disk),
        fmt::size(u.reclaimable().disk),
    );
    let width = area.width as usize;
    let mut left = format!(" {}", first.join(" · "));
    if first.is_empty() {
        left = format!(" {totals}");
    } else if left.width() + 3 + 12 <= width {
        left = truncate(&format!("{left} · {totals}"), width);
    }
    let left = truncate(&left, width);
    let room = width.saturating_sub(left.width() + 3);
    let right = if room >= 12 {
        truncate(&scan, room)
    } else {
        String::new()
    };
    let pad = width.saturating_sub(left.width() + right.width());
    let t = &app.settings.theme;
    let mut spans = vec![Span::raw(left)];
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(right, t.dim()));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(Style::new()), area);
}

/// Keys of a focused pane for the hint line: (binding name, label).
fn pane_hints(focus: Focus) -> &'static [(&'static str, &'static str)] {
    const SCROLL: [(&str, &str); 4] = [
        ("down", "scroll"),
        ("bottom", "end"),
        ("focus_next", "next pane"),
        ("collapse", "tree"),
    ];
    match focus {
        Focus::Tree => &[],
        Focus::Metrics => &[
            ("down", "scroll"),
            ("next_series", "series"),
            ("smoothing", "smooth"),
            ("x_axis", "x axis"),
            ("log_scale", "log y"),
            ("focus_next", "next pane"),
            ("collapse", "tree"),
        ],
        _ => &SCROLL,
    }
}

fn draw_hints(frame: &mut Frame, app: &App, area: Rect) {
    let mode = app.mode();
    let mut spans = vec![Span::raw(" ")];
    let pane = pane_hints(app.focus);
    if mode == super::keymap::Mode::Browse && !pane.is_empty() {
        // A pane has focus: its keys, not the tree's.
        for (name, label) in pane {
            let Some(k) = app
                .settings
                .bindings
                .iter()
                .find(|b| b.name == *name)
                .and_then(|b| b.keys.first())
            else {
                continue;
            };
            let mut keys = super::keymap::key_label(k);
            if *name == "down"
                && let Some(up) = app
                    .settings
                    .bindings
                    .iter()
                    .find(|b| b.name == "up")
                    .and_then(|b| b.keys.first())
            {
                keys = format!("{keys}/{}", super::keymap::key_label(up));
            }
            spans.push(Span::styled(keys, app.settings.theme.title()));
            spans.push(Span::styled(
                format!(" {label}  "),
                app.settings.theme.dim(),
            ));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        return;
    }
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
        // Whole hints only: a cut one ("q q") reads as a different key.
        let used: usize = spans.iter().map(|s| s.content.width()).sum();
        if used + keys.width() + hint.width() + 1 > area.width as usize {
            break;
        }
        spans.push(Span::styled(keys, app.settings.theme.title()));
        spans.push(Span::styled(format!(" {hint}  "), app.settings.theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
