//! `Supervisor`: starts the pipeline's children in dependency order — DbWriter, parser threads,
//! Extractors, Fetcher, Scheduler — and on `Shutdown` stops them in reverse: no more ticks, no
//! more claims, in-flight work gets a grace period, the writer flushes, and whatever is still
//! unfinished has its lease released back to `pending`.
//!
//! Every actor child runs under `supervised::start_child`, which restarts it in place after a
//! panic or an unexpected stop. The Supervisor adds the liveness check: every
//! `supervisor.ping_interval_ms` it pings each child, and one that has not answered within
//! `supervisor.liveness_timeout_secs` is recorded as failed and restarted (its kill switch drops
//! whatever it was stuck on). Each round also beats for the `watchdog` thread, which covers a
//! blocked actor-system thread. Parser threads replace themselves (`ParserPool`). Restart
//! counts and escalation are in `ServiceState`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;

use super::db_writer::{DbWriter, Flush, SetFetcher};
use super::extractor::Extractor;
use super::fetcher::{EndDrains, Fetcher, InFlight, StopClaiming};
use super::parser_pool::ParserPool;
use super::scheduler::{JobSlot, Scheduler, StopScheduling};
use super::state::ServiceState;
use super::supervised::{start_child, ChildHandle, OwnStops, Ping};
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
    // Every supervised child with whether a ping to it is still unanswered.
    children: Vec<(ChildHandle, bool)>,
    ping_every: Duration,
    liveness_timeout: Duration,
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
    let mut children = Vec::new();
    let (writer, handle) = start_child(
        "db_writer",
        state.clone(),
        DbWriter::new(
            store.clone(),
            state.clone(),
            settings.writer.batch_size,
            Duration::from_millis(settings.writer.flush_ms),
        ),
        OwnStops::Unexpected,
    );
    children.push(handle);
    let parsers = ParserPool::start(
        p.parser_threads(),
        Duration::from_millis(p.parse_deadline_ms),
        p.max_stuck_parsers,
        state.clone(),
    )?;
    let extractors: Vec<Addr<Extractor>> = (0..p.extractors)
        .map(|i| {
            let extractor = Extractor::new(
                i,
                settings.retry.policy(),
                client.clone(),
                parsers.clone(),
                writer.clone(),
                state.clone(),
            );
            let (addr, handle) = start_child(&format!("extractor-{i}"), state.clone(), extractor, OwnStops::Recorded);
            children.push(handle);
            addr
        })
        .collect();
    let (fetcher, handle) = start_child(
        "fetcher",
        state.clone(),
        Fetcher::new(
            store.clone(),
            state.clone(),
            extractors,
            p.concurrency,
            p.claim_batch,
            p.max_in_flight_per_tenant,
            p.lease(),
        ),
        OwnStops::Unexpected,
    );
    children.push(handle);
    writer.do_send(SetFetcher(fetcher.clone().recipient()));
    let scheduler = jobs.map(|jobs| {
        let scheduler = Scheduler::new(
            jobs,
            fetcher.clone(),
            store.clone(),
            state.clone(),
            Duration::from_millis(settings.scheduler.poll_ms),
            Duration::from_secs(settings.scheduler.leader_ttl_secs),
        );
        let (addr, handle) = start_child("scheduler", state.clone(), scheduler, OwnStops::Unexpected);
        children.push(handle);
        addr
    });
    let supervisor = Supervisor {
        store,
        state,
        grace: Duration::from_secs(p.shutdown_grace_secs),
        writer,
        fetcher: fetcher.clone(),
        scheduler: scheduler.clone(),
        children: children.into_iter().map(|c| (c, false)).collect(),
        ping_every: Duration::from_millis(settings.supervisor.ping_interval_ms),
        liveness_timeout: Duration::from_secs(settings.supervisor.liveness_timeout_secs),
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

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.state.started("supervisor");
        self.state.beat();
        ctx.run_interval(self.ping_every, |act, ctx| act.ping_children(ctx));
    }
}

impl Supervisor {
    /// One liveness round: beat for the watchdog, ping every child not still owing an answer.
    fn ping_children(&mut self, ctx: &mut Context<Self>) {
        self.state.beat();
        let timeout = self.liveness_timeout;
        for index in 0..self.children.len() {
            let (child, waiting) = &mut self.children[index];
            if std::mem::replace(waiting, true) {
                continue;
            }
            let answer = child.ping.send(Ping).timeout(timeout);
            ctx.spawn(answer.into_actor(self).map(move |answer, act, _| {
                let (child, waiting) = &mut act.children[index];
                *waiting = false;
                match answer {
                    Ok(()) => {}
                    // Shutdown stops children on purpose.
                    Err(_) if act.state.is_draining() => {}
                    Err(MailboxError::Timeout) => {
                        let why = format!("did not answer a liveness ping within {} s", timeout.as_secs());
                        act.state.record_restart(&child.name, &why);
                        child.kill.pull();
                    }
                    Err(MailboxError::Closed) => {
                        // Its supervision ended: nobody restarts it any more.
                        act.state
                            .escalate(format!("{} stopped and cannot be restarted", child.name));
                    }
                }
            }));
        }
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
