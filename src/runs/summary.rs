//! The rules for judging runs, shared by every listing, pane and plan:
//! which way a metric improves, which names are bookkeeping rather than
//! results, what a curve's last and best values are and where the best
//! was, when a run diverged, and which metrics are a run's key metrics.

use serde::{Deserialize, Serialize};

use super::metrics::{Scalar, Series};

/// Which way a metric improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// Smaller is better (losses, errors).
    Lower,
    /// Larger is better (accuracy, AUC, reward).
    Higher,
}

impl Better {
    /// True when `a` is better than `b` this way.
    pub fn prefers(self, a: f64, b: f64) -> bool {
        match self {
            Better::Lower => a < b,
            Better::Higher => a > b,
        }
    }

    /// From the config's `lower_is_better`.
    pub fn from_lower(lower: bool) -> Better {
        if lower { Better::Lower } else { Better::Higher }
    }
}

/// Words in a metric's name that say smaller is better.
const LOWER: &[&str] = &[
    "loss",
    "losses",
    "err",
    "error",
    "errors",
    "rmse",
    "mae",
    "mse",
    "nll",
    "perplexity",
    "ppl",
    "cer",
    "wer",
    "logloss",
    "latency",
];

/// Words in a metric's name that say larger is better.
const HIGHER: &[&str] = &[
    "acc",
    "accuracy",
    "auc",
    "auroc",
    "f1",
    "precision",
    "recall",
    "reward",
    "return",
    "map",
    "iou",
    "miou",
    "bleu",
    "rouge",
    "dice",
    "top1",
    "top5",
];

/// The words of a name, lower-case: split at `/ . _ - :` and spaces, and
/// between a lower-case letter and an upper-case one (`valAcc`).
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Which way a metric improves, from its name (the last word that says so
/// decides: `top1_error` is an error), else `None`: no "best" is claimed
/// for a name that does not tell.
pub fn direction_of(name: &str) -> Option<Better> {
    // The last segment whole as a word too: `mAP50` is not `m` + `ap50`.
    let leaf = name
        .rsplit(['/', '.', '_', '-'])
        .next()
        .unwrap_or(name)
        .to_lowercase();
    let mut all = words(name);
    all.push(leaf);
    for w in all.iter().rev() {
        // `acc1`, `map50`: the digits qualify the word (but `f1` is one).
        let bare = w.trim_end_matches(|c: char| c.is_ascii_digit());
        for w in [w.as_str(), bare] {
            if LOWER.contains(&w) {
                return Some(Better::Lower);
            }
            if HIGHER.contains(&w) {
                return Some(Better::Higher);
            }
        }
    }
    None
}

/// Names that are counters, clocks or optimiser settings logged beside the
/// metrics: x axes and run facts, never metrics, key metrics or default
/// charts (`epoch`, `step`, `trainer/global_step`, `lr-Adam`, W&B's
/// `_step`, `_runtime`, `_timestamp`, time columns).
pub fn is_bookkeeping(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let leaf = lower.rsplit('/').next().unwrap_or(&lower);
    if leaf.starts_with('_') {
        // W&B's own keys: _step, _runtime, _timestamp, _wandb...
        return true;
    }
    // Lightning's LearningRateMonitor: `lr-Adam`, `lr-SGD/pg1` (the leaf
    // after a `/` is the param group).
    if leaf.starts_with("lr-") || lower.starts_with("lr-") || lower.contains("/lr-") {
        return true;
    }
    [
        "epoch",
        "epochs",
        "step",
        "steps",
        "global_step",
        "iteration",
        "iter",
        "batch",
        "batch_idx",
        "lr",
        "learning_rate",
        "time",
        "timestamp",
        "wall_time",
        "walltime",
        "runtime",
        "elapsed",
        "elapsed_time",
        "datetime",
        "date",
    ]
    .contains(&leaf)
}

/// Names that are settings or counts rather than results (kept out of key
/// metrics, though they may still be listed).
pub fn is_setting(name: &str) -> bool {
    if is_bookkeeping(name) {
        return true;
    }
    let leaf = name
        .rsplit(['/', '.'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    [
        "batch_size",
        "samples",
        "num_samples",
        "n",
        "count",
        "seed",
        "duration",
        "weight_decay",
        "momentum",
    ]
    .contains(&leaf.as_str())
}

/// The split a name already carries (`val_loss`, `val/acc`, `loss_val`,
/// `test_acc`), if any.
pub fn split_of(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split(['/', '_', '-', '.']).collect();
    let (first, last) = (parts.first()?, parts.last()?);
    let splits: [(&[&str], &'static str); 4] = [
        (&["val", "valid", "validation", "dev"], "val"),
        (&["test"], "test"),
        (&["train", "training"], "train"),
        (&["eval", "evaluation"], "eval"),
    ];
    splits.iter().find_map(|(words, split)| {
        (parts.len() > 1 && (words.contains(first) || words.contains(last))).then_some(*split)
    })
}

/// True when a name says where it comes from already: a split
/// (`val_loss`, `val/acc`, `train_loss`) or Lightning's `_step`/`_epoch`
/// suffixes. Such a name is kept as written, never prefixed again with its
/// file's split.
pub fn carries_split(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.contains('/')
        || split_of(name).is_some()
        || lower.ends_with("_step")
        || lower.ends_with("_epoch")
}

/// Facts of a curve over every point in its file, whatever was kept for
/// drawing: the last point, the lowest and highest finite points (the
/// first where values tie), how many values were NaN or infinite, and
/// where a trailing run of them began.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Points in the file.
    pub points: u64,
    /// Values that were NaN or infinite.
    pub non_finite: u64,
    /// The last point (x, y), as written (may be NaN).
    pub last: Option<(f64, f64)>,
    /// The last finite point.
    pub last_finite: Option<(f64, f64)>,
    /// The lowest finite point.
    pub min: Option<(f64, f64)>,
    /// The highest finite point.
    pub max: Option<(f64, f64)>,
    /// Where the values became NaN or infinite for good (the curve ends
    /// that way), if they did.
    pub bad_since: Option<f64>,
}

impl Stats {
    /// Adds the next point.
    pub fn push(&mut self, (x, y): (f64, f64)) {
        self.points += 1;
        self.last = Some((x, y));
        if !y.is_finite() {
            self.non_finite += 1;
            self.bad_since.get_or_insert(x);
            return;
        }
        self.bad_since = None;
        self.last_finite = Some((x, y));
        if self.min.is_none_or(|m| y < m.1) {
            self.min = Some((x, y));
        }
        if self.max.is_none_or(|m| y > m.1) {
            self.max = Some((x, y));
        }
    }

    /// The facts of a list of points.
    pub fn of(points: &[(f64, f64)]) -> Stats {
        let mut s = Stats::default();
        for p in points {
            s.push(*p);
        }
        s
    }

    /// The best finite point, the way `better` says.
    pub fn best(&self, better: Better) -> Option<(f64, f64)> {
        match better {
            Better::Lower => self.min,
            Better::Higher => self.max,
        }
    }

    /// Where the curve diverged: it ends in NaN or infinity, after at least
    /// one finite value (a column that is all NaN was never a curve).
    pub fn diverged_at(&self) -> Option<f64> {
        self.last_finite.and(self.bad_since)
    }
}

/// What a listing knows of one curve, without its points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesSummary {
    /// The name as the user wrote it (with the file's split when the
    /// column did not carry one).
    pub name: String,
    /// The file it came from, relative to the run's `metrics/`.
    pub file: String,
    /// What x counts: `step`, `epoch`, ...
    pub x: String,
    /// Which way it improves, from its name (the config may say otherwise).
    pub better: Option<Better>,
    /// The facts of the curve.
    pub stats: Stats,
}

impl SeriesSummary {
    /// The summary of a curve.
    pub fn of(s: &Series) -> SeriesSummary {
        SeriesSummary {
            name: s.name.clone(),
            file: s.file.clone(),
            x: s.x.clone(),
            better: direction_of(&s.name),
            stats: s.stats,
        }
    }

    /// The best point, judged `better` (else by the name's direction).
    pub fn best(&self, better: Option<Better>) -> Option<(f64, f64)> {
        self.stats.best(better.or(self.better)?)
    }
}

/// How a key metric is chosen for a run: named (by the config, for its
/// task), or by the rules of [`key_metrics`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeySpec {
    /// The metric's name, matched against scalars and curves.
    pub name: Option<String>,
    /// Which way it improves, when the config says.
    pub better: Option<Better>,
}

impl KeySpec {
    /// The spec of a task's key metric from the config's `[metrics]`
    /// (none configured: the run's own rules).
    pub fn for_task(
        configured: &std::collections::BTreeMap<String, crate::config::KeyMetric>,
        task: &str,
    ) -> KeySpec {
        match configured.get(task) {
            Some(km) => KeySpec {
                name: Some(km.name.clone()),
                better: Some(Better::from_lower(km.lower_is_better)),
            },
            None => KeySpec::default(),
        }
    }
}

/// One key metric's reading: its value (a scalar, or a curve's last value)
/// and, for a curve, its best point and whether it diverged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyValue {
    /// The metric's name.
    pub name: String,
    /// Its value: the scalar, or the curve's last value.
    pub value: f64,
    /// Which way it improves, if known.
    pub better: Option<Better>,
    /// A curve's best point (x, y), by `better`.
    pub best: Option<(f64, f64)>,
    /// What the curve's x counts.
    pub x: Option<String>,
    /// A curve that ends in NaN/Inf: the x where it went bad.
    pub diverged_at: Option<f64>,
}

/// The rank of a metric name among key-metric candidates: validation
/// first, then test, then the rest.
fn split_rank(name: &str) -> u8 {
    match split_of(name) {
        Some("val") => 0,
        Some("eval") => 1,
        Some("test") => 2,
        None => 3,
        Some(_) => 4,
    }
}

/// Picks a run's key metrics: what `run_info.json` names, else up to four
/// results (not bookkeeping or settings), validation first (`val`/`valid`
/// /`validation` as prefix or suffix), then evaluation and test, then the
/// rest; scalars before curves of the same rank, each in file order. A
/// curve counts with its last value.
pub fn key_metrics(named: &[Scalar], scalars: &[Scalar], series: &[SeriesSummary]) -> Vec<Scalar> {
    if !named.is_empty() {
        return named.to_vec();
    }
    let mut candidates: Vec<(u8, u8, usize, Scalar)> = Vec::new();
    for (i, s) in scalars.iter().enumerate() {
        if !is_setting(&s.name) {
            candidates.push((split_rank(&s.name), 0, i, s.clone()));
        }
    }
    for (i, s) in series.iter().enumerate() {
        // A column that never held a number (all NaN) is not a result.
        if is_setting(&s.name)
            || s.stats.last_finite.is_none()
            || candidates.iter().any(|c| c.3.name == s.name)
        {
            continue;
        }
        let Some(value) = s.stats.last.map(|p| p.1) else {
            continue;
        };
        candidates.push((
            split_rank(&s.name),
            1,
            i,
            Scalar {
                name: s.name.clone(),
                value,
                file: s.file.clone(),
            },
        ));
    }
    candidates.sort_by_key(|c| (c.0, c.1, c.2));
    candidates.into_iter().take(4).map(|c| c.3).collect()
}

/// The value [`reading`] gives `name`: a curve's last value, else a
/// scalar's.
pub fn value_of<'a>(
    name: &str,
    scalars: impl IntoIterator<Item = &'a Scalar>,
    series: &[SeriesSummary],
) -> Option<f64> {
    match series.iter().find(|s| s.name == name) {
        Some(s) => s.stats.last.map(|p| p.1),
        None => scalars
            .into_iter()
            .find(|s| s.name == name)
            .map(|s| s.value),
    }
}

/// Reads one metric of a run by name: a scalar's value, or a curve's last
/// value with its best point and divergence. `better` overrides the
/// direction the name suggests.
pub fn reading<'a>(
    name: &str,
    better: Option<Better>,
    scalars: impl IntoIterator<Item = &'a Scalar>,
    series: &[SeriesSummary],
) -> Option<KeyValue> {
    let better = better.or_else(|| direction_of(name));
    if let Some(s) = series.iter().find(|s| s.name == name) {
        return Some(KeyValue {
            name: name.to_string(),
            value: s.stats.last?.1,
            better,
            best: better.and_then(|b| s.stats.best(b)),
            x: Some(s.x.clone()),
            diverged_at: s.stats.diverged_at(),
        });
    }
    scalars
        .into_iter()
        .find(|s| s.name == name)
        .map(|s| KeyValue {
            name: name.to_string(),
            value: s.value,
            better,
            best: None,
            x: None,
            diverged_at: None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_comes_from_the_words_of_the_name() {
        for n in [
            "val_loss",
            "train/loss",
            "top1_error",
            "val/cer",
            "wer",
            "nll",
            "val_rmse",
            "ppl",
        ] {
            assert_eq!(direction_of(n), Some(Better::Lower), "{n}");
        }
        for n in [
            "val_acc",
            "valAcc",
            "val/accuracy",
            "auc",
            "f1",
            "mAP50",
            "episode_reward",
            "bleu",
            "val/iou",
            "acc1",
        ] {
            assert_eq!(direction_of(n), Some(Better::Higher), "{n}");
        }
        for n in ["grad_norm", "lower", "tokens", "val/score", "bitmap"] {
            assert_eq!(direction_of(n), None, "{n}");
        }
    }

    #[test]
    fn bookkeeping_is_never_a_metric() {
        for n in [
            "epoch",
            "step",
            "global_step",
            "trainer/global_step",
            "lr-Adam",
            "lr-AdamW/pg1",
            "_step",
            "_runtime",
            "_timestamp",
            "time",
            "train/lr",
        ] {
            assert!(is_bookkeeping(n), "{n}");
        }
        for n in [
            "val_loss",
            "train_loss_step",
            "step_time_ms",
            "lr_finder_loss",
        ] {
            assert!(!is_bookkeeping(n), "{n}");
        }
    }

    #[test]
    fn names_that_carry_a_split_keep_it() {
        for n in [
            "val_loss",
            "val/acc",
            "train_loss",
            "test_acc",
            "loss_val",
            "acc/valid",
        ] {
            assert!(carries_split(n), "{n}");
        }
        assert!(carries_split("loss_epoch") && carries_split("loss_step"));
        for n in ["loss", "acc", "cer", "value"] {
            assert!(!carries_split(n), "{n}");
        }
        assert_eq!(split_of("loss_val"), Some("val"));
        assert_eq!(split_of("validation/f1"), Some("val"));
    }

    #[test]
    fn stats_are_exact_with_nan_and_spikes() {
        // A loss that blew up to 1.6e24, then NaN for the rest.
        let mut pts = vec![(0.0, 2.0), (1.0, 1.0), (2.0, 1.6e24)];
        pts.extend((3..320).map(|i| (i as f64, f64::NAN)));
        let s = Stats::of(&pts);
        assert_eq!(s.points, 320);
        assert_eq!(s.non_finite, 317);
        assert_eq!(s.best(Better::Lower), Some((1.0, 1.0)));
        assert_eq!(s.last_finite, Some((2.0, 1.6e24)));
        assert_eq!(s.diverged_at(), Some(3.0));
        // NaN in the middle, then recovered: not diverged.
        let s = Stats::of(&[(0.0, 1.0), (1.0, f64::NAN), (2.0, 0.5)]);
        assert_eq!(s.diverged_at(), None);
        assert_eq!(s.non_finite, 1);
        // All NaN: no best, and not "diverged" (it never was a curve).
        let s = Stats::of(&[(0.0, f64::NAN), (1.0, f64::NAN)]);
        assert_eq!((s.best(Better::Lower), s.diverged_at()), (None, None));
        // Infinity counts as bad too.
        let s = Stats::of(&[(0.0, 1.0), (5.0, f64::INFINITY)]);
        assert_eq!(s.diverged_at(), Some(5.0));
    }

    #[test]
    fn key_metrics_prefer_validation_and_skip_bookkeeping() {
        let curve = |name: &str, pts: &[(f64, f64)]| SeriesSummary {
            name: name.into(),
            file: "metrics.csv".into(),
            x: "step".into(),
            better: direction_of(name),
            stats: Stats::of(pts),
        };
        let series = vec![
            curve("epoch", &[(0.0, 0.0), (10.0, 1.0)]),
            curve("lr-Adam", &[(0.0, 0.1)]),
            curve("train_loss", &[(0.0, 2.0), (10.0, 1.0)]),
            curve("val_loss", &[(9.0, 1.5), (19.0, 1.2), (29.0, 1.3)]),
            curve("val_acc", &[(9.0, 0.5), (19.0, 0.7)]),
        ];
        let keys = key_metrics(&[], &[], &series);
        let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["val_loss", "val_acc", "train_loss"]);
        assert_eq!(keys[0].value, 1.3);
        let r = reading("val_loss", None, &[], &series).unwrap();
        assert_eq!(r.best, Some((19.0, 1.2)));
        assert_eq!(r.better, Some(Better::Lower));
        // The config says otherwise: the best follows it.
        let r = reading("val_loss", Some(Better::Higher), &[], &series).unwrap();
        assert_eq!(r.best, Some((9.0, 1.5)));
        // No direction known: no best claimed.
        assert_eq!(
            reading("epoch", None, &[], &series).unwrap().best,
            None,
            "epoch has no direction"
        );
    }
}
