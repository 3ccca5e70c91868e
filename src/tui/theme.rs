//! Colours, and the monochrome theme `NO_COLOR` asks for.

use ratatui::style::{Color, Modifier, Style};

use crate::runs::Status;

/// The styles the explorer draws with.
#[derive(Debug, Clone)]
pub struct Theme {
    /// True when colours are off (only bold, reverse, underline, dim).
    pub mono: bool,
    accent: Color,
    selection: Color,
    good: Color,
    warn: Color,
    bad: Color,
}

impl Theme {
    /// Colours unless `NO_COLOR` is set to anything non-empty (no-color.org).
    pub fn from_env() -> Theme {
        Theme::from_config(&crate::config::ThemeConfig::default())
    }

    /// The configured theme; `NO_COLOR` still wins over `color = true`.
    pub fn from_config(c: &crate::config::ThemeConfig) -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme {
            mono: no_color || c.color == Some(false),
            accent: c.accent.unwrap_or(Color::Cyan),
            selection: c.selection.unwrap_or(Color::Blue),
            good: c.good.unwrap_or(Color::Green),
            warn: c.warn.unwrap_or(Color::Yellow),
            bad: c.error.unwrap_or(Color::Red),
        }
    }

    /// The default theme with or without colours.
    pub fn new(mono: bool) -> Theme {
        Theme {
            mono,
            ..Theme::from_config(&crate::config::ThemeConfig::default())
        }
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
        self.color(self.accent).add_modifier(Modifier::BOLD)
    }

    /// The selected row.
    pub fn selected(&self, focused: bool) -> Style {
        match (self.mono, focused) {
            (true, _) => Style::new().add_modifier(Modifier::REVERSED),
            (false, true) => Style::new()
                .bg(self.selection)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD),
            (false, false) => Style::new().bg(Color::DarkGray),
        }
    }

    /// Characters the filter matched.
    pub fn matched(&self) -> Style {
        self.color(self.warn)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    /// Problems.
    pub fn error(&self) -> Style {
        self.color(self.bad).add_modifier(Modifier::BOLD)
    }

    /// Reclaimable bytes.
    pub fn reclaim(&self) -> Style {
        self.color(self.warn)
    }

    /// Key metrics.
    pub fn metric(&self) -> Style {
        self.color(self.good)
    }

    /// The border of a pane.
    pub fn border(&self, focused: bool) -> Style {
        if focused {
            self.color(self.accent).add_modifier(Modifier::BOLD)
        } else {
            self.dim()
        }
    }

    /// A run status icon.
    pub fn status(&self, s: Status) -> Style {
        match s {
            Status::Running => self.color(self.good).add_modifier(Modifier::BOLD),
            Status::Stalled => self.color(self.warn),
            Status::Failed => self.color(self.bad),
            Status::Finished => self.color(self.good),
            Status::Unknown => self.dim(),
        }
    }

    /// The filled part of a bar, by what the bytes are.
    pub fn bar(&self, ephemeral: bool) -> Style {
        if ephemeral {
            self.color(self.warn)
        } else {
            self.color(self.selection)
        }
    }
}
