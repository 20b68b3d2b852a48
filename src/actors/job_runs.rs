//! Job runs: records every fire decision in `job_runs` (the `running` row is inserted before
//! the body runs) and executes job bodies — a drain for `process_pending_domains`, a store
//! statement for the maintenance jobs — completing the row with outcome, summary and error.

use std::sync::Arc;

use actix::Addr;
use chrono::{DateTime, Utc};

use super::fetcher::{DrainReport, Fetcher, Tick};
use super::scheduler_api::ManualRun;
use super::state::ServiceState;
use crate::jobs::{JobDef, JobKind};
use crate::schedule::FireDecision;
use crate::store::{NewRun, Store};

/// Records every decision of one poll and runs the `Run` ones in order (one instance).
pub(super) async fn fire(
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
pub(super) async fn execute_and_finish(
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
        None => tracing::Instrument::instrument(execute(kind, limit, list_domains, store, fetcher), span.clone()).await,
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
    // The result line belongs to the run's span, so a log search by run_id finds it.
    span.in_scope(|| match outcome {
        "succeeded" => tracing::info!(job = %def.id, %summary, "job run succeeded"),
        _ => tracing::error!(job = %def.id, error = error.as_deref().unwrap_or(""), "job run failed"),
    });
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

pub(super) async fn execute(
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
