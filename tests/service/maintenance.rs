//! The scheduler's storage on both backends: job runs (cluster fires unique per time), the
//! leader lease, and the maintenance statements moving exactly the right rows.

use std::time::Duration;

use chrono::Utc;
use domaind::model::{DomainName, ErrorKind, Metadata, Outcome, OutcomeKind};
use domaind::store::{NewRun, Store};

use crate::both_backends;
use crate::helpers::{eventually, Db, TestDb};

async fn finish(store: &Store, owner: &str, kind: OutcomeKind) -> i64 {
    let claimed = store.claim(owner, 1, Duration::from_secs(30)).await.unwrap().remove(0);
    let id = claimed.id;
    let outcome = Outcome {
        claimed,
        kind,
        started_at: Utc::now(),
        finished_at: Utc::now(),
        http_status: Some(200),
    };
    assert!(store.write_outcomes(owner, &[outcome]).await.unwrap().domains[0].applied);
    id
}

async fn reclaim_and_recrawl_move_the_right_rows_and_only_those(db: Db) {
    let test_db = TestDb::create(db).await;
    let store = test_db.store().await;
    let names: Vec<DomainName> = (0..5)
        .map(|i| DomainName::parse(&format!("m-{i}.test")).unwrap())
        .collect();
    store.insert_domains("default", &names).await.unwrap();
    let meta = Metadata {
        title: Some("kept".into()),
        ..Default::default()
    };
    let completed = finish(&store, "a", OutcomeKind::Completed(Box::new(meta))).await;
    let failed = finish(
        &store,
        "a",
        OutcomeKind::Failed {
            kind: ErrorKind::HttpStatus,
            message: "404".into(),
            retry_in: None,
        },
    )
    .await;
    let expired = store.claim("dead", 1, Duration::ZERO).await.unwrap().remove(0).id;
    let live = store
        .claim("alive", 1, Duration::from_secs(60))
        .await
        .unwrap()
        .remove(0)
        .id;

    // Only the processing row whose lease expired goes back.
    let reclaimed = eventually(Duration::from_secs(2), "the zero lease expires", || async {
        Some(store.reclaim_expired().await.unwrap()).filter(|n| *n > 0)
    })
    .await;
    assert_eq!(reclaimed, 1);
    let status = |id| {
        let store = store.clone();
        async move { store.get_domain(id).await.unwrap().unwrap().status }
    };
    assert_eq!(status(expired).await, "pending");
    assert_eq!(status(live).await, "processing");

    // Nothing is stale under a one-hour TTL; with a zero TTL only the completed row moves.
    assert_eq!(store.recrawl_stale(Duration::from_secs(3600), 100).await.unwrap(), 0);
    assert_eq!(store.recrawl_stale(Duration::ZERO, 100).await.unwrap(), 1);
    let row = store.get_domain(completed).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 0));
    assert_eq!(
        row.metadata.unwrap()["title"],
        "kept",
        "metadata stays until the re-crawl succeeds"
    );
    assert_eq!(status(failed).await, "error");
    assert_eq!(status(live).await, "processing");
    let counts = store.count_by_status().await.unwrap();
    assert_eq!(
        (counts["pending"], counts["processing"], counts["error"]),
        (3, 1, 1),
        "{counts:?}"
    );
    store.close().await;
    test_db.drop_db().await;
}
both_backends!(reclaim_and_recrawl_move_the_right_rows_and_only_those);

async fn the_leader_lease_has_one_holder_and_fails_over(db: Db) {
    let test_db = TestDb::create(db).await;
    let (a, b) = (test_db.store().await, test_db.store().await);
    let ttl = Duration::from_millis(300);
    assert!(a.acquire_leadership("scheduler", "a", ttl).await.unwrap());
    assert!(!b.acquire_leadership("scheduler", "b", ttl).await.unwrap());
    assert!(
        a.acquire_leadership("scheduler", "a", ttl).await.unwrap(),
        "the holder renews"
    );
    // a stops renewing (dies): once the lease expires (on the database clock) b takes over...
    eventually(Duration::from_secs(3), "b takes over the expired lease", || async {
        b.acquire_leadership("scheduler", "b", ttl).await.unwrap().then_some(())
    })
    .await;
    // ...and a cannot come back.
    assert!(!a.acquire_leadership("scheduler", "a", ttl).await.unwrap());
    // A clean release hands over at once.
    b.release_leadership("scheduler", "b").await.unwrap();
    assert!(a.acquire_leadership("scheduler", "a", ttl).await.unwrap());
    a.close().await;
    b.close().await;
    test_db.drop_db().await;
}
both_backends!(the_leader_lease_has_one_holder_and_fails_over);

async fn a_cluster_fire_time_is_recorded_once_and_history_pages(db: Db) {
    let test_db = TestDb::create(db).await;
    let store = test_db.store().await;
    let at = "2026-11-29T10:00:00Z".parse().unwrap();
    let run = |scope, instance, trigger| NewRun {
        job_id: "prune_history",
        scope,
        instance,
        scheduled_for: at,
        trigger,
        outcome: "running",
        error: None,
    };
    let first = store.insert_run(&run("cluster", "a", "schedule")).await.unwrap();
    assert!(first.is_some());
    assert_eq!(
        store.insert_run(&run("cluster", "b", "schedule")).await.unwrap(),
        None,
        "second fire refused"
    );
    assert!(
        store
            .insert_run(&run("cluster", "b", "manual"))
            .await
            .unwrap()
            .is_some(),
        "manual runs are not unique"
    );
    assert!(store
        .insert_run(&run("instance", "a", "schedule"))
        .await
        .unwrap()
        .is_some());
    assert!(store
        .insert_run(&run("instance", "b", "schedule"))
        .await
        .unwrap()
        .is_some());
    let summary = serde_json::json!({"deleted": 3});
    store
        .finish_run(first.unwrap(), "succeeded", Some(&summary), None)
        .await
        .unwrap();

    let page = store.runs("prune_history", None, 3).await.unwrap();
    assert_eq!(page.len(), 3);
    let rest = store.runs("prune_history", Some(page[2].id), 3).await.unwrap();
    assert_eq!(rest.len(), 1);
    let oldest = &rest[0];
    assert_eq!((oldest.outcome.as_str(), oldest.instance.as_str()), ("succeeded", "a"));
    assert_eq!(oldest.summary.as_ref().unwrap()["deleted"], 3);
    assert!(oldest.finished_at.is_some() && oldest.duration_ms.is_some_and(|d| d >= 0));
    assert_eq!(oldest.scheduled_for, at);

    // Pruning keeps runs still running, removes finished history (once it is older than now).
    let pruned = eventually(Duration::from_secs(2), "finished history becomes prunable", || async {
        Some(store.prune_history(Duration::ZERO, 2).await.unwrap()).filter(|n| *n > 0)
    })
    .await;
    assert_eq!(pruned, 1);
    let left = store.runs("prune_history", None, 10).await.unwrap();
    assert!(left.iter().all(|r| r.outcome == "running"), "{left:?}");
    assert_eq!(left.len(), 3);
    store.close().await;
    test_db.drop_db().await;
}
both_backends!(a_cluster_fire_time_is_recorded_once_and_history_pages);

fn job(id: &str, spec: &str, next: &str) -> domaind::store::JobRecord {
    domaind::store::JobRecord {
        id: id.into(),
        trigger: "interval".into(),
        spec: spec.into(),
        args: "{}".into(),
        timezone: "UTC".into(),
        scope: "cluster".into(),
        coalesce: false,
        max_instances: 1,
        misfire_grace_time: Some(60),
        definition: format!("interval {spec}"),
        next_run_at: Some(next.parse().unwrap()),
    }
}

async fn jobs_reconcile_with_the_config_keeping_schedule_and_pause(db: Db) {
    let test_db = TestDb::create(db).await;
    let store = test_db.store().await;
    let t1 = "2026-11-29T10:00:00Z";
    let jobs = store
        .reconcile_jobs(&[job("a", "5s", t1), job("b", "1m", t1), job("gone", "1h", t1)])
        .await
        .unwrap();
    assert_eq!(jobs.len(), 3);
    assert!(store.set_job_paused("a", true).await.unwrap());
    assert!(!store.set_job_paused("nope", true).await.unwrap());
    store
        .set_job_times(
            "a",
            Some("2026-11-29T10:05:00Z".parse().unwrap()),
            Some(t1.parse().unwrap()),
        )
        .await
        .unwrap();

    // Restart with a changed `b`, `gone` removed, `c` new; `a` unchanged keeps its state.
    let t2 = "2026-11-29T12:00:00Z";
    let jobs = store
        .reconcile_jobs(&[job("a", "5s", t2), job("b", "2m", t2), job("c", "1h", t2)])
        .await
        .unwrap();
    let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, vec!["a", "b", "c"]);
    let a = &jobs[0];
    assert!(a.paused);
    assert_eq!(
        a.next_run_at,
        Some("2026-11-29T10:05:00Z".parse().unwrap()),
        "unchanged job keeps its schedule"
    );
    assert_eq!(a.last_run_at, Some(t1.parse().unwrap()));
    assert_eq!(jobs[1].spec, "2m");
    assert_eq!(
        jobs[1].next_run_at,
        Some(t2.parse().unwrap()),
        "changed job is re-scheduled"
    );
    assert_eq!(
        (jobs[2].scope.as_str(), jobs[2].misfire_grace_time),
        ("cluster", Some(60))
    );
    store.close().await;
    test_db.drop_db().await;
}
both_backends!(jobs_reconcile_with_the_config_keeping_schedule_and_pause);
