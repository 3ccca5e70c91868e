//! `runyard du`: reclaimable space per run, biggest first.

use std::io::Write;
use std::process::ExitCode;

use serde_json::json;

use super::ls::{entry_json, run_json, write_head, write_item};
use super::table::{Align, Table};
use super::{Context, Failure};
use crate::catalog::RunKey;
use crate::fmt;

/// Prints the runs with the most to free first.
pub fn run(ctx: &Context, limit: Option<usize>, json: bool) -> Result<ExitCode, Failure> {
    let c = &ctx.catalog;
    let mut keys: Vec<RunKey> = c.run_keys().collect();
    let reclaim = |k: RunKey| c.runs[k].usage.as_ref().map_or(0, |u| u.reclaimable().disk);
    // Ties by task, model and run name: compared in place, where building
    // each `task/model/run` label would allocate twice per comparison.
    let name = |k: RunKey| {
        let r = &c.runs[k];
        (r.task.as_str(), r.model.as_str(), r.name.as_str())
    };
    keys.sort_by(|&a, &b| {
        reclaim(b)
            .cmp(&reclaim(a))
            .then_with(|| name(a).cmp(&name(b)))
    });
    let total = c.rollup(&keys);
    let shown = &keys[..limit.unwrap_or(keys.len()).min(keys.len())];
    let mut out = std::io::stdout().lock();
    if json {
        // Streamed, one run per line (docs/json.md): each run object is
        // built, written and dropped, so memory does not grow with the tree.
        let head = super::envelope(json!({
            "root": c.root.to_string_lossy(),
            "source": c.source,
            "totals": {
                "runs": keys.len(),
                "disk": total.total().disk,
                "reclaimable": total.reclaimable().disk,
                "tmp": total.tmp.disk,
                "cache": total.cache.disk,
                "prunable": total.prunable.disk,
                "active_runs": keys.iter().filter(|&&k| ctx.is_active(k)).count(),
            },
            "top": c.top.iter().map(entry_json).collect::<Vec<_>>(),
        }));
        let mut out = std::io::BufWriter::new(out);
        write_head(&mut out, &head, "runs")?;
        let mut first = true;
        for &k in shown {
            write_item(&mut out, &mut first, &run_json(ctx, k, None))?;
        }
        writeln!(out, "\n]}}")?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new(&[
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Left,
    ]);
    t.row(
        ["RECLAIM", "TMP", "CACHE", "PRUNE", "SIZE", "RUN"]
            .map(String::from)
            .to_vec(),
    );
    let mut any_active = false;
    for &k in shown {
        let r = &c.runs[k];
        let u = r.usage.clone().unwrap_or_default();
        let active = ctx.is_active(k);
        any_active |= active;
        let mark = if active { " ● active" } else { "" };
        let cell = |b: u64| {
            if b == 0 {
                "-".to_string()
            } else {
                fmt::size(b)
            }
        };
        t.row(vec![
            cell(u.reclaimable().disk),
            cell(u.tmp.disk),
            cell(u.cache.disk),
            cell(u.prunable.disk),
            fmt::size(u.total().disk),
            format!("{}{mark}", fmt::escape(&r.label())),
        ]);
    }
    for line in t.render() {
        writeln!(out, "{line}")?;
    }
    if shown.len() < keys.len() {
        writeln!(out, "… {} more runs", keys.len() - shown.len())?;
    }
    writeln!(
        out,
        "\n{} reclaimable of {} in {} runs: tmp {} · cache {} · prunable checkpoints {}",
        fmt::size(total.reclaimable().disk),
        fmt::size(total.total().disk),
        keys.len(),
        fmt::size(total.tmp.disk),
        fmt::size(total.cache.disk),
        fmt::size(total.prunable.disk),
    )?;
    if any_active {
        writeln!(
            out,
            "● active runs wrote within {} minutes; cleanup skips them.",
            ctx.window.as_secs() / 60
        )?;
    }
    if !c.top.is_empty() {
        let top: Vec<String> = c
            .top
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    fmt::escape(&e.rel),
                    fmt::size(e.usage.unwrap_or_default().disk)
                )
            })
            .collect();
        let outside = match c.source {
            crate::sources::SourceKind::Layout => "experiments/",
            _ => "runs",
        };
        writeln!(
            out,
            "Outside {outside} (never cleaned): {}",
            top.join(" · ")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
