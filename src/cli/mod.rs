//! The command line: argument definitions, and the subcommands' text and
//! JSON output over the same library the TUI uses.

mod clean;
mod compare;
mod context;
mod du;
mod links;
mod ls;
mod show;
mod table;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::fmt;

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
    /// The outputs/ folder, or a folder holding one, or another tool's tree
    /// (lightning_logs/, a Hydra outputs/ or multirun/, mlruns/, wandb/)
    /// (default: ./outputs, or the nearest parent holding outputs/experiments).
    pub path: Option<PathBuf>,

    /// Options shared by every subcommand.
    #[command(flatten)]
    pub global: GlobalOpts,

    /// What to do; without one, runyard opens the explorer.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every subcommand takes: listed under their own heading in each
/// subcommand's `--help`, after the subcommand's own options.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalOpts {
    /// Threads that walk the tree (more than the cores helps on NFS).
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,

    /// Read this config file instead of $XDG_CONFIG_HOME/runyard/config.toml
    /// (`--config` of new-run is the run's own config).
    #[arg(
        id = "config_file",
        long = "config-file",
        global = true,
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// Ignore the config file: start with the defaults.
    #[arg(long, global = true)]
    pub no_config: bool,

    /// Walk every run instead of trusting the scan cache (see README).
    #[arg(long, global = true)]
    pub no_cache: bool,

    /// The outputs/ folder (or another tool's tree) to work on, for
    /// subcommands without a PATH argument.
    #[arg(long, short = 'C', global = true, value_name = "PATH")]
    pub root: Option<PathBuf>,

    /// A run that wrote a file within this many minutes is active [default: 10].
    #[arg(long, global = true, value_name = "MINUTES")]
    pub active_minutes: Option<u64>,

    /// The config, once read (not a flag).
    #[arg(skip)]
    pub settings: crate::config::Config,
}

impl GlobalOpts {
    /// The active window: the flag, else the config, else 10 minutes.
    pub fn window(&self) -> jiff::SignedDuration {
        let minutes = self
            .active_minutes
            .or(self.settings.general.active_minutes)
            .unwrap_or(crate::layout::DEFAULT_ACTIVE_MINUTES);
        jiff::SignedDuration::from_secs(minutes as i64 * 60)
    }

    /// Scan options: threads from the flag, else the config, else the
    /// cores; the scan cache of `root` unless --no-cache.
    pub fn scan_options(&self, root: &std::path::Path) -> crate::catalog::ScanOptions {
        let mut opts = crate::catalog::ScanOptions::default();
        if let Some(t) = self.threads.or(self.settings.general.scan_threads) {
            opts.threads = t.clamp(1, max_threads());
        }
        if !self.no_cache {
            opts.cache = crate::catalog::cache::load(root).map(std::sync::Arc::new);
        }
        opts
    }

    /// Settles the thread count once (flag, else config) within
    /// `1..=`[`max_threads`], saying on stderr when it was clamped: a
    /// hundred thousand walker threads cannot be spawned, and zero walk nothing.
    fn clamp_threads(&mut self) {
        let (asked, from) = match (self.threads, self.settings.general.scan_threads) {
            (Some(t), _) => (t, "--threads"),
            (None, Some(t)) => (t, "scan_threads in the config"),
            (None, None) => return,
        };
        let used = asked.clamp(1, max_threads());
        if used != asked {
            let _ = writeln!(
                std::io::stderr(),
                "runyard: {from} {asked} is out of range (1 to {}); using {used}",
                max_threads()
            );
        }
        self.threads = Some(used);
    }

    /// Reads the config file (unless --no-config). A broken one stops
    /// runyard with the reason and the way around it.
    fn load_settings(&mut self) -> Result<(), Failure> {
        if self.no_config {
            return Ok(());
        }
        let chosen = self.config.is_some();
        if let Some(p) = &self.config
            && !p.exists()
        {
            return Err(Failure::usage(format!(
                "{}: no such config file",
                p.display()
            )));
        }
        let Some(path) = self.config.clone().or_else(crate::config::default_path) else {
            return Ok(());
        };
        match crate::config::Config::load(&path) {
            Ok(c) => {
                self.settings = c;
                Ok(())
            }
            // Someone else's config (sudo -u, a shared HOME) is not ours to read.
            Err(crate::config::ConfigError::Read { source, .. })
                if !chosen && source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                let _ = writeln!(
                    std::io::stderr(),
                    "runyard: {}: not readable; using the defaults",
                    path.display()
                );
                Ok(())
            }
            Err(e) => Err(Failure::usage(format!(
                "{e}\n(runyard --no-config starts with the defaults)"
            ))),
        }
    }
}

/// The most walker threads runyard starts: four per core, at least 64
/// (more threads than cores pays on NFS, where each stat waits on the
/// server; past this they only cost memory and may fail to spawn).
pub fn max_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.saturating_mul(4).max(64)
}

/// How a command that changes the disk applies its plan.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct ApplyArgs {
    /// Show the plan only.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Apply without asking.
    #[arg(long, short)]
    pub yes: bool,
    /// Include active runs (written within the active window).
    #[arg(long)]
    pub force: bool,
    /// Print JSON (the plan and the report).
    #[arg(long)]
    pub json: bool,
    /// List every path of the plan (default: one line per run).
    #[arg(long, short)]
    pub verbose: bool,
}

impl ApplyArgs {
    fn confirm(self) -> clean::Confirm {
        clean::Confirm {
            yes: self.yes,
            dry_run: self.dry_run,
            json: self.json,
            verbose: self.verbose,
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List tasks, models and runs with sizes and key metrics.
    Ls {
        /// The outputs/ folder, or a folder holding one, or another tool's tree.
        path: Option<PathBuf>,
        /// Only this task.
        #[arg(long, short)]
        task: Option<String>,
        /// Only this model.
        #[arg(long, short)]
        model: Option<String>,
        /// Order runs by time, size, reclaimable, key-metric, or a metric name (e.g. val/acc)
        /// [default: time, or the config's default_sort]
        #[arg(long, short, value_name = "time|size|reclaimable|key-metric|METRIC")]
        sort: Option<SortKey>,
        /// One line per run (task/model/run_id status size reclaim metrics), no
        /// header nor footer: for grep, awk and scripts.
        #[arg(long)]
        flat: bool,
        /// Only the newest N runs (by run time), grouped and sorted as usual.
        #[arg(long = "newest", short = 'n', value_name = "N")]
        newest: Option<usize>,
        /// Only the runs meeting every condition: a config key (flattened,
        /// `optim.lr>=1e-4`, `model.name=resnet`, `seed!=0`; `= != >= > <= <`,
        /// numbers as numbers) or metric, `status:failed`, `tag:seed1`.
        /// Repeatable.
        #[arg(long = "where", value_name = "CONDITION")]
        wheres: Vec<String>,
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
        /// The outputs/ folder, or a folder holding one, or another tool's tree.
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
        /// The outputs/ folder, or a folder holding one, or another tool's tree.
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
        /// How to apply.
        #[command(flatten)]
        how: ApplyArgs,
    },
    /// Move runs to outputs/.trash/ (restorable with `runyard restore`).
    Rm {
        /// Runs: folders, task/model/run_id, run-id prefixes or tags.
        #[arg(required = true)]
        runs: Vec<String>,
        /// How to apply.
        #[command(flatten)]
        how: ApplyArgs,
    },
    /// Check the experiment tracker's links into outputs; --fix rewrites the
    /// recoverable and absolute ones as relative links.
    Links {
        /// The tracker folder (default: the config's tracker, else experiment-tracker/ beside outputs/).
        #[arg(long, value_name = "DIR")]
        tracker: Option<PathBuf>,
        /// Rewrite recoverable and absolute links (only their targets change).
        #[arg(long)]
        fix: bool,
        /// With --fix: show the rewrites only.
        #[arg(long, short = 'n')]
        dry_run: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Move a run to another task (and model), and rewrite the tracker links to it.
    Mv {
        /// The run: a folder, task/model/run_id, a run-id prefix or a tag.
        run: String,
        /// The task to move it under.
        #[arg(long)]
        task: String,
        /// The model to move it under (default: the same model name).
        #[arg(long)]
        model: Option<String>,
        /// The tracker folder.
        #[arg(long, value_name = "DIR")]
        tracker: Option<PathBuf>,
        /// How to apply.
        #[command(flatten)]
        how: ApplyArgs,
    },
    /// Copy a run's data, a plot, an export or a checkpoint into artifacts/
    /// (or checkpoints/): never moves, never overwrites, records provenance.
    #[command(group(clap::ArgGroup::new("what").required(true).args(["data", "plot", "export", "checkpoint"])))]
    Promote {
        /// The run: a folder, task/model/run_id, a run-id prefix or a tag.
        run: String,
        /// The run's data/ folder, as datasets/<name>_v<N>.
        #[arg(long)]
        data: bool,
        /// A file under plots/.
        #[arg(long, value_name = "FILE")]
        plot: Option<String>,
        /// A file of the run (ONNX, TorchScript, a submission), relative to the run.
        #[arg(long, value_name = "FILE")]
        export: Option<String>,
        /// A file under checkpoints/.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<String>,
        /// The dataset's name (default: the preprocessing pipeline), or the file's target name.
        #[arg(long)]
        name: Option<String>,
        /// Promote even when the same bytes (sha256) were promoted before: a second copy.
        #[arg(long)]
        again: bool,
        /// How to apply.
        #[command(flatten)]
        how: ApplyArgs,
    },
    /// Runs side by side: a table of runs × metrics, the best of each
    /// column marked.
    Compare {
        /// Runs (folder, task/model/run_id, run-id prefix or tag); none:
        /// every run of --task/--model.
        runs: Vec<String>,
        /// The runs of this task.
        #[arg(long, short)]
        task: Option<String>,
        /// The runs of this model.
        #[arg(long, short)]
        model: Option<String>,
        /// Order the runs by this metric, best first.
        #[arg(long, short, value_name = "METRIC")]
        sort: Option<String>,
        /// Only these columns: config keys and metrics, comma-separated,
        /// globs allowed (`optim.*,val/*`).
        #[arg(long, value_name = "GLOBS", value_delimiter = ',')]
        columns: Vec<String>,
        /// Only the runs whose config (or metric) KEY meets a condition
        /// (`optim.lr=1e-4`, `seed!=0`, `optim.lr>=1e-4`); repeat to combine.
        #[arg(long = "where", value_name = "KEY=VALUE")]
        filters: Vec<String>,
        /// Print JSON.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print CSV (a header row, one row per run).
        #[arg(long)]
        csv: bool,
    },
    /// Report what strays from the layout (warnings; exit 0 unless --strict).
    Check {
        /// Exit 1 when anything strays.
        #[arg(long)]
        strict: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the artifacts with where they came from, and which runs'
    /// configs use each dataset.
    Artifacts {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create the outputs/ layout, artifacts/README.md and
    /// docs/outputs_structure.md (never overwrites a file).
    Init {
        /// The project folder (outputs/ goes inside) or the outputs folder itself.
        path: Option<PathBuf>,
    },
    /// Create a run folder with the standard subfolders and run_info.json,
    /// and print its path: RUN_DIR=$(runyard new-run --task T --model M).
    NewRun {
        /// The task.
        #[arg(long)]
        task: String,
        /// The model (or preprocessing pipeline).
        #[arg(long)]
        model: String,
        /// A tag after the time in the run id (e.g. seed42).
        #[arg(long)]
        tag: Option<String>,
        /// A config file to copy into the run.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The seed, recorded in run_info.json.
        #[arg(long)]
        seed: Option<u64>,
        /// The command the run executes (after --), recorded in run_info.json.
        #[arg(last = true)]
        command: Vec<String>,
    },
    /// Record the end of a run: status, finish time, key metrics.
    Finish {
        /// The run: a folder, task/model/run_id, a run-id prefix or a tag.
        run: String,
        /// finished, failed, ...
        #[arg(long, default_value = "finished")]
        status: String,
        /// A JSON object of key metrics to merge into run_info.json.
        #[arg(long, value_name = "FILE")]
        metrics: Option<PathBuf>,
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
    /// Show the config file: where it is read from, whether it is valid,
    /// the default with every setting explained, or the key bindings.
    Config {
        /// Print the path the config is read from.
        #[arg(long, conflicts_with_all = ["default", "keys"])]
        path: bool,
        /// Print a config with every setting, commented, at its default.
        #[arg(long, conflicts_with = "keys")]
        default: bool,
        /// List the actions keys can be bound to, with their keys now.
        #[arg(long)]
        keys: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `runyard man > runyard.1`.
    Man,
    /// The scan cache: `clear` deletes it, `path` prints where it is.
    Cache {
        /// `clear` or `path`.
        #[arg(value_parser = ["clear", "path"])]
        action: String,
    },
    /// Copy the bundled demo tree to a scratch folder (with realistic
    /// file times) and open it.
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

    /// A failure while working (exit 1), as opposed to a bad request.
    pub fn working(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: EXIT_FAILURE,
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
    let mut global = args.global;
    if let Some(Command::Config { .. } | Command::Completions { .. } | Command::Man) = &args.command
    {
        // These work even when the config is broken: they are how to fix it.
        return meta(args.command.expect("matched"), &global);
    }
    global.load_settings()?;
    global.clamp_threads();
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
            newest,
            wheres,
            json,
        } => {
            let query = crate::query::parse_all(&wheres).map_err(Failure::usage)?;
            let ctx = Context::open(path.as_deref().or(root.as_deref()), &global)?;
            let sort = sort
                .or_else(|| Some(global.settings.general.default_sort.as_ref()?.key().clone()))
                .unwrap_or(SortKey::Time);
            let how = ls::Listing {
                newest,
                flat,
                json,
                query,
            };
            ls::run(&ctx, task.as_deref(), model.as_deref(), &sort, &how)
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
                // An empty tree is not an error: `ls` lists it with exit 0,
                // and so does this (JSON: null), so scripts see one answer.
                let root = crate::fmt::escape(&ctx.catalog.root.to_string_lossy()).into_owned();
                if json {
                    writeln!(std::io::stdout(), "null")?;
                } else {
                    writeln!(std::io::stdout(), "No runs yet under {root}.")?;
                }
                return Ok(ExitCode::SUCCESS);
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
            how,
        } => {
            let ctx = Context::open(root.as_deref(), &global)?;
            if !checkpoints && let Some(why) = ctx.catalog.source.no_ephemeral() {
                return Err(Failure::usage(format!(
                    "nothing to clean without --checkpoints: {why}"
                )));
            }
            // Inside a task, model or run folder, that is the scope: a
            // cleanup never reaches past where the user stands unless asked.
            let scope = scope.or_else(|| clean::scope_of_cwd(&ctx.catalog.root));
            if let Some(s) = &scope {
                let _ = writeln!(std::io::stderr(), "scope: {}", crate::fmt::escape(s));
            }
            clean::clean(
                &ctx,
                scope.as_deref(),
                checkpoints,
                how.force,
                how.confirm(),
            )
        }
        Command::Rm { runs, how } => {
            let ctx = Context::for_run(&runs[0], root.as_deref(), &global)?;
            clean::rm(&ctx, &runs, how.force, how.confirm())
        }
        Command::Links {
            tracker,
            fix,
            dry_run,
            json,
        } => {
            let ctx = Context::open(root.as_deref(), &global)?;
            let dir = crate::tracker::find_tracker(
                &ctx.catalog.root,
                tracker
                    .as_deref()
                    .or(global.settings.general.tracker.as_deref()),
            );
            links::links(&ctx, &dir, fix, dry_run, json)
        }
        Command::Mv {
            run,
            task,
            model,
            tracker,
            how,
        } => {
            // The same rule as new-run: a plain visible folder name, so a
            // run cannot be moved into .trash, out of experiments/, or
            // under a name with a newline.
            crate::layout::check_folder_name("task", &task).map_err(Failure::usage)?;
            if let Some(m) = &model {
                crate::layout::check_folder_name("model", m).map_err(Failure::usage)?;
            }
            let ctx = Context::for_run(&run, root.as_deref(), &global)?;
            layout_only(
                &ctx,
                "mv moves runs between tasks and models of experiments/",
            )?;
            let dir = crate::tracker::find_tracker(
                &ctx.catalog.root,
                tracker
                    .as_deref()
                    .or(global.settings.general.tracker.as_deref()),
            );
            links::mv(&ctx, &run, &task, model.as_deref(), &dir, how.confirm())
        }
        Command::Promote {
            run,
            data,
            plot,
            export,
            checkpoint,
            name,
            again,
            how,
        } => {
            let what = match (data, plot, export, checkpoint) {
                (true, ..) => crate::ops::promote::What::Data,
                (_, Some(f), ..) => crate::ops::promote::What::Plot(f),
                (_, _, Some(f), _) => crate::ops::promote::What::Export(f),
                (_, _, _, Some(f)) => crate::ops::promote::What::Checkpoint(f),
                _ => {
                    return Err(Failure::usage(
                        "say what to promote: --data, --plot, --export or --checkpoint",
                    ));
                }
            };
            let ctx = Context::for_run(&run, root.as_deref(), &global)?;
            promote(&ctx, &run, what, name.as_deref(), again, how)
        }
        Command::Compare {
            runs,
            task,
            model,
            sort,
            columns,
            filters,
            json,
            csv,
        } => {
            let ctx = match runs.first() {
                Some(first) => Context::for_run(first, root.as_deref(), &global)?,
                None => Context::open(root.as_deref(), &global)?,
            };
            let keys = if runs.is_empty() {
                if task.is_none() && model.is_none() {
                    return Err(Failure::usage(
                        "give runs to compare, or --task/--model to compare their runs",
                    ));
                }
                let mut keys = ctx.select(task.as_deref(), model.as_deref())?;
                // Newest first, the way ls lists them.
                keys.sort_by_key(|&k| std::cmp::Reverse(ctx.catalog.runs[k].time()));
                keys
            } else {
                let mut keys = Vec::new();
                for r in &runs {
                    let k = ctx.resolve_run(r)?;
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
                keys
            };
            let output = match (json, csv) {
                (true, _) => compare::Output::Json,
                (_, true) => compare::Output::Csv,
                _ => compare::Output::Text,
            };
            let choice = compare::Choice {
                sort,
                columns,
                filters,
                width: compare::terminal_width(),
            };
            compare::run(&ctx, &keys, &choice, output)
        }
        Command::Check { strict, json } => {
            let ctx = Context::open(root.as_deref(), &global)?;
            let findings = crate::check::check(&ctx.catalog);
            let mut out = std::io::stdout().lock();
            if json {
                write_doc(
                    &mut out,
                    serde_json::json!({ "root": ctx.catalog.root.to_string_lossy(), "findings": json_value(&findings)? }),
                )?;
            } else {
                for f in &findings {
                    writeln!(
                        out,
                        "{:<17} {}  {}",
                        f.kind,
                        crate::fmt::escape(&f.path.to_string_lossy()),
                        crate::fmt::escape(&f.message)
                    )?;
                }
                let n = findings.len();
                writeln!(out, "{n} finding{}.", if n == 1 { "" } else { "s" })?;
            }
            Ok(if strict && findings.iter().any(|f| !f.is_note()) {
                ExitCode::from(EXIT_FAILURE)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Artifacts { json } => {
            let ctx = Context::open(root.as_deref(), &global)?;
            artifacts(&ctx, json)
        }
        Command::Init { path } => {
            let base = match path.or(root) {
                Some(p) => p,
                None => std::env::current_dir()?,
            };
            let outputs = if base.file_name().is_some_and(|n| n == "outputs") {
                base
            } else {
                base.join("outputs")
            };
            let created = crate::ops::create::init(&outputs).map_err(Failure::working)?;
            let mut out = std::io::stdout().lock();
            if created.is_empty() {
                writeln!(
                    out,
                    "{}: the layout is already there; nothing created",
                    crate::fmt::escape(&outputs.to_string_lossy())
                )?;
            }
            for p in created {
                writeln!(out, "created {}", crate::fmt::escape(&p.to_string_lossy()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::NewRun {
            task,
            model,
            tag,
            config,
            seed,
            command,
        } => {
            let found = Context::find_root(root.as_deref())?;
            let kind = crate::sources::Source::detect(&found).kind;
            if kind != crate::sources::SourceKind::Layout {
                return Err(Failure::usage(format!(
                    "{}: a {} tree, not runyard's outputs/ layout: new-run makes \
                     experiments/<task>/<model>/<run_id>/ only in an outputs/ folder",
                    crate::fmt::escape(&found.to_string_lossy()),
                    kind.title()
                )));
            }
            let spec = crate::ops::create::NewRun {
                task,
                model,
                tag,
                config,
                seed,
                command,
            };
            let run = crate::ops::create::new_run(&found, &spec).map_err(Failure::usage)?;
            // Raw, not escaped: scripts use it as a path (RUN_DIR=$(...)), and
            // the task and model names were checked to be plain above.
            writeln!(std::io::stdout(), "{}", run.display())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Finish {
            run,
            status,
            metrics,
        } => {
            let ctx = Context::for_run(&run, root.as_deref(), &global)?;
            layout_only(&ctx, "finish writes runyard's run_info.json")?;
            let key = ctx.resolve_run(&run)?;
            let path = &ctx.catalog.runs[key].path;
            let rel = path.strip_prefix(&ctx.catalog.root).unwrap_or(path);
            crate::ops::create::finish(&ctx.catalog.root, rel, &status, metrics.as_deref())
                .map_err(Failure::usage)?;
            writeln!(
                std::io::stdout(),
                "{}: {}",
                crate::fmt::escape(&path.to_string_lossy()),
                crate::fmt::escape(&status)
            )?;
            Ok(ExitCode::SUCCESS)
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
                clean::run_plan(
                    plan,
                    clean::Confirm {
                        yes,
                        dry_run,
                        json,
                        verbose: false,
                    },
                )
            } else {
                clean::trash_list(&found, json)
            }
        }
        Command::Demo { dir } => {
            let root = crate::demo::materialize(dir.as_deref()).map_err(Failure::from)?;
            let _ = writeln!(
                std::io::stderr(),
                "demo tree copied to {}",
                crate::fmt::escape(&root.to_string_lossy())
            );
            explore(Some(&root), &global)
        }
        Command::Scan { path } => {
            let ctx = Context::open(path.as_deref().or(root.as_deref()), &global)?;
            let c = &ctx.catalog;
            let stats = c.done.unwrap_or_default();
            let total = c.rollup(&c.run_keys().collect::<Vec<_>>());
            writeln!(
                std::io::stdout(),
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
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Config { .. } | Command::Completions { .. } | Command::Man => {
            unreachable!("handled above")
        }
        Command::Cache { action } => {
            if action == "path" {
                let root = Context::find_root(root.as_deref())?;
                match crate::catalog::cache::cache_path(&root) {
                    Some(p) => writeln!(std::io::stdout(), "{}", p.display())?,
                    None => {
                        return Err(Failure::usage(
                            "no cache location: $XDG_CACHE_HOME and $HOME are unset",
                        ));
                    }
                }
            } else {
                let n = crate::catalog::cache::clear()?;
                writeln!(std::io::stdout(), "{n} cache files deleted")?;
            }
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
            writeln!(
                std::io::stdout(),
                "{} entries written under {}",
                n,
                dir.display()
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Refuses a command that only means something in runyard's own layout
/// when the tree is another tool's, saying why.
fn layout_only(ctx: &Context, why: &str) -> Result<(), Failure> {
    match ctx.catalog.source {
        crate::sources::SourceKind::Layout => Ok(()),
        kind => Err(Failure::usage(format!(
            "not in a {} tree: {why}, a rule of runyard's outputs/ layout",
            kind.title()
        ))),
    }
}

/// Opens the explorer on a terminal; elsewhere (a pipe, a script) prints
/// the listing instead, so `runyard > file` does something useful.
fn explore(path: Option<&std::path::Path>, global: &GlobalOpts) -> Result<ExitCode, Failure> {
    use std::io::IsTerminal;
    if !(std::io::stdout().is_terminal() && std::io::stdin().is_terminal()) {
        let ctx = Context::open(path, global)?;
        let sort = global
            .settings
            .general
            .default_sort
            .as_ref()
            .map_or(SortKey::Time, |s| s.key().clone());
        return ls::run(&ctx, None, None, &sort, &ls::Listing::default());
    }
    let root = Context::find_root(path)?;
    let opts = crate::tui::Options {
        window: global.window(),
        scan: global.scan_options(&root),
        config: global.settings.clone(),
        tracker: crate::tracker::find_tracker(&root, global.settings.general.tracker.as_deref()),
    };
    crate::tui::run(&root, opts)?;
    Ok(ExitCode::SUCCESS)
}

/// `runyard artifacts`: each artifact, its provenance, and for datasets the
/// runs whose configs reference them.
fn artifacts(ctx: &Context, json: bool) -> Result<ExitCode, Failure> {
    let root = &ctx.catalog.root;
    let mut rows = Vec::new();
    for sub in ["datasets", "plots", "exports"] {
        let Ok(rd) = std::fs::read_dir(root.join("artifacts").join(sub)) else {
            continue;
        };
        let mut names: Vec<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for n in names
            .iter()
            .filter(|n| !n.starts_with('.') && !n.ends_with(".provenance.json"))
        {
            // A provenance record is untrusted: no link followed, capped.
            let record = crate::runs::open::read_regular(
                &root
                    .join("artifacts")
                    .join(sub)
                    .join(format!("{n}.provenance.json")),
                1 << 20,
            )
            .ok()
            .flatten()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
            let used: Vec<PathBuf> = if sub == "datasets" {
                crate::check::used_by(&ctx.catalog, n)
            } else {
                Vec::new()
            };
            rows.push(serde_json::json!({
                "artifact": format!("{sub}/{n}"),
                "source_run": record.as_ref().and_then(|r| r["source_run"].as_str().map(str::to_string)),
                "promoted_at": record.as_ref().and_then(|r| r["promoted_at"].as_str().map(str::to_string)),
                "used_by": used.iter().map(|p| p.to_string_lossy()).collect::<Vec<_>>(),
            }));
        }
    }
    let mut out = std::io::stdout().lock();
    if json {
        write_doc(
            &mut out,
            serde_json::json!({ "root": root.to_string_lossy(), "artifacts": rows }),
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    // Names come from the tree and records from provenance files: both
    // untrusted, so escaped like every other text runyard prints.
    let text = |v: &serde_json::Value| fmt::escape(v.as_str().unwrap_or("")).into_owned();
    for r in &rows {
        writeln!(out, "{}", text(&r["artifact"]))?;
        match r["source_run"].as_str() {
            Some(s) => writeln!(
                out,
                "  from {} ({})",
                fmt::escape(s),
                fmt::escape(r["promoted_at"].as_str().unwrap_or("?"))
            )?,
            None => writeln!(out, "  no provenance record")?,
        }
        for u in r["used_by"].as_array().into_iter().flatten() {
            writeln!(out, "  used by {}", text(u))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `runyard promote`: plan, show, ask, copy.
fn promote(
    ctx: &Context,
    run: &str,
    what: crate::ops::promote::What,
    name: Option<&str>,
    again: bool,
    how: ApplyArgs,
) -> Result<ExitCode, Failure> {
    use crate::ops::promote;
    if let Some(why) = ctx.catalog.source.no_promote() {
        return Err(Failure::usage(format!("nothing promoted: {why}")));
    }
    let key = ctx.resolve_run(run)?;
    let r = &ctx.catalog.runs[key];
    let today = jiff::ZonedDateTime::now().date();
    let p = promote::plan(&ctx.catalog.root, r, what, name, today)
        .map_err(|e| Failure::usage(e.to_string()))?;
    let mut out = std::io::stdout().lock();
    if !how.json {
        writeln!(
            out,
            "Plan: promote {} → {} ({}, {}; a copy: copy-on-write where the filesystem can)",
            crate::fmt::escape(&p.source.to_string_lossy()),
            crate::fmt::escape(&p.dest.to_string_lossy()),
            crate::fmt::count(p.files, "file"),
            crate::fmt::size(p.bytes)
        )?;
        if let Some(e) = &p.already {
            writeln!(
                out,
                "Note: the same bytes (sha256) are {}: {}",
                e.describe(ctx.now),
                crate::fmt::escape(&e.artifact.to_string_lossy())
            )?;
        }
        out.flush()?;
    }
    // A second copy of the same bytes is never made by accident.
    if let (Some(e), false, false) = (&p.already, again, how.dry_run) {
        return Err(Failure::usage(format!(
            "not promoted: the same bytes are {} ({}); --again makes a second copy",
            e.describe(ctx.now),
            crate::fmt::escape(&e.artifact.to_string_lossy())
        )));
    }
    let go = clean::confirm("Promote it?", how.confirm())?;
    let done = if go {
        Some(
            promote::apply(&ctx.catalog.root, &p, r).map_err(|e| Failure {
                message: e.to_string(),
                code: EXIT_FAILURE,
            })?,
        )
    } else {
        None
    };
    if how.json {
        write_doc(
            &mut out,
            serde_json::json!({ "plan": json_value(&p)?, "applied": go, "artifact": json_value(&done)? }),
        )?;
    } else if let Some(rel) = done {
        let rel = fmt::escape(&rel.to_string_lossy()).into_owned();
        writeln!(out, "Promoted: {rel} (provenance: {rel}.provenance.json)")?;
    } else if !how.dry_run {
        writeln!(out, "Nothing changed.")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `runyard config`, `completions` and `man`.
fn meta(command: Command, global: &GlobalOpts) -> Result<ExitCode, Failure> {
    use clap::CommandFactory;
    let mut out = std::io::stdout().lock();
    match command {
        Command::Completions { shell } => {
            // Into memory first: the generator panics on a closed pipe.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Args::command(), "runyard", &mut script);
            out.write_all(&script)?;
        }
        Command::Man => {
            clap_mangen::Man::new(Args::command()).render(&mut out)?;
        }
        Command::Config {
            path,
            default,
            keys,
        } => {
            let file = global.config.clone().or_else(crate::config::default_path);
            if default {
                write!(out, "{}", crate::config::DEFAULT_CONFIG)?;
                return Ok(ExitCode::SUCCESS);
            }
            if path {
                match &file {
                    Some(f) => writeln!(out, "{}", f.display())?,
                    None => {
                        return Err(Failure::usage(
                            "no config location: neither $XDG_CONFIG_HOME nor $HOME is set",
                        ));
                    }
                }
                return Ok(ExitCode::SUCCESS);
            }
            let loaded = match (&file, global.no_config) {
                (Some(f), false) => {
                    crate::config::Config::load(f).map_err(|e| Failure::usage(e.to_string()))?
                }
                _ => crate::config::Config::default(),
            };
            if keys {
                // The table the file gave, checked when it was read.
                for b in &loaded.bindings {
                    writeln!(
                        out,
                        "{:<20} {:<18} {}",
                        b.name,
                        crate::config::keymap::keys_label(b),
                        b.desc
                    )?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            match &file {
                // With --no-config the file was not read, so say nothing of it.
                Some(f) if global.no_config => writeln!(
                    out,
                    "{}: not read (--no-config); the defaults apply",
                    f.display()
                )?,
                Some(f) if f.exists() => writeln!(out, "{}: valid", f.display())?,
                Some(f) => writeln!(
                    out,
                    "{}: not there; the defaults apply (runyard config --default shows them)",
                    f.display()
                )?,
                None => writeln!(out, "no config location; the defaults apply")?,
            }
        }
        _ => unreachable!("only meta commands come here"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Version of every JSON document the CLI prints; bumped on breaking changes.
pub const JSON_VERSION: u32 = 1;

/// A `--json` document: `version` first (docs/json.md), then the fields of
/// `body`, an object, in their order (serde_json keeps insertion order).
pub(crate) fn envelope(body: serde_json::Value) -> serde_json::Value {
    debug_assert!(body.is_object(), "a document's body is an object");
    let mut doc = serde_json::Map::new();
    doc.insert("version".into(), JSON_VERSION.into());
    if let serde_json::Value::Object(fields) = body {
        doc.extend(fields);
    }
    serde_json::Value::Object(doc)
}

/// Writes a `--json` document (the [`envelope`] of `body`), pretty, with
/// a final newline.
pub(crate) fn write_doc(out: &mut impl Write, body: serde_json::Value) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &envelope(body))?;
    writeln!(out)
}

/// A value as JSON for a document, without the panic of `json!` on a path
/// that is not UTF-8 (a name from the tree): that becomes an error instead.
pub(crate) fn json_value<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, Failure> {
    serde_json::to_value(v).map_err(|e| {
        Failure::working(format!(
            "cannot write JSON: {e} (a name under the root is not UTF-8; the text output shows it escaped)"
        ))
    })
}

/// Peak resident memory of this process, from `/proc/self/status` (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
