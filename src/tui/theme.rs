//! Colours, and the monochrome theme `NO_COLOR` asks for.

use ratatui::style::{Color, Modifier, Style};

use crate::runs::Status;

/// The styles the explorer draws with.
#[derive(Debug, Clone)]
pub struct Theme {
    /// True when colours are off (only bold, reverse, underline, dim).
    pub mono: bool,
}

impl Theme {
    /// Colours unless `NO_COLOR` is set to anything non-empty (no-color.org).
    pub fn from_env() -> Theme {
        Theme {
            mono: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        }
    }

    /// A theme with or without colours.
    pub fn new(mono: bool) -> Theme {
        Theme { mono }
    }

    fn color(&self, c: Color) -> Style {
        if self.mono {
            Style::new()
        } else {
            Style::new().fg(c)
        }
    }

    /// Secondary text.
    pub fn dim(&self) -> Style {
        if self.mono {
            Style::new().add_modifier(Modifier::DIM)
        } else {
            Style::new().fg(Color::DarkGray)
        }
    }

    /// Headings and titles.
    pub fn title(&self) -> Style {
        self.color(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// The selected row.
    pub fn selected(&self, focused: bool) -> Style {
        match (self.mono, focused) {
            (true, _) => Style::new().add_modifier(Modifier::REVERSED),
            (false, true) => Style::new()
                .bg(Color::Blue)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD),
            (false, false) => Style::new().bg(Color::DarkGray),
        }
    }

    /// Characters the filter matched.
    pub fn matched(&self) -> Style {
        self.color(Color::Yellow)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    /// Problems.
    pub fn error(&self) -> Style {
        self.color(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// Reclaimable bytes.
    pub fn reclaim(&self) -> Style {
        self.color(Color::Yellow)
    }

    /// Key metrics.
    pub fn metric(&self) -> Style {
        self.color(Color::Green)
    }

    /// The border of a pane.
    pub fn border(&self, focused: bool) -> Style {
        if focused {
            self.color(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            self.dim()
        }
    }

    /// A run status icon.
    pub fn status(&self, s: Status) -> Style {
        match s {
            Status::Running => self.color(Color::Green).add_modifier(Modifier::BOLD),
            Status::Stalled => self.color(Color::Yellow),
            Status::Failed => self.color(Color::Red),
            Status::Finished => self.color(Color::Green),
            Status::Unknown => self.dim(),
        }
    }

    /// The filled part of a bar, by what the bytes are.
    pub fn bar(&self, ephemeral: bool) -> Style {
        if ephemeral {
            self.color(Color::Yellow)
        } else {
            self.color(Color::Blue)
        }
    }
}
