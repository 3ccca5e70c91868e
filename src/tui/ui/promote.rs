//! The promote picker: what a run offers (data, plots, kept checkpoints),
//! where each would land, the target name editable before saying yes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::fmt;
use crate::ops::promote::What;
use crate::tui::app::App;

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
            "a copy (never a move, never over an existing file), with a provenance record",
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
    // Columns line up so sizes and destinations read down the list.
    let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    for (i, ((_, landing), label)) in p.items.iter().zip(&labels).enumerate() {
        let mut spans = vec![
            Span::raw(format!("{} ", if i == p.selected { "›" } else { " " })),
            Span::raw(format!("{label:<width$}")),
        ];
        match landing {
            Ok((dest, bytes)) => {
                spans.push(Span::styled(
                    format!("  {:>10}", fmt::size(*bytes)),
                    t.dim(),
                ));
                spans.push(Span::styled(
                    format!("  → {}", fmt::escape(&dest.to_string_lossy())),
                    t.dim(),
                ));
            }
            // Offered all the same, with the reason: a candidate never
            // vanishes without a word.
            // The reason without the path it starts with: the label says which.
            Err(why) => spans.push(Span::styled(
                format!("  cannot be promoted: {}", fmt::escape(&why.reason())),
                t.error(),
            )),
        }
        let line = Line::from(spans);
        lines.push(if i == p.selected {
            line.style(t.selected(true))
        } else {
            line
        });
    }
    lines.push(Line::from(""));
    let name = match (&p.editing, &p.name) {
        (None, _) if p.planning => Line::from(Span::styled("target name: planning…", t.dim())),
        (Some(buf), _) => Line::from(vec![
            Span::styled("target name: ", t.title()),
            Span::raw(format!("{}▏", fmt::escape(buf))),
            Span::styled("  (Enter: use this name, Esc: back)", t.dim()),
        ]),
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
    let popup = area.centered(Constraint::Percentage(85), Constraint::Length(height));
    let block = Block::bordered()
        .border_style(t.border(true))
        .title(Span::styled(" promote? ", t.title()))
        .title_bottom(Line::from(vec![
            Span::styled(" y ", t.title()),
            Span::raw("promote   "),
            Span::styled("j/k ", t.title()),
            Span::raw("choose   "),
            Span::styled("e ", t.title()),
            Span::raw("rename   "),
            Span::styled("n/Esc ", t.title()),
            Span::raw("cancel "),
        ]));
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
