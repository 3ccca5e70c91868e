//! The one table of key bindings: it drives the explorer's dispatch, its
//! hint bar and `?` overlay, the README's key table and the config's
//! `[keys]`, so they can never disagree.
//!
//! It lives with the config, not in the explorer, because `[keys]` names
//! its rows: the config checks a file's keys (unknown actions, keys bound
//! twice) when it reads it, without reaching up into the explorer. The
//! explorer's actions are named for what they do in any view: `Next` moves
//! to the next row, item, plot or line wherever it is pressed; `Accept`
//! and `Cancel` answer whatever is asked.

use std::collections::BTreeMap;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

/// One thing to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave the explorer.
    Quit,
    /// Open the selected run's logs pane.
    OpenLogs,
    /// The next match of a search (logs).
    NextMatch,
    /// The previous match of a search (logs).
    PrevMatch,
    /// Open the selected run's view (overview and every chart).
    OpenRun,
    /// More charts in the run view's grid.
    GridMore,
    /// Fewer, larger charts in the run view's grid.
    GridFewer,
    /// The next row, item or plot (or scroll the focused pane down).
    Next,
    /// The previous one (or scroll up).
    Prev,
    /// Down one page.
    PageDown,
    /// Up one page.
    PageUp,
    /// First row.
    Top,
    /// Last row.
    Bottom,
    /// Expand the selected task or model, or step into it.
    Expand,
    /// Collapse, or step out to the parent.
    Collapse,
    /// Expand or collapse.
    Toggle,
    /// The next column (compare).
    NextColumn,
    /// The previous column (compare).
    PrevColumn,
    /// Start typing a filter.
    StartFilter,
    /// A character typed into the filter or a name.
    Input(char),
    /// Delete the last character typed.
    Backspace,
    /// Delete everything typed (before the cursor, in the name editor).
    Erase,
    /// Delete the character under the cursor.
    DeleteNext,
    /// Delete the word before the cursor.
    DeleteWord,
    /// Move the cursor one character left.
    CursorLeft,
    /// Move the cursor one character right.
    CursorRight,
    /// Move the cursor to the start.
    CursorHome,
    /// Move the cursor to the end.
    CursorEnd,
    /// Yes: keep what was typed, apply the plan, promote.
    Accept,
    /// No: drop what was typed, change nothing.
    Cancel,
    /// Close the view on top (help, plot, comparison).
    Close,
    /// Clear the filter (browsing).
    ClearFilter,
    /// Next sort order of the tree.
    CycleSort,
    /// Reverse the order of the tree.
    ReverseSort,
    /// Sort the comparison by the highlighted column.
    SortByColumn,
    /// Jump to the latest run.
    Latest,
    /// Walk the tree again.
    Rescan,
    /// Focus the next pane.
    FocusNext,
    /// Focus the previous pane.
    FocusPrev,
    /// Chart the next series.
    NextSeries,
    /// Chart the previous series.
    PrevSeries,
    /// Open the help.
    Help,
    /// Mark or unmark the selected run (or every run under a task or model).
    ToggleMark,
    /// Clear every mark.
    ClearMarks,
    /// Plan deleting tmp/ and cache/ of the marked runs (or the selection).
    PlanEphemeral,
    /// Plan pruning checkpoints.
    PlanPrune,
    /// Plan moving runs to the trash.
    PlanTrash,
    /// Next smoothing weight for the chart (off, 0.6, 0.9, 0.99).
    CycleSmoothing,
    /// The chart's next x axis (step, then epoch or another such column).
    NextXAxis,
    /// Log scale on the chart's y axis, or back.
    ToggleLog,
    /// Compare the marked runs (or the selection's) side by side.
    OpenCompare,
    /// Show the selected run's plots full screen.
    OpenPlot,
    /// Copy the shown plot's path (or the selected run's) to the clipboard.
    CopyPath,
    /// Open the shown plot with the desktop's viewer.
    OpenExternal,
    /// Open the promote picker for the selected run.
    OpenPromote,
    /// Edit the promotion's target name.
    Rename,
    /// Open the first tracker note that links to the selected run.
    OpenNote,
    /// Zoom the chart to the whole screen (metrics pane, compare).
    ZoomChart,
    /// Keep the chart's smoothing, scale and x axis while browsing runs.
    PinChart,
    /// Clip the chart's y range to the 2nd–98th percentile, or back.
    ClipOutliers,
    /// Draw the selected run bright and dim the others, or back.
    Highlight,
    /// Show or hide metric columns that repeat another's values.
    ToggleAliases,
}

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
    /// A confirm popup asks for the number of runs to be typed (trashing many).
    ConfirmCount,
    /// The promote picker is open.
    Promote,
    /// Editing the promotion's target name.
    PromoteName,
    /// A plot is shown full screen.
    Viewer,
    /// Runs are compared side by side.
    Compare,
    /// A chart is zoomed to the whole screen.
    Chart,
    /// Typing a filter over compare's rows.
    CompareFilter,
    /// The logs pane is open.
    Logs,
    /// Typing a search in the logs pane.
    LogsSearch,
    /// The run view is open.
    Run,
    /// Typing the run view's metric filter.
    RunFilter,
}

/// One key (a code and its modifiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Ctrl, Alt, Shift as pressed.
    pub mods: KeyModifiers,
}

#[cfg(test)]
const fn key(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::NONE,
    }
}

#[cfg(test)]
const fn ch(c: char) -> Key {
    key(KeyCode::Char(c))
}

#[cfg(test)]
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
    /// Another binding whose first key the hint shows too (`j/k move`).
    pub hint_pair: Option<&'static str>,
}

/// One row of [`TABLE`]: name, mode, keys as config files write them,
/// action, description, hint, hint pair.
type Row = (
    &'static str,
    Mode,
    &'static str,
    Action,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

/// Every binding, one a row, in the order the help lists them.
#[rustfmt::skip]
const TABLE: &[Row] = {
    use Action as A;
    use Mode::*;
    &[
    ("down", Browse, "j Down", A::Next, "move down (or scroll the focused pane)", Some("move"), Some("up")),
    ("up", Browse, "k Up", A::Prev, "move up (or scroll the focused pane)", None, None),
    ("expand", Browse, "l Right", A::Expand, "expand, or step into the first child", Some("fold"), Some("collapse")),
    ("collapse", Browse, "h Left", A::Collapse, "collapse, or step out to the parent", None, None),
    ("toggle", Browse, "Enter", A::Toggle, "expand or collapse a task or model", None, None),
    ("top", Browse, "g Home", A::Top, "first row (or the top of the focused pane)", None, None),
    ("bottom", Browse, "G End", A::Bottom, "last row (or the end of the focused pane)", None, None),
    ("page_down", Browse, "PgDn Ctrl-d", A::PageDown, "page down", None, None),
    ("page_up", Browse, "PgUp Ctrl-u", A::PageUp, "page up", None, None),
    ("filter", Browse, "/", A::StartFilter, "fuzzy filter by task/model/run id and notes", Some("filter"), None),
    ("clear_filter", Browse, "Esc", A::ClearFilter, "clear the filter", None, None),
    ("sort", Browse, "s", A::CycleSort, "sort tasks, models and runs: time, size, reclaimable, key metric", Some("sort"), None),
    ("latest", Browse, "L", A::Latest, "jump to the latest run (under the selected task or model; else of the whole tree)", Some("latest"), None),
    ("rescan", Browse, "r", A::Rescan, "rescan the tree", Some("rescan"), None),
    ("focus_next", Browse, "Tab", A::FocusNext, "focus the next pane (then j/k scroll it)", Some("pane"), None),
    ("focus_prev", Browse, "Shift-Tab", A::FocusPrev, "focus the previous pane", None, None),
    ("next_series", Browse, "m", A::NextSeries, "chart the next metric series", None, None),
    ("prev_series", Browse, "M", A::PrevSeries, "chart the previous metric series", None, None),
    ("smoothing", Browse, "S", A::CycleSmoothing, "smooth the chart: off, EMA 0.6, 0.9, 0.99", None, None),
    ("x_axis", Browse, "X", A::NextXAxis, "chart against the next x column of the file (step, epoch...)", None, None),
    ("log_scale", Browse, "Y", A::ToggleLog, "log scale for the chart's y axis", None, None),
    ("zoom_chart", Browse, "z", A::ZoomChart, "zoom the metrics chart to the whole screen (cursor, ticks, best point)", None, None),
    ("pin_chart", Browse, "=", A::PinChart, "pin the chart's smoothing, scale and x axis while browsing runs (else each run starts raw)", None, None),
    ("reverse_sort", Browse, "R", A::ReverseSort, "reverse the order (tasks, models and runs)", None, None),
    ("count_yes", ConfirmCount, "Enter", A::Accept, "apply the plan once the typed count matches", Some("apply"), None),
    ("count_no", ConfirmCount, "Esc", A::Cancel, "no: change nothing", Some("cancel"), None),
    ("count_backspace", ConfirmCount, "Backspace", A::Backspace, "delete a digit", None, None),
    ("count_down", ConfirmCount, "Down", A::Next, "scroll the plan down", Some("scroll"), Some("count_up")),
    ("count_up", ConfirmCount, "Up", A::Prev, "scroll the plan up", None, None),
    ("count_quit", ConfirmCount, "Ctrl-c", A::Quit, "quit", None, None),
    ("help", Browse, "? F1", A::Help, "the keys of the focused view, then the others", Some("help"), None),
    ("quit", Browse, "q Ctrl-c", A::Quit, "quit", Some("quit"), None),
    ("mark", Browse, "Space", A::ToggleMark, "mark or unmark, then move down (on the root, a task or a model: all its runs)", Some("mark"), None),
    ("clear_marks", Browse, "u", A::ClearMarks, "clear every mark", None, None),
    ("clean", Browse, "d", A::PlanEphemeral, "delete ephemeral data (tmp/, cache/) of the marked runs or the selection", Some("clean"), None),
    ("prune", Browse, "P", A::PlanPrune, "prune checkpoints (keeps best, last, the latest, unknown names)", None, None),
    ("trash", Browse, "D", A::PlanTrash, "move the marked runs (or the selection) to the trash", None, None),
    ("open_note", Browse, "n", A::OpenNote, "read the tracker note that links to the run, in $PAGER", None, None),
    ("promote", Browse, "p", A::OpenPromote, "promote the run's data, a plot or a checkpoint (copy to artifacts/)", None, None),
    ("open_plot", Browse, "o", A::OpenPlot, "show the run's plots full screen (half-blocks over any SSH link)", None, None),
    ("compare", Browse, "c", A::OpenCompare, "compare the marked runs (or the selected model's) side by side", None, None),
    ("compare_right", Compare, "l Right Tab", A::NextColumn, "next column", Some("column"), Some("compare_left")),
    ("compare_left", Compare, "h Left Shift-Tab", A::PrevColumn, "previous column", None, None),
    ("compare_down", Compare, "j Down", A::Next, "scroll the runs down", Some("scroll"), Some("compare_up")),
    ("compare_up", Compare, "k Up", A::Prev, "scroll the runs up", None, None),
    ("compare_sort", Compare, "s", A::SortByColumn, "sort the runs by the highlighted column, best first", Some("sort"), None),
    ("compare_chart", Compare, "m", A::NextSeries, "overlay the next shared series", Some("chart"), None),
    ("compare_open", Compare, "Enter", A::Accept, "open the selected row's run in the tree", Some("open"), None),
    ("compare_zoom", Compare, "z", A::ZoomChart, "zoom the overlaid chart to the whole screen", Some("zoom"), None),
    ("compare_highlight", Compare, "v", A::Highlight, "draw the selected run bright and dim the others", None, None),
    ("compare_aliases", Compare, "a", A::ToggleAliases, "show or hide columns that repeat another's values (val_acc, val/acc)", None, None),
    ("compare_filter", Compare, "/", A::StartFilter, "show only the rows whose name, status or config values contain the typed words", None, None),
    ("compare_filter_keep", CompareFilter, "Enter", A::Accept, "keep the filter", Some("keep"), None),
    ("compare_filter_clear", CompareFilter, "Esc", A::Cancel, "clear the filter: every row again", Some("clear"), None),
    ("compare_filter_backspace", CompareFilter, "Backspace", A::Backspace, "delete a character", None, None),
    ("compare_filter_erase", CompareFilter, "Ctrl-u", A::Erase, "delete the whole filter", None, None),
    ("compare_close", Compare, "Esc q c", A::Close, "back to the tree", Some("back"), None),
    ("compare_help", Compare, "? F1", A::Help, "the keys of this view", Some("keys"), None),
    ("copy_path", Browse, "y", A::CopyPath, "copy the run's folder path to the clipboard (OSC 52, works over SSH)", None, None),
    ("filter_keep", Filter, "Enter", A::Accept, "keep the filter and go back to the tree", Some("keep"), None),
    ("filter_clear", Filter, "Esc", A::Cancel, "clear the filter", Some("clear"), None),
    ("filter_backspace", Filter, "Backspace", A::Backspace, "delete a character", None, None),
    ("filter_erase", Filter, "Ctrl-u", A::Erase, "delete the whole query", None, None),
    ("filter_down", Filter, "Down Ctrl-n", A::Next, "move down while filtering", Some("move"), Some("filter_up")),
    ("filter_up", Filter, "Up Ctrl-p", A::Prev, "move up while filtering", None, None),
    ("filter_quit", Filter, "Ctrl-c", A::Quit, "quit", None, None),
    ("filter_help", Filter, "? F1", A::Help, "the keys of this view (names and run ids have no ?)", None, None),
    ("confirm_yes", Confirm, "y", A::Accept, "yes: apply the plan", Some("apply"), None),
    ("confirm_no", Confirm, "n Esc Enter q", A::Cancel, "no: change nothing (the default)", Some("cancel"), None),
    ("confirm_down", Confirm, "j Down", A::Next, "scroll the plan down", Some("scroll"), Some("confirm_up")),
    ("confirm_up", Confirm, "k Up", A::Prev, "scroll the plan up", None, None),
    ("confirm_page_down", Confirm, "PgDn", A::PageDown, "scroll a page down", None, None),
    ("confirm_page_up", Confirm, "PgUp", A::PageUp, "scroll a page up", None, None),
    ("confirm_top", Confirm, "g Home", A::Top, "the top of the plan", None, None),
    ("confirm_bottom", Confirm, "G End", A::Bottom, "the end of the plan (the total)", None, None),
    ("confirm_help", Confirm, "? F1", A::Help, "the keys of this view", None, None),
    ("promote_down", Promote, "j Down", A::Next, "next item", Some("move"), Some("promote_up")),
    ("promote_up", Promote, "k Up", A::Prev, "previous item", None, None),
    ("promote_edit", Promote, "e", A::Rename, "edit the target name", Some("rename"), None),
    ("promote_yes", Promote, "y", A::Accept, "yes: promote it (copy, never move)", Some("promote"), None),
    ("promote_no", Promote, "n Esc q", A::Cancel, "no: change nothing", Some("cancel"), None),
    ("promote_help", Promote, "? F1", A::Help, "the keys of this view", Some("keys"), None),
    ("name_keep", PromoteName, "Enter", A::Accept, "use this name", Some("keep"), None),
    ("name_cancel", PromoteName, "Esc", A::Cancel, "back to the proposed name", Some("cancel"), None),
    ("name_backspace", PromoteName, "Backspace", A::Backspace, "delete a character", None, None),
    ("name_delete", PromoteName, "Delete", A::DeleteNext, "delete the character under the cursor", None, None),
    ("name_left", PromoteName, "Left Ctrl-b", A::CursorLeft, "move the cursor left", None, None),
    ("name_right", PromoteName, "Right Ctrl-f", A::CursorRight, "move the cursor right", None, None),
    ("name_home", PromoteName, "Home Ctrl-a", A::CursorHome, "to the start", None, None),
    ("name_end", PromoteName, "End Ctrl-e", A::CursorEnd, "to the end", None, None),
    ("name_erase", PromoteName, "Ctrl-u", A::Erase, "delete everything before the cursor", None, None),
    ("name_word", PromoteName, "Ctrl-w", A::DeleteWord, "delete the word before the cursor", None, None),
    ("name_help", PromoteName, "F1", A::Help, "the keys of this view", None, None),
    ("plot_next", Viewer, "j Down l Right Space", A::Next, "next plot of the run", Some("next"), Some("plot_prev")),
    ("plot_prev", Viewer, "k Up h Left", A::Prev, "previous plot", None, None),
    ("plot_copy", Viewer, "y", A::CopyPath, "copy the plot's path to the clipboard (OSC 52, works over SSH)", Some("copy path"), None),
    ("plot_open_external", Viewer, "O", A::OpenExternal, "open it in the desktop's viewer (plot_opener, xdg-open, open)", Some("desktop viewer"), None),
    ("plot_close", Viewer, "Esc q o", A::Close, "back to the tree", Some("back"), None),
    ("plot_help", Viewer, "? F1", A::Help, "the keys of this view", Some("keys"), None),
    ("chart_right", Chart, "l Right", A::NextColumn, "move the cursor right (step, raw and smoothed value read out)", Some("cursor"), Some("chart_left")),
    ("chart_left", Chart, "h Left", A::PrevColumn, "move the cursor left", None, None),
    ("chart_far_right", Chart, "L PgDn", A::PageDown, "move the cursor a tenth of the way right", None, None),
    ("chart_far_left", Chart, "H PgUp", A::PageUp, "move the cursor a tenth of the way left", None, None),
    ("chart_first", Chart, "g Home", A::Top, "the cursor to the first point", None, None),
    ("chart_last", Chart, "G End", A::Bottom, "the cursor to the last point", None, None),
    ("chart_smoothing", Chart, "S", A::CycleSmoothing, "smooth (TensorBoard's EMA): off, 0.6, 0.9, 0.99; the raw line stays, dimmed", Some("smooth"), None),
    ("chart_log", Chart, "Y", A::ToggleLog, "log scale (values ≤ 0 left out and counted)", Some("log"), None),
    ("chart_clip", Chart, "C", A::ClipOutliers, "clip the y range to the 2nd–98th percentile (outliers drawn on the edge)", Some("clip"), None),
    ("chart_next_series", Chart, "m", A::NextSeries, "the next series, same settings (the run's, or the runs' shared ones)", Some("series"), None),
    ("chart_prev_series", Chart, "M", A::PrevSeries, "the previous series", None, None),
    ("chart_down", Chart, "j Down", A::Next, "highlight the next run (compare)", None, Some("chart_up")),
    ("chart_up", Chart, "k Up", A::Prev, "highlight the previous run", None, None),
    ("chart_highlight", Chart, "v", A::Highlight, "highlight one run and dim the others, or draw them all", None, None),
    ("chart_close", Chart, "Esc q z", A::Close, "back to the pane or the comparison", Some("back"), None),
    ("chart_help", Chart, "? F1", A::Help, "the keys of this view", None, None),
    ("help_close", Help, "Esc ? q", A::Close, "close the help", Some("close"), None),
    ("help_down", Help, "j Down", A::Next, "scroll down", None, None),
    ("help_up", Help, "k Up", A::Prev, "scroll up", None, None),
    ("help_page_down", Help, "PgDn Ctrl-d Space", A::PageDown, "scroll a page down", None, None),
    ("help_page_up", Help, "PgUp Ctrl-u", A::PageUp, "scroll a page up", None, None),
    ("help_top", Help, "g Home", A::Top, "the top", None, None),
    ("help_bottom", Help, "G End", A::Bottom, "the end (the symbol legend)", None, None),
    ("help_quit", Help, "Ctrl-c", A::Quit, "quit", None, None),
    ("logs", Browse, "t", A::OpenLogs, "tail the run's logs (*.log, logs/, Hydra's <job>.log, W&B's output.log), live while it writes", None, None),
    ("logs_down", Logs, "j Down", A::Next, "scroll down (at the end: follow again)", Some("scroll"), Some("logs_up")),
    ("logs_up", Logs, "k Up", A::Prev, "scroll up (stops following)", None, None),
    ("logs_page_down", Logs, "PgDn Ctrl-d Space", A::PageDown, "a page down", None, None),
    ("logs_page_up", Logs, "PgUp Ctrl-u", A::PageUp, "a page up", None, None),
    ("logs_top", Logs, "g Home", A::Top, "the first line kept", None, None),
    ("logs_follow", Logs, "G End", A::Bottom, "the end, following new lines as they are written", Some("follow"), None),
    ("logs_search", Logs, "/", A::StartFilter, "search (case-insensitive): matches highlighted", Some("search"), None),
    ("logs_next_match", Logs, "n", A::NextMatch, "the next match", Some("match"), Some("logs_prev_match")),
    ("logs_prev_match", Logs, "N", A::PrevMatch, "the previous match", None, None),
    ("logs_next_file", Logs, "Tab ]", A::NextColumn, "the run's next log file", Some("file"), None),
    ("logs_prev_file", Logs, "Shift-Tab [", A::PrevColumn, "the previous log file", None, None),
    ("logs_close", Logs, "Esc q t", A::Close, "back to the tree", Some("back"), None),
    ("logs_help", Logs, "? F1", A::Help, "the keys of this view", None, None),
    ("logs_search_keep", LogsSearch, "Enter", A::Accept, "keep the search and jump to the last match", Some("keep"), None),
    ("logs_search_clear", LogsSearch, "Esc", A::Cancel, "drop the search", Some("clear"), None),
    ("logs_search_backspace", LogsSearch, "Backspace", A::Backspace, "delete a character", None, None),
    ("logs_search_erase", LogsSearch, "Ctrl-u", A::Erase, "delete the whole search", None, None),
    ("run_view", Browse, "w", A::OpenRun, "the run view: overview beside every metric chart (also Enter on a run)", None, None),
    ("run_right", Run, "l Right", A::NextColumn, "select the next chart", Some("select"), Some("run_left")),
    ("run_left", Run, "h Left", A::PrevColumn, "select the previous chart", None, None),
    ("run_down", Run, "j Down", A::Next, "the chart below", None, None),
    ("run_up", Run, "k Up", A::Prev, "the chart above", None, None),
    ("run_page_down", Run, "PgDn Space", A::PageDown, "the next page of charts", None, None),
    ("run_page_up", Run, "PgUp", A::PageUp, "the previous page of charts", None, None),
    ("run_first", Run, "g Home", A::Top, "the first chart", None, None),
    ("run_last", Run, "G End", A::Bottom, "the last chart", None, None),
    ("run_more", Run, "+ =", A::GridMore, "more, smaller charts (a column, then a row)", Some("grid"), Some("run_fewer")),
    ("run_fewer", Run, "-", A::GridFewer, "fewer, larger charts", None, None),
    ("run_filter", Run, "/", A::StartFilter, "show only the metrics whose names hold the typed words", Some("filter"), None),
    ("run_zoom", Run, "z Enter", A::ZoomChart, "zoom the selected chart to the whole screen (Esc comes back)", Some("zoom"), None),
    ("run_logs", Run, "t", A::OpenLogs, "the run's logs (Esc comes back)", Some("logs"), None),
    ("run_close", Run, "Esc q w", A::Close, "clear the filter, then back to the tree", Some("back"), None),
    ("run_help", Run, "? F1", A::Help, "the keys of this view", None, None),
    ("run_filter_keep", RunFilter, "Enter", A::Accept, "keep the filter", Some("keep"), None),
    ("run_filter_clear", RunFilter, "Esc", A::Cancel, "clear the filter: every metric again", Some("clear"), None),
    ("run_filter_backspace", RunFilter, "Backspace", A::Backspace, "delete a character", None, None),
    ("run_filter_erase", RunFilter, "Ctrl-u", A::Erase, "delete the whole filter", None, None),
    ]
};

/// Every binding, in the order the help lists them.
pub fn bindings() -> Vec<Binding> {
    TABLE
        .iter()
        .map(
            |&(name, mode, keys, action, desc, hint, hint_pair)| Binding {
                name,
                mode,
                // The table is ours and a test parses every key in it.
                keys: keys.split(' ').filter_map(|k| parse_key(k).ok()).collect(),
                action,
                desc,
                hint,
                hint_pair,
            },
        )
        .collect()
}

/// The keys a config gives one action, `"j"` or `["j", "Down"]`: read as
/// keys when the file is read, so a key that does not parse is an error
/// that names its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysSpec(pub Vec<Key>);

impl<'de> Deserialize<'de> for KeysSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<KeysSpec, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            One(String),
            Many(Vec<String>),
        }
        let written = match Written::deserialize(d)? {
            Written::One(k) => vec![k],
            Written::Many(v) => v,
        };
        written
            .iter()
            .map(|k| parse_key(k))
            .collect::<Result<Vec<Key>, String>>()
            .map(KeysSpec)
            .map_err(serde::de::Error::custom)
    }
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
    overrides: &BTreeMap<String, KeysSpec>,
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
        if spec.0.is_empty() {
            return Err((at, "needs at least one key".into()));
        }
        binding.keys = spec.0.clone();
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
        return Some(b.action);
    }
    match (mode, event.code) {
        (
            Mode::Filter
            | Mode::PromoteName
            | Mode::ConfirmCount
            | Mode::CompareFilter
            | Mode::LogsSearch
            | Mode::RunFilter,
            KeyCode::Char(c),
        ) if !event
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            Some(Action::Input(c))
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
            Mode::ConfirmCount => "confirm (typed count)",
            Mode::Promote => "promote",
            Mode::PromoteName => "target name",
            Mode::Viewer => "plot",
            Mode::Compare => "compare",
            Mode::Chart => "zoomed chart",
            Mode::CompareFilter => "compare filter",
            Mode::Logs => "logs",
            Mode::LogsSearch => "logs search",
            Mode::Run => "run view",
            Mode::RunFilter => "run view filter",
        };
        let keys = keys_label(b).replace('|', "\\|");
        out.push_str(&format!("| `{keys}` | {mode} | {} |\n", b.desc));
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
            Some(Action::Next)
        );
        assert_eq!(
            dispatch(&t, Mode::Browse, &press(KeyCode::Down, KeyModifiers::NONE)),
            Some(Action::Next)
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
            Some(Action::Input('j'))
        );
        assert_eq!(
            dispatch(
                &t,
                Mode::Filter,
                &press(KeyCode::Char('Q'), KeyModifiers::SHIFT)
            ),
            Some(Action::Input('Q'))
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
    fn every_key_in_the_table_parses() {
        for &(name, _, keys, ..) in TABLE {
            for k in keys.split(' ') {
                assert!(parse_key(k).is_ok(), "{name}: {k:?}");
            }
        }
    }
}

#[cfg(test)]
mod override_tests {
    use super::*;
    use std::collections::BTreeMap;

    fn spec(pairs: &[(&str, &[&str])]) -> BTreeMap<String, KeysSpec> {
        pairs
            .iter()
            .map(|(a, ks)| {
                (
                    a.to_string(),
                    KeysSpec(ks.iter().map(|k| parse_key(k).unwrap()).collect()),
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
            Some(Action::Next)
        );
        assert_eq!(
            press(KeyCode::Char('k'), KeyModifiers::NONE),
            Some(Action::Prev),
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
        assert!(parse_key("Ctl-r").unwrap_err().contains("is not a key"));
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
