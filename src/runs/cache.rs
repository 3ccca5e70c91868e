//! The summary cache: each run's [`RunSummary`] from the last read, kept
//! beside the scan cache, so a listing reads no run file that did not
//! change.
//!
//! What it trusts: a run that is not active (nothing written within the
//! active window, judged by the scan) whose files a summary reads all have
//! the type, size, modification time (to the nanosecond) and inode they had
//! when it was read: the run folder, `run_info.json`, the config, `metrics/`
//! and every entry in it, and other tools' folders and files in the run
//! (see [`super::formats`]). Adding, removing or renaming a file changes its
//! folder's time, so those are seen; a file changed in place changes its
//! time or size. A summary read while any of its files was written within
//! the window is not stored: a write within the same clock tick as the
//! read could leave the stamp unchanged. Files are looked at with `lstat`
//! relative to the run folder, never through a link, as they are read.
//!
//! The file is binary like the scan cache's (JSON cannot carry the NaN and
//! infinities a curve's stats hold, and a 20,000-run cache decodes in a
//! few milliseconds), tied to this runyard's version (what a summary holds
//! follows the readers' rules), keyed by the canonical root, and written
//! whole under a temporary name then renamed, only when something changed.
//! A file that does not parse is ignored. Entries stay raw bytes until
//! asked for, so holding the cache costs its file's size, not 20,000
//! decoded summaries.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rustix::fs::{AtFlags, Stat};

use super::info::RunInfo;
use super::metrics::Scalar;
use super::summary::{Better, SeriesSummary, Stats};
use super::{RunSummary, open};

const MAGIC: &[u8] = b"runyard-summary-cache\n";
/// Bumped when the encoding changes; the crate version is checked too.
const VERSION: u64 = 2;
/// File name prefix in the cache folder (the scan cache's is `scan-`).
pub const PREFIX: &str = "summaries-";

/// The cache file of a root: next to its scan cache, same hash.
pub fn cache_path(root: &Path) -> Option<PathBuf> {
    let scan = crate::catalog::cache::cache_path(root)?;
    let name = scan.file_name()?.to_str()?.strip_prefix("scan-")?;
    Some(scan.with_file_name(format!("{PREFIX}{name}")))
}

/// One file a summary read, as it was (`lstat` of it).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    /// Path relative to the run: `""` (the folder), `run_info.json`,
    /// `metrics`, `metrics/<name>`.
    name: Vec<u8>,
    /// File type bits of the mode (a file swapped for a link differs).
    kind: u32,
    size: u64,
    mtime: i64,
    nsec: u32,
    ino: u64,
}

impl Stamp {
    fn of(name: &[u8], st: &Stat) -> Stamp {
        Stamp {
            name: name.to_vec(),
            kind: st.st_mode & 0o170_000,
            size: u64::try_from(st.st_size).unwrap_or(0),
            mtime: st.st_mtime,
            nsec: u32::try_from(st.st_mtime_nsec).unwrap_or(0),
            ino: st.st_ino,
        }
    }
}

/// The small files of a run a summary reads besides `metrics/`.
const FILES: [&str; 4] = ["run_info.json", "config.yaml", "config.yml", "config.json"];

/// `lstat` of `name` in `dir`: `Ok(None)` when absent.
fn lstat(dir: BorrowedFd, name: &[u8]) -> Result<Option<Stat>, ()> {
    match rustix::fs::statat(dir, OsStr::from_bytes(name), AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(st)),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(_) => Err(()),
    }
}

/// `lstat` of the `/`-separated path `rel` inside `dir`, the folders on
/// the way opened without following a link: `None` when any is missing.
fn lstat_rel(dir: BorrowedFd, rel: &[u8]) -> Option<Stat> {
    let rel = std::str::from_utf8(rel).ok()?;
    let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    if parent.is_empty() {
        return lstat(dir, name.as_bytes()).ok().flatten();
    }
    let p = super::formats::open_rel_dir(dir, parent).ok()??;
    lstat(p.as_fd(), name.as_bytes()).ok().flatten()
}

/// The stamps of every file a summary of `run` reads, and the run's tool
/// folders (see [`super::formats::discover`]); `None` when they cannot all
/// be looked at (then nothing is cached for the run).
fn stamps(run: &Path) -> Option<(Vec<Stamp>, super::formats::Found, OwnedFd)> {
    let dir = open::open_dir(run).ok()??;
    let mut out = vec![Stamp::of(b"", &rustix::fs::fstat(&dir).ok()?)];
    for name in FILES {
        if let Some(st) = lstat(dir.as_fd(), name.as_bytes()).ok()? {
            out.push(Stamp::of(name.as_bytes(), &st));
            // The first config found is the one read: the others are not
            // looked at (one appearing changes the folder's time).
            if name.starts_with("config.") {
                break;
            }
        }
    }
    // Other tools' folders and files the summary reads (none in most
    // runs: then this is one listing of the run folder).
    let found = super::formats::discover_in(dir.as_fd());
    for rel in found
        .dirs
        .iter()
        .map(String::as_str)
        .chain(found.files().map(|f| f.1))
    {
        if let Some(st) = lstat_rel(dir.as_fd(), rel.as_bytes()) {
            out.push(Stamp::of(rel.as_bytes(), &st));
        }
    }
    let Some(st) = lstat(dir.as_fd(), b"metrics").ok()? else {
        return Some((out, found, dir));
    };
    out.push(Stamp::of(b"metrics", &st));
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::Directory {
        return Some((out, found, dir));
    }
    let metrics = open::open_dir_in(dir.as_fd(), "metrics").ok()??;
    let entries = rustix::fs::Dir::read_from(&metrics).ok()?;
    for e in entries {
        let name = e.ok()?.file_name().to_bytes().to_vec();
        if name == b"." || name == b".." {
            continue;
        }
        // Gone between the listing and now: the folder's time says so.
        if let Some(st) = lstat(metrics.as_fd(), &name).ok()? {
            let mut rel = b"metrics/".to_vec();
            rel.extend_from_slice(&name);
            out.push(Stamp::of(&rel, &st));
        }
    }
    Some((out, found, dir))
}

/// True when every stamped file of `run` is as it was.
fn unchanged(run: &Path, want: &[Stamp]) -> bool {
    let Ok(Some(dir)) = open::open_dir(run) else {
        return false;
    };
    let mut metrics = None;
    want.iter().all(|s| {
        let st = if s.name.is_empty() {
            rustix::fs::fstat(&dir).ok()
        } else if let Some(name) = s.name.strip_prefix(b"metrics/")
            && !name.contains(&b'/')
        {
            // Through the folder opened without following a link, as the
            // metrics reader does.
            if metrics.is_none() {
                metrics = open::open_dir_in(dir.as_fd(), "metrics").ok().flatten();
            }
            match &metrics {
                Some(m) => lstat(m.as_fd(), name).ok().flatten(),
                None => None,
            }
        } else if s.name.contains(&b'/') {
            lstat_rel(dir.as_fd(), &s.name)
        } else {
            lstat(dir.as_fd(), &s.name).ok().flatten()
        };
        st.is_some_and(|st| Stamp::of(&s.name, &st) == *s)
    })
}

/// What [`SummaryCache::summary`] did, for tests and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Summaries taken from the cache.
    pub reused: usize,
    /// Summaries read from the run's files.
    pub read: usize,
}

/// The summary cache of one root, as loaded, plus what was read since.
#[derive(Debug, Default)]
pub struct SummaryCache {
    /// The root (canonical) it belongs to.
    root: PathBuf,
    /// The file as loaded.
    bytes: Vec<u8>,
    /// Run (relative to the root) → its entry in `bytes`.
    index: HashMap<String, (usize, usize)>,
    /// What changed since the load.
    changes: Mutex<Changes>,
    /// Runs whose newest stamped file is newer than this (seconds) are not
    /// stored: see the module doc.
    settled_before: i64,
}

#[derive(Debug, Default)]
struct Changes {
    /// Entries read this time.
    fresh: HashMap<String, Vec<u8>>,
    /// Entries found stale and not replaced.
    stale: HashSet<String>,
    stats: CacheStats,
}

impl SummaryCache {
    /// An empty cache of `root`: every summary is read (and stored).
    /// `settled_before` is now minus the active window, in seconds.
    pub fn new(root: &Path, settled_before: i64) -> SummaryCache {
        SummaryCache {
            root: root.to_path_buf(),
            settled_before,
            ..SummaryCache::default()
        }
    }

    /// The cache of `root` from disk, or an empty one when there is none
    /// usable (missing, corrupt, another version or root).
    pub fn load(root: &Path, settled_before: i64) -> SummaryCache {
        let mut cache = SummaryCache::new(root, settled_before);
        let Some(path) = cache_path(root) else {
            return cache;
        };
        let Ok(bytes) = std::fs::read(&path) else {
            return cache;
        };
        if let Some(index) = decode_index(&bytes, root) {
            cache.index = index;
            cache.bytes = bytes;
            // Its time says when its root was last opened, for pruning.
            let _ = std::fs::File::options()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        }
        cache
    }

    /// Summaries taken from the cache and read so far.
    pub fn stats(&self) -> CacheStats {
        self.changes.lock().map(|c| c.stats).unwrap_or_default()
    }

    /// The summary of the run at `run` (`rel` to the root): the cached one
    /// when the run is not `active` and its files are unchanged, else read
    /// from its files (and kept for the next save). Safe to call from
    /// several threads.
    pub fn summary(&self, rel: &str, run: &Path, active: bool) -> RunSummary {
        if !active && let Some(s) = self.cached(rel, run) {
            if let Ok(mut c) = self.changes.lock() {
                c.stats.reused += 1;
            }
            return s;
        }
        // Stamped before reading: a file that changes while it is read
        // will not match next time.
        let (stamps, summary) = match if active { None } else { stamps(run) } {
            // The folder opened and the tool folders found for the stamps
            // are the ones read.
            Some((stamps, found, dir)) => {
                (Some(stamps), RunSummary::load_in(run, dir.as_fd(), found))
            }
            None => (None, RunSummary::load(run)),
        };
        let settled = stamps
            .as_ref()
            .is_some_and(|st| st.iter().all(|s| s.mtime < self.settled_before));
        let blob = stamps.filter(|_| settled).map(|st| {
            // Held until the save: no slack for 20,000 of them.
            let mut b = encode_entry(&st, &summary);
            b.shrink_to_fit();
            b
        });
        if let Ok(mut c) = self.changes.lock() {
            c.stats.read += 1;
            match blob {
                Some(b) => {
                    c.stale.remove(rel);
                    c.fresh.insert(rel.to_string(), b);
                }
                None => {
                    c.fresh.remove(rel);
                    if self.index.contains_key(rel) {
                        c.stale.insert(rel.to_string());
                    }
                }
            }
        }
        summary
    }

    /// The cached summary of `rel` when its files are unchanged.
    fn cached(&self, rel: &str, run: &Path) -> Option<RunSummary> {
        let fresh;
        let blob = match self.changes.lock().ok()?.fresh.get(rel) {
            Some(b) => {
                fresh = b.clone();
                fresh.as_slice()
            }
            None => {
                let &(a, b) = self.index.get(rel)?;
                self.bytes.get(a..b)?
            }
        };
        let mut r = Reader(blob);
        let stamps = read_stamps(&mut r)?;
        if !unchanged(run, &stamps) {
            return None;
        }
        let s = read_summary(&mut r)?;
        r.0.is_empty().then_some(s)
    }

    /// The cache as bytes, with the runs `keep` accepts (the runs of the
    /// tree now: runs that went take their entries with them); `None`
    /// when nothing changed since it was loaded.
    pub fn encode(&self, keep: &HashSet<String>) -> Option<Vec<u8>> {
        let c = self.changes.lock().ok()?;
        let dropped = self.index.keys().any(|k| !keep.contains(k));
        if c.fresh.is_empty() && c.stale.is_empty() && !dropped {
            return None;
        }
        let mut entries: Vec<(&str, &[u8])> = Vec::with_capacity(keep.len());
        for (rel, &(a, b)) in &self.index {
            if keep.contains(rel) && !c.fresh.contains_key(rel) && !c.stale.contains(rel) {
                entries.push((rel, self.bytes.get(a..b)?));
            }
        }
        for (rel, blob) in &c.fresh {
            if keep.contains(rel) {
                entries.push((rel, blob));
            }
        }
        let size: usize = entries.iter().map(|e| e.0.len() + e.1.len() + 16).sum();
        let mut w = Writer(Vec::with_capacity(size + 256));
        w.0.extend_from_slice(MAGIC);
        w.u64(VERSION);
        w.str(env!("CARGO_PKG_VERSION"));
        w.str(&self.root.to_string_lossy());
        w.u64(entries.len() as u64);
        for (rel, blob) in entries {
            w.str(rel);
            w.bytes(blob);
        }
        Some(w.0)
    }

    /// Writes the cache when something changed (whole: a temporary file,
    /// then a rename), then prunes the cache folder. Returns whether it
    /// wrote.
    pub fn save(&self, keep: &HashSet<String>) -> std::io::Result<bool> {
        let Some(path) = cache_path(&self.root) else {
            return Ok(false);
        };
        let Some(bytes) = self.encode(keep) else {
            return Ok(false);
        };
        crate::catalog::cache::write_bytes(&path, &bytes)?;
        if let Some(dir) = path.parent() {
            use crate::catalog::cache;
            cache::prune(dir, Some(&path), cache::MAX_AGE, cache::MAX_BYTES);
        }
        Ok(true)
    }
}

/// Reads the header and the index of a cache file for `root`.
fn decode_index(bytes: &[u8], root: &Path) -> Option<HashMap<String, (usize, usize)>> {
    let body = bytes.strip_prefix(MAGIC)?;
    let mut r = Reader(body);
    if r.u64()? != VERSION
        || r.str()? != env!("CARGO_PKG_VERSION")
        || r.str()? != root.to_string_lossy()
    {
        return None;
    }
    let n = usize::try_from(r.u64()?).ok()?;
    let mut index = HashMap::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let rel = r.str()?;
        let len = usize::try_from(r.u64()?).ok()?;
        let start = bytes.len() - r.0.len();
        r.take(len)?;
        index.insert(rel, (start, start + len));
    }
    r.0.is_empty().then_some(index)
}

/// One run's entry: its stamps, then its summary.
fn encode_entry(stamps: &[Stamp], s: &RunSummary) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(512));
    w.u64(stamps.len() as u64);
    for st in stamps {
        w.bytes(&st.name);
        w.u64(st.kind.into());
        w.u64(st.size);
        w.i64(st.mtime);
        w.u64(st.nsec.into());
        w.u64(st.ino);
    }
    match &s.info {
        None => w.u8(0),
        Some(i) => {
            w.u8(1);
            for f in [&i.command, &i.git_commit] {
                w.opt_str(f.as_deref());
            }
            w.opt_str(i.seeds.as_ref().map(|v| v.to_string()).as_deref());
            w.scalars(&i.metrics);
            for f in [&i.notes, &i.status, &i.started_at, &i.finished_at] {
                w.opt_str(f.as_deref());
            }
            // Any JSON: as its text (numbers round-trip exactly).
            w.str(&serde_json::Value::Object(i.extra.clone()).to_string());
            w.u64(i.sources.len() as u64);
            for (k, v) in &i.sources {
                w.str(k);
                w.str(v);
            }
        }
    }
    // Key metrics are most often run_info.json's own: said in one byte.
    let named = s.info.as_ref().map(|i| i.metrics.as_slice());
    if !s.key_metrics.is_empty() && named == Some(s.key_metrics.as_slice()) {
        w.u8(1);
    } else {
        w.u8(0);
        w.scalars(&s.key_metrics);
    }
    w.scalars(&s.scalars);
    w.u64(s.series.len() as u64);
    for x in &s.series {
        w.str(&x.name);
        w.str(&x.file);
        w.str(&x.x);
        w.u8(match x.better {
            None => 0,
            Some(Better::Lower) => 1,
            Some(Better::Higher) => 2,
        });
        let st = &x.stats;
        w.u64(st.points);
        w.u64(st.non_finite);
        for p in [st.last, st.last_finite, st.min, st.max] {
            w.opt_pair(p);
        }
        w.opt_pair(st.bad_since.map(|b| (b, 0.0)));
    }
    w.u64(s.errors.len() as u64);
    for e in &s.errors {
        w.str(e);
    }
    w.0
}

fn read_stamps(r: &mut Reader) -> Option<Vec<Stamp>> {
    let n = usize::try_from(r.u64()?).ok()?;
    let mut out = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        out.push(Stamp {
            name: r.bytes()?.to_vec(),
            kind: u32::try_from(r.u64()?).ok()?,
            size: r.u64()?,
            mtime: r.i64()?,
            nsec: u32::try_from(r.u64()?).ok()?,
            ino: r.u64()?,
        });
    }
    Some(out)
}

fn read_summary(r: &mut Reader) -> Option<RunSummary> {
    let info = match r.u8()? {
        0 => None,
        1 => {
            let command = r.opt_str()?;
            let git_commit = r.opt_str()?;
            let seeds = match r.opt_str()? {
                Some(t) => Some(serde_json::from_str(&t).ok()?),
                None => None,
            };
            let metrics = r.scalars()?;
            let [notes, status, started_at, finished_at] =
                [r.opt_str()?, r.opt_str()?, r.opt_str()?, r.opt_str()?];
            let extra = match serde_json::from_str(&r.str()?).ok()? {
                serde_json::Value::Object(m) => m,
                _ => return None,
            };
            let n = usize::try_from(r.u64()?).ok()?;
            let mut sources = std::collections::BTreeMap::new();
            for _ in 0..n {
                sources.insert(r.str()?, r.str()?);
            }
            Some(RunInfo {
                command,
                git_commit,
                seeds,
                metrics,
                notes,
                status,
                started_at,
                finished_at,
                extra,
                sources,
            })
        }
        _ => return None,
    };
    let key_metrics = match r.u8()? {
        0 => r.scalars()?,
        1 => info.as_ref()?.metrics.clone(),
        _ => return None,
    };
    let scalars = r.scalars()?;
    let n = usize::try_from(r.u64()?).ok()?;
    let mut series = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        let name = r.str()?;
        let file = r.str()?;
        let x = r.str()?;
        let better = match r.u8()? {
            0 => None,
            1 => Some(Better::Lower),
            2 => Some(Better::Higher),
            _ => return None,
        };
        let points = r.u64()?;
        let non_finite = r.u64()?;
        let [last, last_finite, min, max] =
            [r.opt_pair()?, r.opt_pair()?, r.opt_pair()?, r.opt_pair()?];
        let bad_since = r.opt_pair()?.map(|p| p.0);
        series.push(SeriesSummary {
            name,
            file,
            x,
            better,
            stats: Stats {
                points,
                non_finite,
                last,
                last_finite,
                min,
                max,
                bad_since,
            },
        });
    }
    let n = usize::try_from(r.u64()?).ok()?;
    let errors = (0..n.min(1 << 16))
        .map(|_| r.str())
        .collect::<Option<Vec<_>>>()?;
    (errors.len() == n).then_some(RunSummary {
        info,
        key_metrics,
        scalars,
        series,
        errors,
    })
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    /// LEB128: lengths and counts are small, and a 20,000-run cache is
    /// read whole, so its size is what it costs.
    fn u64(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn i64(&mut self, v: i64) {
        // Zigzag, so that small negative numbers stay small too.
        self.u64(((v << 1) ^ (v >> 63)) as u64);
    }
    fn f64(&mut self, v: f64) {
        // The bits: NaN and infinities come back as they were.
        self.0.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }
    fn opt_pair(&mut self, p: Option<(f64, f64)>) {
        match p {
            None => self.u8(0),
            Some((a, b)) => {
                self.u8(1);
                self.f64(a);
                self.f64(b);
            }
        }
    }
    fn scalars(&mut self, s: &[Scalar]) {
        self.u64(s.len() as u64);
        for x in s {
            self.str(&x.name);
            self.f64(x.value);
            self.str(&x.file);
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u64(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    fn i64(&mut self) -> Option<i64> {
        let v = self.u64()?;
        Some((v >> 1) as i64 ^ -((v & 1) as i64))
    }
    fn f64(&mut self) -> Option<f64> {
        Some(f64::from_bits(u64::from_le_bytes(
            self.take(8)?.try_into().ok()?,
        )))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u64()?).ok()?;
        self.take(n)
    }
    fn str(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }
    fn opt_str(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(self.str()?)),
            _ => None,
        }
    }
    fn opt_pair(&mut self) -> Option<Option<(f64, f64)>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some((self.f64()?, self.f64()?))),
            _ => None,
        }
    }
    fn scalars(&mut self) -> Option<Vec<Scalar>> {
        let n = usize::try_from(self.u64()?).ok()?;
        let mut out = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            out.push(Scalar {
                name: self.str()?,
                value: self.f64()?,
                file: self.str()?,
            });
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path();
        std::fs::create_dir(run.join("metrics")).unwrap();
        std::fs::write(
            run.join("run_info.json"),
            r#"{"status":"finished","notes":"n","seeds":[1],"metrics":{"val/acc":0.5},"host":"h"}"#,
        )
        .unwrap();
        std::fs::write(
            run.join("metrics/train_log.csv"),
            "step,loss,acc\n1,2.0,0.1\n2,nan,0.2\n3,1.0,inf\n",
        )
        .unwrap();
        std::fs::write(run.join("metrics/val_metrics.json"), r#"{"f1": 0.25}"#).unwrap();
        dir
    }

    #[test]
    fn an_entry_round_trips_exactly() {
        let dir = run_dir();
        let s = RunSummary::load(dir.path());
        let st = stamps(dir.path()).unwrap().0;
        let mut names: Vec<&[u8]> = st.iter().map(|s| s.name.as_slice()).collect();
        names.sort();
        let want: [&[u8]; 5] = [
            b"",
            b"metrics",
            b"metrics/train_log.csv",
            b"metrics/val_metrics.json",
            b"run_info.json",
        ];
        assert_eq!(names, want);
        let blob = encode_entry(&st, &s);
        let mut r = Reader(&blob);
        assert_eq!(read_stamps(&mut r).unwrap(), st);
        let back = read_summary(&mut r).unwrap();
        assert!(r.0.is_empty());
        // NaN != NaN: compare the debug text, which shows NaN as NaN.
        assert_eq!(format!("{back:?}"), format!("{s:?}"));
        assert!(unchanged(dir.path(), &st));
        std::fs::write(
            dir.path().join("metrics/val_metrics.json"),
            r#"{"f1": 0.5}"#,
        )
        .unwrap();
        assert!(!unchanged(dir.path(), &st), "a rewritten file is seen");
    }

    #[test]
    fn a_cache_is_used_when_unchanged_and_not_when_settled_too_late() {
        let dir = run_dir();
        let root = dir.path();
        let far_future = i64::MAX;
        let c = SummaryCache::new(root, far_future);
        let first = c.summary("r", root, false);
        let keep: HashSet<String> = ["r".to_string()].into();
        let bytes = c.encode(&keep).unwrap();
        let mut c2 = SummaryCache::new(root, far_future);
        c2.index = decode_index(&bytes, root).unwrap();
        c2.bytes = bytes.clone();
        let again = c2.summary("r", root, false);
        assert_eq!(format!("{again:?}"), format!("{first:?}"));
        assert_eq!(c2.stats(), CacheStats { reused: 1, read: 0 });
        assert!(
            c2.encode(&keep).is_none(),
            "nothing changed, nothing written"
        );
        // Active: read again, and the entry dropped.
        c2.summary("r", root, true);
        assert_eq!(c2.stats().read, 1);
        let out = c2.encode(&keep).unwrap();
        assert!(decode_index(&out, root).unwrap().is_empty());
        // Files written within the window: not stored.
        let c3 = SummaryCache::new(root, 0);
        c3.summary("r", root, false);
        assert!(c3.encode(&keep).is_none());
        // Corrupt or foreign bytes: no index.
        assert!(decode_index(&bytes[..bytes.len() - 1], root).is_none());
        assert!(decode_index(&bytes, Path::new("/elsewhere")).is_none());
    }
}
