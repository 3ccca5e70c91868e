//! Runs side by side: a table of runs × metrics (scalars, and curves by
//! their last value), with the best value of each column where its
//! direction is known, shared by `runyard compare` and the explorer's `c`.
//! For a sweep, the config keys whose values differ between the runs are
//! hyperparameter columns, and rows are named by what differs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::config::KeyMetric;
use crate::runs::RunSummary;
use crate::runs::summary::{Better, direction_of};

/// One metric column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The metric's full name (`val/acc`).
    pub name: String,
    /// True when a smaller value is better (losses, errors).
    pub lower_is_better: bool,
    /// Which way is better, when the config or the name says; `None`: no
    /// best is claimed.
    pub better: Option<Better>,
    /// The row holding the best value, if any run has one.
    pub best: Option<usize>,
    /// An earlier column holding the same values in every row under another
    /// spelling (`val/acc` for `val_acc`, `best_val_acc`): hideable.
    pub same_as: Option<usize>,
}

/// A table of runs × metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The runs (task/model/run_id), one per row.
    pub runs: Vec<String>,
    /// Each row's short name: what tells it apart (its run id's tag, or
    /// the config values that differ), not the shared `task/model/`.
    pub names: Vec<String>,
    /// Each row's status (finished, failed...): as the run wrote it, read
    /// as idle; callers that know which runs are active set it again.
    pub status: Vec<String>,
    /// Hyperparameter columns: config keys (flattened, `optim.lr`) whose
    /// values differ between the runs, Hydra overrides first.
    pub params: Vec<String>,
    /// `config[row][param]`: the value as written, `None` when missing.
    pub config: Vec<Vec<Option<String>>>,
    /// The metric columns: key metrics first, then every other scalar by name.
    pub columns: Vec<Column>,
    /// `values[row][column]`.
    pub values: Vec<Vec<Option<f64>>>,
}

impl Comparison {
    /// Builds the table: one row per run (its label, task and summary);
    /// `configured` holds the tasks' key metrics, which say which way is
    /// better for their metric.
    pub fn new(
        runs: &[(String, String, &RunSummary)],
        configured: &BTreeMap<String, KeyMetric>,
    ) -> Comparison {
        let summaries: Vec<&RunSummary> = runs.iter().map(|r| r.2).collect();
        let mut names: Vec<String> = Vec::new();
        // Key metrics lead, in the order runs name them.
        for s in &summaries {
            for m in &s.key_metrics {
                if !names.contains(&m.name) {
                    names.push(m.name.clone());
                }
            }
        }
        // Then every other scalar and curve (a curve by its last value),
        // bookkeeping (epoch, step, lr-*, _timestamp) left out.
        let rest: BTreeSet<&str> = summaries
            .iter()
            .flat_map(|s| s.metric_names())
            .filter(|n| !names.iter().any(|k| k == n))
            .collect();
        names.extend(rest.into_iter().map(str::to_string));
        let values: Vec<Vec<Option<f64>>> = summaries
            .iter()
            .map(|s| names.iter().map(|n| s.metric(n)).collect())
            .collect();
        let columns = names
            .into_iter()
            .enumerate()
            .map(|(c, name)| {
                // A task's configured key metric says which way is better;
                // otherwise the name does (loss, error, accuracy...); a name
                // that does not tell gets no best mark.
                let better = runs
                    .iter()
                    .find_map(|(_, task, _)| {
                        configured
                            .get(task)
                            .filter(|km| km.name == name)
                            .map(|km| Better::from_lower(km.lower_is_better))
                    })
                    .or_else(|| direction_of(&name));
                let lower_is_better = better == Some(Better::Lower);
                let best = better
                    .filter(|_| !is_count(&name))
                    .and_then(|_| best_row(values.iter().map(|row| row[c]), lower_is_better));
                Column {
                    name,
                    lower_is_better,
                    better,
                    best,
                    same_as: None,
                }
            })
            .collect();
        let mut cmp = Comparison {
            runs: runs.iter().map(|r| r.0.clone()).collect(),
            names: Vec::new(),
            status: summaries
                .iter()
                .map(|s| s.status(false).word().to_string())
                .collect(),
            params: Vec::new(),
            config: vec![Vec::new(); runs.len()],
            columns,
            values,
        };
        cmp.mark_aliases();
        cmp.names = cmp.short_names();
        cmp
    }

    /// Adds the hyperparameter columns from each row's config (in row
    /// order): the keys whose values differ between the runs, Hydra
    /// overrides first, then in file order; the rows are named again by
    /// what differs.
    pub fn with_config(mut self, configs: &[RunConfig]) -> Comparison {
        let mut keys: Vec<&str> = Vec::new();
        for c in configs {
            for k in c.overrides.iter().map(String::as_str) {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        for c in configs {
            for (k, _) in &c.values {
                if !keys.contains(&k.as_str()) {
                    keys.push(k);
                }
            }
        }
        let value = |c: &RunConfig, k: &str| {
            c.values
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let mut params = Vec::new();
        for k in keys {
            let column: Vec<Option<String>> = configs.iter().map(|c| value(c, k)).collect();
            let distinct: BTreeSet<&Option<String>> = column.iter().collect();
            if distinct.len() < 2 || is_run_specific(&column) {
                continue;
            }
            params.push((k.to_string(), column));
        }
        self.config = (0..self.runs.len())
            .map(|r| {
                params
                    .iter()
                    .map(|(_, col)| col.get(r).cloned().flatten())
                    .collect()
            })
            .collect();
        self.params = params.into_iter().map(|(k, _)| k).collect();
        self.names = self.short_names();
        self
    }

    /// Names each row by what tells it apart: the run id's tag when every
    /// row has its own, else the differing config values (`lr=1e-4
    /// seed=1`), else the run folder (with its model or task when those
    /// differ).
    fn short_names(&self) -> Vec<String> {
        let parts: Vec<[&str; 3]> = self
            .runs
            .iter()
            .map(|l| {
                let mut it = l.splitn(3, '/');
                let (a, b, c) = (it.next(), it.next(), it.next());
                match (a, b, c) {
                    (Some(t), Some(m), Some(n)) => [t, m, n],
                    _ => ["", "", l.as_str()],
                }
            })
            .collect();
        let tasks: BTreeSet<&str> = parts.iter().map(|p| p[0]).collect();
        let models: BTreeSet<&str> = parts.iter().map(|p| p[1]).collect();
        let prefix = |p: &[&str; 3]| match (tasks.len() > 1, models.len() > 1) {
            (true, _) => format!("{}/{}/", p[0], p[1]),
            (false, true) => format!("{}/", p[1]),
            _ => String::new(),
        };
        let tags: Vec<Option<String>> = parts
            .iter()
            .map(|p| crate::layout::parse_run_id(p[2]).and_then(|id| id.tag))
            .collect();
        let unique = |v: &[String]| v.iter().collect::<BTreeSet<_>>().len() == v.len();
        if tags.iter().all(Option::is_some) {
            let named: Vec<String> = parts
                .iter()
                .zip(&tags)
                .map(|(p, t)| format!("{}{}", prefix(p), t.as_deref().unwrap_or("")))
                .collect();
            if unique(&named) {
                return named;
            }
        }
        if !self.params.is_empty() {
            let named: Vec<String> = self
                .config
                .iter()
                .zip(&parts)
                .map(|(row, p)| {
                    let values: Vec<String> = self
                        .params
                        .iter()
                        .zip(row)
                        .map(|(k, v)| {
                            let short = k.rsplit('.').next().unwrap_or(k);
                            format!("{short}={}", v.as_deref().unwrap_or("-"))
                        })
                        .collect();
                    format!("{}{}", prefix(p), values.join(" "))
                })
                .collect();
            if unique(&named) {
                return named;
            }
        }
        parts
            .iter()
            .map(|p| format!("{}{}", prefix(p), p[2]))
            .collect()
    }

    /// Marks columns that repeat an earlier one under another spelling:
    /// the same words (`val_acc`, `val/acc`; `best_` and `final_` aside)
    /// and the same value in every row, so nothing different is ever hidden.
    fn mark_aliases(&mut self) {
        let words = |n: &str| -> Vec<String> {
            let mut w: Vec<String> = n
                .to_ascii_lowercase()
                .split(['/', '_', '-', '.', ' '])
                .filter(|w| !w.is_empty() && !matches!(*w, "best" | "final" | "last"))
                .map(str::to_string)
                .collect();
            w.sort();
            w
        };
        let keys: Vec<Vec<String>> = self.columns.iter().map(|c| words(&c.name)).collect();
        for j in 0..self.columns.len() {
            let same = (0..j).find(|&i| {
                self.columns[i].same_as.is_none()
                    && keys[i] == keys[j]
                    && self.values.iter().all(|row| same_value(row[i], row[j]))
            });
            self.columns[j].same_as = same;
        }
    }

    /// Keeps the hyperparameter and metric columns whose names match one
    /// of `patterns` (globs: `optim.*`, `val/*`), in the table's order. A
    /// pattern that matches nothing is an error naming the columns there are.
    pub fn select_columns(&mut self, patterns: &[String]) -> Result<(), String> {
        let matches = |name: &str| patterns.iter().any(|p| glob(p, name));
        for p in patterns {
            let any = self.params.iter().any(|k| glob(p, k))
                || self.columns.iter().any(|c| glob(p, &c.name));
            if !any {
                let mut known: Vec<&str> = self.params.iter().map(String::as_str).collect();
                known.extend(self.columns.iter().map(|c| c.name.as_str()));
                return Err(format!(
                    "--columns: {p:?} matches no differing config key nor metric; there are: {}",
                    known.join(", ")
                ));
            }
        }
        let keep_p: Vec<usize> = (0..self.params.len())
            .filter(|&i| matches(&self.params[i]))
            .collect();
        let keep_c: Vec<usize> = (0..self.columns.len())
            .filter(|&i| matches(&self.columns[i].name))
            .collect();
        self.params = keep_p.iter().map(|&i| self.params[i].clone()).collect();
        for row in &mut self.config {
            *row = keep_p.iter().map(|&i| row[i].clone()).collect();
        }
        self.columns = keep_c.iter().map(|&i| self.columns[i].clone()).collect();
        for row in &mut self.values {
            *row = keep_c.iter().map(|&i| row[i]).collect();
        }
        self.mark_aliases();
        Ok(())
    }

    /// Keeps the rows whose config value (or metric value) meets
    /// `condition`, in the grammar of [`crate::query`] (`optim.lr=1e-4`,
    /// `lr!=0.1`, `seed>=2`); numbers compare as numbers, so `1e-4`
    /// matches `0.0001`. An unknown key is an error naming the keys there are.
    pub fn filter_where(&mut self, condition: &str) -> Result<(), String> {
        let cond = crate::query::parse_condition(condition).map_err(|e| format!("--where {e}"))?;
        let key = cond.key.as_str();
        let keep: Vec<bool> = if let Some(p) = self.params.iter().position(|k| k == key) {
            self.config
                .iter()
                .map(|row| cond.holds(row[p].as_deref()))
                .collect()
        } else if let Some(c) = self.columns.iter().position(|c| c.name == key) {
            self.values
                .iter()
                .map(|row| cond.holds(row[c].map(|v| v.to_string()).as_deref()))
                .collect()
        } else {
            let mut known: Vec<&str> = self.params.iter().map(String::as_str).collect();
            known.extend(self.columns.iter().map(|c| c.name.as_str()));
            return Err(format!(
                "--where: no config key or metric {key:?} differs in these runs; they have: {}",
                known.join(", ")
            ));
        };
        let order: Vec<usize> = (0..self.runs.len()).filter(|&r| keep[r]).collect();
        self.reorder(&order);
        Ok(())
    }

    /// Keeps the rows `order` names, in that order, and marks the best of
    /// each column again.
    pub fn reorder(&mut self, order: &[usize]) {
        let pick = |v: &Vec<String>| order.iter().map(|&i| v[i].clone()).collect::<Vec<_>>();
        self.runs = pick(&self.runs);
        self.names = pick(&self.names);
        self.status = pick(&self.status);
        self.config = order.iter().map(|&i| self.config[i].clone()).collect();
        self.values = order.iter().map(|&i| self.values[i].clone()).collect();
        for (c, col) in self.columns.iter_mut().enumerate() {
            if col.better.is_some() && !is_count(&col.name) {
                col.best = best_row(self.values.iter().map(|row| row[c]), col.lower_is_better);
            }
        }
    }

    /// Orders the rows by a metric, best first; runs without it go last.
    pub fn sort_by(&mut self, metric: &str) -> Result<(), String> {
        let order = self.sort_order(metric)?;
        self.reorder(&order);
        Ok(())
    }

    /// The row order [`Comparison::sort_by`] gives, without applying it.
    pub fn sort_order(&self, metric: &str) -> Result<Vec<usize>, String> {
        let Some(c) = self.columns.iter().position(|col| col.name == metric) else {
            let known: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
            return Err(format!(
                "no metric {metric:?} in these runs; they have: {}",
                known.join(", ")
            ));
        };
        let lower = self.columns[c].lower_is_better;
        let mut order: Vec<usize> = (0..self.runs.len()).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (self.values[a][c], self.values[b][c]);
            match (x.filter(|v| !v.is_nan()), y.filter(|v| !v.is_nan())) {
                (Some(x), Some(y)) if lower => x.total_cmp(&y),
                (Some(x), Some(y)) => y.total_cmp(&x),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
        });
        Ok(order)
    }
}

/// A run's config as compare reads it: flattened leaves and the keys
/// Hydra was told to override on the command line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunConfig {
    /// `optim.lr = 0.0001` leaves, in file order.
    pub values: Vec<(String, String)>,
    /// Keys of `.hydra/overrides.yaml` (`optim.lr` of `optim.lr=1e-4`).
    pub overrides: Vec<String>,
}

impl RunConfig {
    /// Reads the run's `config.yaml` (else Hydra's `.hydra/config.yaml`,
    /// else another tool's: W&B's unwrapped `config.yaml`, MLflow's
    /// `params/`, Lightning's `hparams.yaml`) and `.hydra/overrides.yaml`,
    /// each a small regular file read without following links; a run
    /// without them has an empty config, and a broken file is an error
    /// naming it.
    pub fn load(run: &Path) -> Result<RunConfig, String> {
        let mut out = RunConfig::default();
        let config = match crate::runs::Config::load(run)? {
            Some(c) => Some(c),
            None => match read_hydra(run, "config.yaml")? {
                Some(bytes) => Some(crate::runs::Config {
                    file: ".hydra/config.yaml".into(),
                    value: serde_norway::from_slice(&bytes)
                        .map_err(|e| format!(".hydra/config.yaml: not valid YAML ({e})"))?,
                }),
                None => {
                    // Another tool's run (a W&B or MLflow sweep): its config.
                    let found = crate::runs::formats::discover(run);
                    crate::runs::formats::facts(run, &found, true)
                        .configs
                        .into_iter()
                        .next()
                }
            },
        };
        if let Some(c) = config {
            out.values = c.summary();
        }
        if let Some(bytes) = read_hydra(run, "overrides.yaml")? {
            let list: Vec<serde_json::Value> = serde_norway::from_slice(&bytes)
                .map_err(|e| format!(".hydra/overrides.yaml: not a YAML list ({e})"))?;
            out.overrides = list
                .iter()
                .filter_map(|v| v.as_str())
                .filter_map(|o| o.split_once('='))
                .map(|(k, _)| k.trim_start_matches(['+', '~']).to_string())
                .collect();
        }
        Ok(out)
    }
}

/// Reads `.hydra/<name>` of a run: the `.hydra` folder and the file are
/// each opened without following a link, the file only if regular, and at
/// most [`crate::runs::open::METADATA_CAP`] bytes of it. `Ok(None)` when
/// either is missing.
fn read_hydra(run: &Path, name: &str) -> Result<Option<Vec<u8>>, String> {
    use crate::runs::open;
    use std::os::fd::AsFd;
    let Some(dir) = open::open_dir(run)? else {
        return Ok(None);
    };
    let Some(hydra) = open::open_dir_in(dir.as_fd(), ".hydra")? else {
        return Ok(None);
    };
    let display = format!(".hydra/{name}");
    let Some((file, st)) = open::open_file_in(hydra.as_fd(), std::ffi::OsStr::new(name), &display)?
    else {
        return Ok(None);
    };
    open::read_capped(file, &st, open::METADATA_CAP, &display).map(Some)
}

/// Two cells of columns that may be one series: equal, or one missing
/// where the other is NaN (a run that wrote one spelling and not the other).
fn same_value(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        (None, None) => true,
        (Some(v), None) | (None, Some(v)) => v.is_nan(),
    }
}

/// A config key whose every value is a different path or run id (an
/// output folder per run) separates nothing: it is not a hyperparameter.
fn is_run_specific(values: &[Option<String>]) -> bool {
    let distinct: BTreeSet<&Option<String>> = values.iter().collect();
    distinct.len() == values.len()
        && values.iter().all(|v| {
            v.as_deref()
                .is_some_and(|v| v.contains('/') || crate::layout::parse_run_id(v).is_some())
        })
}

/// Whether `name` matches `pattern`, where `*` stands for any run of
/// characters and `?` for one (`optim.*`, `val/*`).
pub fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Iterative matching with one backtrack point: linear enough for names.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// Counters (epochs, steps, samples) have no better or worse: no column
/// of them gets a best mark.
pub fn is_count(metric: &str) -> bool {
    let last = metric.rsplit(['/', '.']).next().unwrap_or(metric);
    matches!(
        last.to_ascii_lowercase().as_str(),
        "epoch"
            | "epochs"
            | "step"
            | "steps"
            | "iteration"
            | "iter"
            | "samples"
            | "num_samples"
            | "n"
            | "count"
            | "rows"
            | "rows_in"
            | "rows_out"
    )
}

/// The row with the best value (NaN never wins; the first of equals does).
pub fn best_row(values: impl Iterator<Item = Option<f64>>, lower_is_better: bool) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, v) in values.enumerate() {
        let Some(v) = v.filter(|v| !v.is_nan()) else {
            continue;
        };
        let better = match best {
            None => true,
            Some((_, b)) if lower_is_better => v < b,
            Some((_, b)) => v > b,
        };
        if better {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)], overrides: &[&str]) -> RunConfig {
        RunConfig {
            values: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            overrides: overrides.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn table(labels: &[&str], configs: &[RunConfig]) -> Comparison {
        let summaries = vec![crate::runs::RunSummary::default(); labels.len()];
        let runs: Vec<(String, String, &crate::runs::RunSummary)> = labels
            .iter()
            .zip(&summaries)
            .map(|(l, s)| (l.to_string(), "t".to_string(), s))
            .collect();
        Comparison::new(&runs, &BTreeMap::new()).with_config(configs)
    }

    #[test]
    fn differing_config_keys_become_columns_overrides_first() {
        let c = table(
            &["t/m/2026-01-01_00-00-00", "t/m/2026-01-02_00-00-00"],
            &[
                config(
                    &[
                        ("model.depth", "18"),
                        ("optim.lr", "0.001"),
                        ("out", "o/a"),
                        ("wd", "0.1"),
                    ],
                    &["optim.lr"],
                ),
                config(
                    &[
                        ("model.depth", "34"),
                        ("optim.lr", "0.01"),
                        ("out", "o/b"),
                        ("wd", "0.1"),
                    ],
                    &["optim.lr"],
                ),
            ],
        );
        // Same everywhere (wd) and per-run paths (out) separate nothing.
        assert_eq!(c.params, vec!["optim.lr", "model.depth"]);
        assert_eq!(c.config[1], vec![Some("0.01".into()), Some("34".into())]);
        // No tags: rows are named by the differing values.
        assert_eq!(c.names, vec!["lr=0.001 depth=18", "lr=0.01 depth=34"]);
    }

    #[test]
    fn rows_are_named_by_tag_and_where_filters_numbers_as_numbers() {
        let mut c = table(
            &["t/a/2026-01-01_00-00-00_lr1", "t/b/2026-01-02_00-00-00_lr2"],
            &[
                config(&[("lr", "1e-4")], &[]),
                config(&[("lr", "0.001")], &[]),
            ],
        );
        assert_eq!(c.names, vec!["a/lr1", "b/lr2"]);
        c.filter_where("lr=0.0001").unwrap();
        assert_eq!(c.names, vec!["a/lr1"]);
        assert!(c.filter_where("nope=1").unwrap_err().contains("lr"));
        assert!(c.filter_where("lr").unwrap_err().contains("KEY=VALUE"));
    }

    #[test]
    fn globs_match_names() {
        assert!(glob("optim.*", "optim.lr"));
        assert!(glob("val/*", "val/acc"));
        assert!(!glob("val/*", "train/val/acc"));
        assert!(glob("*acc*", "best_val_acc"));
        assert!(glob("v?l/loss", "val/loss"));
        assert!(!glob("optim.*", "model.depth"));
        assert!(glob("*", ""));
    }

    #[test]
    fn hydra_files_are_read_without_following_links() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path().join("run");
        std::fs::create_dir_all(run.join(".hydra")).unwrap();
        std::fs::write(run.join(".hydra/config.yaml"), "optim:\n  lr: 0.1\n").unwrap();
        std::fs::write(run.join(".hydra/overrides.yaml"), "- +optim.lr=0.1\n").unwrap();
        let c = RunConfig::load(&run).unwrap();
        assert_eq!(c.values, vec![("optim.lr".to_string(), "0.1".to_string())]);
        assert_eq!(c.overrides, vec!["optim.lr"]);
        // A .hydra that is a link to elsewhere is refused, not read.
        let other = tmp.path().join("other");
        std::fs::rename(run.join(".hydra"), &other).unwrap();
        std::os::unix::fs::symlink(&other, run.join(".hydra")).unwrap();
        let e = RunConfig::load(&run).unwrap_err();
        assert!(e.contains(".hydra"), "{e}");
    }

    #[test]
    fn counters_are_not_ranked() {
        assert!(super::is_count("val/epoch"));
        assert!(super::is_count("test/samples"));
        assert!(!super::is_count("val/acc"));
    }

    #[test]
    fn best_row_follows_the_direction_and_skips_missing_and_nan() {
        let v = [Some(0.5), None, Some(f64::NAN), Some(0.9), Some(0.9)];
        assert_eq!(best_row(v.iter().copied(), false), Some(3));
        assert_eq!(best_row(v.iter().copied(), true), Some(0));
        assert_eq!(best_row([None, Some(f64::NAN)].into_iter(), false), None);
    }
}
