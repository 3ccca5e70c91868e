//! Metric files under a run's `metrics/`: JSON objects and series, CSV
//! scalars and series, JSONL series. The split comes from the file name.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::info::{flatten_numbers, kind_of};
use super::json_number;
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
}

impl Series {
    /// The last value of the curve.
    pub fn last(&self) -> Option<f64> {
        self.points.last().map(|p| p.1)
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
}

/// Files larger than this are skipped when only scalars are wanted.
const SUMMARY_LIMIT: u64 = 2 << 20;

impl Metrics {
    /// Reads every metrics file of a run. With `scalars_only`, big files
    /// (which hold series) are skipped so listing many runs stays fast.
    pub fn load(run: &Path, scalars_only: bool) -> Metrics {
        let mut m = Metrics::default();
        let dir = run.join("metrics");
        let Ok(rd) = std::fs::read_dir(&dir) else {
            return m;
        };
        let mut files: Vec<_> = rd
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .collect();
        files.sort_by_key(|e| e.file_name());
        for entry in files {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((stem, ext)) = name.rsplit_once('.') else {
                continue;
            };
            let ext = ext.to_ascii_lowercase();
            if !matches!(ext.as_str(), "json" | "jsonl" | "ndjson" | "csv" | "tsv") {
                continue;
            }
            if scalars_only && entry.metadata().is_ok_and(|md| md.len() > SUMMARY_LIMIT) {
                continue;
            }
            let rel = format!("metrics/{name}");
            // Series files can be large: CSV and JSONL stream from the file,
            // never held whole in memory.
            let file = match std::fs::File::open(entry.path()) {
                Ok(f) => f,
                Err(e) => {
                    m.errors.push(format!("{rel}: cannot read: {e}"));
                    continue;
                }
            };
            let naming = Naming::of(stem);
            let result = match ext.as_str() {
                "json" => {
                    let mut text = String::new();
                    match std::io::Read::read_to_string(
                        &mut std::io::BufReader::new(file),
                        &mut text,
                    ) {
                        Ok(_) => read_json(&text, &naming, &rel, &mut m),
                        Err(e) => Err(format!("cannot read: {e}")),
                    }
                }
                "jsonl" | "ndjson" => {
                    read_jsonl(std::io::BufReader::new(file), &naming, &rel, &mut m)
                }
                _ => read_csv(
                    file,
                    if ext == "tsv" { b'\t' } else { b',' },
                    &naming,
                    &rel,
                    &mut m,
                ),
            };
            if let Err(e) = result {
                m.errors.push(format!("{rel}: {e}"));
            }
        }
        m
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

/// How a file names its metrics: `group` prefixes each key (the split,
/// or for a file without one its name); `single` names a lone value.
///
/// `val_metrics.json` {acc} → `val/acc`; `val_auc.json` holding `0.91` →
/// `val/auc`; `train_steps.jsonl` {step, loss} → `train/loss`;
/// `coverage_stats.json` {missing} → `coverage_stats/missing`.
#[derive(Debug)]
struct Naming {
    group: String,
    single: String,
}

impl Naming {
    fn of(stem: &str) -> Naming {
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
    fn name(&self, key: &str) -> String {
        if key.is_empty() || key == "value" || self.single.rsplit('/').next() == Some(key) {
            return self.single.clone();
        }
        if self.group.is_empty() || key.contains('/') {
            // A key that already names its split (`val/acc`) keeps it.
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
                        let points = items
                            .iter()
                            .enumerate()
                            .filter_map(|(i, y)| Some((i as f64, json_number(y)?)))
                            .collect();
                        m.series.push(Series {
                            name: naming.name(key),
                            x: "index".into(),
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

fn read_jsonl(
    mut reader: impl std::io::BufRead,
    naming: &Naming,
    rel: &str,
    m: &mut Metrics,
) -> Result<(), String> {
    let mut acc = SeriesAcc::default();
    let mut error = None;
    let mut line = String::new();
    let mut number = 0;
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                error.get_or_insert(format!("line {}: cannot read: {e}", number + 1));
                break;
            }
        }
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(&super::relax_json(&line)) {
            Ok(Value::Object(row)) => acc.push(&row),
            Ok(other) => {
                error.get_or_insert(format!(
                    "line {number}: expected an object, found {}",
                    kind_of(&other)
                ));
            }
            // A run still training may be half-way through writing its last line.
            Err(_) if !line.ends_with('\n') => {}
            Err(e) => {
                error.get_or_insert(format!("line {number}: not valid JSON ({e})"));
            }
        }
    }
    acc.finish(naming, rel, m);
    error.map_or(Ok(()), Err)
}

/// Collects rows (JSON objects) into one curve per numeric column, as they come.
#[derive(Default)]
struct SeriesAcc {
    /// The x column, chosen at the first row.
    x: Option<Option<String>>,
    rows: usize,
    columns: Vec<(String, Vec<(f64, f64)>)>,
}

impl SeriesAcc {
    fn push(&mut self, row: &serde_json::Map<String, Value>) {
        let x = self
            .x
            .get_or_insert_with(|| x_column(row.keys().map(String::as_str)).map(str::to_string))
            .clone();
        let xv = match &x {
            Some(name) => row.get(name).and_then(json_number),
            None => Some(self.rows as f64),
        };
        self.rows += 1;
        let Some(xv) = xv else { return };
        for (k, v) in row {
            if Some(k) == x.as_ref() {
                continue;
            }
            let Some(y) = json_number(v) else { continue };
            match self.columns.iter_mut().find(|(c, _)| c == k) {
                Some((_, pts)) => pts.push((xv, y)),
                None => self.columns.push((k.clone(), vec![(xv, y)])),
            }
        }
    }

    fn finish(self, naming: &Naming, rel: &str, m: &mut Metrics) {
        let x = self.x.flatten().unwrap_or_else(|| "index".into());
        for (col, points) in self.columns {
            m.series.push(Series {
                name: naming.name(&col),
                x: x.clone(),
                points,
                file: rel.into(),
            });
        }
    }
}

/// The x column of a table: `step`, `epoch`, `iteration`, ... in that order.
fn x_column<'a>(names: impl Iterator<Item = &'a str> + Clone) -> Option<&'a str> {
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
    acc.finish(naming, rel, m);
}

fn read_csv(
    file: std::fs::File,
    delimiter: u8,
    naming: &Naming,
    rel: &str,
    m: &mut Metrics,
) -> Result<(), String> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .from_reader(std::io::BufReader::with_capacity(1 << 16, file));
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("cannot read the header row ({e})"))?
        .iter()
        .map(str::to_string)
        .collect();
    let describe = |e: csv::Error| {
        let line = e.position().map_or(0, |p| p.line());
        match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => {
                format!("line {line}: {len} fields where the header has {expected_len}")
            }
            _ => format!("line {line}: {e}"),
        }
    };
    let lower: Vec<String> = headers.iter().map(|h| h.to_ascii_lowercase()).collect();
    let is_pairs = headers.len() == 2
        && ["metric", "name", "key"].contains(&lower[0].as_str())
        && ["value", "score", "val"].contains(&lower[1].as_str());
    let mut records = reader.records();
    if is_pairs {
        for record in records {
            let r = record.map_err(describe)?;
            if let (Some(k), Some(v)) = (r.get(0), r.get(1).and_then(|v| v.parse::<f64>().ok())) {
                m.scalars.push(Scalar {
                    name: naming.name(k),
                    value: v,
                    file: rel.into(),
                });
            }
        }
        return Ok(());
    }
    let first = match records.next() {
        None => return Ok(()),
        Some(r) => r.map_err(describe)?,
    };
    let second = records.next();
    if !matches!(second, Some(Ok(_))) {
        // One good row (then, perhaps, a broken one): its numbers are scalars.
        let x = x_column(headers.iter().map(String::as_str));
        for (h, v) in headers
            .iter()
            .zip(first.iter())
            .filter(|(h, _)| Some(h.as_str()) != x)
        {
            if let Ok(v) = v.parse::<f64>() {
                m.scalars.push(Scalar {
                    name: naming.name(h),
                    value: v,
                    file: rel.into(),
                });
            }
        }
        return match second {
            Some(Err(e)) => Err(describe(e)),
            _ => Ok(()),
        };
    }
    let Some(Ok(second)) = second else {
        unreachable!("checked above")
    };
    // Several rows: a series per column against the step/epoch column, else
    // the first column when numeric, else the row number.
    let x = x_column(headers.iter().map(String::as_str))
        .and_then(|x| headers.iter().position(|h| h == x))
        .or_else(|| first.get(0)?.parse::<f64>().ok().map(|_| 0));
    let mut columns: Vec<Vec<(f64, f64)>> = vec![Vec::new(); headers.len()];
    let mut row_no = 0usize;
    let mut add = |r: &csv::StringRecord| {
        let xv = match x {
            Some(x) => r.get(x).and_then(|v| v.parse::<f64>().ok()),
            None => Some(row_no as f64),
        };
        row_no += 1;
        let Some(xv) = xv else { return };
        for (col, pts) in columns.iter_mut().enumerate() {
            if Some(col) == x {
                continue;
            }
            if let Some(y) = r.get(col).and_then(|v| v.parse::<f64>().ok()) {
                pts.push((xv, y));
            }
        }
    };
    add(&first);
    add(&second);
    let mut error = None;
    for record in records {
        match record {
            Ok(r) => add(&r),
            Err(e) => {
                error = Some(describe(e));
                break;
            }
        }
    }
    for (col, points) in columns.into_iter().enumerate() {
        if Some(col) != x && !points.is_empty() {
            m.series.push(Series {
                name: naming.name(&headers[col]),
                x: x.map_or("index".into(), |x| headers[x].to_ascii_lowercase()),
                points,
                file: rel.into(),
            });
        }
    }
    error.map_or(Ok(()), Err)
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
                .find(|s| s.name == "curves/val_loss")
                .unwrap()
                .x,
            "index"
        );
    }
}
