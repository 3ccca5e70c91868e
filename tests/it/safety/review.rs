//! Safety cases from the second security review: races between a check
//! and the change it allows, and files that could make readers hang.

use super::*;
use std::os::fd::AsFd;

#[test]
fn a_removal_checks_the_folder_it_opened_is_the_one_planned() {
    // The plan's identity check and the removal's own open were two
    // lookups: a folder swapped in between was deleted.
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    let planned = std::fs::symlink_metadata(r.join("cache")).unwrap();
    // Swapped after the check: another folder now has the name.
    std::fs::rename(r.join("cache"), w.outside.join("old-cache")).unwrap();
    w.canary(&r.join("cache/victim.bin"), 1000);
    let dir = std::fs::File::open(&r).unwrap();
    let mut out = ops::fsat::Removed {
        expect: Some({
            use std::os::unix::fs::MetadataExt;
            (planned.dev(), planned.ino())
        }),
        ..Default::default()
    };
    ops::fsat::remove_at(
        dir.as_fd(),
        std::ffi::OsStr::new("cache"),
        Path::new("cache"),
        false,
        &mut out,
    );
    assert!(
        out.errors
            .iter()
            .any(|e| e.contains("changed since the plan")),
        "{:?}",
        out.errors
    );
    w.check_canaries();
}

#[test]
fn a_move_by_copy_leaves_files_written_during_it_in_the_source() {
    // The source was deleted whole after the copy was in place, with
    // whatever a job wrote meanwhile.
    let w = World::new();
    let from = w.root.join("experiments/t/m/2025-01-01_00-00-00_a");
    write(&from.join("checkpoints/a.pt"), b"old");
    write(&from.join("checkpoints/late.pt"), b"late");
    runyard::demo::set_tree_mtime(&from, common::idle_time()).unwrap();
    // Written "after the copy began": its time is later than the move's start.
    runyard::demo::set_mtime(
        &from.join("checkpoints/late.pt"),
        std::time::SystemTime::now() + std::time::Duration::from_secs(600),
    )
    .unwrap();
    let to = w.root.join("experiments/t2/m/2025-01-01_00-00-00_a");
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    let err = ops::move_by_copy(&from, &to).unwrap_err();
    assert!(
        err.contains("written in the source during the move"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(from.join("checkpoints/late.pt")).unwrap(),
        b"late"
    );
    assert!(!from.join("checkpoints/a.pt").exists(), "the rest went");
    assert_eq!(std::fs::read(to.join("checkpoints/a.pt")).unwrap(), b"old");
    // The copy keeps the source's times: the moved run is not "active".
    let t = std::fs::metadata(to.join("checkpoints/a.pt"))
        .unwrap()
        .modified()
        .unwrap();
    assert!(t < std::time::SystemTime::now() - std::time::Duration::from_secs(1800));
}

#[test]
fn a_file_rewritten_while_it_is_copied_is_refused_not_torn() {
    let w = World::new();
    let src = w.outside.join("big.bin");
    std::fs::write(&src, vec![1u8; 64 << 20]).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (src, stop) = (src.clone(), stop.clone());
        std::thread::spawn(move || {
            use std::os::unix::fs::FileExt;
            let f = std::fs::OpenOptions::new().write(true).open(&src).unwrap();
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                f.write_all_at(&[2u8; 4096], (i * 4096 * 97) % (64 << 20))
                    .unwrap();
                i += 1;
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(20));
    let dir = std::fs::File::open(&w.outside).unwrap();
    let result = ops::copy::copy_at(
        dir.as_fd(),
        std::ffi::OsStr::new("big.bin"),
        dir.as_fd(),
        std::ffi::OsStr::new("copy.bin"),
        Path::new("big.bin"),
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    let err = result.unwrap_err().to_string();
    assert!(err.contains("written while it was being copied"), "{err}");
    assert!(!w.outside.join("copy.bin").exists(), "no torn copy left");
}

#[test]
fn metric_files_with_thousands_of_series_are_capped_and_quick() {
    let w = World::new();
    let run = w.root.join("experiments/t/m/2025-01-01_00-00-00_wide");
    let mut jsonl = String::new();
    for r in 0..50 {
        let row: serde_json::Map<String, serde_json::Value> = (0..3000)
            .map(|i| (format!("m{r}_{i}"), serde_json::json!(1.0)))
            .collect();
        jsonl += &serde_json::Value::Object(row).to_string();
        jsonl.push('\n');
    }
    write(&run.join("metrics/train_steps.jsonl"), jsonl.as_bytes());
    let start = std::time::Instant::now();
    let m = runyard::runs::Metrics::load(&run, false);
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(m.series.len(), 2000);
    assert!(
        m.notes.iter().any(|n| n.contains("more than 2000 metrics")),
        "{:?}",
        m.notes
    );
    let s = runyard::runs::RunSummary::load(&run);
    assert_eq!(s.series.len(), 2000);
}

#[test]
fn a_partial_copy_left_by_a_killed_move_is_not_a_run_and_check_names_it() {
    // Review finding: a `kill -9` during a move across filesystems left
    // `.runyard-tmp-<pid>-<run>` beside the destination, listed as a run
    // ("running") and never reported.
    let mut w = World::new();
    w.run("2025-01-01_00-00-00_a");
    let partial = w
        .root
        .join("experiments/t/m/.runyard-tmp-999999-2025-01-01_00-00-00_b");
    write(&partial.join("logs/train.log"), b"half");
    w.idle();
    let out = common::runyard_cmd()
        .arg("-C")
        .arg(&w.root)
        .args(["ls", "--json", "--no-cache"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let runs: Vec<&str> = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(runs, ["2025-01-01_00-00-00_a"], "{doc}");
    let out = common::runyard_cmd()
        .arg("-C")
        .arg(&w.root)
        .args(["check", "--json", "--no-cache"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<(&str, &str)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"].as_str().unwrap().contains(".runyard-tmp-"))
        .map(|f| (f["kind"].as_str().unwrap(), f["path"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [(
            "stale-temporary",
            "experiments/t/m/.runyard-tmp-999999-2025-01-01_00-00-00_b"
        )],
        "{doc}"
    );
    assert!(
        partial.join("logs/train.log").exists(),
        "check changes nothing"
    );
}
