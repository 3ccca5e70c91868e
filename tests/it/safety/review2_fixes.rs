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
