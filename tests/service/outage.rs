//! Database trouble mid-run: PostgreSQL reached through an in-test TCP proxy that is cut and
//! restored (the service stays up, readiness goes 503 then 200, buffered outcomes are written
//! after reconnection, nothing is lost or stuck), and a SQLite file held locked by another
//! connection (writes wait and retry; nothing is lost).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::{eventually, postgres_url, spawn_app_on, Db, TestApp, TestDb};

/// A TCP forwarder to `upstream` that can be cut (every open connection closed, new ones
/// dropped at once) and restored.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    cuts: watch::Sender<u64>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy addr").port();
        let up = Arc::new(AtomicBool::new(true));
        let (cuts, _) = watch::channel(0u64);
        let (accept_up, accept_cuts) = (up.clone(), cuts.clone());
        actix_rt::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accept_up.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused as soon as it is made
                }
                let mut cut = accept_cuts.subscribe();
                let upstream = upstream.clone();
                actix_rt::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Proxy { port, up, cuts }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

async fn ready(app: &TestApp) -> u16 {
    app.client
        .get(format!("{}/health/ready", app.address))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

fn names(prefix: &str, n: usize) -> Vec<domaind::model::DomainName> {
    (0..n)
        .map(|i| domaind::model::DomainName::parse(&format!("{prefix}-{i}.test")).unwrap())
        .collect()
}

#[actix_web::test]
async fn a_database_outage_mid_run_loses_nothing() {
    if postgres_url().is_none() {
        return;
    }
    let test_db = TestDb::create(Db::Postgres).await;
    let direct = test_db.store().await;
    let mut url = url::Url::parse(&test_db.url).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = Proxy::start(upstream).await;
    url.set_port(Some(proxy.port)).unwrap();
    let app = spawn_app_on(url.as_str(), |s| {
        s.database.acquire_timeout_ms = 1000;
        s.pipeline.concurrency = 32;
        // Longer than the outage: the buffered results still own their rows when it ends.
        s.pipeline.lease_secs = 30;
        s.scheduler.jobs[0].spec = "200ms".into();
    })
    .await;
    // Slow sites (claimed first: oldest first) keep results in flight across the cut; fast
    // ones keep the writer busy.
    direct
        .insert_domains("default", &names("slow-outage", 20))
        .await
        .unwrap();
    direct
        .insert_domains("default", &names("charlie-outage", 300))
        .await
        .unwrap();
    eventually(
        Duration::from_secs(20),
        "the slow sites in flight before the cut",
        || async {
            let c = direct.count_by_status().await.unwrap();
            (c["processing"] >= 20).then_some(())
        },
    )
    .await;

    let cut_at = chrono::Utc::now();
    let parsed_at_cut = app.metrics().extract_seconds.count();
    proxy.cut();
    eventually(
        Duration::from_secs(15),
        "readiness 503 while the database is away",
        || async { (ready(&app).await == 503).then_some(()) },
    )
    .await;
    let (code, _) = app.get("/health/live").await;
    assert_eq!(code, 200, "the process stays up");
    let (code, status) = app.get("/api/v1/status").await;
    assert_eq!(code, 200, "status answers without the database: {status}");
    assert!(status["database_error"].is_string(), "{status}");
    // The slow sites in flight finish while the database is unreachable: their results wait
    // in the writer.
    eventually(
        Duration::from_secs(15),
        "20 results finished during the outage",
        || async { (app.metrics().extract_seconds.count() >= parsed_at_cut + 20).then_some(()) },
    )
    .await;

    let restored_at = chrono::Utc::now();
    proxy.restore();
    eventually(Duration::from_secs(20), "readiness 200 after reconnection", || async {
        (ready(&app).await == 200).then_some(())
    })
    .await;
    let counts = eventually(Duration::from_secs(60), "every row finished", || async {
        let c = direct.count_by_status().await.unwrap();
        (c["completed"] == 320).then_some(c)
    })
    .await;
    assert_eq!(
        (counts["pending"], counts["processing"], counts["error"]),
        (0, 0, 0),
        "{counts:?}"
    );
    let pool = sqlx::PgPool::connect(&test_db.url).await.unwrap();
    // Every claim's result was stored once: no attempt beyond the rows' own attempt counts.
    let (attempt_rows, claims): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM domain_attempts), (SELECT COALESCE(SUM(attempts), 0) FROM domains)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        attempt_rows <= claims,
        "{attempt_rows} attempts recorded for {claims} claims"
    );
    assert!(attempt_rows >= 320, "{attempt_rows} attempts for 320 finished rows");
    // Results finished while the database was away were buffered and written afterwards.
    let buffered: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM domain_attempts WHERE finished_at > $1 AND finished_at < $2")
            .bind(cut_at)
            .bind(restored_at)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(
        buffered > 0,
        "no result finished during the outage: the test did not cut mid-run"
    );
    pool.close().await;
    assert_eq!(app.stop().await, 0);
    direct.close().await;
    test_db.drop_db().await;
}

#[actix_web::test]
async fn a_locked_sqlite_file_delays_writes_and_loses_nothing() {
    use sqlx::Connection;
    let test_db = TestDb::create(Db::Sqlite).await;
    let direct = test_db.store().await;
    let app = spawn_app_on(&test_db.url, |s| {
        s.scheduler.jobs[0].spec = "200ms".into();
    })
    .await;
    direct
        .insert_domains("default", &names("charlie-locked", 200))
        .await
        .unwrap();
    direct
        .insert_domains("default", &names("slow-locked", 20))
        .await
        .unwrap();
    eventually(Duration::from_secs(20), "first results written", || async {
        (direct.count_by_status().await.unwrap()["completed"] > 0).then_some(())
    })
    .await;
    // Another process's exclusive transaction: every writer waits behind it.
    let mut locker = sqlx::SqliteConnection::connect(&test_db.url).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut locker).await.unwrap();
    let (locked_at, parsed_at_lock) = (std::time::Instant::now(), app.metrics().extract_seconds.count());
    let at_lock = direct.count_by_status().await.unwrap();
    assert!(
        at_lock["processing"] > 0,
        "nothing in flight when the lock was taken: {at_lock:?}"
    );
    // Hold the lock until the writer's 5 s busy timeout has run out at least once (SQLite's busy
    // timeout is wall-clock: no clock to inject), and until more pages were parsed behind it when
    // any were still being fetched. The rows in flight at the lock may all be parsed already and
    // waiting for the writer: then no further result can appear until the lock goes, so after 8 s
    // the test stops waiting for one.
    eventually(
        Duration::from_secs(30),
        "the lock held past the busy timeout",
        || async {
            let more_results = app.metrics().extract_seconds.count() > parsed_at_lock;
            let held = locked_at.elapsed();
            (held > Duration::from_millis(5500) && (more_results || held > Duration::from_secs(8))).then_some(())
        },
    )
    .await;
    let under_lock = direct.count_by_status().await.unwrap();
    assert_eq!(
        under_lock["completed"], at_lock["completed"],
        "a write got past the lock"
    );
    sqlx::query("COMMIT").execute(&mut locker).await.unwrap();
    drop(locker);
    let counts = eventually(Duration::from_secs(60), "every row finished", || async {
        let c = direct.count_by_status().await.unwrap();
        (c["completed"] == 220).then_some(c)
    })
    .await;
    assert_eq!(
        (counts["pending"], counts["processing"], counts["error"]),
        (0, 0, 0),
        "{counts:?}"
    );
    assert_eq!(ready(&app).await, 200);
    assert_eq!(app.stop().await, 0);
    direct.close().await;
    test_db.drop_db().await;
}
