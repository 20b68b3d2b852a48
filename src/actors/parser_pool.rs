//! `ParserPool`: `pipeline.parsers` OS threads that run the CPU-bound `extract` off the async
//! threads. Jobs arrive on a bounded channel (backpressure for the Extractors). A panic inside
//! `extract` is caught: the job's caller gets `ParseFailed`, the crash is recorded, and the
//! thread is replaced (after a short backoff) so the pool keeps its size.

use std::panic::{catch_unwind, AssertUnwindSafe};
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

struct Job {
    domain: String,
    html: Vec<u8>,
    url: url::Url,
    content_type: Option<String>,
    reply: oneshot::Sender<Result<Metadata, ParseFailed>>,
}

type SharedReceiver = Arc<Mutex<mpsc::Receiver<Job>>>;

/// Handle to the parser threads; cheap to clone. The threads exit when every handle is dropped.
#[derive(Clone)]
pub struct ParserPool {
    tx: mpsc::Sender<Job>,
}

impl ParserPool {
    /// Starts `threads` parser threads.
    pub fn start(threads: usize, state: Arc<ServiceState>) -> std::io::Result<ParserPool> {
        let threads = threads.max(1);
        // Two jobs queued per thread keep the threads busy without holding many bodies in memory.
        let (tx, rx) = mpsc::channel(threads * 2);
        let rx: SharedReceiver = Arc::new(Mutex::new(rx));
        for index in 0..threads {
            spawn_worker(index, rx.clone(), state.clone(), Duration::ZERO)?;
        }
        Ok(ParserPool { tx })
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
        let job = Job {
            domain: domain.to_string(),
            html,
            url,
            content_type,
            reply,
        };
        self.tx
            .send(job)
            .await
            .map_err(|_| ParseFailed("parser pool is shut down".into()))?;
        rx.await
            .unwrap_or_else(|_| Err(ParseFailed("parser thread exited".into())))
    }
}

fn spawn_worker(index: usize, rx: SharedReceiver, state: Arc<ServiceState>, backoff: Duration) -> std::io::Result<()> {
    let name = format!("parser-{index}");
    std::thread::Builder::new().name(name.clone()).spawn(move || {
        if !backoff.is_zero() {
            std::thread::sleep(backoff);
        }
        state.started(&name);
        loop {
            // The lock is held only while waiting for the next job, never while parsing.
            let job = { rx.lock().unwrap_or_else(|e| e.into_inner()).blocking_recv() };
            let Some(job) = job else {
                state.stopped(&name);
                return;
            };
            let result = catch_unwind(AssertUnwindSafe(|| {
                faults::check(&job.domain, Stage::Parser);
                extract(
                    &job.html,
                    &PageContext {
                        url: &job.url,
                        content_type: job.content_type.as_deref(),
                    },
                )
            }));
            match result {
                Ok(meta) => {
                    let _ = job.reply.send(Ok(meta));
                }
                Err(panic) => {
                    let message = panic_message(&panic);
                    let _ = job.reply.send(Err(ParseFailed(message.clone())));
                    let restarts = state.record_restart(&name, &format!("{}: {message}", job.domain));
                    let next = Duration::from_millis(50u64.saturating_mul(1 << restarts.min(6)));
                    if let Err(e) = spawn_worker(index, rx.clone(), state.clone(), next) {
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
