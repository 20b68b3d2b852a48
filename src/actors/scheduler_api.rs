//! The Scheduler's control messages: run a job now (manual trigger), pause/resume, and list
//! jobs with their next fires — what `/api/v1/jobs` and the dev endpoint use.

use actix::prelude::*;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::fetcher::DrainReport;
use super::job_runs::{execute, execute_and_finish};
use super::scheduler::{RunEnded, Scheduler};
use crate::store::NewRun;

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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ManualRun {
    /// The `job_runs` row.
    pub run_id: Option<i64>,
    /// `succeeded`, `failed` or `skipped`.
    pub outcome: String,
    /// What the body reported.
    #[schema(value_type = Object)]
    pub summary: serde_json::Value,
    /// Why it failed or was skipped.
    pub error: Option<String>,
    /// For `process_pending_domains`: the drain.
    #[serde(skip)]
    #[schema(ignore)]
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    #[schema(value_type = String)]
    pub scope: &'static str,
    /// Arguments.
    #[schema(value_type = Object)]
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

impl Handler<RunJob> for Scheduler {
    // A plain future runs as a task of its own: a Scheduler restart does not cut the run short.
    type Result = ResponseFuture<Result<ManualRun, RunJobError>>;

    fn handle(&mut self, msg: RunJob, ctx: &mut Context<Self>) -> Self::Result {
        let Some(index) = self.jobs.iter().position(|j| j.def.id == msg.id) else {
            return Box::pin(std::future::ready(Err(RunJobError::NotFound(msg.id))));
        };
        if self.stopped {
            return Box::pin(std::future::ready(Err(RunJobError::Stopped)));
        }
        let me = ctx.address();
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
        Box::pin(async move {
            let run = work.await;
            if !skip {
                me.do_send(RunEnded(index));
            }
            Ok(run)
        })
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
