//! Runs side by side: a table of runs × metrics (scalars, and curves by
//! their last value), with the best value of each column where its
//! direction is known, shared by `runyard compare` and the explorer's `c`.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::KeyMetric;
use crate::runs::RunSummary;
use crate::runs::summary::{Better, direction_of};

/// One metric column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The metric's full name (`val/acc`).
    pub name: String,
    /// True when a smaller value is better (losses, errors).
    pub lower_is_better: bool,
    /// Which way is better, when the config or the name says; `None`: no
    /// best is claimed.
    pub better: Option<Better>,
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
    /// Builds the table: one row per run (its label, task and summary);
    /// `configured` holds the tasks' key metrics, which say which way is
    /// better for their metric.
    pub fn new(
        runs: &[(String, String, &RunSummary)],
        configured: &BTreeMap<String, KeyMetric>,
    ) -> Comparison {
        let summaries: Vec<&RunSummary> = runs.iter().map(|r| r.2).collect();
        let mut names: Vec<String> = Vec::new();
        // Key metrics lead, in the order runs name them.
        for s in &summaries {
            for m in &s.key_metrics {
                if !names.contains(&m.name) {
                    names.push(m.name.clone());
                }
            }
        }
        // Then every other scalar and curve (a curve by its last value),
        // bookkeeping (epoch, step, lr-*, _timestamp) left out.
        let rest: BTreeSet<&str> = summaries
            .iter()
            .flat_map(|s| s.metric_names())
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
                // otherwise the name does (loss, error, accuracy...); a name
                // that does not tell gets no best mark.
                let better = runs
                    .iter()
                    .find_map(|(_, task, _)| {
                        configured
                            .get(task)
                            .filter(|km| km.name == name)
                            .map(|km| Better::from_lower(km.lower_is_better))
                    })
                    .or_else(|| direction_of(&name));
                let lower_is_better = better == Some(Better::Lower);
                let best = better
                    .filter(|_| !is_count(&name))
                    .and_then(|_| best_row(values.iter().map(|row| row[c]), lower_is_better));
                Column {
                    name,
                    lower_is_better,
                    better,
                    best,
                }
            })
            .collect();
        Comparison {
            runs: runs.iter().map(|r| r.0.clone()).collect(),
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
pub fn is_count(metric: &str) -> bool {
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
