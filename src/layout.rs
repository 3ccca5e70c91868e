//! The outputs/ convention as pure functions: finding the root, run ids,
//! checkpoint names, which folders are ephemeral, metric file splits.
//!
//! Every rule here is written down in `docs/layout.md`; keep the two in step.

use std::fmt;
use std::path::{Path, PathBuf};

use jiff::civil::DateTime;

/// The folder under the root that holds runs.
pub const EXPERIMENTS: &str = "experiments";
/// runyard's own trash folder at the top level.
pub const TRASH: &str = ".trash";
/// The task name that marks preprocessing experiments.
pub const PREPROC_TASK: &str = "preproc";
/// Minutes since the last write under which a run counts as active.
pub const DEFAULT_ACTIVE_MINUTES: u64 = 10;

/// Why no outputs root could be found.
#[derive(Debug, thiserror::Error)]
pub enum RootError {
    /// The PATH given on the command line does not exist or is not a folder.
    #[error("{0}: no such folder (or not a folder)")]
    NotAFolder(PathBuf),
    /// The PATH given is a folder, but neither an outputs folder nor
    /// another tool's tree; the message says what was looked for.
    #[error(
        "{0}: not an outputs folder nor another tool's tree (looked for, in it or as it: {looked})",
        looked = crate::sources::LOOKED_FOR
    )]
    NotOutputs(PathBuf),
    /// Nothing like `outputs/experiments` was found from the working folder up.
    #[error(
        "no outputs/ folder with experiments/ inside found in {0} or any parent (pass the path: runyard PATH)"
    )]
    NotFound(PathBuf),
}

/// A folder looked at from PATH as the tree's root, resolved once. A link
/// here (`outputs -> /data/outputs`, as when outputs live on a data disk)
/// is the user's own way to put the tree elsewhere, so the root is the
/// folder it points to; everything below the root is opened from it
/// without following links.
fn resolved_dir(p: &Path) -> Option<PathBuf> {
    p.canonicalize().ok().filter(|c| c.is_dir())
}

/// Finds the outputs root (or another tool's tree, see `crate::sources`).
///
/// With `path`: the folder itself when it holds `experiments/`; its
/// `outputs/` child when that holds `experiments/`; the folder itself when
/// it is another tool's tree (or an empty folder named `outputs`); else its
/// `outputs/`, `mlruns/` or `wandb/` child when that is one; anything else
/// is an error that says what was looked for (walking a home folder or `/`
/// by mistake would take minutes). Without: `./outputs`, else the nearest
/// parent that is or holds an `outputs/` with `experiments/` inside, the way
/// git finds `.git`, else the working folder when it is another tool's tree.
pub fn find_root(path: Option<&Path>, cwd: &Path) -> Result<PathBuf, RootError> {
    if let Some(p) = path {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        };
        if !p.is_dir() {
            return Err(RootError::NotAFolder(p));
        }
        // The layout wins wherever experiments/ is found.
        if p.join(EXPERIMENTS).is_dir() {
            return Ok(p);
        }
        if p.join("outputs").join(EXPERIMENTS).is_dir() {
            return Ok(p.join("outputs"));
        }
        if crate::sources::detect_here(&p).is_some() {
            return Ok(p);
        }
        for child in ["outputs", "mlruns", "wandb"] {
            if let Some(c) = resolved_dir(&p.join(child))
                && crate::sources::detect_here(&c).is_some()
            {
                return Ok(c);
            }
        }
        return Err(RootError::NotOutputs(p));
    }
    if let Some(outputs) = resolved_dir(&cwd.join("outputs")) {
        return Ok(outputs);
    }
    for dir in cwd.ancestors() {
        if dir.file_name().is_some_and(|n| n == "outputs") && dir.join(EXPERIMENTS).is_dir() {
            return Ok(dir.to_path_buf());
        }
        if dir.join("outputs").join(EXPERIMENTS).is_dir() {
            return Ok(dir.join("outputs"));
        }
    }
    // Standing in another tool's tree (`cd lightning_logs`): that tree.
    if crate::sources::detect_here(cwd).is_some() {
        return Ok(cwd.to_path_buf());
    }
    Err(RootError::NotFound(cwd.to_path_buf()))
}

/// What a top-level entry of the root is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TopKind {
    /// `experiments/`: the runs.
    Experiments,
    /// `checkpoints/`: long-term checkpoints, never deleted.
    Checkpoints,
    /// `logs/`: global logs, never deleted.
    Logs,
    /// `artifacts/`: promoted datasets, plots and exports.
    Artifacts,
    /// `.trash/`: runs deleted by runyard, restorable.
    Trash,
    /// Anything else: shown, and flagged by `check`.
    Unrecognized,
}

impl TopKind {
    /// Classifies a top-level entry by its name.
    pub fn of(name: &str) -> TopKind {
        match name {
            EXPERIMENTS => TopKind::Experiments,
            "checkpoints" => TopKind::Checkpoints,
            "logs" => TopKind::Logs,
            "artifacts" => TopKind::Artifacts,
            TRASH => TopKind::Trash,
            _ => TopKind::Unrecognized,
        }
    }
}

/// The part of a run a file belongs to, decided by the run's top-level child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunPart {
    /// `tmp/`: ephemeral.
    Tmp,
    /// `cache/`: ephemeral.
    Cache,
    /// `checkpoints/`: persistent, but prunable.
    Checkpoints,
    /// `data/`: run-local derived data, persistent.
    Data,
    /// Everything else (logs, metrics, plots, config, ...): persistent.
    Other,
}

impl RunPart {
    /// Classifies a direct child of a run folder by its name.
    pub fn of(name: &str) -> RunPart {
        match name {
            "tmp" => RunPart::Tmp,
            "cache" => RunPart::Cache,
            "checkpoints" => RunPart::Checkpoints,
            "data" => RunPart::Data,
            _ => RunPart::Other,
        }
    }

    /// True for the folders the convention declares safe to delete.
    pub fn is_ephemeral(self) -> bool {
        matches!(self, RunPart::Tmp | RunPart::Cache)
    }
}

/// A parsed run id: `YYYY-MM-DD_HH-MM-SS[_tag]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RunId {
    /// The local wall-clock time the run id names.
    pub time: DateTime,
    /// The optional tag after the time, e.g. `seed42`.
    pub tag: Option<String>,
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.time.strftime("%Y-%m-%d_%H-%M-%S"))?;
        if let Some(tag) = &self.tag {
            write!(f, "_{tag}")?;
        }
        Ok(())
    }
}

/// Parses a run folder name; `None` when it does not follow the convention.
pub fn parse_run_id(name: &str) -> Option<RunId> {
    let b = name.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let shape = b"dddd-dd-dd_dd-dd-dd";
    for (c, s) in b.iter().zip(shape) {
        let ok = if *s == b'd' {
            c.is_ascii_digit()
        } else {
            c == s
        };
        if !ok {
            return None;
        }
    }
    let num = |r: std::ops::Range<usize>| name[r].parse::<i16>().ok();
    let time = DateTime::new(
        num(0..4)?,
        num(5..7)? as i8,
        num(8..10)? as i8,
        num(11..13)? as i8,
        num(14..16)? as i8,
        num(17..19)? as i8,
        0,
    )
    .ok()?;
    let tag = match &name[19..] {
        "" => None,
        rest => {
            let tag = rest.strip_prefix('_')?;
            let valid = !tag.is_empty()
                && tag
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"._+-".contains(&c));
            if !valid {
                return None;
            }
            Some(tag.to_string())
        }
    };
    Some(RunId { time, tag })
}

/// Builds a run id from a time and an optional tag (tag characters outside
/// `[A-Za-z0-9._+-]` become `-`).
pub fn make_run_id(time: DateTime, tag: Option<&str>) -> String {
    let mut id = time.strftime("%Y-%m-%d_%H-%M-%S").to_string();
    if let Some(tag) = tag.filter(|t| !t.is_empty()) {
        id.push('_');
        id.extend(tag.chars().map(|c| {
            if c.is_ascii_alphanumeric() || "._+-".contains(c) {
                c
            } else {
                '-'
            }
        }));
    }
    id
}

/// Checks a task or model name typed by a user (`new-run`, `mv`): one
/// plain, visible folder name. A leading dot is refused because it hides the
/// folder and would reach runyard's own `.trash`; control characters because
/// they would land in every listing and script that reads the tree.
pub fn check_folder_name(what: &str, name: &str) -> Result<(), String> {
    let why = if name.is_empty() {
        Some("is empty")
    } else if name.contains('/') {
        Some("contains /")
    } else if name.starts_with('.') {
        Some("starts with a dot")
    } else if crate::fmt::escape(name) != name {
        Some("contains a control character")
    } else if name.len() > 255 {
        Some("is longer than 255 bytes")
    } else {
        None
    };
    match why {
        Some(why) => Err(format!(
            "{what} \"{}\" is not a folder name: it {why}",
            crate::fmt::escape(name)
        )),
        None => Ok(()),
    }
}

/// What a checkpoint's name says about it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum CheckpointName {
    /// `best.*`: always kept.
    Best,
    /// `last.*`: always kept.
    Last,
    /// An epoch and/or step checkpoint, with any metric its name carries.
    Progress {
        /// The epoch, when named.
        epoch: Option<u64>,
        /// The step, when named.
        step: Option<u64>,
        /// A metric encoded in the name, e.g. `valAcc0.87`.
        metric: Option<(String, f64)>,
    },
    /// A name the convention does not cover: always kept.
    Unparsed,
}

/// Parses a checkpoint file or folder name.
///
/// Understood: `best.*`, `last.*` (also `last-v1.ckpt`), `epoch03_valAcc0.87.pt`,
/// `epoch_3.pt`, `epoch=3-step=1200.ckpt`, `step_001200.pt`, `ckpt-1200`,
/// `checkpoint-1200` (a Hugging Face folder), `iter_5000.pth`.
pub fn parse_checkpoint(name: &str) -> CheckpointName {
    let stem = strip_checkpoint_ext(name);
    let lower = stem.to_ascii_lowercase();
    for (word, kind) in [
        ("best", CheckpointName::Best),
        ("last", CheckpointName::Last),
    ] {
        if let Some(rest) = lower.strip_prefix(word)
            && rest.chars().next().is_none_or(|c| !c.is_ascii_alphabetic())
        {
            return kind;
        }
    }
    let tokens: Vec<&str> = stem.split(['_', '-']).filter(|s| !s.is_empty()).collect();
    let (mut epoch, mut step, mut metric) = (None, None, None);
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i];
        let word = token.to_ascii_lowercase();
        // `ckpt-1100.data-00000-of-00001`: the number ends at the dot.
        let next_number = tokens
            .get(i + 1)
            .and_then(|n| n.split('.').next()?.parse::<u64>().ok());
        if let Some(n) = keyword_number(&word, EPOCH_WORDS) {
            epoch = epoch.or(Some(n));
        } else if let Some(n) = keyword_number(&word, STEP_WORDS) {
            step = step.or(Some(n));
        } else if let (true, Some(n)) = (EPOCH_WORDS.contains(&word.as_str()), next_number) {
            epoch = epoch.or(Some(n));
            i += 1;
        } else if let (true, Some(n)) = (STEP_WORDS.contains(&word.as_str()), next_number) {
            step = step.or(Some(n));
            i += 1;
        } else if i == 0 {
            // The name must start with its progress; otherwise `model_v2.pt`
            // would read as a checkpoint with a metric.
            return CheckpointName::Unparsed;
        } else if let Some(m) = metric_segment(token) {
            metric = metric.or(Some(m));
        }
        i += 1;
    }
    if epoch.is_none() && step.is_none() {
        return CheckpointName::Unparsed;
    }
    CheckpointName::Progress {
        epoch,
        step,
        metric,
    }
}

/// Words that name an epoch in a checkpoint name.
const EPOCH_WORDS: &[&str] = &["epoch", "ep"];
/// Words that name a step in a checkpoint name.
const STEP_WORDS: &[&str] = &["step", "ckpt", "checkpoint", "iter"];

/// Strips a file extension such as `.pt`, but not the `.87` of `valAcc0.87`.
fn strip_checkpoint_ext(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && !ext.is_empty()
                && ext.len() <= 12
                && ext.chars().all(|c| c.is_ascii_alphanumeric())
                && ext.chars().any(|c| c.is_ascii_alphabetic()) =>
        {
            stem
        }
        _ => name,
    }
}

/// `epoch03`, `epoch=3`, `step1200` → the number after one of `words`.
fn keyword_number(seg: &str, words: &[&str]) -> Option<u64> {
    words.iter().find_map(|w| {
        let rest = seg.strip_prefix(w)?;
        let rest = rest.strip_prefix('=').unwrap_or(rest);
        if rest.is_empty() || !rest.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        rest.parse().ok()
    })
}

/// `valAcc0.87` or `val_loss=0.41` (one segment) → (`valAcc`, 0.87).
fn metric_segment(seg: &str) -> Option<(String, f64)> {
    let (name, value) = match seg.split_once('=') {
        Some((n, v)) => (n, v),
        None => {
            let at = seg.find(|c: char| c.is_ascii_digit() || c == '.')?;
            (&seg[..at], &seg[at..])
        }
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let value: f64 = value.parse().ok()?;
    value.is_finite().then(|| (name.to_string(), value))
}

/// A checkpoint name with its numbers blanked: names that share it are one
/// family (`epoch03_valAcc0.87.pt` and `epoch04_valAcc0.91.pt`), and each
/// family is pruned on its own, so mixed naming styles, or the several files
/// of one TensorFlow checkpoint (`ckpt-1100.index`, `ckpt-1100.data-…`),
/// never cost a style's newest or half a checkpoint.
fn family(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_digits = false;
    for c in name.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
        } else {
            in_digits = false;
            out.push(c);
        }
    }
    out
}

/// Decides which checkpoints a prune deletes: `true` at index i means
/// `names[i]` goes.
///
/// Kept: `best.*`, `last.*`, every name that does not parse, and in each
/// family of names (see [`family`]) the latest (greatest epoch, then step)
/// and the best by each metric its names carry (`valAcc0.91`: highest;
/// `val_loss=0.12`: lowest). The rest of a family goes.
pub fn prune_names(names: &[&str]) -> Vec<bool> {
    let parsed: Vec<CheckpointName> = names.iter().map(|n| parse_checkpoint(n)).collect();
    let families: Vec<String> = names.iter().map(|n| family(n)).collect();
    let mut prune = vec![false; names.len()];
    let mut seen: Vec<&str> = Vec::new();
    for (i, fam) in families.iter().enumerate() {
        if !matches!(parsed[i], CheckpointName::Progress { .. }) || seen.contains(&fam.as_str()) {
            continue;
        }
        seen.push(fam);
        let members: Vec<usize> = (0..names.len())
            .filter(|&j| {
                families[j] == *fam && matches!(parsed[j], CheckpointName::Progress { .. })
            })
            .collect();
        let key = |j: usize| match &parsed[j] {
            CheckpointName::Progress { epoch, step, .. } => (epoch.unwrap_or(0), step.unwrap_or(0)),
            _ => (0, 0),
        };
        let latest = members.iter().map(|&j| key(j)).max();
        let mut keep: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&j| Some(key(j)) == latest)
            .collect();
        // The best by each metric named in the family.
        let mut metrics: Vec<&str> = Vec::new();
        for &j in &members {
            if let CheckpointName::Progress {
                metric: Some((m, _)),
                ..
            } = &parsed[j]
                && !metrics.contains(&m.as_str())
            {
                metrics.push(m);
            }
        }
        for m in metrics {
            let lower = lower_is_better(m);
            let value = |j: usize| match &parsed[j] {
                CheckpointName::Progress {
                    metric: Some((n, v)),
                    ..
                } if n == m => Some(*v),
                _ => None,
            };
            let best = members
                .iter()
                .filter_map(|&j| value(j).map(|v| (j, v)))
                .max_by(|a, b| {
                    if lower {
                        b.1.total_cmp(&a.1)
                    } else {
                        a.1.total_cmp(&b.1)
                    }
                });
            if let Some((j, _)) = best {
                keep.push(j);
            }
        }
        for &j in &members {
            prune[j] = !keep.contains(&j);
        }
    }
    prune
}

/// Known data splits, as they start a metric file's name.
const SPLITS: &[&str] = &[
    "train",
    "val",
    "valid",
    "validation",
    "test",
    "eval",
    "dev",
    "holdout",
];

/// The metric-name prefix a metrics file contributes: `val_metrics.json` →
/// `val/`, `val_auc.json` → `val/auc` (a file holding one value),
/// `metrics.json` → no prefix.
///
/// Returns `(prefix, rest)`: the split when the name starts with one, and
/// what remains of the name once `metrics` is dropped.
pub fn metric_file_split(stem: &str) -> (Option<&str>, Option<&str>) {
    let lower = stem.to_ascii_lowercase();
    let mut split = None;
    let mut rest = stem;
    for s in SPLITS {
        if let Some(r) = lower.strip_prefix(s)
            && (r.is_empty() || r.starts_with(['_', '-', '.']))
        {
            split = Some(&stem[..s.len()]);
            rest = stem[s.len()..].trim_start_matches(['_', '-', '.']);
            break;
        }
    }
    let rest = rest
        .strip_suffix("metrics")
        .or_else(|| rest.strip_suffix("metric"))
        .map(|r| r.trim_end_matches(['_', '-', '.']))
        .unwrap_or(rest);
    (split, (!rest.is_empty()).then_some(rest))
}

/// True when smaller values of the metric are better (losses, errors).
pub fn lower_is_better(metric: &str) -> bool {
    crate::runs::summary::direction_of(metric) == Some(crate::runs::Better::Lower)
}

/// Image files the plot list shows.
pub fn is_plot_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".png", ".jpg", ".jpeg", ".svg", ".gif", ".webp", ".pdf"]
        .iter()
        .any(|e| lower.ends_with(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_are_plain_and_visible() {
        for ok in ["ocr", "vit-small", "preproc", "a.b", "ünïcode"] {
            assert!(check_folder_name("task", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            ".trash",
            "a/b",
            "two\nlines",
            "x\u{1b}[31m",
            "\u{202e}rtl",
        ] {
            let e = check_folder_name("task", bad).unwrap_err();
            assert!(e.contains("is not a folder name"), "{e}");
            assert!(!e.contains('\u{1b}') && !e.contains('\n'), "{e}");
        }
        assert!(check_folder_name("model", &"x".repeat(256)).is_err());
    }

    fn progress(epoch: Option<u64>, step: Option<u64>) -> CheckpointName {
        CheckpointName::Progress {
            epoch,
            step,
            metric: None,
        }
    }

    #[test]
    fn run_ids_parse_time_and_tag() {
        let id = parse_run_id("2025-12-04_14-32-10_seed42").unwrap();
        assert_eq!(id.time, DateTime::new(2025, 12, 4, 14, 32, 10, 0).unwrap());
        assert_eq!(id.tag.as_deref(), Some("seed42"));
        assert_eq!(id.to_string(), "2025-12-04_14-32-10_seed42");
        let bare = parse_run_id("2025-12-04_14-32-10").unwrap();
        assert_eq!(bare.tag, None);
        let odd = parse_run_id("2025-12-04_14-32-10_lr3e-4_bs.64+aug").unwrap();
        assert_eq!(odd.tag.as_deref(), Some("lr3e-4_bs.64+aug"));
    }

    #[test]
    fn run_ids_that_do_not_parse() {
        for name in [
            "",
            "old-run-backup",
            "2025-12-04",
            "2025-12-04_14-32",
            "2025-13-04_14-32-10",
            "2025-02-30_14-32-10",
            "2025-12-04_25-00-00",
            "2025-12-04_14-32-10seed",
            "2025-12-04_14-32-10_",
            "2025-12-04_14-32-10_has space",
            "2025-12-04_14-32-10_ünï",
            "2025/12/04_14-32-10",
        ] {
            assert_eq!(parse_run_id(name), None, "{name:?}");
        }
    }

    #[test]
    fn run_ids_round_trip() {
        let t = DateTime::new(2026, 1, 2, 3, 4, 5, 0).unwrap();
        assert_eq!(make_run_id(t, None), "2026-01-02_03-04-05");
        let id = make_run_id(t, Some("seed 42/a"));
        assert_eq!(id, "2026-01-02_03-04-05_seed-42-a");
        assert!(parse_run_id(&id).is_some());
    }

    #[test]
    fn checkpoint_names_parse() {
        assert_eq!(parse_checkpoint("best.pt"), CheckpointName::Best);
        assert_eq!(parse_checkpoint("last.ckpt"), CheckpointName::Last);
        assert_eq!(parse_checkpoint("last-v1.ckpt"), CheckpointName::Last);
        assert_eq!(parse_checkpoint("BEST.pth"), CheckpointName::Best);
        assert_eq!(
            parse_checkpoint("epoch03_valAcc0.87.pt"),
            CheckpointName::Progress {
                epoch: Some(3),
                step: None,
                metric: Some(("valAcc".into(), 0.87))
            }
        );
        assert_eq!(
            parse_checkpoint("epoch=3-step=1200.ckpt"),
            progress(Some(3), Some(1200))
        );
        assert_eq!(
            parse_checkpoint("epoch=3-step=1200-val_loss=0.41.ckpt"),
            CheckpointName::Progress {
                epoch: Some(3),
                step: Some(1200),
                metric: Some(("loss".into(), 0.41))
            }
        );
        assert_eq!(
            parse_checkpoint("step_001200.pt"),
            progress(None, Some(1200))
        );
        assert_eq!(parse_checkpoint("ckpt-1200"), progress(None, Some(1200)));
        assert_eq!(
            parse_checkpoint("checkpoint-500"),
            progress(None, Some(500))
        );
        assert_eq!(parse_checkpoint("epoch_5.pt"), progress(Some(5), None));
        assert_eq!(
            parse_checkpoint("iter_5000.pth"),
            progress(None, Some(5000))
        );
        assert_eq!(
            parse_checkpoint("epoch12_loss=0.3.pt"),
            CheckpointName::Progress {
                epoch: Some(12),
                step: None,
                metric: Some(("loss".into(), 0.3))
            }
        );
    }

    #[test]
    fn checkpoint_names_that_do_not_parse() {
        for name in [
            "model.pt",
            "model_v2.pt",
            "optimizer.pt",
            "bestmodel.pt",
            "lastly.txt",
            "epoch.pt",
            "epochs_notes.txt",
            "final_export.onnx",
            "",
            "12345.pt",
        ] {
            assert_eq!(parse_checkpoint(name), CheckpointName::Unparsed, "{name:?}");
        }
    }

    #[test]
    fn prune_keeps_best_last_latest_and_unparsed() {
        let names = [
            "epoch01_valAcc0.71.pt",
            "epoch02_valAcc0.80.pt",
            "epoch03_valAcc0.87.pt",
            "best.pt",
            "last.pt",
            "notes.txt",
        ];
        assert_eq!(
            prune_names(&names),
            vec![true, true, false, false, false, false]
        );
        assert!(prune_names(&[]).is_empty());
        assert_eq!(prune_names(&["epoch01.pt"]), vec![false]);
    }

    #[test]
    fn prune_keeps_the_best_by_the_metric_in_the_names() {
        // No best.* file: the best by val_loss (lowest) and by valAcc (highest) stay.
        let names = [
            "epoch=1-val_loss=0.30.ckpt",
            "epoch=2-val_loss=0.12.ckpt",
            "epoch=3-val_loss=0.20.ckpt",
        ];
        assert_eq!(prune_names(&names), vec![true, false, false]);
        let names = [
            "epoch01_valAcc0.80.pt",
            "epoch02_valAcc0.90.pt",
            "epoch03_valAcc0.85.pt",
            "epoch04_valAcc0.70.pt",
        ];
        assert_eq!(prune_names(&names), vec![true, false, true, false]);
    }

    #[test]
    fn prune_works_per_naming_family() {
        let names = [
            "epoch=3-step=1200.ckpt",
            "epoch=3-step=1500.ckpt",
            "epoch=2-step=900.ckpt",
            "step_000100.pt",
            "step_000200.pt",
            "checkpoint13.pt",
            "ckpt-1000.index",
            "ckpt-1000.data-00000-of-00001",
            "ckpt-1100.index",
            "ckpt-1100.data-00000-of-00001",
        ];
        assert_eq!(
            prune_names(&names),
            vec![
                true, false, true, true, false, false, true, true, false, false
            ]
        );
    }

    #[test]
    fn ephemeral_parts() {
        assert!(RunPart::of("tmp").is_ephemeral());
        assert!(RunPart::of("cache").is_ephemeral());
        for n in ["checkpoints", "data", "metrics", "Tmp", "tmp2", "logs"] {
            assert!(!RunPart::of(n).is_ephemeral(), "{n}");
        }
        assert_eq!(TopKind::of(".trash"), TopKind::Trash);
        assert_eq!(TopKind::of("scratch"), TopKind::Unrecognized);
    }

    #[test]
    fn metric_file_splits() {
        assert_eq!(metric_file_split("val_metrics"), (Some("val"), None));
        assert_eq!(metric_file_split("val_auc"), (Some("val"), Some("auc")));
        assert_eq!(metric_file_split("test_metrics"), (Some("test"), None));
        assert_eq!(metric_file_split("metrics"), (None, None));
        assert_eq!(
            metric_file_split("coverage_stats"),
            (None, Some("coverage_stats"))
        );
        assert_eq!(
            metric_file_split("training_log"),
            (None, Some("training_log"))
        );
        assert_eq!(metric_file_split("train"), (Some("train"), None));
    }

    #[test]
    fn metric_direction() {
        assert!(lower_is_better("val/loss"));
        assert!(lower_is_better("test/wer"));
        assert!(!lower_is_better("val/acc"));
        assert!(!lower_is_better("val/auc"));
    }

    #[test]
    fn finds_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let proj = tmp.path().join("proj");
        let outputs = proj.join("outputs");
        std::fs::create_dir_all(outputs.join("experiments")).unwrap();
        let deep = proj.join("src/a/b");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(find_root(None, &proj).unwrap(), outputs);
        assert_eq!(find_root(None, &deep).unwrap(), outputs);
        assert_eq!(
            find_root(None, &outputs.join("experiments")).unwrap(),
            outputs
        );
        assert_eq!(find_root(Some(&proj), tmp.path()).unwrap(), outputs);
        assert_eq!(
            find_root(Some(Path::new("proj/outputs")), tmp.path()).unwrap(),
            outputs
        );
        assert!(matches!(
            find_root(None, tmp.path()),
            Err(RootError::NotFound(_))
        ));
        assert!(matches!(
            find_root(Some(Path::new("nope")), tmp.path()),
            Err(RootError::NotAFolder(_))
        ));
        std::fs::create_dir_all(tmp.path().join("home/me")).unwrap();
        assert!(matches!(
            find_root(Some(Path::new("home")), tmp.path()),
            Err(RootError::NotOutputs(_))
        ));
    }

    #[test]
    fn a_linked_tree_opens_where_it_points() {
        // `proj/outputs -> /data/outputs` is how outputs often live on a
        // data disk: the root is the folder the link points to (below it,
        // nothing is followed).
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        std::fs::create_dir_all(t.join("elsewhere/run-20240131_134510-abc1/files")).unwrap();
        std::fs::create_dir_all(t.join("lay/outputs/experiments")).unwrap();
        for (link, to) in [
            ("proj/wandb", "elsewhere"),
            ("proj2/outputs", "lay/outputs"),
            ("named", "lay/outputs"),
        ] {
            std::fs::create_dir_all(t.join(link).parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(t.join(to), t.join(link)).unwrap();
        }
        let real = |p: &str| t.join(p).canonicalize().unwrap();
        let found = |p: &str| find_root(Some(Path::new(p)), t).map(|r| r.canonicalize().unwrap());
        assert_eq!(found("proj").unwrap(), real("elsewhere"));
        assert_eq!(found("proj2").unwrap(), real("lay/outputs"));
        assert_eq!(found("named").unwrap(), real("lay/outputs"));
        let deep = t.join("proj2/src");
        std::fs::create_dir_all(&deep).unwrap();
        for cwd in [t.join("proj2"), deep] {
            let root = find_root(None, &cwd).unwrap().canonicalize().unwrap();
            assert_eq!(root, real("lay/outputs"), "{}", cwd.display());
        }
    }
}
