//! The explorer's `/` filter beyond names and notes: the terms of
//! [`crate::query`] (`optim.lr>=1e-4`, `status:failed`, `tag:seed1`)
//! checked against each run's loaded summary and config. Configs are read
//! on the loader's pool ([`wanted`] asks for them, [`Configs::insert`]
//! keeps them), never on the UI thread; a run whose config is not back
//! yet is pending: hidden, and counted in the status line.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::catalog::{Catalog, RunKey};
use crate::query::{self, Facts, Query, Verdict};
use crate::runs::RunSummary;

/// Runs' flattened configs, by folder (a refresh that renumbers runs does
/// not lose them), and the folders asked for.
#[derive(Debug, Default)]
pub struct Configs {
    values: HashMap<PathBuf, Vec<(String, String)>>,
    asked: HashSet<PathBuf>,
}

impl Configs {
    /// The config leaves of the run at `path`, once loaded.
    pub fn get(&self, path: &Path) -> Option<&[(String, String)]> {
        self.values.get(path).map(Vec::as_slice)
    }

    /// Keeps a loaded config (empty when the run has none or it is broken:
    /// such a run meets no config condition, rather than staying pending).
    pub fn insert(&mut self, path: PathBuf, values: Vec<(String, String)>) {
        self.asked.remove(&path);
        self.values.insert(path, values);
    }
}

/// What the filter needs beside the tree's input.
pub struct Input<'a> {
    /// Loaded configs.
    pub configs: &'a Configs,
    /// Now, for whether a run is active (its status word `running`).
    pub now: jiff::Timestamp,
    /// The activity window.
    pub window: jiff::SignedDuration,
}

/// The filter's query as the tree uses it: the text for the name and
/// notes match, and the terms (none for a plain query).
pub fn split(line: &str) -> (String, Query) {
    let (q, _) = query::parse_lenient(line);
    if q.is_plain() {
        // A plain query goes to the fuzzy match exactly as typed.
        return (line.to_string(), q);
    }
    (q.text.clone(), q)
}

/// Narrows the runs the text part kept (`kept[k]`) to those that meet the
/// query's terms; a run whose config is not loaded yet is not kept.
pub fn keep(
    catalog: &Catalog,
    summaries: &HashMap<RunKey, RunSummary>,
    input: &Input,
    q: &Query,
    kept: &mut [bool],
) {
    for (k, keep) in kept.iter_mut().enumerate() {
        if *keep {
            *keep = verdict(catalog, summaries, input, q, k) == Verdict::Yes;
        }
    }
}

/// How run `k` fares against the terms of `q`.
fn verdict(
    catalog: &Catalog,
    summaries: &HashMap<RunKey, RunSummary>,
    input: &Input,
    q: &Query,
    k: RunKey,
) -> Verdict {
    let r = &catalog.runs[k];
    let summary = summaries.get(&k);
    let active = r.is_active(input.now, input.window);
    let metric = |n: &str| summary.and_then(|s| s.metric(n));
    let facts = Facts {
        status: Some(
            summary
                .map_or(crate::runs::Status::of(None, active), |s| s.status(active))
                .word(),
        ),
        tag: r.id.as_ref().and_then(|i| i.tag.as_deref()),
        config: input.configs.get(&r.path),
        metric: Some(&metric),
    };
    q.check(&facts)
}

/// Runs the query waits on: its terms need their config, not loaded yet.
pub fn pending(catalog: &Catalog, configs: &Configs, line: &str) -> usize {
    let (_, q) = split(line);
    if !q.needs_config() {
        return 0;
    }
    catalog
        .runs
        .iter()
        .filter(|r| configs.get(&r.path).is_none())
        .count()
}

/// The configs the query needs and nobody asked for yet, marked asked:
/// `(key, folder)` of each, for one request to the loader. Empty when the
/// query has no config condition.
pub fn wanted(catalog: &Catalog, configs: &mut Configs, line: &str) -> Vec<(RunKey, PathBuf)> {
    let (_, q) = split(line);
    if !q.needs_config() {
        return Vec::new();
    }
    let mut want = Vec::new();
    for (k, r) in catalog.runs.iter().enumerate() {
        if !configs.values.contains_key(&r.path) && configs.asked.insert(r.path.clone()) {
            want.push((k, r.path.clone()));
        }
    }
    want
}

/// Reads a run's config on a worker: its flattened leaves (`config.yaml`,
/// else Hydra's), empty when it has none or it cannot be read.
pub fn load(path: &Path) -> Vec<(String, String)> {
    crate::compare::RunConfig::load(path)
        .map(|c| c.values)
        .unwrap_or_default()
}
