//! Metric files under a run's `metrics/`: JSON objects and series, CSV
//! scalars and series, JSONL series. The split comes from the file name.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::info::{flatten_numbers, kind_of};
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
            let text = match std::fs::read(entry.path()) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => {
                    m.errors.push(format!("{rel}: cannot read: {e}"));
                    continue;
                }
            };
            let naming = Naming::of(stem);
            let result = match ext.as_str() {
                "json" => read_json(&text, &naming, &rel, &mut m),
                "jsonl" | "ndjson" => read_jsonl(&text, &naming, &rel, &mut m),
                _ => read_csv(
                    &text,
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
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON ({e})"))?;
    match &value {
        Value::Object(map) => {
            for (key, v) in map {
                match v {
                    Value::Array(items) if items.iter().all(Value::is_number) => {
                        let points = items
                            .iter()
                            .enumerate()
                            .filter_map(|(i, y)| Some((i as f64, y.as_f64()?)))
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

fn read_jsonl(text: &str, naming: &Naming, rel: &str, m: &mut Metrics) -> Result<(), String> {
    let mut rows = Vec::new();
    let mut error = None;
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(v @ Value::Object(_)) => rows.push(v),
            Ok(other) => {
                error.get_or_insert(format!(
                    "line {}: expected an object, found {}",
                    i + 1,
                    kind_of(&other)
                ));
            }
            // A run still training may be half-way through writing its last line.
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => {}
            Err(e) => {
                error.get_or_insert(format!("line {}: not valid JSON ({e})", i + 1));
            }
        }
    }
    rows_to_series(rows.iter(), naming, rel, m);
    error.map_or(Ok(()), Err)
}

/// The x column of a table: `step`, `epoch`, `iteration`, ... in that order.
fn x_column<'a>(names: impl Iterator<Item = &'a str> + Clone) -> Option<&'a str> {
    ["step", "global_step", "epoch", "iteration", "iter", "batch"]
        .into_iter()
        .find_map(|want| names.clone().find(|n| n.eq_ignore_ascii_case(want)))
}

/// Turns rows (JSON objects) into one series per numeric column.
fn rows_to_series<'a>(
    rows: impl Iterator<Item = &'a Value> + Clone,
    naming: &Naming,
    rel: &str,
    m: &mut Metrics,
) {
    let mut columns: Vec<String> = Vec::new();
    for row in rows.clone() {
        if let Value::Object(map) = row {
            for (k, v) in map {
                if v.is_number() && !columns.contains(k) {
                    columns.push(k.clone());
                }
            }
        }
    }
    let x = x_column(columns.iter().map(String::as_str)).map(str::to_string);
    for col in columns.iter().filter(|c| Some(*c) != x.as_ref()) {
        let points: Vec<(f64, f64)> = rows
            .clone()
            .enumerate()
            .filter_map(|(i, row)| {
                let y = row.get(col)?.as_f64()?;
                let xv = match &x {
                    Some(x) => row.get(x)?.as_f64()?,
                    None => i as f64,
                };
                Some((xv, y))
            })
            .collect();
        if !points.is_empty() {
            m.series.push(Series {
                name: naming.name(col),
                x: x.clone().unwrap_or_else(|| "index".into()),
                points,
                file: rel.into(),
            });
        }
    }
}

fn read_csv(
    text: &str,
    delimiter: u8,
    naming: &Naming,
    rel: &str,
    m: &mut Metrics,
) -> Result<(), String> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("cannot read the header row ({e})"))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows: Vec<csv::StringRecord> = Vec::new();
    let mut error = None;
    for record in reader.records() {
        match record {
            Ok(r) => rows.push(r),
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                error = Some(match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("line {line}: {len} fields where the header has {expected_len}"),
                    _ => format!("line {line}: {e}"),
                });
                break;
            }
        }
    }
    let lower: Vec<String> = headers.iter().map(|h| h.to_ascii_lowercase()).collect();
    let is_pairs = headers.len() == 2
        && ["metric", "name", "key"].contains(&lower[0].as_str())
        && ["value", "score", "val"].contains(&lower[1].as_str());
    if is_pairs {
        for r in &rows {
            if let (Some(k), Some(v)) = (r.get(0), r.get(1).and_then(|v| v.parse::<f64>().ok())) {
                m.scalars.push(Scalar {
                    name: naming.name(k),
                    value: v,
                    file: rel.into(),
                });
            }
        }
    } else if rows.len() == 1 {
        let x = x_column(headers.iter().map(String::as_str));
        for (h, v) in headers
            .iter()
            .zip(rows[0].iter())
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
    } else if !rows.is_empty() {
        let x = x_column(headers.iter().map(String::as_str))
            .and_then(|x| headers.iter().position(|h| h == x))
            .or_else(|| rows[0].get(0)?.parse::<f64>().ok().map(|_| 0));
        for (col, h) in headers.iter().enumerate().filter(|(c, _)| Some(*c) != x) {
            let points: Vec<(f64, f64)> = rows
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    let y = r.get(col)?.parse::<f64>().ok()?;
                    let xv = match x {
                        Some(x) => r.get(x)?.parse::<f64>().ok()?,
                        None => i as f64,
                    };
                    Some((xv, y))
                })
                .collect();
            if !points.is_empty() {
                m.series.push(Series {
                    name: naming.name(h),
                    x: x.map_or("index".into(), |x| headers[x].to_ascii_lowercase()),
                    points,
                    file: rel.into(),
                });
            }
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
