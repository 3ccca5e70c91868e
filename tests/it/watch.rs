//! Watching runs (issue 19): `ls --where` filters by config, metrics,
//! status and tag with the grammar of `runyard::query`.

use std::path::Path;

use crate::common;

/// `runyard -C root ls ARGS --flat`: the listed run ids, in order.
fn listed(root: &Path, args: &[&str]) -> Vec<String> {
    let out = common::runyard_cmd()
        .arg("-C")
        .arg(root)
        .arg("ls")
        .args(args)
        .arg("--flat")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let label = l.split_whitespace().next().unwrap();
            label.rsplit('/').next().unwrap().to_string()
        })
        .collect()
}

#[test]
fn ls_where_compares_numbers_as_numbers_and_combines_terms() {
    let (_tmp, root) = crate::compare::sweep();
    // 1e-3 and 1e-2, three seeds each.
    let big = listed(&root, &["--where", "optim.lr>=1e-3"]);
    assert_eq!(big.len(), 6, "{big:?}");
    assert!(
        big.iter()
            .all(|r| r.contains("lr1e-3") || r.contains("lr1e-2"))
    );
    // `0.0001` is `1e-4`; a short key finds `optim.lr`; `cfg.` is allowed.
    let small = listed(&root, &["--where", "lr=0.0001"]);
    assert_eq!(
        small,
        listed(&root, &["--where", "cfg.optim.lr=1e-4"]),
        "same runs either way"
    );
    assert_eq!(small.len(), 3);
    assert!(small.iter().all(|r| r.contains("lr1e-4")));
    // Repeated --where and several terms in one are all required.
    let one = listed(
        &root,
        &[
            "--where",
            "status:failed",
            "--where",
            "seed=1 model.depth>20",
        ],
    );
    assert_eq!(one, vec!["2026-01-17_09-00-00_lr1e-2_s1"]);
    // A metric (a curve's last value) works like a config key: the
    // failed runs end in NaN and meet no bound.
    let good = listed(&root, &["--where", "val/acc>=0.8", "--where", "seed!=0"]);
    assert_eq!(good.len(), 6, "{good:?}");
    assert!(
        good.iter()
            .all(|r| !r.contains("lr1e-2") && !r.ends_with("_s0"))
    );
    // -n takes the newest of the runs that meet the conditions.
    let newest = listed(&root, &["--where", "status:finished", "-n", "2"]);
    assert_eq!(
        newest,
        vec![
            "2026-01-20_09-00-00_lr1e-3_s2",
            "2026-01-19_09-00-00_lr3e-4_s2"
        ]
    );
}

#[test]
fn ls_where_says_when_nothing_meets_it_and_refuses_broken_conditions() {
    let (_tmp, root) = crate::compare::sweep();
    let out = common::runyard_cmd()
        .arg("-C")
        .arg(&root)
        .args(["ls", "--where", "optim.lr>1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("No run meets --where."), "{text}");
    assert!(text.contains("0 runs"), "{text}");
    for bad in ["lr>=", "lr", "<3"] {
        let out = common::runyard_cmd()
            .arg("-C")
            .arg(&root)
            .args(["ls", "--where", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(bad), "{bad}: {err}");
    }
    // JSON counts what is listed, in the totals and per task and model.
    let out = common::runyard_cmd()
        .arg("-C")
        .arg(&root)
        .args(["ls", "--json", "--where", "tag:lr3e-4_s1"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["totals"]["runs"], 1);
    assert_eq!(doc["tasks"][0]["runs"], 1);
    assert_eq!(doc["tasks"][0]["models"][0]["runs"], 1);
    assert_eq!(doc["runs"].as_array().unwrap().len(), 1);
}

#[test]
fn a_long_run_info_key_stays_off_its_value() {
    use crate::tui::{app_for, go, render};
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    let run = root.join("experiments/cifar/resnet/2026-01-10_09-00-00_a");
    common::write(
        &run.join("run_info.json"),
        br#"{"status": "finished", "wandb_run_id": "fnwvt34l", "host": "gpu1"}"#,
    );
    runyard::demo::set_tree_mtime(&root, common::idle_time()).unwrap();
    let mut app = app_for(&root);
    go(&mut app, "cifar/resnet/2026-01-10_09-00-00_a");
    let screen = render(&mut app, 160, 45);
    assert!(screen.contains("wandb_run_id fnwvt34l"), "{screen}");
    // A short key pads to the same column as before.
    assert!(screen.contains("host      gpu1"), "{screen}");
}

/// The run ids the explorer's tree shows.
fn shown(app: &crate::tui::Yard) -> Vec<String> {
    let mut ids: Vec<String> = app
        .shown_runs()
        .map(|k| app.catalog.runs[k].name.clone())
        .collect();
    ids.sort();
    ids
}

#[test]
fn the_explorer_filter_takes_config_status_and_tag_terms_with_text() {
    use crate::tui::{app_for, press, render};
    let (_tmp, root) = crate::compare::sweep();
    let mut app = app_for(&root);
    // Configs are read on the loader for the conditions, then the rows
    // are built again with them.
    press(&mut app, "/optim.lr>=1e-3 status:failed");
    assert_eq!(
        shown(&app),
        vec![
            "2026-01-13_09-00-00_lr1e-2_s0",
            "2026-01-17_09-00-00_lr1e-2_s1",
            "2026-01-21_09-00-00_lr1e-2_s2"
        ]
    );
    let screen = render(&mut app, 120, 30);
    assert!(screen.contains("filter: 3 of 12 runs"), "{screen}");
    assert!(!screen.contains("pending"), "{screen}");
    // Text narrows further, fuzzy as before; a half-typed term is left out
    // meanwhile instead of hiding every run.
    press(&mut app, " s1 seed<");
    assert_eq!(shown(&app), vec!["2026-01-17_09-00-00_lr1e-2_s1"]);
    press(&mut app, "1");
    assert!(shown(&app).is_empty(), "seed 1 is not < 1");
    // Esc clears it all; a tag and a number spelled otherwise (1e-4 as
    // 0.0001, a short key) work too.
    press(&mut app, "\x1b/tag:lr1e-4_s2");
    assert_eq!(shown(&app), vec!["2026-01-18_09-00-00_lr1e-4_s2"]);
    press(&mut app, "\x1b/lr=0.0001 model.depth=34");
    assert_eq!(shown(&app), vec!["2026-01-14_09-00-00_lr1e-4_s1"]);
}

#[test]
fn the_logs_pane_follows_a_growing_log_and_strips_escapes() {
    use crate::tui::{app_for, go, press, render};
    use runyard::tui::msg::Msg;
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    let run = root.join("experiments/cifar/resnet/2026-01-10_09-00-00_live");
    common::write(&run.join("run_info.json"), br#"{"status": "running"}"#);
    let mut log = String::new();
    for i in 0..30 {
        log += &format!(
            "\x1b[32mINFO\x1b[0m step {i} loss={:.3}\n",
            2.0 / (i + 1) as f64
        );
    }
    // A title escape and a progress bar redrawn with \r: neither reaches the screen raw.
    log += "\x1b]0;evil title\x07epoch 1 \r 50%|███  \r100%|██████\n";
    common::write(&run.join("logs/train.log"), log.as_bytes());
    common::write(&run.join("train.log"), b"launcher: started\n");
    runyard::demo::set_tree_mtime(&root, common::idle_time()).unwrap();
    let mut app = app_for(&root);
    go(&mut app, "cifar/resnet/2026-01-10_09-00-00_live");
    press(&mut app, "t");
    // The root's train.log comes first; Tab shows logs/train.log.
    press(&mut app, "\t");
    // Ask the read the poll would: a tick past the interval.
    let tick = |app: &mut crate::tui::Yard, ms: u64| {
        app.send(Msg::Tick(
            std::time::Instant::now() + std::time::Duration::from_millis(ms),
            "2026-11-26T12:00:00Z".parse().unwrap(),
        ));
    };
    tick(&mut app, 1000);
    let screen = render(&mut app, 80, 24);
    assert!(
        !screen.contains('\x1b') && !screen.contains("evil"),
        "{screen}"
    );
    assert!(screen.contains("100%|██████"), "{screen}");
    insta::assert_snapshot!("logs_80x24_following", screen);
    // The run writes more: the next read takes only the new lines.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(run.join("logs/train.log"))
        .unwrap();
    for i in 30..35 {
        writeln!(f, "INFO step {i} loss=0.0{i}").unwrap();
    }
    write!(f, "INFO step 35 (half a line").unwrap();
    tick(&mut app, 2000);
    let screen = render(&mut app, 80, 24);
    assert!(screen.contains("step 34 loss=0.034"), "{screen}");
    assert!(
        !screen.contains("half a line"),
        "only whole lines: {screen}"
    );
    insta::assert_snapshot!("logs_80x24_grown", screen);
    // Search: matches are counted, n jumps and stops following; G follows again.
    press(&mut app, "/loss=0.03\n");
    let screen = render(&mut app, 80, 24);
    assert!(screen.contains("/loss=0.03 5 matches"), "{screen}");
    assert!(screen.contains("lines "), "jumped to a match: {screen}");
    press(&mut app, "G");
    assert!(render(&mut app, 80, 24).contains("following ●"));
    press(&mut app, "\x1b");
    assert!(app.overlay.is_none());
}

#[test]
fn the_overlay_readout_lists_every_run_at_the_cursor_best_first() {
    use crate::tui::{app_for, go, press, render};
    let (_tmp, root) = crate::compare::sweep();
    // Four runs: one of each learning rate.
    let model = root.join("experiments/cifar/resnet");
    for e in std::fs::read_dir(&model).unwrap() {
        let p = e.unwrap().path();
        if !p.to_string_lossy().ends_with("_s0") {
            std::fs::remove_dir_all(p).unwrap();
        }
    }
    runyard::demo::set_tree_mtime(&root, common::idle_time()).unwrap();
    let mut app = app_for(&root);
    go(&mut app, "cifar/resnet");
    press(&mut app, "c");
    while app.compare().unwrap().series[app.compare().unwrap().chart].0 != "val/loss" {
        press(&mut app, "m");
    }
    // Zoomed, clipped (the diverging run's 1e12), the cursor moved left
    // of the end, smoothed.
    press(&mut app, "zCHS");
    let screen = render(&mut app, 120, 30);
    let legend: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("lr1e-4_s0") && l.contains("lr3e-4_s0"))
        .collect();
    assert_eq!(legend.len(), 1, "{screen}");
    let l = legend[0];
    // val/loss: lower is better; 3e-4 wins, and is marked; the diverged
    // run has no value there and comes last.
    let at = |name: &str| l.find(name).unwrap();
    assert!(at("lr3e-4_s0") < at("lr1e-3_s0"), "{l}");
    assert!(at("lr1e-3_s0") < at("lr1e-4_s0"), "{l}");
    assert!(at("lr1e-4_s0") < at("lr1e-2_s0"), "{l}");
    assert!(l[at("lr3e-4_s0")..at("lr1e-3_s0")].contains('★'), "{l}");
    // With smoothing on: raw (smoothed) for each run.
    assert!(l.contains(") ★"), "{l}");
    assert!(screen.contains("best first in the legend"), "{screen}");
    insta::assert_snapshot!("readout_4_runs_120x30", screen);
}

#[test]
fn the_run_view_shows_every_chart_zooms_one_and_opens_the_logs() {
    use crate::tui::{SEED42, app_for, go, press, render};
    use runyard::tui::overlay::Overlay;
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    go(&mut app, SEED42);
    press(&mut app, "\n");
    assert!(
        matches!(app.overlay, Some(Overlay::Run(_))),
        "Enter on a run opens its view"
    );
    let screen = render(&mut app, 80, 24);
    insta::assert_snapshot!("run_view_80x24", screen);
    let wide = render(&mut app, 160, 45);
    insta::assert_snapshot!("run_view_160x45", wide);
    let n = app.selected_details().unwrap().metrics.series.len();
    assert!(wide.contains(&format!("{n} of {n} metrics")), "{wide}");
    // The metric filter keeps the names holding its words.
    press(&mut app, "/loss\n");
    let screen = render(&mut app, 160, 45);
    let kept = app
        .selected_details()
        .unwrap()
        .metrics
        .series
        .iter()
        .filter(|s| s.name.contains("loss"))
        .count();
    assert!(
        screen.contains(&format!("{kept} of {n} metrics · /loss")),
        "{screen}"
    );
    // + grows the grid; z zooms the selected chart and Esc comes back.
    press(&mut app, "+");
    let Some(Overlay::Run(v)) = &app.overlay else {
        panic!("run view")
    };
    assert!(v.grid.is_some());
    press(&mut app, "z");
    let zoomed = app.zoomed().expect("z zooms the selected chart");
    assert!(zoomed.name.contains("loss"), "{}", zoomed.name);
    press(&mut app, "\x1b");
    assert!(
        matches!(app.overlay, Some(Overlay::Run(_))),
        "back to the run view"
    );
    // t opens the logs, Esc comes back; Esc clears the filter, then closes.
    press(&mut app, "t");
    assert!(matches!(app.overlay, Some(Overlay::Logs(_))));
    press(&mut app, "\x1b");
    assert!(matches!(app.overlay, Some(Overlay::Run(_))));
    press(&mut app, "\x1b");
    let Some(Overlay::Run(v)) = &app.overlay else {
        panic!("still the run view")
    };
    assert!(v.filter.is_empty());
    press(&mut app, "\x1b");
    assert!(app.overlay.is_none());
}

#[test]
fn ls_where_reads_other_tools_configs() {
    let tmp = tempfile::tempdir().unwrap();
    let wandb = tmp.path().join("wandb");
    crate::common::formats::wandb_tree(&wandb);
    // W&B wraps each value ({desc, value}); the unwrapped lr is 0.0003.
    let hit = listed(
        &wandb,
        &["--where", "lr=3e-4", "--where", "batch_size>=128"],
    );
    assert_eq!(hit.len(), 1, "{hit:?}");
    assert!(listed(&wandb, &["--where", "lr>1e-3"]).is_empty());
}
