//! Listings of a run's files: checkpoints (parsed and marked for pruning),
//! plots, logs; and its config.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use walkdir::WalkDir;

use crate::catalog::Usage;
use crate::layout::{self, CheckpointName};

/// A file (or folder) inside a run, sized.
#[derive(Debug, Clone, Serialize)]
pub struct FileItem {
    /// Path relative to the run.
    pub rel: String,
    /// Bytes on disk and apparent bytes (a folder: everything under it).
    pub usage: Usage,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// True for a folder (a checkpoint saved as a folder).
    pub is_dir: bool,
    /// True for a symbolic link (never followed).
    pub is_link: bool,
}

/// A direct child of `checkpoints/`, with what its name says.
#[derive(Debug, Clone, Serialize)]
pub struct Checkpoint {
    /// The file or folder.
    pub file: FileItem,
    /// The parsed name.
    pub parsed: CheckpointName,
    /// True when pruning would delete it.
    pub prune: bool,
}

/// Sums a folder without following links (walkdir: convenience over speed,
/// the folders here are small).
fn folder_usage(path: &Path) -> Usage {
    use std::os::unix::fs::MetadataExt;
    let mut u = Usage::default();
    for entry in WalkDir::new(path).follow_links(false).into_iter().flatten() {
        if let Ok(md) = entry.metadata() {
            u.disk += md.blocks() * 512;
            u.apparent += md.len();
        }
    }
    u
}

fn item(run: &Path, entry: &walkdir::DirEntry, deep: bool) -> Option<FileItem> {
    use std::os::unix::fs::MetadataExt;
    let md = entry.metadata().ok()?;
    let is_dir = md.is_dir();
    let usage = if is_dir && deep {
        folder_usage(entry.path())
    } else {
        Usage {
            disk: md.blocks() * 512,
            apparent: md.len(),
        }
    };
    Some(FileItem {
        rel: entry
            .path()
            .strip_prefix(run)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .into_owned(),
        usage,
        mtime: md.mtime(),
        is_dir,
        is_link: entry.path_is_symlink(),
    })
}

/// The checkpoints of a run, in name order, each marked for pruning or
/// not: its `checkpoints/`, then those of tool folders inside it
/// (Lightning's `lightning_logs/version_N/checkpoints/`), each folder
/// judged on its own.
pub fn checkpoints(run: &Path) -> Vec<Checkpoint> {
    checkpoints_in(run, &super::formats::discover(run).checkpoint_dirs)
}

/// The checkpoints of a run's `checkpoints/` and of the folders `more`
/// (relative to the run, as [`super::formats::discover`] found them).
pub fn checkpoints_in(run: &Path, more: &[String]) -> Vec<Checkpoint> {
    let mut out = checkpoints_at(run, "checkpoints");
    for rel in more {
        out.extend(checkpoints_at(run, rel));
    }
    out
}

/// A file of the run by its relative path, sized, looked at without
/// following a link (the folders on the way were found the same way).
pub fn item_at(run: &Path, rel: &str) -> Option<FileItem> {
    use std::os::fd::AsFd;
    let dir = super::open::open_dir(run).ok()??;
    let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let parent = super::formats::open_rel_dir(dir.as_fd(), parent).ok()??;
    let st =
        rustix::fs::statat(parent.as_fd(), name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW).ok()?;
    let kind = rustix::fs::FileType::from_raw_mode(st.st_mode);
    Some(FileItem {
        rel: rel.to_string(),
        usage: Usage {
            disk: u64::try_from(st.st_blocks).unwrap_or(0) * 512,
            apparent: u64::try_from(st.st_size).unwrap_or(0),
        },
        mtime: st.st_mtime,
        is_dir: kind == rustix::fs::FileType::Directory,
        is_link: kind == rustix::fs::FileType::Symlink,
    })
}

/// The checkpoints directly inside the folder `sub` of the run.
fn checkpoints_at(run: &Path, sub: &str) -> Vec<Checkpoint> {
    let dir = run.join(sub);
    if std::fs::symlink_metadata(&dir).map_or(true, |m| !m.is_dir()) {
        return Vec::new();
    }
    let mut items: Vec<FileItem> = WalkDir::new(&dir)
        .min_depth(1)
        .max_depth(1)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .filter_map(|e| item(run, &e, true))
        .collect();
    items.sort_by(|a, b| a.rel.cmp(&b.rel));
    let parsed: Vec<CheckpointName> = items
        .iter()
        .map(|f| layout::parse_checkpoint(f.rel.rsplit('/').next().unwrap_or(&f.rel)))
        .collect();
    let leaf: Vec<&str> = items
        .iter()
        .map(|f| f.rel.rsplit('/').next().unwrap_or(&f.rel))
        .collect();
    let prune = layout::prune_names(&leaf);
    items
        .into_iter()
        .zip(parsed)
        .zip(prune)
        .map(|((file, parsed), prune)| Checkpoint {
            file,
            parsed,
            prune,
        })
        .collect()
}

/// Every file under `sub` (e.g. `plots`, `logs`) that `keep` accepts, in path order.
pub fn files_under(run: &Path, sub: &str, keep: impl Fn(&str) -> bool) -> Vec<FileItem> {
    let dir = run.join(sub);
    if std::fs::symlink_metadata(&dir).map_or(true, |m| !m.is_dir()) {
        return Vec::new();
    }
    WalkDir::new(&dir)
        .min_depth(1)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .filter(|e| !e.file_type().is_dir() && keep(&e.file_name().to_string_lossy()))
        .filter_map(|e| item(run, &e, false))
        .collect()
}

/// The plots of a run: images under `plots/`.
pub fn plots(run: &Path) -> Vec<FileItem> {
    files_under(run, "plots", layout::is_plot_file)
}

/// The logs of a run: files under `logs/`.
pub fn logs(run: &Path) -> Vec<FileItem> {
    files_under(run, "logs", |_| true)
}

/// A run's config: which file, and its content as a JSON value.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// `config.yaml`, `config.yml` or `config.json`.
    pub file: String,
    /// The parsed content.
    pub value: Value,
}

impl Config {
    /// Reads the run's config: `Ok(None)` when it has none.
    pub fn load(run: &Path) -> Result<Option<Config>, String> {
        match super::open::open_dir(run)? {
            Some(dir) => Config::load_in(std::os::fd::AsFd::as_fd(&dir)),
            None => Ok(None),
        }
    }

    /// [`Config::load`] in the run folder open as `dir`.
    pub fn load_in(dir: std::os::fd::BorrowedFd) -> Result<Option<Config>, String> {
        for file in ["config.yaml", "config.yml", "config.json"] {
            let Some(bytes) = super::read_small_in(dir, file)? else {
                continue;
            };
            let value = if file.ends_with(".json") {
                serde_json::from_slice(&bytes)
                    .map_err(|e| format!("{file}: not valid JSON ({e})"))?
            } else {
                serde_norway::from_slice::<Value>(&bytes)
                    .map_err(|e| format!("{file}: not valid YAML ({e})"))?
            };
            return Ok(Some(Config {
                file: file.into(),
                value,
            }));
        }
        Ok(None)
    }

    /// Leaf values as `a.b.c = v` lines, in file order.
    pub fn summary(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        flatten_leaves("", &self.value, &mut out);
        out
    }
}

fn flatten_leaves(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_leaves(&key, v, out);
            }
        }
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            out.push((prefix.to_string(), v.to_string()));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten_leaves(&format!("{prefix}[{i}]"), item, out);
            }
        }
        other => out.push((prefix.to_string(), other.to_string())),
    }
}
