//! The one table of key bindings: it drives dispatch, the hint bar and the
//! `?` overlay, so they can never disagree.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Browsing: the tree or a pane has focus.
    Browse,
    /// Typing a filter.
    Filter,
    /// The help overlay is open.
    Help,
    /// A confirm popup asks before changing the disk.
    Confirm,
    /// The promote picker is open.
    Promote,
    /// Editing the promotion's target name.
    PromoteName,
    /// A plot is shown full screen.
    Viewer,
    /// Runs are compared side by side.
    Compare,
}

/// One key (a code and its modifiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Ctrl, Alt, Shift as pressed.
    pub mods: KeyModifiers,
}

const fn key(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::NONE,
    }
}

const fn ch(c: char) -> Key {
    key(KeyCode::Char(c))
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}

/// A binding: keys, what they do, and how the help describes them.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The stable name config files use (`keys.quit = "q"`).
    pub name: &'static str,
    /// The mode it applies in.
    pub mode: Mode,
    /// The keys, first one shown first.
    pub keys: Vec<Key>,
    /// What pressing it does.
    pub action: Action,
    /// One line for the help overlay.
    pub desc: &'static str,
    /// Shown in the bottom hint bar (short label after the first key), when set.
    pub hint: Option<&'static str>,
    /// Why the key does nothing yet, for slots later work fills.
    pub disabled: Option<&'static str>,
    /// Another action whose first key the hint shows too (`j/k move`).
    pub hint_pair: Option<&'static str>,
}

fn b(name: &'static str, mode: Mode, keys: &[Key], action: Action, desc: &'static str) -> Binding {
    Binding {
        name,
        mode,
        keys: keys.to_vec(),
        action,
        desc,
        hint: None,
        disabled: None,
        hint_pair: None,
    }
}

impl Binding {
    fn hint(mut self, hint: &'static str) -> Binding {
        self.hint = Some(hint);
        self
    }

    fn pair(mut self, other: &'static str) -> Binding {
        self.hint_pair = Some(other);
        self
    }
}

/// Every binding, in the order the help lists them.
pub fn bindings() -> Vec<Binding> {
    use KeyCode::*;
    use Mode::*;
    vec![
        b(
            "down",
            Browse,
            &[ch('j'), key(Down)],
            Action::Down,
            "move down (or scroll the focused pane)",
        )
        .hint("move")
        .pair("up"),
        b(
            "up",
            Browse,
            &[ch('k'), key(Up)],
            Action::Up,
            "move up (or scroll the focused pane)",
        ),
        b(
            "expand",
            Browse,
            &[ch('l'), key(Right)],
            Action::Expand,
            "expand, or step into the first child",
        )
        .hint("fold")
        .pair("collapse"),
        b(
            "collapse",
            Browse,
            &[ch('h'), key(Left)],
            Action::Collapse,
            "collapse, or step out to the parent",
        ),
        b(
            "toggle",
            Browse,
            &[key(Enter)],
            Action::Toggle,
            "expand or collapse a task or model",
        ),
        b(
            "top",
            Browse,
            &[ch('g'), key(Home)],
            Action::Top,
            "first row (or the top of the focused pane)",
        ),
        b(
            "bottom",
            Browse,
            &[ch('G'), key(End)],
            Action::Bottom,
            "last row (or the end of the focused pane)",
        ),
        b(
            "page_down",
            Browse,
            &[key(PageDown), ctrl('d')],
            Action::PageDown,
            "page down",
        ),
        b(
            "page_up",
            Browse,
            &[key(PageUp), ctrl('u')],
            Action::PageUp,
            "page up",
        ),
        b(
            "filter",
            Browse,
            &[ch('/')],
            Action::StartFilter,
            "fuzzy filter by task/model/run id and notes",
        )
        .hint("filter"),
        b(
            "clear_filter",
            Browse,
            &[key(Esc)],
            Action::ClearFilter,
            "clear the filter",
        ),
        b(
            "sort",
            Browse,
            &[ch('s')],
            Action::CycleSort,
            "sort runs: time, size, reclaimable, key metric",
        )
        .hint("sort"),
        b(
            "latest",
            Browse,
            &[ch('L')],
            Action::Latest,
            "jump to the latest run (under the selected task or model)",
        )
        .hint("latest"),
        b(
            "rescan",
            Browse,
            &[ch('r')],
            Action::Rescan,
            "rescan the tree",
        )
        .hint("rescan"),
        b(
            "focus_next",
            Browse,
            &[key(Tab)],
            Action::FocusNext,
            "focus the next pane (then j/k scroll it)",
        )
        .hint("pane"),
        b(
            "focus_prev",
            Browse,
            &[key(BackTab)],
            Action::FocusPrev,
            "focus the previous pane",
        ),
        b(
            "next_series",
            Browse,
            &[ch('m')],
            Action::NextSeries,
            "chart the next metric series",
        ),
        b(
            "prev_series",
            Browse,
            &[ch('M')],
            Action::PrevSeries,
            "chart the previous metric series",
        ),
        b(
            "smoothing",
            Browse,
            &[ch('S')],
            Action::CycleSmoothing,
            "smooth the chart: off, EMA 0.6, 0.9, 0.99",
        ),
        b(
            "x_axis",
            Browse,
            &[ch('X')],
            Action::NextXAxis,
            "chart against the next x column of the file (step, epoch...)",
        ),
        b(
            "log_scale",
            Browse,
            &[ch('Y')],
            Action::ToggleLog,
            "log scale for the chart's y axis",
        ),
        b("help", Browse, &[ch('?')], Action::Help, "this help").hint("help"),
        b("quit", Browse, &[ch('q'), ctrl('c')], Action::Quit, "quit").hint("quit"),
        b(
            "mark",
            Browse,
            &[ch(' ')],
            Action::ToggleMark,
            "mark or unmark a run (on a task or model: all its runs)",
        )
        .hint("mark"),
        b(
            "clear_marks",
            Browse,
            &[ch('u')],
            Action::ClearMarks,
            "clear every mark",
        ),
        b(
            "clean",
            Browse,
            &[ch('d')],
            Action::PlanEphemeral,
            "delete ephemeral data (tmp/, cache/) of the marked runs or the selection",
        )
        .hint("clean"),
        b(
            "prune",
            Browse,
            &[ch('P')],
            Action::PlanPrune,
            "prune checkpoints (keeps best, last, the latest, unknown names)",
        ),
        b(
            "trash",
            Browse,
            &[ch('D')],
            Action::PlanTrash,
            "move the marked runs (or the selection) to the trash",
        ),
        b(
            "open_note",
            Browse,
            &[ch('n')],
            Action::OpenNote,
            "read the tracker note that links to the run, in $PAGER",
        ),
        b(
            "promote",
            Browse,
            &[ch('p')],
            Action::OpenPromote,
            "promote the run's data, a plot or a checkpoint (copy to artifacts/)",
        ),
        b(
            "open_plot",
            Browse,
            &[ch('o')],
            Action::OpenPlot,
            "show the run's plots full screen (half-blocks over any SSH link)",
        ),
        b(
            "compare",
            Browse,
            &[ch('c')],
            Action::OpenCompare,
            "compare the marked runs (or the selected model's) side by side",
        ),
        b(
            "compare_right",
            Compare,
            &[ch('l'), key(Right), key(Tab)],
            Action::Expand,
            "next column",
        )
        .hint("column")
        .pair("compare_left"),
        b(
            "compare_left",
            Compare,
            &[ch('h'), key(Left), key(BackTab)],
            Action::Collapse,
            "previous column",
        ),
        b(
            "compare_down",
            Compare,
            &[ch('j'), key(Down)],
            Action::Down,
            "scroll the runs down",
        )
        .hint("scroll")
        .pair("compare_up"),
        b(
            "compare_up",
            Compare,
            &[ch('k'), key(Up)],
            Action::Up,
            "scroll the runs up",
        ),
        b(
            "compare_sort",
            Compare,
            &[ch('s')],
            Action::CycleSort,
            "sort the runs by the highlighted column, best first",
        )
        .hint("sort"),
        b(
            "compare_chart",
            Compare,
            &[ch('m')],
            Action::NextSeries,
            "overlay the next shared series",
        )
        .hint("chart"),
        b(
            "compare_close",
            Compare,
            &[key(Esc), ch('q'), ch('c')],
            Action::ClosePlot,
            "back to the tree",
        )
        .hint("back"),
        b(
            "copy_path",
            Browse,
            &[ch('y')],
            Action::CopyPath,
            "copy the run's folder path to the clipboard (OSC 52, works over SSH)",
        ),
        b(
            "filter_keep",
            Filter,
            &[key(Enter)],
            Action::AcceptFilter,
            "keep the filter and go back to the tree",
        )
        .hint("keep"),
        b(
            "filter_clear",
            Filter,
            &[key(Esc)],
            Action::ClearFilter,
            "clear the filter",
        )
        .hint("clear"),
        b(
            "filter_backspace",
            Filter,
            &[key(Backspace)],
            Action::FilterBackspace,
            "delete a character",
        ),
        b(
            "filter_erase",
            Filter,
            &[ctrl('u')],
            Action::FilterClear,
            "delete the whole query",
        ),
        b(
            "filter_down",
            Filter,
            &[key(Down), ctrl('n')],
            Action::Down,
            "move down while filtering",
        )
        .hint("move")
        .pair("filter_up"),
        b(
            "filter_up",
            Filter,
            &[key(Up), ctrl('p')],
            Action::Up,
            "move up while filtering",
        ),
        b("filter_quit", Filter, &[ctrl('c')], Action::Quit, "quit"),
        b(
            "confirm_yes",
            Confirm,
            &[ch('y')],
            Action::ConfirmYes,
            "yes: apply the plan",
        )
        .hint("apply"),
        b(
            "confirm_no",
            Confirm,
            &[ch('n'), key(Esc), key(Enter), ch('q')],
            Action::ConfirmNo,
            "no: change nothing (the default)",
        )
        .hint("cancel"),
        b(
            "confirm_down",
            Confirm,
            &[ch('j'), key(Down)],
            Action::Down,
            "scroll the plan down",
        )
        .hint("scroll")
        .pair("confirm_up"),
        b(
            "confirm_up",
            Confirm,
            &[ch('k'), key(Up)],
            Action::Up,
            "scroll the plan up",
        ),
        b(
            "confirm_page_down",
            Confirm,
            &[key(PageDown)],
            Action::PageDown,
            "scroll a page down",
        ),
        b(
            "confirm_page_up",
            Confirm,
            &[key(PageUp)],
            Action::PageUp,
            "scroll a page up",
        ),
        b(
            "promote_down",
            Promote,
            &[ch('j'), key(Down)],
            Action::Down,
            "next item",
        )
        .hint("move")
        .pair("promote_up"),
        b(
            "promote_up",
            Promote,
            &[ch('k'), key(Up)],
            Action::Up,
            "previous item",
        ),
        b(
            "promote_edit",
            Promote,
            &[ch('e')],
            Action::EditPromoteName,
            "edit the target name",
        )
        .hint("rename"),
        b(
            "promote_yes",
            Promote,
            &[ch('y')],
            Action::ConfirmYes,
            "yes: promote it (copy, never move)",
        )
        .hint("promote"),
        b(
            "promote_no",
            Promote,
            &[ch('n'), key(Esc), ch('q')],
            Action::ConfirmNo,
            "no: change nothing",
        )
        .hint("cancel"),
        b(
            "name_keep",
            PromoteName,
            &[key(Enter)],
            Action::AcceptFilter,
            "use this name",
        )
        .hint("keep"),
        b(
            "name_cancel",
            PromoteName,
            &[key(Esc)],
            Action::ClearFilter,
            "back to the proposed name",
        )
        .hint("cancel"),
        b(
            "name_backspace",
            PromoteName,
            &[key(Backspace)],
            Action::FilterBackspace,
            "delete a character",
        ),
        b(
            "plot_next",
            Viewer,
            &[ch('j'), key(Down), ch('l'), key(Right), ch(' ')],
            Action::Down,
            "next plot of the run",
        )
        .hint("next")
        .pair("plot_prev"),
        b(
            "plot_prev",
            Viewer,
            &[ch('k'), key(Up), ch('h'), key(Left)],
            Action::Up,
            "previous plot",
        ),
        b(
            "plot_copy",
            Viewer,
            &[ch('y')],
            Action::CopyPath,
            "copy the plot's path to the clipboard (OSC 52, works over SSH)",
        )
        .hint("copy path"),
        b(
            "plot_open_external",
            Viewer,
            &[ch('O')],
            Action::OpenExternal,
            "open it in the desktop's viewer (plot_opener, xdg-open, open)",
        )
        .hint("desktop viewer"),
        b(
            "plot_close",
            Viewer,
            &[key(Esc), ch('q'), ch('o')],
            Action::ClosePlot,
            "back to the tree",
        )
        .hint("back"),
        b(
            "help_close",
            Help,
            &[key(Esc), ch('?'), ch('q')],
            Action::CloseHelp,
            "close the help",
        )
        .hint("close"),
        b(
            "help_down",
            Help,
            &[ch('j'), key(Down)],
            Action::Down,
            "scroll down",
        ),
        b(
            "help_up",
            Help,
            &[ch('k'), key(Up)],
            Action::Up,
            "scroll up",
        ),
        b("help_quit", Help, &[ctrl('c')], Action::Quit, "quit"),
    ]
}

/// Reads a key as config files write it: `j`, `G`, `?`, `Down`, `Ctrl-d`,
/// `Alt-x`, `Shift-Tab`, `Space`, `F5`.
pub fn parse_key(text: &str) -> Result<Key, String> {
    let mut mods = KeyModifiers::NONE;
    let mut rest = text;
    loop {
        let lower = rest.to_ascii_lowercase();
        if let Some(r) = ["ctrl-", "c-"]
            .iter()
            .find_map(|p| lower.starts_with(p).then(|| &rest[p.len()..]))
        {
            mods |= KeyModifiers::CONTROL;
            rest = r;
        } else if let Some(r) = ["alt-", "a-", "m-"]
            .iter()
            .find_map(|p| lower.starts_with(p).then(|| &rest[p.len()..]))
        {
            mods |= KeyModifiers::ALT;
            rest = r;
        } else if lower.starts_with("shift-") && rest.len() > 6 {
            rest = &rest[6..];
            if rest.eq_ignore_ascii_case("tab") {
                return Ok(Key {
                    code: KeyCode::BackTab,
                    mods,
                });
            }
            mods |= KeyModifiers::SHIFT;
        } else {
            break;
        }
    }
    let mut chars = rest.chars();
    let code = match (chars.next(), chars.next()) {
        (Some(c), None) => KeyCode::Char(if mods.contains(KeyModifiers::CONTROL) {
            c.to_ascii_lowercase()
        } else {
            c
        }),
        _ => match rest.to_ascii_lowercase().as_str() {
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" => KeyCode::Backspace,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "space" => KeyCode::Char(' '),
            "delete" | "del" => KeyCode::Delete,
            f if f.starts_with('f')
                && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
            {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            _ => {
                return Err(format!(
                    "{text:?} is not a key (try \"j\", \"Down\", \"Ctrl-d\", \"Space\")"
                ));
            }
        },
    };
    // Shift is part of a letter: `Shift-g` is `G`.
    let (code, mods) = match code {
        KeyCode::Char(c) if mods.contains(KeyModifiers::SHIFT) => (
            KeyCode::Char(c.to_ascii_uppercase()),
            mods - KeyModifiers::SHIFT,
        ),
        other => (other, mods),
    };
    Ok(Key { code, mods })
}

/// The default bindings with a config's `[keys]` merged over them. Errors
/// name the key (`keys.quit`) and say what is wrong: an unknown action, a
/// key that does not parse, or a key bound twice in the same mode.
pub fn with_overrides(
    overrides: &std::collections::BTreeMap<String, crate::config::KeysSpec>,
) -> Result<Vec<Binding>, (String, String)> {
    let mut table = bindings();
    for (name, spec) in overrides {
        let at = format!("keys.{name}");
        let Some(binding) = table.iter_mut().find(|b| b.name == name) else {
            return Err((
                at,
                "no such action (`runyard config --keys` lists them)".into(),
            ));
        };
        let keys: Vec<Key> = spec
            .list()
            .into_iter()
            .map(parse_key)
            .collect::<Result<_, _>>()
            .map_err(|e| (at.clone(), e))?;
        if keys.is_empty() {
            return Err((at, "needs at least one key".into()));
        }
        binding.keys = keys;
    }
    for (i, a) in table.iter().enumerate() {
        for other in &table[i + 1..] {
            if a.mode != other.mode {
                continue;
            }
            if let Some(k) = a.keys.iter().find(|k| other.keys.contains(k)) {
                let (changed, kept) = if overrides.contains_key(other.name) {
                    (other, a)
                } else {
                    (a, other)
                };
                return Err((
                    format!("keys.{}", changed.name),
                    format!(
                        "{} is also the key of {:?} ({}); give that action other keys too",
                        key_label(k),
                        kept.name,
                        kept.desc
                    ),
                ));
            }
        }
    }
    Ok(table)
}

/// True when `event` is one of `keys`. Shift is part of a letter (`L`),
/// and Shift-Tab arrives as `BackTab` from most terminals, `Tab` from some.
fn matches(keys: &[Key], event: &KeyEvent) -> bool {
    let shifted_tab = event.code == KeyCode::Tab && event.modifiers.contains(KeyModifiers::SHIFT);
    let code = if shifted_tab {
        KeyCode::BackTab
    } else {
        event.code
    };
    let mods = match code {
        KeyCode::Char(_) | KeyCode::BackTab => event.modifiers - KeyModifiers::SHIFT,
        _ => event.modifiers,
    };
    keys.iter().any(|k| k.code == code && k.mods == mods)
}

/// The action for a key in a mode. In filter mode, a plain character types.
pub fn dispatch(table: &[Binding], mode: Mode, event: &KeyEvent) -> Option<Action> {
    if let Some(b) = table
        .iter()
        .find(|b| b.mode == mode && matches(&b.keys, event))
    {
        return Some(b.action.clone());
    }
    match (mode, event.code) {
        (Mode::Filter | Mode::PromoteName, KeyCode::Char(c))
            if !event
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            Some(Action::FilterInput(c))
        }
        _ => None,
    }
}

/// How a key is written in the help: `j`, `↓`, `Ctrl-c`, `Enter`.
pub fn key_label(k: &Key) -> String {
    let base = match k.code {
        KeyCode::Char(' ') => "Space".to_string(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::Left => "←".into(),
        KeyCode::Right => "→".into(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "Shift-Tab".into(),
        KeyCode::Backspace => "Backspace".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        KeyCode::Delete => "Delete".into(),
        KeyCode::F(n) => format!("F{n}"),
        other => format!("{other:?}"),
    };
    match (
        k.mods.contains(KeyModifiers::CONTROL),
        k.mods.contains(KeyModifiers::ALT),
    ) {
        (true, _) => format!("Ctrl-{base}"),
        (_, true) => format!("Alt-{base}"),
        _ => base,
    }
}

/// All of a binding's keys, joined: `j/↓`.
pub fn keys_label(b: &Binding) -> String {
    b.keys.iter().map(key_label).collect::<Vec<_>>().join("/")
}

/// The bindings as a Markdown table, as the README shows them (a test keeps
/// the two in step).
pub fn markdown_table(table: &[Binding]) -> String {
    let mut out = String::from("| keys | where | what |\n|---|---|---|\n");
    for b in table {
        let mode = match b.mode {
            Mode::Browse => "tree / panes",
            Mode::Filter => "filter",
            Mode::Help => "help",
            Mode::Confirm => "confirm",
            Mode::Promote => "promote",
            Mode::PromoteName => "target name",
            Mode::Viewer => "plot",
            Mode::Compare => "compare",
        };
        let keys = keys_label(b).replace('|', "\\|");
        let what = match b.disabled {
            Some(why) => format!("{} ({why})", b.desc),
            None => b.desc.to_string(),
        };
        out.push_str(&format!("| `{keys}` | {mode} | {what} |\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn keys_dispatch_by_mode() {
        let t = bindings();
        assert_eq!(
            dispatch(
                &t,
                Mode::Browse,
                &press(KeyCode::Char('j'), KeyModifiers::NONE)
            ),
            Some(Action::Down)
        );
        assert_eq!(
            dispatch(&t, Mode::Browse, &press(KeyCode::Down, KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(
            dispatch(
                &t,
                Mode::Browse,
                &press(KeyCode::Char('L'), KeyModifiers::SHIFT)
            ),
            Some(Action::Latest)
        );
        assert_eq!(
            dispatch(
                &t,
                Mode::Browse,
                &press(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
        assert_eq!(
            dispatch(
                &t,
                Mode::Filter,
                &press(KeyCode::Char('j'), KeyModifiers::NONE)
            ),
            Some(Action::FilterInput('j'))
        );
        assert_eq!(
            dispatch(
                &t,
                Mode::Filter,
                &press(KeyCode::Char('Q'), KeyModifiers::SHIFT)
            ),
            Some(Action::FilterInput('Q'))
        );
        assert_eq!(
            dispatch(&t, Mode::Browse, &press(KeyCode::Tab, KeyModifiers::SHIFT)),
            Some(Action::FocusPrev)
        );
        assert_eq!(
            dispatch(
                &t,
                Mode::Browse,
                &press(KeyCode::Char('x'), KeyModifiers::NONE)
            ),
            None
        );
    }

    #[test]
    fn no_key_is_bound_twice_in_a_mode() {
        let t = bindings();
        for (i, a) in t.iter().enumerate() {
            for b in &t[i + 1..] {
                if a.mode == b.mode {
                    for k in &a.keys {
                        assert!(
                            !b.keys.contains(k),
                            "{} bound to both {:?} and {:?}",
                            key_label(k),
                            a.desc,
                            b.desc
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn disabled_slots_say_why() {
        let t = bindings();
        let disabled: Vec<_> = t
            .iter()
            .filter(|b| b.disabled.is_some())
            .map(keys_label)
            .collect();
        assert!(disabled.is_empty(), "{disabled:?}");
    }
}

#[cfg(test)]
mod override_tests {
    use super::*;
    use crate::config::KeysSpec;
    use std::collections::BTreeMap;

    fn spec(pairs: &[(&str, &[&str])]) -> BTreeMap<String, KeysSpec> {
        pairs
            .iter()
            .map(|(a, ks)| {
                (
                    a.to_string(),
                    KeysSpec::Many(ks.iter().map(|k| k.to_string()).collect()),
                )
            })
            .collect()
    }

    #[test]
    fn a_partial_keymap_merges_over_the_defaults() {
        let t = with_overrides(&spec(&[("quit", &["Ctrl-q"]), ("down", &["e", "Down"])])).unwrap();
        let press = |code, mods| dispatch(&t, Mode::Browse, &KeyEvent::new(code, mods));
        assert_eq!(
            press(KeyCode::Char('q'), KeyModifiers::CONTROL),
            Some(Action::Quit)
        );
        assert_eq!(
            press(KeyCode::Char('q'), KeyModifiers::NONE),
            None,
            "q is free now"
        );
        assert_eq!(
            press(KeyCode::Char('e'), KeyModifiers::NONE),
            Some(Action::Down)
        );
        assert_eq!(
            press(KeyCode::Char('k'), KeyModifiers::NONE),
            Some(Action::Up),
            "untouched bindings stay"
        );
        // The help and hint bar read the same table.
        assert_eq!(
            keys_label(t.iter().find(|b| b.name == "quit").unwrap()),
            "Ctrl-q"
        );
    }

    #[test]
    fn conflicts_and_bad_keys_are_reported_by_name() {
        let (key, msg) = with_overrides(&spec(&[("rescan", &["j"])])).unwrap_err();
        assert_eq!(key, "keys.rescan");
        assert!(msg.contains("j is also the key of \"down\""), "{msg}");
        let (key, msg) = with_overrides(&spec(&[("rescna", &["x"])])).unwrap_err();
        assert_eq!(key, "keys.rescna");
        assert!(msg.contains("no such action"), "{msg}");
        let (_, msg) = with_overrides(&spec(&[("rescan", &["Ctl-r"])])).unwrap_err();
        assert!(msg.contains("is not a key"), "{msg}");
        // The same key in different modes is fine.
        assert!(with_overrides(&spec(&[("help_close", &["x"]), ("rescan", &["x"])])).is_ok());
    }

    #[test]
    fn keys_parse_as_config_files_write_them() {
        assert_eq!(parse_key("j").unwrap(), ch('j'));
        assert_eq!(parse_key("G").unwrap(), ch('G'));
        assert_eq!(parse_key("Shift-g").unwrap(), ch('G'));
        assert_eq!(parse_key("Ctrl-d").unwrap(), ctrl('d'));
        assert_eq!(parse_key("C-D").unwrap(), ctrl('d'));
        assert_eq!(parse_key("Shift-Tab").unwrap(), key(KeyCode::BackTab));
        assert_eq!(parse_key("Space").unwrap(), ch(' '));
        assert_eq!(parse_key("PgDn").unwrap(), key(KeyCode::PageDown));
        assert_eq!(parse_key("F5").unwrap(), key(KeyCode::F(5)));
        assert!(parse_key("Hyper-x").is_err());
        assert!(parse_key("").is_err());
    }
}
