//! Domains go pending → completed/error through the real pipeline, with the metadata and the
//! error kinds a user would look at.

use std::time::Duration;

use serde_json::json;

use crate::both_backends;
use crate::helpers::{eventually, spawn_app, spawn_app_with, Db};

async fn scheduled_pipeline_completes_500_domains_with_expected_metadata(db: Db) {
    let app = spawn_app_with(db, |s| s.scheduler.jobs[0].spec = "200ms".into()).await;
    let kinds = ["alpha", "bravo", "charlie"];
    let names: Vec<String> = (0..500).map(|i| format!("{}-{i}.test", kinds[i % 3])).collect();
    let (code, body) = app.add_domains(&names).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["accepted"], 500);
    app.wait_until_settled(Duration::from_secs(60)).await;

    let counts = app.store.count_by_status().await.unwrap();
    assert_eq!(counts["completed"], 500, "{counts:?}");

    let alpha = app.row("alpha-3.test").await;
    assert_eq!(alpha.status, "completed");
    assert_eq!(alpha.attempts, 1);
    let m = alpha.metadata.expect("metadata");
    assert_eq!(m["title"], "Alpha & Sons — Widgets");
    assert_eq!(m["description"], "Alpha makes widgets.");
    assert_eq!(m["site_name"], "Alpha");
    assert_eq!(m["image"], "http://alpha-3.test/img/og.png");
    assert_eq!(m["favicon"], "http://alpha-3.test/favicon-32.png");
    assert_eq!(m["canonical_url"], "https://alpha.example/");
    assert_eq!(m["lang"], "en");
    assert_eq!(m["generator"], "Hugo 0.120");
    assert_eq!(m["twitter"]["twitter:card"], "summary");
    assert_eq!(m["open_graph"]["og:site_name"], "Alpha");
    assert_eq!(m["status_code"], 200);
    assert_eq!(m["final_url"], "http://alpha-3.test/");
    assert_eq!(m["charset"], "utf-8");

    let bravo = app.row("bravo-1.test").await.metadata.expect("metadata");
    assert_eq!(bravo["title"], "Café Bravo");
    assert_eq!(bravo["charset"], "windows-1252");

    let charlie = app.row("charlie-2.test").await.metadata.expect("metadata");
    assert_eq!(charlie["title"], "Charlie auf Twitter");
    assert_eq!(charlie["description"], "Viele Leerzeichen");
    assert_eq!(charlie["lang"], "de");
    assert_eq!(charlie["favicon"], "http://charlie-2.test/favicon.ico");

    let attempts = app
        .store
        .attempts(app.row("charlie-2.test").await.id, 10)
        .await
        .unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].outcome, "completed");
    assert_eq!(attempts[0].http_status, Some(200));
    assert_eq!(app.stop().await, 0);
}
both_backends!(scheduled_pipeline_completes_500_domains_with_expected_metadata);

async fn failures_end_in_error_with_the_right_kind(db: Db) {
    let app = spawn_app_with(db, |s| s.fetch.schemes = vec!["https".into(), "http".into()]).await;
    let names: Vec<String> = [
        "notfound-1.test",
        "x.refused.test",
        "big-1.test",
        "toip-1.test",
        "pdf-1.test",
        "alpha.fallback.test",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    app.add_domains(&names).await;
    let (code, body) = app.process(10).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["results"]["processed"], 6, "{body}");
    assert_eq!(body["results"]["successful"], 1, "{body}");

    // Permanent failures are final at once.
    let expect = [
        ("notfound-1.test", "http_status"),
        ("big-1.test", "too_large"),
        ("toip-1.test", "blocked"),
        ("pdf-1.test", "not_html"),
    ];
    for (domain, kind) in expect {
        let row = app.row(domain).await;
        assert_eq!(row.status, "error", "{domain}");
        assert_eq!(row.attempts, 1, "{domain}");
        assert_eq!(
            row.error_kind.as_deref(),
            Some(kind),
            "{domain}: {:?}",
            row.error_message
        );
        assert!(
            row.error_message.as_deref().is_some_and(|m| !m.is_empty()),
            "{domain} has no message"
        );
        assert!(row.lease_owner.is_none(), "{domain} still leased");
    }
    // A refused connection is transient: back to pending, claimable after the backoff (30 s ±25 %).
    let refused = app.row("x.refused.test").await;
    assert_eq!(refused.status, "pending");
    assert_eq!(
        refused.error_kind.as_deref(),
        Some("connect"),
        "{:?}",
        refused.error_message
    );
    let wait = refused.next_attempt_at.unwrap() - chrono::Utc::now();
    assert!(
        wait > chrono::Duration::seconds(20) && wait <= chrono::Duration::seconds(38),
        "{wait:?}"
    );
    let notfound = app
        .store
        .attempts(app.row("notfound-1.test").await.id, 5)
        .await
        .unwrap();
    assert_eq!(notfound[0].http_status, Some(404));

    // https is refused, http answers: completed through the fallback.
    let fallback = app.row("alpha.fallback.test").await;
    assert_eq!(fallback.status, "completed", "{:?}", fallback.error_message);
    let m = fallback.metadata.expect("metadata");
    assert_eq!(m["final_url"], "http://alpha.fallback.test/");
    assert_eq!(app.stop().await, 0);
}
both_backends!(failures_end_in_error_with_the_right_kind);

async fn dev_endpoint_answers_in_the_patterns_shape(db: Db) {
    let app = spawn_app(db).await;
    let names: Vec<String> = [
        "alpha-1.test",
        "bravo-1.test",
        "charlie-1.test",
        "notfound-1.test",
        "notfound-2.test",
        "alpha-2.test",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    app.add_domains(&names).await;
    let (code, body) = app.process(5).await;
    assert_eq!(code, 200);
    let results = &body["results"];
    assert_eq!(results["processed"], 5);
    let ok = results["successful"].as_u64().unwrap();
    let failed = results["failed"].as_u64().unwrap();
    assert_eq!(ok + failed, 5);
    assert_eq!(
        body["message"],
        format!("Processed 5 domains: {ok} successful, {failed} failed")
    );
    let listed = results["domains"].as_array().unwrap();
    assert_eq!(listed.len(), 5);
    for entry in listed {
        let name = entry["domain"].as_str().unwrap();
        let row = app.row(name).await;
        assert_eq!(entry["domain_id"], json!(row.id));
        assert_ne!(row.status, "pending");
    }
    // Ids are claimed oldest first: the first five inserted.
    let first_five: Vec<&str> = listed.iter().map(|e| e["domain"].as_str().unwrap()).collect();
    assert!(!first_five.contains(&"alpha-2.test"));

    let (_, body) = app.process(5).await;
    assert_eq!(body["message"], "Processed 1 domains: 1 successful, 0 failed");
    let (_, body) = app.process(5).await;
    assert_eq!(
        body,
        json!({"message": "Processed 0 domains: 0 successful, 0 failed",
        "results": {"processed": 0, "successful": 0, "failed": 0, "domains": []}})
    );
    assert_eq!(app.stop().await, 0);
}
both_backends!(dev_endpoint_answers_in_the_patterns_shape);

async fn a_slow_live_domain_has_its_lease_renewed_not_reclaimed(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.pipeline.lease_secs = 3;
        s.fetch.timeout_ms = 2000;
        s.scheduler.jobs[0].spec = "100ms".into();
    })
    .await;
    app.add_domains(&["slow-1.test".to_string()]).await;
    let mut leases = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let row = app.row("slow-1.test").await;
        if row.status == "completed" {
            break;
        }
        if let Some(l) = row.lease_expires_at {
            if leases.last() != Some(&l) {
                leases.push(l);
            }
        }
        assert!(std::time::Instant::now() < deadline, "slow domain never completed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(leases.len() >= 2, "the lease was never renewed: {leases:?}");
    assert!(leases.windows(2).all(|w| w[1] > w[0]), "{leases:?}");
    let row = app.row("slow-1.test").await;
    assert_eq!(row.attempts, 1, "the live domain was reclaimed and retried");
    assert_eq!(app.stop().await, 0);
}
both_backends!(a_slow_live_domain_has_its_lease_renewed_not_reclaimed);

async fn in_flight_work_never_exceeds_the_concurrency_whatever_the_backlog(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.pipeline.concurrency = 16;
        s.pipeline.extractors = 2;
    })
    .await;
    let names: Vec<domaind::model::DomainName> = (0..3000)
        .map(|i| domaind::model::DomainName::parse(&format!("charlie-{i}.test")).unwrap())
        .collect();
    app.store.insert_domains("default", &names).await.unwrap();
    let done = std::cell::Cell::new(false);
    let sample = async {
        let mut max = 0;
        while !done.get() {
            let counts = app.store.count_by_status().await.unwrap();
            max = max.max(counts["processing"]);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        max
    };
    let run = async {
        let r = app.process(1000).await;
        done.set(true);
        r
    };
    let ((code, body), max_processing) = tokio::join!(run, sample);
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["results"]["processed"], 1000);
    assert!(max_processing > 0, "never saw work in flight");
    assert!(
        max_processing <= 16,
        "{max_processing} rows in flight with concurrency 16"
    );
    let counts = app.store.count_by_status().await.unwrap();
    assert_eq!((counts["completed"], counts["pending"]), (1000, 2000), "{counts:?}");
    assert_eq!(app.stop().await, 0);
}
both_backends!(in_flight_work_never_exceeds_the_concurrency_whatever_the_backlog);

async fn a_tenant_cap_keeps_a_slow_tenant_from_filling_the_pipeline(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.pipeline.concurrency = 16;
        s.pipeline.max_in_flight_per_tenant = 3;
    })
    .await;
    let parse = |n: String| domaind::model::DomainName::parse(&n).unwrap();
    // Six sites that take 1.8 s each, and forty fast ones of another tenant.
    let slow: Vec<_> = (0..6).map(|i| parse(format!("slow-cap-{i}.test"))).collect();
    let fast: Vec<_> = (0..40).map(|i| parse(format!("charlie-cap-{i}.test"))).collect();
    app.store.insert_domains("slowpoke", &slow).await.unwrap();
    app.store.insert_domains("quick", &fast).await.unwrap();
    let done = std::cell::Cell::new(false);
    let sample = async {
        let mut max = 0;
        while !done.get() {
            let (code, body) = app
                .get("/api/v1/domains?status=processing&tenant_id=slowpoke&limit=100")
                .await;
            assert_eq!(code, 200, "{body}");
            max = max.max(body["domains"].as_array().unwrap().len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        max
    };
    let run = async {
        let r = app.process(46).await;
        done.set(true);
        r
    };
    let ((code, body), max_slow) = tokio::join!(run, sample);
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body["results"]["processed"], 46,
        "a capped tenant does not end the drain early"
    );
    assert_eq!(max_slow, 3, "the slow tenant had {max_slow} in flight with a cap of 3");
    let counts = app.store.count_by_status().await.unwrap();
    assert_eq!(counts["completed"], 46, "{counts:?}");
    assert_eq!(app.stop().await, 0);
}
both_backends!(a_tenant_cap_keeps_a_slow_tenant_from_filling_the_pipeline);

async fn transient_failures_are_retried_until_they_succeed_or_run_out(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.scheduler.jobs[0].spec = "100ms".into();
        s.retry.max_attempts = 3;
        s.retry.base_delay_secs = 0;
    })
    .await;
    // The fixture remembers flaky hosts process-wide: one name per backend.
    let flaky_name = format!("flaky-{}.test", format!("{db:?}").to_lowercase());
    let names = [flaky_name.clone(), "x.refused.test".into(), "notfound-9.test".into()];
    app.add_domains(&names).await;
    app.wait_until_settled(Duration::from_secs(20)).await;

    // 503 + Retry-After: 1, then 200: completed on the second attempt, error fields cleared.
    let flaky = app.row(&flaky_name).await;
    assert_eq!(flaky.status, "completed");
    assert_eq!(flaky.attempts, 2);
    assert_eq!(flaky.error_kind, None);
    assert_eq!(flaky.metadata.unwrap()["title"], "Alpha & Sons — Widgets");
    let history = app.store.attempts(flaky.id, 10).await.unwrap();
    let outcomes: Vec<&str> = history.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, vec!["completed", "retry"]);
    assert_eq!(history[1].http_status, Some(503));
    // Retry-After was honored: the second attempt started at least a second after the first ended.
    assert!(history[0].started_at - history[1].finished_at >= chrono::Duration::milliseconds(950));

    // Always refused: every attempt used, then error.
    let refused = app.row("x.refused.test").await;
    assert_eq!((refused.status.as_str(), refused.attempts), ("error", 3));
    assert_eq!(refused.error_kind.as_deref(), Some("connect"));
    let history = app.store.attempts(refused.id, 10).await.unwrap();
    let outcomes: Vec<&str> = history.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, vec!["failed", "retry", "retry"]);

    // Permanent: one attempt.
    let notfound = app.row("notfound-9.test").await;
    assert_eq!((notfound.status.as_str(), notfound.attempts), ("error", 1));
    assert_eq!(app.stop().await, 0);
}
both_backends!(transient_failures_are_retried_until_they_succeed_or_run_out);

async fn a_recrawl_keeps_the_last_good_metadata_on_304_and_on_failure(db: Db) {
    let app = spawn_app(db).await;
    let tag = format!("{db:?}").to_lowercase();
    let (etag, fading) = (format!("etag-{tag}.test"), format!("fading-{tag}.test"));
    app.add_domains(&[etag.clone(), fading.clone()]).await;
    let (_, body) = app.process(5).await;
    assert_eq!(body["results"]["successful"], 2, "{body}");
    let first = app.row(&etag).await.metadata.unwrap();
    assert_eq!(first["etag"], "\"v1\"");
    assert_eq!(first["last_modified"], "Mon, 02 Nov 2026 10:00:00 GMT");

    for name in [&etag, &fading] {
        assert!(app.store.requeue(app.row(name).await.id).await.unwrap());
    }
    let (_, body) = app.process(5).await;
    assert_eq!(body["message"], "Processed 2 domains: 1 successful, 1 failed", "{body}");

    // 304: still completed, metadata untouched (same fetch time), the attempt says so.
    let row = app.row(&etag).await;
    assert_eq!(row.status, "completed");
    assert_eq!(row.metadata.unwrap(), first);
    let outcomes: Vec<String> = app
        .store
        .attempts(row.id, 5)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.outcome)
        .collect();
    assert_eq!(outcomes, vec!["not_modified", "completed"]);

    // A failed re-crawl records the failure and keeps the last good metadata.
    let row = app.row(&fading).await;
    assert_eq!(row.status, "error");
    assert_eq!(row.error_kind.as_deref(), Some("http_status"));
    assert_eq!(row.metadata.unwrap()["title"], "Alpha & Sons — Widgets");
    assert_eq!(app.stop().await, 0);
}
both_backends!(a_recrawl_keeps_the_last_good_metadata_on_304_and_on_failure);

async fn redirects_to_loopback_or_metadata_addresses_are_blocked_and_never_connected(db: Db) {
    use crate::fixtures::SSRF_TARGETS;
    let app = spawn_app(db).await;
    let names: Vec<String> = (0..SSRF_TARGETS.len()).map(|k| format!("ssrf{k}-x.test")).collect();
    app.add_domains(&names).await;
    let (_, body) = app.process(20).await;
    assert_eq!(body["results"]["processed"], SSRF_TARGETS.len(), "{body}");
    for (name, target) in names.iter().zip(SSRF_TARGETS) {
        let row = app.row(name).await;
        assert_eq!(
            (row.status.as_str(), row.error_kind.as_deref()),
            ("error", Some("blocked")),
            "{name} -> {target}: {:?}",
            row.error_message
        );
    }
    // The guard refused every hop before connecting: the loopback trap saw nothing.
    assert_eq!(app.fixture.trap_hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert!(app.fixture.trap_port > 0);
    assert_eq!(app.stop().await, 0);
}
both_backends!(redirects_to_loopback_or_metadata_addresses_are_blocked_and_never_connected);

/// The site server dies mid-run and comes back: the domains it was serving (in flight or
/// pending) fail transiently, are retried per policy, and complete once it is back; nothing
/// stays `processing` and no row is lost.
async fn a_site_server_dying_mid_run_is_retried_and_nothing_is_stuck(db: Db) {
    let sites = crate::fixtures::start();
    let port = sites.port;
    let app = spawn_app_with(db, |s| {
        s.scheduler.jobs[0].spec = "200ms".into();
        s.retry.max_attempts = 6;
        s.retry.base_delay_secs = 1;
        s.retry.max_delay_secs = 2;
        s.fetch.resolve_override.insert(
            "*.dying.test".into(),
            domaind::settings::OverrideTarget::All(([127, 0, 0, 1], port).into()),
        );
    })
    .await;
    // Slow pages (1.8 s) are mid-response when the server dies; fast ones are still pending.
    let mut names: Vec<String> = (0..30).map(|i| format!("slow-{i}.dying.test")).collect();
    names.extend((0..100).map(|i| format!("alpha-{i}.dying.test")));
    let (code, body) = app.add_domains(&names).await;
    assert_eq!(code, 200, "{body}");
    eventually(Duration::from_secs(20), "slow pages in flight", || async {
        (app.store.count_by_status().await.unwrap()["processing"] >= 10).then_some(())
    })
    .await;
    sites.stop().await;
    // Failures are scheduled for retry, not final and not stuck.
    eventually(
        Duration::from_secs(20),
        "attempts failing while the server is down",
        || async {
            let mut retried = 0;
            for name in names.iter().take(30) {
                let row = app.row(name).await;
                if row.status == "pending" && row.attempts >= 1 {
                    retried += 1;
                }
            }
            (retried > 0).then_some(())
        },
    )
    .await;
    let back = crate::fixtures::start_on(port);
    let counts = eventually(
        Duration::from_secs(60),
        "every row completed after the server came back",
        || async {
            let c = app.store.count_by_status().await.unwrap();
            (c["completed"] == 130).then_some(c)
        },
    )
    .await;
    assert_eq!(
        (counts["processing"], counts["pending"], counts["error"]),
        (0, 0, 0),
        "{counts:?}"
    );
    let mut retried = 0;
    for name in &names {
        let row = app.row(name).await;
        let history = app.store.attempts(row.id, 10).await.unwrap();
        assert_eq!(history.len() as i32, row.attempts, "{name}: {history:?}");
        if row.attempts > 1 {
            retried += 1;
            assert!(history[1..].iter().all(|a| a.outcome == "retry"), "{name}: {history:?}");
        }
    }
    assert!(
        retried >= 10,
        "only {retried} rows needed a retry: the server did not die mid-run"
    );
    assert_eq!(app.stop().await, 0);
    back.stop().await;
}
both_backends!(a_site_server_dying_mid_run_is_retried_and_nothing_is_stuck);

/// `fetch.max_body_bytes_in_flight` bounds the bytes all bodies hold at once: while a slow
/// 300 kB page holds most of a 400 kB budget, 300 kB pages find no room within the read
/// timeout and their attempts fail as transient `timeout`s; once the slow page is parsed and
/// dropped they get room, and every row completes.
#[actix_web::test]
async fn the_body_budget_bounds_bodies_in_flight_and_pages_without_room_are_retried() {
    let app = spawn_app_with(Db::Sqlite, |s| {
        s.fetch.max_body_bytes = 400_000;
        s.fetch.max_body_bytes_in_flight = 400_000;
        s.fetch.read_timeout_ms = 300;
        // Retried at once, for as long as the slow page holds the budget (about 3 s).
        s.retry.base_delay_secs = 0;
        s.retry.max_attempts = 40;
        s.scheduler.jobs[0].spec = "200ms".into();
        // Later drains must not wait for the slow page's drain to end.
        s.scheduler.jobs[0].max_instances = Some(10);
    })
    .await;
    let trickle = "trickle-budget.test".to_string();
    app.add_domains(std::slice::from_ref(&trickle)).await;
    // The slow page is streaming (its room reserved from its Content-Length)...
    eventually(Duration::from_secs(10), "the slow page in flight", || async {
        (app.store.count_by_status().await.unwrap()["processing"] == 1).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // ...when the big pages arrive.
    let bigs: Vec<String> = (0..4).map(|i| format!("big-budget-{i}.test")).collect();
    app.add_domains(&bigs).await;
    let counts = eventually(Duration::from_secs(30), "every row completed", || async {
        let counts = app.store.count_by_status().await.unwrap();
        (counts["completed"] == 5).then_some(counts)
    })
    .await;
    assert_eq!(counts["error"], 0, "{counts:?}");
    let row = app.row(&trickle).await;
    assert_eq!(row.attempts, 1, "the page holding the budget was not disturbed");
    let mut waited = 0;
    for big in &bigs {
        let row = app.row(big).await;
        let attempts = app.store.attempts(row.id, 20).await.unwrap();
        waited += attempts
            .iter()
            .filter(|a| a.outcome == "retry" && a.error_kind.as_deref() == Some("timeout"))
            .count();
    }
    assert!(waited > 0, "no page ever waited for room in the budget");
    assert_eq!(app.stop().await, 0);
}
