//! Applying actions to the app: no terminal I/O here, so tests drive the
//! explorer with actions alone.

use super::action::Action;
use super::app::{App, Focus, Request};
use super::tree::{Node, NodeId};
use crate::fmt;
use crate::ops::PlanKind;

/// Applies one action. Returns a follow-up action, if any.
pub fn update(app: &mut App, action: Action) -> Option<Action> {
    if let Some(c) = &mut app.compare
        && action != Action::Quit
    {
        let n = c.table.columns.len().max(1);
        match action {
            Action::Expand => c.column = (c.column + 1) % n,
            Action::Collapse => c.column = (c.column + n - 1) % n,
            Action::Down => c.row = (c.row + 1).min(c.table.runs.len().saturating_sub(1)),
            Action::Up => c.row = c.row.saturating_sub(1),
            Action::CycleSort => {
                if let Some(col) = c.table.columns.get(c.column) {
                    let name = col.name.clone();
                    // Keep the chart's rows in step with the table's.
                    let before = c.table.runs.clone();
                    if c.table.sort_by(&name).is_ok() {
                        let order: Vec<usize> = c
                            .table
                            .runs
                            .iter()
                            .map(|r| before.iter().position(|b| b == r).unwrap_or(0))
                            .collect();
                        for (_, per_run) in &mut c.series {
                            *per_run = order.iter().map(|&i| per_run[i].clone()).collect();
                        }
                        app.say(format!("sorted by {name}, best first"));
                    }
                }
            }
            Action::NextSeries if !c.series.is_empty() => {
                c.chart = (c.chart + 1) % c.series.len();
            }
            Action::ClosePlot => app.compare = None,
            _ => {}
        }
        return None;
    }
    if let Some(v) = &mut app.viewer
        && action != Action::Quit
    {
        let n = v.plots.len();
        match action {
            Action::Down => v.index = (v.index + 1) % n,
            Action::Up => v.index = (v.index + n - 1) % n,
            Action::ClosePlot => app.viewer = None,
            Action::CopyPath => app.copy_path(),
            Action::OpenExternal => app.open_external(),
            _ => {}
        }
        return None;
    }
    if app.promote.is_some() && action != Action::Quit {
        picker(app, action);
        app.refresh();
        return None;
    }
    match action {
        Action::Quit => app.quit = true,
        Action::Down | Action::Up | Action::PageDown | Action::PageUp if app.confirm.is_some() => {
            let step: i32 = match action {
                Action::Down => 1,
                Action::Up => -1,
                Action::PageDown => 10,
                _ => -10,
            };
            if let Some(c) = &mut app.confirm {
                c.scroll = (c.scroll as i32 + step).clamp(0, u16::MAX as i32) as u16;
            }
        }
        Action::Down | Action::Up if app.help.is_some() => {
            let h = app.help.unwrap_or(0);
            app.help = Some(if action == Action::Down {
                h.saturating_add(1)
            } else {
                h.saturating_sub(1)
            });
        }
        Action::Down => move_or_scroll(app, 1),
        Action::Up => move_or_scroll(app, -1),
        Action::PageDown => move_or_scroll(app, app.page() as isize),
        Action::PageUp => move_or_scroll(app, -(app.page() as isize)),
        Action::Top | Action::Bottom if app.focus != Focus::Tree => {
            if let Some(p) = app.focus.pane() {
                app.scroll[p] = if action == Action::Top {
                    0
                } else {
                    app.scroll_max[p]
                };
            }
        }
        Action::Top => select(app, 0),
        Action::Bottom => select(app, app.rows.len().saturating_sub(1)),
        Action::Expand => expand(app),
        Action::Collapse => collapse(app),
        Action::Toggle => {
            if let Some(row) = app.rows.get(app.selected)
                && row.depth < 2
            {
                app.expansion.toggle(row.id.clone());
                app.invalidate();
            }
        }
        Action::StartFilter => {
            app.filtering = true;
            app.focus = Focus::Tree;
        }
        Action::FilterInput(c) => {
            app.query.push(c);
            app.invalidate();
        }
        Action::FilterBackspace => {
            app.query.pop();
            app.invalidate();
        }
        Action::FilterClear => {
            app.query.clear();
            app.invalidate();
        }
        Action::AcceptFilter => app.filtering = false,
        Action::ClearFilter => {
            app.filtering = false;
            if !app.query.is_empty() {
                app.query.clear();
                app.invalidate();
            }
        }
        Action::CycleSort => {
            app.sort = app.sort.next();
            app.invalidate();
            app.say(format!("sort: {}", app.sort.label()));
        }
        Action::Latest => latest(app),
        Action::Rescan => {
            app.rescan();
            app.say("rescanning…");
        }
        Action::FocusNext => app.focus = app.focus.next(),
        Action::FocusPrev => app.focus = app.focus.prev(),
        Action::NextSeries | Action::PrevSeries => {
            let n = app.selected_details().map_or(0, |d| d.metrics.series.len());
            if n == 0 {
                app.say("no series to chart for this selection");
            } else {
                app.series = if action == Action::NextSeries {
                    (app.series + 1) % n
                } else {
                    (app.series + n - 1) % n
                };
            }
        }
        Action::Help => app.help = Some(0),
        Action::CloseHelp => app.help = None,
        Action::Disabled(why) => app.say(why),
        Action::ToggleMark => toggle_mark(app),
        Action::OpenPromote => app.open_promote(),
        Action::OpenPlot => app.open_viewer(),
        Action::OpenCompare => app.open_compare(),
        Action::CycleSmoothing => {
            app.smoothing = match app.smoothing {
                s if s < 0.5 => 0.6,
                s if s < 0.8 => 0.9,
                s if s < 0.95 => 0.99,
                _ => 0.0,
            };
            app.say(if app.smoothing == 0.0 {
                "chart: raw values".to_string()
            } else {
                format!("chart: smoothed (EMA {})", app.smoothing)
            });
        }
        Action::NextXAxis => {
            app.x_axis += 1;
            app.say("chart: next x axis (the file's own after the last)");
        }
        Action::ToggleLog => {
            app.log_y = !app.log_y;
            app.say(if app.log_y {
                "chart: log scale (values ≤ 0 are left out)"
            } else {
                "chart: linear scale"
            });
        }
        Action::CopyPath => app.copy_path(),
        Action::OpenExternal => {}
        Action::ClosePlot => app.viewer = None,
        Action::EditPromoteName => {}
        Action::OpenNote => match app.selected_run().map(|k| app.catalog.runs[k].path.clone()) {
            Some(path) => match app.backlinks.get(&path).and_then(|b| b.first()) {
                Some(b) => app.outbox.push(Request::OpenNote(b.file.clone())),
                None => app.say("no tracker note links to this run"),
            },
            None => app.say("select a run first"),
        },
        Action::ClearMarks => {
            let n = app.marks.len();
            app.marks.clear();
            app.say(format!("{n} marks cleared"));
        }
        Action::PlanEphemeral | Action::PlanPrune | Action::PlanTrash => {
            if app.applying.is_some() || app.planning.is_some() {
                app.say("busy: wait for the current operation to finish");
            } else {
                let keys = app.op_runs();
                if keys.is_empty() {
                    app.say("select or mark runs first");
                } else {
                    let kind = match action {
                        Action::PlanEphemeral => PlanKind::Ephemeral,
                        Action::PlanPrune => PlanKind::Prune,
                        _ => PlanKind::Trash,
                    };
                    app.planning = Some(kind);
                    let refs = app.run_refs(&keys);
                    app.outbox.push(Request::Plan(kind, refs));
                    app.say(format!("planning: {}…", kind.verb()));
                }
            }
        }
        Action::ConfirmYes => {
            if let Some(c) = app.confirm.take() {
                app.applying = Some((0, c.plan.targets.len()));
                app.say(format!("{}…", c.plan.kind.verb()));
                app.outbox.push(Request::Apply(Box::new(c.plan)));
            }
        }
        Action::ConfirmNo => {
            if app.confirm.take().is_some() {
                app.say("cancelled: nothing changed");
            }
        }
        Action::Click(col, row) => click(app, col, row),
        Action::Wheel(down, col, row) => {
            let step = if down { 3 } else { -3 };
            if contains(app.areas.tree, col, row) {
                app.focus = Focus::Tree;
            } else if let Some(i) = app.areas.panes.iter().position(|r| contains(*r, col, row)) {
                app.focus = [Focus::Info, Focus::Metrics, Focus::Disk][i];
            }
            move_or_scroll(app, step);
        }
    }
    app.refresh();
    None
}

/// Keys while the promote picker is open.
fn picker(app: &mut App, action: Action) {
    let Some(p) = &mut app.promote else { return };
    if let Some(buf) = &mut p.editing {
        match action {
            Action::FilterInput(c) => buf.push(c),
            Action::FilterBackspace => {
                buf.pop();
            }
            Action::AcceptFilter => {
                let name = p.editing.take().unwrap_or_default();
                let name = (!name.trim().is_empty()).then(|| name.trim().to_string());
                // Show where the new name lands, or why it cannot be used.
                let run = &app.catalog.runs[p.run];
                let what = p.items[p.selected].0.clone();
                let today = jiff::ZonedDateTime::now().date();
                match crate::ops::promote::plan(
                    &app.catalog.root,
                    run,
                    what,
                    name.as_deref(),
                    today,
                ) {
                    Ok(plan) => {
                        p.items[p.selected].1 = plan.dest;
                        p.name = name;
                    }
                    Err(e) => {
                        let msg = format!("that name cannot be used: {e}");
                        app.say(msg);
                    }
                }
            }
            Action::ClearFilter => p.editing = None,
            _ => {}
        }
        return;
    }
    match action {
        Action::Down | Action::Up => {
            // A typed name belongs to the item it was typed for: leaving the
            // item puts back the proposed destination.
            if p.name.take().is_some() {
                let run = &app.catalog.runs[p.run];
                let what = p.items[p.selected].0.clone();
                let today = jiff::ZonedDateTime::now().date();
                if let Ok(plan) =
                    crate::ops::promote::plan(&app.catalog.root, run, what, None, today)
                {
                    p.items[p.selected].1 = plan.dest;
                }
            }
            let n = p.items.len();
            p.selected = if action == Action::Down {
                (p.selected + 1) % n
            } else {
                (p.selected + n - 1) % n
            };
        }
        Action::EditPromoteName => {
            let proposed = p.items[p.selected]
                .1
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // A dataset's name is the part before _v<N>: the version is always the next free one.
            let proposed = match p.items[p.selected].0 {
                crate::ops::promote::What::Data => proposed
                    .rsplit_once("_v")
                    .map_or(proposed.clone(), |(b, _)| b.to_string()),
                _ => proposed,
            };
            p.editing = Some(p.name.clone().unwrap_or(proposed));
        }
        Action::ConfirmYes => {
            let what = p.items[p.selected].0.clone();
            let path = app.catalog.runs[p.run].path.clone();
            let name = p.name.clone();
            app.promote = None;
            app.outbox.push(Request::Promote(path, what, name));
            app.say("promoting…");
        }
        Action::ConfirmNo => {
            app.promote = None;
            app.say("nothing promoted");
        }
        _ => {}
    }
}

/// Marks or unmarks the selected run; on a task or model, all its runs
/// (unmarking them if all were marked).
fn toggle_mark(app: &mut App) {
    let Some(node) = app.selected_node() else {
        return;
    };
    // With a filter, a task or model marks only the runs it shows.
    let paths: Vec<std::path::PathBuf> = app
        .visible_runs_of(node)
        .into_iter()
        .map(|k| app.catalog.runs[k].path.clone())
        .collect();
    if paths.iter().all(|p| app.marks.contains(p)) {
        for p in &paths {
            app.marks.remove(p);
        }
    } else {
        app.marks.extend(paths);
    }
    if matches!(node, Node::Run(_)) {
        move_or_scroll(app, 1);
    }
    app.say(format!(
        "{} marked · d clean, P prune, D trash, u clear",
        app.marks.len()
    ));
}

fn contains(r: ratatui::layout::Rect, col: u16, row: u16) -> bool {
    col >= r.x && col < r.x + r.width && row >= r.y && row < r.y + r.height
}

fn select(app: &mut App, i: usize) {
    app.user_moved = true;
    app.selected = i.min(app.rows.len().saturating_sub(1));
    app.scroll = [0; 3];
}

fn move_or_scroll(app: &mut App, delta: isize) {
    match app.focus.pane() {
        Some(p) => {
            let s = app.scroll[p] as isize + delta;
            app.scroll[p] = s.clamp(0, app.scroll_max[p] as isize) as u16;
        }
        None => {
            let i =
                (app.selected as isize + delta).clamp(0, app.rows.len().saturating_sub(1) as isize);
            select(app, i as usize);
        }
    }
}

fn expand(app: &mut App) {
    let Some(row) = app.rows.get(app.selected) else {
        return;
    };
    match row.node {
        // A run has nothing to unfold (Tab moves into its panes).
        Node::Run(_) => {}
        _ if !row.open => {
            app.expansion.toggle(row.id.clone());
            app.invalidate();
        }
        _ => select(app, app.selected + 1),
    }
}

fn collapse(app: &mut App) {
    if app.focus != Focus::Tree {
        app.focus = Focus::Tree;
        return;
    }
    let Some(row) = app.rows.get(app.selected) else {
        return;
    };
    if row.depth < 2 && row.open {
        app.expansion.toggle(row.id.clone());
        app.invalidate();
        return;
    }
    // Step out to the parent row.
    let depth = row.depth;
    if let Some(parent) = app.rows[..app.selected]
        .iter()
        .rposition(|r| r.depth < depth)
    {
        select(app, parent);
    }
}

/// Jumps to the latest run: under the selected task or model, else in the
/// whole tree; with a filter, among the runs it shows.
fn latest(app: &mut App) {
    let scope = match app.selected_node() {
        Some(n @ (Node::Task(_) | Node::Model(..))) => Some(n),
        _ => None,
    };
    let mut keys = app.runs_of(scope);
    if !app.query.is_empty() {
        let shown: std::collections::HashSet<_> = app
            .rows
            .iter()
            .filter_map(|r| {
                if let Node::Run(k) = r.node {
                    Some(k)
                } else {
                    None
                }
            })
            .collect();
        keys.retain(|k| shown.contains(k));
    }
    let Some(k) = app.catalog.latest(keys) else {
        app.say("no runs here");
        return;
    };
    let where_ = match scope {
        Some(Node::Task(t)) => format!(" in {}", fmt::escape(&app.catalog.tasks[t].name)),
        Some(Node::Model(t, m)) => {
            let task = &app.catalog.tasks[t];
            format!(
                " in {}/{}",
                fmt::escape(&task.name),
                fmt::escape(&task.models[m].name)
            )
        }
        _ => String::new(),
    };
    let r = &app.catalog.runs[k];
    let when = r
        .time()
        .map(|t| format!(" ({})", fmt::age(t, app.now)))
        .unwrap_or_default();
    let msg = format!("latest run{where_}: {}{when}", fmt::escape(&r.label()));
    app.reveal(k);
    app.scroll = [0; 3];
    app.say(msg);
    debug_assert!(matches!(
        app.rows.get(app.selected).map(|r| &r.id),
        Some(NodeId::Run(_))
    ));
}

fn click(app: &mut App, col: u16, row: u16) {
    let tree = app.areas.tree;
    if contains(tree, col, row) {
        app.focus = Focus::Tree;
        // Row 0 of the pane is its border.
        if row > tree.y {
            let i = app.offset + (row - tree.y - 1) as usize;
            if i < app.rows.len() {
                if i == app.selected && app.rows[i].depth < 2 {
                    app.expansion.toggle(app.rows[i].id.clone());
                    app.invalidate();
                }
                select(app, i);
            }
        }
    } else if let Some(i) = app.areas.panes.iter().position(|r| contains(*r, col, row)) {
        app.focus = [Focus::Info, Focus::Metrics, Focus::Disk][i];
    }
}
