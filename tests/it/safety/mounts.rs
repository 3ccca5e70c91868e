//! Safety cases: mount points (issue 12, item 1). Cleanups and emptying the
//! trash never enter another mount: a tmpfs in `tmp/`, a bind mount of a
//! folder outside the tree in `cache/`, a run bind-mounted onto its own
//! `tmp/loop`. Mounting needs root and a private mount namespace, so each
//! case runs the real binary under `unshare -m`; where that is refused the
//! case says why and passes without running (CI runs as root, so it runs
//! there).

use super::*;

/// A date well before the active window, for `touch -d`.
const OLD: &str = "@1600000000";

/// True when this process may make a private mount namespace.
fn can_unshare() -> bool {
    let ok = Command::new("unshare")
        .args(["-m", "--propagation", "private", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: `unshare -m` is not available here (needs root)");
    }
    ok
}

/// Runs `script` in a private mount namespace with `$RY` the runyard binary
/// and `$ROOT` the outputs folder; returns stdout and stderr.
fn in_namespace(root: &Path, script: &str) -> (String, String) {
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-euc", script])
        .env("RY", assert_cmd::cargo::cargo_bin("runyard"))
        .env("ROOT", root)
        .env("XDG_CONFIG_HOME", "/nonexistent/runyard-tests")
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("runyard-tests-cache"),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "script failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

#[test]
fn cleanup_leaves_a_tmpfs_and_a_bind_mount_of_an_outside_folder_whole() {
    if !can_unshare() {
        return;
    }
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    let script = format!(
        r#"
        RUN="$ROOT/experiments/t/m/2025-01-01_00-00-00_a"
        mount -t tmpfs -o size=4m none "$RUN/tmp"
        echo on-tmpfs > "$RUN/tmp/job.bin"
        mount --bind "{outside}" "$RUN/cache"
        touch -h -d {OLD} "$RUN/tmp/job.bin" "$RUN/tmp" "$RUN/cache" "$RUN"
        "$RY" clean --yes --no-cache -C "$ROOT"
        test -f "$RUN/tmp/job.bin" && echo TMPFS-KEPT
        "#,
        outside = w.outside.display()
    );
    let (stdout, _) = in_namespace(&w.root, &script);
    assert!(stdout.contains("TMPFS-KEPT"), "{stdout}");
    assert!(
        stdout.contains("mount point"),
        "the plan says why: {stdout}"
    );
    // The bind-mounted folder is outside the tree: its files are canaries.
    w.check_canaries();
    // Nothing else in the run was touched either.
    assert!(r.join("checkpoints/epoch01.pt").exists());
}

#[test]
fn a_run_bind_mounted_onto_its_own_tmp_is_not_deleted() {
    if !can_unshare() {
        return;
    }
    let w = World::new().with_run("2025-01-01_00-00-00_a");
    let r = w.root.join("experiments/t/m/2025-01-01_00-00-00_a");
    let script = format!(
        r#"
        RUN="$ROOT/experiments/t/m/2025-01-01_00-00-00_a"
        mkdir "$RUN/tmp/loop"
        mount --bind "$RUN" "$RUN/tmp/loop"
        touch -h -d {OLD} "$RUN/tmp/loop" "$RUN/tmp" "$RUN"
        "$RY" clean --yes --no-cache -C "$ROOT"
        "#
    );
    let (stdout, _) = in_namespace(&w.root, &script);
    assert!(stdout.contains("mount point"), "{stdout}");
    w.check_canaries();
    assert!(r.join("checkpoints/best.pt").exists());
    assert!(r.join("run_info.json").exists());
    // The rest of tmp/ went; the folder holding the mount point stays.
    assert!(!r.join("tmp/a.bin").exists());
    assert!(r.join("tmp/loop").is_dir());
}

#[test]
fn emptying_the_trash_does_not_enter_a_mount_inside_a_trashed_run() {
    if !can_unshare() {
        return;
    }
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    // Trashed first (a plain rename), then a bind mount of the outside
    // folder appears inside it before the trash is emptied.
    let plan = ops::plan_trash(&w.root, &[w.rel(&r)], &opts());
    assert!(apply(&plan).errors.is_empty());
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
        "#,
        outside = w.outside.display(),
        entry = entry.display()
    );
    let (stdout, _) = in_namespace(&w.root, &script);
    assert!(stdout.contains("mount point"), "{stdout}");
    // The run's own files went with the trash, as asked; the outside
    // folder that was mounted inside it did not.
    for (p, bytes) in w.canaries.iter().filter(|(p, _)| p.starts_with(&w.outside)) {
        assert_eq!(std::fs::read(p).unwrap(), *bytes, "{}", p.display());
    }
}

#[test]
fn a_trash_entry_that_is_a_bind_mount_of_an_outside_folder_is_not_emptied() {
    // Review finding: the entry's own mount was taken as the run's, so the
    // `run/` inside a bind-mounted entry was deleted, outside the tree.
    if !can_unshare() {
        return;
    }
    let mut w = World::new();
    w.canary(&w.outside.join("run/sub/file"), 100);
    let script = format!(
        r#"
        mkdir -p "$ROOT/.trash/2025-01-01_00-00-00_x"
        mount --bind "{outside}" "$ROOT/.trash/2025-01-01_00-00-00_x"
        "$RY" trash empty --yes -C "$ROOT" || true
        "#,
        outside = w.outside.display()
    );
    in_namespace(&w.root, &script);
    w.check_canaries();
}

#[test]
fn the_plan_lists_a_mounted_cache_under_skipped() {
    // The plan names the mount point under "skipped" and plans nothing
    // inside it.
    if !can_unshare() {
        return;
    }
    let w = World::new().with_run("2025-01-01_00-00-00_a");
    let script = r#"
        RUN="$ROOT/experiments/t/m/2025-01-01_00-00-00_a"
        mount -t tmpfs none "$RUN/cache"
        touch -h -d @1600000000 "$RUN/cache"
        "$RY" clean --dry-run --json --no-cache -C "$ROOT"
    "#;
    let (stdout, _) = in_namespace(&w.root, script);
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let skipped = doc["plan"]["skipped"].as_array().unwrap();
    assert!(
        skipped.iter().any(|n| n["rel"]
            .as_str()
            .unwrap()
            .ends_with("2025-01-01_00-00-00_a/cache")
            && n["why"].as_str().unwrap().contains("mount point")),
        "{stdout}"
    );
    let targets = doc["plan"]["targets"].as_array().unwrap();
    assert!(
        !targets
            .iter()
            .any(|t| t["rel"].as_str().unwrap().ends_with("/cache")),
        "{stdout}"
    );
}

impl World {
    /// Adds a run and returns the world (for tests that need no run path).
    fn with_run(mut self, name: &str) -> World {
        self.run(name);
        self
    }
}
