//! Safety review of the quiet refresh that keeps the shown catalog when a
//! refresh finds the same runs (issue 18): a plan open while the folders
//! under it are swapped, replaced or linked away, marks across refreshes,
//! refreshes and caches from before a rescan, and the cache the next
//! refresh starts from.

#[allow(unused_imports)]
use super::*;

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::tui::{Yard, app_for, go, press};
use runyard::catalog::cache::ScanCache;
use runyard::catalog::{self, Catalog, ScanOptions};
use runyard::tui::app::{App, Settings};
use runyard::tui::effects::{Env, perform};
use runyard::tui::msg::{Msg, Request};
use runyard::tui::theme::Theme;
use runyard::tui::update::update;

/// What a refresh of the tree the explorer shows finds now: a scan that
/// starts from the cache of the shown catalog, as `tick` builds it.
fn refreshed(y: &Yard) -> Box<Catalog> {
    let now = jiff::Timestamp::now().as_second();
    let cache = ScanCache::from_catalog(&y.catalog, now, 600);
    let opts = ScanOptions {
        cache: Some(Arc::new(cache)),
        ..ScanOptions::default()
    };
    Box::new(catalog::scan(&y.catalog.root, opts))
}

fn label(name: &str) -> String {
    format!("t/m/{name}")
}

/// Every file under `dir` with its bytes (links not followed), to check a
/// folder came through untouched.
fn contents(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<_> = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), std::fs::read(e.path()).unwrap()))
        .collect();
    out.sort();
    out
}

/// Moves a run folder, its canaries with it.
fn move_run(w: &mut World, from: &Path, to: &Path) {
    std::fs::rename(from, to).unwrap();
    for (p, _) in &mut w.canaries {
        if let Ok(rest) = p.strip_prefix(from) {
            *p = to.join(rest);
        }
    }
}

#[test]
fn a_plan_open_while_a_refresh_finds_its_run_replaced_by_a_look_alike_touches_neither() {
    let mut w = World::new();
    let a = w.run("2025-01-01_00-00-00_a");
    w.run("2025-01-01_00-00-01_b");
    let mut y = app_for(&w.root);
    go(&mut y, &label("2025-01-01_00-00-00_a"));
    press(&mut y, "d");
    assert!(y.confirm().is_some(), "the clean plan is open");
    // While the popup waits, the run is moved away and another folder of
    // the same name (new inodes, its own tmp/ and cache/) takes its place.
    let moved = w.outside.join("a-moved");
    move_run(&mut w, &a, &moved);
    write(&a.join("tmp/other.bin"), &[4; 3000]);
    write(&a.join("cache/other.npy"), &[5; 3000]);
    w.idle();
    let (before_new, before_moved) = (contents(&a), contents(&moved));
    // The refresh finds the same paths: it keeps the tree and the popup.
    let g = y.generation;
    y.send(Msg::Refreshed(g, refreshed(&y), None, None));
    assert_eq!(y.generation, g, "the same runs by path: kept in place");
    assert!(y.confirm().is_some(), "the popup stays open");
    press(&mut y, "y");
    assert!(y.confirm().is_none());
    assert_eq!(contents(&a), before_new, "the look-alike is untouched");
    assert_eq!(contents(&moved), before_moved, "the moved run is untouched");
    let msg = &y.message.as_ref().unwrap().0;
    assert!(msg.contains("0 paths") && msg.contains("skipped"), "{msg}");
    w.check_canaries();
}

#[test]
fn a_plan_open_while_a_refresh_finds_its_run_linked_outside_does_not_follow_the_link() {
    let mut w = World::new();
    let a = w.run("2025-01-01_00-00-00_a");
    let b = w.run("2025-01-01_00-00-01_b");
    let mut y = app_for(&w.root);
    for name in ["2025-01-01_00-00-00_a", "2025-01-01_00-00-01_b"] {
        go(&mut y, &label(name));
        press(&mut y, " ");
    }
    press(&mut y, "d");
    assert_eq!(y.confirm().expect("plan open").plan.targets.len(), 4);
    // Run b becomes a link to a look-alike outside the tree.
    let decoy = w.outside.join("decoy");
    w.canary(&decoy.join("tmp/keep.bin"), 2000);
    w.canary(&decoy.join("cache/keep.npy"), 2000);
    let real_b = w.outside.join("b-real");
    move_run(&mut w, &b, &real_b);
    symlink(&decoy, &b).unwrap();
    w.idle();
    let g = y.generation;
    y.send(Msg::Refreshed(g, refreshed(&y), None, None));
    assert!(y.confirm().is_some(), "the popup stays open");
    // A link is not a run: the mark on b is dropped, the plan still holds
    // its paths, and applying it does not go through the link.
    assert!(!y.marks.contains(&b), "{:?}", y.marks);
    assert!(
        y.catalog.runs.iter().all(|r| r.path != b),
        "a link is listed as a run"
    );
    press(&mut y, "y");
    assert!(!a.join("tmp").exists() && !a.join("cache").exists());
    assert!(real_b.join("tmp/a.bin").exists() && real_b.join("cache/c.npy").exists());
    assert!(
        std::fs::symlink_metadata(&b)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link itself stays"
    );
    w.check_canaries();
}

#[test]
fn two_runs_swapping_names_under_an_open_plan_are_both_left_alone() {
    let mut w = World::new();
    let a = w.run("2025-01-01_00-00-00_a");
    let b = w.run("2025-01-01_00-00-01_b");
    let mut y = app_for(&w.root);
    go(&mut y, &label("2025-01-01_00-00-00_a"));
    press(&mut y, " ");
    let ka = y.catalog.runs.iter().position(|r| r.path == a).unwrap();
    press(&mut y, "d");
    assert!(y.confirm().is_some());
    let swap = w.root.join("experiments/t/m/swap");
    move_run(&mut w, &a, &swap);
    move_run(&mut w, &b, &a);
    move_run(&mut w, &swap, &b);
    w.idle();
    let (before_a, before_b) = (contents(&a), contents(&b));
    let g = y.generation;
    y.send(Msg::Refreshed(g, refreshed(&y), None, None));
    // Same paths, so the same keys: a's key now reads what is at a.
    assert_eq!(y.generation, g);
    assert_eq!(y.catalog.runs[ka].path, a);
    let stamps = &y.catalog.runs[ka].stamps;
    let ino = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&a).unwrap());
    assert_eq!(
        stamps[0].ino, ino,
        "the key took the swapped-in folder's readings"
    );
    // Marks are by folder: the mark stays on the name the user marked.
    assert!(y.marks.contains(&a));
    press(&mut y, "y");
    assert_eq!(contents(&a), before_a, "the run now at a is untouched");
    assert_eq!(contents(&b), before_b, "the run now at b is untouched");
    w.check_canaries();
}

#[test]
fn a_run_renamed_with_the_count_unchanged_starts_over_and_drops_its_mark() {
    let mut w = World::new();
    let a = w.run("2025-01-01_00-00-00_a");
    w.run("2025-01-01_00-00-01_b");
    let mut y = app_for(&w.root);
    go(&mut y, &label("2025-01-01_00-00-00_a"));
    press(&mut y, " ");
    assert!(y.marks.contains(&a));
    let renamed = w.root.join("experiments/t/m/2025-01-01_00-00-00_z");
    move_run(&mut w, &a, &renamed);
    w.idle();
    let g = y.generation;
    let runs = y.catalog.runs.len();
    y.send(Msg::Refreshed(g, refreshed(&y), None, None));
    assert_eq!(y.catalog.runs.len(), runs, "as many runs as before");
    assert_eq!(y.generation, g + 1, "other paths: numbered anew");
    assert!(
        y.marks.is_empty(),
        "the mark of a folder gone: {:?}",
        y.marks
    );
    assert!(y.catalog.runs.iter().any(|r| r.path == renamed));
    // What a key acts on now holds no key of the old name.
    assert!(y.op_runs().iter().all(|&k| y.catalog.runs[k].path != a));
    w.check_canaries();
}

#[test]
fn a_refresh_and_a_next_cache_from_before_a_rescan_are_ignored() {
    let mut w = World::new();
    w.run("2025-01-01_00-00-00_a");
    let b = w.run("2025-01-01_00-00-01_b");
    let mut y = app_for(&w.root);
    let g = y.generation;
    // A refresh taken before run b was deleted outside the explorer, and
    // the next refresh's cache worked out from it.
    let stale = refreshed(&y);
    let stale_cache = ScanCache::from_catalog(&stale, jiff::Timestamp::now().as_second(), 600);
    w.canaries.retain(|(p, _)| !p.starts_with(&b));
    std::fs::remove_dir_all(&b).unwrap();
    press(&mut y, "r");
    assert!(y.generation > g);
    assert!(y.catalog.runs.iter().all(|r| r.path != b));
    // Both land late, tagged with the generation before the rescan.
    y.send(Msg::Refreshed(g, stale, None, None));
    y.send(Msg::NextCache(g, Box::new(stale_cache)));
    assert!(
        y.catalog.runs.iter().all(|r| r.path != b),
        "the deleted run came back"
    );
    assert!(
        y.live.next_cache.is_none(),
        "the next refresh would start from the old tree's cache"
    );
    w.check_canaries();
}

/// An explorer over `root` as the event loop drives it, refreshing (its
/// requests returned, none carried out), and the finished scan's request
/// to save its cache.
fn live_app(root: &Path) -> (App, Request) {
    let settings = Settings::new(jiff::SignedDuration::from_mins(10), Theme::new(true));
    let mut app = App::new(Catalog::new(root), settings);
    app.live.how = "watching";
    let mut save = None;
    for ev in catalog::spawn(root, ScanOptions::default()).events.iter() {
        for r in update(&mut app, Msg::Scan(0, ev)) {
            if matches!(r, Request::SaveCache(..)) {
                save = Some(r);
            }
        }
    }
    (app, save.expect("a finished scan saves its cache"))
}

/// A tick `after` the scan finished; carries out the refresh it starts
/// and feeds the answers back.
fn refresh_at(app: &mut App, after: Duration) {
    let reqs = update(
        app,
        Msg::Tick(Instant::now() + after, jiff::Timestamp::now()),
    );
    let refresh = reqs
        .into_iter()
        .find(|r| matches!(r, Request::Refresh { .. }))
        .expect("the tick starts a refresh");
    let mut answers = Vec::new();
    perform(refresh, &Env::default(), &mut |m| {
        answers.push(m);
        true
    });
    for m in answers {
        update(app, m);
    }
}

/// The cache a finished scan's `SaveCache` sends back (without writing the
/// user's cache folder).
fn next_cache_of(save: Request) -> Msg {
    let Request::SaveCache(g, c, started, window) = save else {
        unreachable!()
    };
    Msg::NextCache(g, Box::new(ScanCache::from_catalog(&c, started, window)))
}

/// A job that resumes, appending in place three levels down (no folder
/// changes; the watcher, watching the small tree whole, reports it), stays
/// active across refreshes whichever comes back first, the finished scan's
/// cache or the first refresh. Found by review: a scan-cache worker slower
/// than the refresh landed after it and took over, the next refresh
/// trusted its old idle reading, and a cleanup planned the run's tmp/.
#[test]
fn a_run_the_watcher_saw_written_deep_inside_stays_active_across_refreshes() {
    for cache_first in [true, false] {
        let mut w = World::new();
        let a = w.run("2025-01-01_00-00-00_a");
        let log = a.join("logs/rank0/train.log");
        write(&log, b"step 1\n");
        w.idle();
        let (mut app, save) = live_app(&w.root);
        let k = app.catalog.runs.iter().position(|r| r.path == a).unwrap();
        assert!(!app.is_active(k));
        let mut save = Some(save);
        if cache_first {
            update(&mut app, next_cache_of(save.take().unwrap()));
        }
        std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .unwrap()
            .write_all(b"step 2\n")
            .unwrap();
        update(&mut app, Msg::Changed(vec![a.clone()]));
        refresh_at(&mut app, Duration::from_secs(2));
        assert!(
            app.is_active(k),
            "the refresh walked the run it was told of"
        );
        if let Some(save) = save.take() {
            update(&mut app, next_cache_of(save));
        }
        // The refreshes that follow start from the refreshed catalog's cache.
        refresh_at(&mut app, Duration::from_secs(40));
        refresh_at(&mut app, Duration::from_secs(80));
        assert!(
            app.is_active(k),
            "cache first {cache_first}: went back to idle"
        );
        // So a cleanup planned now leaves it alone, though the fresh look at
        // the top two levels sees nothing new.
        let plan = ops::plan_ephemeral(&w.root, &app.run_refs(&[k]), &opts());
        assert!(plan.is_empty(), "{:?}", plan.targets);
        assert!(
            plan.skipped[0].why.starts_with("active"),
            "{:?}",
            plan.skipped
        );
        w.check_canaries();
    }
}

/// Found by review: an MLflow run renamed in place (its meta.yaml) kept its
/// old name, the refresh pairing runs by folder only.
#[test]
fn a_renamed_mlflow_run_shows_its_new_name() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = common::sources::mlflow(tmp.path());
    let mut y = app_for(&raw.root);
    let run = raw.root.join("0/a1b2c3d4e5f60718293a4b5c6d7e8f90");
    let k = y.catalog.runs.iter().position(|r| r.path == run).unwrap();
    assert_eq!(y.catalog.runs[k].name, "bold-fox-a1_a1b2c3d4");
    // Renamed in MLflow's UI: its meta.yaml is rewritten in place.
    let meta = std::fs::read_to_string(run.join("meta.yaml")).unwrap();
    std::fs::write(
        run.join("meta.yaml"),
        meta.replace("bold-fox-a1", "aaa-renamed"),
    )
    .unwrap();
    let g = y.generation;
    y.send(Msg::Refreshed(g, refreshed(&y), None, None));
    let k = y.catalog.runs.iter().position(|r| r.path == run).unwrap();
    assert_eq!(y.catalog.runs[k].name, "aaa-renamed_a1b2c3d4", "stale name");
}

/// Carries out `req` and returns what it answered, not yet fed back.
fn answers_of(req: Request) -> Vec<Msg> {
    let mut answers = Vec::new();
    perform(req, &Env::default(), &mut |m| {
        answers.push(m);
        true
    });
    answers
}

/// Feeds `msgs` back, carrying out the scans and notes they ask for.
fn settle(app: &mut App, msgs: Vec<Msg>) {
    let mut queue: std::collections::VecDeque<Msg> = msgs.into();
    while let Some(m) = queue.pop_front() {
        for r in update(app, m) {
            if matches!(r, Request::Scan { .. } | Request::Notes(..)) {
                queue.extend(answers_of(r));
            }
        }
    }
}

/// Found by review: a refresh in flight when `r` rescanned was dropped, but
/// its notes (sent after it) replaced the rescan's.
#[test]
fn a_rejected_refresh_leaves_the_notes_alone() {
    let mut w = World::new();
    w.run("2025-01-01_00-00-00_a");
    let (mut app, _) = live_app(&w.root);
    let reqs = update(
        &mut app,
        Msg::Tick(
            Instant::now() + Duration::from_secs(40),
            jiff::Timestamp::now(),
        ),
    );
    let refresh = reqs
        .into_iter()
        .find(|r| matches!(r, Request::Refresh { .. }))
        .unwrap();
    // The refresh's worker walks the tree as it is now...
    let late = answers_of(refresh);
    // ... then a run that strays from the layout appears and `r` rescans.
    let odd = w.run("not-a-run-id");
    settle(
        &mut app,
        vec![Msg::Key(runyard::tui::keymap::Action::Rescan)],
    );
    assert!(
        app.notes.findings.contains_key(&odd),
        "{:?}",
        app.notes.findings
    );
    // The refresh from before the rescan lands: its catalog is ignored,
    // its notes should be too.
    settle(&mut app, late);
    assert!(
        app.notes.findings.contains_key(&odd),
        "the rescan's findings were replaced"
    );
}
