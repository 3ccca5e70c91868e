//! Cleanup safety, with real files: links, swaps, races, permissions, odd
//! names, hard links, the trash. Canary files outside every plan are
//! checked byte for byte after each test.

use crate::common;

// Cases from the adversarial trial (issue 12), one module per area.
#[path = "safety/cli.rs"]
mod cli_cases;
#[path = "safety/links.rs"]
mod links_cases;
#[path = "safety/live.rs"]
mod live_cases;
#[path = "safety/mounts.rs"]
mod mounts;
#[path = "safety/promote.rs"]
mod promote_cases;
#[path = "safety/records.rs"]
mod records;
#[path = "safety/refresh_review.rs"]
mod refresh_review;
#[path = "safety/review.rs"]
mod review;
#[path = "safety/review2.rs"]
mod review2;
#[path = "safety/review2_fixes.rs"]
mod review2_fixes;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{idle_time, write};
use jiff::{SignedDuration, Timestamp};
use runyard::ops::{self, Plan, PlanOptions, RunRef, trash};

/// A scratch world: `outputs/` and, beside it, `outside/` with canaries.
struct World {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
    canaries: Vec<(PathBuf, Vec<u8>)>,
}

impl World {
    fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("outputs");
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(root.join("experiments")).unwrap();
        let mut w = World {
            root,
            outside,
            canaries: Vec::new(),
            _tmp: tmp,
        };
        w.canary(&w.outside.join("precious.bin"), 50_000);
        w.canary(&w.outside.join("sub/also.txt"), 300);
        w
    }

    /// A file whose bytes must survive every plan.
    fn canary(&mut self, path: &Path, len: usize) {
        let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        write(path, &bytes);
        self.canaries.push((path.to_path_buf(), bytes));
    }

    /// A run with tmp/, cache/, checkpoints and persistent files (canaries).
    fn run(&mut self, name: &str) -> PathBuf {
        let r = self.root.join("experiments/t/m").join(name);
        write(&r.join("tmp/a.bin"), &[1; 10_000]);
        write(&r.join("tmp/deep/b.bin"), &[1; 5_000]);
        write(&r.join("cache/c.npy"), &[2; 20_000]);
        write(&r.join("checkpoints/epoch01.pt"), &[3; 9_000]);
        write(&r.join("checkpoints/epoch02.pt"), &[3; 9_000]);
        self.canary(&r.join("checkpoints/best.pt"), 9_000);
        self.canary(&r.join("metrics/val_metrics.json"), 100);
        self.canary(&r.join("run_info.json"), 50);
        self.idle();
        r
    }

    /// Dates everything an hour back, so no run is active.
    fn idle(&self) {
        runyard::demo::set_tree_mtime(&self.root, idle_time()).unwrap();
    }

    fn rel(&self, run: &Path) -> RunRef {
        RunRef {
            rel: run.strip_prefix(&self.root).unwrap().to_path_buf(),
            newest_mtime: None,
            status: None,
        }
    }

    fn check_canaries(&self) {
        for (p, bytes) in &self.canaries {
            let now =
                std::fs::read(p).unwrap_or_else(|e| panic!("canary {} is gone: {e}", p.display()));
            assert!(now == *bytes, "canary {} changed", p.display());
        }
    }
}

fn opts() -> PlanOptions {
    PlanOptions {
        force: false,
        window: SignedDuration::from_mins(10),
        now: Timestamp::now(),
    }
}

fn apply(plan: &Plan) -> ops::Report {
    ops::apply(plan, 2, &|_, _| {})
}

#[test]
fn symlink_inside_tmp_pointing_outside_only_the_link_goes() {
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    symlink(&w.outside, r.join("tmp/escape")).unwrap();
    symlink(w.outside.join("precious.bin"), r.join("cache/file-link")).unwrap();
    w.idle();
    let plan = ops::plan_ephemeral(&w.root, &[w.rel(&r)], &opts());
    assert!(
        plan.bytes() < 60_000,
        "the plan did not count through links: {}",
        plan.bytes()
    );
    let report = apply(&plan);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(!r.join("tmp").exists() && !r.join("cache").exists());
    w.check_canaries();
}

#[test]
fn tmp_that_is_a_symlink_to_outside_only_the_link_goes() {
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    std::fs::remove_dir_all(r.join("tmp")).unwrap();
    symlink(&w.outside, r.join("tmp")).unwrap();
    w.idle();
    let plan = ops::plan_ephemeral(&w.root, &[w.rel(&r)], &opts());
    let tmp = plan
        .targets
        .iter()
        .find(|t| t.rel.ends_with("tmp"))
        .unwrap();
    assert!(tmp.ident.is_link);
    assert!(tmp.what.contains("symlink"));
    let report = apply(&plan);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(
        std::fs::symlink_metadata(r.join("tmp")).is_err(),
        "the link is gone"
    );
    assert!(w.outside.join("precious.bin").exists());
    w.check_canaries();
}

#[test]
fn symlink_loop_in_cache_is_removed_without_hanging() {
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    symlink(r.join("cache"), r.join("cache/loop")).unwrap();
    symlink("self", r.join("cache/self")).unwrap();
    w.idle();
    let plan = ops::plan_ephemeral(&w.root, &[w.rel(&r)], &opts());
    let report = apply(&plan);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(!r.join("cache").exists());
    w.check_canaries();
}

#[test]
fn a_path_swapped_for_a_symlink_after_planning_is_not_followed() {
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    let r2 = w.run("2025-01-01_00-00-01_b");
    let plan = ops::plan_ephemeral(&w.root, &[w.rel(&r), w.rel(&r2)], &opts());
    // cache/ of run a becomes a link to outside; run b's whole model folder
    // is swapped for a link to a look-alike outside the tree.
    std::fs::rename(r.join("cache"), w.outside.join("old-cache")).unwrap();
    symlink(&w.outside, r.join("cache")).unwrap();
    let decoy = w.outside.join("decoy-model");
    std::fs::create_dir_all(decoy.join("2025-01-01_00-00-01_b/tmp")).unwrap();
    w.canary(&decoy.join("2025-01-01_00-00-01_b/tmp/keep.bin"), 1000);
    w.idle();
    let m = w.root.join("experiments/t/m");
    let moved = w.root.join("experiments/t/m-real");
    std::fs::rename(&m, &moved).unwrap();
    symlink(&decoy, &m).unwrap();
    let report = apply(&plan);
    assert_eq!(report.done, 0, "{report:?}");
    assert!(report.skipped.len() >= 3, "{:?}", report.skipped);
    assert!(
        report
            .skipped
            .iter()
            .all(|s| s.why.contains("link") || s.why.contains("changed")),
        "{:?}",
        report.skipped
    );
    assert!(w.outside.join("old-cache/c.npy").exists());
    std::fs::remove_file(&m).unwrap();
    std::fs::rename(&moved, &m).unwrap();
    assert!(r2.join("tmp/a.bin").exists(), "run b untouched");
    w.check_canaries();
}

#[test]
fn active_runs_are_skipped_unless_forced() {
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    write(&r.join("logs/train.log"), b"step 100 loss 0.3\n");
    let plan = ops::plan_ephemeral(&w.root, &[w.rel(&r)], &opts());
    assert!(plan.is_empty());
    assert!(
        plan.skipped[0].why.starts_with("active"),
        "{:?}",
        plan.skipped
    );
    let forced = ops::plan_ephemeral(
        &w.root,
        &[w.rel(&r)],
        &PlanOptions {
            force: true,
            ..opts()
        },
    );
    assert_eq!(forced.targets.len(), 2);
    apply(&forced);
    assert!(!r.join("tmp").exists());
    w.check_canaries();
}

#[test]
fn files_vanishing_or_appearing_between_plan_and_apply() {
    let mut w = World::new();
    let a = w.run("2025-01-01_00-00-00_a");
    let b = w.run("2025-01-01_00-00-01_b");
    let plan = ops::plan_ephemeral(&w.root, &[w.rel(&a), w.rel(&b)], &opts());
    // Run a: its tmp/ vanished (someone cleaned it). Run b: a file appeared
    // in cache/, so it is active again and must be left alone.
    std::fs::remove_dir_all(a.join("tmp")).unwrap();
    runyard::demo::set_mtime(&a, idle_time()).unwrap();
    write(&b.join("cache/new.bin"), &[9; 100]);
    let report = apply(&plan);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.rel.ends_with("tmp") && s.why == "no longer there"),
        "{:?}",
        report.skipped
    );
    assert!(
        report.skipped.iter().any(
            |s| s.rel.starts_with(b.strip_prefix(&w.root).unwrap()) && s.why.contains("active")
        )
    );
    assert!(!a.join("cache").exists());
    assert!(b.join("cache/new.bin").exists() && b.join("tmp/a.bin").exists());
    w.check_canaries();
}

#[test]
fn an_undeletable_subfolder_is_reported_and_the_rest_proceeds() {
    // Root ignores permission bits, so the folder is made immutable.
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    let stuck = r.join("cache/stuck");
    write(&stuck.join("x.bin"), &[5; 4000]);
    w.idle();
    let chattr = |flag: &str| {
        Command::new("chattr")
            .arg(flag)
            .arg(&stuck)
            .status()
            .expect("chattr (e2fsprogs) is needed")
    };
    assert!(
        chattr("+i").success(),
        "chattr +i failed: this test needs a filesystem with the immutable flag"
    );
    let plan = ops::plan_ephemeral(&w.root, &[w.rel(&r)], &opts());
    let report = apply(&plan);
    assert!(chattr("-i").success());
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert!(
        report.errors[0].contains("cache/stuck/x.bin"),
        "{}",
        report.errors[0]
    );
    assert!(stuck.join("x.bin").exists());
    assert!(!r.join("cache/c.npy").exists(), "the rest of cache/ went");
    assert!(!r.join("tmp").exists(), "and tmp/ too");
    w.check_canaries();
}

#[test]
fn odd_names_are_deleted_and_shown_escaped() {
    use std::os::unix::ffi::OsStrExt;
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    let odd = r
        .join("tmp")
        .join(std::ffi::OsStr::from_bytes(b"bad\xffname\nwith newline"));
    write(&odd.join("f.bin"), &[0; 100]);
    let odd_run = w.run("2025-01-01_00-00-01_x\x1b[31m\nred");
    w.idle();
    // The plan as the CLI prints it carries no raw control characters.
    let out = common::runyard_cmd()
        .args(["clean", "--dry-run"])
        .arg("-C")
        .arg(&w.root)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("x\\u{1b}[31m\\nred"), "{text}");
    assert!(!text.contains('\x1b'));
    let plan = ops::plan_ephemeral(&w.root, &[w.rel(&r), w.rel(&odd_run)], &opts());
    let report = apply(&plan);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(!r.join("tmp").exists() && !odd_run.join("tmp").exists());
    w.check_canaries();
}

#[test]
fn hard_linked_checkpoints_free_bytes_honestly() {
    let mut w = World::new();
    let a = w.run("2025-01-01_00-00-00_a");
    let b = w.run("2025-01-01_00-00-01_b");
    std::fs::remove_file(b.join("checkpoints/epoch01.pt")).unwrap();
    std::fs::hard_link(
        a.join("checkpoints/epoch01.pt"),
        b.join("checkpoints/epoch01.pt"),
    )
    .unwrap();
    w.idle();
    // Pruning run a alone: epoch01 keeps its other link, so it frees nothing.
    let plan = ops::plan_prune(&w.root, &[w.rel(&a)], &opts());
    let e1 = plan
        .targets
        .iter()
        .find(|t| t.rel.ends_with("epoch01.pt"))
        .unwrap();
    assert_eq!(e1.bytes, 0);
    assert!(plan.shared >= 9000);
    let report = apply(&plan);
    assert_eq!(report.freed, 0, "unlinking one of two links frees nothing");
    assert!(b.join("checkpoints/epoch01.pt").exists());
    // Pruning run b now: the last link goes, and its bytes are freed.
    let plan = ops::plan_prune(&w.root, &[w.rel(&b)], &opts());
    assert!(plan.bytes() >= 9000 && plan.shared == 0);
    let report = apply(&plan);
    assert!(report.freed >= 9000, "{report:?}");
    w.check_canaries();
}

#[test]
fn both_links_in_one_plan_count_once() {
    let mut w = World::new();
    let a = w.run("2025-01-01_00-00-00_a");
    let b = w.run("2025-01-01_00-00-01_b");
    std::fs::remove_file(b.join("cache/c.npy")).unwrap();
    std::fs::hard_link(a.join("cache/c.npy"), b.join("cache/c.npy")).unwrap();
    w.idle();
    let plan = ops::plan_ephemeral(&w.root, &[w.rel(&a), w.rel(&b)], &opts());
    let report = apply(&plan);
    assert_eq!(plan.shared, 0);
    assert_eq!(
        report.freed,
        plan.bytes(),
        "what was promised is what was freed"
    );
    w.check_canaries();
}

#[test]
fn trash_moves_runs_and_restore_refuses_to_overwrite() {
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    let plan = ops::plan_trash(&w.root, &[w.rel(&r)], &opts());
    let report = apply(&plan);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(!r.exists());
    let entries = trash::list(&w.root);
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].origin.as_ref().unwrap().origin,
        Path::new("experiments/t/m/2025-01-01_00-00-00_a")
    );
    // Something new now lives where the run was: restore must not touch it.
    w.canary(&r.join("new-run-file.txt"), 10);
    let err = trash::restore(&w.root, &entries[0]).unwrap_err();
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(trash::list(&w.root).len(), 1, "the trash still holds it");
    std::fs::remove_dir_all(&r).unwrap();
    w.canaries.retain(|(p, _)| !p.starts_with(&r));
    trash::restore(&w.root, &entries[0]).unwrap();
    assert!(r.join("checkpoints/best.pt").exists());
    assert!(trash::list(&w.root).is_empty());
    w.check_canaries();
}

#[test]
fn emptying_the_trash_frees_the_space() {
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    w.canaries.retain(|(p, _)| !p.starts_with(&r));
    apply(&ops::plan_trash(&w.root, &[w.rel(&r)], &opts()));
    let plan = trash::plan_empty(&w.root, &[], &opts());
    assert_eq!(plan.targets.len(), 2, "the run, then its record");
    let report = apply(&plan);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.freed >= 60_000, "{report:?}");
    assert!(trash::list(&w.root).is_empty());
    w.check_canaries();
}

#[test]
fn prune_keeps_best_last_latest_and_unknown_names() {
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    write(&r.join("checkpoints/last.pt"), &[0; 10]);
    write(&r.join("checkpoints/optimizer_state.pt"), &[0; 10]);
    w.idle();
    let plan = ops::plan_prune(&w.root, &[w.rel(&r)], &opts());
    let names: Vec<String> = plan
        .targets
        .iter()
        .map(|t| t.rel.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["epoch01.pt"]);
    apply(&plan);
    for keep in ["best.pt", "last.pt", "epoch02.pt", "optimizer_state.pt"] {
        assert!(r.join("checkpoints").join(keep).exists(), "{keep}");
    }
    w.check_canaries();
}

#[test]
fn cli_refuses_without_a_terminal_and_dry_run_changes_nothing() {
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    let out = common::runyard_cmd()
        .args(["clean", "--checkpoints"])
        .arg("-C")
        .arg(&w.root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Plan: delete ephemeral data and prune checkpoints"),
        "{stdout}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refusing to change anything without --yes")
    );
    assert!(r.join("tmp/a.bin").exists());
    let out = common::runyard_cmd()
        .args(["clean", "--dry-run"])
        .arg("-C")
        .arg(&w.root)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(r.join("tmp/a.bin").exists());
    let out = common::runyard_cmd()
        .args(["clean", "--yes", "--json"])
        .arg("-C")
        .arg(&w.root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["applied"], true);
    assert_eq!(
        doc["report"]["freed"],
        doc["plan"]["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["bytes"].as_u64().unwrap())
            .sum::<u64>()
    );
    assert!(!r.join("tmp").exists());
    // rm, trash list, restore through the CLI.
    let out = common::runyard_cmd()
        .args(["rm", "2025-01-01", "--yes"])
        .arg("-C")
        .arg(&w.root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!r.exists());
    let out = common::runyard_cmd()
        .args(["trash", "list"])
        .arg("-C")
        .arg(&w.root)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("experiments/t/m/2025-01-01_00-00-00_a"));
    let out = common::runyard_cmd()
        .args(["restore", "2025-01-01_00-00-00_a"])
        .arg("-C")
        .arg(&w.root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(r.join("checkpoints/best.pt").exists());
    w.check_canaries();
}

#[test]
fn a_run_writing_deep_inside_is_active_for_the_cli() {
    // Regression: a job appending to logs/rank0/train.log (three levels
    // down) made no shallow check fire, and its tmp/ and cache/ were deleted.
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    write(&r.join("logs/rank0/train.log"), b"step 1\n");
    runyard::demo::set_mtime(&r.join("logs/rank0"), idle_time()).unwrap();
    runyard::demo::set_mtime(&r.join("logs"), idle_time()).unwrap();
    runyard::demo::set_mtime(&r, idle_time()).unwrap();
    let out = common::runyard_cmd()
        .args(["clean", "--yes", "--no-cache"])
        .arg("-C")
        .arg(&w.root)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("active: written within 10 minutes"), "{text}");
    assert!(r.join("tmp/a.bin").exists() && r.join("cache/c.npy").exists());
    w.check_canaries();
}

#[test]
fn files_written_during_a_cleanup_are_left_in_place() {
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    let plan = ops::plan_ephemeral(&w.root, &[w.rel(&r)], &opts());
    // A job starts writing deep into cache/ after the plan was made, below
    // the two levels the check before applying looks at.
    write(&r.join("cache/a/b/new.bin"), &[7; 100]);
    for d in ["", "cache", "cache/a"] {
        runyard::demo::set_mtime(&r.join(d), idle_time()).unwrap();
    }
    let report = apply(&plan);
    assert!(
        r.join("cache/a/b/new.bin").exists(),
        "the new file survives"
    );
    assert!(!r.join("cache/c.npy").exists(), "the old ones go");
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.why.contains("left in place")),
        "{report:?}"
    );
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    w.check_canaries();
}
