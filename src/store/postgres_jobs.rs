//! PostgreSQL SQL of the scheduler (see `maintenance.rs`); every comparison on the database
//! clock, so instances agree on leases and ages.

use std::time::Duration;

use sqlx::{PgPool, Row};

use super::types::{JobRunRow, NewRun, StoreError};

fn ms(d: Duration) -> f64 {
    d.as_millis().min(i64::MAX as u128) as f64
}

pub(super) async fn insert_run(pool: &PgPool, run: &NewRun<'_>) -> Result<Option<i64>, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO job_runs (job_id, scope, instance, scheduled_for, started_at, finished_at, outcome, trigger, error)
         VALUES ($1, $2, $3, $4, now(), CASE WHEN $5 = 'running' THEN NULL ELSE now() END, $5, $6, $7)
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(run.job_id)
    .bind(run.scope)
    .bind(run.instance)
    .bind(run.scheduled_for)
    .bind(run.outcome)
    .bind(run.trigger)
    .bind(&run.error)
    .fetch_optional(pool)
    .await?;
    Ok(id)
}

pub(super) async fn finish_run(
    pool: &PgPool,
    id: i64,
    outcome: &str,
    summary: Option<String>,
    error: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE job_runs SET outcome = $2, summary = $3::jsonb, error = $4, finished_at = now() WHERE id = $1")
        .bind(id)
        .bind(outcome)
        .bind(summary)
        .bind(error)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn runs(pool: &PgPool, job_id: &str, before: i64, limit: i64) -> Result<Vec<JobRunRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, job_id, scope, instance, scheduled_for, started_at, finished_at, outcome, trigger, summary, error
         FROM job_runs WHERE job_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(job_id)
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(JobRunRow {
                id: r.try_get("id")?,
                job_id: r.try_get("job_id")?,
                scope: r.try_get("scope")?,
                instance: r.try_get("instance")?,
                scheduled_for: r.try_get("scheduled_for")?,
                started_at: r.try_get("started_at")?,
                finished_at: r.try_get("finished_at")?,
                outcome: r.try_get("outcome")?,
                trigger: r.try_get("trigger")?,
                summary: r.try_get("summary")?,
                error: r.try_get("error")?,
            })
        })
        .collect()
}

pub(super) async fn acquire_leadership(
    pool: &PgPool,
    name: &str,
    owner: &str,
    ttl: Duration,
) -> Result<bool, StoreError> {
    let row = sqlx::query(
        "INSERT INTO leader_leases (name, owner, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE leader_leases.owner = excluded.owner OR leader_leases.expires_at < now()
         RETURNING owner",
    )
    .bind(name)
    .bind(owner)
    .bind(ms(ttl))
    .fetch_optional(pool)
    .await?;
    Ok(row.is_some())
}

pub(super) async fn release_leadership(pool: &PgPool, name: &str, owner: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM leader_leases WHERE name = $1 AND owner = $2")
        .bind(name)
        .bind(owner)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn recrawl_stale(pool: &PgPool, older_than: Duration, batch: i64) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE domains SET status = 'pending', attempts = 0, next_attempt_at = now(), updated_at = now()
         WHERE id IN (SELECT id FROM domains
                      WHERE status = 'completed' AND last_processed < now() - $1 * interval '1 millisecond'
                      ORDER BY last_processed LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind(ms(older_than))
    .bind(batch)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

pub(super) async fn prune(pool: &PgPool, table: &str, older_than: Duration, batch: i64) -> Result<u64, StoreError> {
    // `table` is one of two literals chosen by the caller, never input.
    let running = if table == "job_runs" {
        "AND outcome <> 'running'"
    } else {
        ""
    };
    let done = sqlx::query(&format!(
        "DELETE FROM {table} WHERE id IN (SELECT id FROM {table}
             WHERE started_at < now() - $1 * interval '1 millisecond' {running} LIMIT $2)"
    ))
    .bind(ms(older_than))
    .bind(batch)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
