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
