//! The tree pane: the root, tasks → models → runs, with a header row and
//! columns (key metric, size, reclaimable, share of the parent) that come
//! and go with the pane's width, by priority (see docs/explorer.md).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::{pane, truncate};
use crate::catalog::RunUsage;
use crate::catalog::SortKey;
use crate::fmt;
use crate::tui::app::{App, Focus};
use crate::tui::tree::{Node, Row};

/// The narrowest a run id gets before a column is dropped: a shortened
/// run id, `12-04_14-32_seed42`.
const NAME_MIN: usize = 20;
/// What comes before a run's name: indent and status icon.
const RUN_LEAD: usize = 6;
/// Column widths, each with its leading space.
const METRIC_W: usize = 9;
const SIZE_W: usize = 6;
const RECLAIM_W: usize = 7;
const BAR_W: usize = 11;

/// The columns a pane of this inner width shows, in priority order after
/// the name and status: key metric, size, reclaimable, share of the parent.
/// Decided once per pane, so every row and the header line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Columns {
    /// The run's key metric.
    pub metric: bool,
    /// Bytes on disk.
    pub size: bool,
    /// Bytes a cleanup could free.
    pub reclaim: bool,
    /// A bar and percentage: the row's share of its parent's size.
    pub bar: bool,
}

impl Columns {
    /// The columns for a tree pane `width` columns wide inside its border.
    pub fn fit(width: usize) -> Columns {
        let mut left = width.saturating_sub(RUN_LEAD + NAME_MIN);
        let mut take = |w: usize| {
            let fits = left >= w;
            if fits {
                left -= w;
            }
            fits
        };
        let metric = take(METRIC_W);
        let size = metric && take(SIZE_W);
        let reclaim = size && take(RECLAIM_W);
        let bar = reclaim && take(BAR_W);
        Columns {
            metric,
            size,
            reclaim,
            bar,
        }
    }

    fn width(self) -> usize {
        [
            (self.metric, METRIC_W),
            (self.size, SIZE_W),
            (self.reclaim, RECLAIM_W),
            (self.bar, BAR_W),
        ]
        .iter()
        .filter(|c| c.0)
        .map(|c| c.1)
        .sum()
    }
}

/// Draws the tree pane.
pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let c = &app.catalog;
    let shown = app.tree.shown.count;
    let title = if app.tree.filtering || !app.tree.query.is_empty() {
        let cursor = if app.tree.filtering { "▏" } else { "" };
        format!(
            "/{}{cursor} · {shown} of {} runs",
            fmt::escape(&app.tree.query),
            c.runs.len()
        )
    } else {
        // Another tool's tree says so first, where truncation keeps it.
        let kind = match c.source {
            crate::sources::SourceKind::Layout => String::new(),
            k => format!("{}: ", k.title()),
        };
        format!(
            "{kind}{} ({} runs)",
            fmt::escape(&c.root.to_string_lossy()),
            c.runs.len()
        )
    };
    let title = truncate(&title, area.width.saturating_sub(6) as usize);
    let block = pane(app, &title, Focus::Tree);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if app.tree.rows.is_empty() {
        let text = if c.done.is_none() {
            vec![Line::from("scanning…")]
        } else if !app.tree.query.is_empty() {
            vec![Line::from("no run matches the filter (Esc clears it)")]
        } else {
            vec![
                Line::from(Span::styled("No runs yet.", app.settings.theme.title())),
                Line::from(""),
                Line::from("Runs live in experiments/<task>/<model>/<run_id>/,"),
                Line::from("with run ids like 2025-12-04_14-32-10_seed42."),
                Line::from(""),
                Line::from("Create one folder there and press r to rescan."),
            ]
        };
        frame.render_widget(
            Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: false }),
            inner,
        );
        return;
    }
    let width = inner.width as usize;
    let cols = Columns::fit(width);
    // The whole tree's size, once a frame: every task row's share needs it.
    let total = app.group_usage(Node::Root).1.total().disk;
    let mut lines = vec![header(app, cols, width)];
    lines.extend(
        app.tree
            .rows
            .iter()
            .enumerate()
            .skip(app.tree.offset)
            .take((inner.height as usize).saturating_sub(1))
            .map(|(i, row)| row_line(app, (i, row), cols, width, total, i == app.tree.selected)),
    );
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The column header; the sorted column carries ▼ (▲ reversed).
fn header<'a>(app: &App, cols: Columns, width: usize) -> Line<'a> {
    let arrow = if app.tree.reverse { "▲" } else { "▼" };
    let sort = &app.tree.sort;
    let mark = |on: bool, label: &str| {
        if on {
            format!("{arrow}{label}")
        } else {
            label.to_string()
        }
    };
    let name = mark(*sort == SortKey::Time, "name (newest first)");
    let name = if *sort == SortKey::Time && app.tree.reverse {
        format!("{arrow}name (oldest first)")
    } else {
        name
    };
    let metric_label = match sort {
        SortKey::Metric(m) => fmt::escape(m).into_owned(),
        _ => "metric".into(),
    };
    let metric_sorted = matches!(sort, SortKey::KeyMetric | SortKey::Metric(_));
    let mut right = String::new();
    if cols.metric {
        let m = truncate(&mark(metric_sorted, &metric_label), METRIC_W - 1);
        right.push_str(&format!(" {m:>w$}", w = METRIC_W - 1));
    }
    if cols.size {
        right.push_str(&format!(
            " {:>w$}",
            mark(*sort == SortKey::Size, "size"),
            w = SIZE_W - 1
        ));
    }
    if cols.reclaim {
        right.push_str(&format!(
            " {:>w$}",
            mark(*sort == SortKey::Reclaimable, "reclaim"),
            w = RECLAIM_W - 1
        ));
    }
    if cols.bar {
        right.push_str(&format!(" {:<w$}", "share", w = BAR_W - 1));
    }
    let name = truncate(&name, width.saturating_sub(right.width()));
    let pad = width.saturating_sub(name.width() + right.width());
    Line::from(vec![
        Span::raw(name),
        Span::raw(" ".repeat(pad)),
        Span::raw(right),
    ])
    .style(app.settings.theme.dim())
}

/// A run id shortened to `width`, keeping its tag whole as long as it can:
/// the year goes first, then the seconds, then the whole date. Returns the
/// text and, for each of its characters, its position in `name` (`None` for
/// the `…`), so the filter's highlights still land on the right letters.
pub fn shorten_run_id(name: &str, width: usize) -> (String, Vec<Option<usize>>) {
    let chars: Vec<char> = name.chars().collect();
    let keep = |idx: &[usize], ellipsis: bool| {
        let mut text = String::new();
        let mut map = Vec::new();
        if ellipsis {
            text.push('…');
            map.push(None);
        }
        for &i in idx {
            text.push(chars[i]);
            map.push(Some(i));
        }
        (text, map)
    };
    let all: Vec<usize> = (0..chars.len()).collect();
    if name.width() <= width {
        return keep(&all, false);
    }
    if crate::layout::parse_run_id(name).is_some() {
        // `YYYY-MM-DD_HH-MM-SS[_tag]`: all ASCII up to the tag.
        let no_year: Vec<usize> = (5..chars.len()).collect();
        let no_secs: Vec<usize> = (5..16).chain(19..chars.len()).collect();
        let tag: Vec<usize> = (20.min(chars.len())..chars.len()).collect();
        for (idx, ellipsis) in [(&no_year, false), (&no_secs, false), (&tag, true)] {
            let (text, map) = keep(idx, ellipsis);
            if text.width() <= width && !(ellipsis && idx.is_empty()) {
                return (text, map);
            }
        }
    }
    let cut = truncate(name, width);
    let n = cut.chars().count();
    let mut map: Vec<Option<usize>> = (0..n).map(Some).collect();
    if cut.ends_with('…') && !name.ends_with('…') {
        map[n - 1] = None;
    }
    (cut, map)
}

/// A bar of `BAR_W - 6` cells and a percentage: `share` of the parent.
fn share_bar(share: f64) -> String {
    const EIGHTHS: [&str; 9] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"];
    let cells = BAR_W - 6;
    let share = share.clamp(0.0, 1.0);
    let eighths = (share * (cells * 8) as f64).round() as usize;
    let mut bar = "█".repeat(eighths / 8);
    if !eighths.is_multiple_of(8) {
        bar.push_str(EIGHTHS[eighths % 8]);
    }
    let fill = cells.saturating_sub(bar.chars().count());
    format!(" {bar}{} {:>3.0}%", " ".repeat(fill), share * 100.0)
}

fn row_line<'a>(
    app: &App,
    (i, row): (usize, &Row),
    cols: Columns,
    width: usize,
    total: u64,
    selected: bool,
) -> Line<'a> {
    let c = &app.catalog;
    let t = &app.settings.theme;
    // The words of a note match, for a run found by its notes.
    let note = match row.node {
        Node::Run(k) => app.tree.shown.notes.get(&k),
        _ => None,
    };
    // Name, run count, usage, the parent's size (for the share), status, metric.
    let (name, count, usage, parent, icon, metric): (
        String,
        Option<usize>,
        Option<RunUsage>,
        Option<u64>,
        _,
        _,
    ) = match row.node {
        Node::Root => {
            let (n, usage) = app.group_usage(row.node);
            (
                "all runs".to_string(),
                Some(n),
                Some(usage),
                None,
                None,
                None,
            )
        }
        Node::Task(ti) => {
            let (n, usage) = app.group_usage(row.node);
            (
                c.tasks[ti].name.clone(),
                Some(n),
                Some(usage),
                Some(total),
                None,
                None,
            )
        }
        Node::Model(ti, mi) => {
            let (n, usage) = app.group_usage(row.node);
            let task = app.group_usage(Node::Task(ti)).1;
            (
                c.tasks[ti].models[mi].name.clone(),
                Some(n),
                Some(usage),
                Some(task.total().disk),
                None,
                None,
            )
        }
        Node::Run(k) => {
            let r = &c.runs[k];
            let (ti, mi) = c
                .tasks
                .iter()
                .enumerate()
                .find(|(_, t)| t.name == r.task)
                .and_then(|(ti, t)| Some((ti, t.models.iter().position(|m| m.name == r.model)?)))
                .unwrap_or((0, 0));
            let model = app.group_usage(Node::Model(ti, mi)).1;
            let metric = app.key_metric(k).map(|(_, v, _)| fmt::metric(v));
            (
                r.name.clone(),
                None,
                r.usage.clone(),
                Some(model.total().disk),
                Some(app.status(k)),
                metric,
            )
        }
    };
    let indent = "  ".repeat(row.depth.saturating_sub(1) as usize);
    let fold = if row.foldable() {
        if row.open { "▾ " } else { "▸ " }
    } else if row.node == Node::Root {
        "◆ "
    } else {
        ""
    };
    // Marks: `*` all of the row's runs, `+` some of them. On a run or model
    // the sign takes the indent's place; on the root or a task, the fold sign's.
    let (marked, of) = app.marked_under(row.node);
    let sign = match (marked, of) {
        (0, _) => None,
        (m, n) if m == n => Some("* "),
        _ => Some("+ "),
    };
    let lead = match sign {
        Some(s) if indent.len() >= 2 => format!("{}{s}{fold}", &indent[2..]),
        Some(s) => format!("{indent}{s}"),
        None => format!("{indent}{fold}"),
    };
    let mut left: Vec<Span> = vec![Span::styled(lead, t.reclaim())];
    if sign.is_none() {
        left[0].style = Style::new();
    }
    if let Some(s) = icon {
        left.push(Span::styled(format!("{} ", s.icon()), t.status(s)));
    }
    let problems = matches!(row.node, Node::Run(k) if !c.runs[k].errors.is_empty()
        || app.loaded.summaries.get(&k).is_some_and(|s| !s.errors.is_empty()));

    // Right-hand columns, the same for every row (see `Columns`).
    let mut right: Vec<Span> = Vec::new();
    if cols.metric {
        let m = truncate(&metric.unwrap_or_default(), METRIC_W - 1);
        right.push(Span::styled(
            format!(" {m:>w$}", w = METRIC_W - 1),
            t.metric(),
        ));
    }
    if cols.size {
        let size = usage
            .as_ref()
            .map_or("…".to_string(), |u| fmt::size_short(u.total().disk));
        right.push(Span::raw(format!(" {size:>w$}", w = SIZE_W - 1)));
    }
    if cols.reclaim {
        let reclaim = usage.as_ref().map_or(String::new(), |u| {
            let r = u.reclaimable().disk;
            if r == 0 {
                "-".into()
            } else {
                fmt::size_short(r)
            }
        });
        right.push(Span::styled(
            format!(" {reclaim:>w$}", w = RECLAIM_W - 1),
            t.reclaim(),
        ));
    }
    if cols.bar {
        let bar = match (usage.as_ref(), parent) {
            (Some(u), Some(p)) if p > 0 => share_bar(u.total().disk as f64 / p as f64),
            _ => " ".repeat(BAR_W),
        };
        right.push(Span::styled(bar, t.dim()));
    }
    let right_w = cols.width();
    let left_w: usize = left.iter().map(|s| s.content.width()).sum();
    // Flags survive a cut name: ⚑ an incident report links to the run,
    // ◇ it strays from the layout, ⚠ it has problems.
    let flagged = matches!(row.node, Node::Run(k)
        if app.notes.backlinks.get(&c.runs[k].path).is_some_and(|b| b.iter().any(|b| b.incident)));
    let strays =
        matches!(row.node, Node::Run(k) if app.notes.findings.contains_key(&c.runs[k].path));
    // ↯ its key metric's curve ends in NaN/Inf (the run diverged).
    let diverged = matches!(row.node, Node::Run(k) if app.loaded.summaries.get(&k).is_some_and(|s| {
        s.diverged_at(&crate::runs::KeySpec::for_task(&app.settings.key_metrics, &c.runs[k].task))
            .is_some()
    }));
    let mut flags = String::new();
    if flagged {
        flags.push_str(" ⚑");
    }
    if diverged {
        flags.push_str(" ↯");
    }
    if strays {
        flags.push_str(" ◇");
    }
    if problems {
        flags.push_str(" ⚠");
    }
    let avail = width.saturating_sub(left_w + right_w);
    let suffix = match count {
        Some(n) if marked > 0 && marked < n => format!(" ({n} · {marked} marked)"),
        Some(n) => format!(" ({n})"),
        None => String::new(),
    };
    let mut name_w = avail.saturating_sub(flags.width() + suffix.width());
    // A note match needs room to say which words: the run id shortens for
    // it, down to its shortest dated form.
    if let Some(words) = note {
        let want = format!("  notes: {}", fmt::escape(words)).width();
        name_w = name_w.saturating_sub(want).max(name_w.min(NAME_MIN - 2));
    }
    // Names with control characters show escaped; the filter's positions
    // index the raw name, so they are dropped then.
    let escaped = fmt::escape(&name);
    let raw = escaped.len() == name.len();
    let (text, map) = match row.node {
        Node::Run(_) if raw => shorten_run_id(&name, name_w),
        _ => {
            let cut = truncate(&escaped, name_w);
            let n = cut.chars().count();
            (cut, (0..n).map(Some).collect())
        }
    };
    // Run rows are built without positions: worked out here, for the rows
    // on screen only.
    let highlight = match row.node {
        _ if !raw || app.tree.query.trim().is_empty() => Vec::new(),
        Node::Run(_) if note.is_some() => Vec::new(),
        Node::Run(k) => crate::tui::tree::run_highlight(c, k, &app.tree.query),
        _ => {
            let view = (app.tree.rows.as_slice(), &app.tree.shown);
            crate::tui::tree::group_highlight(view, c, i, &app.tree.query)
        }
    };
    let mut spans = left;
    for (ch, at) in text.chars().zip(map) {
        let hit = raw && at.is_some_and(|i| highlight.contains(&i));
        let style = if hit { t.matched() } else { Style::new() };
        match spans.last_mut() {
            Some(last) if last.style == style && !hit => last.content.to_mut().push(ch),
            _ => spans.push(Span::styled(ch.to_string(), style)),
        }
    }
    let mut used = text.width();
    let suffix = truncate(&suffix, avail.saturating_sub(used));
    used += suffix.width();
    spans.push(Span::raw(suffix));
    let flags = truncate(&flags, avail.saturating_sub(used));
    used += flags.width();
    spans.push(Span::styled(flags, t.error()));
    // A run found by its notes says by which words.
    if let Some(words) = note {
        let note = truncate(
            &format!("  notes: {}", fmt::escape(words)),
            avail.saturating_sub(used),
        );
        used += note.width();
        spans.push(Span::styled(note, t.matched()));
    }
    spans.push(Span::raw(" ".repeat(avail.saturating_sub(used))));
    spans.extend(right);
    let mut line = Line::from(spans);
    if row.node == Node::Root {
        line = line.style(t.title());
    }
    if selected {
        line.style(t.selected(app.focus == Focus::Tree))
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_id_keeps_its_tag_while_the_date_shortens() {
        let id = "2025-12-04_14-32-10_seed42";
        assert_eq!(shorten_run_id(id, 40).0, id);
        assert_eq!(shorten_run_id(id, 21).0, "12-04_14-32-10_seed42");
        assert_eq!(shorten_run_id(id, 18).0, "12-04_14-32_seed42");
        assert_eq!(shorten_run_id(id, 10).0, "…seed42");
        // Every character maps back to the one it came from.
        let (text, map) = shorten_run_id(id, 18);
        for (c, at) in text.chars().zip(map) {
            assert_eq!(id.chars().nth(at.unwrap()), Some(c));
        }
        // Names that are not run ids are cut at the end.
        assert_eq!(shorten_run_id("old-run-backup", 8).0, "old-run…");
        // A tag too long for the column is cut too, never overflowing it.
        assert!(
            shorten_run_id("2025-12-04_14-32-10_a-very-long-tag", 8)
                .0
                .width()
                <= 8
        );
    }

    #[test]
    fn wider_panes_never_show_fewer_columns() {
        let count = |c: Columns| {
            [c.metric, c.size, c.reclaim, c.bar]
                .iter()
                .filter(|b| **b)
                .count()
        };
        let mut last = 0;
        for w in 10..200 {
            let n = count(Columns::fit(w));
            assert!(n >= last, "{w}");
            last = n;
        }
        // At 80×24 the tree (64% of 80, less borders) has metric, size and reclaim.
        assert_eq!(
            Columns::fit(49),
            Columns {
                metric: true,
                size: true,
                reclaim: true,
                bar: false
            }
        );
    }
}
