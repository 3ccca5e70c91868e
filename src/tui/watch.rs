//! The logs pane's state and keys: a run's log files, tailed on the
//! loader's pool from the offset of the last read ([`crate::runs::logs`]),
//! the last [`LINES_KEPT`] lines kept, following the end until the user
//! scrolls, searched with `/` and `n`/`N`.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::app::App;
use super::keymap::Action;
use super::msg::Request;
use super::overlay::Overlay;
use crate::runs::logs::Chunk;

/// Lines kept of a log; older ones are dropped (and counted).
pub const LINES_KEPT: usize = 5000;

/// How often a log is read again while the pane is open and the log
/// grows: a live run's new lines show within this.
const POLL: Duration = Duration::from_millis(250);

/// Reads that brought nothing slow the polling down, to at most this
/// many times [`POLL`] (2 s) for a log that stopped growing.
const IDLE_BACKOFF: u32 = 8;

/// A log read: what the pane asked, and what came back.
#[derive(Debug)]
pub struct LogRead {
    /// The run folder.
    pub run: PathBuf,
    /// The run's log files, when the read listed them (the first read).
    pub files: Option<Vec<String>>,
    /// The file read, relative to the run (`None`: the run has no log).
    pub rel: Option<String>,
    /// The new lines, or why the file could not be read.
    pub result: Result<Chunk, String>,
}

/// Reads a log on a worker: lists the run's logs first when `rel` is
/// `None` and reads the first of them.
pub fn perform(
    run: PathBuf,
    rel: Option<String>,
    from: Option<u64>,
    tool_logs: &[String],
) -> LogRead {
    let (files, rel) = match rel {
        Some(r) => (None, Some(r)),
        None => {
            let files = crate::runs::logs::log_files(&run, tool_logs);
            let first = files.first().cloned();
            (Some(files), first)
        }
    };
    let result = match &rel {
        Some(r) => crate::runs::logs::read_from(&run, r, from),
        None => Err(
            "no log file: looked for *.log, logs/, Hydra's <job>.log and W&B's files/output.log"
                .into(),
        ),
    };
    LogRead {
        run,
        files,
        rel,
        result,
    }
}

/// The logs pane.
#[derive(Debug)]
pub struct LogsView {
    /// The run folder.
    pub run: PathBuf,
    /// The run's label (task/model/run_id).
    pub label: String,
    /// Logs named by other tools' files (Hydra, W&B), relative to the run.
    tool_logs: Vec<String>,
    /// The run's log files (empty until the first read lists them).
    pub files: Vec<String>,
    /// The file shown.
    pub file: usize,
    /// The last lines read, oldest first.
    pub lines: VecDeque<String>,
    /// Lines before `lines`: dropped over the cap, or before the tail
    /// the first read started from (`skipped`).
    pub dropped: u64,
    /// True when the file's start was not read (a long log's tail).
    pub skipped: bool,
    /// Where the next read starts; `None` before the first.
    offset: Option<u64>,
    /// True while the view sticks to the end.
    pub follow: bool,
    /// The first line shown when not following.
    pub top: usize,
    /// The search typed after `/`.
    pub search: String,
    /// True while the search is being typed.
    pub typing: bool,
    /// The line of the current match.
    pub current: Option<usize>,
    /// Why the log cannot be read, if it cannot.
    pub error: Option<String>,
    /// A read is on its way.
    in_flight: bool,
    /// The run view it was opened from, restored on close.
    pub back: Option<Box<super::run_view::RunView>>,
    /// When the last read was asked.
    asked: Option<Instant>,
    /// Reads in a row that brought no new line.
    idle_reads: u32,
}

impl LogsView {
    /// The pane for the run at `run`, nothing read yet.
    pub fn new(run: PathBuf, label: String, tool_logs: Vec<String>) -> LogsView {
        LogsView {
            run,
            label,
            tool_logs,
            files: Vec::new(),
            file: 0,
            lines: VecDeque::new(),
            dropped: 0,
            skipped: false,
            offset: None,
            follow: true,
            top: 0,
            search: String::new(),
            typing: false,
            current: None,
            error: None,
            in_flight: false,
            asked: None,
            idle_reads: 0,
            back: None,
        }
    }

    /// The next read, when one is due and none is on its way.
    pub fn due(&mut self, at: Instant) -> Option<Request> {
        let every = POLL * (1 + self.idle_reads / 4).min(IDLE_BACKOFF);
        if self.in_flight
            || self
                .asked
                .is_some_and(|a| at.saturating_duration_since(a) < every)
        {
            return None;
        }
        self.in_flight = true;
        self.asked = Some(at);
        Some(Request::ReadLog {
            run: self.run.clone(),
            rel: self.files.get(self.file).cloned(),
            from: self.offset,
            tool_logs: self.tool_logs.clone(),
        })
    }

    /// Takes a read's answer: new lines appended (the oldest dropped over
    /// the cap), a truncated file started again.
    pub fn read(&mut self, r: LogRead) {
        self.in_flight = false;
        if let Some(files) = r.files {
            self.files = files;
            self.file = 0;
        }
        if r.rel.as_ref() != self.files.get(self.file) {
            // An answer for the file shown before Tab: the next read is asked anew.
            return;
        }
        match r.result {
            Err(e) => self.error = Some(e),
            Ok(chunk) => {
                self.error = None;
                if chunk.restarted {
                    self.lines.clear();
                    self.dropped = 0;
                    self.top = 0;
                }
                if chunk.skipped {
                    self.skipped = true;
                }
                self.offset = Some(chunk.offset);
                self.idle_reads = if chunk.lines.is_empty() {
                    self.idle_reads.saturating_add(1)
                } else {
                    0
                };
                self.lines.extend(chunk.lines);
                let over = self.lines.len().saturating_sub(LINES_KEPT);
                if over > 0 {
                    self.lines.drain(..over);
                    self.dropped += over as u64;
                    self.top = self.top.saturating_sub(over);
                }
            }
        }
    }

    /// Shows another log file (`step` ±1), read from its tail.
    fn switch(&mut self, step: isize) {
        let n = self.files.len();
        if n < 2 {
            return;
        }
        self.file = (self.file as isize + step).rem_euclid(n as isize) as usize;
        self.lines.clear();
        self.offset = None;
        self.dropped = 0;
        self.skipped = false;
        self.follow = true;
        self.top = 0;
        self.current = None;
        self.error = None;
        // Ask at once, whatever the last file had on its way.
        self.in_flight = false;
        self.asked = None;
    }

    /// Lines that hold the search (ASCII case-insensitive), in order.
    pub fn matches(&self) -> Vec<usize> {
        if self.search.is_empty() {
            return Vec::new();
        }
        let needle = self.search.to_ascii_lowercase();
        self.lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.to_ascii_lowercase().contains(&needle))
            .map(|(i, _)| i)
            .collect()
    }

    /// The first line shown in a body of `height` rows.
    pub fn first_shown(&self, height: usize) -> usize {
        let last_top = self.lines.len().saturating_sub(height);
        if self.follow {
            last_top
        } else {
            self.top.min(last_top)
        }
    }

    /// Scrolls by `delta` lines; reaching the end follows again.
    fn scroll(&mut self, delta: isize, page: usize) {
        let from = self.first_shown(page);
        let last_top = self.lines.len().saturating_sub(page);
        let to = (from as isize + delta).clamp(0, last_top as isize) as usize;
        self.top = to;
        self.follow = delta > 0 && to >= last_top;
    }

    /// Jumps to the next (`forward`) or previous match from the view, and
    /// shows it a third of the way down.
    fn jump(&mut self, forward: bool, page: usize) {
        let m = self.matches();
        let at = self.current.unwrap_or_else(|| self.first_shown(page));
        let next = if forward {
            m.iter().copied().find(|&i| i > at).or(m.first().copied())
        } else {
            m.iter()
                .rev()
                .copied()
                .find(|&i| i < at)
                .or(m.last().copied())
        };
        if let Some(i) = next {
            self.current = Some(i);
            self.follow = false;
            self.top = i.saturating_sub(page / 3);
        }
    }
}

/// Opens the logs pane on the selected run.
pub fn open(app: &mut App) {
    let Some(k) = app.selected_run() else {
        app.say("select a run to read its logs");
        return;
    };
    let r = &app.catalog.runs[k];
    let tool_logs: Vec<String> = app
        .selected_details()
        .map(|d| {
            d.logs
                .iter()
                .filter(|f| !f.is_dir)
                .map(|f| f.rel.clone())
                .collect()
        })
        .unwrap_or_default();
    let mut view = LogsView::new(r.path.clone(), r.label(), tool_logs);
    if let Some(req) = view.due(Instant::now()) {
        app.outbox.push(req);
    }
    app.overlay = Some(Overlay::Logs(Box::new(view)));
}

/// Asks the next read of an open logs pane, when due.
pub fn tick(app: &mut App, at: Instant) {
    if let Some(Overlay::Logs(v)) = &mut app.overlay
        && let Some(req) = v.due(at)
    {
        app.outbox.push(req);
    }
}

/// A read came back: into the pane when it is still open on that run.
pub fn read(app: &mut App, r: LogRead) {
    if let Some(Overlay::Logs(v)) = &mut app.overlay
        && v.run == r.run
    {
        v.read(r);
    }
}

/// The logs pane's keys.
pub fn key(app: &mut App, action: Action) {
    let page = app.page().max(1);
    let Some(Overlay::Logs(v)) = &mut app.overlay else {
        return;
    };
    if v.typing {
        match action {
            Action::Input(c) => {
                v.search.push(c);
                v.current = None;
            }
            Action::Backspace => {
                v.search.pop();
                v.current = None;
            }
            Action::Erase => v.search.clear(),
            Action::Accept => {
                v.typing = false;
                v.jump(false, page);
            }
            Action::Cancel => {
                v.typing = false;
                v.search.clear();
                v.current = None;
            }
            _ => {}
        }
        return;
    }
    match action {
        Action::Next => v.scroll(1, page),
        Action::Prev => v.scroll(-1, page),
        Action::PageDown => v.scroll(page as isize, page),
        Action::PageUp => v.scroll(-(page as isize), page),
        Action::Top => {
            v.follow = false;
            v.top = 0;
        }
        Action::Bottom => {
            v.follow = true;
            v.current = None;
        }
        Action::StartFilter => {
            v.typing = true;
            v.search.clear();
            v.current = None;
        }
        Action::NextMatch => v.jump(true, page),
        Action::PrevMatch => v.jump(false, page),
        Action::NextColumn => v.switch(1),
        Action::PrevColumn => v.switch(-1),
        Action::Close => {
            let back = v.back.take();
            app.overlay = back.map(Overlay::Run);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(lines: &[&str], offset: u64) -> Chunk {
        Chunk {
            lines: lines.iter().map(|l| l.to_string()).collect(),
            offset,
            len: offset,
            ..Chunk::default()
        }
    }

    fn answer(v: &LogsView, c: Chunk) -> LogRead {
        LogRead {
            run: v.run.clone(),
            files: None,
            rel: v.files.get(v.file).cloned(),
            result: Ok(c),
        }
    }

    #[test]
    fn reads_continue_cap_and_follow_until_scrolled() {
        let mut v = LogsView::new("/r".into(), "t/m/r".into(), Vec::new());
        let t0 = Instant::now();
        let Some(Request::ReadLog { rel, from, .. }) = v.due(t0) else {
            panic!("the first read is due at once");
        };
        assert_eq!((rel, from), (None, None));
        assert!(v.due(t0 + POLL * 2).is_none(), "one read at a time");
        v.read(LogRead {
            run: "/r".into(),
            files: Some(vec!["train.log".into()]),
            rel: Some("train.log".into()),
            result: Ok(chunk(&["a", "b"], 4)),
        });
        assert!(
            v.due(t0 + POLL / 2).is_none(),
            "not before the poll interval"
        );
        let Some(Request::ReadLog { rel, from, .. }) = v.due(t0 + POLL) else {
            panic!("due again");
        };
        assert_eq!((rel.as_deref(), from), (Some("train.log"), Some(4)));
        let many: Vec<String> = (0..LINES_KEPT + 10).map(|i| i.to_string()).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        v.read(answer(&v, chunk(&refs, 99)));
        assert_eq!(v.lines.len(), LINES_KEPT);
        assert_eq!(v.dropped, 12);
        assert_eq!(v.first_shown(10), LINES_KEPT - 10, "following the end");
        v.scroll(-5, 10);
        assert!(!v.follow);
        assert_eq!(v.first_shown(10), LINES_KEPT - 15);
        v.read(answer(&v, chunk(&["new"], 120)));
        assert_eq!(
            v.first_shown(10),
            LINES_KEPT - 16,
            "scrolled: the view stays on its lines"
        );
        v.scroll(100, 10);
        assert!(v.follow, "scrolling to the end follows again");
        // A log that stopped growing is read less often, up to every 2 s;
        // a new line brings the fast pace back.
        let mut at = t0 + POLL * 4;
        for _ in 0..40 {
            at += POLL * IDLE_BACKOFF;
            assert!(v.due(at).is_some());
            v.read(answer(&v, chunk(&[], 120)));
        }
        assert!(v.due(at + POLL * 2).is_none(), "backed off");
        assert!(v.due(at + POLL * IDLE_BACKOFF).is_some());
        v.read(answer(&v, chunk(&["more"], 130)));
        assert!(
            v.due(at + POLL * (IDLE_BACKOFF + 1)).is_some(),
            "fast again"
        );
    }

    #[test]
    fn search_jumps_between_matches_and_a_truncated_log_starts_over() {
        let mut v = LogsView::new("/r".into(), "t/m/r".into(), Vec::new());
        v.files = vec!["a.log".into(), "b.log".into()];
        v.read(answer(
            &v,
            chunk(&["x", "ERROR 1", "y", "z", "error 2", "w"], 30),
        ));
        v.search = "error".into();
        assert_eq!(v.matches(), vec![1, 4]);
        // From the view (the last 3 lines, following), the next match.
        v.jump(true, 3);
        assert_eq!(v.current, Some(4));
        assert!(!v.follow, "a match stops following");
        v.jump(true, 3);
        assert_eq!(v.current, Some(1), "wraps around");
        v.jump(true, 3);
        assert_eq!(v.current, Some(4));
        v.jump(false, 3);
        assert_eq!(v.current, Some(1));
        let mut c = chunk(&["fresh"], 6);
        c.restarted = true;
        v.read(answer(&v, c));
        assert_eq!(v.lines, vec!["fresh"]);
        // Another file: read anew from its tail; a late answer for the
        // first is dropped.
        v.switch(1);
        assert_eq!(v.file, 1);
        let late = LogRead {
            rel: Some("a.log".into()),
            ..answer(&v, chunk(&["late"], 50))
        };
        v.read(late);
        assert!(v.lines.is_empty());
    }
}
