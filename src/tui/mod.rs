//! The interactive explorer: terminal setup and restore, and the one event
//! loop that waits on keys, scan events, loaded files and ticks.
//!
//! The app itself ([`app::App`], [`update::update`]) does no terminal I/O;
//! this module is the only place that touches the terminal.

pub mod action;
pub mod app;
pub mod keymap;
pub mod loader;
pub mod picture;
pub mod plot;
pub mod theme;
pub mod tree;
pub mod ui;
pub mod update;

use std::io::{Stdout, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use jiff::{SignedDuration, Timestamp};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event, KeyEventKind, MouseButton, MouseEventKind};
use ratatui::crossterm::{cursor, execute, queue, terminal};

use crate::catalog::{self, Catalog, ScanEvent, ScanOptions};
use crate::ops::{self, Plan, PlanKind, PlanOptions, Report};
use app::{App, Request};
use loader::{Loaded, Loader};
use theme::Theme;

/// Redraws caused by the scan come at most this often.
const SCAN_FRAME: Duration = Duration::from_millis(60);
/// Status messages fade after this long.
const MESSAGE_TTL: Duration = Duration::from_secs(4);

/// How the explorer runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Runs that wrote within this window are active.
    pub window: SignedDuration,
    /// How to scan.
    pub scan: ScanOptions,
    /// The config (keys, theme, key metrics, first sort).
    pub config: crate::config::Config,
    /// The experiment tracker, for backlinks.
    pub tracker: std::path::PathBuf,
}

/// Everything the event loop waits on, in one channel.
enum Msg {
    Input(Event),
    /// The terminal stopped answering (closed, or an SSH link dropped).
    InputGone,
    Scan(u64, ScanEvent),
    Loaded(Loaded),
    /// A plan was built.
    Planned(Box<Plan>),
    /// A plan is being applied: (done, total).
    Progress(usize, usize),
    /// A plan was applied.
    Applied(PlanKind, Box<Report>),
    /// Something changed in a watched folder.
    Fs,
    /// A quiet refresh finished (tagged with the generation it started from).
    Refreshed(u64, Box<Catalog>),
    /// A promotion finished: the artifact, or why not.
    Promoted(Result<std::path::PathBuf, String>),
    /// The tracker's links, by run.
    Backlinks(std::collections::HashMap<std::path::PathBuf, Vec<app::Backlink>>),
    /// A comparison read.
    Compared(Box<app::CompareView>),
    /// A plot decoded for a size.
    Plot(
        std::path::PathBuf,
        ratatui::layout::Size,
        Result<plot::Image, String>,
    ),
    /// Promotions and layout findings, by run.
    Layout(Box<app::LayoutNotes>),
}

/// Lets the event loop hand the terminal to another program: the input
/// thread stops reading (and says so) while `paused` is set.
#[derive(Default)]
struct InputPause {
    paused: AtomicBool,
    parked: AtomicBool,
}

/// Refreshes at most this often when the filesystem reports changes, so a
/// job writing thousands of files a second costs one refresh a second.
const REFRESH_MIN: Duration = Duration::from_secs(1);
/// Refreshes at least this often where changes cannot be watched (NFS), or
/// while a run is active (its sizes and metrics move).
const POLL_ACTIVE: Duration = Duration::from_secs(5);
/// And this often otherwise, as a safety net.
const POLL_IDLE: Duration = Duration::from_secs(30);
/// Watching more folders than this would exhaust inotify watches on big
/// trees; above it only the top levels are watched and polling does the rest.
const WATCH_LIMIT: usize = 4000;

/// Live refresh: a watcher on the folders where runs appear and on active
/// runs, and the timing of quiet refreshes.
struct Live {
    watcher: Option<notify::RecommendedWatcher>,
    watched: std::collections::HashSet<std::path::PathBuf>,
    /// Set by the watcher's thread; cleared when the loop takes note.
    flag: Arc<AtomicBool>,
    /// Runs the watcher saw change: the next refresh walks them whatever
    /// the cache says (a file appended in place changes no folder).
    touched: Arc<std::sync::Mutex<std::collections::HashSet<std::path::PathBuf>>>,
    dirty: bool,
    in_flight: bool,
    last: Instant,
}

impl Live {
    fn new(tx: Sender<Msg>, root: &Path) -> Live {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let touched: Arc<std::sync::Mutex<std::collections::HashSet<std::path::PathBuf>>> =
            Arc::default();
        let t = touched.clone();
        let experiments = root.join(crate::layout::EXPERIMENTS);
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let Ok(ev) = res else { return };
            if ev.kind.is_access() {
                return;
            }
            // The run each path is in: experiments/<task>/<model>/<run>.
            for p in &ev.paths {
                if let Ok(rel) = p.strip_prefix(&experiments) {
                    let parts: Vec<_> = rel.components().take(3).collect();
                    if parts.len() == 3 {
                        let run: std::path::PathBuf = parts.iter().collect();
                        t.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(experiments.join(run));
                    }
                }
            }
            // One message per burst: the flag is reset when the loop reads it.
            if !f.swap(true, Ordering::AcqRel) {
                let _ = tx.send(Msg::Fs);
            }
        })
        .ok();
        Live {
            watcher,
            watched: Default::default(),
            flag,
            touched,
            dirty: false,
            in_flight: false,
            last: Instant::now(),
        }
    }

    /// Watches where runs appear (root, experiments/, tasks, models) and,
    /// recursively, the runs that are active now.
    fn rewatch(&mut self, app: &App) {
        use notify::{RecursiveMode, Watcher};
        let Some(w) = &mut self.watcher else { return };
        let c = &app.catalog;
        let mut want: Vec<(std::path::PathBuf, RecursiveMode)> = vec![
            (c.root.clone(), RecursiveMode::NonRecursive),
            (
                c.root.join(crate::layout::EXPERIMENTS),
                RecursiveMode::NonRecursive,
            ),
        ];
        let experiments = c.root.join(crate::layout::EXPERIMENTS);
        for t in &c.tasks {
            want.push((experiments.join(&t.name), RecursiveMode::NonRecursive));
        }
        let models: usize = c.tasks.iter().map(|t| t.models.len()).sum();
        if models + want.len() <= WATCH_LIMIT {
            for t in &c.tasks {
                for m in &t.models {
                    want.push((
                        experiments.join(&t.name).join(&m.name),
                        RecursiveMode::NonRecursive,
                    ));
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
                want.push((c.runs[k].path.clone(), RecursiveMode::Recursive));
            }
        }
        let wanted: std::collections::HashSet<_> = want.iter().map(|(p, _)| p.clone()).collect();
        for gone in self
            .watched
            .difference(&wanted)
            .cloned()
            .collect::<Vec<_>>()
        {
            let _ = w.unwatch(&gone);
            self.watched.remove(&gone);
        }
        for (p, mode) in want {
            if !self.watched.contains(&p) && w.watch(&p, mode).is_ok() {
                self.watched.insert(p);
            }
        }
    }

    /// True when a quiet refresh should start now.
    fn due(&mut self, app: &App) -> bool {
        if self.in_flight || app.catalog.done.is_none() || app.applying.is_some() {
            return false;
        }
        if self.flag.swap(false, Ordering::AcqRel) {
            self.dirty = true;
        }
        let any_active = app.catalog.run_keys().any(|k| app.is_active(k));
        let poll = if self.watcher.is_none() || any_active {
            POLL_ACTIVE
        } else {
            POLL_IDLE
        };
        let since = self.last.elapsed();
        (self.dirty && since >= REFRESH_MIN) || since >= poll
    }

    /// Walks what changed since the last look, off the UI thread.
    fn start(&mut self, app: &App, opts: &ScanOptions, tx: &Sender<Msg>) {
        self.in_flight = true;
        self.dirty = false;
        self.last = Instant::now();
        let now = Timestamp::now().as_second();
        let mut cache =
            catalog::cache::ScanCache::from_catalog(&app.catalog, now, app.window.as_secs());
        // Runs the watcher saw change are walked whatever their folders say.
        let touched = std::mem::take(&mut *self.touched.lock().unwrap_or_else(|e| e.into_inner()));
        for run in touched {
            if let Ok(rel) = run.strip_prefix(&app.catalog.root) {
                cache.runs.remove(&*rel.to_string_lossy());
            }
        }
        let opts = ScanOptions {
            cache: Some(Arc::new(cache)),
            ..opts.clone()
        };
        let root = app.catalog.root.clone();
        let tag = app.generation;
        let tx = tx.clone();
        std::thread::Builder::new()
            .name("runyard-refresh".into())
            .spawn(move || {
                let c = catalog::scan(&root, opts);
                let _ = tx.send(Msg::Refreshed(tag, Box::new(c)));
            })
            .expect("spawning the refresh thread");
    }
}

/// Restores the terminal when dropped: on quit, on error, and on unwind.
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> anyhow::Result<(TerminalGuard, Terminal<CrosstermBackend<Stdout>>)> {
        terminal::enable_raw_mode().context("switching the terminal to raw mode")?;
        let guard = TerminalGuard;
        let mut out = std::io::stdout();
        execute!(
            out,
            terminal::EnterAlternateScreen,
            event::EnableMouseCapture,
            cursor::Hide
        )?;
        let terminal = Terminal::new(CrosstermBackend::new(out))?;
        Ok((guard, terminal))
    }
}

/// Puts the terminal back as the shell expects it. Safe to call twice.
fn restore_terminal() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        event::DisableMouseCapture,
        terminal::LeaveAlternateScreen,
        cursor::Show
    );
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Restores the terminal before a panic message is printed, so the message
/// is readable and the shell is usable.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
}

/// Runs the explorer on `root` until the user quits or the terminal goes away.
pub fn run(root: &Path, opts: Options) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGQUIT,
    ] {
        signal_hook::flag::register(sig, stop.clone()).context("installing signal handlers")?;
    }
    install_panic_hook();
    let (tx, rx) = mpsc::channel::<Msg>();
    let mut app = App::new(Catalog::new(root), opts.window, Theme::from_env());
    app.configure(&opts.config);
    app.tracker = Some(opts.tracker.clone());
    let loader = Loader::start(2, tx.clone(), Msg::Loaded);
    let mut scan_stop = start_scan(root, &opts.scan, app.generation, tx.clone());
    let (guard, mut term) = TerminalGuard::enter()?;
    app.graphics = plot::from_terminal();
    let pause = Arc::new(InputPause::default());
    spawn_input(tx.clone(), stop.clone(), pause.clone());
    let mut live = Live::new(tx.clone(), root);
    app.live = if live.watcher.is_some() {
        "watching"
    } else {
        "polling"
    };

    let mut dirty = true;
    let mut urgent = true;
    let mut last_draw = Instant::now();
    let result: anyhow::Result<()> = loop {
        if stop.load(Ordering::Relaxed) || app.quit {
            break Ok(());
        }
        if dirty && (urgent || last_draw.elapsed() >= SCAN_FRAME) {
            app.now = Timestamp::now();
            if let Err(e) = draw(&mut term, &mut app) {
                // Writing failed: the terminal is gone. Nothing to draw on.
                break Err(e).context("drawing to the terminal");
            }
            dirty = false;
            urgent = false;
            last_draw = Instant::now();
        }
        // Drawing asks for the files the visible rows need: send those
        // requests now, not after the next wait.
        if !app.outbox.is_empty() {
            let (redraw, note) = carry_out(&mut app, &loader, &tx, root, &opts, &mut scan_stop);
            dirty |= redraw;
            if let Some(note) = note {
                open_note(&mut term, &pause, &mut app, &note)?;
                dirty = true;
                urgent = true;
            }
        }
        let timeout = if dirty {
            SCAN_FRAME.saturating_sub(last_draw.elapsed())
        } else if app.catalog.done.is_none() || app.message.is_some() {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(1)
        };
        let first = match rx.recv_timeout(timeout) {
            Ok(msg) => Some(msg),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break Ok(()),
        };
        // Take what else is waiting before drawing, so a burst of scan
        // events costs one frame.
        let mut budget = 2000;
        let mut next = first;
        while let Some(msg) = next {
            match msg {
                Msg::Input(ev) => {
                    if handle_input(&mut app, ev) {
                        urgent = true;
                    }
                }
                Msg::InputGone => app.quit = true,
                Msg::Scan(g, ev) if g == app.generation => {
                    let finished = matches!(ev, ScanEvent::Done(_));
                    app.apply_scan(ev);
                    if finished {
                        app.forget_vanished_marks();
                        save_cache(&app);
                        live.rewatch(&app);
                        live.last = Instant::now();
                        app.outbox.push(Request::Backlinks);
                    }
                }
                Msg::Fs => live.dirty = true,
                Msg::Backlinks(b) => app.backlinks = b,
                Msg::Compared(view) => {
                    app.compare = Some(*view);
                    app.message = None;
                    urgent = true;
                }
                Msg::Plot(path, size, image) => {
                    app.plot_decoded(path, size, image);
                    urgent = true;
                }
                Msg::Layout(notes) => (app.promoted_from, app.findings) = *notes,
                Msg::Promoted(r) => {
                    // The run pane lists what was promoted: read it again.
                    if r.is_ok() {
                        app.outbox.push(Request::Backlinks);
                    }
                    app.promoted(r);
                    urgent = true;
                }
                Msg::Refreshed(tag, c) => {
                    live.in_flight = false;
                    // A rescan started meanwhile: its result wins.
                    if tag == app.generation && app.catalog.done.is_some() {
                        app.swap_catalog(*c);
                        live.rewatch(&app);
                        app.outbox.push(Request::Backlinks);
                    }
                }
                Msg::Scan(..) => {}
                Msg::Loaded(Loaded::Summary(g, k, p, s)) => app.summary_loaded(g, k, &p, *s),
                Msg::Loaded(Loaded::Details(g, k, p, d)) => app.details_loaded(g, k, &p, *d),
                Msg::Planned(plan) => {
                    app.apply_planned(*plan);
                    urgent = true;
                }
                Msg::Progress(done, total) => app.applying = Some((done, total)),
                Msg::Applied(kind, report) => {
                    app.apply_report(kind, *report);
                    urgent = true;
                }
            }
            dirty = true;
            budget -= 1;
            next = if budget > 0 && !urgent {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        if let Some((_, at)) = &app.message
            && at.elapsed() > MESSAGE_TTL
        {
            app.message = None;
            dirty = true;
        }
        if app.catalog.done.is_none() {
            dirty = true; // the spinner and counters move
        }
        if live.due(&app) {
            live.start(&app, &opts.scan, &tx);
        }
        let (redraw, note) = carry_out(&mut app, &loader, &tx, root, &opts, &mut scan_stop);
        dirty |= redraw;
        if let Some(note) = note {
            open_note(&mut term, &pause, &mut app, &note)?;
            dirty = true;
            urgent = true;
        }
    };
    scan_stop.store(true, Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    drop(guard);
    result
}

/// Carries out the app's requests off the UI thread. Returns whether a
/// redraw is due, and a note to show in the pager (that needs the terminal).
fn carry_out(
    app: &mut App,
    loader: &Loader,
    tx: &Sender<Msg>,
    root: &Path,
    opts: &Options,
    scan_stop: &mut Arc<AtomicBool>,
) -> (bool, Option<std::path::PathBuf>) {
    let mut dirty = false;
    let mut note = None;
    for req in std::mem::take(&mut app.outbox) {
        match req {
            Request::Summaries(v) => loader.summaries(app.generation, v),
            Request::Details(k, p) => loader.details(app.generation, k, p),
            Request::Plan(kind, runs) => {
                let tx = tx.clone();
                let root = app.catalog.root.clone();
                let opts = PlanOptions {
                    force: false,
                    window: app.window,
                    now: Timestamp::now(),
                };
                std::thread::spawn(move || {
                    let plan = ops::plan_for(kind, &root, &runs, &opts);
                    let _ = tx.send(Msg::Planned(Box::new(plan)));
                });
            }
            Request::Apply(plan) => {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    let last = std::sync::Mutex::new(Instant::now());
                    let progress = |done: usize, total: usize| {
                        let mut at = last.lock().unwrap_or_else(|e| e.into_inner());
                        if at.elapsed() > Duration::from_millis(100) {
                            *at = Instant::now();
                            let _ = tx.send(Msg::Progress(done, total));
                        }
                    };
                    let report = ops::apply(&plan, 2, &progress);
                    let _ = tx.send(Msg::Applied(plan.kind, Box::new(report)));
                });
            }
            Request::OpenNote(path) => note = Some(path),
            Request::Promote(path, what, name) => {
                let tx = tx.clone();
                let root = app.catalog.root.clone();
                let run = app.catalog.runs.iter().find(|r| r.path == path).cloned();
                std::thread::spawn(move || {
                    let result = match run {
                        None => Err("the run is gone".to_string()),
                        Some(run) => {
                            let today = jiff::ZonedDateTime::now().date();
                            ops::promote::plan(&root, &run, what, name.as_deref(), today)
                                .and_then(|p| ops::promote::apply(&root, &p, &run))
                        }
                    };
                    let _ = tx.send(Msg::Promoted(result));
                });
            }
            Request::Copy(text) => {
                // Straight to the terminal between frames: ratatui never
                // draws escape sequences of its own.
                let mut out = std::io::stdout();
                let _ = out.write_all(app::osc52(&text).as_bytes());
                let _ = out.flush();
            }
            Request::OpenExternal(path) => {
                let (program, args): (String, Vec<String>) = match &app.plot_opener {
                    Some(cmd) => {
                        let mut words = cmd.split_whitespace().map(str::to_string);
                        (words.next().unwrap_or_default(), words.collect())
                    }
                    None if cfg!(target_os = "macos") => ("open".into(), Vec::new()),
                    None => ("xdg-open".into(), Vec::new()),
                };
                // Detached, with no terminal: a viewer must not draw over the explorer.
                let spawned = std::process::Command::new(&program)
                    .args(&args)
                    .arg(&path)
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn();
                match spawned {
                    Ok(mut child) => {
                        // Reap it when it exits, so no zombie is left behind.
                        std::thread::spawn(move || child.wait());
                    }
                    Err(e) => app.say(format!("could not run {program}: {e}")),
                }
            }
            Request::Compare(runs) => {
                let tx = tx.clone();
                let configured = app.key_metrics.clone();
                std::thread::spawn(move || {
                    let view = app::CompareView::load(&runs, &configured);
                    let _ = tx.send(Msg::Compared(Box::new(view)));
                });
            }
            Request::DecodePlot(path, size) => {
                let tx = tx.clone();
                let graphics = app.graphics.clone();
                std::thread::spawn(move || {
                    let image = plot::decode(&graphics, &path, size);
                    let _ = tx.send(Msg::Plot(path, size, image));
                });
            }
            Request::Backlinks => {
                let tx = tx.clone();
                let catalog = app.catalog.clone();
                let tracker = opts.tracker.clone();
                std::thread::spawn(move || {
                    let (checked, _) = crate::tracker::check_all(&catalog, &tracker);
                    let _ = tx.send(Msg::Backlinks(app::backlinks_of(&checked, &catalog.root)));
                    let _ = tx.send(Msg::Layout(Box::new(app::layout_notes(&catalog))));
                });
            }
            Request::Rescan => {
                scan_stop.store(true, Ordering::Relaxed);
                loader.clear();
                // Asked to look again: trust nothing from before.
                let fresh = ScanOptions {
                    cache: None,
                    ..opts.scan.clone()
                };
                *scan_stop = start_scan(root, &fresh, app.generation, tx.clone());
                dirty = true;
            }
        }
    }
    (dirty, note)
}

/// Shows a note in `$PAGER` (else `less`), handing the terminal over and
/// taking it back after, the way git does.
fn open_note(
    term: &mut Terminal<CrosstermBackend<Stdout>>,
    pause: &InputPause,
    app: &mut App,
    note: &Path,
) -> anyhow::Result<()> {
    pause.paused.store(true, Ordering::SeqCst);
    // Wait for the input thread to stop reading, so the pager gets every key.
    let deadline = Instant::now() + Duration::from_millis(600);
    while !pause.parked.load(Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    restore_terminal();
    let pager = std::env::var("PAGER")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| "less".into());
    let mut words = pager.split_whitespace();
    let program = words.next().unwrap_or("less");
    let status = std::process::Command::new(program)
        .args(words)
        .arg(note)
        .status();
    terminal::enable_raw_mode()?;
    execute!(
        std::io::stdout(),
        terminal::EnterAlternateScreen,
        event::EnableMouseCapture,
        cursor::Hide
    )?;
    term.clear()?;
    pause.paused.store(false, Ordering::SeqCst);
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => app.say(format!("{pager} exited with {s}")),
        Err(e) => app.say(format!("cannot start {pager}: {e} (set $PAGER)")),
    }
    Ok(())
}

/// Writes the scan cache of a finished scan, off the UI thread.
fn save_cache(app: &App) {
    let Some(stats) = app.catalog.done else {
        return;
    };
    let Some(path) = catalog::cache::cache_path(&app.catalog.root) else {
        return;
    };
    let bytes = catalog::cache::encode(&app.catalog, stats.started_at, app.window.as_secs());
    std::thread::spawn(move || {
        let _ = catalog::cache::write_bytes(&path, &bytes);
    });
}

/// Draws one frame inside a synchronized update, so terminals that support
/// it show whole frames only (no tearing over slow links).
fn draw(term: &mut Terminal<CrosstermBackend<Stdout>>, app: &mut App) -> anyhow::Result<()> {
    queue!(term.backend_mut(), terminal::BeginSynchronizedUpdate)?;
    term.draw(|f| ui::draw(f, app))?;
    queue!(term.backend_mut(), terminal::EndSynchronizedUpdate)?;
    term.backend_mut().flush()?;
    Ok(())
}

/// Turns a terminal event into actions. Returns true when it should redraw at once.
fn handle_input(app: &mut App, ev: Event) -> bool {
    let action = match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => {
            let action = keymap::dispatch(&app.bindings, app.mode(), &k);
            if action.is_some() {
                app.message = None;
            }
            action
        }
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollDown => Some(action::Action::Wheel(true, m.column, m.row)),
            MouseEventKind::ScrollUp => Some(action::Action::Wheel(false, m.column, m.row)),
            MouseEventKind::Down(MouseButton::Left) => Some(action::Action::Click(m.column, m.row)),
            _ => None,
        },
        Event::Resize(..) => return true,
        _ => None,
    };
    match action {
        Some(a) => {
            update::update(app, a);
            true
        }
        None => false,
    }
}

/// Reads the terminal on its own thread. It polls so that it notices when
/// the app has stopped, and reports when the terminal goes away.
fn spawn_input(tx: Sender<Msg>, stop: Arc<AtomicBool>, pause: Arc<InputPause>) {
    std::thread::Builder::new()
        .name("runyard-input".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if pause.paused.load(Ordering::SeqCst) {
                    pause.parked.store(true, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                pause.parked.store(false, Ordering::SeqCst);
                match event::poll(Duration::from_millis(200)) {
                    Ok(false) => continue,
                    Ok(true) => match event::read() {
                        Ok(ev) => {
                            if tx.send(Msg::Input(ev)).is_err() {
                                return;
                            }
                        }
                        Err(_) => break,
                    },
                    Err(_) => break,
                }
            }
            let _ = tx.send(Msg::InputGone);
        })
        .expect("spawning the input thread");
}

/// Starts a scan whose events reach the loop tagged with `generation`.
/// Returns a flag that stops forwarding (which drops, and so cancels, the scan).
fn start_scan(
    root: &Path,
    opts: &ScanOptions,
    generation: u64,
    tx: Sender<Msg>,
) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let handle = catalog::spawn(root, opts.clone());
    std::thread::Builder::new()
        .name("runyard-scan-events".into())
        .spawn(move || {
            for ev in handle.events.iter() {
                if flag.load(Ordering::Relaxed) || tx.send(Msg::Scan(generation, ev)).is_err() {
                    break;
                }
            }
        })
        .expect("spawning the scan forwarder");
    stop
}
