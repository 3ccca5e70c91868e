//! What a key can ask the explorer to do, named for what it does in any
//! view: `Next` moves to the next row, item, plot or line wherever it is
//! pressed; `Accept` and `Cancel` answer whatever is asked. The keymap
//! turns keys into actions; [`super::update::update`] applies them.

/// One thing to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave the explorer.
    Quit,
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
    /// Delete everything typed.
    Erase,
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
}
