//! A panic while processing a domain — in the async path or in a parser thread — fails only
//! that attempt (`internal`), restarts the actor or thread, and the pool is back to full size;
//! a parser stuck past its deadline fails its domain and is replaced, and too many stuck at once
//! escalate.

use domaind::faults::{panic_on, Stage};

use crate::both_backends;
use crate::helpers::{eventually, spawn_app_with, Db};

async fn injected_panics_fail_one_attempt_and_restart_the_worker(db: Db) {
    // One attempt only: the crashed attempt must be final here (retries are tested elsewhere).
    let app = spawn_app_with(db, |s| s.retry.max_attempts = 1).await;
    // Names are unique per backend: the fault registry is shared by every test in this binary.
    let tag = format!("{db:?}").to_lowercase();
    let async_boom = format!("alpha-boom-async-{tag}.test");
    let parser_boom = format!("alpha-boom-parser-{tag}.test");
    panic_on(&async_boom, Stage::Async);
    panic_on(&parser_boom, Stage::Parser);
    let mut names: Vec<String> = (0..20).map(|i| format!("charlie-{i}.test")).collect();
    names.insert(5, async_boom.clone());
    names.insert(12, parser_boom.clone());
    app.add_domains(&names).await;

    let (code, body) = app.process(100).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["results"]["processed"], 22, "{body}");
    assert_eq!(body["results"]["successful"], 20, "{body}");
    assert_eq!(body["results"]["failed"], 2, "{body}");

    for (domain, text) in [(&async_boom, "worker panicked"), (&parser_boom, "parser crashed")] {
        let row = app.row(domain).await;
        assert_eq!(row.status, "error");
        assert_eq!(row.error_kind.as_deref(), Some("internal"));
        assert!(
            row.error_message.as_deref().unwrap_or("").contains(text),
            "{:?}",
            row.error_message
        );
    }

    // Restarts are visible, and every extractor and parser thread is running again.
    let within = std::time::Duration::from_secs(5);
    let status = eventually(within, "pool back to full size", || async {
        let status = app.status().await;
        let running = |prefix: &str| {
            status["actors"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["name"].as_str().unwrap().starts_with(prefix) && a["state"] == "running")
                .count()
        };
        (running("extractor-") == 4 && running("parser-") == 2).then_some(status)
    })
    .await;
    let restarts = |prefix: &str| -> u64 {
        status["actors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["name"].as_str().unwrap().starts_with(prefix))
            .map(|a| a["restarts"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(restarts("extractor-"), 1, "{status}");
    assert_eq!(restarts("parser-"), 1, "{status}");
    assert_eq!(status["restarts_total"], 2);

    // The pipeline keeps working after the restarts.
    app.add_domains(&["bravo-after.test".to_string()]).await;
    let (_, body) = app.process(5).await;
    assert_eq!(body["results"]["successful"], 1, "{body}");
    assert_eq!(app.stop().await, 0);
}
both_backends!(injected_panics_fail_one_attempt_and_restart_the_worker);

async fn a_poison_pill_ends_in_error_after_max_attempts(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.retry.max_attempts = 3;
        s.retry.base_delay_secs = 0;
        s.scheduler.jobs[0].spec = "100ms".into();
    })
    .await;
    let tag = format!("{db:?}").to_lowercase();
    let pill = format!("alpha-poison-{tag}.test");
    panic_on(&pill, Stage::Parser);
    app.add_domains(std::slice::from_ref(&pill)).await;
    app.wait_until_settled(std::time::Duration::from_secs(15)).await;
    let row = app.row(&pill).await;
    assert_eq!(
        (row.status.as_str(), row.attempts),
        ("error", 3),
        "{:?}",
        row.error_message
    );
    assert_eq!(row.error_kind.as_deref(), Some("internal"));
    let outcomes: Vec<String> = app
        .store
        .attempts(row.id, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.outcome)
        .collect();
    assert_eq!(outcomes, ["failed", "retry", "retry"]);
    assert_eq!(app.stop().await, 0);
}
both_backends!(a_poison_pill_ends_in_error_after_max_attempts);

/// Parsers busy and their names' restart counts, from `/api/v1/status`.
fn parser_threads(status: &serde_json::Value) -> (usize, u64) {
    let parsers: Vec<&serde_json::Value> = status["actors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["name"].as_str().unwrap().starts_with("parser-"))
        .collect();
    let running = parsers.iter().filter(|a| a["state"] == "running").count();
    (running, parsers.iter().map(|a| a["restarts"].as_u64().unwrap()).sum())
}

#[actix_web::test]
async fn a_parser_stuck_past_its_deadline_fails_its_domain_and_is_replaced() {
    let app = spawn_app_with(Db::Sqlite, |s| {
        s.pipeline.parsers = 2;
        s.pipeline.parse_deadline_ms = 300;
        s.retry.max_attempts = 2;
        s.retry.base_delay_secs = 0;
        s.scheduler.jobs[0].spec = "100ms".into();
    })
    .await;
    let stuck = "alpha-hang-deadline.test".to_string();
    panic_on(&stuck, Stage::ParserHang); // keeps its parser busy for 3 s, 10× the deadline
    let mut names: Vec<String> = (0..20).map(|i| format!("charlie-hang-{i}.test")).collect();
    names.insert(7, stuck.clone());
    app.add_domains(&names).await;
    app.wait_until_settled(std::time::Duration::from_secs(30)).await;
    let row = app.row(&stuck).await;
    // Each attempt ended at the deadline, not when the 3 s hang was over.
    for attempt in app.store.attempts(row.id, 10).await.unwrap() {
        let took = attempt.finished_at - attempt.started_at;
        assert!(took < chrono::Duration::milliseconds(2500), "{attempt:?}");
    }
    assert_eq!((row.status.as_str(), row.attempts), ("error", 2));
    assert_eq!(row.error_kind.as_deref(), Some("internal"));
    assert!(
        row.error_message.as_deref().unwrap_or("").contains("300 ms deadline"),
        "{:?}",
        row.error_message
    );
    let counts = app.store.count_by_status().await.unwrap();
    assert_eq!(counts["completed"], 20, "{counts:?}");
    // The pool kept its size, and the replacements show as restarts with the reason.
    let status = app.status().await;
    assert_eq!(parser_threads(&status), (2, 2), "{status}");
    let last = status["actors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["last_failure"].as_str())
        .any(|f| f.contains(&stuck) && f.contains("deadline"));
    assert!(last, "{status}");
    // The abandoned threads finish their 3 s and exit: the service keeps two parser threads.
    app.add_domains(&["bravo-after-hang.test".to_string()]).await;
    let (_, body) = app.process(5).await;
    assert_eq!(body["results"]["successful"], 1, "{body}");
    assert_eq!(app.stop().await, 0);
}

#[actix_web::test]
async fn too_many_stuck_parsers_escalate_and_the_service_exits_non_zero() {
    let app = spawn_app_with(Db::Sqlite, |s| {
        s.pipeline.parsers = 2;
        s.pipeline.parse_deadline_ms = 200;
        s.pipeline.max_stuck_parsers = 1;
        s.retry.max_attempts = 1;
    })
    .await;
    let names: Vec<String> = (0..2).map(|i| format!("alpha-hang-escalate-{i}.test")).collect();
    for name in &names {
        panic_on(name, Stage::ParserHang);
    }
    app.add_domains(&names).await;
    // Both threads stuck at once: one more than the cap allows.
    app.process_detached(10);
    // Escalated, or already shut down by the escalation (HTTP stops last, and may be gone
    // before a poll sees the flag): the exit code below tells which.
    eventually(std::time::Duration::from_secs(10), "escalation", || async {
        let url = format!("{}/api/v1/status", app.address);
        match app.client.get(url).send().await {
            Err(_) => Some(()),
            Ok(r) => {
                let text = r.text().await.unwrap_or_default();
                let status: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                status["escalated"].as_bool().unwrap_or(false).then_some(())
            }
        }
    })
    .await;
    assert_eq!(app.stop().await, 1, "an escalation exits non-zero");
}

/// One actor's entry in `/api/v1/status`.
fn actor<'a>(status: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    status["actors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no actor {name} in {status}"))
}

/// Every row completed, each by exactly one `completed` attempt (nothing written twice).
async fn every_row_completed_once(app: &crate::helpers::TestApp, names: &[String]) {
    let total = names.len() as i64;
    let counts = eventually(std::time::Duration::from_secs(40), "every row completed", || async {
        let counts = app.store.count_by_status().await.unwrap();
        (counts["completed"] == total).then_some(counts)
    })
    .await;
    assert_eq!(
        (counts["processing"], counts["pending"], counts["error"]),
        (0, 0, 0),
        "{counts:?}"
    );
    for name in names {
        let row = app.row(name).await;
        let attempts = app.store.attempts(row.id, 10).await.unwrap();
        let completed = attempts.iter().filter(|a| a.outcome == "completed").count();
        assert_eq!(completed, 1, "{name}: {attempts:?}");
    }
}

/// `domaind_actor_restarts_total{actor="<group>"}` from `/metrics`.
async fn restarts_metric(app: &crate::helpers::TestApp, group: &str) -> String {
    let text = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("domaind_actor_restarts_total{{actor=\"{group}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in {text}"))
        .to_string()
}

/// A panic inside the Fetcher (a singleton: no other actor claims) is caught by its supervision:
/// the Fetcher restarts in place — same address, so the scheduler's and the API's ticks still
/// reach it — its open drain goes on, and the rows the interrupted claim had taken come back
/// when their lease expires. Every row completes exactly once.
async fn a_panicking_fetcher_restarts_in_place_and_every_row_completes_once(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.pipeline.lease_secs = 6;
        s.scheduler.jobs[0].spec = "200ms".into();
    })
    .await;
    let tag = format!("{db:?}").to_lowercase();
    let mut names: Vec<String> = (0..40).map(|i| format!("charlie-fetcher-{tag}-{i}.test")).collect();
    // Named so that the Fetcher panics (once) while dispatching it.
    names.insert(20, format!("alpha-fault-fetcher-panic-{tag}.test"));
    app.add_domains(&names).await;
    every_row_completed_once(&app, &names).await;

    let status = app.status().await;
    let fetcher = actor(&status, "fetcher");
    assert_eq!(
        (fetcher["restarts"].as_u64(), fetcher["state"].as_str()),
        (Some(1), Some("running")),
        "{status}"
    );
    let failure = fetcher["last_failure"].as_str().unwrap_or("");
    assert!(failure.contains("panicked: injected panic in the fetcher"), "{status}");
    assert_eq!(restarts_metric(&app, "fetcher").await, "1");

    // The API's tick goes to the same address and is served by the restarted Fetcher.
    app.add_domains(&["bravo-after-fetcher.test".to_string()]).await;
    let (_, body) = app.process(5).await;
    assert_eq!(body["results"]["successful"], 1, "{body}");
    assert_eq!(app.stop().await, 0);
}
both_backends!(a_panicking_fetcher_restarts_in_place_and_every_row_completes_once);

/// A DbWriter that stops answering (stuck on a future that never completes, while everything
/// else runs) misses its liveness pings; the Supervisor records it, pulls its kill switch, and
/// it restarts in place with the batch it was holding, which is then written: every row
/// completes exactly once.
async fn a_writer_that_stops_answering_pings_is_restarted_and_loses_nothing(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.supervisor.ping_interval_ms = 200;
        s.supervisor.liveness_timeout_secs = 4;
        s.scheduler.jobs[0].spec = "200ms".into();
    })
    .await;
    let tag = format!("{db:?}").to_lowercase();
    let mut names: Vec<String> = (0..40).map(|i| format!("charlie-writer-{tag}-{i}.test")).collect();
    // Named so that the writer wedges (once) when that domain's outcome arrives.
    names.insert(10, format!("alpha-fault-writer-wedge-{tag}.test"));
    app.add_domains(&names).await;
    every_row_completed_once(&app, &names).await;

    let status = app.status().await;
    let writer = actor(&status, "db_writer");
    assert_eq!(
        (writer["restarts"].as_u64(), writer["state"].as_str()),
        (Some(1), Some("running")),
        "{status}"
    );
    let failure = writer["last_failure"].as_str().unwrap_or("");
    assert!(
        failure.contains("did not answer a liveness ping within 4 s"),
        "{status}"
    );
    assert_eq!(restarts_metric(&app, "db_writer").await, "1");
    // The other children answered all along.
    for name in ["fetcher", "scheduler", "extractor-0"] {
        assert_eq!(actor(&status, name)["restarts"], 0, "{status}");
    }
    assert_eq!(app.stop().await, 0);
}
both_backends!(a_writer_that_stops_answering_pings_is_restarted_and_loses_nothing);
