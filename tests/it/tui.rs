//! The explorer without a terminal: keystroke journeys through `update`, and
//! snapshots of frames drawn on ratatui's `TestBackend`.

use crate::common;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use runyard::catalog::{Catalog, SortKey};
use runyard::tui::app::{App, Settings};
use runyard::tui::effects::{Env, perform};
use runyard::tui::keymap;
use runyard::tui::keymap::Action;
use runyard::tui::msg::{Msg, Request};
use runyard::tui::theme::Theme;
use runyard::tui::tree::{Node, NodeId};
use runyard::tui::{ui, update::update};

/// The explorer with the real effect runner inline: every request `update`
/// returns is performed by `effects::perform` and its answers are fed back,
/// until nothing is left to do. What the event loop does itself (clipboard,
/// pager, watcher) is recorded instead.
pub(crate) struct Yard {
    app: App,
    env: Env,
    /// Text the explorer put on the clipboard.
    copied: Vec<String>,
    /// Notes and plots the explorer asked to open.
    opened: Vec<PathBuf>,
    /// Read the tracker and layout notes when asked (off: snapshots show
    /// the tree as it is before they land).
    read_notes: bool,
}

impl std::ops::Deref for Yard {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

impl Yard {
    /// Sends a message and settles: performs what it asks, feeds the answers back.
    pub(crate) fn send(&mut self, msg: Msg) {
        let reqs = update(&mut self.app, msg);
        self.run(reqs);
    }

    /// Performs requests and everything that follows from them.
    fn run(&mut self, reqs: Vec<Request>) {
        let mut queue: VecDeque<Request> = reqs.into();
        while let Some(req) = queue.pop_front() {
            let mut answers = Vec::new();
            match req {
                Request::Copy(text) => self.copied.push(text),
                Request::OpenNote(p) => self.opened.push(p),
                Request::OpenExternal(_, ref p) => {
                    self.opened.push(p.clone());
                    perform(req, &self.env, &mut |m| {
                        answers.push(m);
                        true
                    });
                }
                // The user's cache folder is not the tests' to write.
                Request::Watch(_) | Request::SaveCache(..) => {}
                Request::Notes(..) if !self.read_notes => {}
                req => perform(req, &self.env, &mut |m| {
                    answers.push(m);
                    true
                }),
            }
            for m in answers {
                queue.extend(update(&mut self.app, m));
            }
        }
    }
}

/// An app over `root`, fully scanned, with every file it asks for loaded,
/// and a fixed clock so ages in snapshots do not drift.
pub(crate) fn app_for(root: &Path) -> Yard {
    let mut settings = Settings::new(jiff::SignedDuration::from_mins(10), Theme::new(true));
    settings.tz = jiff::tz::TimeZone::UTC;
    // As the CLI gives it; read only in tests that let the runner read notes.
    settings.tracker = Some(runyard::tracker::find_tracker(root, None));
    let mut y = Yard {
        app: App::new(Catalog::new(root), settings),
        env: Env::default(),
        copied: Vec::new(),
        opened: Vec::new(),
        read_notes: false,
    };
    y.send(Msg::Tick(
        Instant::now(),
        "2026-11-26T12:00:00Z".parse().unwrap(),
    ));
    y.run(vec![Request::Scan {
        root: root.to_path_buf(),
        generation: 0,
    }]);
    y
}

/// Presses keys as the event loop would: through the keymap, in the app's mode.
pub(crate) fn press(app: &mut Yard, keys: &str) {
    for c in keys.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\x1b' => KeyCode::Esc,
            '\t' => KeyCode::Tab,
            c => KeyCode::Char(c),
        };
        let mods = if c.is_ascii_uppercase() {
            KeyModifiers::SHIFT
        } else {
            KeyModifiers::NONE
        };
        let event = KeyEvent::new(code, mods);
        if let Some(a) = keymap::dispatch(&app.settings.bindings, app.mode(), &event) {
            app.send(Msg::Key(a));
        }
    }
}

/// Draws a frame, tells the app what it measured, draws again, and returns
/// the frame as text, temp paths masked.
pub(crate) fn render(app: &mut Yard, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut report = Default::default();
    term.draw(|f| report = ui::draw(f, &app.app)).unwrap();
    app.send(Msg::Drawn(report));
    term.draw(|f| report = ui::draw(f, &app.app)).unwrap();
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    // The temp dir differs from test to test, the scan time from run to run.
    let root = app.catalog.root.to_string_lossy().into_owned();
    out.replace(&root, "[ROOT]")
        .lines()
        .map(|l| match l.find("scanned ") {
            Some(i) => format!("{}[scan stats]", &l[..i]),
            None => mask_seconds(l),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Masks a duration such as `0.1s` left visible at the end of the status
/// line when a popup covers the rest of the scan statistics (it varies
/// with the machine's load).
fn mask_seconds(line: &str) -> String {
    let trimmed = line.trim_end();
    let Some(end) = trimmed
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_ascii_digit() || c == '.' || c == 's'))
        .map(|(i, c)| i + c.len_utf8())
    else {
        return line.to_string();
    };
    let tail = &trimmed[end..];
    let is_time = tail.len() >= 3
        && tail.ends_with('s')
        && tail[..tail.len() - 1].contains('.')
        && tail[..tail.len() - 1]
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.');
    if is_time {
        format!("{}[t]{}", &line[..end], &line[trimmed.len()..])
    } else {
        line.to_string()
    }
}

fn selected_label(app: &App) -> String {
    match app.selected_node() {
        Some(Node::Run(k)) => app.catalog.runs[k].label(),
        Some(Node::Model(t, m)) => format!(
            "{}/{}",
            app.catalog.tasks[t].name, app.catalog.tasks[t].models[m].name
        ),
        Some(Node::Task(t)) => app.catalog.tasks[t].name.clone(),
        Some(Node::Root) => "(root)".into(),
        None => String::new(),
    }
}

/// Moves the cursor to the row whose label is `label` (from the top, with
/// `j`, as a user would), so journeys do not count rows.
pub(crate) fn go(app: &mut Yard, label: &str) {
    press(app, "g");
    for _ in 0..app.tree.rows.len() {
        if selected_label(app) == label {
            return;
        }
        press(app, "j");
    }
    panic!("no row {label}");
}

pub(crate) const SEED42: &str = "ocr/crnn/2025-12-04_14-32-10_seed42";

#[test]
fn main_screen_snapshot() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    go(&mut app, SEED42);
    assert_eq!(selected_label(&app), "ocr/crnn/2025-12-04_14-32-10_seed42");
    insta::assert_snapshot!("main_screen", render(&mut app, 130, 42));
}

#[test]
fn help_overlay_snapshot() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    press(&mut app, "?");
    let screen = render(&mut app, 110, 48);
    assert!(
        screen.contains("show the run's plots full screen"),
        "{screen}"
    );
    insta::assert_snapshot!("help_overlay", screen);
    press(&mut app, "\x1b");
    assert!(app.overlay.is_none());
}

#[test]
fn filter_snapshot_and_latest_within_it() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    press(&mut app, "/vit");
    assert!(app.tree.filtering);
    insta::assert_snapshot!("filter_vit", render(&mut app, 110, 24));
    // Only vit-small runs are shown; L picks the latest of them.
    let runs: Vec<String> = app
        .tree
        .rows
        .iter()
        .filter_map(|r| {
            if let Node::Run(k) = r.node {
                Some(app.catalog.runs[k].label())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        runs,
        [
            "ocr/vit-small/2025-12-09_11-02-33_lr1e-4",
            "ocr/vit-small/2025-12-08_18-45-12_lr3e-4"
        ]
    );
    press(&mut app, "\nL");
    assert_eq!(
        selected_label(&app),
        "ocr/vit-small/2025-12-09_11-02-33_lr1e-4"
    );
    assert!(
        app.message
            .as_ref()
            .unwrap()
            .0
            .contains("ocr/vit-small/2025-12-09_11-02-33_lr1e-4")
    );
    // Esc clears the filter; the selection stays on the same run.
    press(&mut app, "\x1b");
    assert!(app.tree.query.is_empty());
    assert_eq!(
        selected_label(&app),
        "ocr/vit-small/2025-12-09_11-02-33_lr1e-4"
    );
    // Notes match by words: only the failed crnn run's notes mention memory.
    press(&mut app, "\x1b/out of memory");
    let shown: Vec<String> = app
        .tree
        .rows
        .iter()
        .filter_map(|r| {
            if let Node::Run(k) = r.node {
                Some(app.catalog.runs[k].label())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(shown, ["ocr/crnn/2025-12-06_09-10-00_seed7"]);
}

#[test]
fn malformed_run_snapshot() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    press(&mut app, "jjj");
    assert_eq!(selected_label(&app), "debug/tiny/2025-12-10_07-30-00_smoke");
    let screen = render(&mut app, 120, 36);
    assert!(
        screen.contains("⚠ run_info.json: not valid JSON"),
        "{screen}"
    );
    assert!(
        screen.contains("⚠ metrics/val_metrics.csv: line 3"),
        "{screen}"
    );
    insta::assert_snapshot!("malformed_run", screen);
}

#[test]
fn latest_jumps_within_the_selected_task_or_model() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    // At startup the cursor is on the root row: the latest run of the whole tree.
    assert_eq!(selected_label(&app), "(root)");
    press(&mut app, "L");
    assert_eq!(selected_label(&app), "debug/tiny/2025-12-10_07-30-00_smoke");
    // From a run: the whole tree.
    press(&mut app, "L");
    assert_eq!(selected_label(&app), "debug/tiny/2025-12-10_07-30-00_smoke");
    // On the ocr task: its latest run.
    go(&mut app, "ocr");
    press(&mut app, "L");
    assert_eq!(
        selected_label(&app),
        "ocr/vit-small/2025-12-09_11-02-33_lr1e-4"
    );
    // On ocr/crnn: the latest crnn run, even when the model was folded.
    go(&mut app, "ocr/crnn");
    press(&mut app, "\n");
    assert!(!app.tree.rows[app.tree.selected].open);
    press(&mut app, "L");
    assert_eq!(selected_label(&app), "ocr/crnn/2025-12-06_09-10-00_seed7");
}

#[test]
fn sort_then_select_keeps_the_selection_on_its_run() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    go(&mut app, SEED42);
    let before = selected_label(&app);
    press(&mut app, "s");
    assert_eq!(app.tree.sort, SortKey::Size);
    assert_eq!(
        selected_label(&app),
        before,
        "re-sorting never changes what is selected"
    );
    // By size, the biggest task comes first (under the root row).
    press(&mut app, "gj");
    assert_eq!(selected_label(&app), "ocr");
    press(&mut app, "ss");
    assert_eq!(app.tree.sort, SortKey::KeyMetric);
    // By key metric: within vit-small the better val/acc first.
    let vit: Vec<String> = app
        .tree
        .rows
        .iter()
        .filter_map(|r| {
            if let Node::Run(k) = r.node {
                Some(app.catalog.runs[k].label())
            } else {
                None
            }
        })
        .filter(|l| l.contains("vit-small"))
        .collect();
    assert_eq!(vit[0], "ocr/vit-small/2025-12-09_11-02-33_lr1e-4");
    press(&mut app, "s");
    assert_eq!(app.tree.sort, SortKey::Time);
}

#[test]
fn resize_down_to_one_cell_and_back() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    press(&mut app, "jjjj");
    for (w, h) in [
        (1, 1),
        (2, 1),
        (10, 3),
        (39, 9),
        (40, 10),
        (60, 12),
        (200, 60),
    ] {
        let screen = render(&mut app, w, h);
        if w < 40 || h < 10 {
            // Only the (cut) "too small" message, never a squashed layout.
            let first = screen
                .lines()
                .next()
                .unwrap_or("")
                .trim_end()
                .trim_end_matches('…');
            let message = format!("runyard: terminal too small ({w}×{h}, need 40×10)");
            assert!(message.starts_with(first), "{w}x{h}: {screen}");
        }
    }
    let screen = render(&mut app, 120, 30);
    assert!(screen.contains("run_info"));
    assert_eq!(selected_label(&app), "debug/tiny/old-run-backup");
}

#[test]
fn folding_tab_focus_and_mouse() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    let rows = app.tree.rows.len();
    press(&mut app, "jh");
    assert!(app.tree.rows.len() < rows, "h folds the task");
    press(&mut app, "l");
    assert_eq!(app.tree.rows.len(), rows);
    press(&mut app, "\t");
    assert_eq!(app.focus, runyard::tui::app::Focus::Info);
    press(&mut app, "jj");
    assert_eq!(app.panes.info.offset, 2, "j scrolls the focused pane");
    assert_eq!(app.tree.selected, 1, "and leaves the tree alone");
    render(&mut app, 120, 30);
    // A click on the fourth tree row (under the border and the header) selects it.
    let tree = app.areas.tree;
    app.send(Msg::Click(tree.x + 5, tree.y + 5));
    assert_eq!(app.tree.selected, 3);
    assert_eq!(app.focus, runyard::tui::app::Focus::Tree);
    app.send(Msg::Wheel(true, tree.x + 5, tree.y + 5));
    assert_eq!(app.tree.selected, 6);
    // A task has no plots of its own: o says so.
    press(&mut app, "g");
    press(&mut app, "o");
    assert!(app.viewer().is_none());
    assert!(app.message.as_ref().unwrap().0.contains("select a run"));
}

#[test]
fn empty_tree_says_how_to_start() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    std::fs::create_dir_all(root.join("experiments")).unwrap();
    let mut app = app_for(&root);
    let screen = render(&mut app, 100, 20);
    assert!(screen.contains("No runs yet."), "{screen}");
    assert!(screen.contains("experiments/<task>/<model>/<run_id>/"));
}

#[test]
fn hostile_names_are_escaped_on_screen() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    common::write(
        &root.join("experiments/t/m/2025-01-01_00-00-00_x\x1b[2Jboom\n/run_info.json"),
        b"{}",
    );
    let mut app = app_for(&root);
    let screen = render(&mut app, 200, 20);
    assert!(!screen.contains('\x1b'));
    assert!(screen.contains("x\\u{1b}[2Jboom"), "{screen}");
}

#[test]
fn rescan_keeps_the_selection() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    go(&mut app, SEED42);
    let before = selected_label(&app);
    press(&mut app, "r");
    assert_eq!(app.generation, 1);
    assert!(app.catalog.done.is_some());
    assert_eq!(selected_label(&app), before);
}

#[test]
fn readme_key_table_matches_the_keymap() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = keymap::markdown_table(&keymap::bindings());
    assert!(
        readme.contains(&table),
        "README.md's key table is out of date; replace it with:\n{table}"
    );
}

#[test]
fn marks_survive_sort_and_filter_and_cleanup_deletes_for_real() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    let crnn42 = root.join("experiments/ocr/crnn/2025-12-04_14-32-10_seed42");
    let depth8 = root.join("experiments/recsys/xgb-v1/2025-11-22_16-20-05_depth8");
    let vit = root.join("experiments/ocr/vit-small/2025-12-09_11-02-33_lr1e-4");
    // Mark two runs by moving onto them.
    go(&mut app, SEED42);
    assert_eq!(selected_label(&app), "ocr/crnn/2025-12-04_14-32-10_seed42");
    press(&mut app, " ");
    press(&mut app, "G");
    press(&mut app, "k");
    assert_eq!(
        selected_label(&app),
        "recsys/xgb-v1/2025-11-22_16-20-05_depth8"
    );
    press(&mut app, " ");
    assert_eq!(app.marks.len(), 2);
    // Re-sorting and filtering change rows, never marks.
    press(&mut app, "ss/crnn\n");
    assert!(app.marks.contains(&crnn42) && app.marks.contains(&depth8));
    press(&mut app, "d");
    let c = app.confirm().expect("the confirm popup is open");
    assert_eq!(
        c.hidden,
        ["experiments/recsys/xgb-v1/2025-11-22_16-20-05_depth8"]
    );
    let runs: std::collections::BTreeSet<_> =
        c.plan.targets.iter().map(|t| t.run.clone()).collect();
    assert_eq!(runs.len(), 2);
    let screen = render(&mut app, 120, 40);
    assert!(
        screen.contains("marked run is not shown in the tree now"),
        "{screen}"
    );
    insta::assert_snapshot!("confirm_clean", screen);
    // Enter is No.
    press(&mut app, "\n");
    assert!(app.confirm().is_none());
    assert!(crnn42.join("tmp").exists());
    press(&mut app, "dy");
    for r in [&crnn42, &depth8] {
        assert!(
            !r.join("tmp").exists() && !r.join("cache").exists(),
            "{}",
            r.display()
        );
        assert!(r.join("checkpoints/best.pt").exists() || r.join("checkpoints/best.ubj").exists());
    }
    assert!(
        vit.join("tmp").exists() && vit.join("cache").exists(),
        "unmarked runs are untouched"
    );
    assert!(app.marks.is_empty());
    let msg = &app.message.as_ref().unwrap().0;
    assert!(msg.contains("freed (4 paths)"), "{msg}");
    // The rescan after applying shows the new sizes.
    let k = app
        .catalog
        .runs
        .iter()
        .position(|r| r.path == crnn42)
        .unwrap();
    assert_eq!(
        app.catalog.runs[k].usage.as_ref().unwrap().ephemeral().disk,
        0
    );
}

#[test]
fn a_configured_key_metric_changes_the_sort_and_the_best_run() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    go(&mut app, "ocr");
    let screen = render(&mut app, 140, 40);
    assert!(
        screen.contains("best      val/acc 0.91  vit-small/2025-12-09_11-02-33_lr1e-4"),
        "{screen}"
    );
    // Deliberately inverted, so the answer must come from the config.
    let config = runyard::config::Config::parse(
        "[general]\ndefault_sort = \"key-metric\"\n[metrics]\nocr = { name = \"val/acc\", better = \"lower\" }\n[keys]\nrescan = \"F5\"\n",
        Path::new("config.toml"),
    )
    .unwrap();
    app.send(Msg::Configure(Box::new(config)));
    assert_eq!(app.tree.sort, SortKey::KeyMetric);
    let screen = render(&mut app, 140, 40);
    assert!(
        screen.contains("best      val/acc 0.71  vit-small/2025-12-08_18-45-12_lr3e-4"),
        "{screen}"
    );
    assert!(
        screen.contains("runs by val/acc (lower is better)"),
        "{screen}"
    );
    let crnn: Vec<String> = app
        .tree
        .rows
        .iter()
        .filter_map(|r| {
            if let Node::Run(k) = r.node {
                Some(app.catalog.runs[k].label())
            } else {
                None
            }
        })
        .filter(|l| l.starts_with("ocr/crnn"))
        .collect();
    assert_eq!(
        crnn,
        [
            "ocr/crnn/2025-12-06_09-10-00_seed7",
            "ocr/crnn/2025-12-04_14-32-10_seed42"
        ]
    );
    // The rebinding shows in the hint bar, and r is free.
    assert!(screen.contains("F5 rescan"), "{screen}");
    press(&mut app, "r");
    assert_eq!(app.generation, 0);
}

#[test]
fn backlinks_show_on_the_run_and_flag_incident_runs() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    let tracker = root.parent().unwrap().join("experiment-tracker");
    let (_, errors) = runyard::tracker::check_all(&app.catalog, &tracker);
    assert!(errors.is_empty(), "{errors:?}");
    app.read_notes = true;
    let catalog = Box::new(app.catalog.clone());
    app.run(vec![Request::Notes(catalog, Some(tracker))]);
    go(&mut app, "ocr/vit-small/2025-12-08_18-45-12_lr3e-4");
    let screen = render(&mut app, 160, 70);
    assert!(screen.contains("2025-12-08_18-45-12_lr3e-4 ⚑"), "{screen}");
    assert!(
        screen.contains("tracker notes (n opens the first)"),
        "{screen}"
    );
    assert!(
        screen.contains("incident_reports/2025-12-07_vit_divergence.md § Timeline"),
        "{screen}"
    );
    press(&mut app, "n");
    let opened = app.opened.clone();
    assert_eq!(opened.len(), 1);
    assert!(opened[0].ends_with("incident_reports/2025-12-07_vit_divergence.md"));
}

#[test]
fn promote_picker_copies_a_plot_under_a_typed_name() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    go(&mut app, SEED42);
    assert_eq!(selected_label(&app), "ocr/crnn/2025-12-04_14-32-10_seed42");
    let run = root.join("experiments/ocr/crnn/2025-12-04_14-32-10_seed42");
    let before = std::fs::read(run.join("plots/val_acc_curve.png")).unwrap();
    std::fs::write(run.join("model.onnx"), b"onnx").unwrap();

    press(&mut app, "p");
    let screen = render(&mut app, 160, 50);
    assert!(
        screen.contains("artifacts/exports/ocr_crnn_2025-12-04_14-32-10_seed42_model.onnx"),
        "{screen}"
    );
    assert!(screen.contains("promote?"), "{screen}");
    assert!(screen.contains("plots/val_acc_curve.png"), "{screen}");
    assert!(screen.contains("checkpoints/best.pt"), "{screen}");
    // Pruned checkpoints are not offered: only what cleanup would keep.
    assert!(!screen.contains("epoch01_valAcc0.71.pt"), "{screen}");

    // Cancelling changes nothing.
    press(&mut app, "\x1b");
    assert!(app.picker().is_none());
    assert!(app.message.as_ref().unwrap().0.contains("nothing promoted"));

    // Pick the validation-accuracy plot, rename it, promote it.
    press(&mut app, "p");
    let picker = app.picker().unwrap();
    let at = picker
        .items
        .iter()
        .position(
            |(w, _)| matches!(w, runyard::ops::promote::What::Plot(f) if f == "val_acc_curve.png"),
        )
        .expect("the plot is offered");
    for _ in 0..at {
        press(&mut app, "j");
    }
    press(&mut app, "e");
    // The proposed name is in the buffer: clear it, type a new one.
    let proposed = app.picker().unwrap().editing.clone().unwrap();
    assert!(proposed.ends_with(".png"), "{proposed}");
    for _ in 0..proposed.chars().count() {
        app.send(Msg::Key(Action::Backspace));
    }
    press(&mut app, "crnn_val_acc.png\n");
    let picker = app.picker().unwrap();
    assert_eq!(picker.name.as_deref(), Some("crnn_val_acc.png"));
    assert!(
        picker.items[at]
            .1
            .as_ref()
            .unwrap()
            .0
            .ends_with("artifacts/plots/crnn_val_acc.png"),
        "{:?}",
        picker.items[at].1
    );
    // Promoting reads the provenance records again: let the runner read them.
    app.read_notes = true;
    press(&mut app, "y");
    assert!(app.picker().is_none());
    let message = app.message.as_ref().unwrap().0.clone();
    assert!(message.starts_with("promoted: "), "{message}");

    let artifact = root.join("artifacts/plots/crnn_val_acc.png");
    assert_eq!(std::fs::read(&artifact).unwrap(), before);
    // The run pane lists it, read back from the provenance record.
    let screen = render(&mut app, 160, 60);
    assert!(screen.contains("── promoted from this run ──"), "{screen}");
    assert!(
        screen.contains("artifacts/plots/crnn_val_acc.png"),
        "{screen}"
    );
    // A copy, never a move.
    assert_eq!(
        std::fs::read(run.join("plots/val_acc_curve.png")).unwrap(),
        before
    );

    // The same name again never overwrites: the picker shows the free name
    // it will take instead; a name with a slash is refused on the spot.
    press(&mut app, "p");
    for _ in 0..at {
        press(&mut app, "j");
    }
    press(&mut app, "e");
    let proposed = app.picker().unwrap().editing.clone().unwrap();
    for _ in 0..proposed.chars().count() {
        app.send(Msg::Key(Action::Backspace));
    }
    press(&mut app, "crnn_val_acc.png\n");
    let dest = app.picker().unwrap().items[at]
        .1
        .as_ref()
        .unwrap()
        .0
        .clone();
    assert!(
        dest.ends_with("artifacts/plots/crnn_val_acc-2.png"),
        "{dest:?}"
    );
    press(&mut app, "e");
    press(&mut app, "/x\n");
    let message = app.message.as_ref().unwrap().0.clone();
    assert!(message.contains("cannot be used"), "{message}");
    press(&mut app, "n");
    assert_eq!(std::fs::read(&artifact).unwrap(), before);
    assert!(!root.join("artifacts/plots/crnn_val_acc-2.png").exists());
}

#[test]
fn runs_that_stray_from_the_layout_are_flagged_with_their_findings() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    app.read_notes = true;
    let catalog = Box::new(app.catalog.clone());
    app.run(vec![Request::Notes(catalog, None)]);
    press(&mut app, "/old-run-backup\njj");
    assert_eq!(selected_label(&app), "debug/tiny/old-run-backup");
    let screen = render(&mut app, 160, 50);
    assert!(screen.contains("old-run-backup ◇"), "{screen}");
    assert!(
        screen.contains("── strays from the layout (runyard check) ──"),
        "{screen}"
    );
    assert!(
        screen.contains("◇ the folder name is not a run id"),
        "{screen}"
    );
    // A run that follows the layout carries no flag.
    assert!(!screen.contains("2025-12-04_14-32-10_seed42 ◇"), "{screen}");
}

#[test]
fn a_plot_opens_full_screen_in_half_blocks_and_esc_returns() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    go(&mut app, SEED42);
    assert_eq!(selected_label(&app), "ocr/crnn/2025-12-04_14-32-10_seed42");
    press(&mut app, "o");
    assert!(app.viewer().is_some());
    // The first frame asks for the image at its size; the next shows it.
    let screen = render(&mut app, 60, 20);
    assert!(screen.contains("confusion_matrix.png"), "{screen}");
    assert!(screen.contains("1/3"), "{screen}");
    assert!(screen.contains('▀') || screen.contains('▄'), "{screen}");
    insta::assert_snapshot!("plot_half_blocks", screen);
    press(&mut app, "j");
    let screen = render(&mut app, 60, 20);
    assert!(screen.contains("train_loss_curve.png"), "{screen}");
    // y copies the plot's path through OSC 52; O hands it to the configured opener.
    press(&mut app, "y");
    let copied = app.copied.clone();
    assert_eq!(copied.len(), 1);
    assert!(
        copied[0].ends_with("plots/train_loss_curve.png"),
        "{copied:?}"
    );
    let config = runyard::config::Config::parse(
        "[general]\nplot_opener = \"true\"\n",
        Path::new("config.toml"),
    )
    .unwrap();
    app.send(Msg::Configure(Box::new(config)));
    press(&mut app, "O");
    let opened = app.opened.clone();
    assert!(
        opened[0].ends_with("plots/train_loss_curve.png"),
        "{opened:?}"
    );
    press(&mut app, "\x1b");
    assert!(app.viewer().is_none());
    assert_eq!(selected_label(&app), "ocr/crnn/2025-12-04_14-32-10_seed42");
    // Outside the viewer, y copies the run's folder.
    press(&mut app, "y");
    let copied = app.copied.clone();
    assert!(
        copied[1].ends_with("experiments/ocr/crnn/2025-12-04_14-32-10_seed42"),
        "{copied:?}"
    );
    assert_eq!(
        runyard::tui::osc52("hi"),
        "\x1b]52;c;aGk=\x07",
        "OSC 52 carries base64"
    );
}

#[test]
fn a_corrupt_png_shows_a_message_not_a_crash() {
    let (_tmp, root) = common::demo_copy();
    let run = root.join("experiments/ocr/crnn/2025-12-04_14-32-10_seed42");
    // A PNG cut short: the header is right, the data is not.
    let good = std::fs::read(run.join("plots/confusion_matrix.png")).unwrap();
    std::fs::write(run.join("plots/a_broken.png"), &good[..good.len() / 3]).unwrap();
    std::fs::write(run.join("plots/b_not_an_image.png"), b"hello").unwrap();
    let mut app = app_for(&root);
    go(&mut app, SEED42);
    press(&mut app, "o");
    let screen = render(&mut app, 100, 20);
    assert!(screen.contains("a_broken.png"), "{screen}");
    assert!(screen.contains("not a valid image"), "{screen}");
    press(&mut app, "j");
    let screen = render(&mut app, 100, 20);
    assert!(screen.contains("b_not_an_image.png"), "{screen}");
    assert!(screen.contains("cannot show"), "{screen}");
    press(&mut app, "j");
    let screen = render(&mut app, 100, 20);
    assert!(screen.contains('▀') || screen.contains('▄'), "{screen}");
}

#[test]
fn compare_marked_runs_sort_by_a_column_and_overlay_a_series() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    // One run alone is not a comparison.
    go(&mut app, SEED42);
    press(&mut app, "c");
    assert!(app.compare().is_none());
    assert!(app.message.as_ref().unwrap().0.contains("mark two runs"));
    // The ocr task: its four runs.
    go(&mut app, "ocr");
    press(&mut app, "c");
    let c = app.compare().expect("the comparison opens");
    assert_eq!(c.table.runs.len(), 4);
    assert!(!c.series.is_empty(), "the runs share series to overlay");
    // Highlight val/loss, sort by it: lowest loss first.
    press(&mut app, "ls");
    let c = app.compare().unwrap();
    assert_eq!(c.table.columns[c.column].name, "val/loss");
    assert_eq!(c.table.runs[0], "ocr/vit-small/2025-12-09_11-02-33_lr1e-4");
    assert_eq!(c.table.runs[3], "ocr/vit-small/2025-12-08_18-45-12_lr3e-4");
    insta::assert_snapshot!("compare_table", render(&mut app, 130, 36));
    press(&mut app, "m");
    assert_eq!(app.compare().unwrap().chart, 1);
    // j/k scroll the runs, never past the last.
    press(&mut app, "jjjjjj");
    assert_eq!(app.compare().unwrap().row, 3);
    press(&mut app, "k");
    assert_eq!(app.compare().unwrap().row, 2);
    press(&mut app, "\x1b");
    assert!(app.compare().is_none());
    assert_eq!(selected_label(&app), "ocr");
}

#[test]
fn a_result_that_lands_under_an_open_view_waits_for_it_to_close() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    go(&mut app, SEED42);
    // Ask for a cleanup plan, and open the help before it is built.
    let asked = update(&mut app.app, Msg::Key(Action::PlanEphemeral));
    assert!(asked.iter().any(|r| matches!(r, Request::Plan(..))));
    press(&mut app, "?");
    app.run(asked);
    assert!(matches!(
        app.overlay,
        Some(runyard::tui::overlay::Overlay::Help(_))
    ));
    let msg = &app.message.as_ref().unwrap().0;
    assert!(msg.contains("opens when this view closes"), "{msg}");
    // Closing the help shows the plan; nothing changed on disk meanwhile.
    press(&mut app, "\x1b");
    assert!(app.confirm().is_some());
    press(&mut app, "n");
    assert!(app.overlay.is_none());
    assert!(
        root.join("experiments/ocr/crnn/2025-12-04_14-32-10_seed42/tmp")
            .exists()
    );
}

#[test]
fn the_promote_picker_is_planned_off_the_ui_thread_and_names_what_it_cannot_copy() {
    let (_tmp, root) = common::demo_copy();
    let run = root.join("experiments/ocr/crnn/2025-12-04_14-32-10_seed42");
    std::os::unix::fs::symlink("/etc/hostname", run.join("model.onnx")).unwrap();
    let mut app = app_for(&root);
    go(&mut app, SEED42);
    // `p` only asks: the candidates are planned by the runner.
    let asked = update(&mut app.app, Msg::Key(Action::OpenPromote));
    assert!(app.picker().is_none());
    assert!(
        matches!(asked.as_slice(), [Request::PlanPromote { .. }]),
        "{asked:?}"
    );
    let screen = render(&mut app, 120, 30);
    assert!(screen.contains("planning what to promote…"), "{screen}");
    app.run(asked);
    let picker = app.picker().expect("the picker opens once planned");
    let (_, why) = picker
        .items
        .iter()
        .find(|(w, _)| matches!(w, runyard::ops::promote::What::Export(f) if f == "model.onnx"))
        .expect("the link is offered, not dropped");
    // The reason comes apart from the path: the row names the file already.
    let Err(runyard::ops::promote::PromoteError::Refused { path, reason }) = why else {
        panic!("a link is refused: {why:?}");
    };
    assert!(path.ends_with("model.onnx"), "{path:?}");
    assert!(reason.contains("symbolic link"), "{reason}");
    let reason = reason.clone();
    let screen = render(&mut app, 160, 40);
    assert!(
        screen.contains("model.onnx") && screen.contains(&format!("cannot be promoted: {reason}")),
        "{screen}"
    );
}

/// Dates every file and folder under `dir` an hour back, so the runs are
/// idle (plans leave active runs alone).
fn backdate(dir: &Path) {
    let old = std::fs::FileTimes::new()
        .set_modified(common::idle_time())
        .set_accessed(common::idle_time());
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        }
        std::fs::File::open(&p).unwrap().set_times(old).unwrap();
    }
    // Children first changed their folders' times: date the folders again.
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(p) = dirs.pop() {
        std::fs::File::open(&p).unwrap().set_times(old).unwrap();
        for e in std::fs::read_dir(&p).unwrap() {
            let e = e.unwrap().path();
            if e.is_dir() {
                dirs.push(e);
            }
        }
    }
}

#[test]
fn main_screen_at_three_sizes() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    // The first screen: the root row selected.
    insta::assert_snapshot!("main_80x24_root", render(&mut app, 80, 24));
    go(&mut app, SEED42);
    let small = render(&mut app, 80, 24);
    // The run's tag is whole, the key metric and size columns are there.
    assert!(small.contains("12-04_14-32-10_seed42"), "{small}");
    assert!(small.contains("0.87"), "{small}");
    insta::assert_snapshot!("main_80x24_run", small);
    // Tab shows the metrics pane in the shared place: key metrics and the chart.
    press(&mut app, "\t\t");
    let metrics = render(&mut app, 80, 24);
    assert!(metrics.contains("key  val/acc 0.87"), "{metrics}");
    assert!(
        metrics.contains("scroll"),
        "the hint line shows the pane's keys: {metrics}"
    );
    insta::assert_snapshot!("main_80x24_metrics_tab", metrics);
    press(&mut app, "h");
    let mid = render(&mut app, 120, 40);
    // At 120 columns the key metric column is visible (s can sort by it).
    assert!(mid.contains("metric") && mid.contains("0.87"), "{mid}");
    insta::assert_snapshot!("main_120x40_run", mid);
    insta::assert_snapshot!("main_200x50_run", render(&mut app, 200, 50));
    go(&mut app, "ocr/crnn");
    insta::assert_snapshot!("main_80x24_model", render(&mut app, 80, 24));
    // Never more tree columns at 60 than at 120.
    let header = |s: &str| s.lines().nth(1).unwrap_or("").split_whitespace().count();
    let (narrow, wide) = (render(&mut app, 60, 20), render(&mut app, 120, 40));
    assert!(header(&narrow) <= header(&wide), "{narrow}\n{wide}");
}

#[test]
fn filter_by_segments_counts_and_starts_at_the_top() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    go(&mut app, "recsys/xgb-v1/2025-11-20_10-00-00_baseline");
    // ocr/vit: only vit-small runs of the ocr task.
    press(&mut app, "/ocr/vit");
    let shown: Vec<String> = app
        .shown_runs()
        .map(|k| app.catalog.runs[k].label())
        .collect();
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(shown.iter().all(|l| l.starts_with("ocr/vit-small/")));
    press(&mut app, "\n");
    // The view from the top: the root, task and model rows above the first match.
    assert_eq!(app.tree.offset, 0);
    assert_eq!(
        selected_label(&app),
        "ocr/vit-small/2025-12-09_11-02-33_lr1e-4"
    );
    let screen = render(&mut app, 80, 24);
    assert!(screen.contains("filter: 2 of 9 runs"), "{screen}");
    insta::assert_snapshot!("filter_segments_80x24", screen);
    // A run found by its notes says by which words.
    press(&mut app, "\x1b/punctuation\n");
    let shown: Vec<String> = app
        .shown_runs()
        .map(|k| app.catalog.runs[k].label())
        .collect();
    assert_eq!(shown, [SEED42]);
    let screen = render(&mut app, 200, 50);
    assert!(screen.contains("notes: punctuation"), "{screen}");
    // seed4 found whole in seed42 hides the scattered match in seed14-like ids.
    press(&mut app, "\x1b/seed4\n");
    let shown: Vec<String> = app
        .shown_runs()
        .map(|k| app.catalog.runs[k].label())
        .collect();
    assert_eq!(shown, [SEED42]);
}

#[test]
fn root_row_marks_everything_and_task_rows_show_partial_marks() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    go(&mut app, SEED42);
    press(&mut app, " ");
    // Marking moves down, on every row.
    assert_eq!(selected_label(&app), "preproc");
    go(&mut app, "ocr");
    let node = app.selected_node().unwrap();
    assert_eq!(app.marked_under(node), (1, 4));
    let screen = render(&mut app, 80, 24);
    assert!(screen.contains("+ ocr (4 · 1 marked)"), "{screen}");
    assert!(screen.contains("1 marked"), "{screen}");
    // On the root: every run; again: none.
    press(&mut app, "g ");
    assert_eq!(app.marks.len(), 9);
    assert_eq!(selected_label(&app), "debug", "and moves down");
    press(&mut app, "g ");
    assert!(app.marks.is_empty());
    // Marks hidden by the filter are said so, whole, at 80 columns.
    go(&mut app, SEED42);
    press(&mut app, " ");
    press(&mut app, "/vit\n");
    let screen = render(&mut app, 80, 24);
    assert!(
        screen.contains("1 marked (1 hidden by the filter)"),
        "{screen}"
    );
}

#[test]
fn sort_orders_tasks_too_and_reverses() {
    let (_tmp, root) = common::demo_copy();
    let mut app = app_for(&root);
    let tasks = |app: &Yard| -> Vec<String> {
        app.tree
            .rows
            .iter()
            .filter_map(|r| match r.node {
                Node::Task(t) => Some(app.catalog.tasks[t].name.clone()),
                _ => None,
            })
            .collect()
    };
    // By time: the task with the newest run first.
    assert_eq!(tasks(&app), ["debug", "ocr", "preproc", "recsys"]);
    press(&mut app, "R");
    assert_eq!(tasks(&app), ["recsys", "preproc", "ocr", "debug"]);
    assert_eq!(app.message.as_ref().unwrap().0, "sort: time (reversed)");
    press(&mut app, "Rs");
    assert_eq!(tasks(&app), ["ocr", "recsys", "preproc", "debug"]);
}

#[test]
fn trashing_many_runs_asks_for_the_count_and_the_cursor_stays_near() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("outputs");
    for i in 1..=12 {
        common::write(
            &root.join(format!(
                "experiments/t/many/2025-01-{i:02}_00-00-00/log.txt"
            )),
            b"x",
        );
    }
    for i in 1..=2 {
        common::write(
            &root.join(format!("experiments/t/few/2025-02-{i:02}_00-00-00/log.txt")),
            b"x",
        );
    }
    backdate(&root);
    let mut app = app_for(&root);
    go(&mut app, "t/many");
    press(&mut app, "D");
    assert!(app.confirm().is_some());
    let gate = app
        .count_gate
        .clone()
        .expect("12 runs: the count must be typed");
    assert_eq!(gate.need, 12);
    // y is not enough, nor a wrong count.
    press(&mut app, "y\n");
    assert!(app.confirm().is_some());
    press(&mut app, "13\n");
    assert!(app.confirm().is_some());
    assert!(root.join("experiments/t/many/2025-01-01_00-00-00").exists());
    let screen = render(&mut app, 80, 24);
    assert!(
        screen.contains("type 12 then Enter to trash 12 runs"),
        "{screen}"
    );
    press(&mut app, "\x1b");
    assert!(app.confirm().is_none() && app.count_gate.is_none());
    press(&mut app, "D");
    // Backspace mends a typo.
    press(&mut app, "13");
    app.send(Msg::Key(Action::Backspace));
    press(&mut app, "2\n");
    assert!(app.confirm().is_none());
    assert!(!root.join("experiments/t/many/2025-01-01_00-00-00").exists());
    // The cursor stays near: the last row was the trashed model, so the one above it.
    assert_eq!(selected_label(&app), "t/few/2025-02-01_00-00-00");
    // Two runs: one y, and the cursor goes to the row after.
    go(&mut app, "t/few/2025-02-02_00-00-00");
    press(&mut app, "Dy");
    assert!(!root.join("experiments/t/few/2025-02-02_00-00-00").exists());
    assert_eq!(selected_label(&app), "t/few/2025-02-01_00-00-00");
}

/// The filter keeps each query's matches and narrows them as the query
/// grows (issue 18): typing letter by letter, with Backspace and a `/`,
/// must show what the same query shows when searched from scratch, marks
/// and the count of marks it hides included.
#[test]
fn a_filter_typed_letter_by_letter_shows_what_a_fresh_search_shows() {
    let (_tmp, root) = common::demo_copy();
    let mut typed = app_for(&root);
    go(&mut typed, SEED42);
    press(&mut typed, " ");
    press(&mut typed, "/s");
    let all_s: Vec<Node> = typed.tree.rows.iter().map(|r| r.node).collect();
    press(&mut typed, "e");
    press(&mut typed, "ed");
    typed.send(Msg::Key(Action::Backspace));
    typed.send(Msg::Key(Action::Backspace));
    typed.send(Msg::Key(Action::Backspace));
    // Back to `s`: the rows it showed before the longer queries.
    let back: Vec<Node> = typed.tree.rows.iter().map(|r| r.node).collect();
    assert_eq!(back, all_s);
    press(&mut typed, "eed4");
    typed.send(Msg::Key(Action::Erase));
    press(&mut typed, "crnn/");
    press(&mut typed, "s4");
    assert_eq!(typed.tree.query, "crnn/s4");
    // Rows by what they name: two scans number runs in the order their
    // threads find them.
    let rows = |y: &Yard| -> Vec<(NodeId, Option<String>)> {
        y.tree
            .rows
            .iter()
            .map(|r| match r.node {
                Node::Run(k) => (r.id(&y.catalog), y.tree.shown.notes.get(&k).cloned()),
                _ => (r.id(&y.catalog), None),
            })
            .collect()
    };
    let mut fresh = app_for(&root);
    go(&mut fresh, SEED42);
    press(&mut fresh, " ");
    fresh.app.tree.query = "crnn/s4".into();
    fresh.app.tree.filtering = true;
    fresh.app.tree.jump_first = true;
    fresh.app.tree.rows_dirty = true;
    fresh.send(Msg::Tick(
        Instant::now(),
        "2026-11-26T12:00:00Z".parse().unwrap(),
    ));
    assert!(
        rows(&typed)
            .iter()
            .any(|(n, _)| matches!(n, NodeId::Run(_))),
        "the query matches runs"
    );
    assert_eq!(rows(&typed), rows(&fresh));
    assert_eq!(typed.marks, fresh.marks);
    assert_eq!(typed.marks_hidden(), fresh.marks_hidden());
    // The screens match but for the status line (the fresh app still says
    // what the mark key did: typing cleared that message in the other).
    let screen = |y: &mut Yard| -> Vec<String> {
        let s = render(y, 120, 40);
        let mut lines: Vec<String> = s.lines().map(str::to_string).collect();
        lines.remove(lines.len() - 2);
        lines
    };
    assert_eq!(screen(&mut typed), screen(&mut fresh));
}

#[test]
fn the_root_and_task_summaries_kept_between_frames_follow_the_filter_and_the_clock() {
    let (_tmp, root) = common::demo_copy();
    // Root and task summaries are kept between frames: each screen must
    // be what an app that never drew them before shows.
    let fresh_screen = |query: &str, now: &str, label: &str| -> String {
        let mut fresh = app_for(&root);
        if !query.is_empty() {
            press(&mut fresh, &format!("/{query}\n"));
        }
        fresh.send(Msg::Tick(Instant::now(), now.parse().unwrap()));
        go(&mut fresh, label);
        render(&mut fresh, 140, 40)
    };
    let mut kept = app_for(&root);
    go(&mut kept, "ocr");
    render(&mut kept, 140, 40);
    press(&mut kept, "g");
    let all = render(&mut kept, 140, 40);
    assert!(all.contains("best      ocr val/acc 0.91"), "{all}");
    // Under a filter the root's best runs are among the runs shown.
    press(&mut kept, "/seed4\n");
    go(&mut kept, "(root)");
    let filtered = render(&mut kept, 140, 40);
    assert_ne!(filtered, all);
    assert_eq!(
        filtered,
        fresh_screen("seed4", "2026-11-26T12:00:00Z", "(root)")
    );
    press(&mut kept, "\x1b");
    go(&mut kept, "(root)");
    assert_eq!(render(&mut kept, 140, 40), all);
    // A clock inside the runs' active window makes them running: the kept
    // counts are not reused across it.
    let early = "2025-12-09T11:05:00Z";
    kept.send(Msg::Tick(Instant::now(), early.parse().unwrap()));
    go(&mut kept, "ocr");
    let ocr = render(&mut kept, 140, 40);
    assert_eq!(ocr, fresh_screen("", early, "ocr"));
    go(&mut kept, "(root)");
    assert_eq!(
        render(&mut kept, 140, 40),
        fresh_screen("", early, "(root)")
    );
}

/// A quiet refresh of a tree nobody added to or took from finds the same
/// runs: the explorer keeps their numbering and what it worked out from
/// them (issue 18: working it out again cost the next keys 150-400 ms on
/// 100,000 runs), whether each run is as it was (taken from the scan
/// cache) or one was walked again; a run gone from disk starts it over.
#[test]
fn a_refresh_of_the_same_runs_keeps_the_tree_as_it_was() {
    use runyard::catalog::cache::ScanCache;
    use runyard::catalog::{self, ScanOptions};
    let (_tmp, root) = common::demo_copy();
    let mut y = app_for(&root);
    press(&mut y, "/seed");
    let rows = y.tree.rows.clone();
    let selected = y.selected_node();
    assert!(rows.len() > 3, "{rows:?}");
    let refresh = |y: &Yard, walk_again: Option<&str>| {
        let now = jiff::Timestamp::now().as_second();
        let mut cache = ScanCache::from_catalog(&y.catalog, now, 600);
        cache
            .runs
            .retain(|rel, _| walk_again.is_none_or(|w| !rel.contains(w)));
        let opts = ScanOptions {
            cache: Some(std::sync::Arc::new(cache)),
            ..ScanOptions::default()
        };
        Box::new(catalog::scan(&root, opts))
    };
    let g = y.generation;
    for walk_again in [None, Some("seed42")] {
        y.send(Msg::Refreshed(g, refresh(&y, walk_again), None, None));
        assert_eq!(
            y.generation, g,
            "{walk_again:?}: the same runs started over"
        );
        assert_eq!(y.tree.rows, rows, "{walk_again:?}");
        assert_eq!(y.selected_node(), selected, "{walk_again:?}");
    }
    // A run that grew, walked again, reads its new size under its key.
    let seed42 = y
        .catalog
        .runs
        .iter()
        .position(|r| r.name.ends_with("seed42"))
        .unwrap();
    let size = |y: &Yard| {
        y.catalog.runs[seed42]
            .usage
            .as_ref()
            .unwrap()
            .total()
            .apparent
    };
    let before = size(&y);
    let grown = y.catalog.runs[seed42].path.join("tmp/grown.bin");
    std::fs::write(&grown, vec![7u8; 10_000]).unwrap();
    y.send(Msg::Refreshed(g, refresh(&y, Some("seed42")), None, None));
    assert_eq!((y.generation, size(&y)), (g, before + 10_000));
    // A run deleted outside the explorer: numbered anew, the run is gone.
    let gone = root.join("experiments/ocr/crnn/2025-12-06_09-10-00_seed7");
    std::fs::remove_dir_all(&gone).unwrap();
    y.send(Msg::Refreshed(g, refresh(&y, None), None, None));
    assert_eq!(y.generation, g + 1);
    assert_eq!(y.tree.rows.len(), rows.len() - 1);
    assert!(y.shown_runs().all(|k| y.catalog.runs[k].path != gone));
}

/// Clearing the filter refolds the models the user folded: the run it
/// selected is then under its model's row, and the selection goes there
/// (it stayed on whatever row took the run's place).
#[test]
fn clearing_the_filter_leaves_the_selection_on_the_folded_runs_model() {
    let (_tmp, root) = common::demo_copy();
    let mut y = app_for(&root);
    go(&mut y, SEED42);
    press(&mut y, "hh");
    assert_eq!(selected_label(&y), "ocr/crnn");
    assert!(!y.tree.rows[y.tree.selected].open, "h folds the model");
    press(&mut y, "/seed42");
    y.send(Msg::Key(Action::Accept));
    assert_eq!(selected_label(&y), SEED42);
    y.send(Msg::Key(Action::Cancel));
    assert!(y.tree.query.is_empty());
    assert_eq!(selected_label(&y), "ocr/crnn");
}
