//! Other ML tools' files inside a run: PyTorch Lightning, TensorBoard,
//! Hydra, MLflow and Weights & Biases. [`discover`] finds their folders
//! (a bounded walk, fd-relative, never through a link); each tool's module
//! turns what it finds into the run facts runyard already has: series and
//! scalars (read through [`crate::runs::MetricsReader`], so they stream and
//! cache like `metrics/`), info fields, a config, overrides, logs.
//!
//! A run's own files win: tools' facts only fill what `run_info.json` and
//! the run's config lack, and each says which file it came from.

pub mod hydra;
pub mod lightning;
pub mod mlflow;
pub mod tensorboard;
pub mod wandb;

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::{AtFlags, FileType};
use serde::Serialize;
use serde_json::Value;

use super::files::Config;
use super::info::RunInfo;
use super::open;

/// Folders deeper than this below the run are not looked into
/// (`csv_logs/<name>/version_N/tf/` is 4).
const MAX_DEPTH: usize = 4;
/// At most this many folders are listed per run: a run holding a big
/// tree of its own (predictions, samples) costs a bounded walk.
const MAX_DIRS: usize = 64;
/// Entries of one folder looked at; the rest are not.
const MAX_ENTRIES: usize = 4096;
/// Tool files bigger than this (configs, summaries, metadata) are not read.
pub const FILE_CAP: u64 = open::METADATA_CAP;

/// The layout's own folders inside a run, never walked for tool files
/// (`checkpoints/`, `metrics/`, ... are read by their own readers).
const LAYOUT_DIRS: [&str; 7] = [
    "metrics",
    "checkpoints",
    "tmp",
    "cache",
    "plots",
    "logs",
    "artifacts",
];
/// Folders never worth a look anywhere (W&B's media, MLflow's artifacts
/// and registered models, code caches).
const SKIP_DIRS: [&str; 6] = [
    "checkpoints",
    "artifacts",
    "media",
    "node_modules",
    "__pycache__",
    "models",
];

/// A tool whose files runyard reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tool {
    /// PyTorch Lightning's CSVLogger (`metrics.csv`, `hparams.yaml`).
    Lightning,
    /// TensorBoard event files.
    TensorBoard,
    /// Hydra's `.hydra/` folder.
    Hydra,
    /// An MLflow file-store run folder.
    Mlflow,
    /// A Weights & Biases local run folder.
    Wandb,
}

impl Tool {
    /// The tool's name for people.
    pub fn word(self) -> &'static str {
        match self {
            Tool::Lightning => "Lightning",
            Tool::TensorBoard => "TensorBoard",
            Tool::Hydra => "Hydra",
            Tool::Mlflow => "MLflow",
            Tool::Wandb => "W&B",
        }
    }
}

/// One tool folder found in a run and the files of it runyard reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    /// The tool.
    pub tool: Tool,
    /// The folder, relative to the run (`""`: the run itself).
    pub dir: String,
    /// The files read, relative to the run.
    pub files: Vec<String>,
}

impl Place {
    /// `Hydra .`, `Lightning lightning_logs/version_0`: the tool and its
    /// folder as the run pane and `show` list them (the folder escaped).
    pub fn label(&self) -> String {
        let dir = if self.dir.is_empty() { "." } else { &self.dir };
        format!("{} {}", self.tool.word(), crate::fmt::escape(dir))
    }
}

/// What [`discover`] found in a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// Tool folders, in walk order (the run itself first).
    pub places: Vec<Place>,
    /// Every folder listed below the run, relative to it: a file added to
    /// or removed from any of them changes that folder's time, which the
    /// summary cache checks.
    pub dirs: Vec<String>,
    /// `checkpoints/` folders inside tool folders (Lightning's
    /// `version_N/checkpoints/`), relative to the run.
    pub checkpoint_dirs: Vec<String>,
    /// Folders that could not be listed, with the reason.
    pub errors: Vec<String>,
}

impl Found {
    /// The files of every place, with their tool.
    pub fn files(&self) -> impl Iterator<Item = (Tool, &str)> {
        self.places
            .iter()
            .flat_map(|p| p.files.iter().map(move |f| (p.tool, f.as_str())))
    }

    /// True when no tool folder was found.
    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }
}

/// An entry of a listed folder.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) kind: FileType,
}

/// A listed folder: its open handle (for opening what is inside) and its
/// entries.
pub(crate) struct Listed {
    dir: rustix::fs::Dir,
    /// The entries, by name.
    pub(crate) entries: Vec<Entry>,
}

impl Listed {
    /// The folder's handle (still open: children are opened relative to it).
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        // The handle is the one given to `Dir::new`: always there.
        self.dir
            .fd()
            .unwrap_or_else(|_| unreachable!("a Dir keeps its fd"))
    }
}

/// Lists the folder `fd` (at most [`MAX_ENTRIES`]), `.` and `..` left
/// out; entries whose name is not UTF-8 are left out too (no tool writes
/// such names). The handle itself is read (`Dir::read_from` would open
/// the folder again: three more system calls a run).
pub(crate) fn list(fd: OwnedFd, display: &str) -> Result<Listed, String> {
    let dir = rustix::fs::Dir::new(fd)
        .map_err(|e| format!("{display}: cannot list: {}", std::io::Error::from(e)))?;
    Ok(list_dir(dir))
}

/// The entries of an open folder (see [`list`]).
fn list_dir(mut dir: rustix::fs::Dir) -> Listed {
    let mut out = Vec::new();
    let mut n = 0;
    while let Some(e) = dir.read() {
        let Ok(e) = e else { break };
        n += 1;
        if n > MAX_ENTRIES + 2 {
            break;
        }
        let Ok(name) = std::str::from_utf8(e.file_name().to_bytes()) else {
            continue;
        };
        if name == "." || name == ".." {
            continue;
        }
        let mut kind = e.file_type();
        if kind == FileType::Unknown
            && let Ok(fd) = dir.fd()
        {
            // Some filesystems leave the type out of the listing.
            kind = rustix::fs::statat(fd, name, AtFlags::SYMLINK_NOFOLLOW)
                .map_or(FileType::Unknown, |st| FileType::from_raw_mode(st.st_mode));
        }
        out.push(Entry {
            name: name.to_string(),
            kind,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Listed { dir, entries: out }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn has_file(entries: &[Entry], name: &str) -> bool {
    entries
        .iter()
        .any(|e| e.name == name && e.kind == FileType::RegularFile)
}

fn has_dir(entries: &[Entry], name: &str) -> bool {
    entries
        .iter()
        .any(|e| e.name == name && e.kind == FileType::Directory)
}

/// True for a TensorBoard event file's name.
pub fn is_event_file(name: &str) -> bool {
    name.starts_with("events.out.tfevents.")
}

/// `version_<N>`: a Lightning logger's version folder.
fn is_version_dir(name: &str) -> bool {
    name.strip_prefix("version_")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The walk's state: folders listed so far.
struct Walk<'a> {
    found: &'a mut Found,
    listed: usize,
}

impl Walk<'_> {
    /// Lists `name` inside `parent` (relative path `rel`), when the walk's
    /// budget allows.
    fn open_list(&mut self, parent: BorrowedFd, name: &str, rel: &str) -> Option<Listed> {
        if self.listed >= MAX_DIRS {
            return None;
        }
        self.listed += 1;
        let fd = match open::open_dir_in(parent, name) {
            Ok(Some(fd)) => fd,
            Ok(None) => return None,
            Err(e) => {
                // The message names the folder by its last part: by its path here.
                let e = e.strip_prefix(&format!("{name}: ")).unwrap_or(&e);
                self.found.errors.push(format!("{rel}: {e}"));
                return None;
            }
        };
        match list(fd, rel) {
            Ok(listed) => {
                self.found.dirs.push(rel.to_string());
                Some(listed)
            }
            Err(e) => {
                self.found.errors.push(e);
                None
            }
        }
    }

    /// Looks at one folder (already listed) and below it.
    fn visit(&mut self, fd: BorrowedFd, rel: &str, entries: &[Entry], depth: usize) {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        // An MLflow run folder: its meta.yaml beside metrics/, params/ or tags/.
        if has_file(entries, "meta.yaml")
            && ["metrics", "params", "tags"]
                .iter()
                .any(|d| has_dir(entries, d))
        {
            let files = mlflow::files(self, fd, rel, entries);
            self.found.places.push(Place {
                tool: Tool::Mlflow,
                dir: rel.into(),
                files,
            });
            return;
        }
        // A W&B run folder: `run-*`/`offline-run-*`, or the run itself,
        // with the files W&B writes under `files/`.
        let wandb_name = name.starts_with("run-") || name.starts_with("offline-run-");
        if (wandb_name || depth == 0) && has_dir(entries, "files") {
            let files = wandb::files(self, fd, rel);
            if !files.is_empty() {
                self.found.places.push(Place {
                    tool: Tool::Wandb,
                    dir: rel.into(),
                    files,
                });
                return;
            }
        }
        if depth == 0 && has_dir(entries, ".hydra") {
            let files = hydra::files(self, fd, rel, entries);
            if !files.is_empty() {
                self.found.places.push(Place {
                    tool: Tool::Hydra,
                    dir: rel.into(),
                    files,
                });
            }
        }
        // Lightning's files at the run root (a version folder opened as the
        // run) or in any `<name>/version_N/`.
        let lightning: Vec<String> = lightning::FILES
            .iter()
            .filter(|f| (depth == 0 || is_version_dir(name)) && has_file(entries, f))
            .map(|f| join(rel, f))
            .collect();
        if !lightning.is_empty() {
            self.found.places.push(Place {
                tool: Tool::Lightning,
                dir: rel.into(),
                files: lightning,
            });
        }
        let events: Vec<String> = entries
            .iter()
            .filter(|e| e.kind == FileType::RegularFile && is_event_file(&e.name))
            .map(|e| join(rel, &e.name))
            .collect();
        if !events.is_empty() {
            self.found.places.push(Place {
                tool: Tool::TensorBoard,
                dir: rel.into(),
                files: events,
            });
        }
        // The run's own checkpoints/ is the layout's; a tool folder's is
        // the tool's (Lightning's version_N/checkpoints/).
        if depth > 0 && has_dir(entries, "checkpoints") {
            self.found.checkpoint_dirs.push(join(rel, "checkpoints"));
        }
        if depth >= MAX_DEPTH {
            return;
        }
        for e in entries {
            if e.kind != FileType::Directory || !self.worth_entering(name, &e.name, depth) {
                continue;
            }
            let child = join(rel, &e.name);
            if let Some(c) = self.open_list(fd, &e.name, &child) {
                self.visit(c.fd(), &child, &c.entries, depth + 1);
            }
        }
    }

    /// Every regular file under `name` inside `parent` (relative path
    /// `rel`), folders entered to [`MAX_DEPTH`] more levels: MLflow keys
    /// with `/` are subfolders.
    fn files_under(
        &mut self,
        parent: BorrowedFd,
        name: &str,
        rel: &str,
        depth: usize,
    ) -> Vec<String> {
        let Some(listed) = self.open_list(parent, name, rel) else {
            return Vec::new();
        };
        let fd = listed.fd();
        let mut out = Vec::new();
        for e in &listed.entries {
            let child = join(rel, &e.name);
            match e.kind {
                FileType::RegularFile => out.push(child),
                FileType::Directory if depth < MAX_DEPTH => {
                    out.extend(self.files_under(fd, &e.name, &child, depth + 1));
                }
                _ => {}
            }
        }
        out
    }

    /// Whether the folder `name` inside `parent` (at `depth`) may hold
    /// tool files.
    fn worth_entering(&self, parent: &str, name: &str, depth: usize) -> bool {
        if depth == 0 && LAYOUT_DIRS.contains(&name) {
            return false;
        }
        if SKIP_DIRS.contains(&name) || (name.starts_with('.') && name != ".hydra") {
            return false;
        }
        if name == ".hydra" {
            // Read by the Hydra reader, never walked.
            return false;
        }
        if parent == "wandb" {
            // Only run folders: not `latest-run` (a link: never entered anyway).
            return name.starts_with("run-") || name.starts_with("offline-run-");
        }
        if parent == "mlruns" {
            return name != "models";
        }
        true
    }
}

/// Finds the tool folders of the run at `run` (see the module doc). Cheap
/// on a run without any: one listing of the run folder, as the layout's own
/// folders are never entered.
pub fn discover(run: &Path) -> Found {
    match open::open_dir(run) {
        Ok(Some(d)) => discover_owned(d),
        Ok(None) => Found::default(),
        Err(e) => Found {
            errors: vec![e],
            ..Found::default()
        },
    }
}

/// [`discover`] through an open handle of the run folder (duplicated: no
/// path is walked again; only its entries are read, never its position).
pub fn discover_in(run: BorrowedFd) -> Found {
    match rustix::io::dup(run) {
        Ok(fd) => discover_owned(fd),
        Err(e) => Found {
            errors: vec![format!("cannot list the run: {}", std::io::Error::from(e))],
            ..Found::default()
        },
    }
}

/// True for an entry of the run folder that may hold or be tool files.
fn worth_a_walk(name: &[u8], kind: FileType) -> bool {
    let Ok(name) = std::str::from_utf8(name) else {
        return false;
    };
    match kind {
        FileType::Directory => name != "." && name != ".." && !LAYOUT_DIRS.contains(&name),
        // An MLflow run folder opened as the run may hold only `metrics/`
        // beside its meta.yaml.
        FileType::RegularFile => {
            is_event_file(name) || lightning::FILES.contains(&name) || name == "meta.yaml"
        }
        _ => false,
    }
}

fn discover_owned(fd: OwnedFd) -> Found {
    let mut found = Found::default();
    let mut dir = match rustix::fs::Dir::new(fd) {
        Ok(d) => d,
        Err(e) => {
            found
                .errors
                .push(format!("cannot list the run: {}", std::io::Error::from(e)));
            return found;
        }
    };
    // Most runs hold only the layout's own files and folders: a first pass
    // over the names, allocating nothing, says whether there is anything
    // to walk.
    let mut worth = false;
    while let Some(e) = dir.read() {
        let e = match e {
            Ok(e) => e,
            Err(e) => {
                found
                    .errors
                    .push(format!("cannot list the run: {}", std::io::Error::from(e)));
                return found;
            }
        };
        let name = e.file_name().to_bytes();
        let mut kind = e.file_type();
        if kind == FileType::Unknown
            && let Ok(fd) = dir.fd()
        {
            kind = rustix::fs::statat(fd, e.file_name(), AtFlags::SYMLINK_NOFOLLOW)
                .map_or(FileType::Unknown, |st| FileType::from_raw_mode(st.st_mode));
        }
        if worth_a_walk(name, kind) {
            worth = true;
            break;
        }
    }
    if !worth {
        return found;
    }
    dir.rewind();
    let listed = list_dir(dir);
    let mut walk = Walk {
        found: &mut found,
        listed: 0,
    };
    walk.visit(listed.fd(), "", &listed.entries, 0);
    found
}

/// Opens the folder `rel` (a `/`-separated path) inside `run`, no link
/// followed on the way.
pub(crate) fn open_rel_dir(run: BorrowedFd, rel: &str) -> Result<Option<OwnedFd>, String> {
    let mut cur: Option<OwnedFd> = None;
    for part in rel.split('/').filter(|p| !p.is_empty()) {
        let parent = cur.as_ref().map_or(run, |c| c.as_fd());
        match open::open_dir_in(parent, part)? {
            Some(fd) => cur = Some(fd),
            None => return Ok(None),
        }
    }
    match cur {
        Some(fd) => Ok(Some(fd)),
        None => rustix::fs::openat(
            run,
            ".",
            rustix::fs::OFlags::RDONLY,
            rustix::fs::Mode::empty(),
        )
        .map(Some)
        .map_err(|e| format!("{rel}: cannot open: {}", std::io::Error::from(e))),
    }
}

/// Opens the regular file `rel` inside `run` without following a link on
/// the way: `Ok(None)` when it does not exist.
pub(crate) fn open_rel(
    run: BorrowedFd,
    rel: &str,
) -> Result<Option<(std::fs::File, rustix::fs::Stat)>, String> {
    let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let Some(d) = open_rel_dir(run, dir)? else {
        return Ok(None);
    };
    open::open_file_in(d.as_fd(), OsStr::from_bytes(name.as_bytes()), rel)
}

/// Reads the regular file `rel` inside `run` (at most [`FILE_CAP`]).
pub(crate) fn read_rel(run: BorrowedFd, rel: &str) -> Result<Option<Vec<u8>>, String> {
    match open_rel(run, rel)? {
        Some((file, st)) => open::read_capped(file, &st, FILE_CAP, rel).map(Some),
        None => Ok(None),
    }
}

/// YAML as runyard shows it: Python tags that PyYAML writes
/// (`!!python/name:torch.optim.adam.Adam ''`, `!!python/object/apply:…`)
/// become strings saying the tag, so a plain reader never fails on them.
pub fn parse_yaml(bytes: &[u8], rel: &str) -> Result<Value, String> {
    // The YAML reader drops `!!` (standard-prefix) tags it does not know,
    // which would leave `optimizer: ''`: as local tags they are kept.
    let text = String::from_utf8_lossy(bytes);
    let text = if text.contains("!!python/") {
        std::borrow::Cow::Owned(text.replace("!!python/", "!python/"))
    } else {
        text
    };
    let v: serde_norway::Value =
        serde_norway::from_str(&text).map_err(|e| format!("{rel}: not valid YAML ({e})"))?;
    Ok(yaml_to_json(v))
}

fn yaml_to_json(v: serde_norway::Value) -> Value {
    use serde_norway::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map_or_else(|| Value::String(f.to_string()), Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match yaml_to_json(k) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            match yaml_to_json(t.value) {
                Value::Null => Value::String(tag),
                Value::String(s) if s.is_empty() => Value::String(tag),
                Value::String(s) => Value::String(format!("{tag} {s}")),
                other => Value::String(format!("{tag} {other}")),
            }
        }
    }
}

/// A fact about the run read from a tool's file: which field, its value,
/// and the file (relative to the run).
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// `command`, `git_commit`, `status`, `started_at`, `finished_at`, or
    /// another key shown as it is (`name`, `host`...).
    pub key: String,
    /// The value.
    pub value: Value,
    /// Where it was read.
    pub file: String,
}

impl Fact {
    fn new(key: &str, value: impl Into<Value>, file: &str) -> Fact {
        Fact {
            key: key.into(),
            value: value.into(),
            file: file.into(),
        }
    }
}

/// Hydra's overrides: what changed from the composed config.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overrides {
    /// `.hydra/overrides.yaml`, relative to the run.
    pub file: String,
    /// One `key=value` per item, as written.
    pub items: Vec<String>,
}

/// Everything the tools' files say of a run, besides series and scalars.
#[derive(Debug, Clone, Default)]
pub struct ToolFacts {
    /// Run facts in the order found (the first for a key wins).
    pub facts: Vec<Fact>,
    /// Configs, in the order they are preferred.
    pub configs: Vec<Config>,
    /// Hydra's overrides.
    pub overrides: Option<Overrides>,
    /// Log files, relative to the run.
    pub logs: Vec<String>,
    /// Files that could not be read, one line each.
    pub errors: Vec<String>,
}

/// Reads the tools' files `found` in `run` (configs only when `configs`).
pub fn facts(run: &Path, found: &Found, configs: bool) -> ToolFacts {
    let mut out = ToolFacts::default();
    if found.is_empty() {
        return out;
    }
    let dir = match open::open_dir(run) {
        Ok(Some(d)) => d,
        Ok(None) => return out,
        Err(e) => {
            out.errors.push(e);
            return out;
        }
    };
    let own_time = run
        .file_name()
        .and_then(|n| crate::layout::parse_run_id(&n.to_string_lossy()))
        .is_some();
    // Hydra first: its config is the one the program was given.
    let mut places: Vec<&Place> = found.places.iter().collect();
    places.sort_by_key(|p| match p.tool {
        Tool::Hydra => 0,
        Tool::Mlflow => 1,
        Tool::Wandb => 2,
        Tool::Lightning => 3,
        Tool::TensorBoard => 4,
    });
    for p in places {
        match p.tool {
            Tool::Hydra => hydra::read(dir.as_fd(), p, configs, &mut out),
            Tool::Mlflow => mlflow::read(dir.as_fd(), p, configs, &mut out),
            Tool::Wandb => wandb::read(dir.as_fd(), p, configs, &mut out),
            Tool::Lightning if configs => lightning::read(dir.as_fd(), p, &mut out),
            // A run id is the run's own time: it wins over the file's.
            Tool::TensorBoard if !own_time => out.facts.extend(tensorboard::start_fact(p)),
            Tool::TensorBoard => {}
            Tool::Lightning => {}
        }
    }
    out
}

/// Fills what `info` lacks from the tools' facts, noting each field's
/// file in `sources`. A run with no `run_info.json` gets one made of them.
pub fn fill_info(info: &mut Option<RunInfo>, facts: &[Fact]) {
    if facts.is_empty() {
        return;
    }
    let i = info.get_or_insert_with(RunInfo::default);
    for f in facts {
        let text = || match &f.value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let slot = match f.key.as_str() {
            "command" => &mut i.command,
            "git_commit" => &mut i.git_commit,
            "status" => &mut i.status,
            "started_at" => &mut i.started_at,
            "finished_at" => &mut i.finished_at,
            key => {
                if !i.extra.contains_key(key) {
                    i.extra.insert(key.to_string(), f.value.clone());
                    i.sources.insert(key.to_string(), f.file.clone());
                }
                continue;
            }
        };
        if slot.is_none() {
            *slot = Some(text());
            i.sources.insert(f.key.clone(), f.file.clone());
        }
    }
}

/// A time in milliseconds since the epoch as runyard shows times
/// (RFC 3339, UTC).
pub(crate) fn time_of_ms(ms: i64) -> Option<String> {
    jiff::Timestamp::from_millisecond(ms)
        .ok()
        .map(|t| t.round(jiff::Unit::Second).unwrap_or(t).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_tags_degrade_to_strings() {
        let v = parse_yaml(
            b"optimizer: !!python/name:torch.optim.adam.Adam ''\nlr: 0.001\n\
              betas: !!python/tuple [0.9, 0.999]\nname: x\n",
            "hparams.yaml",
        )
        .unwrap();
        assert_eq!(v["lr"], 0.001);
        assert_eq!(v["name"], "x");
        let opt = v["optimizer"].as_str().unwrap();
        assert!(opt.contains("python/name:torch.optim.adam.Adam"), "{opt}");
        assert!(v["betas"].as_str().unwrap().contains("0.9"));
    }

    #[test]
    fn facts_fill_only_what_is_missing() {
        let mut info = Some(RunInfo {
            git_commit: Some("own".into()),
            ..RunInfo::default()
        });
        fill_info(
            &mut info,
            &[
                Fact::new(
                    "git_commit",
                    "tool",
                    "wandb/run-1/files/wandb-metadata.json",
                ),
                Fact::new("status", "finished", "mlruns/0/abc/meta.yaml"),
                Fact::new("host", "gpu-3", "wandb/run-1/files/wandb-metadata.json"),
            ],
        );
        let i = info.unwrap();
        assert_eq!(i.git_commit.as_deref(), Some("own"));
        assert_eq!(i.status.as_deref(), Some("finished"));
        assert_eq!(i.extra["host"], "gpu-3");
        assert_eq!(i.sources["status"], "mlruns/0/abc/meta.yaml");
        assert!(!i.sources.contains_key("git_commit"));
    }

    #[test]
    fn version_folders() {
        assert!(is_version_dir("version_0"));
        assert!(is_version_dir("version_12"));
        assert!(!is_version_dir("version_"));
        assert!(!is_version_dir("version_x"));
    }
}
