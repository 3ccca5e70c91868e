//! What reaches [`super::update::update`] ([`Msg`]) and what it asks for
//! in return ([`Request`]): the only way into and out of the explorer's
//! state. Requests describe their work whole (paths, options, copies of
//! what they read), so [`super::effects::perform`] needs nothing else.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;

use jiff::Timestamp;
use ratatui::layout::Size;

use super::keymap::Action;
use super::notes::{Backlink, LayoutNotes};
use super::overlay::CompareView;
use super::plot::{Graphics, Image};
use super::ui::DrawReport;
use crate::catalog::cache::ScanCache;
use crate::catalog::{Catalog, RunKey, ScanEvent};
use crate::config::KeyMetric;
use crate::ops::promote::{PromoteError, What};
use crate::ops::{Plan, PlanKind, PlanOptions, Report, RunRef};
use crate::runs::{RunDetails, RunSummary};

/// One thing that happened.
pub enum Msg {
    /// A key, as the keymap read it in the current mode.
    Key(Action),
    /// A mouse click at a screen cell (column, row).
    Click(u16, u16),
    /// The wheel turned over a screen cell: `true` is down.
    Wheel(bool, u16, u16),
    /// What the last frame measured.
    Drawn(DrawReport),
    /// The clock moved: messages fade, the tree is refreshed when due.
    Tick(Instant, Timestamp),
    /// No key for a while: work that makes the next one faster may run
    /// (the filter's first letter on a big tree).
    Idle,
    /// The terminal went away (closed, or an SSH link dropped), or a signal.
    Quit,
    /// A new config (keys, theme, key metrics, first sort).
    Configure(Box<crate::config::Config>),
    /// A scan event, tagged with the generation of its scan.
    Scan(u64, ScanEvent),
    /// A run's summary was read: (generation, key then, folder, summary).
    Summary(u64, RunKey, PathBuf, Box<RunSummary>),
    /// A log was read for the logs pane.
    LogRead(Box<super::watch::LogRead>),
    /// A run's config was read for the filter: (folder, flattened leaves).
    Config(PathBuf, Vec<(String, String)>),
    /// A run's details were read.
    Details(u64, RunKey, PathBuf, Box<RunDetails>),
    /// A quiet refresh finished (tagged with the generation it started
    /// from), with the cache the next refresh starts from, worked out on
    /// the worker (100,000 runs' worth took the UI thread 140 ms).
    Refreshed(
        u64,
        Box<Catalog>,
        Option<Box<ScanCache>>,
        Option<Box<NotesFound>>,
    ),
    /// The cache the next refresh starts from, worked out from a finished
    /// scan (tagged with the version of the catalog shown it was asked
    /// for: see `Live::shown`).
    NextCache(u64, Box<ScanCache>),
    /// The watcher saw these runs change (and maybe others).
    Changed(Vec<PathBuf>),
    /// A plan was built.
    Planned(Box<Plan>),
    /// A plan is being applied: (done, total).
    Progress(usize, usize),
    /// A plan was applied.
    Applied(PlanKind, Box<Report>),
    /// What a run offers to promote, each planned: where it would land and
    /// its bytes, or why it cannot be promoted.
    PromotePlanned(Box<crate::catalog::Run>, Vec<Candidate>),
    /// One candidate planned again under a typed name (or the proposed one).
    Replanned(usize, Option<String>, Result<Landing, PromoteError>),
    /// A promotion finished: the artifact, or why not.
    Promoted(Result<PathBuf, PromoteError>),
    /// The tracker's links, by run.
    Backlinks(HashMap<PathBuf, Vec<Backlink>>),
    /// Promotions and layout findings, by run.
    Layout(Box<LayoutNotes>),
    /// A comparison read.
    Compared(Box<CompareView>),
    /// A plot decoded for a size.
    Plot(PathBuf, Size, Result<Image, String>),
    /// Something to say in the status line (a program that would not start).
    Say(String),
}

/// One promotable thing: what, and where it lands with its bytes or why not.
pub type Candidate = (What, Result<Landing, PromoteError>);

/// Where a candidate would land (relative to the root), its bytes, and the
/// artifact that already holds the same bytes, if any.
pub type Landing = (PathBuf, u64, Option<crate::ops::promote::Earlier>);

/// Work to do outside `update`: reads and walks on a worker, terminal
/// writes on the event loop.
#[derive(Debug)]
pub enum Request {
    /// Read these runs' `run_info.json` and small metric files, under a generation.
    Summaries(u64, Vec<(RunKey, PathBuf)>),
    /// Read a run's log from an offset (`rel` `None`: list its logs and
    /// read the first; `from` `None`: from its tail).
    ReadLog {
        /// The run folder.
        run: PathBuf,
        /// The log, relative to the run.
        rel: Option<String>,
        /// Where the last read stopped.
        from: Option<u64>,
        /// Logs other tools' files name (Hydra, W&B).
        tool_logs: Vec<String>,
    },
    /// Read these runs' configs for the filter's config conditions.
    Configs(Vec<(RunKey, PathBuf)>),
    /// Read everything about one run.
    Details(u64, RunKey, PathBuf),
    /// Walk the tree (a new scan; the older one stops).
    Scan {
        /// The outputs root.
        root: PathBuf,
        /// Its generation.
        generation: u64,
    },
    /// Walk what changed since the last look, reusing the cache for the rest.
    Refresh {
        /// The outputs root.
        root: PathBuf,
        /// The generation it starts from.
        generation: u64,
        /// What is known of the tree now.
        cache: Box<ScanCache>,
        /// The experiment tracker, whose notes are read again with the
        /// refreshed tree (on the worker: the UI thread copied every run
        /// to ask for them).
        tracker: Option<PathBuf>,
    },
    /// Save a finished scan's cache (of the catalog version given), and
    /// send it back as the next refresh's.
    SaveCache(u64, Box<Catalog>, i64, i64),
    /// Build a plan.
    Plan(
        PlanKind,
        PathBuf,
        Vec<RunRef>,
        PlanOptions,
        crate::ops::Judge,
    ),
    /// Apply a confirmed plan.
    Apply(Box<Plan>),
    /// Find what a run offers to promote and plan each (walks `data/`).
    PlanPromote {
        /// The outputs root.
        root: PathBuf,
        /// The run.
        run: Box<crate::catalog::Run>,
        /// Its plots, relative to `plots/`.
        plots: Vec<String>,
        /// Its kept checkpoints, relative to `checkpoints/`.
        checkpoints: Vec<String>,
    },
    /// Plan one candidate again under a name (none: the proposed one).
    Replan {
        /// Which candidate.
        index: usize,
        /// The outputs root.
        root: PathBuf,
        /// The run.
        run: Box<crate::catalog::Run>,
        /// What.
        what: What,
        /// The typed name.
        name: Option<String>,
    },
    /// Promote something from a run (copy into artifacts/).
    Promote {
        /// The outputs root.
        root: PathBuf,
        /// The run.
        run: Box<crate::catalog::Run>,
        /// What.
        what: What,
        /// The typed name.
        name: Option<String>,
    },
    /// Read the tracker's notes for backlinks (when there is a tracker), and
    /// what was promoted from each run and where it strays from the layout.
    Notes(Box<Catalog>, Option<PathBuf>),
    /// Compare runs: (label, task, folder) of each, with the configured key metrics.
    Compare(Vec<(String, String, PathBuf)>, BTreeMap<String, KeyMetric>),
    /// Decode a plot and fit it to a size (columns, rows).
    DecodePlot(Graphics, PathBuf, Size),
    /// Open a file with the desktop's viewer (or the configured command).
    OpenExternal(Option<String>, PathBuf),
    /// Put text on the clipboard of the user's terminal (OSC 52): the event loop's.
    Copy(String),
    /// Show a note in the pager (the terminal is handed over): the event loop's.
    OpenNote(PathBuf),
    /// Watch these folders (recursively when true): the event loop's watcher.
    Watch(Vec<(PathBuf, bool)>),
}

/// The tracker's backlinks and the layout notes a refreshing worker read
/// with the refreshed tree: taken with it, or dropped with it.
#[derive(Debug)]
pub struct NotesFound {
    /// Backlinks, when a tracker is configured.
    pub backlinks: Option<HashMap<PathBuf, Vec<Backlink>>>,
    /// Promotions and layout findings.
    pub layout: LayoutNotes,
}
