//! The checks of `domaind migrate --adopt`: what the table `domains` is (the Python pattern's,
//! domaind's, absent, or something else) and whether anything would clash with domaind's schema.

use std::collections::HashMap;

use sqlx::{PgConnection, PgPool};

use super::adopt::{step, AdoptError};

/// Where the legacy table waits while domaind's schema is created beside it.
pub(super) const SCRATCH: &str = "domaind_adopt_legacy";
/// Columns only domaind's table has: their presence means there is nothing to adopt.
const DOMAIND_ONLY: [&str; 5] = [
    "attempts",
    "next_attempt_at",
    "lease_owner",
    "claim_token",
    "error_kind",
];
/// Columns the Python pattern's table must have.
const REQUIRED: [&str; 3] = ["id", "domain", "status"];
/// Columns the Python pattern's table may have (SQLAlchemy mixins often add the last two).
const OPTIONAL: [&str; 8] = [
    "tenant_id",
    "metadata",
    "error_message",
    "processing_started_at",
    "processing_completed_at",
    "last_processed",
    "created_at",
    "updated_at",
];
/// Tables domaind's migrations create besides `domains`.
const OTHER_TABLES: [&str; 4] = ["domain_attempts", "jobs", "job_runs", "leader_leases"];

/// The legacy table's columns: name → PostgreSQL type (`data_type`, or the `udt_name` of a
/// user-defined type such as an enum).
pub(super) struct Legacy {
    pub(super) columns: HashMap<String, String>,
}

impl Legacy {
    pub(super) fn ty(&self, column: &str) -> Option<&str> {
        self.columns.get(column).map(String::as_str)
    }
}

/// True when `domains` exists without domaind's columns: a plain `migrate` would fail on it.
pub(super) async fn python_table_present(pool: &PgPool) -> bool {
    let Ok(mut conn) = pool.acquire().await else {
        return false;
    };
    match inspect(&mut conn).await {
        Ok(legacy) => !legacy.columns.is_empty() && !DOMAIND_ONLY.iter().any(|c| legacy.columns.contains_key(*c)),
        Err(_) => false,
    }
}

pub(super) async fn inspect(conn: &mut PgConnection) -> Result<Legacy, AdoptError> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text, udt_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = 'domains'",
    )
    .fetch_all(conn)
    .await
    .map_err(step("reading the columns of domains"))?;
    let columns = rows
        .into_iter()
        .map(|(name, ty, udt)| (name, if ty == "USER-DEFINED" { udt } else { ty }))
        .collect();
    Ok(Legacy { columns })
}

/// Refuses, with the reason, anything but an unadopted Python pattern table.
pub(super) async fn check(conn: &mut PgConnection, legacy: &Legacy) -> Result<(), AdoptError> {
    let (schema, history): (String, bool) =
        sqlx::query_as("SELECT current_schema()::text, to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&mut *conn)
            .await
            .map_err(step("reading the migration history"))?;
    let mut recorded = None;
    if history {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
            .fetch_one(&mut *conn)
            .await
            .map_err(step("reading the migration history"))?;
        recorded = Some(n);
    }
    if let Some(n) = recorded.filter(|n| *n > 0) {
        return Err(AdoptError::AlreadyDomaind(format!(
            "this database is already managed by domaind ({n} migrations recorded in _sqlx_migrations)"
        )));
    }
    if legacy.columns.is_empty() {
        return Err(AdoptError::NoTable(schema));
    }
    let ours: Vec<&str> = DOMAIND_ONLY.into_iter().filter(|c| legacy.ty(c).is_some()).collect();
    if !ours.is_empty() {
        return Err(AdoptError::AlreadyDomaind(format!(
            "table `domains` already has domaind's columns ({})",
            ours.join(", ")
        )));
    }
    let missing: Vec<&str> = REQUIRED.into_iter().filter(|c| legacy.ty(c).is_none()).collect();
    if !missing.is_empty() {
        return Err(AdoptError::NotThePattern(format!(
            "it has no column {}",
            missing.join(", ")
        )));
    }
    let mut unknown: Vec<&str> = legacy
        .columns
        .keys()
        .map(String::as_str)
        .filter(|c| !REQUIRED.contains(c) && !OPTIONAL.contains(c))
        .collect();
    unknown.sort_unstable();
    if !unknown.is_empty() {
        return Err(AdoptError::NotThePattern(format!(
            "it has columns domaind would not keep ({}); copy them elsewhere and drop them first",
            unknown.join(", ")
        )));
    }
    let texty = |t: &str| matches!(t, "text" | "character varying" | "character" | "citext");
    let timey = |t: &str| matches!(t, "timestamp without time zone" | "timestamp with time zone" | "date");
    let mut bad = Vec::new();
    for (column, ty) in &legacy.columns {
        let ok = match column.as_str() {
            "id" => matches!(ty.as_str(), "smallint" | "integer" | "bigint"),
            "domain" => texty(ty),
            "metadata" => texty(ty) || matches!(ty.as_str(), "json" | "jsonb"),
            "processing_started_at" | "processing_completed_at" | "last_processed" | "created_at" | "updated_at" => {
                timey(ty)
            }
            // Any other type (varchar, an enum, an integer tenant id) converts through text.
            _ => true,
        };
        if !ok {
            bad.push(format!("{column} is {ty}"));
        }
    }
    if !bad.is_empty() {
        bad.sort();
        return Err(AdoptError::NotThePattern(format!(
            "unexpected column types ({})",
            bad.join(", ")
        )));
    }
    let clashes: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c
         WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
           AND c.relname = ANY($1 || ARRAY['domains_claim_token_seq'])
         UNION ALL
         SELECT nspname::text FROM pg_namespace WHERE nspname = $2
         ORDER BY 1",
    )
    .bind(&OTHER_TABLES[..])
    .bind(SCRATCH)
    .fetch_all(&mut *conn)
    .await
    .map_err(step("looking for clashing tables"))?;
    if !clashes.is_empty() {
        return Err(AdoptError::Conflict(format!(
            "{} already exist(s) in the database and would clash with domaind's schema",
            clashes.join(", ")
        )));
    }
    let referencing: Vec<String> = sqlx::query_scalar(
        "SELECT format('%s (constraint %s)', conrelid::regclass, conname) FROM pg_constraint
         WHERE contype = 'f' AND confrelid = 'domains'::regclass AND conrelid <> confrelid ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(step("looking for foreign keys to domains"))?;
    if !referencing.is_empty() {
        return Err(AdoptError::Conflict(format!(
            "other tables reference domains by foreign key: {}; drop those constraints first",
            referencing.join(", ")
        )));
    }
    Ok(())
}
