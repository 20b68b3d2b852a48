//! `ParserPool`: `pipeline.parsers` OS threads that run the CPU-bound `extract` off the async
//! threads. Jobs arrive on a bounded channel (backpressure for the Extractors). A panic inside
//! `extract` is caught: the job's caller gets `ParseFailed`, the crash is recorded, and the
//! thread is replaced (after a short backoff) so the pool keeps its size.
//!
//! A page that keeps its thread past `pipeline.parse_deadline_ms` (counted from when a thread
//! picked it up, not from queueing) fails its domain the same way, and a replacement thread
//! starts at once; the stuck thread is abandoned (a thread cannot be killed) and exits quietly
//! if it ever finishes. More than `pipeline.max_stuck_parsers` abandoned threads still stuck at
//! once escalates to the supervisor: the process is wedged, better restarted than limping.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::state::ServiceState;
use crate::extract::{extract, PageContext};
use crate::faults::{self, Stage};
use crate::model::Metadata;

/// The parser crashed (panicked) on this page.
#[derive(Debug, Clone, thiserror::Error)]
#[error("parser crashed: {0}")]
pub struct ParseFailed(pub String);

// A job's progress, decided by compare-and-swap between its thread and its caller.
const RUNNING: u8 = 0;
const DONE: u8 = 1;
const ABANDONED: u8 = 2;

struct Job {
    domain: String,
    html: Vec<u8>,
    url: url::Url,
    content_type: Option<String>,
    // Sent by the thread that picks the job up: its index (the deadline starts then).
    started: oneshot::Sender<usize>,
    progress: Arc<AtomicU8>,
    reply: oneshot::Sender<Result<Metadata, ParseFailed>>,
}

type SharedReceiver = Arc<Mutex<mpsc::Receiver<Job>>>;

/// What every worker and the pool share.
struct Shared {
    rx: SharedReceiver,
    state: Arc<ServiceState>,
    deadline: Duration,
    max_stuck: usize,
    // Abandoned threads that have not finished yet.
    stuck: AtomicUsize,
}

/// Handle to the parser threads; cheap to clone. The threads exit when every handle is dropped.
#[derive(Clone)]
pub struct ParserPool {
    tx: mpsc::Sender<Job>,
    shared: Arc<Shared>,
}

impl ParserPool {
    /// Starts `threads` parser threads; a page may keep one for `deadline`, and at most
    /// `max_stuck` abandoned threads may be stuck at once before the supervisor escalates.
    pub fn start(
        threads: usize,
        deadline: Duration,
        max_stuck: usize,
        state: Arc<ServiceState>,
    ) -> std::io::Result<ParserPool> {
        let threads = threads.max(1);
        // Two jobs queued per thread keep the threads busy without holding many bodies in memory.
        let (tx, rx) = mpsc::channel(threads * 2);
        let shared = Arc::new(Shared {
            rx: Arc::new(Mutex::new(rx)),
            state,
            deadline,
            max_stuck,
            stuck: AtomicUsize::new(0),
        });
        for index in 0..threads {
            spawn_worker(index, shared.clone(), Duration::ZERO)?;
        }
        Ok(ParserPool { tx, shared })
    }

    /// Abandoned parser threads still stuck.
    pub fn stuck_threads(&self) -> usize {
        self.shared.stuck.load(Ordering::SeqCst)
    }

    /// Extracts metadata from `html` on a parser thread.
    pub async fn parse(
        &self,
        domain: &str,
        html: Vec<u8>,
        url: url::Url,
        content_type: Option<String>,
    ) -> Result<Metadata, ParseFailed> {
        let (reply, rx) = oneshot::channel();
        let (started, started_rx) = oneshot::channel();
        let progress = Arc::new(AtomicU8::new(RUNNING));
        let job = Job {
            domain: domain.to_string(),
            html,
            url,
            content_type,
            started,
            progress: progress.clone(),
            reply,
        };
        let gone = || ParseFailed("parser thread exited".into());
        self.tx
            .send(job)
            .await
            .map_err(|_| ParseFailed("parser pool is shut down".into()))?;
        let index = started_rx.await.map_err(|_| gone())?;
        let mut rx = rx;
        if let Ok(result) = tokio::time::timeout(self.shared.deadline, &mut rx).await {
            return result.unwrap_or_else(|_| Err(gone()));
        }
        // Counted before the swap, so a thread finishing right after it never sees zero.
        let stuck = self.shared.stuck.fetch_add(1, Ordering::SeqCst) + 1;
        if progress
            .compare_exchange(RUNNING, ABANDONED, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            // The thread finished just as the deadline passed: its answer is on the way.
            self.shared.stuck.fetch_sub(1, Ordering::SeqCst);
            return rx.await.unwrap_or_else(|_| Err(gone()));
        }
        let why = format!(
            "parser still busy after its {} ms deadline; thread abandoned",
            self.shared.deadline.as_millis()
        );
        self.abandon(index, domain, &why, stuck);
        Err(ParseFailed(why))
    }

    /// Replaces the thread stuck on `domain` and escalates past the stuck-thread cap.
    fn abandon(&self, index: usize, domain: &str, why: &str, stuck: usize) {
        let shared = &self.shared;
        let name = format!("parser-{index}");
        tracing::error!(thread = %name, domain, stuck, "{why}");
        shared.state.record_restart(&name, &format!("{domain}: {why}"));
        if stuck > shared.max_stuck {
            shared.state.escalate(format!(
                "{stuck} parser threads stuck past their deadline (pipeline.max_stuck_parsers = {})",
                shared.max_stuck
            ));
        }
        if let Err(e) = spawn_worker(index, shared.clone(), Duration::ZERO) {
            shared
                .state
                .escalate(format!("cannot replace a stuck parser thread: {e}"));
        }
    }
}

fn spawn_worker(index: usize, shared: Arc<Shared>, backoff: Duration) -> std::io::Result<()> {
    let name = format!("parser-{index}");
    std::thread::Builder::new().name(name.clone()).spawn(move || {
        let state = &shared.state;
        if !backoff.is_zero() {
            std::thread::sleep(backoff);
        }
        state.started(&name);
        loop {
            // The lock is held only while waiting for the next job, never while parsing.
            let job = { shared.rx.lock().unwrap_or_else(|e| e.into_inner()).blocking_recv() };
            let Some(job) = job else {
                state.stopped(&name);
                return;
            };
            if job.started.send(index).is_err() {
                continue; // the caller is gone (shutdown): nobody wants this page parsed
            }
            let result = catch_unwind(AssertUnwindSafe(|| {
                faults::check(&job.domain, Stage::ParserHang);
                faults::check(&job.domain, Stage::Parser);
                extract(
                    &job.html,
                    &PageContext {
                        url: &job.url,
                        content_type: job.content_type.as_deref(),
                    },
                )
            }));
            if job
                .progress
                .compare_exchange(RUNNING, DONE, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
            {
                // Abandoned past the deadline and already replaced: this thread is surplus.
                let left = shared.stuck.fetch_sub(1, Ordering::SeqCst) - 1;
                tracing::warn!(thread = %name, domain = %job.domain, stuck = left, "an abandoned parser thread finished; it exits");
                return;
            }
            match result {
                Ok(meta) => {
                    let _ = job.reply.send(Ok(meta));
                }
                Err(panic) => {
                    let message = panic_message(&panic);
                    let _ = job.reply.send(Err(ParseFailed(message.clone())));
                    let restarts = state.record_restart(&name, &format!("{}: {message}", job.domain));
                    let next = Duration::from_millis(50u64.saturating_mul(1 << restarts.min(6)));
                    if let Err(e) = spawn_worker(index, shared.clone(), next) {
                        state.escalate(format!("cannot restart parser thread: {e}"));
                    }
                    return;
                }
            }
        }
    })?;
    Ok(())
}

/// The text of a caught panic payload.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".into()
    }
}
