//! Job definitions: a `[[scheduler.jobs]]` entry validated into a `JobDef` — which built-in job
//! it runs (`JobKind`) with its typed arguments, its trigger, its policy (defaults applied) and
//! its scope. Pure; `Settings::validate` uses it so a bad job refuses start naming the job id.
//!
//! Interval grids without an explicit `start` are anchored at the Unix epoch, so every instance
//! (and every restart) computes the same fire times: a cluster job's `(job_id, scheduled_for)`
//! then means the same fire everywhere, which is what makes "at most once per time" work.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::schedule::{parse_duration, parse_timezone, JobPolicy, Trigger};
use crate::settings::{JobSettings, SchedulerSettings};

/// Where a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// On every instance (each drains with its own pipeline).
    Instance,
    /// On the leader only, each fire time at most once across the cluster.
    Cluster,
}

impl Scope {
    /// The text stored in `jobs.scope` / `job_runs.scope`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Instance => "instance",
            Scope::Cluster => "cluster",
        }
    }
}

/// What a job does, with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobKind {
    /// The Python pattern's job: drain up to `limit` pending domains.
    ProcessPending {
        /// Most domains per run.
        limit: usize,
    },
    /// Put rows whose lease expired back to pending.
    ReclaimExpired,
    /// Put completed rows older than `ttl` back to pending.
    RecrawlStale {
        /// Age after which a completed row is crawled again.
        ttl: Duration,
        /// Most rows moved per run.
        batch: i64,
    },
    /// Delete job runs and attempts older than `retention`.
    PruneHistory {
        /// How long history is kept.
        retention: Duration,
        /// Rows deleted per statement.
        batch: i64,
    },
}

/// A validated job.
#[derive(Debug, Clone)]
pub struct JobDef {
    /// Job id.
    pub id: String,
    /// What it runs.
    pub kind: JobKind,
    /// When it fires.
    pub trigger: Trigger,
    /// Coalesce / max_instances / misfire grace / backfill cap.
    pub policy: JobPolicy,
    /// Where it runs.
    pub scope: Scope,
    /// IANA timezone (cron jobs).
    pub timezone: String,
    /// The spec as written.
    pub spec: String,
    /// Arguments as JSON.
    pub args: serde_json::Value,
    /// Canonical text of the definition; a change re-schedules the job.
    pub definition: String,
}

fn int_arg(job: &JobSettings, name: &str, default: i64, min: i64) -> Result<i64, String> {
    match job.args.get(name) {
        None => Ok(default),
        Some(toml::Value::Integer(n)) if *n >= min => Ok(*n),
        Some(v) => Err(format!("args.{name} = {v:?}: must be a whole number of at least {min}")),
    }
}

fn duration_arg(job: &JobSettings, name: &str, default: &str) -> Result<Duration, String> {
    let text = match job.args.get(name) {
        None => default.to_string(),
        Some(toml::Value::String(s)) => s.clone(),
        Some(v) => return Err(format!("args.{name} = {v:?}: must be a duration like \"30d\"")),
    };
    parse_duration("args", &text).map_err(|e| format!("args.{name}: {e}"))
}

impl JobDef {
    /// Validates one job entry against the scheduler's defaults.
    pub fn from_settings(job: &JobSettings, sched: &SchedulerSettings, _now: DateTime<Utc>) -> Result<JobDef, String> {
        let (kind, default_scope, known_args): (JobKind, Scope, &[&str]) = match job.id.as_str() {
            "process_pending_domains" => (
                JobKind::ProcessPending { limit: int_arg(job, "limit", 1000, 1)? as usize },
                Scope::Instance,
                &["limit"],
            ),
            "reclaim_expired_leases" => (JobKind::ReclaimExpired, Scope::Cluster, &[]),
            "recrawl_stale" => (
                JobKind::RecrawlStale { ttl: duration_arg(job, "ttl", "30d")?, batch: int_arg(job, "batch", 1000, 1)? },
                Scope::Cluster,
                &["ttl", "batch"],
            ),
            "prune_history" => (
                JobKind::PruneHistory {
                    retention: duration_arg(job, "retention", "30d")?,
                    batch: int_arg(job, "batch", 5000, 1)?,
                },
                Scope::Cluster,
                &["retention", "batch"],
            ),
            other => {
                return Err(format!(
                    "unknown job {other:?} (known: process_pending_domains, reclaim_expired_leases, recrawl_stale, prune_history)"
                ))
            }
        };
        if let Some(unknown) = job.args.keys().find(|k| !known_args.contains(&k.as_str())) {
            return Err(format!(
                "unknown argument args.{unknown} (known: {})",
                known_args.join(", ")
            ));
        }
        let scope = match job.scope.as_deref() {
            None => default_scope,
            Some("instance") => Scope::Instance,
            Some("cluster") => Scope::Cluster,
            Some(other) => return Err(format!("scope {other:?} must be \"instance\" or \"cluster\"")),
        };
        let timezone = job.timezone.clone().unwrap_or_else(|| sched.timezone.clone());
        parse_timezone(&timezone).map_err(|e| e.to_string())?;
        let mut trigger =
            Trigger::parse(&job.trigger, &job.spec, &timezone, DateTime::UNIX_EPOCH).map_err(|e| e.to_string())?;
        if let Trigger::Interval(interval) = &mut trigger {
            let mut t = interval.clone();
            if let Some(start) = &job.start {
                t = t.with_start(start).map_err(|e| e.to_string())?;
            }
            if let Some(end) = &job.end {
                t = t.with_end(end).map_err(|e| e.to_string())?;
            }
            if let Some(jitter) = &job.jitter {
                let seed = job.id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                    (h ^ b as u64).wrapping_mul(0x1000_0000_01b3)
                });
                t = t.with_jitter(jitter, seed).map_err(|e| e.to_string())?;
            }
            *interval = t;
        } else if job.start.is_some() || job.end.is_some() || job.jitter.is_some() {
            return Err("start, end and jitter apply to interval jobs only".into());
        }
        let d = &sched.job_defaults;
        let grace = job.misfire_grace_time.unwrap_or(d.misfire_grace_time);
        let policy = JobPolicy {
            coalesce: job.coalesce.unwrap_or(d.coalesce),
            max_instances: job.max_instances.unwrap_or(d.max_instances).max(1),
            misfire_grace: (grace > 0).then(|| Duration::from_secs(grace)),
            backfill_cap: d.backfill_cap.max(1),
        };
        let args = serde_json::to_value(&job.args).unwrap_or(serde_json::Value::Null);
        let definition = format!(
            "{}|{}|{}|{}|{}|{}|{}|{:?}|{:?}|{:?}|{}",
            job.trigger,
            job.spec,
            timezone,
            scope.as_str(),
            policy.coalesce,
            policy.max_instances,
            grace,
            job.start,
            job.end,
            job.jitter,
            args
        );
        Ok(JobDef {
            id: job.id.clone(),
            kind,
            trigger,
            policy,
            scope,
            timezone,
            spec: job.spec.clone(),
            args,
            definition,
        })
    }

    /// The `jobs` row to reconcile, first scheduled at the first fire at or after `now`.
    pub fn record(&self, now: DateTime<Utc>) -> crate::store::JobRecord {
        crate::store::JobRecord {
            id: self.id.clone(),
            trigger: self.trigger.kind().to_string(),
            spec: self.spec.clone(),
            args: self.args.to_string(),
            timezone: self.timezone.clone(),
            scope: self.scope.as_str().to_string(),
            coalesce: self.policy.coalesce,
            max_instances: self.policy.max_instances.min(i32::MAX as u32) as i32,
            misfire_grace_time: self
                .policy
                .misfire_grace
                .map(|g| g.as_secs().min(i32::MAX as u64) as i32),
            definition: self.definition.clone(),
            next_run_at: self.trigger.first_fire(now),
        }
    }
}
