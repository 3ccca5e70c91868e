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
    /// The whole tree: keys on it act on every run the tree shows.
    Root,
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
    /// The whole tree.
    Root,
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
            Node::Root => NodeId::Root,
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
    /// 0 for the root, 1 for tasks, 2 for models, 3 for runs.
    pub depth: u16,
    /// For tasks and models: shown unfolded.
    pub open: bool,
    /// Character positions in the row's name that the filter matched.
    pub highlight: Vec<usize>,
    /// For a run the filter found by its notes: the words that matched.
    pub note: Option<String>,
}

impl Row {
    /// True for tasks and models, which fold (the root always shows its tasks).
    pub fn foldable(&self) -> bool {
        matches!(self.node, Node::Task(_) | Node::Model(..))
    }
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

/// How a run matched the filter: a tier (0: every part of the query was
/// found whole at the start of a word, 1: whole, 2: only as a fuzzy
/// match), and the matched character
/// positions in each of its task, model and run-id segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathMatch {
    /// 0 for matches at a word start, 1 inside a word, 2 scattered; only
    /// the best tier any run reached shows.
    pub tier: u8,
    /// Matched positions in the task, model and run-id names.
    pub positions: [Vec<usize>; 3],
}

/// Matches `query` against a run's path `segments` (task, model, run id).
///
/// A `/` in the query splits it into parts that must match segments in
/// order, each part within one segment (`ocr/t5` is a task matching `ocr`
/// with a model or run matching `t5`); without a `/` the query matches the
/// whole `task/model/run` path. A part found whole at a word start puts the
/// run in the best tier, so `seed4` prefers `seed42` to `seed14` and `t5`
/// prefers `t5-base` to `resnet50`.
pub fn match_path(segments: [&str; 3], query: &str) -> Option<PathMatch> {
    // How well a part is found in a segment: 0 whole at the start of a
    // word (`t5` in `t5-base`), 1 whole inside a word (`t5` in `resnet50`),
    // 2 only scattered.
    let tier_of = |hay: &str, part: &str| -> u8 {
        let hay = if part.chars().any(char::is_uppercase) {
            hay.to_string()
        } else {
            hay.to_lowercase()
        };
        let mut found = 2;
        for (i, _) in hay.match_indices(part) {
            let boundary = hay[..i]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric());
            if boundary {
                return 0;
            }
            found = 1;
        }
        found
    };
    let mut positions: [Vec<usize>; 3] = Default::default();
    let parts: Vec<&str> = query.split('/').filter(|p| !p.trim().is_empty()).collect();
    if !query.contains('/') {
        let full = segments.join("/");
        let (_, idx) = fuzzy(&full, query)?;
        let mut start = 0;
        for (i, seg) in segments.iter().enumerate() {
            let n = seg.chars().count();
            positions[i] = idx
                .iter()
                .filter(|&&j| j >= start && j < start + n)
                .map(|&j| j - start)
                .collect();
            start += n + 1;
        }
        let tier = tier_of(&full, query.trim());
        return Some(PathMatch { tier, positions });
    }
    if parts.is_empty() {
        return Some(PathMatch { tier: 0, positions });
    }
    let mut tier = 0;
    let mut next = 0;
    for part in parts {
        let part = part.trim();
        let (i, idx) = (next..3).find_map(|i| Some((i, fuzzy(segments[i], part)?.1)))?;
        tier = tier.max(tier_of(segments[i], part));
        positions[i] = idx;
        next = i + 1;
    }
    Some(PathMatch { tier, positions })
}

/// The words of `notes` that contain a word of `query` (at most three), or
/// `None` unless every word of the query appears in the notes. Notes are
/// prose: a fuzzy match of a short query finds its letters scattered in
/// almost any paragraph, so they match by words.
pub fn match_notes(notes: &str, query: &str) -> Option<String> {
    let lower = notes.to_lowercase();
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    if words.is_empty() || !words.iter().all(|w| lower.contains(w.as_str())) {
        return None;
    }
    let mut found: Vec<&str> = Vec::new();
    for word in notes.split_whitespace() {
        let l = word.to_lowercase();
        if words.iter().any(|w| l.contains(w.as_str())) && !found.contains(&word) {
            found.push(word);
            if found.len() == 3 {
                break;
            }
        }
    }
    Some(found.join(" … "))
}

/// What the rows are built from.
pub struct TreeInput<'a> {
    /// The tree.
    pub catalog: &'a Catalog,
    /// Run summaries loaded so far (notes, key metrics).
    pub summaries: &'a HashMap<RunKey, RunSummary>,
    /// The order of runs.
    pub sort: &'a SortKey,
    /// The order reversed (the explorer's reverse key).
    pub reverse: bool,
    /// The filter; empty shows everything.
    pub query: &'a str,
    /// Folding.
    pub expansion: &'a Expansion,
    /// The key metric of each task, from the config.
    pub key_metrics: &'a std::collections::BTreeMap<String, crate::config::KeyMetric>,
    /// Configs and the clock, for the filter's terms (`lr>=1e-4`, `status:`).
    pub filter: super::query_filter::Input<'a>,
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

/// How a run matched: where in its path, or by which words of its notes.
struct Hit {
    positions: [Vec<usize>; 3],
    note: Option<String>,
}

/// The runs the filter keeps: only the best tier that any run reached, so
/// whole-word matches hide scattered ones when there are any.
fn filter_runs(input: &TreeInput, query: &str) -> HashMap<RunKey, Hit> {
    let c = input.catalog;
    let mut hits: Vec<(RunKey, u8, Hit)> = Vec::new();
    for (k, r) in c.runs.iter().enumerate() {
        if let Some(m) = match_path([&r.task, &r.model, &r.name], query) {
            hits.push((
                k,
                m.tier,
                Hit {
                    positions: m.positions,
                    note: None,
                },
            ));
            continue;
        }
        let notes = input
            .summaries
            .get(&k)
            .and_then(|s| s.info.as_ref()?.notes.as_deref());
        if let Some(words) = notes.and_then(|n| match_notes(n, query)) {
            hits.push((
                k,
                0,
                Hit {
                    positions: Default::default(),
                    note: Some(words),
                },
            ));
        }
    }
    let best = hits.iter().map(|h| h.1).min().unwrap_or(0);
    hits.into_iter()
        .filter(|h| h.1 == best)
        .map(|(k, _, h)| (k, h))
        .collect()
}

/// The order of a group of runs (a task or a model) among its siblings:
/// its newest run, its size, its reclaimable bytes or its best metric.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
enum GroupKey {
    Newest(Option<jiff::Timestamp>, Option<jiff::Timestamp>),
    Bytes(u64),
    Metric(f64),
    None,
}

/// Builds the visible rows.
pub fn build_rows(input: &TreeInput) -> Vec<Row> {
    let c = input.catalog;
    let query = input.query.trim();
    let models_open = models_open_by_default(c.runs.len());
    let blank = || Hit {
        positions: Default::default(),
        note: None,
    };
    let (sums, filter) = (input.summaries, &input.filter);
    let matched: Option<HashMap<RunKey, Hit>> =
        super::query_filter::narrow(c, sums, filter, query, |q| filter_runs(input, q), blank);
    let metric = |k: RunKey, name: Option<&str>| {
        let s = input.summaries.get(&k)?;
        match name {
            Some(n) => s.metric(n).map(|v| (v, crate::layout::lower_is_better(n))),
            None => {
                key_metric(input.key_metrics, &c.runs[k].task, s).map(|(_, v, lower)| (v, lower))
            }
        }
    };
    // A group's place among its siblings, best first (ties: by name).
    let group_key = |keys: &[RunKey], models: bool| -> GroupKey {
        match input.sort {
            SortKey::Size => GroupKey::Bytes(c.rollup(keys).total().disk),
            SortKey::Reclaimable => GroupKey::Bytes(c.rollup(keys).reclaimable().disk),
            // Tasks judge runs by different metrics: they go by their newest run.
            SortKey::KeyMetric | SortKey::Metric(_) if models => {
                let name = match input.sort {
                    SortKey::Metric(m) => Some(m.as_str()),
                    _ => None,
                };
                keys.iter()
                    .filter_map(|&k| metric(k, name))
                    .filter(|(v, _)| !v.is_nan())
                    // Best first: a lower-is-better value counts negated.
                    .map(|(v, lower)| if lower { -v } else { v })
                    .max_by(f64::total_cmp)
                    .map_or(GroupKey::None, GroupKey::Metric)
            }
            _ => c.latest(keys.iter().copied()).map_or(GroupKey::None, |k| {
                GroupKey::Newest(c.runs[k].time(), c.runs[k].last_write())
            }),
        }
    };
    let order = |mut groups: Vec<(usize, &str, GroupKey)>| -> Vec<usize> {
        groups.sort_by(|a, b| {
            let primary = match (a.2, b.2) {
                (GroupKey::None, GroupKey::None) => std::cmp::Ordering::Equal,
                (GroupKey::None, _) => std::cmp::Ordering::Greater,
                (_, GroupKey::None) => std::cmp::Ordering::Less,
                (x, y) => y.partial_cmp(&x).unwrap_or(std::cmp::Ordering::Equal),
            };
            primary.then_with(|| a.1.cmp(b.1))
        });
        let mut out: Vec<usize> = groups.into_iter().map(|g| g.0).collect();
        if input.reverse {
            out.reverse();
        }
        out
    };
    // The runs of a model the tree shows.
    let shown = |runs: &[RunKey]| -> Vec<RunKey> {
        match &matched {
            Some(hits) => runs
                .iter()
                .copied()
                .filter(|k| hits.contains_key(k))
                .collect(),
            None => runs.to_vec(),
        }
    };

    let task_order = order(
        c.tasks
            .iter()
            .enumerate()
            .map(|(t, task)| {
                let keys: Vec<RunKey> = task.models.iter().flat_map(|m| shown(&m.runs)).collect();
                (t, task.name.as_str(), group_key(&keys, false))
            })
            .collect(),
    );
    let mut rows = Vec::new();
    for t in task_order {
        let task = &c.tasks[t];
        let model_order = order(
            task.models
                .iter()
                .enumerate()
                .map(|(m, model)| (m, model.name.as_str(), group_key(&shown(&model.runs), true)))
                .collect(),
        );
        let mut task_rows = Vec::new();
        let mut task_highlight = None;
        for m in model_order {
            let model = &task.models[m];
            let mut runs = shown(&model.runs);
            if matched.is_some() && runs.is_empty() {
                continue;
            }
            // Where the filter matched the task and model names: as it did
            // for the first matching run (the same names give the same positions).
            let seg = |i: usize| -> Vec<usize> {
                matched
                    .as_ref()
                    .and_then(|h| runs.iter().find_map(|k| h.get(k)))
                    .map(|h| h.positions[i].clone())
                    .unwrap_or_default()
            };
            task_highlight.get_or_insert_with(|| seg(0));
            let id = NodeId::Model(task.name.clone(), model.name.clone());
            let open = matched.is_some() || input.expansion.is_open(&id, models_open);
            task_rows.push(Row {
                node: Node::Model(t, m),
                highlight: seg(1),
                id,
                depth: 2,
                open,
                note: None,
            });
            if open {
                sort_runs(c, &mut runs, input.sort, metric);
                if input.reverse {
                    runs.reverse();
                }
                for k in runs {
                    let hit = matched.as_ref().and_then(|h| h.get(&k));
                    task_rows.push(Row {
                        node: Node::Run(k),
                        id: NodeId::Run(c.runs[k].path.clone()),
                        depth: 3,
                        open: false,
                        highlight: hit.map(|h| h.positions[2].clone()).unwrap_or_default(),
                        note: hit.and_then(|h| h.note.clone()),
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
            highlight: task_highlight.unwrap_or_default(),
            id,
            depth: 1,
            open,
            note: None,
        });
        if open {
            rows.extend(task_rows);
        }
    }
    if !rows.is_empty() {
        rows.insert(
            0,
            Row {
                node: Node::Root,
                id: NodeId::Root,
                depth: 0,
                open: true,
                highlight: Vec::new(),
                note: None,
            },
        );
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    const T5: [&str; 3] = ["ocr", "t5-base", "2025-12-04_14-32-10_seed4"];
    const RESNET: [&str; 3] = ["ocr", "resnet50", "2025-12-04_14-32-10_seed14"];

    #[test]
    fn a_slash_matches_segments_in_order() {
        assert_eq!(match_path(T5, "ocr/t5").map(|m| m.tier), Some(0));
        // `t5` is inside a word of resnet50: a lower tier, which the tree
        // hides while any run matches at a word start (so `ocr/t5` shows t5
        // models only).
        assert_eq!(match_path(RESNET, "ocr/t5").map(|m| m.tier), Some(1));
        assert_eq!(match_path(RESNET, "ocr/r50").map(|m| m.tier), Some(2));
        // Each part within one segment: not `o` of ocr, `c` … of another.
        let recsys = ["recsys", "xgb", "2025-12-04_14-32-10_t5"];
        assert!(match_path(recsys, "ocr/t5").is_none());
        // In order only: the model before the task does not match.
        assert!(match_path(T5, "t5/ocr").is_none());
        // A part can match the run id, skipping the model.
        assert!(match_path(RESNET, "ocr/seed14").is_some());
        // Positions land in the segment each part matched.
        let m = match_path(T5, "ocr/t5").unwrap();
        assert_eq!(m.positions[0], [0, 1, 2]);
        assert_eq!(m.positions[1], [0, 1]);
        assert!(m.positions[2].is_empty());
    }

    #[test]
    fn a_part_found_whole_ranks_above_a_scattered_one() {
        let whole = match_path(T5, "seed4").unwrap();
        let scattered = match_path(RESNET, "seed4").unwrap();
        assert_eq!((whole.tier, scattered.tier), (0, 2));
        // Smart case: an upper-case query is matched as typed.
        assert_eq!(match_path(T5, "SEED4").map(|m| m.tier), None);
    }

    #[test]
    fn notes_match_by_words_and_say_which() {
        let notes = "Diverged after warmup; lr too high.";
        assert_eq!(match_notes(notes, "warmup").as_deref(), Some("warmup;"));
        assert_eq!(
            match_notes(notes, "diverged lr").as_deref(),
            Some("Diverged … lr")
        );
        assert_eq!(match_notes(notes, "diverged oom"), None);
        assert_eq!(match_notes(notes, "  "), None);
    }
}
