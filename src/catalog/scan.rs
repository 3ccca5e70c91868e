//! The background scan: a pool of threads walks the tree, one `statx` per
//! entry relative to its open folder (`fstatat` off Linux, or when
//! `RUNYARD_PORTABLE_SCAN=1`), and streams what it finds.
//!
//! Why this shape: each folder is opened relative to its parent without
//! following links and listed with `getdents`; each name is stat'ed
//! relative to that open folder, asking `statx` only for the fields used,
//! which measured fastest here (see `tests/bench/README.md`); the
//! folders to visit sit on one shared stack, popped last-in first-out so
//! each run is finished (and reported) soon after it is entered, and so the
//! stack stays small. Only per-run totals are kept, never a per-file tree.

use std::collections::HashSet;
use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::cache::{DirStamp, ScanCache, Stamps};
use super::{Catalog, Entry, RunKey, RunUsage, ScanStats, Usage};
use crate::layout::{self, RunPart, TopKind};
use crate::sources::probe::LazyProbe;
use crate::sources::{Class, Level, RunClass, Source, SourceKind};

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Worker threads. More than the cores pays on network filesystems,
    /// where each stat waits on the server.
    pub threads: usize,
    /// Do not descend into folders on another filesystem (like `du -x`).
    pub one_file_system: bool,
    /// A previous scan: runs it may trust are not walked again.
    pub cache: Option<Arc<ScanCache>>,
    /// Stat with the portable `fstatat` instead of Linux's `statx` (always
    /// so off Linux; on Linux the tests and the benchmark select it to keep
    /// that path working).
    pub portable: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        ScanOptions {
            threads: cores.clamp(2, 8),
            one_file_system: true,
            cache: None,
            portable: !cfg!(target_os = "linux")
                || std::env::var_os("RUNYARD_PORTABLE_SCAN").is_some_and(|v| v == "1"),
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
    /// When the run started by its tool's own record (seconds since the
    /// epoch): orders it instead of its name or folder time.
    pub time: Option<i64>,
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
    /// The kind of tree the root is, sent first.
    Source(SourceKind),
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
        /// Its folders as they were, for the scan cache.
        stamps: Stamps,
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
    /// Above run depth: the source classifies its children.
    Level(Level),
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
    /// The open parent folder and this folder's name in it; `None` opens
    /// `path` (the root). Opening relative to the parent skips resolving the
    /// whole path again for every folder.
    parent: Option<(Arc<OpenDir>, CString)>,
    kind: Kind,
}

/// An open folder, kept while its subfolders wait to be opened from it.
type OpenDir = rustix::fs::Dir;

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
    /// Direct children of each `checkpoints/` folder, with their total bytes.
    checkpoints: Vec<Checkpoint>,
    /// Every folder of the run, for the scan cache.
    stamps: Vec<DirStamp>,
}

/// One checkpoint (a direct child of a `checkpoints/` folder) of a run.
struct Checkpoint {
    name: String,
    usage: Usage,
    /// The `checkpoints/` folder it sits in, relative to the run: a prune
    /// judges each folder on its own.
    folder: String,
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
    /// Workers waiting for a job: wake-ups are sent only when someone
    /// waits, since each one costs a system call.
    idle: usize,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
    cancel: Arc<AtomicBool>,
    tx: SyncSender<ScanEvent>,
    /// Events wait here until the coordinating thread forwards them a few
    /// times a second: one wake-up of the reader per batch, not per event.
    outbox: Mutex<Vec<ScanEvent>>,
    /// Held while a run gets its key and is reported, so keys arrive in order.
    next_key: Mutex<RunKey>,
    inodes: Mutex<HashSet<(u64, u64)>>,
    root: PathBuf,
    root_dev: Option<(u32, u32)>,
    /// Stat with `fstatat`, not `statx` (see [`ScanOptions::portable`]).
    portable: bool,
    entries: AtomicU64,
    disk: AtomicU64,
    runs_done: AtomicUsize,
    cached_runs: AtomicUsize,
    cache: Option<Arc<ScanCache>>,
    /// What kind of tree this is: it classifies the levels above runs.
    source: Source,
}

impl Shared {
    fn send(&self, event: ScanEvent) {
        self.outbox
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
    }

    /// Forwards the waiting events, in order, to the reader.
    fn flush(&self) {
        let batch = std::mem::take(&mut *self.outbox.lock().unwrap_or_else(|e| e.into_inner()));
        for event in batch {
            if self.tx.send(event).is_err() {
                // Nobody is listening any more: stop walking.
                self.cancel.store(true, Ordering::Relaxed);
                return;
            }
        }
    }

    fn push(&self, jobs: Vec<Job>) {
        if jobs.is_empty() {
            return;
        }
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.outstanding += jobs.len();
        let wake = q.idle > 0;
        let many = jobs.len() > 1;
        q.jobs.extend(jobs);
        drop(q);
        if wake && many {
            self.wake.notify_all();
        } else if wake {
            self.wake.notify_one();
        }
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
    let started_at = jiff::Timestamp::now().as_second();
    let root_dev = if opts.one_file_system {
        std::fs::metadata(&root).ok().map(|m| m.dev())
    } else {
        None
    };
    let root_dev = root_dev.map(|d| (rustix::fs::major(d), rustix::fs::minor(d)));
    // A bounded look at the root (at most 512 names, and for another
    // tool's tree a few subfolders and records): never a walk.
    let source = Source::detect(&root);
    let kind = source.kind;
    let shared = Shared {
        queue: Mutex::new(Queue {
            jobs: vec![Job {
                path: root.clone(),
                parent: None,
                kind: Kind::Level(Level::Root),
            }],
            outstanding: 1,
            idle: 0,
        }),
        wake: Condvar::new(),
        cancel,
        tx,
        outbox: Mutex::new(Vec::new()),
        next_key: Mutex::new(0),
        inodes: Mutex::new(HashSet::new()),
        root,
        root_dev,
        portable: opts.portable,
        entries: AtomicU64::new(0),
        disk: AtomicU64::new(0),
        runs_done: AtomicUsize::new(0),
        cached_runs: AtomicUsize::new(0),
        cache: opts.cache.clone(),
        source,
    };
    shared.send(ScanEvent::Source(kind));
    let threads = opts.threads.max(1);
    std::thread::scope(|s| {
        // Under a tight process limit (`ulimit -u`) some threads may not
        // start: the scan goes on with those that did, or on this thread.
        let workers: Vec<_> = (0..threads)
            .map_while(|i| {
                std::thread::Builder::new()
                    .name(format!("runyard-walk-{i}"))
                    .spawn_scoped(s, || worker(&shared))
                    .ok()
            })
            .collect();
        if workers.is_empty() {
            worker(&shared);
        }
        // Forward events often enough for a UI to fill in as it goes.
        while !workers.iter().all(|w| w.is_finished()) {
            std::thread::sleep(Duration::from_millis(30));
            if shared.cancel.load(Ordering::Relaxed) {
                shared.wake.notify_all();
            }
            shared.send(ScanEvent::Progress(progress(&shared)));
            shared.flush();
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
        cached_runs: shared.cached_runs.load(Ordering::Relaxed),
        started_at,
    }));
    shared.flush();
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
                q.idle += 1;
                q = shared.wake.wait(q).unwrap_or_else(|e| e.into_inner());
                q.idle -= 1;
            }
        };
        visit(shared, job);
        let mut q = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.outstanding -= 1;
        if q.outstanding == 0 && q.idle > 0 {
            drop(q);
            shared.wake.notify_all();
        }
    }
}

/// One child of a folder, stat'ed without following links.
struct Child {
    /// The name as the kernel gave it (used to open a subfolder relative to
    /// its parent; paths are built only when needed, to save allocations).
    cname: CString,
    is_dir: bool,
    usage: Usage,
    /// Bytes of a hard link whose inode was already counted elsewhere.
    shared: u64,
    mtime: i64,
    mtime_nsec: u32,
    ino: u64,
}

impl Child {
    fn name(&self) -> &OsStr {
        OsStr::from_bytes(self.cname.to_bytes())
    }
}

/// What the scan needs to know of one entry.
struct Meta {
    kind: rustix::fs::FileType,
    nlink: u64,
    ino: u64,
    size: u64,
    blocks: u64,
    mtime: i64,
    mtime_nsec: u32,
    dev: (u32, u32),
    /// The root of a mount (a bind mount keeps its filesystem's device).
    mount_root: bool,
}

/// Stats `name` in the open folder `fd` without following a link: one
/// `statx` asking only for what the scan uses on Linux, `fstatat` elsewhere.
fn stat_entry(
    fd: std::os::fd::BorrowedFd,
    name: &std::ffi::CStr,
    portable: bool,
) -> rustix::io::Result<Meta> {
    #[cfg(target_os = "linux")]
    if !portable {
        use rustix::fs::{AtFlags, StatxAttributes, StatxFlags};
        let mask = StatxFlags::TYPE
            | StatxFlags::NLINK
            | StatxFlags::INO
            | StatxFlags::SIZE
            | StatxFlags::BLOCKS
            | StatxFlags::MTIME;
        let at = AtFlags::SYMLINK_NOFOLLOW | AtFlags::STATX_DONT_SYNC;
        let st = rustix::fs::statx(fd, name, at, mask)?;
        return Ok(Meta {
            kind: rustix::fs::FileType::from_raw_mode(st.stx_mode.into()),
            nlink: st.stx_nlink.into(),
            ino: st.stx_ino,
            size: st.stx_size,
            blocks: st.stx_blocks,
            mtime: st.stx_mtime.tv_sec,
            mtime_nsec: st.stx_mtime.tv_nsec,
            dev: (st.stx_dev_major, st.stx_dev_minor),
            mount_root: st.stx_attributes_mask.contains(StatxAttributes::MOUNT_ROOT)
                && st.stx_attributes.contains(StatxAttributes::MOUNT_ROOT),
        });
    }
    let _ = portable;
    let st = rustix::fs::statat(fd, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)?;
    Ok(Meta {
        kind: rustix::fs::FileType::from_raw_mode(st.st_mode as _),
        nlink: st.st_nlink as u64,
        ino: st.st_ino as u64,
        size: st.st_size as u64,
        blocks: st.st_blocks as u64,
        mtime: st.st_mtime as i64,
        mtime_nsec: st.st_mtime_nsec as u32,
        dev: (
            rustix::fs::major(st.st_dev as _),
            rustix::fs::minor(st.st_dev as _),
        ),
        // Off Linux a bind mount (nullfs) shows only as another device.
        mount_root: false,
    })
}

/// Reads one folder: its children's sizes, and the subfolders to walk.
/// Problems are returned as messages; `None` when the folder itself is
/// unreadable. The folder is opened without following a link, so a folder
/// swapped for a symlink mid-scan is never walked through.
fn read_children(
    shared: &Shared,
    job: &mut Job,
    errors: &mut Vec<String>,
) -> Option<(Arc<OpenDir>, Vec<Child>)> {
    use rustix::fs::{CWD, Mode, OFlags};
    let dir = job.path.as_path();
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let opened = match job.parent.take() {
        Some((parent, name)) => parent
            .fd()
            .and_then(|fd| rustix::fs::openat(fd, name.as_c_str(), flags, Mode::empty())),
        None => rustix::fs::openat(CWD, dir, flags, Mode::empty()),
    };
    let mut rd = match opened.and_then(OpenDir::new) {
        Ok(rd) => rd,
        Err(e) => {
            errors.push(format!(
                "{}: cannot read folder: {}",
                shared.rel(dir),
                errno_reason(e)
            ));
            return None;
        }
    };
    let mut out = Vec::new();
    let mut disk_seen = 0;
    loop {
        let entry = match rd.read() {
            None => break,
            Some(Ok(e)) => e,
            Some(Err(e)) => {
                errors.push(format!(
                    "{}: listing stopped: {}",
                    shared.rel(dir),
                    errno_reason(e)
                ));
                break;
            }
        };
        let cname = entry.file_name();
        if matches!(cname.to_bytes(), b"." | b"..") {
            continue;
        }
        let path = || dir.join(OsStr::from_bytes(cname.to_bytes()));
        let st = match rd
            .fd()
            .and_then(|fd| stat_entry(fd, cname, shared.portable))
        {
            Ok(st) => st,
            Err(rustix::io::Errno::NOENT) => {
                errors.push(format!("{}: vanished while scanning", shared.rel(&path())));
                continue;
            }
            Err(e) => {
                errors.push(format!(
                    "{}: cannot stat: {}",
                    shared.rel(&path()),
                    errno_reason(e)
                ));
                continue;
            }
        };
        let is_dir = st.kind == rustix::fs::FileType::Directory;
        let mut usage = Usage {
            disk: st.blocks * 512,
            apparent: st.size,
        };
        let dev = st.dev;
        let mut shared_bytes = 0;
        if !is_dir && st.nlink > 1 {
            let dev_id = rustix::fs::makedev(dev.0, dev.1);
            let first = shared
                .inodes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert((dev_id, st.ino));
            if !first {
                shared_bytes = usage.disk;
                usage = Usage::default();
            }
        }
        let mut is_walkable = is_dir;
        if is_dir && shared.root_dev.is_some_and(|d| d != dev) {
            errors.push(format!(
                "{}: on another filesystem, not counted",
                shared.rel(&path())
            ));
            is_walkable = false;
        } else if is_dir && shared.root_dev.is_some() && st.mount_root {
            // A bind mount keeps the device of its filesystem; only this
            // attribute (free with every statx) tells it is another mount.
            errors.push(format!(
                "{}: a mount point, not counted",
                shared.rel(&path())
            ));
            is_walkable = false;
        }
        disk_seen += usage.disk;
        out.push(Child {
            cname: cname.to_owned(),
            is_dir: is_walkable,
            usage,
            shared: shared_bytes,
            mtime: st.mtime,
            mtime_nsec: st.mtime_nsec,
            ino: st.ino,
        });
    }
    shared
        .entries
        .fetch_add(out.len() as u64, Ordering::Relaxed);
    shared.disk.fetch_add(disk_seen, Ordering::Relaxed);
    Some((Arc::new(rd), out))
}

/// A short reason for a system error, as shown next to the path.
fn errno_reason(e: rustix::io::Errno) -> String {
    match e {
        rustix::io::Errno::ACCESS | rustix::io::Errno::PERM => "permission denied".into(),
        rustix::io::Errno::NOENT => "vanished while scanning".into(),
        rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR => {
            "no longer a folder (replaced by a link or file)".into()
        }
        e => std::io::Error::from(e).to_string(),
    }
}

fn visit(shared: &Shared, mut job: Job) {
    if shared.cancel.load(Ordering::Relaxed) {
        return;
    }
    let mut errors = Vec::new();
    let read = read_children(shared, &mut job, &mut errors);
    let (dir, children) = match read {
        Some((dir, children)) => (Some(dir), children),
        None => (None, Vec::new()),
    };
    let walk = Walk {
        shared,
        dir,
        path: &job.path,
    };
    match job.kind {
        Kind::Run { acc, part, slot } => walk.run(children, errors, acc, part, slot),
        Kind::Entry(acc) => walk.entry(children, errors, acc),
        Kind::Level(level) => walk.structure(children, errors, &level),
    }
}

/// One folder being visited, with its open handle, from which its
/// subfolders are opened.
struct Walk<'a> {
    shared: &'a Shared,
    dir: Option<Arc<OpenDir>>,
    path: &'a Path,
}

impl Walk<'_> {
    /// A job for a subfolder of this folder.
    fn sub(&self, child: Child, kind: Kind) -> Job {
        Job {
            path: self.path.join(child.name()),
            parent: self.dir.clone().map(|d| (d, child.cname)),
            kind,
        }
    }

    /// The levels above runs (for the layout: root, `experiments/`, task
    /// and model folders): the source classifies each child.
    fn structure(&self, children: Vec<Child>, errors: Vec<String>, level: &Level) {
        let shared = self.shared;
        for e in errors {
            shared.send(ScanEvent::Error(e));
        }
        let parent = self.dir.as_ref().and_then(|d| d.fd().ok());
        let mut jobs = Vec::new();
        for child in children {
            // Names that are not UTF-8 keep their bytes visible (`\xff`), so
            // two such names never look alike and can be typed back.
            let name = crate::fmt::escape_os(child.name());
            let mut probe = LazyProbe::new(parent, &child.cname);
            let class = shared
                .source
                .classify(level, &name, child.is_dir, &mut probe);
            drop(probe);
            match class {
                Class::Descend(level) if child.is_dir => {
                    jobs.push(self.sub(child, Kind::Level(level)));
                }
                Class::Run(run) if child.is_dir => {
                    if self.take_cached(&run, &child) {
                        continue;
                    }
                    let acc = self.start_run(run, &child);
                    jobs.push(self.sub(
                        child,
                        Kind::Run {
                            acc,
                            part: None,
                            slot: None,
                        },
                    ));
                }
                Class::Top(kind) => {
                    if let Some(job) = self.start_entry(child, kind, false) {
                        jobs.push(job);
                    }
                }
                // Strays, and a run or level that is not a folder (a
                // folder on another device is listed, not entered).
                _ => {
                    if let Some(job) = self.start_entry(child, TopKind::Experiments, true) {
                        jobs.push(job);
                    }
                }
            }
        }
        shared.push(jobs);
    }

    /// Reports a run from the scan cache when the cache may be trusted for
    /// it: idle when cached, and every one of its folders unchanged.
    fn take_cached(&self, run: &RunClass, child: &Child) -> bool {
        let (Some(cache), Some(dir)) = (&self.shared.cache, &self.dir) else {
            return false;
        };
        let path = self.path.join(child.name());
        let rel = self.shared.rel(&path);
        let Some(cached) = cache.trusted(&rel) else {
            return false;
        };
        let Ok(parent) = dir.fd() else { return false };
        // The run folder itself was stat'ed when its model folder was listed;
        // its subfolders are stat'ed by path from the model folder (no open).
        let name_bytes = child.cname.as_bytes();
        let unchanged = cached.stamps.iter().all(|s| {
            if s.rel.is_empty() {
                return child.ino == s.ino && child.mtime == s.mtime && child.mtime_nsec == s.nsec;
            }
            let mut rel = Vec::with_capacity(name_bytes.len() + 1 + s.rel.len());
            rel.extend_from_slice(name_bytes);
            rel.push(b'/');
            rel.extend_from_slice(s.rel.as_bytes());
            let Ok(rel) = CString::new(rel) else {
                return false;
            };
            rustix::fs::statat(
                parent,
                rel.as_c_str(),
                rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
            )
            .is_ok_and(|st| {
                st.st_ino == s.ino && st.st_mtime == s.mtime && st.st_mtime_nsec as u32 == s.nsec
            })
        });
        if !unchanged {
            return false;
        }
        let acc = self.start_run(run.clone(), child);
        self.shared.cached_runs.fetch_add(1, Ordering::Relaxed);
        self.shared.runs_done.fetch_add(1, Ordering::Relaxed);
        self.shared
            .disk
            .fetch_add(cached.usage.total().disk, Ordering::Relaxed);
        self.shared.send(ScanEvent::RunDone {
            key: acc.key,
            usage: cached.usage.clone(),
            errors: cached.errors.clone(),
            stamps: cached.stamps.clone(),
        });
        true
    }

    /// Numbers a newly found run and reports it.
    fn start_run(&self, run: RunClass, child: &Child) -> Arc<RunAcc> {
        let shared = self.shared;
        let mut next = shared.next_key.lock().unwrap_or_else(|e| e.into_inner());
        let key = *next;
        *next += 1;
        let path = self.path.join(child.name());
        shared.send(ScanEvent::Run(RunFound {
            key,
            task: run.task.to_string(),
            model: run.model.to_string(),
            name: run.name,
            path: path.clone(),
            dir_mtime: Some(child.mtime),
            time: run.time,
        }));
        let usage = RunUsage {
            dirs: 1,
            newest_mtime: Some(child.mtime),
            other: child.usage,
            ..RunUsage::default()
        };
        Arc::new(RunAcc {
            key,
            path,
            pending: AtomicUsize::new(1),
            state: Mutex::new(RunState {
                usage,
                stamps: vec![DirStamp {
                    rel: String::new(),
                    ino: child.ino,
                    mtime: child.mtime,
                    nsec: child.mtime_nsec,
                }],
                ..RunState::default()
            }),
        })
    }

    /// Reports a top-level entry or stray now (a file), or starts walking it (a folder).
    fn start_entry(&self, child: Child, kind: TopKind, stray: bool) -> Option<Job> {
        let path = self.path.join(child.name());
        let entry = Entry {
            rel: self.shared.rel(&path),
            path,
            kind,
            is_dir: child.is_dir,
            usage: Some(child.usage),
        };
        if !child.is_dir {
            self.shared.send(ScanEvent::Entry { entry, stray });
            return None;
        }
        let acc = Arc::new(EntryAcc {
            pending: AtomicUsize::new(1),
            stray,
            entry: Mutex::new(entry),
        });
        Some(self.sub(child, Kind::Entry(acc)))
    }

    /// Inside a top-level entry: everything adds to its total.
    fn entry(&self, children: Vec<Child>, errors: Vec<String>, acc: Arc<EntryAcc>) {
        let shared = self.shared;
        for e in errors {
            shared.send(ScanEvent::Error(e));
        }
        let mut sum = Usage::default();
        let mut jobs = Vec::new();
        for child in children {
            sum.add(child.usage);
            if child.is_dir {
                jobs.push(self.sub(child, Kind::Entry(acc.clone())));
            }
        }
        acc.entry
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .usage
            .get_or_insert_with(Usage::default)
            .add(sum);
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

    /// Inside a run: bytes go to the part named by the run's top-level child.
    fn run(
        &self,
        children: Vec<Child>,
        errors: Vec<String>,
        acc: Arc<RunAcc>,
        part: Option<RunPart>,
        slot: Option<usize>,
    ) {
        let mut delta = RunUsage::default();
        let mut slot_sum = Usage::default();
        let mut new_checkpoints = Vec::new();
        let mut stamps = Vec::new();
        // Folder paths relative to the run, for the cache's stamps.
        let here = self
            .path
            .strip_prefix(&acc.path)
            .unwrap_or(Path::new(""))
            .to_string_lossy();
        // At the top of a `checkpoints/` every child is a checkpoint of its
        // own: the run's own `checkpoints/`, and a tool's deeper one
        // (`lightning_logs/version_0/checkpoints/`), which a prune judges
        // too (each folder on its own).
        let at_checkpoints_top = part == Some(RunPart::Checkpoints) && slot.is_none();
        // Subfolders, with the part they count for and their checkpoint
        // slot (numbered from zero here for a `checkpoints/` top).
        let mut dirs = Vec::new();
        for child in children {
            let child_part = match part {
                None => RunPart::of(&child.name().to_string_lossy()),
                Some(RunPart::Other) if child.is_dir && child.name() == "checkpoints" => {
                    RunPart::Checkpoints
                }
                Some(p) => p,
            };
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
                new_checkpoints.push(Checkpoint {
                    name: child.name().to_string_lossy().into_owned(),
                    usage: child.usage,
                    folder: here.to_string(),
                });
            }
            if child.is_dir {
                let name = child.name().to_string_lossy();
                let mut rel = String::with_capacity(here.len() + 1 + name.len());
                if !here.is_empty() {
                    rel.push_str(&here);
                    rel.push('/');
                }
                rel.push_str(&name);
                stamps.push(DirStamp {
                    rel,
                    ino: child.ino,
                    mtime: child.mtime,
                    nsec: child.mtime_nsec,
                });
                dirs.push((child, child_part, child_slot));
            }
        }
        let base = {
            let mut st = acc.state.lock().unwrap_or_else(|e| e.into_inner());
            st.usage.add(&delta);
            st.errors.extend(errors);
            st.stamps.extend(stamps);
            if let Some(i) = slot
                && let Some(c) = st.checkpoints.get_mut(i)
            {
                c.usage.add(slot_sum);
            }
            // A run may hold several `checkpoints/` folders: this one's
            // slots start after those already listed. Child jobs are built
            // only after this, so they carry the final indices.
            let base = st.checkpoints.len();
            if at_checkpoints_top {
                st.checkpoints.extend(new_checkpoints);
            }
            base
        };
        let jobs: Vec<Job> = dirs
            .into_iter()
            .map(|(child, child_part, child_slot)| {
                let slot = if at_checkpoints_top {
                    child_slot.map(|i| base + i)
                } else {
                    child_slot
                };
                let kind = Kind::Run {
                    acc: acc.clone(),
                    part: Some(child_part),
                    slot,
                };
                self.sub(child, kind)
            })
            .collect();
        acc.pending.fetch_add(jobs.len(), Ordering::AcqRel);
        self.shared.push(jobs);
        if acc.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            finish_run(self.shared, &acc);
        }
    }
}

/// Sends a run's totals once its last folder has been walked.
fn finish_run(shared: &Shared, acc: &RunAcc) {
    let mut st = acc.state.lock().unwrap_or_else(|e| e.into_inner());
    let mut folders: Vec<&str> = st.checkpoints.iter().map(|c| c.folder.as_str()).collect();
    folders.sort_unstable();
    folders.dedup();
    let mut prunable = Usage::default();
    for folder in folders {
        let own: Vec<&Checkpoint> = st
            .checkpoints
            .iter()
            .filter(|c| c.folder == folder)
            .collect();
        let names: Vec<&str> = own.iter().map(|c| c.name.as_str()).collect();
        for (go, c) in layout::prune_names(&names).into_iter().zip(&own) {
            if go {
                prunable.add(c.usage);
            }
        }
    }
    st.usage.prunable = prunable;
    // Messages name paths from the root; inside a run, from the run.
    let run_rel = shared.rel(&acc.path);
    let errors = std::mem::take(&mut st.errors)
        .into_iter()
        .map(|e| match e.strip_prefix(&run_rel) {
            Some(rest) if rest.starts_with(':') => format!("the run folder{rest}"),
            Some(rest) => rest.trim_start_matches('/').to_string(),
            None => e,
        })
        .collect();
    let usage = std::mem::take(&mut st.usage);
    let stamps: Stamps = std::mem::take(&mut st.stamps).into();
    drop(st);
    shared.runs_done.fetch_add(1, Ordering::Relaxed);
    shared.send(ScanEvent::RunDone {
        key: acc.key,
        usage,
        errors,
        stamps,
    });
}
