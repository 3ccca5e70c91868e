//! The run view's state and keys (Enter on a run, or `w`): the run's
//! overview beside a grid of every metric chart, the grid's size set with
//! `+`/`-`, a filter over metric names, `z` to zoom one chart (and back),
//! `t` for the logs. It shows the selected run's loaded details, so the
//! charts follow a live run as its details are read again.

use std::path::PathBuf;

use super::app::App;
use super::keymap::Action;
use super::overlay::Overlay;
use crate::runs::metrics::Series;

/// The run view.
#[derive(Debug, Clone)]
pub struct RunView {
    /// The run folder: the view closes if the selection leaves it.
    pub run: PathBuf,
    /// Charts a row and rows of charts a page; `None`: fitted to the screen.
    pub grid: Option<(usize, usize)>,
    /// The selected chart, among those the filter keeps.
    pub selected: usize,
    /// Words every shown metric name holds (case-insensitive).
    pub filter: String,
    /// True while the filter is being typed.
    pub typing: bool,
}

/// The grid that fits `width` × `height` cells: charts at least 38
/// columns and 8 rows, so 80×24 gets two large charts and a wide
/// terminal many.
pub fn fitted_grid(width: u16, height: u16) -> (usize, usize) {
    let cols = (width as usize / 38).clamp(1, 6);
    let rows = (height as usize / 8).clamp(1, 6);
    (cols, rows)
}

/// The area the grid's charts get in a view `width` × `height` (the
/// screen less its status and key lines), less the overview (beside it
/// from 120 columns, above it below that) and the grid's title line.
pub fn grid_area(width: u16, height: u16) -> (u16, u16) {
    if width >= 120 {
        (
            width.saturating_sub(OVERVIEW_WIDTH),
            height.saturating_sub(1),
        )
    } else {
        let top = OVERVIEW_ROWS.min(height / 2);
        (width, height.saturating_sub(1 + top))
    }
}

/// Columns of the overview beside the grid (wide terminals).
pub const OVERVIEW_WIDTH: u16 = 44;

/// Rows of the overview above the grid (narrow terminals).
pub const OVERVIEW_ROWS: u16 = 6;

impl RunView {
    /// The view of the run at `run`, every metric shown, the grid fitted.
    pub fn new(run: PathBuf) -> RunView {
        RunView {
            run,
            grid: None,
            selected: 0,
            filter: String::new(),
            typing: false,
        }
    }

    /// The grid in use for a view of `width` × `height` showing `n`
    /// charts: the one set with `+`/`-`, else the fitted one, shrunk so
    /// that a few charts fill the space instead of a corner of it.
    pub fn grid_for(&self, width: u16, height: u16, n: usize) -> (usize, usize) {
        self.grid.unwrap_or_else(|| {
            let (w, h) = grid_area(width, height);
            let (cols, rows) = fitted_grid(w, h);
            let cols = cols.min(n.max(1));
            (cols, rows.min(n.max(1).div_ceil(cols)))
        })
    }

    /// Indexes of the series the filter keeps, in file order.
    pub fn shown(&self, series: &[Series]) -> Vec<usize> {
        let words: Vec<String> = self
            .filter
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        series
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                let name = s.name.to_lowercase();
                words.iter().all(|w| name.contains(w.as_str()))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Grows (`more`) or shrinks the grid by a column or a row, keeping
    /// charts about as wide as they are tall on screen.
    fn resize(&mut self, more: bool, now: (usize, usize)) {
        let (c, r) = now;
        let next = if more {
            if c <= r * 2 { (c + 1, r) } else { (c, r + 1) }
        } else if c > r * 2 || r == 1 {
            (c.saturating_sub(1).max(1), r)
        } else {
            (c, r - 1)
        };
        self.grid = Some((next.0.min(8), next.1.min(8)));
    }
}

/// The view's size (the panes' area), as the last frame laid it out.
fn screen(app: &App) -> (u16, u16) {
    let all = app
        .areas
        .panes
        .iter()
        .filter(|r| !r.is_empty())
        .fold(app.areas.tree, |acc, r| acc.union(*r));
    (all.width.max(20), all.height.max(6))
}

/// Opens the run view on the selected run.
pub fn open(app: &mut App) {
    let Some(k) = app.selected_run() else {
        app.say("select a run to open its view");
        return;
    };
    let run = app.catalog.runs[k].path.clone();
    app.overlay = Some(Overlay::Run(Box::new(RunView::new(run))));
}

/// The run view's keys.
pub fn key(app: &mut App, action: Action) {
    let (w, h) = screen(app);
    let n_series = app.selected_details().map_or(0, |d| d.metrics.series.len());
    let shown = match (&app.overlay, app.selected_details()) {
        (Some(Overlay::Run(v)), Some(d)) => v.shown(&d.metrics.series),
        _ => Vec::new(),
    };
    let Some(Overlay::Run(v)) = &mut app.overlay else {
        return;
    };
    let (cols, rows) = v.grid_for(w, h, shown.len());
    let n = shown.len();
    if v.typing {
        match action {
            Action::Input(c) => v.filter.push(c),
            Action::Backspace => {
                v.filter.pop();
            }
            Action::Erase => v.filter.clear(),
            Action::Accept => v.typing = false,
            Action::Cancel => {
                v.typing = false;
                v.filter.clear();
            }
            _ => {}
        }
        v.selected = 0;
        return;
    }
    let last = n.saturating_sub(1);
    match action {
        Action::NextColumn => v.selected = (v.selected + 1).min(last),
        Action::PrevColumn => v.selected = v.selected.saturating_sub(1),
        Action::Next => v.selected = (v.selected + cols).min(last),
        Action::Prev => v.selected = v.selected.saturating_sub(cols),
        Action::PageDown => v.selected = (v.selected + cols * rows).min(last),
        Action::PageUp => v.selected = v.selected.saturating_sub(cols * rows),
        Action::Top => v.selected = 0,
        Action::Bottom => v.selected = last,
        Action::GridMore => v.resize(true, (cols, rows)),
        Action::GridFewer => v.resize(false, (cols, rows)),
        Action::StartFilter => {
            v.typing = true;
            v.filter.clear();
        }
        Action::ZoomChart => {
            let Some(&i) = shown.get(v.selected) else {
                return;
            };
            let back = v.clone();
            if i < n_series {
                app.chart.series = i;
                app.chart.x_axis = 0;
            }
            app.zoom_metrics();
            if let Some(Overlay::Chart(c)) = &mut app.overlay {
                c.back = Some(back);
            } else {
                // Nothing to zoom: the view stays.
                app.overlay = Some(Overlay::Run(back));
            }
        }
        Action::OpenLogs => {
            let back = v.clone();
            super::watch::open(app);
            if let Some(Overlay::Logs(l)) = &mut app.overlay {
                l.back = Some(back);
            }
        }
        // Esc drops the filter first, then closes.
        Action::Close if !v.filter.is_empty() => {
            v.filter.clear();
            v.selected = 0;
        }
        Action::Close => app.overlay = None,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_fits_the_screen_and_grows_by_columns_then_rows() {
        // 80×24 (22 rows above the status and key lines): the overview
        // on top, two large charts side by side.
        let (w, h) = grid_area(80, 22);
        assert_eq!(fitted_grid(w, h), (2, 1));
        // 160×45: the overview beside, three columns of five rows.
        let (w, h) = grid_area(160, 43);
        assert_eq!(fitted_grid(w, h), (3, 5));
        let mut v = RunView::new("/r".into());
        v.resize(true, (2, 1));
        assert_eq!(v.grid, Some((3, 1)));
        v.resize(true, (3, 1));
        assert_eq!(v.grid, Some((3, 2)));
        v.resize(false, (3, 2));
        assert_eq!(v.grid, Some((3, 1)));
        v.resize(false, (1, 1));
        assert_eq!(v.grid, Some((1, 1)), "never below one chart");
        // Two metrics on a wide screen: two charts filling it, not a corner.
        let v = RunView::new("/r".into());
        assert_eq!(v.grid_for(160, 43, 2), (2, 1));
        assert_eq!(v.grid_for(160, 43, 7), (3, 3));
    }

    #[test]
    fn the_filter_keeps_names_holding_every_word() {
        let s = |n: &str| Series::new(n.into(), "step".into(), vec![(0.0, 1.0)], "m.csv".into());
        let series = vec![s("train/loss"), s("val/loss"), s("val/acc"), s("lr-Adam")];
        let mut v = RunView::new("/r".into());
        assert_eq!(v.shown(&series), vec![0, 1, 2, 3]);
        v.filter = "VAL".into();
        assert_eq!(v.shown(&series), vec![1, 2]);
        v.filter = "val loss".into();
        assert_eq!(v.shown(&series), vec![1]);
    }
}
