//! An MLflow file-store run folder (`mlruns/<experiment>/<run>/`, or the
//! run itself): `meta.yaml` (name, status, start and end in ms, lifecycle
//! stage), `metrics/<key>` lines `<timestamp ms> <value> <step>` (a key with
//! `/` is a subfolder), `params/<key>` as the config, `tags/<key>` (the run
//! name, git commit, source, user). Each file's whole content is the value.

use std::os::fd::BorrowedFd;

use serde_json::{Map, Value};

use super::{Entry, Fact, Place, ToolFacts, Walk, join, parse_yaml, read_rel, time_of_ms};
use crate::runs::files::Config;
use crate::runs::metrics::{Metrics, Series};

/// The files of the run folder `rel` (listed: `entries`).
pub(super) fn files(walk: &mut Walk, fd: BorrowedFd, rel: &str, entries: &[Entry]) -> Vec<String> {
    let mut out = vec![join(rel, "meta.yaml")];
    for sub in ["metrics", "params", "tags"] {
        if entries.iter().any(|e| e.name == sub) {
            out.extend(walk.files_under(fd, sub, &join(rel, sub), 1));
        }
    }
    out
}

/// The part of `rel` after the run folder's `<sub>/`: the key.
fn key_of<'a>(place: &Place, rel: &'a str, sub: &str) -> Option<&'a str> {
    let prefix = join(&place.dir, sub);
    rel.strip_prefix(&prefix)?.strip_prefix('/')
}

/// True when `rel` is a metric file of an MLflow run at `dir`.
pub fn metric_key<'a>(place: &Place, rel: &'a str) -> Option<&'a str> {
    key_of(place, rel, "metrics")
}

/// MLflow's run status codes.
pub fn status_word(code: i64) -> Option<&'static str> {
    Some(match code {
        1 => "running",
        2 => "scheduled",
        3 => "finished",
        4 => "failed",
        5 => "killed",
        _ => return None,
    })
}

/// A metric file's lines as a series named `key` (x: the step).
pub fn parse_metric(text: &str, key: &str, rel: &str, m: &mut Metrics) {
    let mut points = Vec::new();
    let mut bad = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_ascii_whitespace();
        let (_ts, value, step) = (words.next(), words.next(), words.next());
        match (
            value.and_then(|v| v.parse::<f64>().ok()),
            step.map(str::parse::<f64>),
        ) {
            (Some(v), Some(Ok(s))) => points.push((s, v)),
            // Old MLflow files have no step: the line number stands in.
            (Some(v), None) => points.push((i as f64, v)),
            _ => {
                bad.get_or_insert(i + 1);
            }
        }
    }
    if let Some(n) = bad {
        m.errors.push(format!(
            "{rel}: line {n}: expected `<timestamp> <value> <step>`"
        ));
    }
    if !points.is_empty() {
        m.series.push(Series::new(
            key.to_string(),
            "step".into(),
            points,
            rel.into(),
        ));
    }
}

fn text(run: BorrowedFd, rel: &str, out: &mut ToolFacts) -> Option<String> {
    match read_rel(run, rel) {
        Ok(Some(b)) => Some(String::from_utf8_lossy(&b).trim().to_string()),
        Ok(None) => None,
        Err(e) => {
            out.errors.push(e);
            None
        }
    }
}

/// Reads `meta.yaml`, `tags/` and `params/` into `out`.
pub(super) fn read(run: BorrowedFd, place: &Place, configs: bool, out: &mut ToolFacts) {
    let meta = join(&place.dir, "meta.yaml");
    match read_rel(run, &meta).and_then(|b| b.map(|b| parse_yaml(&b, &meta)).transpose()) {
        Ok(Some(v)) => out.facts.extend(meta_facts(&v, &meta)),
        Ok(None) => {}
        Err(e) => out.errors.push(e),
    }
    let mut params = Map::new();
    for rel in &place.files {
        if let Some(key) = key_of(place, rel, "tags") {
            let fact = match key {
                "mlflow.runName" => "name",
                "mlflow.source.git.commit" => "git_commit",
                "mlflow.source.name" => "source",
                "mlflow.user" => "user",
                _ => continue,
            };
            if let Some(v) = text(run, rel, out) {
                out.facts.push(Fact::new(fact, v, rel));
            }
        } else if configs
            && let Some(key) = key_of(place, rel, "params")
            && let Some(v) = text(run, rel, out)
        {
            params.insert(key.to_string(), Value::String(v));
        }
    }
    if !params.is_empty() {
        out.configs.push(Config {
            file: join(&place.dir, "params"),
            value: Value::Object(params),
        });
    }
}

/// The facts of a run's `meta.yaml`.
pub fn meta_facts(v: &Value, rel: &str) -> Vec<Fact> {
    let mut out = Vec::new();
    if let Some(name) = v["run_name"].as_str().filter(|s| !s.is_empty()) {
        out.push(Fact::new("name", name, rel));
    }
    if let Some(word) = v["status"].as_i64().and_then(status_word) {
        out.push(Fact::new("status", word, rel));
    }
    for (key, field) in [("started_at", "start_time"), ("finished_at", "end_time")] {
        if let Some(t) = v[field].as_i64().and_then(time_of_ms) {
            out.push(Fact::new(key, t, rel));
        }
    }
    if let Some(stage) = v["lifecycle_stage"].as_str() {
        out.push(Fact::new("lifecycle_stage", stage, rel));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_lines_and_meta() {
        let mut m = Metrics::default();
        parse_metric(
            "1700000000000 0.5 0\n1700000001000 0.25 10\n1700000002000 nan 20\n",
            "val/loss",
            "mlruns/0/r/metrics/val/loss",
            &mut m,
        );
        let s = &m.series[0];
        assert_eq!(s.name, "val/loss");
        assert_eq!(s.points[1], (10.0, 0.25));
        assert_eq!(s.stats.non_finite, 1);
        assert!(m.errors.is_empty());
        parse_metric("garbage\n", "x", "f", &mut m);
        assert_eq!(m.errors.len(), 1);
        let v = parse_yaml(
            b"run_name: bold-fox\nstatus: 4\nstart_time: 1700000000000\nend_time: null\nlifecycle_stage: active\n",
            "meta.yaml",
        )
        .unwrap();
        let f = meta_facts(&v, "meta.yaml");
        assert!(f.iter().any(|f| f.key == "status" && f.value == "failed"));
        assert!(
            f.iter()
                .any(|f| f.key == "started_at" && f.value == "2023-11-14T22:13:20Z")
        );
        assert!(!f.iter().any(|f| f.key == "finished_at"));
    }
}
