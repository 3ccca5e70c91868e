//! Writers of other ML tools' files, each with its format's quirks, written
//! here from the formats' descriptions (no tool's own output copied): a
//! Lightning CSVLogger folder, TensorBoard event files framed and
//! checksummed by hand, an MLflow file-store run, a W&B run folder and a
//! Hydra job folder.

use std::path::Path;

use super::write;

/// CRC-32C, bit by bit: independent of the table the crate uses.
pub fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// TensorFlow's masked CRC-32C: the CRC rotated right by 15 bits plus a constant.
pub fn masked(data: &[u8]) -> u32 {
    let crc = crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// One record: length, masked CRC of the length, data, masked CRC of the data.
pub fn frame(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = len.to_vec();
    out.extend(masked(&len).to_le_bytes());
    out.extend(data);
    out.extend(masked(data).to_le_bytes());
    out
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(out: &mut Vec<u8>, field: u32, wire: u8) {
    varint(out, (u64::from(field) << 3) | u64::from(wire));
}

fn bytes_field(out: &mut Vec<u8>, field: u32, data: &[u8]) {
    key(out, field, 2);
    varint(out, data.len() as u64);
    out.extend(data);
}

/// A value a summary holds.
pub enum TbValue {
    /// `simple_value` (PyTorch's SummaryWriter, TF1).
    Simple(f32),
    /// A TF2 scalar: a float tensor of no dimension, its number in
    /// `tensor_content`, with the `scalars` plugin named.
    Tensor(f32),
    /// A TF2 scalar in `double_val` (packed).
    Double(f64),
    /// A histogram (tensor of shape [2, 3], `histograms` plugin): skipped.
    Histogram,
}

/// A serialized `Event` at `step` with these summary values.
pub fn event(wall_time: f64, step: i64, values: &[(&str, TbValue)]) -> Vec<u8> {
    let mut summary = Vec::new();
    for (tag, v) in values {
        let mut val = Vec::new();
        bytes_field(&mut val, 1, tag.as_bytes());
        let plugin = |name: &str| {
            let mut pd = Vec::new();
            bytes_field(&mut pd, 1, name.as_bytes());
            let mut md = Vec::new();
            bytes_field(&mut md, 1, &pd);
            md
        };
        match v {
            TbValue::Simple(x) => {
                key(&mut val, 2, 5);
                val.extend(x.to_le_bytes());
            }
            TbValue::Tensor(x) => {
                let mut t = Vec::new();
                key(&mut t, 1, 0);
                varint(&mut t, 1);
                bytes_field(&mut t, 2, &[]);
                bytes_field(&mut t, 4, &x.to_le_bytes());
                bytes_field(&mut val, 8, &t);
                bytes_field(&mut val, 9, &plugin("scalars"));
            }
            TbValue::Double(x) => {
                let mut t = Vec::new();
                key(&mut t, 1, 0);
                varint(&mut t, 2);
                bytes_field(&mut t, 6, &x.to_le_bytes());
                bytes_field(&mut val, 8, &t);
            }
            TbValue::Histogram => {
                let mut shape = Vec::new();
                for size in [2u64, 3] {
                    let mut dim = Vec::new();
                    key(&mut dim, 1, 0);
                    varint(&mut dim, size);
                    bytes_field(&mut shape, 2, &dim);
                }
                let mut t = Vec::new();
                key(&mut t, 1, 0);
                varint(&mut t, 2);
                bytes_field(&mut t, 2, &shape);
                let content: Vec<u8> = (0..6).flat_map(|i| f64::from(i).to_le_bytes()).collect();
                bytes_field(&mut t, 4, &content);
                bytes_field(&mut val, 8, &t);
                bytes_field(&mut val, 9, &plugin("histograms"));
            }
        }
        bytes_field(&mut summary, 1, &val);
    }
    let mut ev = Vec::new();
    key(&mut ev, 1, 1);
    ev.extend(wall_time.to_le_bytes());
    key(&mut ev, 2, 0);
    varint(&mut ev, step as u64);
    bytes_field(&mut ev, 5, &summary);
    ev
}

/// The first record of every event file: `file_version`.
pub fn version_event() -> Vec<u8> {
    let mut ev = Vec::new();
    key(&mut ev, 1, 1);
    ev.extend(1_700_000_000f64.to_le_bytes());
    bytes_field(&mut ev, 3, b"brain.Event:2");
    ev
}

/// An event file as a PyTorch + TF2 run writes it: `loss/train` as simple
/// values at steps 0..4, `val/f1` as TF2 tensors at steps 2 and 4, `val/auc`
/// in `double_val` at step 4, a histogram at step 4, then a last record cut
/// half-way (a writer still at it). Returns the bytes of the whole records.
pub fn tensorboard_file(path: &Path) -> u64 {
    let mut out = frame(&version_event());
    for (step, loss) in [1.0f32, 0.8, 0.6, 0.5, 0.4].iter().enumerate() {
        out.extend(frame(&event(
            1_700_000_000.0 + step as f64,
            step as i64,
            &[("loss/train", TbValue::Simple(*loss))],
        )));
    }
    out.extend(frame(&event(
        1_700_000_010.0,
        2,
        &[("val/f1", TbValue::Tensor(0.5))],
    )));
    out.extend(frame(&event(
        1_700_000_020.0,
        4,
        &[
            ("val/f1", TbValue::Tensor(0.75)),
            ("val/auc", TbValue::Double(0.875)),
            ("weights", TbValue::Histogram),
        ],
    )));
    let whole = out.len() as u64;
    let cut = frame(&event(
        1_700_000_030.0,
        5,
        &[("loss/train", TbValue::Simple(0.1))],
    ));
    out.extend(&cut[..cut.len() - 7]);
    write(path, &out);
    whole
}

/// An event file whose third record's data does not match its CRC.
/// Returns the byte offset of that record.
pub fn tensorboard_bad_crc(path: &Path) -> u64 {
    let mut out = frame(&version_event());
    out.extend(frame(&event(
        1.0,
        0,
        &[("loss/train", TbValue::Simple(2.0))],
    )));
    let at = out.len() as u64;
    let mut bad = frame(&event(2.0, 1, &[("loss/train", TbValue::Simple(1.0))]));
    let n = bad.len();
    bad[n - 6] ^= 0x40;
    out.extend(bad);
    out.extend(frame(&event(
        3.0,
        2,
        &[("loss/train", TbValue::Simple(0.5))],
    )));
    write(path, &out);
    at
}

/// Lightning's CSVLogger `metrics.csv`: per-step rows (`train_loss_step`,
/// the LearningRateMonitor's `lr-Adam`) and per-epoch rows (`val_loss`,
/// `val/loss`, `val_acc`, `train_loss_epoch`) in one table, every other
/// cell empty, a huge value then `nan` and `inf` early on. `val_loss` is
/// 0.8, 0.6, 0.65 at steps 2, 5, 8.
pub const LIGHTNING_CSV: &str = "\
lr-Adam,step,epoch,train_loss_step,val_loss,val/loss,val_acc,train_loss_epoch
0.001,0,,,,,,
,0,0,1.6e24,,,,
,1,0,nan,,,,
,2,0,0.9,,,,
,2,0,,0.8,0.8,0.5,
,2,0,,,,,0.95
0.0005,3,,,,,,
,3,1,0.7,,,,
,4,1,inf,,,,
,5,1,0.5,,,,
,5,1,,0.6,0.6,0.7,
,5,1,,,,,0.6
,6,2,0.45,,,,
,7,2,0.4,,,,
,8,2,0.35,,,,
,8,2,,0.65,0.65,0.72,
,8,2,,,,,0.4
";

/// A Lightning version folder: `metrics.csv`, `hparams.yaml` with the
/// Python tags PyYAML writes, and `checkpoints/` as ModelCheckpoint
/// leaves them.
pub fn lightning_version(dir: &Path) {
    write(&dir.join("metrics.csv"), LIGHTNING_CSV.as_bytes());
    write(
        &dir.join("hparams.yaml"),
        b"lr: 0.001\nbatch_size: 32\noptimizer: !!python/name:torch.optim.adam.Adam ''\n\
          betas: !!python/tuple\n- 0.9\n- 0.999\n",
    );
    for name in [
        "epoch=0-step=2.ckpt",
        "epoch=1-step=5.ckpt",
        "epoch=2-step=8.ckpt",
        "last.ckpt",
    ] {
        write(&dir.join("checkpoints").join(name), b"weights");
    }
}

/// A Hydra job folder's `.hydra/` and `train.log`.
pub fn hydra_job(dir: &Path) {
    write(
        &dir.join(".hydra/config.yaml"),
        b"model: resnet\nlr: 0.0001\ntrainer:\n  max_epochs: 3\n",
    );
    write(
        &dir.join(".hydra/overrides.yaml"),
        b"- lr=1e-4\n- trainer.max_epochs=3\n",
    );
    write(
        &dir.join(".hydra/hydra.yaml"),
        b"hydra:\n  run:\n    dir: outputs/${now:%Y-%m-%d}/${now:%H-%M-%S}\n  job:\n    name: train\n    \
          override_dirname: lr=1e-4,trainer.max_epochs=3\n  runtime:\n    cwd: /home/user/project\n  \
          overrides:\n    hydra:\n    - hydra.mode=RUN\n    task:\n    - lr=1e-4\n    - trainer.max_epochs=3\n",
    );
    write(&dir.join("train.log"), b"[2025-01-01 10:00:00] epoch 0\n");
}

/// An MLflow file-store tree under `mlruns/`: experiment `0` with one run
/// `3f2a9c` (status 4: failed), a metric key with `/` (a subfolder),
/// params, tags; and `models/`, which holds no run.
pub fn mlflow_tree(mlruns: &Path) {
    write(
        &mlruns.join("0/meta.yaml"),
        b"artifact_location: file:///tmp/mlruns/0\nexperiment_id: '0'\nlifecycle_stage: active\nname: Default\n",
    );
    let run = mlruns.join("0/3f2a9c");
    write(
        &run.join("meta.yaml"),
        b"artifact_uri: file:///tmp/mlruns/0/3f2a9c/artifacts\nend_time: 1735725600000\n\
          experiment_id: '0'\nlifecycle_stage: active\nrun_id: 3f2a9c\nrun_name: bold-fox-12\n\
          source_type: 4\nstart_time: 1735722000000\nstatus: 4\nuser_id: alice\n",
    );
    write(
        &run.join("metrics/val/loss"),
        b"1735722000000 0.9 0\n1735722100000 0.7 1\n1735722200000 0.75 2\n",
    );
    write(
        &run.join("metrics/train_loss"),
        b"1735722000000 1.2 0\n1735722100000 0.8 1\n1735722200000 0.6 2\n",
    );
    write(&run.join("params/lr"), b"0.01");
    write(&run.join("params/batch_size"), b"64");
    write(&run.join("tags/mlflow.runName"), b"bold-fox-12");
    write(&run.join("tags/mlflow.source.git.commit"), b"9e1c0ffee");
    write(&run.join("tags/mlflow.source.name"), b"train.py");
    write(&run.join("tags/mlflow.user"), b"alice");
    write(&run.join("artifacts/model/MLmodel"), b"flavors: {}\n");
    write(&mlruns.join("models/m/meta.yaml"), b"name: m\n");
}

/// A W&B run folder under `wandb/`: `run-20250101_100000-abc123/files/`
/// with the summary (bookkeeping keys, a histogram), the wrapped config
/// with `_wandb`, the metadata and the console log, the binary record log,
/// and `latest-run` as the link W&B makes.
pub fn wandb_tree(wandb: &Path) {
    let run = wandb.join("run-20250101_100000-abc123");
    write(
        &run.join("files/wandb-summary.json"),
        br#"{"_step": 99, "_runtime": 120.5, "_timestamp": 1735725600.1, "_wandb": {"runtime": 120},
            "val_loss": 0.21, "val/acc": 0.93, "train/loss": 0.1,
            "grads": {"_type": "histogram", "values": [1, 2], "bins": [0, 1, 2]},
            "epoch": 9}"#,
    );
    write(
        &run.join("files/config.yaml"),
        b"wandb_version: 1\n\n_wandb:\n  desc: null\n  value:\n    cli_version: 0.16.0\n    \
          python_version: 3.11.4\n    t:\n      1: [1, 5]\nbatch_size:\n  desc: null\n  value: 128\n\
          lr:\n  desc: Learning rate\n  value: 0.0003\n",
    );
    write(
        &run.join("files/wandb-metadata.json"),
        br#"{"os": "Linux", "python": "3.11.4", "startedAt": "2025-01-01T10:00:00.123456",
            "program": "train.py", "args": ["--lr", "3e-4"], "git": {"remote": "git@x:y.git",
            "commit": "feedbeef"}, "host": "gpu-7"}"#,
    );
    write(&run.join("files/output.log"), b"epoch 0 loss 1.0\n");
    write(&run.join("run-abc123.wandb"), b"\x00\x01binary");
    std::os::unix::fs::symlink("run-20250101_100000-abc123", wandb.join("latest-run")).unwrap();
}
