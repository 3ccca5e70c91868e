//! The interactive explorer: terminal setup and restore, and the one event
//! loop. The loop turns what happens (keys, the mouse, worker answers,
//! what a frame measured, the clock) into [`msg::Msg`]s for
//! [`update::update`], the only place state changes, and hands the
//! [`msg::Request`]s it returns to the workers ([`loader::Workers`], which
//! run [`effects::perform`]), or carries out the few that need the
//! terminal itself (clipboard, pager, watcher).
//!
//! ```text
//!  keys, mouse ─┐                         ┌─▶ Workers ─ perform(Request) ─┐
//!  ticks ───────┼─▶ Msg ─▶ update(&mut App) ─▶ Vec<Request>               │
//!  watcher ─────┤              ▲           └─▶ loop: OSC 52, $PAGER, watch │
//!  workers ─────┘◀─────────────┼─────────────────── Msg ◀──────────────────┘
//!                ui::draw(&App) ─▶ DrawReport ─▶ Msg::Drawn
//! ```

pub mod app;
pub mod edit;
pub mod effects;
pub mod keymap;
pub mod loader;
pub mod msg;
pub mod notes;
pub mod overlay;
pub mod picture;
pub mod plot;
pub mod query_filter;
pub mod run_view;
pub mod theme;
pub mod tree;
pub mod ui;
pub mod update;
pub mod watch;

use std::collections::HashSet;
use std::io::{Stdout, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use jiff::{SignedDuration, Timestamp};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event, KeyEventKind, MouseButton, MouseEventKind};
use ratatui::crossterm::{cursor, execute, queue, terminal};

use crate::catalog::{Catalog, ScanOptions};
use app::{App, Settings};
use loader::Workers;
use msg::{Msg, Request};
use theme::Theme;
use ui::DrawReport;

/// Timing spans for profiling the loop: with `RUNYARD_FRAME_LOG=FILE` set,
/// each frame appends one line to FILE with what led to it (the keys, the
/// rebuild of the rows, the drawing) in microseconds. Off, a span costs a
/// thread-local read.
pub mod spans {
    use std::cell::RefCell;
    use std::io::Write;
    use std::time::{Duration, Instant};

    /// The log file and the spans of the frame being made.
    type Log = Option<(std::fs::File, Vec<(&'static str, Duration)>)>;

    thread_local! {
        static LOG: RefCell<Log> =
            RefCell::new(
                std::env::var_os("RUNYARD_FRAME_LOG")
                    .and_then(|p| std::fs::OpenOptions::new().create(true).append(true).open(p).ok())
                    .map(|f| (f, Vec::new())),
            );
    }

    /// Runs `f`, recording how long it took under `name` when logging.
    pub fn span<T>(name: &'static str, f: impl FnOnce() -> T) -> T {
        let on = LOG.with(|l| l.borrow().is_some());
        if !on {
            return f();
        }
        let start = Instant::now();
        let out = f();
        let took = start.elapsed();
        LOG.with(|l| {
            if let Some((_, spans)) = l.borrow_mut().as_mut() {
                spans.push((name, took));
            }
        });
        out
    }

    /// Writes the spans recorded since the last call as one line.
    pub fn flush(label: &str) {
        LOG.with(|l| {
            if let Some((file, spans)) = l.borrow_mut().as_mut() {
                if spans.is_empty() {
                    return;
                }
                let mut line = label.to_string();
                for (name, d) in spans.drain(..) {
                    line.push_str(&format!(" {name}={}", d.as_micros()));
                }
                let _ = writeln!(file, "{line}");
            }
        });
    }
}

/// Redraws caused by the scan come at most this often.
const SCAN_FRAME: Duration = Duration::from_millis(60);

/// How long without a key before [`Msg::Idle`] readies the next one's work.
const IDLE_AFTER: Duration = Duration::from_millis(500);

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

/// What reaches the loop: a worker's answer, a terminal event (read as
/// keys in the mode the app is in when it is handled), or the watcher's nudge.
enum Event2 {
    Msg(Msg),
    Input(Event),
    /// Something changed in a watched folder (the runs are in `Watch::touched`).
    Fs,
}

/// Lets the event loop hand the terminal to another program: the input
/// thread stops reading (and says so) while `paused` is set.
#[derive(Default)]
struct InputPause {
    paused: AtomicBool,
    parked: AtomicBool,
}

/// The filesystem watcher the loop owns: `Request::Watch` says what to
/// watch; changes come back as `Msg::Changed`.
struct Watch {
    watcher: Option<notify::RecommendedWatcher>,
    watched: HashSet<PathBuf>,
    /// Set by the watcher's thread; cleared when the loop takes note.
    flag: Arc<AtomicBool>,
    /// Runs the watcher saw change since the loop last looked.
    touched: Arc<Mutex<HashSet<PathBuf>>>,
}

impl Watch {
    fn new(tx: Sender<Event2>, root: &Path) -> Watch {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let touched: Arc<Mutex<HashSet<PathBuf>>> = Arc::default();
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
                        let run: PathBuf = parts.iter().collect();
                        t.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(experiments.join(run));
                    }
                }
            }
            // One message per burst: the flag is reset when the loop reads it.
            if !f.swap(true, Ordering::AcqRel) {
                let _ = tx.send(Event2::Fs);
            }
        })
        // No watcher (inotify limits, an unsupported filesystem): the tree
        // is polled instead, and the status line says "polling".
        .ok();
        Watch {
            watcher,
            watched: HashSet::new(),
            flag,
            touched,
        }
    }

    /// The runs that changed since the last look.
    fn take(&self) -> Vec<PathBuf> {
        self.flag.store(false, Ordering::Release);
        let mut t = self.touched.lock().unwrap_or_else(|e| e.into_inner());
        t.drain().collect()
    }

    /// Watches exactly `want` (recursively where true).
    fn set(&mut self, want: Vec<(PathBuf, bool)>) {
        use notify::{RecursiveMode, Watcher};
        let Some(w) = &mut self.watcher else { return };
        let wanted: HashSet<_> = want.iter().map(|(p, _)| p.clone()).collect();
        for gone in self
            .watched
            .difference(&wanted)
            .cloned()
            .collect::<Vec<_>>()
        {
            let _ = w.unwatch(&gone);
            self.watched.remove(&gone);
        }
        for (p, recursive) in want {
            let mode = if recursive {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            if !self.watched.contains(&p) && w.watch(&p, mode).is_ok() {
                self.watched.insert(p);
            }
        }
    }
}

/// What a frame shows that `Msg::Drawn` can change: the tree's page,
/// scroll and selection, and the panes' scrolls and focus. When it stays
/// the same, the frame just drawn needs no redraw.
#[derive(PartialEq)]
struct Drawn {
    tree: (usize, usize, usize, usize, bool),
    panes: [u16; 3],
    focus: (app::Focus, app::Focus),
}

impl Drawn {
    fn of(app: &App) -> Drawn {
        let t = &app.tree;
        let p = &app.panes;
        Drawn {
            tree: (t.page, t.offset, t.selected, t.rows.len(), t.rows_dirty),
            panes: [p.info.offset, p.metrics.offset, p.disk.offset],
            focus: (app.focus, app.tab),
        }
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
    let mut settings = Settings::new(opts.window, Theme::from_env()).configured(&opts.config);
    settings.tracker = Some(opts.tracker.clone());
    let (tx, rx) = mpsc::channel::<Event2>();
    let (work_tx, work_rx) = mpsc::channel::<Msg>();
    // Worker answers join the loop's one channel.
    {
        let tx = tx.clone();
        std::thread::Builder::new()
            .name("runyard-answers".into())
            .spawn(move || {
                for m in work_rx {
                    if tx.send(Event2::Msg(m)).is_err() {
                        return;
                    }
                }
            })
            .context("starting the explorer")?;
    }
    let workers = Workers::start(
        2,
        effects::Env::new(opts.scan.clone()),
        work_tx,
        Arc::new(AtomicBool::new(false)),
    );
    let (guard, mut term) = TerminalGuard::enter()?;
    settings.graphics = plot::from_terminal();
    let pause = Arc::new(InputPause::default());
    spawn_input(tx.clone(), stop.clone(), pause.clone());
    let mut watch = Watch::new(tx.clone(), root);
    settings.live = if watch.watcher.is_some() {
        "watching"
    } else {
        "polling"
    };
    let mut app = App::new(Catalog::new(root), settings);
    let mut pending = vec![Request::Scan {
        root: root.to_path_buf(),
        generation: app.generation,
    }];

    let mut dirty = true;
    let mut urgent = true;
    let mut last_draw = Instant::now();
    let mut last_input = Instant::now();
    let mut last_report = DrawReport::default();
    let result: anyhow::Result<()> = loop {
        if stop.load(Ordering::Relaxed) || app.quit {
            break Ok(());
        }
        for req in pending.drain(..) {
            match req {
                Request::Copy(text) => {
                    // Straight to the terminal between frames: ratatui never
                    // draws escape sequences of its own.
                    let mut out = std::io::stdout();
                    let _ = out.write_all(osc52(&text).as_bytes());
                    let _ = out.flush();
                }
                Request::OpenNote(note) => {
                    if let Some(said) = open_note(&mut term, &pause, &note)? {
                        let _ = tx.send(Event2::Msg(Msg::Say(said)));
                    }
                    dirty = true;
                    urgent = true;
                }
                Request::Watch(want) => watch.set(want),
                other => workers.run(other),
            }
        }
        if dirty && (urgent || last_draw.elapsed() >= SCAN_FRAME) {
            pending.extend(spans::span("tick", || {
                update::update(&mut app, Msg::Tick(Instant::now(), Timestamp::now()))
            }));
            let report = match spans::span("draw", || draw(&mut term, &app)) {
                Ok(r) => r,
                // Writing failed: the terminal is gone. Nothing to draw on.
                Err(e) => break Err(e).context("drawing to the terminal"),
            };
            dirty = false;
            urgent = false;
            last_draw = Instant::now();
            spans::flush("frame");
            if report != last_report {
                // What the frame measured may move the selection or ask for
                // a plot: tell update, and draw again with what it decided.
                // Mostly it only learns how far each pane scrolls, which
                // no frame shows: then the frame on screen is already the
                // one a redraw would make (on a task or the root of a big
                // tree a frame costs tens of milliseconds, so not twice).
                last_report = report;
                let before = Drawn::of(&app);
                let asked = spans::span("drawn", || update::update(&mut app, Msg::Drawn(report)));
                if !asked.is_empty() || app.overlay.is_some() || Drawn::of(&app) != before {
                    dirty = true;
                    urgent = true;
                }
                pending.extend(asked);
            }
            if !pending.is_empty() {
                continue;
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
            Ok(ev) => Some(ev),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break Ok(()),
        };
        // Quiet for a while: ready what the next key may need, before it
        // comes rather than when it does.
        if first.is_none() && last_input.elapsed() >= IDLE_AFTER {
            spans::span("idle", || update::update(&mut app, Msg::Idle));
        }
        // Take what else is waiting before drawing, so a burst of scan
        // events costs one frame.
        let mut budget = 2000;
        let mut next = first;
        while let Some(ev) = next {
            let msg = match ev {
                Event2::Fs => Some(Msg::Changed(watch.take())),
                Event2::Input(Event::Resize(..)) => {
                    urgent = true;
                    None
                }
                Event2::Input(ev) => input(&app, ev),
                Event2::Msg(m) => {
                    // Answers that open or fill a view are drawn at once.
                    if matches!(
                        m,
                        Msg::Planned(_)
                            | Msg::Applied(..)
                            | Msg::Compared(_)
                            | Msg::Plot(..)
                            | Msg::Promoted(_)
                            | Msg::PromotePlanned(..)
                            | Msg::Replanned(..)
                            | Msg::Say(_)
                    ) {
                        urgent = true;
                    }
                    // The selected run's files are what the key that
                    // selected it waits for: drawn at once, not at the next
                    // scan frame (up to 60 ms later on every move onto a run).
                    if let Msg::Details(_, k, ..) | Msg::Summary(_, k, ..) = &m
                        && app.selected_run() == Some(*k)
                    {
                        urgent = true;
                    }
                    // The first runs found (from the scan cache, on a
                    // re-open) are drawn at once rather than at the next
                    // scan frame: the tree on screen is what the user waits for.
                    if app.catalog.runs.is_empty()
                        && matches!(m, Msg::Scan(g, crate::catalog::ScanEvent::Run(_)) if g == app.generation)
                    {
                        urgent = true;
                    }
                    Some(m)
                }
            };
            if let Some(m) = msg {
                if matches!(m, Msg::Key(_) | Msg::Click(..) | Msg::Wheel(..)) {
                    urgent = true;
                    last_input = Instant::now();
                }
                // Background answers mark the rows stale; the tick below
                // rebuilds them once for the frame.
                let settle = !matches!(m, Msg::Scan(..) | Msg::Summary(..));
                if matches!(m, Msg::Key(_)) {
                    pending.extend(spans::span("key", || {
                        update::update_in_batch(&mut app, m, settle)
                    }));
                } else if matches!(m, Msg::Refreshed(..)) {
                    // Timed: a refresh swaps in a catalog of every run.
                    pending.extend(spans::span("refreshed", || {
                        update::update_in_batch(&mut app, m, settle)
                    }));
                } else {
                    pending.extend(update::update_in_batch(&mut app, m, settle));
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
        if app.catalog.done.is_none() {
            dirty = true; // the spinner and counters move
        }
        // The clock: messages fade, quiet refreshes start when due.
        let had_message = app.message.is_some();
        pending.extend(spans::span("tick", || {
            update::update(&mut app, Msg::Tick(Instant::now(), Timestamp::now()))
        }));
        dirty |= had_message != app.message.is_some();
    };
    stop.store(true, Ordering::Relaxed);
    drop(workers);
    drop(guard);
    result
}

/// Shows a note in `$PAGER` (else `less`), handing the terminal over and
/// taking it back after, the way git does.
/// Returns what to say when the pager failed.
fn open_note(
    term: &mut Terminal<CrosstermBackend<Stdout>>,
    pause: &InputPause,
    note: &Path,
) -> anyhow::Result<Option<String>> {
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
    Ok(match status {
        Ok(s) if s.success() => None,
        Ok(s) => Some(format!("{pager} exited with {s}")),
        Err(e) => Some(format!("cannot start {pager}: {e} (set $PAGER)")),
    })
}

/// The OSC 52 sequence that puts `text` on the terminal's clipboard.
pub fn osc52(text: &str) -> String {
    use base64::Engine;
    format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(text)
    )
}

/// Draws one frame inside a synchronized update, so terminals that support
/// it show whole frames only (no tearing over slow links).
fn draw(term: &mut Terminal<CrosstermBackend<Stdout>>, app: &App) -> anyhow::Result<DrawReport> {
    queue!(term.backend_mut(), terminal::BeginSynchronizedUpdate)?;
    let mut report = DrawReport::default();
    term.draw(|f| report = ui::draw(f, app))?;
    queue!(term.backend_mut(), terminal::EndSynchronizedUpdate)?;
    term.backend_mut().flush()?;
    Ok(report)
}

/// Turns a terminal event into a message, reading keys in `app`'s mode.
fn input(app: &App, ev: Event) -> Option<Msg> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => {
            keymap::dispatch(&app.settings.bindings, app.mode(), &k).map(Msg::Key)
        }
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollDown => Some(Msg::Wheel(true, m.column, m.row)),
            MouseEventKind::ScrollUp => Some(Msg::Wheel(false, m.column, m.row)),
            MouseEventKind::Down(MouseButton::Left) => Some(Msg::Click(m.column, m.row)),
            _ => None,
        },
        _ => None,
    }
}

/// Reads the terminal on its own thread. It polls so that it notices when
/// the app has stopped, and reports when the terminal goes away.
fn spawn_input(tx: Sender<Event2>, stop: Arc<AtomicBool>, pause: Arc<InputPause>) {
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
                            if tx.send(Event2::Input(ev)).is_err() {
                                return;
                            }
                        }
                        Err(_) => break,
                    },
                    Err(_) => break,
                }
            }
            let _ = tx.send(Event2::Msg(Msg::Quit));
        })
        .expect("spawning the input thread");
}
