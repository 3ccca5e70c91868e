//! Safety cases from the third security review (other tools' trees,
//! promote's duplicate detection, the grouped plan). Each test fails on
//! the code it was written against and says what it expects instead.

use super::*;

/// Dates everything under `dir` an hour back, so no run is active.
fn idle_tree(dir: &Path) {
    runyard::demo::set_tree_mtime(dir, idle_time()).unwrap();
}

fn ry(root: &Path, args: &[&str]) -> std::process::Output {
    common::runyard_cmd()
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_run_of_a_custom_lightning_logger_can_be_restored_after_its_last_version_went() {
    // A Lightning save folder with loggers named by the user
    // (`tb/<name>/version_N`): trashing the last version of one logger
    // left `my_model/` without any `version_N/`, so the trash record
    // (`my_model/version_0`) was refused as "not a run's place" and the
    // run could only be deleted for good, though `rm` said
    // "Undo with: runyard restore".
    let tmp = tempfile::tempdir().unwrap();
    let tb = tmp.path().join("tb");
    write(&tb.join("my_model/version_0/hparams.yaml"), b"lr: 0.1\n");
    write(
        &tb.join("my_model/version_0/checkpoints/last.ckpt"),
        &[7; 1000],
    );
    write(&tb.join("other/version_0/hparams.yaml"), b"lr: 0.2\n");
    idle_tree(tmp.path());
    let out = ry(&tb, &["rm", "my_model/lightning/version_0", "--yes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!tb.join("my_model/version_0").exists());
    let id = std::fs::read_dir(tb.join(".trash"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    let out = ry(&tb, &["restore", id.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "restore refused: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(tb.join("my_model/version_0/checkpoints/last.ckpt").exists());
}

#[test]
fn emptying_the_trash_keeps_the_record_of_a_run_holding_a_mount() {
    // `apply_run` takes `removed.mounts` (to report them) before it decides
    // whether the run's target failed, so a run that could not go whole
    // because of a mount inside it did not stop the entry's own target:
    // origin.json was deleted and the report said "2 of 2 paths" done.
    let ok = Command::new("unshare")
        .args(["-m", "--propagation", "private", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: `unshare -m` is not available here (needs root)");
        return;
    }
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    w.canaries.retain(|(p, _)| !p.starts_with(&r));
    assert!(
        apply(&ops::plan_trash(&w.root, &[w.rel(&r)], &opts()))
            .errors
            .is_empty()
    );
    let entry = std::fs::read_dir(w.root.join(".trash"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let script = format!(
        r#"
        mount --bind "{outside}" "{entry}/run/cache"
        "$RY" trash empty --yes -C "$ROOT"
        test -f "{entry}/origin.json" && echo RECORD-KEPT || echo RECORD-GONE
        "#,
        outside = w.outside.display(),
        entry = entry.display()
    );
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-euc", &script])
        .env("RY", assert_cmd::cargo::cargo_bin("runyard"))
        .env("ROOT", &w.root)
        .env("XDG_CONFIG_HOME", "/nonexistent/runyard-tests")
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("runyard-tests-cache"),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("mount point"), "{stdout}");
    assert!(
        stdout.contains("RECORD-KEPT"),
        "the run did not go whole, so its record must stay:\n{stdout}"
    );
    w.check_canaries();
}

/// A preprocessing run whose `data/` holds `files` (name → bytes).
fn preproc_run(root: &Path, name: &str, files: &[(&[u8], &[u8])]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let run = root.join("experiments/preproc/pipe").join(name);
    for (n, bytes) in files {
        write(
            &run.join("data").join(std::ffi::OsStr::from_bytes(n)),
            bytes,
        );
    }
    run
}

#[test]
fn different_folders_are_not_taken_for_the_same_bytes() {
    // The checksum of a folder hashes a text listing `<sha>  <name>\n` per
    // file: a file name holding a newline forges listing lines, so
    // {a: X, b: ""} and {"a\n<sha of ''>  b": X} get one sha256, and the
    // second dataset was refused as "already promoted". Names that are not
    // UTF-8 collide the same way (the listing writes them lossily).
    let w = World::new();
    let empty_sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    preproc_run(
        &w.root,
        "2025-01-01_00-00-00_a",
        &[(b"a", b"REAL DATASET\n"), (b"b", b"")],
    );
    let forged = format!("a\n{empty_sha}  b");
    preproc_run(
        &w.root,
        "2025-01-02_00-00-00_b",
        &[(forged.as_bytes(), b"REAL DATASET\n")],
    );
    preproc_run(&w.root, "2025-01-03_00-00-00_c", &[(b"x\xff", b"same")]);
    preproc_run(&w.root, "2025-01-04_00-00-00_d", &[(b"x\xfe", b"same")]);
    w.idle();
    for run in ["2025-01-01_00-00-00_a", "2025-01-03_00-00-00_c"] {
        let out = ry(&w.root, &["promote", "--data", run, "--yes"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for run in ["2025-01-02_00-00-00_b", "2025-01-04_00-00-00_d"] {
        let out = ry(&w.root, &["promote", "--data", run, "--dry-run", "--json"]);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            doc["plan"]["already"].is_null(),
            "{run}: a different folder taken for the same bytes: {}",
            doc["plan"]["already"]
        );
    }
    w.check_canaries();
}

#[test]
fn a_promoted_folder_keeps_its_modification_time() {
    // The copy's walk asks statx for type, mode, ino, size, blocks and the
    // mount id, not the modification time; the kernel then leaves
    // stx_mtime zero, and every promoted folder (and a run moved across
    // filesystems) is dated 1970-01-01.
    let w = World::new();
    let run = preproc_run(&w.root, "2025-01-01_00-00-00_a", &[(b"sub/f", b"x")]);
    w.idle();
    let want = std::fs::metadata(run.join("data"))
        .unwrap()
        .modified()
        .unwrap();
    let out = ry(
        &w.root,
        &["promote", "--data", "2025-01-01_00-00-00_a", "--yes"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let art = w.root.join("artifacts/datasets/pipe_v1");
    for dir in [art.clone(), art.join("sub")] {
        let got = std::fs::metadata(&dir).unwrap().modified().unwrap();
        assert!(
            got.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() > 86_400,
            "{} is dated {got:?}",
            dir.display()
        );
    }
    let got = std::fs::metadata(&art).unwrap().modified().unwrap();
    assert_eq!(got, want, "the dataset folder keeps its source's time");
}

#[test]
fn the_kept_summary_groups_by_run_in_other_tools_trees() {
    // With more than ten kept checkpoints the plan summarises them per
    // run, but `split_run` only knows `experiments/<t>/<m>/<r>`: in a
    // Lightning tree each kept file became its own "run" with "1 path: "
    // and an empty name.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("proj");
    for v in 0..3 {
        let ck = root.join(format!("lightning_logs/version_{v}/checkpoints"));
        for e in 1..=3 {
            write(
                &ck.join(format!("epoch={e}-step={}.ckpt", e * 100)),
                &[1; 100],
            );
        }
        for n in ["best.ckpt", "last.ckpt", "notes.txt", "opt.pt"] {
            write(&ck.join(n), b"x");
        }
    }
    idle_tree(&root);
    let out = ry(&root, &["clean", "--checkpoints", "--dry-run"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Kept:"), "{text}");
    assert!(
        !text.lines().any(|l| l.trim_end().ends_with("1 path:")),
        "kept files summarised as runs of their own:\n{text}"
    );
}
