//! A plot full screen: the image fitted to the screen (a terminal graphics
//! protocol, or unicode half-blocks), its name, size and place in the list.

use ratatui::Frame;
use ratatui::layout::{Rect, Size};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::fmt;
use crate::tui::app::App;

/// Draws the viewer over `area`; returns the size the image is drawn at
/// (the app asks for it at that size when it is not).
pub fn draw(frame: &mut Frame, app: &App, area: Rect) -> Option<Size> {
    let v = app.viewer()?;
    let t = &app.settings.theme;
    let (path, bytes) = &v.plots[v.index];
    let name = path.file_name().map(fmt::escape_os).unwrap_or_default();
    let block = Block::bordered()
        .border_style(t.border(true))
        .title(Span::styled(format!(" {name} "), t.title()))
        .title(Span::styled(
            format!(
                " {}/{} · {} ",
                v.index + 1,
                v.plots.len(),
                fmt::size(*bytes)
            ),
            t.dim(),
        ));
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let size = Size::new(inner.width, inner.height);
    match &v.image {
        Some((p, _, Ok(image))) if p == path => {
            // Centre the fitted image; a stale size is drawn until the new one arrives.
            let fit = image.size();
            let x = inner.x + inner.width.saturating_sub(fit.width) / 2;
            let y = inner.y + inner.height.saturating_sub(fit.height) / 2;
            let at = Rect::new(
                x,
                y,
                fit.width.min(inner.width),
                fit.height.min(inner.height),
            );
            image.render(frame, at);
        }
        Some((p, _, Err(e))) if p == path => {
            let msg = Paragraph::new(vec![
                Line::from(Span::styled(
                    format!("cannot show {}", fmt::escape(&path.to_string_lossy())),
                    t.error(),
                )),
                Line::from(e.as_str()),
            ])
            .wrap(Wrap { trim: false });
            frame.render_widget(msg, inner);
        }
        _ => frame.render_widget(Paragraph::new(Span::styled("decoding…", t.dim())), inner),
    }
    Some(size)
}
