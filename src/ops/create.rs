//! What runyard creates: the layout (`init`), a new run folder (`new-run`)
//! and the end of a run (`finish`). Nothing here overwrites a user's file.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::layout;

/// The folders a run starts with.
pub const RUN_FOLDERS: &[&str] = &[
    "logs",
    "checkpoints",
    "metrics",
    "plots",
    "data",
    "tmp",
    "cache",
];

/// `artifacts/README.md` as `init` writes it.
pub const ARTIFACTS_README: &str = "# artifacts/\n\n\
Shared outputs promoted out of runs, so nobody digs through `experiments/`\n\
for them. Promotion copies (never moves) and never overwrites; cleanup never\n\
deletes anything here.\n\n\
## Naming conventions\n\n\
| folder | name | example |\n|---|---|---|\n\
| `datasets/` | `<pipeline>_v<N>/`, N = 1 + the greatest existing version | `datasets/ocr-clean_v1/` |\n\
| `plots/` | `<task>_<YYYY-MM-DD>_<file name>` (date of promotion) | `plots/ocr_2025-12-05_loss.png` |\n\
| `exports/` | `<task>_<model>_<run_id>_<file name>` | `exports/ocr_crnn_2025-12-04_14-32-10_seed42_model.onnx` |\n\n\
Every artifact has a sidecar `<name>.provenance.json`: the source run, its\n\
command and git commit, a sha256 and the promotion time.\n\n\
## Who reads what\n\n\
(Say here which configs and services consume these artifacts.)\n\n\
## Index\n\n\
<!-- runyard:index:start -->\n\
| artifact | kind | source run | promoted at |\n|---|---|---|---|\n\
<!-- runyard:index:end -->\n";

/// `docs/outputs_structure.md` as `init` writes it.
pub const OUTPUTS_STRUCTURE: &str = "# The outputs/ folder\n\n\
```\n\
outputs/\n\
  experiments/<task>/<model>/<run_id>/   one folder per run\n\
      config.yaml  run_info.json  README.md\n\
      logs/  checkpoints/  metrics/  plots/  data/\n\
      tmp/  cache/                       ephemeral: safe to delete when the run is idle\n\
  experiments/preproc/<pipeline>/<run_id>/   preprocessing runs; data/ holds the dataset\n\
  artifacts/{datasets,plots,exports}/    promoted results (see artifacts/README.md)\n\
  checkpoints/                           long-term checkpoints, kept apart from runs\n\
  logs/                                  global logs (cron, system)\n\
```\n\n\
## Run ids\n\n\
`YYYY-MM-DD_HH-MM-SS[_tag]`: the local time the run started, then an optional\n\
tag of letters, digits and `._+-` (`2025-12-04_14-32-10_seed42`).\n\
`runyard new-run --task T --model M --tag TAG` makes one and prints its path.\n\n\
## Safe to delete\n\n\
- A run's `tmp/` and `cache/`, once the run has written nothing for ten minutes\n\
  (`runyard clean`).\n\
- Epoch/step checkpoints other than the latest and the best (`runyard clean --checkpoints`).\n\
- Nothing else: `checkpoints/`, `logs/`, `artifacts/`, metrics, plots and configs\n\
  are kept. Whole runs go to `outputs/.trash/` first (`runyard rm`, `runyard restore`).\n";

/// Creates the layout under `root` (and `docs/` beside it). Returns what it
/// created; existing files and folders are left as they are.
pub fn init(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut created = Vec::new();
    let project = root.parent().unwrap_or(root).to_path_buf();
    for dir in [
        "experiments",
        "checkpoints",
        "logs",
        "artifacts/datasets",
        "artifacts/plots",
        "artifacts/exports",
    ] {
        let p = root.join(dir);
        if !p.exists() {
            std::fs::create_dir_all(&p)?;
            created.push(p);
        }
    }
    for (path, text) in [
        (root.join("artifacts/README.md"), ARTIFACTS_README),
        (project.join("docs/outputs_structure.md"), OUTPUTS_STRUCTURE),
    ] {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // create_new: never overwrite, even if the file appears meanwhile.
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                std::io::Write::write_all(&mut f, text.as_bytes())?;
                f.sync_all()?;
                created.push(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(created)
}

/// What a new run records about itself.
#[derive(Debug, Clone, Default)]
pub struct NewRun {
    /// Task folder.
    pub task: String,
    /// Model folder.
    pub model: String,
    /// Tag after the time in the run id.
    pub tag: Option<String>,
    /// A config file to copy in.
    pub config: Option<PathBuf>,
    /// Seeds.
    pub seed: Option<u64>,
    /// The command the run executes.
    pub command: Vec<String>,
}

/// The git commit of the working folder, and whether it has changes.
fn git_state() -> (Option<String>, Option<bool>) {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = run(&["rev-parse", "HEAD"]);
    let dirty = commit
        .as_ref()
        .and_then(|_| run(&["status", "--porcelain"]))
        .map(|s| !s.is_empty());
    (commit, dirty)
}

fn valid_folder_name(what: &str, name: &str) -> Result<(), String> {
    if name.is_empty() || name.contains('/') || name == "." || name == ".." || name.starts_with('.')
    {
        return Err(format!("{what} {name:?} is not a folder name"));
    }
    Ok(())
}

/// Creates `experiments/<task>/<model>/<run_id>/` with the standard
/// folders, the config and `run_info.json`; returns its path. Two calls in
/// the same second get different run ids (the second one a second later).
pub fn new_run(root: &Path, spec: &NewRun) -> Result<PathBuf, String> {
    valid_folder_name("task", &spec.task)?;
    valid_folder_name("model", &spec.model)?;
    let parent = root
        .join(layout::EXPERIMENTS)
        .join(&spec.task)
        .join(&spec.model);
    std::fs::create_dir_all(&parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let now = jiff::ZonedDateTime::now();
    let mut time = now.datetime();
    let run = loop {
        let id = layout::make_run_id(time, spec.tag.as_deref());
        let candidate = parent.join(&id);
        // mkdir is the lock: whoever creates the folder owns the id.
        match std::fs::create_dir(&candidate) {
            Ok(()) => break candidate,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                time = time
                    .checked_add(jiff::SignedDuration::from_secs(1))
                    .map_err(|e| e.to_string())?;
            }
            Err(e) => return Err(format!("{}: {e}", candidate.display())),
        }
    };
    for sub in RUN_FOLDERS {
        std::fs::create_dir(run.join(sub)).map_err(|e| format!("{sub}: {e}"))?;
    }
    if let Some(cfg) = &spec.config {
        let ext = cfg.extension().and_then(|e| e.to_str()).unwrap_or("yaml");
        let name = match ext {
            "yml" | "yaml" => "config.yaml".to_string(),
            other => format!("config.{other}"),
        };
        std::fs::copy(cfg, run.join(&name)).map_err(|e| format!("{}: {e}", cfg.display()))?;
    }
    let (git_commit, git_dirty) = git_state();
    let info = json!({
        "command": if spec.command.is_empty() { Value::Null } else { json!(spec.command.join(" ")) },
        "git_commit": git_commit,
        "git_dirty": git_dirty,
        "seeds": spec.seed.map(|s| json!([s])),
        "metrics": {},
        "notes": "",
        "status": "running",
        "started_at": now.timestamp().to_string(),
        "host": std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_string()),
    });
    write_json(&run.join("run_info.json"), &info)?;
    Ok(run)
}

/// Writes JSON whole: a temporary file beside it, then a rename.
fn write_json(path: &Path, value: &Value) -> Result<(), String> {
    let tmp = path.with_extension(format!("json.runyard-tmp-{}", std::process::id()));
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| e.to_string())?;
    let r = (|| {
        std::fs::write(&tmp, &bytes)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r.map_err(|e| format!("{}: {e}", path.display()))
}

/// Records the end of a run in its `run_info.json`: status, finish time,
/// and key metrics merged from a JSON file. Other keys are kept.
pub fn finish(run: &Path, status: &str, metrics: Option<&Path>) -> Result<(), String> {
    let path = run.join(crate::runs::info::RUN_INFO);
    let mut info: Map<String, Value> = match std::fs::read(&path) {
        Ok(b) => match serde_json::from_slice(&b) {
            Ok(Value::Object(m)) => m,
            Ok(_) | Err(_) => {
                return Err(format!(
                    "{}: not a JSON object; not rewritten",
                    path.display()
                ));
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Map::new(),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    info.insert("status".into(), json!(status));
    info.insert(
        "finished_at".into(),
        json!(jiff::Timestamp::now().to_string()),
    );
    if let Some(file) = metrics {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let Value::Object(new) = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not valid JSON ({e})", file.display()))?
        else {
            return Err(format!(
                "{}: expected a JSON object of metrics",
                file.display()
            ));
        };
        let entry = info.entry("metrics").or_insert_with(|| json!({}));
        if !entry.is_object() {
            *entry = json!({});
        }
        if let Value::Object(m) = entry {
            m.extend(new);
        }
    }
    write_json(&path, &Value::Object(info))
}
