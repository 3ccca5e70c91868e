//! `runyard check`: what strays from the layout. Warnings, never changes.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::catalog::Catalog;
use crate::layout::{self, CheckpointName, TopKind};

/// One thing that strays from the layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The path, relative to the root.
    pub path: PathBuf,
    /// A stable word for scripts.
    pub kind: &'static str,
    /// What is wrong, for people.
    pub message: String,
}

fn finding(path: impl Into<PathBuf>, kind: &'static str, message: impl Into<String>) -> Finding {
    Finding {
        path: path.into(),
        kind,
        message: message.into(),
    }
}

/// True for a `.runyard-tmp-<pid>-…` temporary whose writer is no longer
/// running on this host (a promotion or move killed mid-way).
fn left_behind(name: &str) -> bool {
    let pid = name
        .trim_start_matches(".runyard-tmp-")
        .split('-')
        .next()
        .unwrap_or("");
    !Path::new(&format!("/proc/{pid}")).exists()
}

/// [`run_findings`] for a run of a tree of kind `source`: in another tool's
/// tree the layout's naming rules (run ids, run_info.json) are not findings.
pub fn run_findings_for(
    source: crate::sources::SourceKind,
    run: &Path,
    rel: &Path,
    name: &str,
) -> Vec<Finding> {
    let mut out = run_findings(run, rel, name);
    if source != crate::sources::SourceKind::Layout {
        out.retain(|f| !matches!(f.kind, "run-id" | "no-metadata"));
    }
    out
}

/// What strays in one run (relative paths under `rel`).
pub fn run_findings(run: &Path, rel: &Path, name: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    if layout::parse_run_id(name).is_none() {
        out.push(finding(
            rel,
            "run-id",
            "the folder name is not a run id (YYYY-MM-DD_HH-MM-SS[_tag])",
        ));
    }
    let has_info = run.join("run_info.json").is_file();
    if !has_info && !run.join("README.md").is_file() && !tool_metadata(run) {
        out.push(finding(
            rel,
            "no-metadata",
            "no run_info.json or README.md (command, commit, seeds, notes)",
        ));
    }
    // A preprocessing run's metrics describe the data (coverage, missing
    // values), not a split: they are not held to the split prefix.
    let preproc = rel.starts_with("experiments/preproc");
    if let Ok(rd) = std::fs::read_dir(run.join("metrics"))
        && !preproc
    {
        let mut names: Vec<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for n in names {
            let Some((stem, ext)) = n.rsplit_once('.') else {
                continue;
            };
            if matches!(ext, "json" | "jsonl" | "ndjson" | "csv" | "tsv")
                && layout::metric_file_split(stem).0.is_none()
                && !columns_name_their_split(&run.join("metrics").join(&n), ext)
            {
                out.push(finding(
                    rel.join("metrics").join(&n),
                    "metric-split",
                    "the name does not start with a split (train_, val_, test_...)",
                ));
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir(run.join("checkpoints")) {
        let mut names: Vec<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for n in names {
            if layout::parse_checkpoint(&n) == CheckpointName::Unparsed {
                out.push(finding(
                    rel.join("checkpoints").join(&n),
                    "checkpoint-name",
                    "no epoch or step in the name (kept by every prune)",
                ));
            }
        }
    }
    out
}

/// True when another tool's files say what `run_info.json` would (Hydra's
/// command line, MLflow's and W&B's commit and times): such a run is not
/// without metadata. Looked for only in runs with neither file.
fn tool_metadata(run: &Path) -> bool {
    use crate::runs::formats::Tool;
    crate::runs::formats::discover(run)
        .places
        .iter()
        .any(|p| matches!(p.tool, Tool::Hydra | Tool::Mlflow | Tool::Wandb))
}

/// True for a table whose columns each say their split already, or are
/// counters (Lightning's `metrics.csv`: `epoch,step,train_loss_step,
/// val_loss,lr-Adam`): it needs no split in its name.
fn columns_name_their_split(path: &Path, ext: &str) -> bool {
    use crate::runs::summary::{carries_split, is_bookkeeping};
    let delimiter = match ext {
        "csv" => ',',
        "tsv" => '\t',
        _ => return false,
    };
    // The header is all that is needed: a capped read, no link followed.
    let Ok(Some(bytes)) = crate::runs::open::read_regular(path, crate::runs::open::METADATA_CAP)
    else {
        return false;
    };
    let text = String::from_utf8_lossy(&bytes);
    let Some(header) = text.lines().next() else {
        return false;
    };
    let columns: Vec<&str> = header
        .split(delimiter)
        .map(|c| c.trim().trim_matches('"'))
        .filter(|c| !is_bookkeeping(c))
        .collect();
    !columns.is_empty() && columns.iter().all(|c| carries_split(c))
}

/// Other tools' files in one run (see [`crate::runs::formats`]): for each
/// tool folder, the files read (`tool-files`, a note, not a stray), and
/// for each file that could not be read, why (`tool-file`).
pub fn tool_findings(run: &Path, rel: &Path) -> Vec<Finding> {
    let found = crate::runs::formats::discover(run);
    let mut out = Vec::new();
    for e in &found.errors {
        out.push(finding(rel, "tool-file", e.clone()));
    }
    if found.is_empty() {
        return out;
    }
    for p in &found.places {
        let names: Vec<&str> = p
            .files
            .iter()
            .map(|f| {
                f.strip_prefix(&p.dir)
                    .map_or(f.as_str(), |r| r.trim_start_matches('/'))
            })
            .collect();
        out.push(finding(
            rel.join(&p.dir),
            TOOL_FILES,
            format!("{} files read: {}", p.tool.word(), names.join(", ")),
        ));
    }
    // What the readers could not read, on the file concerned.
    let d = crate::runs::RunDetails::load(run);
    let files: Vec<&str> = found.files().map(|f| f.1).collect();
    for e in &d.errors {
        let Some((file, why)) = e.split_once(": ") else {
            continue;
        };
        if files.contains(&file) {
            out.push(finding(rel.join(file), "tool-file", why.to_string()));
        }
    }
    out
}

/// The kind of the finding that lists a run's tool files: a note, not a
/// stray (`check --strict` does not fail on it).
pub const TOOL_FILES: &str = "tool-files";

impl Finding {
    /// True for a note rather than something that strays from the layout.
    pub fn is_note(&self) -> bool {
        self.kind == TOOL_FILES
    }
}

/// Runs whose config references a dataset (by `datasets/<name>` in its text).
pub fn used_by(catalog: &Catalog, dataset: &str) -> Vec<PathBuf> {
    let needle = format!("datasets/{dataset}");
    catalog
        .run_keys()
        .filter_map(|k| {
            let r = &catalog.runs[k];
            ["config.yaml", "config.yml", "config.json"]
                .iter()
                // Run files are untrusted: no link followed, no FIFO waited on.
                .filter_map(|f| {
                    crate::runs::open::read_regular(
                        &r.path.join(f),
                        crate::runs::open::METADATA_CAP,
                    )
                    .ok()
                    .flatten()
                })
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .any(|t| t.contains(&needle))
                .then(|| {
                    r.path
                        .strip_prefix(&catalog.root)
                        .unwrap_or(&r.path)
                        .to_path_buf()
                })
        })
        .collect()
}

/// Every finding of the tree.
pub fn check(catalog: &Catalog) -> Vec<Finding> {
    let root = &catalog.root;
    let mut out = Vec::new();
    for e in &catalog.top {
        if e.kind == TopKind::Unrecognized {
            out.push(finding(
                &e.rel,
                "unrecognized",
                "not part of the layout (experiments, checkpoints, logs, artifacts)",
            ));
        }
    }
    for e in &catalog.strays {
        // A move's partial copy gets its own finding below.
        if e.rel
            .rsplit('/')
            .next()
            .is_some_and(|n| n.starts_with(".runyard-tmp-"))
        {
            continue;
        }
        out.push(finding(
            &e.rel,
            "stray",
            "a file or link where a task, model or run folder belongs",
        ));
    }
    for k in catalog.run_keys() {
        let r = &catalog.runs[k];
        let rel = r.path.strip_prefix(root).unwrap_or(&r.path);
        out.extend(run_findings_for(catalog.source, &r.path, rel, &r.name));
        out.extend(tool_findings(&r.path, rel));
    }
    // Another tool's tree holds the project's own files beside its runs.
    if catalog.source != crate::sources::SourceKind::Layout {
        out.retain(|f| f.kind != "unrecognized");
    }
    // A move across filesystems copies a run beside its destination under
    // `.runyard-tmp-<pid>-<run>`; one killed mid-copy leaves it there.
    for t in &catalog.tasks {
        for m in &t.models {
            let rel = PathBuf::from(layout::EXPERIMENTS)
                .join(&t.name)
                .join(&m.name);
            let Ok(rd) = std::fs::read_dir(root.join(&rel)) else {
                continue;
            };
            let mut names: Vec<String> = rd
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".runyard-tmp-"))
                .collect();
            names.sort();
            for n in names {
                if left_behind(&n) {
                    out.push(finding(
                        rel.join(&n),
                        "stale-temporary",
                        "a partial copy left by a move across filesystems that did not \
                         finish (the run itself was not moved): check it, then delete it",
                    ));
                }
            }
        }
    }
    for sub in ["datasets", "plots", "exports"] {
        let dir = root.join("artifacts").join(sub);
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for n in &names {
            let rel = PathBuf::from("artifacts").join(sub).join(n);
            if n.starts_with(".runyard-tmp-") {
                if left_behind(n) {
                    out.push(finding(
                        rel,
                        "stale-temporary",
                        "left by a promotion that did not finish; the next one removes it",
                    ));
                }
                continue;
            }
            if n.starts_with('.') || n.ends_with(".provenance.json") || n == "README.md" {
                continue;
            }
            if !names.contains(&format!("{n}.provenance.json")) {
                out.push(finding(
                    rel,
                    "no-provenance",
                    "no provenance record (where it came from)",
                ));
            }
        }
    }
    out
}
