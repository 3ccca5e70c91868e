//! The `?` overlay: the bindings of the keymap table, by mode.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::tui::app::App;
use crate::tui::keymap::{Mode, keys_label};

/// Draws the help overlay over `area`; returns its largest scroll.
pub fn draw(frame: &mut Frame, app: &App, area: Rect) -> u16 {
    let t = &app.settings.theme;
    let mut lines = Vec::new();
    for (mode, heading) in [
        (Mode::Browse, "Browsing"),
        (Mode::Filter, "Typing a filter"),
        (Mode::Confirm, "Confirming a change"),
        (Mode::Help, "This help"),
    ] {
        lines.push(Line::from(Span::styled(heading, t.title())));
        for b in app.settings.bindings.iter().filter(|b| b.mode == mode) {
            let keys = format!("  {:<14}", keys_label(b));
            lines.push(Line::from(vec![
                Span::styled(keys, t.metric()),
                Span::raw(b.desc),
            ]));
        }
        lines.push(Line::from(""));
    }
    lines.push(Line::from(Span::styled(
        "Mouse: wheel scrolls, click selects (again to fold).",
        t.dim(),
    )));
    let popup = area.centered(
        Constraint::Max(100),
        Constraint::Max(lines.len() as u16 + 2),
    );
    let block = Block::bordered()
        .border_style(t.border(true))
        .title(Span::styled(" keys (Esc closes) ", t.title()));
    frame.render_widget(Clear, popup);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    super::render_scrolled(
        frame,
        Paragraph::new(lines),
        inner,
        match &app.overlay {
            Some(crate::tui::overlay::Overlay::Help(s)) => s.offset,
            _ => 0,
        },
    )
}
