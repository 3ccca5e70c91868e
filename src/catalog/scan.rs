//! The background scan: a pool of threads walks the tree, one `statx` per
//! entry relative to its open folder, and streams what it finds.
//!
//! Why this shape: `std::fs::read_dir` keeps the folder open and
//! `DirEntry::metadata` stats each name relative to it without following
//! links, which measured fastest here (see `tests/bench/README.md`); the
//! folders to visit sit on one shared stack, popped last-in first-out so
//! each run is finished (and reported) soon after it is entered, and so the
//! stack stays small. Only per-run totals are kept, never a per-file tree.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Catalog, Entry, RunKey, RunUsage, ScanStats, Usage};
use crate::layout::{self, RunPart, TopKind};

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Worker threads. More than the cores pays on network filesystems,
    /// where each stat waits on the server.
    pub threads: usize,
    /// Do not descend into folders on another filesystem (like `du -x`).
    pub one_file_system: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        ScanOptions {
            threads: cores.clamp(2, 8),
            one_file_system: true,
        }
    }
}

/// A run found by the scan, before it is sized.
#[derive(Debug, Clone)]
pub struct RunFound {
    /// Its key: runs are numbered in the order they are reported.
    pub key: RunKey,
    /// Task folder name.
    pub task: String,
    /// Model folder name.
    pub model: String,
    /// Run folder name.
    pub name: String,
    /// Absolute path.
    pub path: PathBuf,
    /// The run folder's mtime, seconds since the epoch.
    pub dir_mtime: Option<i64>,
}

/// How far a running scan has got.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ScanProgress {
    /// Entries stat'ed so far.
    pub entries: u64,
    /// Allocated bytes counted so far.
    pub disk: u64,
    /// Runs found.
    pub runs_found: usize,
    /// Runs fully sized.
    pub runs_done: usize,
}

/// What the scan reports, in order: every run is reported found before it is done.
#[derive(Debug, Clone)]
pub enum ScanEvent {
    /// A run folder was found.
    Run(RunFound),
    /// A run was walked to the end.
    RunDone {
        /// Which run.
        key: RunKey,
        /// Its sizes.
        usage: RunUsage,
        /// Problems met inside it.
        errors: Vec<String>,
    },
    /// A top-level entry (or a stray inside `experiments/`) was sized.
    Entry {
        /// The entry.
        entry: Entry,
        /// True for a stray inside `experiments/`.
        stray: bool,
    },
    /// A problem outside any run.
    Error(String),
    /// Counters, sent a few times a second.
    Progress(ScanProgress),
    /// The scan finished.
    Done(ScanStats),
}

/// A running scan. Dropping it stops the walk.
pub struct ScanHandle {
    /// The events, ending with [`ScanEvent::Done`].
    pub events: Receiver<ScanEvent>,
    cancel: Arc<AtomicBool>,
}

impl ScanHandle {
    /// Asks the walkers to stop as soon as they can.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

impl Drop for ScanHandle {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Starts scanning `root` on a named background thread.
pub fn spawn(root: &Path, opts: ScanOptions) -> ScanHandle {
    // Bounded, so a slow reader slows the walk instead of growing memory.
    let (tx, rx) = sync_channel(4096);
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let root = root.to_path_buf();
    std::thread::Builder::new()
        .name("runyard-scan".into())
        .spawn(move || run_scan(root, opts, tx, flag))
        .expect("spawning the scan thread");
    ScanHandle { events: rx, cancel }
}

/// Scans `root` to the end and returns the catalog.
pub fn scan(root: &Path, opts: ScanOptions) -> Catalog {
    let handle = spawn(root, opts);
    let mut catalog = Catalog::new(root);
    for event in handle.events.iter() {
        catalog.apply(event);
    }
    catalog
}

/// What a folder on the stack is, which decides how its children count.
enum Kind {
    Root,
    Experiments,
    Task(Arc<str>),
    Model(Arc<str>, Arc<str>),
    /// Inside a run: `part` is `None` at the run folder itself; `slot` is the
    /// checkpoint (a folder under `checkpoints/`) the bytes also count for.
    Run {
        acc: Arc<RunAcc>,
        part: Option<RunPart>,
        slot: Option<usize>,
    },
    /// Inside a top-level entry or stray folder.
    Entry(Arc<EntryAcc>),
}

struct Job {
    path: PathBuf,
    kind: Kind,
}

struct RunAcc {
    key: RunKey,
    path: PathBuf,
    /// Folders of this run still to walk (the run folder counts as one).
    pending: AtomicUsize,
    state: Mutex<RunState>,
}

#[derive(Default)]
struct RunState {
    usage: RunUsage,
    errors: Vec<String>,
    /// Direct children of `checkpoints/`, with their total bytes.
    checkpoints: Vec<(String, Usage)>,
}

struct EntryAcc {
    pending: AtomicUsize,
    stray: bool,
    entry: Mutex<Entry>,
}

struct Queue {
    jobs: Vec<Job>,
    /// Jobs on the stack or being worked on; zero means the walk is over.
    outstanding: usize,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
    cancel: Arc<AtomicBool>,
    tx: SyncSender<ScanEvent>,
    /// Held while a run gets its key and is reported, so keys arrive in order.
    next_key: Mutex<RunKey>,
    inodes: Mutex<HashSet<(u64, u64)>>,
    root: PathBuf,
    root_dev: Option<u64>,
    entries: AtomicU64,
    disk: AtomicU64,
    runs_done: AtomicUsize,
}

impl Shared {
    fn send(&self, event: ScanEvent) {
        if self.tx.send(event).is_err() {
            // Nobody is listening any more: stop walking.
            self.cancel.store(true, Ordering::Relaxed);
        }
    }

    fn push(&self, jobs: Vec<Job>) {
        if jobs.is_empty() {
            return;
        }
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.outstanding += jobs.len();
        q.jobs.extend(jobs);
        drop(q);
        self.wake.notify_all();
    }

    fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }
}

fn run_scan(root: PathBuf, opts: ScanOptions, tx: SyncSender<ScanEvent>, cancel: Arc<AtomicBool>) {
    let start = Instant::now();
    let root_dev = if opts.one_file_system {
        std::fs::metadata(&root).ok().map(|m| m.dev())
    } else {
        None
    };
    let shared = Shared {
        queue: Mutex::new(Queue {
            jobs: vec![Job {
                path: root.clone(),
                kind: Kind::Root,
            }],
            outstanding: 1,
        }),
        wake: Condvar::new(),
        cancel,
        tx,
        next_key: Mutex::new(0),
        inodes: Mutex::new(HashSet::new()),
        root,
        root_dev,
        entries: AtomicU64::new(0),
        disk: AtomicU64::new(0),
        runs_done: AtomicUsize::new(0),
    };
    let threads = opts.threads.max(1);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|i| {
                std::thread::Builder::new()
                    .name(format!("runyard-walk-{i}"))
                    .spawn_scoped(s, || worker(&shared))
                    .expect("spawning a scan worker")
            })
            .collect();
        while !workers.iter().all(|w| w.is_finished()) {
            std::thread::sleep(Duration::from_millis(50));
            if shared.cancel.load(Ordering::Relaxed) {
                shared.wake.notify_all();
            }
            shared.send(ScanEvent::Progress(progress(&shared)));
        }
    });
    if shared.cancel.load(Ordering::Relaxed) {
        return;
    }
    shared.send(ScanEvent::Progress(progress(&shared)));
    shared.send(ScanEvent::Done(ScanStats {
        entries: shared.entries.load(Ordering::Relaxed),
        millis: start.elapsed().as_millis() as u64,
        threads,
    }));
}

fn progress(shared: &Shared) -> ScanProgress {
    ScanProgress {
        entries: shared.entries.load(Ordering::Relaxed),
        disk: shared.disk.load(Ordering::Relaxed),
        runs_found: *shared.next_key.lock().unwrap_or_else(|e| e.into_inner()),
        runs_done: shared.runs_done.load(Ordering::Relaxed),
    }
}

fn worker(shared: &Shared) {
    loop {
        let job = {
            let mut q = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if shared.cancel.load(Ordering::Relaxed) || q.outstanding == 0 {
                    return;
                }
                if let Some(job) = q.jobs.pop() {
                    break job;
                }
                q = shared.wake.wait(q).unwrap_or_else(|e| e.into_inner());
            }
        };
        visit(shared, job);
        let mut q = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.outstanding -= 1;
        if q.outstanding == 0 {
            drop(q);
            shared.wake.notify_all();
        }
    }
}

/// One child of a folder, stat'ed without following links.
struct Child {
    name: std::ffi::OsString,
    path: PathBuf,
    is_dir: bool,
    usage: Usage,
    /// Bytes of a hard link whose inode was already counted elsewhere.
    shared: u64,
    mtime: i64,
}

/// Reads one folder: its children's sizes, and the subfolders to walk.
/// Problems are returned as messages; `None` when the folder itself is unreadable.
fn read_children(shared: &Shared, dir: &Path, errors: &mut Vec<String>) -> Option<Vec<Child>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            errors.push(format!("{}: cannot read folder: {}", shared.rel(dir), io_reason(&e)));
            return None;
        }
    };
    let mut out = Vec::new();
    let mut disk_seen = 0;
    for entry in rd {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                errors.push(format!("{}: listing stopped: {}", shared.rel(dir), io_reason(&e)));
                break;
            }
        };
        let path = entry.path();
        let meta = match entry.metadata() {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                errors.push(format!("{}: vanished while scanning", shared.rel(&path)));
                continue;
            }
            Err(e) => {
                errors.push(format!("{}: cannot stat: {}", shared.rel(&path), io_reason(&e)));
                continue;
            }
        };
        let is_dir = meta.file_type().is_dir();
        let mut usage = Usage {
            disk: meta.blocks() * 512,
            apparent: meta.len(),
        };
        let mut shared_bytes = 0;
        if !is_dir && meta.nlink() > 1 {
            let first = shared
                .inodes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert((meta.dev(), meta.ino()));
            if !first {
                shared_bytes = usage.disk;
                usage = Usage::default();
            }
        }
        let mut is_walkable = is_dir;
        if is_dir && shared.root_dev.is_some_and(|d| d != meta.dev()) {
            errors.push(format!(
                "{}: on another filesystem, not counted",
                shared.rel(&path)
            ));
            is_walkable = false;
        }
        disk_seen += usage.disk;
        out.push(Child {
            name: entry.file_name(),
            path,
            is_dir: is_walkable,
            usage,
            shared: shared_bytes,
            mtime: meta.mtime(),
        });
    }
    shared.entries.fetch_add(out.len() as u64, Ordering::Relaxed);
    shared.disk.fetch_add(disk_seen, Ordering::Relaxed);
    Some(out)
}

/// A short reason for an I/O error, as shown next to the path.
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::NotFound => "vanished while scanning".into(),
        _ => e.to_string(),
    }
}

fn visit(shared: &Shared, job: Job) {
    if shared.cancel.load(Ordering::Relaxed) {
        return;
    }
    match job.kind {
        Kind::Run { acc, part, slot } => visit_run(shared, &job.path, acc, part, slot),
        Kind::Entry(acc) => visit_entry(shared, &job.path, acc),
        kind => visit_structure(shared, &job.path, kind),
    }
}

/// The levels above runs: root, `experiments/`, task and model folders.
fn visit_structure(shared: &Shared, dir: &Path, kind: Kind) {
    let mut errors = Vec::new();
    let children = read_children(shared, dir, &mut errors).unwrap_or_default();
    for e in errors {
        shared.send(ScanEvent::Error(e));
    }
    let mut jobs = Vec::new();
    for child in children {
        let name = child.name.to_string_lossy();
        match (&kind, child.is_dir) {
            (Kind::Root, true) if name == layout::EXPERIMENTS => jobs.push(Job {
                path: child.path,
                kind: Kind::Experiments,
            }),
            (Kind::Root, _) => {
                let kind = TopKind::of(&name);
                if let Some(job) = start_entry(shared, child, kind, false) {
                    jobs.push(job);
                }
            }
            (Kind::Experiments, true) => jobs.push(Job {
                path: child.path,
                kind: Kind::Task(name.into()),
            }),
            (Kind::Task(task), true) => jobs.push(Job {
                path: child.path,
                kind: Kind::Model(task.clone(), name.into()),
            }),
            (Kind::Model(task, model), true) => {
                let acc = {
                    let mut next = shared.next_key.lock().unwrap_or_else(|e| e.into_inner());
                    let key = *next;
                    *next += 1;
                    shared.send(ScanEvent::Run(RunFound {
                        key,
                        task: task.to_string(),
                        model: model.to_string(),
                        name: name.into_owned(),
                        path: child.path.clone(),
                        dir_mtime: Some(child.mtime),
                    }));
                    let mut usage = RunUsage {
                        dirs: 1,
                        newest_mtime: Some(child.mtime),
                        ..RunUsage::default()
                    };
                    usage.other = child.usage;
                    Arc::new(RunAcc {
                        key,
                        path: child.path.clone(),
                        pending: AtomicUsize::new(1),
                        state: Mutex::new(RunState {
                            usage,
                            ..RunState::default()
                        }),
                    })
                };
                jobs.push(Job {
                    path: child.path,
                    kind: Kind::Run {
                        acc,
                        part: None,
                        slot: None,
                    },
                });
            }
            // Files (and links) above run depth, or a folder on another device.
            (_, _) => {
                if let Some(job) = start_entry(shared, child, TopKind::Experiments, true) {
                    jobs.push(job);
                }
            }
        }
    }
    shared.push(jobs);
}

/// Reports a top-level entry or stray now (a file), or starts walking it (a folder).
fn start_entry(shared: &Shared, child: Child, kind: TopKind, stray: bool) -> Option<Job> {
    let entry = Entry {
        rel: shared.rel(&child.path),
        path: child.path.clone(),
        kind,
        is_dir: child.is_dir,
        usage: Some(child.usage),
    };
    if !child.is_dir {
        shared.send(ScanEvent::Entry { entry, stray });
        return None;
    }
    Some(Job {
        path: child.path,
        kind: Kind::Entry(Arc::new(EntryAcc {
            pending: AtomicUsize::new(1),
            stray,
            entry: Mutex::new(entry),
        })),
    })
}

fn visit_entry(shared: &Shared, dir: &Path, acc: Arc<EntryAcc>) {
    let mut errors = Vec::new();
    let children = read_children(shared, dir, &mut errors).unwrap_or_default();
    for e in errors {
        shared.send(ScanEvent::Error(e));
    }
    let mut sum = Usage::default();
    let mut jobs = Vec::new();
    for child in children {
        sum.add(child.usage);
        if child.is_dir {
            jobs.push(Job {
                path: child.path,
                kind: Kind::Entry(acc.clone()),
            });
        }
    }
    {
        let mut entry = acc.entry.lock().unwrap_or_else(|e| e.into_inner());
        entry.usage.get_or_insert_with(Usage::default).add(sum);
    }
    acc.pending.fetch_add(jobs.len(), Ordering::AcqRel);
    shared.push(jobs);
    if acc.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
        let entry = acc.entry.lock().unwrap_or_else(|e| e.into_inner()).clone();
        shared.send(ScanEvent::Entry {
            entry,
            stray: acc.stray,
        });
    }
}

fn visit_run(
    shared: &Shared,
    dir: &Path,
    acc: Arc<RunAcc>,
    part: Option<RunPart>,
    slot: Option<usize>,
) {
    let mut errors = Vec::new();
    let children = read_children(shared, dir, &mut errors);
    let mut delta = RunUsage::default();
    let mut slot_sum = Usage::default();
    let mut new_checkpoints = Vec::new();
    let mut jobs = Vec::new();
    // At the top of `checkpoints/` every child is a checkpoint of its own.
    let at_checkpoints_top = part == Some(RunPart::Checkpoints) && slot.is_none();
    for child in children.into_iter().flatten() {
        let child_part = part.unwrap_or_else(|| RunPart::of(&child.name.to_string_lossy()));
        delta.part_mut(child_part).add(child.usage);
        slot_sum.add(child.usage);
        delta.shared += child.shared;
        delta.newest_mtime = delta.newest_mtime.max(Some(child.mtime));
        if child.is_dir {
            delta.dirs += 1;
        } else {
            delta.files += 1;
        }
        let mut child_slot = slot;
        if at_checkpoints_top {
            child_slot = Some(new_checkpoints.len());
            new_checkpoints.push((child.name.to_string_lossy().into_owned(), child.usage));
        }
        if child.is_dir {
            jobs.push(Job {
                path: child.path,
                kind: Kind::Run {
                    acc: acc.clone(),
                    part: Some(child_part),
                    slot: child_slot,
                },
            });
        }
    }
    {
        let mut st = acc.state.lock().unwrap_or_else(|e| e.into_inner());
        st.usage.add(&delta);
        st.errors.extend(errors);
        if let Some(i) = slot
            && let Some(c) = st.checkpoints.get_mut(i)
        {
            c.1.add(slot_sum);
        }
        if at_checkpoints_top {
            // A run has one `checkpoints/`, so slots numbered from zero here
            // are its indices; child jobs are pushed only after this.
            st.checkpoints.extend(new_checkpoints);
        }
    }
    acc.pending.fetch_add(jobs.len(), Ordering::AcqRel);
    shared.push(jobs);
    if acc.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
        finish_run(shared, &acc);
    }
}

/// Sends a run's totals once its last folder has been walked.
fn finish_run(shared: &Shared, acc: &RunAcc) {
    let mut st = acc.state.lock().unwrap_or_else(|e| e.into_inner());
    let names: Vec<_> = st
        .checkpoints
        .iter()
        .map(|(n, _)| layout::parse_checkpoint(n))
        .collect();
    let mut prunable = Usage::default();
    for (go, (_, usage)) in layout::prune_selection(&names).into_iter().zip(&st.checkpoints) {
        if go {
            prunable.add(*usage);
        }
    }
    st.usage.prunable = prunable;
    // Messages name paths from the root; inside a run, from the run.
    let run_rel = format!("{}/", shared.rel(&acc.path));
    let errors = std::mem::take(&mut st.errors)
        .into_iter()
        .map(|e| match e.strip_prefix(&run_rel) {
            Some(rest) => rest.to_string(),
            None => e,
        })
        .collect();
    let usage = std::mem::take(&mut st.usage);
    drop(st);
    shared.runs_done.fetch_add(1, Ordering::Relaxed);
    shared.send(ScanEvent::RunDone {
        key: acc.key,
        usage,
        errors,
    });
}
