//! The scheduler end to end: the jobs API, pause/resume/trigger, max_instances, restart after
//! downtime, and cluster jobs on several instances sharing one database.

use std::time::Duration;

use chrono::Utc;
use domaind::model::{DomainName, Outcome, OutcomeKind};
use domaind::settings::{JobSettings, Settings};
use domaind::store::Store;

use crate::both_backends;
use crate::helpers::{eventually, spawn_app_on, spawn_app_with, Db, TestDb};

/// A job entry; `args` are raw TOML values (`"30d"`, `5`).
fn job(id: &str, trigger: &str, spec: &str, args: &[(&str, &str)]) -> JobSettings {
    let mut text = format!("id = {id:?}\ntrigger = {trigger:?}\nspec = {spec:?}\n");
    if !args.is_empty() {
        let pairs: Vec<String> = args.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        text.push_str(&format!("args = {{ {} }}\n", pairs.join(", ")));
    }
    toml::from_str(&text).expect("job toml")
}

fn jobs(s: &mut Settings, list: Vec<JobSettings>) {
    s.scheduler.jobs = list;
}

async fn complete_all(store: &Store, n: usize) {
    let names: Vec<DomainName> = (0..n)
        .map(|i| DomainName::parse(&format!("done-{i}.test")).unwrap())
        .collect();
    store.insert_domains("default", &names).await.unwrap();
    let claimed = store.claim("setup", n, Duration::from_secs(60)).await.unwrap();
    let outcomes: Vec<Outcome> = claimed
        .into_iter()
        .map(|c| Outcome {
            claimed: c,
            kind: OutcomeKind::Completed(Box::default()),
            started_at: Utc::now(),
            finished_at: Utc::now(),
            http_status: Some(200),
        })
        .collect();
    store.write_outcomes("setup", &outcomes).await.unwrap();
}

async fn jobs_api_lists_pauses_resumes_and_triggers(db: Db) {
    let app = spawn_app_with(db, |s| {
        jobs(
            s,
            vec![
                job("process_pending_domains", "interval", "200ms", &[("limit", "100")]),
                job("prune_history", "cron", "0 3 * * mon-fri", &[]),
            ],
        )
    })
    .await;
    let (code, body) = app.get("/api/v1/jobs").await;
    assert_eq!(code, 200, "{body}");
    let list = body["jobs"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    let prune = list.iter().find(|j| j["id"] == "prune_history").unwrap();
    assert_eq!(prune["scope"], "cluster");
    assert_eq!(prune["trigger"], "cron");
    assert_eq!(prune["next_fires"].as_array().unwrap().len(), 5);
    assert!(prune["description"].as_str().unwrap().len() > 5, "{prune}");
    let process = list.iter().find(|j| j["id"] == "process_pending_domains").unwrap();
    assert_eq!(
        (process["scope"].as_str(), process["max_instances"].as_u64()),
        (Some("instance"), Some(1))
    );

    // Paused: nothing is processed on schedule.
    let (code, _) = app.post("/api/v1/jobs/process_pending_domains/pause").await;
    assert_eq!(code, 200);
    // A run that fired before the pause may still be claiming: pausing stops fires, not a run
    // in progress. Wait until none is running before adding the row.
    eventually(Duration::from_secs(10), "no run still in progress", || async {
        let (_, body) = app.get("/api/v1/jobs/process_pending_domains/runs?limit=5").await;
        let runs = body["runs"].as_array().cloned().unwrap_or_default();
        runs.iter().all(|r| r["outcome"] != "running").then_some(())
    })
    .await;
    app.add_domains(&["alpha-1.test".to_string()]).await;
    // An absence can only be observed over time: four fire intervals pass with nothing claimed.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(app.row("alpha-1.test").await.status, "pending");
    // A manual run still works and is recorded as such.
    let (code, run) = app.post("/api/v1/jobs/process_pending_domains/run").await;
    assert_eq!(code, 200, "{run}");
    assert_eq!(run["outcome"], "succeeded");
    assert_eq!(run["summary"]["processed"], 1);
    // Resumed: scheduled fires process new rows again.
    app.post("/api/v1/jobs/process_pending_domains/resume").await;
    app.add_domains(&["alpha-2.test".to_string()]).await;
    app.wait_until_settled(Duration::from_secs(10)).await;

    // The run row is completed just after the drain's writes land: wait for it.
    let body = eventually(Duration::from_secs(10), "a scheduled run processed the row", || async {
        let (code, body) = app.get("/api/v1/jobs/process_pending_domains/runs?limit=500").await;
        assert_eq!(code, 200, "{body}");
        let runs = body["runs"].as_array().unwrap();
        runs.iter()
            .any(|r| r["trigger"] == "schedule" && r["summary"]["processed"] == 1)
            .then_some(body.clone())
    })
    .await;
    let runs = body["runs"].as_array().unwrap();
    assert!(
        runs.iter()
            .any(|r| r["trigger"] == "manual" && r["summary"]["processed"] == 1),
        "{body}"
    );
    assert!(runs.iter().all(|r| r["instance"] == app.instance()));
    // The dev endpoint is a manual run too.
    let manual = |body: serde_json::Value| {
        body["runs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["trigger"] == "manual")
            .count()
    };
    let before = manual(app.get("/api/v1/jobs/process_pending_domains/runs?limit=500").await.1);
    app.process(5).await;
    let (_, body) = app.get("/api/v1/jobs/process_pending_domains/runs?limit=500").await;
    assert_eq!(manual(body), before + 1);
    let (_, body) = app.get("/api/v1/jobs/process_pending_domains/runs?limit=1").await;
    assert!(body["next_cursor"].is_i64(), "{body}");

    for path in ["/api/v1/jobs/nope/run", "/api/v1/jobs/nope/pause"] {
        let (code, body) = app.post(path).await;
        assert_eq!((code, body["error"].as_str()), (404, Some("not_found")), "{body}");
    }
    let (code, _) = app.get("/api/v1/jobs/nope/runs").await;
    assert_eq!(code, 404);
    assert_eq!(app.stop().await, 0);
}
both_backends!(jobs_api_lists_pauses_resumes_and_triggers);

async fn a_fire_over_max_instances_is_recorded_skipped(db: Db) {
    let app = spawn_app_with(db, |s| {
        jobs(s, vec![job("process_pending_domains", "interval", "1h", &[])])
    })
    .await;
    app.add_domains(&["slow-1.test".to_string()]).await;
    let first = app.post("/api/v1/jobs/process_pending_domains/run");
    // The second run is asked for once the first is known to be running.
    let second = async {
        eventually(Duration::from_secs(5), "the first run is in progress", || async {
            let (_, body) = app.get("/api/v1/jobs").await;
            (body["jobs"][0]["running"] == 1).then_some(())
        })
        .await;
        app.post("/api/v1/jobs/process_pending_domains/run").await
    };
    let ((_, first), (code, second)) = tokio::join!(first, second);
    assert_eq!(first["outcome"], "succeeded", "{first}");
    assert_eq!(code, 200);
    assert_eq!(second["outcome"], "skipped", "{second}");
    assert!(
        second["error"]
            .as_str()
            .unwrap()
            .contains("maximum number of running instances"),
        "{second}"
    );
    let (_, body) = app.get("/api/v1/jobs/process_pending_domains/runs").await;
    let outcomes: Vec<&str> = body["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert!(
        outcomes.contains(&"skipped") && outcomes.contains(&"succeeded"),
        "{body}"
    );
    assert_eq!(app.stop().await, 0);
}
both_backends!(a_fire_over_max_instances_is_recorded_skipped);

async fn a_restart_after_downtime_applies_coalesce_and_misfire_rules(db: Db) {
    let test_db = TestDb::create(db).await;
    let configure = |s: &mut Settings| {
        let mut strict = job("reclaim_expired_leases", "interval", "1s", &[]);
        strict.misfire_grace_time = Some(1);
        let mut coalescing = job("recrawl_stale", "interval", "1s", &[("ttl", "\"30d\"")]);
        coalescing.coalesce = Some(true);
        coalescing.misfire_grace_time = Some(3600);
        jobs(s, vec![strict, coalescing]);
        s.scheduler.leader_ttl_secs = 3;
    };
    let app = spawn_app_on(&test_db.url, configure).await;
    assert_eq!(app.stop().await, 0);
    // Ten seconds of downtime: both jobs' stored next fire is in the past.
    let store = test_db.store().await;
    let past = Utc::now() - chrono::Duration::seconds(10);
    for id in ["reclaim_expired_leases", "recrawl_stale"] {
        store.set_job_times(id, Some(past), None).await.unwrap();
    }
    let app = spawn_app_on(&test_db.url, configure).await;
    let runs = |id: &'static str| {
        let store = store.clone();
        async move { store.runs(id, None, 100).await.unwrap() }
    };
    // Cluster jobs fire once this instance leads (at once, or after the old lease's TTL); the
    // downtime batch of each job is recorded by its first poll.
    eventually(
        Duration::from_secs(8),
        "the restarted scheduler fires both jobs",
        || async {
            let ran = |runs: Vec<domaind::store::JobRunRow>| runs.iter().any(|r| r.outcome == "succeeded");
            (ran(runs("recrawl_stale").await) && ran(runs("reclaim_expired_leases").await)).then_some(())
        },
    )
    .await;
    // coalesce = false, grace 1 s: the fires older than the grace are missed, one per fire.
    let strict = runs("reclaim_expired_leases").await;
    let missed = strict.iter().filter(|r| r.outcome == "missed").count();
    assert!((8..=16).contains(&missed), "{missed} missed: {strict:?}");
    assert!(strict.iter().filter(|r| r.outcome == "missed").all(|r| r
        .error
        .as_deref()
        .unwrap_or("")
        .contains("missed")));
    assert!(strict.iter().any(|r| r.outcome == "succeeded"), "{strict:?}");
    // coalesce = true, long grace: the ten missed fires run once, nothing recorded missed.
    let coalesced = runs("recrawl_stale").await;
    assert_eq!(
        coalesced.iter().filter(|r| r.outcome == "missed").count(),
        0,
        "{coalesced:?}"
    );
    assert!(
        coalesced.len() <= 2,
        "the missed fires ran once, not once each: {coalesced:?}"
    );
    let oldest = coalesced.last().unwrap();
    assert!(
        oldest.scheduled_for > past + chrono::Duration::seconds(8),
        "it ran for the latest due time: {oldest:?}"
    );
    assert_eq!(app.stop().await, 0);
    store.close().await;
    test_db.drop_db().await;
}
both_backends!(a_restart_after_downtime_applies_coalesce_and_misfire_rules);

async fn cluster_jobs_run_each_time_once_across_instances_and_fail_over(db: Db) {
    if db == Db::Sqlite {
        return; // Several instances share a database on PostgreSQL.
    }
    let test_db = TestDb::create(db).await;
    let store = test_db.store().await;
    complete_all(&store, 200).await;
    // Each run re-queues exactly one completed row: side effects count the runs.
    let configure = |s: &mut Settings| {
        jobs(
            s,
            vec![job(
                "recrawl_stale",
                "interval",
                "200ms",
                &[("ttl", "\"0s\""), ("batch", "1")],
            )],
        );
        s.scheduler.leader_ttl_secs = 3;
    };
    let a = spawn_app_on(&test_db.url, configure).await;
    let b = spawn_app_on(&test_db.url, configure).await;
    // The assertions count fires per wall-clock window (one instance firing, not two), so the
    // test observes two fixed windows: one with both instances up, one after the leader left.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let leader_runs = store.runs("recrawl_stale", None, 1000).await.unwrap();
    let leader = leader_runs.first().map(|r| r.instance.clone()).expect("some runs");
    // Stop the leader: the other instance takes over.
    let (leaving, staying) = if leader == a.instance() { (a, b) } else { (b, a) };
    assert_eq!(leaving.stop().await, 0);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(staying.stop().await, 0);

    let runs = store.runs("recrawl_stale", None, 1000).await.unwrap();
    let succeeded: Vec<_> = runs.iter().filter(|r| r.outcome == "succeeded").collect();
    let requeued = store.count_by_status().await.unwrap()["pending"];
    // One side effect per run: a run stopped by the shutdown between its body and its record
    // stays `running`, so the count lies between the succeeded and the started runs.
    let started = runs
        .iter()
        .filter(|r| r.outcome == "succeeded" || r.outcome == "running")
        .count();
    assert!(
        (succeeded.len()..=started).contains(&(requeued as usize)),
        "{requeued} rows requeued by {} succeeded / {started} started runs: {runs:?}",
        succeeded.len()
    );
    let mut times: Vec<_> = runs.iter().map(|r| r.scheduled_for).collect();
    times.sort();
    times.dedup();
    assert_eq!(times.len(), runs.len(), "a fire time ran twice");
    // About 25 fires in 5 s, not 50: one instance at a time fired them.
    assert!((12..=30).contains(&succeeded.len()), "{} runs", succeeded.len());
    let instances: std::collections::BTreeSet<_> = runs.iter().map(|r| r.instance.clone()).collect();
    assert_eq!(instances.len(), 2, "the second instance took over: {instances:?}");
    store.close().await;
    test_db.drop_db().await;
}
both_backends!(cluster_jobs_run_each_time_once_across_instances_and_fail_over);
