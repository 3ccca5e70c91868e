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
    /// The mode it applies in.
    pub mode: Mode,
    /// The keys, first one shown first.
    pub keys: &'static [Key],
    /// What pressing it does.
    pub action: Action,
    /// One line for the help overlay.
    pub desc: &'static str,
    /// Shown in the bottom hint bar (short label), when set.
    pub hint: Option<&'static str>,
    /// Why the key does nothing yet, for slots later work fills.
    pub disabled: Option<&'static str>,
}

/// Why the cleanup and promotion slots are empty.
const LATER_PROMOTE: &str = "not yet: arrives with promotion";
const LATER_PLOTS: &str = "not yet: arrives with plot preview";

macro_rules! bind {
    ($mode:ident, [$($k:expr),+], $action:expr, $desc:expr) => {
        Binding { mode: Mode::$mode, keys: const { &[$($k),+] }, action: $action, desc: $desc, hint: None, disabled: None }
    };
    ($mode:ident, [$($k:expr),+], $action:expr, $desc:expr, hint $hint:expr) => {
        Binding { mode: Mode::$mode, keys: const { &[$($k),+] }, action: $action, desc: $desc, hint: Some($hint), disabled: None }
    };
    ($mode:ident, [$($k:expr),+], $action:expr, $desc:expr, disabled $why:expr) => {
        Binding { mode: Mode::$mode, keys: const { &[$($k),+] }, action: $action, desc: $desc, hint: None, disabled: Some($why) }
    };
}

/// Every binding, in the order the help lists them.
pub fn bindings() -> Vec<Binding> {
    use KeyCode::*;
    vec![
        bind!(Browse, [ch('j'), key(Down)], Action::Down, "move down (or scroll the focused pane)", hint "j/k move"),
        bind!(
            Browse,
            [ch('k'), key(Up)],
            Action::Up,
            "move up (or scroll the focused pane)"
        ),
        bind!(Browse, [ch('l'), key(Right)], Action::Expand, "expand, or step into the first child", hint "h/l fold"),
        bind!(
            Browse,
            [ch('h'), key(Left)],
            Action::Collapse,
            "collapse, or step out to the parent"
        ),
        bind!(
            Browse,
            [key(Enter)],
            Action::Toggle,
            "expand or collapse a task or model"
        ),
        bind!(Browse, [ch('g'), key(Home)], Action::Top, "first row"),
        bind!(Browse, [ch('G'), key(End)], Action::Bottom, "last row"),
        bind!(
            Browse,
            [key(PageDown), ctrl('d')],
            Action::PageDown,
            "page down"
        ),
        bind!(Browse, [key(PageUp), ctrl('u')], Action::PageUp, "page up"),
        bind!(Browse, [ch('/')], Action::StartFilter, "fuzzy filter by task/model/run id and notes", hint "/ filter"),
        bind!(Browse, [key(Esc)], Action::ClearFilter, "clear the filter"),
        bind!(Browse, [ch('s')], Action::CycleSort, "sort runs: time, size, reclaimable, key metric", hint "s sort"),
        bind!(Browse, [ch('L')], Action::Latest, "jump to the latest run (under the selected task or model)", hint "L latest"),
        bind!(Browse, [ch('r')], Action::Rescan, "rescan the tree", hint "r rescan"),
        bind!(Browse, [key(Tab)], Action::FocusNext, "focus the next pane (then j/k scroll it)", hint "Tab pane"),
        bind!(
            Browse,
            [key(BackTab)],
            Action::FocusPrev,
            "focus the previous pane"
        ),
        bind!(
            Browse,
            [ch('m')],
            Action::NextSeries,
            "chart the next metric series"
        ),
        bind!(
            Browse,
            [ch('M')],
            Action::PrevSeries,
            "chart the previous metric series"
        ),
        bind!(Browse, [ch('?')], Action::Help, "this help", hint "? help"),
        bind!(Browse, [ch('q'), ctrl('c')], Action::Quit, "quit", hint "q quit"),
        bind!(Browse, [ch(' ')], Action::ToggleMark, "mark or unmark a run (on a task or model: all its runs)", hint "Space mark"),
        bind!(Browse, [ch('u')], Action::ClearMarks, "clear every mark"),
        bind!(Browse, [ch('d')], Action::PlanEphemeral, "delete ephemeral data (tmp/, cache/) of the marked runs or the selection", hint "d clean"),
        bind!(
            Browse,
            [ch('P')],
            Action::PlanPrune,
            "prune checkpoints (keeps best, last, the latest, unknown names)"
        ),
        bind!(
            Browse,
            [ch('D')],
            Action::PlanTrash,
            "move the marked runs (or the selection) to the trash"
        ),
        bind!(Browse, [ch('p')], Action::Disabled(LATER_PROMOTE), "promote data, a plot, an export or a checkpoint", disabled LATER_PROMOTE),
        bind!(Browse, [ch('o')], Action::Disabled(LATER_PLOTS), "open the selected plot", disabled LATER_PLOTS),
        bind!(Filter, [key(Enter)], Action::AcceptFilter, "keep the filter and go back to the tree", hint "Enter keep"),
        bind!(Filter, [key(Esc)], Action::ClearFilter, "clear the filter", hint "Esc clear"),
        bind!(
            Filter,
            [key(Backspace)],
            Action::FilterBackspace,
            "delete a character"
        ),
        bind!(
            Filter,
            [ctrl('u')],
            Action::FilterClear,
            "delete the whole query"
        ),
        bind!(Filter, [key(Down), ctrl('n')], Action::Down, "move down while filtering", hint "↑/↓ move"),
        bind!(
            Filter,
            [key(Up), ctrl('p')],
            Action::Up,
            "move up while filtering"
        ),
        bind!(Filter, [ctrl('c')], Action::Quit, "quit"),
        bind!(Confirm, [ch('y')], Action::ConfirmYes, "yes: apply the plan", hint "y apply"),
        bind!(Confirm, [ch('n'), key(Esc), key(Enter), ch('q')], Action::ConfirmNo, "no: change nothing (the default)", hint "n/Esc cancel"),
        bind!(Confirm, [ch('j'), key(Down)], Action::Down, "scroll the plan down", hint "j/k scroll"),
        bind!(
            Confirm,
            [ch('k'), key(Up)],
            Action::Up,
            "scroll the plan up"
        ),
        bind!(
            Confirm,
            [key(PageDown)],
            Action::PageDown,
            "scroll a page down"
        ),
        bind!(Confirm, [key(PageUp)], Action::PageUp, "scroll a page up"),
        bind!(Help, [key(Esc), ch('?'), ch('q')], Action::CloseHelp, "close the help", hint "Esc close"),
        bind!(Help, [ch('j'), key(Down)], Action::Down, "scroll down"),
        bind!(Help, [ch('k'), key(Up)], Action::Up, "scroll up"),
        bind!(Help, [ctrl('c')], Action::Quit, "quit"),
    ]
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
        .find(|b| b.mode == mode && matches(b.keys, event))
    {
        return Some(b.action.clone());
    }
    match (mode, event.code) {
        (Mode::Filter, KeyCode::Char(c))
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
        other => format!("{other:?}"),
    };
    if k.mods.contains(KeyModifiers::CONTROL) {
        format!("Ctrl-{base}")
    } else {
        base
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
                    for k in a.keys {
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
        assert_eq!(disabled, ["p", "o"]);
    }
}
