//! `run_info.json`: the seed's keys, any other keys, and the run's status.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Scalar, read_small};

/// What `run_info.json` says about a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunInfo {
    /// The command that started the run (a list is joined with spaces).
    pub command: Option<String>,
    /// The git commit of the code.
    pub git_commit: Option<String>,
    /// Seeds, as written (a number, a list or an object).
    pub seeds: Option<Value>,
    /// Key metrics, flattened (`a.b`), numbers only.
    pub metrics: Vec<Scalar>,
    /// Free-text notes.
    pub notes: Option<String>,
    /// The status the run last wrote (`running`, `finished`, `failed`, ...).
    pub status: Option<String>,
    /// When the run started, as written.
    pub started_at: Option<String>,
    /// When the run finished, as written.
    pub finished_at: Option<String>,
    /// Every other key, in file order.
    pub extra: Map<String, Value>,
    /// Fields filled from other tools' files (a run's own `run_info.json`
    /// wins): field → the file it came from, relative to the run.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub sources: std::collections::BTreeMap<String, String>,
}

/// The file name.
pub const RUN_INFO: &str = "run_info.json";

impl RunInfo {
    /// Reads `run_info.json` from a run folder: `Ok(None)` when absent,
    /// `Err` with a readable message when malformed.
    pub fn load(run: &std::path::Path) -> Result<Option<RunInfo>, String> {
        let Some(bytes) = read_small(&run.join(RUN_INFO))? else {
            return Ok(None);
        };
        RunInfo::parse(&bytes)
    }

    /// [`RunInfo::load`] in the run folder open as `dir`.
    pub fn load_in(dir: std::os::fd::BorrowedFd) -> Result<Option<RunInfo>, String> {
        let Some(bytes) = super::read_small_in(dir, RUN_INFO)? else {
            return Ok(None);
        };
        RunInfo::parse(&bytes)
    }

    /// Parses the bytes of `run_info.json`.
    fn parse(bytes: &[u8]) -> Result<Option<RunInfo>, String> {
        let text = String::from_utf8_lossy(bytes);
        let value: Value = serde_json::from_str(&super::relax_json(&text))
            .map_err(|e| format!("{RUN_INFO}: not valid JSON ({e})"))?;
        match value {
            Value::Object(map) => Ok(Some(RunInfo::from_map(map))),
            other => Err(format!(
                "{RUN_INFO}: expected a JSON object, found {}",
                kind_of(&other)
            )),
        }
    }

    /// Sorts the keys of a parsed object into the known fields and `extra`.
    pub fn from_map(map: Map<String, Value>) -> RunInfo {
        let mut info = RunInfo::default();
        for (key, value) in map {
            match key.as_str() {
                "command" | "cmd" => info.command = text(&value).or(info.command),
                "git_commit" | "commit" | "git_sha" => info.git_commit = text(&value),
                "seeds" | "seed" => info.seeds = Some(value),
                "notes" | "note" => info.notes = text(&value),
                "status" | "state" => info.status = text(&value),
                "started_at" | "start_time" => info.started_at = text(&value),
                "finished_at" | "ended_at" | "end_time" => info.finished_at = text(&value),
                "metrics" if value.is_object() => {
                    let mut out = Vec::new();
                    flatten_numbers("", &value, &mut |name, v| {
                        out.push(Scalar {
                            name,
                            value: v,
                            file: RUN_INFO.into(),
                        })
                    });
                    info.metrics = out;
                }
                _ => {
                    info.extra.insert(key, value);
                }
            }
        }
        info
    }
}

/// A value as one line of text: strings as they are, lists joined.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => Some(
            items
                .iter()
                .map(|i| match i {
                    Value::String(s) if s.contains(' ') => format!("'{s}'"),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        other => Some(other.to_string()),
    }
}

/// A word for a JSON value's kind, for error messages.
pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Calls `f(name, value)` for every number in `v`, nested keys joined with `.`.
pub(crate) fn flatten_numbers(prefix: &str, v: &Value, f: &mut impl FnMut(String, f64)) {
    match v {
        Value::Number(_) | Value::String(_) => {
            if let Some(x) = super::json_number(v) {
                f(prefix.to_string(), x);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_numbers(&name, v, f);
            }
        }
        _ => {}
    }
}

/// How a run stands, from its written status and whether it is still writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Wrote something within the active window.
    Running,
    /// Says `running` but has written nothing for longer than the window.
    Stalled,
    /// Says it finished.
    Finished,
    /// Says it failed (or crashed, was killed, ...).
    Failed,
    /// Says nothing we understand.
    Unknown,
}

impl Status {
    /// Combines the written status with activity on disk: a run that says
    /// it finished or failed is that, even if a file changed since (cleanup
    /// still treats it as active); otherwise recent writes mean running.
    pub fn of(written: Option<&str>, active: bool) -> Status {
        // Lowercased on the stack, not in a new string: the roll-ups ask it
        // of every run (an allocation and ~30 comparisons a run were a
        // fifth of the root's roll-up). A longer word is none of these.
        let w = written.unwrap_or("");
        // Ends that are visible ASCII have nothing to trim, and `trim`
        // decodes characters to find out.
        let w = match (w.as_bytes().first(), w.as_bytes().last()) {
            (Some(a), Some(z)) if a.is_ascii_graphic() && z.is_ascii_graphic() => w,
            _ => w.trim(),
        }
        .as_bytes();
        let mut buf = [0u8; 12];
        let word: &[u8] = match buf.get_mut(..w.len()) {
            Some(b) => {
                b.copy_from_slice(w);
                b.make_ascii_lowercase();
                b
            }
            None => b"",
        };
        match word {
            b"running" | b"started" | b"training" | b"in_progress" | b"in-progress" | b"active" => {
                if active {
                    Status::Running
                } else {
                    Status::Stalled
                }
            }
            b"finished" | b"completed" | b"complete" | b"done" | b"success" | b"succeeded"
            | b"ok" => Status::Finished,
            b"failed" | b"failure" | b"error" | b"crashed" | b"killed" | b"cancelled"
            | b"canceled" | b"aborted" | b"oom" | b"diverged" | b"timeout" => Status::Failed,
            _ if active => Status::Running,
            _ => Status::Unknown,
        }
    }

    /// A short word for tables.
    pub fn word(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Stalled => "stalled",
            Status::Finished => "finished",
            Status::Failed => "failed",
            Status::Unknown => "-",
        }
    }

    /// A one-character icon for the tree.
    pub fn icon(self) -> &'static str {
        match self {
            Status::Running => "●",
            Status::Stalled => "◌",
            Status::Finished => "✓",
            Status::Failed => "✗",
            Status::Unknown => "·",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_known_and_extra_keys() {
        let v: Value = serde_json::from_str(
            r#"{"command":["python","train.py","--lr","3e-4"],"git_commit":"abc","seeds":{"torch":1},
               "metrics":{"val/acc":0.87,"nested":{"f1":0.5},"name":"x"},"notes":"ok","status":"finished",
               "host":"gpu-3"}"#,
        )
        .unwrap();
        let Value::Object(map) = v else { panic!() };
        let info = RunInfo::from_map(map);
        assert_eq!(info.command.as_deref(), Some("python train.py --lr 3e-4"));
        assert_eq!(info.metrics.len(), 2);
        assert_eq!(info.metrics[1].name, "nested.f1");
        assert_eq!(info.extra["host"], "gpu-3");
        assert_eq!(info.status.as_deref(), Some("finished"));
    }

    #[test]
    fn status_combines_words_and_activity() {
        assert_eq!(Status::of(Some("finished"), true), Status::Finished);
        assert_eq!(Status::of(None, true), Status::Running);
        assert_eq!(Status::of(Some("running"), true), Status::Running);
        assert_eq!(Status::of(Some("running"), false), Status::Stalled);
        assert_eq!(Status::of(Some("Completed"), false), Status::Finished);
        assert_eq!(Status::of(Some("crashed"), false), Status::Failed);
        assert_eq!(Status::of(None, false), Status::Unknown);
        // Words are trimmed and matched whatever their ASCII case; other
        // letters must match exactly, and a word must match whole.
        assert_eq!(Status::of(Some(" In-Progress\n"), false), Status::Stalled);
        assert_eq!(Status::of(Some("TIMEOUT"), true), Status::Failed);
        assert_eq!(Status::of(Some("finishéd"), false), Status::Unknown);
        assert_eq!(Status::of(Some("ok!"), true), Status::Running);
        assert_eq!(Status::of(Some("in-progress-ish"), false), Status::Unknown);
        assert_eq!(Status::of(Some("In_Progress"), true), Status::Running);
        assert_eq!(
            Status::of(Some("\u{a0}failed\u{2003}"), true),
            Status::Failed
        );
    }
}
