//! What is drawn over the panes and takes the keys while open: the help,
//! a plan to confirm, the promote picker, a plot full screen, runs side by
//! side. One at a time ([`Overlay`]); a result that arrives in the
//! background while another is open says so instead of covering it.

use std::collections::HashSet;
use std::path::PathBuf;

use super::app::{App, Scroll};
use super::msg::Request;
use crate::ops::{Plan, PlanKind, Report};
use crate::runs::RunSummary;

/// The one thing drawn over the panes, if any: it takes the keys while open.
pub enum Overlay {
    /// The `?` help, scrolled, over the view it was asked from.
    Help(Help),
    /// A plan waiting for yes or no.
    Confirm(Confirm),
    /// The promote picker.
    Promote(Picker),
    /// A plot full screen.
    Viewer(Viewer),
    /// Runs side by side.
    Compare(CompareView),
    /// A chart zoomed to the whole screen.
    Chart(ChartView),
    /// A run's logs, tailed.
    Logs(Box<super::watch::LogsView>),
    /// A run's overview and every chart.
    Run(Box<super::run_view::RunView>),
}

/// The help, for the view it was opened from: that view's keys come
/// first, and closing the help goes back to it as it was.
pub struct Help {
    /// Scroll of the help.
    pub scroll: Scroll,
    /// The key mode of the view below.
    pub view: super::keymap::Mode,
    /// The pane that had focus, when browsing (the chart keys lead in the
    /// metrics pane).
    pub focus: super::app::Focus,
    /// The view below (compare, a plot, the picker, a plan), restored on close.
    pub under: Option<Box<Overlay>>,
}

/// A plan waiting for yes or no.
#[derive(Debug, Clone)]
pub struct Confirm {
    /// The plan.
    pub plan: Plan,
    /// Scroll of the popup.
    pub scroll: Scroll,
    /// Marked runs in the plan that the tree does not show now (filtered or folded).
    pub hidden: Vec<String>,
}

/// What can be promoted from a run, and the choice being made.
#[derive(Debug, Clone)]
pub struct Picker {
    /// The run, as it was when the picker opened: a refresh may renumber
    /// or remove runs meanwhile, and promotion checks the run again anyway.
    pub run: Box<crate::catalog::Run>,
    /// The items: what, and where it would land (relative to the root)
    /// with its bytes, or why it cannot be promoted.
    pub items: Vec<super::msg::Candidate>,
    /// The highlighted item.
    pub selected: usize,
    /// A target name the user typed for the highlighted item.
    pub name: Option<String>,
    /// The name being typed, while editing.
    pub editing: Option<String>,
    /// The cursor in the name being typed (a char index).
    pub cursor: usize,
    /// The highlighted item is being planned again (under a typed name).
    pub planning: bool,
    /// `y` was pressed once on an item whose bytes were promoted before:
    /// a second `y` makes the second copy (moving off the item forgets it).
    pub again: bool,
}

/// The points of one series: (x, y) in file order.
pub type Points = Vec<(f64, f64)>;

/// Runs side by side: the table, the series the runs share for the overlay
/// chart, and what the user picked.
#[derive(Debug, Clone)]
pub struct CompareView {
    /// Runs × metrics.
    pub table: crate::compare::Comparison,
    /// Series found in two runs or more: name, and per row its points.
    pub series: Vec<(String, Vec<Option<Points>>)>,
    /// Each series' x column (step, epoch...), as the first run has it.
    pub x: Vec<String>,
    /// Each row's run folder, for Enter (opens it in the tree).
    pub paths: Vec<PathBuf>,
    /// The selected row's curve is drawn bright, the others dimmed.
    pub highlight: bool,
    /// Columns repeating another under a different spelling are shown.
    pub aliases: bool,
    /// Words every shown row contains (name, run, status, config values).
    pub filter: String,
    /// The filter is being typed.
    pub typing: bool,
    /// The highlighted column (the one `s` sorts by).
    pub column: usize,
    /// The series the chart overlays.
    pub chart: usize,
    /// The selected row (the table scrolls to keep it in view).
    pub row: usize,
}

impl CompareView {
    /// Reads the runs and builds the view (off the UI thread: it reads
    /// every metrics file of every run).
    pub fn load(
        runs: &[(String, String, PathBuf)],
        configured: &std::collections::BTreeMap<String, crate::config::KeyMetric>,
    ) -> CompareView {
        let summaries: Vec<RunSummary> = runs.iter().map(|r| RunSummary::load(&r.2)).collect();
        let rows: Vec<(String, String, &RunSummary)> = runs
            .iter()
            .zip(&summaries)
            .map(|(r, s)| (r.0.clone(), r.1.clone(), s))
            .collect();
        let configs: Vec<crate::compare::RunConfig> = runs
            .iter()
            .map(|r| crate::compare::RunConfig::load(&r.2).unwrap_or_default())
            .collect();
        let table = crate::compare::Comparison::new(&rows, configured).with_config(&configs);
        let details: Vec<crate::runs::Metrics> = runs
            .iter()
            .map(|r| crate::runs::Metrics::load(&r.2, false))
            .collect();
        let mut names: Vec<String> = details
            .iter()
            .flat_map(|m| m.series.iter().map(|s| s.name.clone()))
            .collect();
        names.sort();
        names.dedup();
        // Results first, validation leading; counters and optimiser
        // settings (epoch, step, lr-Adam) last, never the first chart.
        names.sort_by_key(|n| {
            (
                crate::runs::summary::is_bookkeeping(n),
                crate::runs::summary::split_of(n) != Some("val"),
            )
        });
        let series: Vec<(String, Vec<Option<Points>>)> = names
            .into_iter()
            .map(|name| {
                let per_run: Vec<Option<Points>> = details
                    .iter()
                    .map(|m| {
                        m.series
                            .iter()
                            .find(|s| s.name == name)
                            .map(|s| s.points.clone())
                    })
                    .collect();
                (name, per_run)
            })
            .filter(|(_, per_run)| per_run.iter().filter(|p| p.is_some()).count() >= 2)
            .collect();
        let x = series
            .iter()
            .map(|(name, _)| {
                details
                    .iter()
                    .find_map(|m| m.series.iter().find(|s| &s.name == name))
                    .map_or_else(|| "step".to_string(), |s| s.x.clone())
            })
            .collect();
        CompareView {
            table,
            series,
            x,
            paths: runs.iter().map(|r| r.2.clone()).collect(),
            highlight: false,
            aliases: false,
            filter: String::new(),
            typing: false,
            column: 0,
            chart: 0,
            row: 0,
        }
    }

    /// The rows the filter keeps, in table order: each of its words is in
    /// the row's name, run, status or a config value (case aside).
    pub fn visible(&self) -> Vec<usize> {
        let words: Vec<String> = self
            .filter
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        (0..self.table.runs.len())
            .filter(|&r| {
                let mut hay = format!(
                    "{} {} {}",
                    self.table.names[r], self.table.runs[r], self.table.status[r]
                );
                for (k, v) in self.table.params.iter().zip(&self.table.config[r]) {
                    hay.push_str(&format!(" {k}={}", v.as_deref().unwrap_or("")));
                }
                let hay = hay.to_lowercase();
                words.iter().all(|w| hay.contains(w.as_str()))
            })
            .collect()
    }

    /// Puts the rows in `order` (indices of the current rows): the table,
    /// the curves and the folders move together.
    pub fn reorder(&mut self, order: &[usize]) {
        self.table.reorder(order);
        for (_, per_run) in &mut self.series {
            *per_run = order.iter().map(|&i| per_run[i].clone()).collect();
        }
        self.paths = order.iter().map(|&i| self.paths[i].clone()).collect();
    }
}

/// One curve of a zoomed chart: whose, and its points as read.
#[derive(Debug, Clone)]
pub struct ChartLine {
    /// The run (its short name in a comparison), shown in the legend.
    pub label: String,
    /// The points, in file order.
    pub points: Points,
}

/// A chart zoomed to the whole screen, from the metrics pane (one run) or
/// from compare (one line per run); its settings are its own.
#[derive(Debug, Clone)]
pub struct ChartView {
    /// The series' name.
    pub name: String,
    /// The file it was read from (one run), or how many runs share it.
    pub source: String,
    /// The x column's name (step, epoch, wall time...).
    pub x: String,
    /// The curves.
    pub lines: Vec<ChartLine>,
    /// Smoothing, log scale, clipping.
    pub options: crate::chart::Options,
    /// Where the cursor is, as a share (0–1) of the x range.
    pub cursor: f64,
    /// The one line drawn bright while the others are dimmed.
    pub highlight: Option<usize>,
    /// The comparison it was zoomed from, restored on close.
    pub under: Option<Box<CompareView>>,
    /// The run view it was zoomed from, restored on close.
    pub back: Option<Box<super::run_view::RunView>>,
}

/// How far `h`/`l` move the chart's cursor: a hundredth of the x range,
/// about a column of a full-screen chart.
pub const CURSOR_STEP: f64 = 0.01;

/// A plot shown full screen: the run's plots, the one shown, and its image
/// once decoded for the size it is drawn at.
pub struct Viewer {
    /// The run's plots: path and bytes.
    pub plots: Vec<(PathBuf, u64)>,
    /// The one shown.
    pub index: usize,
    /// The size (columns, rows) the image was last drawn in.
    pub size: ratatui::layout::Size,
    /// The decoded image, for which file and size; or why it cannot be shown.
    pub image: Option<(
        PathBuf,
        ratatui::layout::Size,
        Result<super::plot::Image, String>,
    )>,
    /// A decode asked for and not back yet.
    pub pending: Option<(PathBuf, ratatui::layout::Size)>,
}

impl Viewer {
    /// The plot shown.
    pub fn current(&self) -> &std::path::Path {
        &self.plots[self.index].0
    }
}

/// True where a desktop viewer can show a window: macOS, or a Linux session
/// with an X or Wayland display (not a plain SSH login).
pub fn desktop_reachable() -> bool {
    cfg!(target_os = "macos")
        || ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

impl App {
    /// `?`: opens the help over whatever is shown, for that view.
    pub(super) fn open_help(&mut self) {
        let view = self.mode();
        let under = self.overlay.take().map(Box::new);
        self.overlay = Some(Overlay::Help(Help {
            scroll: Scroll::default(),
            view,
            focus: self.focus,
            under,
        }));
    }

    /// Closes the help: the view it was opened over comes back.
    pub(super) fn close_help(&mut self) {
        if let Some(Overlay::Help(h)) = self.overlay.take() {
            self.overlay = h.under.map(|b| *b);
        }
    }

    /// The confirm popup, when it is the overlay.
    pub fn confirm(&self) -> Option<&Confirm> {
        match &self.overlay {
            Some(Overlay::Confirm(c)) => Some(c),
            _ => None,
        }
    }

    /// The promote picker, when it is the overlay.
    pub fn picker(&self) -> Option<&Picker> {
        match &self.overlay {
            Some(Overlay::Promote(p)) => Some(p),
            _ => None,
        }
    }

    /// The plot view, when it is the overlay.
    pub fn viewer(&self) -> Option<&Viewer> {
        match &self.overlay {
            Some(Overlay::Viewer(v)) => Some(v),
            _ => None,
        }
    }

    /// The zoomed chart, when it is the overlay.
    pub fn zoomed(&self) -> Option<&ChartView> {
        match &self.overlay {
            Some(Overlay::Chart(c)) => Some(c),
            _ => None,
        }
    }

    /// `z` on the metrics pane: the pane's chart (its series, on its x
    /// axis, with its smoothing and scale) zoomed to the whole screen.
    pub(super) fn zoom_metrics(&mut self) {
        let Some(d) = self.selected_details() else {
            self.say("select a run with metric curves to zoom its chart");
            return;
        };
        let series = &d.metrics.series;
        if series.is_empty() {
            self.say("this run has no metric curves to chart");
            return;
        }
        let s = &series[self.chart.series.min(series.len() - 1)];
        let axes = super::ui::metrics::x_axes(series, s);
        let shown = match self.chart.x_axis % (axes.len() + 1) {
            0 => s.clone(),
            a => super::ui::metrics::against(s, axes[a - 1]),
        };
        let label = self
            .selected_run()
            .map(|k| self.catalog.runs[k].name.clone())
            .unwrap_or_default();
        self.overlay = Some(Overlay::Chart(ChartView {
            name: shown.name.clone(),
            source: shown.file.clone(),
            x: shown.x.clone(),
            lines: vec![ChartLine {
                label,
                points: shown.points,
            }],
            options: crate::chart::Options {
                smoothing: self.chart.smoothing,
                log_y: self.chart.log_y,
                clip: None,
            },
            cursor: 1.0,
            highlight: None,
            under: None,
            back: None,
        }));
    }

    /// `z` in compare: the overlaid series zoomed, one line per run that
    /// has it, compare coming back on close.
    pub(super) fn zoom_compare(&mut self) {
        let Some(Overlay::Compare(c)) = &self.overlay else {
            return;
        };
        let Some((name, per_run)) = c.series.get(c.chart) else {
            self.say("no series shared by two runs to chart");
            return;
        };
        // Rows the filter hides stay out of the chart; a hidden row keeps
        // its place (empty), so colours and glyphs match the table's.
        let shown = c.visible();
        let lines: Vec<ChartLine> = per_run
            .iter()
            .enumerate()
            .map(|(r, p)| ChartLine {
                label: c.table.names.get(r).cloned().unwrap_or_default(),
                points: if shown.contains(&r) {
                    p.clone().unwrap_or_default()
                } else {
                    Vec::new()
                },
            })
            .collect();
        let view = ChartView {
            name: name.clone(),
            source: format!(
                "{} runs",
                lines.iter().filter(|l| !l.points.is_empty()).count()
            ),
            x: c.x.get(c.chart).cloned().unwrap_or_else(|| "step".into()),
            lines,
            options: crate::chart::Options {
                smoothing: self.chart.smoothing,
                log_y: self.chart.log_y,
                clip: None,
            },
            cursor: 1.0,
            highlight: c.highlight.then_some(c.row),
            under: None,
            back: None,
        };
        let under = match self.overlay.take() {
            Some(Overlay::Compare(c)) => Some(Box::new(c)),
            _ => None,
        };
        self.overlay = Some(Overlay::Chart(ChartView { under, ..view }));
    }

    /// The comparison, when it is the overlay.
    pub fn compare(&self) -> Option<&CompareView> {
        match &self.overlay {
            Some(Overlay::Compare(c)) => Some(c),
            _ => None,
        }
    }

    /// Opens an overlay that a background result brings (a plan, a
    /// comparison). Results never stack overlays nor take the keys from
    /// what the user is looking at: while another is open, the newest
    /// result waits and opens when that one closes.
    pub(super) fn offer(&mut self, overlay: Overlay, what: &str) {
        if self.overlay.is_some() {
            self.say(format!("{what} is ready: it opens when this view closes"));
            self.waiting = Some(overlay);
            return;
        }
        self.overlay = Some(overlay);
    }

    /// Asks for the promote picker of the selected run: its data, each
    /// plot, each export, each kept checkpoint, planned off the UI thread
    /// (planning walks `data/`).
    pub(super) fn open_promote(&mut self) {
        let Some(k) = self.selected_run() else {
            self.say("select a run to promote from");
            return;
        };
        let Some(d) = self.selected_details() else {
            self.say("still reading the run; try again in a moment");
            return;
        };
        let plots = d
            .plots
            .iter()
            .map(|p| p.rel.trim_start_matches("plots/").to_string())
            .collect();
        let checkpoints = d
            .checkpoints
            .iter()
            .filter(|c| !c.prune)
            .map(|c| c.file.rel.trim_start_matches("checkpoints/").to_string())
            .collect();
        self.busy = Some("planning what to promote…".into());
        self.outbox.push(Request::PlanPromote {
            root: self.catalog.root.clone(),
            run: Box::new(self.catalog.runs[k].clone()),
            plots,
            checkpoints,
        });
    }

    /// The promote picker's candidates, planned: open it (unless the user
    /// moved on to another run or view meanwhile).
    pub(super) fn promote_planned(
        &mut self,
        run: Box<crate::catalog::Run>,
        items: Vec<super::msg::Candidate>,
    ) {
        self.busy = None;
        // Found by folder: a refresh may have renumbered the runs meanwhile.
        let selected = self.selected_run().map(|k| &self.catalog.runs[k].path);
        if selected != Some(&run.path) {
            return;
        }
        if items.is_empty() {
            self.say("nothing to promote here (no data/, plots or kept checkpoints)");
            return;
        }
        let selected = items.iter().position(|(_, r)| r.is_ok()).unwrap_or(0);
        self.offer(
            Overlay::Promote(Picker {
                run,
                items,
                selected,
                name: None,
                editing: None,
                cursor: 0,
                planning: false,
                again: false,
            }),
            "the promote picker",
        );
    }

    /// Opens the selected run's plots full screen, the first one shown.
    pub(super) fn open_viewer(&mut self) {
        let Some(k) = self.selected_run() else {
            self.say("select a run to see its plots");
            return;
        };
        let run = self.catalog.runs[k].path.clone();
        let Some(d) = self.selected_details() else {
            self.say("still reading the run; try again in a moment");
            return;
        };
        let plots: Vec<(PathBuf, u64)> = d
            .plots
            .iter()
            .filter(|p| !p.is_dir && !p.is_link)
            .map(|p| (run.join(&p.rel), p.usage.apparent))
            .collect();
        if plots.is_empty() {
            self.say("this run has no plots (PNG or JPEG under plots/)");
            return;
        }
        self.overlay = Some(Overlay::Viewer(Viewer {
            plots,
            index: 0,
            size: ratatui::layout::Size::default(),
            image: None,
            pending: None,
        }));
    }

    /// Asks for the shown plot at the size it is drawn at, unless it is
    /// there or on its way.
    pub(super) fn want_plot(&mut self, size: ratatui::layout::Size) {
        let Some(Overlay::Viewer(v)) = &mut self.overlay else {
            return;
        };
        v.size = size;
        let path = v.current().to_path_buf();
        let have = v
            .image
            .as_ref()
            .is_some_and(|(p, s, _)| *p == path && *s == size);
        let asked = v
            .pending
            .as_ref()
            .is_some_and(|(p, s)| *p == path && *s == size);
        if !have && !asked && size.width > 0 && size.height > 0 {
            v.pending = Some((path.clone(), size));
            let graphics = self.settings.graphics.clone();
            self.outbox.push(Request::DecodePlot(graphics, path, size));
        }
    }

    /// Takes a decoded plot (dropped if the viewer moved on meanwhile).
    pub(super) fn plot_decoded(
        &mut self,
        path: PathBuf,
        size: ratatui::layout::Size,
        image: Result<super::plot::Image, String>,
    ) {
        let Some(Overlay::Viewer(v)) = &mut self.overlay else {
            return;
        };
        if v.pending
            .as_ref()
            .is_some_and(|(p, s)| *p == path && *s == size)
        {
            v.pending = None;
        }
        if *v.current() == path {
            v.image = Some((path, size, image));
        }
    }

    /// `c`: compares the marked runs, or the runs of the selected model or task.
    pub(super) fn open_compare(&mut self) {
        let keys = self.op_runs();
        if keys.len() < 2 {
            self.say("mark two runs or more (Space), or select a model, to compare");
            return;
        }
        let runs = keys
            .iter()
            .map(|&k| {
                let r = &self.catalog.runs[k];
                (r.label(), r.task.clone(), r.path.clone())
            })
            .collect();
        self.busy = Some(format!("comparing {} runs…", keys.len()));
        self.outbox
            .push(Request::Compare(runs, self.settings.key_metrics.clone()));
    }

    /// The path `y` copies: the shown plot, else the selected run's folder.
    pub(super) fn copy_path(&mut self) {
        let path = match self.viewer() {
            Some(v) => Some(v.current().to_path_buf()),
            None => self
                .selected_run()
                .map(|k| self.catalog.runs[k].path.clone()),
        };
        match path {
            Some(p) => {
                self.say(format!(
                    "copied to the terminal's clipboard (OSC 52): {}",
                    crate::fmt::escape(&p.to_string_lossy())
                ));
                self.outbox
                    .push(Request::Copy(p.to_string_lossy().into_owned()));
            }
            None => self.say("select a run to copy its path"),
        }
    }

    /// `O`: the shown plot in the desktop's viewer, when there is a desktop.
    pub(super) fn open_external(&mut self) {
        let Some(path) = self.viewer().map(|v| v.current().to_path_buf()) else {
            return;
        };
        if self.settings.plot_opener.is_none() && !desktop_reachable() {
            self.say(
                "no desktop here (no DISPLAY or WAYLAND_DISPLAY): the plot stays in the terminal",
            );
            return;
        }
        self.say(format!(
            "opening {}",
            crate::fmt::escape(&path.to_string_lossy())
        ));
        self.outbox.push(Request::OpenExternal(
            self.settings.plot_opener.clone(),
            path,
        ));
    }

    /// Reports how a promotion went.
    pub(super) fn promoted(&mut self, result: Result<PathBuf, crate::ops::promote::PromoteError>) {
        match result {
            Ok(p) => self.say(format!(
                "promoted: {} (with its provenance record)",
                p.display()
            )),
            Err(e) => self.say(format!("not promoted: {e}")),
        }
    }

    /// A built plan arrives: open the confirm popup (or say there is nothing to do).
    pub(super) fn planned(&mut self, plan: Plan) {
        self.planning = None;
        self.message = None;
        if plan.is_empty() {
            let nothing = match plan.kind {
                PlanKind::Ephemeral => "no tmp/ or cache/ to delete",
                PlanKind::Cleanup => "nothing to clean or prune",
                PlanKind::Prune => "no checkpoint to prune",
                PlanKind::Trash => "nothing to move to the trash",
                PlanKind::EmptyTrash => "the trash is empty",
            };
            // The first reason, on the item it concerns; the count of the others.
            let why = plan.skipped.first().map_or(String::new(), |n| {
                let item = n.rel.file_name().unwrap_or(n.rel.as_os_str());
                let more = match plan.skipped.len() - 1 {
                    0 => String::new(),
                    k => format!(" (and {} skipped)", crate::fmt::count(k as u64, "other")),
                };
                format!(
                    ": {} is {}{more}",
                    crate::fmt::escape_os(item),
                    crate::fmt::escape(&explorer_words(&n.why))
                )
            });
            self.say(format!("{nothing}{why}"));
            return;
        }
        let shown: HashSet<&PathBuf> = self
            .shown_runs()
            .map(|k| &self.catalog.runs[k].path)
            .collect();
        let hidden = self
            .marks
            .iter()
            .filter(|p| !shown.contains(p))
            .map(|p| {
                p.strip_prefix(&self.catalog.root)
                    .unwrap_or(p)
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        self.offer(
            Overlay::Confirm(Confirm {
                plan,
                scroll: Scroll::default(),
                hidden,
            }),
            "the plan",
        );
    }

    /// A plan finished applying: report, clear the marks, rescan.
    pub(super) fn applied(&mut self, kind: PlanKind, report: Report) {
        self.applying = None;
        let verb = if kind == PlanKind::Trash {
            "moved to the trash"
        } else {
            "freed"
        };
        let mut msg = format!(
            "{} {verb} ({})",
            crate::fmt::size(report.freed),
            crate::fmt::count(report.done as u64, "path")
        );
        if !report.skipped.is_empty() {
            msg.push_str(&format!(", {} skipped", report.skipped.len()));
        }
        if let Some(e) = report.errors.first() {
            msg.push_str(&format!(
                ", {}: {}",
                crate::fmt::count(report.errors.len() as u64, "error"),
                crate::fmt::escape(e)
            ));
        }
        if kind == PlanKind::Trash && report.done > 0 {
            msg.push_str(" · undo: runyard restore");
        }
        self.marks.clear();
        self.rescan();
        self.say(msg);
    }
}

/// A reason written for the command line, said the explorer's way: it has
/// no `--force`, it leaves active runs alone.
pub fn explorer_words(why: &str) -> String {
    match why
        .strip_prefix("active: ")
        .and_then(|w| w.strip_suffix(" (use --force)"))
    {
        Some(when) => format!("active ({when}): the explorer leaves it alone until it is idle"),
        None => why.replace(" (use --force)", ""),
    }
}
