//! `Supervisor`: starts the pipeline's children in dependency order — DbWriter, parser threads,
//! Extractors, Fetcher, Scheduler — and on `Shutdown` stops them in reverse: no more ticks, no
//! more claims, in-flight work gets a grace period, the writer flushes, and whatever is still
//! unfinished has its lease released back to `pending`.
//!
//! Crash handling lives with the children (Extractors restart through `actix::Supervisor`,
//! parser threads replace themselves); restart counts and escalation are in `ServiceState`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;

use super::db_writer::{DbWriter, Flush, SetFetcher};
use super::extractor::Extractor;
use super::fetcher::{EndDrains, Fetcher, InFlight, StopClaiming};
use super::parser_pool::ParserPool;
use super::scheduler::{JobSlot, Scheduler, StopScheduling};
use super::state::ServiceState;
use crate::fetch::HttpClient;
use crate::settings::Settings;
use crate::store::Store;

/// Stop the pipeline gracefully; resolves when leases are released.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Shutdown;

/// Handles to a running pipeline.
#[derive(Clone)]
pub struct Pipeline {
    /// The supervisor (send it `Shutdown`).
    pub supervisor: Addr<Supervisor>,
    /// The Fetcher (send it `Tick` to run a drain now).
    pub fetcher: Addr<Fetcher>,
    /// The Scheduler, when jobs run (`serve`).
    pub scheduler: Option<Addr<Scheduler>>,
}

/// The root actor.
pub struct Supervisor {
    store: Store,
    state: Arc<ServiceState>,
    grace: Duration,
    writer: Addr<DbWriter>,
    fetcher: Addr<Fetcher>,
    scheduler: Option<Addr<Scheduler>>,
}

/// Starts every child in order, then the Supervisor; `jobs = None` (one-shot runs) starts no Scheduler.
pub fn start_pipeline(
    settings: &Settings,
    store: Store,
    state: Arc<ServiceState>,
    client: HttpClient,
    jobs: Option<Vec<JobSlot>>,
) -> std::io::Result<Pipeline> {
    let p = &settings.pipeline;
    let writer = DbWriter::new(
        store.clone(),
        state.clone(),
        settings.writer.batch_size,
        Duration::from_millis(settings.writer.flush_ms),
    )
    .start();
    let parsers = ParserPool::start(
        p.parser_threads(),
        Duration::from_millis(p.parse_deadline_ms),
        p.max_stuck_parsers,
        state.clone(),
    )?;
    let extractors: Vec<Addr<Extractor>> = (0..p.extractors)
        .map(|i| {
            let (client, parsers, writer, state) = (client.clone(), parsers.clone(), writer.clone(), state.clone());
            let retry = settings.retry.policy();
            actix::Supervisor::start(move |_| Extractor::new(i, retry, client, parsers, writer, state))
        })
        .collect();
    let fetcher = Fetcher::new(
        store.clone(),
        state.clone(),
        extractors,
        p.concurrency,
        p.claim_batch,
        p.max_in_flight_per_tenant,
        p.lease(),
    )
    .start();
    writer.do_send(SetFetcher(fetcher.clone().recipient()));
    let scheduler = jobs.map(|jobs| {
        Scheduler::new(
            jobs,
            fetcher.clone(),
            store.clone(),
            state.clone(),
            Duration::from_millis(settings.scheduler.poll_ms),
            Duration::from_secs(settings.scheduler.leader_ttl_secs),
        )
        .start()
    });
    let supervisor = Supervisor {
        store,
        state,
        grace: Duration::from_secs(p.shutdown_grace_secs),
        writer,
        fetcher: fetcher.clone(),
        scheduler: scheduler.clone(),
    }
    .start();
    Ok(Pipeline {
        supervisor,
        fetcher,
        scheduler,
    })
}

impl Actor for Supervisor {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        self.state.started("supervisor");
    }
}

impl Handler<Shutdown> for Supervisor {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, _: Shutdown, _: &mut Context<Self>) -> Self::Result {
        self.state.set_draining();
        let scheduler = self.scheduler.take();
        let fetcher = self.fetcher.clone();
        let writer = self.writer.clone();
        let store = self.store.clone();
        let state = self.state.clone();
        let grace = self.grace;
        let work = async move {
            if let Some(s) = &scheduler {
                let _ = s.send(StopScheduling).await;
            }
            let _ = fetcher.send(StopClaiming).await;
            let deadline = Instant::now() + grace;
            loop {
                let in_flight = fetcher.send(InFlight).await.unwrap_or(0);
                if in_flight == 0 {
                    break;
                }
                if Instant::now() >= deadline {
                    tracing::warn!(in_flight, "shutdown grace period over; releasing unfinished leases");
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            // Bounded: with the database down, the leases expire and the rows come back anyway.
            if tokio::time::timeout(grace.max(Duration::from_secs(1)), writer.send(Flush))
                .await
                .is_err()
            {
                tracing::error!("the writer could not flush before the deadline (database unavailable?)");
            }
            match store.release_leases(&state.instance).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(released = n, "unfinished leases released back to pending"),
                Err(e) => tracing::error!(error = %e, "could not release leases; they will expire"),
            }
            let _ = fetcher.send(EndDrains).await;
        };
        Box::pin(work.into_actor(self).map(|_, act, _| act.state.stopped("supervisor")))
    }
}
