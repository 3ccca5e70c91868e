//! Every change to disk: build a [`Plan`] (exact paths and bytes, what is
//! kept and skipped and why), show it, then [`apply`] it, checking each
//! path again: still inside the root, reached without a symlink, the same
//! file as planned, and its run still idle.

pub mod by_run;
pub mod copy;
pub mod create;
pub mod fsat;
pub mod judge;
pub mod mv;
pub mod promote;
pub mod trash;

pub use mv::{move_by_copy, move_run};

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::layout::{self, CheckpointName};
use crate::runs::Better;
use fsat::{Ident, Removed};
pub use judge::Judge;

/// What a plan does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanKind {
    /// Delete the runs' `tmp/` and `cache/`.
    Ephemeral,
    /// Both: ephemeral data and pruned checkpoints.
    Cleanup,
    /// Delete the checkpoints a prune does not keep.
    Prune,
    /// Move whole runs to `.trash/`.
    Trash,
    /// Delete what is in `.trash/` for good.
    EmptyTrash,
}

impl PlanKind {
    /// A verb phrase for confirm prompts.
    pub fn verb(self) -> &'static str {
        match self {
            PlanKind::Ephemeral => "delete ephemeral data (tmp/, cache/)",
            PlanKind::Cleanup => "delete ephemeral data and prune checkpoints",
            PlanKind::Prune => "prune checkpoints",
            PlanKind::Trash => "move runs to the trash",
            PlanKind::EmptyTrash => "empty the trash for good",
        }
    }
}

/// One path a plan removes (or, for the trash, moves).
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// The run it belongs to, relative to the root (`.trash/...` for the trash).
    pub run: PathBuf,
    /// The path relative to the root.
    pub rel: PathBuf,
    /// Allocated bytes the step frees (for the trash: bytes moved).
    pub bytes: u64,
    /// Files and links under it.
    pub files: u64,
    /// What it was when planned; apply refuses anything else.
    pub ident: Ident,
    /// Why: `tmp/`, `cache/`, `epoch 3`, `run` ...
    pub what: String,
}

/// A path a plan leaves alone, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    /// The path relative to the root.
    pub rel: PathBuf,
    /// The reason.
    pub why: String,
}

/// A change to disk, ready to be shown and applied.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// What it does.
    pub kind: PlanKind,
    /// The outputs root every path is relative to.
    pub root: PathBuf,
    /// What goes, in order.
    pub targets: Vec<Target>,
    /// What stays on purpose (pruning keeps best, last, the latest...).
    pub kept: Vec<Note>,
    /// What was left out (active runs, links, problems).
    pub skipped: Vec<Note>,
    /// Things to know before saying yes (a stalled run is not protected).
    pub warnings: Vec<Note>,
    /// Bytes of hard-linked files in the plan whose other links stay, so
    /// deleting them frees nothing.
    pub shared: u64,
    /// Apply skips runs written to within this window, unless forced.
    #[serde(skip)]
    pub window: SignedDuration,
    /// Active runs were included on purpose.
    pub forced: bool,
}

impl Plan {
    /// Bytes the plan frees.
    pub fn bytes(&self) -> u64 {
        self.targets.iter().map(|t| t.bytes).sum()
    }

    /// Files the plan removes.
    pub fn files(&self) -> u64 {
        self.targets.iter().map(|t| t.files).sum()
    }

    /// True when there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

/// A run to plan for: its folder relative to the root, and what the scan
/// last saw of it.
#[derive(Debug, Clone)]
pub struct RunRef {
    /// `experiments/<task>/<model>/<run_id>`.
    pub rel: PathBuf,
    /// Newest write the scan saw (seconds), for the active check.
    pub newest_mtime: Option<i64>,
    /// What run_info.json says of its status, for the stalled note.
    pub status: Option<String>,
}

/// Options for building a plan.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Include active runs.
    pub force: bool,
    /// A run written to within this window is active.
    pub window: SignedDuration,
    /// The clock.
    pub now: Timestamp,
}

fn is_recent(secs: i64, opts: &PlanOptions) -> bool {
    Timestamp::from_second(secs).is_ok_and(|t| opts.now.duration_since(t) < opts.window)
}

/// Newest write among a run folder, its children and grandchildren: cheap
/// enough to check again right before applying (new log lines, metrics,
/// checkpoints and files in tmp/ and cache/ all show there).
pub fn recent_write(root: &Path, run: &Path) -> Option<i64> {
    let fd = fsat::open_chain(root, run).ok()?;
    let mut newest = rustix::fs::fstat(&fd).ok()?.st_mtime;
    // Another mount inside the run (a tmpfs, a bind mount) is not the run's
    // own writing, and a cleanup leaves it alone anyway.
    let base = fsat::mount_at(fd.as_fd(), OsStr::new("")).ok()?;
    let Ok(mut dir) = rustix::fs::Dir::read_from(&fd) else {
        return Some(newest);
    };
    while let Some(Ok(e)) = dir.next() {
        let name = e.file_name();
        if matches!(name.to_bytes(), b"." | b"..") {
            continue;
        }
        let Ok(st) = rustix::fs::statat(&fd, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW) else {
            continue;
        };
        newest = newest.max(st.st_mtime);
        if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::Directory {
            continue;
        }
        let Ok(sub) = fsat::open_dir_at(fd.as_fd(), OsStr::from_bytes(name.to_bytes())) else {
            continue;
        };
        if !fsat::on_mount(sub.as_fd(), &base) {
            continue;
        }
        let Ok(mut inner) = rustix::fs::Dir::read_from(&sub) else {
            continue;
        };
        while let Some(Ok(e2)) = inner.next() {
            let n2 = e2.file_name();
            if matches!(n2.to_bytes(), b"." | b"..") {
                continue;
            }
            if let Ok(st2) = rustix::fs::statat(&sub, n2, rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
                newest = newest.max(st2.st_mtime);
            }
        }
    }
    Some(newest)
}

use std::os::unix::ffi::OsStrExt;

/// Accumulates targets while a plan is built, keeping hard-link bytes honest.
struct Builder {
    plan: Plan,
    /// Multi-link files across every target: (dev, ino) → (links, bytes, links in plan, first target).
    linked: HashMap<(u64, u64), (u64, u64, u64, usize)>,
}

impl Builder {
    fn new(kind: PlanKind, root: &Path, opts: &PlanOptions) -> Builder {
        Builder {
            plan: Plan {
                kind,
                root: root.to_path_buf(),
                targets: Vec::new(),
                kept: Vec::new(),
                skipped: Vec::new(),
                warnings: Vec::new(),
                shared: 0,
                window: opts.window,
                forced: opts.force,
            },
            linked: HashMap::new(),
        }
    }

    /// Measures `name` in the folder `dir_rel` and adds it as a target.
    fn add(&mut self, run: &Path, dir_rel: &Path, name: &OsStr, what: String) {
        self.add_except(run, dir_rel, name, what, None);
    }

    /// Like `add`, leaving out the child `except` of the target folder from
    /// the measure (it is a target of its own, deleted first).
    fn add_except(
        &mut self,
        run: &Path,
        dir_rel: &Path,
        name: &OsStr,
        what: String,
        except: Option<&OsStr>,
    ) {
        let rel = dir_rel.join(name);
        let dir = match fsat::open_on_mount(&self.plan.root, dir_rel) {
            Ok(fd) => fd,
            Err(e) => {
                self.plan.skipped.push(Note { rel, why: e });
                return;
            }
        };
        let ident = match fsat::ident_at(dir.as_fd(), name) {
            Ok(i) => i,
            Err(e) => {
                self.plan.skipped.push(Note {
                    rel,
                    why: fsat::reason(e),
                });
                return;
            }
        };
        let m = fsat::measure_except(dir.as_fd(), name, &rel, except);
        if m.mounts.first() == Some(&rel) {
            self.plan.skipped.push(Note {
                rel,
                why: fsat::MOUNT_POINT.into(),
            });
            return;
        }
        for mount in m.mounts {
            self.plan.skipped.push(Note {
                rel: mount,
                why: fsat::MOUNT_POINT.into(),
            });
        }
        for e in m.errors {
            self.plan.skipped.push(Note {
                rel: rel.clone(),
                why: format!("partly unreadable: {e}"),
            });
        }
        let index = self.plan.targets.len();
        for (key, (links, bytes)) in m.linked {
            let entry = self.linked.entry(key).or_insert((links, bytes, 0, index));
            entry.2 += 1;
        }
        self.plan.targets.push(Target {
            run: run.to_path_buf(),
            rel,
            bytes: m.disk,
            files: m.files,
            ident,
            what,
        });
    }

    /// Settles hard links: bytes count (once) only when every link is in the plan.
    fn finish(mut self) -> Plan {
        for (links, bytes, in_plan, first) in self.linked.into_values() {
            if in_plan >= links {
                self.plan.targets[first].bytes += bytes;
            } else {
                self.plan.shared += bytes;
            }
        }
        self.plan
    }

    /// Leaves out an active run (unless forced); notes a stalled one.
    fn run_allowed(&mut self, run: &RunRef, opts: &PlanOptions) -> bool {
        // The scan saw every file of the run; the fresh look sees the top two
        // levels now. Either one recent is enough to leave the run alone.
        let newest = recent_write(&self.plan.root, &run.rel).max(run.newest_mtime);
        if !opts.force && newest.is_some_and(|s| is_recent(s, opts)) {
            self.plan.skipped.push(Note {
                rel: run.rel.clone(),
                why: format!(
                    "active: written within {} minutes (use --force)",
                    opts.window.as_secs() / 60
                ),
            });
            return false;
        }
        if run
            .status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("running"))
        {
            self.plan.warnings.push(Note {
                rel: run.rel.clone(),
                why: "says running but has written nothing lately: stalled, not protected".into(),
            });
        }
        true
    }
}

/// Plans deleting the `tmp/` and `cache/` folders of these runs. A `tmp`
/// that is a symlink is planned as the link alone.
pub fn plan_ephemeral(root: &Path, runs: &[RunRef], opts: &PlanOptions) -> Plan {
    let mut b = Builder::new(PlanKind::Ephemeral, root, opts);
    // In another tool's tree a run's `tmp/` or `cache/` is that tool's (or
    // the program's) own data, not runyard's ephemeral rule: nothing is
    // planned, and each run says why.
    if let Some(why) = crate::sources::Source::detect(root).kind.no_ephemeral() {
        for run in runs {
            b.plan.skipped.push(Note {
                rel: run.rel.clone(),
                why: why.clone(),
            });
        }
        return b.finish();
    }
    for run in runs {
        if !b.run_allowed(run, opts) {
            continue;
        }
        for part in ["tmp", "cache"] {
            let Ok(md) = std::fs::symlink_metadata(root.join(&run.rel).join(part)) else {
                continue;
            };
            let what = if md.file_type().is_symlink() {
                format!("{part} (a symlink: only the link goes)")
            } else if md.is_dir() {
                format!("{part}/")
            } else {
                format!("{part} (a file)")
            };
            b.add(&run.rel, &run.rel, OsStr::new(part), what);
        }
    }
    b.finish()
}

/// Plans both: ephemeral data and pruned checkpoints, run by run.
pub fn plan_cleanup(root: &Path, runs: &[RunRef], opts: &PlanOptions) -> Plan {
    plan_cleanup_with(root, runs, opts, &Judge::default())
}

/// Plans both, pruning judged by `judge` (see [`plan_prune_with`]).
pub fn plan_cleanup_with(root: &Path, runs: &[RunRef], opts: &PlanOptions, judge: &Judge) -> Plan {
    // Another tool's tree has no ephemeral folders: the cleanup is the prune.
    if crate::sources::Source::detect(root).kind != crate::sources::SourceKind::Layout {
        return plan_prune_with(root, runs, opts, judge);
    }
    let mut p = plan_ephemeral(root, runs, opts);
    let prune = plan_prune_with(root, runs, opts, judge);
    p.kind = PlanKind::Cleanup;
    p.targets.extend(prune.targets);
    p.targets.sort_by(|a, b| a.run.cmp(&b.run));
    p.kept.extend(prune.kept);
    p.shared += prune.shared;
    // Both halves look at the same runs; say each thing once.
    for n in prune.skipped {
        if !p.skipped.iter().any(|x| x.rel == n.rel && x.why == n.why) {
            p.skipped.push(n);
        }
    }
    for n in prune.warnings {
        if !p.warnings.iter().any(|x| x.rel == n.rel && x.why == n.why) {
            p.warnings.push(n);
        }
    }
    p
}

/// Plans pruning the checkpoints of these runs (see `layout::prune_names`),
/// judged by each run's own key metric (see [`plan_prune_with`]).
pub fn plan_prune(root: &Path, runs: &[RunRef], opts: &PlanOptions) -> Plan {
    plan_prune_with(root, runs, opts, &Judge::default())
}

/// Plans pruning: `layout::prune_names` keeps `best.*`, `last.*`, names not
/// understood, the latest and the best by a metric in the names; where the
/// names carry only an epoch or step, the run's recorded key metric (the
/// task's in `judge`, else the run's own) also keeps the `keep_best` best.
pub fn plan_prune_with(root: &Path, runs: &[RunRef], opts: &PlanOptions, judge: &Judge) -> Plan {
    let mut b = Builder::new(PlanKind::Prune, root, opts);
    for run in runs {
        // The run's checkpoints/, then those of tool folders in it
        // (Lightning's lightning_logs/version_N/checkpoints/), each judged
        // on its own.
        let found = crate::runs::formats::discover(&root.join(&run.rel));
        let dirs = std::iter::once("checkpoints".to_string()).chain(found.checkpoint_dirs);
        for sub in dirs {
            prune_dir(&mut b, root, run, &run.rel.join(sub), opts, judge);
        }
    }
    // A run with several checkpoint folders is noted once (active, stalled).
    let mut seen = std::collections::HashSet::new();
    b.plan
        .skipped
        .retain(|n| seen.insert((n.rel.clone(), n.why.clone())));
    let mut seen = std::collections::HashSet::new();
    b.plan
        .warnings
        .retain(|n| seen.insert((n.rel.clone(), n.why.clone())));
    b.finish()
}

/// Plans pruning one checkpoint folder `dir` (relative to the root) of `run`.
fn prune_dir(
    b: &mut Builder,
    root: &Path,
    run: &RunRef,
    dir: &Path,
    opts: &PlanOptions,
    judge: &Judge,
) {
    let dir = dir.to_path_buf();
    let Ok(md) = std::fs::symlink_metadata(root.join(&dir)) else {
        return;
    };
    if md.file_type().is_symlink() {
        b.plan.skipped.push(Note {
            rel: dir,
            why: "checkpoints/ is a symlink: not followed".into(),
        });
        return;
    }
    if !b.run_allowed(run, opts) {
        return;
    }
    // Listed through the folder as opened from the root, never through
    // a link along the way.
    let list = fsat::open_on_mount(root, &dir)
        .and_then(|fd| rustix::fs::Dir::read_from(&fd).map_err(fsat::reason));
    let list = match list {
        Ok(l) => l,
        Err(e) => {
            b.plan.skipped.push(Note {
                rel: dir,
                why: format!("cannot list: {e}"),
            });
            return;
        }
    };
    let mut names: Vec<std::ffi::OsString> = list
        .flatten()
        .map(|e| OsStr::from_bytes(e.file_name().to_bytes()).to_os_string())
        .filter(|n| n != "." && n != "..")
        .collect();
    names.sort();
    let parsed: Vec<CheckpointName> = names
        .iter()
        .map(|n| layout::parse_checkpoint(&n.to_string_lossy()))
        .collect();
    let lossy: Vec<String> = names
        .iter()
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    let mut go = layout::prune_names(&lossy.iter().map(String::as_str).collect::<Vec<_>>());
    let task = run
        .rel
        .components()
        .nth(1)
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    let verdict = judge::judge(&root.join(&run.rel), &task, &parsed, judge);
    if let Some(v) = &verdict {
        for &i in &v.best {
            go[i] = false;
        }
    } else if parsed
        .iter()
        .any(|p| matches!(p, CheckpointName::Progress { metric: None, .. }))
        && go.iter().any(|g| *g)
    {
        b.plan.warnings.push(Note {
            rel: dir.clone(),
            why: "no recorded metric with a known direction to judge these checkpoints by: \
                  only the latest (and any best named in a file name) is kept"
                .into(),
        });
    }
    for (i, ((name, p), go)) in names.iter().zip(&parsed).zip(go).enumerate() {
        let what = match p {
            CheckpointName::Best => "best".to_string(),
            CheckpointName::Last => "last".to_string(),
            CheckpointName::Unparsed => "name not understood".to_string(),
            CheckpointName::Progress { epoch, step, .. } => match (epoch, step) {
                (Some(e), Some(s)) => format!("epoch {e}, step {s}"),
                (Some(e), None) => format!("epoch {e}"),
                (None, Some(s)) => format!("step {s}"),
                (None, None) => String::new(),
            },
        };
        // The value that decided, said in the plan.
        let value = verdict
            .as_ref()
            .and_then(|v| Some(format!("{} {}", v.metric, crate::fmt::metric(v.values[i]?))));
        let what = match &value {
            Some(val) => format!("{what}: {val}"),
            None => what,
        };
        if go {
            b.add(&run.rel, &dir, name, what);
        } else {
            let why = match p {
                _ if verdict.as_ref().is_some_and(|v| v.best.contains(&i)) => {
                    let v = verdict.as_ref().map_or(Better::Lower, |v| v.better);
                    let way = if v == Better::Lower {
                        "lowest"
                    } else {
                        "highest"
                    };
                    format!("{what}: the best ({way}) recorded")
                }
                CheckpointName::Progress { metric: None, .. } => format!("{what}: the latest"),
                CheckpointName::Progress { .. } => {
                    format!("{what}: the latest, or the best by the metric in its name")
                }
                CheckpointName::Unparsed => "name not understood: always kept".into(),
                _ => format!("{what}: always kept"),
            };
            b.plan.kept.push(Note {
                rel: dir.join(name),
                why,
            });
        }
    }
}

/// Plans moving whole runs to `.trash/`.
pub fn plan_trash(root: &Path, runs: &[RunRef], opts: &PlanOptions) -> Plan {
    let mut b = Builder::new(PlanKind::Trash, root, opts);
    let source = crate::sources::Source::detect(root);
    for run in runs {
        if !b.run_allowed(run, opts) {
            continue;
        }
        let (Some(parent), Some(name)) = (run.rel.parent(), run.rel.file_name()) else {
            continue;
        };
        // The trash record must be able to bring it back: a path that
        // `restore` would refuse (not UTF-8, control characters) is not
        // trashed, or it could only ever be deleted for good.
        let origin = trash::Origin {
            version: 1,
            origin: run.rel.clone(),
            deleted_at: String::new(),
            tree: None,
            bytes: None,
            files: None,
        };
        if run.rel.to_str().is_none() || origin.check(&source).is_err() {
            b.plan.skipped.push(Note {
                rel: run.rel.clone(),
                why: "its name cannot be recorded for restore (not UTF-8, or control \
                      characters): rename it first"
                    .into(),
            });
            continue;
        }
        b.add(&run.rel, parent, name, "run".into());
    }
    // Moving frees nothing until the trash is emptied; bytes say what moves.
    b.finish()
}

/// Builds the plan of a kind (the trash's own emptying is planned by
/// `trash::plan_empty`).
pub fn plan_for(kind: PlanKind, root: &Path, runs: &[RunRef], opts: &PlanOptions) -> Plan {
    plan_for_with(kind, root, runs, opts, &Judge::default())
}

/// [`plan_for`], pruning judged by `judge`.
pub fn plan_for_with(
    kind: PlanKind,
    root: &Path,
    runs: &[RunRef],
    opts: &PlanOptions,
    judge: &Judge,
) -> Plan {
    match kind {
        PlanKind::Ephemeral => plan_ephemeral(root, runs, opts),
        PlanKind::Cleanup => plan_cleanup_with(root, runs, opts, judge),
        PlanKind::Prune => plan_prune_with(root, runs, opts, judge),
        PlanKind::Trash => plan_trash(root, runs, opts),
        PlanKind::EmptyTrash => trash::plan_empty(root, &[], opts),
    }
}

/// What applying a plan did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Bytes freed (for the trash: bytes moved).
    pub freed: u64,
    /// Files removed.
    pub files: u64,
    /// Targets done.
    pub done: usize,
    /// Targets skipped at apply time, with the reason.
    pub skipped: Vec<Note>,
    /// Problems; the rest went on.
    pub errors: Vec<String>,
    /// For the trash: where each run went (`.trash/<id>`).
    pub moved: Vec<(PathBuf, PathBuf)>,
    /// Multi-link files unlinked (see `fsat::Removed::linked`).
    #[serde(skip)]
    pub linked: Vec<(u64, u64, u64, u64)>,
}

/// Applies a plan, checking every path again first. `progress(done, total)`
/// is called after each target. Targets run on `threads` threads, one run
/// at a time per thread, so one slow run does not hold up the others.
pub fn apply(plan: &Plan, threads: usize, progress: &(dyn Fn(usize, usize) + Sync)) -> Report {
    let now = Timestamp::now();
    let opts = PlanOptions {
        force: plan.forced,
        window: plan.window,
        now,
    };
    // Group targets by run: the active check runs once per run.
    let mut by_run: Vec<(PathBuf, Vec<&Target>)> = Vec::new();
    for t in &plan.targets {
        match by_run.last_mut() {
            Some((r, v)) if *r == t.run => v.push(t),
            _ => by_run.push((t.run.clone(), vec![t])),
        }
    }
    let total = plan.targets.len();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let reports: Vec<Report> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.clamp(1, 8))
            .map(|_| {
                s.spawn(|| {
                    let mut r = Report::default();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((run, targets)) = by_run.get(i) else {
                            break;
                        };
                        apply_run(plan, &opts, run, targets, &mut r);
                        let d = done.fetch_add(targets.len(), std::sync::atomic::Ordering::Relaxed)
                            + targets.len();
                        progress(d, total);
                    }
                    r
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut out = Report::default();
    for r in reports {
        out.freed += r.freed;
        out.files += r.files;
        out.done += r.done;
        out.skipped.extend(r.skipped);
        out.errors.extend(r.errors);
        out.moved.extend(r.moved);
        out.linked.extend(r.linked);
    }
    // A file whose links were all unlinked here, each thread seeing the
    // others still there, was freed after all: count it once.
    let mut inodes: HashMap<(u64, u64), (u64, u64, u64)> = HashMap::new();
    for (dev, ino, links, bytes) in std::mem::take(&mut out.linked) {
        let e = inodes.entry((dev, ino)).or_insert((links, bytes, 0));
        e.0 = e.0.max(links);
        e.2 += 1;
    }
    for (links, bytes, unlinked) in inodes.into_values() {
        if unlinked >= links {
            out.freed += bytes;
        }
    }
    out
}

fn apply_run(plan: &Plan, opts: &PlanOptions, run: &Path, targets: &[&Target], r: &mut Report) {
    if plan.kind != PlanKind::EmptyTrash
        && !opts.force
        && recent_write(&plan.root, run).is_some_and(|s| is_recent(s, opts))
    {
        for t in targets {
            r.skipped.push(Note {
                rel: t.rel.clone(),
                why: "the run became active since the plan".into(),
            });
        }
        return;
    }
    for t in targets {
        let (Some(parent), Some(name)) = (t.rel.parent(), t.rel.file_name()) else {
            continue;
        };
        // Reached from the root without following a link nor leaving its
        // mount, or not at all. Emptying the trash stops at the first
        // target of an entry it skips: the entry's folder comes last and
        // holds the run, which must not go unless its own target went.
        let stop = plan.kind == PlanKind::EmptyTrash;
        let dir = match fsat::open_on_mount(&plan.root, parent) {
            Ok(fd) => fd,
            Err(e) => {
                r.skipped.push(Note {
                    rel: t.rel.clone(),
                    why: e,
                });
                if stop {
                    break;
                }
                continue;
            }
        };
        match fsat::ident_at(dir.as_fd(), name) {
            Ok(now) if now == t.ident => {}
            Ok(_) => {
                r.skipped.push(Note {
                    rel: t.rel.clone(),
                    why: "changed since the plan (a different file or a link now)".into(),
                });
                if stop {
                    break;
                }
                continue;
            }
            Err(e) => {
                r.skipped.push(Note {
                    rel: t.rel.clone(),
                    why: fsat::reason(e),
                });
                if stop {
                    break;
                }
                continue;
            }
        }
        if plan.kind == PlanKind::Trash {
            match trash::move_in(&plan.root, dir.as_fd(), &t.rel, (t.bytes, t.files)) {
                Ok(to) => {
                    r.freed += t.bytes;
                    r.files += t.files;
                    r.done += 1;
                    r.moved.push((t.rel.clone(), to));
                }
                Err(e) => r.errors.push(format!("{}: {e}", t.rel.display())),
            }
            continue;
        }
        // While deleting, anything written within the window (a job that
        // started meanwhile, or wrote deep where the checks above do not
        // look) is left in place.
        let mut removed = Removed {
            guard: (!opts.force && plan.kind != PlanKind::EmptyTrash)
                .then(|| opts.now.as_second() - opts.window.as_secs()),
            expect: Some((t.ident.dev, t.ident.ino)),
            ..Removed::default()
        };
        // Removing an entry bumps its folder's mtime; put it back, so a
        // cleaned run does not look active for the next ten minutes.
        let before = rustix::fs::fstat(&dir).ok();
        fsat::remove_at(dir.as_fd(), name, &t.rel, false, &mut removed);
        if let Some(st) = before {
            let times = rustix::fs::Timestamps {
                last_access: rustix::fs::Timespec {
                    tv_sec: st.st_atime,
                    tv_nsec: st.st_atime_nsec as _,
                },
                last_modification: rustix::fs::Timespec {
                    tv_sec: st.st_mtime,
                    tv_nsec: st.st_mtime_nsec as _,
                },
            };
            let _ = rustix::fs::futimens(&dir, &times);
        }
        r.freed += removed.freed;
        r.files += removed.files;
        r.linked.extend(std::mem::take(&mut removed.linked));
        // Read before the mounts are taken for the report: a mount left in
        // place means the target did not go whole.
        let mounted = !removed.mounts.is_empty();
        for mount in std::mem::take(&mut removed.mounts) {
            r.skipped.push(Note {
                rel: mount,
                why: fsat::MOUNT_POINT.into(),
            });
        }
        if removed.kept_recent > 0 {
            r.skipped.push(Note {
                rel: t.rel.clone(),
                why: format!(
                    "{} entries written within the active window were left in place",
                    removed.kept_recent
                ),
            });
        } else if removed.errors.is_empty() && !mounted {
            r.done += 1;
        }
        let failed = !removed.errors.is_empty() || mounted;
        r.errors.extend(removed.errors);
        // Emptying the trash: if the run could not go whole, keep its
        // record, so what is left can still be restored.
        if failed && plan.kind == PlanKind::EmptyTrash {
            break;
        }
    }
}
