//! PostgreSQL SQL of the scheduler (see `maintenance.rs`); every comparison on the database
//! clock, so instances agree on leases and ages.

use std::time::Duration;

use sqlx::{PgPool, Row};

use super::types::{JobRecord, JobRow, JobRunRow, NewRun, StoreError};

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
                duration_ms: None,
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

const JOB_COLUMNS: &str = "id, trigger, spec, args, timezone, scope, \"coalesce\", max_instances, misfire_grace_time,
    paused, next_run_at, last_run_at";

fn job_row(r: &sqlx::postgres::PgRow) -> Result<JobRow, StoreError> {
    Ok(JobRow {
        id: r.try_get("id")?,
        trigger: r.try_get("trigger")?,
        spec: r.try_get("spec")?,
        args: r.try_get("args")?,
        timezone: r.try_get("timezone")?,
        scope: r.try_get("scope")?,
        coalesce: r.try_get("coalesce")?,
        max_instances: r.try_get("max_instances")?,
        misfire_grace_time: r.try_get("misfire_grace_time")?,
        paused: r.try_get("paused")?,
        next_run_at: r.try_get("next_run_at")?,
        last_run_at: r.try_get("last_run_at")?,
    })
}

pub(super) async fn reconcile_jobs(pool: &PgPool, jobs: &[JobRecord]) -> Result<Vec<JobRow>, StoreError> {
    let mut tx = pool.begin().await?;
    let ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
    sqlx::query("DELETE FROM jobs WHERE NOT (id = ANY($1))")
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    for j in jobs {
        sqlx::query(
            "INSERT INTO jobs (id, trigger, spec, args, timezone, scope, \"coalesce\", max_instances, misfire_grace_time,
                               definition, next_run_at)
             VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (id) DO UPDATE SET trigger = excluded.trigger, spec = excluded.spec, args = excluded.args,
                 timezone = excluded.timezone, scope = excluded.scope, \"coalesce\" = excluded.\"coalesce\",
                 max_instances = excluded.max_instances, misfire_grace_time = excluded.misfire_grace_time,
                 next_run_at = CASE WHEN jobs.definition = excluded.definition THEN jobs.next_run_at
                                    ELSE excluded.next_run_at END,
                 definition = excluded.definition, updated_at = now()",
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
        .bind(j.next_run_at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    list_jobs(pool).await
}

pub(super) async fn list_jobs(pool: &PgPool) -> Result<Vec<JobRow>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY id"))
        .fetch_all(pool)
        .await?;
    rows.iter().map(job_row).collect()
}

pub(super) async fn set_job_paused(pool: &PgPool, id: &str, paused: bool) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE jobs SET paused = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(paused)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn set_job_times(
    pool: &PgPool,
    id: &str,
    next_run_at: Option<chrono::DateTime<chrono::Utc>>,
    last_run_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE jobs SET next_run_at = $2, last_run_at = COALESCE($3, last_run_at), updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(next_run_at)
    .bind(last_run_at)
    .execute(pool)
    .await?;
    Ok(())
}
