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
    // Keys already in path order need no path compared: the sort is
    // stable, so ties keep that order.
    let by_path = keys
        .windows(2)
        .all(|w| path_cmp(&runs[w[0]].path, &runs[w[1]].path) != Ordering::Greater);
    sort_keys(catalog, keys, sort, metric, by_path);
}

/// Every run of `model` in the order of `sort` (see [`sort_runs`]).
pub fn sort_model(
    catalog: &Catalog,
    model: &super::Model,
    sort: &SortKey,
    metric: impl Fn(RunKey, Option<&str>) -> Option<(f64, bool)>,
) -> Vec<RunKey> {
    let mut keys = model.runs.clone();
    // A model's runs are kept in name order: in path order when they share
    // a folder, which saves reading every run's path.
    if model.one_folder {
        sort_keys(catalog, &mut keys, sort, metric, true);
    } else {
        sort_runs(catalog, &mut keys, sort, metric);
    }
    keys
}

/// [`sort_runs`], told whether `keys` come in path order.
fn sort_keys(
    catalog: &Catalog,
    keys: &mut [RunKey],
    sort: &SortKey,
    metric: impl Fn(RunKey, Option<&str>) -> Option<(f64, bool)>,
    by_path: bool,
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
    // Sizes and times worked out once per run too: a comparison reads
    // them twice, and a sort of 20,000 runs makes some 300,000.
    let bytes: Vec<u64> = match sort {
        SortKey::Size | SortKey::Reclaimable => keys
            .iter()
            .map(|&k| disk(k, *sort == SortKey::Reclaimable))
            .collect(),
        _ => Vec::new(),
    };
    let newest: Vec<_> = keys
        .iter()
        .map(|&k| (runs[k].time(), runs[k].last_write()))
        .collect();
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&i, &j| {
        let (a, b) = (keys[i], keys[j]);
        let primary = match sort {
            SortKey::Time => Ordering::Equal,
            SortKey::Size | SortKey::Reclaimable => bytes[j].cmp(&bytes[i]),
            SortKey::KeyMetric | SortKey::Metric(_) => match (values[i], values[j]) {
                (Some((x, true)), Some((y, _))) => x.total_cmp(&y),
                (Some((x, false)), Some((y, _))) => y.total_cmp(&x),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
        };
        primary
            .then_with(|| newest[j].cmp(&newest[i]))
            .then_with(|| {
                if by_path {
                    i.cmp(&j)
                } else {
                    path_cmp(&runs[a].path, &runs[b].path)
                }
            })
    });
    let sorted: Vec<RunKey> = order.iter().map(|&i| keys[i]).collect();
    keys.copy_from_slice(&sorted);
}

/// Orders two paths as `Path::cmp` does (component by component) for the
/// catalog's paths, which are joined from names (no `.`, no doubled or
/// trailing `/`), by bytes: a separator sorts before any other byte, so a
/// shorter component comes first as it does compared whole. Runs tied on
/// time (a sweep started at once) are ordered by path, and parsing both
/// paths into components on each comparison was most of sorting 100,000
/// runs.
pub fn path_cmp(a: &std::path::Path, b: &std::path::Path) -> Ordering {
    use std::os::unix::ffi::OsStrExt;
    let (x, y) = (a.as_os_str().as_bytes(), b.as_os_str().as_bytes());
    // Runs of one model share a long prefix: skip it a chunk at a time.
    let n = x.len().min(y.len());
    let mut from = 0;
    while from + 16 <= n && x[from..from + 16] == y[from..from + 16] {
        from += 16;
    }
    let at = x[from..n]
        .iter()
        .zip(&y[from..n])
        .position(|(p, q)| p != q)
        .map(|i| from + i);
    let rank = |c: u8| if c == b'/' { 0 } else { u16::from(c) + 1 };
    match at {
        Some(i) => rank(x[i]).cmp(&rank(y[i])),
        None => x.len().cmp(&y.len()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_cmp_orders_as_components_do() {
        use std::path::Path;
        let paths = [
            "/o/experiments/t/m/a",
            "/o/experiments/t/m/a-b",
            "/o/experiments/t/m/a/b",
            "/o/experiments/t/m/ab",
            "/o/experiments/t/m-2/a",
            "/o/experiments/t/m.2/a",
            "/o/experiments/t/m/2025-01-01_00-00-00_seed24",
            "/o/experiments/t/m/2025-01-01_00-00-00_seed240",
            "/o/experiments/t/m/2025-01-01_00-00-00_seed3",
            "/o/experiments/t/m/2025-01-01_00-00-00",
            "/o/experiments/t/m/Z",
            "/o/experiments/t/m/é",
            "/o/experiments/t/m/\u{1}",
            "/o/experiments/t/m /a",
            "/o/experiments/t",
            "/o/experiments/t/m",
            "/p",
        ];
        for a in paths {
            for b in paths {
                let (a, b) = (Path::new(a), Path::new(b));
                assert_eq!(super::path_cmp(a, b), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }

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
    fn a_model_sorts_as_its_runs_do() {
        use crate::catalog::ScanEvent;
        use crate::catalog::scan::RunFound;
        // Runs named by their folder in one folder, and runs named apart
        // from their folders (as MLflow's are), found in no order, some
        // tied on time.
        let mut c = Catalog::new(std::path::Path::new("/o"));
        let runs = [
            ("m", "c", "c", 2),
            ("m", "a", "a", 1),
            ("m", "b", "b", 2),
            ("m", "a-b", "a-b", 2),
            ("mlflow", "run_z", "0aa", 1),
            ("mlflow", "run_a", "0ff", 1),
            ("mlflow", "run_m", "0bb", 2),
        ];
        for (key, (model, name, folder, time)) in runs.into_iter().enumerate() {
            c.apply(ScanEvent::Run(RunFound {
                key,
                task: "t".into(),
                model: model.into(),
                name: name.into(),
                path: format!("/o/experiments/t/{model}/{folder}").into(),
                dir_mtime: None,
                time: Some(1_700_000_000 + time),
            }));
        }
        let models = &c.tasks[0].models;
        assert!(models[0].one_folder && !models[1].one_folder);
        for sort in [SortKey::Time, SortKey::Size, SortKey::KeyMetric] {
            for model in models {
                let metric = |_, _: Option<&str>| Some((1.0, false));
                let mut want = model.runs.clone();
                sort_runs(&c, &mut want, &sort, metric);
                assert_eq!(
                    super::sort_model(&c, model, &sort, metric),
                    want,
                    "{sort:?}"
                );
            }
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
