//! The rows of the tree pane: tasks → models → runs, folded, filtered and
//! sorted. Pure: built from the catalog and the explorer's choices.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crate::catalog::RunUsage;
use crate::catalog::{Catalog, RunKey, SortKey, sort_model};
use crate::layout::lower_is_better;
use crate::runs::RunSummary;

/// Above this many runs, models start folded so the first screen stays readable.
const OPEN_MODELS_UP_TO: usize = 300;

/// What a row shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// One visible row: small and copied, so a tree of 100,000 runs is laid
/// out in well under a millisecond (its identity, the filter's highlights
/// and the words of a note match are worked out for the rows on screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// What it shows.
    pub node: Node,
    /// 0 for the root, 1 for tasks, 2 for models, 3 for runs.
    pub depth: u16,
    /// For tasks and models: shown unfolded.
    pub open: bool,
}

impl Row {
    /// True for tasks and models, which fold (the root always shows its tasks).
    pub fn foldable(&self) -> bool {
        matches!(self.node, Node::Task(_) | Node::Model(..))
    }

    /// The row's identity in `catalog`, which outlives a re-sort or a rescan.
    pub fn id(&self, catalog: &Catalog) -> NodeId {
        NodeId::of(catalog, self.node)
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

    /// [`Expansion::is_open`] of a node of `catalog`, naming it only when
    /// something was toggled (the rows ask this of every task and model).
    pub fn is_node_open(&self, catalog: &Catalog, node: Node, default_open: bool) -> bool {
        if self.toggled.is_empty() {
            return default_open;
        }
        self.is_open(&NodeId::of(catalog, node), default_open)
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

/// Whether [`fuzzy`] finds `query` in `text`, without working out where:
/// the same rule (the query's characters in order, ASCII case ignored
/// unless the query has an ASCII capital), at a fraction of the cost. The
/// filter asks this of every run; positions are only worked out for the
/// rows on screen.
pub fn fuzzy_found(text: impl IntoIterator<Item = char>, query: &str) -> bool {
    let sensitive = query.chars().any(|c| c.is_ascii_uppercase());
    let mut want = query.chars().peekable();
    for c in text {
        let Some(&p) = want.peek() else { break };
        if c == p || (!sensitive && c.eq_ignore_ascii_case(&p)) {
            want.next();
        }
    }
    want.peek().is_none()
}

/// How many bytes of `query`, from its start, `text` holds in order (all
/// of them when the query is found scattered), ASCII case ignored unless
/// `sensitive`.
fn taken_in_order<'a>(
    text: impl IntoIterator<Item = &'a u8>,
    query: &[u8],
    sensitive: bool,
) -> usize {
    let mut taken = 0;
    for &c in text {
        let Some(&p) = query.get(taken) else { break };
        if c == p || (!sensitive && c.eq_ignore_ascii_case(&p)) {
            taken += 1;
        }
    }
    taken
}

/// How well `part` is found in `hay`: 0 whole at the start of a word
/// (`t5` in `t5-base`), 1 whole inside a word (`t5` in `resnet50`), 2
/// only scattered. Case is ignored unless `part` has a capital.
fn tier_of(hay: &str, part: &str) -> u8 {
    if !(hay.is_ascii() && part.is_ascii()) {
        return tier_of_unicode(hay, part);
    }
    // The same as below without lowering a copy of `hay` (this runs for
    // every run the filter keeps): non-overlapping occurrences, left to right.
    let (h, p) = (hay.as_bytes(), part.as_bytes());
    if p.is_empty() {
        return 0;
    }
    let sensitive = p.iter().any(u8::is_ascii_uppercase);
    let mut found = 2;
    let mut i = 0;
    while i + p.len() <= h.len() {
        let w = &h[i..i + p.len()];
        if (sensitive && w == p) || (!sensitive && w.eq_ignore_ascii_case(p)) {
            if i == 0 || !h[i - 1].is_ascii_alphanumeric() {
                return 0;
            }
            found = 1;
            i += p.len();
        } else {
            i += 1;
        }
    }
    found
}

/// [`tier_of`] for names beyond ASCII.
fn tier_of_unicode(hay: &str, part: &str) -> u8 {
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
}

/// The tier [`match_path`] gives a run's path `segments`, or `None` when
/// it does not match: the same answer without the positions, and without
/// allocating (but for names beyond ASCII). `full` is scratch space.
pub fn path_tier(segments: [&str; 3], query: &str, full: &mut String) -> Option<u8> {
    if !query.contains('/') && query.is_ascii() && segments.iter().all(|s| s.is_ascii()) {
        return path_tier_ascii(segments, query);
    }
    if !query.contains('/') {
        let chars = segments[0]
            .chars()
            .chain(std::iter::once('/'))
            .chain(segments[1].chars())
            .chain(std::iter::once('/'))
            .chain(segments[2].chars());
        if !fuzzy_found(chars, query) {
            return None;
        }
        full.clear();
        for (i, seg) in segments.iter().enumerate() {
            if i > 0 {
                full.push('/');
            }
            full.push_str(seg);
        }
        return Some(tier_of(full, query.trim()));
    }
    let mut tier = 0;
    let mut next = 0;
    for part in query.split('/').map(str::trim).filter(|p| !p.is_empty()) {
        let i = (next..3).find(|&i| fuzzy_found(segments[i].chars(), part))?;
        tier = tier.max(tier_of(segments[i], part));
        next = i + 1;
    }
    Some(tier)
}

/// [`path_tier`] for a query without `/` over ASCII names (nearly every
/// run), by bytes and segment by segment instead of on the joined path:
/// the filter asks it of every run, and on 20,000 runs decoding and
/// joining the path was most of a keystroke's matching. The answer is the
/// joined path's: the query has no `/`, so no occurrence spans two
/// segments, and a segment's start is a word start as it is after `/`.
fn path_tier_ascii(segments: [&str; 3], query: &str) -> Option<u8> {
    let q = query.as_bytes();
    let sensitive = q.iter().any(u8::is_ascii_uppercase);
    let slash = [b'/'];
    let joined = segments[0]
        .as_bytes()
        .iter()
        .chain(&slash)
        .chain(segments[1].as_bytes())
        .chain(&slash)
        .chain(segments[2].as_bytes());
    if taken_in_order(joined, q, sensitive) < q.len() {
        return None;
    }
    let part = query.trim();
    if part.is_empty() {
        return Some(0);
    }
    let mut tier = 2;
    for seg in segments {
        tier = tier.min(tier_of(seg, part));
        if tier == 0 {
            break;
        }
    }
    Some(tier)
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
    // Most runs' notes lack some word: said without lowering a copy of
    // the notes (the filter asks this of every run its path missed).
    if notes.is_ascii()
        && query.is_ascii()
        && !query.split_whitespace().all(|w| {
            notes
                .as_bytes()
                .windows(w.len())
                .any(|h| h.eq_ignore_ascii_case(w.as_bytes()))
        })
    {
        return None;
    }
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
    /// Each run's key metric as [`key_metric`] gives it, where already
    /// worked out (by run; `None` where not).
    pub key_values: &'a [Option<Option<KeyMetricOf>>],
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

/// Every run of one model, in the order of a sort.
type SortedRuns = Vec<RunKey>;

/// A run's value under a metric sort and whether lower is better.
type SortValue = (f64, bool);

/// A run's key metric: its name, its value and whether lower is better.
pub type KeyMetricOf = (String, f64, bool);

/// A run the filter matched: its key, its tier, and the words of its
/// notes when it was found by them.
type FilterHit = (RunKey, u8, Option<String>);

/// The filter's answers kept between keystrokes, so a query that extends
/// the last one searches only the runs the last one matched (typing
/// `seed4` searches every run for `s`, then fewer and fewer), and
/// Backspace finds its answer again without searching.
#[derive(Debug, Clone, Default)]
pub struct FilterMemo {
    /// Queries typed since the runs last changed, each extending the one
    /// before, with every run it matched: (run, tier, words of the notes).
    steps: Vec<(String, Vec<FilterHit>)>,
    /// Every run of each model in the order `sort` gives, by task and
    /// model, sorted when the model is first shown open: the order does
    /// not change while the user types, so a keystroke only drops the
    /// runs its filter hides instead of sorting each model again.
    sorted: Option<(SortKey, Vec<Vec<Option<SortedRuns>>>)>,
    /// Every run's `task/model/name` in one buffer, built on the first
    /// search after the runs change: the filter reads each run's three
    /// names, and reading them from the runs (three heap strings apiece,
    /// scattered) cost more than matching them (8-18 ms on 20,000 runs).
    paths: Option<Paths>,
    /// Each model's run count, usage and newest run, by task and model:
    /// a model the filter keeps whole (most of them while a query is
    /// short) takes these instead of reading each of its runs again.
    whole: Option<Vec<Vec<Whole>>>,
    /// Under a metric sort, each run's value and whether lower is better,
    /// by run, looked up once per sort: the sort and the order of models
    /// read it for every run, and a lookup reads the run's summary.
    values: Option<(SortKey, Vec<Option<SortValue>>)>,
}

/// What a model's runs add up to, all of them.
#[derive(Debug, Clone, Default)]
struct Whole {
    usage: RunUsage,
    newest: Option<Newest>,
}

/// A run's place by time: its time, then its newest write.
type Newest = (Option<jiff::Timestamp>, Option<jiff::Timestamp>);

/// The place by time of run `k` (as [`Catalog::latest`] compares runs).
fn newest_of(c: &Catalog, k: RunKey) -> Newest {
    (c.runs[k].time(), c.runs[k].last_write())
}

/// Every run's path segments, one after another in one buffer.
#[derive(Debug, Clone, Default)]
struct Paths {
    /// Each model's `task` and `model` names back to back, then each
    /// run's name.
    text: String,
    /// Per model (across tasks): where its task starts, where its task
    /// and its model end.
    models: Vec<[usize; 3]>,
    /// Per run: its model (an index into `models`), where its name starts
    /// and ends.
    runs: Vec<(u32, usize, usize)>,
    /// The notes of every run with a summary that has some, back to back
    /// (the runs their path misses are searched by notes: a map lookup
    /// and scattered reads apiece otherwise). A run's new notes are
    /// added at the end.
    notes: String,
    /// Per run: where its notes start and end, if it has any.
    notes_at: Vec<Option<(usize, usize)>>,
}

impl Paths {
    fn of(c: &Catalog, summaries: &HashMap<RunKey, RunSummary>) -> Paths {
        let mut p = Paths {
            runs: vec![(0, 0, 0); c.runs.len()],
            notes_at: vec![None; c.runs.len()],
            ..Paths::default()
        };
        for task in &c.tasks {
            for model in &task.models {
                let start = p.text.len();
                p.text.push_str(&task.name);
                let t = p.text.len();
                p.text.push_str(&model.name);
                let g = p.models.len() as u32;
                p.models.push([start, t, p.text.len()]);
                for &k in &model.runs {
                    let start = p.text.len();
                    p.text.push_str(&c.runs[k].name);
                    p.runs[k] = (g, start, p.text.len());
                }
            }
        }
        for (&k, s) in summaries {
            if let Some(n) = s.info.as_ref().and_then(|i| i.notes.as_deref()) {
                p.set_notes(k, Some(n));
            }
        }
        p
    }

    /// Takes run `k`'s new notes.
    fn set_notes(&mut self, k: RunKey, notes: Option<&str>) {
        let Some(slot) = self.notes_at.get_mut(k) else {
            return;
        };
        *slot = notes.map(|n| {
            let start = self.notes.len();
            self.notes.push_str(n);
            (start, self.notes.len())
        });
    }

    /// Run `k`'s notes, if its summary has any.
    fn notes(&self, k: RunKey) -> Option<&str> {
        self.notes_at[k].map(|(a, b)| &self.notes[a..b])
    }

    /// Model `g`'s task and model names.
    fn model(&self, g: u32) -> [&str; 2] {
        let [a, b, c] = self.models[g as usize];
        [&self.text[a..b], &self.text[b..c]]
    }

    /// Run `k`'s model and name.
    fn run(&self, k: RunKey) -> (u32, &str) {
        let (g, a, b) = self.runs[k];
        (g, &self.text[a..b])
    }
}

/// What a query's match over a model's task and model names leaves for
/// each of its runs' names: every run of a model shares them, so they
/// are matched once per model rather than once per run.
#[derive(Debug, Clone, Copy)]
enum Ahead {
    /// A query without `/` over ASCII names: how many of its bytes the
    /// `task/model/` prefix took in order, and the best tier there.
    Ascii { taken: usize, tier: u8 },
    /// A query with `/`: the parts the task and model took left this one
    /// for the name (`None`: they took them all; `Some(None)`: more than
    /// the name can take), with the worst tier so far.
    Parts {
        left: Option<Option<usize>>,
        tier: u8,
    },
    /// Anything else: the whole path is matched run by run.
    Whole,
}

/// Works out [`Ahead`] for a model's `task` and `model` names.
fn ahead(task: &str, model: &str, query: &str) -> Ahead {
    if !query.contains('/') {
        if !(query.is_ascii() && task.is_ascii() && model.is_ascii()) {
            return Ahead::Whole;
        }
        let q = query.as_bytes();
        let sensitive = q.iter().any(u8::is_ascii_uppercase);
        let slash = [b'/'];
        let prefix = task
            .as_bytes()
            .iter()
            .chain(&slash)
            .chain(model.as_bytes())
            .chain(&slash);
        let taken = taken_in_order(prefix, q, sensitive);
        let part = query.trim();
        let tier = if part.is_empty() {
            0
        } else {
            tier_of(task, part).min(tier_of(model, part))
        };
        return Ahead::Ascii { taken, tier };
    }
    let parts = query_parts(query);
    let segments = [task, model];
    let mut tier = 0;
    let mut next = 0;
    for (n, part) in parts.iter().enumerate() {
        match (next..2).find(|&i| fuzzy_found(segments[i].chars(), part)) {
            Some(i) => {
                tier = tier.max(tier_of(segments[i], part));
                next = i + 1;
            }
            // This part is the name's to find, and it can find only one.
            None => {
                let left = (n + 1 == parts.len()).then_some(n);
                return Ahead::Parts {
                    left: Some(left),
                    tier,
                };
            }
        }
    }
    Ahead::Parts { left: None, tier }
}

/// The parts of a query with `/`, as [`ahead`] numbers them.
fn query_parts(query: &str) -> Vec<&str> {
    query
        .split('/')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// The tier [`path_tier`] gives a run named `name` whose model's names
/// left `ahead`; `segments` are the run's task, model and name (matched
/// whole when the names are beyond what [`Ahead`] covers), `parts` the
/// query's [`query_parts`].
fn name_tier(
    ahead: Ahead,
    segments: [&str; 3],
    (query, parts): (&str, &[&str]),
    full: &mut String,
) -> Option<u8> {
    let name = segments[2];
    match ahead {
        Ahead::Ascii { taken, tier } if name.is_ascii() => {
            let q = &query.as_bytes()[taken..];
            let sensitive = query.bytes().any(|b| b.is_ascii_uppercase());
            if taken_in_order(name.as_bytes(), q, sensitive) < q.len() {
                return None;
            }
            let part = query.trim();
            Some(if tier == 0 || part.is_empty() {
                tier
            } else {
                tier.min(tier_of(name, part))
            })
        }
        Ahead::Parts { left: None, tier } => Some(tier),
        Ahead::Parts {
            left: Some(Some(n)),
            tier,
        } => {
            let part = parts.get(n)?;
            fuzzy_found(name.chars(), part).then(|| tier.max(tier_of(name, part)))
        }
        Ahead::Parts {
            left: Some(None), ..
        } => None,
        _ => path_tier(segments, query, full),
    }
}

impl FilterMemo {
    /// Forgets every answer: the runs or their notes changed.
    pub fn clear(&mut self) {
        self.steps.clear();
        self.sorted = None;
        self.paths = None;
        self.whole = None;
        self.values = None;
    }

    /// Some runs changed in size or time (the same runs, numbered as
    /// before): sums and orders are worked out again; names, notes and
    /// the filter's answers still hold.
    pub fn runs_changed(&mut self) {
        self.sorted = None;
        self.whole = None;
        self.values = None;
    }

    /// Forgets the kept orders of runs: the settings (key metrics) changed.
    pub fn forget_order(&mut self) {
        self.sorted = None;
        self.values = None;
    }

    /// A run's summary landed: orders by a metric may have changed.
    pub fn summary_changed(&mut self) {
        self.values = None;
        if self
            .sorted
            .as_ref()
            .is_some_and(|(s, _)| matches!(s, SortKey::KeyMetric | SortKey::Metric(_)))
        {
            self.sorted = None;
        }
    }

    /// Run `k`'s notes changed: the filter's answers may be wrong now,
    /// but the names and orders kept still hold.
    pub fn notes_changed(&mut self, k: RunKey, notes: Option<&str>) {
        self.steps.clear();
        if let Some(p) = &mut self.paths {
            p.set_notes(k, notes);
        }
    }

    /// Each model's whole run count, usage and newest run, worked out
    /// once per change of the runs.
    fn whole(&mut self, c: &Catalog) -> &[Vec<Whole>] {
        let fits = |w: &Vec<Vec<Whole>>| {
            w.len() == c.tasks.len()
                && w.iter()
                    .zip(&c.tasks)
                    .all(|(w, t)| w.len() == t.models.len())
        };
        if !self.whole.as_ref().is_some_and(fits) {
            let whole = c
                .tasks
                .iter()
                .map(|t| {
                    t.models
                        .iter()
                        .map(|m| Whole {
                            usage: c.rollup(&m.runs),
                            newest: m.runs.iter().map(|&k| newest_of(c, k)).max(),
                        })
                        .collect()
                })
                .collect();
            self.whole = Some(whole);
        }
        self.whole.as_deref().unwrap_or(&[])
    }

    /// Each run's value under a metric sort (see `values`), worked out
    /// when the sort or the summaries changed.
    fn values(&mut self, input: &TreeInput) -> &[Option<SortValue>] {
        let c = input.catalog;
        if !matches!(input.sort, SortKey::KeyMetric | SortKey::Metric(_)) {
            return &[];
        }
        let fresh = self
            .values
            .as_ref()
            .is_some_and(|(s, v)| s == input.sort && v.len() == c.runs.len());
        if !fresh {
            let mut values = vec![None; c.runs.len()];
            // A named metric improves one way for every run.
            let named = match input.sort {
                SortKey::Metric(n) => Some((n.as_str(), lower_is_better(n))),
                _ => None,
            };
            for task in &c.tasks {
                // The task's spec once, not once per run.
                let spec = crate::runs::KeySpec::for_task(input.key_metrics, &task.name);
                for &k in task.models.iter().flat_map(|m| &m.runs) {
                    let Some(s) = input.summaries.get(&k) else {
                        continue;
                    };
                    values[k] = match (named, input.key_values.get(k)) {
                        (Some((n, lower)), _) => s.metric(n).map(|v| (v, lower)),
                        // Worked out as the summary landed.
                        (None, Some(Some(kept))) => kept.as_ref().map(|(_, v, lower)| (*v, *lower)),
                        (None, _) => s
                            .key_value(&spec)
                            .map(|(v, b)| (v, b == Some(crate::runs::Better::Lower))),
                    };
                }
            }
            self.values = Some((input.sort.clone(), values));
        }
        self.values.as_ref().map_or(&[], |(_, v)| v)
    }
}

/// Every run of model `m` of task `t`, in `sort`'s order, sorted once
/// and kept (in `kept`) until the runs, the sort or what it sorts by change.
fn sorted_runs<'a>(
    kept: &'a mut Option<(SortKey, Vec<Vec<Option<SortedRuns>>>)>,
    input: &TreeInput,
    (t, m): (usize, usize),
    metric: impl Fn(RunKey, Option<&str>) -> Option<(f64, bool)>,
) -> &'a [RunKey] {
    let c = input.catalog;
    if kept.as_ref().is_none_or(|(s, _)| s != input.sort) {
        *kept = Some((input.sort.clone(), Vec::new()));
    }
    let Some((_, by_task)) = kept.as_mut() else {
        return &[];
    };
    if by_task.len() != c.tasks.len() {
        by_task.resize_with(c.tasks.len(), Vec::new);
    }
    let by_model = &mut by_task[t];
    let models = c.tasks[t].models.len();
    if by_model.len() != models {
        by_model.resize_with(models, || None);
    }
    let runs = &c.tasks[t].models[m].runs;
    let slot = &mut by_model[m];
    // The runs change only with a cleared memo; the count is a cheap
    // guard that a kept order still names this model's runs.
    if slot.as_ref().is_none_or(|v| v.len() != runs.len()) {
        *slot = Some(sort_model(c, &c.tasks[t].models[m], input.sort, metric));
    }
    slot.as_deref().unwrap_or(&[])
}

impl FilterMemo {
    /// Works out what the first letter of a filter needs and is kept
    /// until the runs or the sort change: every run's names in one buffer
    /// and every model's order of runs (a filter shows every model open).
    pub fn ready(&mut self, input: &TreeInput) {
        let c = input.catalog;
        self.paths(input);
        self.values(input);
        let FilterMemo { sorted, values, .. } = self;
        let values = values.as_ref().map_or(&[][..], |(_, v)| v.as_slice());
        let metric = |k: RunKey, _: Option<&str>| values.get(k).copied().flatten();
        for (t, task) in c.tasks.iter().enumerate() {
            for m in 0..task.models.len() {
                sorted_runs(sorted, input, (t, m), metric);
            }
        }
    }

    /// Every run's names in one buffer, built after the runs changed.
    fn paths(&mut self, input: &TreeInput) -> &Paths {
        let c = input.catalog;
        let paths = match self.paths.take() {
            Some(p) if p.runs.len() == c.runs.len() => p,
            _ => Paths::of(c, input.summaries),
        };
        self.paths.insert(paths)
    }

    /// Every run `query` matches, any tier, searching only the last
    /// answer when `query` extends the query it answered.
    fn matches(&mut self, input: &TreeInput, query: &str) -> &[FilterHit] {
        // A query that extends another matches a subset of its runs: the
        // path's characters in order (or the parts in order, each within
        // one segment) and the words of the notes only get harder to find.
        while self
            .steps
            .last()
            .is_some_and(|(q, _)| !query.starts_with(q.as_str()))
        {
            self.steps.pop();
        }
        if self.steps.last().is_none_or(|(q, _)| q != query) {
            let c = input.catalog;
            self.paths(input);
            let Some(paths) = self.paths.as_ref() else {
                return &[];
            };
            let parts = query_parts(query);
            // One search of some runs, each model's names matched the
            // first time one of its runs is asked about.
            let search = |keys: &mut dyn Iterator<Item = RunKey>| -> Vec<FilterHit> {
                let mut full = String::new();
                let mut aheads: Vec<Option<Ahead>> = vec![None; paths.models.len()];
                let mut test = |k: RunKey| -> Option<FilterHit> {
                    let (g, name) = paths.run(k);
                    let [task, model] = paths.model(g);
                    let ahead =
                        *aheads[g as usize].get_or_insert_with(|| ahead(task, model, query));
                    let segments = [task, model, name];
                    if let Some(tier) = name_tier(ahead, segments, (query, &parts), &mut full) {
                        return Some((k, tier, None));
                    }
                    let notes = paths.notes(k)?;
                    match_notes(notes, query).map(|words| (k, 0, Some(words)))
                };
                keys.filter_map(&mut test).collect()
            };
            let keys: Vec<RunKey> = match self.steps.last() {
                Some((_, last)) => last.iter().map(|h| h.0).collect(),
                None => (0..c.runs.len()).collect(),
            };
            let found = search_split(&keys, &search);
            self.steps.push((query.to_string(), found));
        }
        self.steps.last().map_or(&[], |(_, f)| f.as_slice())
    }
}

/// Below this many runs a search runs on one thread (a thread costs more
/// than it saves).
const SPLIT_FROM: usize = 20_000;

/// Runs `search` over `keys`, split between the machine's cores when there
/// are many (a query over 100,000 runs), the answers joined in order: the
/// filter's first letters search every run, and a keystroke waits for it.
fn search_split<F>(keys: &[RunKey], search: &F) -> Vec<FilterHit>
where
    F: Fn(&mut dyn Iterator<Item = RunKey>) -> Vec<FilterHit> + Sync,
{
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    if cores < 2 || keys.len() < SPLIT_FROM {
        return search(&mut keys.iter().copied());
    }
    let chunk = keys.len().div_ceil(cores);
    std::thread::scope(|scope| {
        let parts: Vec<_> = keys
            .chunks(chunk)
            .skip(1)
            .map(|part| scope.spawn(move || search(&mut part.iter().copied())))
            .collect();
        // The first part here, while the others run.
        let mut found = search(&mut keys[..chunk.min(keys.len())].iter().copied());
        for part in parts {
            // A part that panicked panics here, as it would have on one
            // thread, rather than show a filter that silently lost runs.
            found.extend(part.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        found
    })
}

/// The runs the filter keeps, by run: only the best tier that any run
/// reached, so whole-word matches hide scattered ones when there are any.
/// Gives whether each run is kept, and the words of the notes for runs
/// found by their notes.
fn filter_runs(
    input: &TreeInput,
    query: &str,
    memo: &mut FilterMemo,
) -> (Vec<bool>, HashMap<RunKey, String>) {
    let hits = memo.matches(input, query);
    let best = hits.iter().map(|h| h.1).min().unwrap_or(0);
    let mut kept = vec![false; input.catalog.runs.len()];
    let mut notes = HashMap::new();
    for (k, tier, words) in hits {
        if *tier == best && *k < kept.len() {
            kept[*k] = true;
            if let Some(w) = words {
                notes.insert(*k, w.clone());
            }
        }
    }
    (kept, notes)
}

/// Where the filter matched a run's name, for drawing its row (only the
/// rows on screen: working positions out for every run would cost a
/// keystroke its frame).
pub fn run_highlight(catalog: &Catalog, key: RunKey, query: &str) -> Vec<usize> {
    path_positions(catalog, key, query, 2)
}

/// Where the filter matched a task (`segment` 0), model (1) or run name
/// (2), as it matched run `key`'s path.
fn path_positions(catalog: &Catalog, key: RunKey, query: &str, segment: usize) -> Vec<usize> {
    // Only the text part of the query is matched against names.
    let (text, _) = super::query_filter::split(query.trim());
    let query = text.trim();
    let Some(r) = catalog.runs.get(key) else {
        return Vec::new();
    };
    if query.is_empty() {
        return Vec::new();
    }
    match_path([&r.task, &r.model, &r.name], query)
        .map(|m| m.positions[segment].clone())
        .unwrap_or_default()
}

/// Where the filter matched the name of the task or model on row `i` of
/// `rows`: as it did for the model's first shown run by name (the first
/// model shown for a task), none when that run was found by its notes.
/// Worked out when the row is drawn.
pub fn group_highlight(
    view: (&[Row], &Shown),
    catalog: &Catalog,
    i: usize,
    query: &str,
) -> Vec<usize> {
    let (rows, shown) = view;
    let Some(kept) = &shown.kept else {
        return Vec::new();
    };
    let (model, segment) = match rows.get(i).map(|r| r.node) {
        Some(Node::Model(t, m)) => ((t, m), 1),
        Some(Node::Task(t)) => match rows.get(i + 1).map(|r| r.node) {
            Some(Node::Model(tt, m)) if tt == t => ((t, m), 0),
            _ => return Vec::new(),
        },
        _ => return Vec::new(),
    };
    let Some(runs) = catalog
        .tasks
        .get(model.0)
        .and_then(|t| t.models.get(model.1))
        .map(|m| &m.runs)
    else {
        return Vec::new();
    };
    match runs.iter().find(|&&k| kept.get(k) == Some(&true)) {
        Some(&k) if !shown.notes.contains_key(&k) => path_positions(catalog, k, query, segment),
        _ => Vec::new(),
    }
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

/// Which runs the tree shows, worked out with the rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shown {
    /// With a filter, whether each run (by key) is shown; `None` without
    /// one (every run is, folded or not).
    pub kept: Option<Vec<bool>>,
    /// The runs found by their notes, with the words that matched.
    pub notes: HashMap<RunKey, String>,
    /// How many runs the tree shows.
    pub count: usize,
}

impl Shown {
    /// True when the tree shows run `k` (every run without a filter: a
    /// folded model's runs are not rows, yet they are there).
    pub fn contains(&self, k: RunKey) -> bool {
        self.kept
            .as_ref()
            .is_none_or(|kept| kept.get(k).copied().unwrap_or(false))
    }

    /// A filter's answer that shows exactly `keys` (the rows build it from
    /// the filter; tests name runs directly).
    pub fn of_keys(keys: impl IntoIterator<Item = RunKey>) -> Shown {
        let mut kept = Vec::new();
        let mut count = 0;
        for k in keys {
            if kept.len() <= k {
                kept.resize(k + 1, false);
            }
            count += usize::from(!kept[k]);
            kept[k] = true;
        }
        Shown {
            kept: Some(kept),
            notes: HashMap::new(),
            count,
        }
    }

    /// The shown runs' keys, with a filter; `None` without one.
    pub fn keys(&self) -> Option<impl Iterator<Item = RunKey> + '_> {
        let kept = self.kept.as_ref()?;
        Some((0..kept.len()).filter(|&k| kept[k]))
    }
}

/// How many runs the root, each task and each model show, and their
/// usage summed, worked out with the rows: the tree pane asks it of every
/// group row it draws, and the status line of the whole tree.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// The runs the tree shows.
    pub root: (usize, RunUsage),
    /// By task.
    pub tasks: Vec<(usize, RunUsage)>,
    /// By task and model.
    pub models: Vec<Vec<(usize, RunUsage)>>,
    /// Every run of the tree, the filter aside.
    pub all: RunUsage,
    /// Every run of each task, the filter aside.
    pub all_tasks: Vec<RunUsage>,
    /// Every run of each model by task, the filter aside.
    pub all_models: Vec<Vec<RunUsage>>,
}

impl Totals {
    /// The count and usage of the runs shown under a root, task or model.
    pub fn get(&self, node: Node) -> Option<&(usize, RunUsage)> {
        match node {
            Node::Root => Some(&self.root),
            Node::Task(t) => self.tasks.get(t),
            Node::Model(t, m) => self.models.get(t)?.get(m),
            Node::Run(_) => None,
        }
    }

    /// The usage of every run under a root, task or model, shown or not.
    pub fn whole(&self, node: Node) -> Option<&RunUsage> {
        match node {
            Node::Root => Some(&self.all),
            Node::Task(t) => self.all_tasks.get(t),
            Node::Model(t, m) => self.all_models.get(t)?.get(m),
            Node::Run(_) => None,
        }
    }
}

/// The rows and what was worked out with them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Built {
    /// The visible rows, in order.
    pub rows: Vec<Row>,
    /// Which runs the tree shows.
    pub shown: Shown,
    /// Counts and usage of the shown runs.
    pub totals: Totals,
}

/// Builds the visible rows.
///
/// Rows carry no highlight: drawing asks [`run_highlight`] and
/// [`group_highlight`] for the rows on screen.
pub fn build_rows(input: &TreeInput, memo: &mut FilterMemo) -> Built {
    let c = input.catalog;
    let query = input.query.trim();
    let models_open = models_open_by_default(c.runs.len());
    let (matched, notes) = if query.is_empty() {
        (None, HashMap::new())
    } else {
        // Terms (`optim.lr>=1e-4`, `status:failed`) narrow what the text
        // part matched; a plain query is the text as typed.
        let (text, terms) = super::query_filter::split(query);
        let text = text.trim();
        let (mut kept, notes) = if text.is_empty() {
            (vec![true; c.runs.len()], HashMap::new())
        } else {
            crate::tui::spans::span("match", || filter_runs(input, text, memo))
        };
        if !terms.is_plain() {
            let (sums, filter) = (input.summaries, &input.filter);
            super::query_filter::keep(c, sums, filter, &terms, &mut kept);
        }
        (Some(kept), notes)
    };
    // Worked out once and kept: each model's sums, each run's value under
    // a metric sort, and (below) each model's order of runs.
    crate::tui::spans::span("whole", || memo.whole(c));
    crate::tui::spans::span("values", || memo.values(input));
    let FilterMemo {
        sorted,
        whole,
        values,
        ..
    } = memo;
    let whole = whole.as_deref().unwrap_or(&[]);
    let values = values.as_ref().map_or(&[][..], |(_, v)| v.as_slice());
    // A run's value under the sort (`None` outside metric sorts).
    let metric = |k: RunKey, _: Option<&str>| values.get(k).copied().flatten();

    // Each model's shown runs counted and summed, and its place among its
    // siblings; a model shown whole takes its kept sums.
    let mut totals = Totals::default();
    let mut model_keys: Vec<Vec<GroupKey>> = Vec::with_capacity(c.tasks.len());
    let mut task_keys: Vec<GroupKey> = Vec::with_capacity(c.tasks.len());
    for (t, task) in c.tasks.iter().enumerate() {
        let mut task_total = (0, RunUsage::default());
        let mut task_newest: Option<Newest> = None;
        let mut counts = Vec::with_capacity(task.models.len());
        let mut keys = Vec::with_capacity(task.models.len());
        for (m, model) in task.models.iter().enumerate() {
            let w = &whole[t][m];
            let (n, usage, newest) = match &matched {
                Some(kept) => {
                    let n = model.runs.iter().filter(|&&k| kept[k]).count();
                    if n == model.runs.len() {
                        (n, w.usage.clone(), w.newest)
                    } else {
                        let shown = model.runs.iter().filter(|&&k| kept[k]);
                        (
                            n,
                            c.rollup(shown.clone()),
                            shown.map(|&k| newest_of(c, k)).max(),
                        )
                    }
                }
                None => (model.runs.len(), w.usage.clone(), w.newest),
            };
            let key = match input.sort {
                SortKey::Size => GroupKey::Bytes(usage.total().disk),
                SortKey::Reclaimable => GroupKey::Bytes(usage.reclaimable().disk),
                SortKey::KeyMetric | SortKey::Metric(_) => model
                    .runs
                    .iter()
                    .filter(|&&k| matched.as_ref().is_none_or(|kept| kept[k]))
                    .filter_map(|&k| metric(k, None))
                    .filter(|(v, _)| !v.is_nan())
                    // Best first: a lower-is-better value counts negated.
                    .map(|(v, lower)| if lower { -v } else { v })
                    .max_by(f64::total_cmp)
                    .map_or(GroupKey::None, GroupKey::Metric),
                SortKey::Time => newest.map_or(GroupKey::None, |(a, b)| GroupKey::Newest(a, b)),
            };
            keys.push(key);
            task_total.0 += n;
            task_total.1.add(&usage);
            if n > 0 {
                task_newest = task_newest.max(newest);
            }
            counts.push((n, usage));
        }
        // Tasks judge runs by different metrics: they go by their newest run.
        task_keys.push(match input.sort {
            SortKey::Size => GroupKey::Bytes(task_total.1.total().disk),
            SortKey::Reclaimable => GroupKey::Bytes(task_total.1.reclaimable().disk),
            _ => task_newest.map_or(GroupKey::None, |(a, b)| GroupKey::Newest(a, b)),
        });
        model_keys.push(keys);
        totals.root.0 += task_total.0;
        totals.root.1.add(&task_total.1);
        totals.tasks.push(task_total);
        totals.models.push(counts);
        let mut all_task = RunUsage::default();
        for w in &whole[t] {
            all_task.add(&w.usage);
        }
        totals.all.add(&all_task);
        totals.all_tasks.push(all_task);
        totals
            .all_models
            .push(whole[t].iter().map(|w| w.usage.clone()).collect());
    }

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
    let task_order = order(
        c.tasks
            .iter()
            .enumerate()
            .map(|(t, task)| (t, task.name.as_str(), task_keys[t]))
            .collect(),
    );
    let mut rows = Vec::with_capacity(
        1 + match &matched {
            Some(_) => totals.root.0,
            None if models_open => c.runs.len(),
            None => 0,
        },
    );
    if !c.runs.is_empty() {
        rows.push(Row {
            node: Node::Root,
            depth: 0,
            open: true,
        });
    }
    for t in task_order {
        let task = &c.tasks[t];
        if matched.is_some() && totals.tasks[t].0 == 0 {
            continue;
        }
        let open = matched.is_some() || input.expansion.is_node_open(c, Node::Task(t), true);
        rows.push(Row {
            node: Node::Task(t),
            depth: 1,
            open,
        });
        if !open {
            continue;
        }
        let model_order = order(
            task.models
                .iter()
                .enumerate()
                .map(|(m, model)| (m, model.name.as_str(), model_keys[t][m]))
                .collect(),
        );
        for m in model_order {
            if matched.is_some() && totals.models[t][m].0 == 0 {
                continue;
            }
            let node = Node::Model(t, m);
            let open = matched.is_some() || input.expansion.is_node_open(c, node, models_open);
            rows.push(Row {
                node,
                depth: 2,
                open,
            });
            if !open {
                continue;
            }
            // The model's runs in the kept order, less those the filter
            // hides (sorting the shown ones gives the same order: ties
            // are broken by path, so it is total).
            let all = sorted_runs(sorted, input, (t, m), metric);
            let start = rows.len();
            let run = |k: RunKey| Row {
                node: Node::Run(k),
                depth: 3,
                open: false,
            };
            match &matched {
                Some(kept) => rows.extend(all.iter().filter(|&&k| kept[k]).map(|&k| run(k))),
                None => rows.extend(all.iter().map(|&k| run(k))),
            }
            if input.reverse {
                rows[start..].reverse();
            }
        }
    }
    // A task or model emptied by the filter would have been skipped; the
    // root stays only over some run.
    if rows.len() == 1 && matched.is_some() {
        rows.clear();
    }
    Built {
        rows,
        shown: Shown {
            kept: matched,
            notes,
            count: totals.root.0,
        },
        totals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T5: [&str; 3] = ["ocr", "t5-base", "2025-12-04_14-32-10_seed4"];

    /// A catalog of runs (task, model, name, seconds after a fixed time)
    /// under `/o/experiments`, keyed in the order given.
    fn catalog_of(runs: &[(&str, &str, &str, Option<i64>)]) -> Catalog {
        use crate::catalog::ScanEvent;
        use crate::catalog::scan::RunFound;
        let mut c = Catalog::new(std::path::Path::new("/o"));
        for (key, &(task, model, name, time)) in runs.iter().enumerate() {
            c.apply(ScanEvent::Run(RunFound {
                key,
                task: task.into(),
                model: model.into(),
                name: name.into(),
                path: format!("/o/experiments/{task}/{model}/{name}").into(),
                dir_mtime: None,
                time: time.map(|t| 1_700_000_000 + t),
            }));
        }
        c
    }

    /// What the rows are built from besides the catalog, the query and the
    /// sort: no summaries, configs or folding, a fixed clock.
    #[derive(Default)]
    struct Fixed {
        summaries: HashMap<RunKey, RunSummary>,
        key_metrics: std::collections::BTreeMap<String, crate::config::KeyMetric>,
        expansion: Expansion,
        configs: crate::tui::query_filter::Configs,
    }

    impl Fixed {
        fn input<'a>(
            &'a self,
            c: &'a Catalog,
            query: &'a str,
            sort: &'a SortKey,
            reverse: bool,
        ) -> TreeInput<'a> {
            TreeInput {
                catalog: c,
                summaries: &self.summaries,
                sort,
                reverse,
                query,
                expansion: &self.expansion,
                key_metrics: &self.key_metrics,
                key_values: &[],
                filter: crate::tui::query_filter::Input {
                    configs: &self.configs,
                    now: jiff::Timestamp::UNIX_EPOCH,
                    window: jiff::SignedDuration::from_mins(10),
                },
            }
        }
    }
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
    fn path_tier_answers_as_match_path_does() {
        let paths = [
            T5,
            RESNET,
            ["recsys", "xgb", "2025-12-04_14-32-10_t5"],
            ["OCR", "T5-Base", "run-a-a-a"],
            ["tâche", "modèle", "2025-01-01_00-00-00_seed4"],
            ["x", "xa-a-a", "aaa"],
        ];
        let queries = [
            "s",
            "seed4",
            "SEED4",
            "ocr/t5",
            "t5/ocr",
            "ocr/",
            "/",
            "a-a",
            "aa",
            "T5",
            "t5 ",
            "r50",
            "o/s/4",
            "è",
            "Mod",
            "x/a-a",
            "ocr/seed14",
            "2025 seed",
            // Scattered over segments, found whole at a segment's start,
            // after a `-`, inside a word, and only spaces.
            "ocrt5",
            "xa",
            "base",
            "esne",
            "  ",
        ];
        let mut full = String::new();
        for p in paths {
            for q in queries {
                let tier = match_path(p, q).map(|m| m.tier);
                assert_eq!(path_tier(p, q, &mut full), tier, "{p:?} {q:?}");
                // Matched once per model, then per run name: the same answer.
                let ahead = ahead(p[0], p[1], q);
                let parts = query_parts(q);
                let by_model = name_tier(ahead, p, (q, &parts), &mut full);
                assert_eq!(by_model, tier, "{p:?} {q:?} {ahead:?}");
            }
        }
    }

    #[test]
    fn a_query_that_extends_the_last_searches_its_matches_only() {
        let c = catalog_of(&[
            ("ocr", "t5", "seed4", None),
            ("ocr", "t5", "seed14", None),
            ("nlp", "bert", "x", None),
        ]);
        let fixed = Fixed::default();
        let input = |query: &'static str| fixed.input(&c, query, &SortKey::Time, false);
        let mut memo = FilterMemo::default();
        let runs = |rows: Vec<Row>| {
            rows.iter()
                .filter(|r| matches!(r.node, Node::Run(_)))
                .count()
        };
        assert_eq!(runs(build_rows(&input("s"), &mut memo).rows), 2);
        assert_eq!(runs(build_rows(&input("seed4"), &mut memo).rows), 1);
        assert_eq!(memo.steps.len(), 2);
        // Backspace finds the answer kept for the shorter query.
        assert_eq!(runs(build_rows(&input("s"), &mut memo).rows), 2);
        assert_eq!(memo.steps.len(), 1);
        // A query that does not extend the last searches every run again.
        assert_eq!(runs(build_rows(&input("x"), &mut memo).rows), 1);
        assert_eq!(memo.steps.len(), 1);
    }

    #[test]
    fn rows_from_a_kept_memo_are_those_of_a_fresh_one() {
        use crate::catalog::ScanEvent;
        // Newest last, so the order by time is not the order by path.
        let runs = [
            ("ocr", "t5", "seed4", Some(1)),
            ("ocr", "t5", "seed14", Some(3)),
            ("ocr", "t5", "seed41", Some(2)),
            ("ocr", "bert", "seed1", Some(5)),
            ("nlp", "bert", "x", Some(4)),
        ];
        let mut c = catalog_of(&runs);
        // Sizes that differ by run and do not follow time, but for the
        // last run, which is not sized yet.
        for key in 0..runs.len() - 1 {
            let mut usage = RunUsage::default();
            usage.tmp.disk = 1000 * (key as u64 % 3 + 1);
            usage.checkpoints.disk = 10 << key;
            usage.files = key as u64;
            c.apply(ScanEvent::RunDone {
                key,
                usage,
                errors: Vec::new(),
                stamps: Default::default(),
            });
        }
        let fixed = Fixed::default();
        let input = |query: &'static str, sort: &'static SortKey, reverse: bool| {
            fixed.input(&c, query, sort, reverse)
        };
        static SORTS: [SortKey; 2] = [SortKey::Time, SortKey::Size];
        let mut memo = FilterMemo::default();
        let mut compared = 0;
        for sort in &SORTS {
            for reverse in [false, true] {
                // Readied as on an idle moment or `/`: the same rows.
                if reverse {
                    memo.ready(&input("", sort, reverse));
                }
                for q in ["s", "se", "seed", "seed4", "seed", "", "t5", "ocr/s", "x"] {
                    let kept = build_rows(&input(q, sort, reverse), &mut memo);
                    let fresh = build_rows(&input(q, sort, reverse), &mut FilterMemo::default());
                    assert_eq!(kept, fresh, "{q:?} {sort:?} reverse {reverse}");
                    compared += kept.rows.len();
                    // The totals are those of the runs on the rows, added
                    // up run by run.
                    let shown: Vec<RunKey> = kept
                        .rows
                        .iter()
                        .filter_map(|r| match r.node {
                            Node::Run(k) => Some(k),
                            _ => None,
                        })
                        .collect();
                    let t = &kept.totals;
                    assert_eq!(t.root, (shown.len(), c.rollup(&shown)), "{q:?}");
                    assert_eq!(t.all, c.rollup(&(0..c.runs.len()).collect::<Vec<_>>()));
                    for (ti, task) in c.tasks.iter().enumerate() {
                        let every: Vec<RunKey> =
                            task.models.iter().flat_map(|m| m.runs.clone()).collect();
                        assert_eq!(t.whole(Node::Task(ti)), Some(&c.rollup(&every)));
                        for (mi, model) in task.models.iter().enumerate() {
                            let whole = t.whole(Node::Model(ti, mi));
                            assert_eq!(whole, Some(&c.rollup(&model.runs)));
                            let of: Vec<RunKey> = model
                                .runs
                                .iter()
                                .copied()
                                .filter(|k| shown.contains(k))
                                .collect();
                            let want = (of.len(), c.rollup(&of));
                            assert_eq!(t.get(Node::Model(ti, mi)), Some(&want), "{q:?}");
                        }
                    }
                }
            }
        }
        // The rows compared include runs, in orders that differ by sort.
        assert!(compared > 40, "{compared}");
        // Newest first: neither the catalog's order nor the paths'.
        let t5: Vec<Node> = build_rows(&input("t5", &SORTS[0], false), &mut memo)
            .rows
            .into_iter()
            .filter_map(|r| matches!(r.node, Node::Run(_)).then_some(r.node))
            .collect();
        assert_eq!(t5, [Node::Run(1), Node::Run(2), Node::Run(0)]);
    }

    #[test]
    fn a_split_search_answers_in_order_as_one_does() {
        // Every third run, some found by "notes": order and content kept.
        let search = |keys: &mut dyn Iterator<Item = RunKey>| -> Vec<FilterHit> {
            keys.filter(|k| k % 3 != 1)
                .map(|k| (k, (k % 2) as u8, (k % 7 == 0).then(|| format!("n{k}"))))
                .collect()
        };
        for n in [0, 5, SPLIT_FROM - 1, SPLIT_FROM, 3 * SPLIT_FROM + 7] {
            let keys: Vec<RunKey> = (0..n).map(|k| k * 2 + 1).collect();
            let one = search(&mut keys.iter().copied());
            assert_eq!(search_split(&keys, &search), one, "{n} keys");
        }
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
