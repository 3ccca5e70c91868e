//! Safety cases: records read back from disk (issue 12, items 2 and 8).
//! A trash record is untrusted input: `restore` moves a whole run to where
//! it points, so a crafted one must never move a run out of the tree.

use super::*;

/// Trashes the run and returns its trash entry folder.
fn trash_one(w: &World, run: &Path) -> PathBuf {
    let plan = ops::plan_trash(&w.root, &[w.rel(run)], &opts());
    let report = apply(&plan);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    w.root.join(&report.moved[0].1)
}

/// Rewrites the entry's record with `origin`.
fn craft(entry: &Path, origin: &str) {
    let record = serde_json::json!({
        "version": 1,
        "origin": origin,
        "deleted_at": "2025-01-01T00:00:00Z",
    });
    std::fs::write(entry.join("origin.json"), record.to_string()).unwrap();
}

#[test]
fn restore_refuses_a_record_that_points_out_of_the_tree() {
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    let entry = trash_one(&w, &r);
    let escaped = w.root.parent().unwrap().join("ESCAPED");
    for origin in [
        "experiments/../../ESCAPED",
        "experiments/t/../../ESCAPED",
        "/tmp/ESCAPED",
        "experiments/t/m/../x",
        ".trash/t/m/r",
        "experiments/.trash/m/r",
        "experiments/t/m",
        "experiments/t/m/r/deeper",
        "experiments/t/m/new\nline",
    ] {
        craft(&entry, origin);
        let entries = trash::list(&w.root);
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert!(e.origin.is_none(), "{origin:?} was accepted");
        assert!(
            e.error
                .as_deref()
                .is_some_and(|m| m.contains("not a run path under experiments/")),
            "{origin:?}: {:?}",
            e.error
        );
        // Even an entry built by hand, bypassing `list`, is refused.
        let forged = trash::TrashEntry {
            id: e.id.clone(),
            origin: Some(trash::Origin {
                version: 1,
                origin: PathBuf::from(origin),
                deleted_at: String::new(),
                tree: None,
                bytes: None,
                files: None,
            }),
            bytes: 0,
            error: None,
            partial: None,
        };
        assert!(trash::restore(&w.root, &forged).is_err(), "{origin:?}");
        assert!(
            !escaped.exists(),
            "{origin:?} moved the run out of the tree"
        );
    }
    // Through the CLI: a clear message naming the record, and nothing moved.
    craft(&entry, "experiments/../../ESCAPED");
    let out = common::runyard_cmd()
        .args(["restore", "2025-01-01_00-00-00_a"])
        .arg("-C")
        .arg(&w.root)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!escaped.exists());
    assert!(entry.join("run/checkpoints/best.pt").exists());
    // A good record still restores.
    craft(&entry, "experiments/t/m/2025-01-01_00-00-00_a");
    let entries = trash::list(&w.root);
    trash::restore(&w.root, &entries[0]).unwrap();
    w.check_canaries();
}

#[test]
fn a_record_that_is_a_fifo_a_device_or_a_link_is_not_read() {
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    let entry = trash_one(&w, &r);
    let record = entry.join("origin.json");
    // A FIFO would block a plain read forever; a link to a record elsewhere
    // is not this entry's record.
    std::fs::remove_file(&record).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(&record)
            .status()
            .unwrap()
            .success()
    );
    let start = std::time::Instant::now();
    let entries = trash::list(&w.root);
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    assert!(entries[0].origin.is_none());
    assert!(
        entries[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("not a regular file")),
        "{:?}",
        entries[0].error
    );
    std::fs::remove_file(&record).unwrap();
    let elsewhere = w.outside.join("origin.json");
    std::fs::write(
        &elsewhere,
        r#"{"version":1,"origin":"experiments/t/m/x","deleted_at":""}"#,
    )
    .unwrap();
    symlink(&elsewhere, &record).unwrap();
    let entries = trash::list(&w.root);
    assert!(entries[0].origin.is_none(), "a linked record was followed");
    std::fs::remove_file(&record).unwrap();
    symlink("/dev/zero", &record).unwrap();
    assert!(trash::list(&w.root)[0].origin.is_none());
    // The run itself is still whole in the trash.
    assert!(entry.join("run/checkpoints/best.pt").exists());
}

#[test]
fn the_empty_trash_plan_counts_each_file_once() {
    // Regression: the run was measured alone and again inside its entry
    // folder (27 files / 152 KiB planned, 14 / 80 KiB freed).
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    let entry = trash_one(&w, &r);
    let (disk, _) = common::du(&entry);
    let files = walkdir::WalkDir::new(&entry)
        .into_iter()
        .flatten()
        .filter(|e| !e.file_type().is_dir())
        .count() as u64;
    let plan = trash::plan_empty(&w.root, &[], &opts());
    assert_eq!(plan.files(), files);
    assert_eq!(plan.bytes(), disk);
    let report = apply(&plan);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.files, plan.files());
    assert_eq!(report.freed, plan.bytes());
    assert!(!entry.exists());
}

#[test]
fn emptying_the_trash_never_deletes_what_replaced_a_planned_run() {
    // Review finding: the run target was skipped as changed, and the
    // entry folder's removal then took whatever was in it.
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    let entry = trash_one(&w, &r);
    let plan = trash::plan_empty(&w.root, &[], &opts());
    std::fs::rename(entry.join("run"), w.outside.join("was-run")).unwrap();
    write(&entry.join("run/important.txt"), b"new");
    let report = apply(&plan);
    assert!(
        report
            .skipped
            .iter()
            .any(|n| n.why.contains("changed since the plan")),
        "{report:?}"
    );
    assert_eq!(
        std::fs::read(entry.join("run/important.txt")).unwrap(),
        b"new"
    );
    assert!(entry.join("origin.json").exists(), "the record stays");
}

#[test]
fn a_run_whose_name_restore_would_refuse_is_not_trashed() {
    // Review finding: `rm` took a run named with a newline (or not UTF-8),
    // wrote a record `restore` refuses, and said "Undo with: restore".
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_new\nline");
    let plan = ops::plan_trash(&w.root, &[w.rel(&r)], &opts());
    assert!(plan.targets.is_empty());
    assert!(
        plan.skipped[0]
            .why
            .contains("cannot be recorded for restore"),
        "{:?}",
        plan.skipped
    );
    let bad = {
        use std::os::unix::ffi::OsStrExt;
        w.root
            .join("experiments/t/m")
            .join(std::ffi::OsStr::from_bytes(b"2025-01-02_00-00-00_x\xff"))
    };
    write(&bad.join("run_info.json"), b"{}");
    w.idle();
    let plan = ops::plan_trash(&w.root, &[w.rel(&bad)], &opts());
    assert!(plan.targets.is_empty(), "{:?}", plan.targets);
    assert!(r.join("run_info.json").exists() && bad.join("run_info.json").exists());
    w.check_canaries();
}
