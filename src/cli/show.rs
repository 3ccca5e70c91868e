//! `runyard show` and `runyard latest`: everything known about one run.

use std::io::Write;
use std::process::ExitCode;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::ls::run_json;
use super::table::{Align, Table};
use super::{Context, Failure};
use crate::catalog::RunKey;
use crate::fmt;
use crate::layout::CheckpointName;
use crate::runs::{RunDetails, RunSummary};

/// Prints one run; `latest` adds a heading saying it is the latest.
pub fn run(ctx: &Context, key: RunKey, json: bool, latest: bool) -> Result<ExitCode, Failure> {
    let r = &ctx.catalog.runs[key];
    let d = RunDetails::load(&r.path);
    let summary = RunSummary {
        info: d.info.clone(),
        key_metrics: d.key_metrics.clone(),
        scalars: d.metrics.scalars.clone(),
        series: d.series.clone(),
        errors: d.errors.clone(),
    };
    let mut out = std::io::stdout().lock();
    if json {
        // Facts over every point of each file (the points kept for
        // drawing may be thinned).
        let series: Vec<Value> = d
            .metrics
            .series
            .iter()
            .zip(&d.series)
            .map(|(s, sum)| {
                let st = &sum.stats;
                json!({
                    "name": sum.name, "x": s.x, "file": s.file, "points": st.points,
                    "first": s.points.first().map(|p| p.1), "last": s.last(),
                    "min": st.min.map(|p| p.1), "max": st.max.map(|p| p.1),
                    "better": sum.better,
                    "best": sum.best(None).map(|(at, value)| json!({ "value": value, "at": at })),
                    "non_finite": st.non_finite,
                    "diverged_at": st.diverged_at(),
                    "bookkeeping": crate::runs::summary::is_bookkeeping(&sum.name),
                })
            })
            .collect();
        super::write_doc(
            &mut out,
            json!({
            // Hydra's overrides first: they are what changed.
            "overrides": d.overrides,
            "run": run_json(ctx, key, Some(&summary)),
            "tools": d.tools,
            "metric_notes": d.metrics.notes,
            "info": d.info,
            "config": d.config,
            "readme": d.readme,
            "metrics": { "scalars": d.metrics.scalars, "series": series },
            "checkpoints": d.checkpoints,
            "plots": d.plots,
            "logs": d.logs,
            }),
        )?;
        return Ok(ExitCode::SUCCESS);
    }

    let active = ctx.is_active(key);
    let status = summary.status(active);
    if latest {
        writeln!(out, "Latest run")?;
    }
    writeln!(out, "{}", fmt::escape(&r.label()))?;
    let mut facts = Table::new(&[Align::Left, Align::Left]);
    let mut fact = |k: &str, v: String| facts.row(vec![format!("  {k}"), v]);
    // Hydra's overrides first: they are what changed from the config.
    if let Some(o) = &d.overrides {
        let v = if o.items.is_empty() {
            "none (the config as composed)".to_string()
        } else {
            o.items.join(" ")
        };
        fact("overrides", fmt::escape(&v).into_owned());
    }
    fact("path", fmt::escape(&r.path.to_string_lossy()).into_owned());
    let mut st = format!("{} {}", status.icon(), status.word());
    if let Some(t) = r.last_write() {
        st.push_str(&format!("  (last write {})", fmt::age(t, ctx.now)));
    }
    fact("status", st);
    if let Some(t) = r.time() {
        fact("time", fmt::local_time(t));
    }
    if let Some(i) = &d.info {
        for (k, v) in [
            ("command", &i.command),
            ("git commit", &i.git_commit),
            ("started", &i.started_at),
            ("finished", &i.finished_at),
            ("notes", &i.notes),
        ] {
            if let Some(v) = v {
                fact(k, sourced(i, k, v));
            }
        }
        if let Some(s) = &i.seeds {
            fact("seeds", s.to_string());
        }
        for (k, v) in &i.extra {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            fact(&fmt::escape(k), sourced(i, k, &v));
        }
    }
    if !d.tools.is_empty() {
        let places: Vec<String> = d.tools.iter().map(|p| p.label()).collect();
        fact("tools", places.join(", "));
    }
    print_lines(&mut out, facts.render())?;

    if !d.key_metrics.is_empty() {
        writeln!(out, "\nKey metrics")?;
        let mut t = Table::new(&[Align::Left, Align::Right, Align::Left]);
        let spec = ctx.key_spec(key);
        for m in &d.key_metrics {
            // A curve's best and where it was; the run's key curve says when
            // it diverged.
            let better = (spec.name.as_deref() == Some(m.name.as_str()))
                .then_some(spec.better)
                .flatten();
            let note = summary
                .reading(&m.name, better)
                .map(|r| reading_note(&r))
                .unwrap_or_default();
            t.row(vec![
                format!("  {}", fmt::escape(&m.name)),
                fmt::metric(m.value),
                note,
            ]);
        }
        print_lines(&mut out, t.render())?;
    }
    if let Some((x, at)) = summary.diverged_at(&ctx.key_spec(key)) {
        writeln!(
            out,
            "  ⚠ diverged at {x} {}: the key metric ends in NaN/Inf",
            fmt::metric(at)
        )?;
    }
    if !d.metrics.scalars.is_empty() {
        writeln!(out, "\nMetrics")?;
        let mut t = Table::new(&[Align::Left, Align::Right, Align::Left]);
        for m in &d.metrics.scalars {
            t.row(vec![
                format!("  {}", fmt::escape(&m.name)),
                fmt::metric(m.value),
                fmt::escape(&m.file).into_owned(),
            ]);
        }
        print_lines(&mut out, t.render())?;
    }
    if !d.metrics.series.is_empty() {
        writeln!(out, "\nSeries")?;
        let mut t = Table::new(&[
            Align::Left,
            Align::Right,
            Align::Left,
            Align::Right,
            Align::Left,
        ]);
        t.row(vec![
            "  name".into(),
            "last".into(),
            "best".into(),
            "points".into(),
            "file".into(),
        ]);
        // Results first; counters and optimiser settings (epoch, step,
        // lr-Adam) after them, marked as such.
        let mut order: Vec<&crate::runs::SeriesSummary> = d.series.iter().collect();
        order.sort_by_key(|s| crate::runs::summary::is_bookkeeping(&s.name));
        for s in order {
            let st = &s.stats;
            let best = match (s.better, s.best(None)) {
                _ if crate::runs::summary::is_bookkeeping(&s.name) => "(bookkeeping)".into(),
                (Some(_), Some((at, v))) => {
                    format!("{} at {} {}", fmt::metric(v), s.x, fmt::metric(at))
                }
                (Some(_), None) => "-".into(),
                (None, _) => "(direction unknown)".into(),
            };
            let mut points = st.points.to_string();
            if st.non_finite > 0 {
                points = format!("{points}, {} NaN/Inf", st.non_finite);
            }
            t.row(vec![
                format!("  {}", fmt::escape(&s.name)),
                st.last.map_or_else(String::new, |p| fmt::metric(p.1)),
                best,
                points,
                fmt::escape(&s.file).into_owned(),
            ]);
        }
        print_lines(&mut out, t.render())?;
        // Thinned curves and files read from their tail: the counts above
        // are of the points kept.
        for note in &d.metrics.notes {
            writeln!(out, "  ⋯ {}", fmt::escape(note))?;
        }
    }

    if let Some(u) = &r.usage {
        writeln!(out, "\nDisk")?;
        let mut t = Table::new(&[Align::Left, Align::Right, Align::Left]);
        let rows = [
            ("tmp", u.tmp, "ephemeral"),
            ("cache", u.cache, "ephemeral"),
            ("checkpoints", u.checkpoints, ""),
            ("  prunable", u.prunable, "a prune would free this"),
            ("data", u.data, ""),
            ("other", u.other, "config, logs, metrics, plots"),
        ];
        for (name, usage, note) in rows {
            let mut note = note.to_string();
            if usage.apparent > usage.disk + 4096 {
                note = format!(
                    "{note}{}apparent {}",
                    if note.is_empty() { "" } else { "; " },
                    fmt::size(usage.apparent)
                );
            }
            t.row(vec![format!("  {name}"), fmt::size(usage.disk), note]);
        }
        t.row(vec![
            "  total".into(),
            fmt::size(u.total().disk),
            format!("{} reclaimable", fmt::size(u.reclaimable().disk)),
        ]);
        print_lines(&mut out, t.render())?;
        if u.shared > 0 {
            writeln!(
                out,
                "  ({} of hard-linked files counted in another run)",
                fmt::size(u.shared)
            )?;
        }
    }

    if !d.checkpoints.is_empty() {
        writeln!(out, "\nCheckpoints")?;
        let mut t = Table::new(&[Align::Left, Align::Right, Align::Left, Align::Left]);
        for c in &d.checkpoints {
            let what = match &c.parsed {
                CheckpointName::Best => "best".to_string(),
                CheckpointName::Last => "last".to_string(),
                CheckpointName::Unparsed => "name not understood".to_string(),
                CheckpointName::Progress {
                    epoch,
                    step,
                    metric,
                } => {
                    let mut parts = Vec::new();
                    if let Some(e) = epoch {
                        parts.push(format!("epoch {e}"));
                    }
                    if let Some(s) = step {
                        parts.push(format!("step {s}"));
                    }
                    if let Some((n, v)) = metric {
                        parts.push(format!("{n} {}", fmt::metric(*v)));
                    }
                    parts.join(", ")
                }
            };
            let name = c
                .file
                .rel
                .strip_prefix("checkpoints/")
                .unwrap_or(&c.file.rel);
            t.row(vec![
                format!("  {}", fmt::escape(name)),
                fmt::size(c.file.usage.disk),
                what,
                if c.prune {
                    "prune".into()
                } else {
                    "keep".into()
                },
            ]);
        }
        print_lines(&mut out, t.render())?;
    }
    for (title, files) in [("Plots", &d.plots), ("Logs", &d.logs)] {
        if files.is_empty() {
            continue;
        }
        writeln!(out, "\n{title}")?;
        let mut t = Table::new(&[Align::Left, Align::Right, Align::Left]);
        for f in files.iter() {
            let age = Timestamp::from_second(f.mtime)
                .map_or_else(|_| String::new(), |t| fmt::age(t, ctx.now));
            t.row(vec![
                format!("  {}", fmt::escape(&f.rel)),
                fmt::size(f.usage.apparent),
                age,
            ]);
        }
        print_lines(&mut out, t.render())?;
    }
    if let Some(c) = &d.config {
        writeln!(out, "\nConfig ({})", c.file)?;
        let mut t = Table::new(&[Align::Left, Align::Left]);
        let summary = c.summary();
        for (k, v) in summary.iter().take(40) {
            t.row(vec![
                format!("  {}", fmt::escape(k)),
                fmt::escape(v).into_owned(),
            ]);
        }
        print_lines(&mut out, t.render())?;
        if summary.len() > 40 {
            writeln!(out, "  … {} more", summary.len() - 40)?;
        }
    }
    let problems: Vec<&String> = r.errors.iter().chain(&d.errors).collect();
    if !problems.is_empty() {
        writeln!(out, "\nProblems")?;
        for p in problems {
            writeln!(out, "  {}", fmt::escape(p))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A fact's value, with the file it came from when another tool's file
/// filled it (`git commit` is `info` key `git_commit`).
fn sourced(i: &crate::runs::RunInfo, label: &str, v: &str) -> String {
    let key = match label {
        "git commit" => "git_commit",
        "started" => "started_at",
        "finished" => "finished_at",
        other => other,
    };
    match i.sources.get(key) {
        Some(file) => format!("{}  ({})", fmt::escape(v), fmt::escape(file)),
        None => fmt::escape(v).into_owned(),
    }
}

fn print_lines(out: &mut impl Write, lines: Vec<String>) -> std::io::Result<()> {
    for l in lines {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

/// A curve reading's extra facts: its best and where, or where it diverged.
fn reading_note(r: &crate::runs::KeyValue) -> String {
    let x = r.x.as_deref().unwrap_or("");
    let mut parts = Vec::new();
    if let Some((at, v)) = r.best {
        parts.push(format!(
            "best {} at {x} {}",
            fmt::metric(v),
            fmt::metric(at)
        ));
    }
    if let Some(at) = r.diverged_at {
        parts.push(format!("NaN/Inf from {x} {}", fmt::metric(at)));
    }
    parts.join(" · ")
}
