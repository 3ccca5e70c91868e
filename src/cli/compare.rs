//! `runyard compare`: runs × metrics, the best value of each column marked.

use std::io::Write;
use std::process::ExitCode;

use super::table::{Align, Table};
use super::{Context, Failure};
use crate::catalog::RunKey;
use crate::compare::{Comparison, RunConfig};
use crate::fmt;

/// How the table is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Aligned columns, best values marked with `*`.
    Text,
    /// JSON (see docs/json.md).
    Json,
    /// CSV: a header row, then one row per run.
    Csv,
}

/// What to show of the comparison: `--sort`, `--columns`, `--where`, and
/// the terminal's width for the text table (`None`: no limit, as in a pipe).
#[derive(Debug, Clone, Default)]
pub struct Choice {
    /// Order the runs by this metric, best first.
    pub sort: Option<String>,
    /// Globs over config keys and metric names; empty: every column.
    pub columns: Vec<String>,
    /// `KEY=VALUE` (or `KEY!=VALUE`) conditions every row must meet.
    pub filters: Vec<String>,
    /// The width the text table must fit.
    pub width: Option<usize>,
}

/// `runyard compare`: prints the comparison of `keys`.
pub fn run(
    ctx: &Context,
    keys: &[RunKey],
    choice: &Choice,
    output: Output,
) -> Result<ExitCode, Failure> {
    let summaries = ctx.summaries(keys);
    let runs: Vec<(String, String, &crate::runs::RunSummary)> = keys
        .iter()
        .zip(&summaries)
        .map(|(&k, s)| {
            let r = &ctx.catalog.runs[k];
            (r.label(), r.task.clone(), s)
        })
        .collect();
    let mut problems = Vec::new();
    let configs: Vec<RunConfig> = keys
        .iter()
        .map(|&k| {
            let r = &ctx.catalog.runs[k];
            RunConfig::load(&r.path).unwrap_or_else(|e| {
                // A broken config leaves the run without hyperparameters,
                // said on stderr, and the comparison goes on.
                problems.push(format!("{}: {e}", fmt::escape(&r.label())));
                RunConfig::default()
            })
        })
        .collect();
    for p in &problems {
        eprintln!("runyard: {p}");
    }
    let mut cmp = Comparison::new(&runs, &ctx.key_metrics).with_config(&configs);
    // The written status with activity on disk, as `ls` says it (a run
    // that says running and is still writing is running, not stalled).
    for (i, &k) in keys.iter().enumerate() {
        cmp.status[i] = summaries[i].status(ctx.is_active(k)).word().to_string();
    }
    for f in &choice.filters {
        cmp.filter_where(f).map_err(Failure::usage)?;
    }
    if !choice.columns.is_empty() {
        cmp.select_columns(&choice.columns)
            .map_err(Failure::usage)?;
    }
    if let Some(metric) = &choice.sort {
        cmp.sort_by(metric).map_err(Failure::usage)?;
    }
    let mut out = std::io::stdout().lock();
    match output {
        Output::Json => {
            let metrics: Vec<_> = cmp
                .columns
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "name": c.name,
                        "better": c.better,
                        "best": c.best.map(|r| &cmp.runs[r]),
                        "same_as": c.same_as.map(|i| &cmp.columns[i].name),
                    })
                })
                .collect();
            let runs: Vec<_> = (0..cmp.runs.len())
                // Values line up with `metrics` and `config`: names are
                // data, not keys.
                .map(|r| {
                    serde_json::json!({
                        "run": cmp.runs[r],
                        "name": cmp.names[r],
                        "status": cmp.status[r],
                        "config": cmp.config[r],
                        "values": cmp.values[r],
                    })
                })
                .collect();
            super::write_doc(
                &mut out,
                serde_json::json!({
                    "root": ctx.catalog.root.to_string_lossy(),
                    "config": cmp.params,
                    "metrics": metrics,
                    "runs": runs,
                }),
            )?;
        }
        Output::Csv => {
            // Metric names and run labels come from the tree: escaped as in
            // the text table, so a name carrying an OSC or CSI sequence
            // cannot retitle or repaint the terminal the CSV is shown on;
            // quoting (commas, quotes) is the csv writer's.
            let mut w = csv::Writer::from_writer(out);
            let header = ["run", "name", "status"]
                .into_iter()
                .map(str::to_string)
                .chain(cmp.params.iter().map(|k| fmt::escape(k).into_owned()))
                .chain(
                    cmp.columns
                        .iter()
                        .map(|c| fmt::escape(&c.name).into_owned()),
                );
            w.write_record(header).map_err(csv_error)?;
            for r in 0..cmp.runs.len() {
                let cells = [&cmp.runs[r], &cmp.names[r], &cmp.status[r]]
                    .into_iter()
                    .map(|s| fmt::escape(s).into_owned())
                    .chain(cmp.config[r].iter().map(|v| {
                        v.as_deref()
                            .map(fmt::escape)
                            .unwrap_or_default()
                            .into_owned()
                    }))
                    .chain(
                        cmp.values[r]
                            .iter()
                            .map(|v| v.map(|v| v.to_string()).unwrap_or_default()),
                    );
                w.write_record(cells).map_err(csv_error)?;
            }
            w.flush()?;
        }
        Output::Text => {
            if cmp.runs.is_empty() {
                writeln!(out, "No run meets --where.")?;
                return Ok(ExitCode::SUCCESS);
            }
            if cmp.columns.is_empty() && cmp.params.is_empty() {
                writeln!(out, "These runs have no scalar metrics to compare.")?;
                return Ok(ExitCode::SUCCESS);
            }
            let (lines, left_out) = text_table(&cmp, choice.width);
            for line in lines {
                writeln!(out, "{line}")?;
            }
            writeln!(
                out,
                "* best in its column (↑ higher is better, ↓ lower is better)"
            )?;
            if !left_out.is_empty() {
                writeln!(
                    out,
                    "{} left out to fit {} columns: {} (--columns picks; --json and --csv have them all)",
                    fmt::count_as(left_out.len() as u64, "column", "columns"),
                    choice.width.unwrap_or(0),
                    left_out.join(", ")
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One column of the text table: header, cells, alignment, and how soon it
/// is dropped when the table is too wide (higher: sooner).
struct TextColumn {
    head: String,
    cells: Vec<String>,
    align: Align,
    drop: usize,
}

/// The text table fitted to `width`: columns are dropped, repeats of
/// another column first, then metrics from the right, then
/// hyperparameters from the right (the name and status stay). Returns the
/// lines and the names of the columns left out.
fn text_table(cmp: &Comparison, width: Option<usize>) -> (Vec<String>, Vec<String>) {
    let n = cmp.runs.len();
    let mut cols = vec![
        TextColumn {
            head: "run".into(),
            cells: cmp
                .names
                .iter()
                .map(|s| fmt::escape(s).into_owned())
                .collect(),
            align: Align::Left,
            drop: 0,
        },
        TextColumn {
            head: "status".into(),
            cells: cmp.status.clone(),
            align: Align::Left,
            drop: 0,
        },
    ];
    let np = cmp.params.len();
    for (i, k) in cmp.params.iter().enumerate() {
        cols.push(TextColumn {
            head: fmt::escape(k).into_owned(),
            cells: (0..n)
                .map(|r| {
                    cmp.config[r][i]
                        .as_deref()
                        .map_or_else(|| "-".to_string(), |v| fmt::escape(v).into_owned())
                })
                .collect(),
            align: Align::Right,
            drop: 1 + np - i,
        });
    }
    let nc = cmp.columns.len();
    for (c, col) in cmp.columns.iter().enumerate() {
        let arrow = match (crate::compare::is_count(&col.name), col.better) {
            (false, Some(crate::runs::Better::Lower)) => " ↓",
            (false, Some(crate::runs::Better::Higher)) => " ↑",
            _ => "",
        };
        cols.push(TextColumn {
            head: format!("{}{arrow}", fmt::escape(&col.name)),
            cells: (0..n)
                .map(|r| {
                    let mark = if col.best == Some(r) { "*" } else { " " };
                    match cmp.values[r][c] {
                        Some(v) => format!("{}{mark}", fmt::metric(v)),
                        None => "- ".to_string(),
                    }
                })
                .collect(),
            align: Align::Right,
            // Repeats go first of all, then metrics right to left.
            drop: if col.same_as.is_some() {
                10_000 + nc - c
            } else {
                2 + np + nc - c
            },
        });
    }
    let w = |c: &TextColumn| {
        c.cells
            .iter()
            .chain(std::iter::once(&c.head))
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0)
    };
    let mut left_out = Vec::new();
    if let Some(width) = width {
        loop {
            let total: usize = cols
                .iter()
                .map(|c| w(c) + 2)
                .sum::<usize>()
                .saturating_sub(2);
            if total <= width {
                break;
            }
            let Some((i, _)) = cols
                .iter()
                .enumerate()
                .filter(|(_, c)| c.drop > 0)
                .max_by_key(|(_, c)| c.drop)
            else {
                break;
            };
            left_out.push(cols.remove(i).head);
        }
    }
    let aligns: Vec<Align> = cols.iter().map(|c| c.align).collect();
    let mut table = Table::new(&aligns);
    table.row(cols.iter().map(|c| c.head.clone()).collect());
    for r in 0..n {
        table.row(cols.iter().map(|c| c.cells[r].clone()).collect());
    }
    (table.render(), left_out)
}

/// The width a text table must fit: `COLUMNS` when set, else the
/// terminal's when printing to one; `None` in a pipe (nothing dropped).
pub fn terminal_width() -> Option<usize> {
    if let Some(w) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&w| w > 0)
    {
        return Some(w);
    }
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return None;
    }
    ratatui::crossterm::terminal::size()
        .ok()
        .map(|(w, _)| usize::from(w))
}

/// A csv error as the I/O error under it, so a closed pipe stays a closed
/// pipe (ended quietly) instead of becoming a generic failure.
fn csv_error(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    }
}
