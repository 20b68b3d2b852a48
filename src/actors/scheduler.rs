//! `Scheduler`: fires the jobs of `[[scheduler.jobs]]`, persisted in `jobs`, with APScheduler's
//! coalesce / max_instances / misfire rules (`schedule::due_fires`). Every fire inserts its
//! `job_runs` row before the body runs; `skipped` and `missed` fires are recorded too.
//!
//! Scope: `instance` jobs fire on every instance; `cluster` jobs only while this instance holds
//! the leader lease (renewed every ttl/3 on the database clock), and a scheduled cluster fire is
//! unique per `(job_id, scheduled_for)` in `job_runs`, so a time runs at most once even if two
//! instances briefly both believe they lead. Pause state and (for followers) cluster schedules
//! are refreshed from the database every couple of seconds.
//!
//! Supervised (`supervised::start_child`): job runs execute as tasks of their own, not of the
//! actor, so a Scheduler restart does not cut a run short; a finished run reports `RunEnded`.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};

use super::fetcher::Fetcher;
use super::job_runs::fire;
use super::state::ServiceState;
use super::supervised::Ping;
use crate::jobs::{JobDef, JobKind, Scope};
use crate::schedule::{due_fires, FireDecision};
use crate::store::Store;

const LEADER_LEASE: &str = "scheduler";

/// One job and its runtime state.
pub struct JobSlot {
    /// The validated definition.
    pub def: JobDef,
    /// Next scheduled fire (`None`: finished).
    pub next_run_at: Option<DateTime<Utc>>,
    /// Paused jobs do not fire on schedule.
    pub paused: bool,
    pub(super) running: u32,
}

/// Reconciles the configured jobs into `jobs` and returns them ready to schedule.
pub async fn load_jobs(defs: Vec<JobDef>, store: &Store) -> Result<Vec<JobSlot>, crate::store::StoreError> {
    let now = Utc::now();
    let records: Vec<_> = defs.iter().map(|d| d.record(now)).collect();
    let rows = store.reconcile_jobs(&records).await?;
    Ok(defs
        .into_iter()
        .map(|def| {
            let row = rows.iter().find(|r| r.id == def.id);
            JobSlot {
                next_run_at: row.and_then(|r| r.next_run_at),
                paused: row.is_some_and(|r| r.paused),
                def,
                running: 0,
            }
        })
        .collect())
}

/// Stop firing jobs (shutdown) and give up the leader lease; runs in progress finish.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopScheduling;

/// The job-firing actor.
pub struct Scheduler {
    pub(super) jobs: Vec<JobSlot>,
    pub(super) fetcher: Addr<Fetcher>,
    pub(super) store: Store,
    pub(super) state: Arc<ServiceState>,
    poll: Duration,
    leader_ttl: Duration,
    is_leader: bool,
    pub(super) stopped: bool,
}

impl Scheduler {
    /// A scheduler for loaded jobs.
    pub fn new(
        jobs: Vec<JobSlot>,
        fetcher: Addr<Fetcher>,
        store: Store,
        state: Arc<ServiceState>,
        poll: Duration,
        leader_ttl: Duration,
    ) -> Scheduler {
        Scheduler {
            jobs,
            fetcher,
            store,
            state,
            poll,
            leader_ttl,
            is_leader: false,
            stopped: false,
        }
    }

    pub(super) fn active(&self, slot: &JobSlot) -> bool {
        slot.def.scope == Scope::Instance || self.is_leader
    }

    fn poll_due(&mut self, ctx: &mut Context<Self>) {
        if self.stopped {
            return;
        }
        let now = Utc::now();
        for index in 0..self.jobs.len() {
            let slot = &self.jobs[index];
            if slot.paused || !self.active(slot) {
                continue;
            }
            let Some(next) = slot.next_run_at.filter(|n| *n <= now) else {
                continue;
            };
            let (decisions, new_next) = due_fires(&slot.def.trigger, next, now, slot.running, &slot.def.policy);
            let slot = &mut self.jobs[index];
            slot.next_run_at = new_next;
            let runs_any = decisions.iter().any(|d| matches!(d, FireDecision::Run { .. }));
            if runs_any {
                slot.running += 1;
            }
            let fire = fire(
                slot.def.clone(),
                decisions,
                new_next,
                self.store.clone(),
                self.fetcher.clone(),
                self.state.clone(),
            );
            let me = ctx.address();
            actix_rt::spawn(async move {
                fire.await;
                if runs_any {
                    me.do_send(RunEnded(index));
                }
            });
        }
    }

    fn renew_leadership(&mut self, ctx: &mut Context<Self>) {
        if self.stopped || !self.jobs.iter().any(|j| j.def.scope == Scope::Cluster) {
            return;
        }
        let store = self.store.clone();
        let owner = self.state.instance.clone();
        let ttl = self.leader_ttl;
        ctx.spawn(
            async move { store.acquire_leadership(LEADER_LEASE, &owner, ttl).await }
                .into_actor(self)
                .map(|result, act, ctx| {
                    let leads = match result {
                        Ok(leads) => leads,
                        Err(e) => {
                            // Unsure means not leading: a fire without the lease could run twice.
                            tracing::warn!(error = %e, "leader lease check failed; not firing cluster jobs");
                            false
                        }
                    };
                    if act.stopped {
                        // Shutdown began while the lease was being taken: hand it straight back.
                        if leads {
                            let (store, owner) = (act.store.clone(), act.state.instance.clone());
                            ctx.spawn(
                                async move {
                                    let _ = store.release_leadership(LEADER_LEASE, &owner).await;
                                }
                                .into_actor(act),
                            );
                        }
                        return;
                    }
                    if leads != act.is_leader {
                        tracing::info!(instance = %act.state.instance, leader = leads, "scheduler leadership changed");
                        act.is_leader = leads;
                        if leads {
                            act.refresh(ctx, true);
                        }
                    }
                }),
        );
    }

    /// Reads pause state from the database, and the schedule of cluster jobs while this instance
    /// does not fire them (or `adopt`, when it just became leader). A leader never re-reads its
    /// own schedule: its in-memory `next_run_at` is ahead of the write that stores it.
    fn refresh(&mut self, ctx: &mut Context<Self>, adopt: bool) {
        let store = self.store.clone();
        ctx.spawn(
            async move { store.list_jobs().await }
                .into_actor(self)
                .map(move |result, act, _| {
                    let Ok(rows) = result else { return };
                    let is_leader = act.is_leader;
                    for slot in &mut act.jobs {
                        if let Some(row) = rows.iter().find(|r| r.id == slot.def.id) {
                            slot.paused = row.paused;
                            if slot.def.scope == Scope::Cluster && (adopt || !is_leader) {
                                slot.next_run_at = row.next_run_at;
                            }
                        }
                    }
                }),
        );
    }
}

impl Actor for Scheduler {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.state.started("scheduler");
        if !self.jobs.iter().any(|j| j.def.kind == JobKind::ReclaimExpired) {
            tracing::warn!("no reclaim_expired_leases job: expired leases are reclaimed only at start");
        }
        self.renew_leadership(ctx);
        ctx.run_interval(self.poll, |act, ctx| act.poll_due(ctx));
        ctx.run_interval((self.leader_ttl / 3).max(Duration::from_millis(100)), |act, ctx| {
            act.renew_leadership(ctx)
        });
        ctx.run_interval(Duration::from_secs(2), |act, ctx| act.refresh(ctx, false));
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.state.stopped("scheduler");
    }
}

/// A run of job number `.0` finished (sent by the run's task).
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct RunEnded(pub(super) usize);

impl Handler<RunEnded> for Scheduler {
    type Result = ();

    fn handle(&mut self, msg: RunEnded, _: &mut Context<Self>) {
        if let Some(slot) = self.jobs.get_mut(msg.0) {
            slot.running = slot.running.saturating_sub(1);
        }
    }
}

impl Supervised for Scheduler {
    fn restarting(&mut self, _: &mut Context<Self>) {
        // A leader lease check in progress was dropped: lead again only once it is confirmed.
        self.is_leader = false;
    }
}

impl Handler<Ping> for Scheduler {
    type Result = ();

    fn handle(&mut self, _: Ping, _: &mut Context<Self>) {}
}

impl Handler<StopScheduling> for Scheduler {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _: StopScheduling, _: &mut Context<Self>) -> Self::Result {
        self.stopped = true;
        let was_leader = std::mem::replace(&mut self.is_leader, false);
        let store = self.store.clone();
        let owner = self.state.instance.clone();
        Box::pin(async move {
            if was_leader {
                if let Err(e) = store.release_leadership(LEADER_LEASE, &owner).await {
                    tracing::warn!(error = %e, "cannot release the leader lease; it will expire");
                }
            }
        })
    }
}
