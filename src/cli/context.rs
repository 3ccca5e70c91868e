//! What every subcommand starts from: the root, the scanned catalog, and
//! the clock that decides which runs are active.

use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};

use super::{Failure, GlobalOpts};
use crate::catalog::{self, Catalog, RunKey};
use crate::layout;
use crate::runs::RunSummary;
use crate::runs::cache::SummaryCache;

/// A scanned tree and the settings to read it with.
pub struct Context {
    /// The scanned tree.
    pub catalog: Catalog,
    /// Now, fixed once so one command sees one clock.
    pub now: Timestamp,
    /// Runs that wrote within this window are active.
    pub window: SignedDuration,
    threads: usize,
    /// The key metric of each task, from the config.
    pub(crate) key_metrics: std::collections::BTreeMap<String, crate::config::KeyMetric>,
    /// How a prune judges checkpoints, from the config.
    judge: crate::ops::Judge,
    /// Run summaries from the last command (none with --no-cache), saved
    /// when the context goes if any was read anew.
    summary_cache: Option<SummaryCache>,
}

impl Drop for Context {
    fn drop(&mut self) {
        let Some(cache) = &self.summary_cache else {
            return;
        };
        let c = &self.catalog;
        let keep: std::collections::HashSet<String> =
            c.run_keys().map(|k| self.rel(k).into_owned()).collect();
        // Failing to write it only costs speed next time.
        let _ = cache.save(&keep);
    }
}

impl Context {
    /// Finds the root from `path` (or the working folder) and scans it.
    pub fn open(path: Option<&Path>, global: &GlobalOpts) -> Result<Context, Failure> {
        let root = Context::find_root(path)?;
        Ok(Context::scan(&root, global))
    }

    /// Finds the root (canonical) without scanning it.
    pub fn find_root(path: Option<&Path>) -> Result<PathBuf, Failure> {
        let cwd = std::env::current_dir()
            .map_err(|e| Failure::usage(format!("cannot read the working folder: {e}")))?;
        let root = layout::find_root(path, &cwd).map_err(|e| Failure::usage(e.to_string()))?;
        Ok(root.canonicalize().unwrap_or(root))
    }

    /// Like [`Context::open`], but when `run` is a run folder its root wins.
    pub fn for_run(
        run: &str,
        path: Option<&Path>,
        global: &GlobalOpts,
    ) -> Result<Context, Failure> {
        let p = Path::new(run);
        if p.is_dir() {
            return match root_of_run(p) {
                Some(root) => Ok(Context::scan(&root, global)),
                None => Err(Failure::usage(format!(
                    "{run}: not a run folder (expected outputs/experiments/<task>/<model>/<run_id>, \
                     or a run of another tool's tree: lightning_logs/version_N, \
                     outputs/DATE/TIME, multirun/DATE/TIME/N, mlruns/<exp>/<run>, wandb/run-*)"
                ))),
            };
        }
        Context::open(path, global)
    }

    fn scan(root: &Path, global: &GlobalOpts) -> Context {
        // Canonical, so run paths compare equal to any path the user types.
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let opts = global.scan_options(&root);
        let threads = opts.threads;
        let catalog = catalog::scan(&root, opts);
        if let Some(stats) = catalog.done
            && stats.cached_runs < catalog.runs.len()
        {
            // A scan that walked something refreshes the cache; failing to
            // write it only costs speed next time.
            let _ = catalog::cache::save(&catalog, stats.started_at, global.window().as_secs());
        }
        let now = Timestamp::now();
        let summary_cache = (!global.no_cache).then(|| {
            let settled_before = now.as_second() - global.window().as_secs();
            SummaryCache::load(&catalog.root, settled_before)
        });
        Context {
            catalog,
            now,
            window: global.window(),
            threads,
            summary_cache,
            judge: crate::ops::Judge::configured(&global.settings),
            key_metrics: global
                .settings
                .metrics
                .iter()
                .map(|(t, m)| (t.clone(), m.resolve()))
                .collect(),
        }
    }

    /// How run `key`'s key metric is chosen: its task's configured one
    /// (with its direction), else the run's own rules.
    pub fn key_spec(&self, key: RunKey) -> crate::runs::KeySpec {
        crate::runs::KeySpec::for_task(&self.key_metrics, &self.catalog.runs[key].task)
    }

    /// How pruning judges checkpoints: each configured task's key metric
    /// and `keep_best`.
    pub fn judge(&self) -> crate::ops::Judge {
        self.judge.clone()
    }

    /// A run's key metric: its task's configured one, else its own first.
    /// Name, value, and whether lower is better.
    pub fn key_metric(&self, key: RunKey, s: &RunSummary) -> Option<(String, f64, bool)> {
        let k = s.key_metric(&self.key_spec(key))?;
        Some((
            k.name,
            k.value,
            k.better == Some(crate::runs::Better::Lower),
        ))
    }

    /// The keys of the runs of a task and model (all runs without either);
    /// an unknown task or model is an error that names the known ones.
    pub fn select(&self, task: Option<&str>, model: Option<&str>) -> Result<Vec<RunKey>, Failure> {
        let c = &self.catalog;
        if let Some(t) = task
            && !c.tasks.iter().any(|x| x.name == t)
        {
            let known: Vec<String> = c
                .tasks
                .iter()
                .map(|t| crate::fmt::escape(&t.name).into_owned())
                .collect();
            return Err(Failure::usage(format!(
                "no task {t:?} (tasks: {})",
                known.join(", ")
            )));
        }
        if let Some(m) = model
            && !c
                .tasks
                .iter()
                .filter(|t| task.is_none_or(|n| t.name == n))
                .any(|t| t.models.iter().any(|x| x.name == m))
        {
            return Err(Failure::usage(format!(
                "no model {m:?} under {}",
                task.unwrap_or("any task")
            )));
        }
        Ok(c.run_keys()
            .filter(|&k| {
                let r = &c.runs[k];
                task.is_none_or(|t| r.task == t) && model.is_none_or(|m| r.model == m)
            })
            .collect())
    }

    /// Finds a run by folder path, `task/model/run_id`, or unique run-id prefix.
    pub fn resolve_run(&self, arg: &str) -> Result<RunKey, Failure> {
        let c = &self.catalog;
        if let Ok(abs) = Path::new(arg).canonicalize()
            && let Some(k) = c.runs.iter().position(|r| r.path == abs)
        {
            return Ok(k);
        }
        let arg = arg.trim_end_matches('/');
        // An exact name wins over prefixes of longer names. The path from
        // the root counts too: in another tool's tree it is what the user
        // sees on disk (`lightning_logs/version_3`), not the label.
        let exact: Vec<RunKey> = c
            .run_keys()
            .filter(|&k| {
                let r = &c.runs[k];
                r.label() == arg || r.name == arg || self.rel(k) == arg
            })
            .collect();
        if let [k] = exact.as_slice() {
            return Ok(*k);
        }
        let matches: Vec<RunKey> = c
            .run_keys()
            .filter(|&k| {
                let r = &c.runs[k];
                let tag = r.id.as_ref().and_then(|i| i.tag.as_deref());
                r.name.starts_with(arg)
                    || r.label().starts_with(arg)
                    || r.label().ends_with(&format!("/{arg}"))
                    || tag.is_some_and(|t| t.starts_with(arg))
            })
            .collect();
        match matches.as_slice() {
            [k] => Ok(*k),
            [] => Err(Failure::usage(format!(
                "no run matches {arg:?} under {}",
                c.root.display()
            ))),
            many => {
                let shown: Vec<String> = many
                    .iter()
                    .take(8)
                    .map(|&k| crate::fmt::escape(&c.runs[k].label()).into_owned())
                    .collect();
                let more = if many.len() > 8 {
                    format!(" and {} more", many.len() - 8)
                } else {
                    String::new()
                };
                Err(Failure::usage(format!(
                    "{arg:?} matches {} runs: {}{more}; give more of the run id",
                    many.len(),
                    shown.join(", ")
                )))
            }
        }
    }

    /// True when the run wrote something within the active window.
    pub fn is_active(&self, key: RunKey) -> bool {
        self.catalog.runs[key].is_active(self.now, self.window)
    }

    /// A run's path relative to the root (the summary cache's key).
    fn rel(&self, key: RunKey) -> std::borrow::Cow<'_, str> {
        let r = &self.catalog.runs[key];
        r.path
            .strip_prefix(&self.catalog.root)
            .unwrap_or(&r.path)
            .to_string_lossy()
    }

    /// Reads a run's summary: from the summary cache when its files did
    /// not change (and it is not active), else from its files.
    pub fn summary(&self, key: RunKey) -> RunSummary {
        let path = &self.catalog.runs[key].path;
        match &self.summary_cache {
            Some(c) => c.summary(&self.rel(key), path, self.is_active(key)),
            None => RunSummary::load(path),
        }
    }

    /// What the summary cache did so far: summaries reused and read.
    pub fn summary_stats(&self) -> Option<crate::runs::cache::CacheStats> {
        self.summary_cache.as_ref().map(SummaryCache::stats)
    }

    /// Reads the summaries of many runs on a few threads.
    pub fn summaries(&self, keys: &[RunKey]) -> Vec<RunSummary> {
        if keys.len() < 64 {
            return keys.iter().map(|&k| self.summary(k)).collect();
        }
        let chunk = keys.len().div_ceil(self.threads.max(1));
        std::thread::scope(|s| {
            let parts: Vec<_> = keys
                .chunks(chunk)
                .map(|ks| {
                    (
                        ks.len(),
                        s.spawn(move || ks.iter().map(|&k| self.summary(k)).collect::<Vec<_>>()),
                    )
                })
                .collect();
            // Callers zip keys with summaries: a chunk whose reader died
            // still takes its places (empty summaries with the reason), or
            // every later summary would land on the wrong run.
            parts
                .into_iter()
                .flat_map(|(n, h)| {
                    h.join().unwrap_or_else(|_| {
                        let lost = RunSummary {
                            errors: vec![
                                "reading this run's files failed (a reader stopped)".into(),
                            ],
                            ..RunSummary::default()
                        };
                        vec![lost; n]
                    })
                })
                .collect()
        })
    }
}

/// The root of a run folder: the parent of the `experiments/` three levels
/// up, else the tool's tree it is a run of.
fn root_of_run(run: &Path) -> Option<PathBuf> {
    let run = run.canonicalize().ok()?;
    let experiments = run.parent()?.parent()?.parent();
    if let Some(e) = experiments
        && e.file_name().is_some_and(|n| n == layout::EXPERIMENTS)
    {
        return e.parent().map(Path::to_path_buf);
    }
    crate::sources::root_of_run(&run)
}
