//! Readers for one run's files. Every reader is forgiving: a malformed file
//! becomes a message on the run, and everything else still loads.

pub mod cache;
mod curve;
pub mod files;
pub mod formats;
pub mod info;
pub mod logs;
pub mod metrics;
pub mod open;
mod stream;
pub mod summary;

use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use serde::Serialize;

pub use files::{Checkpoint, Config, FileItem};
pub use info::{RunInfo, Status};
pub use metrics::{Metrics, MetricsReader, ReadStats, Scalar, Series};
pub use stream::Caps;
pub use summary::{Better, KeySpec, KeyValue, SeriesSummary, Stats};

/// Reads a small file of a run (`run_info.json`, a config, the README):
/// `Ok(None)` when it does not exist. Only a regular file is read, never
/// through a link, and at most [`open::METADATA_CAP`] bytes of it.
pub(crate) fn read_small(path: &Path) -> Result<Option<Vec<u8>>, String> {
    open::read_regular(path, open::METADATA_CAP)
}

/// [`read_small`] of the file `name` in the run folder open as `dir`.
pub(crate) fn read_small_in(
    dir: std::os::fd::BorrowedFd,
    name: &str,
) -> Result<Option<Vec<u8>>, String> {
    let Some((file, st)) = open::open_file_in(dir, std::ffi::OsStr::new(name), name)? else {
        return Ok(None);
    };
    open::read_capped(file, &st, open::METADATA_CAP, name).map(Some)
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
    /// Every scalar metric from `metrics/`.
    #[serde(skip)]
    pub scalars: Vec<Scalar>,
    /// Every curve from `metrics/`, without its points: last, best, NaN count.
    #[serde(skip)]
    pub series: Vec<SeriesSummary>,
    /// Problems reading the files above.
    pub errors: Vec<String>,
}

impl RunSummary {
    /// Reads `run_info.json` and the small metric files of a run.
    pub fn load(run: &Path) -> RunSummary {
        match open::open_dir(run) {
            Ok(Some(dir)) => {
                let found = formats::discover_in(dir.as_fd());
                RunSummary::load_in(run, dir.as_fd(), found)
            }
            Ok(None) => RunSummary::default(),
            Err(e) => RunSummary {
                errors: vec![e],
                ..RunSummary::default()
            },
        }
    }

    /// [`RunSummary::load`] in the run folder open as `dir` (every reader
    /// goes through it: the path is walked once), its tool folders found.
    pub fn load_in(run: &Path, dir: BorrowedFd, found: formats::Found) -> RunSummary {
        let mut s = RunSummary::default();
        match RunInfo::load_in(dir) {
            Ok(info) => s.info = info,
            Err(e) => s.errors.push(e),
        }
        // Every file, curves included (their last and best are what most
        // runs are judged by), but no points kept: the stats are exact
        // whatever the curve keeps.
        let caps = Caps {
            buckets: 2,
            ..Caps::default()
        };
        let metrics = MetricsReader::with_caps(caps).read_in(dir, false, found);
        s.errors.extend(metrics.errors);
        // Other tools' facts (status, commit, times) fill what the run's
        // own run_info.json lacks; their configs are not needed here.
        let tools = formats::facts(run, &metrics.found, false);
        formats::fill_info(&mut s.info, &tools.facts);
        s.errors.extend(metrics.found.errors.iter().cloned());
        s.errors.extend(tools.errors);
        // A broken config is worth a mark in listings, not only in `show`.
        if let Err(e) = Config::load_in(dir) {
            s.errors.push(e);
        }
        s.series = summarize(&metrics.series);
        s.key_metrics = key_metrics(s.info.as_ref(), &metrics.scalars, &s.series);
        s.scalars = metrics.scalars;
        s
    }

    /// The value of a metric by name: key metrics first, then scalars,
    /// then a curve's last value.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.key_metrics
            .iter()
            .chain(&self.scalars)
            .find(|s| s.name == name)
            .map(|s| s.value)
            .or_else(|| {
                self.series
                    .iter()
                    .find(|s| s.name == name)?
                    .stats
                    .last
                    .map(|p| p.1)
            })
    }

    /// A metric's reading (value, best point, divergence), judged `better`
    /// when the config says, else by its name.
    pub fn reading(&self, name: &str, better: Option<Better>) -> Option<KeyValue> {
        // Drawn for every visible row: looked up in place, nothing cloned.
        summary::reading(
            name,
            better,
            self.key_metrics.iter().chain(&self.scalars),
            &self.series,
        )
    }

    /// The run's key metric: `spec` names it (the config, for the run's
    /// task), else the first of [`RunSummary::key_metrics`].
    pub fn key_metric(&self, spec: &KeySpec) -> Option<KeyValue> {
        match &spec.name {
            Some(name) => self.reading(name, spec.better),
            None => self.reading(&self.key_metrics.first()?.name, None),
        }
    }

    /// The value of the run's key metric and which way it improves: what
    /// [`RunSummary::key_metric`] reads, without building the reading
    /// (sorting and ranking ask it of every run).
    pub fn key_value(&self, spec: &KeySpec) -> Option<(f64, Option<Better>)> {
        let name = self.key_metric_name(spec)?;
        let value = self.reading_value(name)?;
        Some((value, spec.better.or_else(|| summary::direction_of(name))))
    }

    /// The value [`RunSummary::reading`] gives `name` (a curve's last
    /// value before a scalar's), without the rest of the reading.
    pub fn reading_value(&self, name: &str) -> Option<f64> {
        summary::value_of(
            name,
            self.key_metrics.iter().chain(&self.scalars),
            &self.series,
        )
    }

    /// The name of the run's key metric as [`RunSummary::key_metric`] picks
    /// it (which way it improves is `spec`'s, else the name's), without
    /// building its reading: the roll-ups ask it of every run.
    pub fn key_metric_name<'a>(&'a self, spec: &'a KeySpec) -> Option<&'a str> {
        let name = match &spec.name {
            Some(name) => name.as_str(),
            None => self.key_metrics.first()?.name.as_str(),
        };
        // As `summary::reading` looks: a curve of that name first (which
        // has no reading without a last point), else a scalar.
        let found = match self.series.iter().find(|s| s.name == name) {
            Some(s) => s.stats.last.is_some(),
            None => self
                .key_metrics
                .iter()
                .chain(&self.scalars)
                .any(|s| s.name == name),
        };
        found.then_some(name)
    }

    /// Where the run's key metric went NaN/Inf for good, if it did.
    pub fn diverged_at(&self, spec: &KeySpec) -> Option<(String, f64)> {
        let k = self.key_metric(spec)?;
        Some((k.x.unwrap_or_default(), k.diverged_at?))
    }

    /// Every metric name this run has: key metrics, scalars, curves
    /// (bookkeeping left out), each once, in that order.
    pub fn metric_names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let names = self
            .key_metrics
            .iter()
            .map(|s| s.name.as_str())
            .chain(self.scalars.iter().map(|s| s.name.as_str()))
            .chain(self.series.iter().map(|s| s.name.as_str()));
        for n in names {
            if !summary::is_bookkeeping(n) && !out.contains(&n) {
                out.push(n);
            }
        }
        out
    }

    /// The status the run wrote, combined with whether it is active.
    pub fn status(&self, active: bool) -> Status {
        Status::of(self.info.as_ref().and_then(|i| i.status.as_deref()), active)
    }
}

/// Picks a run's key metrics (see [`summary::key_metrics`]): what
/// `run_info.json` names, else results from scalars and curves, validation
/// first.
pub fn key_metrics(
    info: Option<&RunInfo>,
    scalars: &[Scalar],
    series: &[SeriesSummary],
) -> Vec<Scalar> {
    let named = info.map(|i| i.metrics.as_slice()).unwrap_or_default();
    summary::key_metrics(named, scalars, series)
}

/// Summaries of curves, the same name from two files told apart by its
/// file (`val_loss [lightning.csv]`).
pub fn summarize(series: &[Series]) -> Vec<SeriesSummary> {
    let mut out: Vec<SeriesSummary> = Vec::with_capacity(series.len());
    let mut seen = std::collections::HashSet::new();
    for s in series {
        let mut sum = SeriesSummary::of(s);
        if !seen.insert(sum.name.clone()) {
            sum.name = format!("{} [{}]", sum.name, sum.file);
        }
        out.push(sum);
    }
    out
}

/// Everything runyard reads about one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunDetails {
    /// `run_info.json`.
    pub info: Option<RunInfo>,
    /// `config.yaml` / `config.yml` / `config.json`, else another tool's
    /// (Hydra's, Lightning's `hparams.yaml`, MLflow's params, W&B's).
    pub config: Option<Config>,
    /// Hydra's overrides: what the command line changed.
    pub overrides: Option<formats::Overrides>,
    /// Other tools' folders found in the run and the files read there.
    pub tools: Vec<formats::Place>,
    /// The first lines of the run's `README.md`.
    pub readme: Option<String>,
    /// Key metrics (see [`key_metrics`]).
    pub key_metrics: Vec<Scalar>,
    /// Every metric file.
    pub metrics: Metrics,
    /// The curves' summaries (last, best, NaN count), names made unique.
    pub series: Vec<SeriesSummary>,
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
        let found = std::mem::take(&mut d.metrics.found);
        let tools = formats::facts(run, &found, true);
        formats::fill_info(&mut d.info, &tools.facts);
        if d.config.is_none() {
            d.config = tools.configs.into_iter().next();
        }
        d.overrides = tools.overrides;
        d.errors.extend(found.errors.iter().cloned());
        d.errors.extend(tools.errors);
        // Results before counters and settings (epoch, step, lr-Adam): the
        // first chart is never the epoch staircase.
        d.metrics
            .series
            .sort_by_key(|s| summary::is_bookkeeping(&s.name));
        d.series = summarize(&d.metrics.series);
        d.key_metrics = key_metrics(d.info.as_ref(), &d.metrics.scalars, &d.series);
        // And the key metric's own curve first of all.
        if let Some(first) = d.key_metrics.first()
            && let Some(i) = d.series.iter().position(|s| s.name == first.name)
        {
            let s = d.metrics.series.remove(i);
            d.metrics.series.insert(0, s);
            let s = d.series.remove(i);
            d.series.insert(0, s);
        }
        d.checkpoints = files::checkpoints_in(run, &found.checkpoint_dirs);
        d.plots = files::plots(run);
        d.logs = files::logs(run);
        d.logs
            .extend(tools.logs.iter().filter_map(|rel| files::item_at(run, rel)));
        d.tools = found.places;
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(name: &str, value: f64) -> Scalar {
        Scalar {
            name: name.into(),
            value,
            file: "metrics/m.json".into(),
        }
    }

    fn curve(name: &str, points: &[(f64, f64)]) -> SeriesSummary {
        SeriesSummary {
            name: name.into(),
            file: "m.csv".into(),
            x: "step".into(),
            better: summary::direction_of(name),
            stats: Stats::of(points),
        }
    }

    /// The name the roll-ups count is the one the full reading names, for
    /// configured and unconfigured specs, curves with and without points,
    /// and names found nowhere.
    #[test]
    fn key_metric_name_agrees_with_key_metric() {
        let summaries = [
            RunSummary::default(),
            RunSummary {
                key_metrics: vec![scalar("val/acc", 0.5)],
                scalars: vec![scalar("test/wer", 0.2)],
                ..RunSummary::default()
            },
            RunSummary {
                // A key metric whose curve has no point: no reading at all.
                key_metrics: vec![scalar("val/loss", 0.3)],
                series: vec![curve("val/loss", &[]), curve("train/loss", &[(1.0, 2.0)])],
                ..RunSummary::default()
            },
            RunSummary {
                key_metrics: vec![scalar("val/bleu", 30.0)],
                series: vec![curve("val/bleu", &[(1.0, 20.0), (2.0, f64::NAN)])],
                ..RunSummary::default()
            },
        ];
        let specs = [
            KeySpec::default(),
            KeySpec {
                name: Some("train/loss".into()),
                better: Some(Better::Lower),
            },
            KeySpec {
                name: Some("test/wer".into()),
                better: None,
            },
            KeySpec {
                name: Some("val/loss".into()),
                better: Some(Better::Higher),
            },
            KeySpec {
                name: Some("absent".into()),
                better: None,
            },
        ];
        let mut found = 0;
        for s in &summaries {
            for spec in &specs {
                let full = s.key_metric(spec).map(|k| k.name);
                assert_eq!(s.key_metric_name(spec), full.as_deref(), "{spec:?} {s:?}");
                found += usize::from(full.is_some());
            }
        }
        // Both answers occur: the cases are not all misses.
        assert!(
            found >= 4 && found < summaries.len() * specs.len(),
            "{found}"
        );
    }
}
