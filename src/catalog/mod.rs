//! The catalog of an outputs tree: tasks → models → runs, the other
//! top-level folders, and what each holds on disk.
//!
//! [`scan::spawn`] walks the tree on background threads and streams
//! [`ScanEvent`]s; [`Catalog::apply`] folds them in, so a UI can draw the
//! runs as soon as they are found and fill their sizes in as they finish.

pub mod cache;
pub mod scan;
pub mod sort;
pub mod usage;

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::Serialize;

use crate::layout::{self, RunId, TopKind};
use crate::sources::SourceKind;
pub use scan::{ScanEvent, ScanHandle, ScanOptions, ScanProgress, scan, spawn};
pub use sort::{SortKey, sort_model, sort_runs};
pub use usage::{RunUsage, Usage};

/// Index of a run in [`Catalog::runs`], stable for the life of one scan.
pub type RunKey = usize;

/// One run folder, `experiments/<task>/<model>/<run_id>/` (or a tool's run
/// folder, mapped as `docs/layout.md` says).
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// The task folder's name.
    pub task: String,
    /// The model (or preprocessing pipeline) folder's name.
    pub model: String,
    /// The run folder's name (lossy UTF-8 for display; `path` is exact).
    pub name: String,
    /// Absolute path of the run folder.
    pub path: PathBuf,
    /// The parsed run id, when the name follows the convention.
    #[serde(skip)]
    pub id: Option<RunId>,
    /// The run folder's own modification time.
    #[serde(skip)]
    pub dir_mtime: Option<Timestamp>,
    /// The time that orders runs (see [`Run::time`]), computed once.
    #[serde(skip)]
    time: Option<Timestamp>,
    /// Sizes, once the scan has walked the whole run.
    pub usage: Option<RunUsage>,
    /// Problems met while walking this run (unreadable folders, vanished files).
    pub errors: Vec<String>,
    /// Its folders as scanned, for the scan cache.
    #[serde(skip)]
    pub stamps: cache::Stamps,
}

impl Run {
    /// `task/model/run_id`, the name a user types and the filter matches.
    pub fn label(&self) -> String {
        format!("{}/{}/{}", self.task, self.model, self.name)
    }

    /// The time that orders runs: the tool's own record of its start (in
    /// another tool's tree), else the run id's time, else the folder's mtime.
    pub fn time(&self) -> Option<Timestamp> {
        self.time
    }

    /// Works out [`Run::time`] from the tool's time, the id (local time) or
    /// the folder mtime.
    fn order_time(
        id: Option<&RunId>,
        dir_mtime: Option<Timestamp>,
        tool_time: Option<i64>,
    ) -> Option<Timestamp> {
        if let Some(t) = tool_time.and_then(|s| Timestamp::from_second(s).ok()) {
            return Some(t);
        }
        match id {
            Some(id) => id
                .time
                .to_zoned_datetime(jiff::tz::TimeZone::system())
                .ok()
                .map(|z| z.timestamp()),
            None => dir_mtime,
        }
    }

    /// The newest modification time of anything in the run (after the scan).
    pub fn last_write(&self) -> Option<Timestamp> {
        self.usage
            .as_ref()
            .and_then(|u| u.newest_mtime)
            .and_then(|s| Timestamp::from_second(s).ok())
            .or(self.dir_mtime)
    }

    /// True when something in the run was written within `window`.
    pub fn is_active(&self, now: Timestamp, window: jiff::SignedDuration) -> bool {
        self.last_write()
            .is_some_and(|t| now.duration_since(t) < window)
    }

    /// True for preprocessing runs (`experiments/preproc/<pipeline>/...`).
    pub fn is_preproc(&self) -> bool {
        self.task == layout::PREPROC_TASK
    }
}

/// A model folder and the runs under it.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    /// The model folder's name.
    pub name: String,
    /// Keys of its runs in [`Catalog::runs`], in name order.
    pub runs: Vec<RunKey>,
    /// Every run sits in the same folder, so name order is path order
    /// (sorting its runs then needs no path compared).
    #[serde(skip)]
    pub one_folder: bool,
}

/// A task folder and the models under it.
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    /// The task folder's name.
    pub name: String,
    /// Its models, in name order.
    pub models: Vec<Model>,
}

/// A top-level entry of the root other than `experiments/`, or a stray
/// entry inside `experiments/` that is not a run.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Path relative to the root.
    pub rel: String,
    /// Absolute path.
    pub path: PathBuf,
    /// What the convention says it is.
    pub kind: TopKind,
    /// True for a folder.
    pub is_dir: bool,
    /// Bytes under it (after the scan).
    pub usage: Option<Usage>,
}

/// Counts at the end of a scan.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ScanStats {
    /// Files, folders and links seen.
    pub entries: u64,
    /// Wall time of the scan in milliseconds.
    pub millis: u64,
    /// Worker threads used.
    pub threads: usize,
    /// Runs taken from the scan cache instead of walked.
    pub cached_runs: usize,
    /// When the scan started (seconds since the epoch).
    pub started_at: i64,
}

/// Everything known about an outputs tree.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// The outputs root (or another tool's tree opened directly).
    pub root: PathBuf,
    /// What kind of tree the root is.
    pub source: SourceKind,
    /// Every run, in the order found; tasks and models hold their keys.
    pub runs: Vec<Run>,
    /// Tasks in name order.
    pub tasks: Vec<Task>,
    /// Top-level entries other than `experiments/`, in name order.
    pub top: Vec<Entry>,
    /// Entries inside `experiments/` above run depth that are not folders
    /// (files at the task or model level, or a file where a run should be).
    pub strays: Vec<Entry>,
    /// Problems outside any run.
    pub errors: Vec<String>,
    /// Set when the scan finished.
    pub done: Option<ScanStats>,
    /// The latest progress report of a running scan.
    pub progress: ScanProgress,
}

impl Catalog {
    /// An empty catalog of `root`, ready for [`Catalog::apply`].
    pub fn new(root: &Path) -> Catalog {
        Catalog {
            root: root.to_path_buf(),
            ..Catalog::default()
        }
    }

    /// Folds one scan event in.
    pub fn apply(&mut self, event: ScanEvent) {
        match event {
            ScanEvent::Run(found) => {
                let key = self.runs.len();
                debug_assert_eq!(key, found.key, "runs arrive in key order");
                let task_at = match self.tasks.binary_search_by(|t| t.name.cmp(&found.task)) {
                    Ok(i) => i,
                    Err(i) => {
                        let name = found.task.clone();
                        self.tasks.insert(
                            i,
                            Task {
                                name,
                                models: Vec::new(),
                            },
                        );
                        i
                    }
                };
                let models = &mut self.tasks[task_at].models;
                let model_at = match models.binary_search_by(|m| m.name.cmp(&found.model)) {
                    Ok(i) => i,
                    Err(i) => {
                        let name = found.model.clone();
                        models.insert(
                            i,
                            Model {
                                name,
                                runs: Vec::new(),
                                one_folder: true,
                            },
                        );
                        i
                    }
                };
                let runs = &self.runs;
                let model = &mut models[model_at];
                // Name order is path order only for runs named by their
                // folder, all in one folder (not MLflow's, named by a tag).
                model.one_folder &= found.path.file_name() == Some(found.name.as_ref());
                if let Some(&first) = model.runs.first() {
                    model.one_folder &= runs[first].path.parent() == found.path.parent();
                }
                let at = model
                    .runs
                    .partition_point(|&k| runs[k].name.as_str() < found.name.as_str());
                model.runs.insert(at, key);
                let id = layout::parse_run_id(&found.name);
                let dir_mtime = found.dir_mtime.and_then(|s| Timestamp::from_second(s).ok());
                self.runs.push(Run {
                    time: Run::order_time(id.as_ref(), dir_mtime, found.time),
                    id,
                    task: found.task,
                    model: found.model,
                    name: found.name,
                    path: found.path,
                    dir_mtime,
                    usage: None,
                    errors: Vec::new(),
                    stamps: Default::default(),
                });
            }
            ScanEvent::RunDone {
                key,
                usage,
                errors,
                stamps,
            } => {
                if let Some(run) = self.runs.get_mut(key) {
                    run.usage = Some(usage);
                    run.errors = errors;
                    run.stamps = stamps;
                }
            }
            ScanEvent::Entry { entry, stray } => {
                let list = if stray {
                    &mut self.strays
                } else {
                    &mut self.top
                };
                let at = list.partition_point(|e| e.rel < entry.rel);
                list.insert(at, entry);
            }
            ScanEvent::Source(kind) => self.source = kind,
            ScanEvent::Error(e) => self.errors.push(e),
            ScanEvent::Progress(p) => self.progress = p,
            ScanEvent::Done(stats) => self.done = Some(stats),
        }
    }

    /// Keys of every run, task by task, model by model, in name order.
    pub fn run_keys(&self) -> impl Iterator<Item = RunKey> + '_ {
        self.tasks
            .iter()
            .flat_map(|t| t.models.iter().flat_map(|m| m.runs.iter().copied()))
    }

    /// Sums the usage of the given runs (runs not yet sized count as zero).
    pub fn rollup<'a>(&'a self, keys: impl IntoIterator<Item = &'a RunKey>) -> RunUsage {
        let mut total = RunUsage::default();
        for &k in keys {
            if let Some(u) = &self.runs[k].usage {
                total.add(u);
            }
        }
        total
    }

    /// Keys of the runs of one task (and optionally one model).
    pub fn runs_under(&self, task: &str, model: Option<&str>) -> Vec<RunKey> {
        self.tasks
            .iter()
            .filter(|t| t.name == task)
            .flat_map(|t| t.models.iter())
            .filter(|m| model.is_none_or(|n| m.name == n))
            .flat_map(|m| m.runs.iter().copied())
            .collect()
    }

    /// The latest run among `keys`: greatest run time, ties by newest write.
    pub fn latest(&self, keys: impl IntoIterator<Item = RunKey>) -> Option<RunKey> {
        keys.into_iter()
            .max_by_key(|&k| (self.runs[k].time(), self.runs[k].last_write()))
    }

    /// Number of runs whose sizes are known.
    pub fn runs_sized(&self) -> usize {
        self.runs.iter().filter(|r| r.usage.is_some()).count()
    }

    /// How this catalog's runs pair with `other`'s when both hold the same
    /// tasks, models and runs (by folder): `other`'s key of each of this
    /// one's runs, else `None`. A scan numbers runs in the order its
    /// threads find them, which changes from scan to scan; tasks, models
    /// and each model's runs are kept in name order, so they pair up in
    /// one pass without a lookup.
    pub fn pair_with(&self, other: &Catalog) -> Option<Vec<RunKey>> {
        if self.runs.len() != other.runs.len() || self.tasks.len() != other.tasks.len() {
            return None;
        }
        let mut to = vec![usize::MAX; self.runs.len()];
        for (a, b) in self.tasks.iter().zip(&other.tasks) {
            if a.name != b.name || a.models.len() != b.models.len() {
                return None;
            }
            for (ma, mb) in a.models.iter().zip(&b.models) {
                if ma.name != mb.name || ma.runs.len() != mb.runs.len() {
                    return None;
                }
                for (&ka, &kb) in ma.runs.iter().zip(&mb.runs) {
                    let (ra, rb) = (&self.runs[ka], &other.runs[kb]);
                    // The name too: an MLflow run's comes from its
                    // meta.yaml, renamed in place.
                    if ra.path.as_os_str() != rb.path.as_os_str() || ra.name != rb.name {
                        return None;
                    }
                    to[ka] = kb;
                }
            }
        }
        // Every run sits in a model, so every run was paired.
        to.iter().all(|&k| k != usize::MAX).then_some(to)
    }

    /// Takes what a refresh found, `new` holding the same runs as this
    /// catalog (`to` from [`Catalog::pair_with`]): each run that changed
    /// (sizes, problems, time or folder stamps; a run taken from the scan
    /// cache shares its stamps) takes the new reading under its own key,
    /// and the tree's other entries and the scan's figures are the new
    /// ones. Gives the keys of the runs that changed, and what is left of
    /// `new` (a hundred thousand runs take a while to free: the caller
    /// may do it elsewhere). Keys are kept, so nothing else is moved.
    pub fn refresh_from(&mut self, mut new: Catalog, to: &[RunKey]) -> (Vec<RunKey>, Catalog) {
        let mut changed = Vec::new();
        for (nk, run) in new.runs.iter_mut().enumerate() {
            let k = to[nk];
            let old = &mut self.runs[k];
            let same = std::sync::Arc::ptr_eq(&old.stamps, &run.stamps)
                && old.usage == run.usage
                && old.errors == run.errors
                && old.time == run.time
                && old.dir_mtime == run.dir_mtime;
            if !same {
                old.usage = run.usage.take();
                old.errors = std::mem::take(&mut run.errors);
                old.stamps = run.stamps.clone();
                old.time = run.time;
                old.dir_mtime = run.dir_mtime;
                changed.push(k);
            }
        }
        std::mem::swap(&mut self.top, &mut new.top);
        std::mem::swap(&mut self.strays, &mut new.strays);
        std::mem::swap(&mut self.errors, &mut new.errors);
        self.source = new.source;
        self.done = new.done;
        self.progress = new.progress;
        (changed, new)
    }
}
