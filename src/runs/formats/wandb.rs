//! A Weights & Biases local run folder (`wandb/run-*/`,
//! `wandb/offline-run-*/`, or the run itself), its `files/`:
//! `wandb-summary.json` (final scalars; `_` keys and histograms skipped),
//! `config.yaml` (`key: {value: …}` unwrapped, `_wandb` hidden),
//! `wandb-metadata.json` (start, program and args, git commit, host),
//! `output.log` (the console). A run may have only some of them.

use std::os::fd::BorrowedFd;

use serde_json::{Map, Value};

use super::{Fact, Listed, Place, ToolFacts, Walk, join, parse_yaml, read_rel};
use crate::runs::files::Config;
use crate::runs::metrics::{Metrics, Scalar};

/// The files under `files/` runyard reads.
const FILES: [&str; 4] = [
    "wandb-summary.json",
    "config.yaml",
    "wandb-metadata.json",
    "output.log",
];

/// The W&B files of the run folder `rel` (none: not a W&B run).
pub(super) fn files(walk: &mut Walk, fd: BorrowedFd, rel: &str) -> Vec<String> {
    let dir = join(rel, "files");
    let Some(Listed { entries, .. }) = walk.open_list(fd, "files", &dir) else {
        return Vec::new();
    };
    FILES
        .iter()
        .filter(|f| {
            entries
                .iter()
                .any(|e| &e.name == *f && e.kind == rustix::fs::FileType::RegularFile)
        })
        .map(|f| join(&dir, f))
        .collect()
}

/// True for a W&B summary file.
pub fn is_summary(rel: &str) -> bool {
    rel.ends_with("files/wandb-summary.json")
}

/// The final scalars of `wandb-summary.json`: numbers, nested objects
/// flattened with `.`; bookkeeping keys (`_step`, `_runtime`, `_wandb`)
/// and media or histograms (objects with `_type`) left out.
pub fn parse_summary(text: &str, rel: &str, m: &mut Metrics) {
    let v: Value = match serde_json::from_str(&crate::runs::relax_json(text)) {
        Ok(v) => v,
        Err(e) => {
            m.errors.push(format!("{rel}: not valid JSON ({e})"));
            return;
        }
    };
    let Value::Object(map) = v else {
        m.errors.push(format!("{rel}: expected a JSON object"));
        return;
    };
    fn walk(prefix: &str, map: &Map<String, Value>, rel: &str, m: &mut Metrics) {
        for (k, v) in map {
            if k.starts_with('_') {
                continue;
            }
            let name = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                Value::Object(inner) if inner.contains_key("_type") => {}
                Value::Object(inner) => walk(&name, inner, rel, m),
                other => {
                    if let Some(x) = crate::runs::json_number(other) {
                        m.scalars.push(Scalar {
                            name,
                            value: x,
                            file: rel.into(),
                        });
                    }
                }
            }
        }
    }
    walk("", &map, rel, m);
}

/// `config.yaml` as the user wrote it: each `key: {value: …}` unwrapped,
/// W&B's own `_wandb` (host, disk, email) and other `_` keys left out.
pub fn unwrap_config(v: Value) -> Value {
    let Value::Object(map) = v else { return v };
    let out: Map<String, Value> = map
        .into_iter()
        .filter(|(k, _)| !k.starts_with('_') && k != "wandb_version")
        .map(|(k, v)| match v {
            Value::Object(mut inner) if inner.contains_key("value") => {
                (k, inner.remove("value").unwrap_or(Value::Null))
            }
            other => (k, other),
        })
        .collect();
    Value::Object(out)
}

/// The facts of `wandb-metadata.json`.
pub fn metadata_facts(v: &Value, rel: &str) -> Vec<Fact> {
    let mut out = Vec::new();
    if let Some(program) = v["program"].as_str().or(v["codePath"].as_str()) {
        let mut words = vec![program.to_string()];
        if let Value::Array(args) = &v["args"] {
            words.extend(args.iter().map(|a| match a.as_str() {
                Some(s) if s.contains(' ') => format!("'{s}'"),
                Some(s) => s.to_string(),
                None => a.to_string(),
            }));
        }
        out.push(Fact::new("command", words.join(" "), rel));
    }
    if let Some(c) = v["git"]["commit"].as_str() {
        out.push(Fact::new("git_commit", c, rel));
    }
    if let Some(t) = v["startedAt"].as_str() {
        out.push(Fact::new("started_at", t, rel));
    }
    if let Some(h) = v["host"].as_str() {
        out.push(Fact::new("host", h, rel));
    }
    out
}

/// Reads the config, metadata and console log into `out`.
pub(super) fn read(run: BorrowedFd, place: &Place, configs: bool, out: &mut ToolFacts) {
    for rel in &place.files {
        let leaf = rel.rsplit('/').next().unwrap_or(rel);
        match leaf {
            "output.log" => out.logs.push(rel.clone()),
            "config.yaml" if configs => {
                match read_rel(run, rel).and_then(|b| b.map(|b| parse_yaml(&b, rel)).transpose()) {
                    Ok(Some(v)) => out.configs.push(Config {
                        file: rel.clone(),
                        value: unwrap_config(v),
                    }),
                    Ok(None) => {}
                    Err(e) => out.errors.push(e),
                }
            }
            "wandb-metadata.json" => match read_rel(run, rel) {
                Ok(Some(b)) => match serde_json::from_slice::<Value>(&b) {
                    Ok(v) => out.facts.extend(metadata_facts(&v, rel)),
                    Err(e) => out.errors.push(format!("{rel}: not valid JSON ({e})")),
                },
                Ok(None) => {}
                Err(e) => out.errors.push(e),
            },
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_skips_bookkeeping_and_histograms() {
        let mut m = Metrics::default();
        parse_summary(
            r#"{"_step": 99, "_runtime": 12.5, "_wandb": {"runtime": 12}, "val_loss": 0.31,
                "acc": NaN, "weights": {"_type": "histogram", "values": [1, 2]},
                "eval": {"f1": 0.8}, "note": "x"}"#,
            "files/wandb-summary.json",
            &mut m,
        );
        let names: Vec<&str> = m.scalars.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["val_loss", "acc", "eval.f1"]);
        assert!(m.scalars[1].value.is_nan());
    }

    #[test]
    fn config_is_unwrapped_and_wandb_hidden() {
        let v = parse_yaml(
            b"wandb_version: 1\n_wandb:\n  desc: null\n  value:\n    cli_version: 0.16.0\n\
              batch_size:\n  desc: null\n  value: 32\nlr:\n  value: 0.001\n",
            "config.yaml",
        )
        .unwrap();
        let c = unwrap_config(v);
        assert_eq!(c, serde_json::json!({"batch_size": 32, "lr": 0.001}));
    }
}
