//! Curves give key metrics (issue 14): Lightning-style `metrics.csv` files
//! with their real quirks (per-step train rows and per-epoch validation
//! rows, empty cells, `nan`, `lr-Adam`, `_step`/`_epoch` suffixes, a column
//! that is all NaN, a loss that blew up to 1e24 then NaN), read through the
//! CLI as a user would.

use std::path::{Path, PathBuf};

use crate::common::{self, idle_time, write};

/// A Lightning CSVLogger file: `epochs` epochs of `steps` steps, val rows at
/// each epoch end. `val_loss` per epoch comes from `val(epoch)`.
fn lightning_csv(epochs: u32, steps: u32, val: impl Fn(u32) -> f64) -> String {
    let mut s = String::from(
        "epoch,step,lr-Adam,train_loss_step,train_loss_epoch,val_loss,val_acc,grad_nan\n",
    );
    let mut step = 0;
    for e in 0..epochs {
        for _ in 0..steps {
            step += 1;
            let loss = 2.0 / f64::from(step);
            s += &format!("{e},{step},0.001,{loss},,,,nan\n");
        }
        let v = val(e);
        s += &format!("{e},{step},,,,{v},{},nan\n", 1.0 - v / 3.0);
        s += &format!("{e},{step},,,{},,,\n", 1.0 / f64::from(e + 1));
    }
    s
}

/// A tree with three Lightning-style runs of one model:
/// `best_mid` (val_loss best at epoch 2, worse after), `steady` (falls to
/// the end), `blowup` (train loss to 1.6e24 then NaN).
fn tree() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    let run = |name: &str| root.join("experiments/hydrology/lstm").join(name);
    let vals = [1.0, 0.8, 0.5, 0.6, 0.7];
    write(
        &run("2025-03-01_10-00-00_best_mid").join("metrics/metrics.csv"),
        lightning_csv(5, 10, |e| vals[e as usize]).as_bytes(),
    );
    write(
        &run("2025-03-02_10-00-00_steady").join("metrics/metrics.csv"),
        lightning_csv(5, 10, |e| 1.0 / f64::from(e + 2)).as_bytes(),
    );
    let mut blowup = String::from("step,train/loss\n0,2.0\n1,1.0\n2,1.6e24\n");
    for i in 3..320 {
        blowup += &format!("{i},nan\n");
    }
    write(
        &run("2025-03-03_10-00-00_blowup").join("metrics/train_metrics.csv"),
        blowup.as_bytes(),
    );
    runyard::demo::set_tree_mtime(&root, idle_time()).unwrap();
    (tmp, root)
}

fn json(root: &Path, args: &[&str]) -> serde_json::Value {
    let out = common::runyard_cmd()
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn run_of<'a>(doc: &'a serde_json::Value, tag: &str) -> &'a serde_json::Value {
    doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tag"] == tag)
        .unwrap_or_else(|| panic!("no run {tag} in {doc}"))
}

#[test]
fn lightning_runs_have_key_metrics_validation_first_and_no_bookkeeping() {
    let (_tmp, root) = tree();
    let doc = json(&root, &["ls", "--json"]);
    let best_mid = run_of(&doc, "best_mid");
    let keys: Vec<&String> = best_mid["key_metrics"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys[..2], ["val_loss", "val_acc"], "{best_mid}");
    for k in &keys {
        assert!(
            !["epoch", "step", "lr-Adam", "grad_nan"].contains(&k.as_str()),
            "bookkeeping as a key metric: {keys:?}"
        );
    }
    // The last value, and the best (lower, by the name) at its step.
    let km = &best_mid["key_metric"];
    assert_eq!(km["name"], "val_loss");
    assert_eq!(km["value"], 0.7);
    assert_eq!(km["better"], "lower");
    assert_eq!(km["best"]["value"], 0.5);
    assert_eq!(km["best"]["at"], 30.0, "step of epoch 2's end");
    assert!(best_mid["diverged"].is_null());
}

#[test]
fn sorting_and_comparing_by_a_curve() {
    let (_tmp, root) = tree();
    // --sort by a curve name: lowest last val_loss first.
    let out = common::runyard_cmd()
        .arg("-C")
        .arg(&root)
        .args(["ls", "--flat", "--sort", "val_loss"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("no run has a metric"), "{stderr}");
    let steady = text.find("steady").unwrap();
    let best_mid = text.find("best_mid").unwrap();
    assert!(steady < best_mid, "{text}");
    // compare: val_loss is a column with a best; epoch, step, lr-Adam are not.
    let doc = json(&root, &["compare", "--task", "hydrology", "--json"]);
    let names: Vec<&str> = doc["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"val_loss") && names.contains(&"train/loss"),
        "{names:?}"
    );
    for b in ["epoch", "step", "lr-Adam"] {
        assert!(!names.contains(&b), "{b} is a column: {names:?}");
    }
    let val_loss = doc["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "val_loss")
        .unwrap();
    assert!(
        val_loss["best"].as_str().unwrap().ends_with("steady"),
        "{val_loss}"
    );
    // A column that is all NaN gets no best and claims no direction.
    let grad = doc["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "grad_nan");
    if let Some(g) = grad {
        assert!(g["best"].is_null(), "{g}");
    }
}

#[test]
fn a_run_that_blew_up_is_flagged_as_diverged() {
    let (_tmp, root) = tree();
    let doc = json(&root, &["ls", "--json"]);
    let r = run_of(&doc, "blowup");
    assert_eq!(r["diverged"]["metric"], "train/loss", "{r}");
    assert_eq!(r["diverged"]["at"], 3.0);
    assert_eq!(r["diverged"]["x"], "step");
    let out = common::runyard_cmd()
        .arg("-C")
        .arg(&root)
        .args(["ls"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("diverged at step 3"), "{text}");
    // show: the best before it blew up, the NaN count, where it diverged.
    let out = common::runyard_cmd()
        .arg("-C")
        .arg(&root)
        .args(["show", "blowup"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("diverged at step 3"), "{text}");
    assert!(text.contains("317 NaN/Inf"), "{text}");
    assert!(
        text.contains("1 at step 1"),
        "best before the blow-up: {text}"
    );
    let doc = json(&root, &["show", "blowup", "--json"]);
    let s = &doc["metrics"]["series"][0];
    assert_eq!(s["points"], 320);
    assert_eq!(s["non_finite"], 317);
    assert_eq!(s["max"], 1.6e24);
    assert_eq!(s["diverged_at"], 3.0);
}

#[test]
fn a_configured_key_metric_is_found_among_curves() {
    let (tmp, root) = tree();
    let cfg = tmp.path().join("config.toml");
    std::fs::write(
        &cfg,
        "[metrics]\nhydrology = { name = \"val_acc\", better = \"higher\" }\n",
    )
    .unwrap();
    let doc = json(
        &root,
        &["ls", "--json", "--config-file", cfg.to_str().unwrap()],
    );
    let km = &run_of(&doc, "best_mid")["key_metric"];
    assert_eq!(km["name"], "val_acc");
    assert_eq!(km["better"], "higher");
    assert!(km["best"]["value"].as_f64().unwrap() > 0.8, "{km}");
}

#[test]
fn a_top_k_prune_keeps_the_best_by_the_recorded_metric_not_only_the_latest() {
    // Lightning top-k names carry no metric: before, the latest epoch was
    // kept and the best by val_loss (epoch 2 here) deleted.
    let (_tmp, root) = tree();
    let run = root.join("experiments/hydrology/lstm/2025-03-01_10-00-00_best_mid");
    for (e, s) in [(0, 10), (1, 20), (2, 30), (3, 40), (4, 50)] {
        write(
            &run.join(format!("checkpoints/epoch={e}-step={s}.ckpt")),
            &[7; 4096],
        );
    }
    runyard::demo::set_tree_mtime(&root, idle_time()).unwrap();
    let out = common::runyard_cmd()
        .arg("-C")
        .arg(&root)
        .args(["clean", "best_mid", "--checkpoints", "--yes", "--no-cache"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(
            "epoch=2-step=30.ckpt  (epoch 2, step 30: val_loss 0.5: the best (lowest) recorded)"
        ),
        "{text}"
    );
    assert!(
        text.contains("epoch 4, step 50: val_loss 0.7: the latest"),
        "{text}"
    );
    assert!(text.contains("epoch 1, step 20: val_loss 0.8"), "{text}");
    let left: Vec<String> = std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut left = left;
    left.sort();
    assert_eq!(left, ["epoch=2-step=30.ckpt", "epoch=4-step=50.ckpt"]);
}

#[test]
fn with_no_metric_to_judge_by_the_prune_says_so_and_keeps_the_latest() {
    let (_tmp, root) = tree();
    let run = root.join("experiments/hydrology/lstm/2025-03-04_10-00-00_bare");
    for e in 0..3 {
        write(&run.join(format!("checkpoints/epoch={e}.ckpt")), &[7; 4096]);
    }
    write(
        &run.join("metrics/train.csv"),
        b"step,grad_norm\n1,0.5\n2,0.4\n",
    );
    runyard::demo::set_tree_mtime(&root, idle_time()).unwrap();
    let out = common::runyard_cmd()
        .arg("-C")
        .arg(&root)
        .args(["clean", "bare", "--checkpoints", "--dry-run", "--no-cache"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("no recorded metric with a known direction"),
        "{text}"
    );
    assert!(
        text.contains("epoch=2.ckpt  (epoch 2: the latest)"),
        "{text}"
    );
}

#[test]
fn jsonl_and_json_curves_skip_wandb_bookkeeping_and_all_nan_columns() {
    // W&B-style rows (`_step`, `_runtime`, `_timestamp`), a validation
    // loss logged every few steps, and a JSON list that is all NaN.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    let run = root.join("experiments/rl/ppo/2025-04-01_00-00-00_w");
    let mut jsonl = String::new();
    for i in 0..40 {
        let mut row = serde_json::json!({
            "_step": i, "_runtime": i as f64 * 1.5, "_timestamp": 1.7e9 + i as f64,
            "episode_reward": (i as f64).sqrt(),
        });
        if i % 10 == 9 {
            row["val_loss"] = serde_json::json!(1.0 / (i as f64));
        }
        jsonl += &format!("{row}\n");
    }
    write(&run.join("metrics/train_steps.jsonl"), jsonl.as_bytes());
    write(
        &run.join("metrics/probe.json"),
        br#"{"grad_nan": [NaN, NaN, NaN]}"#,
    );
    runyard::demo::set_tree_mtime(&root, idle_time()).unwrap();
    let doc = json(&root, &["ls", "--json"]);
    let r = &doc["runs"][0];
    let keys: Vec<&String> = r["key_metrics"].as_object().unwrap().keys().collect();
    assert_eq!(keys[0], "val_loss", "{r}");
    for k in &keys {
        assert!(
            !k.starts_with('_') && k.as_str() != "probe/grad_nan" && k.as_str() != "grad_nan",
            "{keys:?}"
        );
    }
    assert_eq!(r["key_metric"]["best"]["at"], 39.0, "{r}");
    let show = json(&root, &["show", "w", "--json"]);
    let series = show["metrics"]["series"].as_array().unwrap();
    let by = |n: &str| {
        series
            .iter()
            .find(|s| s["name"] == n)
            .unwrap_or_else(|| panic!("{n}: {series:?}"))
    };
    assert_eq!(by("train/_runtime")["bookkeeping"], true);
    assert_eq!(by("train/episode_reward")["better"], "higher");
    assert_eq!(by("val_loss")["points"], 4);
    let nan = series
        .iter()
        .find(|s| s["name"].as_str().unwrap().ends_with("grad_nan"))
        .unwrap();
    assert_eq!(nan["non_finite"], 3);
    assert!(
        nan["best"].is_null() && nan["diverged_at"].is_null(),
        "{nan}"
    );
}

#[test]
fn keep_best_in_the_config_keeps_that_many() {
    let (tmp, root) = tree();
    let run = root.join("experiments/hydrology/lstm/2025-03-01_10-00-00_best_mid");
    for (e, s) in [(0, 10), (1, 20), (2, 30), (3, 40), (4, 50)] {
        write(
            &run.join(format!("checkpoints/epoch={e}-step={s}.ckpt")),
            &[7; 4096],
        );
    }
    runyard::demo::set_tree_mtime(&root, idle_time()).unwrap();
    let cfg = tmp.path().join("config.toml");
    std::fs::write(&cfg, "[general]\nkeep_best = 2\n").unwrap();
    let out = common::runyard_cmd()
        .arg("-C")
        .arg(&root)
        .args([
            "clean",
            "best_mid",
            "--checkpoints",
            "--dry-run",
            "--no-cache",
            "--config-file",
        ])
        .arg(&cfg)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("epoch 2, step 30: val_loss 0.5: the best (lowest) recorded"),
        "{text}"
    );
    assert!(
        text.contains("epoch 3, step 40: val_loss 0.6: the best (lowest) recorded"),
        "{text}"
    );
    assert!(
        text.contains("epoch 4, step 50: val_loss 0.7: the latest"),
        "{text}"
    );
}
