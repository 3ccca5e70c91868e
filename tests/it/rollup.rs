//! The roll-ups of the root, task and model rows (info and metrics panes):
//! worked out in one sweep for the root and its tasks, one pass for a task
//! or model, and kept (issue 18). Each row must show what the runs under
//! it say, whichever row was drawn first.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use runyard::tui::msg::Msg;

use crate::common;
use crate::tui::{Yard, app_for, go, press, render};

/// The explorer's clock in these tests.
const NOW: &str = "2030-01-01T12:00:00Z";

/// Seconds from the epoch to [`NOW`].
const NOW_SECS: u64 = 1_893_499_200;

/// (task, model, run id, run_info.json or none, written seconds before [`NOW`]).
type Fixture = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    u64,
);

/// Three tasks judged three ways: `asr` by a configured lower-is-better
/// metric, `ocr` by its runs' most common key metric (higher is better,
/// one run with a lower-is-better one), `seg` by `val/loss`; statuses of
/// every kind, a run with no run_info.json, one that cannot be read, and
/// one still being written.
const RUNS: &[Fixture] = &[
    (
        "asr",
        "conformer",
        "2025-12-01_10-00-00_seed1",
        Some(r#"{"status":"finished","metrics":{"test/wer":0.12}}"#),
        86_400,
    ),
    (
        "asr",
        "conformer",
        "2025-12-02_10-00-00_seed2",
        Some(r#"{"status":"finished","metrics":{"test/wer":0.08}}"#),
        86_400,
    ),
    (
        "asr",
        "conformer",
        "2025-12-03_10-00-00_seed1",
        Some(r#"{"status":"failed","metrics":{"test/wer":0.2}}"#),
        86_400,
    ),
    (
        "asr",
        "whisper",
        "2025-12-04_10-00-00_seed1",
        Some(r#"{"status":"running","metrics":{"test/wer":0.15}}"#),
        86_400,
    ),
    (
        "ocr",
        "crnn",
        "2025-12-01_11-00-00_seed1",
        Some(r#"{"status":"finished","metrics":{"val/acc":0.71}}"#),
        86_400,
    ),
    (
        "ocr",
        "crnn",
        "2025-12-02_11-00-00_seed2",
        Some(r#"{"status":"finished","metrics":{"val/acc":0.91}}"#),
        86_400,
    ),
    (
        "ocr",
        "crnn",
        "2025-12-03_11-00-00_seed1",
        Some(r#"{"status":"finished"}"#),
        86_400,
    ),
    (
        "ocr",
        "vit",
        "2025-12-04_11-00-00_seed1",
        Some(r#"{"status":"done","metrics":{"val/acc":0.85}}"#),
        86_400,
    ),
    (
        "ocr",
        "vit",
        "2025-12-05_11-00-00_seed2",
        Some(r#"{"metrics":{"val/loss":0.3}}"#),
        86_400,
    ),
    (
        "seg",
        "unet",
        "2025-12-01_12-00-00_seed1",
        Some(r#"{"metrics":{"val/loss":0.4}}"#),
        86_400,
    ),
    (
        "seg",
        "unet",
        "2025-12-02_12-00-00_seed2",
        Some(r#"{"metrics":{"val/loss":0.25}}"#),
        86_400,
    ),
    (
        "seg",
        "unet",
        "2025-12-03_12-00-00_seed1",
        Some("{not json"),
        86_400,
    ),
    ("seg", "unet", "2025-12-04_12-00-00_seed3", None, 60),
];

/// Writes [`RUNS`] under a temp `outputs/`, each run's files and folders
/// dated as it says.
fn fixture() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    for (task, model, id, info, ago) in RUNS {
        let run = root.join("experiments").join(task).join(model).join(id);
        match info {
            Some(text) => common::write(&run.join("run_info.json"), text.as_bytes()),
            None => common::write(&run.join("logs/train.log"), b"step 1\n"),
        };
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW_SECS - ago);
        let times = std::fs::FileTimes::new().set_modified(at).set_accessed(at);
        // Files first, then their folders (writing a file dates its folder).
        for e in walkdir::WalkDir::new(&run).contents_first(true) {
            let e = e.unwrap();
            std::fs::File::open(e.path())
                .unwrap()
                .set_times(times)
                .unwrap();
        }
    }
    (tmp, root)
}

/// The explorer on the fixture at [`NOW`], `asr` judged by `test/wer`.
fn explorer(root: &Path) -> Yard {
    let mut app = app_for(root);
    let config = runyard::config::Config::parse(
        "[metrics]\nasr = { name = \"test/wer\", better = \"lower\" }\n",
        Path::new("config.toml"),
    )
    .unwrap();
    app.send(Msg::Configure(Box::new(config)));
    app.send(Msg::Tick(Instant::now(), NOW.parse().unwrap()));
    app
}

/// Every row with a roll-up, as `go` names them.
const ROWS: &[&str] = &[
    "(root)",
    "asr",
    "asr/conformer",
    "asr/whisper",
    "ocr",
    "ocr/crnn",
    "ocr/vit",
    "seg",
    "seg/unet",
];

fn screen(app: &mut Yard, row: &str) -> String {
    go(app, row);
    render(app, 150, 45)
}

#[test]
fn each_row_shows_the_same_roll_up_whichever_was_drawn_first() {
    let (_tmp, root) = fixture();
    // Each row drawn by an explorer that drew nothing before it.
    let alone: Vec<String> = ROWS
        .iter()
        .map(|row| screen(&mut explorer(&root), row))
        .collect();
    // The root first (its tasks' roll-ups kept from its sweep), then the rest.
    let mut down = explorer(&root);
    for (row, want) in ROWS.iter().zip(&alone) {
        assert_eq!(&screen(&mut down, row), want, "{row}");
    }
    // The tasks and models first, the root last (made of the kept tasks).
    let mut up = explorer(&root);
    for (row, want) in ROWS.iter().zip(&alone).rev() {
        assert_eq!(&screen(&mut up, row), want, "{row}");
    }
}

#[test]
fn the_root_adds_up_its_tasks_and_judges_each_its_own_way() {
    let (_tmp, root) = fixture();
    let mut app = explorer(&root);
    let all = screen(&mut app, "(root)");
    // 13 runs: 6 finished (`done` too), 1 failed, the one still written
    // running, the one that says running but is not stalled, the rest unknown.
    assert!(all.contains("runs      13  ● 1  ◌ 1  ✓ 6  ✗ 1"), "{all}");
    assert!(all.contains("⚠ 1 run with problems"), "{all}");
    assert!(
        all.contains("latest    ocr/vit/2025-12-05_11-00-00_seed2"),
        "{all}"
    );
    // Each task's best by its own metric.
    for line in [
        "best      asr test/wer 0.08  conformer/2025-12-02_10-00-00_seed2",
        "best      ocr val/acc 0.91  crnn/2025-12-02_11-00-00_seed2",
        "best      seg val/loss 0.25  unet/2025-12-02_12-00-00_seed2",
    ] {
        assert!(all.contains(line), "{line}\n{all}");
    }
    // The root ranks by the most common key metric: test/wer (4 asr runs)
    // over val/acc and val/loss (3 each), other tasks' runs having none.
    assert!(all.contains("runs by test/wer (lower is better)"), "{all}");
    let ranked: Vec<&str> = all
        .lines()
        .filter_map(|l| l.split_once(". 0.").map(|(_, r)| r))
        .collect();
    assert_eq!(ranked.len(), 4, "{all}");
    assert!(ranked[0].starts_with("08"), "{all}");
    assert!(ranked[3].starts_with("2 "), "{all}");
    // A task ranks by its own metric.
    let ocr = screen(&mut app, "ocr");
    assert!(ocr.contains("runs by val/acc (higher is better)"), "{ocr}");
    assert!(ocr.contains("runs      5  ✓ 4"), "{ocr}");
}

#[test]
fn under_a_filter_the_roots_best_runs_are_among_those_shown() {
    let (_tmp, root) = fixture();
    let mut app = explorer(&root);
    let all = screen(&mut app, "(root)");
    press(&mut app, "/seed1\n");
    let shown = screen(&mut app, "(root)");
    // The best of the runs shown; counts and ranking stay the whole tree's.
    for line in [
        "best      asr test/wer 0.12  conformer/2025-12-01_10-00-00_seed1",
        "best      ocr val/acc 0.85  vit/2025-12-04_11-00-00_seed1",
        "best      seg val/loss 0.4  unet/2025-12-01_12-00-00_seed1",
        "runs      13  ● 1  ◌ 1  ✓ 6  ✗ 1",
    ] {
        assert!(shown.contains(line), "{line}\n{shown}");
    }
    // As an explorer that drew the root only with the filter on.
    let mut fresh = explorer(&root);
    press(&mut fresh, "/seed1\n");
    assert_eq!(screen(&mut fresh, "(root)"), shown);
    // And back without it.
    press(&mut app, "\x1b");
    assert_eq!(screen(&mut app, "(root)"), all);
}
