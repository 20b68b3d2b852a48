//! The `Store` operations of the scheduler: job runs (inserted before the body runs; cluster
//! fires unique per time), the leader lease, and the maintenance jobs' bulk statements —
//! re-crawl of stale rows and pruning of history, both in bounded batches.

use std::time::Duration;

use super::handle::Pools;
use super::types::{JobRecord, JobRow, JobRunRow, NewRun, StoreError};
use super::{postgres_jobs as pg, sqlite_jobs as lite, Store};

impl Store {
    /// Records a run; `None` when a cluster run for this job and time already exists (another
    /// instance fired it).
    pub async fn insert_run(&self, run: &NewRun<'_>) -> Result<Option<i64>, StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => lite::insert_run(writer, run).await,
            Pools::Postgres(pool) => pg::insert_run(pool, run).await,
        }
    }

    /// Completes a run with its outcome, summary and error.
    pub async fn finish_run(
        &self,
        id: i64,
        outcome: &str,
        summary: Option<&serde_json::Value>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let summary = summary.map(|s| s.to_string());
        match &self.pools {
            Pools::Sqlite { writer, .. } => lite::finish_run(writer, id, outcome, summary, error).await,
            Pools::Postgres(pool) => pg::finish_run(pool, id, outcome, summary, error).await,
        }
    }

    /// A job's runs, newest first, older than `before_id` when given (cursor pagination).
    pub async fn runs(&self, job_id: &str, before_id: Option<i64>, limit: i64) -> Result<Vec<JobRunRow>, StoreError> {
        let before = before_id.unwrap_or(i64::MAX);
        let mut runs = match &self.pools {
            Pools::Sqlite { reader, .. } => lite::runs(reader, job_id, before, limit).await?,
            Pools::Postgres(pool) => pg::runs(pool, job_id, before, limit).await?,
        };
        for run in &mut runs {
            run.duration_ms = run.finished_at.map(|f| (f - run.started_at).num_milliseconds().max(0));
        }
        Ok(runs)
    }

    /// Takes or renews the leader lease `name` for `owner`; true when `owner` now leads.
    pub async fn acquire_leadership(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => lite::acquire_leadership(writer, name, owner, ttl).await,
            Pools::Postgres(pool) => pg::acquire_leadership(pool, name, owner, ttl).await,
        }
    }

    /// Gives the lease up (clean shutdown) so another instance takes over at once.
    pub async fn release_leadership(&self, name: &str, owner: &str) -> Result<(), StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => lite::release_leadership(writer, name, owner).await,
            Pools::Postgres(pool) => pg::release_leadership(pool, name, owner).await,
        }
    }

    /// Puts up to `batch` `completed` rows last processed more than `older_than` ago back to
    /// `pending` (their metadata stays until the re-crawl succeeds); returns how many.
    pub async fn recrawl_stale(&self, older_than: Duration, batch: i64) -> Result<u64, StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => lite::recrawl_stale(writer, older_than, batch).await,
            Pools::Postgres(pool) => pg::recrawl_stale(pool, older_than, batch).await,
        }
    }

    /// Deletes finished job runs and attempts older than `older_than`, `batch` rows per
    /// statement so no statement holds locks for long; returns how many rows went.
    pub async fn prune_history(&self, older_than: Duration, batch: i64) -> Result<u64, StoreError> {
        let mut total = 0;
        for table in ["job_runs", "domain_attempts"] {
            loop {
                let n = match &self.pools {
                    Pools::Sqlite { writer, .. } => lite::prune(writer, table, older_than, batch).await?,
                    Pools::Postgres(pool) => pg::prune(pool, table, older_than, batch).await?,
                };
                total += n;
                if n < batch as u64 {
                    break;
                }
            }
        }
        Ok(total)
    }
}

impl Store {
    /// Makes `jobs` match the configuration: new jobs inserted, changed ones updated (and
    /// re-scheduled from their new `next_run_at`), removed ones deleted; unchanged jobs keep
    /// their `next_run_at` (so fires missed while down go through the misfire rules) and their
    /// paused state. Returns every job.
    pub async fn reconcile_jobs(&self, jobs: &[JobRecord]) -> Result<Vec<JobRow>, StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => lite::reconcile_jobs(writer, jobs).await,
            Pools::Postgres(pool) => pg::reconcile_jobs(pool, jobs).await,
        }
    }

    /// Every job, by id.
    pub async fn list_jobs(&self) -> Result<Vec<JobRow>, StoreError> {
        match &self.pools {
            Pools::Sqlite { reader, .. } => lite::list_jobs(reader).await,
            Pools::Postgres(pool) => pg::list_jobs(pool).await,
        }
    }

    /// Pauses or resumes a job; false when no such job.
    pub async fn set_job_paused(&self, id: &str, paused: bool) -> Result<bool, StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => lite::set_job_paused(writer, id, paused).await,
            Pools::Postgres(pool) => pg::set_job_paused(pool, id, paused).await,
        }
    }

    /// Stores a job's next fire time, and its last run time when one ran.
    pub async fn set_job_times(
        &self,
        id: &str,
        next_run_at: Option<chrono::DateTime<chrono::Utc>>,
        last_run_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<(), StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => lite::set_job_times(writer, id, next_run_at, last_run_at).await,
            Pools::Postgres(pool) => pg::set_job_times(pool, id, next_run_at, last_run_at).await,
        }
    }
}
