//! SQLite SQL of the scheduler (see `maintenance.rs`); times bound from Rust like `sqlite.rs`.

use std::time::Duration;

use chrono::Utc;
use sqlx::{Row, SqlitePool};

use super::sqlite::{time, ts};
use super::types::{JobRecord, JobRow, JobRunRow, NewRun, StoreError};

fn ago(d: Duration) -> String {
    ts(Utc::now() - chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(36_500)))
}

pub(super) async fn insert_run(pool: &SqlitePool, run: &NewRun<'_>) -> Result<Option<i64>, StoreError> {
    let now = ts(Utc::now());
    let finished = (run.outcome != "running").then(|| now.clone());
    let id = sqlx::query_scalar(
        "INSERT INTO job_runs (job_id, scope, instance, scheduled_for, started_at, finished_at, outcome, trigger, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(run.job_id)
    .bind(run.scope)
    .bind(run.instance)
    .bind(ts(run.scheduled_for))
    .bind(&now)
    .bind(finished)
    .bind(run.outcome)
    .bind(run.trigger)
    .bind(&run.error)
    .fetch_optional(pool)
    .await?;
    Ok(id)
}

pub(super) async fn finish_run(
    pool: &SqlitePool,
    id: i64,
    outcome: &str,
    summary: Option<String>,
    error: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE job_runs SET outcome = ?2, summary = ?3, error = ?4, finished_at = ?5 WHERE id = ?1")
        .bind(id)
        .bind(outcome)
        .bind(summary)
        .bind(error)
        .bind(ts(Utc::now()))
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn runs(
    pool: &SqlitePool,
    job_id: &str,
    before: i64,
    limit: i64,
) -> Result<Vec<JobRunRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, job_id, scope, instance, scheduled_for, started_at, finished_at, outcome, trigger, summary, error
         FROM job_runs WHERE job_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
    )
    .bind(job_id)
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let summary: Option<String> = r.try_get("summary")?;
            Ok(JobRunRow {
                id: r.try_get("id")?,
                job_id: r.try_get("job_id")?,
                scope: r.try_get("scope")?,
                instance: r.try_get("instance")?,
                scheduled_for: time(r, "scheduled_for")?.unwrap_or_default(),
                started_at: time(r, "started_at")?.unwrap_or_default(),
                finished_at: time(r, "finished_at")?,
                duration_ms: None,
                outcome: r.try_get("outcome")?,
                trigger: r.try_get("trigger")?,
                summary: summary.and_then(|s| serde_json::from_str(&s).ok()),
                error: r.try_get("error")?,
            })
        })
        .collect()
}

pub(super) async fn acquire_leadership(
    pool: &SqlitePool,
    name: &str,
    owner: &str,
    ttl: Duration,
) -> Result<bool, StoreError> {
    let now = Utc::now();
    let expires = ts(now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(15)));
    let row = sqlx::query(
        "INSERT INTO leader_leases (name, owner, expires_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE leader_leases.owner = excluded.owner OR leader_leases.expires_at < ?4
         RETURNING owner",
    )
    .bind(name)
    .bind(owner)
    .bind(expires)
    .bind(ts(now))
    .fetch_optional(pool)
    .await?;
    Ok(row.is_some())
}

pub(super) async fn release_leadership(pool: &SqlitePool, name: &str, owner: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM leader_leases WHERE name = ?1 AND owner = ?2")
        .bind(name)
        .bind(owner)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn recrawl_stale(pool: &SqlitePool, older_than: Duration, batch: i64) -> Result<u64, StoreError> {
    let now = ts(Utc::now());
    let done = sqlx::query(
        "UPDATE domains SET status = 'pending', attempts = 0, next_attempt_at = ?1, updated_at = ?1
         WHERE id IN (SELECT id FROM domains WHERE status = 'completed' AND last_processed < ?2
                      ORDER BY last_processed LIMIT ?3)",
    )
    .bind(&now)
    .bind(ago(older_than))
    .bind(batch)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

pub(super) async fn prune(pool: &SqlitePool, table: &str, older_than: Duration, batch: i64) -> Result<u64, StoreError> {
    // `table` is one of two literals chosen by the caller, never input.
    let running = if table == "job_runs" {
        "AND outcome <> 'running'"
    } else {
        ""
    };
    let done = sqlx::query(&format!(
        "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE started_at < ?1 {running} LIMIT ?2)"
    ))
    .bind(ago(older_than))
    .bind(batch)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

const JOB_COLUMNS: &str = "id, trigger, spec, args, timezone, scope, \"coalesce\", max_instances, misfire_grace_time,
    paused, next_run_at, last_run_at";

fn job_row(r: &sqlx::sqlite::SqliteRow) -> Result<JobRow, StoreError> {
    let args: String = r.try_get("args")?;
    Ok(JobRow {
        id: r.try_get("id")?,
        trigger: r.try_get("trigger")?,
        spec: r.try_get("spec")?,
        args: serde_json::from_str(&args).map_err(|e| StoreError::Data(format!("jobs.args: {e}")))?,
        timezone: r.try_get("timezone")?,
        scope: r.try_get("scope")?,
        coalesce: r.try_get("coalesce")?,
        max_instances: r.try_get("max_instances")?,
        misfire_grace_time: r.try_get("misfire_grace_time")?,
        paused: r.try_get("paused")?,
        next_run_at: time(r, "next_run_at")?,
        last_run_at: time(r, "last_run_at")?,
    })
}

pub(super) async fn reconcile_jobs(pool: &SqlitePool, jobs: &[JobRecord]) -> Result<Vec<JobRow>, StoreError> {
    let now = ts(Utc::now());
    let mut tx = pool.begin().await?;
    let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    let existing: Vec<String> = sqlx::query_scalar("SELECT id FROM jobs").fetch_all(&mut *tx).await?;
    for id in existing.iter().filter(|id| !ids.contains(&id.as_str())) {
        sqlx::query("DELETE FROM jobs WHERE id = ?1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    for j in jobs {
        sqlx::query(
            "INSERT INTO jobs (id, trigger, spec, args, timezone, scope, \"coalesce\", max_instances, misfire_grace_time,
                               definition, next_run_at, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)
             ON CONFLICT (id) DO UPDATE SET trigger = excluded.trigger, spec = excluded.spec, args = excluded.args,
                 timezone = excluded.timezone, scope = excluded.scope, \"coalesce\" = excluded.\"coalesce\",
                 max_instances = excluded.max_instances, misfire_grace_time = excluded.misfire_grace_time,
                 next_run_at = CASE WHEN jobs.definition = excluded.definition THEN jobs.next_run_at
                                    ELSE excluded.next_run_at END,
                 definition = excluded.definition, updated_at = excluded.updated_at",
        )
        .bind(&j.id)
        .bind(&j.trigger)
        .bind(&j.spec)
        .bind(&j.args)
        .bind(&j.timezone)
        .bind(&j.scope)
        .bind(j.coalesce)
        .bind(j.max_instances)
        .bind(j.misfire_grace_time)
        .bind(&j.definition)
        .bind(j.next_run_at.map(ts))
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    list_jobs(pool).await
}

pub(super) async fn list_jobs(pool: &SqlitePool) -> Result<Vec<JobRow>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY id"))
        .fetch_all(pool)
        .await?;
    rows.iter().map(job_row).collect()
}

pub(super) async fn set_job_paused(pool: &SqlitePool, id: &str, paused: bool) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE jobs SET paused = ?2, updated_at = ?3 WHERE id = ?1")
        .bind(id)
        .bind(paused)
        .bind(ts(Utc::now()))
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn set_job_times(
    pool: &SqlitePool,
    id: &str,
    next_run_at: Option<chrono::DateTime<Utc>>,
    last_run_at: Option<chrono::DateTime<Utc>>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE jobs SET next_run_at = ?2, last_run_at = COALESCE(?3, last_run_at), updated_at = ?4 WHERE id = ?1",
    )
    .bind(id)
    .bind(next_run_at.map(ts))
    .bind(last_run_at.map(ts))
    .bind(ts(Utc::now()))
    .execute(pool)
    .await?;
    Ok(())
}
