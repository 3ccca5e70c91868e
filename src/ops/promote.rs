//! Promotion: copying a run's data, plots, exports and checkpoints into
//! `artifacts/` (and `checkpoints/`), never moving, never overwriting,
//! never leaving half an artifact visible.
//!
//! A copy is written under a temporary name (`.runyard-tmp-<pid>-…`) in the
//! destination folder, each file cloned (reflink) where the filesystem can,
//! else copied, then fsynced, then renamed into place with RENAME_NOREPLACE:
//! a crash leaves nothing or the whole artifact. Temporaries whose process
//! is gone are removed on the next promotion.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

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
    /// Bytes to copy.
    pub bytes: u64,
    /// Files to copy.
    pub files: u64,
    /// The run, relative to the root.
    pub run: PathBuf,
}

const TMP_PREFIX: &str = ".runyard-tmp-";

/// The next free version of `<name>_v<N>` in `dir`: 1 + the greatest there.
fn next_version(dir: &Path, name: &str) -> u64 {
    let prefix = format!("{name}_v");
    let mut max = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            let n = n.strip_suffix(".provenance.json").unwrap_or(&n);
            if let Some(v) = n.strip_prefix(&prefix).and_then(|v| v.parse::<u64>().ok()) {
                max = max.max(v);
            }
        }
    }
    max + 1
}

/// `name` in `dir`, or `name-2`, `name-3`... before the extension, the first free.
fn free_name(dir: &Path, name: &str) -> String {
    if std::fs::symlink_metadata(dir.join(name)).is_err() {
        return name.to_string();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (name.to_string(), String::new()),
    };
    (2..)
        .map(|n| format!("{stem}-{n}{ext}"))
        .find(|n| std::fs::symlink_metadata(dir.join(n)).is_err())
        .expect("some suffix is free")
}

/// A target name must be one plain file name: a name with a slash or `..`
/// would land outside `artifacts/`, a hidden one would be mistaken for our
/// temporary copies.
fn check_name(name: &str) -> Result<(), String> {
    let bad = name.is_empty()
        || name.starts_with('.')
        || name.contains(['/', '\\', '\0'])
        || name.chars().any(char::is_control);
    if bad {
        return Err(format!(
            "{}: a target name is one plain file name (no '/', not starting with '.')",
            crate::fmt::escape(name)
        ));
    }
    Ok(())
}

/// Apparent bytes and files under a path (links not followed).
fn measure(path: &Path) -> (u64, u64) {
    let (mut bytes, mut files) = (0, 0);
    for e in walkdir::WalkDir::new(path)
        .follow_links(false)
        .into_iter()
        .flatten()
    {
        if let Ok(md) = e.metadata()
            && !md.is_dir()
        {
            bytes += md.len();
            files += 1;
        }
    }
    (bytes, files)
}

/// Plans a promotion from `run`. `name` overrides the dataset name (needed
/// for a run that is not a preprocessing run) or the file's target name.
pub fn plan(
    root: &Path,
    run: &Run,
    what: What,
    name: Option<&str>,
    today: jiff::civil::Date,
) -> Result<Promotion, String> {
    if let Some(n) = name {
        check_name(n)?;
    }
    let run_rel = run
        .path
        .strip_prefix(root)
        .map_err(|_| "the run is not under the root")?
        .to_path_buf();
    let file_in = |sub: &str, f: &str| -> Result<PathBuf, String> {
        let rel = Path::new(f);
        let rel = rel.strip_prefix(sub).unwrap_or(rel);
        if rel
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(format!("{f}: not a plain path inside the run"));
        }
        Ok(if sub.is_empty() {
            rel.to_path_buf()
        } else {
            Path::new(sub).join(rel)
        })
    };
    // A single file lands in `dir` under the typed name, else the
    // convention's name for it; a taken name gets a suffix.
    let single_file = |src: PathBuf, dir: PathBuf, conventional: &dyn Fn(&str) -> String| {
        let file = src
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let target = name.map_or_else(|| conventional(&file), str::to_string);
        let n = free_name(&root.join(&dir), &target);
        (run_rel.join(src), dir.join(n))
    };
    let (source, dest) = match &what {
        What::Data => {
            let pipeline = match name {
                Some(n) => n.to_string(),
                None if run.is_preproc() => run.model.clone(),
                None => {
                    return Err(
                        "this is not a preprocessing run: give the dataset a name with --name"
                            .into(),
                    );
                }
            };
            let dir = root.join("artifacts/datasets");
            let v = next_version(&dir, &pipeline);
            (
                run_rel.join("data"),
                PathBuf::from("artifacts/datasets").join(format!("{pipeline}_v{v}")),
            )
        }
        What::Plot(f) => single_file(file_in("plots", f)?, "artifacts/plots".into(), &|file| {
            format!("{}_{}_{file}", run.task, today)
        }),
        What::Export(f) => single_file(file_in("", f)?, "artifacts/exports".into(), &|file| {
            format!("{}_{}_{}_{file}", run.task, run.model, run.name)
        }),
        What::Checkpoint(f) => single_file(
            file_in("checkpoints", f)?,
            PathBuf::from("checkpoints")
                .join(&run.task)
                .join(&run.model),
            &|file| format!("{}_{file}", run.name),
        ),
    };
    let md = std::fs::symlink_metadata(root.join(&source))
        .map_err(|e| format!("{}: {e}", source.display()))?;
    if md.file_type().is_symlink() {
        return Err(format!(
            "{}: a symlink; runyard does not follow links",
            source.display()
        ));
    }
    let (bytes, files) = measure(&root.join(&source));
    Ok(Promotion {
        what,
        source,
        dest,
        bytes,
        files,
        run: run_rel,
    })
}

/// Removes temporaries left by promotions whose process is gone.
pub fn clean_stale(dir: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return removed;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(TMP_PREFIX) else {
            continue;
        };
        let pid: Option<u32> = rest.split('-').next().and_then(|p| p.parse().ok());
        let alive = pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let p = e.path();
            let gone = if e.file_type().is_ok_and(|t| t.is_dir()) {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
            if gone.is_ok() {
                removed.push(p);
            }
        }
    }
    removed
}

/// Copies one file: a copy-on-write clone where the filesystem has one,
/// else a byte copy; hashes the content; fsyncs.
fn copy_file(src: &Path, dst: &Path, hasher: &mut Sha256) -> std::io::Result<()> {
    let mut from = std::fs::File::open(src)?;
    let mut to = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dst)?;
    let cloned = rustix::fs::ioctl_ficlone(&to, &from).is_ok();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        if !cloned {
            to.write_all(&buf[..n])?;
        }
    }
    to.sync_all()?;
    std::fs::set_permissions(dst, std::fs::metadata(src)?.permissions())
}

/// Copies a file or folder to `dst` (which must not exist); returns the
/// sha256 (of the bytes for a file; for a folder, of the `sha256sum`-style
/// listing of its files in path order).
pub fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<String> {
    let md = std::fs::symlink_metadata(src)?;
    if !md.is_dir() {
        let mut h = Sha256::new();
        copy_file(src, dst, &mut h)?;
        return Ok(format!("{:x}", h.finalize()));
    }
    let mut listing = String::new();
    let mut entries: Vec<_> = walkdir::WalkDir::new(src)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(std::io::Error::other)?;
    entries.sort_by(|a, b| a.path().cmp(b.path()));
    for e in entries {
        let rel = e.path().strip_prefix(src).expect("under src");
        let to = dst.join(rel);
        let ft = e.file_type();
        if ft.is_dir() {
            std::fs::create_dir(&to)?;
        } else if ft.is_symlink() {
            // A link is copied as a link: what it points to is not promoted.
            std::os::unix::fs::symlink(std::fs::read_link(e.path())?, &to)?;
        } else {
            let mut h = Sha256::new();
            copy_file(e.path(), &to, &mut h)?;
            listing.push_str(&format!("{:x}  {}\n", h.finalize(), rel.to_string_lossy()));
        }
    }
    std::fs::File::open(dst)?.sync_all()?;
    Ok(format!("{:x}", Sha256::digest(listing.as_bytes())))
}

/// The checksum `copy_tree` gives, computed from a file or folder as it is.
pub fn hash_tree(path: &Path) -> std::io::Result<String> {
    let hash_file = |p: &Path| -> std::io::Result<String> {
        let mut f = std::fs::File::open(p)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Ok(format!("{:x}", h.finalize()))
    };
    if !std::fs::symlink_metadata(path)?.is_dir() {
        return hash_file(path);
    }
    let mut entries: Vec<_> = walkdir::WalkDir::new(path)
        .follow_links(false)
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(std::io::Error::other)?;
    entries.sort_by(|a, b| a.path().cmp(b.path()));
    let mut listing = String::new();
    for e in entries {
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(path).expect("under path");
            listing.push_str(&format!(
                "{}  {}\n",
                hash_file(e.path())?,
                rel.to_string_lossy()
            ));
        }
    }
    Ok(format!("{:x}", Sha256::digest(listing.as_bytes())))
}

/// What was promoted from each run, read from the provenance records in
/// `artifacts/{datasets,plots,exports}/` and `checkpoints/<task>/<model>/`:
/// source run (relative to the root) → artifacts (relative to the root).
pub fn promoted_from(root: &Path) -> std::collections::HashMap<PathBuf, Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = ["datasets", "plots", "exports"]
        .iter()
        .map(|s| PathBuf::from("artifacts").join(s))
        .collect();
    // Long-term checkpoints sit two levels down (task, model).
    for task in read_names(&root.join("checkpoints")) {
        for model in read_names(&root.join("checkpoints").join(&task)) {
            dirs.push(PathBuf::from("checkpoints").join(&task).join(model));
        }
    }
    let mut out: std::collections::HashMap<PathBuf, Vec<PathBuf>> = Default::default();
    for dir in dirs {
        for n in read_names(&root.join(&dir)) {
            let Some(artifact) = n.strip_suffix(".provenance.json") else {
                continue;
            };
            let Some(record) = std::fs::read(root.join(&dir).join(&n))
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

/// The names in a folder, sorted (empty when it cannot be read).
fn read_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Applies a promotion: copy to a temporary name, then rename without
/// replacing (taking the next free name if another promotion got there
/// first), then the provenance record and the README index. Returns the
/// artifact's final path, relative to the root.
pub fn apply(root: &Path, p: &Promotion, run: &Run) -> Result<PathBuf, String> {
    let dest = root.join(&p.dest);
    let dir = dest.parent().ok_or("no destination folder")?.to_path_buf();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    clean_stale(&dir);
    let name = dest
        .file_name()
        .ok_or("no destination name")?
        .to_string_lossy()
        .into_owned();
    let tmp = dir.join(format!("{TMP_PREFIX}{}-{}", std::process::id(), name));
    let sha = match copy_tree(&root.join(&p.source), &tmp) {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp).or_else(|_| std::fs::remove_file(&tmp));
            return Err(format!("copying {}: {e}", p.source.display()));
        }
    };
    // Rename without replacing; if the name was taken meanwhile, take the next.
    let mut final_name = name.clone();
    let mut attempt = 1;
    loop {
        let to = dir.join(&final_name);
        match rustix::fs::renameat_with(
            rustix::fs::CWD,
            &tmp,
            rustix::fs::CWD,
            &to,
            rustix::fs::RenameFlags::NOREPLACE,
        ) {
            Ok(()) => break,
            Err(rustix::io::Errno::EXIST) | Err(rustix::io::Errno::NOTEMPTY) if attempt < 100 => {
                attempt += 1;
                final_name = match &p.what {
                    What::Data => {
                        let base = name.rsplit_once("_v").map_or(name.as_str(), |(b, _)| b);
                        format!("{base}_v{}", next_version(&dir, base))
                    }
                    _ => free_name(&dir, &name),
                };
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(&tmp).or_else(|_| std::fs::remove_file(&tmp));
                return Err(format!("cannot put the artifact in place: {e}"));
            }
        }
    }
    let rel = p.dest.parent().unwrap_or(Path::new("")).join(&final_name);
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
        "version": 1,
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
    let sidecar_dir = std::fs::File::open(&dir).map_err(|e| e.to_string())?;
    super::trash::write_new(
        std::os::fd::AsFd::as_fd(&sidecar_dir),
        &format!("{final_name}.provenance.json"),
        &serde_json::to_vec_pretty(&record).unwrap_or_default(),
    )
    .map_err(|e| format!("writing the provenance record: {e}"))?;
    if rel.starts_with("artifacts") {
        update_index(root).map_err(|e| format!("artifacts/README.md: {e}"))?;
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
    // One writer at a time: two promotions each reading the records before
    // the other's landed would otherwise each drop the other's row.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.join("artifacts/.runyard-index.lock"))?;
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)?;
    let path = root.join("artifacts/README.md");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            super::create::ARTIFACTS_README.to_string()
        }
        Err(e) => return Err(e),
    };
    let mut rows = Vec::new();
    for sub in ["datasets", "plots", "exports"] {
        let Ok(rd) = std::fs::read_dir(root.join("artifacts").join(sub)) else {
            continue;
        };
        let mut names: Vec<_> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for n in names.iter().filter(|n| n.ends_with(".provenance.json")) {
            let Ok(b) = std::fs::read(root.join("artifacts").join(sub).join(n)) else {
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
    let tmp = path.with_file_name(format!(".README.md.runyard-tmp-{}", std::process::id()));
    std::fs::write(&tmp, new)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, &path)
}
