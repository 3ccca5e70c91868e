//! Orders for runs, shared by the CLI listing and the explorer.

use std::cmp::Ordering;

use super::{Catalog, RunKey};

/// How to order runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    /// Newest first.
    Time,
    /// Biggest first.
    Size,
    /// Most reclaimable first.
    Reclaimable,
    /// Best value of the run's own first key metric first.
    KeyMetric,
    /// Best value of a named metric first.
    Metric(String),
}

impl SortKey {
    /// The order after this one when cycling (the explorer's `s`).
    pub fn next(&self) -> SortKey {
        match self {
            SortKey::Time => SortKey::Size,
            SortKey::Size => SortKey::Reclaimable,
            SortKey::Reclaimable => SortKey::KeyMetric,
            SortKey::KeyMetric | SortKey::Metric(_) => SortKey::Time,
        }
    }

    /// A short name for status lines.
    pub fn label(&self) -> String {
        match self {
            SortKey::Time => "time".into(),
            SortKey::Size => "size".into(),
            SortKey::Reclaimable => "reclaimable".into(),
            SortKey::KeyMetric => "key metric".into(),
            SortKey::Metric(m) => m.clone(),
        }
    }
}

impl std::str::FromStr for SortKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "time" => SortKey::Time,
            "size" => SortKey::Size,
            "reclaimable" => SortKey::Reclaimable,
            "key" | "key-metric" => SortKey::KeyMetric,
            "" => return Err("empty sort key".into()),
            metric => SortKey::Metric(metric.to_string()),
        })
    }
}

/// Orders `keys` in place by `sort`, ties newest first, then by folder so
/// that runs tied on everything keep one order while a scan adds runs in
/// whatever order its threads find them. `metric(k, name)`
/// gives a run's value of a metric and whether lower is better (`None`
/// name: the run's key metric); runs without a value go last.
pub fn sort_runs(
    catalog: &Catalog,
    keys: &mut [RunKey],
    sort: &SortKey,
    metric: impl Fn(RunKey, Option<&str>) -> Option<(f64, bool)>,
) {
    let runs = &catalog.runs;
    let disk = |k: RunKey, reclaim: bool| {
        runs[k].usage.as_ref().map_or(0, |u| {
            if reclaim {
                u.reclaimable().disk
            } else {
                u.total().disk
            }
        })
    };
    let name = match sort {
        SortKey::Metric(m) => Some(m.as_str()),
        _ => None,
    };
    // Looked up once per run, not once per comparison.
    let values: Vec<Option<(f64, bool)>> = match sort {
        SortKey::KeyMetric | SortKey::Metric(_) => keys
            .iter()
            .map(|&k| metric(k, name).filter(|(v, _)| !v.is_nan()))
            .collect(),
        _ => Vec::new(),
    };
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&i, &j| {
        let (a, b) = (keys[i], keys[j]);
        let primary = match sort {
            SortKey::Time => Ordering::Equal,
            SortKey::Size => disk(b, false).cmp(&disk(a, false)),
            SortKey::Reclaimable => disk(b, true).cmp(&disk(a, true)),
            SortKey::KeyMetric | SortKey::Metric(_) => match (values[i], values[j]) {
                (Some((x, true)), Some((y, _))) => x.total_cmp(&y),
                (Some((x, false)), Some((y, _))) => y.total_cmp(&x),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
        };
        primary
            .then_with(|| {
                (runs[b].time(), runs[b].last_write()).cmp(&(runs[a].time(), runs[a].last_write()))
            })
            .then_with(|| runs[a].path.cmp(&runs[b].path))
    });
    let sorted: Vec<RunKey> = order.iter().map(|&i| keys[i]).collect();
    keys.copy_from_slice(&sorted);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Run;

    fn run(name: &str) -> Run {
        Run {
            task: "t".into(),
            model: "m".into(),
            name: name.into(),
            path: format!("/o/experiments/t/m/{name}").into(),
            id: None,
            dir_mtime: None,
            time: None,
            usage: None,
            errors: Vec::new(),
            stamps: std::sync::Arc::from(Vec::new()),
        }
    }

    #[test]
    fn tied_runs_keep_one_order_whatever_order_the_scan_found_them_in() {
        let names = ["b", "a", "c"];
        let mut orders = Vec::new();
        for found in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
            let mut catalog = Catalog::new(std::path::Path::new("/o"));
            catalog.runs = found.iter().map(|&i| run(names[i])).collect();
            for sort in [SortKey::Time, SortKey::Size, SortKey::KeyMetric] {
                let mut keys: Vec<RunKey> = (0..3).collect();
                sort_runs(&catalog, &mut keys, &sort, |_, _| Some((1.0, false)));
                let got: Vec<&str> = keys
                    .iter()
                    .map(|&k| catalog.runs[k].name.as_str())
                    .collect();
                orders.push(got.join(""));
            }
        }
        assert!(orders.iter().all(|o| o == "abc"), "{orders:?}");
    }
}
