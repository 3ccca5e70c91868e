//! The one place requests are carried out: [`perform`] does the work a
//! [`Request`] describes and answers with messages. The event loop runs it
//! on worker threads; tests call it inline. Nothing here touches the
//! explorer's state.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::msg::{Candidate, Msg, Request};
use super::notes;
use super::overlay::CompareView;
use crate::catalog::{self, ScanOptions};
use crate::ops::promote::What;
use crate::runs::{MetricsReader, RunDetails, RunSummary};

/// Runs whose metrics readers are kept (as many as the app keeps details of).
const READERS_KEPT: usize = 8;

/// A data folder smaller than this is not offered for promotion (an
/// empty `data/` holds at most a placeholder).
const DATA_MIN: u64 = 4096;

/// Metrics readers by run, least recently used first.
type Readers = Arc<Mutex<Vec<(PathBuf, MetricsReader)>>>;

/// What every request may use: how to scan, and the metrics readers kept
/// between reads (so reading a live run again costs only what it wrote since).
#[derive(Clone, Default)]
pub struct Env {
    /// How to scan (threads, the cache).
    pub scan: ScanOptions,
    readers: Readers,
}

impl Env {
    /// An environment that scans with `scan`.
    pub fn new(scan: ScanOptions) -> Env {
        Env {
            scan,
            readers: Readers::default(),
        }
    }
}

/// Where answers go. Returns false when nobody wants more (the app quit,
/// or a newer scan replaced this one): long work stops then.
pub type Sink<'a> = &'a mut (dyn FnMut(Msg) -> bool + Send);

/// Carries out one request and sends what came of it to `out`.
pub fn perform(req: Request, env: &Env, out: Sink) {
    match req {
        Request::Summaries(g, runs) => {
            for (k, p) in runs {
                let s = RunSummary::load(&p);
                if !out(Msg::Summary(g, k, p, Box::new(s))) {
                    return;
                }
            }
        }
        Request::ReadLog {
            run,
            rel,
            from,
            tool_logs,
        } => {
            let r = super::watch::perform(run, rel, from, &tool_logs);
            out(Msg::LogRead(Box::new(r)));
        }
        Request::Configs(runs) => {
            for (_, p) in runs {
                let values = super::query_filter::load(&p);
                if !out(Msg::Config(p, values)) {
                    return;
                }
            }
        }
        Request::Details(g, k, p) => {
            let d = details(&env.readers, &p);
            out(Msg::Details(g, k, p, Box::new(d)));
        }
        Request::Scan { root, generation } => {
            // Asked to look again: trust nothing from before.
            let opts = ScanOptions {
                cache: None,
                ..env.scan.clone()
            };
            let handle = catalog::spawn(&root, opts);
            // Dropping the handle when the sink says stop cancels the walk.
            for ev in handle.events.iter() {
                if !out(Msg::Scan(generation, ev)) {
                    return;
                }
            }
        }
        Request::Refresh {
            root,
            generation,
            cache,
            tracker,
        } => {
            let (started, window) = (cache.scanned_at, cache.window);
            let opts = ScanOptions {
                cache: Some(Arc::new(*cache)),
                ..env.scan.clone()
            };
            let c = catalog::scan(&root, opts);
            let next = catalog::cache::ScanCache::from_catalog(&c, started, window);
            let backlinks = tracker.map(|tracker| {
                let (checked, _) = crate::tracker::check_all(&c, &tracker);
                notes::backlinks_of(&checked, &c.root)
            });
            let found = super::msg::NotesFound {
                backlinks,
                layout: notes::layout_notes(&c),
            };
            out(Msg::Refreshed(
                generation,
                Box::new(c),
                Some(Box::new(next)),
                Some(Box::new(found)),
            ));
        }
        Request::SaveCache(generation, catalog, started_at, window) => {
            // Failing to write it only costs speed next time.
            if let Some(path) = catalog::cache::cache_path(&catalog.root) {
                let bytes = catalog::cache::encode(&catalog, started_at, window);
                let _ = catalog::cache::write_bytes(&path, &bytes);
            }
            let next = catalog::cache::ScanCache::from_catalog(&catalog, started_at, window);
            out(Msg::NextCache(generation, Box::new(next)));
        }
        Request::Plan(kind, root, runs, opts, judge) => {
            let plan = crate::ops::plan_for_with(kind, &root, &runs, &opts, &judge);
            out(Msg::Planned(Box::new(plan)));
        }
        Request::Apply(plan) => {
            let out = Mutex::new(out);
            let last = Mutex::new(Instant::now());
            let progress = |done: usize, total: usize| {
                let mut at = last.lock().unwrap_or_else(|e| e.into_inner());
                if at.elapsed() > Duration::from_millis(100) {
                    *at = Instant::now();
                    (out.lock().unwrap_or_else(|e| e.into_inner()))(Msg::Progress(done, total));
                }
            };
            let report = crate::ops::apply(&plan, 2, &progress);
            (out.lock().unwrap_or_else(|e| e.into_inner()))(Msg::Applied(
                plan.kind,
                Box::new(report),
            ));
        }
        Request::PlanPromote {
            root,
            run,
            plots,
            checkpoints,
        } => {
            let mut candidates = Vec::new();
            if run
                .usage
                .as_ref()
                .is_some_and(|u| u.data.apparent > DATA_MIN)
            {
                candidates.push(What::Data);
            }
            candidates.extend(plots.into_iter().map(What::Plot));
            candidates.extend(export_candidates(&run.path).into_iter().map(What::Export));
            candidates.extend(checkpoints.into_iter().map(What::Checkpoint));
            let today = jiff::ZonedDateTime::now().date();
            let planned: Vec<Candidate> = candidates
                .into_iter()
                .map(|w| {
                    let plan = plan_one(&root, &run, &w, None, today);
                    (w, plan)
                })
                .collect();
            out(Msg::PromotePlanned(run, planned));
        }
        Request::Replan {
            index,
            root,
            run,
            what,
            name,
        } => {
            let today = jiff::ZonedDateTime::now().date();
            let plan = plan_one(&root, &run, &what, name.as_deref(), today);
            out(Msg::Replanned(index, name, plan));
        }
        Request::Promote {
            root,
            run,
            what,
            name,
        } => {
            let today = jiff::ZonedDateTime::now().date();
            let result = crate::ops::promote::plan(&root, &run, what, name.as_deref(), today)
                .and_then(|p| crate::ops::promote::apply(&root, &p, &run));
            out(Msg::Promoted(result));
        }
        Request::Notes(catalog, tracker) => {
            if let Some(tracker) = tracker {
                let (checked, _) = crate::tracker::check_all(&catalog, &tracker);
                if !out(Msg::Backlinks(notes::backlinks_of(&checked, &catalog.root))) {
                    return;
                }
            }
            out(Msg::Layout(Box::new(notes::layout_notes(&catalog))));
        }
        Request::Compare(runs, configured) => {
            let view = CompareView::load(&runs, &configured);
            out(Msg::Compared(Box::new(view)));
        }
        Request::DecodePlot(graphics, path, size) => {
            let image = super::plot::decode(&graphics, &path, size);
            out(Msg::Plot(path, size, image));
        }
        Request::OpenExternal(opener, path) => {
            if let Err(e) = open_external(opener.as_deref(), &path) {
                out(Msg::Say(e));
            }
        }
        // The event loop's own: they need the terminal or the watcher.
        Request::Copy(_) | Request::OpenNote(_) | Request::Watch(_) => {}
    }
}

/// Plans one promotion: where it lands and its bytes, or why it cannot
/// be promoted (a link, a FIFO, too big for the disk...).
fn plan_one(
    root: &Path,
    run: &crate::catalog::Run,
    what: &What,
    name: Option<&str>,
    today: jiff::civil::Date,
) -> Result<super::msg::Landing, crate::ops::promote::PromoteError> {
    // A training run's data needs a name: propose the model's.
    let name =
        name.or_else(|| (*what == What::Data && !run.is_preproc()).then_some(run.model.as_str()));
    crate::ops::promote::plan(root, run, what.clone(), name, today)
        .map(|p| (p.dest, p.bytes, p.already))
}

/// Starts the desktop's viewer (or the configured command) on `path`,
/// detached and with no terminal: a viewer must not draw over the explorer.
fn open_external(opener: Option<&str>, path: &Path) -> Result<(), String> {
    let (program, args): (String, Vec<String>) = match opener {
        Some(cmd) => {
            let mut words = cmd.split_whitespace().map(str::to_string);
            (words.next().unwrap_or_default(), words.collect())
        }
        None if cfg!(target_os = "macos") => ("open".into(), Vec::new()),
        None => ("xdg-open".into(), Vec::new()),
    };
    let mut child = std::process::Command::new(&program)
        .args(&args)
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("could not run {program}: {e}"))?;
    // Reap it when it exits, so no zombie is left behind.
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// Reads a run's details through its kept metrics reader. The reader is
/// taken out while it works, so two threads never share one (a second
/// read of the same run, should one happen, starts from scratch).
fn details(readers: &Readers, path: &Path) -> RunDetails {
    let taken = {
        let mut r = readers.lock().unwrap_or_else(|e| e.into_inner());
        r.iter().position(|(p, _)| p == path).map(|i| r.remove(i).1)
    };
    let mut reader = taken.unwrap_or_default();
    let d = RunDetails::load_with(path, &mut reader);
    let mut r = readers.lock().unwrap_or_else(|e| e.into_inner());
    r.push((path.to_path_buf(), reader));
    if r.len() > READERS_KEPT {
        r.remove(0);
    }
    d
}

/// Files in a run that look like exports (ONNX, TorchScript, TFLite,
/// safetensors, submission files), relative to the run. Ephemeral folders
/// and checkpoints/ are left out: they have their own kind.
fn export_candidates(run: &std::path::Path) -> Vec<String> {
    const EXTS: &[&str] = &[
        "onnx",
        "torchscript",
        "ts",
        "tflite",
        "safetensors",
        "engine",
        "mlmodel",
        "pb",
    ];
    let mut out: Vec<String> = walkdir::WalkDir::new(run)
        .max_depth(3)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| {
            e.depth() != 1
                || !matches!(
                    e.file_name().to_str(),
                    Some("tmp" | "cache" | "checkpoints" | "plots")
                )
        })
        .flatten()
        // Links and FIFOs named like exports are offered too: planning says
        // why they cannot be promoted, rather than leaving them out unseen.
        .filter(|e| !e.file_type().is_dir())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_lowercase();
            let ext = name.rsplit_once('.').map(|(_, x)| x.to_string());
            let export =
                ext.as_deref().is_some_and(|x| EXTS.contains(&x)) || name.starts_with("submission");
            export.then(|| {
                e.path()
                    .strip_prefix(run)
                    .unwrap_or(e.path())
                    .to_string_lossy()
                    .into_owned()
            })
        })
        .collect();
    out.sort();
    out
}
