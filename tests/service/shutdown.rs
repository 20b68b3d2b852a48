//! The real binary, sent SIGTERM with rows in flight, exits 0: nothing stays `processing`,
//! every finished attempt is written, released attempts are not counted.

use std::process::{Command, Stdio};
use std::time::Duration;

use domaind::model::DomainName;

use crate::both_backends;
use crate::fixtures;
use crate::helpers::{eventually, Db, TestDb};

async fn sigterm_with_rows_in_flight_exits_cleanly(db: Db) {
    let fixture = fixtures::start();
    let test_db = TestDb::create(db).await;
    let store = test_db.store().await;
    let names: Vec<DomainName> = (0..120)
        .map(|i| DomainName::parse(&format!("{}-{i}.test", if i % 2 == 0 { "slow" } else { "alpha" })).unwrap())
        .collect();
    store.insert_domains("default", &names).await.unwrap();

    let dir = std::env::temp_dir().join(format!("domaind_sigterm_{}_{:?}", std::process::id(), db));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[database]
url = "{url}"
[http]
bind = "127.0.0.1:0"
[pipeline]
concurrency = 40
extractors = 2
parsers = 1
shutdown_grace_secs = 1
[fetch]
schemes = ["http"]
timeout_ms = 5000
[fetch.resolve_override]
"*.test" = "127.0.0.1:{port}"
[[scheduler.jobs]]
id = "process_pending_domains"
trigger = "interval"
spec = "100ms"
args = {{ limit = 1000 }}
"#,
            url = test_db.url,
            port = fixture.port
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_domaind"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start domaind");

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
