//! The run_info pane: what a run is (command, commit, seeds, notes, status,
//! config), or the roll-up of a task or model.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

mod rollup;

pub use rollup::{Groups, group};

use super::{fact, pane, render_scrolled};
use crate::catalog::RunKey;
use crate::fmt;
use crate::runs::Status;
use crate::tui::app::{App, Focus};
use crate::tui::tree::Node;

/// Draws the info pane for the selection; returns its largest scroll.
pub fn draw(frame: &mut Frame, app: &App, area: Rect) -> u16 {
    let (title, lines) = match app.selected_node() {
        Some(Node::Run(k)) => ("run_info", run_lines(app, k)),
        Some(node) => (
            "summary",
            rollup_lines(app, node, area.width.saturating_sub(2)),
        ),
        None => ("run_info", vec![Line::from("nothing selected")]),
    };
    let block = pane(app, title, Focus::Info);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    render_scrolled(
        frame,
        Paragraph::new(lines).wrap(Wrap { trim: false }),
        inner,
        app.panes.info.offset,
    )
}

fn run_lines(app: &App, k: RunKey) -> Vec<Line<'static>> {
    let r = &app.catalog.runs[k];
    let t = &app.settings.theme;
    let mut lines = vec![Line::from(Span::styled(
        fmt::escape(&r.label()).into_owned(),
        t.title(),
    ))];
    let summary = app.loaded.summaries.get(&k);
    let details = app.selected_details();
    // Hydra's overrides before all: they are what this run changed.
    if let Some(o) = details.and_then(|d| d.overrides.as_ref()) {
        let v = if o.items.is_empty() {
            "none (the config as composed)".to_string()
        } else {
            o.items.join(" ")
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<10}", "overrides"), t.dim()),
            Span::styled(fmt::escape(&v).into_owned(), t.title()),
        ]));
    }
    // Problems next: a broken file is the first thing to know.
    let mut problems: Vec<String> = r.errors.clone();
    match details {
        Some(d) => problems.extend(d.errors.iter().cloned()),
        None => problems.extend(summary.map(|s| s.errors.clone()).unwrap_or_default()),
    }
    for p in &problems {
        lines.push(Line::from(Span::styled(
            format!("⚠ {}", fmt::escape(p)),
            t.error(),
        )));
    }
    let status = app.status(k);
    let mut st = vec![Span::styled(
        format!("{} {}", status.icon(), status.word()),
        t.status(status),
    )];
    if let Some(w) = r.last_write() {
        st.push(Span::styled(
            format!(" · last write {}", fmt::age(w, app.now)),
            t.dim(),
        ));
    }
    if app.is_active(k) && status != Status::Running {
        st.push(Span::styled(" · active (cleanup skips it)", t.dim()));
    }
    if status == Status::Stalled {
        st.push(Span::styled(
            " · says running but wrote nothing recently",
            t.dim(),
        ));
    }
    lines.push(Line::from({
        let mut v = vec![Span::styled(format!("{:<10}", "status"), t.dim())];
        v.extend(st);
        v
    }));
    let info = details
        .and_then(|d| d.info.as_ref())
        .or(summary.and_then(|s| s.info.as_ref()));
    // run_info's started_at carries its offset: shown in the explorer's
    // time zone like "finished". Else a run id's time as written (local
    // wall-clock time of the machine that ran it), else the folder's mtime.
    let started_at = info
        .and_then(|i| i.started_at.as_deref())
        .and_then(|s| s.parse::<jiff::Timestamp>().ok());
    if let Some(time) = started_at.or(r.time()) {
        let shown = match (&started_at, &r.id) {
            (Some(ts), _) => fmt::time_in(*ts, &app.settings.tz),
            (None, Some(id)) => id.time.strftime("%Y-%m-%d %H:%M").to_string(),
            (None, None) => fmt::time_in(time, &app.settings.tz),
        };
        lines.push(fact(
            app,
            "started",
            format!("{shown} ({})", fmt::age(time, app.now)),
        ));
    }
    match info {
        Some(i) => {
            let seeds = i.seeds.as_ref().map(|s| s.to_string());
            // Times as written are often RFC 3339; show them like the others.
            let finished = i.finished_at.as_ref().map(|f| {
                f.parse::<jiff::Timestamp>().map_or_else(
                    |_| f.clone(),
                    |ts| {
                        format!(
                            "{} ({})",
                            fmt::time_in(ts, &app.settings.tz),
                            fmt::age(ts, app.now)
                        )
                    },
                )
            });
            for (key, v) in [
                ("command", &i.command),
                ("git", &i.git_commit),
                ("finished", &finished),
                ("seeds", &seeds),
                ("notes", &i.notes),
            ] {
                if let Some(v) = v {
                    lines.push(fact(app, key, fmt::escape(v).into_owned()));
                }
            }
            for (key, v) in &i.extra {
                let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                // The space keeps a key of 10 or more characters off its
                // value (`wandb_run_id fnwvt34l`); shorter keys pad as before.
                let key = format!("{} ", fmt::escape(key));
                lines.push(fact(app, &key, fmt::escape(&v).into_owned()));
            }
            if !i.sources.is_empty() {
                // Where facts run_info.json lacked were read.
                let mut files: Vec<&str> = i.sources.values().map(String::as_str).collect();
                files.sort_unstable();
                files.dedup();
                lines.push(Line::from(Span::styled(
                    format!("(facts also from {})", fmt::escape(&files.join(", "))),
                    t.dim(),
                )));
            }
        }
        None if summary.is_none() && details.is_none() => {
            lines.push(Line::from(Span::styled("loading…", t.dim())))
        }
        None if problems.iter().any(|p| p.starts_with("run_info.json")) => lines.push(Line::from(
            Span::styled("run_info.json could not be read (see above)", t.dim()),
        )),
        // Only the layout's runs are expected to have one; another tool's
        // run says what it knows through its own files.
        None if app.catalog.source == crate::sources::SourceKind::Layout => {
            lines.push(Line::from(Span::styled("no run_info.json", t.dim())));
        }
        None => {}
    }
    if let Some(d) = details
        && !d.tools.is_empty()
    {
        let places: Vec<String> = d.tools.iter().map(|p| p.label()).collect();
        lines.push(fact(app, "tools", places.join(" · ")));
    }
    if let Some(d) = app.selected_details()
        && !d.plots.is_empty()
    {
        lines.push(Line::from(Span::styled(
            "── plots (o shows them, p promotes) ──",
            t.dim(),
        )));
        for p in &d.plots {
            lines.push(Line::from(vec![
                Span::styled(format!("{:>9}  ", fmt::size(p.usage.apparent)), t.dim()),
                Span::raw(fmt::escape(p.rel.trim_start_matches("plots/")).into_owned()),
            ]));
        }
    }
    if let Some(list) = app.notes.promoted_from.get(&r.path) {
        lines.push(Line::from(Span::styled(
            "── promoted from this run ──",
            t.dim(),
        )));
        for a in list {
            lines.push(Line::from(fmt::escape(&a.to_string_lossy()).into_owned()));
        }
    }
    if let Some(list) = app.notes.findings.get(&r.path) {
        lines.push(Line::from(Span::styled(
            "── strays from the layout (runyard check) ──",
            t.dim(),
        )));
        for f in list {
            let rel = f
                .path
                .strip_prefix(r.path.strip_prefix(&app.catalog.root).unwrap_or(&r.path))
                .unwrap_or(&f.path);
            let at = if rel.as_os_str().is_empty() {
                String::new()
            } else {
                format!("{}: ", fmt::escape(&rel.to_string_lossy()))
            };
            lines.push(Line::from(vec![
                Span::styled("◇ ", t.reclaim()),
                Span::raw(format!("{at}{}", f.message)),
            ]));
        }
    }
    if let Some(notes) = app.notes.backlinks.get(&r.path) {
        lines.push(Line::from(Span::styled(
            "── tracker notes (n opens the first) ──",
            t.dim(),
        )));
        let base = app
            .settings
            .tracker
            .as_deref()
            .unwrap_or(std::path::Path::new("/"));
        for b in notes {
            let file = b
                .file
                .strip_prefix(base)
                .unwrap_or(&b.file)
                .to_string_lossy()
                .into_owned();
            let head = b
                .heading
                .as_deref()
                .map(|h| format!(" § {h}"))
                .unwrap_or_default();
            let style = if b.incident {
                t.error()
            } else {
                ratatui::style::Style::new()
            };
            lines.push(Line::from(Span::styled(
                format!("{}{}", fmt::escape(&file), fmt::escape(&head)),
                style,
            )));
        }
    }
    if let Some(d) = details {
        if let Some(cfg) = &d.config {
            lines.push(Line::from(Span::styled(
                format!("── {} ──", cfg.file),
                t.dim(),
            )));
            for (key, v) in cfg.summary().into_iter().take(30) {
                lines.push(Line::from(vec![
                    Span::styled(format!("{} ", fmt::escape(&key)), t.dim()),
                    Span::raw(fmt::escape(&v).into_owned()),
                ]));
            }
        }
        if let Some(readme) = &d.readme {
            lines.push(Line::from(Span::styled("── README.md ──", t.dim())));
            for l in readme.lines().take(8) {
                lines.push(Line::from(fmt::escape(l).into_owned()));
            }
        }
    }
    lines
}

fn rollup_lines(app: &App, node: Node, width: u16) -> Vec<Line<'static>> {
    let c = &app.catalog;
    let t = &app.settings.theme;
    let (name, kind) = match node {
        Node::Root => ("all runs".to_string(), "the whole tree"),
        Node::Task(ti) => (
            c.tasks[ti].name.clone(),
            if c.tasks[ti].name == crate::layout::PREPROC_TASK {
                "preprocessing"
            } else {
                "task"
            },
        ),
        Node::Model(ti, mi) => (
            format!("{}/{}", c.tasks[ti].name, c.tasks[ti].models[mi].name),
            if c.tasks[ti].name == crate::layout::PREPROC_TASK {
                "pipeline"
            } else {
                "model"
            },
        ),
        Node::Run(_) => unreachable!("runs have their own pane"),
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(fmt::escape(&name).into_owned(), t.title()),
        Span::styled(format!("  ({kind})"), t.dim()),
    ])];
    let g = group(app, node);
    let counts = g.counts;
    let mut runs = vec![Span::raw(format!("{}", g.runs))];
    for s in [
        Status::Running,
        Status::Stalled,
        Status::Finished,
        Status::Failed,
    ] {
        if counts[s as usize] > 0 {
            runs.push(Span::raw("  "));
            runs.push(Span::styled(
                format!("{} {}", s.icon(), counts[s as usize]),
                t.status(s),
            ));
        }
    }
    lines.push(Line::from({
        let mut v = vec![Span::styled(format!("{:<10}", "runs"), t.dim())];
        v.extend(runs);
        v
    }));
    let u = &g.usage;
    lines.push(fact(
        app,
        "size",
        format!("{} on disk", fmt::size(u.total().disk)),
    ));
    lines.push(Line::from(vec![
        Span::styled(format!("{:<10}", "reclaim"), t.dim()),
        Span::styled(fmt::size(u.reclaimable().disk), t.reclaim()),
        Span::styled(" (tmp, cache, prunable checkpoints)", t.dim()),
    ]));
    if let Some(k) = g.latest {
        let r = &c.runs[k];
        let age = r
            .time()
            .map(|x| format!(" ({})", fmt::age(x, app.now)))
            .unwrap_or_default();
        // Beside its key, or a narrow pane wraps it whole onto the next
        // line and `latest` reads blank: the run id shortens to fit.
        // The whole name first: the age goes before the name is cut.
        let room = usize::from(width).saturating_sub(10);
        let full = short_label(app, node, k);
        let (label, age) = if full.chars().count() + age.chars().count() <= room {
            (full, age)
        } else {
            (fit_label(app, node, k, room), String::new())
        };
        lines.push(fact(app, "latest", format!("{}{age}", fmt::escape(&label))));
    }
    if node == Node::Root {
        // Tasks judge runs by different metrics: the best run of each.
        for (ti, metric, k, v) in &g.best {
            lines.push(Line::from(vec![
                Span::styled(format!("{:<10}", "best"), t.dim()),
                Span::raw(format!("{} ", fmt::escape(&c.tasks[*ti].name))),
                Span::styled(format!("{metric} {}", fmt::metric(*v)), t.metric()),
                Span::raw(format!(
                    "  {}",
                    fmt::escape(&short_label(app, Node::Task(*ti), *k))
                )),
            ]));
        }
    } else if let Some((_, metric, k, v)) = g.best.first() {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<10}", "best"), t.dim()),
            Span::styled(format!("{metric} {}", fmt::metric(*v)), t.metric()),
            Span::raw(format!("  {}", fmt::escape(&short_label(app, node, *k)))),
        ]));
    }
    let problems = g.problems;
    if problems > 0 {
        lines.push(Line::from(Span::styled(
            format!(
                "⚠ {problems} run{} with problems",
                if problems == 1 { "" } else { "s" }
            ),
            t.error(),
        )));
    }
    lines
}

/// [`short_label`] within `room` columns when it can: the run id is
/// shortened (date first, its tag kept) after the model's name, or alone
/// when the names before it leave it no room.
fn fit_label(app: &App, node: Node, k: RunKey, room: usize) -> String {
    let full = short_label(app, node, k);
    if full.chars().count() <= room {
        return full;
    }
    let name = &app.catalog.runs[k].name;
    let head = full.strip_suffix(name.as_str()).unwrap_or("");
    let left = room.saturating_sub(head.chars().count());
    if left >= 8 {
        let (short, _) = super::tree::shorten_run_id(name, left);
        return format!("{head}{short}");
    }
    // No room for the path too (other tools' deep trees): the name alone.
    super::tree::shorten_run_id(name, room.max(8)).0
}

/// A run's name relative to the selected task or model.
pub fn short_label(app: &App, node: Node, k: RunKey) -> String {
    let r = &app.catalog.runs[k];
    match node {
        Node::Model(..) => r.name.clone(),
        Node::Root => r.label(),
        _ => format!("{}/{}", r.model, r.name),
    }
}
