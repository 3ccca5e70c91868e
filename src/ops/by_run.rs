//! A plan seen one run at a time: the confirm popup and the CLI show a
//! line per run with its subtotal by default, every path on request.

use std::path::{Path, PathBuf};

use super::{Plan, Target};

/// The targets of one run, with their subtotal.
#[derive(Debug, Clone)]
pub struct RunGroup<'a> {
    /// The run, relative to the root.
    pub run: &'a Path,
    /// Bytes the run's targets free (or move).
    pub bytes: u64,
    /// Files and links under them.
    pub files: u64,
    /// The targets, in plan order.
    pub targets: Vec<&'a Target>,
}

impl RunGroup<'_> {
    /// What goes, in a few words: the distinct `what`s (`tmp/, cache/`)
    /// when there are three or fewer, else none (the caller counts paths).
    pub fn what(&self) -> Option<String> {
        let mut seen: Vec<&str> = Vec::new();
        for t in &self.targets {
            if !seen.contains(&t.what.as_str()) {
                seen.push(&t.what);
            }
        }
        (seen.len() <= 3).then(|| seen.join(", "))
    }
}

/// The plan's total, as the CLI and the confirm popup both open and close
/// it with: `64 KiB freed in 2 runs (4 paths, 11 files)`.
pub fn total_line(plan: &Plan, runs: usize) -> String {
    use crate::fmt;
    format!(
        "{} {} in {} ({}, {})",
        fmt::size(plan.bytes()),
        if plan.kind == super::PlanKind::Trash {
            "moved to the trash"
        } else {
            "freed"
        },
        fmt::count(runs as u64, "run"),
        fmt::count(plan.targets.len() as u64, "path"),
        fmt::count(plan.files(), "file"),
    )
}

/// A run as a plan lists it: without the `experiments/` every run shares
/// (not escaped: the caller escapes for where it prints).
pub fn run_label(run: &Path) -> String {
    run.strip_prefix(crate::layout::EXPERIMENTS)
        .unwrap_or(run)
        .to_string_lossy()
        .into_owned()
}

/// Splits a path inside a run into the run (`task/model/run_id` for the
/// layout's `experiments/<task>/<model>/<run_id>/...`, else the run's path
/// from the root) and the rest inside it; `None` for a path that is not
/// strictly inside a run. In other tools' trees a run's place has no fixed
/// depth (`lightning_logs/version_0`, `outputs/DATE/TIME`, `multirun/DATE/TIME/N`):
/// there a path is split at its `checkpoints/<name>` end, the one shape a
/// plan's kept notes take there (a prune keeps entries of a run's own
/// `checkpoints/`), so no file is read to find the run.
pub fn split_run(rel: &Path) -> Option<(PathBuf, PathBuf)> {
    if let Ok(inner) = rel.strip_prefix(crate::layout::EXPERIMENTS) {
        let parts: Vec<_> = inner.components().collect();
        if parts.len() < 4 {
            return None;
        }
        return Some((parts[..3].iter().collect(), parts[3..].iter().collect()));
    }
    let parts: Vec<_> = rel.components().collect();
    let n = parts.len();
    let plain = parts
        .iter()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    (plain && n >= 3 && parts[n - 2].as_os_str() == "checkpoints").then(|| {
        (
            parts[..n - 2].iter().collect(),
            parts[n - 2..].iter().collect(),
        )
    })
}

/// The plan's targets grouped by run, runs in the order the plan first
/// meets them (a plan lists each run's targets together).
pub fn by_run(plan: &Plan) -> Vec<RunGroup<'_>> {
    let mut groups: Vec<RunGroup> = Vec::new();
    for t in &plan.targets {
        let at = match groups.iter().position(|g| g.run == t.run.as_path()) {
            Some(i) => i,
            None => {
                groups.push(RunGroup {
                    run: &t.run,
                    bytes: 0,
                    files: 0,
                    targets: Vec::new(),
                });
                groups.len() - 1
            }
        };
        let g = &mut groups[at];
        g.bytes += t.bytes;
        g.files += t.files;
        g.targets.push(t);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::PlanKind;

    fn target(run: &str, rel: &str, bytes: u64, what: &str) -> Target {
        Target {
            run: PathBuf::from(run),
            rel: PathBuf::from(rel),
            bytes,
            files: 2,
            ident: crate::ops::fsat::Ident {
                dev: 0,
                ino: 0,
                is_dir: true,
                is_link: false,
            },
            what: what.into(),
        }
    }

    #[test]
    fn paths_split_into_their_run_and_the_rest() {
        assert_eq!(
            split_run(Path::new("experiments/t/m/r/checkpoints/best.pt")),
            Some((PathBuf::from("t/m/r"), PathBuf::from("checkpoints/best.pt")))
        );
        assert_eq!(split_run(Path::new("experiments/t/m/r")), None);
        assert_eq!(split_run(Path::new(".trash/x/y/z/w")), None);
        // Other tools' trees: a run's checkpoint, whatever the run's depth.
        assert_eq!(
            split_run(Path::new("lightning_logs/version_0/checkpoints/best.ckpt")),
            Some((
                PathBuf::from("lightning_logs/version_0"),
                PathBuf::from("checkpoints/best.ckpt")
            ))
        );
        assert_eq!(
            split_run(Path::new(
                "multirun/2024-01-31/13-45-10/3/checkpoints/last.pt"
            )),
            Some((
                PathBuf::from("multirun/2024-01-31/13-45-10/3"),
                PathBuf::from("checkpoints/last.pt")
            ))
        );
        assert_eq!(split_run(Path::new("checkpoints/best.ckpt")), None);
        assert_eq!(
            split_run(Path::new("lightning_logs/version_0/notes.txt")),
            None
        );
        assert_eq!(split_run(Path::new("../x/checkpoints/best.ckpt")), None);
    }

    #[test]
    fn targets_group_by_run_with_subtotals() {
        let plan = Plan {
            kind: PlanKind::Ephemeral,
            root: PathBuf::from("/o"),
            targets: vec![
                target("a", "a/tmp", 10, "tmp/"),
                target("a", "a/cache", 5, "cache/"),
                target("b", "b/tmp", 7, "tmp/"),
            ],
            kept: vec![],
            skipped: vec![],
            warnings: vec![],
            shared: 0,
            window: Default::default(),
            forced: false,
        };
        let g = by_run(&plan);
        assert_eq!(g.len(), 2);
        assert_eq!((g[0].run, g[0].bytes, g[0].files), (Path::new("a"), 15, 4));
        assert_eq!(g[0].what().as_deref(), Some("tmp/, cache/"));
        assert_eq!(
            (g[1].run, g[1].bytes, g[1].targets.len()),
            (Path::new("b"), 7, 1)
        );
    }
}
