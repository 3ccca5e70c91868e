//! Cases written with the fixes of the third security review, beside the
//! reviewer's own (`review2.rs`): what each fix holds beyond that test.

use super::*;

/// The modification time of `p` itself (a link's own), in whole seconds.
fn mtime_secs(p: &Path) -> i64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(p).unwrap().mtime()
}

#[test]
fn a_run_moved_by_copy_keeps_its_folders_times() {
    // The walk behind a move across filesystems, run directly (on one
    // filesystem, so it runs everywhere): every copied folder used to be
    // dated 1970, and a moved run's own folder must not look new either.
    let mut w = World::new();
    let from = w.run("2025-01-01_00-00-00_a");
    w.canaries.retain(|(p, _)| !p.starts_with(&from));
    let want = mtime_secs(&from);
    let want_ck = mtime_secs(&from.join("checkpoints"));
    assert!(want > 86_400 && want_ck > 86_400);
    let to = w.root.join("experiments/t2/m/2025-01-01_00-00-00_a");
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    ops::move_by_copy(&from, &to).unwrap();
    assert_eq!(mtime_secs(&to), want);
    assert_eq!(mtime_secs(&to.join("checkpoints")), want_ck);
    assert_eq!(mtime_secs(&to.join("tmp/deep")), want);
    w.check_canaries();
}

#[test]
fn mv_across_filesystems_keeps_the_folders_times() {
    // `runyard mv` to a task folder that is another filesystem (a tmpfs):
    // rename says EXDEV, the run is copied; its folders keep their times.
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
    let want = mtime_secs(&r);
    let want_ck = mtime_secs(&r.join("checkpoints"));
    let script = r#"
        mkdir "$ROOT/experiments/t2"
        mount -t tmpfs -o size=4m none "$ROOT/experiments/t2"
        touch -d @1600000000 "$ROOT/experiments/t2" "$ROOT/experiments"
        "$RY" mv 2025-01-01_00-00-00_a --task t2 --yes -C "$ROOT"
        D="$ROOT/experiments/t2/m/2025-01-01_00-00-00_a"
        test -f "$D/checkpoints/best.pt"
        echo "TIMES $(stat -c %Y "$D") $(stat -c %Y "$D/checkpoints")"
    "#;
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-euc", script])
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
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let times = stdout
        .lines()
        .find_map(|l| l.strip_prefix("TIMES "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(times, format!("{want} {want_ck}"), "{stdout}");
    assert!(!r.exists(), "the source went after the copy");
    w.check_canaries();
}

/// Runs `runyard` with `args` on `root`.
fn ry(root: &Path, args: &[&str]) -> std::process::Output {
    common::runyard_cmd()
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .unwrap()
}

/// The ids in the trash folder `trash`, sorted.
fn trash_ids(trash: &Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(trash)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn every_run_of_custom_lightning_loggers_comes_back_from_the_trash() {
    // Both custom loggers lose their only version: the folder opens as a
    // Lightning tree from its trash records alone, and each run can be
    // restored (into its emptied logger folder, or one made again).
    let tmp = tempfile::tempdir().unwrap();
    let tb = tmp.path().join("tb");
    write(&tb.join("my_model/version_0/hparams.yaml"), b"lr: 0.1\n");
    write(&tb.join("other/version_0/hparams.yaml"), b"lr: 0.2\n");
    runyard::demo::set_tree_mtime(tmp.path(), idle_time()).unwrap();
    for run in ["my_model/lightning/version_0", "other/lightning/version_0"] {
        let out = ry(&tb, &["rm", run, "--yes"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // One logger folder gone altogether.
    std::fs::remove_dir(tb.join("other")).unwrap();
    let list = ry(&tb, &["trash", "list"]);
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(
        text.contains("my_model/version_0") && text.contains("other/version_0"),
        "{text}"
    );
    for id in trash_ids(&tb.join(".trash")) {
        let out = ry(&tb, &["restore", &id]);
        assert!(
            out.status.success(),
            "{id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(tb.join("my_model/version_0/hparams.yaml").is_file());
    assert!(tb.join("other/version_0/hparams.yaml").is_file());
}

#[test]
fn a_lightning_record_cannot_restore_into_a_folder_that_is_not_an_emptied_logger() {
    // The record's `tree` widens the logger rule only to a folder that is
    // empty or missing: `src/` of the project is refused as before.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("proj");
    write(
        &root.join("lightning_logs/version_0/hparams.yaml"),
        b"a: 1\n",
    );
    write(&root.join("src/train.py"), b"print()\n");
    for (id, origin) in [("a", "src/version_0"), ("b", ".hidden/version_0")] {
        let entry = root.join(".trash").join(id);
        write(&entry.join("run/hparams.yaml"), b"a: 2\n");
        write(
            &entry.join("origin.json"),
            format!(r#"{{"version":1,"origin":"{origin}","deleted_at":"","tree":"lightning"}}"#)
                .as_bytes(),
        );
    }
    runyard::demo::set_tree_mtime(tmp.path(), idle_time()).unwrap();
    for id in ["a", "b"] {
        let out = ry(&root, &["restore", id]);
        assert!(!out.status.success(), "{id} was restored");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("record refused"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(!root.join("src/version_0").exists());
    assert!(!root.join(".hidden").exists());
}

#[test]
fn restoring_an_entry_without_its_run_makes_no_folders() {
    // A record-only entry (a move killed between the record and the
    // rename): nothing to bring back, and the task/model folders it names
    // are not made for it.
    let w = World::new();
    let entry = w.root.join(".trash/2025-01-01_00-00-00_x");
    write(
        &entry.join("origin.json"),
        br#"{"version":1,"origin":"experiments/newtask/newmodel/2025-01-01_00-00-00_x","deleted_at":""}"#,
    );
    w.idle();
    let out = ry(&w.root, &["restore", "2025-01-01_00-00-00_x"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no run/"), "{err}");
    assert!(!w.root.join("experiments/newtask").exists());
    assert!(entry.join("origin.json").is_file(), "the record stays");
    w.check_canaries();
}

#[test]
fn trash_empty_deletes_only_entries_with_a_valid_record() {
    // A folder put in .trash/ by someone else (no record) and an entry
    // whose record is refused are listed with the reason and stay; the
    // run runyard trashed goes.
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    w.canaries.retain(|(p, _)| !p.starts_with(&r));
    let out = ry(&w.root, &["rm", "2025-01-01_00-00-00_a", "--yes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trash = w.root.join(".trash");
    let ours = trash_ids(&trash);
    w.canary(&trash.join("photo-album/img.jpg"), 4_000);
    w.canary(&trash.join("crafted/run/keep.txt"), 10);
    // A record `restore` refuses (it points out of the tree).
    let bad = br#"{"version":1,"origin":"../../outside","deleted_at":""}"#;
    write(&trash.join("crafted/origin.json"), bad);
    w.idle();
    let dry = ry(&w.root, &["trash", "empty", "--dry-run"]);
    let text = String::from_utf8_lossy(&dry.stdout);
    for id in ["photo-album", "crafted"] {
        assert!(
            text.lines()
                .any(|l| l.contains(id) && l.contains("not a runyard trash entry")),
            "{id}:\n{text}"
        );
    }
    let out = ry(&w.root, &["trash", "empty", "--yes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(trash_ids(&trash), ["crafted", "photo-album"]);
    assert!(!trash.join(&ours[0]).exists(), "runyard's own entry went");
    assert_eq!(
        std::fs::read(trash.join("crafted/origin.json")).unwrap(),
        bad
    );
    w.check_canaries();
}

/// An MLflow experiment deleted in MLflow: `.trash/<id>/meta.yaml` and a run.
fn mlflow_deleted_experiment(store: &Path, id: &str) {
    write(
        &store.join(".trash").join(id).join("meta.yaml"),
        b"experiment_id: '5'\nlifecycle_stage: deleted\nname: old\n",
    );
    write(
        &store.join(".trash").join(id).join("abc/meta.yaml"),
        b"run_id: abc\nlifecycle_stage: deleted\n",
    );
    write(
        &store
            .join(".trash")
            .join(id)
            .join("abc/artifacts/model.pkl"),
        &[9; 3000],
    );
}

#[test]
fn mlflows_own_trash_is_never_emptied() {
    // Two stores runyard takes for its layout: one holding `experiments/`
    // (rule 1 wins over the name mlruns), one named outputs whose every
    // experiment was deleted (only .trash/ and models/ left). MLflow's
    // `.trash/` is not runyard's: not planned, not emptied, not listed.
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("mlruns");
    std::fs::create_dir_all(a.join("experiments")).unwrap();
    mlflow_deleted_experiment(&a, "5");
    let b = tmp.path().join("proj/outputs");
    std::fs::create_dir_all(b.join("models")).unwrap();
    mlflow_deleted_experiment(&b, "7");
    runyard::demo::set_tree_mtime(tmp.path(), idle_time()).unwrap();
    for (store, id) in [(&a, "5"), (&b, "7")] {
        let dry = ry(store, &["trash", "empty", "--dry-run", "--json"]);
        let doc: serde_json::Value = serde_json::from_slice(&dry.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&dry.stdout)));
        assert_eq!(doc["plan"]["targets"], serde_json::json!([]), "{doc}");
        assert!(
            doc["plan"]["skipped"].to_string().contains("MLflow"),
            "{doc}"
        );
        ry(store, &["trash", "empty", "--yes"]);
        assert!(
            store
                .join(".trash")
                .join(id)
                .join("abc/artifacts/model.pkl")
                .is_file(),
            "MLflow's deleted experiment was emptied"
        );
        let list = ry(store, &["trash", "list"]);
        assert!(
            !String::from_utf8_lossy(&list.stdout).contains(&format!("{id} ")),
            "{}",
            String::from_utf8_lossy(&list.stdout)
        );
    }
}

#[test]
fn one_crafted_trash_record_does_not_make_a_folder_a_tree() {
    // A home-like folder: `.trash/old-download/origin.json` naming a Hydra
    // tree, beside a `.trash/photo-album/` of someone else's. Not a tree:
    // plain `runyard` there must not open "Hydra outputs" (and plan the
    // photo album for deletion).
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    write(
        &home.join(".trash/old-download/origin.json"),
        br#"{"version":1,"origin":"foo","deleted_at":"","tree":"hydra"}"#,
    );
    write(&home.join(".trash/photo-album/img.jpg"), &[1; 1000]);
    write(&home.join("notes.txt"), b"hi\n");
    let out = ry(&home, &["trash", "empty", "--dry-run"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Even a record shaped like runyard's, alone with the photos.
    std::fs::remove_dir_all(home.join(".trash/old-download")).unwrap();
    write(
        &home.join(".trash/2025-01-01_00-00-00_13-45-10/origin.json"),
        br#"{"version":1,"origin":"2025-01-01/13-45-10","deleted_at":"","tree":"hydra"}"#,
    );
    let out = ry(&home, &["ls"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(home.join(".trash/photo-album/img.jpg").is_file());
}

#[test]
fn a_restore_of_a_partly_emptied_entry_warns() {
    // The record keeps the run's size as planned; an entry that lost part
    // of its run (a `trash empty` killed half-way) is restored with a
    // warning, a whole one without.
    let mut w = World::new();
    let a = w.run("2025-01-01_00-00-00_a");
    let b = w.run("2025-01-02_00-00-00_b");
    w.canaries
        .retain(|(p, _)| !p.starts_with(&a) && !p.starts_with(&b));
    let files = walkdir::WalkDir::new(&a)
        .into_iter()
        .flatten()
        .filter(|e| !e.file_type().is_dir())
        .count() as u64;
    for run in ["2025-01-01_00-00-00_a", "2025-01-02_00-00-00_b"] {
        let out = ry(&w.root, &["rm", run, "--yes"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let ids = trash_ids(&w.root.join(".trash"));
    let entry = w.root.join(".trash").join(&ids[0]);
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(entry.join("origin.json")).unwrap()).unwrap();
    assert_eq!(record["files"], files, "{record}");
    assert!(record["bytes"].as_u64().unwrap() > 0, "{record}");
    std::fs::remove_dir_all(entry.join("run/checkpoints")).unwrap();
    let out = ry(&w.root, &["restore", &ids[0]]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning") && err.contains("part of it was deleted"),
        "{err}"
    );
    let out = ry(&w.root, &["restore", &ids[1]]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "a whole entry");
    w.check_canaries();
}

#[test]
fn a_linked_trash_record_is_named_as_a_link() {
    // It was reported as "is a link or not a folder (changed since the
    // plan?)", though no plan is involved in listing the trash.
    let w = World::new();
    let entry = w.root.join(".trash/2025-01-01_00-00-00_00-00-00_a");
    write(&entry.join("run/x.txt"), b"x");
    let elsewhere = w.outside.join("origin.json");
    std::fs::write(
        &elsewhere,
        r#"{"version":1,"origin":"experiments/t/m/a","deleted_at":""}"#,
    )
    .unwrap();
    symlink(&elsewhere, entry.join("origin.json")).unwrap();
    let entries = trash::list(&w.root);
    let err = entries[0].error.as_deref().unwrap_or_default();
    assert!(
        err.contains("symbolic link") && !err.contains("plan"),
        "{err}"
    );
    w.check_canaries();
}
