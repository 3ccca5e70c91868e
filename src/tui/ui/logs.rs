//! The logs pane: a run's log file, its last lines following the end (or
//! scrolled), search matches highlighted, and a title that says which
//! file, whether it follows, and what was left out.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::truncate;
use crate::fmt;
use crate::tui::app::App;
use crate::tui::overlay::Overlay;
use crate::tui::watch::LogsView;

/// Draws the logs pane over `area`.
pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(Overlay::Logs(v)) = &app.overlay else {
        return;
    };
    let t = &app.settings.theme;
    frame.render_widget(ratatui::widgets::Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.title())
        .title(Span::styled(
            truncate(&title(v), area.width.saturating_sub(2) as usize),
            t.title(),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height < 2 || inner.width < 10 {
        return;
    }
    let status = Rect {
        y: inner.y + inner.height - 1,
        height: 1,
        ..inner
    };
    let body = Rect {
        height: inner.height - 1,
        ..inner
    };
    let height = body.height as usize;
    let width = body.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    if let Some(e) = &v.error {
        lines.push(Line::from(Span::styled(
            fmt::escape(e).into_owned(),
            t.error(),
        )));
    } else if v.lines.is_empty() {
        lines.push(Line::from(Span::styled(
            if v.files.is_empty() {
                "reading…"
            } else {
                "(empty so far)"
            },
            t.dim(),
        )));
    }
    let first = v.first_shown(height.saturating_sub(lines.len()));
    let needle = v.search.to_ascii_lowercase();
    for (i, l) in v
        .lines
        .iter()
        .enumerate()
        .skip(first)
        .take(height.saturating_sub(lines.len()))
    {
        let text = truncate(&fmt::escape(l), width);
        let current = v.current == Some(i);
        lines.push(highlight(&text, &needle, current, t));
    }
    frame.render_widget(Paragraph::new(lines), body);
    let shown_to = (first + height).min(v.lines.len());
    let n_matches = if v.search.is_empty() {
        String::new()
    } else {
        let m = v.matches().len();
        format!(
            " · /{}{} {m} match{}",
            fmt::escape(&v.search),
            if v.typing { "▏" } else { "" },
            if m == 1 { "" } else { "es" }
        )
    };
    let where_ = if v.follow {
        "following ●".to_string()
    } else {
        format!("lines {}–{} of {}", first + 1, shown_to, v.lines.len())
    };
    let dropped = if v.dropped > 0 || v.skipped {
        " · earlier lines not kept".to_string()
    } else {
        String::new()
    };
    frame.render_widget(
        Paragraph::new(Span::styled(
            truncate(&format!("{where_}{dropped}{n_matches}"), width),
            t.dim(),
        )),
        status,
    );
}

/// The pane's title: the run and the file, `i/n` when it has several.
fn title(v: &LogsView) -> String {
    let file = v
        .files
        .get(v.file)
        .map(|f| fmt::escape(f).into_owned())
        .unwrap_or_else(|| "logs".into());
    let which = if v.files.len() > 1 {
        format!(" ({}/{}, Tab: next)", v.file + 1, v.files.len())
    } else {
        String::new()
    };
    format!(" {file}{which} · {} ", fmt::escape(&v.label))
}

/// A line with every match of `needle` (ASCII case-insensitive) styled,
/// reversed on the line of the current match.
fn highlight<'a>(
    text: &str,
    needle: &str,
    current: bool,
    t: &crate::tui::theme::Theme,
) -> Line<'a> {
    if needle.is_empty() {
        return Line::from(text.to_string());
    }
    let lower = text.to_ascii_lowercase();
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find(needle) {
        let s = at + i;
        let e = s + needle.len();
        spans.push(Span::raw(text[at..s].to_string()));
        let mut style = t.matched();
        if current {
            style = style.add_modifier(Modifier::REVERSED);
        }
        spans.push(Span::styled(text[s..e].to_string(), style));
        at = e;
    }
    spans.push(Span::raw(text[at..].to_string()));
    Line::from(spans)
}
