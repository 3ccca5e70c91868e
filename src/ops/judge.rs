//! Pruning judged by the recorded metric: when checkpoint names carry an
//! epoch or step but no metric (Lightning's `epoch=70-step=4331.ckpt`), each
//! checkpoint takes the value its run's key metric had at that step (or
//! epoch) from the run's own curves, and the best ones are kept. Without
//! this, a prune keeps only the latest, and deletes the best checkpoint
//! whenever training went on past it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::layout::CheckpointName;
use crate::runs::summary::{self, Better, KeySpec};
use crate::runs::{MetricsReader, Series};

/// How pruning judges checkpoints: each task's key metric (from the
/// config), and how many of the best to keep.
#[derive(Debug, Clone)]
pub struct Judge {
    /// Task → its configured key metric; a task not here uses the run's
    /// own key metric.
    pub specs: BTreeMap<String, KeySpec>,
    /// How many of the best checkpoints to keep (`keep_best` in the
    /// config; at least 1).
    pub keep_best: usize,
}

impl Judge {
    /// The judge the config asks for: each task's key metric, and
    /// `keep_best` (default 1).
    pub fn configured(config: &crate::config::Config) -> Judge {
        let key_metrics: BTreeMap<String, crate::config::KeyMetric> = config
            .metrics
            .iter()
            .map(|(t, m)| (t.clone(), m.resolve()))
            .collect();
        Judge {
            specs: key_metrics
                .keys()
                .map(|t| (t.clone(), KeySpec::for_task(&key_metrics, t)))
                .collect(),
            keep_best: config.general.keep_best.unwrap_or(1).max(1),
        }
    }
}

impl Default for Judge {
    fn default() -> Judge {
        Judge {
            specs: BTreeMap::new(),
            keep_best: 1,
        }
    }
}

/// What the recorded metric says of a run's checkpoints.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The metric that decided.
    pub metric: String,
    /// Which way it improves.
    pub better: Better,
    /// Each checkpoint's value (same order as the names), when the curve
    /// has one at its step or epoch.
    pub values: Vec<Option<f64>>,
    /// Indices kept as the best (at most `keep_best`).
    pub best: Vec<usize>,
}

/// Judges the checkpoints `names` of the run at `run` (an absolute path)
/// whose task is `task`. `None` when no curve with a known direction can
/// say anything of them (then pruning keeps what it kept before: the
/// latest, and the best by any metric in the names).
pub fn judge(run: &Path, task: &str, names: &[CheckpointName], j: &Judge) -> Option<Verdict> {
    let wanted = names.iter().any(|n| {
        matches!(n, CheckpointName::Progress { metric: None, epoch, step } if epoch.is_some() || step.is_some())
    });
    if !wanted {
        return None;
    }
    let metrics = MetricsReader::default().read(run, false);
    let spec = j.specs.get(task).cloned().unwrap_or_default();
    let sums = crate::runs::summarize(&metrics.series);
    // The configured metric, else the run's key metrics in order: the
    // first curve whose direction is known.
    let candidates: Vec<String> = match &spec.name {
        Some(n) => vec![n.clone()],
        None => crate::runs::key_metrics(None, &metrics.scalars, &sums)
            .into_iter()
            .map(|s| s.name)
            .collect(),
    };
    let (series, better) = candidates.iter().find_map(|name| {
        let s = metrics.series.iter().find(|s| &s.name == name)?;
        let better = spec.better.or_else(|| summary::direction_of(name))?;
        Some((s, better))
    })?;
    let epochs = metrics
        .series
        .iter()
        .find(|e| e.file == series.file && e.name.rsplit('/').next() == Some("epoch"));
    let values: Vec<Option<f64>> = names
        .iter()
        .map(|n| match n {
            CheckpointName::Progress {
                metric: None,
                epoch,
                step,
            } => value_at(series, epochs, *epoch, *step),
            _ => None,
        })
        .collect();
    let mut ranked: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((i, v.filter(|v| v.is_finite())?)))
        .collect();
    if ranked.is_empty() {
        return None;
    }
    ranked.sort_by(|a, b| match better {
        Better::Lower => a.1.total_cmp(&b.1),
        Better::Higher => b.1.total_cmp(&a.1),
    });
    let best = ranked
        .iter()
        .take(j.keep_best.max(1))
        .map(|(i, _)| *i)
        .collect();
    Some(Verdict {
        metric: series.name.clone(),
        better,
        values,
        best,
    })
}

/// The curve's value at a checkpoint's step (its x is the step), else at
/// its epoch (its x is the epoch, or the file's `epoch` column maps steps
/// to epochs: the last value logged in that epoch).
fn value_at(
    s: &Series,
    epochs: Option<&Series>,
    epoch: Option<u64>,
    step: Option<u64>,
) -> Option<f64> {
    let is_step = matches!(s.x.as_str(), "step" | "global_step" | "trainer/global_step");
    let last_where = |f: &dyn Fn(f64) -> bool| {
        s.points
            .iter()
            .rev()
            .find(|(x, y)| f(*x) && y.is_finite())
            .map(|p| p.1)
    };
    if is_step
        && let Some(st) = step
        && let Some(v) = last_where(&|x| x == st as f64)
    {
        return Some(v);
    }
    let e = epoch? as f64;
    if s.x == "epoch" {
        return last_where(&|x| x == e);
    }
    // x is a step: which steps belong to epoch `e`, from the epoch column.
    let epochs = epochs?;
    let steps: Vec<f64> = epochs
        .points
        .iter()
        .filter(|(_, ep)| *ep == e)
        .map(|(x, _)| *x)
        .collect();
    last_where(&|x| steps.contains(&x))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_with(csv: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("metrics")).unwrap();
        std::fs::write(dir.path().join("metrics/metrics.csv"), csv).unwrap();
        dir
    }

    fn progress(epoch: u64, step: u64) -> CheckpointName {
        CheckpointName::Progress {
            epoch: Some(epoch),
            step: Some(step),
            metric: None,
        }
    }

    #[test]
    fn the_best_by_val_loss_is_found_by_step_then_by_epoch() {
        let run = run_with(
            "epoch,step,train_loss,val_loss\n\
             0,9,1.0,\n0,9,,0.9\n1,19,0.8,\n1,19,,0.4\n2,29,0.6,\n2,29,,0.7\n",
        );
        let names = [progress(0, 9), progress(1, 19), progress(2, 29)];
        let v = judge(run.path(), "t", &names, &Judge::default()).unwrap();
        assert_eq!(v.metric, "val_loss");
        assert_eq!(v.better, Better::Lower);
        assert_eq!(v.values, [Some(0.9), Some(0.4), Some(0.7)]);
        assert_eq!(v.best, [1]);
        // Epoch only in the names: the epoch column maps it.
        let names = [
            CheckpointName::Progress {
                epoch: Some(1),
                step: None,
                metric: None,
            },
            CheckpointName::Progress {
                epoch: Some(2),
                step: None,
                metric: None,
            },
        ];
        let v = judge(run.path(), "t", &names, &Judge::default()).unwrap();
        assert_eq!(v.values, [Some(0.4), Some(0.7)]);
        // keep_best 2, and a configured direction that says otherwise.
        let mut j = Judge {
            keep_best: 2,
            ..Judge::default()
        };
        j.specs.insert(
            "t".into(),
            KeySpec {
                name: Some("val_loss".into()),
                better: Some(Better::Higher),
            },
        );
        let names = [progress(0, 9), progress(1, 19), progress(2, 29)];
        let v = judge(run.path(), "t", &names, &j).unwrap();
        assert_eq!(v.best, [0, 2]);
    }

    #[test]
    fn no_curve_with_a_direction_means_no_verdict() {
        let run = run_with("step,grad_norm\n9,1.0\n19,0.5\n");
        assert_eq!(
            judge(run.path(), "t", &[progress(0, 9)], &Judge::default()),
            None
        );
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            judge(empty.path(), "t", &[progress(0, 9)], &Judge::default()),
            None
        );
    }
}
