//! Safety cases: live (issue 12). The run readers against hostile files (a
//! FIFO or a device where a config should be, a 1 GiB line), metrics read
//! incrementally as a live run writes them, and the explorer keeping its
//! loads across a quiet refresh.

#[allow(unused_imports)]
use super::*;

use std::io::Write as _;
use std::os::unix::fs::symlink;
use std::time::{Duration, Instant};

use runyard::catalog::{self, Catalog, ScanOptions};
use runyard::runs::{Caps, Metrics, MetricsReader, RunDetails};
use runyard::tui::app::{App, Settings};
use runyard::tui::keymap::Action;
use runyard::tui::msg::{Msg, Request};
use runyard::tui::theme::Theme;
use runyard::tui::update::update;

/// A run folder with a small valid metrics file, under a fresh `outputs/`.
fn live_run(w: &World, name: &str) -> PathBuf {
    let r = w.root.join("experiments/t/m").join(name);
    write(&r.join("metrics/val_metrics.json"), br#"{"acc": 0.9}"#);
    r
}

/// `runyard show RUN` with a deadline: (exit status, stdout + stderr).
/// A child still running at the deadline is killed and the test fails.
fn show_within(root: &Path, run: &Path, limit: Duration, shell_prefix: &str) -> (bool, String) {
    let bin = assert_cmd::cargo::cargo_bin("runyard");
    let script = format!(
        "{shell_prefix} exec '{}' show -C '{}' '{}' 2>&1",
        bin.display(),
        root.display(),
        run.display()
    );
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .env("XDG_CONFIG_HOME", "/nonexistent/runyard-tests")
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("runyard-tests-cache"),
        )
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
            return (status.success(), out);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("runyard show did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mkfifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
}

#[test]
fn fifo_config_and_metrics_do_not_block_and_are_named() {
    let w = World::new();
    let r = live_run(&w, "2025-01-01_00-00-00_fifo");
    mkfifo(&r.join("config.yaml"));
    mkfifo(&r.join("run_info.json"));
    mkfifo(&r.join("metrics/train_metrics.csv"));
    let (ok, out) = show_within(&w.root, &r, Duration::from_secs(20), "");
    assert!(ok, "{out}");
    for want in [
        "config.yaml: not a regular file (a FIFO)",
        "run_info.json: not a regular file (a FIFO)",
        "metrics/train_metrics.csv: not a regular file (a FIFO)",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // The rest of the run still loads.
    assert!(out.contains("0.9"), "{out}");
}

#[test]
fn device_and_dev_zero_link_as_config_are_refused_with_bounded_memory() {
    let w = World::new();
    let r = live_run(&w, "2025-01-01_00-00-00_zero");
    symlink("/dev/zero", r.join("run_info.json")).unwrap();
    symlink("/dev/zero", r.join("metrics/train_metrics.csv")).unwrap();
    let device = rustix::fs::mknodat(
        rustix::fs::CWD,
        r.join("config.yaml"),
        rustix::fs::FileType::CharacterDevice,
        rustix::fs::Mode::from_raw_mode(0o644),
        rustix::fs::makedev(1, 5),
    );
    let made_device = match device {
        Ok(()) => true,
        Err(e) => {
            eprintln!("skipping the mknod part (needs CAP_MKNOD): {e}");
            symlink("/dev/zero", r.join("config.yaml")).unwrap();
            false
        }
    };
    // 1 GiB of address space: reading /dev/zero whole could not fit.
    let (ok, out) = show_within(&w.root, &r, Duration::from_secs(20), "ulimit -v 1048576;");
    assert!(ok, "{out}");
    let config = if made_device {
        "config.yaml: not a regular file (a character device)"
    } else {
        "config.yaml: not a regular file (a symbolic link, not followed)"
    };
    for want in [
        config,
        "run_info.json: not a regular file (a symbolic link, not followed)",
        "metrics/train_metrics.csv: not a regular file (a symbolic link, not followed)",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

#[test]
fn a_symlinked_metrics_folder_is_not_followed_out_of_the_run() {
    let w = World::new();
    let r = w.root.join("experiments/t/m/2025-01-01_00-00-00_link");
    write(
        &w.outside.join("metrics/val_metrics.json"),
        br#"{"secret": 42}"#,
    );
    std::fs::create_dir_all(&r).unwrap();
    symlink(w.outside.join("metrics"), r.join("metrics")).unwrap();
    let d = RunDetails::load(&r);
    assert!(d.metrics.scalars.is_empty(), "{:?}", d.metrics.scalars);
    assert!(
        d.errors
            .iter()
            .any(|e| e == "metrics: not a folder (a symbolic link, not followed)"),
        "{:?}",
        d.errors
    );
}

#[test]
fn a_one_gib_single_line_csv_is_an_error_on_the_file_not_an_allocation() {
    let w = World::new();
    let r = live_run(&w, "2025-01-01_00-00-00_line");
    // Sparse: 1 GiB of zero bytes and no newline, costing no disk.
    let f = std::fs::File::create(r.join("metrics/train_metrics.csv")).unwrap();
    f.set_len(1 << 30).unwrap();
    drop(f);
    // Under 1 GiB of address space: a reader that holds the line whole dies.
    let (ok, out) = show_within(&w.root, &r, Duration::from_secs(30), "ulimit -v 1048576;");
    assert!(ok, "{out}");
    assert!(
        out.contains("metrics/train_metrics.csv: line 1: longer than the 1 MiB cap for one line"),
        "{out}"
    );
    assert!(out.contains("0.9"), "the other file still loads: {out}");
}

#[test]
fn a_line_over_the_cap_ends_the_read_with_the_rows_before_it_kept() {
    let dir = tempfile::tempdir().unwrap();
    let long = "9".repeat(100);
    write(
        &dir.path().join("metrics/train_steps.csv"),
        format!("step,loss\n1,0.5\n2,0.4\n3,{long}\n4,0.3\n").as_bytes(),
    );
    write(
        &dir.path().join("metrics/train_log.jsonl"),
        format!("{{\"step\":1,\"loss\":2}}\n{{\"step\":2,\"loss\":{long}}}\n").as_bytes(),
    );
    let caps = Caps {
        line: 64,
        ..Caps::default()
    };
    let m = MetricsReader::with_caps(caps).read(dir.path(), false);
    assert_eq!(m.errors.len(), 2, "{:?}", m.errors);
    assert!(
        m.errors
            .iter()
            .all(|e| e.contains("longer than the 64 B cap")),
        "{:?}",
        m.errors
    );
    assert!(m.errors[1].contains("line 4"), "{:?}", m.errors);
    let loss = m.series.iter().find(|s| s.file.ends_with(".csv")).unwrap();
    assert_eq!(loss.points, vec![(1.0, 0.5), (2.0, 0.4)]);
}

/// Series, scalars and errors of two reads, which must be equal.
fn same(a: &Metrics, b: &Metrics) {
    assert_eq!(a.scalars, b.scalars);
    assert_eq!(a.series, b.series);
    assert_eq!(a.errors, b.errors);
    assert_eq!(a.notes, b.notes);
}

fn append(path: &Path, text: &str) -> u64 {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    text.len() as u64
}

fn rows(from: u64, to: u64, json: bool) -> String {
    (from..to)
        .map(|i| {
            let loss = 1.0 / (i as f64 + 1.0);
            if json {
                format!("{{\"step\": {i}, \"loss\": {loss}, \"lr\": 0.001}}\n")
            } else {
                format!("{i},{loss},0.001\n")
            }
        })
        .collect()
}

#[test]
fn metrics_of_a_live_run_are_read_incrementally_and_equal_a_full_read() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path();
    let csv = run.join("metrics/train_metrics.csv");
    let jsonl = run.join("metrics/train_steps.jsonl");
    let caps = Caps {
        buckets: 16,
        ..Caps::default()
    };
    let full = || MetricsReader::with_caps(caps).read(run, false);
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    write(
        &csv,
        format!("step,loss,lr\n{}", rows(0, 1000, false)).as_bytes(),
    );
    write(&jsonl, rows(0, 1000, true).as_bytes());
    write(&run.join("metrics/val_metrics.json"), br#"{"acc": 0.5}"#);

    let mut reader = MetricsReader::with_caps(caps);
    let first = reader.read(run, false);
    let json_len = size(&run.join("metrics/val_metrics.json"));
    assert_eq!(reader.stats().parsed, size(&csv) + size(&jsonl) + json_len);
    same(&first, &full());
    // Over the bucket cap the curves are thinned, and the pane is told.
    assert!(first.series[0].points.len() <= 2 * 16 + 2);
    assert!(
        first.notes.iter().any(|n| n.contains("1000 rows")),
        "{:?}",
        first.notes
    );

    // Nothing written: nothing parsed.
    let again = reader.read(run, false);
    assert_eq!(reader.stats().parsed, 0);
    same(&again, &first);

    // Rows appended: only they are parsed, and the result is a full read's.
    let added = append(&csv, &rows(1000, 1003, false)) + append(&jsonl, &rows(1000, 1003, true));
    let grown = reader.read(run, false);
    assert_eq!(reader.stats().parsed, added);
    assert_eq!(reader.stats().restarted, 0);
    same(&grown, &full());

    // A half-written last row shows as it is (a full read sees it too) and
    // is read again once whole.
    append(&csv, "1003,0.1");
    append(&jsonl, "{\"step\": 1003, \"lo");
    let half = reader.read(run, false);
    same(&half, &full());
    assert!(half.errors.is_empty(), "{:?}", half.errors);
    append(&csv, "5,0.001\n");
    append(&jsonl, "ss\": 0.2, \"lr\": 0.001}\n");
    let whole = reader.read(run, false);
    same(&whole, &full());
    let steps = whole
        .series
        .iter()
        .find(|s| s.file.ends_with(".jsonl"))
        .unwrap();
    assert_eq!(steps.last(), Some(0.2));

    // Truncated and rewritten in place (same inode, shorter): from scratch.
    std::fs::write(&csv, format!("step,loss,lr\n{}", rows(0, 10, false))).unwrap();
    let shorter = reader.read(run, false);
    assert_eq!(reader.stats().restarted, 1);
    same(&shorter, &full());

    // Rewritten in place and longer than before (a restarted job reusing the
    // file): the bytes before the resume point changed, so from scratch.
    let restarted: String = (0..2000)
        .map(|i| format!("{},{},0.002\n", i * 10, i))
        .collect();
    std::fs::write(&csv, format!("step,loss,lr\n{restarted}")).unwrap();
    let rewritten = reader.read(run, false);
    assert_eq!(reader.stats().restarted, 1);
    same(&rewritten, &full());

    // Replaced by a new file (another inode): from scratch.
    let tmp = run.join("metrics/.new");
    std::fs::write(&tmp, rows(0, 5000, true)).unwrap();
    std::fs::rename(&tmp, &jsonl).unwrap();
    let replaced = reader.read(run, false);
    assert_eq!(reader.stats().restarted, 1);
    same(&replaced, &full());
}

#[test]
fn a_file_over_the_tail_cap_is_read_from_its_tail_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("metrics/train_metrics.csv");
    write(
        &csv,
        format!("step,loss,lr\n{}", rows(0, 1000, false)).as_bytes(),
    );
    let caps = Caps {
        tail: 4096,
        ..Caps::default()
    };
    let mut reader = MetricsReader::with_caps(caps);
    let m = reader.read(dir.path(), false);
    assert!(m.errors.is_empty(), "{:?}", m.errors);
    let loss = &m.series[0];
    assert_eq!(loss.x, "step", "the header was read");
    assert!(loss.points.len() < 300, "{}", loss.points.len());
    assert_eq!(loss.points.last().map(|p| p.0), Some(999.0));
    assert!(
        m.notes
            .iter()
            .any(|n| n.contains("only its last 4 KiB read")),
        "{:?}",
        m.notes
    );
    // And it goes on from there as the file grows.
    append(&csv, &rows(1000, 1002, false));
    let m = reader.read(dir.path(), false);
    assert_eq!(m.series[0].points.last().map(|p| p.0), Some(1001.0));
}

/// An app over `root`, scanned, with its latest run selected, and the
/// requests it made on the way (none carried out).
fn app_on_latest(root: &Path) -> (App, Vec<Request>) {
    let settings = Settings::new(jiff::SignedDuration::from_mins(10), Theme::new(true));
    let mut app = App::new(Catalog::new(root), settings);
    let mut asked = Vec::new();
    for ev in catalog::spawn(root, ScanOptions::default()).events.iter() {
        asked.extend(update(&mut app, Msg::Scan(0, ev)));
    }
    asked.extend(update(&mut app, Msg::Key(Action::Latest)));
    (app, asked)
}

/// The details loads among `asked`.
fn details_in(asked: Vec<Request>) -> Vec<(usize, PathBuf)> {
    asked
        .into_iter()
        .filter_map(|r| match r {
            Request::Details(_, k, p) => Some((k, p)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_refresh_keeps_a_details_load_in_flight_and_asks_again_only_once_it_lands() {
    let w = World::new();
    live_run(&w, "2025-01-01_00-00-00_a");
    let b = live_run(&w, "2025-01-02_00-00-00_b");
    write(
        &b.join("metrics/train_metrics.csv"),
        b"step,loss\n1,2\n2,1\n",
    );
    let (mut app, asked) = app_on_latest(&w.root);
    let asked = details_in(asked);
    assert_eq!(asked.len(), 1, "{asked:?}");
    let (key, path) = asked[0].clone();
    assert_eq!(path, b);
    let asked_under = app.generation;

    // The run writes while its details load; a quiet refresh takes a new
    // catalog (runs renumbered, generation bumped).
    append(&b.join("metrics/train_metrics.csv"), "3,0.5\n");
    let refreshed = Box::new(catalog::scan(&w.root, ScanOptions::default()));
    let g = app.generation;
    let asked = update(&mut app, Msg::Refreshed(g, refreshed, None, None));
    assert!(
        details_in(asked).is_empty(),
        "asked again while a load of the same run is on its way"
    );

    // The load lands: it is kept, not dropped as belonging to an older scan.
    let details = Box::new(RunDetails::load(&path));
    let asked = update(
        &mut app,
        Msg::Details(asked_under, key, path.clone(), details),
    );
    assert!(
        app.selected_details().is_some(),
        "the load in flight was discarded"
    );
    assert_eq!(
        app.selected_details().unwrap().metrics.get("train/loss"),
        Some(0.5)
    );

    // The run changed while it loaded: read once more, then no more.
    let again = details_in(asked);
    assert_eq!(again.len(), 1, "{again:?}");
    let tick = || Msg::Tick(Instant::now(), jiff::Timestamp::now());
    assert!(details_in(update(&mut app, tick())).is_empty());
    let (k, p) = again[0].clone();
    let details = Box::new(RunDetails::load(&p));
    let g = app.generation;
    let asked = update(&mut app, Msg::Details(g, k, p, details));
    assert!(details_in(asked).is_empty());

    // A refresh where nothing changed asks for nothing.
    let unchanged = Box::new(catalog::scan(&w.root, ScanOptions::default()));
    let g = app.generation;
    let asked = update(&mut app, Msg::Refreshed(g, unchanged, None, None));
    assert!(app.selected_details().is_some(), "loaded details are kept");
    assert!(
        details_in(asked).len() <= 1,
        "at most one read of a run the refresh walked again"
    );
}
