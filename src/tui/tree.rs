//! The rows of the tree pane: tasks → models → runs, folded, filtered and
//! sorted. Pure: built from the catalog and the explorer's choices.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crate::catalog::{Catalog, RunKey, SortKey, sort_runs};
use crate::runs::RunSummary;

/// Above this many runs, models start folded so the first screen stays readable.
const OPEN_MODELS_UP_TO: usize = 300;

/// What a row shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// A task, by index in `catalog.tasks`.
    Task(usize),
    /// A model, by task and model index.
    Model(usize, usize),
    /// A run.
    Run(RunKey),
}

/// A row's identity across rescans and re-sorts (names and paths, never positions).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NodeId {
    /// A task by name.
    Task(String),
    /// A model by task and model name.
    Model(String, String),
    /// A run by folder.
    Run(PathBuf),
}

impl NodeId {
    /// The identity of a node of `catalog`.
    pub fn of(catalog: &Catalog, node: Node) -> NodeId {
        match node {
            Node::Task(t) => NodeId::Task(catalog.tasks[t].name.clone()),
            Node::Model(t, m) => {
                let task = &catalog.tasks[t];
                NodeId::Model(task.name.clone(), task.models[m].name.clone())
            }
            Node::Run(k) => NodeId::Run(catalog.runs[k].path.clone()),
        }
    }
}

/// One visible row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// What it shows.
    pub node: Node,
    /// Its identity.
    pub id: NodeId,
    /// 0 for tasks, 1 for models, 2 for runs.
    pub depth: u16,
    /// For tasks and models: shown unfolded.
    pub open: bool,
    /// Character positions in the row's name that the filter matched.
    pub highlight: Vec<usize>,
}

/// Which tasks and models the user folded or unfolded (by identity).
#[derive(Debug, Clone, Default)]
pub struct Expansion {
    toggled: HashSet<NodeId>,
}

impl Expansion {
    /// True when the node shows its children.
    pub fn is_open(&self, id: &NodeId, default_open: bool) -> bool {
        default_open != self.toggled.contains(id)
    }

    /// Folds an open node or unfolds a folded one.
    pub fn toggle(&mut self, id: NodeId) {
        if !self.toggled.remove(&id) {
            self.toggled.insert(id);
        }
    }
}

/// Whether models start open in a tree of this many runs.
pub fn models_open_by_default(runs: usize) -> bool {
    runs <= OPEN_MODELS_UP_TO
}

/// A fuzzy match of `query` in `text`: a score (higher is better) and the
/// matched character positions. The one place the matcher is named, so it
/// can be swapped (nucleo-matcher is faster) without touching callers.
pub fn fuzzy(text: &str, query: &str) -> Option<(i64, Vec<usize>)> {
    use fuzzy_matcher::FuzzyMatcher;
    thread_local! {
        static MATCHER: fuzzy_matcher::skim::SkimMatcherV2 =
            fuzzy_matcher::skim::SkimMatcherV2::default().smart_case();
    }
    MATCHER.with(|m| m.fuzzy_indices(text, query))
}

/// What the rows are built from.
pub struct TreeInput<'a> {
    /// The tree.
    pub catalog: &'a Catalog,
    /// Run summaries loaded so far (notes, key metrics).
    pub summaries: &'a HashMap<RunKey, RunSummary>,
    /// The order of runs.
    pub sort: &'a SortKey,
    /// The filter; empty shows everything.
    pub query: &'a str,
    /// Folding.
    pub expansion: &'a Expansion,
    /// The key metric of each task, from the config.
    pub key_metrics: &'a std::collections::BTreeMap<String, crate::config::KeyMetric>,
}

/// A run's key metric: the one configured for its task, else the first of
/// its own key metrics. Gives the name, the value and whether lower is better.
pub fn key_metric(
    configured: &std::collections::BTreeMap<String, crate::config::KeyMetric>,
    task: &str,
    s: &RunSummary,
) -> Option<(String, f64, bool)> {
    // The rule lives in the library, shared with the CLI.
    let k = s.key_metric(&crate::runs::KeySpec::for_task(configured, task))?;
    Some((
        k.name,
        k.value,
        k.better == Some(crate::runs::Better::Lower),
    ))
}

/// Builds the visible rows.
pub fn build_rows(input: &TreeInput) -> Vec<Row> {
    let c = input.catalog;
    let query = input.query.trim();
    let models_open = models_open_by_default(c.runs.len());
    // With a filter: the matching runs and where the name matched.
    let matched: Option<HashMap<RunKey, Vec<usize>>> = (!query.is_empty()).then(|| {
        c.runs
            .iter()
            .enumerate()
            .filter_map(|(k, r)| {
                let label = r.label();
                if let Some((_, idx)) = fuzzy(&label, query) {
                    let skip = label.chars().count() - r.name.chars().count();
                    return Some((
                        k,
                        idx.into_iter()
                            .filter(|&i| i >= skip)
                            .map(|i| i - skip)
                            .collect(),
                    ));
                }
                // Notes are prose: a fuzzy match of a short query finds its
                // letters scattered in almost any paragraph, so notes match
                // when every word of the query appears in them.
                let notes = input
                    .summaries
                    .get(&k)?
                    .info
                    .as_ref()?
                    .notes
                    .as_deref()?
                    .to_lowercase();
                query
                    .split_whitespace()
                    .all(|w| notes.contains(&w.to_lowercase()))
                    .then(|| (k, Vec::new()))
            })
            .collect()
    });
    let metric = |k: RunKey, name: Option<&str>| {
        let s = input.summaries.get(&k)?;
        match name {
            Some(n) => s.metric(n).map(|v| (v, crate::layout::lower_is_better(n))),
            None => {
                key_metric(input.key_metrics, &c.runs[k].task, s).map(|(_, v, lower)| (v, lower))
            }
        }
    };
    let by_size = matches!(input.sort, SortKey::Size | SortKey::Reclaimable);
    let weight = |keys: &[RunKey]| {
        let u = c.rollup(keys);
        if *input.sort == SortKey::Size {
            u.total().disk
        } else {
            u.reclaimable().disk
        }
    };

    let mut task_order: Vec<usize> = (0..c.tasks.len()).collect();
    if by_size {
        task_order
            .sort_by_key(|&t| std::cmp::Reverse(weight(&c.runs_under(&c.tasks[t].name, None))));
    }
    let mut rows = Vec::new();
    for t in task_order {
        let task = &c.tasks[t];
        let mut model_order: Vec<usize> = (0..task.models.len()).collect();
        if by_size {
            model_order.sort_by_key(|&m| std::cmp::Reverse(weight(&task.models[m].runs)));
        }
        let mut task_rows = Vec::new();
        for m in model_order {
            let model = &task.models[m];
            let mut runs: Vec<RunKey> = match &matched {
                Some(hits) => model
                    .runs
                    .iter()
                    .copied()
                    .filter(|k| hits.contains_key(k))
                    .collect(),
                None => model.runs.clone(),
            };
            if matched.is_some() && runs.is_empty() {
                continue;
            }
            let id = NodeId::Model(task.name.clone(), model.name.clone());
            let open = matched.is_some() || input.expansion.is_open(&id, models_open);
            task_rows.push(Row {
                node: Node::Model(t, m),
                highlight: name_highlight(&model.name, query),
                id,
                depth: 1,
                open,
            });
            if open {
                sort_runs(c, &mut runs, input.sort, metric);
                for k in runs {
                    task_rows.push(Row {
                        node: Node::Run(k),
                        id: NodeId::Run(c.runs[k].path.clone()),
                        depth: 2,
                        open: false,
                        highlight: matched
                            .as_ref()
                            .and_then(|h| h.get(&k).cloned())
                            .unwrap_or_default(),
                    });
                }
            }
        }
        if matched.is_some() && task_rows.is_empty() {
            continue;
        }
        let id = NodeId::Task(task.name.clone());
        let open = matched.is_some() || input.expansion.is_open(&id, true);
        rows.push(Row {
            node: Node::Task(t),
            highlight: name_highlight(&task.name, query),
            id,
            depth: 0,
            open,
        });
        if open {
            rows.extend(task_rows);
        }
    }
    rows
}

fn name_highlight(name: &str, query: &str) -> Vec<usize> {
    if query.is_empty() {
        return Vec::new();
    }
    fuzzy(name, query).map(|(_, idx)| idx).unwrap_or_default()
}
