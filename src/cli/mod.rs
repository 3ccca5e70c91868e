//! The command line: argument definitions, and the subcommands' text and
//! JSON output over the same library the TUI uses.

mod clean;
mod context;
mod du;
mod ls;
mod show;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use crate::catalog::SortKey;
pub use context::Context;

/// Exit code for a bad invocation, a root or run that cannot be found.
pub const EXIT_USAGE: u8 = 2;
/// Exit code for a failure while working.
pub const EXIT_FAILURE: u8 = 1;

/// runyard: explore, clean up and promote the outputs/ folder of ML projects.
#[derive(Debug, Parser)]
#[command(name = "runyard", version, about, long_about = None)]
pub struct Args {
    /// The outputs/ folder, or a folder holding one (default: ./outputs, or
    /// the nearest parent holding outputs/experiments).
    pub path: Option<PathBuf>,

    /// Options shared by every subcommand.
    #[command(flatten)]
    pub global: GlobalOpts,

    /// What to do; without one, runyard opens the explorer.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every subcommand takes.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalOpts {
    /// Threads that walk the tree (more than the cores helps on NFS).
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,

    /// The outputs/ folder to work on, for subcommands without a PATH argument.
    #[arg(long, short = 'C', global = true, value_name = "PATH")]
    pub root: Option<PathBuf>,

    /// A run that wrote a file within this many minutes is active.
    #[arg(long, global = true, value_name = "MINUTES", default_value_t = crate::layout::DEFAULT_ACTIVE_MINUTES)]
    pub active_minutes: u64,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List tasks, models and runs with sizes and key metrics.
    Ls {
        /// The outputs/ folder, or a folder holding one.
        path: Option<PathBuf>,
        /// Only this task.
        #[arg(long, short)]
        task: Option<String>,
        /// Only this model.
        #[arg(long, short)]
        model: Option<String>,
        /// Order runs by time, size, reclaimable, or a metric name (e.g. val/acc).
        #[arg(
            long,
            short,
            default_value = "time",
            value_name = "time|size|reclaimable|METRIC"
        )]
        sort: SortKey,
        /// One line per run (task/model/run_id), for grep and scripts.
        #[arg(long)]
        flat: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Everything known about one run.
    Show {
        /// A run folder, or a unique run-id prefix (or task/model/run_id).
        run: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The latest run (of a task or model) and its metrics.
    Latest {
        /// The outputs/ folder, or a folder holding one.
        path: Option<PathBuf>,
        /// Only this task.
        #[arg(long, short)]
        task: Option<String>,
        /// Only this model.
        #[arg(long, short)]
        model: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Reclaimable space per run, biggest first.
    Du {
        /// The outputs/ folder, or a folder holding one.
        path: Option<PathBuf>,
        /// Show only the first N runs.
        #[arg(long, short = 'n', value_name = "N")]
        limit: Option<usize>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete ephemeral data (tmp/, cache/) and, with --checkpoints, prune
    /// checkpoints: shows the plan, asks, then applies.
    Clean {
        /// A task, task/model, or run (a prefix, tag or folder); none for the whole tree.
        scope: Option<String>,
        /// Also prune checkpoints (keeps best.*, last.*, the latest, and names not understood).
        #[arg(long)]
        checkpoints: bool,
        /// Show the plan only.
        #[arg(long, short = 'n')]
        dry_run: bool,
        /// Apply without asking.
        #[arg(long, short)]
        yes: bool,
        /// Include active runs (written within the active window).
        #[arg(long)]
        force: bool,
        /// Print JSON (plan and report).
        #[arg(long)]
        json: bool,
    },
    /// Move runs to outputs/.trash/ (restorable with `runyard restore`).
    Rm {
        /// Runs: folders, task/model/run_id, run-id prefixes or tags.
        #[arg(required = true)]
        runs: Vec<String>,
        /// Show the plan only.
        #[arg(long, short = 'n')]
        dry_run: bool,
        /// Apply without asking.
        #[arg(long, short)]
        yes: bool,
        /// Include active runs.
        #[arg(long)]
        force: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Put runs back from the trash (never over an existing folder).
    Restore {
        /// Trash ids, or the run ids they came from.
        #[arg(required = true)]
        runs: Vec<String>,
    },
    /// List the trash, or empty it for good.
    Trash {
        /// `list` (default) or `empty`.
        #[arg(default_value = "list", value_parser = ["list", "empty"])]
        action: String,
        /// With empty: show the plan only.
        #[arg(long, short = 'n')]
        dry_run: bool,
        /// With empty: apply without asking.
        #[arg(long, short)]
        yes: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Copy the bundled demo tree to a scratch folder (with realistic
    /// file times) and list it.
    Demo {
        /// Where to put the copy (default: a new folder under the temp dir).
        dir: Option<PathBuf>,
    },
    /// Scan a tree and print counts, wall time and peak memory (benchmarks).
    #[command(hide = true)]
    Scan {
        /// The outputs/ folder.
        path: Option<PathBuf>,
    },
    /// Build a synthetic outputs tree for tests and benchmarks.
    #[command(hide = true)]
    Generate {
        /// The folder to create (must not exist).
        dir: PathBuf,
        /// Tasks.
        #[arg(long, default_value_t = 4)]
        tasks: usize,
        /// Models per task.
        #[arg(long, default_value_t = 5)]
        models: usize,
        /// Runs per model.
        #[arg(long, default_value_t = 10)]
        runs: usize,
        /// Files in each run's cache/.
        #[arg(long, default_value_t = 30)]
        cache_files: usize,
    },
}

/// An error with the exit code it should produce.
#[derive(Debug)]
pub struct Failure {
    /// The message, one line.
    pub message: String,
    /// The process exit code.
    pub code: u8,
}

impl Failure {
    /// A failure for something the user asked that cannot be found or done.
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: EXIT_USAGE,
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure {
            message: format!("{e:#}"),
            code: EXIT_FAILURE,
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        // A closed pipe (`runyard ls | head`) means the reader has what it
        // wanted: not a failure, and no message.
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Failure {
                message: String::new(),
                code: 0,
            };
        }
        Failure {
            message: e.to_string(),
            code: EXIT_FAILURE,
        }
    }
}

/// Runs a subcommand. `None` means no subcommand: the caller opens the TUI.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let global = args.global;
    // A PATH argument wins over --root, which wins over finding the root.
    let root = args.path.or(global.root.clone());
    let Some(command) = args.command else {
        return explore(root.as_deref(), &global);
    };
    match command {
        Command::Ls {
            path,
            task,
            model,
            sort,
            flat,
            json,
        } => {
            let ctx = Context::open(path.as_deref().or(root.as_deref()), &global)?;
            ls::run(&ctx, task.as_deref(), model.as_deref(), &sort, flat, json)
        }
        Command::Show { run, json } => {
            let ctx = Context::for_run(&run, root.as_deref(), &global)?;
            let key = ctx.resolve_run(&run)?;
            show::run(&ctx, key, json, false)
        }
        Command::Latest {
            path,
            task,
            model,
            json,
        } => {
            let ctx = Context::open(path.as_deref().or(root.as_deref()), &global)?;
            let keys = ctx.select(task.as_deref(), model.as_deref())?;
            let Some(key) = ctx.catalog.latest(keys) else {
                return Err(Failure::usage("no runs found"));
            };
            show::run(&ctx, key, json, true)
        }
        Command::Du { path, limit, json } => {
            let ctx = Context::open(path.as_deref().or(root.as_deref()), &global)?;
            du::run(&ctx, limit, json)
        }
        Command::Clean {
            scope,
            checkpoints,
            dry_run,
            yes,
            force,
            json,
        } => {
            let ctx = Context::open(root.as_deref(), &global)?;
            clean::clean(
                &ctx,
                scope.as_deref(),
                checkpoints,
                force,
                clean::Confirm { yes, dry_run, json },
            )
        }
        Command::Rm {
            runs,
            dry_run,
            yes,
            force,
            json,
        } => {
            let ctx = Context::for_run(&runs[0], root.as_deref(), &global)?;
            clean::rm(&ctx, &runs, force, clean::Confirm { yes, dry_run, json })
        }
        Command::Restore { runs } => {
            let root = Context::find_root(root.as_deref())?;
            clean::restore(&root, &runs)
        }
        Command::Trash {
            action,
            dry_run,
            yes,
            json,
        } => {
            let found = Context::find_root(root.as_deref())?;
            if action == "empty" {
                let ctx = Context::open(Some(&found), &global)?;
                let plan = crate::ops::trash::plan_empty(
                    &ctx.catalog.root,
                    &[],
                    &clean::plan_options(&ctx, true),
                );
                clean::run_plan(plan, clean::Confirm { yes, dry_run, json })
            } else {
                clean::trash_list(&found, json)
            }
        }
        Command::Demo { dir } => {
            let root = crate::demo::materialize(dir.as_deref()).map_err(Failure::from)?;
            eprintln!("demo tree copied to {}", root.display());
            explore(Some(&root), &global)
        }
        Command::Scan { path } => {
            let ctx = Context::open(path.as_deref().or(root.as_deref()), &global)?;
            let c = &ctx.catalog;
            let stats = c.done.unwrap_or_default();
            let total = c.rollup(&c.run_keys().collect::<Vec<_>>());
            println!(
                "{}",
                serde_json::json!({
                    "entries": stats.entries,
                    "runs": c.runs.len(),
                    "disk": total.total().disk,
                    "reclaimable": total.reclaimable().disk,
                    "millis": stats.millis,
                    "threads": stats.threads,
                    "peak_rss_kib": peak_rss_kib(),
                })
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate {
            dir,
            tasks,
            models,
            runs,
            cache_files,
        } => {
            let spec = crate::demo::GenSpec {
                tasks,
                models,
                runs,
                cache_files,
                ..crate::demo::GenSpec::default()
            };
            let n = crate::demo::generate(&dir, &spec).map_err(Failure::from)?;
            println!("{} entries written under {}", n, dir.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Opens the explorer on a terminal; elsewhere (a pipe, a script) prints
/// the listing instead, so `runyard > file` does something useful.
fn explore(path: Option<&std::path::Path>, global: &GlobalOpts) -> Result<ExitCode, Failure> {
    use std::io::IsTerminal;
    if !(std::io::stdout().is_terminal() && std::io::stdin().is_terminal()) {
        let ctx = Context::open(path, global)?;
        return ls::run(&ctx, None, None, &SortKey::Time, false, false);
    }
    let root = Context::find_root(path)?;
    let mut scan = crate::catalog::ScanOptions::default();
    if let Some(t) = global.threads {
        scan.threads = t.max(1);
    }
    let opts = crate::tui::Options {
        window: jiff::SignedDuration::from_secs(global.active_minutes as i64 * 60),
        scan,
    };
    crate::tui::run(&root, opts)?;
    Ok(ExitCode::SUCCESS)
}

/// Peak resident memory of this process, from `/proc/self/status` (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
