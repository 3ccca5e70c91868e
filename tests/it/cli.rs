//! The CLI over the demo tree and fixture trees, text and `--json`.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

use crate::common::{demo_copy, idle_time, write};

/// The binary, with no user config in the way (tests pass --config when they want one).
fn runyard() -> Command {
    let mut c = Command::cargo_bin("runyard").unwrap();
    c.env("XDG_CONFIG_HOME", "/nonexistent/runyard-tests");
    c.env(
        "XDG_CACHE_HOME",
        std::env::temp_dir().join("runyard-tests-cache"),
    );
    c
}

fn json_of(cmd: &mut Command) -> Value {
    let out = cmd.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).expect("valid JSON")
}

#[test]
fn ls_shows_the_tree_with_sizes_metrics_and_problems() {
    let (_tmp, root) = demo_copy();
    runyard()
        .arg("ls")
        .arg(&root)
        .assert()
        .success()
        .stdout(predicate::str::contains("4 tasks · 5 models · 9 runs"))
        .stdout(
            predicate::str::is_match(
                r"\n    2025-12-04_14-32-10_seed42 +✓ finished +\d+ KiB +\d+ KiB +val/acc 0.87",
            )
            .unwrap(),
        )
        .stdout(predicate::str::contains("◌ stalled"))
        .stdout(predicate::str::contains("✗ failed"))
        .stdout(predicate::str::contains("val/acc 0.87"))
        .stdout(predicate::str::contains("⚠ 2 problems"))
        .stdout(predicate::str::contains(
            "debug/tiny/2025-12-10_07-30-00_smoke: run_info.json: not valid JSON",
        ))
        .stdout(predicate::str::contains("Also here: artifacts"));
}

#[test]
fn ls_json_is_versioned_and_complete() {
    let (_tmp, root) = demo_copy();
    let doc = json_of(runyard().arg("ls").arg(&root).arg("--json"));
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["totals"]["runs"], 9);
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 9);
    let seed42 = runs
        .iter()
        .find(|r| r["run_id"] == "2025-12-04_14-32-10_seed42")
        .unwrap();
    assert_eq!(seed42["task"], "ocr");
    assert_eq!(seed42["status"], "finished");
    assert_eq!(seed42["active"], false);
    assert_eq!(seed42["tag"], "seed42");
    assert_eq!(seed42["key_metrics"]["val/acc"], 0.87);
    assert!(seed42["usage"]["prunable"]["disk"].as_u64().unwrap() > 0);
    assert_eq!(
        seed42["reclaimable"].as_u64().unwrap(),
        ["tmp", "cache", "prunable"]
            .iter()
            .map(|p| seed42["usage"][p]["disk"].as_u64().unwrap())
            .sum::<u64>()
    );
    let smoke = runs
        .iter()
        .find(|r| r["run_id"] == "2025-12-10_07-30-00_smoke")
        .unwrap();
    assert_eq!(smoke["errors"].as_array().unwrap().len(), 2);
    let backup = runs
        .iter()
        .find(|r| r["run_id"] == "old-run-backup")
        .unwrap();
    assert_eq!(backup["tag"], Value::Null);
    assert_eq!(doc["tasks"].as_array().unwrap().len(), 4);
    assert!(
        doc["top"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"] == "artifacts")
    );
}

#[test]
fn ls_filters_and_sorts_by_a_metric() {
    let (_tmp, root) = demo_copy();
    let doc = json_of(
        runyard()
            .args([
                "ls", "--task", "ocr", "--sort", "val/acc", "--flat", "--json",
            ])
            .arg(&root),
    );
    let ids: Vec<&str> = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "2025-12-09_11-02-33_lr1e-4",
            "2025-12-04_14-32-10_seed42",
            "2025-12-06_09-10-00_seed7",
            "2025-12-08_18-45-12_lr3e-4"
        ]
    );
    // Lower is better for losses.
    let doc = json_of(
        runyard()
            .args([
                "ls", "--task", "ocr", "--sort", "val/loss", "--flat", "--json",
            ])
            .arg(&root),
    );
    assert_eq!(doc["runs"][0]["run_id"], "2025-12-09_11-02-33_lr1e-4");
    runyard()
        .args(["ls", "--task", "nlp"])
        .arg(&root)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no task \"nlp\" (tasks: debug, ocr, preproc, recsys)",
        ));
}

#[test]
fn show_finds_runs_by_prefix_tag_or_path() {
    let (_tmp, root) = demo_copy();
    let run_dir = root.join("experiments/ocr/crnn/2025-12-04_14-32-10_seed42");
    for arg in [
        "2025-12-04",
        "seed42",
        "ocr/crnn/2025-12-04_14-32-10_seed42",
        run_dir.to_str().unwrap(),
    ] {
        runyard()
            .current_dir(root.parent().unwrap())
            .args(["show", arg])
            .assert()
            .success()
            .stdout(predicate::str::starts_with(
                "ocr/crnn/2025-12-04_14-32-10_seed42\n",
            ))
            .stdout(predicate::str::contains("epoch01_valAcc0.71.pt"))
            .stdout(predicate::str::contains("prune"));
    }
    runyard()
        .current_dir(root.parent().unwrap())
        .args(["show", "2025-12"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("matches 6 runs"));
    runyard()
        .current_dir(&root)
        .args(["show", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no run matches \"nope\""));
}

#[test]
fn show_json_has_checkpoints_metrics_and_config() {
    let (_tmp, root) = demo_copy();
    let doc = json_of(
        runyard()
            .current_dir(&root)
            .args(["show", "seed42", "--json"]),
    );
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["info"]["git_commit"].as_str().unwrap().len(), 40);
    let ckpts = doc["checkpoints"].as_array().unwrap();
    let prune: Vec<&str> = ckpts
        .iter()
        .filter(|c| c["prune"] == true)
        .map(|c| c["file"]["rel"].as_str().unwrap())
        .collect();
    assert_eq!(
        prune,
        [
            "checkpoints/epoch01_valAcc0.71.pt",
            "checkpoints/epoch02_valAcc0.78.pt",
            "checkpoints/epoch03_valAcc0.82.pt",
            "checkpoints/epoch04_valAcc0.85.pt"
        ]
    );
    assert!(
        doc["metrics"]["series"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "train/loss")
    );
    assert!(doc["config"]["value"].is_object());
    assert!(doc["plots"].as_array().unwrap().len() >= 2);
}

#[test]
fn latest_picks_the_newest_run_id() {
    let (_tmp, root) = demo_copy();
    let doc = json_of(runyard().current_dir(&root).args(["latest", "--json"]));
    assert_eq!(doc["run"]["run_id"], "2025-12-10_07-30-00_smoke");
    let doc = json_of(
        runyard()
            .current_dir(&root)
            .args(["latest", "--task", "ocr", "--model", "crnn", "--json"]),
    );
    assert_eq!(doc["run"]["run_id"], "2025-12-06_09-10-00_seed7");
    runyard()
        .current_dir(&root)
        .args(["latest", "--task", "ocr"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "Latest run\nocr/vit-small/2025-12-09_11-02-33_lr1e-4\n",
        ))
        .stdout(predicate::str::contains("val/acc"));
}

#[test]
fn du_lists_reclaimable_space_biggest_first() {
    let (_tmp, root) = demo_copy();
    let doc = json_of(runyard().current_dir(&root).args(["du", "--json"]));
    let r: Vec<u64> = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reclaimable"].as_u64().unwrap())
        .collect();
    assert!(r.windows(2).all(|w| w[0] >= w[1]), "{r:?}");
    assert_eq!(
        doc["totals"]["reclaimable"].as_u64().unwrap(),
        r.iter().sum::<u64>()
    );
    runyard()
        .current_dir(&root)
        .args(["du", "-n", "2"])
        .assert()
        .success()
        .stdout(predicate::str::contains("RECLAIM"))
        .stdout(predicate::str::contains("… 7 more runs"))
        .stdout(predicate::str::contains(
            "Outside experiments/ (never cleaned)",
        ));
}

#[test]
fn active_runs_are_marked() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    let old = root.join("experiments/t/m/2025-01-01_00-00-00_old");
    let live = root.join("experiments/t/m/2025-01-02_00-00-00_live");
    write(&old.join("tmp/x"), &[0; 10]);
    write(&live.join("run_info.json"), br#"{"status": "running"}"#);
    runyard::demo::set_tree_mtime(&old, idle_time()).unwrap();
    let doc = json_of(runyard().args(["ls", "--json", "--flat"]).arg(&root));
    assert_eq!(doc["runs"][0]["run_id"], "2025-01-02_00-00-00_live");
    assert_eq!(doc["runs"][0]["status"], "running");
    assert_eq!(doc["runs"][0]["active"], true);
    assert_eq!(doc["runs"][1]["active"], false);
    runyard()
        .current_dir(&root)
        .arg("du")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "t/m/2025-01-02_00-00-00_live ● active",
        ));
    // With a zero window nothing is active, and "running" with no writes is stalled.
    let doc = json_of(
        runyard()
            .args(["ls", "--json", "--active-minutes", "0"])
            .arg(&root),
    );
    assert!(
        doc["runs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["active"] == false)
    );
}

#[test]
fn missing_root_is_a_one_line_error_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    runyard()
        .current_dir(tmp.path())
        .arg("ls")
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "runyard: no outputs/ folder with experiments/ inside found in",
        ));
    runyard()
        .args(["ls", "/definitely/not/here"])
        .assert()
        .code(2)
        .stderr("runyard: /definitely/not/here: no such folder (or not a folder)\n");
    runyard()
        .args(["ls", "/usr"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/usr: not an outputs folder"));
}

#[test]
fn empty_tree_says_how_to_make_a_run() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("outputs/experiments")).unwrap();
    runyard()
        .current_dir(tmp.path())
        .arg("ls")
        .assert()
        .success()
        .stdout(predicate::str::contains("No runs yet"));
}

#[test]
fn hostile_names_are_escaped_in_text_output() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    let run = root.join("experiments/t/m/2025-01-01_00-00-00_x\x1b[31mred");
    write(&run.join("run_info.json"), b"{}");
    let out = runyard()
        .args(["ls"])
        .arg(&root)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        !text.contains('\x1b'),
        "raw escape reached the terminal: {text:?}"
    );
    assert!(text.contains("x\\u{1b}[31mred"));
}

#[test]
fn unreadable_folder_is_reported_on_its_run_as_an_unprivileged_user() {
    // Root reads everything, so the permission-denied path runs the real
    // binary as `nobody` through setpriv.
    if !std::process::Command::new("setpriv")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        panic!("setpriv (util-linux) is needed for this test");
    }
    let tmp = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let root = tmp.path().join("outputs");
    let run = root.join("experiments/t/m/2025-01-01_00-00-00_a");
    write(&run.join("cache/c.bin"), &[0; 5000]);
    write(&run.join("tmp/secret/x.bin"), &[0; 5000]);
    write(&run.join("run_info.json"), b"{}");
    for d in walkdir::WalkDir::new(&root) {
        let d = d.unwrap();
        let mode = if d.file_type().is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    std::fs::set_permissions(
        run.join("tmp/secret"),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    let bin = assert_cmd::cargo::cargo_bin("runyard");
    let out = std::process::Command::new("setpriv")
        .env("XDG_CONFIG_HOME", "/nonexistent/runyard-tests")
        .env("XDG_CACHE_HOME", "/nonexistent/runyard-tests")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .args(["ls", "--json"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors = doc["runs"][0]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0],
        "tmp/secret: cannot read folder: permission denied"
    );
    // The rest of the run is still sized.
    assert!(doc["runs"][0]["usage"]["cache"]["disk"].as_u64().unwrap() >= 4096);
}

#[test]
fn the_root_can_be_given_to_any_subcommand() {
    let (_tmp, root) = demo_copy();
    let elsewhere = tempfile::tempdir().unwrap();
    for args in [
        vec!["-C", root.to_str().unwrap(), "ls", "--json"],
        vec!["du", root.to_str().unwrap(), "--json"],
        vec!["latest", root.to_str().unwrap(), "--json"],
    ] {
        let doc = json_of(runyard().current_dir(elsewhere.path()).args(&args));
        assert_eq!(doc["version"], 1, "{args:?}");
    }
    runyard()
        .current_dir(elsewhere.path())
        .args(["--root", root.to_str().unwrap(), "show", "seed7"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "ocr/crnn/2025-12-06_09-10-00_seed7\n",
        ));
}

#[test]
fn config_changes_the_key_metric_sort_and_best_run() {
    let (tmp, root) = demo_copy();
    let config = tmp.path().join("config.toml");
    std::fs::write(&config, "[general]\ndefault_sort = \"key-metric\"\n[metrics]\nocr = { name = \"val/loss\", better = \"lower\" }\n").unwrap();
    let doc = json_of(
        runyard()
            .arg("--config-file")
            .arg(&config)
            .args(["ls", "--task", "ocr", "--flat", "--json"])
            .arg(&root),
    );
    let ids: Vec<&str> = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    // Lowest val/loss first: 0.29, 0.41, 0.62, 0.9.
    assert_eq!(ids[0], "2025-12-09_11-02-33_lr1e-4");
    assert_eq!(ids[3], "2025-12-08_18-45-12_lr3e-4");
    // Text: the key metric column leads with the configured metric.
    runyard()
        .arg("--config-file")
        .arg(&config)
        .args(["ls", "--task", "ocr"])
        .arg(&root)
        .assert()
        .success()
        .stdout(predicate::str::contains("val/loss 0.29"));
}

#[test]
fn a_bad_config_names_file_line_and_key_and_no_config_starts_anyway() {
    let (tmp, root) = demo_copy();
    let config = tmp.path().join("config.toml");
    std::fs::write(&config, "[general]\nactive_minutes = 5\nscan_thread = 4\n").unwrap();
    runyard()
        .arg("--config-file")
        .arg(&config)
        .args(["ls"])
        .arg(&root)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(config.to_str().unwrap()))
        .stderr(predicate::str::contains("line 3"))
        .stderr(predicate::str::contains("scan_thread"))
        .stderr(predicate::str::contains("--no-config"));
    runyard()
        .arg("--config-file")
        .arg(&config)
        .args(["--no-config", "ls"])
        .arg(&root)
        .assert()
        .success();
    std::fs::write(&config, "[keys]\nrescan = \"j\"\n").unwrap();
    runyard()
        .arg("--config-file")
        .arg(&config)
        .args(["config"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "keys.rescan: j is also the key of \"down\"",
        ));
}

#[test]
fn config_default_path_completions_and_man_page() {
    let out = runyard()
        .args(["config", "--default"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("[general]") && text.contains("# active_minutes = 10"));
    runyard()
        .env("XDG_CONFIG_HOME", "/tmp/xdg-test")
        .args(["config", "--path"])
        .assert()
        .success()
        .stdout("/tmp/xdg-test/runyard/config.toml\n");
    for shell in ["bash", "zsh", "fish"] {
        let out = runyard()
            .args(["completions", shell])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let script = String::from_utf8(out).unwrap();
        assert!(script.contains("runyard"), "{shell}");
        for sub in ["ls", "show", "latest", "du", "clean", "restore"] {
            assert!(script.contains(sub), "{shell} completes {sub}");
        }
    }
    let man = runyard()
        .arg("man")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let man = String::from_utf8(man).unwrap();
    assert!(
        man.starts_with(".ie") || man.contains(".TH runyard 1"),
        "{man}"
    );
    assert!(man.contains("clean"));
    runyard()
        .args(["config", "--keys"])
        .assert()
        .success()
        .stdout(predicate::str::contains("rescan"));
}

/// Every object key `--json` prints, except inside values that are the
/// user's own data (metric names, config keys, run_info extras).
fn keys_of(v: &Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                out.insert(k.clone());
                if !["key_metrics", "extra", "value", "seeds"].contains(&k.as_str()) {
                    keys_of(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| keys_of(i, out)),
        _ => {}
    }
}

#[test]
fn every_json_field_is_documented() {
    let (_tmp, root) = demo_copy();
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/json.md")).unwrap();
    let r = root.to_str().unwrap();
    let mut keys = std::collections::BTreeSet::new();
    let commands: Vec<Vec<&str>> = vec![
        vec!["ls", r, "--json"],
        vec!["-C", r, "show", "seed42", "--json"],
        vec!["latest", r, "--json"],
        vec!["du", r, "--json"],
        vec!["-C", r, "clean", "--checkpoints", "--dry-run", "--json"],
        vec!["-C", r, "compare", "seed42", "lr1e", "--json"],
        vec!["-C", r, "check", "--json"],
        vec!["-C", r, "artifacts", "--json"],
        vec!["-C", r, "rm", "seed7", "--yes", "--json"],
        vec!["-C", r, "trash", "list", "--json"],
        vec![
            "-C",
            r,
            "promote",
            "seed42",
            "--plot",
            "confusion_matrix.png",
            "--yes",
            "--json",
        ],
    ];
    for args in &commands {
        let doc = json_of(runyard().args(args));
        assert_eq!(doc["version"], 1, "{args:?} has a version");
        keys_of(&doc, &mut keys);
    }
    // `links` exits 1 while a link is broken (the demo has one); its JSON is whole anyway.
    let out = runyard()
        .args(["-C", r, "links", "--fix", "--dry-run", "--json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    keys_of(&doc, &mut keys);
    let missing: Vec<&String> = keys
        .iter()
        .filter(|k| !docs.contains(&format!("`{k}`")) && !docs.contains(&format!("\"{k}\"")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/json.md does not describe: {missing:?}"
    );
}

#[test]
fn compare_puts_runs_side_by_side_and_marks_the_best() {
    let (_tmp, root) = demo_copy();
    let r = root.to_str().unwrap();
    let doc = json_of(runyard().args(["-C", r, "compare", "--task", "ocr", "--json"]));
    let runs: Vec<&str> = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["run"].as_str().unwrap())
        .collect();
    assert_eq!(runs.len(), 4, "{runs:?}");
    let metric = |name: &str| {
        doc["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("{name} is a column"))
            .clone()
    };
    // Higher accuracy and lower loss win; counters are not ranked.
    assert_eq!(metric("val/acc")["better"], "higher");
    assert_eq!(
        metric("val/acc")["best"],
        "ocr/vit-small/2025-12-09_11-02-33_lr1e-4"
    );
    assert_eq!(metric("val/loss")["better"], "lower");
    assert_eq!(
        metric("val/loss")["best"],
        "ocr/vit-small/2025-12-09_11-02-33_lr1e-4"
    );
    // Counters are not ranked; bookkeeping (epoch, step) is no column at all.
    assert_eq!(metric("test/samples")["best"], Value::Null);
    assert_eq!(metric("test/samples")["better"], Value::Null);
    assert!(
        !doc["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "val/epoch"),
        "{doc}"
    );
    // Curves count with their last value.
    assert!(metric("train/loss")["better"] == "lower", "{doc}");
    // A run without a metric has null there, never a made-up number.
    let seed7 = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["run"] == "ocr/crnn/2025-12-06_09-10-00_seed7")
        .unwrap();
    let column = |name: &str| {
        doc["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .position(|m| m["name"] == name)
            .unwrap()
    };
    assert_eq!(seed7["values"][column("test/acc")], Value::Null);
    assert_eq!(seed7["values"][column("val/acc")], 0.79);

    // --sort orders best first; text marks the best of each column.
    let out = runyard()
        .args([
            "-C", r, "compare", "seed42", "seed7", "lr3e", "--sort", "val/loss",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("run ") && lines[0].contains("val/loss ↓"),
        "{text}"
    );
    // Rows are named by what differs: the model and the run id's tag.
    assert!(lines[1].starts_with("crnn/seed42 "), "{text}");
    assert!(lines[1].contains("0.41*"), "{text}");
    assert!(lines[3].starts_with("vit-small/lr3e-4 "), "{text}");

    // CSV: a header, one row per run, empty cells for missing values.
    let out = runyard()
        .args(["-C", r, "compare", "seed42", "seed7", "--csv"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let mut rdr = csv::Reader::from_reader(out.as_slice());
    let header = rdr.headers().unwrap().clone();
    assert_eq!(&header[0], "run");
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let test_acc = header.iter().position(|h| h == "test/acc").unwrap();
    assert_eq!(&rows[1][test_acc], "");

    // Unknown metric, no runs: usage errors naming what would work.
    runyard()
        .args(["-C", r, "compare", "seed42", "--sort", "nope"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("they have: val/acc"));
    runyard()
        .args(["-C", r, "compare"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--task/--model"));
}

#[test]
fn a_plan_shows_a_line_per_run_and_the_total_at_both_ends() {
    let (_tmp, root) = demo_copy();
    let out = runyard()
        .args(["-C"])
        .arg(&root)
        .args(["clean", "ocr/crnn", "--dry-run"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("Plan: delete ephemeral data (tmp/, cache/) — "),
        "{text}"
    );
    let total = lines[0].split(" — ").nth(1).unwrap();
    assert!(total.contains("in 2 runs (4 paths, "), "{text}");
    // One line per run with its subtotal, no path below it.
    let runs: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("ocr/crnn/2025-12-0"))
        .collect();
    assert_eq!(runs.len(), 2, "{text}");
    assert!(runs.iter().all(|l| l.contains("tmp/, cache/ · ")), "{text}");
    assert!(
        !text.contains("      cache  "),
        "no path lines by default: {text}"
    );
    assert_eq!(
        lines.iter().find(|l| l.starts_with("Total: ")).copied(),
        Some(format!("Total: {total}").as_str()),
        "{text}"
    );
}

#[test]
fn a_verbose_plan_lists_every_path_under_its_run() {
    let (_tmp, root) = demo_copy();
    let out = runyard()
        .args(["-C"])
        .arg(&root)
        .args(["clean", "ocr/crnn", "--dry-run", "--verbose"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let paths = text
        .lines()
        .filter(|l| l.trim_end().ends_with("files)") && l.starts_with("      "))
        .count();
    assert_eq!(paths, 4, "{text}");
    assert!(text.contains("  tmp  (tmp/, "), "{text}");
    assert!(text.contains("Total: "), "{text}");
    assert!(!text.contains("--verbose lists"), "{text}");
}

#[test]
fn plan_counts_agree_with_their_nouns() {
    let (_tmp, root) = demo_copy();
    let run = root.join("experiments/ocr/crnn/2025-12-06_09-10-00_seed7");
    std::fs::remove_dir_all(run.join("cache")).unwrap();
    let tmp = run.join("tmp");
    std::fs::remove_dir_all(&tmp).unwrap();
    write(&tmp.join("only"), b"x");
    let f = std::fs::File::open(&tmp).unwrap();
    f.set_modified(idle_time()).unwrap();
    std::fs::File::open(&run)
        .unwrap()
        .set_modified(idle_time())
        .unwrap();
    std::fs::File::options()
        .write(true)
        .open(tmp.join("only"))
        .unwrap()
        .set_modified(idle_time())
        .unwrap();
    let out = runyard()
        .args(["-C"])
        .arg(&root)
        .args(["clean", "seed7", "--dry-run", "--no-cache"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("in 1 run (1 path, 1 file)"), "{text}");
    assert!(text.contains("tmp/ · 1 file\n"), "{text}");
    for wrong in ["1 paths", "1 files", "1 runs"] {
        assert!(!text.contains(wrong), "{wrong}: {text}");
    }
}

#[test]
fn ls_flat_prints_rows_only_and_n_keeps_the_newest() {
    let (_tmp, root) = demo_copy();
    let out = runyard()
        .args(["ls", "--flat"])
        .arg(&root)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Nine runs, nine lines: no root, totals, column header, problems nor "Also here".
    assert_eq!(lines.len(), 9, "{text}");
    assert!(
        lines
            .iter()
            .all(|l| l.split('/').count() >= 3 && !l.starts_with(' ')),
        "{text}"
    );
    for header in ["NAME", "tasks ·", "Problems:", "Also here"] {
        assert!(!text.contains(header), "{header}: {text}");
    }
    // The status is one word, so awk's columns hold.
    let crnn = lines
        .iter()
        .find(|l| l.starts_with("ocr/crnn/2025-12-04_14-32-10_seed42"))
        .unwrap();
    assert_eq!(crnn.split_whitespace().nth(1), Some("finished"), "{crnn}");

    // -n 2: the two newest runs, grouped as usual; with --flat, two lines.
    let out = runyard()
        .args(["ls", "-n", "2"])
        .arg(&root)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("2 tasks · 2 models · 2 runs"), "{text}");
    assert!(text.contains("2025-12-10_07-30-00_smoke"), "{text}");
    assert!(text.contains("2025-12-09_11-02-33_lr1e-4"), "{text}");
    assert!(!text.contains("2025-12-08_18-45-12_lr3e-4"), "{text}");
    assert!(!text.contains("recsys"), "{text}");
    let out = runyard()
        .args(["ls", "--flat", "-n", "3", "--sort", "size"])
        .arg(&root)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let names: Vec<&str> = text
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "ocr/vit-small/2025-12-09_11-02-33_lr1e-4",
            "ocr/vit-small/2025-12-08_18-45-12_lr3e-4",
            "debug/tiny/2025-12-10_07-30-00_smoke"
        ],
        "the three newest, biggest first"
    );
    let doc = json_of(runyard().args(["ls", "--json", "-n", "1"]).arg(&root));
    assert_eq!(doc["runs"].as_array().unwrap().len(), 1);
    assert_eq!(doc["runs"][0]["run_id"], "2025-12-10_07-30-00_smoke");
}

#[test]
fn subcommand_help_keeps_the_global_options_apart() {
    for sub in ["ls", "clean", "promote", "show"] {
        let out = runyard()
            .args([sub, "--help"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let text = String::from_utf8(out).unwrap();
        let (own, global) = text
            .split_once("\nGlobal options:\n")
            .unwrap_or_else(|| panic!("{sub}: no global heading:\n{text}"));
        for flag in [
            "--threads",
            "--config-file",
            "--no-config",
            "--no-cache",
            "--root",
            "--active-minutes",
        ] {
            assert!(!own.contains(flag), "{sub}: {flag} among its own:\n{text}");
            assert!(global.contains(flag), "{sub}: {flag} missing:\n{text}");
        }
    }
}
