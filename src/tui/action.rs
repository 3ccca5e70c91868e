//! What the explorer can be asked to do. Keys, the mouse and the event
//! loop all become actions; [`super::update::update`] applies them.

/// One thing to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Leave the explorer.
    Quit,
    /// Move the selection (or scroll the focused pane) down one row.
    Down,
    /// Move up one row.
    Up,
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
    /// Start typing a filter.
    StartFilter,
    /// A character typed into the filter.
    FilterInput(char),
    /// Delete the filter's last character.
    FilterBackspace,
    /// Delete the whole query.
    FilterClear,
    /// Keep the filter, back to browsing.
    AcceptFilter,
    /// Clear the filter.
    ClearFilter,
    /// Next sort order.
    CycleSort,
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
    /// Open the help overlay.
    Help,
    /// Close the help overlay.
    CloseHelp,
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
    /// Apply the plan in the confirm popup.
    ConfirmYes,
    /// Close the confirm popup without changing anything.
    ConfirmNo,
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
    /// Back from the plot view.
    ClosePlot,
    /// Copy the shown plot's path (or the selected run's) to the clipboard.
    CopyPath,
    /// Open the shown plot with the desktop's viewer.
    OpenExternal,
    /// Open the promote picker for the selected run.
    OpenPromote,
    /// Edit the promotion's target name.
    EditPromoteName,
    /// Open the first tracker note that links to the selected run.
    OpenNote,
    /// A key whose feature is not built yet: shows why.
    Disabled(&'static str),
    /// A mouse click at a screen cell (column, row).
    Click(u16, u16),
    /// The wheel turned over a screen cell: `true` is down.
    Wheel(bool, u16, u16),
}
