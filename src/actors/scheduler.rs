//! `Scheduler`: fires the jobs of `[[scheduler.jobs]]`, persisted in `jobs`, with APScheduler's
//! coalesce / max_instances / misfire rules (`schedule::due_fires`). Every fire inserts its
//! `job_runs` row before the body runs; `skipped` and `missed` fires are recorded too.
//!
//! Scope: `instance` jobs fire on every instance; `cluster` jobs only while this instance holds
//! the leader lease (renewed every ttl/3 on the database clock), and a scheduled cluster fire is
//! unique per `(job_id, scheduled_for)` in `job_runs`, so a time runs at most once even if two
//! instances briefly both believe they lead. Pause state and (for followers) cluster schedules
//! are refreshed from the database every couple of seconds.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::fetcher::{DrainReport, Fetcher, Tick};
use super::state::ServiceState;
use crate::jobs::{JobDef, JobKind, Scope};
use crate::schedule::{due_fires, FireDecision};
use crate::store::{NewRun, Store};

const LEADER_LEASE: &str = "scheduler";

/// One job and its runtime state.
pub struct JobSlot {
    /// The validated definition.
    pub def: JobDef,
    /// Next scheduled fire (`None`: finished).
    pub next_run_at: Option<DateTime<Utc>>,
    /// Paused jobs do not fire on schedule.
    pub paused: bool,
    running: u32,
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

/// Run a job now (manual trigger).
#[derive(Message)]
#[rtype(result = "Result<ManualRun, RunJobError>")]
pub struct RunJob {
    /// Job id.
    pub id: String,
    /// Overrides `process_pending_domains`' limit.
    pub limit: Option<usize>,
    /// Keep the processed domains in the drain report.
    pub list_domains: bool,
    /// Record `skipped` instead of running when `max_instances` runs are in progress.
    pub obey_max_instances: bool,
}

/// Why a manual run could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunJobError {
    /// No job with that id.
    #[error("no job named {0:?}")]
    NotFound(String),
    /// The service is shutting down.
    #[error("the scheduler is shutting down")]
    Stopped,
}

/// What a manual run did.
#[derive(Debug, Clone, Serialize)]
pub struct ManualRun {
    /// The `job_runs` row.
    pub run_id: Option<i64>,
    /// `succeeded`, `failed` or `skipped`.
    pub outcome: String,
    /// What the body reported.
    pub summary: serde_json::Value,
    /// Why it failed or was skipped.
    pub error: Option<String>,
    /// For `process_pending_domains`: the drain.
    #[serde(skip)]
    pub drain: Option<DrainReport>,
}

/// Pause or resume a job.
#[derive(Message)]
#[rtype(result = "Result<(), RunJobError>")]
pub struct SetPaused {
    /// Job id.
    pub id: String,
    /// New state.
    pub paused: bool,
}

/// Describe every job.
#[derive(Message)]
#[rtype(result = "Vec<JobView>")]
pub struct ListJobs;

/// A job as `GET /api/v1/jobs` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    /// Job id.
    pub id: String,
    /// `interval`, `cron` or `date`.
    pub trigger: String,
    /// The spec as written.
    pub spec: String,
    /// The spec in words.
    pub description: String,
    /// IANA timezone.
    pub timezone: String,
    /// `instance` or `cluster`.
    pub scope: &'static str,
    /// Arguments.
    pub args: serde_json::Value,
    /// Next scheduled fire.
    pub next_run_at: Option<DateTime<Utc>>,
    /// The next five fire times.
    pub next_fires: Vec<DateTime<Utc>>,
    /// Paused jobs do not fire on schedule.
    pub paused: bool,
    /// Runs in progress on this instance.
    pub running: u32,
    /// Coalesce missed fires.
    pub coalesce: bool,
    /// Concurrent runs allowed.
    pub max_instances: u32,
    /// Seconds a fire may be late (`null`: no limit).
    pub misfire_grace_time: Option<u64>,
    /// Whether this instance may fire it now (cluster jobs: only the leader).
    pub active_here: bool,
}

/// The job-firing actor.
pub struct Scheduler {
    jobs: Vec<JobSlot>,
    fetcher: Addr<Fetcher>,
    store: Store,
    state: Arc<ServiceState>,
    poll: Duration,
    leader_ttl: Duration,
    is_leader: bool,
    stopped: bool,
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

    fn active(&self, slot: &JobSlot) -> bool {
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
            ctx.spawn(fire.into_actor(self).map(move |_, act, _| {
                if runs_any {
                    act.jobs[index].running = act.jobs[index].running.saturating_sub(1);
                }
            }));
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

/// Records every decision of one poll and runs the `Run` ones in order (one instance).
async fn fire(
    def: JobDef,
    decisions: Vec<FireDecision>,
    next_run_at: Option<DateTime<Utc>>,
    store: Store,
    fetcher: Addr<Fetcher>,
    state: Arc<ServiceState>,
) {
    let last_run = decisions.iter().rev().find_map(|d| match d {
        FireDecision::Run { scheduled_for, .. } => Some(*scheduled_for),
        _ => None,
    });
    if let Err(e) = store.set_job_times(&def.id, next_run_at, last_run).await {
        tracing::warn!(job = %def.id, error = %e, "cannot store the job's next run time");
    }
    for decision in decisions {
        let (scheduled_for, outcome, error) = match decision {
            FireDecision::Run { scheduled_for, .. } => (scheduled_for, "running", None),
            FireDecision::Missed { scheduled_for, late_by } => (
                scheduled_for,
                "missed",
                Some(format!(
                    "run time was missed by {:.3}s (misfire_grace_time)",
                    late_by.as_secs_f64()
                )),
            ),
            FireDecision::MissedBacklog { first, last, count } => (
                last,
                "missed",
                Some(format!(
                    "{count} fires from {first} to {last} exceeded the backfill cap"
                )),
            ),
            FireDecision::Skipped { scheduled_for, reason } => (scheduled_for, "skipped", Some(reason)),
        };
        if let Some(why) = &error {
            tracing::warn!(job = %def.id, %scheduled_for, outcome, reason = %why, "job fire not run");
        }
        let run = NewRun {
            job_id: &def.id,
            scope: def.scope.as_str(),
            instance: &state.instance,
            scheduled_for,
            trigger: "schedule",
            outcome,
            error,
        };
        let id = match store.insert_run(&run).await {
            Ok(Some(id)) => id,
            Ok(None) => {
                tracing::info!(job = %def.id, %scheduled_for, "another instance already fired this time");
                continue;
            }
            Err(e) => {
                tracing::error!(job = %def.id, error = %e, "cannot record the job run; not running it");
                continue;
            }
        };
        if outcome == "running" {
            execute_and_finish(
                &def,
                id,
                scheduled_for,
                &def.kind,
                None,
                false,
                &store,
                &fetcher,
                &state,
            )
            .await;
        } else {
            state.job_run_finished(&def.id, outcome, None);
        }
    }
}

/// Runs a job body and completes its run row; returns what it did.
#[allow(clippy::too_many_arguments)]
async fn execute_and_finish(
    def: &JobDef,
    run_id: i64,
    scheduled_for: DateTime<Utc>,
    kind: &JobKind,
    limit: Option<usize>,
    list_domains: bool,
    store: &Store,
    fetcher: &Addr<Fetcher>,
    state: &ServiceState,
) -> ManualRun {
    let span = tracing::info_span!("job_run", job = %def.id, run_id, %scheduled_for);
    let result = match crate::faults::job_fault(&state.instance, &def.id) {
        Some(injected) => Err(injected),
        None => tracing::Instrument::instrument(execute(kind, limit, list_domains, store, fetcher), span).await,
    };
    let (outcome, summary, error, drain) = match result {
        Ok((summary, drain)) => {
            let error = drain.as_ref().and_then(|d| d.error.clone());
            (
                if error.is_some() { "failed" } else { "succeeded" },
                summary,
                error,
                drain,
            )
        }
        Err(e) => ("failed", serde_json::Value::Null, Some(e), None),
    };
    match outcome {
        "succeeded" => tracing::info!(job = %def.id, %summary, "job run succeeded"),
        _ => tracing::error!(job = %def.id, error = error.as_deref().unwrap_or(""), "job run failed"),
    }
    if let Err(e) = store
        .finish_run(run_id, outcome, Some(&summary), error.as_deref())
        .await
    {
        tracing::error!(job = %def.id, error = %e, "cannot complete the job run record");
    }
    state.job_run_finished(&def.id, outcome, error.as_deref());
    ManualRun {
        run_id: Some(run_id),
        outcome: outcome.into(),
        summary,
        error,
        drain,
    }
}

async fn execute(
    kind: &JobKind,
    limit: Option<usize>,
    list_domains: bool,
    store: &Store,
    fetcher: &Addr<Fetcher>,
) -> Result<(serde_json::Value, Option<DrainReport>), String> {
    match kind {
        JobKind::ProcessPending { limit: default } => {
            let limit = limit.unwrap_or(*default);
            let report = fetcher
                .send(Tick { limit, list_domains })
                .await
                .map_err(|e| format!("pipeline stopped: {e}"))?;
            let summary = serde_json::json!({
                "processed": report.processed, "successful": report.successful, "failed": report.failed,
            });
            Ok((summary, Some(report)))
        }
        JobKind::ReclaimExpired => {
            let n = store.reclaim_expired().await.map_err(|e| e.to_string())?;
            Ok((serde_json::json!({ "reclaimed": n }), None))
        }
        JobKind::RecrawlStale { ttl, batch } => {
            let n = store.recrawl_stale(*ttl, *batch).await.map_err(|e| e.to_string())?;
            Ok((serde_json::json!({ "requeued": n }), None))
        }
        JobKind::PruneHistory { retention, batch } => {
            let n = store
                .prune_history(*retention, *batch)
                .await
                .map_err(|e| e.to_string())?;
            Ok((serde_json::json!({ "deleted": n }), None))
        }
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

impl Handler<RunJob> for Scheduler {
    type Result = ResponseActFuture<Self, Result<ManualRun, RunJobError>>;

    fn handle(&mut self, msg: RunJob, _: &mut Context<Self>) -> Self::Result {
        let Some(index) = self.jobs.iter().position(|j| j.def.id == msg.id) else {
            return Box::pin(actix::fut::ready(Err(RunJobError::NotFound(msg.id))));
        };
        if self.stopped {
            return Box::pin(actix::fut::ready(Err(RunJobError::Stopped)));
        }
        let slot = &mut self.jobs[index];
        let def = slot.def.clone();
        let skip = msg.obey_max_instances && slot.running >= def.policy.max_instances;
        if !skip {
            slot.running += 1;
        }
        let (store, fetcher, instance) = (self.store.clone(), self.fetcher.clone(), self.state.instance.clone());
        let state = self.state.clone();
        let work = async move {
            let now = Utc::now();
            let (outcome, error) = if skip {
                let why = format!(
                    "maximum number of running instances reached ({})",
                    def.policy.max_instances
                );
                ("skipped", Some(why))
            } else {
                ("running", None)
            };
            let run = NewRun {
                job_id: &def.id,
                scope: def.scope.as_str(),
                instance: &instance,
                scheduled_for: now,
                trigger: "manual",
                outcome,
                error: error.clone(),
            };
            let run_id = match store.insert_run(&run).await {
                Ok(id) => id,
                Err(e) => {
                    tracing::error!(job = %def.id, error = %e, "cannot record the manual run");
                    None
                }
            };
            if skip {
                state.job_run_finished(&def.id, "skipped", None);
                return ManualRun {
                    run_id,
                    outcome: "skipped".into(),
                    summary: serde_json::Value::Null,
                    error,
                    drain: None,
                };
            }
            match run_id {
                Some(id) => {
                    execute_and_finish(
                        &def,
                        id,
                        now,
                        &def.kind,
                        msg.limit,
                        msg.list_domains,
                        &store,
                        &fetcher,
                        &state,
                    )
                    .await
                }
                // The database refused the record: still do the work the caller asked for.
                None => match execute(&def.kind, msg.limit, msg.list_domains, &store, &fetcher).await {
                    Ok((summary, drain)) => ManualRun {
                        run_id: None,
                        outcome: "succeeded".into(),
                        summary,
                        error: None,
                        drain,
                    },
                    Err(e) => ManualRun {
                        run_id: None,
                        outcome: "failed".into(),
                        summary: serde_json::Value::Null,
                        error: Some(e),
                        drain: None,
                    },
                },
            }
        };
        Box::pin(work.into_actor(self).map(move |run, act, _| {
            if !skip {
                act.jobs[index].running = act.jobs[index].running.saturating_sub(1);
            }
            Ok(run)
        }))
    }
}

impl Handler<SetPaused> for Scheduler {
    type Result = ResponseActFuture<Self, Result<(), RunJobError>>;

    fn handle(&mut self, msg: SetPaused, _: &mut Context<Self>) -> Self::Result {
        let Some(index) = self.jobs.iter().position(|j| j.def.id == msg.id) else {
            return Box::pin(actix::fut::ready(Err(RunJobError::NotFound(msg.id))));
        };
        let store = self.store.clone();
        let (id, paused) = (msg.id, msg.paused);
        Box::pin(
            async move { store.set_job_paused(&id, paused).await }
                .into_actor(self)
                .map(move |result, act, _| {
                    if let Err(e) = result {
                        tracing::error!(error = %e, "cannot store the pause state");
                    }
                    act.jobs[index].paused = paused;
                    Ok(())
                }),
        )
    }
}

impl Handler<ListJobs> for Scheduler {
    type Result = Vec<JobView>;

    fn handle(&mut self, _: ListJobs, _: &mut Context<Self>) -> Vec<JobView> {
        let now = Utc::now();
        self.jobs
            .iter()
            .map(|slot| {
                let def = &slot.def;
                JobView {
                    id: def.id.clone(),
                    trigger: def.trigger.kind().to_string(),
                    spec: def.spec.clone(),
                    description: def.trigger.describe(),
                    timezone: def.timezone.clone(),
                    scope: def.scope.as_str(),
                    args: def.args.clone(),
                    next_run_at: slot.next_run_at,
                    next_fires: match slot.next_run_at {
                        Some(next) => {
                            let mut fires = vec![next];
                            fires.extend(def.trigger.next_n(next.max(now), 4));
                            fires
                        }
                        None => Vec::new(),
                    },
                    paused: slot.paused,
                    running: slot.running,
                    coalesce: def.policy.coalesce,
                    max_instances: def.policy.max_instances,
                    misfire_grace_time: def.policy.misfire_grace.map(|g| g.as_secs()),
                    active_here: self.active(slot),
                }
            })
            .collect()
    }
}
