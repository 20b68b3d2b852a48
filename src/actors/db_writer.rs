//! `DbWriter`: buffers Outcomes and writes them in fenced batches (by size or every
//! `writer.flush_ms`), one write at a time. A database error is retried with backoff — an
//! outcome is never dropped while the database may come back; a batch the database refuses
//! as data (not as unavailability) is written row by row so one bad row cannot block the rest.
//! After each batch the Fetcher is told which domains are done (its capacity frees only then,
//! so memory stays bounded by `pipeline.concurrency`).
//!
//! Supervised (`supervised::start_child`): the batch being written is kept in the actor, so a
//! restart puts it back in front of the buffer and writes it again (a write that did reach the
//! database before the restart is fenced out the second time, not applied twice).

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tokio::sync::oneshot;

use super::state::ServiceState;
use super::supervised::Ping;
use crate::faults::{self, ActorFault};
use crate::model::{ErrorKind, Outcome, OutcomeKind};
use crate::store::{Store, StoreError, WriteReport};

/// Buffer one outcome for the next batch.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Record(pub Outcome);

/// Write everything buffered; resolves when the buffer is empty.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Flush;

/// A batch reached the database (notification to the Fetcher).
#[derive(Message)]
#[rtype(result = "()")]
pub struct BatchWritten(pub WriteReport);

/// Tells the writer where to send `BatchWritten` (the Fetcher starts after the writer).
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetFetcher(pub Recipient<BatchWritten>);

/// The batching writer actor.
pub struct DbWriter {
    store: Store,
    state: Arc<ServiceState>,
    batch_size: usize,
    flush_every: Duration,
    buffer: Vec<Outcome>,
    // The batch being written, if any (kept for a restart to write again).
    writing: Option<Arc<Vec<Outcome>>>,
    fetcher: Option<Recipient<BatchWritten>>,
    // Callers of `Flush` waiting for the buffer to drain; answered after the write that empties it.
    flush_waiters: Vec<oneshot::Sender<()>>,
}

impl DbWriter {
    /// A writer over `store` with the `[writer]` batch settings.
    pub fn new(store: Store, state: Arc<ServiceState>, batch_size: usize, flush_every: Duration) -> DbWriter {
        DbWriter {
            store,
            state,
            batch_size,
            flush_every,
            buffer: Vec::new(),
            writing: None,
            fetcher: None,
            flush_waiters: Vec::new(),
        }
    }

    fn flush(&mut self, ctx: &mut Context<Self>) {
        if self.writing.is_some() || self.buffer.is_empty() {
            if self.writing.is_none() && self.buffer.is_empty() {
                self.flush_waiters.drain(..).for_each(|w| {
                    let _ = w.send(());
                });
            }
            return;
        }
        let take = self.buffer.len().min(self.batch_size);
        let batch: Arc<Vec<Outcome>> = Arc::new(self.buffer.drain(..take).collect());
        self.writing = Some(batch.clone());
        let store = self.store.clone();
        let instance = self.state.instance.clone();
        let (attempts, write_started) = (crate::metrics::attempt_labels(&batch), std::time::Instant::now());
        ctx.spawn(
            write_until_stored(store, instance, batch)
                .into_actor(self)
                .map(move |report, act, ctx| {
                    act.writing = None;
                    act.state
                        .metrics
                        .record_batch(&attempts, &report, write_started.elapsed());
                    let lost = report.lost() as u64;
                    if lost > 0 {
                        act.state.add_fenced_writes_lost(lost);
                        tracing::warn!(lost, "result writes refused by fencing (their claims were reclaimed)");
                    }
                    if let Some(fetcher) = &act.fetcher {
                        fetcher.do_send(BatchWritten(report));
                    }
                    if act.buffer.len() >= act.batch_size || !act.flush_waiters.is_empty() {
                        act.flush(ctx);
                    }
                }),
        );
    }
}

/// Retries until the batch is stored. Unavailability is retried as is; a data error splits the
/// batch into single rows, and a row the database still refuses is recorded as `internal`.
async fn write_until_stored(store: Store, instance: String, batch: Arc<Vec<Outcome>>) -> WriteReport {
    let mut delay = Duration::from_millis(100);
    loop {
        match store.write_outcomes(&instance, &batch).await {
            Ok(report) => return report,
            Err(e) if is_data_error(&e) => {
                tracing::error!(error = %e, rows = batch.len(), "batch refused by the database; writing rows one by one");
                let mut report = WriteReport::default();
                for outcome in batch.iter().cloned() {
                    report
                        .domains
                        .extend(write_single(&store, &instance, outcome).await.domains);
                }
                return report;
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, rows = batch.len(), "result write failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

async fn write_single(store: &Store, instance: &str, outcome: Outcome) -> WriteReport {
    let mut delay = Duration::from_millis(100);
    let mut current = outcome;
    loop {
        match store.write_outcomes(instance, std::slice::from_ref(&current)).await {
            Ok(report) => return report,
            Err(e)
                if is_data_error(&e)
                    && !matches!(
                        current.kind,
                        OutcomeKind::Failed {
                            kind: ErrorKind::Internal,
                            ..
                        }
                    ) =>
            {
                tracing::error!(domain = %current.claimed.domain, error = %e, "result refused by the database; recording it as internal");
                current.kind = OutcomeKind::Failed {
                    kind: ErrorKind::Internal,
                    message: format!("the result could not be stored: {e}"),
                    retry_in: None,
                };
            }
            Err(e) if is_data_error(&e) => {
                // Nothing more can be stored for this row; its lease will expire and it will be retried.
                tracing::error!(domain = %current.claimed.domain, error = %e, "cannot record the attempt; leaving it to lease expiry");
                return WriteReport {
                    domains: vec![crate::store::WrittenDomain {
                        id: current.claimed.id,
                        domain: current.claimed.domain.clone(),
                        success: false,
                        applied: false,
                    }],
                };
            }
            Err(e) => {
                tracing::warn!(error = %e, "result write failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

fn is_data_error(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Query(sqlx::Error::Database(_)) | StoreError::Query(sqlx::Error::Encode(_))
    ) && !matches!(e, StoreError::Query(sqlx::Error::Database(db)) if is_transient_db(db.as_ref()))
}

fn is_transient_db(db: &dyn sqlx::error::DatabaseError) -> bool {
    // SQLite BUSY/LOCKED (primary codes 5 and 6, whatever the extended code: BUSY_SNAPSHOT is
    // 517), PostgreSQL serialization/deadlock/admin shutdown/connection classes.
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        let primary = db.code().and_then(|c| c.parse::<i32>().ok()).map(|c| c & 0xff);
        return matches!(primary, Some(5) | Some(6));
    }
    match db.code().as_deref() {
        Some("5") | Some("6") | Some("40001") | Some("40P01") | Some("57P01") | Some("57P02") | Some("57P03") => true,
        Some(code) => code.starts_with("08") || code.starts_with("53"),
        None => false,
    }
}

impl Actor for DbWriter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Outcomes can arrive faster than a mailbox of 16; the buffer is bounded by the Fetcher's capacity.
        ctx.set_mailbox_capacity(1024);
        self.state.started("db_writer");
        ctx.run_interval(self.flush_every, |act, ctx| act.flush(ctx));
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.state.stopped("db_writer");
    }
}

impl Supervised for DbWriter {
    fn restarting(&mut self, _: &mut Context<Self>) {
        if let Some(batch) = self.writing.take() {
            // The write's future was dropped with the old incarnation; this is the only copy.
            let mut batch = Arc::try_unwrap(batch).unwrap_or_else(|shared| (*shared).clone());
            tracing::warn!(
                rows = batch.len(),
                "writing the interrupted batch again after a restart"
            );
            batch.append(&mut self.buffer);
            self.buffer = batch;
        }
    }
}

impl Handler<Ping> for DbWriter {
    type Result = ();

    fn handle(&mut self, _: Ping, _: &mut Context<Self>) {}
}

impl Handler<Record> for DbWriter {
    type Result = ();

    fn handle(&mut self, msg: Record, ctx: &mut Context<Self>) {
        let fault = faults::actor_fault("writer", msg.0.claimed.domain.as_str());
        self.buffer.push(msg.0);
        match fault {
            None => {}
            Some(ActorFault::Panic) => panic!("injected panic in the writer"),
            Some(ActorFault::Wedge) => ctx.wait(actix::fut::wrap_future(std::future::pending::<()>())),
            Some(ActorFault::Block) => std::thread::sleep(faults::BLOCK),
        }
        if self.buffer.len() >= self.batch_size {
            self.flush(ctx);
        }
    }
}

impl Handler<Flush> for DbWriter {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _: Flush, ctx: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.flush_waiters.push(tx);
        self.flush(ctx);
        Box::pin(async move {
            let _ = rx.await;
        })
    }
}

impl Handler<SetFetcher> for DbWriter {
    type Result = ();

    fn handle(&mut self, msg: SetFetcher, _: &mut Context<Self>) {
        self.fetcher = Some(msg.0);
    }
}
