//! `.trash/`: whole runs moved aside (an instant rename on the same
//! filesystem) with a record of where they came from, so they can be put
//! back; emptied for good only after its own confirm.
//!
//! Layout: `.trash/<id>/run/` is the run folder as it was, and
//! `.trash/<id>/origin.json` says `{"version":1,"origin":"experiments/t/m/r",
//! "deleted_at":"...","bytes":N,"files":N}` (bytes and files as planned;
//! `list` flags an entry holding fewer files as partial). In another tool's tree the
//! origin is that tool's run place (`lightning_logs/version_3`), the record
//! adds `"tree":"lightning"` (so a tree whose runs all went still opens),
//! and in an MLflow store the trash is `.runyard-trash/` (`.trash/` is
//! MLflow's own).

use std::ffi::OsStr;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags, RenameFlags};
use serde::{Deserialize, Serialize};

use super::fsat::{self, reason};
use super::{Builder, Plan, PlanKind, PlanOptions};
use crate::sources::Source;

/// What `origin.json` records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Origin {
    /// Format version.
    pub version: u32,
    /// Where the run was, relative to the root.
    pub origin: PathBuf,
    /// When it was moved here (RFC 3339).
    pub deleted_at: String,
    /// The kind of tree it came from, in another tool's tree (`lightning`):
    /// what still says what the folder is when every run went, and what
    /// lets a Lightning logger folder emptied by the move take its run back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tree: Option<crate::sources::SourceKind>,
    /// Allocated bytes the run held when it was moved (records written
    /// before this field have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Files and links the run held when it was moved: an entry holding
    /// fewer lost part of its run (a `trash empty` killed half-way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<u64>,
}

impl Origin {
    /// Checks a record read back from disk: it is untrusted input, and
    /// `restore` moves a run to where it points. Only a plain run place of
    /// the root's kind of tree is accepted (`experiments/<task>/<model>/<run_id>`
    /// in the layout; see [`Source::is_run_path`] for the others): no `..`,
    /// no absolute path, no hidden folder (the trash itself), no control
    /// characters.
    pub fn check(&self, source: &Source) -> Result<(), String> {
        if source.is_trashed_run_path(&self.origin, self.tree) {
            return Ok(());
        }
        let shown = crate::fmt::escape_os(self.origin.as_os_str());
        let place = match source.kind {
            crate::sources::SourceKind::Layout => "a run path under experiments/".to_string(),
            k => format!("a run's place in this {} tree", k.title()),
        };
        Err(format!(
            "origin.json: {shown} is not {place} (record refused)"
        ))
    }
}

/// One run in the trash.
#[derive(Debug, Clone, Serialize)]
pub struct TrashEntry {
    /// Its folder name under `.trash/`.
    pub id: String,
    /// Where it came from, when the record is readable.
    pub origin: Option<Origin>,
    /// Allocated bytes it holds.
    pub bytes: u64,
    /// A problem with the record.
    pub error: Option<String>,
    /// Set when the entry holds fewer files than its record says the run
    /// had: what a restore brings back is only part of the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial: Option<String>,
}

/// Opens (creating if needed) the trash under the root, refusing a link.
fn open_trash(root: &Path, source: &Source, create: bool) -> Result<OwnedFd, String> {
    let trash = source.kind.trash_dir();
    let root_fd = fsat::open_chain(root, Path::new(""))?;
    if create {
        match rustix::fs::mkdirat(&root_fd, trash, Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(format!("{trash}: cannot create: {}", reason(e))),
        }
    }
    let fd = fsat::open_dir_at(root_fd.as_fd(), OsStr::new(trash))
        .map_err(|e| format!("{trash}: {}", reason(e)))?;
    if let Some(why) = foreign_trash(fd.as_fd(), trash) {
        return Err(why);
    }
    Ok(fd)
}

/// Why the open folder `trash` (named `name`) is not runyard's trash, if
/// it is not: MLflow keeps its deleted experiments as `.trash/<id>/meta.yaml`,
/// and a tree taken for the layout (an MLflow store holding `experiments/`,
/// or named `outputs` with every experiment deleted) would otherwise empty
/// them, or restore from them. A bounded look: the first 64 names.
fn foreign_trash(trash: BorrowedFd, name: &str) -> Option<String> {
    let probe = rustix::io::fcntl_dupfd_cloexec(trash, 0)
        .ok()
        .map(crate::sources::probe::Probe::from_fd)?;
    let mlflow = probe.names(64).into_iter().find(|(n, is_dir)| {
        *is_dir
            && !n.is_empty()
            && n.bytes().all(|c| c.is_ascii_digit())
            && probe.sub(n).is_some_and(|p| p.has_file("meta.yaml"))
    });
    mlflow.map(|(id, _)| {
        format!(
            "{name}/ holds MLflow's deleted experiments ({name}/{id}/meta.yaml): \
             not runyard's trash, left alone"
        )
    })
}

/// The trash folder of the tree at `root`, relative to it (`.trash`).
pub fn trash_dir(root: &Path) -> &'static str {
    Source::detect(root).kind.trash_dir()
}

/// Moves the run `rel` (found in the open folder `parent`) into the trash,
/// recording `size` (allocated bytes, files and links, as planned).
/// Returns its new place, relative to the root.
pub fn move_in(
    root: &Path,
    parent: BorrowedFd,
    rel: &Path,
    size: (u64, u64),
) -> Result<PathBuf, String> {
    let name = rel.file_name().ok_or("not a run path")?;
    let source = Source::detect(root);
    let trash_name = source.kind.trash_dir();
    let trash = open_trash(root, &source, true)?;
    let stamp = jiff::Timestamp::now();
    let base = format!(
        "{}_{}",
        stamp.strftime("%Y-%m-%d_%H-%M-%S"),
        name.to_string_lossy()
    );
    // A fresh folder per move; a clash gets a suffix, never a shared folder.
    let mut id = base.clone();
    for n in 2.. {
        match rustix::fs::mkdirat(&trash, id.as_str(), Mode::from_raw_mode(0o755)) {
            Ok(()) => break,
            Err(rustix::io::Errno::EXIST) if n < 1000 => id = format!("{base}-{n}"),
            Err(e) => return Err(format!("{trash_name}/{id}: cannot create: {}", reason(e))),
        }
    }
    let entry = fsat::open_dir_at(trash.as_fd(), OsStr::new(&id)).map_err(reason)?;
    // Another tool's tree also records its kind: when every run of it is
    // in the trash, that is what still says what the folder is.
    let origin = Origin {
        version: 1,
        origin: rel.to_path_buf(),
        deleted_at: stamp.to_string(),
        tree: (source.kind != crate::sources::SourceKind::Layout).then_some(source.kind),
        bytes: Some(size.0),
        files: Some(size.1),
    };
    let cleanup = |entry: &OwnedFd| {
        let _ = rustix::fs::unlinkat(entry, "origin.json", rustix::fs::AtFlags::empty());
        let _ = rustix::fs::unlinkat(&trash, id.as_str(), rustix::fs::AtFlags::REMOVEDIR);
    };
    // A record that cannot be written whole means no restore: the run
    // stays where it is.
    let record = match serde_json::to_vec_pretty(&origin) {
        Ok(r) if origin.check(&source).is_ok() => r,
        _ => {
            cleanup(&entry);
            return Err("its path cannot be recorded for restore: not moved".into());
        }
    };
    if let Err(e) = write_new(entry.as_fd(), "origin.json", &record) {
        cleanup(&entry);
        return Err(format!("writing the trash record: {e}"));
    }
    match rustix::fs::renameat_with(parent, name, &entry, "run", RenameFlags::NOREPLACE) {
        Ok(()) => Ok(Path::new(trash_name).join(&id)),
        Err(e) => {
            cleanup(&entry);
            Err(format!("cannot move into the trash: {}", reason(e)))
        }
    }
}

/// Writes a new file whole: a temporary name, fsync, then a rename that
/// never replaces, so a crash leaves nothing half-written under `name`.
pub fn write_new(dir: BorrowedFd, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = format!(".{name}.runyard-tmp-{}", std::process::id());
    let fd = rustix::fs::openat(
        dir,
        tmp.as_str(),
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::from_raw_mode(0o644),
    )?;
    let mut f = std::fs::File::from(fd);
    let result = f.write_all(bytes).and_then(|_| f.sync_all()).and_then(|_| {
        rustix::fs::renameat_with(dir, tmp.as_str(), dir, name, RenameFlags::NOREPLACE)
            .map_err(std::io::Error::from)
    });
    if result.is_err() {
        let _ = rustix::fs::unlinkat(dir, tmp.as_str(), rustix::fs::AtFlags::empty());
    }
    result
}

/// Everything in the trash, oldest first.
pub fn list(root: &Path) -> Vec<TrashEntry> {
    let source = Source::detect(root);
    let trash_name = source.kind.trash_dir();
    let Ok(trash) = open_trash(root, &source, false) else {
        return Vec::new();
    };
    let Ok(rd) = std::fs::read_dir(root.join(trash_name)) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = rd
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids.into_iter()
        .map(|id| {
            let m = fsat::measure_at(
                trash.as_fd(),
                OsStr::new(&id),
                &Path::new(trash_name).join(&id),
            );
            let (origin, error) = match read_record(trash.as_fd(), &id) {
                Ok(b) => match serde_json::from_slice::<Origin>(&b) {
                    Ok(o) => match o.check(&source) {
                        Ok(()) => (Some(o), None),
                        Err(e) => (None, Some(e)),
                    },
                    Err(e) => (None, Some(format!("origin.json: {e}"))),
                },
                Err(e) => (None, Some(format!("origin.json: {e}"))),
            };
            // The entry holds the run and its record (one file): fewer
            // than recorded means part of the run is gone.
            let held = m.files.saturating_sub(1);
            let partial = origin
                .as_ref()
                .and_then(|o| o.files)
                .filter(|&want| held < want)
                .map(|want| {
                    format!(
                        "the entry holds {} of the {} the run had when trashed: \
                         part of it was deleted (a `trash empty` stopped half-way?)",
                        crate::fmt::count(held, "file"),
                        crate::fmt::count(want, "file")
                    )
                });
            TrashEntry {
                id,
                origin,
                bytes: m.disk + m.linked.values().map(|v| v.1).sum::<u64>(),
                error,
                partial,
            }
        })
        .collect()
}

/// The largest `origin.json` read back: a real one is about 150 bytes.
const RECORD_CAP: u64 = 64 * 1024;

/// Reads `<id>/origin.json` in the open trash: the entry folder and the
/// record reached without following a link, and only a regular file of
/// sane size (a FIFO would block, `/dev/zero` would never end).
fn read_record(trash: BorrowedFd, id: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let entry = fsat::open_dir_at(trash, OsStr::new(id)).map_err(reason)?;
    let fd = rustix::fs::openat(
        &entry,
        "origin.json",
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| match e {
        // No plan is involved here: say what it is, not "changed since the plan?".
        rustix::io::Errno::LOOP => {
            "a symbolic link: not followed (a record is a regular file)".into()
        }
        e => reason(e),
    })?;
    let st = rustix::fs::fstat(&fd).map_err(reason)?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return Err("not a regular file".into());
    }
    let mut bytes = Vec::new();
    std::fs::File::from(fd)
        .take(RECORD_CAP + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > RECORD_CAP {
        return Err(format!(
            "larger than {RECORD_CAP} bytes: not a trash record"
        ));
    }
    Ok(bytes)
}

/// Finds trash entries by id, or by the run id / path they came from.
pub fn find<'a>(entries: &'a [TrashEntry], query: &str) -> Vec<&'a TrashEntry> {
    let q = query.trim_end_matches('/');
    let exact: Vec<_> = entries.iter().filter(|e| e.id == q).collect();
    if !exact.is_empty() {
        return exact;
    }
    entries
        .iter()
        .filter(|e| {
            e.id.starts_with(q)
                || e.origin.as_ref().is_some_and(|o| {
                    let origin = o.origin.to_string_lossy();
                    let run = o
                        .origin
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    origin == q
                        || origin.ends_with(&format!("/{q}"))
                        || run.starts_with(q)
                        || run.ends_with(&format!("_{q}"))
                })
        })
        .collect()
}

/// Puts a run back where it came from. Refuses when something is there now.
pub fn restore(root: &Path, entry: &TrashEntry) -> Result<PathBuf, String> {
    let origin = entry.origin.as_ref().ok_or_else(|| {
        entry
            .error
            .clone()
            .unwrap_or_else(|| "no origin record".into())
    })?;
    // Checked again here, against the tree as it is now: an entry may not
    // come from `list`.
    let source = Source::detect(root);
    origin.check(&source)?;
    let (Some(parent), Some(name)) = (origin.origin.parent(), origin.origin.file_name()) else {
        return Err("the origin record is not a run path".into());
    };
    // The entry must hold its run (a real folder, not a link) before any
    // folder is made for it: a record-only entry (a move killed half-way)
    // or a crafted one must not leave empty folders in the tree.
    let trash = open_trash(root, &source, false)?;
    let entry_fd = fsat::open_dir_at(trash.as_fd(), OsStr::new(&entry.id)).map_err(reason)?;
    match rustix::fs::statat(&entry_fd, "run", rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) if rustix::fs::FileType::from_raw_mode(st.st_mode).is_dir() => {}
        Ok(_) => return Err("its run/ is not a folder (a link?): not restored".into()),
        Err(rustix::io::Errno::NOENT) => {
            return Err("the entry holds no run/ (only its record): nothing to restore".into());
        }
        Err(e) => return Err(format!("run/: {}", reason(e))),
    }
    // Recreate the task and model folders if they went, never through a link.
    let mut fd = fsat::open_chain(root, Path::new(""))?;
    for c in parent.components() {
        let c = c.as_os_str();
        match rustix::fs::mkdirat(&fd, c, Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(format!("{}: {}", c.to_string_lossy(), reason(e))),
        }
        fd = fsat::open_dir_at(fd.as_fd(), c)
            .map_err(|e| format!("{}: {}", c.to_string_lossy(), reason(e)))?;
    }
    match rustix::fs::renameat_with(&entry_fd, "run", &fd, name, RenameFlags::NOREPLACE) {
        Ok(()) => {}
        Err(rustix::io::Errno::EXIST | rustix::io::Errno::NOTEMPTY) => {
            return Err(format!(
                "{} already exists: not overwritten",
                origin.origin.display()
            ));
        }
        Err(e) => return Err(format!("cannot move back: {}", reason(e))),
    }
    let _ = rustix::fs::unlinkat(&entry_fd, "origin.json", rustix::fs::AtFlags::empty());
    let _ = rustix::fs::unlinkat(&trash, entry.id.as_str(), rustix::fs::AtFlags::REMOVEDIR);
    Ok(origin.origin.clone())
}

/// Plans deleting trash entries for good (all of them when `ids` is empty).
///
/// Only entries with a valid runyard record go: an entry without one (a
/// folder someone else put there, a record refused) is listed under
/// skipped with the reason and never deleted, and a trash folder that is
/// another tool's (MLflow's deleted experiments) is not touched at all.
pub fn plan_empty(root: &Path, ids: &[String], opts: &PlanOptions) -> Plan {
    let mut b = Builder::new(PlanKind::EmptyTrash, root, opts);
    let source = Source::detect(root);
    let trash_name = source.kind.trash_dir();
    if let Err(why) = open_trash(root, &source, false)
        && std::fs::symlink_metadata(root.join(trash_name)).is_ok()
    {
        b.plan.skipped.push(super::Note {
            rel: trash_name.into(),
            why,
        });
        return b.finish();
    }
    for e in list(root) {
        if ids.is_empty() || ids.contains(&e.id) {
            let rel = Path::new(trash_name).join(&e.id);
            let Some(origin) = e.origin else {
                let why = e.error.unwrap_or_else(|| "no origin.json".into());
                b.plan.skipped.push(super::Note {
                    rel,
                    why: format!(
                        "{why}: not a runyard trash entry, never deleted by runyard \
                         (remove it by hand if it is yours)"
                    ),
                });
                continue;
            };
            let what = origin.origin.to_string_lossy().into_owned();
            // The run first, then its record: if the run cannot go whole,
            // apply stops and the record stays, so it can still be restored.
            // The record's own bytes leave the run out: it is counted once,
            // as its own target.
            if std::fs::symlink_metadata(root.join(&rel).join("run")).is_ok() {
                let before = b.plan.targets.len();
                b.add(&rel, &rel, OsStr::new("run"), what.clone());
                if b.plan.targets.len() == before {
                    // The run is skipped (a mount, unreadable): its record
                    // stays, so what is there can still be restored.
                    continue;
                }
            }
            b.add_except(
                &rel,
                Path::new(trash_name),
                OsStr::new(&e.id),
                what,
                Some(OsStr::new("run")),
            );
        }
    }
    b.finish()
}
