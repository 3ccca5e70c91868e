//! `runyard ls`: the tree of tasks, models and runs with sizes and metrics.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

use serde_json::{Value, json};

use super::table::{Align, Table};
use super::{Context, Failure, SortKey};
use crate::catalog::{Entry, RunKey, RunUsage, Usage};
use crate::fmt;
use crate::layout;
use crate::runs::RunSummary;

/// Each run's value of the metric a sort orders by, and whether lower is
/// better; empty unless the sort is by a metric. Kept instead of the run
/// summaries so that a listing of 20,000 runs holds one number per run.
pub type SortValues = HashMap<RunKey, (f64, bool)>;

/// Orders run keys in place by `sort`, ties by newest first.
pub fn sort_runs(ctx: &Context, keys: &mut [RunKey], sort: &SortKey, values: &SortValues) {
    crate::catalog::sort_runs(&ctx.catalog, keys, sort, |k, _| values.get(&k).copied());
}

/// The value run `k` sorts by under `sort`, from its summary.
fn sort_value(ctx: &Context, k: RunKey, s: &RunSummary, sort: &SortKey) -> Option<(f64, bool)> {
    match sort {
        SortKey::Metric(n) => s.metric(n).map(|v| (v, layout::lower_is_better(n))),
        // (a curve's last value, like a scalar's value)
        SortKey::KeyMetric => ctx.key_metric(k, s).map(|(_, v, lower)| (v, lower)),
        _ => None,
    }
}

/// Metric names seen, for the message about a sort by a metric no run
/// has: the first few by name, so the set stays small on any tree.
#[derive(Default)]
struct KnownMetrics(std::collections::BTreeSet<String>);

impl KnownMetrics {
    const SHOWN: usize = 12;

    fn add(&mut self, s: &RunSummary) {
        for m in s.metric_names() {
            if self.0.len() < Self::SHOWN || self.0.last().is_some_and(|l| m < l.as_str()) {
                self.0.insert(m.to_string());
                if self.0.len() > Self::SHOWN {
                    self.0.pop_last();
                }
            }
        }
    }
}

/// Warns when `--sort METRIC` names a metric no listed run has.
fn warn_unknown_metric(sort: &SortKey, values: &SortValues, known: &KnownMetrics) {
    if let SortKey::Metric(name) = sort
        && values.is_empty()
    {
        let known: Vec<String> = known
            .0
            .iter()
            .map(|n| fmt::escape(n).into_owned())
            .collect();
        let _ = writeln!(
            std::io::stderr(),
            "runyard: no run has a metric named {name:?}; runs are listed newest first (metrics here: {})",
            known.join(", ")
        );
    }
}

/// Runs read at a time when streaming: enough to keep the reader threads
/// busy, few enough that memory does not grow with the tree.
const STREAM_CHUNK: usize = 512;

/// The JSON object for one run, shared by `ls`, `show`, `latest` and `du`.
pub fn run_json(ctx: &Context, key: RunKey, summary: Option<&RunSummary>) -> Value {
    let r = &ctx.catalog.runs[key];
    let u = r.usage.clone().unwrap_or_default();
    let active = ctx.is_active(key);
    let metrics: serde_json::Map<String, Value> = summary
        .map(|s| {
            s.key_metrics
                .iter()
                .map(|m| (m.name.clone(), json!(m.value)))
                .collect()
        })
        .unwrap_or_default();
    let km = summary.and_then(|s| s.key_metric(&ctx.key_spec(key)));
    let mut errors = r.errors.clone();
    if let Some(s) = summary {
        errors.extend(s.errors.iter().cloned());
    }
    json!({
        "task": r.task,
        "model": r.model,
        "run_id": r.name,
        // Lossy like run_id: serde refuses a path that is not UTF-8.
        "path": r.path.to_string_lossy(),
        "time": r.time().map(|t| t.to_string()),
        "tag": r.id.as_ref().and_then(|i| i.tag.clone()),
        "status": summary.map_or(if active { "running" } else { "-" }, |s| s.status(active).word()),
        "active": active,
        "last_write": r.last_write().map(|t| t.to_string()),
        "disk": u.total().disk,
        "apparent": u.total().apparent,
        "reclaimable": u.reclaimable().disk,
        "usage": u,
        "key_metrics": metrics,
        "key_metric": km.as_ref().map(key_json),
        "diverged": km.as_ref().and_then(|k| {
            Some(json!({ "metric": k.name, "x": k.x, "at": k.diverged_at? }))
        }),
        "errors": errors,
    })
}

/// A key metric's reading as JSON: value, direction, best point.
fn key_json(k: &crate::runs::KeyValue) -> Value {
    json!({
        "name": k.name,
        "value": k.value,
        "better": k.better,
        "best": k.best.map(|(at, value)| json!({ "value": value, "at": at, "x": k.x })),
    })
}

/// A top-level entry as JSON.
pub fn entry_json(e: &Entry) -> Value {
    let u = e.usage.unwrap_or_default();
    json!({ "name": e.rel, "kind": e.kind, "is_dir": e.is_dir, "disk": u.disk, "apparent": u.apparent })
}

fn totals_json(n: usize, u: &RunUsage) -> Value {
    json!({ "runs": n, "disk": u.total().disk, "apparent": u.total().apparent, "reclaimable": u.reclaimable().disk })
}

/// The first key metrics of a run as `name value` pairs, `first` leading.
fn metric_cell(s: Option<&RunSummary>, first: Option<&str>) -> String {
    let Some(s) = s else { return String::new() };
    let mut parts = Vec::new();
    if let Some(name) = first
        && let Some(v) = s.metric(name)
    {
        parts.push(format!("{} {}", fmt::escape(name), fmt::metric(v)));
    }
    for m in &s.key_metrics {
        if parts.len() >= 2 {
            break;
        }
        if Some(m.name.as_str()) != first {
            parts.push(format!("{} {}", fmt::escape(&m.name), fmt::metric(m.value)));
        }
    }
    parts.join("  ")
}

fn size_cells(u: &RunUsage) -> [String; 2] {
    let r = u.reclaimable().disk;
    [
        fmt::size(u.total().disk),
        if r == 0 { "-".into() } else { fmt::size(r) },
    ]
}

fn plural(n: usize, word: &str) -> String {
    fmt::count(n as u64, word)
}

/// The `n` newest of `keys` (run time, ties by the newest write), in no
/// particular order: `ls -n` lists these, sorted and grouped as usual.
fn newest(ctx: &Context, keys: &[RunKey], n: usize) -> Vec<RunKey> {
    let mut by_time = keys.to_vec();
    sort_runs(ctx, &mut by_time, &SortKey::Time, &SortValues::new());
    by_time.truncate(n);
    by_time
}

/// The runs of `keys` meeting every term of `query` (`--where`), read a
/// chunk at a time: each run's status and metrics from its summary, its
/// config from `config.yaml` (or Hydra's). A run whose config cannot be
/// read is said on stderr and meets no config condition.
fn meeting(ctx: &Context, keys: &[RunKey], query: &crate::query::Query) -> Vec<RunKey> {
    use crate::query::{Facts, Verdict};
    let mut kept = Vec::new();
    for chunk in keys.chunks(STREAM_CHUNK) {
        for (&k, s) in chunk.iter().zip(ctx.summaries(chunk)) {
            let r = &ctx.catalog.runs[k];
            let config = if query.needs_config() {
                crate::compare::RunConfig::load(&r.path).unwrap_or_else(|e| {
                    let _ = writeln!(
                        std::io::stderr(),
                        "runyard: {}: {}",
                        fmt::escape(&r.label()),
                        fmt::escape(&e)
                    );
                    Default::default()
                })
            } else {
                Default::default()
            };
            let metric = |n: &str| s.metric(n);
            let facts = Facts {
                status: Some(s.status(ctx.is_active(k)).word()),
                tag: r.id.as_ref().and_then(|i| i.tag.as_deref()),
                config: Some(&config.values),
                metric: Some(&metric),
            };
            if query.check(&facts) == Verdict::Yes {
                kept.push(k);
            }
        }
    }
    kept
}

/// Groups in display order: (task, model, runs), each group sorted.
fn groups<'a>(
    ctx: &'a Context,
    task: Option<&str>,
    model: Option<&str>,
    sort: &SortKey,
    values: &SortValues,
    only: &std::collections::HashSet<RunKey>,
) -> Vec<(&'a str, &'a str, Vec<RunKey>)> {
    let mut groups = Vec::new();
    for t in ctx
        .catalog
        .tasks
        .iter()
        .filter(|t| task.is_none_or(|n| t.name == n))
    {
        for m in t
            .models
            .iter()
            .filter(|m| model.is_none_or(|n| m.name == n))
        {
            let mut runs: Vec<RunKey> = m
                .runs
                .iter()
                .copied()
                .filter(|k| only.contains(k))
                .collect();
            // A model none of whose runs are listed (`-n`) is not listed either.
            if runs.is_empty() && !m.runs.is_empty() {
                continue;
            }
            sort_runs(ctx, &mut runs, sort, values);
            groups.push((t.name.as_str(), m.name.as_str(), runs));
        }
    }
    groups
}

/// How `ls` lists: the runs it takes and the shape of the output.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Only the newest N runs (`-n`).
    pub newest: Option<usize>,
    /// One line per run, no header nor footer (`--flat`).
    pub flat: bool,
    /// JSON (`--json`).
    pub json: bool,
    /// Conditions every listed run meets (`--where`).
    pub query: crate::query::Query,
}

/// Prints the listing.
pub fn run(
    ctx: &Context,
    task: Option<&str>,
    model: Option<&str>,
    sort: &SortKey,
    how: &Listing,
) -> Result<ExitCode, Failure> {
    let mut keys = ctx.select(task, model)?;
    if how.newest == Some(0) {
        return Err(Failure::usage("-n 0 lists nothing: give 1 or more"));
    }
    if !how.query.is_plain() {
        keys = meeting(ctx, &keys, &how.query);
    }
    if let Some(n) = how.newest {
        keys = newest(ctx, &keys, n);
    }
    let only: std::collections::HashSet<RunKey> = keys.iter().copied().collect();
    let flat = how.flat;
    if how.json {
        return run_json_stream(ctx, &keys, task, model, sort, flat, &only);
    }
    let c = &ctx.catalog;
    let loaded = ctx.summaries(&keys);
    let summaries: HashMap<RunKey, &RunSummary> = keys.iter().copied().zip(&loaded).collect();
    let mut values = SortValues::new();
    let mut known = KnownMetrics::default();
    for (&k, s) in keys.iter().zip(&loaded) {
        if let Some(v) = sort_value(ctx, k, s, sort) {
            values.insert(k, v);
        }
        known.add(s);
    }
    warn_unknown_metric(sort, &values, &known);
    let total = c.rollup(&keys);
    let metric_name = match sort {
        SortKey::Metric(m) => Some(m.as_str()),
        _ => None,
    };
    let mut out = std::io::stdout().lock();
    let groups = groups(ctx, task, model, sort, &values, &only);
    if flat {
        // Rows only, for grep, awk and scripts: no header, no footer.
        let mut all: Vec<RunKey> = groups.iter().flat_map(|g| g.2.iter().copied()).collect();
        sort_runs(ctx, &mut all, sort, &values);
        let mut table = Table::new(&[
            Align::Left,
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Left,
        ]);
        for k in all {
            let s = summaries.get(&k).copied();
            let active = ctx.is_active(k);
            let status = s.map_or(crate::runs::Status::of(None, active), |s| s.status(active));
            let [size, reclaim] = size_cells(&c.runs[k].usage.clone().unwrap_or_default());
            table.row(vec![
                fmt::escape(&c.runs[k].label()).into_owned(),
                // One word: a column awk can count on.
                status.word().to_string(),
                size.replace(' ', ""),
                reclaim.replace(' ', ""),
                metric_cell(s, metric_name),
            ]);
        }
        for line in table.render() {
            writeln!(out, "{line}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }

    let n_models: usize = groups.len();
    let n_tasks = {
        let mut t: Vec<&str> = groups.iter().map(|g| g.0).collect();
        t.dedup();
        t.len()
    };
    let kind = match c.source {
        crate::sources::SourceKind::Layout => String::new(),
        k => format!("  ({})", k.title()),
    };
    writeln!(out, "{}{kind}", fmt::escape(&c.root.to_string_lossy()))?;
    writeln!(
        out,
        "{} · {} · {} · {} on disk · {} reclaimable",
        plural(n_tasks, "task"),
        plural(n_models, "model"),
        plural(keys.len(), "run"),
        fmt::size(total.total().disk),
        fmt::size(total.reclaimable().disk),
    )?;
    if keys.is_empty() && !how.query.is_plain() {
        writeln!(out, "\nNo run meets --where.")?;
        return Ok(ExitCode::SUCCESS);
    }
    if keys.is_empty() {
        writeln!(
            out,
            "\nNo runs yet. Runs live in experiments/<task>/<model>/<run_id>/ \
             (run ids look like 2025-12-04_14-32-10_seed42)."
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out)?;
    let mut table = Table::new(&[
        Align::Left,
        Align::Left,
        Align::Right,
        Align::Right,
        Align::Left,
    ]);
    table.row(vec![
        "NAME".into(),
        "STATUS".into(),
        "SIZE".into(),
        "RECLAIM".into(),
        "KEY METRICS".into(),
    ]);
    let run_row = |label: String, k: RunKey| {
        let s = summaries.get(&k).copied();
        let active = ctx.is_active(k);
        let status = s.map_or(crate::runs::Status::of(None, active), |s| s.status(active));
        let u = c.runs[k].usage.clone().unwrap_or_default();
        let problems = c.runs[k].errors.len() + s.map_or(0, |s| s.errors.len());
        let mut metrics = metric_cell(s, metric_name);
        // A run whose key curve ends in NaN/Inf says so where it is listed.
        if let Some((x, at)) = s.and_then(|s| s.diverged_at(&ctx.key_spec(k))) {
            metrics = format!(
                "{metrics}{}⚠ diverged at {x} {}",
                if metrics.is_empty() { "" } else { "  " },
                fmt::metric(at)
            );
        }
        if problems > 0 {
            metrics = format!(
                "{metrics}{}⚠ {}",
                if metrics.is_empty() { "" } else { "  " },
                plural(problems, "problem")
            );
        }
        let [size, reclaim] = size_cells(&u);
        vec![
            label,
            format!("{} {}", status.icon(), status.word()),
            size,
            reclaim,
            metrics,
        ]
    };
    {
        let mut last_task = "";
        for (t, m, runs) in &groups {
            if *t != last_task {
                // The task's row sums what is listed under it (all its models, or the one asked for).
                let tk: Vec<RunKey> = groups
                    .iter()
                    .filter(|g| g.0 == *t)
                    .flat_map(|g| g.2.iter().copied())
                    .collect();
                let [size, reclaim] = size_cells(&c.rollup(&tk));
                table.row(vec![
                    fmt::escape(t).into_owned(),
                    plural(tk.len(), "run"),
                    size,
                    reclaim,
                    String::new(),
                ]);
                last_task = t;
            }
            let [size, reclaim] = size_cells(&c.rollup(runs));
            let best = metric_name
                .and_then(|name| {
                    let k = runs.first()?;
                    let v = summaries.get(k)?.metric(name)?;
                    Some(format!("best {} {}", fmt::escape(name), fmt::metric(v)))
                })
                .unwrap_or_default();
            table.row(vec![
                format!("  {}", fmt::escape(m)),
                plural(runs.len(), "run"),
                size,
                reclaim,
                best,
            ]);
            for &k in runs {
                table.row(run_row(format!("    {}", fmt::escape(&c.runs[k].name)), k));
            }
        }
    }
    for line in table.render() {
        writeln!(out, "{line}")?;
    }
    let mut problems: Vec<String> = Vec::new();
    for &k in &keys {
        let r = &c.runs[k];
        let extra = summaries
            .get(&k)
            .map(|s| s.errors.as_slice())
            .unwrap_or(&[]);
        for e in r.errors.iter().chain(extra) {
            problems.push(format!("  {}: {}", fmt::escape(&r.label()), fmt::escape(e)));
        }
    }
    problems.extend(c.errors.iter().map(|e| format!("  {}", fmt::escape(e))));
    if !problems.is_empty() {
        writeln!(out, "\nProblems:")?;
        for p in problems {
            writeln!(out, "{p}")?;
        }
    }
    if !c.top.is_empty() {
        let other: Vec<String> = c
            .top
            .iter()
            .map(|e| {
                let flag = if e.kind == layout::TopKind::Unrecognized {
                    " (unrecognized)"
                } else {
                    ""
                };
                format!(
                    "{} {}{flag}",
                    fmt::escape(&e.rel),
                    fmt::size(e.usage.unwrap_or(Usage::default()).disk)
                )
            })
            .collect();
        writeln!(out, "\nAlso here: {}", other.join(" · "))?;
    }
    // Files and links where runs should be: not runs, but worth seeing.
    if !c.strays.is_empty() {
        let strays: Vec<String> = c
            .strays
            .iter()
            .take(10)
            .map(|e| fmt::escape(&e.rel).into_owned())
            .collect();
        let more = c.strays.len().saturating_sub(10);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        writeln!(
            out,
            "Not runs (files, links, partial copies; not followed): {}{more}",
            strays.join(" · ")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `ls --json`, streamed: the head (totals, tasks, top-level entries) as
/// one line, then one run object per line, each run's summary read just
/// before it is written and dropped after, a chunk at a time. Nothing
/// per run is kept but its place in the order (and, for a sort by a
/// metric, one number), so memory does not grow with the tree.
fn run_json_stream(
    ctx: &Context,
    keys: &[RunKey],
    task: Option<&str>,
    model: Option<&str>,
    sort: &SortKey,
    flat: bool,
    only: &std::collections::HashSet<RunKey>,
) -> Result<ExitCode, Failure> {
    let c = &ctx.catalog;
    let mut values = SortValues::new();
    if matches!(sort, SortKey::Metric(_) | SortKey::KeyMetric) {
        // Read once for the order, and again while writing: twice the
        // reads of small files, instead of every summary held at once.
        let mut known = KnownMetrics::default();
        for chunk in keys.chunks(STREAM_CHUNK) {
            for (&k, s) in chunk.iter().zip(ctx.summaries(chunk)) {
                if let Some(v) = sort_value(ctx, k, &s, sort) {
                    values.insert(k, v);
                }
                known.add(&s);
            }
        }
        warn_unknown_metric(sort, &values, &known);
    }
    let groups = groups(ctx, task, model, sort, &values, only);
    let mut all: Vec<RunKey> = groups.into_iter().flat_map(|g| g.2).collect();
    if flat {
        sort_runs(ctx, &mut all, sort, &values);
    }
    let tasks: Vec<Value> = c
        .tasks
        .iter()
        .filter(|t| task.is_none_or(|n| t.name == n))
        .map(|t| {
            let models: Vec<Value> = t
                .models
                .iter()
                .filter(|m| model.is_none_or(|n| m.name == n))
                .map(|m| {
                    // What is listed (`-n`, `--where`), as the totals count.
                    let runs: Vec<RunKey> = m
                        .runs
                        .iter()
                        .copied()
                        .filter(|k| only.contains(k))
                        .collect();
                    let mut j = totals_json(runs.len(), &c.rollup(&runs));
                    j["name"] = json!(m.name);
                    j
                })
                .collect();
            let keys: Vec<RunKey> = t
                .models
                .iter()
                .filter(|m| model.is_none_or(|n| m.name == n))
                .flat_map(|m| m.runs.iter().copied())
                .filter(|k| only.contains(k))
                .collect();
            let mut j = totals_json(keys.len(), &c.rollup(&keys));
            j["name"] = json!(t.name);
            j["models"] = json!(models);
            j
        })
        .collect();
    let head = super::envelope(json!({
        "root": c.root.to_string_lossy(),
        "source": c.source,
        "totals": totals_json(keys.len(), &c.rollup(keys)),
        "tasks": tasks,
        "top": c.top.iter().map(entry_json).collect::<Vec<_>>(),
        "strays": c.strays.iter().map(entry_json).collect::<Vec<_>>(),
        "errors": c.errors,
    }));
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    write_head(&mut out, &head, "runs")?;
    let mut first = true;
    for chunk in all.chunks(STREAM_CHUNK) {
        for (&k, s) in chunk.iter().zip(ctx.summaries(chunk)) {
            write_item(&mut out, &mut first, &run_json(ctx, k, Some(&s)))?;
        }
    }
    writeln!(out, "\n]}}")?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the head of a streamed document: `head`'s fields, then `"list":[`
/// left open for [`write_item`]; the caller closes it with `]}`.
pub fn write_head(out: &mut impl Write, head: &Value, list: &str) -> std::io::Result<()> {
    let text = serde_json::to_string(head)?;
    let fields = text.strip_suffix('}').unwrap_or(&text);
    let sep = if fields.len() > 1 { "," } else { "" };
    write!(out, "{fields}{sep}\"{list}\":[")
}

/// Writes one element of a streamed list on its own line.
pub fn write_item(out: &mut impl Write, first: &mut bool, item: &Value) -> std::io::Result<()> {
    out.write_all(if *first { b"\n" } else { b",\n" })?;
    *first = false;
    serde_json::to_writer(&mut *out, item)?;
    Ok(())
}
