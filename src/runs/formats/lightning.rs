//! PyTorch Lightning's CSVLogger folder (`lightning_logs/version_N/`,
//! `csv_logs/<name>/version_N/`, or the run itself): `metrics.csv` is read
//! by the CSV stream reader like any metrics table (per-step and per-epoch
//! rows share it, every other cell empty, x being its `step` column);
//! `hparams.yaml` is a config. Checkpoints under `checkpoints/` are listed
//! with the run's own (see [`crate::runs::files::checkpoints`]).

use std::os::fd::BorrowedFd;

use serde_json::Value;

use super::{Place, ToolFacts, parse_yaml, read_rel};
use crate::runs::files::Config;

/// The files of a Lightning logger folder runyard reads.
pub const FILES: [&str; 2] = ["hparams.yaml", "metrics.csv"];

/// True for a Lightning `metrics.csv` (read as a series table).
pub fn is_metrics(rel: &str) -> bool {
    rel.rsplit('/').next() == Some("metrics.csv")
}

/// Reads `hparams.yaml` as a config (an empty one is none).
pub(super) fn read(run: BorrowedFd, place: &Place, out: &mut ToolFacts) {
    for rel in place.files.iter().filter(|f| f.ends_with("hparams.yaml")) {
        match read_rel(run, rel).and_then(|b| match b {
            Some(b) => parse_yaml(&b, rel).map(Some),
            None => Ok(None),
        }) {
            Ok(Some(value)) if !is_empty(&value) => out.configs.push(Config {
                file: rel.clone(),
                value,
            }),
            Ok(_) => {}
            Err(e) => out.errors.push(e),
        }
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}
