//! Promotion: copying a run's data, plots, exports and checkpoints into
//! `artifacts/` (and `checkpoints/`), never moving, never overwriting,
//! never leaving half an artifact visible.
//!
//! A copy is written under a temporary name (`.runyard-tmp-<pid>-…`) in the
//! destination folder, each file cloned (reflink) where the filesystem can,
//! else copied extent by extent (holes stay holes), then fsynced, then
//! renamed into place with RENAME_NOREPLACE: a crash leaves nothing or the
//! whole artifact. Temporaries whose process is gone are removed on the
//! next promotion.
//!
//! Every path is opened one component at a time relative to its open
//! parent, never through a symbolic link and never onto another mount: the
//! source from the run folder, the destination folders from the root
//! (created with mkdirat). The source must be a regular file or a folder of
//! them (links inside a folder are recreated as links, see [`super::copy`]);
//! anything else, and a copy that does not fit the destination's free
//! space, is refused before anything is created.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{Dir, FileType, Mode, OFlags, RenameFlags};
use rustix::io::Errno;
use serde::Serialize;
use serde_json::json;

use super::copy::{self, CopyError, Missing};
use super::fsat;
use crate::catalog::Run;

/// What is promoted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "file", rename_all = "lowercase")]
pub enum What {
    /// The run's `data/` folder, to `artifacts/datasets/<name>_v<N>/`.
    Data,
    /// A file under `plots/`, to `artifacts/plots/<task>_<date>_<file>`.
    Plot(String),
    /// An export (ONNX, TorchScript, a submission), to `artifacts/exports/`.
    Export(String),
    /// A checkpoint, to `checkpoints/<task>/<model>/<run_id>_<file>`.
    Checkpoint(String),
}

/// A promotion, ready to show and apply.
#[derive(Debug, Clone, Serialize)]
pub struct Promotion {
    /// What.
    pub what: What,
    /// The source, relative to the root.
    pub source: PathBuf,
    /// The destination, relative to the root.
    pub dest: PathBuf,
    /// Bytes to copy (apparent size).
    pub bytes: u64,
    /// Allocated bytes the copy takes (less than `bytes` for sparse files).
    pub disk: u64,
    /// Files to copy.
    pub files: u64,
    /// The run, relative to the root.
    pub run: PathBuf,
    /// The same content promoted before, still in place: promoting it
    /// again makes a second copy of the same bytes, so callers ask first.
    pub already: Option<Earlier>,
}

/// An earlier promotion of the same content (same sha256 as the source).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Earlier {
    /// The artifact, relative to the root.
    pub artifact: PathBuf,
    /// When, as its provenance record says.
    #[serde(serialize_with = "as_text")]
    pub promoted_at: Option<jiff::Timestamp>,
}

/// A time as RFC 3339 text, as the provenance records write it.
fn as_text<S: serde::Serializer>(t: &Option<jiff::Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.to_string()),
        None => s.serialize_none(),
    }
}

impl Earlier {
    /// `already promoted as ocr-clean_v1, 3d ago`.
    pub fn describe(&self, now: jiff::Timestamp) -> String {
        let name = self
            .artifact
            .file_name()
            .map_or_else(|| self.artifact.to_string_lossy(), |n| n.to_string_lossy());
        let when = self
            .promoted_at
            .map(|t| format!(", {}", crate::fmt::age(t, now)))
            .unwrap_or_default();
        format!("already promoted as {}{when}", crate::fmt::escape(&name))
    }
}

/// Why a promotion cannot be planned or was not made. `Display` gives the
/// whole message (the CLI prints it); [`PromoteError::reason`] gives the
/// reason alone for a list that already names the source.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PromoteError {
    /// The typed target name is not one plain file name.
    #[error(
        "{}: a target name is one plain file name (no '/', not starting with '.')",
        crate::fmt::escape(.0)
    )]
    BadName(String),
    /// A training run's data has no dataset name of its own.
    #[error("this is not a preprocessing run: give the dataset a name with --name")]
    NeedsName,
    /// The run's folder is not under the root.
    #[error("the run is not under the root")]
    NotUnderRoot,
    /// `path` cannot be promoted (a link, a FIFO, a mount point, not in the run...).
    #[error("{}: {reason}", path.display())]
    Refused {
        /// The path as the user sees it.
        path: PathBuf,
        /// Why, in words.
        reason: String,
    },
    /// The copy does not fit the destination's free space.
    #[error("{}", CopyError::NoSpace { path: path.clone(), need: *need, free: *free })]
    NoSpace {
        /// The destination folder.
        path: PathBuf,
        /// Allocated bytes the copy takes.
        need: u64,
        /// Bytes free for an unprivileged writer.
        free: u64,
    },
    /// The copy failed part way (and was removed): nothing was promoted.
    #[error("nothing was promoted: {0}")]
    NotCopied(CopyError),
    /// The copy was made but could not be renamed into place (and was removed).
    #[error("cannot put the artifact in place: {0}")]
    NotPlaced(String),
    /// The artifact is in place; writing its record or the index failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being written.
        what: &'static str,
        /// The error (shared: plans and results are cloned into the explorer's state).
        source: std::sync::Arc<std::io::Error>,
    },
}

impl From<CopyError> for PromoteError {
    fn from(e: CopyError) -> Self {
        match e {
            CopyError::Refused { path, reason } => PromoteError::Refused { path, reason },
            CopyError::NoSpace { path, need, free } => PromoteError::NoSpace { path, need, free },
        }
    }
}

impl PromoteError {
    fn refused(path: &Path, reason: impl std::fmt::Display) -> Self {
        PromoteError::Refused {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }

    /// The reason alone, without the path or name the message starts with.
    pub fn reason(&self) -> String {
        match self {
            PromoteError::BadName(_) => {
                "a target name is one plain file name (no '/', not starting with '.')".into()
            }
            PromoteError::Refused { reason, .. } => reason.clone(),
            PromoteError::NoSpace { path, need, free } => CopyError::NoSpace {
                path: path.clone(),
                need: *need,
                free: *free,
            }
            .reason(),
            PromoteError::NotCopied(e) => e.reason(),
            PromoteError::Io { source, .. } => source.to_string(),
            other => other.to_string(),
        }
    }
}

const TMP_PREFIX: &str = ".runyard-tmp-";

/// The names in an open folder (none when there is no folder yet).
fn names_in(dir: Option<BorrowedFd>) -> Vec<String> {
    let Some(entries) = dir.and_then(|d| Dir::read_from(d).ok()) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| String::from_utf8_lossy(e.file_name().to_bytes()).into_owned())
        .filter(|n| n != "." && n != "..")
        .collect();
    names.sort();
    names
}

/// The next free version of `<name>_v<N>` among `names`: 1 + the greatest there.
fn next_version(names: &[String], name: &str) -> u64 {
    let prefix = format!("{name}_v");
    let mut max = 0;
    for n in names {
        let n = n.strip_suffix(".provenance.json").unwrap_or(n);
        if let Some(v) = n.strip_prefix(&prefix).and_then(|v| v.parse::<u64>().ok()) {
            max = max.max(v);
        }
    }
    max + 1
}

/// `name` in `dir`, or `name-2`, `name-3`... before the extension, the first free.
fn free_name(dir: Option<BorrowedFd>, name: &str) -> String {
    // Anything there, even one we cannot stat, counts as taken.
    let taken = |n: &str| {
        dir.is_some_and(|d| !matches!(fsat::ident_at(d, OsStr::new(n)), Err(Errno::NOENT)))
    };
    if !taken(name) {
        return name.to_string();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (name.to_string(), String::new()),
    };
    (2..)
        .map(|n| format!("{stem}-{n}{ext}"))
        .find(|n| !taken(n))
        .expect("some suffix is free")
}

/// A target name must be one plain file name: a name with a slash or `..`
/// would land outside `artifacts/`, a hidden one would be mistaken for our
/// temporary copies.
fn check_name(name: &str) -> Result<(), PromoteError> {
    let bad = name.is_empty()
        || name.starts_with('.')
        || name.contains(['/', '\\', '\0'])
        || name.chars().any(char::is_control);
    if bad {
        return Err(PromoteError::BadName(name.to_string()));
    }
    Ok(())
}

/// The date a promoted plot's name carries: the run's (its id's local
/// date, else its folder's), so a plot promoted later still says when it
/// was made; `today` only when the run has no time at all.
fn run_date(run: &Run, today: jiff::civil::Date) -> jiff::civil::Date {
    match (&run.id, run.time()) {
        (Some(id), _) => id.time.date(),
        (None, Some(t)) => t.to_zoned_datetime(jiff::tz::TimeZone::system()).date(),
        (None, None) => today,
    }
}

/// Looks in `dest_dir` (under the open root) for an artifact promoted
/// before whose provenance record holds the source's sha256. The source is
/// hashed only when an artifact there has its exact size: most
/// promotions have no twin and cost no extra read.
fn find_earlier(
    root: BorrowedFd,
    dest_dir: &Path,
    src_dir: BorrowedFd,
    src_name: &OsStr,
    source: &Path,
    apparent: u64,
    folder: bool,
) -> Option<Earlier> {
    let dir = open_existing(root, dest_dir)?;
    let dir = dir.as_fd();
    let mut twins: Vec<(String, String, Option<jiff::Timestamp>)> = Vec::new();
    for n in names_in(Some(dir)) {
        let Some(artifact) = n.strip_suffix(".provenance.json") else {
            continue;
        };
        // Records are untrusted: capped, regular files, no link followed.
        let Some(record) = read_regular(dir, &n, RECORD_CAP)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        else {
            continue;
        };
        let Some(sha) = record["sha256"].as_str() else {
            continue;
        };
        // A folder's checksum is comparable only under the scheme it was
        // made by (records before version 2 hashed a text listing that
        // names could forge): an older record is not taken for the same
        // bytes. A file's checksum is its bytes' under every version.
        if folder && record["version"].as_u64() != Some(copy::TREE_HASH_VERSION) {
            continue;
        }
        // Only an artifact still in place counts, with the source's size.
        let same_size = copy::survey(dir, OsStr::new(artifact), &dest_dir.join(artifact))
            .is_ok_and(|s| s.apparent == apparent);
        if same_size {
            let at = record["promoted_at"].as_str().and_then(|t| t.parse().ok());
            twins.push((artifact.to_string(), sha.to_string(), at));
        }
    }
    if twins.is_empty() {
        return None;
    }
    let sum = copy::hash_at(src_dir, src_name, source).ok()?;
    twins
        .into_iter()
        .find(|(_, sha, _)| *sha == sum)
        .map(|(artifact, _, promoted_at)| Earlier {
            artifact: dest_dir.join(artifact),
            promoted_at,
        })
}

/// Plans a promotion from `run`. `name` overrides the dataset name (needed
/// for a run that is not a preprocessing run) or the file's target name.
pub fn plan(
    root: &Path,
    run: &Run,
    what: What,
    name: Option<&str>,
    today: jiff::civil::Date,
) -> Result<Promotion, PromoteError> {
    if let Some(n) = name {
        check_name(n)?;
    }
    let run_rel = run
        .path
        .strip_prefix(root)
        .map_err(|_| PromoteError::NotUnderRoot)?
        .to_path_buf();
    let file_in = |sub: &str, f: &str| -> Result<PathBuf, PromoteError> {
        let rel = Path::new(f);
        let rel = rel.strip_prefix(sub).unwrap_or(rel);
        if rel
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(PromoteError::refused(
                Path::new(f),
                "not a plain path inside the run",
            ));
        }
        Ok(if sub.is_empty() {
            rel.to_path_buf()
        } else {
            Path::new(sub).join(rel)
        })
    };
    // Where from (inside the run), into which folder, and under what name:
    // a single file under the typed name, else the convention's name for it.
    let conventional = |src: &Path, convention: &dyn Fn(&str) -> String| {
        let file = src
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        name.map_or_else(|| convention(&file), str::to_string)
    };
    let (in_run, dest_dir, target) = match &what {
        What::Data => {
            let pipeline = match name {
                Some(n) => n.to_string(),
                None if run.is_preproc() => run.model.clone(),
                None => {
                    return Err(PromoteError::NeedsName);
                }
            };
            (
                PathBuf::from("data"),
                PathBuf::from("artifacts/datasets"),
                pipeline,
            )
        }
        What::Plot(f) => {
            let src = file_in("plots", f)?;
            let date = run_date(run, today);
            let t = conventional(&src, &|file| format!("{}_{date}_{file}", run.task));
            (src, "artifacts/plots".into(), t)
        }
        What::Export(f) => {
            let src = file_in("", f)?;
            let t = conventional(&src, &|file| {
                format!("{}_{}_{}_{file}", run.task, run.model, run.name)
            });
            (src, "artifacts/exports".into(), t)
        }
        What::Checkpoint(f) => {
            let src = file_in("checkpoints", f)?;
            let t = conventional(&src, &|file| format!("{}_{file}", run.name));
            let dir = PathBuf::from("checkpoints")
                .join(&run.task)
                .join(&run.model);
            (src, dir, t)
        }
    };
    let source = run_rel.join(&in_run);
    let root_fd = open_root(root)?;
    let (src_dir, src_name) = open_source(root_fd.as_fd(), &run_rel, &in_run)?;
    let survey = copy::survey(src_dir.as_fd(), src_name, &source)?;
    // The destination folders need not exist yet; those that do must be
    // real folders on the root's filesystem.
    let (dest_fd, exists) = copy::open_dirs(root_fd.as_fd(), &dest_dir, &dest_dir, Missing::Stop)?;
    let existing = exists.then(|| dest_fd.as_fd());
    let file = match &what {
        What::Data => format!("{target}_v{}", next_version(&names_in(existing), &target)),
        _ => free_name(existing, &target),
    };
    copy::check_space(dest_fd.as_fd(), survey.disk, &dest_dir)?;
    let already = exists
        .then(|| {
            find_earlier(
                root_fd.as_fd(),
                &dest_dir,
                src_dir.as_fd(),
                src_name,
                &source,
                survey.apparent,
                survey.dirs > 0,
            )
        })
        .flatten();
    Ok(Promotion {
        what,
        source,
        dest: dest_dir.join(file),
        bytes: survey.apparent,
        disk: survey.disk,
        files: survey.files,
        run: run_rel,
        already,
    })
}

/// Opens the folder holding `in_run` (a path inside the run at `run_rel`),
/// component by component from the root, and returns it with the source's
/// own name.
fn open_source<'a>(
    root: BorrowedFd,
    run_rel: &Path,
    in_run: &'a Path,
) -> Result<(OwnedFd, &'a OsStr), PromoteError> {
    let name = in_run
        .file_name()
        .ok_or_else(|| PromoteError::refused(in_run, "not a file inside the run"))?;
    let (run_fd, _) = copy::open_dirs(root, run_rel, run_rel, Missing::Fail)?;
    let parent = in_run.parent().unwrap_or(Path::new(""));
    let (dir, _) = copy::open_dirs(run_fd.as_fd(), parent, &run_rel.join(parent), Missing::Fail)?;
    Ok((dir, name))
}

/// The root, opened for a promotion.
fn open_root(root: &Path) -> Result<OwnedFd, PromoteError> {
    fsat::open_root(root).map_err(|e| {
        PromoteError::refused(root, format!("cannot open the root: {}", fsat::reason(e)))
    })
}

/// Removes temporaries left in `dir` by promotions whose process is gone
/// (relative to the open folder: a link among them is unlinked, not followed).
pub fn clean_stale(dir: BorrowedFd) -> Vec<String> {
    let mut removed = Vec::new();
    for name in names_in(Some(dir)) {
        let Some(rest) = name.strip_prefix(TMP_PREFIX) else {
            continue;
        };
        let pid: Option<u32> = rest.split('-').next().and_then(|p| p.parse().ok());
        let alive = pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let mut out = fsat::Removed::default();
            fsat::remove_at(dir, OsStr::new(&name), Path::new(&name), false, &mut out);
            if out.errors.is_empty() {
                removed.push(name);
            }
        }
    }
    removed
}

/// A small regular file in `dir`, read without following a link or
/// blocking on a FIFO, and refused above `cap` bytes: records read back
/// from the tree are untrusted.
fn read_regular(dir: BorrowedFd, name: &str, cap: u64) -> std::io::Result<Vec<u8>> {
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
    )?;
    let st = rustix::fs::fstat(&fd)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(std::io::Error::other(format!("{name}: not a regular file")));
    }
    if st.st_size as u64 > cap {
        return Err(std::io::Error::other(format!(
            "{name}: larger than {}",
            crate::fmt::size(cap)
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::from(fd).take(cap).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Provenance records are a few hundred bytes; anything far larger is not one.
const RECORD_CAP: u64 = 1 << 20;

/// Opens a folder under the root that should exist, component by component.
fn open_existing(root: BorrowedFd, rel: &Path) -> Option<OwnedFd> {
    copy::open_dirs(root, rel, rel, Missing::Fail)
        .ok()
        .map(|(fd, _)| fd)
}

/// What was promoted from each run, read from the provenance records in
/// `artifacts/{datasets,plots,exports}/` and `checkpoints/<task>/<model>/`:
/// source run (relative to the root) → artifacts (relative to the root).
pub fn promoted_from(root: &Path) -> std::collections::HashMap<PathBuf, Vec<PathBuf>> {
    let mut out: std::collections::HashMap<PathBuf, Vec<PathBuf>> = Default::default();
    let Ok(root_fd) = fsat::open_chain(root, Path::new("")) else {
        return out;
    };
    let root_fd = root_fd.as_fd();
    let mut dirs: Vec<PathBuf> = ["datasets", "plots", "exports"]
        .iter()
        .map(|s| PathBuf::from("artifacts").join(s))
        .collect();
    // Long-term checkpoints sit two levels down (task, model).
    let checkpoints = open_existing(root_fd, Path::new("checkpoints"));
    for task in names_in(checkpoints.as_ref().map(|f| f.as_fd())) {
        let rel = PathBuf::from("checkpoints").join(&task);
        let task_fd = open_existing(root_fd, &rel);
        for model in names_in(task_fd.as_ref().map(|f| f.as_fd())) {
            dirs.push(rel.join(model));
        }
    }
    for dir in dirs {
        let Some(fd) = open_existing(root_fd, &dir) else {
            continue;
        };
        for n in names_in(Some(fd.as_fd())) {
            let Some(artifact) = n.strip_suffix(".provenance.json") else {
                continue;
            };
            let Some(record) = read_regular(fd.as_fd(), &n, RECORD_CAP)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            else {
                continue;
            };
            if let Some(run) = record["source_run"].as_str() {
                out.entry(PathBuf::from(run))
                    .or_default()
                    .push(dir.join(artifact));
            }
        }
    }
    for list in out.values_mut() {
        list.sort();
    }
    out
}

/// Applies a promotion: check the source again (regular files and folders
/// only, no link, enough free space) before anything is created, copy to a
/// temporary name, then rename without replacing (taking the next free name
/// if another promotion got there first), then the provenance record and the
/// README index. Returns the artifact's final path, relative to the root.
pub fn apply(root: &Path, p: &Promotion, run: &Run) -> Result<PathBuf, PromoteError> {
    let in_run = p
        .source
        .strip_prefix(&p.run)
        .map_err(|_| PromoteError::refused(&p.source, "not inside the run"))?;
    let (Some(dest_dir), Some(name)) = (p.dest.parent(), p.dest.file_name()) else {
        return Err(PromoteError::refused(&p.dest, "no destination folder"));
    };
    let name = name.to_string_lossy().into_owned();
    check_name(&name)?;
    let root_fd = open_root(root)?;
    let (src_dir, src_name) = open_source(root_fd.as_fd(), &p.run, in_run)?;
    let survey = copy::survey(src_dir.as_fd(), src_name, &p.source)?;
    // Links and mounts on the way to the destination are refused before a
    // single folder is made.
    let (probe, _) = copy::open_dirs(root_fd.as_fd(), dest_dir, dest_dir, Missing::Stop)?;
    copy::check_space(probe.as_fd(), survey.disk, dest_dir)?;
    drop(probe);
    let (dir, _) = copy::open_dirs(root_fd.as_fd(), dest_dir, dest_dir, Missing::Create)?;
    let dir = dir.as_fd();
    clean_stale(dir);
    let tmp = format!("{TMP_PREFIX}{}-{}", std::process::id(), name);
    let sha = copy::copy_at(src_dir.as_fd(), src_name, dir, OsStr::new(&tmp), &p.source)
        .map_err(PromoteError::NotCopied)?;
    let discard = || {
        let mut out = fsat::Removed::default();
        fsat::remove_at(dir, OsStr::new(&tmp), Path::new(&tmp), false, &mut out);
    };
    // Rename without replacing; if the name was taken meanwhile, take the next.
    let mut final_name = name.clone();
    let mut attempt = 1;
    loop {
        match rustix::fs::renameat_with(
            dir,
            tmp.as_str(),
            dir,
            final_name.as_str(),
            RenameFlags::NOREPLACE,
        ) {
            Ok(()) => break,
            Err(Errno::EXIST) | Err(Errno::NOTEMPTY) if attempt < 100 => {
                attempt += 1;
                final_name = match &p.what {
                    What::Data => {
                        let base = name.rsplit_once("_v").map_or(name.as_str(), |(b, _)| b);
                        format!("{base}_v{}", next_version(&names_in(Some(dir)), base))
                    }
                    _ => free_name(Some(dir), &name),
                };
            }
            Err(e) => {
                discard();
                return Err(PromoteError::NotPlaced(fsat::reason(e)));
            }
        }
    }
    let rel = dest_dir.join(&final_name);
    let info = crate::runs::RunInfo::load(&run.path)
        .ok()
        .flatten()
        .unwrap_or_default();
    let kind = match p.what {
        What::Data => "dataset",
        What::Plot(_) => "plot",
        What::Export(_) => "export",
        What::Checkpoint(_) => "checkpoint",
    };
    let record = json!({
        // The folder checksum's scheme (see `copy::TREE_HASH_VERSION`).
        "version": copy::TREE_HASH_VERSION,
        "kind": kind,
        "artifact": rel.strip_prefix("artifacts").unwrap_or(&rel),
        "source_run": p.run,
        "run_id": run.name,
        "source_path": p.source.strip_prefix(&p.run).unwrap_or(&p.source),
        "command": info.command,
        "git_commit": info.git_commit,
        "sha256": sha,
        "promoted_at": jiff::Timestamp::now().to_string(),
    });
    super::trash::write_new(
        dir,
        &format!("{final_name}.provenance.json"),
        &serde_json::to_vec_pretty(&record).unwrap_or_default(),
    )
    .map_err(|e| PromoteError::Io {
        what: "writing the provenance record",
        source: e.into(),
    })?;
    if rel.starts_with("artifacts") {
        update_index(root).map_err(|e| PromoteError::Io {
            what: "artifacts/README.md",
            source: e.into(),
        })?;
    }
    Ok(rel)
}

const INDEX_START: &str = "<!-- runyard:index:start -->";
const INDEX_END: &str = "<!-- runyard:index:end -->";

/// Rewrites the index between the marker lines of `artifacts/README.md`
/// from the provenance records; the user's text around them is kept
/// byte for byte. A README without markers gets them at its end; a missing
/// README is created with the naming conventions.
pub fn update_index(root: &Path) -> std::io::Result<()> {
    let root_fd = fsat::open_chain(root, Path::new("")).map_err(std::io::Error::other)?;
    let (art, _) = copy::open_dirs(
        root_fd.as_fd(),
        Path::new("artifacts"),
        Path::new("artifacts"),
        Missing::Fail,
    )
    .map_err(std::io::Error::other)?;
    let art = art.as_fd();
    // One writer at a time: two promotions each reading the records before
    // the other's landed would otherwise each drop the other's row.
    let lock = rustix::fs::openat(
        art,
        ".runyard-index.lock",
        OFlags::WRONLY | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    )?;
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)?;
    let text = match read_regular(art, "README.md", 16 << 20) {
        Ok(b) => String::from_utf8(b).map_err(std::io::Error::other)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            super::create::ARTIFACTS_README.to_string()
        }
        Err(e) => return Err(e),
    };
    let mut rows = Vec::new();
    for sub in ["datasets", "plots", "exports"] {
        let Some(fd) = open_existing(art, Path::new(sub)) else {
            continue;
        };
        for n in names_in(Some(fd.as_fd()))
            .iter()
            .filter(|n| n.ends_with(".provenance.json"))
        {
            let Ok(b) = read_regular(fd.as_fd(), n, RECORD_CAP) else {
                continue;
            };
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(&b) else {
                continue;
            };
            rows.push(format!(
                "| `{}` | {} | `{}` | {} |",
                v["artifact"].as_str().unwrap_or(n),
                v["kind"].as_str().unwrap_or("?"),
                v["source_run"].as_str().unwrap_or("?"),
                v["promoted_at"].as_str().unwrap_or("?")
            ));
        }
    }
    let table = format!(
        "{INDEX_START}\n| artifact | kind | source run | promoted at |\n|---|---|---|---|\n{}{}{INDEX_END}",
        rows.join("\n"),
        if rows.is_empty() { "" } else { "\n" }
    );
    let new = match (text.find(INDEX_START), text.find(INDEX_END)) {
        (Some(a), Some(b)) if a < b => {
            format!("{}{table}{}", &text[..a], &text[b + INDEX_END.len()..])
        }
        _ => format!(
            "{}{}\n## Index\n\n{table}\n",
            text,
            if text.ends_with('\n') { "" } else { "\n" }
        ),
    };
    if new == text {
        return Ok(());
    }
    // A temporary beside it, then a rename: readers never see half a README,
    // and a link named README.md is replaced, never written through.
    let tmp = format!(".README.md.runyard-tmp-{}", std::process::id());
    // A leftover of a killed process that had our pid (we hold the lock).
    let _ = rustix::fs::unlinkat(art, tmp.as_str(), rustix::fs::AtFlags::empty());
    let fd = rustix::fs::openat(
        art,
        tmp.as_str(),
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    )?;
    let mut f = std::fs::File::from(fd);
    let written = f
        .write_all(new.as_bytes())
        .and_then(|()| f.sync_all())
        .and_then(|()| {
            rustix::fs::renameat(art, tmp.as_str(), art, "README.md").map_err(Into::into)
        });
    if written.is_err() {
        let _ = rustix::fs::unlinkat(art, tmp.as_str(), rustix::fs::AtFlags::empty());
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_keeps_its_whole_message_and_gives_its_reason_alone() {
        let bad = PromoteError::BadName("../x".into());
        assert_eq!(
            bad.to_string(),
            "../x: a target name is one plain file name (no '/', not starting with '.')"
        );
        assert_eq!(
            bad.reason(),
            "a target name is one plain file name (no '/', not starting with '.')"
        );
        // A reason holding ": " itself is not cut short.
        let copy = PromoteError::NotCopied(CopyError::refused(
            Path::new("runs/a/data/x"),
            "a symbolic link: runyard does not follow links",
        ));
        assert_eq!(
            copy.to_string(),
            "nothing was promoted: runs/a/data/x: a symbolic link: runyard does not follow links"
        );
        assert_eq!(
            copy.reason(),
            "a symbolic link: runyard does not follow links"
        );
        let full: PromoteError = CopyError::NoSpace {
            path: "artifacts/datasets".into(),
            need: 2048,
            free: 1024,
        }
        .into();
        assert!(matches!(
            full,
            PromoteError::NoSpace {
                need: 2048,
                free: 1024,
                ..
            }
        ));
        assert!(
            full.to_string()
                .starts_with("artifacts/datasets: not enough free space: ")
        );
    }
}
