//! Reads run files off the UI thread: summaries for the tree rows, and the
//! details of the selected run. Details come before summaries and the
//! newest requests are served first, so what is on screen loads before
//! what was asked for a while ago. Each run's metrics are read through a
//! kept [`MetricsReader`], so reading a live run again costs only what it
//! wrote since.

use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};

use crate::catalog::RunKey;
use crate::runs::{MetricsReader, RunDetails, RunSummary};

/// Runs whose metrics readers are kept (as many as the app keeps details of).
const READERS_KEPT: usize = 8;

/// A finished read, with the generation it was asked under, the run's key
/// then, and its folder (which finds the run again after a refresh).
pub enum Loaded {
    /// A run's summary.
    Summary(u64, RunKey, PathBuf, Box<RunSummary>),
    /// A run's details.
    Details(u64, RunKey, PathBuf, Box<RunDetails>),
}

enum Job {
    Summary(u64, RunKey, PathBuf),
    Details(u64, RunKey, PathBuf),
}

#[derive(Default)]
struct Queue {
    /// Details wait apart so that thousands of summaries queued after a
    /// scan never hold back the pane the user is looking at.
    details: Vec<Job>,
    summaries: Vec<Job>,
    closed: bool,
}

/// Metrics readers by run, least recently used first.
type Readers = Arc<Mutex<Vec<(PathBuf, MetricsReader)>>>;

/// A small pool of reader threads.
pub struct Loader {
    queue: Arc<(Mutex<Queue>, Condvar)>,
}

/// Reads a run's details through its kept metrics reader. The reader is
/// taken out while it works, so two threads never share one (a second
/// read of the same run, should one happen, starts from scratch).
fn details(readers: &Readers, path: &std::path::Path) -> RunDetails {
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

impl Loader {
    /// Starts `threads` readers that send what they read through `send`.
    pub fn start<T: Send + 'static>(
        threads: usize,
        tx: Sender<T>,
        wrap: fn(Loaded) -> T,
    ) -> Loader {
        let queue: Arc<(Mutex<Queue>, Condvar)> = Arc::default();
        let readers: Readers = Arc::default();
        for i in 0..threads.max(1) {
            let queue = queue.clone();
            let readers = readers.clone();
            let tx = tx.clone();
            std::thread::Builder::new()
                .name(format!("runyard-load-{i}"))
                .spawn(move || {
                    loop {
                        let job = {
                            let (lock, cv) = &*queue;
                            let mut q = lock.lock().unwrap_or_else(|e| e.into_inner());
                            loop {
                                if q.closed {
                                    return;
                                }
                                if let Some(j) = q.details.pop().or_else(|| q.summaries.pop()) {
                                    break j;
                                }
                                q = cv.wait(q).unwrap_or_else(|e| e.into_inner());
                            }
                        };
                        let loaded = match job {
                            Job::Summary(g, k, p) => {
                                let s = RunSummary::load(&p);
                                Loaded::Summary(g, k, p, Box::new(s))
                            }
                            Job::Details(g, k, p) => {
                                let d = details(&readers, &p);
                                Loaded::Details(g, k, p, Box::new(d))
                            }
                        };
                        if tx.send(wrap(loaded)).is_err() {
                            return;
                        }
                    }
                })
                .expect("spawning a loader thread");
        }
        Loader { queue }
    }

    fn push(&self, jobs: impl IntoIterator<Item = Job>) {
        let (lock, cv) = &*self.queue;
        let mut q = lock.lock().unwrap_or_else(|e| e.into_inner());
        // Reversed so the first asked is popped first among this batch.
        let mut batch: Vec<Job> = jobs.into_iter().collect();
        batch.reverse();
        for job in batch {
            match job {
                Job::Details(..) => q.details.push(job),
                Job::Summary(..) => q.summaries.push(job),
            }
        }
        cv.notify_all();
    }

    /// Asks for summaries of these runs.
    pub fn summaries(&self, generation: u64, runs: Vec<(RunKey, PathBuf)>) {
        self.push(
            runs.into_iter()
                .map(|(k, p)| Job::Summary(generation, k, p)),
        );
    }

    /// Asks for one run's details (ahead of any summaries waiting).
    pub fn details(&self, generation: u64, key: RunKey, path: PathBuf) {
        self.push([Job::Details(generation, key, path)]);
    }

    /// Drops the waiting requests (after a rescan).
    pub fn clear(&self) {
        let mut q = self.queue.0.lock().unwrap_or_else(|e| e.into_inner());
        q.details.clear();
        q.summaries.clear();
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        let (lock, cv) = &*self.queue;
        lock.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        cv.notify_all();
    }
}
