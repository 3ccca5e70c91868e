//! The promote picker: what a run offers (data, plots, kept checkpoints),
//! where each would land, the target name editable before saying yes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::fmt;
use crate::ops::promote::What;
use crate::tui::app::App;
use unicode_width::UnicodeWidthStr;

/// Draws the picker over `area`.
pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(p) = app.picker() else { return };
    let t = &app.settings.theme;
    let run = &p.run;
    let mut lines = vec![
        Line::from(Span::styled(
            format!("from {}", fmt::escape(&run.label())),
            t.title(),
        )),
        Line::from(Span::styled(
            "a copy (never a move, never over a file), with a provenance record",
            t.dim(),
        )),
        Line::from(""),
    ];
    let labels: Vec<String> = p
        .items
        .iter()
        .map(|(what, _)| match what {
            What::Data => "data/".to_string(),
            What::Plot(f) => format!("plots/{f}"),
            What::Export(f) => f.clone(),
            What::Checkpoint(f) => format!("checkpoints/{f}"),
        })
        .map(|l| fmt::escape(&l).into_owned())
        .collect();
    // The popup's width first: destinations are shortened to it (in the
    // middle, the file name kept whole), never cut at its edge.
    let popup_w = (area.width as u32 * 9 / 10).max(20).min(area.width as u32) as u16;
    let inner = popup_w.saturating_sub(2) as usize;
    // Columns line up so sizes read down the list.
    let width = labels
        .iter()
        .map(|l| l.width())
        .max()
        .unwrap_or(0)
        .min(inner.saturating_sub(16));
    for (i, ((_, landing), label)) in p.items.iter().zip(&labels).enumerate() {
        let label = fmt::shorten_path(label, width);
        let mut head = vec![
            Span::raw(format!("{} ", if i == p.selected { "›" } else { " " })),
            Span::raw(format!("{label:<width$}")),
        ];
        let mut below: Vec<Line> = Vec::new();
        match landing {
            Ok((dest, bytes, already)) => {
                head.push(Span::styled(
                    format!("  {:>10}", fmt::size(*bytes)),
                    t.dim(),
                ));
                let dest = fmt::escape(&dest.to_string_lossy()).into_owned();
                below.push(Line::from(Span::styled(
                    format!(
                        "    → {}",
                        fmt::shorten_path(&dest, inner.saturating_sub(6))
                    ),
                    t.dim(),
                )));
                if let Some(e) = already {
                    below.push(Line::from(Span::styled(
                        super::truncate(
                            &format!("    ⚠ the same bytes: {}", e.describe(app.now)),
                            inner,
                        ),
                        t.error(),
                    )));
                    if i == p.selected && p.again {
                        below.push(Line::from(Span::styled(
                            super::truncate(
                                "    y again makes a second copy; n keeps the one there",
                                inner,
                            ),
                            t.error(),
                        )));
                    }
                }
            }
            // Offered all the same, with the reason: a candidate never
            // vanishes without a word.
            // The reason without the path it starts with: the label says which.
            Err(why) => below.push(Line::from(Span::styled(
                super::truncate(
                    &format!("    cannot be promoted: {}", fmt::escape(&why.reason())),
                    inner,
                ),
                t.error(),
            ))),
        }
        let line = Line::from(head);
        lines.push(if i == p.selected {
            line.style(t.selected(true))
        } else {
            line
        });
        lines.extend(below);
    }
    lines.push(Line::from(""));
    let name = match (&p.editing, &p.name) {
        (None, _) if p.planning => Line::from(Span::styled("target name: planning…", t.dim())),
        (Some(buf), _) => {
            // The cursor is the character under it, shown reversed.
            let at = buf
                .char_indices()
                .nth(p.cursor)
                .map_or(buf.len(), |(b, _)| b);
            let (left, rest) = buf.split_at(at);
            let mut chars = rest.chars();
            let under = chars.next().map_or(" ".to_string(), |c| c.to_string());
            Line::from(vec![
                Span::styled("target name: ", t.title()),
                Span::raw(fmt::escape(left).into_owned()),
                Span::styled(
                    fmt::escape(&under).into_owned(),
                    ratatui::style::Style::new().add_modifier(ratatui::style::Modifier::REVERSED),
                ),
                Span::raw(fmt::escape(chars.as_str()).into_owned()),
                Span::styled("  Enter use · Esc back · F1 keys", t.dim()),
            ])
        }
        (None, Some(n)) => Line::from(vec![
            Span::styled("target name: ", t.title()),
            Span::raw(fmt::escape(n).into_owned()),
        ]),
        (None, None) => Line::from(Span::styled(
            "target name: as proposed (e to change it)",
            t.dim(),
        )),
    };
    lines.push(name);
    let height = (lines.len() as u16 + 2).min(area.height);
    let popup = area.centered(Constraint::Length(popup_w), Constraint::Length(height));
    let block = Block::bordered()
        .border_style(t.border(true))
        .title(Span::styled(" promote? ", t.title()))
        .title_bottom(Line::from(vec![
            Span::styled(" y ", t.title()),
            Span::raw("promote  "),
            Span::styled("j/k ", t.title()),
            Span::raw("choose  "),
            Span::styled("e ", t.title()),
            Span::raw("rename  "),
            Span::styled("n/Esc ", t.title()),
            Span::raw("cancel   "),
            Span::styled("? ", t.title()),
            Span::raw("keys "),
        ]));
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
