//! The `Store` operations of the scheduler: job runs (inserted before the body runs; cluster
//! fires unique per time), the leader lease, and the maintenance jobs' bulk statements —
//! re-crawl of stale rows and pruning of history, both in bounded batches.

use std::time::Duration;

use super::handle::Pools;
use super::types::{JobRunRow, NewRun, StoreError};
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
        match &self.pools {
            Pools::Sqlite { reader, .. } => lite::runs(reader, job_id, before, limit).await,
            Pools::Postgres(pool) => pg::runs(pool, job_id, before, limit).await,
        }
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
