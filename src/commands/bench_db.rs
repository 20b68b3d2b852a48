//! The benchmark's scratch database: a fresh SQLite file (in a temporary directory, or at a
//! path that does not exist yet) or a fresh PostgreSQL database `domaind_bench_<pid>_<n>` on a
//! server, created before a run and removed after it; and the workload's seed rows.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::Context as _;
use sqlx::Connection as _;

use crate::model::DomainName;
use crate::store::{Backend, Store};

/// Tenants the workload's domains are spread over.
pub const TENANTS: usize = 10;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A database created for one benchmark run; `remove` takes it away again.
#[derive(Debug)]
pub struct ScratchDb {
    /// The URL the service connects to.
    pub url: String,
    /// Which backend it is.
    pub backend: Backend,
    // PostgreSQL: (server URL, database name) to drop.
    pg: Option<(String, String)>,
    // SQLite in a temporary directory: the directory to delete (a file at a given path is kept).
    temp_dir: Option<PathBuf>,
}

impl ScratchDb {
    /// Creates an empty database from `url`: `sqlite:` alone gives a file in a new temporary
    /// directory, `sqlite://PATH` a new file at PATH (refused if it exists), and a
    /// `postgres://` server URL a new database on that server.
    pub async fn create(url: &str) -> anyhow::Result<ScratchDb> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let path = path.split('?').next().unwrap_or("");
            let (file, temp_dir) = if path.is_empty() {
                let dir = std::env::temp_dir().join(format!(
                    "domaind-bench-{}-{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                ));
                std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
                (dir.join("bench.db"), Some(dir))
            } else {
                let file = PathBuf::from(path);
                if file.exists() {
                    anyhow::bail!(
                        "{} already exists: the benchmark needs a fresh database (give a new path, or `sqlite:` for a temporary one)",
                        file.display()
                    );
                }
                (file, None)
            };
            return Ok(ScratchDb {
                url: format!("sqlite://{}?mode=rwc", file.display()),
                backend: Backend::Sqlite,
                pg: None,
                temp_dir,
            });
        }
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            anyhow::bail!("--database must be a sqlite: or postgres:// URL, not {url:?}");
        }
        // Unique across processes too (two containers can share a pid): never touch another run's database.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "domaind_bench_{}_{}_{nanos:09}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let redacted = crate::store::redact_url(url);
        let mut conn = sqlx::PgConnection::connect(url)
            .await
            .with_context(|| format!("cannot connect to {redacted}"))?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .with_context(|| format!("cannot create database {name} on {redacted}"))?;
        let _ = conn.close().await;
        let mut db_url = url::Url::parse(url).with_context(|| format!("not a URL: {redacted}"))?;
        db_url.set_path(&name);
        Ok(ScratchDb {
            url: db_url.to_string(),
            backend: Backend::Postgres,
            pg: Some((url.to_string(), name)),
            temp_dir: None,
        })
    }

    /// Drops the PostgreSQL database (closing other sessions on it) or deletes the temporary
    /// directory. Errors are logged, not returned: this runs on every exit path.
    pub async fn remove(self) {
        if let Some((server, name)) = self.pg {
            let dropped = async {
                let mut conn = sqlx::PgConnection::connect(&server).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await?;
                conn.close().await
            };
            if let Err(e) = dropped.await {
                tracing::error!(error = %e, database = %name, "cannot drop the benchmark database; drop it by hand");
            }
        }
        if let Some(dir) = self.temp_dir {
            if let Err(e) = std::fs::remove_dir_all(&dir) {
                tracing::warn!(error = %e, dir = %dir.display(), "cannot remove the benchmark's temporary directory");
            }
        }
    }
}

/// The workload's `i`-th domain: `site-<i>-<i % 8>.test`, served from `page-<i % 8>.html`.
pub fn domain(i: usize) -> String {
    format!("site-{i}-{}.test", i % 8)
}

/// The tenant of the `i`-th domain.
pub fn tenant(i: usize) -> String {
    format!("bench-{}", i % TENANTS)
}

/// Inserts domains `0..n` as pending, spread over `TENANTS` tenants, in large batches.
pub async fn seed(store: &Store, n: usize) -> anyhow::Result<()> {
    const CHUNK: usize = 10_000;
    for t in 0..TENANTS.min(n) {
        let names = (t..n)
            .step_by(TENANTS)
            .map(|i| DomainName::parse(&domain(i)))
            .collect::<Result<Vec<_>, _>>()
            .context("a workload domain name does not parse")?;
        for chunk in names.chunks(CHUNK) {
            let report = store.insert_domains(&tenant(t), chunk).await?;
            anyhow::ensure!(
                report.duplicates == 0,
                "the scratch database already had {} of these domains",
                report.duplicates
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_urls_give_a_fresh_file() {
        let temp = ScratchDb::create("sqlite:").await.unwrap();
        assert!(temp.url.starts_with("sqlite://") && temp.url.ends_with("/bench.db?mode=rwc"));
        let dir = temp.temp_dir.clone().unwrap();
        assert!(dir.exists());
        temp.remove().await;
        assert!(!dir.exists(), "the temporary directory is removed");

        let existing = std::env::current_exe().unwrap();
        let err = ScratchDb::create(&format!("sqlite://{}", existing.display()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
        assert!(ScratchDb::create("mysql://x").await.is_err());
    }

    #[test]
    fn the_workload_names_its_pages_and_tenants() {
        assert_eq!(domain(0), "site-0-0.test");
        assert_eq!(domain(13), "site-13-5.test");
        assert_eq!(tenant(13), "bench-3");
    }
}
