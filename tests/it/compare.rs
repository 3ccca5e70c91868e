//! Curves and comparison on a generated learning-rate sweep (issue 17):
//! compare names rows by what differs and shows the differing config keys;
//! the zoomed chart reads out the file's values; the CLI fits the width,
//! picks columns and filters rows.

use std::path::{Path, PathBuf};

use crate::common::{self, idle_time, write};
use crate::tui::{Yard, app_for, go, press, render};
use runyard::tui::tree::Node;

const LRS: [&str; 4] = ["1e-4", "3e-4", "1e-3", "1e-2"];

/// The val/loss of a run of the sweep at `step`: lr 3e-4 reaches the
/// lowest floor; lr 1e-2 starts at 1e12 and ends in NaN.
fn loss(lr: &str, seed: u32, step: u32) -> f64 {
    if lr == "1e-2" {
        return match step {
            0 => 1e12,
            s if s > 1500 => f64::NAN,
            s => 2.0 + f64::from(s) / 1000.0,
        };
    }
    let x: f64 = lr.parse().unwrap();
    let floor = 0.35 + (x / 3e-4).log10().abs() * 0.12 + f64::from(seed) * 0.01;
    floor
        + 2.0 * (-f64::from(step) / (300.0 + 1e-2 / x)).exp()
        + 0.03 * (f64::from(step) * 0.37 + f64::from(seed)).sin()
}

/// Twelve runs of `cifar/resnet`: lr × seed, depth by seed, each with a
/// config.yaml, Hydra overrides, run_info.json (status, the final accuracy
/// under two spellings) and metrics/val_metrics.csv.
pub(crate) fn sweep() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    for i in 0..12u32 {
        let (lr, seed) = (LRS[i as usize % 4], i / 4);
        let depth = [18, 34][(seed % 2) as usize];
        let name = format!("2026-01-{:02}_09-00-00_lr{lr}_s{seed}", 10 + i);
        let run = root.join("experiments/cifar/resnet").join(&name);
        write(
            &run.join("config.yaml"),
            format!(
                "task: cifar\nmodel:\n  name: resnet\n  depth: {depth}\noptim:\n  name: adamw\n  lr: {lr}\n  weight_decay: 0.01\nseed: {seed}\npaths:\n  output_dir: outputs/experiments/cifar/resnet/{name}\n"
            )
            .as_bytes(),
        );
        write(
            &run.join(".hydra/overrides.yaml"),
            format!("- seed={seed}\n- optim.lr={lr}\n").as_bytes(),
        );
        let mut csv = String::from("step,val/loss,val/acc\n");
        let mut last_acc = f64::NAN;
        for step in (0..=2000).step_by(50) {
            let l = loss(lr, seed, step);
            let acc = if l.is_finite() {
                (1.0 - l / 3.0).clamp(0.0, 1.0)
            } else {
                f64::NAN
            };
            last_acc = acc;
            csv += &format!("{step},{l},{acc}\n");
        }
        write(&run.join("metrics/val_metrics.csv"), csv.as_bytes());
        let info = if lr == "1e-2" {
            serde_json::json!({ "status": "failed", "metrics": {} })
        } else {
            serde_json::json!({ "status": "finished",
                "metrics": { "val_acc": last_acc, "best_val_acc": last_acc } })
        };
        write(&run.join("run_info.json"), info.to_string().as_bytes());
    }
    runyard::demo::set_tree_mtime(&root, idle_time()).unwrap();
    (tmp, root)
}

fn label(app: &Yard) -> String {
    match app.selected_node() {
        Some(Node::Run(k)) => app.catalog.runs[k].label(),
        _ => String::new(),
    }
}

/// Opens compare on the sweep's model.
fn compare_sweep(root: &Path) -> Yard {
    let mut app = app_for(root);
    go(&mut app, "cifar/resnet");
    press(&mut app, "c");
    assert!(app.compare().is_some(), "compare opens on the model");
    app
}

#[test]
fn compare_names_rows_by_what_differs_and_shows_the_differing_config() {
    let (_tmp, root) = sweep();
    let mut app = compare_sweep(&root);
    let c = app.compare().unwrap();
    assert_eq!(c.table.runs.len(), 12);
    // Hydra overrides lead, then the rest of the config that differs; the
    // per-run output folder separates nothing and is left out.
    assert_eq!(c.table.params, vec!["seed", "optim.lr", "model.depth"]);
    assert!(
        c.table.names.iter().all(|n| n.starts_with("lr")),
        "{:?}",
        c.table.names
    );
    assert!(c.table.names.contains(&"lr3e-4_s0".to_string()));
    let failed = c.table.status.iter().filter(|s| *s == "failed").count();
    assert_eq!(failed, 3);
    // best_val_acc and the val/acc curve repeat the key metric val_acc
    // (val/acc is NaN where val_acc is missing): marked, hidden until `a`.
    let col = |n: &str| c.table.columns.iter().position(|x| x.name == n).unwrap();
    assert_eq!(c.table.columns[col("val_acc")].same_as, None);
    assert_eq!(
        c.table.columns[col("best_val_acc")].same_as,
        Some(col("val_acc"))
    );
    assert_eq!(
        c.table.columns[col("val/acc")].same_as,
        Some(col("val_acc"))
    );
    assert_eq!(c.table.columns[col("val/loss")].same_as, None);
    let val_acc = col("val_acc");
    insta::assert_snapshot!("compare_sweep_80x24", render(&mut app, 80, 24));
    // One `l` from val_acc steps over the hidden best_val_acc to val/loss;
    // sorting by it puts the winning lr on top.
    assert_eq!(app.compare().unwrap().column, val_acc);
    press(&mut app, "l");
    let c = app.compare().unwrap();
    assert_eq!(c.table.columns[c.column].name, "val/loss");
    press(&mut app, "s");
    let c = app.compare().unwrap();
    assert_eq!(c.table.names[0], "lr3e-4_s0");
    // The curves moved with the rows: row 0's val/loss curve is lr3e-4_s0's.
    let (name, per_run) = &c.series[c.series.iter().position(|s| s.0 == "val/loss").unwrap()];
    assert_eq!(name, "val/loss");
    let last = per_run[0].as_ref().unwrap().last().unwrap().1;
    assert_eq!(last, loss("3e-4", 0, 2000));
    press(&mut app, "a");
    insta::assert_snapshot!("compare_sweep_160x45", render(&mut app, 160, 45));
    // Enter opens the selected row's run in the tree.
    press(&mut app, "j\n");
    assert!(app.compare().is_none());
    assert!(
        label(&app).ends_with(&app_run_of(&app, 1)),
        "{}",
        label(&app)
    );
}

/// The run folder name sorted to row `r` by val/loss (recomputed from the
/// fixture's formula, not read from the app).
fn app_run_of(_app: &Yard, r: usize) -> String {
    let mut runs: Vec<(f64, String)> = (0..12u32)
        .filter(|i| LRS[*i as usize % 4] != "1e-2")
        .map(|i| {
            let (lr, seed) = (LRS[i as usize % 4], i / 4);
            (
                loss(lr, seed, 2000),
                format!("2026-01-{:02}_09-00-00_lr{lr}_s{seed}", 10 + i),
            )
        })
        .collect();
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    runs[r].1.clone()
}

#[test]
fn zoomed_compare_chart_has_a_legend_and_highlights_one_run() {
    let (_tmp, root) = sweep();
    let mut app = compare_sweep(&root);
    while app.compare().unwrap().series[app.compare().unwrap().chart].0 != "val/loss" {
        press(&mut app, "m");
    }
    press(&mut app, "z");
    let v = app.zoomed().expect("z zooms the overlaid chart");
    assert_eq!(v.lines.len(), 12);
    assert!(v.under.is_some(), "compare comes back on close");
    // The 1e12 at step 0 squeezes every curve flat; C clips it away.
    press(&mut app, "Cj");
    let v = app.zoomed().unwrap();
    assert_eq!(v.options.clip, Some(0.96));
    let screen = render(&mut app, 120, 40);
    assert!(screen.contains("clipped to 2–98%"), "{screen}");
    for glyph in ["●", "▲", "■", "◆"] {
        assert!(screen.contains(glyph), "legend glyph {glyph}: {screen}");
    }
    insta::assert_snapshot!("compare_zoom_120x40", screen);
    press(&mut app, "v");
    assert_eq!(app.zoomed().unwrap().highlight, None);
    press(&mut app, "\x1b");
    assert!(app.compare().is_some(), "Esc goes back to compare");
}

/// The raw values and TensorBoard's smoothing of the sweep's val/loss for
/// one run, computed from the file's text here.
fn file_curve(root: &Path, run: &str) -> Vec<(f64, f64, f64)> {
    let text = std::fs::read_to_string(
        root.join("experiments/cifar/resnet")
            .join(run)
            .join("metrics/val_metrics.csv"),
    )
    .unwrap();
    let (w, mut last, mut n) = (0.9f64, 0.0, 0);
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split(',');
            let step: f64 = f.next()?.parse().ok()?;
            let v: f64 = f.next()?.parse().ok()?;
            v.is_finite().then(|| {
                last = last * w + (1.0 - w) * v;
                n += 1;
                (step, v, last / (1.0 - w.powi(n)))
            })
        })
        .collect()
}

fn readout(screen: &str) -> String {
    screen
        .lines()
        .find(|l| l.starts_with("cursor "))
        .unwrap_or_else(|| panic!("no readout: {screen}"))
        .to_string()
}

#[test]
fn the_zoomed_charts_readout_matches_the_file() {
    let (_tmp, root) = sweep();
    let mut app = app_for(&root);
    let run = "2026-01-11_09-00-00_lr3e-4_s0";
    go(&mut app, &format!("cifar/resnet/{run}"));
    let series = |app: &Yard| {
        let d = app.selected_details().unwrap();
        d.metrics.series[app.chart.series].name.clone()
    };
    while series(&app) != "val/loss" {
        press(&mut app, "m");
    }
    press(&mut app, "z");
    assert!(app.zoomed().is_some());
    // TensorBoard's 0.9; the cursor a tenth of the way in, then 3 right.
    press(&mut app, "SSgLlll");
    let v = app.zoomed().unwrap();
    assert_eq!(v.options.smoothing, 0.9);
    let curve = file_curve(&root, run);
    let (x0, x1) = (curve[0].0, curve.last().unwrap().0);
    let x = x0 + v.cursor * (x1 - x0);
    let &(step, raw, smoothed) = curve
        .iter()
        .min_by(|a, b| (a.0 - x).abs().total_cmp(&(b.0 - x).abs()))
        .unwrap();
    assert_eq!(step, 250.0, "13% of 0–2000 is 260: the nearest step is 250");
    let screen = render(&mut app, 80, 24);
    let line = readout(&screen);
    let want = format!(
        "cursor step {} · raw {} · smoothed {}",
        runyard::fmt::metric(step),
        runyard::fmt::metric(raw),
        runyard::fmt::metric(smoothed)
    );
    assert!(line.starts_with(&want), "{line}\nwant {want}");
    // Above it: the best point, the lowest loss of the file, and how the
    // smoothed loss moved over the last tenth of the steps (1800 to 2000).
    let best = curve.iter().map(|c| c.1).fold(f64::MAX, f64::min);
    let summary = screen
        .lines()
        .find(|l| l.starts_with("★ best"))
        .unwrap_or_else(|| panic!("no best line: {screen}"));
    assert!(
        summary.contains(&format!("best {} at step", runyard::fmt::metric(best))),
        "{summary}"
    );
    let from = curve.iter().find(|c| c.0 >= 1800.0).unwrap().2;
    let to = curve.last().unwrap().2;
    let arrow = if to < from { "↓" } else { "↑" };
    let trend = format!(
        "over the last 10% of step: {} → {} {arrow}",
        runyard::fmt::metric(from),
        runyard::fmt::metric(to)
    );
    assert!(summary.contains(&trend), "{summary}\nwant {trend}");
    // Log scale with the smoothing: the title says both.
    press(&mut app, "Y");
    let screen = render(&mut app, 80, 24);
    assert!(
        screen.lines().next().unwrap().contains("smoothed 0.9"),
        "{screen}"
    );
    assert!(screen.lines().next().unwrap().contains("log"), "{screen}");
    insta::assert_snapshot!("zoom_smoothed_log_cursor_80x24", screen);
    // m: the next series, zoomed with the same settings and cursor.
    let cursor = app.zoomed().unwrap().cursor;
    press(&mut app, "m");
    let v = app.zoomed().unwrap();
    assert_eq!(v.name, "val/acc");
    assert_eq!(
        (v.options.smoothing, v.options.log_y, v.cursor),
        (0.9, true, cursor)
    );
    // Esc: the pane's chart takes the zoomed view's choices.
    press(&mut app, "\x1b");
    assert!(app.zoomed().is_none());
    assert_eq!((app.chart.smoothing, app.chart.log_y), (0.9, true));
}

#[test]
fn log_scale_counts_what_it_leaves_out_and_clipping_tames_an_outlier() {
    let (_tmp, root) = sweep();
    let mut app = app_for(&root);
    let run = "2026-01-13_09-00-00_lr1e-2_s0";
    go(&mut app, &format!("cifar/resnet/{run}"));
    while {
        let d = app.selected_details().unwrap();
        d.metrics.series[app.chart.series].name != "val/loss"
    } {
        press(&mut app, "m");
    }
    press(&mut app, "z");
    let screen = render(&mut app, 100, 30);
    // The 10 rows past step 1500 are NaN: left out, and said.
    assert!(screen.contains("10 NaN/Inf left out"), "{screen}");
    assert!(
        screen.contains("1e12") || screen.contains("1.000e12"),
        "{screen}"
    );
    press(&mut app, "C");
    let screen = render(&mut app, 100, 30);
    let title = screen.lines().next().unwrap();
    assert!(
        title.contains("clipped to 2–98%: 1 outliers on the edge"),
        "{title}"
    );
    // The y axis no longer reaches 1e12: its top tick is a small number.
    assert!(!screen.contains("e12┤"), "{screen}");
}

#[test]
fn chart_settings_stay_with_their_run_unless_pinned() {
    let (_tmp, root) = sweep();
    let mut app = app_for(&root);
    go(&mut app, "cifar/resnet/2026-01-10_09-00-00_lr1e-4_s0");
    press(&mut app, "SY");
    assert_eq!(app.chart.smoothing, 0.6);
    assert!(app.chart.log_y);
    press(&mut app, "k");
    assert_eq!(app.chart.smoothing, 0.0, "the next run starts raw");
    assert!(!app.chart.log_y);
    press(&mut app, "=SY");
    press(&mut app, "j");
    assert_eq!(app.chart.smoothing, 0.6, "pinned: kept while browsing");
    assert!(app.chart.log_y);
    let said = app
        .message
        .as_ref()
        .map(|m| m.0.clone())
        .unwrap_or_default();
    assert!(!said.contains("after the last"), "{said}");
    press(&mut app, "X");
    let said = app.message.as_ref().unwrap().0.clone();
    assert!(said.starts_with("chart: x axis step"), "{said}");
}

fn cli(root: &Path, args: &[&str], columns: Option<&str>) -> std::process::Output {
    let mut cmd = common::runyard_cmd();
    cmd.arg("-C").arg(root).args(args);
    match columns {
        Some(c) => cmd.env("COLUMNS", c),
        None => cmd.env_remove("COLUMNS"),
    };
    cmd.output().unwrap()
}

#[test]
fn cli_compare_picks_columns_filters_rows_and_fits_the_width() {
    let (_tmp, root) = sweep();
    let out = cli(
        &root,
        &[
            "compare",
            "--task",
            "cifar",
            "--columns",
            "optim.*,val/*",
            "--json",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["config"], serde_json::json!(["optim.lr"]));
    let names: Vec<&str> = doc["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["val/loss", "val/acc"]);
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 12);
    for r in runs {
        let run = r["run"].as_str().unwrap();
        let lr = run.rsplit("_lr").next().unwrap().split('_').next().unwrap();
        let written: f64 = r["config"][0].as_str().unwrap().parse().unwrap();
        assert_eq!(written, lr.parse::<f64>().unwrap(), "{r}");
        assert_eq!(r["values"].as_array().unwrap().len(), 2);
    }

    // --where keeps one learning rate; 3e-4 matches 0.0003 as a number.
    let out = cli(
        &root,
        &[
            "compare",
            "--task",
            "cifar",
            "--where",
            "optim.lr=3e-4",
            "--csv",
        ],
        None,
    );
    assert!(out.status.success());
    let mut rd = csv::Reader::from_reader(out.stdout.as_slice());
    let header = rd.headers().unwrap().clone();
    let lr = header
        .iter()
        .position(|h| h == "optim.lr")
        .expect("config in the CSV");
    assert_eq!(&header[0], "run");
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r[lr].parse::<f64>().unwrap() == 3e-4));

    // At 80 columns the table fits, says what it left out, and keeps the
    // name, status and learning rate.
    let out = cli(&root, &["compare", "--task", "cifar"], Some("80"));
    let text = String::from_utf8(out.stdout).unwrap();
    for line in text.lines().take(13) {
        assert!(line.chars().count() <= 80, "{line:?}");
    }
    assert!(text.lines().next().unwrap().contains("optim.lr"), "{text}");
    assert!(text.contains("left out to fit 80 columns"), "{text}");
    assert!(
        text.lines().nth(1).unwrap().starts_with("lr1e-2_s2 "),
        "{text}"
    );
    // Wide, nothing is left out.
    let out = cli(&root, &["compare", "--task", "cifar"], Some("300"));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("left out"), "{text}");
    assert!(text.contains("best_val_acc"), "{text}");

    // Mistakes name what there is.
    let out = cli(
        &root,
        &["compare", "--task", "cifar", "--where", "lr~1"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("KEY=VALUE"));
    let out = cli(
        &root,
        &["compare", "--task", "cifar", "--where", "optim.momentum=1"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("optim.lr"));
    let out = cli(
        &root,
        &["compare", "--task", "cifar", "--columns", "train/*"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("val/loss"));
}

#[test]
fn slash_filters_compare_rows_and_the_chart_follows() {
    let (_tmp, root) = sweep();
    let mut app = compare_sweep(&root);
    press(&mut app, "/3e-4");
    assert_eq!(app.mode(), runyard::tui::keymap::Mode::CompareFilter);
    press(&mut app, "\n");
    let c = app.compare().unwrap();
    let shown: Vec<&str> = c
        .visible()
        .iter()
        .map(|&r| c.table.names[r].as_str())
        .collect();
    assert_eq!(shown.len(), 3, "{shown:?}");
    assert!(shown.iter().all(|n| n.starts_with("lr3e-4")), "{shown:?}");
    // The selection is on a kept row, and j/k stay among them.
    assert!(c.visible().contains(&c.row));
    press(&mut app, "jjjj");
    let c = app.compare().unwrap();
    assert_eq!(c.row, *c.visible().last().unwrap());
    let screen = render(&mut app, 100, 30);
    assert!(screen.contains("filter /3e-4 (3 shown)"), "{screen}");
    assert!(!screen.contains("lr1e-2_s0"), "{screen}");
    // The zoomed chart draws the kept rows only.
    press(&mut app, "z");
    let drawn = app
        .zoomed()
        .unwrap()
        .lines
        .iter()
        .filter(|l| !l.points.is_empty())
        .count();
    assert_eq!(drawn, 3);
    press(&mut app, "\x1b");
    // Words combine; a config value matches too; Esc clears.
    press(&mut app, "/");
    press(&mut app, "\x1b");
    assert_eq!(app.compare().unwrap().visible().len(), 12);
    press(&mut app, "/failed seed=2\n");
    let c = app.compare().unwrap();
    let shown: Vec<&str> = c
        .visible()
        .iter()
        .map(|&r| c.table.names[r].as_str())
        .collect();
    assert_eq!(shown, vec!["lr1e-2_s2"]);
}

#[test]
fn the_zoomed_chart_draws_at_any_size() {
    let (_tmp, root) = sweep();
    let mut app = compare_sweep(&root);
    press(&mut app, "z");
    assert!(app.zoomed().is_some());
    for (w, h) in [
        (1, 1),
        (19, 5),
        (20, 6),
        (24, 7),
        (40, 9),
        (80, 10),
        (300, 80),
    ] {
        let screen = render(&mut app, w, h);
        assert_eq!(screen.lines().count(), h as usize, "{w}×{h}");
    }
    press(&mut app, "\x1bjjz");
    let screen = render(&mut app, 20, 6);
    assert!(!screen.is_empty());
}
