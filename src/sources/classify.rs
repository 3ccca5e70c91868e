//! Each source's rule for the folders above run depth: what a child of a
//! folder is, decided from its name and, for other tools' trees, a bounded
//! look inside it.

use std::path::{Component, Path};
use std::sync::Arc;

use super::probe::LazyProbe;
use super::{
    Source, SourceKind, is_date, is_time, is_version, local_seconds, wandb_run, yaml_field,
};
use crate::layout::{self, TopKind};

/// A folder above run depth, as the scanner keeps it on its stack.
#[derive(Debug, Clone)]
pub enum Level {
    /// The root.
    Root,
    /// Layout: `experiments/`.
    Experiments,
    /// Layout: a task folder.
    Task(Arc<str>),
    /// Layout: a model folder.
    Model(Arc<str>, Arc<str>),
    /// Lightning: a logger folder (its name is the task).
    Logger(Arc<str>),
    /// Hydra: a folder under a base (`outputs`, `multirun`), with the
    /// folder names between the base and here.
    Hydra(Arc<str>, Vec<Arc<str>>),
    /// MLflow: an experiment folder, named by the experiment's name.
    Experiment(Arc<str>),
}

/// A run found by classification.
#[derive(Debug, Clone)]
pub struct RunClass {
    /// The task it is listed under.
    pub task: Arc<str>,
    /// The model it is listed under.
    pub model: Arc<str>,
    /// Its name in the tree (unique within task/model).
    pub name: String,
    /// When it started by the tool's own record (seconds), if known.
    pub time: Option<i64>,
}

/// What a child of a folder above run depth is.
#[derive(Debug, Clone)]
pub enum Class {
    /// A folder to classify in turn.
    Descend(Level),
    /// A run folder.
    Run(RunClass),
    /// A top-level entry (sized, listed beside the runs).
    Top(TopKind),
    /// Something where a run or a folder of runs should be.
    Stray,
}

/// How deep below a Hydra base job folders are looked for
/// (`multirun/DATE/TIME/N` is three).
const HYDRA_DEPTH: usize = 3;

impl Source {
    /// Classifies the child `name` of a folder at `level`. `probe` looks
    /// inside the child, for the tools whose rules need it.
    pub fn classify(
        &self,
        level: &Level,
        name: &str,
        is_dir: bool,
        probe: &mut LazyProbe,
    ) -> Class {
        match self.kind {
            SourceKind::Layout => layout_child(level, name, is_dir),
            _ if matches!(level, Level::Root) && name == self.kind.trash_dir() => {
                Class::Top(TopKind::Trash)
            }
            SourceKind::Lightning => self.lightning(level, name, is_dir, probe),
            SourceKind::Hydra => self.hydra(level, name, is_dir, probe),
            SourceKind::Mlflow => mlflow(level, name, is_dir, probe),
            SourceKind::Wandb => wandb(level, name, is_dir),
        }
    }

    fn lightning(&self, level: &Level, name: &str, is_dir: bool, probe: &mut LazyProbe) -> Class {
        let task = match level {
            Level::Root if self.holder => self.root_name.clone(),
            Level::Logger(task) => task.clone(),
            Level::Root => {
                let logger = is_dir
                    && !name.starts_with('.')
                    && (name == "lightning_logs"
                        || name == "csv_logs"
                        || probe.get().is_some_and(|p| {
                            p.names(super::probe::NAMES_CAP)
                                .iter()
                                .any(|(v, d)| *d && is_version(v))
                        }));
                return if logger {
                    Class::Descend(Level::Logger(name.into()))
                } else {
                    Class::Top(TopKind::Unrecognized)
                };
            }
            _ => return Class::Stray,
        };
        if !(is_dir && is_version(name)) {
            return if matches!(level, Level::Root) {
                Class::Top(TopKind::Unrecognized)
            } else {
                Class::Stray
            };
        }
        // When it started: the TensorBoard event file's name carries the
        // unix seconds; else hparams.yaml, written at the start; else the
        // folder's own time.
        let time = probe.get().and_then(|p| {
            let event = p
                .names(super::probe::NAMES_CAP)
                .iter()
                .filter_map(|(n, _)| {
                    n.strip_prefix("events.out.tfevents.")?
                        .split('.')
                        .next()?
                        .parse::<i64>()
                        .ok()
                })
                .min();
            event.or_else(|| p.mtime("hparams.yaml"))
        });
        Class::Run(RunClass {
            task,
            model: "lightning".into(),
            name: name.to_string(),
            time,
        })
    }

    fn hydra(&self, level: &Level, name: &str, is_dir: bool, probe: &mut LazyProbe) -> Class {
        let (task, parts) = match level {
            Level::Root if self.holder => {
                return if is_dir && (name == "outputs" || name == "multirun") {
                    Class::Descend(Level::Hydra(name.into(), Vec::new()))
                } else {
                    Class::Top(TopKind::Unrecognized)
                };
            }
            Level::Root => (self.root_name.clone(), &[][..]),
            Level::Hydra(task, parts) => (task.clone(), parts.as_slice()),
            _ => return Class::Stray,
        };
        if !is_dir || name.starts_with('.') {
            // A sweep's multirun.yaml and other records of Hydra's own.
            return match (level, is_dir) {
                (Level::Root, true) => Class::Top(TopKind::Unrecognized),
                _ if name.ends_with(".yaml") || name.ends_with(".log") => Class::Top(TopKind::Logs),
                (Level::Root, false) => Class::Top(TopKind::Unrecognized),
                _ => Class::Stray,
            };
        }
        let d = parts.len();
        let dated = d >= 1 && is_date(&parts[0]);
        let by_name = (d == 1 && dated && is_time(name))
            || (d == 2 && dated && is_time(&parts[1]) && name.bytes().all(|c| c.is_ascii_digit()));
        let has_hydra = probe.get().is_some_and(|p| p.has_dir(".hydra"));
        // A sweep folder `multirun/DATE/TIME/` has the shape of a single
        // run's `outputs/DATE/TIME/`, but no `.hydra/`: its multirun.yaml
        // (or the base's name) says it holds jobs.
        let sweep = d == 1
            && !has_hydra
            && (&*task == "multirun" || probe.get().is_some_and(|p| p.has_file("multirun.yaml")));
        if has_hydra || (by_name && !sweep) {
            let time = match parts {
                [date, ..] if d == 1 && is_date(date) && is_time(name) => local_seconds(date, name),
                [date, time, ..] if is_date(date) && is_time(time) => local_seconds(date, time),
                _ => None,
            };
            let model: Arc<str> = if parts.is_empty() {
                "hydra".into()
            } else {
                parts
                    .iter()
                    .map(|p| &**p)
                    .collect::<Vec<_>>()
                    .join("_")
                    .into()
            };
            return Class::Run(RunClass {
                task,
                model,
                name: name.to_string(),
                time,
            });
        }
        if d < HYDRA_DEPTH {
            let mut deeper = parts.to_vec();
            deeper.push(name.into());
            return Class::Descend(Level::Hydra(task, deeper));
        }
        Class::Stray
    }

    /// True when `rel` (relative to the root) is a place a run of this tree
    /// can be: a restore moves a run only there. Plain names only: no `..`,
    /// no absolute path, nothing hidden (the trash itself), no control
    /// characters.
    pub fn is_run_path(&self, rel: &Path) -> bool {
        self.run_place(rel, None)
    }

    /// [`Source::is_run_path`] for the origin of a trash record that names
    /// the kind of tree it came from (`tree`): in a Lightning save folder, a
    /// logger folder not named `lightning_logs`/`csv_logs` is known only by
    /// the `version_N/` it holds, and once its last version went to the
    /// trash it holds none (or is gone). A record of this very kind of tree
    /// may then name a plain folder that is empty or missing (not one that
    /// holds anything else, like `src/`): the shape rules still hold.
    pub fn is_trashed_run_path(&self, rel: &Path, tree: Option<SourceKind>) -> bool {
        self.run_place(rel, tree)
    }

    fn run_place(&self, rel: &Path, tree: Option<SourceKind>) -> bool {
        let mut names = Vec::new();
        for c in rel.components() {
            let Component::Normal(n) = c else {
                return false;
            };
            let b = n.as_encoded_bytes();
            if b.starts_with(b".") || b.iter().any(|c| c.is_ascii_control()) {
                return false;
            }
            let Some(s) = n.to_str() else { return false };
            names.push(s);
        }
        let last = names.last().copied().unwrap_or("");
        match (self.kind, names.as_slice()) {
            (SourceKind::Layout, [e, _, _, _]) => *e == layout::EXPERIMENTS,
            (SourceKind::Lightning, [_]) => self.holder && is_version(last),
            (SourceKind::Lightning, [logger, _]) => {
                !self.holder
                    && is_version(last)
                    && (self.is_logger(logger)
                        || (tree == Some(SourceKind::Lightning) && self.is_emptied_logger(logger)))
            }
            (SourceKind::Hydra, [base, rest @ ..]) if self.holder => {
                (*base == "outputs" || *base == "multirun")
                    && (1..=HYDRA_DEPTH + 1).contains(&rest.len())
            }
            (SourceKind::Hydra, rest) => (1..=HYDRA_DEPTH + 1).contains(&rest.len()),
            (SourceKind::Mlflow, [exp, _]) => *exp != "models",
            (SourceKind::Wandb, [_]) => wandb_run(last).is_some(),
            _ => false,
        }
    }
}

/// runyard's layout: `experiments/<task>/<model>/<run_id>/`.
fn layout_child(level: &Level, name: &str, is_dir: bool) -> Class {
    match (level, is_dir) {
        (Level::Root, true) if name == layout::EXPERIMENTS => Class::Descend(Level::Experiments),
        (Level::Root, _) => Class::Top(TopKind::of(name)),
        (Level::Experiments, true) => Class::Descend(Level::Task(name.into())),
        (Level::Task(task), true) => Class::Descend(Level::Model(task.clone(), name.into())),
        // A move's partial copy (runyard's own temporary) is not a run:
        // listed as a stray with its size, flagged by `check`.
        (Level::Model(..), true) if name.starts_with(".runyard-tmp-") => Class::Stray,
        (Level::Model(task, model), true) => Class::Run(RunClass {
            task: task.clone(),
            model: model.clone(),
            name: name.to_string(),
            time: None,
        }),
        // Files (and links) above run depth, or a folder on another device.
        _ => Class::Stray,
    }
}

/// MLflow: `<experiment id>/<run id>/`, the experiment named by its meta.yaml.
fn mlflow(level: &Level, name: &str, is_dir: bool, probe: &mut LazyProbe) -> Class {
    match level {
        Level::Root => {
            // `models/` holds registered models and `.trash/` MLflow's
            // deleted experiments: neither holds runs.
            if !is_dir || name == "models" || name.starts_with('.') {
                return Class::Top(if name == "models" {
                    TopKind::Artifacts
                } else {
                    TopKind::Unrecognized
                });
            }
            let Some(meta) = probe.get().and_then(|p| p.read("meta.yaml")) else {
                return Class::Top(TopKind::Unrecognized);
            };
            // The experiment's name reads better than its number, when it
            // is one plain folder-like name (a task name is typed back).
            let task = yaml_field(&meta, "name")
                .filter(|n| layout::check_folder_name("task", n).is_ok())
                .unwrap_or(name);
            Class::Descend(Level::Experiment(task.into()))
        }
        Level::Experiment(task) => {
            if !is_dir {
                // The experiment's own meta.yaml.
                return Class::Top(TopKind::Logs);
            }
            let meta = probe.get().and_then(|p| p.read("meta.yaml"));
            let Some(meta) = meta else {
                return Class::Stray;
            };
            // A run deleted in MLflow stays on disk until `mlflow gc`: not
            // listed as a run (a stray, so its bytes still show).
            if yaml_field(&meta, "lifecycle_stage") == Some("deleted") {
                return Class::Stray;
            }
            let time = yaml_field(&meta, "start_time")
                .and_then(|t| t.parse::<i64>().ok())
                .map(|ms| ms.div_euclid(1000));
            Class::Run(RunClass {
                task: task.clone(),
                model: "mlflow".into(),
                name: mlflow_run_name(&meta, name),
                time,
            })
        }
        _ => Class::Stray,
    }
}

/// An MLflow run as the tree shows it: the name MLflow's UI shows
/// (`run_name`, e.g. `bright-owl-42`) with the start of its id, so runs
/// read apart and stay unique; the bare id when the name is missing or
/// not a plain folder-like name (a run name is typed back on the CLI).
fn mlflow_run_name(meta: &str, id: &str) -> String {
    let short: String = id.chars().take(8).collect();
    match yaml_field(meta, "run_name")
        .map(|n| n.trim_matches(|c| c == '\'' || c == '"'))
        .filter(|n| !n.is_empty() && layout::check_folder_name("run", n).is_ok())
    {
        Some(n) if short.len() < id.len() => format!("{n}_{short}"),
        _ => id.to_string(),
    }
}

/// W&B: `wandb/run-YYYYMMDD_HHMMSS-<id>/` and `offline-run-…`.
fn wandb(level: &Level, name: &str, is_dir: bool) -> Class {
    if !matches!(level, Level::Root) {
        return Class::Stray;
    }
    match wandb_run(name) {
        Some((offline, time)) if is_dir => {
            // `20240131_134510`, local time as W&B names it.
            let date = format!("{}-{}-{}", &time[0..4], &time[4..6], &time[6..8]);
            let clock = format!("{}-{}-{}", &time[9..11], &time[11..13], &time[13..15]);
            Class::Run(RunClass {
                task: "wandb".into(),
                model: if offline { "offline" } else { "online" }.into(),
                name: name.to_string(),
                time: local_seconds(&date, &clock),
            })
        }
        // `latest-run` (a link, never followed), debug logs, settings.
        _ if !is_dir => Class::Top(TopKind::Logs),
        _ => Class::Top(TopKind::Unrecognized),
    }
}
