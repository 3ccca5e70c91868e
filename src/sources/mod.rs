//! Where runs come from: runyard's `outputs/` layout, and other tools'
//! trees opened directly (a Lightning `lightning_logs/`, a Hydra
//! `outputs/` or `multirun/`, an MLflow `mlruns/`, a W&B `wandb/`).
//!
//! A [`Source`] is detected once from the root with a bounded look (a few
//! hundred names, a few small records, never a walk, never through a
//! link); the scanner then asks it to classify each child of each folder
//! above run depth ([`Source::classify`]): descend, a run with its task,
//! model, name and time, a top-level entry, or a stray. The mapping of each
//! tool onto task → model → run is written down in `docs/layout.md`
//! ("Other tools' trees opened directly").

mod classify;
pub mod probe;

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

pub use classify::{Class, Level, RunClass};
use probe::{NAMES_CAP, Probe};

/// The kind of tree a root is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// runyard's own `outputs/experiments/<task>/<model>/<run_id>/`.
    #[default]
    Layout,
    /// PyTorch Lightning loggers: `<logger>/version_N/`.
    Lightning,
    /// Hydra: `outputs/DATE/TIME/`, `multirun/DATE/TIME/N/`.
    Hydra,
    /// An MLflow file store: `mlruns/<experiment id>/<run id>/`.
    Mlflow,
    /// Weights & Biases local run folders: `wandb/run-*/`.
    Wandb,
}

impl SourceKind {
    /// What the tree is, for titles and messages.
    pub fn title(self) -> &'static str {
        match self {
            SourceKind::Layout => "outputs",
            SourceKind::Lightning => "Lightning logs",
            SourceKind::Hydra => "Hydra outputs",
            SourceKind::Mlflow => "MLflow mlruns",
            SourceKind::Wandb => "W&B wandb",
        }
    }

    /// The folder under the root where runyard's trash lives. MLflow keeps
    /// its own deleted experiments in `.trash/`, so runyard's goes beside it.
    pub fn trash_dir(self) -> &'static str {
        match self {
            SourceKind::Mlflow => ".runyard-trash",
            _ => crate::layout::TRASH,
        }
    }

    /// Why ephemeral cleanup (`tmp/`, `cache/`) means nothing here, if it does not.
    pub fn no_ephemeral(self) -> Option<String> {
        (self != SourceKind::Layout).then(|| {
            format!(
                "{} runs have no ephemeral folders: tmp/ and cache/ are a rule of runyard's \
                 outputs/ layout (prune checkpoints or trash whole runs instead)",
                self.title()
            )
        })
    }

    /// Why promoting to `artifacts/` means nothing here, if it does not.
    pub fn no_promote(self) -> Option<String> {
        (self != SourceKind::Layout).then(|| {
            format!(
                "a {} tree has no artifacts/ folder: promotion is a rule of runyard's \
                 outputs/ layout",
                self.title()
            )
        })
    }
}

/// A detected tree: its kind and what classification needs to know of its root.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// The kind of tree.
    pub kind: SourceKind,
    /// The root folder's own name (a Lightning logger folder opened
    /// directly names the task).
    root_name: Arc<str>,
    /// Lightning: the root itself holds `version_N/` (it is a logger folder).
    /// Hydra: the root holds `multirun/` and/or `outputs/` (a project folder).
    holder: bool,
    /// The root, to check a restore's place against (none: shape only).
    root: Option<std::path::PathBuf>,
}

impl Source {
    /// runyard's own layout.
    pub fn layout() -> Source {
        Source::default()
    }

    /// Detects the kind of tree at `root`, falling back to the layout (an
    /// empty `outputs/` is one).
    pub fn detect(root: &Path) -> Source {
        detect_here(root).unwrap_or_else(|| Source {
            root: Some(root.to_path_buf()),
            ..Source::default()
        })
    }

    /// True when the folder `name` at the root is a Lightning logger
    /// folder: named as Lightning names one, or holding `version_N/`.
    pub(crate) fn is_logger(&self, name: &str) -> bool {
        name == "lightning_logs"
            || name == "csv_logs"
            || self.root.as_deref().and_then(Probe::open).is_some_and(|r| {
                r.sub(name)
                    .is_some_and(|p| p.names(NAMES_CAP).iter().any(|(v, d)| *d && is_version(v)))
            })
    }

    /// True when the folder `name` at the root is missing, or an empty
    /// folder (not a link): what a logger folder is once its last version
    /// went to the trash.
    pub(crate) fn is_emptied_logger(&self, name: &str) -> bool {
        let Some(root) = self.root.as_deref().and_then(Probe::open) else {
            return false;
        };
        match rustix::fs::statat(root.fd(), name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
            Err(rustix::io::Errno::NOENT) => true,
            Ok(st) if rustix::fs::FileType::from_raw_mode(st.st_mode).is_dir() => {
                root.sub(name).is_some_and(|p| p.names(1).is_empty())
            }
            _ => false,
        }
    }
}

/// What `find_root` looked for, for the message when nothing matched.
pub const LOOKED_FOR: &str = "experiments/ or outputs/ (runyard's layout), lightning_logs/, \
     csv_logs/ or <name>/version_N/ (Lightning), DATE/TIME/ or multirun/ job folders (Hydra), \
     mlruns/ (MLflow), wandb/ with run-* folders (W&B)";

/// `2024-01-31`.
pub(crate) fn is_date(s: &str) -> bool {
    shape(s, b"dddd-dd-dd")
}

/// `13-45-10`.
pub(crate) fn is_time(s: &str) -> bool {
    shape(s, b"dd-dd-dd")
}

fn shape(s: &str, pat: &[u8]) -> bool {
    s.len() == pat.len()
        && s.bytes().zip(pat).all(|(c, &p)| {
            if p == b'd' {
                c.is_ascii_digit()
            } else {
                c == p
            }
        })
}

/// `version_3`.
pub(crate) fn is_version(s: &str) -> bool {
    s.strip_prefix("version_")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
}

/// A W&B run folder name: `run-YYYYMMDD_HHMMSS-<id>` or `offline-run-…`;
/// returns whether it is offline and the time part.
pub(crate) fn wandb_run(s: &str) -> Option<(bool, &str)> {
    let (offline, rest) = match s.strip_prefix("offline-run-") {
        Some(r) => (true, r),
        None => (false, s.strip_prefix("run-")?),
    };
    let time = rest.get(..15)?;
    let id = rest.get(15..)?.strip_prefix('-')?;
    let ok = shape(time, b"dddddddd_dddddd")
        && !id.is_empty()
        && id.bytes().all(|c| c.is_ascii_alphanumeric());
    ok.then_some((offline, time))
}

/// Local wall-clock `YYYY-MM-DD` + `HH-MM-SS` (Hydra) as seconds.
pub(crate) fn local_seconds(date: &str, time: &str) -> Option<i64> {
    let n = |s: &str| s.parse::<i16>().ok();
    let dt = jiff::civil::DateTime::new(
        n(&date[0..4])?,
        n(&date[5..7])? as i8,
        n(&date[8..10])? as i8,
        n(&time[0..2])? as i8,
        n(&time[3..5])? as i8,
        n(&time[6..8])? as i8,
        0,
    )
    .ok()?;
    let z = dt.to_zoned_datetime(jiff::tz::TimeZone::system()).ok()?;
    Some(z.timestamp().as_second())
}

/// A top-level `key: value` of a small YAML record (MLflow's meta.yaml),
/// read by lines: such records are flat, and a line reader survives the
/// Python tags a YAML library would refuse.
pub(crate) fn yaml_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let v = l.strip_prefix(key)?.strip_prefix(':')?.trim();
        let v = v.trim_matches(|c| c == '\'' || c == '"');
        (!v.is_empty()).then_some(v)
    })
}

/// Detects a tool's tree (or the layout) at `dir` itself, without
/// descending into it past a bounded look at a few children.
pub fn detect_here(dir: &Path) -> Option<Source> {
    let probe = Probe::open(dir)?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let names = probe.names(NAMES_CAP);
    let has_dir = |n: &str| names.iter().any(|(m, d)| *d && m == n);
    let dirs = || names.iter().filter(|(_, d)| *d).map(|(n, _)| n.as_str());
    let make = |kind, holder| {
        Some(Source {
            kind,
            root_name: name.as_str().into(),
            holder,
            root: Some(dir.to_path_buf()),
        })
    };
    if has_dir(crate::layout::EXPERIMENTS) {
        return make(SourceKind::Layout, false);
    }
    let mlflow_experiment = |n: &str| {
        n.bytes().all(|c| c.is_ascii_digit())
            && probe.sub(n).is_some_and(|p| p.has_file("meta.yaml"))
    };
    if name == "mlruns" || dirs().take(16).any(mlflow_experiment) {
        return make(SourceKind::Mlflow, false);
    }
    if name == "wandb" || dirs().any(|n| wandb_run(n).is_some()) {
        return make(SourceKind::Wandb, false);
    }
    if has_dir("multirun") {
        return make(SourceKind::Hydra, true);
    }
    if dirs().any(is_version) {
        return make(SourceKind::Lightning, true);
    }
    if has_dir("lightning_logs") || has_dir("csv_logs") {
        return make(SourceKind::Lightning, false);
    }
    // A Hydra base folder: DATE/TIME/ runs, or job folders with `.hydra/`.
    let hydra_date = |n: &str| {
        is_date(n)
            && probe
                .sub(n)
                .is_some_and(|p| p.names(64).iter().any(|(t, d)| *d && is_time(t)))
    };
    let hydra_job = |n: &str| probe.sub(n).is_some_and(|p| p.has_dir(".hydra"));
    if dirs().take(16).any(|n| hydra_date(n) || hydra_job(n)) {
        return make(SourceKind::Hydra, false);
    }
    let logger = |n: &str| {
        !n.starts_with('.')
            && probe
                .sub(n)
                .is_some_and(|p| p.names(64).iter().any(|(v, d)| *d && is_version(v)))
    };
    if dirs().take(16).any(logger) {
        return make(SourceKind::Lightning, false);
    }
    // Every run went to the trash: its records say what tree this was.
    if let Some((kind, holder)) = from_trash(dir, &probe, &names) {
        return make(kind, holder);
    }
    if name == "outputs" {
        return make(SourceKind::Layout, false);
    }
    None
}

/// The kind of tree a root was, from the `tree` its trash records name
/// (written since runyard opens other tools' trees): a tree whose runs all
/// went to the trash must still open, so they can come back. A record is
/// untrusted and one is easily made, so it takes every entry of the trash
/// (at most [`TRASH_LOOK`], and at least one) to agree: each a folder named
/// as runyard names entries (`<date>_<time>_<run name>`, maybe `-N`) with
/// a record of one kind of tree whose origin is a run's place there and
/// ends in that run name. A folder of anything else (a home's `.trash/`
/// of deleted files, MLflow's deleted experiments) is no tree. Only the
/// kind is taken from the records; a restore checks the place again.
fn from_trash(dir: &Path, probe: &Probe, names: &[(String, bool)]) -> Option<(SourceKind, bool)> {
    #[derive(serde::Deserialize)]
    struct Record {
        origin: std::path::PathBuf,
        tree: Option<SourceKind>,
    }
    for trash in [crate::layout::TRASH, ".runyard-trash"] {
        if !names.iter().any(|(n, d)| *d && n == trash) {
            continue;
        }
        let Some(tdir) = probe.sub(trash) else {
            continue;
        };
        let entries = tdir.names(TRASH_LOOK + 1);
        if entries.is_empty() || entries.len() > TRASH_LOOK {
            continue;
        }
        let mut found: Option<(SourceKind, bool)> = None;
        let agree = entries.iter().all(|(id, is_dir)| {
            let record = tdir
                .sub(id)
                .filter(|_| *is_dir)
                .and_then(|e| e.read("origin.json"));
            let Some(r) = record.and_then(|t| serde_json::from_str::<Record>(&t).ok()) else {
                return false;
            };
            let Some(kind) = r.tree.filter(|k| *k != SourceKind::Layout) else {
                return false;
            };
            let run_name = r.origin.file_name().and_then(|n| n.to_str());
            if kind.trash_dir() != trash || !run_name.is_some_and(|n| is_entry_id(id, n)) {
                return false;
            }
            let first = r
                .origin
                .components()
                .next()
                .map(|c| c.as_os_str().to_owned());
            let holder = match kind {
                // `version_N` alone: the root was the logger folder.
                SourceKind::Lightning => r.origin.components().count() == 1,
                SourceKind::Hydra => first.is_some_and(|f| f == "outputs" || f == "multirun"),
                _ => false,
            };
            let source = Source {
                kind,
                root_name: Arc::from(""),
                holder,
                root: Some(dir.to_path_buf()),
            };
            if !source.is_trashed_run_path(&r.origin, Some(kind)) {
                return false;
            }
            match found {
                None => {
                    found = Some((kind, holder));
                    true
                }
                Some(f) => f == (kind, holder),
            }
        });
        if agree && found.is_some() {
            return found;
        }
    }
    None
}

/// How many trash entries detection by trash records looks at: a trash
/// holding more does not make its folder a tree.
const TRASH_LOOK: usize = 128;

/// True when `id` is a trash entry's folder name as runyard makes them
/// for a run named `run`: `YYYY-MM-DD_HH-MM-SS_<run>`, maybe `-<N>`.
fn is_entry_id(id: &str, run: &str) -> bool {
    let Some(rest) = id.get(20..) else {
        return false;
    };
    let stamp_ok = id.get(..10).is_some_and(is_date)
        && id.as_bytes()[10] == b'_'
        && id.get(11..19).is_some_and(is_time)
        && id.as_bytes()[19] == b'_';
    let tail_ok = rest == run
        || rest.strip_prefix(run).is_some_and(|t| {
            t.strip_prefix('-')
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
        });
    stamp_ok && tail_ok
}

/// The root of another tool's tree that `run` (a canonical run folder) is
/// a run of: the farthest of its nearest four parents that is such a tree
/// and where the run sits in a run's place (a Hydra job's date folder is
/// a tree too, but its project's `outputs/` holds more).
pub fn root_of_run(run: &Path) -> Option<std::path::PathBuf> {
    let mut found = None;
    for root in run.ancestors().skip(1).take(4) {
        let Ok(rel) = run.strip_prefix(root) else {
            continue;
        };
        if let Some(source) = detect_here(root)
            && source.kind != SourceKind::Layout
            && source.is_run_path(rel)
        {
            found = Some(root.to_path_buf());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_tool_folders() {
        assert!(is_version("version_0") && is_version("version_12"));
        assert!(!is_version("version_") && !is_version("version_1a") && !is_version("v1"));
        assert!(is_date("2024-01-31") && !is_date("2024-1-31"));
        assert!(is_time("13-45-10") && !is_time("13:45:10"));
        assert_eq!(
            wandb_run("run-20240131_134510-abc123"),
            Some((false, "20240131_134510"))
        );
        assert_eq!(
            wandb_run("offline-run-20240131_134510-x9"),
            Some((true, "20240131_134510"))
        );
        for bad in [
            "latest-run",
            "run-2024-abc",
            "run-20240131_134510-",
            "run-20240131_134510_x",
        ] {
            assert_eq!(wandb_run(bad), None, "{bad}");
        }
    }

    fn mkdirs(root: &Path, dirs: &[&str]) {
        for d in dirs {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
    }

    fn kind_of(root: &Path) -> Option<SourceKind> {
        detect_here(root).map(|s| s.kind)
    }

    #[test]
    fn detects_each_kind_of_tree() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        mkdirs(t, &["a/experiments", "a/lightning_logs/version_0"]);
        assert_eq!(kind_of(&t.join("a")), Some(SourceKind::Layout));
        mkdirs(t, &["b/lightning_logs/version_0"]);
        assert_eq!(kind_of(&t.join("b")), Some(SourceKind::Lightning));
        assert_eq!(
            kind_of(&t.join("b/lightning_logs")),
            Some(SourceKind::Lightning)
        );
        mkdirs(t, &["c/tb/my_model/version_3"]);
        assert_eq!(kind_of(&t.join("c/tb")), Some(SourceKind::Lightning));
        mkdirs(t, &["d/outputs/2024-01-31/13-45-10", "d/multirun"]);
        assert_eq!(kind_of(&t.join("d")), Some(SourceKind::Hydra));
        assert_eq!(kind_of(&t.join("d/outputs")), Some(SourceKind::Hydra));
        mkdirs(t, &["e/runs/train/.hydra"]);
        assert_eq!(kind_of(&t.join("e/runs")), Some(SourceKind::Hydra));
        mkdirs(t, &["f/mlruns/0"]);
        std::fs::write(t.join("f/mlruns/0/meta.yaml"), "name: Default\n").unwrap();
        assert_eq!(kind_of(&t.join("f/mlruns")), Some(SourceKind::Mlflow));
        mkdirs(t, &["g/logs/run-20240131_134510-abc1"]);
        assert_eq!(kind_of(&t.join("g/logs")), Some(SourceKind::Wandb));
        mkdirs(t, &["h/src/pkg", "h/docs"]);
        assert_eq!(kind_of(&t.join("h")), None);
        mkdirs(t, &["i/outputs"]);
        assert_eq!(kind_of(&t.join("i/outputs")), Some(SourceKind::Layout));
        // A link to a tree is not looked through.
        std::os::unix::fs::symlink(t.join("b/lightning_logs"), t.join("h/lightning_logs")).unwrap();
        assert_eq!(kind_of(&t.join("h")), None);
    }

    #[test]
    fn run_places_of_each_kind() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        mkdirs(
            t,
            &[
                "p/lightning_logs/version_0",
                "p/src",
                "p/tb/m/version_1",
                "p/tb2/version_1",
            ],
        );
        let l = Source::detect(&t.join("p"));
        assert_eq!(l.kind, SourceKind::Lightning);
        assert!(l.is_run_path(Path::new("lightning_logs/version_7")));
        // A logger folder by what it holds, not by its name.
        assert!(l.is_run_path(Path::new("tb2/version_3")));
        assert!(!l.is_run_path(Path::new("tb/version_2")));
        for bad in [
            "src/version_0",
            "lightning_logs/version_0/checkpoints",
            "lightning_logs/../version_0",
            "/lightning_logs/version_0",
            ".trash/version_0",
            "lightning_logs/notes",
        ] {
            assert!(!l.is_run_path(Path::new(bad)), "{bad}");
        }
        let layout = Source::layout();
        assert!(layout.is_run_path(Path::new("experiments/t/m/r")));
        assert!(!layout.is_run_path(Path::new("lightning_logs/version_0")));
        let w = Source {
            kind: SourceKind::Wandb,
            ..Source::default()
        };
        assert!(w.is_run_path(Path::new("offline-run-20240131_134510-x1")));
        assert!(!w.is_run_path(Path::new("latest-run")));
        let m = Source {
            kind: SourceKind::Mlflow,
            ..Source::default()
        };
        assert!(m.is_run_path(Path::new("3/abc")));
        assert!(!m.is_run_path(Path::new("models/abc")));
        assert!(!m.is_run_path(Path::new(".trash/abc")));
    }

    #[test]
    fn yaml_fields_by_line() {
        let meta = "artifact_uri: file:///x\nlifecycle_stage: deleted\nname: 'my exp'\nstart_time: 1700000000123\n";
        assert_eq!(yaml_field(meta, "lifecycle_stage"), Some("deleted"));
        assert_eq!(yaml_field(meta, "name"), Some("my exp"));
        assert_eq!(yaml_field(meta, "start_time"), Some("1700000000123"));
        assert_eq!(yaml_field(meta, "status"), None);
    }
}
