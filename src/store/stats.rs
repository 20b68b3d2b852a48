//! What the dashboard charts, read from `domain_attempts` over a recent window: attempts per
//! minute by outcome (throughput), and failed attempts grouped by `error_kind` with a few
//! example domains. Both backends, one file: the SQL differs only in placeholders and in how a
//! time becomes its minute.
//!
//! Cost: every statement is bounded by `started_at >= since`, a range scan of the
//! `domain_attempts_started` index, so the work follows the window's attempts, never the
//! table's size. A tenant-bound caller joins `domains` (by primary key) to see its own rows only.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Serialize;
use sqlx::{PgPool, Postgres, QueryBuilder, Row, Sqlite, SqlitePool};

use super::handle::Pools;
use super::sqlite::ts;
use super::types::StoreError;
use super::Store;

/// Example domains kept per error kind.
pub const EXAMPLES_PER_KIND: usize = 3;

/// Attempts that started in one minute, by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MinuteBucket {
    /// The minute's start (UTC).
    pub minute: DateTime<Utc>,
    /// Attempts that completed the domain (304s included).
    pub completed: i64,
    /// Attempts that ended the domain in `error`.
    pub failed: i64,
    /// Attempts that failed transiently and were scheduled again.
    pub retried: i64,
    /// Results refused by fencing (the claim had moved on).
    pub lost: i64,
    /// Every attempt of the minute.
    pub total: i64,
}

/// One domain a failed attempt was about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ErrorExample {
    /// `domains.id`.
    pub id: i64,
    /// The domain name.
    pub domain: String,
    /// The attempt's error message.
    pub error_message: Option<String>,
}

/// Failed attempts of one error kind within the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ErrorGroup {
    /// The error kind (`dns`, `http_status`, ...).
    pub error_kind: String,
    /// Failed attempts (retried or final) of this kind.
    pub attempts: i64,
    /// When the latest of them started.
    pub last_at: Option<DateTime<Utc>>,
    /// Up to three distinct domains, most recent first.
    pub examples: Vec<ErrorExample>,
}

/// Throughput and errors since a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AttemptStats {
    /// Start of the window (a minute boundary).
    pub since: DateTime<Utc>,
    /// Every minute of the window, oldest first, zeros included.
    pub throughput: Vec<MinuteBucket>,
    /// Error kinds, most frequent first.
    pub errors: Vec<ErrorGroup>,
}

/// Minute text both backends produce: `YYYY-MM-DDTHH:MM` (UTC).
fn parse_minute(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(&format!("{text}:00Z"))
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| StoreError::Data(format!("attempt minute {text:?}: {e}")))
}

/// Adds the tenant join and the window predicate; `since` binds as the backend wants it.
fn window_sql<'a, DB: sqlx::Database>(
    sql: &mut QueryBuilder<'a, DB>,
    tenant: Option<&'a str>,
    since: impl sqlx::Encode<'a, DB> + sqlx::Type<DB> + 'a,
) where
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    sql.push(" FROM domain_attempts a");
    if tenant.is_some() {
        sql.push(" JOIN domains d ON d.id = a.domain_id");
    }
    sql.push(" WHERE a.started_at >= ").push_bind(since);
    if let Some(t) = tenant {
        sql.push(" AND d.tenant_id = ").push_bind(t);
    }
}

/// The latest failed attempts of `kind` in the window, with their domain names.
fn examples_sql<'a, DB: sqlx::Database, T>(kind: &'a str, tenant: Option<&'a str>, since: T) -> QueryBuilder<'a, DB>
where
    T: sqlx::Encode<'a, DB> + sqlx::Type<DB> + 'a,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut sql = QueryBuilder::new("SELECT a.domain_id, d.domain, a.error_message FROM domain_attempts a");
    sql.push(" JOIN domains d ON d.id = a.domain_id WHERE a.started_at >= ")
        .push_bind(since)
        .push(" AND a.error_kind = ")
        .push_bind(kind);
    if let Some(t) = tenant {
        sql.push(" AND d.tenant_id = ").push_bind(t);
    }
    sql.push(" ORDER BY a.started_at DESC LIMIT ").push_bind(EXAMPLE_SCAN);
    sql
}

impl Store {
    /// Attempts per minute and failures by kind since `minutes` whole minutes before the
    /// current one (the current, partial minute included), seen by `tenant` when given.
    pub async fn attempt_stats(&self, minutes: u32, tenant: Option<&str>) -> Result<AttemptStats, StoreError> {
        let now = Utc::now();
        let this_minute = now.duration_trunc(Duration::minutes(1)).unwrap_or(now);
        let since = this_minute - Duration::minutes(i64::from(minutes));
        let (by_minute, groups) = match &self.pools {
            Pools::Sqlite { reader, .. } => sqlite_stats(reader, since, tenant).await?,
            Pools::Postgres(pool) => postgres_stats(pool, since, tenant).await?,
        };
        let mut buckets: BTreeMap<DateTime<Utc>, MinuteBucket> = (0..=minutes)
            .map(|i| {
                let minute = since + Duration::minutes(i64::from(i));
                (
                    minute,
                    MinuteBucket {
                        minute,
                        ..Default::default()
                    },
                )
            })
            .collect();
        for (minute, outcome, n) in by_minute {
            let Some(bucket) = buckets.get_mut(&parse_minute(&minute)?) else {
                continue;
            };
            match outcome.as_str() {
                "completed" | "not_modified" => bucket.completed += n,
                "failed" => bucket.failed += n,
                "retry" => bucket.retried += n,
                "lost" => bucket.lost += n,
                _ => {}
            }
            bucket.total += n;
        }
        Ok(AttemptStats {
            since,
            throughput: buckets.into_values().collect(),
            errors: groups,
        })
    }
}

type Raw = (Vec<(String, String, i64)>, Vec<ErrorGroup>);

/// Keeps the first `EXAMPLES_PER_KIND` distinct domains of rows ordered newest first.
fn distinct_examples(rows: impl IntoIterator<Item = ErrorExample>) -> Vec<ErrorExample> {
    let mut examples: Vec<ErrorExample> = Vec::new();
    for row in rows {
        if examples.len() == EXAMPLES_PER_KIND {
            break;
        }
        if !examples.iter().any(|e| e.id == row.id) {
            examples.push(row);
        }
    }
    examples
}

// Rows scanned per kind to find distinct examples (a domain retried many times repeats).
const EXAMPLE_SCAN: i64 = 50;

async fn sqlite_stats(pool: &SqlitePool, since: DateTime<Utc>, tenant: Option<&str>) -> Result<Raw, StoreError> {
    let since = ts(since);
    // `started_at` is fixed-width UTC text, so its first 16 characters are the minute.
    let mut sql = QueryBuilder::<Sqlite>::new("SELECT substr(a.started_at, 1, 16) AS minute, a.outcome, COUNT(*) AS n");
    window_sql(&mut sql, tenant, since.clone());
    sql.push(" GROUP BY minute, a.outcome");
    let by_minute = sql
        .build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("minute")?, r.try_get("outcome")?, r.try_get("n")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let mut sql = QueryBuilder::<Sqlite>::new("SELECT a.error_kind, COUNT(*) AS n, MAX(a.started_at) AS last_at");
    window_sql(&mut sql, tenant, since.clone());
    sql.push(" AND a.error_kind IS NOT NULL GROUP BY a.error_kind ORDER BY n DESC, a.error_kind");
    let rows = sql.build().fetch_all(pool).await?;
    let mut groups = Vec::with_capacity(rows.len());
    for r in &rows {
        let kind: String = r.try_get("error_kind")?;
        let mut sql = examples_sql::<Sqlite, _>(&kind, tenant, since.clone());
        let examples = sql
            .build()
            .fetch_all(pool)
            .await?
            .iter()
            .map(|e| {
                Ok(ErrorExample {
                    id: e.try_get("domain_id")?,
                    domain: e.try_get("domain")?,
                    error_message: e.try_get("error_message")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        groups.push(ErrorGroup {
            error_kind: kind,
            attempts: r.try_get("n")?,
            last_at: super::sqlite::time(r, "last_at")?,
            examples: distinct_examples(examples),
        });
    }
    Ok((by_minute, groups))
}

async fn postgres_stats(pool: &PgPool, since: DateTime<Utc>, tenant: Option<&str>) -> Result<Raw, StoreError> {
    let mut sql = QueryBuilder::<Postgres>::new(
        "SELECT to_char(a.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI') AS minute, a.outcome, \
         COUNT(*) AS n",
    );
    window_sql(&mut sql, tenant, since);
    sql.push(" GROUP BY 1, a.outcome");
    let by_minute = sql
        .build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("minute")?, r.try_get("outcome")?, r.try_get("n")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let mut sql = QueryBuilder::<Postgres>::new("SELECT a.error_kind, COUNT(*) AS n, MAX(a.started_at) AS last_at");
    window_sql(&mut sql, tenant, since);
    sql.push(" AND a.error_kind IS NOT NULL GROUP BY a.error_kind ORDER BY n DESC, a.error_kind");
    let rows = sql.build().fetch_all(pool).await?;
    let mut groups = Vec::with_capacity(rows.len());
    for r in &rows {
        let kind: String = r.try_get("error_kind")?;
        let mut sql = examples_sql::<Postgres, _>(&kind, tenant, since);
        let examples = sql
            .build()
            .fetch_all(pool)
            .await?
            .iter()
            .map(|e| {
                Ok(ErrorExample {
                    id: e.try_get("domain_id")?,
                    domain: e.try_get("domain")?,
                    error_message: e.try_get("error_message")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        groups.push(ErrorGroup {
            error_kind: kind,
            attempts: r.try_get("n")?,
            last_at: r.try_get("last_at")?,
            examples: distinct_examples(examples),
        });
    }
    Ok((by_minute, groups))
}
