//! `spawn_app`: a fresh database per test (a SQLite file, or a new PostgreSQL database on the
//! server in `DOMAIND_TEST_DATABASE_URL`), the service on port 0 against a fixture server, and
//! a `TestApp` with one method per endpoint. Logs only with `TEST_LOG=1`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use domaind::settings::Settings;
use domaind::startup::Application;
use domaind::store::{DomainRow, Store};
use serde_json::Value;

use crate::fixtures::{self, Fixture};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Defines `sqlite` and `postgres` test functions running the same scenario.
#[macro_export]
macro_rules! both_backends {
    ($scenario:ident) => {
        mod $scenario {
            #[actix_web::test]
            async fn sqlite() {
                super::$scenario($crate::helpers::Db::Sqlite).await;
            }
            #[actix_web::test]
            async fn postgres() {
                if $crate::helpers::postgres_url().is_some() {
                    super::$scenario($crate::helpers::Db::Postgres).await;
                }
            }
        }
    };
}

/// The PostgreSQL server URL, or None to skip (a failure when DOMAIND_TEST_REQUIRE_POSTGRES=1).
pub fn postgres_url() -> Option<String> {
    match std::env::var("DOMAIND_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("DOMAIND_TEST_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("DOMAIND_TEST_REQUIRE_POSTGRES=1 but DOMAIND_TEST_DATABASE_URL is not set");
            }
            eprintln!("skipping PostgreSQL variant: DOMAIND_TEST_DATABASE_URL is not set");
            None
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// A database created for one test; dropped by `drop_db`.
pub struct TestDb {
    pub url: String,
    pg_admin: Option<(String, String)>,
    dir: Option<std::path::PathBuf>,
}

impl TestDb {
    /// Creates a fresh, empty database.
    pub async fn create(db: Db) -> TestDb {
        match db {
            Db::Sqlite => {
                let dir = std::env::temp_dir().join(unique("domaind_test"));
                std::fs::create_dir_all(&dir).expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.join("test.db").display());
                TestDb {
                    url,
                    pg_admin: None,
                    dir: Some(dir),
                }
            }
            Db::Postgres => {
                use sqlx::Connection;
                let server = postgres_url().expect("postgres url");
                let name = unique("domaind_test");
                let mut conn = sqlx::PgConnection::connect(&server)
                    .await
                    .expect("connect to DOMAIND_TEST_DATABASE_URL");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create database");
                let mut url = url::Url::parse(&server).expect("server url");
                url.set_path(&name);
                TestDb {
                    url: url.to_string(),
                    pg_admin: Some((server, name)),
                    dir: None,
                }
            }
        }
    }

    /// Removes the database.
    pub async fn drop_db(self) {
        if let Some((server, name)) = self.pg_admin {
            use sqlx::Connection;
            if let Ok(mut conn) = sqlx::PgConnection::connect(&server).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        }
        if let Some(dir) = self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// A store on this database (migrated).
    pub async fn store(&self) -> Store {
        let mut settings = Settings::default();
        settings.database.url = self.url.clone();
        let store = Store::connect(&settings.database).await.expect("connect test db");
        store.migrate().await.expect("migrate test db");
        store
    }
}

/// Polls `probe` until it yields a value (every 20 ms), or fails the test after `within`
/// naming `what`. The one place tests wait for something to happen: on a condition, never for
/// a fixed time.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Settings for a test: the fixture mapped for `*.test`, http only, port 0, fast writer, and a
/// scheduler that never fires on its own (tests opt in with `schedule_every`).
pub fn test_settings(db_url: &str, fixture: &Fixture) -> Settings {
    let toml = format!(
        r#"
[database]
url = "{db_url}"
[http]
bind = "127.0.0.1:0"
[pipeline]
concurrency = 64
extractors = 4
parsers = 2
lease_secs = 10
shutdown_grace_secs = 5
[writer]
batch_size = 50
flush_ms = 20
[fetch]
schemes = ["http"]
timeout_ms = 5000
max_body_bytes = 100000
[fetch.resolve_override]
"*.test" = "127.0.0.1:{port}"
"*.refused.test" = "127.0.0.1:{closed}"
"*.fallback.test" = {{ https = "127.0.0.1:{closed}", http = "127.0.0.1:{port}" }}
[[scheduler.jobs]]
id = "process_pending_domains"
trigger = "interval"
spec = "1h"
args = {{ limit = 1000 }}
[[scheduler.jobs]]
id = "reclaim_expired_leases"
trigger = "interval"
spec = "1s"
"#,
        port = fixture.port,
        closed = fixture.closed_port,
    );
    Settings::from_sources(&toml, Vec::new()).expect("test settings")
}

/// A running service, its database and its fixture web.
pub struct TestApp {
    pub address: String,
    pub store: Store,
    pub fixture: Fixture,
    pub client: reqwest::Client,
    pub db: Option<TestDb>,
    state: std::sync::Arc<domaind::actors::ServiceState>,
    running: Option<actix_rt::task::JoinHandle<anyhow::Result<i32>>>,
}

fn init_logs() {
    if std::env::var("TEST_LOG").is_ok() {
        domaind::telemetry::init(domaind::telemetry::LogFormat::Text);
    }
}

/// Starts the service on a fresh database; `customize` adjusts settings first.
pub async fn spawn_app_with(db: Db, customize: impl FnOnce(&mut Settings)) -> TestApp {
    let test_db = TestDb::create(db).await;
    let mut app = spawn_app_on(&test_db.url, customize).await;
    app.db = Some(test_db);
    app
}

/// Starts another service instance on an existing database (the caller drops it).
pub async fn spawn_app_on(db_url: &str, customize: impl FnOnce(&mut Settings)) -> TestApp {
    init_logs();
    let fixture = fixtures::start();
    let mut settings = test_settings(db_url, &fixture);
    customize(&mut settings);
    settings.validate().expect("customized settings are valid");
    let app = Application::build(settings).await.expect("build application");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    let running = actix_rt::spawn(app.run_until_stopped());
    let mut db_settings = Settings::default();
    db_settings.database.url = db_url.to_string();
    let store = Store::connect(&db_settings.database).await.expect("connect test db");
    TestApp {
        address,
        store,
        fixture,
        client: reqwest::Client::builder().no_proxy().build().expect("client"),
        db: None,
        state,
        running: Some(running),
    }
}

/// The admin token of `spawn_app_with_tokens` (sees every tenant).
pub const ADMIN_TOKEN: &str = "admin-token-0123456789";
/// The token of `spawn_app_with_tokens` bound to tenant `t1`.
pub const T1_TOKEN: &str = "t1-token-0123456789";

/// Starts the service with an admin token and a token bound to tenant `t1`.
pub async fn spawn_app_with_tokens(db: Db) -> TestApp {
    spawn_app_with(db, |s| {
        s.http.token = ADMIN_TOKEN.into();
        s.http.tokens = vec![domaind::settings::TokenSettings {
            token: T1_TOKEN.into(),
            tenant: Some("t1".into()),
        }];
    })
    .await
}

/// Starts the service with the default test settings.
pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

impl TestApp {
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("GET");
        let status = r.status().as_u16();
        let body = r.text().await.expect("body");
        (
            status,
            serde_json::from_str(&body).unwrap_or_else(|_| panic!("GET {path}: not JSON: {body:?}")),
        )
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.address))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST");
        let status = r.status().as_u16();
        let body = r.text().await.expect("body");
        (
            status,
            serde_json::from_str(&body).unwrap_or_else(|_| panic!("POST {path}: not JSON: {body:?}")),
        )
    }

    pub async fn post(&self, path: &str) -> (u16, Value) {
        self.post_raw(path, "application/json", "").await
    }

    pub fn instance(&self) -> String {
        self.state.instance.clone()
    }

    /// The service's own metrics, read in-process (work observed without the database).
    pub fn metrics(&self) -> &domaind::metrics::Metrics {
        &self.state.metrics
    }

    pub async fn add_domains(&self, domains: &[String]) -> (u16, Value) {
        let body = serde_json::json!({ "domains": domains }).to_string();
        self.post_raw("/api/v1/domains", "application/json", body).await
    }

    pub async fn process(&self, limit: usize) -> (u16, Value) {
        self.get(&format!("/api/v3/dev/process-pending-domains?limit={limit}"))
            .await
    }

    /// Starts a dev-endpoint pass without waiting for its answer: for passes the service may
    /// never answer normally (it shuts down under them).
    pub fn process_detached(&self, limit: usize) {
        let pass = self
            .client
            .get(format!(
                "{}/api/v3/dev/process-pending-domains?limit={limit}",
                self.address
            ))
            .send();
        actix_rt::spawn(async move {
            let _ = pass.await;
        });
    }

    pub async fn status(&self) -> Value {
        self.get("/api/v1/status").await.1
    }

    pub async fn row(&self, domain: &str) -> DomainRow {
        self.store
            .find_domain("default", domain)
            .await
            .expect("query")
            .unwrap_or_else(|| panic!("no row {domain}"))
    }

    /// Waits until no row is pending or processing.
    pub async fn wait_until_settled(&self, within: Duration) {
        eventually(within, "rows settle (none pending or processing)", || async {
            let counts = self.store.count_by_status().await.expect("counts");
            (counts["pending"] == 0 && counts["processing"] == 0).then_some(())
        })
        .await
    }

    /// Graceful stop; returns the exit code; drops the database.
    pub async fn stop(mut self) -> i32 {
        self.state.request_stop();
        let code = self.running.take().expect("running").await.expect("join").expect("run");
        self.fixture.stop().await;
        self.store.close().await;
        if let Some(db) = self.db.take() {
            db.drop_db().await;
        }
        code
    }
}

/// A child process killed (SIGKILL) and reaped when dropped, so a failing test never leaves a
/// service running (and holding whatever it inherited).
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
