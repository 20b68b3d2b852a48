//! `domaind migrate --adopt`: takes over the PostgreSQL table `domains` that the Python pattern
//! (FastAPI + APScheduler + SQLAlchemy) created, in one transaction.
//!
//! The legacy table is moved aside into a scratch schema, domaind's migrations are run by sqlx
//! itself (so `_sqlx_migrations` records them with their real checksums and the schema is
//! exactly a migrated one), every row is copied across with its id, the identity is moved past
//! the highest id, and the legacy table is dropped. Any failure rolls everything back. What
//! maps to what is decided in `adopt_plan.rs` and described in the README.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::{PgConnection, PgPool, Row};

use super::adopt_check::{check, inspect, Legacy, SCRATCH};
use super::adopt_plan::{plan_names, LegacyName, COMPLETED, ERROR, PENDING, PROCESSING};
use super::adopt_sql::{copy_statement, tenant_expr, STATUS_EXPR};
use super::handle::Pools;
use super::Store;
use crate::model::ErrorKind;

/// Rows listed by name in the report (all are counted).
const SHOWN: i64 = 100;

/// Why `--adopt` refused or failed; nothing was changed in every case.
#[derive(Debug, thiserror::Error)]
pub enum AdoptError {
    /// `database.url` is SQLite.
    #[error(
        "`migrate --adopt` works on PostgreSQL only (the Python pattern's table lives in PostgreSQL), \
         but database.url is a SQLite database; nothing was changed"
    )]
    Sqlite,
    /// No `domains` table to adopt.
    #[error(
        "there is no table `domains` in schema {0}: nothing to adopt (a new database needs only `domaind migrate`)"
    )]
    NoTable(String),
    /// The database is already domaind's.
    #[error("{0}: nothing to adopt, nothing was changed (run `domaind migrate` for pending migrations)")]
    AlreadyDomaind(String),
    /// The table is neither the Python pattern's nor domaind's.
    #[error("table `domains` does not look like the Python pattern's: {0}; nothing was changed")]
    NotThePattern(String),
    /// Something in the database would clash with domaind's schema.
    #[error("cannot adopt: {0}; nothing was changed")]
    Conflict(String),
    /// The time zone for naive timestamps is unknown to PostgreSQL.
    #[error("time zone {0:?} is not known to PostgreSQL (e.g. UTC, Europe/Berlin)")]
    TimeZone(String),
    /// Running domaind's migrations inside the adoption failed.
    #[error("applying domaind's migrations failed (everything was rolled back): {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A statement failed; the transaction was rolled back.
    #[error("adoption failed while {step} (everything was rolled back): {source}")]
    Query {
        /// What was being done.
        step: &'static str,
        /// Underlying error.
        source: sqlx::Error,
    },
}

/// What `--adopt` did, printed as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AdoptReport {
    /// Rows in the legacy table, every one now in domaind's table with its id.
    pub rows: i64,
    /// Rows per domaind status after adoption.
    pub by_status: BTreeMap<String, i64>,
    /// How each legacy status was mapped: `(legacy, domaind) -> rows`.
    pub statuses: Vec<StatusMapping>,
    /// Rows per tenant.
    pub tenants: BTreeMap<String, i64>,
    /// Names rewritten to domaind's normal form (lowercase, punycode, no scheme or trailing dot).
    pub names_normalized: i64,
    /// `metadata` values that were not a JSON object, kept under `{"legacy_metadata": ...}`.
    pub metadata_wrapped: i64,
    /// The id the next inserted row gets.
    pub next_id: i64,
    /// Rows set to `error` with `error_kind = "adoption"`: an operator should look at them.
    pub needs_attention: i64,
    /// The first of them.
    pub attention: Vec<AttentionRow>,
}

/// How many rows of one legacy status ended in which domaind status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusMapping {
    /// The legacy value verbatim (`NULL` for SQL NULL).
    pub from: String,
    /// The domaind status.
    pub to: String,
    /// Rows.
    pub rows: i64,
}

/// A row that needs an operator's attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttentionRow {
    /// `domains.id`.
    pub id: i64,
    /// Tenant.
    pub tenant_id: String,
    /// The stored name.
    pub domain: String,
    /// Why (also in `error_message`).
    pub reason: String,
}

pub(super) fn step(step: &'static str) -> impl FnOnce(sqlx::Error) -> AdoptError {
    move |source| AdoptError::Query { step, source }
}

impl Store {
    /// Adopts the Python pattern's `domains` table (PostgreSQL only); naive timestamps are read
    /// in `time_zone`.
    pub async fn adopt_python_table(&self, time_zone: &str) -> Result<AdoptReport, AdoptError> {
        match &self.pools {
            Pools::Sqlite { .. } => Err(AdoptError::Sqlite),
            Pools::Postgres(pool) => adopt(pool, time_zone).await,
        }
    }
}

async fn adopt(pool: &PgPool, time_zone: &str) -> Result<AdoptReport, AdoptError> {
    let known: Option<bool> =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1 OR abbrev = $1)")
            .bind(time_zone)
            .fetch_one(pool)
            .await
            .map_err(step("checking the time zone"))?;
    if known != Some(true) {
        return Err(AdoptError::TimeZone(time_zone.to_string()));
    }
    let mut tx = pool.begin().await.map_err(step("starting the transaction"))?;
    let legacy = inspect(&mut tx).await?;
    check(&mut tx, &legacy).await?;
    // Keep the Python application (if still running) out until the commit.
    sqlx::query("LOCK TABLE domains IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .map_err(step("locking domains"))?;
    sqlx::query(&format!("CREATE SCHEMA {SCRATCH}"))
        .execute(&mut *tx)
        .await
        .map_err(step("creating the scratch schema"))?;
    // Indexes, constraints and owned sequences (SERIAL's) move along, freeing their names.
    sqlx::query(&format!("ALTER TABLE domains SET SCHEMA {SCRATCH}"))
        .execute(&mut *tx)
        .await
        .map_err(step("moving the legacy table aside"))?;
    sqlx::migrate!("./migrations/postgres").run(&mut *tx).await?;

    let legacy_rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {SCRATCH}.domains"))
        .fetch_one(&mut *tx)
        .await
        .map_err(step("counting legacy rows"))?;
    let fixes = write_name_fixes(&mut tx, &legacy).await?;
    if legacy.ty("metadata").is_some_and(|t| !matches!(t, "json" | "jsonb")) {
        // Text metadata may hold anything (e.g. a Python dict's repr); a cast that fails must
        // not abort the adoption, so it is tried row by row.
        sqlx::query(
            "CREATE FUNCTION pg_temp.domaind_adopt_jsonb(t text) RETURNS jsonb LANGUAGE plpgsql AS $$
             BEGIN RETURN t::jsonb; EXCEPTION WHEN others THEN RETURN NULL; END $$",
        )
        .execute(&mut *tx)
        .await
        .map_err(step("creating the metadata parser"))?;
    }
    let copied = sqlx::query(&copy_statement(&legacy))
        .bind(time_zone)
        .bind(PENDING)
        .bind(PROCESSING)
        .bind(COMPLETED)
        .bind(ERROR)
        .execute(&mut *tx)
        .await
        .map_err(step("copying the rows"))?
        .rows_affected();
    sqlx::query("DROP FUNCTION IF EXISTS pg_temp.domaind_adopt_jsonb(text)")
        .execute(&mut *tx)
        .await
        .map_err(step("dropping the metadata parser"))?;
    if copied as i64 != legacy_rows {
        return Err(AdoptError::Conflict(format!(
            "copied {copied} of {legacy_rows} rows (was the table written to meanwhile?)"
        )));
    }
    let next_id: i64 = sqlx::query_scalar(
        "SELECT setval(pg_get_serial_sequence('domains', 'id'), COALESCE(max(id), 0) + 1, false) FROM domains",
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(step("moving the id identity past the highest id"))?;

    let mut report = summarize(&mut tx, legacy_rows, next_id).await?;
    report.names_normalized = fixes;
    sqlx::query(&format!("DROP TABLE {SCRATCH}.domains"))
        .execute(&mut *tx)
        .await
        .map_err(step(
            "dropping the legacy table (a view or other object may depend on it)",
        ))?;
    sqlx::query(&format!("DROP SCHEMA {SCRATCH}"))
        .execute(&mut *tx)
        .await
        .map_err(step("dropping the scratch schema (drop what else was created in it)"))?;
    tx.commit().await.map_err(step("committing"))?;
    Ok(report)
}

/// Plans every name (see `adopt_plan`) and stores the changed ones in a temporary table the
/// copy joins; returns how many were only normalized.
async fn write_name_fixes(conn: &mut PgConnection, legacy: &Legacy) -> Result<i64, AdoptError> {
    const CHUNK: usize = 5000;
    let rows = sqlx::query(&format!(
        "SELECT l.id::bigint AS id, {} AS tenant, l.domain::text AS domain, {STATUS_EXPR} AS status
         FROM {SCRATCH}.domains l",
        tenant_expr(legacy)
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(step("reading the legacy names"))?;
    let names = rows
        .iter()
        .map(|r| {
            Ok(LegacyName {
                id: r.try_get("id")?,
                tenant: r.try_get("tenant")?,
                domain: r.try_get("domain")?,
                status: r.try_get("status")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(step("reading the legacy names"))?;
    drop(rows);
    let fixes = plan_names(&names);
    sqlx::query(
        "CREATE TEMP TABLE adopt_fixes (id BIGINT PRIMARY KEY, domain TEXT NOT NULL, problem TEXT) ON COMMIT DROP",
    )
    .execute(&mut *conn)
    .await
    .map_err(step("creating the name plan table"))?;
    for chunk in fixes.chunks(CHUNK) {
        let ids: Vec<i64> = chunk.iter().map(|f| f.id).collect();
        let domains: Vec<&str> = chunk.iter().map(|f| f.domain.as_str()).collect();
        let problems: Vec<Option<&str>> = chunk.iter().map(|f| f.problem.as_deref()).collect();
        sqlx::query("INSERT INTO adopt_fixes SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[])")
            .bind(&ids)
            .bind(&domains)
            .bind(&problems)
            .execute(&mut *conn)
            .await
            .map_err(step("storing the name plan"))?;
    }
    Ok(fixes.iter().filter(|f| f.problem.is_none()).count() as i64)
}

async fn summarize(conn: &mut PgConnection, rows: i64, next_id: i64) -> Result<AdoptReport, AdoptError> {
    let by_status: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, count(*) FROM domains GROUP BY status ORDER BY status")
            .fetch_all(&mut *conn)
            .await
            .map_err(step("counting by status"))?;
    let tenants: Vec<(String, i64)> =
        sqlx::query_as("SELECT tenant_id, count(*) FROM domains GROUP BY tenant_id ORDER BY tenant_id")
            .fetch_all(&mut *conn)
            .await
            .map_err(step("counting by tenant"))?;
    let statuses: Vec<(String, String, i64)> = sqlx::query_as(&format!(
        "SELECT COALESCE(l.status::text, 'NULL'), d.status, count(*) FROM {SCRATCH}.domains l
         JOIN domains d ON d.id = l.id::bigint GROUP BY 1, 2 ORDER BY 1, 2"
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(step("counting the status mapping"))?;
    let (needs_attention, metadata_wrapped): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE error_kind = $1), count(*) FILTER (WHERE metadata ? 'legacy_metadata')
         FROM domains",
    )
    .bind(ErrorKind::Adoption.as_str())
    .fetch_one(&mut *conn)
    .await
    .map_err(step("counting rows needing attention"))?;
    let attention: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
        "SELECT id, tenant_id, domain, error_message FROM domains WHERE error_kind = $1 ORDER BY id LIMIT $2",
    )
    .bind(ErrorKind::Adoption.as_str())
    .bind(SHOWN)
    .fetch_all(&mut *conn)
    .await
    .map_err(step("listing rows needing attention"))?;
    Ok(AdoptReport {
        rows,
        by_status: by_status.into_iter().collect(),
        statuses: statuses
            .into_iter()
            .map(|(from, to, rows)| StatusMapping { from, to, rows })
            .collect(),
        tenants: tenants.into_iter().collect(),
        names_normalized: 0,
        metadata_wrapped,
        next_id,
        needs_attention,
        attention: attention
            .into_iter()
            .map(|(id, tenant_id, domain, reason)| AttentionRow {
                id,
                tenant_id,
                domain,
                reason: reason.unwrap_or_default(),
            })
            .collect(),
    })
}
