//! The one place the explorer's state changes: [`update`] takes a message
//! (a key, a scan event, a loaded file, what a frame measured, a tick)
//! and returns the work to do as [`Request`]s. No terminal I/O and no file
//! is read here, so tests drive the explorer with messages alone.

use std::time::{Duration, Instant};

use super::app::{App, Focus};
use super::keymap::Action;
use super::msg::{Msg, Request};
use super::overlay::Overlay;
use super::tree::Node;
use crate::catalog::{RunKey, ScanEvent};
use crate::fmt;
use crate::ops::{PlanKind, PlanOptions};

/// Status messages fade after this long.
const MESSAGE_TTL: Duration = Duration::from_secs(4);
/// Refreshes at most this often when the filesystem reports changes, so a
/// job writing thousands of files a second costs one refresh a second.
const REFRESH_MIN: Duration = Duration::from_secs(1);
/// Refreshes at least this often while a run is active (its sizes and
/// metrics move), or where changes cannot be watched (NFS).
const POLL_ACTIVE: Duration = Duration::from_secs(5);
/// And this often otherwise, as a safety net.
const POLL_IDLE: Duration = Duration::from_secs(30);
/// Watching more folders than this would exhaust inotify watches on big
/// trees; above it only the top levels are watched and polling does the rest.
const WATCH_LIMIT: usize = 4000;

/// Applies one message and returns the work it calls for.
pub fn update(app: &mut App, msg: Msg) -> Vec<Request> {
    update_in_batch(app, msg, true)
}

/// [`update`] for one message of a batch the event loop drains before a
/// frame. Scan batches and summaries arrive by the thousand on a big tree,
/// and rebuilding the rows for each (a filter re-matches every run)
/// starved the frame for tens of seconds: with `settle` false they only
/// mark the rows stale, and the loop ends every batch with an [`update`]
/// (its tick) that rebuilds them once.
pub fn update_in_batch(app: &mut App, msg: Msg, settle: bool) -> Vec<Request> {
    match msg {
        Msg::Key(action) => {
            app.message = None;
            let before = app.selected_run();
            key(app, action);
            chart_follows_selection(app, before);
        }
        Msg::Click(col, row) => click(app, col, row),
        Msg::Wheel(down, col, row) => {
            let step = if down { 3 } else { -3 };
            if app.areas.tree.contains((col, row).into()) {
                app.focus = Focus::Tree;
            } else if let Some(i) = app
                .areas
                .panes
                .iter()
                .position(|r| r.contains((col, row).into()))
            {
                app.focus = [Focus::Info, Focus::Metrics, Focus::Disk][i];
            }
            move_or_scroll(app, step);
        }
        Msg::Drawn(report) => {
            app.areas = report.areas;
            app.tree.page = report.tree_page;
            app.panes.info.measured(report.info);
            app.panes.metrics.measured(report.metrics);
            app.panes.disk.measured(report.disk);
            match &mut app.overlay {
                Some(Overlay::Help(h)) => h.scroll.measured(report.overlay),
                Some(Overlay::Confirm(c)) => c.scroll.measured(report.overlay),
                _ => {}
            }
            if let Some(size) = report.plot {
                app.want_plot(size);
            }
        }
        Msg::Tick(at, now) => tick(app, at, now),
        Msg::Idle => {
            if app.catalog.done.is_some() {
                app.ready_filter();
            }
        }
        Msg::Quit => app.quit = true,
        Msg::Configure(config) => {
            let settings = app.settings.clone().configured(&config);
            app.configure(settings);
        }
        Msg::Scan(g, ev) if g == app.generation => {
            let done = matches!(ev, ScanEvent::Done(_));
            app.scan_event(ev);
            if done {
                scan_finished(app);
            }
        }
        Msg::Scan(..) => {}
        Msg::Summary(g, k, p, s) => app.summary_loaded(g, k, &p, *s),
        Msg::LogRead(r) => super::watch::read(app, *r),
        Msg::Config(p, values) => {
            app.configs.insert(p, values);
            app.tree.rows_dirty = true;
        }
        Msg::Details(g, k, p, d) => app.details_loaded(g, k, &p, *d),
        Msg::Refreshed(tag, c, next, found) => {
            app.live.in_flight = false;
            // A rescan started meanwhile: its result wins, notes and all.
            if tag == app.generation && app.catalog.done.is_some() {
                app.swap_catalog(*c);
                app.live.next_cache = next;
                // Read by the worker that refreshed, from its tree.
                if let Some(found) = found {
                    if let Some(b) = found.backlinks {
                        app.notes.backlinks = b;
                    }
                    (app.notes.promoted_from, app.notes.findings) = found.layout;
                }
                watch(app);
            }
        }
        Msg::NextCache(shown, cache) => {
            // Only for the catalog it was made from: a refresh that landed
            // meanwhile holds newer readings (a run seen written again
            // would go back to idle, and a cleanup plan its tmp/).
            if shown == app.live.shown {
                app.live.next_cache = Some(cache);
            }
        }
        Msg::Changed(runs) => {
            app.live.dirty = true;
            app.live.touched.extend(runs);
        }
        Msg::Planned(plan) => app.planned(*plan),
        Msg::Progress(done, total) => app.applying = Some((done, total)),
        Msg::Applied(kind, report) => app.applied(kind, *report),
        Msg::PromotePlanned(run, items) => app.promote_planned(run, items),
        Msg::Replanned(index, name, result) => {
            if let Some(Overlay::Promote(p)) = &mut app.overlay {
                p.planning = false;
                match result {
                    Ok(landing) => {
                        if let Some(item) = p.items.get_mut(index) {
                            item.1 = Ok(landing);
                        }
                        if index == p.selected {
                            p.name = name;
                        }
                    }
                    Err(e) => app.say(format!("that name cannot be used: {e}")),
                }
            }
        }
        Msg::Promoted(r) => {
            // The run pane lists what was promoted: read it again.
            if r.is_ok() {
                notes(app);
            }
            app.promoted(r);
        }
        Msg::Backlinks(b) => app.notes.backlinks = b,
        Msg::Layout(notes) => (app.notes.promoted_from, app.notes.findings) = *notes,
        Msg::Compared(mut view) => {
            app.busy = None;
            // Status as the tree shows it: the worker cannot tell a run
            // still writing (running) from one gone quiet (stalled).
            for (r, path) in view.paths.iter().enumerate() {
                if let Some(k) = app.catalog.runs.iter().position(|x| &x.path == path) {
                    view.table.status[r] = app.status(k).word().to_string();
                }
            }
            app.offer(Overlay::Compare(*view), "the comparison");
        }
        Msg::Plot(path, size, image) => app.plot_decoded(path, size, image),
        Msg::Say(text) => app.say(text),
    }
    if app.overlay.is_none() {
        app.overlay = app.waiting.take();
    }
    app.sync_count_gate();
    if settle {
        app.refresh();
    }
    std::mem::take(&mut app.outbox)
}

/// A scan finished: drop marks of runs that are gone, save the cache,
/// watch the tree, read the notes.
fn scan_finished(app: &mut App) {
    app.forget_vanished_marks();
    app.live.last = Instant::now();
    if let Some(stats) = app.catalog.done {
        app.live.shown += 1;
        app.outbox.push(Request::SaveCache(
            app.live.shown,
            Box::new(app.catalog.clone()),
            stats.started_at,
            app.settings.window.as_secs(),
        ));
    }
    watch(app);
    notes(app);
}

/// Asks for the tracker's backlinks, the promotions and layout findings.
fn notes(app: &mut App) {
    app.outbox.push(Request::Notes(
        Box::new(app.catalog.clone()),
        app.settings.tracker.clone(),
    ));
}

/// Asks the loop to watch where runs appear (root, experiments/, tasks,
/// models) and, recursively, the runs that are active now.
fn watch(app: &mut App) {
    if app.live.how.is_empty() {
        return;
    }
    let c = &app.catalog;
    let experiments = c.root.join(crate::layout::EXPERIMENTS);
    let mut want: Vec<(std::path::PathBuf, bool)> =
        vec![(c.root.clone(), false), (experiments.clone(), false)];
    for t in &c.tasks {
        want.push((experiments.join(&t.name), false));
    }
    let models: usize = c.tasks.iter().map(|t| t.models.len()).sum();
    if models + want.len() <= WATCH_LIMIT {
        for t in &c.tasks {
            for m in &t.models {
                want.push((experiments.join(&t.name).join(&m.name), false));
            }
        }
    }
    // Every run when the tree is small enough to watch whole (a run that
    // starts writing again is then seen at once); else the active ones.
    let folders: u64 = c
        .runs
        .iter()
        .filter_map(|r| r.usage.as_ref())
        .map(|u| u.dirs)
        .sum();
    let all = want.len() as u64 + folders <= WATCH_LIMIT as u64;
    for k in c.run_keys() {
        if (all || app.is_active(k)) && want.len() < WATCH_LIMIT {
            want.push((c.runs[k].path.clone(), true));
        }
    }
    if !all {
        // An idle run that resumes appends to files in its folder or its
        // metrics/ and logs/: watching those (not whole runs) sees it at
        // once, where the idle poll took up to 30 s. Newest runs first:
        // they are the ones that resume.
        // Each run's time worked out once, and only as many of the newest
        // as can be watched put in order: sorting 100,000 runs with their
        // times worked out per comparison held the UI thread 100 ms at
        // every refresh. The index keeps ties in the order of the runs.
        let mut idle: Vec<_> = c
            .run_keys()
            .filter(|&k| !app.is_active(k))
            .enumerate()
            .map(|(i, k)| {
                (
                    std::cmp::Reverse((c.runs[k].last_write(), c.runs[k].time())),
                    i,
                    k,
                )
            })
            .collect();
        if idle.len() > WATCH_LIMIT {
            idle.select_nth_unstable(WATCH_LIMIT);
            idle.truncate(WATCH_LIMIT);
        }
        idle.sort_unstable();
        'runs: for (_, _, k) in idle {
            let run = &c.runs[k].path;
            for dir in [run.clone(), run.join("metrics"), run.join("logs")] {
                if want.len() >= WATCH_LIMIT {
                    break 'runs;
                }
                // Unchecked (no file is read here): the watcher skips
                // folders that are not there.
                want.push((dir, false));
            }
        }
    }
    app.outbox.push(Request::Watch(want));
}

/// The clock moved: fade the message, start a quiet refresh when due.
fn tick(app: &mut App, at: Instant, now: jiff::Timestamp) {
    app.now = now;
    super::watch::tick(app, at);
    if let Some((_, set)) = &app.message
        && at.saturating_duration_since(*set) > MESSAGE_TTL
    {
        app.message = None;
    }
    let live = &app.live;
    if live.how.is_empty() || live.in_flight || app.catalog.done.is_none() || app.applying.is_some()
    {
        return;
    }
    // Polled often while a run is active (or nothing watches), else
    // seldom; whether one is active is asked last, as it reads every run.
    let since = at.saturating_duration_since(live.last);
    let due = (live.dirty && since >= REFRESH_MIN)
        || since >= POLL_IDLE
        || (since >= POLL_ACTIVE && (live.how != "watching" || app.any_active()));
    if !due {
        return;
    }
    app.live.in_flight = true;
    app.live.dirty = false;
    app.live.last = at;
    let started = jiff::Timestamp::now().as_second();
    let window = app.settings.window.as_secs();
    // Worked out on a worker when the last scan or refresh finished; on
    // the UI thread only when that one is not back yet.
    let mut cache = match app.live.next_cache.take() {
        Some(mut cache) => {
            cache.scanned_at = started;
            cache.window = window;
            *cache
        }
        None => crate::catalog::cache::ScanCache::from_catalog(&app.catalog, started, window),
    };
    // Runs the watcher saw change are walked whatever their folders say.
    for run in std::mem::take(&mut app.live.touched) {
        if let Ok(rel) = run.strip_prefix(&app.catalog.root) {
            cache.runs.remove(&*rel.to_string_lossy());
        }
    }
    app.outbox.push(Request::Refresh {
        root: app.catalog.root.clone(),
        generation: app.generation,
        cache: Box::new(cache),
        tracker: app.settings.tracker.clone(),
    });
}

/// Applies a key's action: the overlay takes it when one is open.
fn key(app: &mut App, action: Action) {
    if action == Action::Quit {
        app.quit = true;
        return;
    }
    match &mut app.overlay {
        // `?` opens the help of the view on top, from any view.
        Some(
            Overlay::Compare(_)
            | Overlay::Chart(_)
            | Overlay::Viewer(_)
            | Overlay::Promote(_)
            | Overlay::Confirm(_)
            | Overlay::Logs(_)
            | Overlay::Run(_),
        ) if action == Action::Help => {
            return app.open_help();
        }
        Some(Overlay::Compare(_)) => return compare(app, action),
        Some(Overlay::Chart(_)) => return zoomed(app, action),
        Some(Overlay::Logs(_)) => return super::watch::key(app, action),
        Some(Overlay::Run(_)) => return super::run_view::key(app, action),
        Some(Overlay::Viewer(v)) => {
            let n = v.plots.len();
            let size = v.size;
            match action {
                // The new plot at the size the last frame drew it.
                Action::Next => {
                    v.index = (v.index + 1) % n;
                    app.want_plot(size);
                }
                Action::Prev => {
                    v.index = (v.index + n - 1) % n;
                    app.want_plot(size);
                }
                Action::Close => app.overlay = None,
                Action::CopyPath => app.copy_path(),
                Action::OpenExternal => app.open_external(),
                _ => {}
            }
            return;
        }
        Some(Overlay::Promote(_)) => return picker(app, action),
        Some(Overlay::Confirm(_)) if app.count_gate.is_some() => return count_gate(app, action),
        Some(Overlay::Confirm(c)) => {
            match action {
                Action::Next => c.scroll.by(1),
                Action::Prev => c.scroll.by(-1),
                Action::PageDown => c.scroll.by(10),
                Action::PageUp => c.scroll.by(-10),
                Action::Top => c.scroll.offset = 0,
                Action::Bottom => c.scroll.offset = c.scroll.max,
                Action::Accept => apply(app),
                Action::Cancel => {
                    app.overlay = None;
                    app.say("cancelled: nothing changed");
                }
                _ => {}
            }
            return;
        }
        Some(Overlay::Help(h)) => {
            let s = &mut h.scroll;
            match action {
                Action::Next => s.by(1),
                Action::Prev => s.by(-1),
                Action::PageDown => s.by(10),
                Action::PageUp => s.by(-10),
                Action::Top => s.offset = 0,
                Action::Bottom => s.offset = s.max,
                Action::Close => app.close_help(),
                _ => {}
            }
            return;
        }
        None => {}
    }
    match action {
        Action::Next => move_or_scroll(app, 1),
        Action::Prev => move_or_scroll(app, -1),
        Action::PageDown => move_or_scroll(app, app.page() as isize),
        Action::PageUp => move_or_scroll(app, -(app.page() as isize)),
        Action::Top | Action::Bottom if app.focus != Focus::Tree => {
            if let Some(s) = app.panes.get_mut(app.focus) {
                s.offset = if action == Action::Top { 0 } else { s.max };
            }
        }
        Action::Top => select(app, 0),
        Action::Bottom => select(app, app.tree.rows.len().saturating_sub(1)),
        Action::Expand => expand(app),
        Action::Collapse => collapse(app),
        Action::Toggle => {
            if let Some(row) = app.tree.rows.get(app.tree.selected)
                && row.foldable()
            {
                app.tree.expansion.toggle(row.id(&app.catalog));
                app.invalidate();
            } else if app.selected_run().is_some() {
                super::run_view::open(app);
            }
        }
        Action::StartFilter => {
            app.tree.filtering = true;
            app.focus = Focus::Tree;
            app.ready_filter();
        }
        Action::Input(c) => {
            app.tree.query.push(c);
            app.tree.jump_first = true;
            app.invalidate();
        }
        Action::Backspace => {
            app.tree.query.pop();
            app.tree.jump_first = true;
            app.invalidate();
        }
        Action::Erase => {
            app.tree.query.clear();
            app.tree.jump_first = true;
            app.invalidate();
        }
        Action::Accept => {
            app.tree.filtering = false;
            // The view from the top, headers of the first matches shown
            // (the selection scrolls it back down if it is further).
            app.tree.offset = 0;
        }
        Action::Cancel | Action::ClearFilter => {
            app.tree.filtering = false;
            if !app.tree.query.is_empty() {
                app.tree.query.clear();
                app.invalidate();
            }
        }
        Action::CycleSort => {
            app.tree.sort = app.tree.sort.next();
            app.invalidate();
            app.say(format!("sort: {}", sort_label(app)));
        }
        Action::ReverseSort => {
            app.tree.reverse = !app.tree.reverse;
            app.invalidate();
            app.say(format!("sort: {}", sort_label(app)));
        }
        Action::Latest => latest(app),
        Action::Rescan => {
            app.rescan();
            app.say("rescanning…");
        }
        Action::FocusNext => focus(app, app.focus.next()),
        Action::FocusPrev => focus(app, app.focus.prev()),
        Action::NextSeries | Action::PrevSeries => {
            let n = app.selected_details().map_or(0, |d| d.metrics.series.len());
            if n == 0 {
                app.say("no series to chart for this selection");
            } else {
                app.chart.series = if action == Action::NextSeries {
                    (app.chart.series + 1) % n
                } else {
                    (app.chart.series + n - 1) % n
                };
            }
        }
        Action::Help => app.open_help(),
        Action::ToggleMark => toggle_mark(app),
        Action::OpenPromote => app.open_promote(),
        Action::OpenPlot => app.open_viewer(),
        Action::OpenCompare => app.open_compare(),
        Action::CycleSmoothing => {
            app.chart.smoothing = next_smoothing(app.chart.smoothing);
            app.say(if app.chart.smoothing == 0.0 {
                "chart: raw values".to_string()
            } else {
                format!("chart: smoothed (EMA {})", app.chart.smoothing)
            });
        }
        Action::NextXAxis => {
            app.chart.x_axis += 1;
            app.say(x_axis_message(app));
        }
        Action::ZoomChart => app.zoom_metrics(),
        // Keys of the zoomed chart and compare: nothing to do while browsing.
        Action::ClipOutliers | Action::Highlight | Action::ToggleAliases => {}
        Action::OpenLogs => super::watch::open(app),
        Action::OpenRun => super::run_view::open(app),
        Action::NextMatch | Action::PrevMatch | Action::GridMore | Action::GridFewer => {}
        Action::PinChart => {
            app.chart.pinned = !app.chart.pinned;
            app.say(if app.chart.pinned {
                "chart settings pinned: smoothing, scale and x axis stay as you browse runs (= to unpin)"
            } else {
                "chart settings unpinned: each run's chart starts raw, linear, on its own x axis"
            });
        }
        Action::ToggleLog => {
            app.chart.log_y = !app.chart.log_y;
            app.say(if app.chart.log_y {
                "chart: log scale (values ≤ 0 are left out)"
            } else {
                "chart: linear scale"
            });
        }
        Action::CopyPath => app.copy_path(),
        Action::OpenNote => match app.selected_run().map(|k| app.catalog.runs[k].path.clone()) {
            Some(path) => match app.notes.backlinks.get(&path).and_then(|b| b.first()) {
                Some(b) => app.outbox.push(Request::OpenNote(b.file.clone())),
                None => app.say("no tracker note links to this run"),
            },
            None => app.say("select a run first"),
        },
        Action::ClearMarks => {
            let n = app.marks.len();
            app.marks.clear();
            app.say(format!("{} cleared", fmt::count(n as u64, "mark")));
        }
        Action::PlanEphemeral | Action::PlanPrune | Action::PlanTrash => plan(app, action),
        // Keys of views that are not open.
        Action::Quit
        | Action::Close
        | Action::NextColumn
        | Action::PrevColumn
        | Action::SortByColumn
        | Action::OpenExternal
        | Action::Rename
        | Action::DeleteNext
        | Action::DeleteWord
        | Action::CursorLeft
        | Action::CursorRight
        | Action::CursorHome
        | Action::CursorEnd => {}
    }
}

/// `d`, `P`, `D`: plans the change off the UI thread ("planning…").
fn plan(app: &mut App, action: Action) {
    if app.applying.is_some() || app.planning.is_some() {
        app.say("busy: wait for the current operation to finish");
        return;
    }
    let keys = app.op_runs();
    if keys.is_empty() {
        app.say("select or mark runs first");
        return;
    }
    let kind = match action {
        Action::PlanEphemeral => PlanKind::Ephemeral,
        Action::PlanPrune => PlanKind::Prune,
        _ => PlanKind::Trash,
    };
    app.planning = Some(kind);
    let refs = app.run_refs(&keys);
    let opts = PlanOptions {
        force: false,
        window: app.settings.window,
        now: jiff::Timestamp::now(),
    };
    app.outbox.push(Request::Plan(
        kind,
        app.catalog.root.clone(),
        refs,
        opts,
        app.settings.judge.clone(),
    ));
    // Say what the key acts on: the marks (all of them, hidden or not) or
    // the selection.
    let what = if app.marks.is_empty() {
        match keys.len() {
            1 => "1 run".to_string(),
            n => format!("{n} runs"),
        }
    } else {
        marks_summary(app)
    };
    app.say(format!("planning: {} · {what}…", kind.verb()));
}

/// The chart's smoothing, scale and x axis belong to the run they were
/// chosen on: moving to another run starts its chart raw, linear, on its
/// own x axis, unless the user pinned them (`=`).
fn chart_follows_selection(app: &mut App, before: Option<RunKey>) {
    if app.chart.pinned || app.selected_run() == before {
        return;
    }
    app.chart.smoothing = 0.0;
    app.chart.log_y = false;
    app.chart.x_axis = 0;
}

/// What `X` says: which column the chart is now drawn against.
fn x_axis_message(app: &App) -> String {
    let Some(d) = app.selected_details() else {
        return "chart: select a run to pick its x axis".into();
    };
    let series = &d.metrics.series;
    let Some(s) = series.get(app.chart.series.min(series.len().saturating_sub(1))) else {
        return "chart: this run has no curves".into();
    };
    let axes = super::ui::metrics::x_axes(series, s);
    if axes.is_empty() {
        return format!(
            "chart: x axis {} (the only x column of its file)",
            fmt::escape(&s.x)
        );
    }
    let n = axes.len() + 1;
    let which = app.chart.x_axis % n;
    let name = match which {
        0 => s.x.clone(),
        a => axes[a - 1]
            .name
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string(),
    };
    format!(
        "chart: x axis {} ({} of {n}; X: next)",
        fmt::escape(&name),
        which + 1
    )
}

/// Keys while a chart is zoomed to the whole screen.
fn zoomed(app: &mut App, action: Action) {
    let Some(Overlay::Chart(v)) = &mut app.overlay else {
        return;
    };
    let step = super::overlay::CURSOR_STEP;
    match action {
        Action::NextColumn => v.cursor = (v.cursor + step).min(1.0),
        Action::PrevColumn => v.cursor = (v.cursor - step).max(0.0),
        Action::PageDown => v.cursor = (v.cursor + step * 10.0).min(1.0),
        Action::PageUp => v.cursor = (v.cursor - step * 10.0).max(0.0),
        Action::Top => v.cursor = 0.0,
        Action::Bottom => v.cursor = 1.0,
        Action::CycleSmoothing => {
            v.options.smoothing = next_smoothing(v.options.smoothing);
            let msg = if v.options.smoothing == 0.0 {
                "chart: raw values".to_string()
            } else {
                format!(
                    "chart: smoothed, TensorBoard's EMA {} (raw line dimmed beneath)",
                    v.options.smoothing
                )
            };
            app.say(msg);
        }
        Action::ToggleLog => {
            v.options.log_y = !v.options.log_y;
            let log = v.options.log_y;
            app.say(if log {
                "chart: log scale (values ≤ 0 are left out; the title counts them)"
            } else {
                "chart: linear scale"
            });
        }
        Action::ClipOutliers => {
            v.options.clip = match v.options.clip {
                None => Some(0.96),
                Some(_) => None,
            };
            let clipped = v.options.clip.is_some();
            app.say(if clipped {
                "chart: y range clipped to the 2nd–98th percentile (outliers on the edge)"
            } else {
                "chart: the full y range"
            });
        }
        Action::Highlight if v.lines.len() > 1 => {
            v.highlight = match v.highlight {
                Some(_) => None,
                None => Some(0),
            };
        }
        Action::Next | Action::Prev if v.lines.len() > 1 => {
            let n = v.lines.len();
            let at = v.highlight.unwrap_or(n - 1);
            v.highlight = Some(if action == Action::Next {
                (at + 1) % n
            } else {
                (at + n - 1) % n
            });
        }
        Action::NextSeries | Action::PrevSeries => {
            let (options, cursor, highlight) = (v.options, v.cursor, v.highlight);
            let back = v.back.take();
            let next = action == Action::NextSeries;
            let step = |i: usize, n: usize| if next { (i + 1) % n } else { (i + n - 1) % n };
            match v.under.take() {
                // From compare: its next shared series, zoomed again.
                Some(mut c) => {
                    if !c.series.is_empty() {
                        c.chart = step(c.chart, c.series.len());
                    }
                    app.overlay = Some(Overlay::Compare(*c));
                    app.zoom_compare();
                }
                None => {
                    let n = app.selected_details().map_or(0, |d| d.metrics.series.len());
                    if n == 0 {
                        return;
                    }
                    app.chart.series = step(app.chart.series.min(n - 1), n);
                    app.zoom_metrics();
                }
            }
            // The new series keeps the zoomed view's settings and cursor.
            if let Some(Overlay::Chart(v)) = &mut app.overlay {
                v.options = options;
                v.cursor = cursor;
                v.highlight = highlight;
                v.back = back;
            }
        }
        Action::Close => {
            let Some(Overlay::Chart(v)) = app.overlay.take() else {
                return;
            };
            // The pane's chart follows what was chosen here.
            app.chart.smoothing = v.options.smoothing;
            app.chart.log_y = v.options.log_y;
            if let Some(mut c) = v.under {
                if let Some(h) = v.highlight {
                    c.row = h;
                }
                c.highlight = v.highlight.is_some();
                app.overlay = Some(Overlay::Compare(*c));
            } else if let Some(r) = v.back {
                app.overlay = Some(Overlay::Run(r));
            }
        }
        _ => {}
    }
}

/// The next smoothing weight: off, 0.6, 0.9, 0.99, off.
fn next_smoothing(s: f64) -> f64 {
    match s {
        s if s < 0.5 => 0.6,
        s if s < 0.8 => 0.9,
        s if s < 0.95 => 0.99,
        _ => 0.0,
    }
}

/// Keys while runs are compared.
fn compare(app: &mut App, action: Action) {
    let Some(Overlay::Compare(c)) = &mut app.overlay else {
        return;
    };
    if c.typing {
        let mut cursor = c.filter.chars().count();
        if !super::edit::apply(&mut c.filter, &mut cursor, action) {
            match action {
                Action::Accept => c.typing = false,
                Action::Cancel => {
                    c.filter.clear();
                    c.typing = false;
                }
                Action::Help => app.open_help(),
                _ => {}
            }
        }
        let Some(Overlay::Compare(c)) = &mut app.overlay else {
            return;
        };
        // The selection moves to a row the filter keeps.
        let shown = c.visible();
        if !shown.contains(&c.row)
            && let Some(&first) = shown.first()
        {
            c.row = first;
        }
        let n = shown.len();
        let total = c.table.runs.len();
        if !c.filter.is_empty() {
            app.say(format!("compare filter: {n} of {total} rows"));
        }
        return;
    }
    let n = c.table.columns.len().max(1);
    let shown = c.visible();
    let at = shown.iter().position(|&r| r == c.row);
    // Columns hidden as repeats are stepped over.
    let hidden = |c: &super::overlay::CompareView, i: usize| {
        !c.aliases
            && c.table
                .columns
                .get(i)
                .is_some_and(|col| col.same_as.is_some())
    };
    match action {
        Action::NextColumn | Action::PrevColumn => {
            for _ in 0..n {
                c.column = if action == Action::NextColumn {
                    (c.column + 1) % n
                } else {
                    (c.column + n - 1) % n
                };
                if !hidden(c, c.column) {
                    break;
                }
            }
        }
        // j/k move among the rows the filter keeps.
        Action::Next => {
            if let Some(&r) = at.and_then(|i| shown.get(i + 1)).or(shown.last()) {
                c.row = r;
            }
        }
        Action::Prev => {
            if let Some(&r) = at
                .and_then(|i| i.checked_sub(1))
                .and_then(|i| shown.get(i))
                .or(shown.first())
            {
                c.row = r;
            }
        }
        Action::StartFilter => {
            c.typing = true;
            app.say("compare filter: type words (lr, 3e-4, failed...); Enter keeps, Esc clears");
        }
        Action::SortByColumn => {
            if let Some(col) = c.table.columns.get(c.column) {
                let name = col.name.clone();
                // The chart's rows and folders move with the table's.
                if let Ok(order) = c.table.sort_order(&name) {
                    c.reorder(&order);
                    app.say(format!("sorted by {}, best first", fmt::escape(&name)));
                }
            }
        }
        Action::ZoomChart => app.zoom_compare(),
        Action::Highlight => {
            c.highlight = !c.highlight;
            let msg = if c.highlight {
                format!(
                    "highlighting {} (j/k: another run; v: all runs)",
                    fmt::escape(&c.table.names[c.row.min(c.table.names.len().saturating_sub(1))])
                )
            } else {
                "every run drawn alike".to_string()
            };
            app.say(msg);
        }
        Action::ToggleAliases => {
            c.aliases = !c.aliases;
            let hidden = c
                .table
                .columns
                .iter()
                .filter(|c| c.same_as.is_some())
                .count();
            let shown = c.aliases;
            app.say(if shown {
                format!("showing {hidden} columns that repeat another's values")
            } else {
                format!("hiding {hidden} columns that repeat another's values (a: show)")
            });
        }
        Action::Accept => {
            let Some(path) = c.paths.get(c.row).cloned() else {
                return;
            };
            match app.catalog.runs.iter().position(|r| r.path == path) {
                Some(k) => {
                    app.overlay = None;
                    app.reveal(k);
                    app.say(format!(
                        "{} (c: compare again)",
                        fmt::escape(&app.catalog.runs[k].label())
                    ));
                }
                None => app.say("that run is no longer in the tree (moved or deleted?)"),
            }
        }
        Action::NextSeries if !c.series.is_empty() => {
            c.chart = (c.chart + 1) % c.series.len();
        }
        Action::Close => app.overlay = None,
        _ => {}
    }
}

/// Keys while the promote picker is open.
fn picker(app: &mut App, action: Action) {
    let Some(Overlay::Promote(p)) = &mut app.overlay else {
        return;
    };
    let replan = |p: &super::overlay::Picker,
                  app_root: &std::path::Path,
                  run: &crate::catalog::Run,
                  name: Option<String>| Request::Replan {
        index: p.selected,
        root: app_root.to_path_buf(),
        run: Box::new(run.clone()),
        what: p.items[p.selected].0.clone(),
        name,
    };
    if let Some(buf) = &mut p.editing {
        if super::edit::apply(buf, &mut p.cursor, action) {
            return;
        }
        match action {
            Action::Help => app.open_help(),
            Action::Accept => {
                let name = p.editing.take().unwrap_or_default();
                let name = (!name.trim().is_empty()).then(|| name.trim().to_string());
                // Show where the new name lands, or why it cannot be used.
                p.planning = true;
                let req = replan(p, &app.catalog.root, &p.run, name);
                app.outbox.push(req);
            }
            Action::Cancel => p.editing = None,
            _ => {}
        }
        return;
    }
    match action {
        Action::Next | Action::Prev => {
            p.again = false;
            // A typed name belongs to the item it was typed for: leaving the
            // item puts back the proposed destination.
            if p.name.take().is_some() {
                let req = replan(p, &app.catalog.root, &p.run, None);
                app.outbox.push(req);
            }
            let n = p.items.len();
            p.selected = if action == Action::Next {
                (p.selected + 1) % n
            } else {
                (p.selected + n - 1) % n
            };
        }
        Action::Rename => {
            let proposed = p.items[p.selected]
                .1
                .as_ref()
                .ok()
                .and_then(|(dest, ..)| dest.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // A dataset's name is the part before _v<N>: the version is always the next free one.
            let proposed = match p.items[p.selected].0 {
                crate::ops::promote::What::Data => proposed
                    .rsplit_once("_v")
                    .map_or(proposed.clone(), |(b, _)| b.to_string()),
                _ => proposed,
            };
            let name = p.name.clone().unwrap_or(proposed);
            p.cursor = name.chars().count();
            p.editing = Some(name);
        }
        Action::Accept => {
            if p.planning {
                app.say("still planning the new name; a moment");
                return;
            }
            match &p.items[p.selected].1 {
                Err(why) => {
                    let msg = format!("cannot promote this: {why}");
                    app.say(msg);
                    return;
                }
                // The same bytes are in artifacts already: a second copy
                // takes a second, explicit yes.
                Ok((_, _, Some(e))) if !p.again => {
                    p.again = true;
                    let msg = format!(
                        "{}: y again makes a second copy, n keeps the one there",
                        e.describe(app.now)
                    );
                    app.say(msg);
                    return;
                }
                Ok(_) => {}
            }
            let what = p.items[p.selected].0.clone();
            let run = p.run.clone();
            let name = p.name.clone();
            app.overlay = None;
            app.outbox.push(Request::Promote {
                root: app.catalog.root.clone(),
                run,
                what,
                name,
            });
            app.say("promoting…");
        }
        Action::Cancel => {
            app.overlay = None;
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
    // One behaviour on every row: mark, then move down (as ncdu and dua).
    move_or_scroll(app, 1);
    app.say(format!(
        "{} · d clean, P prune, D trash, u clear",
        marks_summary(app)
    ));
}

fn select(app: &mut App, i: usize) {
    app.tree.user_moved = true;
    app.tree.selected = i.min(app.tree.rows.len().saturating_sub(1));
    // The user's choice: what the tree keeps selected from now on.
    if let Some(row) = app.tree.rows.get(app.tree.selected) {
        app.tree.selected_id = Some(row.id(&app.catalog));
    }
    app.panes = Default::default();
}

fn move_or_scroll(app: &mut App, delta: isize) {
    match app.panes.get_mut(app.focus) {
        Some(s) => s.by(delta),
        None => {
            let i = (app.tree.selected as isize + delta)
                .clamp(0, app.tree.rows.len().saturating_sub(1) as isize);
            select(app, i as usize);
        }
    }
}

fn expand(app: &mut App) {
    let Some(row) = app.tree.rows.get(app.tree.selected) else {
        return;
    };
    match row.node {
        // A run has nothing to unfold (Tab moves into its panes).
        Node::Run(_) => {}
        _ if !row.open => {
            app.tree.expansion.toggle(row.id(&app.catalog));
            app.invalidate();
        }
        _ => select(app, app.tree.selected + 1),
    }
}

fn collapse(app: &mut App) {
    if app.focus != Focus::Tree {
        app.focus = Focus::Tree;
        return;
    }
    let Some(row) = app.tree.rows.get(app.tree.selected) else {
        return;
    };
    if row.foldable() && row.open {
        app.tree.expansion.toggle(row.id(&app.catalog));
        app.invalidate();
        return;
    }
    // Step out to the parent row.
    let depth = row.depth;
    if let Some(parent) = app.tree.rows[..app.tree.selected]
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
    let keys = app.visible(app.runs_of(scope));
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
    app.panes = Default::default();
    app.say(msg);
    debug_assert!(app.selected_run().is_some());
}

/// "time", "size (reversed)": the order the tree is in.
fn sort_label(app: &App) -> String {
    let mut s = app.tree.sort.label();
    if app.tree.reverse {
        s.push_str(" (reversed)");
    }
    s
}

/// "34 marked", "34 marked (12 hidden by the filter)": what a key that acts
/// on marks will act on, said whole wherever it is shown.
pub fn marks_summary(app: &App) -> String {
    let hidden = app.marks_hidden();
    let mut s = format!("{} marked", app.marks.len());
    if hidden > 0 {
        s.push_str(&format!(" ({hidden} hidden by the filter)"));
    }
    s
}

/// Moves focus; a pane focused is the one shown when the panes share a
/// place as tabs.
fn focus(app: &mut App, to: Focus) {
    app.focus = to;
    if to != Focus::Tree {
        app.tab = to;
    }
}

/// `y` in the confirm popup: apply the plan. Before trashing, the cursor
/// moves to the nearest row that stays, so it is still there after the
/// rescan (instead of the top).
fn apply(app: &mut App) {
    let Some(Overlay::Confirm(c)) = app.overlay.take() else {
        return;
    };
    app.count_gate = None;
    if c.plan.kind == PlanKind::Trash {
        let gone: std::collections::HashSet<std::path::PathBuf> = c
            .plan
            .targets
            .iter()
            .map(|t| app.catalog.root.join(&t.run))
            .collect();
        // A row stays when a run under it does (the root always does).
        let stays = |i: &usize| {
            let node = app.tree.rows[*i].node;
            node == Node::Root
                || app
                    .runs_of(Some(node))
                    .iter()
                    .any(|&k| !gone.contains(&app.catalog.runs[k].path))
        };
        let sel = app.tree.selected;
        let near = (sel..app.tree.rows.len())
            .find(|i| stays(i))
            .or_else(|| (0..sel).rev().find(|i| stays(i)));
        if let Some(i) = near {
            select(app, i);
        }
    }
    app.applying = Some((0, c.plan.targets.len()));
    app.say(format!("{}…", c.plan.kind.verb()));
    app.outbox.push(Request::Apply(Box::new(c.plan)));
}

/// Keys while the confirm popup waits for the number of runs to be typed.
fn count_gate(app: &mut App, action: Action) {
    let Some(gate) = &mut app.count_gate else {
        return;
    };
    match action {
        Action::Input(c) if c.is_ascii_digit() && gate.typed.len() < 9 => gate.typed.push(c),
        Action::Input(_) => {}
        Action::Backspace => {
            gate.typed.pop();
        }
        Action::Accept if gate.typed == gate.need.to_string() => apply(app),
        Action::Accept => {
            let need = gate.need;
            app.say(format!(
                "type {need} (the number of runs) then Enter to trash them; Esc changes nothing"
            ));
        }
        Action::Cancel => {
            app.overlay = None;
            app.count_gate = None;
            app.say("cancelled: nothing changed");
        }
        Action::Next | Action::Prev => {
            if let Some(Overlay::Confirm(c)) = &mut app.overlay {
                c.scroll.by(if action == Action::Next { 1 } else { -1 });
            }
        }
        _ => {}
    }
}

fn click(app: &mut App, col: u16, row: u16) {
    let tree = app.areas.tree;
    if tree.contains((col, row).into()) {
        app.focus = Focus::Tree;
        // Row 0 of the pane is its border.
        // Row 1 is the column header.
        if row > tree.y + 1 {
            let i = app.tree.offset + (row - tree.y - 2) as usize;
            if i < app.tree.rows.len() {
                if i == app.tree.selected && app.tree.rows[i].foldable() {
                    app.tree.expansion.toggle(app.tree.rows[i].id(&app.catalog));
                    app.invalidate();
                }
                select(app, i);
            }
        }
    } else if let Some(i) = app
        .areas
        .panes
        .iter()
        .position(|r| r.contains((col, row).into()))
    {
        app.focus = [Focus::Info, Focus::Metrics, Focus::Disk][i];
    }
}
