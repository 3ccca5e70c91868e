//! `runyard compare`: runs × metrics, the best value of each column marked.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::ExitCode;

use super::table::{Align, Table};
use super::{Context, Failure, ls};
use crate::catalog::RunKey;
use crate::fmt;

/// One metric column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The metric's full name (`val/acc`).
    pub name: String,
    /// True when a smaller value is better (losses, errors).
    pub lower_is_better: bool,
    /// The row holding the best value, if any run has one.
    pub best: Option<usize>,
}

/// A table of runs × metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The runs (task/model/run_id), one per row.
    pub runs: Vec<String>,
    /// The metric columns: key metrics first, then every other scalar by name.
    pub columns: Vec<Column>,
    /// `values[row][column]`.
    pub values: Vec<Vec<Option<f64>>>,
}

impl Comparison {
    /// Builds the table for `keys`, reading each run's scalar metrics.
    pub fn build(ctx: &Context, keys: &[RunKey]) -> Comparison {
        let summaries = ctx.summaries(keys);
        let mut names: Vec<String> = Vec::new();
        // Key metrics lead, in the order runs name them.
        for s in &summaries {
            for m in &s.key_metrics {
                if !names.contains(&m.name) {
                    names.push(m.name.clone());
                }
            }
        }
        let rest: BTreeSet<&str> = summaries
            .iter()
            .flat_map(|s| s.scalars.iter().map(|m| m.name.as_str()))
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
                // otherwise the name does (loss, error, perplexity...).
                let lower_is_better = keys
                    .iter()
                    .find_map(|&k| {
                        ctx.key_metrics
                            .get(&ctx.catalog.runs[k].task)
                            .filter(|km| km.name == name)
                            .map(|km| km.lower_is_better)
                    })
                    .unwrap_or_else(|| crate::layout::lower_is_better(&name));
                let best = (!is_count(&name))
                    .then(|| best_row(values.iter().map(|row| row[c]), lower_is_better))
                    .flatten();
                Column {
                    name,
                    lower_is_better,
                    best,
                }
            })
            .collect();
        Comparison {
            runs: keys.iter().map(|&k| ctx.catalog.runs[k].label()).collect(),
            columns,
            values,
        }
    }

    /// Orders the rows by a metric, best first; runs without it go last.
    pub fn sort_by(&mut self, metric: &str) -> Result<(), String> {
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
        self.runs = order.iter().map(|&i| self.runs[i].clone()).collect();
        self.values = order.iter().map(|&i| self.values[i].clone()).collect();
        for (c, col) in self.columns.iter_mut().enumerate() {
            if col.best.is_some() {
                col.best = best_row(self.values.iter().map(|row| row[c]), col.lower_is_better);
            }
        }
        Ok(())
    }
}

/// Counters (epochs, steps, samples) have no better or worse: no column
/// of them gets a best mark.
fn is_count(metric: &str) -> bool {
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
    let mut cmp = Comparison::build(ctx, keys);
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
                        "better": if c.lower_is_better { "lower" } else { "higher" },
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
            let doc = serde_json::json!({
                "version": ls::JSON_VERSION,
                "root": ctx.catalog.root,
                "metrics": metrics,
                "runs": runs,
            });
            serde_json::to_writer_pretty(&mut out, &doc).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        Output::Csv => {
            let mut w = csv::Writer::from_writer(out);
            let header = std::iter::once("run").chain(cmp.columns.iter().map(|c| c.name.as_str()));
            w.write_record(header).map_err(std::io::Error::from)?;
            for (run, row) in cmp.runs.iter().zip(&cmp.values) {
                let cells = std::iter::once(run.clone()).chain(
                    row.iter()
                        .map(|v| v.map(|v| v.to_string()).unwrap_or_default()),
                );
                w.write_record(cells).map_err(std::io::Error::from)?;
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
                    if c.lower_is_better { " ↓" } else { " ↑" }
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

#[cfg(test)]
mod tests {
    use super::best_row;

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
