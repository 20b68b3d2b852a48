//! PostgreSQL SQL. Every lease and schedule comparison uses the database's clock (`now()`), so
//! all instances sharing a database agree on time. Claims use `FOR UPDATE SKIP LOCKED`.

use std::time::Duration;

use sqlx::{PgConnection, PgPool, Row};

use super::encode::{attempt_outcome, result_columns};
use super::types::{DomainRow, StoreError, WriteReport, WrittenDomain};
use crate::model::{Attempt, ClaimedDomain, Outcome};

fn millis(d: Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

pub(super) async fn insert_domains(pool: &PgPool, tenant: &str, names: &[String]) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "INSERT INTO domains (tenant_id, domain) SELECT $1, name FROM unnest($2::text[]) AS name
         ON CONFLICT (tenant_id, domain) DO NOTHING",
    )
    .bind(tenant)
    .bind(names)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

const CLAIM: &str = "UPDATE domains SET status = 'processing', lease_owner = $1,
        lease_expires_at = now() + $2 * interval '1 millisecond',
        claim_token = nextval('domains_claim_token_seq'), attempts = attempts + 1,
        processing_started_at = now(), updated_at = now()
    WHERE id IN (SELECT id FROM domains WHERE status = 'pending' AND next_attempt_at <= now()
                 ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
    RETURNING id, tenant_id, domain, attempts, claim_token,
              metadata->>'etag' AS etag, metadata->>'last_modified' AS last_modified";

const CLAIM_TENANT: &str = "UPDATE domains SET status = 'processing', lease_owner = $1,
        lease_expires_at = now() + $2 * interval '1 millisecond',
        claim_token = nextval('domains_claim_token_seq'), attempts = attempts + 1,
        processing_started_at = now(), updated_at = now()
    WHERE id IN (SELECT id FROM domains WHERE status = 'pending' AND tenant_id = $4 AND next_attempt_at <= now()
                 ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
    RETURNING id, tenant_id, domain, attempts, claim_token,
              metadata->>'etag' AS etag, metadata->>'last_modified' AS last_modified";

/// `EXPLAIN` of the claim statement, one line per plan node.
pub(super) async fn explain_claim(pool: &PgPool, tenant: Option<&str>) -> Result<String, StoreError> {
    let sql = format!("EXPLAIN {}", if tenant.is_some() { CLAIM_TENANT } else { CLAIM });
    let mut query = sqlx::query_scalar::<_, String>(&sql)
        .bind("explain")
        .bind(1000.0f64)
        .bind(100i64);
    if let Some(t) = tenant {
        query = query.bind(t.to_string());
    }
    Ok(query.fetch_all(pool).await?.join("\n"))
}

// Ordered like `domains_claimable_by_tenant` (tenant_id, next_attempt_at, id), which only that
// index yields without a sort: otherwise, with every row pending, the planner may walk the
// unique (tenant_id, domain) index and filter on status — a scan through every finished row of
// a tenant once most rows are done.
const TENANT_WALK: &str = "WITH RECURSIVE t(tenant_id) AS (
         (SELECT tenant_id FROM domains WHERE status = 'pending' ORDER BY tenant_id, next_attempt_at, id LIMIT 1)
         UNION ALL
         SELECT (SELECT d.tenant_id FROM domains d WHERE d.status = 'pending' AND d.tenant_id > t.tenant_id
                 ORDER BY d.tenant_id, d.next_attempt_at, d.id LIMIT 1)
         FROM t WHERE t.tenant_id IS NOT NULL
     )
     SELECT tenant_id FROM t WHERE tenant_id IS NOT NULL LIMIT $1";

/// Tenants with pending rows, by walking `domains_claimable_by_tenant` (one probe per tenant).
pub(super) async fn pending_tenants(conn: &mut PgConnection, max: i64) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(TENANT_WALK).bind(max).fetch_all(conn).await?)
}

/// `EXPLAIN` of the tenant walk of a fair claim.
pub(super) async fn explain_tenant_walk(pool: &PgPool) -> Result<String, StoreError> {
    let sql = format!("EXPLAIN {TENANT_WALK}");
    Ok(sqlx::query_scalar::<_, String>(&sql)
        .bind(1000i64)
        .fetch_all(pool)
        .await?
        .join("\n"))
}

pub(super) async fn claim(
    conn: &mut PgConnection,
    owner: &str,
    n: usize,
    lease: Duration,
    tenant: Option<&str>,
) -> Result<Vec<ClaimedDomain>, StoreError> {
    let rows = sqlx::query(if tenant.is_some() { CLAIM_TENANT } else { CLAIM })
        .bind(owner)
        .bind(millis(lease) as f64)
        .bind(n as i64)
        .bind(tenant)
        .fetch_all(conn)
        .await?;
    let mut claimed: Vec<ClaimedDomain> = rows
        .iter()
        .map(|r| {
            Ok(ClaimedDomain {
                id: r.try_get("id")?,
                tenant_id: r.try_get("tenant_id")?,
                domain: r.try_get("domain")?,
                attempts: r.try_get("attempts")?,
                claim_token: r.try_get("claim_token")?,
                etag: r.try_get("etag")?,
                last_modified: r.try_get("last_modified")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    claimed.sort_by_key(|c| c.id);
    Ok(claimed)
}

pub(super) async fn renew_leases(pool: &PgPool, owner: &str, ids: &[i64], lease: Duration) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE domains SET lease_expires_at = now() + $2 * interval '1 millisecond'
         WHERE status = 'processing' AND lease_owner = $1 AND id = ANY($3)",
    )
    .bind(owner)
    .bind(millis(lease) as f64)
    .bind(ids)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

pub(super) async fn write_outcomes(
    pool: &PgPool,
    instance: &str,
    outcomes: &[Outcome],
) -> Result<WriteReport, StoreError> {
    let mut ids = Vec::with_capacity(outcomes.len());
    let mut tokens = Vec::with_capacity(outcomes.len());
    let mut statuses = Vec::with_capacity(outcomes.len());
    let mut metadata = Vec::with_capacity(outcomes.len());
    let mut kinds: Vec<Option<&str>> = Vec::with_capacity(outcomes.len());
    let mut messages = Vec::with_capacity(outcomes.len());
    let mut retry_ms: Vec<Option<i64>> = Vec::with_capacity(outcomes.len());
    for o in outcomes {
        let cols = result_columns(o);
        ids.push(o.claimed.id);
        tokens.push(o.claimed.claim_token);
        statuses.push(cols.status);
        metadata.push(cols.metadata);
        kinds.push(cols.error_kind);
        messages.push(cols.error_message);
        retry_ms.push(cols.retry_ms);
    }
    let mut tx = pool.begin().await?;
    // One fenced statement per batch: only rows still processing under the same claim token change.
    let applied: Vec<(i64, i64)> = sqlx::query_as(
        "UPDATE domains d SET status = v.status, metadata = COALESCE(v.metadata::jsonb, d.metadata),
                error_kind = v.error_kind, error_message = v.error_message,
                lease_owner = NULL, lease_expires_at = NULL,
                next_attempt_at = COALESCE(now() + v.retry_ms * interval '1 millisecond', d.next_attempt_at),
                processing_completed_at = now(), last_processed = now(), updated_at = now()
         FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[])
              AS v(id, token, status, metadata, error_kind, error_message, retry_ms)
         WHERE d.id = v.id AND d.claim_token = v.token AND d.status = 'processing'
         RETURNING d.id, d.claim_token",
    )
    .bind(&ids)
    .bind(&tokens)
    .bind(&statuses)
    .bind(&metadata)
    .bind(&kinds)
    .bind(&messages)
    .bind(
        retry_ms
            .iter()
            .map(|m| m.map(|ms| ms as f64))
            .collect::<Vec<Option<f64>>>(),
    )
    .fetch_all(&mut *tx)
    .await?;
    // By (id, token): a row claimed twice in one batch (an old claim's late result) is applied
    // for the claim that still holds it only.
    let applied: std::collections::HashSet<(i64, i64)> = applied.into_iter().collect();
    let applied = |o: &Outcome| applied.contains(&(o.claimed.id, o.claimed.claim_token));

    let report = WriteReport {
        domains: outcomes
            .iter()
            .map(|o| WrittenDomain {
                id: o.claimed.id,
                domain: o.claimed.domain.clone(),
                success: o.is_success(),
                applied: applied(o),
            })
            .collect(),
    };
    let outcome_text: Vec<&str> = outcomes.iter().map(|o| attempt_outcome(o, applied(o))).collect();
    let started: Vec<_> = outcomes.iter().map(|o| o.started_at).collect();
    let finished: Vec<_> = outcomes.iter().map(|o| o.finished_at).collect();
    let http: Vec<Option<i32>> = outcomes.iter().map(|o| o.http_status.map(i32::from)).collect();
    let elapsed: Vec<i64> = outcomes.iter().map(|o| o.elapsed_ms()).collect();
    sqlx::query(
        "INSERT INTO domain_attempts
             (domain_id, instance, started_at, finished_at, outcome, error_kind, error_message, http_status, elapsed_ms)
         SELECT id, $2, started_at, finished_at, outcome, error_kind, error_message, http_status, elapsed_ms
         FROM unnest($1::bigint[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::text[], $7::text[],
                     $8::int[], $9::bigint[])
              AS a(id, started_at, finished_at, outcome, error_kind, error_message, http_status, elapsed_ms)",
    )
    .bind(&ids)
    .bind(instance)
    .bind(&started)
    .bind(&finished)
    .bind(&outcome_text)
    .bind(&kinds)
    .bind(&messages)
    .bind(&http)
    .bind(&elapsed)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(report)
}

pub(super) async fn reclaim_expired(pool: &PgPool) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE domains SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
         WHERE status = 'processing' AND lease_expires_at < now()",
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

pub(super) async fn release_leases(pool: &PgPool, owner: &str) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE domains SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL, claim_token = NULL,
                attempts = GREATEST(attempts - 1, 0), updated_at = now()
         WHERE status = 'processing' AND lease_owner = $1",
    )
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

pub(super) async fn requeue(pool: &PgPool, id: i64) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE domains SET status = 'pending', attempts = 0, next_attempt_at = now(), updated_at = now()
         WHERE id = $1 AND status IN ('completed', 'error')",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn count_by_status(pool: &PgPool) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(sqlx::query_as("SELECT status, COUNT(*) FROM domains GROUP BY status")
        .fetch_all(pool)
        .await?)
}

const ROW_COLUMNS: &str = "id, tenant_id, domain, status, attempts, next_attempt_at, lease_owner, lease_expires_at,
    claim_token, processing_started_at, processing_completed_at, last_processed, metadata, error_kind,
    error_message, created_at, updated_at";

fn domain_row(row: &sqlx::postgres::PgRow) -> Result<DomainRow, StoreError> {
    domain_row_with(row, true)
}

/// Decodes a `domains` row; `with_metadata = false` for queries that do not select it.
pub(super) fn domain_row_with(row: &sqlx::postgres::PgRow, with_metadata: bool) -> Result<DomainRow, StoreError> {
    Ok(DomainRow {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        domain: row.try_get("domain")?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        lease_owner: row.try_get("lease_owner")?,
        lease_expires_at: row.try_get("lease_expires_at")?,
        claim_token: row.try_get("claim_token")?,
        processing_started_at: row.try_get("processing_started_at")?,
        processing_completed_at: row.try_get("processing_completed_at")?,
        last_processed: row.try_get("last_processed")?,
        metadata: if with_metadata { row.try_get("metadata")? } else { None },
        error_kind: row.try_get("error_kind")?,
        error_message: row.try_get("error_message")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) async fn get_domain(pool: &PgPool, id: i64) -> Result<Option<DomainRow>, StoreError> {
    let row = sqlx::query(&format!("SELECT {ROW_COLUMNS} FROM domains WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(domain_row).transpose()
}

pub(super) async fn find_domain(pool: &PgPool, tenant: &str, domain: &str) -> Result<Option<DomainRow>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {ROW_COLUMNS} FROM domains WHERE tenant_id = $1 AND domain = $2"
    ))
    .bind(tenant)
    .bind(domain)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(domain_row).transpose()
}

pub(super) async fn attempts(pool: &PgPool, domain_id: i64, limit: i64) -> Result<Vec<Attempt>, StoreError> {
    let rows = sqlx::query(
        "SELECT instance, started_at, finished_at, outcome, error_kind, http_status, elapsed_ms
         FROM domain_attempts WHERE domain_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(domain_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Attempt {
                instance: r.try_get("instance")?,
                started_at: r.try_get("started_at")?,
                finished_at: r.try_get("finished_at")?,
                outcome: r.try_get("outcome")?,
                error_kind: r.try_get("error_kind")?,
                http_status: r.try_get("http_status")?,
                elapsed_ms: r.try_get("elapsed_ms")?,
            })
        })
        .collect()
}
