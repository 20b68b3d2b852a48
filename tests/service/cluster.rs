//! Several instances on one PostgreSQL database: every domain is processed exactly once (one
//! attempt each when nothing fails), the work is shared, each cluster-job time runs once, and
//! every attempt and run names the instance that made it.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::helpers::{eventually, postgres_url, spawn_app_on, Db, TestDb};

#[actix_web::test]
async fn three_instances_process_every_domain_exactly_once() {
    if postgres_url().is_none() {
        return;
    }
    let test_db = TestDb::create(Db::Postgres).await;
    let store = test_db.store().await;
    let customize = |s: &mut domaind::settings::Settings| {
        s.scheduler.jobs[0].spec = "100ms".into();
        s.scheduler.jobs[1].spec = "1s".into();
        s.pipeline.concurrency = 32;
    };
    let apps = [
        spawn_app_on(&test_db.url, customize).await,
        spawn_app_on(&test_db.url, customize).await,
        spawn_app_on(&test_db.url, customize).await,
    ];
    let names: Vec<domaind::model::DomainName> = (0..3000)
        .map(|i| {
            let kind = ["alpha", "bravo", "charlie"][i % 3];
            domaind::model::DomainName::parse(&format!("{kind}-trio-{i}.test")).unwrap()
        })
        .collect();
    for (t, chunk) in names.chunks(300).enumerate() {
        store.insert_domains(&format!("t{t}"), chunk).await.unwrap();
    }
    eventually(Duration::from_secs(120), "3000 rows completed", || async {
        (store.count_by_status().await.unwrap()["completed"] == 3000).then_some(())
    })
    .await;
    let pool = sqlx::PgPool::connect(&test_db.url).await.unwrap();
    let instances: Vec<String> = apps.iter().map(|a| a.instance()).collect();

    let (rows, total_attempts, max_attempts): (i64, i64, i32) =
        sqlx::query_as("SELECT COUNT(*), COALESCE(SUM(attempts), 0), COALESCE(MAX(attempts), 0) FROM domains")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (rows, total_attempts, max_attempts),
        (3000, 3000, 1),
        "one attempt per domain"
    );
    let by_instance: BTreeMap<String, i64> =
        sqlx::query_as::<_, (String, i64)>("SELECT instance, COUNT(*) FROM domain_attempts GROUP BY instance")
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(by_instance.values().sum::<i64>(), 3000, "{by_instance:?}");
    for id in &instances {
        assert!(
            by_instance.get(id).is_some_and(|n| *n > 0),
            "{id} did no work: {by_instance:?}"
        );
    }
    assert!(by_instance.keys().all(|k| instances.contains(k)), "{by_instance:?}");

    // Cluster job: each fire time once, all of them on some instance of these three.
    eventually(Duration::from_secs(20), "reaper fires recorded", || async {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM job_runs WHERE job_id = 'reclaim_expired_leases'")
            .fetch_one(&pool)
            .await
            .unwrap();
        (n >= 3).then_some(())
    })
    .await;
    let doubled: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT scheduled_for FROM job_runs WHERE job_id = 'reclaim_expired_leases'
         GROUP BY scheduled_for HAVING COUNT(*) > 1) d",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(doubled, 0, "a cluster-job time ran twice");
    let runners: Vec<String> = sqlx::query_scalar("SELECT DISTINCT instance FROM job_runs")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(runners.iter().all(|r| instances.contains(r)), "{runners:?}");
    // process_pending_domains is per instance: each of the three drained.
    let drainers: i64 =
        sqlx::query_scalar("SELECT COUNT(DISTINCT instance) FROM job_runs WHERE job_id = 'process_pending_domains'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(drainers, 3);
    pool.close().await;

    for app in apps {
        assert_eq!(app.stop().await, 0);
    }
    store.close().await;
    test_db.drop_db().await;
}
