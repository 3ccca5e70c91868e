//! `?` in every view, and the plan popup, at the size people use over SSH
//! (80×24): each view's keys lead, the help scrolls like a pane, closing it
//! returns to the view it was opened over.

use crate::common;
use crate::tui::{SEED42, app_for, go, press, render};

use runyard::tui::keymap::Action;
use runyard::tui::msg::Msg;
use runyard::tui::overlay::Overlay;

/// The help's first line inside its border.
fn help_heading(screen: &str) -> String {
    screen.lines().nth(1).unwrap_or_default().to_string()
}

#[test]
fn help_in_the_tree_leads_with_the_tree_and_scrolls_to_the_legend() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    press(&mut app, "?");
    let screen = render(&mut app, 80, 24);
    assert!(
        help_heading(&screen).contains("The tree — this view"),
        "{screen}"
    );
    insta::assert_snapshot!("help_tree_80x24", screen);
    // End shows the legend, with the position at the top right.
    app.send(Msg::Key(Action::Bottom));
    let screen = render(&mut app, 80, 24);
    for sym in ["●", "◌", "✓", "✗", "⚠", "◇", "⚑", "*", "↯"] {
        assert!(screen.contains(&format!("  {sym} ")), "{sym}: {screen}");
    }
    let top = screen.lines().next().unwrap();
    assert!(top.contains(" of ") && top.contains("–"), "{top}");
    app.send(Msg::Key(Action::Top));
    let screen = render(&mut app, 80, 24);
    assert!(help_heading(&screen).contains("The tree"), "{screen}");
    press(&mut app, "\x1b");
    assert!(app.overlay.is_none());
}

#[test]
fn help_in_the_metrics_pane_leads_with_scrolling_and_the_chart() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    go(&mut app, SEED42);
    press(&mut app, "\t\t?");
    let screen = render(&mut app, 80, 24);
    assert!(
        help_heading(&screen).contains("A focused pane (Tab) — this view"),
        "{screen}"
    );
    let chart = screen.find("The chart (metrics pane)").expect("chart keys");
    let tree = screen.find("The tree").unwrap_or(usize::MAX);
    assert!(chart < tree, "{screen}");
    insta::assert_snapshot!("help_metrics_80x24", screen);
}

#[test]
fn help_over_compare_and_the_plan_goes_back_to_them() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    // The crnn model: compare its runs, ask for help, close it.
    go(&mut app, "ocr/crnn");
    press(&mut app, "c");
    assert!(app.compare().is_some());
    press(&mut app, "?");
    let screen = render(&mut app, 80, 24);
    assert!(
        help_heading(&screen).contains("Runs side by side (c) — this view"),
        "{screen}"
    );
    insta::assert_snapshot!("help_compare_80x24", screen);
    press(&mut app, "\x1b");
    assert!(app.compare().is_some(), "back to the comparison");
    press(&mut app, "\x1b");
    // The plan: ? then Esc keeps it open, unchanged.
    press(&mut app, "d");
    assert!(app.confirm().is_some());
    press(&mut app, "?");
    assert!(matches!(app.overlay, Some(Overlay::Help(_))));
    let screen = render(&mut app, 80, 24);
    assert!(
        help_heading(&screen).contains("A plan to confirm (d, P, D) — this view"),
        "{screen}"
    );
    press(&mut app, "\x1b");
    assert!(app.confirm().is_some(), "back to the plan");
}

#[test]
fn a_plan_at_80x24_is_grouped_by_run_and_scrolls_to_its_total() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    // The ocr task: four runs, two paths each.
    go(&mut app, "ocr");
    press(&mut app, "d");
    let plan = app.confirm().expect("the plan").plan.clone();
    assert_eq!(plan.targets.len(), 8);
    let screen = render(&mut app, 80, 24);
    insta::assert_snapshot!("plan_grouped_80x24", screen);
    // One line per run, each path below it on one line: no path wraps.
    assert!(
        screen.contains("ocr/crnn/2025-12-04_14-32-10_seed42  tmp/, cache/ · 7 files"),
        "{screen}"
    );
    assert!(!screen.contains("experiments/ocr"), "{screen}");
    // The total leads; the position says there is more below.
    assert!(
        screen.contains("112 KiB freed in 4 runs (8 paths, 19 files)."),
        "{screen}"
    );
    assert!(screen.contains(" 1–18 of 19 "), "{screen}");
    press(&mut app, "G");
    let screen = render(&mut app, 80, 24);
    assert!(
        screen.contains("Total: 112 KiB freed in 4 runs"),
        "{screen}"
    );
    assert!(screen.contains(" 2–19 of 19 "), "{screen}");
    press(&mut app, "g");
    let screen = render(&mut app, 80, 24);
    assert!(screen.contains("freed in 4 runs (8 paths, "), "{screen}");
}

#[test]
fn help_over_the_filter_and_a_plot_goes_back_to_them() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    press(&mut app, "/crnn?");
    let screen = render(&mut app, 80, 24);
    assert!(
        help_heading(&screen).contains("Typing a filter (/) — this view"),
        "{screen}"
    );
    press(&mut app, "\x1b");
    assert!(app.overlay.is_none());
    assert!(app.tree.filtering, "still typing the filter");
    assert_eq!(app.tree.query, "crnn", "the ? was not typed");
    press(&mut app, "\n\x1b");
    // A plot full screen.
    go(&mut app, SEED42);
    press(&mut app, "o");
    assert!(app.viewer().is_some());
    press(&mut app, "?");
    let screen = render(&mut app, 80, 24);
    assert!(
        help_heading(&screen).contains("A plot full screen (o) — this view"),
        "{screen}"
    );
    press(&mut app, "q");
    assert!(app.viewer().is_some(), "back to the plot");
}

#[test]
fn nothing_to_clean_says_why_in_the_explorers_words() {
    let (_tmp, root) = common::demo_copy();
    let run = root.join("experiments/ocr/crnn/2025-12-04_14-32-10_seed42");
    let mut app = app_for(&root);
    // The run writes now: it is active, and the explorer leaves it alone.
    common::write(&run.join("tmp/step.log"), b"training");
    press(&mut app, "r");
    go(&mut app, SEED42);
    press(&mut app, "d");
    assert!(app.confirm().is_none());
    let msg = &app.message.as_ref().expect("a message").0;
    assert!(
        msg.starts_with("no tmp/ or cache/ to delete: 2025-12-04_14-32-10_seed42 is active (written within 10 minutes): the explorer leaves it alone until it is idle"),
        "{msg}"
    );
    assert!(!msg.contains("--force"), "{msg}");
}
