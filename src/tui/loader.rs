//! Where requests run in production: reads of run files on a small pool
//! (details before summaries, the newest first, so what is on screen loads
//! before what was asked for a while ago), everything else on a thread of
//! its own (scans, plans and copies may take minutes). Both call
//! [`super::effects::perform`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};

use super::effects::{Env, perform};
use super::msg::{Msg, Request};

#[derive(Default)]
struct Queue {
    /// Details wait apart so that thousands of summaries queued after a
    /// scan never hold back the pane the user is looking at.
    details: Vec<Request>,
    summaries: Vec<Request>,
    closed: bool,
}

/// The workers: a pool for reads, threads for the rest.
pub struct Workers {
    queue: Arc<(Mutex<Queue>, Condvar)>,
    env: Env,
    tx: Sender<Msg>,
    /// The generation of the newest scan: older scans stop forwarding.
    scan: Arc<AtomicU64>,
    /// Set when the loop ends: every worker stops at its next message.
    stop: Arc<AtomicBool>,
}

/// A sink that sends to the loop until it stops, dropping (and so ending)
/// scans that a newer scan replaced.
fn sink(
    tx: Sender<Msg>,
    scan: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> impl FnMut(Msg) -> bool + Send {
    move |m| {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        if let Msg::Scan(g, _) = &m
            && *g != scan.load(Ordering::Relaxed)
        {
            return false;
        }
        tx.send(m).is_ok()
    }
}

impl Workers {
    /// Starts `threads` readers that answer through `tx`.
    pub fn start(threads: usize, env: Env, tx: Sender<Msg>, stop: Arc<AtomicBool>) -> Workers {
        let queue: Arc<(Mutex<Queue>, Condvar)> = Arc::default();
        let scan = Arc::new(AtomicU64::new(0));
        for i in 0..threads.max(1) {
            let queue = queue.clone();
            let env = env.clone();
            let mut out = sink(tx.clone(), scan.clone(), stop.clone());
            std::thread::Builder::new()
                .name(format!("runyard-load-{i}"))
                .spawn(move || {
                    loop {
                        let req = {
                            let (lock, cv) = &*queue;
                            let mut q = lock.lock().unwrap_or_else(|e| e.into_inner());
                            loop {
                                if q.closed {
                                    return;
                                }
                                if let Some(r) = q.details.pop().or_else(|| q.summaries.pop()) {
                                    break r;
                                }
                                q = cv.wait(q).unwrap_or_else(|e| e.into_inner());
                            }
                        };
                        perform(req, &env, &mut out);
                    }
                })
                .expect("spawning a loader thread");
        }
        Workers {
            queue,
            env,
            tx,
            scan,
            stop,
        }
    }

    /// Carries out a request off the UI thread.
    pub fn run(&self, req: Request) {
        match req {
            Request::Summaries(g, runs) => {
                // One job a run, reversed so the first asked is popped first.
                let (lock, cv) = &*self.queue;
                let mut q = lock.lock().unwrap_or_else(|e| e.into_inner());
                for (k, p) in runs.into_iter().rev() {
                    q.summaries.push(Request::Summaries(g, vec![(k, p)]));
                }
                cv.notify_all();
            }
            Request::Configs(runs) => {
                // Small reads like summaries: on the pool, one job a run.
                let (lock, cv) = &*self.queue;
                let mut q = lock.lock().unwrap_or_else(|e| e.into_inner());
                for run in runs.into_iter().rev() {
                    q.summaries.push(Request::Configs(vec![run]));
                }
                cv.notify_all();
            }
            // What is on screen first, with the run's details.
            Request::Details(..) | Request::ReadLog { .. } => {
                let (lock, cv) = &*self.queue;
                lock.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .details
                    .push(req);
                cv.notify_all();
            }
            req => {
                if let Request::Scan { generation, .. } = &req {
                    // A new scan: the old one's reads are of no use now.
                    self.scan.store(*generation, Ordering::Relaxed);
                    let mut q = self.queue.0.lock().unwrap_or_else(|e| e.into_inner());
                    q.details.clear();
                    q.summaries.clear();
                }
                let env = self.env.clone();
                let mut out = sink(self.tx.clone(), self.scan.clone(), self.stop.clone());
                std::thread::Builder::new()
                    .name("runyard-work".into())
                    .spawn(move || perform(req, &env, &mut out))
                    .expect("spawning a worker thread");
            }
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let (lock, cv) = &*self.queue;
        lock.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        cv.notify_all();
    }
}
