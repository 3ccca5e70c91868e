//! The explorer's state. Everything here is plain data and pure logic, so
//! tests drive it without a terminal; the event loop in `mod.rs` feeds it
//! scan events, loaded files and actions, and carries out its requests.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use ratatui::layout::Rect;

use super::keymap::{self, Binding, Mode};
use super::msg::Request;
use super::notes::Notes;
use super::overlay::Overlay;
use super::theme::Theme;
use super::tree::{self, Expansion, Node, NodeId, Row, TreeInput};
use crate::catalog::{Catalog, RunKey, ScanEvent, SortKey};
use crate::ops::{PlanKind, RunRef};
use crate::runs::{RunDetails, RunSummary, Status};

use super::tree::KeyMetricOf;

/// How many runs' details stay loaded.
const DETAILS_KEPT: usize = 8;

/// The panes focus moves between with Tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The tree.
    Tree,
    /// run_info (or the roll-up of a task or model).
    Info,
    /// Metrics and the chart.
    Metrics,
    /// Disk usage.
    Disk,
}

impl Focus {
    /// The pane after this one.
    pub fn next(self) -> Focus {
        match self {
            Focus::Tree => Focus::Info,
            Focus::Info => Focus::Metrics,
            Focus::Metrics => Focus::Disk,
            Focus::Disk => Focus::Tree,
        }
    }

    /// The pane before this one.
    pub fn prev(self) -> Focus {
        match self {
            Focus::Tree => Focus::Disk,
            Focus::Info => Focus::Tree,
            Focus::Metrics => Focus::Info,
            Focus::Disk => Focus::Metrics,
        }
    }
}

/// A scroll position and the largest useful one, which drawing measures
/// (unknown, so unbounded, until the pane is first drawn).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scroll {
    /// The first line shown.
    pub offset: u16,
    /// The largest offset that still shows something, from the last frame.
    pub max: u16,
}

impl Default for Scroll {
    fn default() -> Scroll {
        Scroll {
            offset: 0,
            max: u16::MAX,
        }
    }
}

impl Scroll {
    /// Moves by `delta` lines, within 0..=max.
    pub fn by(&mut self, delta: isize) {
        self.offset = (self.offset as isize + delta).clamp(0, self.max as isize) as u16;
    }

    /// Takes the largest useful offset the last frame measured.
    pub fn measured(&mut self, max: u16) {
        self.max = max;
        self.offset = self.offset.min(max);
    }
}

/// The three panes beside the tree, each with its own scroll.
#[derive(Debug, Clone, Copy, Default)]
pub struct Panes {
    /// run_info (or the roll-up of a task or model).
    pub info: Scroll,
    /// Metrics and the chart.
    pub metrics: Scroll,
    /// Disk usage.
    pub disk: Scroll,
}

impl Panes {
    /// The focused pane's scroll (none for the tree).
    pub fn get_mut(&mut self, focus: Focus) -> Option<&mut Scroll> {
        match focus {
            Focus::Tree => None,
            Focus::Info => Some(&mut self.info),
            Focus::Metrics => Some(&mut self.metrics),
            Focus::Disk => Some(&mut self.disk),
        }
    }
}

/// Where the last frame drew things, for mouse clicks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Areas {
    /// The tree pane, borders included.
    pub tree: Rect,
    /// run_info, metrics, disk panes.
    pub panes: [Rect; 3],
}

/// The tree pane: its rows, the selection and what shapes the rows.
#[derive(Debug)]
pub struct TreeView {
    /// Visible rows.
    pub rows: Vec<Row>,
    /// The rows need building again (folding, sorting, filtering, new runs).
    pub rows_dirty: bool,
    /// Index of the selected row.
    pub selected: usize,
    /// The selected node, to find it again after the rows change.
    pub selected_id: Option<NodeId>,
    /// First row shown in the tree pane.
    pub offset: usize,
    /// Rows that fit in the pane, from the last frame (0 before it).
    pub page: usize,
    /// Folded and unfolded tasks and models.
    pub expansion: Expansion,
    /// The filter query.
    pub query: String,
    /// True while typing the filter.
    pub filtering: bool,
    /// The order of runs.
    pub sort: SortKey,
    /// The order reversed (tasks, models and runs).
    pub reverse: bool,
    /// Which runs the rows show (with a filter, by run), kept with them:
    /// drawing asks which runs a task or model shows for every row of
    /// every frame.
    pub shown: tree::Shown,
    /// The filter changed: the next rebuild shows the list from the top,
    /// on the first matching run, with its task and model above it.
    pub jump_first: bool,
    /// How many runs the root, each task and each model show, and their
    /// usage summed, worked out with the rows: drawing asks it of every
    /// visible group row, every frame.
    pub totals: tree::Totals,
    /// The filter's answers for the queries typed since the runs changed.
    pub memo: tree::FilterMemo,
    /// False until the user moves: while the scan inserts rows above it,
    /// the selection stays on the first row instead of following a node.
    pub user_moved: bool,
}

/// What has been read of the runs, and the reads on their way.
#[derive(Debug, Default)]
pub struct Loads {
    /// Summaries loaded so far.
    pub summaries: HashMap<RunKey, RunSummary>,
    requested: HashSet<RunKey>,
    /// The last few runs' details, newest last, so moving back and forth
    /// between runs does not read their files again.
    pub details: Vec<(RunKey, Box<RunDetails>)>,
    /// Loads asked for and not back yet, by run folder (at most one each:
    /// a load is never asked again while one is on its way).
    pending: Pending,
    /// Runs that changed since their loaded summary or details were read:
    /// read again once no load of them is on its way.
    stale: Stale,
    /// The generation of the last rescan: loads asked before it are dropped.
    rescanned: u64,
    /// Each run's key metric once asked (see [`App::key_metric`]): the
    /// roll-up panes of the root and of a task ask it of every run, every
    /// frame. Emptied when summaries, runs or the configured metrics change.
    key_metrics: std::cell::RefCell<Vec<Option<Option<KeyMetricOf>>>>,
    /// The roll-ups of root, task and model rows the panes drew, emptied
    /// with `key_metrics` and when runs arrive (see [`super::ui::info::group`]).
    pub(crate) groups: super::ui::info::Groups,
    /// Run keys by folder, for loads that come back after a refresh
    /// renumbered the runs: (generation, runs indexed, index).
    index: (u64, usize, HashMap<PathBuf, RunKey>),
}

/// How the metrics chart is drawn.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    /// Which series the chart shows.
    pub series: usize,
    /// Which x axis the chart uses: 0 the file's own, then other columns.
    pub x_axis: usize,
    /// The chart's EMA smoothing weight (0: off).
    pub smoothing: f64,
    /// The chart's y axis is logarithmic.
    pub log_y: bool,
    /// Smoothing, scale and x axis are kept while browsing runs (`=`);
    /// otherwise each run's chart starts raw, linear, on its own x.
    pub pinned: bool,
}

/// Keeping the tree fresh: whether something changed, and when the last
/// quiet refresh started.
#[derive(Debug)]
pub struct Live {
    /// How: "watching" or "polling" (empty in tests: no refresh).
    pub how: &'static str,
    /// The watcher saw a change not yet refreshed.
    pub dirty: bool,
    /// A refresh is on its way.
    pub in_flight: bool,
    /// When the last refresh started (or the scan finished).
    pub last: Instant,
    /// Runs the watcher saw change: the next refresh walks them whatever
    /// the cache says (a file appended in place changes no folder).
    pub touched: HashSet<PathBuf>,
    /// The cache the next refresh starts from, of the catalog shown (built
    /// on a worker as the last scan or refresh finished).
    pub next_cache: Option<Box<crate::catalog::cache::ScanCache>>,
    /// The version of the runs' readings shown: counts finished scans and
    /// refreshes taken, so a cache made from older readings is not used.
    pub shown: u64,
}

/// Settings fixed for the session (from the config and the terminal).
#[derive(Clone)]
pub struct Settings {
    /// Runs that wrote within this window are active.
    pub window: SignedDuration,
    /// The time zone times are shown in (the system's; tests pin one).
    pub tz: jiff::tz::TimeZone,
    /// The key metric of each task, from the config.
    pub key_metrics: std::collections::BTreeMap<String, crate::config::KeyMetric>,
    /// How a prune judges checkpoints (key metrics, `keep_best`).
    pub judge: crate::ops::Judge,
    /// Colours (or none).
    pub theme: Theme,
    /// The key bindings.
    pub bindings: Vec<Binding>,
    /// The command that opens plots on a desktop (`plot_opener` in the config).
    pub plot_opener: Option<String>,
    /// How images are drawn: half-blocks or a terminal graphics protocol.
    pub graphics: super::plot::Graphics,
    /// The tracker folder notes are read from (none: not read).
    pub tracker: Option<PathBuf>,
    /// The first sort, from the config.
    pub sort: SortKey,
    /// How the tree is kept fresh: "watching", "polling", or empty (no
    /// refresh: tests).
    pub live: &'static str,
}

impl Settings {
    /// The defaults: no config, half-blocks, no tracker.
    pub fn new(window: SignedDuration, theme: Theme) -> Settings {
        Settings {
            window,
            tz: jiff::tz::TimeZone::system(),
            key_metrics: Default::default(),
            judge: crate::ops::Judge::default(),
            theme,
            bindings: keymap::bindings(),
            plot_opener: None,
            graphics: Default::default(),
            tracker: None,
            sort: SortKey::Time,
            live: "",
        }
    }

    /// With a config's key bindings, theme, key metrics and first sort
    /// (all read and checked with the config).
    pub fn configured(mut self, config: &crate::config::Config) -> Settings {
        self.bindings = config.bindings.clone();
        self.theme = Theme::from_config(&config.theme);
        self.plot_opener = config.general.plot_opener.clone();
        self.judge = crate::ops::Judge::configured(config);
        self.key_metrics = config
            .metrics
            .iter()
            .map(|(t, m)| (t.clone(), m.resolve()))
            .collect();
        if let Some(sort) = &config.general.default_sort {
            self.sort = sort.key().clone();
        }
        self
    }
}

/// The explorer's state.
pub struct App {
    /// The tree, filling in while the scan runs.
    pub catalog: Catalog,
    /// Bumped by each rescan and refresh; results from older scans are dropped.
    pub generation: u64,
    /// The tree pane.
    pub tree: TreeView,
    /// What has been read of the runs.
    pub loaded: Loads,
    /// Runs' configs, read for the filter's config conditions.
    pub configs: super::query_filter::Configs,
    /// Which pane has focus.
    pub focus: Focus,
    /// The panes' scrolls.
    pub panes: Panes,
    /// The metrics chart.
    pub chart: Chart,
    /// Tracker backlinks, promotions and layout findings.
    pub notes: Notes,
    /// Marked runs, by folder: re-sorting or filtering never changes them.
    pub marks: BTreeSet<PathBuf>,
    /// What is drawn over the panes, if anything.
    pub overlay: Option<Overlay>,
    /// A background result that arrived while another overlay was open.
    pub waiting: Option<Overlay>,
    /// Background work the status line shows: "planning…", "comparing…".
    pub busy: Option<String>,
    /// A plan being built (its kind).
    pub planning: Option<PlanKind>,
    /// A plan being applied: (paths done, paths in all).
    pub applying: Option<(usize, usize)>,
    /// A message for the status line, and when it was set.
    pub message: Option<(String, Instant)>,
    /// The clock: which runs are active, how old things are.
    pub now: Timestamp,
    /// Config and terminal settings.
    pub settings: Settings,
    /// Keeping the tree fresh.
    pub live: Live,
    /// Set when the user asked to quit.
    pub quit: bool,
    /// Work for the event loop, handed out by `update`.
    pub(super) outbox: Vec<Request>,
    /// Where the last frame drew things.
    pub areas: Areas,
    /// When the current scan started.
    pub scan_started: Instant,
    /// The pane shown beside the tree when the panes share one place as
    /// tabs (a small terminal): the last pane focused.
    pub tab: Focus,
    /// Before trashing many runs at once: the count the user must type.
    pub count_gate: Option<CountGate>,
    /// The newest write of any run, once asked, until the runs change.
    newest_write: Option<Option<Timestamp>>,
}

/// Trashing more than [`COUNT_GATE_OVER`] runs at once asks for their
/// number to be typed, so one `y` cannot send a whole task to the trash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountGate {
    /// How many runs the plan trashes: what must be typed.
    pub need: usize,
    /// How many of them the filter hides from the tree.
    pub hidden: usize,
    /// What has been typed so far.
    pub typed: String,
}

/// Above this many runs, trashing asks for the count to be typed.
pub const COUNT_GATE_OVER: usize = 10;

/// Loads on their way, by run folder: the generation and key each was asked under.
#[derive(Debug, Default)]
struct Pending {
    summaries: HashMap<PathBuf, (u64, RunKey)>,
    details: HashMap<PathBuf, (u64, RunKey)>,
}

/// Runs whose loaded files are older than the run (by folder, with the key now).
#[derive(Debug, Default)]
struct Stale {
    summaries: HashMap<PathBuf, RunKey>,
    details: HashSet<PathBuf>,
}

impl App {
    /// An app for `catalog` (usually empty: the scan fills it in).
    pub fn new(catalog: Catalog, settings: Settings) -> App {
        let how = settings.live;
        App {
            catalog,
            generation: 0,
            tree: TreeView {
                rows: Vec::new(),
                rows_dirty: true,
                selected: 0,
                selected_id: None,
                offset: 0,
                page: 0,
                expansion: Expansion::default(),
                query: String::new(),
                filtering: false,
                sort: settings.sort.clone(),
                reverse: false,
                shown: tree::Shown::default(),
                jump_first: false,
                memo: tree::FilterMemo::default(),
                totals: tree::Totals::default(),
                user_moved: false,
            },
            loaded: Loads::default(),
            configs: Default::default(),
            focus: Focus::Tree,
            panes: Panes::default(),
            chart: Chart::default(),
            notes: Notes::default(),
            marks: BTreeSet::new(),
            overlay: None,
            waiting: None,
            busy: None,
            planning: None,
            applying: None,
            message: None,
            now: Timestamp::now(),
            settings,
            live: Live {
                how,
                dirty: false,
                in_flight: false,
                last: Instant::now(),
                touched: HashSet::new(),
                next_cache: None,
                shown: 0,
            },
            quit: false,
            outbox: Vec::new(),
            areas: Areas::default(),
            scan_started: Instant::now(),
            tab: Focus::Info,
            count_gate: None,
            newest_write: None,
        }
    }

    /// The key mode the app is in: the overlay's, else the filter's or browsing.
    pub fn mode(&self) -> Mode {
        match &self.overlay {
            Some(Overlay::Compare(c)) if c.typing => Mode::CompareFilter,
            Some(Overlay::Compare(_)) => Mode::Compare,
            Some(Overlay::Chart(_)) => Mode::Chart,
            Some(Overlay::Logs(l)) if l.typing => Mode::LogsSearch,
            Some(Overlay::Logs(_)) => Mode::Logs,
            Some(Overlay::Run(r)) if r.typing => Mode::RunFilter,
            Some(Overlay::Run(_)) => Mode::Run,
            Some(Overlay::Viewer(_)) => Mode::Viewer,
            Some(Overlay::Promote(p)) if p.editing.is_some() => Mode::PromoteName,
            Some(Overlay::Promote(_)) => Mode::Promote,
            Some(Overlay::Confirm(_)) if self.count_gate.is_some() => Mode::ConfirmCount,
            Some(Overlay::Confirm(_)) => Mode::Confirm,
            Some(Overlay::Help(_)) => Mode::Help,
            None if self.tree.filtering => Mode::Filter,
            None => Mode::Browse,
        }
    }

    /// Folds a scan event in.
    pub(super) fn scan_event(&mut self, event: ScanEvent) {
        let structural = matches!(event, ScanEvent::Run(_) | ScanEvent::RunDone { .. });
        self.newest_write = None;
        self.loaded.groups.get_mut().clear();
        self.catalog.apply(event);
        if structural {
            self.tree.memo.clear();
            self.tree.rows_dirty = true;
        }
    }

    /// The run in the catalog now that a load of `path`, asked for under
    /// (`generation`, `key`), belongs to; `None` for a load from before a
    /// rescan or of a run that is gone. Clears the load from `pending`.
    fn landed(
        &mut self,
        generation: u64,
        key: RunKey,
        path: &std::path::Path,
        details: bool,
    ) -> Option<RunKey> {
        if generation < self.loaded.rescanned {
            // Asked before a rescan: a newer load may be on its way for the same run.
            return None;
        }
        let pending = if details {
            &mut self.loaded.pending.details
        } else {
            &mut self.loaded.pending.summaries
        };
        pending.remove(path);
        if generation == self.generation
            && self.catalog.runs.get(key).is_some_and(|r| r.path == path)
        {
            return Some(key);
        }
        // A refresh renumbered the runs meanwhile: find the run by folder.
        let runs = self.catalog.runs.len();
        if self.loaded.index.0 != self.generation || self.loaded.index.1 != runs {
            let index = self
                .catalog
                .runs
                .iter()
                .enumerate()
                .map(|(k, r)| (r.path.clone(), k))
                .collect();
            self.loaded.index = (self.generation, runs, index);
        }
        self.loaded.index.2.get(path).copied()
    }

    /// Stores a loaded summary of the run at `path` (see [`Loaded`](super::loader::Loaded)).
    pub(super) fn summary_loaded(
        &mut self,
        generation: u64,
        key: RunKey,
        path: &std::path::Path,
        summary: RunSummary,
    ) {
        let Some(key) = self.landed(generation, key, path, false) else {
            return;
        };
        // Worked out as it lands, once: the tree's metric sort and the
        // roll-ups read every run's key metric.
        let memo = self.loaded.key_metrics.get_mut();
        if memo.len() <= key {
            memo.resize(self.catalog.runs.len().max(key + 1), None);
        }
        let task = &self.catalog.runs[key].task;
        memo[key] = Some(tree::key_metric(&self.settings.key_metrics, task, &summary));
        self.loaded.groups.get_mut().clear();
        let notes = |s: &RunSummary| s.info.as_ref().and_then(|i| i.notes.clone());
        let new_notes = notes(&summary);
        if self
            .loaded
            .summaries
            .insert(key, summary)
            .as_ref()
            .and_then(notes)
            != new_notes
        {
            // The filter matches notes: its kept answers may be wrong now
            // (the names and orders it keeps still hold).
            self.tree.memo.notes_changed(key, new_notes.as_deref());
        }
        // A metric sort's kept order may be wrong now.
        self.tree.memo.summary_changed();
        // Notes take part in the filter and metrics in the metric sort.
        if !self.tree.query.is_empty() || self.tree.sort == SortKey::KeyMetric {
            self.tree.rows_dirty = true;
        }
    }

    /// Stores loaded details of the run at `path`.
    pub(super) fn details_loaded(
        &mut self,
        generation: u64,
        key: RunKey,
        path: &std::path::Path,
        details: RunDetails,
    ) {
        let Some(key) = self.landed(generation, key, path, true) else {
            return;
        };
        self.loaded.details.retain(|(k, _)| *k != key);
        self.loaded.details.push((key, Box::new(details)));
        if self.loaded.details.len() > DETAILS_KEPT {
            self.loaded.details.remove(0);
        }
        self.chart.series = self
            .chart
            .series
            .min(self.details_series_len().saturating_sub(1));
    }

    /// True while a load of the run's details is on its way.
    pub fn details_pending(&self, key: RunKey) -> bool {
        self.catalog
            .runs
            .get(key)
            .is_some_and(|r| self.loaded.pending.details.contains_key(&r.path))
    }

    fn details_series_len(&self) -> usize {
        self.selected_details()
            .map_or(0, |d| d.metrics.series.len())
    }

    /// Marks the rows for a rebuild (after folding, sorting, filtering).
    pub(super) fn invalidate(&mut self) {
        self.tree.rows_dirty = true;
    }

    /// A quiet refresh finished: take its catalog, keeping what is loaded
    /// (matched by folder; a run taken from the cache shares its stamps
    /// with the one it came from), and the selection. A run that changed
    /// keeps showing what was loaded until it is read again; loads on their
    /// way are kept (they find their run by folder when they land), and a
    /// run is read again only once no load of it is on its way.
    pub(super) fn swap_catalog(&mut self, new: Catalog) {
        // New readings: a cache made from the ones before is not used.
        self.live.shown += 1;
        self.live.next_cache = None;
        if let Some(to) = new.pair_with(&self.catalog) {
            // The same runs (a refresh of a tree nobody added to or took
            // from): the runs that changed take the new readings under
            // their keys, so all that is kept by key holds, and only what
            // depends on those runs is worked out again (on a big tree,
            // starting over cost the next keys 150-400 ms).
            let (changed, rest) = self.catalog.refresh_from(new, &to);
            // A hundred thousand runs take a while to free: not here.
            std::thread::spawn(move || drop(rest));
            self.refreshed_in_place(&changed);
            return;
        }
        let old = std::mem::replace(&mut self.catalog, new);
        self.generation += 1;
        // Run keys are renumbered: the filter's kept answers name old ones.
        self.tree.memo.clear();
        self.newest_write = None;
        self.loaded.key_metrics.get_mut().clear();
        self.loaded.groups.get_mut().clear();
        let by_path: HashMap<&std::path::Path, RunKey> = self
            .catalog
            .runs
            .iter()
            .enumerate()
            .map(|(k, r)| (r.path.as_path(), k))
            .collect();
        let catalog = &self.catalog;
        let same_run =
            |k: RunKey| -> Option<RunKey> { by_path.get(old.runs.get(k)?.path.as_path()).copied() };
        let changed = |k: RunKey, nk: RunKey| {
            !std::sync::Arc::ptr_eq(&old.runs[k].stamps, &catalog.runs[nk].stamps)
        };
        self.loaded.summaries = std::mem::take(&mut self.loaded.summaries)
            .into_iter()
            .filter_map(|(k, s)| Some((same_run(k)?, s)))
            .collect();
        let mut stale_summaries: HashMap<PathBuf, RunKey> =
            std::mem::take(&mut self.loaded.stale.summaries)
                .into_keys()
                .filter_map(|p| {
                    let nk = *by_path.get(p.as_path())?;
                    Some((p, nk))
                })
                .collect();
        let mut requested = HashSet::new();
        for &k in &self.loaded.requested {
            let Some(nk) = same_run(k) else { continue };
            requested.insert(nk);
            if changed(k, nk) {
                stale_summaries.insert(catalog.runs[nk].path.clone(), nk);
            }
        }
        self.loaded.requested = requested;
        self.loaded.stale.summaries = stale_summaries;
        let mut details = Vec::new();
        for (k, d) in std::mem::take(&mut self.loaded.details) {
            let Some(nk) = same_run(k) else { continue };
            if changed(k, nk) {
                self.loaded
                    .stale
                    .details
                    .insert(catalog.runs[nk].path.clone());
            }
            details.push((nk, d));
        }
        self.loaded.details = details;
        // A run that changed while its details load is read once more
        // after that load lands (which may have read it before the change).
        for p in self.loaded.pending.details.keys() {
            let old_key = old.runs.iter().position(|r| r.path == *p);
            let new_key = by_path.get(p.as_path()).copied();
            if let (Some(k), Some(nk)) = (old_key, new_key)
                && changed(k, nk)
            {
                self.loaded.stale.details.insert(p.clone());
            }
        }
        self.loaded
            .stale
            .details
            .retain(|p| by_path.contains_key(p.as_path()));
        self.forget_vanished_marks();
        self.tree.rows_dirty = true;
    }

    /// After a refresh that found the same runs, `changed` of them read
    /// anew (see [`App::swap_catalog`]): what depends on them is worked
    /// out again and their files read again.
    fn refreshed_in_place(&mut self, changed: &[RunKey]) {
        if changed.is_empty() {
            return;
        }
        self.newest_write = None;
        self.loaded.groups.get_mut().clear();
        self.tree.memo.runs_changed();
        for &k in changed {
            // A run that changed is read again once no read of it is on
            // its way (see `request_visible`).
            let path = self.catalog.runs[k].path.clone();
            if self.loaded.requested.contains(&k) {
                self.loaded.stale.summaries.insert(path.clone(), k);
            }
            let loaded = self.loaded.details.iter().any(|(dk, _)| *dk == k);
            if loaded || self.loaded.pending.details.contains_key(&path) {
                self.loaded.stale.details.insert(path);
            }
        }
        self.tree.rows_dirty = true;
    }

    /// Drops marks of runs that are gone (deleted outside the explorer).
    pub(super) fn forget_vanished_marks(&mut self) {
        if self.marks.is_empty() || self.catalog.done.is_none() {
            return;
        }
        let present: HashSet<&PathBuf> = self
            .catalog
            .run_keys()
            .map(|k| &self.catalog.runs[k].path)
            .collect();
        self.marks.retain(|p| present.contains(p));
    }

    /// Starts a new scan: the tree empties and fills in again.
    pub(super) fn rescan(&mut self) {
        self.generation += 1;
        self.catalog = Catalog::new(&self.catalog.root);
        self.tree.memo.clear();
        self.newest_write = None;
        self.loaded = Loads {
            rescanned: self.generation,
            ..Loads::default()
        };
        self.live.next_cache = None;
        self.tree.rows_dirty = true;
        self.scan_started = Instant::now();
        self.outbox.push(Request::Scan {
            root: self.catalog.root.clone(),
            generation: self.generation,
        });
    }

    /// Shows a message in the status line for a few seconds.
    pub(super) fn say(&mut self, message: impl Into<String>) {
        self.message = Some((message.into(), Instant::now()));
    }

    /// How many runs the tree shows under a root, task or model row, and
    /// their usage summed (as `catalog.rollup` of [`App::visible_runs_of`]).
    pub fn group_usage(&self, node: Node) -> (usize, crate::catalog::RunUsage) {
        match self.tree.totals.get(node) {
            Some(t) => t.clone(),
            None => {
                let keys = self.visible_runs_of(node);
                (keys.len(), self.catalog.rollup(&keys))
            }
        }
    }

    /// Rows that fit in the tree pane (a guess before the first frame).
    pub fn page(&self) -> usize {
        if self.tree.page == 0 {
            40
        } else {
            self.tree.page
        }
    }

    /// Rebuilds rows if needed, keeps the selection on the same node, keeps
    /// it in view, and asks for the files the visible rows need.
    pub(super) fn refresh(&mut self) {
        if self.tree.rows_dirty {
            self.tree.rows_dirty = false;
            // Where the selection was, to find it again by node (a run keeps
            // its key while the catalog does).
            let was = self.selected_node();
            let built = super::spans::span("build_rows", || self.with_tree_input(tree::build_rows));
            self.tree.rows = built.rows;
            self.tree.shown = built.shown;
            self.tree.totals = built.totals;
            let want =
                super::query_filter::wanted(&self.catalog, &mut self.configs, &self.tree.query);
            if !want.is_empty() {
                self.outbox.push(Request::Configs(want));
            }
            if std::mem::take(&mut self.tree.jump_first) {
                self.tree.offset = 0;
                let first = self
                    .tree
                    .rows
                    .iter()
                    .position(|r| matches!(r.node, Node::Run(_)));
                self.tree.selected = first.unwrap_or(0);
                self.tree.selected_id = self.selected_node().map(|n| NodeId::of(&self.catalog, n));
                self.tree.user_moved = true;
            } else if !self.tree.user_moved {
                self.tree.selected = 0;
            } else if let Some(id) = &self.tree.selected_id
                && let Some(node) = self.node_of(id, was)
                && let Some(i) = self.row_of_or_above(node)
            {
                self.tree.selected = i;
            }
        }
        self.tree.selected = self
            .tree
            .selected
            .min(self.tree.rows.len().saturating_sub(1));
        // While a scan refills the tree (a rescan), the selected node may
        // not be back yet: keep looking for it until the scan is done,
        // whatever row the index points at meanwhile.
        if let Some(row) = self.tree.rows.get(self.tree.selected) {
            let id = row.id(&self.catalog);
            let waiting = self.tree.user_moved
                && self.catalog.done.is_none()
                && self.tree.selected_id.as_ref().is_some_and(|s| *s != id);
            if !waiting {
                self.tree.selected_id = Some(id);
            }
        }
        let page = self.page();
        if self.tree.selected < self.tree.offset {
            self.tree.offset = self.tree.selected;
        } else if self.tree.selected >= self.tree.offset + page {
            self.tree.offset = self.tree.selected + 1 - page;
        }
        // After a resize the pane may show more rows: fill it.
        self.tree.offset = self
            .tree
            .offset
            .min(self.tree.rows.len().saturating_sub(page));
        self.request_visible(page);
    }

    fn request_visible(&mut self, page: usize) {
        let mut want = Vec::new();
        // Visible rows first, then a page either side so scrolling finds them ready.
        let lo = self.tree.offset.saturating_sub(page);
        let hi = (self.tree.offset + 2 * page).min(self.tree.rows.len());
        for row in &self.tree.rows[lo..hi] {
            if let Node::Run(k) = row.node
                && self.loaded.requested.insert(k)
            {
                want.push((k, self.catalog.runs[k].path.clone()));
            }
        }
        // Once the scan is done, everything else (for the filter's notes and the metric sort).
        if self.catalog.done.is_some() && self.loaded.requested.len() < self.catalog.runs.len() {
            for (k, r) in self.catalog.runs.iter().enumerate() {
                if self.loaded.requested.insert(k) {
                    want.push((k, r.path.clone()));
                }
            }
        }
        // Runs that changed since their summary was read, once no read of
        // them is on its way (that one lands first, then this one).
        let again: Vec<(PathBuf, RunKey)> = self
            .loaded
            .stale
            .summaries
            .iter()
            .filter(|(p, _)| !self.loaded.pending.summaries.contains_key(*p))
            .map(|(p, &k)| (p.clone(), k))
            .collect();
        for (p, k) in again {
            self.loaded.stale.summaries.remove(&p);
            want.push((k, p));
        }
        if !want.is_empty() {
            for (k, p) in &want {
                self.loaded
                    .pending
                    .summaries
                    .insert(p.clone(), (self.generation, *k));
            }
            self.outbox.push(Request::Summaries(self.generation, want));
        }
        // The selected run's details: when not loaded, or older than the
        // run; never while a load of them is on its way.
        if let Some(k) = self.selected_run() {
            let r = &self.catalog.runs[k];
            let loaded = self.loaded.details.iter().any(|(dk, _)| *dk == k);
            if (!loaded || self.loaded.stale.details.contains(&r.path))
                && !self.loaded.pending.details.contains_key(&r.path)
                && r.usage.is_some()
            {
                let path = r.path.clone();
                self.loaded.stale.details.remove(&path);
                self.loaded
                    .pending
                    .details
                    .insert(path.clone(), (self.generation, k));
                self.outbox.push(Request::Details(self.generation, k, path));
            }
        }
    }

    /// Calls `f` with what the tree's rows are built from and the filter's
    /// memo (borrowed apart from the rest of the app).
    fn with_tree_input<R>(&mut self, f: impl FnOnce(&TreeInput, &mut tree::FilterMemo) -> R) -> R {
        let key_values = self.loaded.key_metrics.borrow();
        let input = TreeInput {
            catalog: &self.catalog,
            summaries: &self.loaded.summaries,
            sort: &self.tree.sort,
            reverse: self.tree.reverse,
            query: &self.tree.query,
            expansion: &self.tree.expansion,
            key_metrics: &self.settings.key_metrics,
            key_values: &key_values,
            filter: super::query_filter::Input {
                configs: &self.configs,
                now: self.now,
                window: self.settings.window,
            },
        };
        f(&input, &mut self.tree.memo)
    }

    /// The filter is about to be typed: works out now what its first
    /// letter would (every run's names in one buffer, every model's order
    /// of runs), so that letter answers within a frame on a big tree.
    pub(super) fn ready_filter(&mut self) {
        self.with_tree_input(|input, memo| memo.ready(input));
    }

    /// The row of `node`, else of the model or task row it is folded
    /// under: clearing a filter folds the models of a big tree again, and
    /// the selection stays where the run is rather than on whatever row
    /// took its place.
    fn row_of_or_above(&self, node: Node) -> Option<usize> {
        let c = &self.catalog;
        let mut at = node;
        loop {
            if let Some(i) = self.tree.rows.iter().position(|r| r.node == at) {
                return Some(i);
            }
            at = match at {
                Node::Run(k) => {
                    let r = c.runs.get(k)?;
                    let t = c.tasks.binary_search_by(|t| t.name.cmp(&r.task)).ok()?;
                    let m = c.tasks[t]
                        .models
                        .binary_search_by(|m| m.name.cmp(&r.model))
                        .ok()?;
                    Node::Model(t, m)
                }
                Node::Model(t, _) => Node::Task(t),
                Node::Task(_) | Node::Root => return None,
            };
        }
    }

    /// The node of the catalog that `id` names, if it is there; `hint` is
    /// checked first (the node selected before the rows changed).
    fn node_of(&self, id: &NodeId, hint: Option<Node>) -> Option<Node> {
        let c = &self.catalog;
        let task = |name: &str| c.tasks.binary_search_by(|t| t.name.as_str().cmp(name)).ok();
        match id {
            NodeId::Root => Some(Node::Root),
            NodeId::Task(t) => task(t).map(Node::Task),
            NodeId::Model(t, m) => {
                let ti = task(t)?;
                let models = &c.tasks[ti].models;
                let mi = models.binary_search_by(|x| x.name.as_str().cmp(m)).ok()?;
                Some(Node::Model(ti, mi))
            }
            NodeId::Run(path) => {
                if let Some(Node::Run(k)) = hint
                    && c.runs.get(k).is_some_and(|r| r.path == *path)
                {
                    return Some(Node::Run(k));
                }
                c.runs
                    .iter()
                    .position(|r| r.path.as_os_str() == path.as_os_str())
                    .map(Node::Run)
            }
        }
    }

    /// The selected row's node.
    pub fn selected_node(&self) -> Option<Node> {
        self.tree.rows.get(self.tree.selected).map(|r| r.node)
    }

    /// The selected run, when a run row is selected.
    pub fn selected_run(&self) -> Option<RunKey> {
        match self.selected_node()? {
            Node::Run(k) => Some(k),
            _ => None,
        }
    }

    /// The loaded details of the selected run.
    pub fn selected_details(&self) -> Option<&RunDetails> {
        let k = self.selected_run()?;
        self.loaded
            .details
            .iter()
            .rev()
            .find(|(dk, _)| *dk == k)
            .map(|(_, d)| d.as_ref())
    }

    /// Keys of the runs under a node (all runs for `None`).
    pub fn runs_of(&self, node: Option<Node>) -> Vec<RunKey> {
        let c = &self.catalog;
        match node {
            None | Some(Node::Root) => c.run_keys().collect(),
            Some(Node::Task(t)) => c.tasks[t]
                .models
                .iter()
                .flat_map(|m| m.runs.iter().copied())
                .collect(),
            Some(Node::Model(t, m)) => c.tasks[t].models[m].runs.clone(),
            Some(Node::Run(k)) => vec![k],
        }
    }

    /// True when any run wrote within the active window: the newest write
    /// of the tree is kept until the runs change, so the clock's tick
    /// does not read every run.
    pub fn any_active(&mut self) -> bool {
        let newest = *self.newest_write.get_or_insert_with(|| {
            self.catalog
                .runs
                .iter()
                .filter_map(|r| r.last_write())
                .max()
        });
        newest.is_some_and(|t| self.now.duration_since(t) < self.settings.window)
    }

    /// True when the run wrote within the active window.
    pub fn is_active(&self, key: RunKey) -> bool {
        self.catalog.runs[key].is_active(self.now, self.settings.window)
    }

    /// Takes new settings (a config read again): the rows are built anew.
    pub(super) fn configure(&mut self, settings: Settings) {
        self.tree.sort = settings.sort.clone();
        self.settings = settings;
        self.loaded.key_metrics.get_mut().clear();
        self.loaded.groups.get_mut().clear();
        // The key metrics a sort goes by may have changed.
        self.tree.memo.forget_order();
        self.tree.rows_dirty = true;
    }

    /// A run's key metric: the task's configured one, else its own first.
    pub fn key_metric(&self, key: RunKey) -> Option<(String, f64, bool)> {
        let mut memo = self.loaded.key_metrics.borrow_mut();
        if memo.len() <= key {
            memo.resize(key + 1, None);
        }
        memo[key]
            .get_or_insert_with(|| {
                let s = self.loaded.summaries.get(&key)?;
                tree::key_metric(&self.settings.key_metrics, &self.catalog.runs[key].task, s)
            })
            .clone()
    }

    /// A run's status (unknown until its summary is read, unless active).
    pub fn status(&self, key: RunKey) -> Status {
        let active = self.is_active(key);
        match self.loaded.summaries.get(&key) {
            Some(s) => s.status(active),
            None => Status::of(None, active),
        }
    }

    /// Marked runs the filter hides from the tree (none without a filter:
    /// marks under a folded model are not hidden by the filter).
    pub fn marks_hidden(&self) -> usize {
        if self.tree.query.is_empty() || self.marks.is_empty() {
            return 0;
        }
        let shown: HashSet<&PathBuf> = self
            .catalog
            .runs
            .iter()
            .enumerate()
            .filter(|&(k, _)| self.tree.shown.contains(k))
            .map(|(_, r)| &r.path)
            .collect();
        self.marks.iter().filter(|p| !shown.contains(p)).count()
    }

    /// How many of the runs under a node the tree shows are marked, and
    /// how many it shows (for a task or model row's mark: all, some, none).
    pub fn marked_under(&self, node: Node) -> (usize, usize) {
        if self.marks.is_empty() {
            return (0, 0);
        }
        let keys = self.visible_runs_of(node);
        let marked = keys
            .iter()
            .filter(|&&k| self.marks.contains(&self.catalog.runs[k].path))
            .count();
        (marked, keys.len())
    }

    /// Opens or closes the count gate with the overlay: a trash plan of
    /// more than [`COUNT_GATE_OVER`] runs needs its count typed.
    pub(super) fn sync_count_gate(&mut self) {
        let runs = match &self.overlay {
            Some(Overlay::Confirm(c)) if c.plan.kind == PlanKind::Trash => {
                let runs: HashSet<&PathBuf> = c.plan.targets.iter().map(|t| &t.run).collect();
                runs.len()
            }
            _ => 0,
        };
        if runs <= COUNT_GATE_OVER {
            self.count_gate = None;
        } else if self.count_gate.as_ref().is_none_or(|g| g.need != runs) {
            self.count_gate = Some(CountGate {
                need: runs,
                hidden: self.marks_hidden(),
                typed: String::new(),
            });
        }
    }

    /// The runs an operation applies to: the marked runs, else the selection.
    pub fn op_runs(&self) -> Vec<RunKey> {
        if !self.marks.is_empty() {
            // In tree order (the scan finds runs in no fixed order).
            return self
                .catalog
                .run_keys()
                .filter(|&k| self.marks.contains(&self.catalog.runs[k].path))
                .collect();
        }
        match self.selected_node() {
            Some(n) => self.visible_runs_of(n),
            None => Vec::new(),
        }
    }

    /// The runs under a node that the tree shows: with a filter, only the
    /// matching ones (so an operation never reaches runs the user cannot see).
    pub fn visible_runs_of(&self, node: Node) -> Vec<RunKey> {
        self.visible(self.runs_of(Some(node)))
    }

    /// The runs on the tree's rows, in row order.
    pub fn shown_runs(&self) -> impl Iterator<Item = RunKey> + '_ {
        self.tree.rows.iter().filter_map(|r| match r.node {
            Node::Run(k) => Some(k),
            _ => None,
        })
    }

    /// `keys` less the runs the filter hides (all of them without a filter:
    /// a folded model's runs are not rows, yet they are there).
    pub fn visible(&self, mut keys: Vec<RunKey>) -> Vec<RunKey> {
        if !self.tree.query.is_empty() {
            keys.retain(|&k| self.tree.shown.contains(k));
        }
        keys
    }

    /// What a plan needs to know of these runs.
    pub fn run_refs(&self, keys: &[RunKey]) -> Vec<RunRef> {
        keys.iter()
            .map(|&k| {
                let r = &self.catalog.runs[k];
                RunRef {
                    rel: r
                        .path
                        .strip_prefix(&self.catalog.root)
                        .unwrap_or(&r.path)
                        .to_path_buf(),
                    newest_mtime: r.usage.as_ref().and_then(|u| u.newest_mtime),
                    status: self
                        .loaded
                        .summaries
                        .get(&k)
                        .and_then(|s| s.info.as_ref()?.status.clone()),
                }
            })
            .collect()
    }

    /// Selects the row of `id`, unfolding its task and model if needed.
    pub(super) fn reveal(&mut self, key: RunKey) {
        let r = &self.catalog.runs[key];
        let models_open = tree::models_open_by_default(self.catalog.runs.len());
        let model_id = NodeId::Model(r.task.clone(), r.model.clone());
        let task_id = NodeId::Task(r.task.clone());
        if !self.tree.expansion.is_open(&model_id, models_open) {
            self.tree.expansion.toggle(model_id);
        }
        if !self.tree.expansion.is_open(&task_id, true) {
            self.tree.expansion.toggle(task_id);
        }
        self.tree.selected_id = Some(NodeId::Run(r.path.clone()));
        self.tree.user_moved = true;
        self.tree.rows_dirty = true;
        self.refresh();
    }
}
