//! Other tools' files inside layout runs: Lightning, TensorBoard, Hydra,
//! MLflow and W&B, read into `show --json`, listings, `check`, and the
//! summary cache.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::formats::{self, TbValue};
use crate::common::{idle_time, runyard_cmd, write};

const A: &str = "experiments/cls/resnet/2025-01-01_10-00-00";
const B: &str = "experiments/cls/mlp/2025-01-02_10-00-00";
const C: &str = "experiments/cls/vit/2025-01-03_10-00-00";
const D: &str = "experiments/cls/cnn/2025-01-04_10-00-00";
const TB: &str = "tb_logs/version_0/events.out.tfevents.1700000000.host.1.0";

/// A layout tree whose runs hold other tools' files: A a Hydra job with
/// Lightning's CSV logs and checkpoints and a TensorBoard file (and its
/// own run_info.json), B an MLflow tree, C a W&B run, D a TensorBoard file
/// with a bad CRC at its root. Every time set back: no run is active.
fn tree() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    let a = root.join(A);
    write(
        &a.join("run_info.json"),
        br#"{"git_commit": "own123", "status": "finished"}"#,
    );
    formats::hydra_job(&a);
    formats::lightning_version(&a.join("lightning_logs/version_0"));
    formats::tensorboard_file(&a.join(TB));
    formats::mlflow_tree(&root.join(B).join("mlruns"));
    formats::wandb_tree(&root.join(C).join("wandb"));
    formats::tensorboard_bad_crc(&root.join(D).join("events.out.tfevents.1.h.1.0"));
    age(&root);
    (tmp, root)
}

/// Sets every file's and folder's time back an hour (links left alone).
fn age(path: &Path) {
    for e in walkdir::WalkDir::new(path).contents_first(true) {
        let e = e.unwrap();
        if e.path_is_symlink() {
            continue;
        }
        std::fs::File::open(e.path())
            .unwrap()
            .set_modified(idle_time())
            .unwrap();
    }
}

fn show(root: &Path, run: &str) -> (String, Value) {
    let out = runyard_cmd()
        .current_dir(root)
        .args(["show", run, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    (text, v)
}

fn series<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["metrics"]["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no series {name} in {}", v["metrics"]["series"]))
}

fn scalar(v: &Value, name: &str) -> Option<f64> {
    v["metrics"]["scalars"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .and_then(|s| s["value"].as_f64())
}

#[test]
fn lightning_tensorboard_and_hydra_in_a_layout_run() {
    let (_tmp, root) = tree();
    let (text, v) = show(&root, "2025-01-01");
    // Hydra's overrides first: what this run changed.
    assert!(text.find("\"overrides\"").unwrap() < text.find("\"run\"").unwrap());
    assert_eq!(
        v["overrides"]["items"],
        serde_json::json!(["lr=1e-4", "trainer.max_epochs=3"])
    );
    assert_eq!(v["overrides"]["file"], ".hydra/overrides.yaml");
    // The run's own run_info.json wins; Hydra fills the command line.
    assert_eq!(v["info"]["git_commit"], "own123");
    assert_eq!(v["info"]["command"], "train lr=1e-4 trainer.max_epochs=3");
    assert_eq!(v["info"]["sources"]["command"], ".hydra/hydra.yaml");
    // The run id is the run's own time: the event file's name does not
    // override it.
    assert!(v["info"]["started_at"].is_null());
    assert!(v["info"]["sources"].get("git_commit").is_none());
    assert_eq!(v["info"]["extra"]["cwd"], "/home/user/project");
    // No config.yaml of its own: Hydra's composed config.
    assert_eq!(v["config"]["file"], ".hydra/config.yaml");
    assert_eq!(v["config"]["value"]["trainer"]["max_epochs"], 3);

    // Lightning's CSV: per-epoch validation rows among per-step rows.
    let val = series(&v, "val_loss");
    assert_eq!(val["x"], "step");
    assert_eq!(val["points"], 3);
    assert_eq!(val["last"], 0.65);
    assert_eq!(val["better"], "lower");
    assert_eq!(val["best"]["value"], 0.6);
    assert_eq!(val["best"]["at"], 5.0);
    assert_eq!(val["file"], "lightning_logs/version_0/metrics.csv");
    assert_eq!(series(&v, "val/loss")["last"], 0.65);
    assert_eq!(series(&v, "val_acc")["best"]["value"], 0.72);
    let step = series(&v, "train_loss_step");
    assert_eq!(step["points"], 9);
    assert_eq!(step["non_finite"], 2);
    assert_eq!(step["max"], 1.6e24);
    assert_eq!(series(&v, "lr-Adam")["bookkeeping"], true);
    // A validation curve is the key metric, not a training one.
    let key = v["run"]["key_metric"]["name"].as_str().unwrap();
    assert!(key.starts_with("val"), "{key}");

    // TensorBoard: simple values and TF2 tensors; the histogram skipped;
    // the half-written last record not read.
    let loss = series(&v, "loss/train");
    assert_eq!(
        (loss["points"].as_u64(), loss["last"].as_f64()),
        (Some(5), Some(0.4f32 as f64))
    );
    assert_eq!(loss["file"], TB);
    assert_eq!(series(&v, "val/f1")["last"], 0.75);
    assert_eq!(series(&v, "val/f1")["points"], 2);
    assert_eq!(series(&v, "val/auc")["last"], 0.875);
    assert!(
        v["metrics"]["series"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["name"] != "weights")
    );

    // Lightning's checkpoints are the run's: last and the latest kept.
    let ckpts: Vec<(String, bool)> = v["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["file"]["rel"].as_str().unwrap().to_string(),
                c["prune"].as_bool().unwrap(),
            )
        })
        .collect();
    let dir = "lightning_logs/version_0/checkpoints";
    assert_eq!(
        ckpts,
        [
            (format!("{dir}/epoch=0-step=2.ckpt"), true),
            (format!("{dir}/epoch=1-step=5.ckpt"), true),
            (format!("{dir}/epoch=2-step=8.ckpt"), false),
            (format!("{dir}/last.ckpt"), false),
        ]
    );
    let logs: Vec<&str> = v["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap())
        .collect();
    assert_eq!(logs, ["train.log"]);
    let tools: Vec<(&str, &str)> = v["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["tool"].as_str().unwrap(), t["dir"].as_str().unwrap()))
        .collect();
    assert_eq!(
        tools,
        [
            ("hydra", ""),
            ("lightning", "lightning_logs/version_0"),
            ("tensorboard", "tb_logs/version_0"),
        ]
    );
    assert_eq!(v["run"]["errors"], serde_json::json!([]));

    // The text says the overrides first, and where filled facts came from.
    let out = runyard_cmd()
        .current_dir(&root)
        .args(["show", "2025-01-01"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let second = text.lines().nth(1).unwrap();
    assert!(
        second.contains("overrides") && second.contains("lr=1e-4 trainer.max_epochs=3"),
        "{text}"
    );
    assert!(
        text.contains("train lr=1e-4 trainer.max_epochs=3  (.hydra/hydra.yaml)"),
        "{text}"
    );
}

#[test]
fn mlflow_run_folder_in_a_layout_run() {
    let (_tmp, root) = tree();
    let (_, v) = show(&root, "2025-01-02");
    let run = "mlruns/0/3f2a9c";
    assert_eq!(v["info"]["status"], "failed");
    assert_eq!(v["run"]["status"], "failed");
    assert_eq!(v["info"]["extra"]["name"], "bold-fox-12");
    assert_eq!(v["info"]["git_commit"], "9e1c0ffee");
    assert_eq!(
        v["info"]["sources"]["git_commit"],
        format!("{run}/tags/mlflow.source.git.commit")
    );
    assert_eq!(v["info"]["started_at"], "2025-01-01T09:00:00Z");
    assert_eq!(v["info"]["finished_at"], "2025-01-01T10:00:00Z");
    assert_eq!(v["info"]["extra"]["user"], "alice");
    assert_eq!(v["config"]["file"], format!("{run}/params"));
    assert_eq!(v["config"]["value"]["lr"], "0.01");
    // A key with `/` is a subfolder.
    let val = series(&v, "val/loss");
    assert_eq!(val["last"], 0.75);
    assert_eq!(val["best"]["value"], 0.7);
    assert_eq!(val["file"], format!("{run}/metrics/val/loss"));
    assert_eq!(series(&v, "train_loss")["last"], 0.6);
    // `models/` holds registered models, not runs.
    assert_eq!(v["tools"].as_array().unwrap().len(), 1);
    assert_eq!(v["run"]["key_metrics"]["val/loss"], 0.75);
}

#[test]
fn wandb_run_folder_in_a_layout_run() {
    let (_tmp, root) = tree();
    let (_, v) = show(&root, "2025-01-03");
    let files = "wandb/run-20250101_100000-abc123/files";
    assert_eq!(scalar(&v, "val_loss"), Some(0.21));
    assert_eq!(scalar(&v, "val/acc"), Some(0.93));
    assert_eq!(scalar(&v, "_step"), None);
    assert_eq!(scalar(&v, "grads"), None);
    assert_eq!(v["config"]["file"], format!("{files}/config.yaml"));
    assert_eq!(
        v["config"]["value"],
        serde_json::json!({"batch_size": 128, "lr": 0.0003})
    );
    assert_eq!(v["info"]["git_commit"], "feedbeef");
    assert_eq!(v["info"]["command"], "train.py --lr 3e-4");
    assert_eq!(v["info"]["extra"]["host"], "gpu-7");
    assert_eq!(v["info"]["started_at"], "2025-01-01T10:00:00.123456");
    assert_eq!(v["logs"][0]["rel"], format!("{files}/output.log"));
    // `latest-run` is a link: never followed, so the run is not read twice.
    assert_eq!(v["tools"].as_array().unwrap().len(), 1);
    let km = &v["run"]["key_metrics"];
    assert_eq!(
        (km["val_loss"].as_f64(), km["val/acc"].as_f64()),
        (Some(0.21), Some(0.93))
    );
}

#[test]
fn a_bad_crc_ends_the_read_with_a_message_and_keeps_what_was_read() {
    let (_tmp, root) = tree();
    let at = formats::tensorboard_bad_crc(&root.join(D).join("events.out.tfevents.1.h.1.0"));
    let (_, v) = show(&root, "2025-01-04");
    let errors = v["run"]["errors"].to_string();
    assert!(
        errors.contains(&format!(
            "events.out.tfevents.1.h.1.0: bad CRC of the record data at byte {at}"
        )),
        "{errors}"
    );
    let loss = series(&v, "loss/train");
    assert_eq!(
        (loss["points"].as_u64(), loss["last"].as_f64()),
        (Some(1), Some(2.0))
    );
}

#[test]
fn event_files_are_read_on_from_the_last_whole_record() {
    let (_tmp, root) = tree();
    let run = root.join(A);
    let mut reader = runyard::runs::MetricsReader::default();
    let m = reader.read(&run, false);
    let loss = m.series.iter().find(|s| s.name == "loss/train").unwrap();
    assert_eq!(loss.last(), Some(0.4f32 as f64));
    // Nothing changed: nothing parsed.
    reader.read(&run, false);
    assert_eq!(reader.stats().parsed, 0);
    // The writer finishes its last record and adds one.
    let cut = formats::frame(&formats::event(
        1_700_000_030.0,
        5,
        &[("loss/train", TbValue::Simple(0.1))],
    ));
    let next = formats::frame(&formats::event(
        1_700_000_040.0,
        6,
        &[("loss/train", TbValue::Simple(0.05))],
    ));
    let path = run.join(TB);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend(&cut[cut.len() - 7..]);
    bytes.extend(&next);
    std::fs::write(&path, &bytes).unwrap();
    let m = reader.read(&run, false);
    let stats = reader.stats();
    assert_eq!(stats.restarted, 0);
    assert_eq!(stats.parsed, (cut.len() + next.len()) as u64);
    let loss = m.series.iter().find(|s| s.name == "loss/train").unwrap();
    assert_eq!(loss.stats.points, 7);
    assert_eq!(loss.last(), Some(0.05f32 as f64));
}

#[test]
fn check_lists_tool_files_and_what_could_not_be_read() {
    let (_tmp, root) = tree();
    // A Lightning table in metrics/: its columns carry their splits.
    write(
        &root.join(A).join("metrics/metrics.csv"),
        formats::LIGHTNING_CSV.as_bytes(),
    );
    write(
        &root.join(C).join("metrics/metrics.csv"),
        b"loss,acc\n1,2\n",
    );
    let out = runyard_cmd()
        .current_dir(&root)
        .args(["check", "--json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings: Vec<(String, String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["kind"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let has = |path: &str, kind: &str, msg: &str| {
        findings
            .iter()
            .any(|f| f.0 == path && f.1 == kind && f.2.contains(msg))
    };
    assert!(
        has(
            &format!("{A}/lightning_logs/version_0"),
            "tool-files",
            "Lightning files read: hparams.yaml, metrics.csv"
        ),
        "{findings:#?}"
    );
    assert!(has(
        &format!("{A}/"),
        "tool-files",
        "Hydra files read: .hydra/config.yaml"
    ));
    assert!(has(
        &format!("{D}/events.out.tfevents.1.h.1.0"),
        "tool-file",
        "bad CRC of the record data"
    ));
    assert!(
        !findings
            .iter()
            .any(|f| f.0 == format!("{A}/metrics/metrics.csv"))
    );
    assert!(has(
        &format!("{C}/metrics/metrics.csv"),
        "metric-split",
        "split"
    ));
    // MLflow's and W&B's records say what run_info.json would; D has only
    // an event file: it has no metadata.
    for run in [B, C] {
        assert!(
            !findings.iter().any(|f| f.0 == run && f.1 == "no-metadata"),
            "{run}"
        );
    }
    assert!(findings.iter().any(|f| f.0 == D && f.1 == "no-metadata"));
    // Notes alone never fail --strict; the bad CRC does.
    let strict = runyard_cmd()
        .current_dir(&root)
        .args(["check", "--strict"])
        .output()
        .unwrap();
    assert!(!strict.status.success());
}

#[test]
fn the_summary_cache_notices_tool_files_changing() {
    let (_tmp, root) = tree();
    let cache = tempfile::tempdir().unwrap();
    let ls = || {
        let out = runyard_cmd()
            .env("XDG_CACHE_HOME", cache.path())
            .current_dir(&root)
            .args(["ls", "--json"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["runs"]
            .as_array()
            .or(v.as_array())
            .unwrap()
            .iter()
            .find(|r| r["model"] == "mlp")
            .map(|r| r["key_metrics"]["val/loss"].clone())
            .unwrap()
    };
    assert_eq!(ls(), 0.75);
    assert_eq!(ls(), 0.75);
    // MLflow appends a line in place; the file's time is still idle.
    let f = root.join(B).join("mlruns/0/3f2a9c/metrics/val/loss");
    let mut text = std::fs::read_to_string(&f).unwrap();
    text.push_str("1735722300000 0.5 3\n");
    std::fs::write(&f, text).unwrap();
    std::fs::File::open(&f)
        .unwrap()
        .set_modified(idle_time() + std::time::Duration::from_secs(1))
        .unwrap();
    assert_eq!(ls(), 0.5);
}

#[test]
fn lightning_checkpoints_are_pruned_by_the_recorded_metric() {
    let (_tmp, root) = tree();
    let out = runyard_cmd()
        .current_dir(&root)
        .args(["clean", "--checkpoints", "--dry-run", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let dir = format!("{A}/lightning_logs/version_0/checkpoints");
    let targets: Vec<(&str, &str)> = v["plan"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["rel"].as_str().unwrap(), t["what"].as_str().unwrap()))
        .collect();
    assert_eq!(
        targets,
        [(
            format!("{dir}/epoch=0-step=2.ckpt").as_str(),
            "epoch 0, step 2: val_loss 0.8"
        )]
    );
    let kept: Vec<(&str, &str)> = v["plan"]["kept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["rel"].as_str().unwrap(), t["why"].as_str().unwrap()))
        .collect();
    // The best by the validation loss Lightning recorded, not only the latest.
    assert!(kept.contains(&(
        format!("{dir}/epoch=1-step=5.ckpt").as_str(),
        "epoch 1, step 5: val_loss 0.6: the best (lowest) recorded"
    )));
    assert!(kept.iter().any(|k| k.0 == format!("{dir}/last.ckpt")));
    assert!(
        kept.iter()
            .any(|k| k.0 == format!("{dir}/epoch=2-step=8.ckpt"))
    );
}

#[test]
fn tool_folders_opened_as_the_run_itself() {
    use runyard::runs::RunDetails;
    let tmp = tempfile::tempdir().unwrap();
    // A Lightning version folder, as a tree of Lightning runs opened
    // directly shows it.
    let version = tmp.path().join("version_3");
    formats::lightning_version(&version);
    formats::tensorboard_file(&version.join("events.out.tfevents.1700000000.h.1.0"));
    let d = RunDetails::load(&version);
    assert_eq!(d.config.as_ref().unwrap().file, "hparams.yaml");
    let opt = d.config.as_ref().unwrap().value["optimizer"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(opt.contains("torch.optim.adam.Adam"), "{opt}");
    let val = d.series.iter().find(|s| s.name == "val_loss").unwrap();
    assert_eq!(val.stats.last.map(|p| p.1), Some(0.65));
    assert!(d.series.iter().any(|s| s.name == "val/f1"));
    assert_eq!(d.checkpoints.len(), 4);
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    // No run id: the event file's name says when the writer started.
    let info = d.info.as_ref().unwrap();
    assert_eq!(info.started_at.as_deref(), Some("2023-11-14T22:13:20Z"));
    assert_eq!(
        info.sources["started_at"],
        "events.out.tfevents.1700000000.h.1.0"
    );
    // An MLflow run folder holding only meta.yaml and metrics/.
    let run = tmp.path().join("0/9b1d");
    write(
        &run.join("meta.yaml"),
        b"run_name: calm-owl\nstatus: 3\nstart_time: 1735722000000\n",
    );
    write(
        &run.join("metrics/val/acc"),
        b"1735722000000 0.5 0\n1735722000001 0.8 1\n",
    );
    let d = RunDetails::load(&run);
    let info = d.info.as_ref().unwrap();
    assert_eq!(info.status.as_deref(), Some("finished"));
    assert_eq!(info.sources["status"], "meta.yaml");
    let acc = d.series.iter().find(|s| s.name == "val/acc").unwrap();
    assert_eq!(acc.stats.last.map(|p| p.1), Some(0.8));
    assert_eq!(acc.file, "metrics/val/acc");
    // A W&B run folder opened as the run.
    let wandb = tmp.path().join("wandb");
    formats::wandb_tree(&wandb);
    let d = RunDetails::load(&wandb.join("run-20250101_100000-abc123"));
    assert_eq!(d.metrics.get("val_loss"), Some(0.21));
    assert_eq!(
        d.info.as_ref().unwrap().git_commit.as_deref(),
        Some("feedbeef")
    );
}

/// Performs what the explorer asks until nothing is left (reading files
/// inline); what only the event loop does is left out.
fn settle(app: &mut runyard::tui::app::App, reqs: Vec<runyard::tui::msg::Request>) {
    use runyard::tui::effects::{Env, perform};
    use runyard::tui::msg::Request;
    let env = Env::default();
    let mut queue: std::collections::VecDeque<Request> = reqs.into();
    while let Some(req) = queue.pop_front() {
        if matches!(
            req,
            Request::Watch(_)
                | Request::SaveCache(..)
                | Request::Notes(..)
                | Request::Copy(_)
                | Request::OpenNote(_)
                | Request::OpenExternal(..)
        ) {
            continue;
        }
        let mut answers = Vec::new();
        perform(req, &env, &mut |m| {
            answers.push(m);
            true
        });
        for m in answers {
            queue.extend(runyard::tui::update::update(app, m));
        }
    }
}

#[test]
fn the_run_pane_shows_hydra_overrides_first() {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use runyard::catalog::Catalog;
    use runyard::tui::app::{App, Settings};
    use runyard::tui::msg::{Msg, Request};
    use runyard::tui::theme::Theme;
    use runyard::tui::tree::Node;
    use runyard::tui::{keymap, ui, update::update};

    let (_tmp, root) = tree();
    let mut settings = Settings::new(jiff::SignedDuration::from_mins(10), Theme::new(true));
    settings.tz = jiff::tz::TimeZone::UTC;
    let mut app = App::new(Catalog::new(&root), settings);
    // The real clock: the fixture's times are an hour ago.
    let reqs = update(
        &mut app,
        Msg::Tick(std::time::Instant::now(), jiff::Timestamp::now()),
    );
    settle(&mut app, reqs);
    settle(
        &mut app,
        vec![Request::Scan {
            root: root.clone(),
            generation: 0,
        }],
    );
    let j = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
    for _ in 0..30 {
        if let Some(Node::Run(k)) = app.selected_node()
            && app.catalog.runs[k].path.ends_with(A)
        {
            break;
        }
        let a = keymap::dispatch(&app.settings.bindings, app.mode(), &j).unwrap();
        let reqs = update(&mut app, Msg::Key(a));
        settle(&mut app, reqs);
    }
    assert!(
        app.selected_details()
            .is_some_and(|d| d.overrides.is_some())
    );
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let mut report = Default::default();
    term.draw(|f| report = ui::draw(f, &app)).unwrap();
    let reqs = update(&mut app, Msg::Drawn(report));
    settle(&mut app, reqs);
    term.draw(|f| report = ui::draw(f, &app)).unwrap();
    let buf = term.backend().buffer().clone();
    // The run pane: the right half, from its title to its end.
    let left = (0..buf.area.width)
        .find(|&x| buf[(x, 0)].symbol() == "┌")
        .expect("the run pane's corner");
    let mut pane = Vec::new();
    for y in 1..buf.area.height {
        if buf[(left, y)].symbol() == "└" {
            break;
        }
        let line: String = (left + 1..buf.area.width - 1)
            .map(|x| buf[(x, y)].symbol())
            .collect();
        // The age of a run id's time grows with the calendar.
        let line = match line.find(" (") {
            Some(i) if line.starts_with("started") => format!("{} ([age])", &line[..i]),
            _ => line.trim_end().to_string(),
        };
        pane.push(line);
    }
    let pane = pane.join("\n");
    let first: Vec<&str> = pane.lines().take(3).collect();
    assert!(
        first[1].starts_with("overrides lr=1e-4 trainer.max_epochs=3"),
        "{pane}"
    );
    assert!(first[2].starts_with("status"), "{pane}");
    insta::assert_snapshot!("run_pane_hydra_overrides_first", pane);
}

#[test]
fn links_and_special_files_among_tool_files_are_never_followed_or_read() {
    use runyard::runs::RunDetails;
    let (_tmp, root) = tree();
    let run = root.join(A);
    // A link to the Lightning folder, an event file that is a link to a
    // file outside, and a FIFO where a metrics.csv belongs.
    std::os::unix::fs::symlink(run.join("lightning_logs"), run.join("linked_logs")).unwrap();
    std::os::unix::fs::symlink(
        "/etc/hostname",
        run.join("tb_logs/version_0/events.out.tfevents.2.h.1.0"),
    )
    .unwrap();
    std::fs::create_dir_all(run.join("csv_logs/version_0")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        run.join("csv_logs/version_0/metrics.csv"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    let d = RunDetails::load(&run);
    let dirs: Vec<&str> = d.tools.iter().map(|p| p.dir.as_str()).collect();
    assert_eq!(dirs, ["", "lightning_logs/version_0", "tb_logs/version_0"]);
    assert_eq!(
        d.tools[2].files,
        ["tb_logs/version_0/events.out.tfevents.1700000000.host.1.0"]
    );
    assert!(d.errors.is_empty(), "{:?}", d.errors);
}
