//! `runyard compare`: runs × metrics, the best value of each column marked.

use std::io::Write;
use std::process::ExitCode;

use super::table::{Align, Table};
use super::{Context, Failure};
use crate::catalog::RunKey;
use crate::compare::Comparison;
use crate::fmt;

/// How the table is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Aligned columns, best values marked with `*`.
    Text,
    /// JSON (see docs/json.md).
    Json,
    /// CSV: a header row, then one row per run.
    Csv,
}

/// `runyard compare`: prints the comparison of `keys`.
pub fn run(
    ctx: &Context,
    keys: &[RunKey],
    sort: Option<&str>,
    output: Output,
) -> Result<ExitCode, Failure> {
    let summaries = ctx.summaries(keys);
    let runs: Vec<(String, String, &crate::runs::RunSummary)> = keys
        .iter()
        .zip(&summaries)
        .map(|(&k, s)| {
            let r = &ctx.catalog.runs[k];
            (r.label(), r.task.clone(), s)
        })
        .collect();
    let mut cmp = Comparison::new(&runs, &ctx.key_metrics);
    if let Some(metric) = sort {
        cmp.sort_by(metric).map_err(Failure::usage)?;
    }
    let mut out = std::io::stdout().lock();
    match output {
        Output::Json => {
            let metrics: Vec<_> = cmp
                .columns
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "name": c.name,
                        "better": c.better,
                        "best": c.best.map(|r| &cmp.runs[r]),
                    })
                })
                .collect();
            let runs: Vec<_> = cmp
                .runs
                .iter()
                .zip(&cmp.values)
                // Values line up with `metrics`: metric names are data, not keys.
                .map(|(run, row)| serde_json::json!({ "run": run, "values": row }))
                .collect();
            super::write_doc(
                &mut out,
                serde_json::json!({
                    "root": ctx.catalog.root.to_string_lossy(),
                    "metrics": metrics,
                    "runs": runs,
                }),
            )?;
        }
        Output::Csv => {
            // Metric names and run labels come from the tree: escaped as in
            // the text table, so a name carrying an OSC or CSI sequence
            // cannot retitle or repaint the terminal the CSV is shown on;
            // quoting (commas, quotes) is the csv writer's.
            let mut w = csv::Writer::from_writer(out);
            let header = std::iter::once("run".to_string()).chain(
                cmp.columns
                    .iter()
                    .map(|c| fmt::escape(&c.name).into_owned()),
            );
            w.write_record(header).map_err(csv_error)?;
            for (run, row) in cmp.runs.iter().zip(&cmp.values) {
                let cells = std::iter::once(fmt::escape(run).into_owned()).chain(
                    row.iter()
                        .map(|v| v.map(|v| v.to_string()).unwrap_or_default()),
                );
                w.write_record(cells).map_err(csv_error)?;
            }
            w.flush()?;
        }
        Output::Text => {
            if cmp.columns.is_empty() {
                writeln!(out, "These runs have no scalar metrics to compare.")?;
                return Ok(ExitCode::SUCCESS);
            }
            let mut aligns = vec![Align::Left];
            aligns.extend(std::iter::repeat_n(Align::Right, cmp.columns.len()));
            let mut table = Table::new(&aligns);
            let mut head = vec!["run".to_string()];
            head.extend(cmp.columns.iter().map(|c| {
                format!(
                    "{}{}",
                    fmt::escape(&c.name),
                    match (crate::compare::is_count(&c.name), c.better) {
                        (false, Some(crate::runs::Better::Lower)) => " ↓",
                        (false, Some(crate::runs::Better::Higher)) => " ↑",
                        _ => "",
                    }
                )
            }));
            table.row(head);
            for (r, (run, row)) in cmp.runs.iter().zip(&cmp.values).enumerate() {
                let mut cells = vec![fmt::escape(run).into_owned()];
                for (c, v) in row.iter().enumerate() {
                    let mark = if cmp.columns[c].best == Some(r) {
                        "*"
                    } else {
                        " "
                    };
                    cells.push(match v {
                        Some(v) => format!("{}{mark}", fmt::metric(*v)),
                        None => "- ".to_string(),
                    });
                }
                table.row(cells);
            }
            for line in table.render() {
                writeln!(out, "{line}")?;
            }
            writeln!(
                out,
                "* best in its column (↑ higher is better, ↓ lower is better)"
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A csv error as the I/O error under it, so a closed pipe stays a closed
/// pipe (ended quietly) instead of becoming a generic failure.
fn csv_error(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    }
}
