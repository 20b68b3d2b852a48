//! `Store`: connects to SQLite or PostgreSQL from a URL, applies the embedded migrations, and
//! dispatches every operation to the backend's SQL (`sqlite.rs`, `postgres.rs`).
//!
//! SQLite runs in WAL mode with one writer connection (every write goes through it, so writers
//! never fight over the lock) and a small reader pool. PostgreSQL uses one pool and the
//! database's clock for every lease and schedule comparison.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use super::types::{DomainRow, InsertReport, StoreError, WriteReport};
use super::{postgres, sqlite};
use crate::model::{Attempt, ClaimedDomain, DomainName, Outcome};
use crate::settings::DatabaseSettings;

/// Which database a `Store` talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

#[derive(Clone)]
pub(super) enum Pools {
    Sqlite { writer: SqlitePool, reader: SqlitePool },
    Postgres(PgPool),
}

/// The one handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(super) pools: Pools,
    // Which tenant goes first in the next fair claim (rotates so none is always last).
    fair_offset: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

/// Fair shares are computed over at most this many tenants per claim; beyond it the rest of
/// the capacity is filled oldest-first.
const MAX_FAIR_TENANTS: i64 = 1000;

/// Query parameters of a database URL that carry a secret: sqlx reads a PostgreSQL password
/// from `?password=` as well as from the userinfo, and a client key (`sslkey`) may be inline PEM.
const SECRET_PARAMS: [&str; 3] = ["password", "sslkey", "ssl-key"];

/// Removes the password (userinfo or `?password=`) and an inline client key from a database URL
/// before it is shown to anyone.
pub fn redact_url(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        return url.to_string();
    };
    let mut changed = false;
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
        changed = true;
    }
    if u.query_pairs().any(|(k, _)| SECRET_PARAMS.contains(&k.as_ref())) {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if SECRET_PARAMS.contains(&k.as_ref()) {
                    "***".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
        changed = true;
    }
    if changed {
        u.to_string()
    } else {
        url.to_string()
    }
}

/// An open claim transaction (see `Store::begin_claim`); dropped without `commit`, it rolls back.
enum ClaimTx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl ClaimTx {
    /// Tenants with pending rows (at most `MAX_FAIR_TENANTS`), in id order.
    async fn pending_tenants(&mut self) -> Result<Vec<String>, StoreError> {
        match self {
            ClaimTx::Sqlite(tx) => sqlite::pending_tenants(tx, MAX_FAIR_TENANTS).await,
            ClaimTx::Postgres(tx) => postgres::pending_tenants(tx, MAX_FAIR_TENANTS).await,
        }
    }

    /// Claims up to `n` rows (of `tenant`, or of anyone), oldest first.
    async fn claim(
        &mut self,
        owner: &str,
        n: usize,
        lease: Duration,
        tenant: Option<&str>,
    ) -> Result<Vec<ClaimedDomain>, StoreError> {
        match self {
            ClaimTx::Sqlite(tx) => sqlite::claim(tx, owner, n, lease, tenant).await,
            ClaimTx::Postgres(tx) => postgres::claim(tx, owner, n, lease, tenant).await,
        }
    }

    async fn commit(self) -> Result<(), StoreError> {
        match self {
            ClaimTx::Sqlite(tx) => tx.commit().await?,
            ClaimTx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// How long SQLite migrations are retried while another process is migrating the same file.
const SQLITE_MIGRATE_PATIENCE: Duration = Duration::from_secs(15);

/// Applies SQLite's migrations; several processes may start on one new file at once. sqlx takes
/// no lock on SQLite (it does on PostgreSQL), so two migrators can both see a migration as new:
/// the second one's statements then fail ("table … already exists", or the database is busy)
/// and its transaction rolls back with nothing recorded. Such execution errors are retried: by
/// then the first migrator has recorded the migration, and the retry skips it. Other errors
/// (a migration changed or missing from this binary) are returned at once.
async fn migrate_sqlite(writer: &SqlitePool) -> Result<(), sqlx::migrate::MigrateError> {
    use sqlx::migrate::MigrateError;
    let started = std::time::Instant::now();
    loop {
        match sqlx::migrate!("./migrations/sqlite").run(writer).await {
            Err(e @ (MigrateError::Execute(_) | MigrateError::ExecuteMigration(..)))
                if started.elapsed() < SQLITE_MIGRATE_PATIENCE =>
            {
                tracing::warn!(error = %e, "SQLite migration failed, likely racing another process; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => return other,
        }
    }
}

impl Store {
    /// Opens pools for `settings.url` (creating the SQLite file when the URL says `mode=rwc`).
    pub async fn connect(settings: &DatabaseSettings) -> Result<Store, StoreError> {
        let url = settings.url.as_str();
        let connect_err = |source| StoreError::Connect {
            url: redact_url(url),
            source,
        };
        let acquire = Duration::from_millis(settings.acquire_timeout_ms);
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(connect_err)?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true);
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(acquire)
                .connect_with(options.clone())
                .await
                .map_err(connect_err)?;
            let reader = SqlitePoolOptions::new()
                .max_connections(settings.max_connections.max(1))
                .acquire_timeout(acquire)
                .connect_with(options.create_if_missing(false))
                .await
                .map_err(connect_err)?;
            Ok(Store {
                pools: Pools::Sqlite { writer, reader },
                fair_offset: Default::default(),
            })
        } else {
            let options = PgConnectOptions::from_str(url).map_err(connect_err)?;
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(acquire)
                .connect_with(options)
                .await
                .map_err(connect_err)?;
            Ok(Store {
                pools: Pools::Postgres(pool),
                fair_offset: Default::default(),
            })
        }
    }

    /// Applies the embedded migrations for this backend.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => migrate_sqlite(writer).await?,
            Pools::Postgres(pool) => {
                if let Err(e) = sqlx::migrate!("./migrations/postgres").run(pool).await {
                    if super::adopt_check::python_table_present(pool).await {
                        return Err(StoreError::Data(format!(
                            "{e}: the table `domains` exists but is not domaind's; if the Python \
                             pattern created it, take it over with `domaind migrate --adopt` (see the README)"
                        )));
                    }
                    return Err(e.into());
                }
            }
        }
        Ok(())
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes every pool (waits for connections to be returned).
    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }

    /// Succeeds when the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => {
                sqlx::query("SELECT 1").execute(writer).await?;
            }
            Pools::Postgres(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
        }
        Ok(())
    }

    /// Inserts pending domains for a tenant; existing `(tenant, domain)` pairs count as duplicates.
    pub async fn insert_domains(&self, tenant: &str, domains: &[DomainName]) -> Result<InsertReport, StoreError> {
        let names: Vec<String> = domains.iter().map(|d| d.as_str().to_string()).collect();
        let accepted = match &self.pools {
            Pools::Sqlite { writer, .. } => sqlite::insert_domains(writer, tenant, &names).await?,
            Pools::Postgres(pool) => postgres::insert_domains(pool, tenant, &names).await?,
        };
        Ok(InsertReport {
            accepted,
            duplicates: names.len() as u64 - accepted,
        })
    }

    /// Atomically claims up to `n` claimable rows for `owner`, with a lease of `lease`.
    ///
    /// Fair across tenants: when several tenants have pending rows, each gets an equal share of
    /// `n` (rotating which tenants go first when there are more tenants than rows to claim), and
    /// what a small tenant cannot use is filled oldest-first from everyone. So a tenant with a
    /// million pending rows cannot starve one with ten. Fewer than `n` rows means nothing more
    /// is claimable.
    pub async fn claim(&self, owner: &str, n: usize, lease: Duration) -> Result<Vec<ClaimedDomain>, StoreError> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_claim().await?;
        let tenants = tx.pending_tenants().await?;
        let mut claimed = Vec::with_capacity(n);
        if tenants.len() > 1 {
            let share = n.div_ceil(tenants.len());
            let start = self.fair_offset.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % tenants.len();
            for tenant in tenants.iter().cycle().skip(start).take(tenants.len()) {
                let want = share.min(n - claimed.len());
                if want == 0 {
                    break;
                }
                claimed.extend(tx.claim(owner, want, lease, Some(tenant)).await?);
            }
        }
        if claimed.len() < n {
            claimed.extend(tx.claim(owner, n - claimed.len(), lease, None).await?);
        }
        tx.commit().await?;
        claimed.sort_by_key(|c| c.id);
        Ok(claimed)
    }

    /// Like [`Store::claim`], but no tenant ends up with more than `cap` rows in flight, counting
    /// the `in_flight` ones this owner already holds (`pipeline.max_in_flight_per_tenant`). Shares
    /// are still equal, and what a tenant cannot use goes to the others with room, never past
    /// their cap. Returns the rows and whether some tenant with pending rows was held back by
    /// its cap (then fewer than `n` rows does not mean nothing is claimable).
    ///
    /// Only the first 1,000 tenants with pending rows (in id order) are considered per claim;
    /// later ones get their turn as earlier ones run dry.
    pub async fn claim_capped(
        &self,
        owner: &str,
        n: usize,
        lease: Duration,
        cap: usize,
        in_flight: &HashMap<String, usize>,
    ) -> Result<(Vec<ClaimedDomain>, bool), StoreError> {
        if n == 0 {
            return Ok((Vec::new(), false));
        }
        let mut tx = self.begin_claim().await?;
        let tenants = tx.pending_tenants().await?;
        let mut capped = false;
        let mut room: Vec<(String, usize)> = Vec::with_capacity(tenants.len());
        for tenant in tenants {
            match cap.saturating_sub(in_flight.get(&tenant).copied().unwrap_or(0)) {
                0 => capped = true,
                r => room.push((tenant, r)),
            }
        }
        if !room.is_empty() {
            let start = self.fair_offset.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % room.len();
            room.rotate_left(start);
        }
        let mut claimed = Vec::with_capacity(n);
        // Rounds of equal shares among tenants that still have room and rows, until `n` rows
        // or nobody can give more.
        loop {
            let active = room.iter().filter(|(_, r)| *r > 0).count();
            if active == 0 || claimed.len() >= n {
                break;
            }
            let share = (n - claimed.len()).div_ceil(active);
            let before = claimed.len();
            for (tenant, left) in room.iter_mut().filter(|(_, r)| *r > 0) {
                let want = share.min(*left).min(n - claimed.len());
                if want == 0 {
                    break;
                }
                let got = tx.claim(owner, want, lease, Some(tenant)).await?;
                *left -= got.len();
                if got.len() < want {
                    *left = 0; // no more pending rows for this tenant
                } else if *left == 0 {
                    capped = true;
                }
                claimed.extend(got);
            }
            if claimed.len() == before {
                break;
            }
        }
        tx.commit().await?;
        claimed.sort_by_key(|c| c.id);
        Ok((claimed, capped))
    }

    /// The database's plan for the claim statement (all tenants, or one): diagnostics, and what
    /// the tests use to check the claim stays an index scan on a large table.
    pub async fn explain_claim(&self, tenant: Option<&str>) -> Result<String, StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => sqlite::explain_claim(writer, tenant).await,
            Pools::Postgres(pool) => postgres::explain_claim(pool, tenant).await,
        }
    }

    /// The database's plan for the tenant walk that starts a fair claim (see `explain_claim`).
    pub async fn explain_tenant_walk(&self) -> Result<String, StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => sqlite::explain_tenant_walk(writer).await,
            Pools::Postgres(pool) => postgres::explain_tenant_walk(pool).await,
        }
    }

    /// A claim's transaction: the tenant walk and every per-tenant statement of one claim run
    /// on one connection and commit once. On SQLite that is `BEGIN IMMEDIATE` on the writer: a
    /// claim no longer waits for the writer connection once per statement (measured: a fair
    /// claim over 10 tenants took ~25 ms in `domaind bench`, most of it queued behind batch
    /// writes between its own statements), and the walk's read cannot go stale before the
    /// claim's write. On PostgreSQL it is one commit (one WAL flush) instead of one per statement.
    async fn begin_claim(&self) -> Result<ClaimTx, StoreError> {
        Ok(match &self.pools {
            Pools::Sqlite { writer, .. } => ClaimTx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?),
            Pools::Postgres(pool) => ClaimTx::Postgres(pool.begin().await?),
        })
    }

    /// Extends the lease of the rows `ids` that `owner` still holds; returns how many. Only the
    /// rows its workers are still on: a claim the process lost track of (a writer that gave up
    /// on a row, a claim dropped by an actor restart) is left to expire and be reclaimed.
    pub async fn renew_leases(&self, owner: &str, ids: &[i64], lease: Duration) -> Result<u64, StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => sqlite::renew_leases(writer, owner, ids, lease).await,
            Pools::Postgres(pool) => postgres::renew_leases(pool, owner, ids, lease).await,
        }
    }

    /// Writes a batch of outcomes in one transaction, each fenced by its claim token, and
    /// records one `domain_attempts` row per outcome.
    pub async fn write_outcomes(&self, instance: &str, outcomes: &[Outcome]) -> Result<WriteReport, StoreError> {
        if outcomes.is_empty() {
            return Ok(WriteReport::default());
        }
        match &self.pools {
            Pools::Sqlite { writer, .. } => sqlite::write_outcomes(writer, instance, outcomes).await,
            Pools::Postgres(pool) => postgres::write_outcomes(pool, instance, outcomes).await,
        }
    }

    /// Puts rows whose lease has expired back to `pending`; returns how many.
    pub async fn reclaim_expired(&self) -> Result<u64, StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => sqlite::reclaim_expired(writer).await,
            Pools::Postgres(pool) => postgres::reclaim_expired(pool).await,
        }
    }

    /// Clean shutdown: gives `owner`'s unfinished rows back (`pending`, the attempt not counted,
    /// token cleared so a late write is fenced out); returns how many.
    pub async fn release_leases(&self, owner: &str) -> Result<u64, StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => sqlite::release_leases(writer, owner).await,
            Pools::Postgres(pool) => postgres::release_leases(pool, owner).await,
        }
    }

    /// Puts a finished (`completed` or `error`) row back to `pending` now with a fresh attempt
    /// budget (manual retry, re-crawl); its metadata stays until a new result replaces it.
    /// Returns false when the row does not exist or is pending/in flight.
    pub async fn requeue(&self, id: i64) -> Result<bool, StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => sqlite::requeue(writer, id).await,
            Pools::Postgres(pool) => postgres::requeue(pool, id).await,
        }
    }

    /// Row counts per status (every status present, zero when empty).
    pub async fn count_by_status(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        let rows = match &self.pools {
            Pools::Sqlite { reader, .. } => sqlite::count_by_status(reader).await?,
            Pools::Postgres(pool) => postgres::count_by_status(pool).await?,
        };
        let mut counts: BTreeMap<String, i64> = crate::model::Status::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), 0))
            .collect();
        counts.extend(rows);
        Ok(counts)
    }

    /// One row by id.
    pub async fn get_domain(&self, id: i64) -> Result<Option<DomainRow>, StoreError> {
        match &self.pools {
            Pools::Sqlite { reader, .. } => sqlite::get_domain(reader, id).await,
            Pools::Postgres(pool) => postgres::get_domain(pool, id).await,
        }
    }

    /// One row by tenant and normalized name.
    pub async fn find_domain(&self, tenant: &str, domain: &str) -> Result<Option<DomainRow>, StoreError> {
        match &self.pools {
            Pools::Sqlite { reader, .. } => sqlite::find_domain(reader, tenant, domain).await,
            Pools::Postgres(pool) => postgres::find_domain(pool, tenant, domain).await,
        }
    }

    /// The latest `limit` attempts at a domain, newest first.
    pub async fn attempts(&self, domain_id: i64, limit: i64) -> Result<Vec<Attempt>, StoreError> {
        match &self.pools {
            Pools::Sqlite { reader, .. } => sqlite::attempts(reader, domain_id, limit).await,
            Pools::Postgres(pool) => postgres::attempts(pool, domain_id, limit).await,
        }
    }
}
