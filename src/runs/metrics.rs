//! Metric files under a run's `metrics/`: JSON objects and series, CSV
//! scalars and series, JSONL series. The split comes from the file name.

use std::collections::{HashMap, HashSet};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::curve::SeriesAcc;
use super::formats::{self, tensorboard::EventStream};
use super::info::{flatten_numbers, kind_of};
use super::json_number;
use super::open;
use super::stream::{Caps, Format, Stream};
use super::summary::Stats;
use crate::layout;

/// One named number.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scalar {
    /// Full name, split first: `val/acc`.
    pub name: String,
    /// The value.
    pub value: f64,
    /// The file it came from, relative to the run.
    pub file: String,
}

/// One curve: a metric over steps or epochs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// Full name, split first: `train/loss`.
    pub name: String,
    /// What the x values count: `step`, `epoch`, `iteration` or `index`.
    pub x: String,
    /// The points in file order.
    pub points: Vec<(f64, f64)>,
    /// The file it came from, relative to the run.
    pub file: String,
    /// Last, lowest, highest, NaN count over every point in the file (the
    /// points above may be thinned).
    pub stats: Stats,
}

impl Series {
    /// A curve from its points (its facts computed from them).
    pub fn new(name: String, x: String, points: Vec<(f64, f64)>, file: String) -> Series {
        Series {
            name,
            x,
            stats: Stats::of(&points),
            points,
            file,
        }
    }

    /// A curve read from a file: its kept points and its exact facts.
    pub(crate) fn of_curve(
        name: String,
        x: String,
        curve: &super::curve::Curve,
        file: &str,
    ) -> Series {
        Series {
            name,
            x,
            points: curve.points(),
            file: file.into(),
            stats: curve.stats(),
        }
    }

    /// The last value of the curve.
    pub fn last(&self) -> Option<f64> {
        self.stats.last.map(|p| p.1)
    }
}

/// Everything read from a run's `metrics/` folder.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Metrics {
    /// Scalars, file by file in name order.
    pub scalars: Vec<Scalar>,
    /// Series, file by file in name order.
    pub series: Vec<Series>,
    /// One message per file that could not be read fully.
    pub errors: Vec<String>,
    /// Files read in part or thinned to fit the caps, one line each, to
    /// show beside the curves.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Other tools' folders found in the run (see [`formats::discover`]).
    #[serde(skip)]
    pub found: formats::Found,
}

/// Files larger than this are skipped when only scalars are wanted.
const SUMMARY_LIMIT: u64 = 2 << 20;
/// A `.json` metrics file is parsed whole: bigger than this, it is not read
/// (long series belong in CSV or JSONL, which stream).
pub const JSON_CAP: u64 = 64 << 20;

impl Metrics {
    /// Reads every metrics file of a run. With `scalars_only`, big files
    /// (which hold series) are skipped so listing many runs stays fast.
    pub fn load(run: &Path, scalars_only: bool) -> Metrics {
        MetricsReader::default().read(run, scalars_only)
    }

    /// The value of a named metric: a scalar, else the last point of a series.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.scalars
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.value)
            .or_else(|| self.series.iter().find(|s| s.name == name)?.last())
    }
}

/// What the last [`MetricsReader::read`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Bytes parsed (the new lines of a file that grew; all of a new one).
    pub parsed: u64,
    /// Files read again from their start (replaced, truncated, rewritten).
    pub restarted: usize,
}

/// A `.json` file as last parsed, with what identifies that version.
#[derive(Debug, Clone)]
struct Whole {
    stamp: (u64, u64, i64, i64, i64),
    part: Metrics,
}

#[derive(Debug, Clone)]
enum Entry {
    Stream(Box<Stream>),
    Events(Box<EventStream>),
    Whole(Box<Whole>),
}

/// Reads a run's metrics again and again, cheaply: a CSV or JSONL file
/// that grew is read from where the last read stopped, a file that did not
/// change is not read, and one that was replaced or rewritten is read anew.
#[derive(Debug, Clone, Default)]
pub struct MetricsReader {
    files: HashMap<String, Entry>,
    caps: Caps,
    stats: ReadStats,
}

impl MetricsReader {
    /// A reader with other caps than the defaults (tests use small ones).
    pub fn with_caps(caps: Caps) -> MetricsReader {
        MetricsReader {
            caps,
            ..MetricsReader::default()
        }
    }

    /// What the last read did.
    pub fn stats(&self) -> ReadStats {
        self.stats
    }

    /// Reads the run's metrics files, continuing from the last read: its
    /// `metrics/`, then other tools' files found in it (Lightning's
    /// `metrics.csv`, TensorBoard event files, MLflow metrics, the W&B
    /// summary: see [`formats`]).
    pub fn read(&mut self, run: &Path, scalars_only: bool) -> Metrics {
        match open::open_dir(run) {
            Ok(Some(dir)) => {
                let found = formats::discover_in(dir.as_fd());
                self.read_in(dir.as_fd(), scalars_only, found)
            }
            Ok(None) => {
                self.stats = ReadStats::default();
                self.files.clear();
                Metrics::default()
            }
            Err(e) => {
                self.stats = ReadStats::default();
                self.files.clear();
                Metrics {
                    errors: vec![e],
                    ..Metrics::default()
                }
            }
        }
    }

    /// [`MetricsReader::read`] in the run folder open as `dir`, its tool
    /// folders already found (the summary cache finds them to stamp them,
    /// and opens the folder once for every reader).
    pub fn read_in(
        &mut self,
        dir: BorrowedFd,
        scalars_only: bool,
        found: formats::Found,
    ) -> Metrics {
        self.stats = ReadStats::default();
        let mut m = Metrics {
            found,
            ..Metrics::default()
        };
        let mut seen = HashSet::new();
        // An MLflow run opened as the run: its `metrics/` is MLflow's.
        let mlflow_root = m
            .found
            .places
            .iter()
            .any(|p| p.tool == formats::Tool::Mlflow && p.dir.is_empty());
        if !mlflow_root {
            self.read_layout(dir, scalars_only, &mut m, &mut seen);
        }
        if !m.found.is_empty() {
            self.read_tools(dir, scalars_only, &mut m, &mut seen);
        }
        // Files that went away take their state with them.
        self.files.retain(|name, _| seen.contains(name));
        m
    }

    /// Reads the layout's `metrics/` folder.
    fn read_layout(
        &mut self,
        run: BorrowedFd,
        scalars_only: bool,
        m: &mut Metrics,
        seen: &mut HashSet<String>,
    ) {
        let dir = match open::open_dir_in(run, "metrics") {
            Ok(Some(dir)) => dir,
            Ok(None) => return,
            Err(e) => {
                m.errors.push(e);
                return;
            }
        };
        let mut names: Vec<std::ffi::OsString> = match rustix::fs::Dir::read_from(&dir) {
            Ok(entries) => entries
                .flatten()
                .map(|e| std::ffi::OsStr::from_bytes(e.file_name().to_bytes()).to_owned())
                .filter(|n| n != "." && n != "..")
                .collect(),
            Err(e) => {
                m.errors
                    .push(format!("metrics: cannot read: {}", std::io::Error::from(e)));
                // What was read before stays until the folder reads again.
                seen.extend(self.files.keys().filter(|k| !k.starts_with('@')).cloned());
                return;
            }
        };
        names.sort();
        for os_name in names {
            let name = os_name.to_string_lossy().into_owned();
            let Some((stem, ext)) = name.rsplit_once('.') else {
                continue;
            };
            let ext = ext.to_ascii_lowercase();
            let format = match ext.as_str() {
                "json" => None,
                "jsonl" | "ndjson" => Some(Format::Jsonl),
                "csv" => Some(Format::Csv(b',')),
                "tsv" => Some(Format::Csv(b'\t')),
                _ => continue,
            };
            let rel = format!("metrics/{name}");
            let (file, st) = match open::open_file_in(dir.as_fd(), &os_name, &rel) {
                Ok(Some(f)) => f,
                Ok(None) => continue,
                Err(e) => {
                    m.errors.push(e);
                    continue;
                }
            };
            if scalars_only && u64::try_from(st.st_size).unwrap_or(0) > SUMMARY_LIMIT {
                continue;
            }
            seen.insert(name.clone());
            let naming = Naming::of(stem);
            match format {
                Some(format) => self.stream(&name, format, file, &st, &naming, &rel, m),
                None => {
                    let part = self.whole(&name, file, &st, |file, st| {
                        read_json_file(file, st, &naming, &rel)
                    });
                    m.scalars.extend(part.scalars);
                    m.series.extend(part.series);
                    m.errors.extend(part.errors);
                }
            }
        }
    }

    /// Reads the tools' metric files `m.found` lists.
    fn read_tools(
        &mut self,
        dir: BorrowedFd,
        scalars_only: bool,
        m: &mut Metrics,
        seen: &mut HashSet<String>,
    ) {
        let places = m.found.places.clone();
        for place in &places {
            for rel in &place.files {
                use formats::Tool;
                let kind = match place.tool {
                    Tool::Lightning if formats::lightning::is_metrics(rel) => 0,
                    Tool::TensorBoard => 1,
                    Tool::Mlflow if formats::mlflow::metric_key(place, rel).is_some() => 2,
                    Tool::Wandb if formats::wandb::is_summary(rel) => 3,
                    _ => continue,
                };
                let (file, st) = match formats::open_rel(dir, rel) {
                    Ok(Some(f)) => f,
                    Ok(None) => continue,
                    Err(e) => {
                        m.errors.push(e);
                        continue;
                    }
                };
                if scalars_only
                    && kind != 3
                    && u64::try_from(st.st_size).unwrap_or(0) > SUMMARY_LIMIT
                {
                    continue;
                }
                let key = format!("@{rel}");
                seen.insert(key.clone());
                match kind {
                    0 => {
                        // Lightning's columns are named as logged (`val_loss`,
                        // `train_loss_step`, `lr-Adam`): no file prefix.
                        let naming = Naming::of("metrics");
                        self.stream(&key, Format::Csv(b','), file, &st, &naming, rel, m);
                    }
                    1 => {
                        let stream = match self.files.get_mut(&key) {
                            Some(Entry::Events(s)) => s,
                            _ => {
                                let s = EventStream::new(self.caps, &st);
                                self.files.insert(key.clone(), Entry::Events(Box::new(s)));
                                match self.files.get_mut(&key) {
                                    Some(Entry::Events(s)) => s,
                                    _ => continue,
                                }
                            }
                        };
                        let (parsed, restarted) = stream.update(file, &st);
                        self.stats.parsed += parsed;
                        self.stats.restarted += usize::from(restarted);
                        stream.emit(rel, m);
                    }
                    _ => {
                        let metric = formats::mlflow::metric_key(place, rel).map(str::to_string);
                        let part = self.whole(&key, file, &st, |file, st| {
                            let mut part = Metrics::default();
                            match open::read_capped(file, st, JSON_CAP, rel) {
                                Ok(bytes) => {
                                    let text = String::from_utf8_lossy(&bytes);
                                    match &metric {
                                        Some(k) => {
                                            formats::mlflow::parse_metric(&text, k, rel, &mut part)
                                        }
                                        None => {
                                            formats::wandb::parse_summary(&text, rel, &mut part)
                                        }
                                    }
                                }
                                Err(e) => part.errors.push(e),
                            }
                            part
                        });
                        m.scalars.extend(part.scalars);
                        m.series.extend(part.series);
                        m.errors.extend(part.errors);
                    }
                }
            }
        }
    }

    /// Reads on a CSV or JSONL file kept under `key`.
    #[allow(clippy::too_many_arguments)]
    fn stream(
        &mut self,
        key: &str,
        format: Format,
        file: std::fs::File,
        st: &rustix::fs::Stat,
        naming: &Naming,
        rel: &str,
        m: &mut Metrics,
    ) {
        let stream = match self.files.get_mut(key) {
            Some(Entry::Stream(s)) => s,
            _ => {
                let s = Stream::new(format, self.caps, st);
                self.files
                    .insert(key.to_string(), Entry::Stream(Box::new(s)));
                match self.files.get_mut(key) {
                    Some(Entry::Stream(s)) => s,
                    _ => return,
                }
            }
        };
        let (parsed, restarted) = stream.update(file, st);
        self.stats.parsed += parsed;
        self.stats.restarted += usize::from(restarted);
        stream.emit(naming, rel, m);
    }

    /// A file parsed whole, kept under `key`: parsed again (by `parse`)
    /// only when its stamp changed.
    fn whole(
        &mut self,
        key: &str,
        file: std::fs::File,
        st: &rustix::fs::Stat,
        parse: impl FnOnce(std::fs::File, &rustix::fs::Stat) -> Metrics,
    ) -> Metrics {
        let stamp = (
            st.st_dev,
            st.st_ino,
            st.st_size,
            st.st_mtime,
            st.st_mtime_nsec as i64,
        );
        if let Some(Entry::Whole(w)) = self.files.get(key)
            && w.stamp == stamp
        {
            return w.part.clone();
        }
        let part = parse(file, st);
        self.stats.parsed += u64::try_from(st.st_size).unwrap_or(0);
        let w = Whole {
            stamp,
            part: part.clone(),
        };
        self.files
            .insert(key.to_string(), Entry::Whole(Box::new(w)));
        part
    }
}

/// Reads and parses a whole `.json` metrics file (under [`JSON_CAP`]).
fn read_json_file(
    file: std::fs::File,
    st: &rustix::fs::Stat,
    naming: &Naming,
    rel: &str,
) -> Metrics {
    let mut part = Metrics::default();
    let result = open::read_capped(file, st, JSON_CAP, rel).and_then(|bytes| {
        let text = String::from_utf8_lossy(&bytes);
        read_json(&text, naming, rel, &mut part).map_err(|e| format!("{rel}: {e}"))
    });
    if let Err(e) = result {
        part.errors.push(e);
    }
    part
}

/// How a file names its metrics: `group` prefixes each key (the split,
/// or for a file without one its name); `single` names a lone value.
///
/// `val_metrics.json` {acc} → `val/acc`; `val_auc.json` holding `0.91` →
/// `val/auc`; `train_steps.jsonl` {step, loss} → `train/loss`;
/// `coverage_stats.json` {missing} → `coverage_stats/missing`.
#[derive(Debug)]
pub(crate) struct Naming {
    group: String,
    single: String,
}

impl Naming {
    pub(crate) fn of(stem: &str) -> Naming {
        let (split, rest) = layout::metric_file_split(stem);
        let single = match (split, rest) {
            (Some(s), Some(r)) => format!("{s}/{r}"),
            (Some(s), None) => s.to_string(),
            (None, Some(r)) => r.to_string(),
            (None, None) => "value".to_string(),
        };
        let group = split.or(rest).unwrap_or("").to_string();
        Naming { group, single }
    }

    /// Naming for a series nested under a key: its columns go under `name`.
    fn grouped(name: String) -> Naming {
        Naming {
            group: name.clone(),
            single: name,
        }
    }

    /// The full name of `key` from this file.
    pub(crate) fn name(&self, key: &str) -> String {
        if key.is_empty() || key == "value" || self.single.rsplit('/').next() == Some(key) {
            return self.single.clone();
        }
        if self.group.is_empty() || super::summary::carries_split(key) {
            // A key that already names its split (`val/acc`, `val_loss`,
            // Lightning's `loss_epoch`) keeps it: `train_metrics.csv`'s
            // `val_loss` is not `train/val_loss`.
            return key.to_string();
        }
        format!("{}/{key}", self.group)
    }
}

fn read_json(text: &str, naming: &Naming, rel: &str, m: &mut Metrics) -> Result<(), String> {
    let value: Value = serde_json::from_str(&super::relax_json(text))
        .map_err(|e| format!("not valid JSON ({e})"))?;
    match &value {
        Value::Object(map) => {
            for (key, v) in map {
                match v {
                    Value::Array(items) if items.iter().all(|i| json_number(i).is_some()) => {
                        let points: Vec<(f64, f64)> = items
                            .iter()
                            .enumerate()
                            .filter_map(|(i, y)| Some((i as f64, json_number(y)?)))
                            .collect();
                        m.series.push(Series {
                            name: naming.name(key),
                            x: "index".into(),
                            stats: Stats::of(&points),
                            points,
                            file: rel.into(),
                        });
                    }
                    Value::Array(items) if items.iter().all(Value::is_object) => {
                        rows_to_series(items.iter(), &Naming::grouped(naming.name(key)), rel, m);
                    }
                    _ => flatten_numbers(key, v, &mut |name, x| {
                        m.scalars.push(Scalar {
                            name: naming.name(&name),
                            value: x,
                            file: rel.into(),
                        })
                    }),
                }
            }
            Ok(())
        }
        Value::Array(items) if items.iter().all(Value::is_object) => {
            rows_to_series(items.iter(), naming, rel, m);
            Ok(())
        }
        Value::Number(n) => {
            m.scalars.push(Scalar {
                name: naming.single.clone(),
                value: n.as_f64().unwrap_or(f64::NAN),
                file: rel.into(),
            });
            Ok(())
        }
        other => Err(format!(
            "expected an object, a list of objects or a number, found {}",
            kind_of(other)
        )),
    }
}

/// The x column of a table: `step`, `epoch`, `iteration`, ... in that order.
pub(crate) fn x_column<'a>(names: impl Iterator<Item = &'a str> + Clone) -> Option<&'a str> {
    ["step", "global_step", "epoch", "iteration", "iter", "batch"]
        .into_iter()
        .find_map(|want| names.clone().find(|n| n.eq_ignore_ascii_case(want)))
}

/// Turns rows (JSON objects) into one series per numeric column.
fn rows_to_series<'a>(
    rows: impl Iterator<Item = &'a Value>,
    naming: &Naming,
    rel: &str,
    m: &mut Metrics,
) {
    let mut acc = SeriesAcc::default();
    for row in rows {
        if let Value::Object(map) = row {
            acc.push(map);
        }
    }
    let x = acc.x_name();
    for (col, curve) in acc.curves() {
        m.series
            .push(Series::of_curve(naming.name(col), x.clone(), curve, rel));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(files: &[(&str, &str)]) -> Metrics {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("metrics")).unwrap();
        for (name, body) in files {
            std::fs::write(dir.path().join("metrics").join(name), body).unwrap();
        }
        Metrics::load(dir.path(), false)
    }

    #[test]
    fn json_objects_flatten_with_the_split() {
        let m = load(&[(
            "val_metrics.json",
            r#"{"acc":0.87,"per_class":{"digits":0.9}}"#,
        )]);
        let names: Vec<_> = m.scalars.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["val/acc", "val/per_class.digits"]);
        assert_eq!(m.get("val/acc"), Some(0.87));
    }

    #[test]
    fn single_value_files_take_their_name() {
        let m = load(&[
            ("val_auc.json", "0.91"),
            ("test_auc.json", r#"{"auc":0.88}"#),
        ]);
        assert_eq!(m.get("val/auc"), Some(0.91));
        assert_eq!(m.get("test/auc"), Some(0.88));
    }

    #[test]
    fn csv_scalars_and_series() {
        let m = load(&[
            ("test_metrics.csv", "metric,value\nacc,0.85\nloss,0.5\n"),
            (
                "train_metrics.csv",
                "epoch,loss,acc\n1,0.9,0.5\n2,0.7,0.6\n3,0.5,0.7\n",
            ),
            ("val_summary.csv", "acc,f1\n0.8,0.7\n"),
        ]);
        assert_eq!(m.get("test/acc"), Some(0.85));
        assert_eq!(m.get("val/f1"), Some(0.7));
        let loss = m.series.iter().find(|s| s.name == "train/loss").unwrap();
        assert_eq!(loss.x, "epoch");
        assert_eq!(loss.points, vec![(1.0, 0.9), (2.0, 0.7), (3.0, 0.5)]);
    }

    #[test]
    fn jsonl_series_tolerate_a_half_written_last_line() {
        let m = load(&[(
            "train_steps.jsonl",
            "{\"step\":1,\"loss\":2}\n{\"step\":2,\"loss\":1}\n{\"step\":3,",
        )]);
        assert!(m.errors.is_empty(), "{:?}", m.errors);
        assert_eq!(m.series[0].points.len(), 2);
        assert_eq!(m.series[0].name, "train/loss");
    }

    #[test]
    fn malformed_files_are_reported_and_the_rest_is_kept() {
        let m = load(&[
            ("a.json", "{\"acc\": 0.8,"),
            ("b.csv", "epoch,loss\n1,0.5\n2,0.4,9\n3,0.3\n"),
            (
                "c.jsonl",
                "{\"step\":1,\"loss\":2}\nnot json\n{\"step\":3,\"loss\":1}\n",
            ),
            ("val_metrics.json", "{\"acc\":0.9}"),
        ]);
        assert_eq!(m.errors.len(), 3, "{:?}", m.errors);
        assert!(m.errors[0].starts_with("metrics/a.json: not valid JSON"));
        assert!(
            m.errors[1].contains("line 3: 3 fields where the header has 2"),
            "{}",
            m.errors[1]
        );
        assert!(m.errors[2].contains("line 2"));
        assert_eq!(m.get("val/acc"), Some(0.9));
        assert_eq!(
            m.series
                .iter()
                .find(|s| s.file.ends_with("c.jsonl"))
                .unwrap()
                .points
                .len(),
            2
        );
    }

    #[test]
    fn python_nan_and_infinity_are_read() {
        let m = load(&[
            (
                "val_metrics.json",
                r#"{"acc": NaN, "loss": Infinity, "note": "NaN here stays text", "f1": 0.5}"#,
            ),
            (
                "train_log.jsonl",
                "{\"step\": 1, \"loss\": NaN}\n{\"step\": 2, \"loss\": -Infinity}\n",
            ),
        ]);
        assert!(m.errors.is_empty(), "{:?}", m.errors);
        assert!(m.get("val/acc").unwrap().is_nan());
        assert_eq!(m.get("val/loss"), Some(f64::INFINITY));
        assert_eq!(m.get("val/f1"), Some(0.5));
        assert_eq!(m.series[0].points.len(), 2);
    }

    #[test]
    fn json_lists_are_series() {
        let m = load(&[
            (
                "train_log.json",
                r#"[{"step":10,"loss":1.5},{"step":20,"loss":1.2}]"#,
            ),
            ("curves.json", r#"{"val_loss":[0.9,0.8]}"#),
        ]);
        assert_eq!(m.get("train/loss"), Some(1.2));
        assert_eq!(
            m.series
                .iter()
                // The key names its split already: not `curves/val_loss`.
                .find(|s| s.name == "val_loss")
                .unwrap()
                .x,
            "index"
        );
    }
}
