//! PostgreSQL SQL of the domains API: filtered keyset pages, bulk requeue, delete. Filters are
//! appended with bound parameters (never spliced text). The bulk requeue locks its rows with
//! `FOR UPDATE SKIP LOCKED`, so two concurrent bulk calls never fight over the same rows.

use sqlx::{PgPool, Postgres, QueryBuilder};

use super::listing::{Columns, DomainFilter};
use super::types::{DomainRow, StoreError};

const SUMMARY_COLUMNS: &str = "id, tenant_id, domain, status, attempts, next_attempt_at, lease_owner,
    lease_expires_at, claim_token, processing_started_at, processing_completed_at, last_processed, error_kind,
    error_message, created_at, updated_at";

/// Appends ` AND …` for every predicate of `filter`.
fn push_filter<'a>(sql: &mut QueryBuilder<'a, Postgres>, filter: &'a DomainFilter) {
    if let Some(status) = filter.status {
        sql.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(tenant) = &filter.tenant_id {
        sql.push(" AND tenant_id = ").push_bind(tenant.as_str());
    }
    if let Some(kind) = filter.error_kind {
        sql.push(" AND error_kind = ").push_bind(kind.as_str());
    }
    if let Some(pattern) = filter.like_pattern() {
        sql.push(" AND lower(domain) LIKE ")
            .push_bind(pattern)
            .push(" ESCAPE '\\'");
    }
}

fn domain_row(row: &sqlx::postgres::PgRow, columns: Columns) -> Result<DomainRow, StoreError> {
    super::postgres::domain_row_with(row, matches!(columns, Columns::Full))
}

pub(super) async fn list(
    pool: &PgPool,
    filter: &DomainFilter,
    after_id: i64,
    limit: i64,
    columns: Columns,
) -> Result<Vec<DomainRow>, StoreError> {
    let mut sql = QueryBuilder::new("SELECT ");
    sql.push(SUMMARY_COLUMNS);
    if columns == Columns::Full {
        sql.push(", metadata");
    }
    sql.push(" FROM domains WHERE id > ").push_bind(after_id);
    push_filter(&mut sql, filter);
    sql.push(" ORDER BY id LIMIT ").push_bind(limit);
    let rows = sql.build().fetch_all(pool).await?;
    rows.iter().map(|r| domain_row(r, columns)).collect()
}

pub(super) async fn requeue_matching(pool: &PgPool, filter: &DomainFilter, max: i64) -> Result<u64, StoreError> {
    let mut sql = QueryBuilder::new(
        "UPDATE domains SET status = 'pending', attempts = 0, next_attempt_at = now(), updated_at = now()
         WHERE id IN (SELECT id FROM domains WHERE status IN ('completed', 'error')",
    );
    push_filter(&mut sql, filter);
    sql.push(" ORDER BY id LIMIT ").push_bind(max);
    // The outer status test is re-checked on rows changed since the snapshot (READ COMMITTED).
    sql.push(" FOR UPDATE SKIP LOCKED) AND status IN ('completed', 'error')");
    Ok(sql.build().execute(pool).await?.rows_affected())
}

pub(super) async fn any_finished(pool: &PgPool, filter: &DomainFilter) -> Result<bool, StoreError> {
    let mut sql = QueryBuilder::new("SELECT EXISTS (SELECT 1 FROM domains WHERE status IN ('completed', 'error')");
    push_filter(&mut sql, filter);
    sql.push(")");
    Ok(sql.build_query_scalar::<bool>().fetch_one(pool).await?)
}

pub(super) async fn delete(pool: &PgPool, id: i64) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let gone = sqlx::query("DELETE FROM domains WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if gone {
        sqlx::query("DELETE FROM domain_attempts WHERE domain_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(gone)
}
