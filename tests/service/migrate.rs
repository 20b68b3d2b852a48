//! Several instances starting at once on a fresh database: every `domaind migrate` succeeds
//! and the schema is applied exactly once. sqlx's migrator takes a PostgreSQL advisory
//! lock (`pg_advisory_lock`, keyed by the database name) before it creates `_sqlx_migrations`
//! and reads what is applied, so concurrent migrators run one after another and the later ones
//! find nothing left to do.

use std::process::{Command, Stdio};

use crate::helpers::{postgres_url, Db, TestDb};

const APPLIED: &str = "SELECT version, success FROM _sqlx_migrations ORDER BY version";

/// Starts `n` `domaind migrate` with `config`, every process before any is waited for, so their
/// migrations overlap; asserts that each one succeeded.
async fn migrate_at_once(config: &std::path::Path, n: usize) {
    let children: Vec<_> = (0..n)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_domaind"))
                .args(["--config", config.to_str().unwrap(), "migrate"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start domaind migrate")
        })
        .collect();
    let outputs = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output().expect("domaind migrate"))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for (i, out) in outputs.iter().enumerate() {
        assert!(
            out.status.success(),
            "migrate #{i} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "migrations applied");
    }
}

/// One successful `_sqlx_migrations` row per migration file of `backend`.
fn assert_each_migration_applied_once(applied: &[(i64, bool)], backend: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let files = std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "sql"))
        .count();
    assert_eq!(applied.len(), files, "one row per migration: {applied:?}");
    assert!(applied.iter().all(|(_, ok)| *ok), "{applied:?}");
}

#[actix_web::test]
async fn concurrent_migrations_on_a_fresh_postgres_database_apply_once() {
    if postgres_url().is_none() {
        return;
    }
    const INSTANCES: usize = 6;
    let test_db = TestDb::create(Db::Postgres).await;
    let dir = std::env::temp_dir().join(format!("domaind_migrate_race_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(&config, format!("[database]\nurl = \"{}\"\n", test_db.url)).unwrap();
    migrate_at_once(&config, INSTANCES).await;

    // Each migration recorded once, successfully, and the tables are there.
    let store = test_db.store().await;
    let mut conn = {
        use sqlx::Connection;
        sqlx::PgConnection::connect(&test_db.url).await.unwrap()
    };
    let applied: Vec<(i64, bool)> = sqlx::query_as(APPLIED).fetch_all(&mut conn).await.unwrap();
    assert_each_migration_applied_once(&applied, "postgres");
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let tables: Vec<&str> = tables.iter().map(|(t,)| t.as_str()).collect();
    for table in [
        "_sqlx_migrations",
        "domain_attempts",
        "domains",
        "job_runs",
        "jobs",
        "leader_leases",
    ] {
        assert!(tables.contains(&table), "{table} missing: {tables:?}");
    }
    // The schema works: a later start migrates nothing and rows go in.
    store.migrate().await.unwrap();
    let name = domaind::model::DomainName::parse("after-race.test").unwrap();
    assert_eq!(store.insert_domains("default", &[name]).await.unwrap().accepted, 1);
    {
        use sqlx::Connection;
        conn.close().await.unwrap();
    }
    store.close().await;
    test_db.drop_db().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// SQLite has no migration lock in sqlx: concurrent migrators race, and the losers retry
/// (`Store::migrate`). Before that retry, 1–2 of 4 concurrent runs failed with "table domains
/// already exists".
#[actix_web::test]
async fn concurrent_migrations_on_a_fresh_sqlite_file_all_succeed() {
    const INSTANCES: usize = 6;
    let dir = std::env::temp_dir().join(format!("domaind_migrate_race_sqlite_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("race.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let config = dir.join("config.toml");
    std::fs::write(&config, format!("[database]\nurl = \"{url}\"\n")).unwrap();
    migrate_at_once(&config, INSTANCES).await;
    let mut conn = {
        use sqlx::Connection;
        sqlx::SqliteConnection::connect(&url).await.unwrap()
    };
    let applied: Vec<(i64, bool)> = sqlx::query_as(APPLIED).fetch_all(&mut conn).await.unwrap();
    assert_each_migration_applied_once(&applied, "sqlite");
    {
        use sqlx::Connection;
        conn.close().await.unwrap();
    }
    let _ = std::fs::remove_dir_all(dir);
}
