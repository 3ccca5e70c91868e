//! Reads run files off the UI thread: summaries for the tree rows, and the
//! details of the selected run. The newest requests are served first, so
//! what is on screen loads before what was asked for a while ago.

use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};

use crate::catalog::RunKey;
use crate::runs::{RunDetails, RunSummary};

/// A finished read.
pub enum Loaded {
    /// A run's summary.
    Summary(u64, RunKey, Box<RunSummary>),
    /// A run's details.
    Details(u64, RunKey, Box<RunDetails>),
}

enum Job {
    Summary(u64, RunKey, PathBuf),
    Details(u64, RunKey, PathBuf),
}

#[derive(Default)]
struct Queue {
    jobs: Vec<Job>,
    closed: bool,
}

/// A small pool of reader threads.
pub struct Loader {
    queue: Arc<(Mutex<Queue>, Condvar)>,
}

impl Loader {
    /// Starts `threads` readers that send what they read through `send`.
    pub fn start<T: Send + 'static>(
        threads: usize,
        tx: Sender<T>,
        wrap: fn(Loaded) -> T,
    ) -> Loader {
        let queue: Arc<(Mutex<Queue>, Condvar)> = Arc::default();
        for i in 0..threads.max(1) {
            let queue = queue.clone();
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
                                if let Some(j) = q.jobs.pop() {
                                    break j;
                                }
                                q = cv.wait(q).unwrap_or_else(|e| e.into_inner());
                            }
                        };
                        let loaded = match job {
                            Job::Summary(g, k, p) => {
                                Loaded::Summary(g, k, Box::new(RunSummary::load(&p)))
                            }
                            Job::Details(g, k, p) => {
                                Loaded::Details(g, k, Box::new(RunDetails::load(&p)))
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
        q.jobs.extend(batch);
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
        self.queue
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .jobs
            .clear();
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        let (lock, cv) = &*self.queue;
        lock.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        cv.notify_all();
    }
}
