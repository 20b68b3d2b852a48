//! `Scheduler`: fires the jobs declared in `[[scheduler.jobs]]` (interval triggers for now) by
//! sending `Tick{limit}` to the local Fetcher, and runs the lease reaper. A fire that arrives
//! while the job's previous run is still going is skipped (`max_instances = 1`, the default).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use super::fetcher::{Fetcher, Tick};
use super::state::ServiceState;
use crate::settings::{parse_duration, JobSettings};
use crate::store::Store;

/// Stop firing jobs (shutdown); runs in progress finish on their own.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopScheduling;

/// The job-firing actor.
pub struct Scheduler {
    jobs: Vec<JobSettings>,
    fetcher: Addr<Fetcher>,
    store: Store,
    state: Arc<ServiceState>,
    reaper_every: Duration,
    running: HashSet<String>,
    stopped: bool,
}

impl Scheduler {
    /// A scheduler for `jobs` (already validated by `Settings::validate`).
    pub fn new(
        jobs: Vec<JobSettings>,
        fetcher: Addr<Fetcher>,
        store: Store,
        state: Arc<ServiceState>,
        reaper_every: Duration,
    ) -> Scheduler {
        Scheduler {
            jobs,
            fetcher,
            store,
            state,
            reaper_every,
            running: HashSet::new(),
            stopped: false,
        }
    }

    fn fire(&mut self, job: &JobSettings, ctx: &mut Context<Self>) {
        if self.stopped {
            return;
        }
        if !self.running.insert(job.id.clone()) {
            tracing::info!(job = %job.id, "previous run still going; this fire is skipped (max_instances = 1)");
            return;
        }
        let limit = job.limit().unwrap_or(1000).max(1) as usize;
        let id = job.id.clone();
        let span = tracing::info_span!("job_run", job = %id);
        let tick = self.fetcher.send(Tick {
            limit,
            list_domains: false,
        });
        ctx.spawn(
            tracing::Instrument::instrument(tick, span)
                .into_actor(self)
                .map(move |result, act, _| {
                    act.running.remove(&id);
                    match result {
                        Ok(r) if r.processed > 0 || r.error.is_some() => tracing::info!(
                            job = %id,
                            processed = r.processed,
                            successful = r.successful,
                            failed = r.failed,
                            error = r.error.as_deref().unwrap_or(""),
                            "job run finished"
                        ),
                        Ok(_) => tracing::debug!(job = %id, "job run found nothing to do"),
                        Err(e) => tracing::error!(job = %id, error = %e, "job run could not reach the fetcher"),
                    }
                }),
        );
    }
}

impl Actor for Scheduler {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.state.started("scheduler");
        for job in self.jobs.clone() {
            let every = parse_duration(&job.spec).unwrap_or(Duration::from_secs(5));
            ctx.run_interval(every, move |act, ctx| act.fire(&job, ctx));
        }
        ctx.run_interval(self.reaper_every, |act, ctx| {
            let store = act.store.clone();
            ctx.spawn(
                async move {
                    match store.reclaim_expired().await {
                        Ok(0) => {}
                        Ok(n) => tracing::warn!(reclaimed = n, "expired leases reclaimed"),
                        Err(e) => tracing::warn!(error = %e, "lease reaper failed"),
                    }
                }
                .into_actor(act),
            );
        });
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.state.stopped("scheduler");
    }
}

impl Handler<StopScheduling> for Scheduler {
    type Result = ();

    fn handle(&mut self, _: StopScheduling, ctx: &mut Context<Self>) {
        self.stopped = true;
        ctx.stop();
    }
}
