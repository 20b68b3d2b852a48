//! A panic while processing a domain — in the async path or in a parser thread — fails only
//! that attempt (`internal`), restarts the actor or thread, and the pool is back to full size.

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
