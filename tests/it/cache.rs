//! The scan cache: what it trusts, what it walks again, and that a broken
//! or racing cache file never costs correctness.

use crate::common;

use std::path::Path;
use std::sync::Arc;

use crate::common::{idle_time, write};
use runyard::catalog::{self, Catalog, ScanOptions, cache};

fn scan(root: &Path, cache: Option<&cache::ScanCache>) -> Catalog {
    let opts = ScanOptions {
        cache: cache.map(|c| Arc::new(c.clone())),
        ..ScanOptions::default()
    };
    catalog::scan(root, opts)
}

/// A scan, its cache as written and read back (window: ten minutes).
fn cached(root: &Path) -> (Catalog, cache::ScanCache) {
    let c = scan(root, None);
    let bytes = cache::encode(&c, c.done.unwrap().started_at, 600);
    (
        c.clone(),
        cache::decode(&bytes, root).expect("a cache just written decodes"),
    )
}

fn usage_of(c: &Catalog, name: &str) -> runyard::catalog::RunUsage {
    c.runs
        .iter()
        .find(|r| r.name == name)
        .unwrap()
        .usage
        .clone()
        .unwrap()
}

fn tree() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    for run in [
        "2025-01-01_00-00-00_a",
        "2025-01-01_00-00-01_b",
        "2025-01-01_00-00-02_c",
    ] {
        let r = root.join("experiments/t/m").join(run);
        write(&r.join("tmp/x.bin"), &[1; 5000]);
        write(&r.join("cache/deep/y.bin"), &[2; 7000]);
        write(&r.join("checkpoints/epoch01.pt"), &[3; 3000]);
        write(&r.join("logs/train.log"), b"ok\n");
    }
    runyard::demo::set_tree_mtime(&root, idle_time()).unwrap();
    (tmp, root)
}

#[test]
fn nothing_changed_nothing_walked_and_the_same_sizes() {
    let (_tmp, root) = tree();
    let (cold, cache) = cached(&root);
    let warm = scan(&root, Some(&cache));
    let stats = warm.done.unwrap();
    assert_eq!(stats.cached_runs, 3);
    assert!(
        stats.entries < cold.done.unwrap().entries,
        "runs were not walked again"
    );
    for r in &cold.runs {
        assert_eq!(
            usage_of(&warm, &r.name),
            r.usage.clone().unwrap(),
            "{}",
            r.name
        );
    }
}

#[test]
fn a_file_added_or_removed_is_seen() {
    let (_tmp, root) = tree();
    let (cold, cache) = cached(&root);
    let a = root.join("experiments/t/m/2025-01-01_00-00-00_a");
    let b = root.join("experiments/t/m/2025-01-01_00-00-01_b");
    write(&a.join("cache/deep/new.bin"), &[9; 50_000]);
    std::fs::remove_file(b.join("tmp/x.bin")).unwrap();
    // Old times, so the runs do not look active: only the folders' changes tell.
    runyard::demo::set_mtime(&a.join("cache/deep/new.bin"), idle_time()).unwrap();
    let warm = scan(&root, Some(&cache));
    assert_eq!(warm.done.unwrap().cached_runs, 1, "only run c is unchanged");
    let ua = usage_of(&warm, "2025-01-01_00-00-00_a");
    assert!(ua.cache.apparent >= usage_of(&cold, "2025-01-01_00-00-00_a").cache.apparent + 50_000);
    assert_eq!(
        usage_of(&warm, "2025-01-01_00-00-01_b").tmp.apparent,
        4096,
        "only the empty tmp/ is left"
    );
}

#[test]
fn an_active_run_is_walked_again_even_with_a_file_overwritten_in_place() {
    let (_tmp, root) = tree();
    let live = root.join("experiments/t/m/2025-01-01_00-00-02_c");
    // Run c is active when cached: it wrote its log just now.
    write(&live.join("logs/train.log"), b"step 1\n");
    let (_, cache) = cached(&root);
    // Then it rewrites a file in place: no folder mtime changes.
    let f = live.join("cache/deep/y.bin");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&f)
        .unwrap()
        .set_len(200_000)
        .unwrap();
    let warm = scan(&root, Some(&cache));
    assert_eq!(warm.done.unwrap().cached_runs, 2);
    assert!(usage_of(&warm, "2025-01-01_00-00-02_c").cache.apparent >= 200_000);
}

#[test]
fn a_corrupt_or_foreign_cache_is_ignored() {
    let (_tmp, root) = tree();
    let (c, _) = cached(&root);
    let bytes = cache::encode(&c, c.done.unwrap().started_at, 600);
    assert!(
        cache::decode(&bytes[..bytes.len() / 2], &root).is_none(),
        "truncated"
    );
    assert!(cache::decode(b"garbage", &root).is_none());
    assert!(
        cache::decode(&bytes, Path::new("/another/root")).is_none(),
        "another root's cache"
    );
    let mut flipped = bytes.clone();
    flipped[30] ^= 0xff;
    // A damaged file either fails to decode or decodes to something the
    // stamps then reject; the scan stays right either way.
    if let Some(damaged) = cache::decode(&flipped, &root) {
        let warm = scan(&root, Some(&damaged));
        assert_eq!(warm.runs.len(), 3);
    }
}

#[test]
fn concurrent_writers_leave_a_whole_cache() {
    let (tmp, root) = tree();
    let (c, _) = cached(&root);
    let path = tmp.path().join("cache-dir/scan-test.bin");
    let bytes = cache::encode(&c, c.done.unwrap().started_at, 600);
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| {
                for _ in 0..20 {
                    cache::write_bytes(&path, &bytes).unwrap();
                    let read = std::fs::read(&path).unwrap();
                    assert!(
                        cache::decode(&read, &root).is_some(),
                        "a reader saw a partial file"
                    );
                }
            });
        }
    });
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left behind");
}

#[test]
fn the_cli_uses_the_cache_unless_told_not_to_and_can_clear_it() {
    let (tmp, root) = tree();
    let cache_home = tmp.path().join("xdg-cache");
    let run = |args: &[&str]| {
        let out = common::runyard_cmd()
            .env("XDG_CACHE_HOME", &cache_home)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let r = root.to_str().unwrap();
    let first: serde_json::Value = serde_json::from_str(&run(&["scan", r])).unwrap();
    let second: serde_json::Value = serde_json::from_str(&run(&["scan", r])).unwrap();
    assert!(
        second["entries"].as_u64() < first["entries"].as_u64(),
        "{first} {second}"
    );
    assert_eq!(first["disk"], second["disk"]);
    let fresh: serde_json::Value = serde_json::from_str(&run(&["scan", r, "--no-cache"])).unwrap();
    assert_eq!(fresh["entries"], first["entries"]);
    assert!(run(&["cache", "clear"]).starts_with("1 cache files deleted"));
}

#[test]
fn old_and_excess_cache_files_are_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let day = std::time::Duration::from_secs(24 * 3600);
    let at = |name: &str, len: usize, age: std::time::Duration| {
        let p = dir.path().join(name);
        std::fs::write(&p, vec![0u8; len]).unwrap();
        runyard::demo::set_mtime(&p, std::time::SystemTime::now() - age).unwrap();
        p
    };
    let old = at("scan-0000000000000001.bin", 10, 40 * day);
    let recent_a = at("scan-0000000000000002.bin", 600, 3 * day);
    let recent_b = at("scan-0000000000000003.bin", 600, day);
    let dead_tmp = at(".scan-0000000000000004.bin.77.ThreadId(1).tmp", 10, day);
    let just_written = at("scan-0000000000000005.bin", 600, std::time::Duration::ZERO);
    let foreign = at("notes.txt", 10, 400 * day);
    // 30 days, and room for two of the 600-byte files.
    let gone = cache::prune(dir.path(), Some(&just_written), cache::MAX_AGE, 1300);
    assert_eq!(gone, 3);
    assert!(!old.exists(), "not opened for 40 days");
    assert!(!dead_tmp.exists(), "a dead writer's temporary");
    assert!(
        !recent_a.exists(),
        "the least recently opened goes over the cap"
    );
    assert!(recent_b.exists());
    assert!(just_written.exists(), "the file just written always stays");
    assert!(foreign.exists(), "only runyard's own files are touched");
}

/// A tree of two idle runs whose key metric is a curve's last value, and
/// a cache folder any user can write (the unprivileged runs below).
fn summary_tree() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    for (run, last) in [
        ("2025-01-01_00-00-00_a", "0.40"),
        ("2025-01-01_00-00-01_b", "0.60"),
    ] {
        let r = root.join("experiments/t/m").join(run);
        write(&r.join("run_info.json"), br#"{"status": "finished"}"#);
        write(
            &r.join("metrics/train_metrics.csv"),
            format!("epoch,loss\n1,0.90\n2,{last}\n").as_bytes(),
        );
        write(&r.join("metrics/val_metrics.json"), br#"{"acc": 0.5}"#);
        write(&r.join("logs/train.log"), b"ok\n");
    }
    let cache_home = tmp.path().join("xdg-cache");
    std::fs::create_dir(&cache_home).unwrap();
    for p in [tmp.path(), cache_home.as_path()] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    runyard::demo::set_tree_mtime(&root, idle_time()).unwrap();
    (tmp, root, cache_home)
}

/// True when this process runs as root (who reads a file of mode 000).
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `runyard ls --json` of `root` (plus `extra` flags): each run's key
/// metrics and errors by run id; as user 65534 when `unprivileged`.
fn ls_json(
    root: &Path,
    cache_home: &Path,
    extra: &[&str],
    unprivileged: bool,
) -> std::collections::BTreeMap<String, (serde_json::Value, serde_json::Value)> {
    let bin = assert_cmd::cargo::cargo_bin("runyard");
    let mut cmd = if unprivileged {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin);
        c
    } else {
        std::process::Command::new(&bin)
    };
    let out = cmd
        .env("XDG_CONFIG_HOME", "/nonexistent/runyard-tests")
        .env("XDG_CACHE_HOME", cache_home)
        .args(["ls", "--json"])
        .arg(root)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let id = v["run_id"].as_str().unwrap().to_string();
            (id, (v["key_metrics"].clone(), v["errors"].clone()))
        })
        .collect()
}

/// Rewrites a file with new bytes, then puts its old modification time back.
fn rewrite_keeping_mtime(path: &Path, bytes: &[u8]) {
    let mtime = std::fs::metadata(path).unwrap().modified().unwrap();
    std::fs::write(path, bytes).unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(mtime).unwrap();
}

fn loss(
    runs: &std::collections::BTreeMap<String, (serde_json::Value, serde_json::Value)>,
    id: &str,
) -> f64 {
    runs[id].0["train/loss"].as_f64().unwrap()
}

#[test]
fn a_second_ls_reads_no_metrics_file() {
    let (_tmp, root, cache_home) = summary_tree();
    let run = root.join("experiments/t/m/2025-01-01_00-00-00_a");
    let csv = run.join("metrics/train_metrics.csv");
    // What the cache cannot see (same size, same time): an idle run shows
    // what was read first, which proves its file was not read again.
    let first = ls_json(&root, &cache_home, &[], false);
    assert_eq!(loss(&first, "2025-01-01_00-00-00_a"), 0.40);
    rewrite_keeping_mtime(&csv, b"epoch,loss\n1,0.90\n2,0.30\n");
    let second = ls_json(&root, &cache_home, &[], false);
    assert_eq!(second, first, "the summary came from the cache");
    // --no-cache reads the file, and leaves the cache alone.
    let cache_file = cache_home.join("runyard");
    // The summary cache only: a walk with --no-cache still refreshes the
    // scan cache, whose bytes hold the scan's time.
    let summaries = |dir: &Path| -> Vec<Vec<u8>> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("summaries-")
            })
            .collect();
        v.sort();
        v.iter().map(|p| std::fs::read(p).unwrap()).collect()
    };
    let before = summaries(&cache_file);
    assert!(!before.is_empty());
    let fresh = ls_json(&root, &cache_home, &["--no-cache"], false);
    assert_eq!(loss(&fresh, "2025-01-01_00-00-00_a"), 0.30);
    let after = summaries(&cache_file);
    assert_eq!(before, after, "--no-cache writes no cache");
    // An unreadable file (as a user who cannot read it) is not read either.
    if is_root() && std::path::Path::new("/usr/bin/setpriv").exists() {
        let cache_home = cache_home.join("other");
        std::fs::create_dir(&cache_home).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cache_home, std::fs::Permissions::from_mode(0o777)).unwrap();
        let first = ls_json(&root, &cache_home, &[], true);
        std::fs::set_permissions(&csv, std::fs::Permissions::from_mode(0o000)).unwrap();
        let second = ls_json(&root, &cache_home, &[], true);
        assert_eq!(second, first, "a file of mode 000 was not opened");
        let fresh = ls_json(&root, &cache_home, &["--no-cache"], true);
        let errors = fresh["2025-01-01_00-00-00_a"].1.to_string();
        assert!(errors.contains("Permission denied"), "{errors}");
    }
}

#[test]
fn changed_files_and_active_runs_are_read_again() {
    let (_tmp, root, cache_home) = summary_tree();
    let a = root.join("experiments/t/m/2025-01-01_00-00-00_a");
    let b = root.join("experiments/t/m/2025-01-01_00-00-01_b");
    ls_json(&root, &cache_home, &[], false);
    // A new size (the time put back): read again.
    rewrite_keeping_mtime(
        &a.join("metrics/train_metrics.csv"),
        b"epoch,loss\n1,0.90\n2,0.35\n3,0.25\n",
    );
    // The same size, a new time: read again.
    let csv = b.join("metrics/train_metrics.csv");
    std::fs::write(&csv, b"epoch,loss\n1,0.90\n2,0.55\n").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&csv)
        .unwrap()
        .set_modified(idle_time() + std::time::Duration::from_secs(1))
        .unwrap();
    let runs = ls_json(&root, &cache_home, &[], false);
    assert_eq!(loss(&runs, "2025-01-01_00-00-00_a"), 0.25);
    assert_eq!(loss(&runs, "2025-01-01_00-00-01_b"), 0.55);
    // A file the cache cannot see change (same size and time) in a run
    // that is active (a log written just now): active runs are never
    // trusted, so it is read.
    rewrite_keeping_mtime(&csv, b"epoch,loss\n1,0.90\n2,0.45\n");
    write(&b.join("logs/now.log"), b"step 3\n");
    let runs = ls_json(&root, &cache_home, &[], false);
    assert_eq!(loss(&runs, "2025-01-01_00-00-01_b"), 0.45);
    // A new metrics file is seen (its folder's time changed).
    write(&a.join("metrics/test_metrics.json"), br#"{"acc": 0.75}"#);
    runyard::demo::set_tree_mtime(&a, idle_time()).unwrap();
    let runs = ls_json(&root, &cache_home, &[], false);
    assert_eq!(runs["2025-01-01_00-00-00_a"].0["test/acc"], 0.75);
}

#[test]
fn a_corrupt_summary_cache_is_ignored_and_replaced() {
    let (_tmp, root, cache_home) = summary_tree();
    let first = ls_json(&root, &cache_home, &[], false);
    let dir = cache_home.join("runyard");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("summaries-")
        })
        .expect("ls wrote a summary cache");
    let good = std::fs::read(&file).unwrap();
    for bad in [
        b"not a cache".to_vec(),
        good[..good.len() / 2].to_vec(),
        good.iter().map(|b| b ^ 0x5a).collect(),
    ] {
        std::fs::write(&file, &bad).unwrap();
        assert_eq!(ls_json(&root, &cache_home, &[], false), first);
        // Rewritten whole (its entries in another order, maybe).
        let now = std::fs::read(&file).unwrap();
        assert_eq!(now.len(), good.len());
        assert!(now.starts_with(b"runyard-summary-cache\n"));
    }
}
