//! The roll-up of a root, task or model row that the info and metrics
//! panes show: runs by status, usage, the latest run, problems, the best
//! runs and a ranking by the judging metric.
//!
//! A task's (or model's) figures come from one pass over its runs with one
//! summary lookup each; the root adds up its tasks' roll-ups, which are
//! kept for their own rows. Asking each figure of every run on its own
//! (several hash lookups, a key metric cloned and counted in a map twice,
//! a status lowercased) cost ~2.2 µs a run: 223 ms for the root of 100,000
//! runs on any key that landed on it after a summary arrived (issue 18).

use std::collections::HashMap;
use std::rc::Rc;

use jiff::Timestamp;

use crate::catalog::{RunKey, RunUsage};
use crate::runs::{Better, KeySpec, RunSummary, Status, summary::direction_of};
use crate::tui::app::App;
use crate::tui::tree::Node;

/// What the roll-up panes show of a root, task or model row (see
/// [`group`]): worked out once per change of the runs, their summaries or
/// the settings, and only read by drawing.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Runs under the row (the filter hides none of them here).
    pub runs: usize,
    /// Those runs by status (indexed by `Status as usize`).
    pub counts: [usize; 5],
    /// Their usage summed.
    pub usage: RunUsage,
    /// The most recent of them.
    pub latest: Option<RunKey>,
    /// The best run by the judging metric: of each task's shown runs for
    /// the root (task index first), else of the row's runs.
    pub best: Vec<(usize, String, RunKey, f64)>,
    /// How many of them have problems.
    pub problems: usize,
    /// The judging metric, lower-is-better and the first [`RANKED`] runs by it.
    pub ranking: Option<Ranking>,
    /// The clock and the newest write under the row when counted: the
    /// statuses hold as long as no run crosses the active window.
    at: Timestamp,
    newest: Option<Timestamp>,
    /// What the root's best runs were picked from: `None` without a
    /// filter, else the query and a digest of the runs shown.
    shown: Option<(String, usize, u64)>,
    /// What the whole was worked out from (see [`inputs`]): a cheap check
    /// besides the clearing in `App`, for changes made straight to the
    /// public fields.
    inputs: (u64, usize, usize),
    /// How many runs have each key metric (name, lower-is-better): the
    /// root's judging metric is the most common over its tasks' counts.
    metrics: Vec<(String, bool, usize)>,
}

/// A judging metric, whether lower is better, and runs with their values
/// best first.
pub type Ranking = (String, bool, Vec<(RunKey, f64)>);

/// A run and its value of a metric.
type Valued = (RunKey, f64);

/// How many runs the metrics pane ranks under a task or model.
pub const RANKED: usize = 50;

/// The kept summaries of root, task and model rows (emptied by `App` when
/// the runs, their summaries or the settings change).
pub type Groups = std::cell::RefCell<HashMap<Node, Rc<Group>>>;

/// The catalog generation and the counts of runs and summaries.
fn inputs(app: &App) -> (u64, usize, usize) {
    (
        app.generation,
        app.catalog.runs.len(),
        app.loaded.summaries.len(),
    )
}

/// The filter the root's best runs depend on: `None` without one, else the
/// query, how many runs it shows and an order-free digest of which.
fn shown_digest(app: &App) -> Option<(String, usize, u64)> {
    if app.tree.query.is_empty() {
        return None;
    }
    let digest = app.tree.shown.keys()?.fold(0u64, |acc, k| {
        acc.wrapping_add((k as u64 ^ 0x9e37_79b9_7f4a_7c15).wrapping_mul(0xff51_afd7_ed55_8ccd))
    });
    Some((app.tree.query.clone(), app.tree.shown.count, digest))
}

/// The roll-up of a root, task or model row, from the kept ones when the
/// runs, their summaries, the filter (for the root's best runs) and the
/// statuses are as they were.
pub fn group(app: &App, node: Node) -> Rc<Group> {
    let inputs = inputs(app);
    if let Some(g) = kept(app, node, inputs) {
        if node != Node::Root {
            return g;
        }
        let shown = shown_digest(app);
        if g.shown == shown {
            return g;
        }
        let mut fresh = (*g).clone();
        fresh.best = best_by_task(app, inputs);
        fresh.shown = shown;
        return keep(app, node, fresh);
    }
    let g = match node {
        Node::Root => root(app, inputs),
        Node::Task(ti) => {
            let t = &app.catalog.tasks[ti];
            tally(app, &t.name, t.models.iter().map(|m| &m.runs[..]), inputs)
        }
        Node::Model(ti, mi) => {
            let t = &app.catalog.tasks[ti];
            tally(app, &t.name, [&t.models[mi].runs[..]].into_iter(), inputs)
        }
        Node::Run(k) => {
            let task = &app.catalog.runs[k].task;
            tally(app, task, [std::slice::from_ref(&k)].into_iter(), inputs)
        }
    };
    keep(app, node, g)
}

/// The kept roll-up of `node` when it still holds: worked out from the same
/// `inputs`, and either at the same clock or with every run under it idle
/// then and now (so no status changed).
fn kept(app: &App, node: Node, inputs: (u64, usize, usize)) -> Option<Rc<Group>> {
    let g = app.loaded.groups.borrow().get(&node).cloned()?;
    let (window, now) = (app.settings.window, app.now);
    let holds = g.inputs == inputs
        && (g.at == now
            || g.newest.is_none_or(|t| {
                g.at.duration_since(t) >= window && now.duration_since(t) >= window
            }));
    holds.then_some(g)
}

fn keep(app: &App, node: Node, g: Group) -> Rc<Group> {
    let g = Rc::new(g);
    app.loaded.groups.borrow_mut().insert(node, g.clone());
    g
}

/// A task's roll-up, kept or worked out (and kept for its own row).
fn task_group(app: &App, ti: usize, inputs: (u64, usize, usize)) -> Rc<Group> {
    let node = Node::Task(ti);
    kept(app, node, inputs).unwrap_or_else(|| {
        let t = &app.catalog.tasks[ti];
        let g = tally(app, &t.name, t.models.iter().map(|m| &m.runs[..]), inputs);
        keep(app, node, g)
    })
}

/// How many runs name each key metric, in the order first met: most runs
/// share one name, so the last one met is tried before the index.
#[derive(Default)]
struct NameCounts<'a> {
    list: Vec<(&'a str, usize)>,
    index: HashMap<&'a str, usize>,
    last: usize,
}

impl<'a> NameCounts<'a> {
    /// Counts a run naming `name`; gives the name's place in the list.
    fn bump(&mut self, name: &'a str) -> usize {
        if let Some(e) = self.list.get_mut(self.last)
            && e.0 == name
        {
            e.1 += 1;
            return self.last;
        }
        let list = &mut self.list;
        let i = *self.index.entry(name).or_insert_with(|| {
            list.push((name, 0));
            list.len() - 1
        });
        self.list[i].1 += 1;
        self.last = i;
        i
    }

    /// The counts with each name's direction: `spec`'s, else the name's,
    /// as [`crate::tui::tree::key_metric`] says it.
    fn resolve(&self, spec: &KeySpec) -> Vec<(String, bool, usize)> {
        self.list
            .iter()
            .map(|&(name, n)| {
                let better = spec.better.or_else(|| direction_of(name));
                (name.to_string(), better == Some(Better::Lower), n)
            })
            .collect()
    }
}

/// The key metric most runs have: most runs first, then the name first in
/// order (a name counted both ways ties on the lower-is-better one).
fn most_common(metrics: &[(String, bool, usize)]) -> Option<(String, bool)> {
    metrics
        .iter()
        .max_by(|a, b| a.2.cmp(&b.2).then(b.0.cmp(&a.0)).then(a.1.cmp(&b.1)))
        .map(|(name, lower, _)| (name.clone(), *lower))
}

/// The metric runs of `task` are judged by: its configured key metric,
/// else the most common of theirs.
fn judging(app: &App, task: &str, metrics: &[(String, bool, usize)]) -> Option<(String, bool)> {
    match app.settings.key_metrics.get(task) {
        Some(km) => Some((km.name.clone(), km.lower_is_better)),
        None => most_common(metrics),
    }
}

/// The values runs have (NaN and none left out), in their order, and the
/// best of them: the last of equals, as runs were always picked.
fn values(
    runs: impl Iterator<Item = (RunKey, Option<f64>)>,
    lower: bool,
) -> (Vec<Valued>, Option<Valued>) {
    let mut all = Vec::new();
    let mut best: Option<Valued> = None;
    for (k, v) in runs {
        let Some(v) = v.filter(|v| !v.is_nan()) else {
            continue;
        };
        let better = best.is_none_or(|(_, b)| {
            if lower {
                v.total_cmp(&b).is_le()
            } else {
                v.total_cmp(&b).is_ge()
            }
        });
        if better {
            best = Some((k, v));
        }
        all.push((k, v));
    }
    (all, best)
}

/// A run's status when nothing under it was written in the active window,
/// as [`Status::of`] says it when something was: a run that says it is
/// running, or says nothing known, is running.
fn status(idle: Status, active: bool) -> Status {
    match idle {
        Status::Stalled | Status::Unknown if active => Status::Running,
        s => s,
    }
}

/// What a roll-up needs of a run's summary, read while it is at hand and
/// kept small (16 bytes): the root's runs are many and their summaries
/// scattered, and going back to each for the judging metric cost as much
/// as the first visit.
#[derive(Clone, Copy)]
struct Fact {
    /// The run's value of its key metric (NaN: none).
    value: f64,
    /// Its key metric's place among the task's names (see [`NameCounts`];
    /// `u32::MAX`: none).
    name: u32,
    /// Its status were it idle.
    idle: Status,
    /// Its summary has problems.
    errors: bool,
}

impl Fact {
    fn of<'a>(s: &'a RunSummary, spec: &'a KeySpec, names: &mut NameCounts<'a>) -> Fact {
        let (name, value) = match s.key_metric_name(spec) {
            Some(name) => (names.bump(name) as u32, s.metric(name)),
            None => (u32::MAX, None),
        };
        Fact {
            value: value.unwrap_or(f64::NAN),
            name,
            idle: s.status(false),
            errors: !s.errors.is_empty(),
        }
    }

    /// Run `k`'s value of `metric`, the name at `at` in the task's list:
    /// kept when it is the run's key metric, else read from its summary.
    fn value(&self, app: &App, k: RunKey, metric: &str, at: Option<usize>) -> Option<f64> {
        if at.is_some_and(|at| at as u32 == self.name) {
            return Some(self.value);
        }
        app.loaded.summaries.get(&k)?.metric(metric)
    }
}

/// The roll-up of one task's runs (or one model's, or one run's), listed by
/// model, looking up each run's summary once.
fn tally<'a>(
    app: &App,
    task: &str,
    lists: impl Iterator<Item = &'a [RunKey]>,
    inputs: (u64, usize, usize),
) -> Group {
    let spec = KeySpec::for_task(&app.settings.key_metrics, task);
    let mut names = NameCounts::default();
    let keys: Vec<RunKey> = lists.flatten().copied().collect();
    // The lookups first, then the summaries touched a chunk at a time (see
    // [`touch`]), then their facts, in the order of the runs.
    let mut facts = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(CHUNK) {
        let found: Vec<Option<&RunSummary>> =
            chunk.iter().map(|k| app.loaded.summaries.get(k)).collect();
        touch(found.iter().flatten().copied());
        facts.extend(
            found
                .into_iter()
                .map(|s| Some(Fact::of(s?, &spec, &mut names))),
        );
    }
    let mut facts = facts.into_iter();
    let lists = std::iter::once(&keys[..]);
    fold(app, task, &spec, lists, inputs, &mut names, |_, _| {
        facts.next().flatten()
    })
}

/// The roll-up of runs listed by model, each with its summary's [`Fact`]
/// when it has one: one pass over the runs, then one over their facts for
/// the judging metric.
fn fold<'a, 'b>(
    app: &'a App,
    task: &str,
    spec: &KeySpec,
    lists: impl Iterator<Item = &'b [RunKey]>,
    inputs: (u64, usize, usize),
    names: &mut NameCounts<'a>,
    mut fact: impl FnMut(RunKey, &mut NameCounts<'a>) -> Option<Fact>,
) -> Group {
    let c = &app.catalog;
    let (window, now) = (app.settings.window, app.now);
    let mut g = empty(app, inputs);
    let mut latest_at = (None, None);
    let mut with: Vec<(RunKey, Fact)> = Vec::new();
    let keys: Vec<RunKey> = lists.flatten().copied().collect();
    for (i, &k) in keys.iter().enumerate() {
        // The next chunk's runs read ahead (see [`touch`]): a model's runs
        // are not stored together, the scan numbers them as it finds them.
        if i % CHUNK == 0 {
            let ahead = &keys[i..keys.len().min(i + CHUNK)];
            let mut sum = 0u64;
            for &k in ahead {
                let r = &c.runs[k];
                sum ^= r.errors.len() as u64 ^ r.usage.as_ref().map_or(0, |u| u.files);
            }
            std::hint::black_box(sum);
        }
        let r = &c.runs[k];
        let written = r.last_write();
        let f = fact(k, names);
        // As `App::status` says, with the one lookup.
        let active = written.is_some_and(|t| now.duration_since(t) < window);
        let idle = f.map_or(Status::Unknown, |f| f.idle);
        g.runs += 1;
        g.counts[status(idle, active) as usize] += 1;
        g.newest = g.newest.max(written);
        if !r.errors.is_empty() || f.is_some_and(|f| f.errors) {
            g.problems += 1;
        }
        if let Some(u) = &r.usage {
            g.usage.add(u);
        }
        // `Catalog::latest`: the greatest (time, last write), the last of equals.
        let at = (r.time(), written);
        if g.latest.is_none() || at >= latest_at {
            g.latest = Some(k);
            latest_at = at;
        }
        if let Some(f) = f {
            with.push((k, f));
        }
    }
    g.metrics = names.resolve(spec);
    let judged = if g.runs == 0 {
        None
    } else {
        judging(app, task, &g.metrics)
    };
    if let Some((metric, lower)) = judged {
        let at = g.metrics.iter().position(|m| m.0 == metric);
        let (all, best) = values(
            with.iter()
                .map(|(k, f)| (*k, f.value(app, *k, &metric, at))),
            lower,
        );
        g.best = best
            .map(|(k, v)| (0, metric.clone(), k, v))
            .into_iter()
            .collect();
        g.ranking = Some((metric, lower, top(app, all, lower)));
    }
    g
}

/// A roll-up of no runs, counted now.
fn empty(app: &App, inputs: (u64, usize, usize)) -> Group {
    Group {
        runs: 0,
        counts: [0; 5],
        usage: RunUsage::default(),
        latest: None,
        best: Vec::new(),
        problems: 0,
        ranking: None,
        at: app.now,
        newest: None,
        shown: None,
        inputs,
        metrics: Vec::new(),
    }
}

/// Every task's roll-up at once (kept for their rows), the summaries read
/// in the order they are stored instead of looked up run by run: on
/// 100,000 runs the lookups alone cost as much as the rest of a pass.
fn sweep(app: &App, inputs: (u64, usize, usize)) -> Vec<Rc<Group>> {
    let c = &app.catalog;
    let specs: Vec<KeySpec> = c
        .tasks
        .iter()
        .map(|t| KeySpec::for_task(&app.settings.key_metrics, &t.name))
        .collect();
    let mut owner = vec![usize::MAX; c.runs.len()];
    for (ti, t) in c.tasks.iter().enumerate() {
        for &k in t.models.iter().flat_map(|m| &m.runs) {
            owner[k] = ti;
        }
    }
    let mut names: Vec<NameCounts> = c.tasks.iter().map(|_| NameCounts::default()).collect();
    let mut facts: Vec<Option<Fact>> = vec![None; c.runs.len()];
    let stored: Vec<(RunKey, &RunSummary)> =
        app.loaded.summaries.iter().map(|(&k, s)| (k, s)).collect();
    for chunk in stored.chunks(CHUNK) {
        touch(chunk.iter().map(|&(_, s)| s));
        for &(k, s) in chunk {
            let Some(&ti) = owner.get(k).filter(|&&ti| ti != usize::MAX) else {
                continue;
            };
            facts[k] = Some(Fact::of(s, &specs[ti], &mut names[ti]));
        }
    }
    c.tasks
        .iter()
        .zip(specs.iter().zip(names.iter_mut()))
        .enumerate()
        .map(|(ti, (t, (spec, names)))| {
            let lists = t.models.iter().map(|m| &m.runs[..]);
            let g = fold(app, &t.name, spec, lists, inputs, names, |k, _| facts[k]);
            keep(app, Node::Task(ti), g)
        })
        .collect()
}

/// How many summaries are [`touch`]ed at a time.
const CHUNK: usize = 256;

/// Reads the first byte of what [`Fact::of`] reads of each summary, with no
/// decision on what it reads: the reads of many runs go out at once instead
/// of one after another behind each comparison, and the facts are then
/// worked out from the cache.
fn touch<'a>(summaries: impl Iterator<Item = &'a RunSummary>) {
    let first = |s: &str| s.as_bytes().first().copied().unwrap_or(0);
    let mut sum = 0u8;
    for s in summaries {
        if let Some(w) = s.info.as_ref().and_then(|i| i.status.as_deref()) {
            sum ^= first(w);
        }
        if let Some(m) = s.key_metrics.first() {
            sum ^= first(&m.name);
        }
        // Curves are looked through by name, their lengths first.
        for c in &s.series {
            sum ^= c.name.len() as u8;
        }
    }
    std::hint::black_box(sum);
}

/// The root's roll-up, added up from its tasks' (kept, or worked out and
/// kept for their rows).
fn root(app: &App, inputs: (u64, usize, usize)) -> Group {
    let c = &app.catalog;
    // Most tasks to work out: all of them in one sweep.
    let missing: usize = (0..c.tasks.len())
        .filter(|&ti| kept(app, Node::Task(ti), inputs).is_none())
        .map(|ti| {
            c.tasks[ti]
                .models
                .iter()
                .map(|m| m.runs.len())
                .sum::<usize>()
        })
        .sum();
    let tasks: Vec<Rc<Group>> = if missing > c.runs.len() / 4 {
        sweep(app, inputs)
    } else {
        (0..c.tasks.len())
            .map(|ti| task_group(app, ti, inputs))
            .collect()
    };
    let mut g = empty(app, inputs);
    let mut latest_at = (None, None);
    let mut metrics: HashMap<(&str, bool), usize> = HashMap::new();
    for t in &tasks {
        g.runs += t.runs;
        for (all, n) in g.counts.iter_mut().zip(t.counts) {
            *all += n;
        }
        g.usage.add(&t.usage);
        g.problems += t.problems;
        g.newest = g.newest.max(t.newest);
        // Tasks in order, each with the last of its equals: the last of all.
        if let Some(k) = t.latest {
            let at = (c.runs[k].time(), c.runs[k].last_write());
            if g.latest.is_none() || at >= latest_at {
                g.latest = Some(k);
                latest_at = at;
            }
        }
        for (name, lower, n) in &t.metrics {
            *metrics.entry((name.as_str(), *lower)).or_default() += n;
        }
    }
    g.metrics = metrics
        .into_iter()
        .map(|((name, lower), n)| (name.to_string(), lower, n))
        .collect();
    // All runs under one task are judged as that task judges them.
    let with_runs: Vec<usize> = (0..tasks.len()).filter(|&ti| tasks[ti].runs > 0).collect();
    let judged = match with_runs[..] {
        [] => None,
        [ti] => tasks[ti].ranking.as_ref().map(|r| (r.0.clone(), r.1)),
        _ => most_common(&g.metrics),
    };
    if let Some((metric, lower)) = judged {
        // The first runs of all are among the first of each task judged the
        // same way; another task's runs are read for this metric.
        let mut candidates = Vec::new();
        for &ti in &with_runs {
            match &tasks[ti].ranking {
                Some((m, l, ranked)) if *m == metric && *l == lower => {
                    candidates.extend_from_slice(ranked)
                }
                _ => {
                    let runs = summarized(app, c.tasks[ti].models.iter().map(|m| &m.runs[..]));
                    let runs = runs.into_iter().map(|(k, s)| (k, s.metric(&metric)));
                    candidates.extend(values(runs, lower).0);
                }
            }
        }
        g.ranking = Some((metric, lower, top(app, candidates, lower)));
    }
    g.best = best_by_task(app, inputs);
    g.shown = shown_digest(app);
    g
}

/// The runs listed with their summaries (those without left out), in order.
fn summarized<'a, 'b>(
    app: &'a App,
    lists: impl Iterator<Item = &'b [RunKey]>,
) -> Vec<(RunKey, &'a RunSummary)> {
    lists
        .flatten()
        .filter_map(|&k| Some((k, app.loaded.summaries.get(&k)?)))
        .collect()
}

/// The best run of each task among the runs the tree shows: without a
/// filter, each task's own best run.
fn best_by_task(app: &App, inputs: (u64, usize, usize)) -> Vec<(usize, String, RunKey, f64)> {
    let c = &app.catalog;
    if app.tree.query.is_empty() {
        return (0..c.tasks.len())
            .filter_map(|ti| {
                let (_, m, k, v) = task_group(app, ti, inputs).best.first()?.clone();
                Some((ti, m, k, v))
            })
            .collect();
    }
    let shown = &app.tree.shown;
    let mut best = Vec::new();
    for (ti, t) in c.tasks.iter().enumerate() {
        let spec = KeySpec::for_task(&app.settings.key_metrics, &t.name);
        let mut any = false;
        let mut with = Vec::new();
        let mut names = NameCounts::default();
        for &k in t.models.iter().flat_map(|m| &m.runs) {
            if !shown.contains(k) {
                continue;
            }
            any = true;
            if let Some(s) = app.loaded.summaries.get(&k) {
                with.push((k, Fact::of(s, &spec, &mut names)));
            }
        }
        if !any {
            continue;
        }
        // Judged among the runs shown, as their own roll-up would judge them.
        let metrics = names.resolve(&spec);
        let Some((metric, lower)) = judging(app, &t.name, &metrics) else {
            continue;
        };
        let at = metrics.iter().position(|m| m.0 == metric);
        let runs = with
            .iter()
            .map(|(k, f)| (*k, f.value(app, *k, &metric, at)));
        if let (_, Some((k, v))) = values(runs, lower) {
            best.push((ti, metric, k, v));
        }
    }
    best
}

/// The first [`RANKED`] of `ranked`, best first; ties by folder, since runs
/// arrive in scan order, which changes between scans.
fn top(app: &App, mut ranked: Vec<(RunKey, f64)>, lower: bool) -> Vec<(RunKey, f64)> {
    let path = |k: RunKey| &app.catalog.runs[k].path;
    let order = |a: &(RunKey, f64), b: &(RunKey, f64)| {
        if lower {
            a.1.total_cmp(&b.1)
        } else {
            b.1.total_cmp(&a.1)
        }
        .then_with(|| path(a.0).cmp(path(b.0)))
    };
    // Only the first few are shown: select them, then sort those.
    if ranked.len() > RANKED {
        ranked.select_nth_unstable_by(RANKED - 1, order);
        ranked.truncate(RANKED);
    }
    ranked.sort_by(order);
    ranked
}

#[cfg(test)]
mod tests;
