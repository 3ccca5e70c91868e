//! The scan cache: per-run sizes from the last scan, so re-opening a big
//! tree walks only what changed.
//!
//! What it trusts: a run that was idle when cached (nothing written within
//! the active window) and whose folders all still have the inode and
//! modification time they had then. Adding, removing or renaming anything
//! changes a folder's mtime, so those are always seen. A file rewritten or
//! appended in place does not touch its folder, so in a run that was idle
//! that is missed until a full rescan (`r` in the explorer, `--no-cache`);
//! runs that were active are always walked again. Cleanup never relies on
//! the cache: plans and their application look at the disk.
//!
//! The file is binary (a tree of 20,000 runs loads in milliseconds),
//! versioned, keyed by the canonical root, written whole under a temporary
//! name and renamed, so concurrent runyard processes never see half of one;
//! a file that does not parse is ignored. Files of roots not opened in 30
//! days are deleted, and the folder stays under 256 MiB.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Catalog, RunUsage, Usage};

const MAGIC: &[u8] = b"runyard-scan-cache\n";
// 2: checkpoints inside a tool's folders of a run count as checkpoints.
const VERSION: u32 = 2;

/// A folder inside a run as it was when scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirStamp {
    /// Path relative to the run (`""` is the run folder itself).
    pub rel: String,
    /// Inode number.
    pub ino: u64,
    /// Modification time, seconds.
    pub mtime: i64,
    /// Modification time, nanoseconds.
    pub nsec: u32,
}

/// A run's folder stamps, shared between the cache and the catalog.
pub type Stamps = std::sync::Arc<[DirStamp]>;

/// One run as cached.
#[derive(Debug, Clone)]
pub struct CachedRun {
    /// Sizes.
    pub usage: RunUsage,
    /// Problems met.
    pub errors: Vec<String>,
    /// Every folder of the run (shared with the catalog, not copied).
    pub stamps: Stamps,
}

/// A loaded cache.
#[derive(Debug, Clone, Default)]
pub struct ScanCache {
    /// When the cached scan ran (seconds).
    pub scanned_at: i64,
    /// The active window then (seconds): runs written within it are not trusted.
    pub window: i64,
    /// Runs by path relative to the root.
    pub runs: HashMap<String, CachedRun>,
}

impl ScanCache {
    /// A cache of a catalog in memory (the explorer's live refresh walks
    /// only what changed since its last look, the same way a re-open does).
    pub fn from_catalog(catalog: &Catalog, scanned_at: i64, window: i64) -> ScanCache {
        let runs = catalog
            .run_keys()
            .filter_map(|k| {
                let r = &catalog.runs[k];
                let usage = r.usage.clone()?;
                if r.stamps.is_empty() {
                    return None;
                }
                let rel = r
                    .path
                    .strip_prefix(&catalog.root)
                    .unwrap_or(&r.path)
                    .to_string_lossy()
                    .into_owned();
                Some((
                    rel,
                    CachedRun {
                        usage,
                        errors: r.errors.clone(),
                        stamps: r.stamps.clone(),
                    },
                ))
            })
            .collect();
        ScanCache {
            scanned_at,
            window,
            runs,
        }
    }

    /// The cached run at `rel`, if it may be trusted without looking inside
    /// (its folders' stamps are checked by the caller).
    pub fn trusted(&self, rel: &str) -> Option<&CachedRun> {
        let run = self.runs.get(rel)?;
        let newest = run.usage.newest_mtime.unwrap_or(i64::MAX);
        (newest < self.scanned_at - self.window).then_some(run)
    }
}

/// A stable 64-bit FNV-1a hash: cache file names must not change between builds.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The cache folder: `$XDG_CACHE_HOME/runyard` (`~/.cache/runyard`).
pub fn cache_dir() -> Option<PathBuf> {
    use etcetera::BaseStrategy;
    Some(
        etcetera::choose_base_strategy()
            .ok()?
            .cache_dir()
            .join("runyard"),
    )
}

/// The cache file of a root (its canonical path, hashed).
pub fn cache_path(root: &Path) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let canonical = root.canonicalize().ok()?;
    Some(cache_dir()?.join(format!(
        "scan-{:016x}.bin",
        fnv1a(canonical.as_os_str().as_bytes())
    )))
}

/// Deletes every cache file (scan and summary caches). Returns how many went.
pub fn clear() -> std::io::Result<usize> {
    let Some(dir) = cache_dir() else { return Ok(0) };
    let mut n = 0;
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Ok(0);
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        // The summary cache of each root lives beside its scan cache.
        if name.starts_with("scan-") || name.starts_with(crate::runs::cache::PREFIX) {
            std::fs::remove_file(e.path())?;
            n += 1;
        }
    }
    Ok(n)
}

struct Writer(Vec<u8>);

impl Writer {
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn usage(&mut self, u: Usage) {
        self.u64(u.disk);
        self.u64(u.apparent);
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn str(&mut self) -> Option<String> {
        let n = usize::try_from(self.u64()?).ok()?;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
    fn usage(&mut self) -> Option<Usage> {
        Some(Usage {
            disk: self.u64()?,
            apparent: self.u64()?,
        })
    }
}

/// Encodes a finished catalog.
pub fn encode(catalog: &Catalog, scanned_at: i64, window: i64) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(catalog.runs.len() * 400));
    w.0.extend_from_slice(MAGIC);
    w.u64(VERSION as u64);
    w.str(&catalog.root.to_string_lossy());
    w.i64(scanned_at);
    w.i64(window);
    let runs: Vec<_> = catalog
        .runs
        .iter()
        .filter(|r| r.usage.is_some() && !r.stamps.is_empty())
        .collect();
    w.u64(runs.len() as u64);
    for r in runs {
        let u = r.usage.as_ref().expect("filtered above");
        w.str(
            &r.path
                .strip_prefix(&catalog.root)
                .unwrap_or(&r.path)
                .to_string_lossy(),
        );
        for part in [u.tmp, u.cache, u.checkpoints, u.prunable, u.data, u.other] {
            w.usage(part);
        }
        w.u64(u.files);
        w.u64(u.dirs);
        w.u64(u.shared);
        w.i64(u.newest_mtime.unwrap_or(i64::MIN));
        w.u64(r.errors.len() as u64);
        for e in &r.errors {
            w.str(e);
        }
        w.u64(r.stamps.len() as u64);
        for s in r.stamps.iter() {
            w.str(&s.rel);
            w.u64(s.ino);
            w.i64(s.mtime);
            w.u64(s.nsec as u64);
        }
    }
    w.0
}

/// Decodes a cache for `root`; `None` for another version, another root,
/// or anything that does not parse.
pub fn decode(bytes: &[u8], root: &Path) -> Option<ScanCache> {
    let mut r = Reader(bytes.strip_prefix(MAGIC)?);
    if r.u64()? != VERSION as u64 || r.str()? != root.to_string_lossy() {
        return None;
    }
    let scanned_at = r.i64()?;
    let window = r.i64()?;
    let n = usize::try_from(r.u64()?).ok()?;
    let mut runs = HashMap::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let rel = r.str()?;
        let mut parts = [Usage::default(); 6];
        for p in &mut parts {
            *p = r.usage()?;
        }
        let [tmp, cache, checkpoints, prunable, data, other] = parts;
        let files = r.u64()?;
        let dirs = r.u64()?;
        let shared = r.u64()?;
        let newest = r.i64()?;
        let usage = RunUsage {
            tmp,
            cache,
            checkpoints,
            prunable,
            data,
            other,
            files,
            dirs,
            shared,
            newest_mtime: (newest != i64::MIN).then_some(newest),
        };
        let errors = (0..usize::try_from(r.u64()?).ok()?.min(1 << 16))
            .map(|_| r.str())
            .collect::<Option<Vec<_>>>()?;
        let count = usize::try_from(r.u64()?).ok()?.min(1 << 24);
        let mut stamps = Vec::with_capacity(count.min(1024));
        for _ in 0..count {
            stamps.push(DirStamp {
                rel: r.str()?,
                ino: r.u64()?,
                mtime: r.i64()?,
                nsec: u32::try_from(r.u64()?).ok()?,
            });
        }
        runs.insert(
            rel,
            CachedRun {
                usage,
                errors,
                stamps: stamps.into(),
            },
        );
    }
    r.0.is_empty().then_some(ScanCache {
        scanned_at,
        window,
        runs,
    })
}

/// Reads the cache of `root`, if there is a usable one.
pub fn load(root: &Path) -> Option<ScanCache> {
    let path = cache_path(root)?;
    let bytes = std::fs::read(&path).ok()?;
    let cache = decode(&bytes, root)?;
    // An unchanged cache is not rewritten; its time says when its root was
    // last opened, which is what `prune` goes by.
    let _ = std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(std::time::SystemTime::now()));
    Some(cache)
}

/// Cache files of roots not opened for this long are deleted.
pub const MAX_AGE: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// The cache folder is kept under this many bytes (oldest roots go first).
pub const MAX_BYTES: u64 = 256 << 20;

/// Deletes cache files of roots not opened within `max_age`, leftover
/// temporaries, then the least recently opened files until the folder
/// holds at most `max_bytes`; `keep` (the file just written) always stays.
/// Returns how many files went.
pub fn prune(
    dir: &Path,
    keep: Option<&Path>,
    max_age: std::time::Duration,
    max_bytes: u64,
) -> usize {
    let now = std::time::SystemTime::now();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut files = Vec::new();
    let mut gone = 0;
    for e in rd.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let prefix = ["scan-", crate::runs::cache::PREFIX].into_iter().find(|p| {
            name.starts_with(p) || name.strip_prefix('.').is_some_and(|n| n.starts_with(p))
        });
        let ours = prefix.is_some() && (!name.starts_with('.') || name.ends_with(".tmp"));
        let Ok(md) = e.metadata() else { continue };
        if !ours || !md.is_file() || Some(e.path().as_path()) == keep {
            continue;
        }
        let age = md
            .modified()
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .unwrap_or_default();
        // A temporary an hour old belongs to a writer that died.
        let stale_tmp = name.ends_with(".tmp") && age > std::time::Duration::from_secs(3600);
        if (age > max_age || stale_tmp) && std::fs::remove_file(e.path()).is_ok() {
            gone += 1;
        } else if !name.ends_with(".tmp") {
            files.push((age, md.len(), e.path()));
        }
    }
    let kept = keep
        .and_then(|k| std::fs::metadata(k).ok())
        .map_or(0, |m| m.len());
    let mut total: u64 = kept + files.iter().map(|f| f.1).sum::<u64>();
    // Oldest first.
    files.sort_by_key(|f| std::cmp::Reverse(f.0));
    for (_, len, path) in files {
        if total <= max_bytes {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= len;
            gone += 1;
        }
    }
    gone
}

/// Writes the cache of a finished catalog: a temporary file, then a rename,
/// so a reader (another runyard) sees the old cache or the new one, whole.
pub fn save(catalog: &Catalog, scanned_at: i64, window: i64) -> std::io::Result<()> {
    let Some(path) = cache_path(&catalog.root) else {
        return Ok(());
    };
    write_bytes(&path, &encode(catalog, scanned_at, window))?;
    if let Some(dir) = path.parent() {
        prune(dir, Some(&path), MAX_AGE, MAX_BYTES);
    }
    Ok(())
}

/// Writes an encoded cache to `path` whole (temporary name, then rename).
pub fn write_bytes(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("cache paths have a folder");
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.{:?}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id(),
        std::thread::current().id()
    ));
    // No fsync: the cache is disposable, and the rename keeps readers from
    // ever seeing half a file; after a crash a damaged one is just ignored.
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
