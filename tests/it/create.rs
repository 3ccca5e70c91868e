//! init, new-run and finish: the layout as something runyard creates.

use crate::common;

use crate::common::runyard_cmd;

#[test]
fn init_creates_the_layout_once_and_never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    let out = runyard_cmd().arg("init").arg(tmp.path()).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for p in [
        "outputs/experiments",
        "outputs/artifacts/datasets",
        "outputs/artifacts/README.md",
        "docs/outputs_structure.md",
    ] {
        assert!(tmp.path().join(p).exists(), "{p}");
        assert!(text.contains(p), "says it created {p}: {text}");
    }
    let readme = tmp.path().join("outputs/artifacts/README.md");
    let original = std::fs::read_to_string(&readme).unwrap();
    assert!(
        original.contains("<!-- runyard:index:start -->")
            && original.contains("<!-- runyard:index:end -->")
    );
    std::fs::write(&readme, "my own notes\n").unwrap();
    let out = runyard_cmd().arg("init").arg(tmp.path()).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing created"));
    assert_eq!(
        std::fs::read_to_string(&readme).unwrap(),
        "my own notes\n",
        "never overwritten"
    );
    let doc = std::fs::read_to_string(tmp.path().join("docs/outputs_structure.md")).unwrap();
    assert!(doc.contains("Run ids") && doc.contains("Safe to delete"));
}

#[test]
fn new_run_in_a_loop_never_collides_and_prints_only_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    std::fs::create_dir_all(root.join("experiments")).unwrap();
    let cfg = tmp.path().join("train.yaml");
    std::fs::write(&cfg, "lr: 0.001\n").unwrap();
    let paths: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    let out = runyard_cmd()
                        .arg("-C")
                        .arg(&root)
                        .args([
                            "new-run", "--task", "ocr", "--model", "crnn", "--tag", "s1", "--seed",
                            "42", "--config",
                        ])
                        .arg(&cfg)
                        .args(["--", "python", "train.py"])
                        .output()
                        .unwrap();
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    String::from_utf8(out.stdout).unwrap().trim().to_string()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut unique = paths.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 8, "{paths:?}");
    for p in &paths {
        let run = std::path::Path::new(p);
        assert!(
            runyard::layout::parse_run_id(&run.file_name().unwrap().to_string_lossy()).is_some()
        );
        for sub in runyard::ops::create::RUN_FOLDERS {
            assert!(run.join(sub).is_dir(), "{sub}");
        }
        assert_eq!(
            std::fs::read_to_string(run.join("config.yaml")).unwrap(),
            "lr: 0.001\n"
        );
        let info: serde_json::Value =
            serde_json::from_slice(&std::fs::read(run.join("run_info.json")).unwrap()).unwrap();
        assert_eq!(info["status"], "running");
        assert_eq!(info["command"], "python train.py");
        assert_eq!(info["seeds"][0], 42);
    }
}

#[test]
fn finish_records_status_time_and_metrics_keeping_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    std::fs::create_dir_all(root.join("experiments")).unwrap();
    let out = runyard_cmd()
        .arg("-C")
        .arg(&root)
        .args(["new-run", "--task", "t", "--model", "m"])
        .output()
        .unwrap();
    let run = std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let metrics = tmp.path().join("m.json");
    std::fs::write(&metrics, r#"{"val/acc": 0.91, "val/loss": 0.2}"#).unwrap();
    let out = runyard_cmd()
        .arg("finish")
        .arg(&run)
        .arg("--metrics")
        .arg(&metrics)
        .args(["--status", "finished"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("run_info.json")).unwrap()).unwrap();
    assert_eq!(info["status"], "finished");
    assert!(info["finished_at"].is_string() && info["started_at"].is_string());
    assert_eq!(info["metrics"]["val/acc"], 0.91);
    // The listing picks the key metrics up.
    let out = runyard_cmd()
        .args(["ls", "--json"])
        .arg(&root)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["runs"][0]["key_metrics"]["val/acc"], 0.91);
}

#[test]
fn check_reports_every_kind_of_stray() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    let w = |p: &str, b: &[u8]| common::write(&root.join(p), b);
    w(
        "experiments/t/m/2025-01-01_00-00-00_ok/run_info.json",
        b"{}",
    );
    w(
        "experiments/t/m/2025-01-01_00-00-00_ok/metrics/val_metrics.json",
        b"{}",
    );
    w("experiments/t/m/backup-copy/README.md", b"old");
    w("experiments/t/m/2025-01-02_00-00-00_bare/logs/x.log", b"");
    w(
        "experiments/t/m/2025-01-01_00-00-00_ok/metrics/accuracy.json",
        b"{}",
    );
    w(
        "experiments/t/m/2025-01-01_00-00-00_ok/checkpoints/model_final.pt",
        b"",
    );
    w("experiments/t/m/notes.txt", b"");
    // A preprocessing run's data metrics carry no split: not a finding.
    w(
        "experiments/preproc/clean/2025-01-01_00-00-00/metrics/coverage_stats.json",
        b"{}",
    );
    w(
        "experiments/preproc/clean/2025-01-01_00-00-00/run_info.json",
        b"{}",
    );
    w("scratch/tmp.bin", b"");
    w("artifacts/plots/orphan.png", b"");
    w("artifacts/datasets/.runyard-tmp-999999999-big_v1/part", b"");
    let out = runyard_cmd()
        .arg("-C")
        .arg(&root)
        .args(["check", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "warnings only: exit 0");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (kind, path) in [
        ("unrecognized", "scratch"),
        ("stray", "experiments/t/m/notes.txt"),
        ("run-id", "experiments/t/m/backup-copy"),
        ("no-metadata", "experiments/t/m/2025-01-02_00-00-00_bare"),
        (
            "metric-split",
            "experiments/t/m/2025-01-01_00-00-00_ok/metrics/accuracy.json",
        ),
        (
            "checkpoint-name",
            "experiments/t/m/2025-01-01_00-00-00_ok/checkpoints/model_final.pt",
        ),
        ("no-provenance", "artifacts/plots/orphan.png"),
        (
            "stale-temporary",
            "artifacts/datasets/.runyard-tmp-999999999-big_v1",
        ),
    ] {
        assert!(
            kinds.contains(&(kind.to_string(), path.to_string())),
            "{kind} {path}: {kinds:?}"
        );
    }
    assert_eq!(kinds.len(), 8, "{kinds:?}");
    let out = runyard_cmd()
        .arg("-C")
        .arg(&root)
        .args(["check", "--strict"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
