//! What runyard creates: the layout (`init`), a new run folder (`new-run`)
//! and the end of a run (`finish`). Nothing here overwrites a user's file.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use serde_json::{Map, Value, json};

use super::fsat;
use crate::layout;
use crate::runs::info::RUN_INFO;

/// The folders a run starts with.
pub const RUN_FOLDERS: &[&str] = &[
    "logs",
    "checkpoints",
    "metrics",
    "plots",
    "data",
    "tmp",
    "cache",
];

/// `artifacts/README.md` as `init` writes it.
pub const ARTIFACTS_README: &str = "# artifacts/\n\n\
Shared outputs promoted out of runs, so nobody digs through `experiments/`\n\
for them. Promotion copies (never moves) and never overwrites; cleanup never\n\
deletes anything here.\n\n\
## Naming conventions\n\n\
| folder | name | example |\n|---|---|---|\n\
| `datasets/` | `<pipeline>_v<N>/`, N = 1 + the greatest existing version | `datasets/ocr-clean_v1/` |\n\
| `plots/` | `<task>_<YYYY-MM-DD>_<file name>` (date of promotion) | `plots/ocr_2025-12-05_loss.png` |\n\
| `exports/` | `<task>_<model>_<run_id>_<file name>` | `exports/ocr_crnn_2025-12-04_14-32-10_seed42_model.onnx` |\n\n\
Every artifact has a sidecar `<name>.provenance.json`: the source run, its\n\
command and git commit, a sha256 and the promotion time.\n\n\
## Who reads what\n\n\
(Say here which configs and services consume these artifacts.)\n\n\
## Index\n\n\
<!-- runyard:index:start -->\n\
| artifact | kind | source run | promoted at |\n|---|---|---|---|\n\
<!-- runyard:index:end -->\n";

/// `docs/outputs_structure.md` as `init` writes it.
pub const OUTPUTS_STRUCTURE: &str = "# The outputs/ folder\n\n\
```\n\
outputs/\n\
  experiments/<task>/<model>/<run_id>/   one folder per run\n\
      config.yaml  run_info.json  README.md\n\
      logs/  checkpoints/  metrics/  plots/  data/\n\
      tmp/  cache/                       ephemeral: safe to delete when the run is idle\n\
  experiments/preproc/<pipeline>/<run_id>/   preprocessing runs; data/ holds the dataset\n\
  artifacts/{datasets,plots,exports}/    promoted results (see artifacts/README.md)\n\
  checkpoints/                           long-term checkpoints, kept apart from runs\n\
  logs/                                  global logs (cron, system)\n\
```\n\n\
## Run ids\n\n\
`YYYY-MM-DD_HH-MM-SS[_tag]`: the local time the run started, then an optional\n\
tag of letters, digits and `._+-` (`2025-12-04_14-32-10_seed42`).\n\
`runyard new-run --task T --model M --tag TAG` makes one and prints its path.\n\n\
## Safe to delete\n\n\
- A run's `tmp/` and `cache/`, once the run has written nothing for ten minutes\n\
  (`runyard clean`).\n\
- Epoch/step checkpoints other than the latest and the best (`runyard clean --checkpoints`).\n\
- Nothing else: `checkpoints/`, `logs/`, `artifacts/`, metrics, plots and configs\n\
  are kept. Whole runs go to `outputs/.trash/` first (`runyard rm`, `runyard restore`).\n";

/// Creates the layout under `root` (and `docs/` beside it). Returns what it
/// created; existing files and folders are left as they are. An error names
/// the path and why (a dangling link, a file where a folder belongs).
pub fn init(root: &Path) -> Result<Vec<PathBuf>, String> {
    let mut created = Vec::new();
    let project = root.parent().unwrap_or(root).to_path_buf();
    for dir in [
        "experiments",
        "checkpoints",
        "logs",
        "artifacts/datasets",
        "artifacts/plots",
        "artifacts/exports",
    ] {
        let p = root.join(dir);
        if ensure_dir(&p)? {
            created.push(p);
        }
    }
    for (path, text) in [
        (root.join("artifacts/README.md"), ARTIFACTS_README),
        (project.join("docs/outputs_structure.md"), OUTPUTS_STRUCTURE),
    ] {
        if let Some(dir) = path.parent() {
            ensure_dir(dir)?;
        }
        // create_new: never overwrite, even if the file appears meanwhile
        // (O_EXCL also refuses a link, dangling or not, so none is followed).
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                std::io::Write::write_all(&mut f, text.as_bytes())
                    .and_then(|()| f.sync_all())
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                created.push(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    Ok(created)
}

/// Makes sure `dir` and its parents are folders, creating what is missing;
/// true when `dir` itself was created. A link to a folder is accepted (a
/// user may keep `experiments/` on another disk); a dangling link, or a
/// link or file where a folder belongs, is an error naming the path.
fn ensure_dir(dir: &Path) -> Result<bool, String> {
    let mut chain: Vec<&Path> = dir
        .ancestors()
        .filter(|p| !p.as_os_str().is_empty())
        .collect();
    chain.reverse();
    let mut made = false;
    for p in chain {
        made = false;
        match std::fs::symlink_metadata(p) {
            Ok(md) if md.is_dir() => {}
            Ok(md) if md.file_type().is_symlink() => match std::fs::metadata(p) {
                Ok(target) if target.is_dir() => {}
                Ok(_) => {
                    return Err(format!(
                        "{}: is a symbolic link to something that is not a folder; not followed",
                        p.display()
                    ));
                }
                Err(_) => {
                    let to = std::fs::read_link(p)
                        .map(|t| format!(" to {}", t.display()))
                        .unwrap_or_default();
                    return Err(format!(
                        "{}: is a symbolic link{to} that leads nowhere (dangling); remove it or point it at a folder",
                        p.display()
                    ));
                }
            },
            Ok(_) => {
                return Err(format!(
                    "{}: is a file where a folder belongs; not touched",
                    p.display()
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match std::fs::create_dir(p) {
                Ok(()) => made = true,
                // Created by someone else meanwhile: fine if it is a folder.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && p.is_dir() => {}
                Err(e) => return Err(format!("{}: cannot create: {e}", p.display())),
            },
            Err(e) => return Err(format!("{}: {e}", p.display())),
        }
    }
    Ok(made)
}

/// What a new run records about itself.
#[derive(Debug, Clone, Default)]
pub struct NewRun {
    /// Task folder.
    pub task: String,
    /// Model folder.
    pub model: String,
    /// Tag after the time in the run id.
    pub tag: Option<String>,
    /// A config file to copy in.
    pub config: Option<PathBuf>,
    /// Seeds.
    pub seed: Option<u64>,
    /// The command the run executes.
    pub command: Vec<String>,
}

/// The git commit of the working folder, and whether it has changes.
fn git_state() -> (Option<String>, Option<bool>) {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = run(&["rev-parse", "HEAD"]);
    let dirty = commit
        .as_ref()
        .and_then(|_| run(&["status", "--porcelain"]))
        .map(|s| !s.is_empty());
    (commit, dirty)
}

/// Creates `experiments/<task>/<model>/<run_id>/` with the standard
/// folders, the config and `run_info.json`; returns its path. Two calls in
/// the same second get different run ids (the second one a second later).
pub fn new_run(root: &Path, spec: &NewRun) -> Result<PathBuf, String> {
    layout::check_folder_name("task", &spec.task)?;
    layout::check_folder_name("model", &spec.model)?;
    // The run's config is read whole before anything is made: a FIFO
    // (which would block) or a device is refused, and a failure leaves no
    // half-made run behind. The file is the user's own, outside the tree,
    // so a link to it is fine.
    let config = match &spec.config {
        Some(cfg) => {
            let fd = rustix::fs::open(
                cfg,
                OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| format!("{}: {}", cfg.display(), fsat::reason(e)))?;
            let (bytes, _) =
                read_regular(fd, 16 << 20).map_err(|e| format!("{}: {e}", cfg.display()))?;
            let ext = cfg.extension().and_then(|e| e.to_str()).unwrap_or("yaml");
            let name = match ext {
                "yml" | "yaml" => "config.yaml".to_string(),
                other => format!("config.{other}"),
            };
            Some((name, bytes))
        }
        None => None,
    };
    // experiments/<task>/<model>, made one folder at a time relative to the
    // last, never through a link and never onto another mount: a task
    // folder linked out of the tree is refused, not written through.
    let rel = Path::new(layout::EXPERIMENTS)
        .join(&spec.task)
        .join(&spec.model);
    let mut made = PathBuf::new();
    for c in rel.components() {
        let dir = fsat::open_on_mount(root, &made)?;
        match rustix::fs::mkdirat(&dir, c.as_os_str(), Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(format!("{}: {}", made.join(c).display(), fsat::reason(e))),
        }
        made.push(c);
    }
    let parent_fd = fsat::open_on_mount(root, &rel)?;
    let parent = root.join(&rel);
    let now = jiff::ZonedDateTime::now();
    let mut time = now.datetime();
    let (run, run_fd) = loop {
        let id = layout::make_run_id(time, spec.tag.as_deref());
        // mkdir is the lock: whoever creates the folder owns the id.
        match rustix::fs::mkdirat(&parent_fd, id.as_str(), Mode::from_raw_mode(0o755)) {
            Ok(()) => {
                let fd = fsat::open_dir_at(parent_fd.as_fd(), std::ffi::OsStr::new(&id))
                    .map_err(|e| format!("{}: {}", parent.join(&id).display(), fsat::reason(e)))?;
                break (parent.join(&id), fd);
            }
            Err(rustix::io::Errno::EXIST) => {
                time = time
                    .checked_add(jiff::SignedDuration::from_secs(1))
                    .map_err(|e| e.to_string())?;
            }
            Err(e) => {
                return Err(format!(
                    "{}: {}",
                    parent.join(&id).display(),
                    fsat::reason(e)
                ));
            }
        }
    };
    for sub in RUN_FOLDERS {
        rustix::fs::mkdirat(&run_fd, *sub, Mode::from_raw_mode(0o755))
            .map_err(|e| format!("{sub}: {}", fsat::reason(e)))?;
    }
    if let Some((name, bytes)) = &config {
        super::trash::write_new(run_fd.as_fd(), name, bytes)
            .map_err(|e| format!("{}: {e}", run.join(name).display()))?;
    }
    let (git_commit, git_dirty) = git_state();
    let info = json!({
        "command": if spec.command.is_empty() { Value::Null } else { json!(spec.command.join(" ")) },
        "git_commit": git_commit,
        "git_dirty": git_dirty,
        "seeds": spec.seed.map(|s| json!([s])),
        "metrics": {},
        "notes": "",
        "status": "running",
        "started_at": now.timestamp().to_string(),
        "host": std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_string()),
    });
    write_json_at(run_fd.as_fd(), &run.join(RUN_INFO), &info, None)?;
    Ok(run)
}

/// Writes `run_info.json` whole in the open run folder `dir`: a temporary
/// beside it (never through a link), fsync, then a rename over the old one,
/// so a crash leaves the old file or the new one, never half of either.
/// `shown` names the file in errors; `mode` keeps the old file's permissions.
fn write_json_at(
    dir: BorrowedFd,
    shown: &Path,
    value: &Value,
    mode: Option<u32>,
) -> Result<(), String> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| e.to_string())?;
    let tmp = format!(".{RUN_INFO}.runyard-tmp-{}", std::process::id());
    let fail = |e: std::io::Error| format!("{}: {e}", shown.display());
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC | OFlags::NOFOLLOW;
    let mode = Mode::from_raw_mode(mode.unwrap_or(0o644));
    let fd = match rustix::fs::openat(dir, tmp.as_str(), flags, mode) {
        // Left by a runyard that was killed with this same pid: ours to replace.
        Err(rustix::io::Errno::EXIST) => {
            let _ = rustix::fs::unlinkat(dir, tmp.as_str(), AtFlags::empty());
            rustix::fs::openat(dir, tmp.as_str(), flags, mode)
        }
        other => other,
    }
    .map_err(|e| fail(e.into()))?;
    let mut f = std::fs::File::from(fd);
    let result = f
        .write_all(&bytes)
        .and_then(|()| f.sync_all())
        .and_then(|()| {
            // A rename replaces a link at the name itself, never its target.
            rustix::fs::renameat(dir, tmp.as_str(), dir, RUN_INFO).map_err(Into::into)
        })
        .and_then(|()| rustix::fs::fsync(dir).map_err(Into::into));
    if result.is_err() {
        let _ = rustix::fs::unlinkat(dir, tmp.as_str(), AtFlags::empty());
    }
    result.map_err(fail)
}

/// The largest `run_info.json` (or metrics file) `finish` reads: metadata,
/// not data; a bigger file is refused rather than read into memory.
const RECORD_LIMIT: u64 = 8 << 20;

/// What kind of file a mode is, for messages that refuse it.
pub(crate) fn kind_name(kind: FileType) -> &'static str {
    match kind {
        FileType::RegularFile => "a regular file",
        FileType::Directory => "a folder",
        FileType::Symlink => "a symbolic link",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Unknown => "not a regular file",
    }
}

/// Reads a small regular file from an open descriptor: refuses anything
/// else (a FIFO would block, a device would never end) and anything over
/// `cap` bytes, checking the size and reading at most `cap + 1` bytes, so a
/// file that grows meanwhile is still refused. Returns the bytes and the
/// file's permission bits.
pub(crate) fn read_regular(fd: OwnedFd, cap: u64) -> Result<(Vec<u8>, u32), String> {
    let st = rustix::fs::fstat(&fd).map_err(|e| std::io::Error::from(e).to_string())?;
    let kind = FileType::from_raw_mode(st.st_mode);
    if kind != FileType::RegularFile {
        return Err(format!("is {}, not a regular file", kind_name(kind)));
    }
    let too_big = || {
        format!(
            "is larger than runyard reads ({} at most)",
            crate::fmt::size(cap)
        )
    };
    if st.st_size as u64 > cap {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    std::fs::File::from(fd)
        .take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > cap {
        return Err(too_big());
    }
    Ok((bytes, st.st_mode & 0o7777))
}

/// Opens `name` in `dir` for reading without following a link and without
/// blocking on a FIFO; `Ok(None)` when there is no such file.
fn open_record(dir: BorrowedFd, name: &str) -> Result<Option<OwnedFd>, String> {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    match rustix::fs::openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => Ok(Some(fd)),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(rustix::io::Errno::LOOP) => Err(
            "is a symbolic link: runyard neither reads nor writes through it (put the file itself there)"
                .into(),
        ),
        Err(e) => Err(std::io::Error::from(e).to_string()),
    }
}

/// Records the end of a run in its `run_info.json`: status, finish time,
/// and key metrics merged from a JSON file. Other keys are kept. The run
/// folder (`run_rel` under `root`) is opened one component at a time
/// without following links, and the file is read and replaced relative to
/// it: a `run_info.json` that is a link or not a regular file is refused.
pub fn finish(
    root: &Path,
    run_rel: &Path,
    status: &str,
    metrics: Option<&Path>,
) -> Result<(), String> {
    let shown = root.join(run_rel).join(RUN_INFO);
    let at = |e: String| format!("{}: {e}", shown.display());
    let dir = fsat::open_chain(root, run_rel)?;
    let (mut info, mode): (Map<String, Value>, Option<u32>) =
        match open_record(dir.as_fd(), RUN_INFO).map_err(at)? {
            None => (Map::new(), None),
            Some(fd) => {
                let (bytes, mode) = read_regular(fd, RECORD_LIMIT).map_err(at)?;
                match serde_json::from_slice(&bytes) {
                    Ok(Value::Object(m)) => (m, Some(mode)),
                    Ok(_) | Err(_) => {
                        return Err(at("not a JSON object; not rewritten".into()));
                    }
                }
            }
        };
    info.insert("status".into(), json!(status));
    info.insert(
        "finished_at".into(),
        json!(jiff::Timestamp::now().to_string()),
    );
    if let Some(file) = metrics {
        let of_file = |e: String| format!("{}: {e}", file.display());
        let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(rustix::fs::CWD, file, flags, Mode::empty())
            .map_err(|e| of_file(std::io::Error::from(e).to_string()))?;
        let (bytes, _) = read_regular(fd, RECORD_LIMIT).map_err(of_file)?;
        let Value::Object(new) = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{}: not valid JSON ({e})", file.display()))?
        else {
            return Err(format!(
                "{}: expected a JSON object of metrics",
                file.display()
            ));
        };
        let entry = info.entry("metrics").or_insert_with(|| json!({}));
        if !entry.is_object() {
            *entry = json!({});
        }
        if let Value::Object(m) = entry {
            m.extend(new);
        }
    }
    write_json_at(dir.as_fd(), &shown, &Value::Object(info), mode)
}
