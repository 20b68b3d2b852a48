//! The real binary, sent SIGTERM with rows in flight, exits 0: nothing stays `processing`,
//! every finished attempt is written, released attempts are not counted. And `kill -9` then a
//! restart: every row finishes, claims come back within the lease, nothing is written twice.

use std::process::{Command, Stdio};
use std::time::Duration;

use domaind::model::DomainName;

use crate::both_backends;
use crate::fixtures;
use crate::helpers::{eventually, Db, KillOnDrop, TestDb};

async fn sigterm_with_rows_in_flight_exits_cleanly(db: Db) {
    let fixture = fixtures::start();
    let test_db = TestDb::create(db).await;
    let store = test_db.store().await;
    let names: Vec<DomainName> = (0..120)
        .map(|i| DomainName::parse(&format!("{}-{i}.test", if i % 2 == 0 { "slow" } else { "alpha" })).unwrap())
        .collect();
    store.insert_domains("default", &names).await.unwrap();

    let dir = std::env::temp_dir().join(format!("domaind_sigterm_{}_{:?}", std::process::id(), db));
    let pipeline = "concurrency = 40\nextractors = 2\nparsers = 1\nshutdown_grace_secs = 1";
    let config = serve_config(&dir, &test_db.url, fixture.port, pipeline, 5000, "");
    let mut guard = start_binary(&config, &dir.join("serve.log"));
    let child = &mut guard.0;

    // Wait until work is in flight and some of it finished.
    eventually(Duration::from_secs(30), "rows in flight and some completed", || async {
        let counts = store.count_by_status().await.unwrap();
        (counts["processing"] > 0 && counts["completed"] > 0).then_some(())
    })
    .await;
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = eventually(Duration::from_secs(30), "domaind exits after SIGTERM", || {
        let exited = child.try_wait().unwrap();
        async move { exited }
    })
    .await;
    assert_eq!(status.code(), Some(0), "exit status {status:?}");

    let counts = store.count_by_status().await.unwrap();
    assert_eq!(counts["processing"], 0, "{counts:?}");
    assert_eq!(counts["pending"] + counts["completed"], 120, "{counts:?}");
    for name in &names {
        let row = store.find_domain("default", name.as_str()).await.unwrap().unwrap();
        let attempts = store.attempts(row.id, 10).await.unwrap();
        match row.status.as_str() {
            // Every finished attempt was written...
            "completed" => {
                assert_eq!(row.attempts, 1);
                assert_eq!(attempts.len(), 1);
                assert!(row.metadata.is_some());
            }
            // ...and a released one is not counted, nor recorded as finished.
            "pending" => {
                assert_eq!(row.attempts, 0, "{}: released attempt was counted", row.domain);
                assert!(
                    attempts.iter().all(|a| a.outcome == "lost"),
                    "{}: {attempts:?}",
                    row.domain
                );
            }
            other => panic!("{} ended {other}", row.domain),
        }
    }
    fixture.stop().await;
    store.close().await;
    test_db.drop_db().await;
    let _ = std::fs::remove_dir_all(dir);
}
both_backends!(sigterm_with_rows_in_flight_exits_cleanly);

/// Writes `dir/config.toml` for the real binary: the fixture mapped for `*.test`, http only, a
/// drain every 100 ms, the given `[pipeline]` keys and fetch timeout, then `extra` TOML.
fn serve_config(
    dir: &std::path::Path,
    db_url: &str,
    fixture_port: u16,
    pipeline: &str,
    fetch_timeout_ms: u64,
    extra: &str,
) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[database]
url = "{db_url}"
[http]
bind = "127.0.0.1:0"
[pipeline]
{pipeline}
[fetch]
schemes = ["http"]
timeout_ms = {fetch_timeout_ms}
[fetch.resolve_override]
"*.test" = "127.0.0.1:{fixture_port}"
[[scheduler.jobs]]
id = "process_pending_domains"
trigger = "interval"
spec = "100ms"
args = {{ limit = 1000 }}
{extra}
"#
        ),
    )
    .unwrap();
    config
}

/// A config for crash tests: short domain and leader leases (the reaper runs on the leader, so
/// a dead leader's claims wait for max(lease, leader lease) + the reaper interval) and a reaper
/// every second.
fn crash_config(dir: &std::path::Path, db_url: &str, fixture_port: u16) -> std::path::PathBuf {
    let extra = "[[scheduler.jobs]]\nid = \"reclaim_expired_leases\"\ntrigger = \"interval\"\nspec = \"1s\"\n\
                 [scheduler]\nleader_ttl_secs = 3";
    serve_config(
        dir,
        db_url,
        fixture_port,
        "concurrency = 64\nlease_secs = 3",
        2000,
        extra,
    )
}

/// Starts `serve`, its stderr in `log`.
fn start_binary(config: &std::path::Path, log: &std::path::Path) -> KillOnDrop {
    KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_domaind"))
            .args(["--config", config.to_str().unwrap(), "serve"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .expect("start domaind"),
    )
}

/// Fails the test at once, with the child's log, when it exited on its own.
fn assert_running(child: &mut KillOnDrop, log: &std::path::Path) {
    if let Some(status) = child.0.try_wait().unwrap() {
        panic!(
            "domaind exited ({status}): {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }
}

/// `kill -9` with thousands of rows pending and dozens in flight, then a restart: every row
/// ends `completed`, the dead instance's claims come back within lease + reaper interval, no
/// claim's result is written twice, and attempts count the dead claims honestly.
async fn kill_9_mid_run_then_restart_finishes_every_row(db: Db) {
    let fixture = fixtures::start();
    let test_db = TestDb::create(db).await;
    let store = test_db.store().await;
    // Every 20th site is slow (1.8 s), so the kill always finds work in flight.
    let names: Vec<DomainName> = (0..2000)
        .map(|i| DomainName::parse(&format!("{}-k9-{i}.test", if i % 20 == 0 { "slow" } else { "charlie" })).unwrap())
        .collect();
    store.insert_domains("default", &names).await.unwrap();
    let dir = std::env::temp_dir().join(format!("domaind_kill9_{}_{:?}", std::process::id(), db));
    let config = crash_config(&dir, &test_db.url, fixture.port);

    let log = dir.join("first.log");
    let mut first = start_binary(&config, &log);
    eventually(Duration::from_secs(60), "a run under way", || {
        assert_running(&mut first, &log);
        let store = &store;
        async move {
            let counts = store.count_by_status().await.unwrap();
            (counts["processing"] >= 10 && counts["completed"] >= 200).then_some(())
        }
    })
    .await;
    first.0.kill().expect("kill -9");
    first.0.wait().unwrap();
    let killed_at = std::time::Instant::now();
    // What the dead instance held: its claims stay `processing` until their leases run out.
    let mut orphans = Vec::new();
    for name in &names {
        let row = store.find_domain("default", name.as_str()).await.unwrap().unwrap();
        if row.status == "processing" {
            orphans.push((row.id, row.claim_token, row.attempts));
        }
    }
    assert!(!orphans.is_empty(), "nothing was in flight at the kill");

    let log = dir.join("second.log");
    let mut second = start_binary(&config, &log);
    eventually(Duration::from_secs(15), "the dead instance's claims reclaimed", || {
        assert_running(&mut second, &log);
        let (store, orphans) = (&store, &orphans);
        async move {
            for (id, token, _) in orphans {
                let row = store.get_domain(*id).await.unwrap().unwrap();
                if row.status == "processing" && row.claim_token == *token {
                    return None;
                }
            }
            Some(())
        }
    })
    .await;
    // max(lease, leader lease) (3 s) + reaper interval (1 s) + the restart, with room for a loaded machine.
    assert!(
        killed_at.elapsed() < Duration::from_secs(12),
        "reclaimed after {:?}",
        killed_at.elapsed()
    );
    let counts = eventually(
        Duration::from_secs(120),
        "every row completed after the restart",
        || async {
            let counts = store.count_by_status().await.unwrap();
            (counts["completed"] == 2000).then_some(counts)
        },
    )
    .await;
    assert_eq!(
        counts["processing"] + counts["pending"] + counts["error"],
        0,
        "{counts:?}"
    );
    let kill = Command::new("kill")
        .args(["-TERM", &second.0.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    assert!(second.0.wait().unwrap().success());

    let orphan_ids: std::collections::HashMap<i64, i32> = orphans.iter().map(|(id, _, a)| (*id, *a)).collect();
    for name in &names {
        let row = store.find_domain("default", name.as_str()).await.unwrap().unwrap();
        let written: Vec<_> = store
            .attempts(row.id, 10)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.outcome != "lost")
            .collect();
        // One result per row: the dead claim wrote nothing, the new one wrote once.
        assert_eq!(written.len(), 1, "{}: {written:?}", row.domain);
        match orphan_ids.get(&row.id) {
            // The dead claim counts as an attempt; the retry is the next one.
            Some(at_kill) => assert_eq!(row.attempts, at_kill + 1, "{}", row.domain),
            None => assert_eq!(row.attempts, 1, "{}", row.domain),
        }
    }
    fixture.stop().await;
    store.close().await;
    test_db.drop_db().await;
    let _ = std::fs::remove_dir_all(dir);
}
both_backends!(kill_9_mid_run_then_restart_finishes_every_row);

/// Three instances on one PostgreSQL database, one of them killed with `kill -9` mid-run: the
/// other two reclaim its claims within max(lease, leader lease) + reaper interval (whether or
/// not it was the leader) and finish every row; no claim's result is written twice.
#[actix_web::test]
async fn kill_9_of_one_instance_of_three_the_others_take_over() {
    if crate::helpers::postgres_url().is_none() {
        return;
    }
    let fixture = fixtures::start();
    let test_db = TestDb::create(Db::Postgres).await;
    let store = test_db.store().await;
    let names: Vec<DomainName> = (0..3000)
        .map(|i| {
            DomainName::parse(&format!(
                "{}-trio9-{i}.test",
                if i % 15 == 0 { "slow" } else { "bravo" }
            ))
            .unwrap()
        })
        .collect();
    store.insert_domains("default", &names).await.unwrap();
    let dir = std::env::temp_dir().join(format!("domaind_trio9_{}", std::process::id()));
    let config = crash_config(&dir, &test_db.url, fixture.port);
    let logs: Vec<_> = (0..3).map(|i| dir.join(format!("instance-{i}.log"))).collect();
    let mut instances: Vec<KillOnDrop> = logs.iter().map(|log| start_binary(&config, log)).collect();
    let pool = sqlx::PgPool::connect(&test_db.url).await.unwrap();
    // Wait until all three hold claims, then kill the first one that does.
    let owners: Vec<String> = eventually(Duration::from_secs(60), "three instances claiming", || {
        for (child, log) in instances.iter_mut().zip(&logs) {
            assert_running(child, log);
        }
        let pool = &pool;
        async move {
            let owners: Vec<String> =
                sqlx::query_scalar("SELECT DISTINCT lease_owner FROM domains WHERE status = 'processing' ORDER BY 1")
                    .fetch_all(pool)
                    .await
                    .unwrap();
            (owners.len() == 3).then_some(owners)
        }
    })
    .await;
    let victim = instances.remove(0);
    let victim_pid = victim.0.id();
    drop(victim); // SIGKILL and reap
    let killed_at = std::time::Instant::now();
    // Its id is hostname-pid-random: find its claims by pid.
    let dead = owners
        .iter()
        .find(|o| o.split('-').any(|part| part == victim_pid.to_string()))
        .cloned()
        .unwrap_or_else(|| panic!("no owner id with pid {victim_pid} among {owners:?}"));
    let orphans: Vec<(i64, i64)> =
        sqlx::query_as("SELECT id, claim_token FROM domains WHERE status = 'processing' AND lease_owner = $1")
            .bind(&dead)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(!orphans.is_empty(), "the killed instance held no claims");
    eventually(
        Duration::from_secs(20),
        "the killed instance's claims reclaimed",
        || {
            let pool = &pool;
            let dead = &dead;
            async move {
                let left: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM domains WHERE status = 'processing' AND lease_owner = $1")
                        .bind(dead)
                        .fetch_one(pool)
                        .await
                        .unwrap();
                (left == 0).then_some(())
            }
        },
    )
    .await;
    assert!(
        killed_at.elapsed() < Duration::from_secs(12),
        "reclaimed after {:?}",
        killed_at.elapsed()
    );
    eventually(
        Duration::from_secs(120),
        "every row completed by the survivors",
        || async { (store.count_by_status().await.unwrap()["completed"] == 3000).then_some(()) },
    )
    .await;
    let written_twice: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT domain_id FROM domain_attempts WHERE outcome <> 'lost'
         GROUP BY domain_id HAVING COUNT(*) > 1) d",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(written_twice, 0, "a domain's result was written twice");
    for mut survivor in instances {
        let kill = Command::new("kill")
            .args(["-TERM", &survivor.0.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        assert!(survivor.0.wait().unwrap().success());
    }
    pool.close().await;
    fixture.stop().await;
    store.close().await;
    test_db.drop_db().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// A handler that blocks the actor system's thread stops every actor, the Supervisor included,
/// so no liveness ping can even be sent: the watchdog thread notices the missing heartbeats
/// and escalates — readiness 503 (HTTP workers have threads of their own), then, since the
/// graceful shutdown cannot run on the blocked thread, it releases this instance's leases
/// itself and exits with code 1 for the process manager to restart it.
#[actix_web::test]
async fn a_blocked_actor_system_is_escalated_by_the_watchdog() {
    let fixture = fixtures::start();
    let test_db = TestDb::create(Db::Sqlite).await;
    let store = test_db.store().await;
    let mut names: Vec<DomainName> = (0..60)
        .map(|i| DomainName::parse(&format!("slow-watchdog-{i}.test")).unwrap())
        .collect();
    // The writer blocks its thread (for 10 minutes) when this domain's outcome arrives.
    names.push(DomainName::parse("alpha-fault-writer-block-1.test").unwrap());
    store.insert_domains("default", &names).await.unwrap();

    let receiver = crate::alerts::Receiver::start(0);
    let dir = std::env::temp_dir().join(format!("domaind_watchdog_{}", std::process::id()));
    let extra = format!(
        "[supervisor]\nping_interval_ms = 200\nliveness_timeout_secs = 4\n[alerts]\nwebhook_url = \"{}\"",
        receiver.url
    );
    let config = serve_config(
        &dir,
        &test_db.url,
        fixture.port,
        "shutdown_grace_secs = 1",
        5000,
        &extra,
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.join("serve.log");
    let mut guard = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_domaind"))
            .args(["--config", config.to_str().unwrap(), "serve"])
            .env("DOMAIND_HTTP__BIND", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start domaind"),
    );
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let ready = || async {
        let url = format!("http://127.0.0.1:{port}/health/ready");
        client.get(url).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
    };
    eventually(Duration::from_secs(30), "domaind ready", || async {
        (ready().await == 200).then_some(())
    })
    .await;
    let started = std::time::Instant::now();
    let seen_503 = std::cell::Cell::new(false);
    let status = eventually(
        Duration::from_secs(40),
        "domaind exits after the watchdog escalates",
        || {
            let exited = guard.0.try_wait().unwrap();
            let seen_503 = &seen_503;
            let ready = &ready;
            async move {
                if exited.is_none() && ready().await == 503 {
                    seen_503.set(true);
                }
                exited
            }
        },
    )
    .await;
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(status.code(), Some(1), "exit status {status:?}: {log_text}");
    assert!(
        seen_503.get(),
        "readiness never reported 503 before the exit: {log_text}"
    );
    assert!(
        log_text.contains("watchdog: the actor system stopped answering"),
        "{log_text}"
    );
    // Liveness timeout (4 s) + grace (1 s) + 2 s, plus the time to reach the blocking outcome.
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "took {:?}",
        started.elapsed()
    );
    // The escalation alert went out although the actor system's thread was blocked.
    let alert = receiver.wait_for("escalation", Duration::from_secs(1)).await;
    let message = alert["message"].as_str().unwrap_or("");
    assert!(message.contains("the actor system has not run for"), "{alert}");
    // The watchdog released the leases: nothing waits for a lease to expire.
    let counts = store.count_by_status().await.unwrap();
    assert_eq!(counts["processing"], 0, "{counts:?}\n{log_text}");
    assert_eq!(counts["pending"] + counts["completed"], 61, "{counts:?}");
    fixture.stop().await;
    store.close().await;
    test_db.drop_db().await;
    let _ = std::fs::remove_dir_all(dir);
}
