//! Other tools' trees opened directly: each kind lists all its runs under
//! the documented mapping, `latest` goes by the tool's own time, `du`
//! sizes them, changes stay inside the root (trash and restore), and a
//! folder that is none of them says what was looked for.

use std::path::Path;

use serde_json::Value;

use crate::common::runyard_cmd;
use crate::common::sources::{self, Raw};

fn json(args: &[&str], root: &Path) -> Value {
    let out = runyard_cmd().args(args).arg(root).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn labels(doc: &Value) -> Vec<String> {
    let mut v: Vec<String> = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}/{}/{}",
                r["task"].as_str().unwrap(),
                r["model"].as_str().unwrap(),
                r["run_id"].as_str().unwrap()
            )
        })
        .collect();
    v.sort();
    v
}

/// `ls --json` lists exactly the tree's runs, under the kind it names.
fn lists_all(raw: &Raw, kind: &str) {
    let doc = json(&["ls", "--json"], &raw.root);
    assert_eq!(doc["source"], kind);
    assert_eq!(labels(&doc), raw.labels, "{kind}");
    assert_eq!(doc["totals"]["runs"], raw.labels.len());
}

/// `latest --json` finds the newest run by the tool's time, and `show`
/// resolves its label back to the same folder.
fn latest_is_newest(raw: &Raw) {
    let doc = json(&["latest", "--json"], &raw.root);
    let path = doc["run"]["path"].as_str().expect("a path").to_string();
    let ls = json(&["ls", "--json"], &raw.root);
    let newest = ls["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            format!("{}/{}/{}", r["task"], r["model"], r["run_id"]).replace('"', "") == raw.newest
        })
        .expect("the newest run is listed");
    assert_eq!(newest["path"].as_str().unwrap(), path, "{}", raw.newest);
    let out = runyard_cmd()
        .arg("--root")
        .arg(&raw.root)
        .args(["show", "--json", &raw.newest])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["run"]["path"].as_str().unwrap(), path);
}

#[test]
fn a_lightning_project_lists_its_version_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = sources::lightning(tmp.path());
    lists_all(&raw, "lightning");
    latest_is_newest(&raw);
    // The logger folder opened directly is a tree of its own.
    let doc = json(&["ls", "--json"], &raw.root.join("lightning_logs"));
    assert_eq!(doc["totals"]["runs"], 3);
}

#[test]
fn a_hydra_project_lists_single_runs_and_sweep_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = sources::hydra(tmp.path());
    lists_all(&raw, "hydra");
    latest_is_newest(&raw);
    // Its outputs/ alone: the single runs, still by their DATE/TIME.
    let doc = json(&["ls", "--json"], &raw.root.join("outputs"));
    assert_eq!(doc["source"], "hydra");
    assert_eq!(doc["totals"]["runs"], 2);
    let doc = json(&["ls", "--json"], &raw.root.join("multirun"));
    assert_eq!(doc["totals"]["runs"], 3);
}

#[test]
fn an_mlflow_store_lists_live_runs_by_experiment_name() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = sources::mlflow(tmp.path());
    lists_all(&raw, "mlflow");
    latest_is_newest(&raw);
    // The project folder holding mlruns/ opens it.
    let doc = json(&["ls", "--json"], tmp.path());
    assert_eq!(doc["source"], "mlflow");
    // The deleted run is a stray (its bytes still show), never a run.
    let doc = json(&["ls", "--json"], &raw.root);
    let strays: Vec<&str> = doc["strays"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(strays, ["1/d1b2c3d4e5f60718293a4b5c6d7e8f90"]);
}

#[test]
fn a_wandb_folder_lists_online_and_offline_runs_without_following_latest_run() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = sources::wandb(tmp.path());
    lists_all(&raw, "wandb");
    latest_is_newest(&raw);
    let doc = json(&["ls", "--json"], &raw.root);
    let top: Vec<&str> = doc["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(top.contains(&"latest-run"), "{top:?}");
}

#[test]
fn du_sizes_a_raw_tree_and_counts_tool_checkpoints_as_checkpoints() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = sources::lightning(tmp.path());
    let doc = json(&["du", "--json"], &raw.root);
    assert_eq!(doc["source"], "lightning");
    assert_eq!(doc["totals"]["runs"], 4);
    let runs = doc["runs"].as_array().unwrap();
    let v0 = runs
        .iter()
        .find(|r| r["task"] == "lightning_logs" && r["run_id"] == "version_0")
        .unwrap();
    // Three 3000-byte checkpoints: at least that many bytes, whatever the block size.
    assert!(v0["usage"]["checkpoints"]["apparent"].as_u64().unwrap() >= 9000);
    // epoch=0 is pruned (the latest and last.ckpt stay).
    assert!(v0["usage"]["prunable"]["apparent"].as_u64().unwrap() >= 3000);
}

#[test]
fn a_folder_that_is_no_tree_says_what_was_looked_for() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("home/me/src")).unwrap();
    let out = runyard_cmd()
        .arg("ls")
        .arg(tmp.path().join("home"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for what in [
        "experiments/",
        "lightning_logs/",
        "multirun/",
        "mlruns/",
        "wandb/",
    ] {
        assert!(err.contains(what), "{what}: {err}");
    }
}

#[test]
fn latest_and_ls_agree_on_an_empty_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let outputs = tmp.path().join("outputs");
    std::fs::create_dir_all(&outputs).unwrap();
    for cmd in ["ls", "latest"] {
        let out = runyard_cmd().arg(cmd).arg(&outputs).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{cmd}");
    }
    let doc = json(&["latest", "--json"], &outputs);
    assert_eq!(doc, Value::Null);
}

#[test]
fn a_raw_run_goes_to_the_trash_inside_its_root_and_comes_back() {
    for (build, run) in [
        (
            sources::lightning as fn(&Path) -> Raw,
            "lightning_logs/version_0",
        ),
        (sources::mlflow, "mnist/mlflow/bold-fox-c1_c1b2c3d4"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let raw = build(tmp.path());
        let before = json(&["ls", "--json"], &raw.root)["totals"]["runs"].clone();
        let out = runyard_cmd()
            .arg("--root")
            .arg(&raw.root)
            .args(["rm", "--yes", run])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let trash = if raw.root.ends_with("mlruns") {
            ".runyard-trash"
        } else {
            ".trash"
        };
        let entries: Vec<_> = std::fs::read_dir(raw.root.join(trash))
            .unwrap()
            .flatten()
            .collect();
        assert_eq!(entries.len(), 1, "{run}");
        let after = json(&["ls", "--json"], &raw.root);
        assert_eq!(after["totals"]["runs"], before.as_u64().unwrap() - 1);
        let out = runyard_cmd()
            .arg("--root")
            .arg(&raw.root)
            // Trash entries are named after the run's folder (an MLflow
            // run's is its id), as `trash list` shows them.
            .args([
                "restore",
                if raw.root.ends_with("mlruns") {
                    "c1b2c3d4e5f60718293a4b5c6d7e8f90"
                } else {
                    run.rsplit('/').next().unwrap()
                },
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(json(&["ls", "--json"], &raw.root)["totals"]["runs"], before);
    }
}

#[test]
fn a_crafted_origin_record_in_a_raw_tree_is_refused() {
    use runyard::ops::trash;
    let tmp = tempfile::tempdir().unwrap();
    let raw = sources::lightning(tmp.path());
    let root = raw.root.canonicalize().unwrap();
    for origin in [
        "../escaped",
        "/etc/x",
        "src/version_0",
        "lightning_logs/version_0/checkpoints",
        "lightning_logs/.trash",
        "lightning_logs/notes",
        "experiments/t/m/r",
    ] {
        let forged = trash::TrashEntry {
            id: "x".into(),
            origin: Some(trash::Origin {
                version: 1,
                origin: origin.into(),
                deleted_at: String::new(),
                tree: None,
                bytes: None,
                files: None,
            }),
            bytes: 0,
            error: None,
            partial: None,
        };
        let e = trash::restore(&root, &forged).unwrap_err();
        assert!(e.contains("record refused"), "{origin}: {e}");
    }
    // A record written by hand into the trash is refused when listed too.
    let entry = root.join(".trash/forged");
    std::fs::create_dir_all(entry.join("run")).unwrap();
    std::fs::write(
        entry.join("origin.json"),
        br#"{"version":1,"origin":"../../outside","deleted_at":""}"#,
    )
    .unwrap();
    let listed = trash::list(&root);
    assert!(listed[0].origin.is_none());
    assert!(
        listed[0]
            .error
            .as_deref()
            .unwrap()
            .contains("record refused")
    );
}

#[test]
fn changes_that_mean_nothing_in_a_raw_tree_say_why() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = sources::hydra(tmp.path());
    let out = runyard_cmd()
        .arg("--root")
        .arg(&raw.root)
        .args(["clean", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no ephemeral folders"));
    let out = runyard_cmd()
        .arg("--root")
        .arg(&raw.root)
        .args(["promote", &raw.newest, "--data", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no artifacts/ folder"));
}

/// The explorer over a Lightning project at 80×24: the title says what
/// kind of tree it is, the tree shows logger → lightning → version_N.
#[test]
fn the_explorer_shows_a_lightning_tree_at_80x24() {
    use std::collections::VecDeque;
    use std::time::Instant;

    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use runyard::catalog::Catalog;
    use runyard::tui::app::{App, Settings};
    use runyard::tui::effects::{Env, perform};
    use runyard::tui::msg::{Msg, Request};
    use runyard::tui::theme::Theme;
    use runyard::tui::{ui, update::update};

    let tmp = tempfile::tempdir().unwrap();
    let raw = sources::lightning(tmp.path());
    // Fixed times (the event file's name carries today's time): the
    // snapshot must not drift with the clock.
    let logs = raw.root.join("lightning_logs/version_1");
    for e in std::fs::read_dir(&logs).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("events.out") {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    let fixed = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000);
    runyard::demo::set_tree_mtime(&raw.root, fixed).unwrap();
    let root = raw.root.canonicalize().unwrap();

    let mut settings = Settings::new(jiff::SignedDuration::from_mins(10), Theme::new(true));
    settings.tz = jiff::tz::TimeZone::UTC;
    let mut app = App::new(Catalog::new(&root), settings);
    let env = Env::default();
    let settle = |app: &mut App, reqs: Vec<Request>| {
        let mut queue: VecDeque<Request> = reqs.into();
        while let Some(req) = queue.pop_front() {
            let mut answers = Vec::new();
            match req {
                // Only what the test needs: the scan and the files it asks for.
                Request::Watch(_) | Request::SaveCache(..) | Request::Notes(..) => {}
                Request::Copy(_) | Request::OpenNote(_) | Request::OpenExternal(..) => {}
                req => perform(req, &env, &mut |m| {
                    answers.push(m);
                    true
                }),
            }
            for m in answers {
                queue.extend(update(app, m));
            }
        }
    };
    let reqs = update(
        &mut app,
        Msg::Tick(Instant::now(), "2026-11-26T12:00:00Z".parse().unwrap()),
    );
    settle(&mut app, reqs);
    settle(
        &mut app,
        vec![Request::Scan {
            root: root.clone(),
            generation: 0,
        }],
    );
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut report = Default::default();
    term.draw(|f| report = ui::draw(f, &app)).unwrap();
    let reqs = update(&mut app, Msg::Drawn(report));
    settle(&mut app, reqs);
    term.draw(|f| report = ui::draw(f, &app)).unwrap();
    let buf = term.backend().buffer().clone();
    let mut screen = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            screen.push_str(buf[(x, y)].symbol());
        }
        screen.push('\n');
    }
    let screen = screen
        .replace(&root.to_string_lossy().into_owned(), "[ROOT]")
        // The title truncates the root at 80 columns: mask what is left.
        .replace(
            &tmp.path()
                .canonicalize()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
            "[TMP]",
        )
        .lines()
        .map(|l| match l.find("scanned ") {
            Some(i) => format!("{}[scan stats]", &l[..i]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(screen.contains("Lightning logs: "), "{screen}");
    assert!(screen.contains("version_2"), "{screen}");
    insta::assert_snapshot!("lightning_tree_80x24", screen);
}

/// Every run of a catalog as `label time usage`, for comparing scans.
fn runs_of(c: &runyard::catalog::Catalog) -> Vec<String> {
    let mut v: Vec<String> = c
        .runs
        .iter()
        .map(|r| {
            let u = r.usage.as_ref().expect("sized");
            format!(
                "{} {:?} {} {}",
                r.label(),
                r.time(),
                u.total().disk,
                u.checkpoints.disk
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_scan_cache_serves_raw_trees_and_sees_a_new_run() {
    use runyard::catalog::{self, ScanOptions, cache};
    use std::sync::Arc;
    for build in [
        sources::lightning as fn(&Path) -> Raw,
        sources::hydra,
        sources::mlflow,
        sources::wandb,
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let raw = build(tmp.path());
        let root = raw.root.canonicalize().unwrap();
        let first = catalog::scan(&root, ScanOptions::default());
        let bytes = cache::encode(&first, first.done.unwrap().started_at, 600);
        let loaded = cache::decode(&bytes, &root).expect("decodes");
        let opts = || ScanOptions {
            cache: Some(Arc::new(loaded.clone())),
            ..ScanOptions::default()
        };
        let second = catalog::scan(&root, opts());
        assert_eq!(second.source, first.source);
        assert_eq!(second.done.unwrap().cached_runs, raw.labels.len());
        assert_eq!(runs_of(&second), runs_of(&first));
        // A run folder added since is walked, the rest still served.
        let first_run = first.runs.iter().map(|r| r.path.clone()).min().unwrap();
        let copy = first_run.with_file_name(format!(
            "{}9",
            first_run.file_name().unwrap().to_string_lossy()
        ));
        runyard::demo::copy_tree(&first_run, &copy).unwrap();
        let third = catalog::scan(&root, opts());
        // The copy keeps its kind's shape (its name only gets a 9).
        assert!(
            third.runs.iter().any(|r| r.path == copy),
            "{:?}: {:?}",
            third.source,
            runs_of(&third)
        );
        assert!(third.done.unwrap().cached_runs >= raw.labels.len() - 1);
    }
}

#[test]
fn a_tools_checkpoints_inside_a_layout_run_count_as_checkpoints() {
    use runyard::catalog::{self, ScanOptions};
    let (_tmp, root) = crate::common::demo_copy();
    let run = root.join("experiments/ocr/crnn/2025-12-04_14-32-10_seed42");
    let before = catalog::scan(&root, ScanOptions::default());
    let usage = |c: &runyard::catalog::Catalog| {
        c.runs
            .iter()
            .find(|r| r.path.ends_with("2025-12-04_14-32-10_seed42"))
            .unwrap()
            .usage
            .clone()
            .unwrap()
    };
    let was = usage(&before);
    let ckpt = run.join("lightning_logs/version_0/checkpoints");
    crate::common::write(&ckpt.join("epoch=0-step=10.ckpt"), &[1u8; 8192]);
    crate::common::write(&ckpt.join("epoch=1-step=20.ckpt"), &[1u8; 8192]);
    crate::common::write(
        &run.join("lightning_logs/version_0/metrics.csv"),
        b"epoch\n0\n",
    );
    let after = usage(&catalog::scan(&root, ScanOptions::default()));
    assert!(after.checkpoints.apparent >= was.checkpoints.apparent + 16384);
    // A prune judges a tool's checkpoints/ too, on its own: the older
    // checkpoint goes, the newest stays.
    assert_eq!(after.prunable.apparent, was.prunable.apparent + 8192);
}

#[test]
fn a_lightning_run_prunes_its_checkpoints_and_opens_by_its_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = sources::lightning(tmp.path());
    let out = runyard_cmd()
        .arg("--root")
        .arg(&raw.root)
        .args(["clean", "--checkpoints", "--dry-run", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut rels: Vec<String> = plan["plan"]["targets"]
        .as_array()
        .or(plan["targets"].as_array())
        .expect("targets")
        .iter()
        .map(|t| t["rel"].as_str().unwrap().to_string())
        .collect();
    rels.sort();
    assert_eq!(
        rels,
        [0, 1, 2].map(|v| format!("lightning_logs/version_{v}/checkpoints/epoch=0-step=49.ckpt"))
    );
    // A run folder given as a path finds its tree's root by itself.
    let run = raw.root.join("lightning_logs/version_2");
    let out = runyard_cmd()
        .current_dir(tmp.path())
        .args(["show", "--json"])
        .arg(&run)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["run"]["task"], "lightning_logs");
}

#[test]
fn a_tree_whose_runs_all_went_to_the_trash_still_opens_and_restores() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = sources::lightning(tmp.path());
    let logger = raw.root.join("lightning_logs");
    let rm = runyard_cmd()
        .arg("--root")
        .arg(&logger)
        .args(["rm", "--yes", "version_0", "version_1", "version_2"])
        .output()
        .unwrap();
    assert!(
        rm.status.success(),
        "{}",
        String::from_utf8_lossy(&rm.stderr)
    );
    // Only .trash/ is left: its records say this was a Lightning logger folder.
    let doc = json(&["ls", "--json"], &logger);
    assert_eq!(doc["source"], "lightning");
    assert_eq!(doc["totals"]["runs"], 0);
    let out = runyard_cmd()
        .arg("--root")
        .arg(&logger)
        .args(["restore", "version_1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(logger.join("version_1/metrics.csv").is_file());
    assert_eq!(json(&["ls", "--json"], &logger)["totals"]["runs"], 1);
}

#[test]
fn hydra_runs_without_a_hydra_folder_are_found_by_their_names() {
    // `hydra.output_subdir: null` writes no `.hydra/`: the default
    // DATE/TIME and DATE/TIME/N names still say where the jobs are, and a
    // sweep folder is not a run.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("proj");
    crate::common::write(&root.join("outputs/2024-01-31/13-45-10/train.log"), b"x\n");
    crate::common::write(
        &root.join("multirun/2024-02-01/08-00-00/multirun.yaml"),
        b"x: 1\n",
    );
    crate::common::write(
        &root.join("multirun/2024-02-01/08-00-00/0/train.log"),
        b"x\n",
    );
    crate::common::write(
        &root.join("multirun/2024-02-01/08-00-00/1/train.log"),
        b"x\n",
    );
    // A deeper folder that is no job: its bytes are a stray, not a run.
    crate::common::write(&root.join("outputs/2024-01-31/notes/a/b/c.txt"), b"x\n");
    runyard::demo::set_tree_mtime(&root, crate::common::idle_time()).unwrap();
    let doc = json(&["ls", "--json"], &root);
    assert_eq!(
        labels(&doc),
        [
            "multirun/2024-02-01_08-00-00/0",
            "multirun/2024-02-01_08-00-00/1",
            "outputs/2024-01-31/13-45-10",
        ]
    );
    let latest = json(&["latest", "--json"], &root);
    assert_eq!(latest["run"]["model"], "2024-02-01_08-00-00");
}
