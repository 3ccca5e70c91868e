//! Readers for one run's files. Every reader is forgiving: a malformed file
//! becomes a message on the run, and everything else still loads.

mod curve;
pub mod files;
pub mod info;
pub mod metrics;
pub mod open;
mod stream;

use std::path::Path;

use serde::Serialize;

pub use files::{Checkpoint, Config, FileItem};
pub use info::{RunInfo, Status};
pub use metrics::{Metrics, MetricsReader, ReadStats, Scalar, Series};
pub use stream::Caps;

/// Reads a small file of a run (`run_info.json`, a config, the README):
/// `Ok(None)` when it does not exist. Only a regular file is read, never
/// through a link, and at most [`open::METADATA_CAP`] bytes of it.
pub(crate) fn read_small(path: &Path) -> Result<Option<Vec<u8>>, String> {
    open::read_regular(path, open::METADATA_CAP)
}

/// JSON as Python's `json.dump` writes it by default: bare `NaN`,
/// `Infinity` and `-Infinity` outside strings become the strings `"NaN"`...,
/// which the metric readers take as numbers. Everything else is untouched.
pub(crate) fn relax_json(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("NaN") && !text.contains("Infinity") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let (mut in_string, mut escaped) = (false, false);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let token = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|t| rest.starts_with(t));
        match token {
            Some(t) => {
                out.push('"');
                out.push_str(t);
                out.push('"');
                rest = &rest[t.len()..];
            }
            None => {
                in_string = c == '"';
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A JSON value as a number: numbers, and the strings `NaN`, `Infinity`,
/// `-Infinity` that [`relax_json`] makes.
pub(crate) fn json_number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") => {
            s.parse().ok()
        }
        _ => None,
    }
}

/// What a listing needs of a run: its info and key metrics.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSummary {
    /// `run_info.json`, when present and readable.
    pub info: Option<RunInfo>,
    /// Key metrics: `run_info.json` metrics first, else validation scalars,
    /// else every scalar.
    pub key_metrics: Vec<Scalar>,
    /// Every scalar metric from `metrics/` (small files only).
    #[serde(skip)]
    pub scalars: Vec<Scalar>,
    /// Problems reading the files above.
    pub errors: Vec<String>,
}

impl RunSummary {
    /// Reads `run_info.json` and the small metric files of a run.
    pub fn load(run: &Path) -> RunSummary {
        let mut s = RunSummary::default();
        match RunInfo::load(run) {
            Ok(info) => s.info = info,
            Err(e) => s.errors.push(e),
        }
        let metrics = Metrics::load(run, true);
        s.errors.extend(metrics.errors);
        // A broken config is worth a mark in listings, not only in `show`.
        if let Err(e) = Config::load(run) {
            s.errors.push(e);
        }
        s.key_metrics = key_metrics(s.info.as_ref(), &metrics.scalars);
        s.scalars = metrics.scalars;
        s
    }

    /// The value of a metric by name: key metrics first, then scalars.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.key_metrics
            .iter()
            .chain(&self.scalars)
            .find(|s| s.name == name)
            .map(|s| s.value)
    }

    /// The status the run wrote, combined with whether it is active.
    pub fn status(&self, active: bool) -> Status {
        Status::of(self.info.as_ref().and_then(|i| i.status.as_deref()), active)
    }
}

/// Picks a run's key metrics: what `run_info.json` names, else the scalars
/// of the validation split, else of the test split, else the first few.
pub fn key_metrics(info: Option<&RunInfo>, scalars: &[Scalar]) -> Vec<Scalar> {
    if let Some(info) = info
        && !info.metrics.is_empty()
    {
        return info.metrics.clone();
    }
    // Settings and counters (lr, epoch, samples) are not what a run is judged by.
    let measured = |s: &&Scalar| !is_setting(&s.name);
    for split in ["val/", "valid/", "validation/", "eval/", "test/"] {
        let picked: Vec<Scalar> = scalars
            .iter()
            .filter(|s| s.name.starts_with(split))
            .filter(measured)
            .take(4)
            .cloned()
            .collect();
        if !picked.is_empty() {
            return picked;
        }
    }
    scalars.iter().filter(measured).take(4).cloned().collect()
}

/// Names that are settings or counters rather than results.
fn is_setting(name: &str) -> bool {
    let leaf = name
        .rsplit(['/', '.'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    [
        "lr",
        "learning_rate",
        "epoch",
        "epochs",
        "step",
        "steps",
        "global_step",
        "iteration",
        "iter",
        "batch",
        "batch_size",
        "samples",
        "num_samples",
        "n",
        "count",
        "seed",
        "time",
        "runtime",
        "duration",
        "timestamp",
        "weight_decay",
        "momentum",
    ]
    .contains(&leaf.as_str())
}

/// Everything runyard reads about one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunDetails {
    /// `run_info.json`.
    pub info: Option<RunInfo>,
    /// `config.yaml` / `config.yml` / `config.json`.
    pub config: Option<Config>,
    /// The first lines of the run's `README.md`.
    pub readme: Option<String>,
    /// Key metrics (see [`key_metrics`]).
    pub key_metrics: Vec<Scalar>,
    /// Every metric file.
    pub metrics: Metrics,
    /// `checkpoints/`, parsed.
    pub checkpoints: Vec<Checkpoint>,
    /// Images under `plots/`.
    pub plots: Vec<FileItem>,
    /// Files under `logs/`.
    pub logs: Vec<FileItem>,
    /// Every problem met reading the above, one line each.
    pub errors: Vec<String>,
}

impl RunDetails {
    /// Reads everything about one run.
    pub fn load(run: &Path) -> RunDetails {
        RunDetails::load_with(run, &mut MetricsReader::default())
    }

    /// Reads everything about one run, its metrics through `metrics` (which
    /// continues from its last read of this run: see [`MetricsReader`]).
    pub fn load_with(run: &Path, metrics: &mut MetricsReader) -> RunDetails {
        let mut d = RunDetails::default();
        match RunInfo::load(run) {
            Ok(info) => d.info = info,
            Err(e) => d.errors.push(e),
        }
        match Config::load(run) {
            Ok(c) => d.config = c,
            Err(e) => d.errors.push(e),
        }
        match read_small(&run.join("README.md")) {
            Ok(Some(b)) => {
                let text = String::from_utf8_lossy(&b);
                let head: Vec<&str> = text.lines().take(20).collect();
                d.readme = Some(head.join("\n"));
            }
            Ok(None) => {}
            Err(e) => d.errors.push(e),
        }
        d.metrics = metrics.read(run, false);
        d.errors.extend(d.metrics.errors.iter().cloned());
        d.key_metrics = key_metrics(d.info.as_ref(), &d.metrics.scalars);
        d.checkpoints = files::checkpoints(run);
        d.plots = files::plots(run);
        d.logs = files::logs(run);
        d
    }
}
