//! Hydra's job folder: `.hydra/config.yaml` (the composed config),
//! `.hydra/overrides.yaml` (what the command line changed, shown first),
//! `.hydra/hydra.yaml` (job name, run folder, working folder, the task
//! overrides that make the command line), and `<job name>.log` beside it.

use std::os::fd::BorrowedFd;

use rustix::fs::FileType;
use serde_json::Value;

use super::{Entry, Fact, Overrides, Place, ToolFacts, Walk, join, parse_yaml, read_rel};
use crate::runs::files::Config;

/// The files of `.hydra/` runyard reads.
const FILES: [&str; 3] = ["config.yaml", "overrides.yaml", "hydra.yaml"];

/// The Hydra files of the job folder `rel` (listed: `entries`).
pub(super) fn files(walk: &mut Walk, fd: BorrowedFd, rel: &str, entries: &[Entry]) -> Vec<String> {
    let dot = join(rel, ".hydra");
    let mut out = Vec::new();
    if let Some(inner) = walk.open_list(fd, ".hydra", &dot) {
        for f in FILES {
            if inner
                .entries
                .iter()
                .any(|e| e.name == f && e.kind == FileType::RegularFile)
            {
                out.push(join(&dot, f));
            }
        }
    }
    if out.is_empty() {
        return out;
    }
    // The job's log (`<job name>.log`) sits beside `.hydra/`.
    out.extend(
        entries
            .iter()
            .filter(|e| e.kind == FileType::RegularFile && e.name.ends_with(".log"))
            .map(|e| join(rel, &e.name)),
    );
    out
}

fn load(run: BorrowedFd, rel: &str, out: &mut ToolFacts) -> Option<Value> {
    match read_rel(run, rel) {
        Ok(Some(b)) => match parse_yaml(&b, rel) {
            Ok(v) => Some(v),
            Err(e) => {
                out.errors.push(e);
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            out.errors.push(e);
            None
        }
    }
}

/// The overrides as written (`- lr=1e-4`; often `[]`).
pub fn overrides_of(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Array(items) => Some(
            items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                .collect(),
        ),
        Value::Null => Some(Vec::new()),
        _ => None,
    }
}

/// Reads the job folder's files into `out`.
pub(super) fn read(run: BorrowedFd, place: &Place, configs: bool, out: &mut ToolFacts) {
    for rel in &place.files {
        let leaf = rel.rsplit('/').next().unwrap_or(rel);
        if leaf.ends_with(".log") {
            out.logs.push(rel.clone());
            continue;
        }
        match leaf {
            "config.yaml" if configs => {
                if let Some(value) = load(run, rel, out) {
                    out.configs.push(Config {
                        file: rel.clone(),
                        value,
                    });
                }
            }
            "overrides.yaml" => {
                let Some(v) = load(run, rel, out) else {
                    continue;
                };
                match overrides_of(&v) {
                    Some(items) => {
                        out.overrides.get_or_insert(Overrides {
                            file: rel.clone(),
                            items,
                        });
                    }
                    None => out
                        .errors
                        .push(format!("{rel}: expected a list of overrides")),
                }
            }
            "hydra.yaml" => {
                let Some(v) = load(run, rel, out) else {
                    continue;
                };
                out.facts.extend(hydra_facts(&v, rel));
            }
            _ => {}
        }
    }
}

/// The facts of `hydra.yaml`: the job name, run folder, working folder,
/// and the command line (`<job name> <task overrides>`).
pub fn hydra_facts(v: &Value, rel: &str) -> Vec<Fact> {
    let h = &v["hydra"];
    let mut out = Vec::new();
    let job = h["job"]["name"].as_str();
    if let Some(task) = overrides_of(&h["overrides"]["task"]) {
        let mut words: Vec<String> = job.map(str::to_string).into_iter().collect();
        words.extend(task);
        if !words.is_empty() {
            out.push(Fact::new("command", words.join(" "), rel));
        }
    }
    for (key, value) in [
        ("job_name", job),
        ("run_dir", h["run"]["dir"].as_str()),
        ("cwd", h["runtime"]["cwd"].as_str()),
    ] {
        if let Some(value) = value {
            out.push(Fact::new(key, value, rel));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hydra_yaml_gives_the_command_line() {
        let v = parse_yaml(
            b"hydra:\n  run:\n    dir: outputs/2024-05-01/10-00-00\n  runtime:\n    cwd: /home/u/proj\n  \
              job:\n    name: train\n  overrides:\n    hydra: []\n    task:\n    - lr=1e-4\n    - model=resnet\n",
            "h",
        )
        .unwrap();
        let f = hydra_facts(&v, ".hydra/hydra.yaml");
        assert_eq!(f[0].key, "command");
        assert_eq!(f[0].value, "train lr=1e-4 model=resnet");
        assert!(
            f.iter()
                .any(|f| f.key == "cwd" && f.value == "/home/u/proj")
        );
        assert_eq!(overrides_of(&parse_yaml(b"[]", "o").unwrap()), Some(vec![]));
    }
}
