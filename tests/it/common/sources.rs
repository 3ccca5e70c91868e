//! Small raw trees of other ML tools, written the way each tool writes
//! them (a few runs, minimal real-looking files), every file dated idle.
//! Each builder returns the folder to open and the runs it holds, with the
//! one that is newest by the tool's own time.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{idle_time, write};

/// A built tree: where to open it, every run's `task/model/run` label,
/// and the label of the newest run by the tool's time.
pub struct Raw {
    /// The folder to pass to runyard.
    pub root: PathBuf,
    /// Every run's label, sorted.
    pub labels: Vec<String>,
    /// The newest run by the tool's own record.
    pub newest: String,
}

/// Seconds since the epoch of `hours` ago.
fn ago(hours: u64) -> u64 {
    (SystemTime::now() - Duration::from_secs(hours * 3600))
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// Local `YYYY-MM-DD`, `HH-MM-SS` of a unix time (Hydra and W&B name
/// folders by local wall-clock time).
fn local(secs: u64) -> (String, String) {
    let z = jiff::Timestamp::from_second(secs as i64)
        .unwrap()
        .to_zoned_datetime(jiff::tz::TimeZone::system());
    (
        z.strftime("%Y-%m-%d").to_string(),
        z.strftime("%H-%M-%S").to_string(),
    )
}

fn idle(root: &Path) {
    runyard::demo::set_tree_mtime(root, idle_time()).unwrap();
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// A Lightning project folder: `lightning_logs/version_{0,1,2}/` (CSVLogger
/// files, checkpoints; version_1 also a TensorBoard event file) and
/// `csv_logs/version_0/`. By the tools' times version_1 is the newest (its
/// event file's name), though version_2 has the greatest number.
pub fn lightning(dir: &Path) -> Raw {
    let root = dir.join("proj");
    let logs = root.join("lightning_logs");
    let csv = "epoch,step,train_loss_step,val_loss,val_acc\n\
               0,49,0.91,,\n0,49,,0.80,0.61\n1,99,0.55,,\n1,99,,0.62,0.70\n";
    for v in 0..3 {
        let run = logs.join(format!("version_{v}"));
        write(&run.join("metrics.csv"), csv.as_bytes());
        write(
            &run.join("hparams.yaml"),
            b"lr: 0.001\nbatch_size: 32\noptimizer: !!python/name:torch.optim.adam.Adam ''\n",
        );
        write(&run.join("checkpoints/epoch=0-step=49.ckpt"), &[7u8; 3000]);
        write(&run.join("checkpoints/epoch=1-step=99.ckpt"), &[7u8; 3000]);
        write(&run.join("checkpoints/last.ckpt"), &[7u8; 3000]);
    }
    let event = format!("events.out.tfevents.{}.host.4242.0", ago(2));
    write(&logs.join("version_1").join(event), b"\x18\0\0\0\0\0\0\0");
    let other = root.join("csv_logs/version_0");
    write(&other.join("metrics.csv"), csv.as_bytes());
    write(&other.join("hparams.yaml"), b"lr: 0.01\n");
    idle(&root);
    for (v, hours) in [(0, 9), (1, 8), (2, 7)] {
        let hp = logs.join(format!("version_{v}/hparams.yaml"));
        runyard::demo::set_mtime(&hp, at(ago(hours))).unwrap();
    }
    runyard::demo::set_mtime(&other.join("hparams.yaml"), at(ago(10))).unwrap();
    Raw {
        root,
        labels: sorted(vec![
            "csv_logs/lightning/version_0".into(),
            "lightning_logs/lightning/version_0".into(),
            "lightning_logs/lightning/version_1".into(),
            "lightning_logs/lightning/version_2".into(),
        ]),
        newest: "lightning_logs/lightning/version_1".into(),
    }
}

/// One Hydra job folder's `.hydra/` files and log.
fn hydra_job(job: &Path, overrides: &str) {
    write(
        &job.join(".hydra/config.yaml"),
        b"model:\n  name: resnet\nlr: 0.001\n",
    );
    write(&job.join(".hydra/overrides.yaml"), overrides.as_bytes());
    write(
        &job.join(".hydra/hydra.yaml"),
        b"hydra:\n  job:\n    name: train\n  runtime:\n    cwd: /home/me/proj\n",
    );
    write(&job.join("train.log"), b"[INFO] - epoch 0 loss 0.9\n");
}

/// A Hydra project folder with `outputs/DATE/TIME/` single runs and a
/// `multirun/DATE/TIME/{0,1,2}/` sweep with its `multirun.yaml`. The
/// newest is the second single run.
pub fn hydra(dir: &Path) -> Raw {
    let root = dir.join("proj");
    let mut labels = Vec::new();
    let mut newest = String::new();
    for hours in [6, 3] {
        let (date, time) = local(ago(hours));
        hydra_job(&root.join("outputs").join(&date).join(&time), "[]\n");
        labels.push(format!("outputs/{date}/{time}"));
        newest = format!("outputs/{date}/{time}");
    }
    let (date, time) = local(ago(5));
    let sweep = root.join("multirun").join(&date).join(&time);
    write(
        &sweep.join("multirun.yaml"),
        b"hydra:\n  mode: MULTIRUN\n  sweeper:\n    params:\n      lr: 0.1,0.01,0.001\n",
    );
    for n in 0..3 {
        hydra_job(&sweep.join(n.to_string()), &format!("- lr=0.{n}1\n"));
        labels.push(format!("multirun/{date}_{time}/{n}"));
    }
    // A file of the program's own beside the runs: not a run.
    write(&root.join("README.md"), b"# proj\n");
    idle(&root);
    Raw {
        root,
        labels: sorted(labels),
        newest,
    }
}

/// An MLflow file store `mlruns/`: experiment 0 (Default) with two runs,
/// experiment 1 (`mnist`) with two runs and one deleted run, plus
/// `models/` and `.trash/`. The newest by start_time is mnist's second
/// run, though its folder name sorts first.
pub fn mlflow(dir: &Path) -> Raw {
    let root = dir.join("mlruns");
    let exp_meta = |id: &str, name: &str| {
        format!(
            "artifact_location: file:///home/me/proj/mlruns/{id}\ncreation_time: 1700000000000\n\
             experiment_id: '{id}'\nlast_update_time: 1700000000000\nlifecycle_stage: active\nname: {name}\n"
        )
    };
    let run_meta = |exp: &str, id: &str, start: u64, stage: &str| {
        format!(
            "artifact_uri: file:///home/me/proj/mlruns/{exp}/{id}/artifacts\nend_time: {}\n\
             entry_point_name: ''\nexperiment_id: '{exp}'\nlifecycle_stage: {stage}\nrun_id: {id}\n\
             run_name: bold-fox-{}\nsource_name: ''\nsource_type: 4\nsource_version: ''\n\
             start_time: {}\nstatus: 3\ntags: []\nuser_id: me\n",
            (start + 60) * 1000,
            &id[..2],
            start * 1000
        )
    };
    write(
        &root.join("0/meta.yaml"),
        exp_meta("0", "Default").as_bytes(),
    );
    write(&root.join("1/meta.yaml"), exp_meta("1", "mnist").as_bytes());
    let runs = [
        ("0", "a1b2c3d4e5f60718293a4b5c6d7e8f90", 9, "active"),
        ("0", "b1b2c3d4e5f60718293a4b5c6d7e8f90", 8, "active"),
        ("1", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", 2, "active"),
        ("1", "c1b2c3d4e5f60718293a4b5c6d7e8f90", 4, "active"),
        ("1", "d1b2c3d4e5f60718293a4b5c6d7e8f90", 1, "deleted"),
    ];
    for (exp, id, hours, stage) in runs {
        let run = root.join(exp).join(id);
        write(
            &run.join("meta.yaml"),
            run_meta(exp, id, ago(hours), stage).as_bytes(),
        );
        write(
            &run.join("metrics/val_loss"),
            b"1700000000000 0.9 0\n1700000060000 0.5 1\n",
        );
        write(&run.join("params/lr"), b"0.001");
        write(
            &run.join("tags/mlflow.runName"),
            format!("bold-fox-{}", &id[..2]).as_bytes(),
        );
        write(&run.join("artifacts/model/MLmodel"), b"flavors: {}\n");
    }
    write(
        &root.join("models/resnet/meta.yaml"),
        b"name: resnet\ncreation_timestamp: 1700000000000\n",
    );
    write(
        &root.join(".trash/7/meta.yaml"),
        exp_meta("7", "old").as_bytes(),
    );
    idle(&root);
    Raw {
        root,
        labels: sorted(vec![
            "Default/mlflow/bold-fox-a1_a1b2c3d4".into(),
            "Default/mlflow/bold-fox-b1_b1b2c3d4".into(),
            "mnist/mlflow/bold-fox-0f_0f1e2d3c".into(),
            "mnist/mlflow/bold-fox-c1_c1b2c3d4".into(),
        ]),
        newest: "mnist/mlflow/bold-fox-0f_0f1e2d3c".into(),
    }
}

/// A `wandb/` folder: two online runs, one offline run, the `latest-run`
/// link and the debug logs. The newest by its name is the offline run.
pub fn wandb(dir: &Path) -> Raw {
    let root = dir.join("wandb");
    let name = |prefix: &str, hours: u64, id: &str| {
        let (date, time) = local(ago(hours));
        format!(
            "{prefix}-{}_{}-{id}",
            date.replace('-', ""),
            time.replace('-', "")
        )
    };
    let runs = [
        name("run", 6, "k3j2h1g0"),
        name("run", 4, "a9b8c7d6"),
        name("offline-run", 2, "z1y2x3w4"),
    ];
    for r in &runs {
        let run = root.join(r);
        write(
            &run.join("files/wandb-summary.json"),
            b"{\"val/loss\": 0.41, \"_step\": 99, \"_runtime\": 61.2}",
        );
        write(
            &run.join("files/config.yaml"),
            b"_wandb:\n  value:\n    python_version: 3.11.4\nlr:\n  value: 0.001\n",
        );
        write(&run.join("files/output.log"), b"epoch 0\n");
        write(&run.join("logs/debug.log"), b"wandb init\n");
        let id = r.rsplit('-').next().unwrap();
        write(&run.join(format!("run-{id}.wandb")), &[0u8; 700]);
    }
    std::os::unix::fs::symlink(&runs[1], root.join("latest-run")).unwrap();
    std::os::unix::fs::symlink(
        format!("{}/logs/debug.log", runs[1]),
        root.join("debug.log"),
    )
    .unwrap();
    idle(&root);
    let label = |r: &str| {
        let model = if r.starts_with("offline-") {
            "offline"
        } else {
            "online"
        };
        format!("wandb/{model}/{r}")
    };
    Raw {
        root,
        labels: sorted(runs.iter().map(|r| label(r)).collect()),
        newest: label(&runs[2]),
    }
}
