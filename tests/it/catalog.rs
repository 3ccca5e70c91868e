//! The catalog on fixture trees: sizes against what the fixture wrote, hard
//! links, sparse files, symlinks, malformed files, and the event stream.

use crate::common;

use std::os::unix::fs::symlink;
use std::path::Path;

use crate::common::{du, idle_time, write};
use runyard::catalog::{self, Catalog, ScanEvent, ScanOptions};
use runyard::runs::RunSummary;

fn scan(root: &Path) -> Catalog {
    catalog::scan(root, ScanOptions::default())
}

fn run<'a>(c: &'a Catalog, name: &str) -> &'a catalog::Run {
    c.runs
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no run {name}"))
}

#[test]
fn sizes_match_what_the_fixture_wrote() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    let r = root.join("experiments/ocr/crnn/2025-01-02_03-04-05_a");
    let mut apparent = 0;
    let tmp_bytes =
        write(&r.join("tmp/t1.bin"), &[1; 10_000]) + write(&r.join("tmp/deep/t2.bin"), &[1; 3000]);
    let cache_bytes = write(&r.join("cache/c.npy"), &[2; 5000]);
    let old = write(&r.join("checkpoints/epoch01_valAcc0.5.pt"), &[3; 9000]);
    let kept = write(&r.join("checkpoints/epoch02_valAcc0.6.pt"), &[3; 9100]);
    let best = write(&r.join("checkpoints/best.pt"), &[3; 9200]);
    let hf_old = write(
        &r.join("checkpoints/checkpoint-100/model.bin"),
        &[4; 20_000],
    );
    let hf_new = write(
        &r.join("checkpoints/checkpoint-200/model.bin"),
        &[4; 20_000],
    );
    let data = write(&r.join("data/sample.jsonl"), &[5; 7000]);
    let other = write(
        &r.join("run_info.json"),
        br#"{"status":"finished","metrics":{"val/acc":0.6}}"#,
    ) + write(&r.join("logs/train.log"), &[b'x'; 1234]);
    apparent += tmp_bytes + cache_bytes + old + kept + best + hf_old + hf_new + data + other;
    runyard::demo::set_tree_mtime(&root, idle_time()).unwrap();

    let c = scan(&root);
    assert!(c.done.is_some());
    assert_eq!(c.runs.len(), 1);
    let u = run(&c, "2025-01-02_03-04-05_a")
        .usage
        .clone()
        .expect("sized");
    // Apparent bytes of files are exact; folders add their own lengths.
    let files_apparent = apparent;
    assert!(u.total().apparent >= files_apparent);
    assert_eq!((u.total().disk, u.total().apparent), du(&r));
    assert_eq!(u.tmp.disk, du(&r.join("tmp")).0);
    assert_eq!(u.cache.disk, du(&r.join("cache")).0);
    assert_eq!(u.checkpoints.disk, du(&r.join("checkpoints")).0);
    assert_eq!(u.data.disk, du(&r.join("data")).0);
    // A prune deletes epoch01 and the older Hugging Face folder.
    let expected_prune = du(&r.join("checkpoints/epoch01_valAcc0.5.pt")).0
        + du(&r.join("checkpoints/checkpoint-100")).0;
    assert_eq!(u.prunable.disk, expected_prune);
    assert_eq!(
        u.reclaimable().disk,
        u.tmp.disk + u.cache.disk + expected_prune
    );
    assert_eq!(u.files, 11);
    // Roll-ups equal the one run.
    assert_eq!(c.rollup(&c.runs_under("ocr", None)), u);
}

#[test]
fn hard_links_count_once_and_sparse_files_by_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    let a = root.join("experiments/t/m/2025-01-01_00-00-00_a");
    let b = root.join("experiments/t/m/2025-01-01_00-00-01_b");
    write(&a.join("checkpoints/best.pt"), &[7; 64 * 1024]);
    std::fs::create_dir_all(b.join("checkpoints")).unwrap();
    std::fs::hard_link(a.join("checkpoints/best.pt"), b.join("checkpoints/best.pt")).unwrap();
    std::fs::create_dir_all(a.join("data")).unwrap();
    let sparse = std::fs::File::create(a.join("data/sparse.bin")).unwrap();
    sparse.set_len(1 << 30).unwrap();
    drop(sparse);
    runyard::demo::set_tree_mtime(&root, idle_time()).unwrap();

    let c = scan(&root);
    let ua = run(&c, "2025-01-01_00-00-00_a").usage.clone().unwrap();
    let ub = run(&c, "2025-01-01_00-00-01_b").usage.clone().unwrap();
    let link_disk = du(&a.join("checkpoints/best.pt")).0;
    assert!(link_disk >= 64 * 1024);
    // Counted in exactly one of the two runs; the other records it as shared.
    assert_eq!(
        ua.checkpoints.disk + ub.checkpoints.disk,
        du(&a.join("checkpoints")).0 + du(&b.join("checkpoints")).0 - link_disk
    );
    assert_eq!(ua.shared + ub.shared, link_disk);
    let whole = c.rollup(&c.run_keys().collect::<Vec<_>>());
    assert_eq!(
        whole.total().disk,
        du(&root.join("experiments")).0 - dirs_above_runs(&root)
    );
    // The sparse file: a gibibyte apparent, next to nothing on disk.
    assert!(ua.data.apparent >= 1 << 30);
    assert!(
        ua.data.disk < 1 << 20,
        "sparse file counted by length: {}",
        ua.data.disk
    );
}

/// Disk bytes of the folders above run depth (experiments/, task, model),
/// which belong to no run.
fn dirs_above_runs(root: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    ["experiments", "experiments/t", "experiments/t/m"]
        .iter()
        .map(|p| std::fs::symlink_metadata(root.join(p)).unwrap().blocks() * 512)
        .sum()
}

#[test]
fn symlinks_are_never_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    write(&outside.join("huge.bin"), &[9; 200_000]);
    let root = tmp.path().join("outputs");
    let r = root.join("experiments/t/m/2025-01-01_00-00-00_a");
    write(&r.join("run_info.json"), b"{}");
    std::fs::create_dir_all(r.join("cache")).unwrap();
    symlink(&outside, r.join("tmp")).unwrap();
    symlink(&outside, r.join("cache/link")).unwrap();
    symlink(r.join("cache"), r.join("cache/loop")).unwrap();
    runyard::demo::set_tree_mtime(&root, idle_time()).unwrap();

    let c = scan(&root);
    let u = run(&c, "2025-01-01_00-00-00_a").usage.clone().unwrap();
    assert!(u.total().disk < 100_000, "followed a link: {u:?}");
    assert!(
        u.tmp.apparent < 4096,
        "tmp is a link, counted as a link: {u:?}"
    );
    assert!(run(&c, "2025-01-01_00-00-00_a").errors.is_empty());
}

#[test]
fn malformed_files_are_reported_on_their_run() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    let bad = root.join("experiments/t/m/2025-01-01_00-00-00_bad");
    let good = root.join("experiments/t/m/2025-01-01_00-00-01_good");
    write(
        &bad.join("run_info.json"),
        b"{\"command\": \"python x.py\",\n \"seeds\": [1,",
    );
    write(&bad.join("config.yaml"), b"lr: [0.1\nmodel: {");
    write(
        &good.join("run_info.json"),
        br#"{"metrics": {"val/acc": 0.5}}"#,
    );
    runyard::demo::set_tree_mtime(&root, idle_time()).unwrap();

    let c = scan(&root);
    let s = RunSummary::load(&run(&c, "2025-01-01_00-00-00_bad").path);
    // Both broken files are marked in listings, each with where it broke.
    assert_eq!(s.errors.len(), 2, "{:?}", s.errors);
    assert!(
        s.errors[0].starts_with("run_info.json: not valid JSON"),
        "{}",
        s.errors[0]
    );
    assert!(s.errors[0].contains("line 2"), "{}", s.errors[0]);
    assert!(
        s.errors[1].starts_with("config.yaml: not valid YAML"),
        "{}",
        s.errors[1]
    );
    let d = runyard::runs::RunDetails::load(&run(&c, "2025-01-01_00-00-00_bad").path);
    assert!(
        d.errors
            .iter()
            .any(|e| e.starts_with("config.yaml: not valid YAML")),
        "{:?}",
        d.errors
    );
    let ok = RunSummary::load(&run(&c, "2025-01-01_00-00-01_good").path);
    assert!(ok.errors.is_empty());
    assert_eq!(ok.metric("val/acc"), Some(0.5));
}

#[test]
fn odd_names_and_strays_are_kept() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    let m = root.join("experiments/t/m");
    let odd = m.join(std::ffi::OsStr::from_bytes(b"bad\xffname\nrun"));
    write(&odd.join("tmp/x"), &[0; 100]);
    write(&m.join("notes.txt"), b"a file where a run would be");
    write(&root.join("scratch/thing.bin"), &[0; 10]);
    runyard::demo::set_tree_mtime(&root, idle_time()).unwrap();

    let c = scan(&root);
    assert_eq!(c.runs.len(), 1);
    assert_eq!(
        c.runs[0].path, odd,
        "the exact path is kept for later operations"
    );
    let u = c.runs[0].usage.as_ref().unwrap();
    assert_eq!((u.files, u.tmp.disk), (1, du(&odd.join("tmp")).0));
    assert_eq!(c.strays.len(), 1);
    assert_eq!(c.strays[0].rel, "experiments/t/m/notes.txt");
    assert_eq!(c.top.len(), 1);
    assert_eq!(c.top[0].kind, runyard::layout::TopKind::Unrecognized);
}

#[test]
fn events_report_runs_before_their_sizes_and_progress() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    let spec = runyard::demo::GenSpec {
        tasks: 3,
        models: 2,
        runs: 4,
        cache_files: 5,
        ..Default::default()
    };
    let written = runyard::demo::generate(&root, &spec).unwrap();
    let handle = catalog::spawn(
        &root,
        ScanOptions {
            threads: 3,
            ..Default::default()
        },
    );
    let mut found = std::collections::HashSet::new();
    let mut done = 0;
    let mut catalog = Catalog::new(&root);
    for ev in handle.events.iter() {
        match &ev {
            ScanEvent::Run(r) => assert!(found.insert(r.key)),
            ScanEvent::RunDone { key, .. } => {
                assert!(found.contains(key), "run {key} done before found");
                done += 1;
            }
            _ => {}
        }
        catalog.apply(ev);
    }
    assert_eq!(found.len(), 24);
    assert_eq!(done, 24);
    let stats = catalog.done.expect("done event");
    // Every entry the generator wrote was stat'ed once (the root is not an entry).
    assert_eq!(stats.entries + 1, written);
    assert_eq!(catalog.tasks.len(), 3);
    assert!(catalog.tasks.windows(2).all(|w| w[0].name < w[1].name));
    // Every run: 6 metadata files, 4 + best/last checkpoints, 3 tmp, 5 cache files.
    for r in &catalog.runs {
        let u = r.usage.as_ref().unwrap();
        assert_eq!(u.files, 6 + 6 + 3 + 5);
        assert!(u.prunable.disk > 0);
    }
}

#[test]
fn dropping_the_handle_stops_the_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    runyard::demo::generate(&root, &runyard::demo::GenSpec::default()).unwrap();
    let handle = catalog::spawn(&root, ScanOptions::default());
    let first = handle.events.recv().unwrap();
    drop(first);
    drop(handle);
    // Nothing to assert beyond not hanging or panicking: the walkers see
    // the closed channel and the cancel flag and return.
}

#[test]
fn the_portable_scanner_sees_what_statx_sees() {
    // Off Linux the scan stats with fstatat; on Linux that path is chosen
    // here so it is built and checked on every run of the tests. The demo
    // tree plus odd entries: hard links, a symlink, a sparse file, a FIFO.
    let (_tmp, root) = common::demo_copy();
    let run_dir = root.join("experiments/ocr/crnn/2025-12-04_14-32-10_seed42");
    for d in ["tmp", "cache", "data"] {
        std::fs::create_dir_all(run_dir.join(d)).unwrap();
    }
    std::fs::hard_link(
        run_dir.join("run_info.json"),
        run_dir.join("tmp/linked.json"),
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc", run_dir.join("cache/etc")).unwrap();
    std::fs::File::create(run_dir.join("data/sparse.bin"))
        .unwrap()
        .set_len(1 << 28)
        .unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(run_dir.join("tmp/fifo"))
            .status()
            .unwrap()
            .success()
    );
    let scan_with = |portable: bool| {
        catalog::scan(
            &root,
            ScanOptions {
                portable,
                threads: 2,
                ..Default::default()
            },
        )
    };
    let (fast, portable) = (scan_with(false), scan_with(true));
    let view = |c: &Catalog| {
        let mut v: Vec<String> = c
            .run_keys()
            .map(|k| {
                let r = &c.runs[k];
                format!(
                    "{}/{}/{} {:?} {:?} {:?}",
                    r.task, r.model, r.name, r.usage, r.dir_mtime, r.errors
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(view(&fast), view(&portable));
    assert!(view(&fast).len() >= 9);
}

/// The tree's sorts read a run's key metric through `key_value`, which
/// skips building the reading: it must give what `key_metric` gives, for
/// each demo run, whether the key metric is the run's own or named by the
/// config (a curve, a scalar, one the run lacks).
#[test]
fn key_value_reads_what_key_metric_reads() {
    use runyard::runs::{Better, KeySpec};
    let (_tmp, root) = common::demo_copy();
    let c = scan(&root);
    let specs = [
        KeySpec::default(),
        KeySpec {
            name: Some("val/loss".into()),
            better: None,
        },
        KeySpec {
            name: Some("val/cer".into()),
            better: Some(Better::Higher),
        },
        KeySpec {
            name: Some("nothing/like/this".into()),
            better: None,
        },
    ];
    let mut found = 0;
    for r in &c.runs {
        let s = RunSummary::load(&r.path);
        for spec in &specs {
            let want = s.key_metric(spec).map(|k| (k.value, k.better));
            if want.is_some() {
                found += 1;
            }
            assert_eq!(s.key_value(spec), want, "{} {spec:?}", r.name);
        }
    }
    assert!(
        found >= c.runs.len(),
        "most runs have a key metric: {found}"
    );
}
