//! `domaind migrate --adopt` against the Python pattern's own PostgreSQL table: every row kept
//! with its id, statuses mapped, the schema exactly a migrated one, and the service processing
//! the adopted rows; and the refusals (SQLite, already domaind's, no table, a foreign table)
//! that change nothing.

use std::path::PathBuf;
use std::process::Output;

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::cli::domaind;
use crate::helpers::{postgres_url, spawn_app_on, Db, TestDb};

/// The table SQLAlchemy's `create_all` makes for the pattern's model (String columns are
/// VARCHAR, `JSON` is json, `DateTime` is a naive timestamp, the integer key is SERIAL).
const PATTERN_TABLE: &str = "
CREATE TABLE domains (
    id SERIAL NOT NULL,
    domain VARCHAR(255) NOT NULL,
    tenant_id VARCHAR(64),
    status VARCHAR(20) NOT NULL,
    metadata JSON,
    error_message TEXT,
    processing_started_at TIMESTAMP WITHOUT TIME ZONE,
    processing_completed_at TIMESTAMP WITHOUT TIME ZONE,
    last_processed TIMESTAMP WITHOUT TIME ZONE,
    PRIMARY KEY (id),
    UNIQUE (domain)
);
CREATE INDEX ix_domains_status ON domains (status);
CREATE INDEX ix_domains_tenant_id ON domains (tenant_id);
";

/// One row in every status the pattern writes, plus the spellings and names it tolerated.
const PATTERN_ROWS: &str = "
INSERT INTO domains (id, domain, tenant_id, status, metadata, error_message,
                     processing_started_at, processing_completed_at, last_processed) VALUES
 (3,  'alpha-1.test',   NULL, 'pending',    NULL, NULL, NULL, NULL, NULL),
 (7,  'Bravo-1.TEST.',  't1', 'processing', NULL, NULL, '2024-03-01 11:59:00', NULL, NULL),
 (12, 'charlie-1.test', 't1', 'completed',  '{\"title\": \"Old Charlie\", \"keywords\": [\"a\", \"b\"]}', NULL,
      '2024-03-01 11:59:58', '2024-03-01 12:00:00', '2024-03-01 12:00:00'),
 (20, 'notfound-1.test', 't2', 'error',     NULL, 'HTTP 404 Not Found', '2024-03-02 08:00:00',
      '2024-03-02 08:00:01', '2024-03-02 08:00:01'),
 (25, 'not a domain!',  NULL, 'pending',    NULL, NULL, NULL, NULL, NULL),
 (30, 'alpha-2.test',   NULL, 'ARCHIVED',   NULL, NULL, NULL, NULL, NULL),
 (31, 'charlie-2.test', '',   'PENDING',    NULL, NULL, NULL, NULL, NULL),
 (40, 'alpha-3.test',   NULL, 'in-progress', NULL, NULL, '2024-03-03 09:00:00', NULL, NULL);
SELECT setval('domains_id_seq', 40);
";

struct Cli {
    dir: PathBuf,
    config: PathBuf,
}

impl Cli {
    fn new(db_url: &str, name: &str) -> Cli {
        let dir = std::env::temp_dir().join(format!("domaind_adopt_{name}_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("config.toml");
        std::fs::write(&config, format!("[database]\nurl = \"{db_url}\"\n")).unwrap();
        Cli { dir, config }
    }

    async fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["--config".to_string(), self.config.display().to_string()];
        all.extend(args.iter().map(|s| s.to_string()));
        domaind(all, vec![]).await
    }

    fn remove(self) {
        let _ = std::fs::remove_dir_all(self.dir);
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn pg(db: &TestDb) -> PgPool {
    PgPool::connect(&db.url).await.expect("connect to the test database")
}

/// Columns, constraints, indexes, sequences and storage options of the public schema.
async fn schema_of(pool: &PgPool) -> String {
    sqlx::query_scalar(
        "SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
           SELECT format('column %s.%s %s null=%s default=%s identity=%s', table_name, column_name,
                         data_type, is_nullable, column_default, is_identity)
             FROM information_schema.columns WHERE table_schema = 'public'
           UNION ALL SELECT format('index %s', indexdef) FROM pg_indexes WHERE schemaname = 'public'
           UNION ALL SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
             FROM pg_constraint WHERE connamespace = 'public'::regnamespace
           UNION ALL SELECT format('sequence %s', sequencename) FROM pg_sequences WHERE schemaname = 'public'
           UNION ALL SELECT format('options %s %s', relname, reloptions) FROM pg_class
             WHERE relnamespace = 'public'::regnamespace AND reloptions IS NOT NULL
           UNION ALL SELECT format('schema %s', nspname) FROM pg_namespace WHERE nspname LIKE 'domaind%'
         ) t(x)",
    )
    .fetch_one(pool)
    .await
    .expect("schema")
}

/// Every row of `domains` (all columns but the two the database stamps), as text.
async fn rows_of(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT (to_jsonb(d) - 'created_at' - 'updated_at' - 'next_attempt_at')::text FROM domains d ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .expect("rows")
}

async fn row(pool: &PgPool, id: i64) -> Value {
    sqlx::query_scalar("SELECT to_jsonb(d) FROM domains d WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("row {id}: {e}"))
}

#[actix_web::test]
async fn adopt_takes_over_the_python_table_and_the_service_processes_its_rows() {
    if postgres_url().is_none() {
        return;
    }
    let db = TestDb::create(Db::Postgres).await;
    let pool = pg(&db).await;
    sqlx::raw_sql(PATTERN_TABLE)
        .execute(&pool)
        .await
        .expect("pattern table");
    sqlx::raw_sql(PATTERN_ROWS).execute(&pool).await.expect("pattern rows");
    let cli = Cli::new(&db.url, "main");

    let out = cli.run(&["migrate"]).await;
    assert!(
        !out.status.success(),
        "plain migrate must not run over the pattern's table"
    );
    assert!(stderr(&out).contains("migrate --adopt"), "{}", stderr(&out));

    let out = cli.run(&["migrate", "--adopt"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("adopt prints JSON");
    assert_eq!(report["rows"], 8, "{report}");
    assert_eq!(
        report["by_status"],
        json!({"pending": 4, "completed": 1, "error": 3}),
        "{report}"
    );
    assert_eq!(report["needs_attention"], 2, "{report}");
    assert_eq!(report["names_normalized"], 1, "{report}");
    assert_eq!(report["tenants"], json!({"default": 5, "t1": 2, "t2": 1}), "{report}");
    assert!(
        report["statuses"]
            .as_array()
            .unwrap()
            .contains(&json!({"from": "processing", "to": "pending", "rows": 1})),
        "{report}"
    );
    assert!(stderr(&out).contains("2 need attention"), "{}", stderr(&out));

    // Every row, with its id.
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM domains ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(ids, [3, 7, 12, 20, 25, 30, 31, 40]);

    // Abandoned `processing` is pending again, under its normalized name and tenant.
    let bravo = row(&pool, 7).await;
    assert_eq!(
        (&bravo["domain"], &bravo["tenant_id"], &bravo["status"]),
        (&json!("bravo-1.test"), &json!("t1"), &json!("pending"))
    );
    assert_eq!(bravo["processing_started_at"], "2024-03-01T11:59:00+00:00");
    assert!(bravo["lease_owner"].is_null() && bravo["attempts"] == 0, "{bravo}");
    for (id, status) in [(3, "pending"), (31, "pending"), (40, "pending")] {
        assert_eq!(row(&pool, id).await["status"], status, "row {id}");
    }
    assert_eq!(
        row(&pool, 31).await["tenant_id"],
        "default",
        "a blank tenant is `default`"
    );

    // Completed keeps its metadata verbatim and its naive UTC timestamps.
    let charlie = row(&pool, 12).await;
    assert_eq!(charlie["status"], "completed");
    assert_eq!(
        charlie["metadata"],
        json!({"title": "Old Charlie", "keywords": ["a", "b"]})
    );
    assert_eq!(charlie["last_processed"], "2024-03-01T12:00:00+00:00");
    assert_eq!(charlie["processing_completed_at"], "2024-03-01T12:00:00+00:00");

    // The pattern's error keeps its message; it was never classified.
    let notfound = row(&pool, 20).await;
    assert_eq!(
        (&notfound["status"], &notfound["error_message"], &notfound["error_kind"]),
        (&json!("error"), &json!("HTTP 404 Not Found"), &Value::Null)
    );

    // A name domaind refuses and an unknown status: kept, set aside, explained.
    let bad = row(&pool, 25).await;
    assert_eq!(
        (&bad["domain"], &bad["status"], &bad["error_kind"]),
        (&json!("not a domain!"), &json!("error"), &json!("adoption"))
    );
    assert!(
        bad["error_message"]
            .as_str()
            .unwrap()
            .contains("not a domain name domaind accepts"),
        "{bad}"
    );
    let archived = row(&pool, 30).await;
    assert_eq!(
        (&archived["status"], &archived["error_kind"]),
        (&json!("error"), &json!("adoption"))
    );
    assert!(
        archived["error_message"].as_str().unwrap().contains("'ARCHIVED'"),
        "{archived}"
    );

    // The schema is exactly what `domaind migrate` builds on an empty database.
    let fresh = TestDb::create(Db::Postgres).await;
    fresh.store().await.close().await;
    let fresh_pool = pg(&fresh).await;
    assert_eq!(schema_of(&pool).await, schema_of(&fresh_pool).await);
    fresh_pool.close().await;
    fresh.drop_db().await;

    // A second adopt refuses and a plain migrate is a no-op: nothing changes.
    let before = (schema_of(&pool).await, rows_of(&pool).await);
    let out = cli.run(&["migrate", "--adopt"]).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already managed by domaind"), "{}", stderr(&out));
    let out = cli.run(&["migrate"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!((schema_of(&pool).await, rows_of(&pool).await), before);

    // New inserts get ids past the adopted ones.
    let out = cli.run(&["add", "alpha-9.test"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let new_id: i64 = sqlx::query_scalar("SELECT id FROM domains WHERE domain = 'alpha-9.test'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(new_id, 41);

    // The service runs on the adopted database and processes the pending rows through the
    // pattern's own diagnostic endpoint.
    let app = spawn_app_on(&db.url, |_| {}).await;
    let (code, body) = app.process(20).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["message"], "Processed 5 domains: 5 successful, 0 failed", "{body}");
    let counts = app.store.count_by_status().await.unwrap();
    assert_eq!((counts["pending"], counts["completed"], counts["error"]), (0, 6, 3));
    assert_eq!(row(&pool, 7).await["metadata"]["title"], "Café Bravo");
    assert_eq!(
        row(&pool, 12).await["metadata"]["title"],
        "Old Charlie",
        "completed rows are not re-fetched"
    );
    assert_eq!(app.stop().await, 0);

    pool.close().await;
    cli.remove();
    db.drop_db().await;
}

#[actix_web::test]
async fn adopt_converts_enum_statuses_integer_tenants_and_text_metadata() {
    if postgres_url().is_none() {
        return;
    }
    let db = TestDb::create(Db::Postgres).await;
    let pool = pg(&db).await;
    // SQLAlchemy's `Enum(DomainStatus)` stores member names; a TimestampMixin adds the last two.
    sqlx::raw_sql(
        "CREATE TYPE domainstatus AS ENUM ('PENDING', 'PROCESSING', 'COMPLETED', 'ERROR');
         CREATE TABLE domains (
             id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
             domain TEXT UNIQUE,
             tenant_id INTEGER,
             status domainstatus NOT NULL DEFAULT 'PENDING',
             metadata TEXT,
             error_message TEXT,
             processing_started_at TIMESTAMP,
             processing_completed_at TIMESTAMP,
             last_processed TIMESTAMP,
             created_at TIMESTAMP NOT NULL DEFAULT now(),
             updated_at TIMESTAMP
         );
         INSERT INTO domains (domain, tenant_id, status, metadata, last_processed, created_at) VALUES
          ('alpha-1.test', 42, 'COMPLETED', '{\"title\": \"A\"}', '2024-06-01 14:00:00', '2024-05-01 10:00:00'),
          ('bravo-1.test', 42, 'COMPLETED', '{''title'': ''python repr''}', '2024-06-01 14:00:00', '2024-05-01 10:00:00'),
          ('charlie-1.test', NULL, 'PROCESSING', '', NULL, '2024-05-01 10:00:00'),
          (NULL, 7, 'ERROR', NULL, NULL, '2024-05-01 10:00:00'),
          ('ALPHA-1.TEST', 42, 'PENDING', NULL, NULL, '2024-05-01 10:00:00');",
    )
    .execute(&pool)
    .await
    .expect("pattern table");
    let cli = Cli::new(&db.url, "enum");

    let out = cli
        .run(&["migrate", "--adopt", "--source-timezone", "Europe/Berlin"])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("adopt prints JSON");
    assert_eq!(
        report["by_status"],
        json!({"pending": 1, "completed": 2, "error": 2}),
        "{report}"
    );
    assert_eq!(report["metadata_wrapped"], 1, "{report}");
    assert_eq!(report["next_id"], 6, "{report}");

    let alpha = row(&pool, 1).await;
    assert_eq!(
        (&alpha["tenant_id"], &alpha["metadata"]),
        (&json!("42"), &json!({"title": "A"}))
    );
    // 14:00 in Berlin (summer time) is 12:00 UTC.
    assert_eq!(alpha["last_processed"], "2024-06-01T12:00:00+00:00");
    assert_eq!(alpha["created_at"], "2024-05-01T08:00:00+00:00");
    assert_eq!(
        row(&pool, 2).await["metadata"],
        json!({"legacy_metadata": "{'title': 'python repr'}"}),
        "text that is not JSON is kept, not dropped"
    );
    let charlie = row(&pool, 3).await;
    assert_eq!(
        (&charlie["status"], &charlie["tenant_id"], &charlie["metadata"]),
        (&json!("pending"), &json!("default"), &Value::Null)
    );
    let nameless = row(&pool, 4).await;
    assert_eq!(
        (&nameless["domain"], &nameless["status"], &nameless["error_kind"]),
        (&json!(""), &json!("error"), &json!("adoption"))
    );
    // The same name in another spelling: set aside, the completed row keeps the name.
    let duplicate = row(&pool, 5).await;
    assert_eq!(
        (&duplicate["domain"], &duplicate["status"], &duplicate["error_kind"]),
        (&json!("ALPHA-1.TEST"), &json!("error"), &json!("adoption"))
    );
    assert!(
        duplicate["error_message"].as_str().unwrap().contains("row 1"),
        "{duplicate}"
    );

    let out = cli.run(&["add", "alpha-2.test"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let new_id: i64 = sqlx::query_scalar("SELECT id FROM domains WHERE domain = 'alpha-2.test'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(new_id, 6);

    pool.close().await;
    cli.remove();
    db.drop_db().await;
}

#[actix_web::test]
async fn adopt_refuses_sqlite_a_domaind_database_and_foreign_tables_without_changing_them() {
    // SQLite: a clear error, and the file stays empty.
    let lite = TestDb::create(Db::Sqlite).await;
    let cli = Cli::new(&lite.url, "sqlite");
    let out = cli.run(&["migrate", "--adopt"]).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("PostgreSQL only"), "{}", stderr(&out));
    let conn = sqlx::SqlitePool::connect(&lite.url).await.unwrap();
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master")
        .fetch_one(&conn)
        .await
        .unwrap();
    assert_eq!(tables, 0, "nothing was created");
    conn.close().await;
    cli.remove();
    lite.drop_db().await;

    if postgres_url().is_none() {
        return;
    }
    // Already domaind's: refused, schema and rows unchanged.
    let db = TestDb::create(Db::Postgres).await;
    let store = db.store().await;
    let names = [domaind::model::DomainName::parse("alpha-1.test").unwrap()];
    store.insert_domains("default", &names).await.unwrap();
    store.close().await;
    let pool = pg(&db).await;
    let before = (schema_of(&pool).await, rows_of(&pool).await);
    let cli = Cli::new(&db.url, "migrated");
    let out = cli.run(&["migrate", "--adopt"]).await;
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("already managed by domaind") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!((schema_of(&pool).await, rows_of(&pool).await), before);
    pool.close().await;
    cli.remove();
    db.drop_db().await;

    // No table at all, and a `domains` table that is someone else's: refused, nothing created.
    let db = TestDb::create(Db::Postgres).await;
    let pool = pg(&db).await;
    let cli = Cli::new(&db.url, "foreign");
    let out = cli.run(&["migrate", "--adopt"]).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no table `domains`"), "{}", stderr(&out));
    sqlx::raw_sql("CREATE TABLE domains (id SERIAL PRIMARY KEY, hostname TEXT, owner TEXT); INSERT INTO domains (hostname) VALUES ('x.example');")
        .execute(&pool)
        .await
        .unwrap();
    let before = schema_of(&pool).await;
    let out = cli.run(&["migrate", "--adopt"]).await;
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("does not look like the Python pattern's") && err.contains("domain, status"),
        "{err}"
    );
    assert_eq!(schema_of(&pool).await, before);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM domains")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
    pool.close().await;
    cli.remove();
    db.drop_db().await;
}

#[actix_web::test]
async fn a_failing_adoption_rolls_back_everything() {
    if postgres_url().is_none() {
        return;
    }
    let db = TestDb::create(Db::Postgres).await;
    let pool = pg(&db).await;
    sqlx::raw_sql(PATTERN_TABLE).execute(&pool).await.unwrap();
    sqlx::raw_sql(PATTERN_ROWS).execute(&pool).await.unwrap();
    // A view on the legacy table cannot survive the swap: adoption must fail as a whole.
    sqlx::raw_sql("CREATE VIEW pending_domains AS SELECT id, domain FROM domains WHERE status = 'pending'")
        .execute(&pool)
        .await
        .unwrap();
    let before = (schema_of(&pool).await, rows_of(&pool).await);
    let cli = Cli::new(&db.url, "rollback");
    let out = cli.run(&["migrate", "--adopt"]).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("rolled back"), "{}", stderr(&out));
    assert_eq!((schema_of(&pool).await, rows_of(&pool).await), before);
    let history: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(history, None, "no migration history was left behind");
    pool.close().await;
    cli.remove();
    db.drop_db().await;
}
