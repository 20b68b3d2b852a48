//! Claim atomicity and fencing, straight against the Store on both backends.

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use domaind::model::{DomainName, ErrorKind, Metadata, Outcome, OutcomeKind};

use crate::both_backends;
use crate::helpers::{eventually, Db, TestDb};

fn names(n: usize) -> Vec<DomainName> {
    (0..n)
        .map(|i| DomainName::parse(&format!("race-{i}.test")).unwrap())
        .collect()
}

async fn two_claimers_never_claim_the_same_row(db: Db) {
    let test_db = TestDb::create(db).await;
    let (a, b) = (test_db.store().await, test_db.store().await);
    a.insert_domains("default", &names(2000)).await.unwrap();
    let lease = Duration::from_secs(30);
    let run = |store: domaind::store::Store, owner: &'static str| async move {
        let mut ids = Vec::new();
        loop {
            let rows = store.claim(owner, 37, lease).await.unwrap();
            if rows.is_empty() {
                return ids;
            }
            ids.extend(rows.into_iter().map(|r| r.id));
            // SQLite's lock is not fair: a waiter sleeps and retries, and one claimer looping
            // without a pause can take every row first. Leave the lock free for a moment.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    let (ids_a, ids_b) = tokio::join!(run(a.clone(), "a"), run(b.clone(), "b"));
    assert!(
        !ids_a.is_empty() && !ids_b.is_empty(),
        "both claimers get rows: {} / {}",
        ids_a.len(),
        ids_b.len()
    );
    let set_a: HashSet<i64> = ids_a.iter().copied().collect();
    let set_b: HashSet<i64> = ids_b.iter().copied().collect();
    assert_eq!(set_a.len(), ids_a.len(), "a claimed a row twice");
    assert_eq!(set_b.len(), ids_b.len(), "b claimed a row twice");
    assert!(set_a.is_disjoint(&set_b), "a row was claimed by both");
    assert_eq!(set_a.len() + set_b.len(), 2000);
    let counts = a.count_by_status().await.unwrap();
    assert_eq!(counts["processing"], 2000);
    a.close().await;
    b.close().await;
    test_db.drop_db().await;
}
both_backends!(two_claimers_never_claim_the_same_row);

async fn renewal_extends_only_the_leases_still_being_worked_on(db: Db) {
    let test_db = TestDb::create(db).await;
    let store = test_db.store().await;
    store.insert_domains("default", &names(4)).await.unwrap();
    let rows = store.claim("me", 4, Duration::from_secs(1)).await.unwrap();
    assert_eq!(rows.len(), 4);
    // The process still works on two of its four claims; the other two it lost track of.
    let kept: Vec<i64> = rows[..2].iter().map(|r| r.id).collect();
    assert_eq!(
        store.renew_leases("me", &kept, Duration::from_secs(60)).await.unwrap(),
        2
    );
    // Another owner's renewal touches none of them.
    assert_eq!(
        store
            .renew_leases("other", &kept, Duration::from_secs(60))
            .await
            .unwrap(),
        0
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        store.reclaim_expired().await.unwrap(),
        2,
        "the two forgotten claims come back"
    );
    let counts = store.count_by_status().await.unwrap();
    assert_eq!((counts["processing"], counts["pending"]), (2, 2), "{counts:?}");
    store.close().await;
    test_db.drop_db().await;
}
both_backends!(renewal_extends_only_the_leases_still_being_worked_on);

fn completed(claimed: domaind::model::ClaimedDomain, title: &str) -> Outcome {
    let meta = Metadata {
        title: Some(title.into()),
        ..Default::default()
    };
    Outcome {
        claimed,
        kind: OutcomeKind::Completed(Box::new(meta)),
        started_at: Utc::now(),
        finished_at: Utc::now(),
        http_status: Some(200),
    }
}

async fn a_write_with_a_stale_claim_token_changes_nothing(db: Db) {
    let test_db = TestDb::create(db).await;
    let store = test_db.store().await;
    store.insert_domains("default", &names(1)).await.unwrap();
    // The first claim's lease expires at once; the reaper gives the row back; b claims it anew.
    let stale = store.claim("a", 1, Duration::ZERO).await.unwrap().remove(0);
    let reclaimed = eventually(Duration::from_secs(2), "the zero lease expires", || async {
        Some(store.reclaim_expired().await.unwrap()).filter(|n| *n > 0)
    })
    .await;
    assert_eq!(reclaimed, 1);
    let fresh = store.claim("b", 1, Duration::from_secs(30)).await.unwrap().remove(0);
    assert_eq!(fresh.id, stale.id);
    assert_ne!(fresh.claim_token, stale.claim_token);
    assert_eq!(fresh.attempts, 2);

    let report = store
        .write_outcomes("a", &[completed(stale.clone(), "stale")])
        .await
        .unwrap();
    assert!(!report.domains[0].applied);
    let row = store.get_domain(stale.id).await.unwrap().unwrap();
    assert_eq!(row.status, "processing");
    assert_eq!(row.lease_owner.as_deref(), Some("b"));
    assert!(row.metadata.is_none());

    let report = store
        .write_outcomes("b", &[completed(fresh.clone(), "fresh")])
        .await
        .unwrap();
    assert!(report.domains[0].applied);
    let row = store.get_domain(stale.id).await.unwrap().unwrap();
    assert_eq!(row.status, "completed");
    assert_eq!(row.metadata.unwrap()["title"], "fresh");
    // A late write under the old token still cannot overwrite the newer result.
    let report = store
        .write_outcomes("a", &[completed(stale, "stale again")])
        .await
        .unwrap();
    assert!(!report.domains[0].applied);
    let row = store.get_domain(fresh.id).await.unwrap().unwrap();
    assert_eq!(row.metadata.unwrap()["title"], "fresh");
    let attempts = store.attempts(fresh.id, 10).await.unwrap();
    let outcomes: Vec<&str> = attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, vec!["lost", "completed", "lost"]);
    store.close().await;
    test_db.drop_db().await;
}
both_backends!(a_write_with_a_stale_claim_token_changes_nothing);

async fn one_batch_writes_every_kind_of_outcome_and_fences_each_row(db: Db) {
    let test_db = TestDb::create(db).await;
    let store = test_db.store().await;
    // More than one statement chunk of the SQLite writer (500 outcomes).
    let n = 1_203;
    store.insert_domains("default", &names(n)).await.unwrap();
    let mut claimed = store.claim("a", n, Duration::from_secs(30)).await.unwrap();
    assert_eq!(claimed.len(), n);
    claimed.sort_by_key(|c| c.id);
    // The last row's claim lapses and b claims it again: a's late result shares b's batch.
    let last = claimed.pop().unwrap();
    store.release_leases("a").await.unwrap();
    let again = store.claim("b", n, Duration::from_secs(30)).await.unwrap();
    assert_eq!(again.len(), n, "every row was released back to pending");
    let fresh = again.iter().find(|c| c.id == last.id).unwrap().clone();
    let mut batch = Vec::new();
    for (i, c) in again.iter().enumerate() {
        if c.id == last.id {
            continue;
        }
        let kind = match i % 3 {
            0 => OutcomeKind::Completed(Box::new(Metadata {
                title: Some(format!("title {}", c.id)),
                ..Default::default()
            })),
            1 => OutcomeKind::Failed {
                kind: ErrorKind::Timeout,
                message: format!("slow {}", c.id),
                retry_in: Some(Duration::from_secs(3600)),
            },
            _ => OutcomeKind::Failed {
                kind: ErrorKind::HttpStatus,
                message: format!("gone {}", c.id),
                retry_in: None,
            },
        };
        batch.push(Outcome {
            claimed: c.clone(),
            kind,
            started_at: Utc::now(),
            finished_at: Utc::now(),
            http_status: Some(200),
        });
    }
    batch.push(completed(last.clone(), "stale"));
    batch.push(completed(fresh.clone(), "fresh"));
    let report = store.write_outcomes("b", &batch).await.unwrap();
    assert_eq!(report.domains.len(), n + 1);
    let applied: Vec<bool> = report.domains.iter().map(|d| d.applied).collect();
    assert_eq!(
        applied.iter().filter(|a| !**a).count(),
        1,
        "only the stale claim is fenced out"
    );
    assert!(!applied[n - 1] && applied[n]);

    for (i, c) in again.iter().enumerate() {
        let row = store.get_domain(c.id).await.unwrap().unwrap();
        assert_eq!(row.lease_owner, None, "{}", c.id);
        if c.id == last.id {
            assert_eq!(row.status, "completed");
            assert_eq!(row.metadata.unwrap()["title"], "fresh");
            continue;
        }
        match i % 3 {
            0 => {
                assert_eq!(row.status, "completed");
                assert_eq!(row.metadata.unwrap()["title"], format!("title {}", c.id));
                assert_eq!(row.error_kind, None);
            }
            1 => {
                assert_eq!(row.status, "pending");
                assert_eq!(row.error_kind.as_deref(), Some("timeout"));
                assert_eq!(row.error_message, Some(format!("slow {}", c.id)));
                let wait = row.next_attempt_at.unwrap() - Utc::now();
                assert!(
                    wait > chrono::Duration::minutes(50),
                    "retry scheduled an hour out: {wait}"
                );
            }
            _ => {
                assert_eq!(row.status, "error");
                assert_eq!(row.error_kind.as_deref(), Some("http_status"));
                assert_eq!(row.error_message, Some(format!("gone {}", c.id)));
            }
        }
    }
    let attempts = store.attempts(last.id, 10).await.unwrap();
    let mut outcomes: Vec<&str> = attempts.iter().map(|a| a.outcome.as_str()).collect();
    outcomes.sort();
    assert_eq!(outcomes, vec!["completed", "lost"]);
    let attempts = store.attempts(again[1].id, 10).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].outcome, "retry");
    store.close().await;
    test_db.drop_db().await;
}
both_backends!(one_batch_writes_every_kind_of_outcome_and_fences_each_row);

async fn a_big_tenant_does_not_starve_a_small_one(db: Db) {
    let test_db = TestDb::create(db).await;
    let store = test_db.store().await;
    let big: Vec<DomainName> = (0..2000)
        .map(|i| DomainName::parse(&format!("big-{i}.test")).unwrap())
        .collect();
    let small: Vec<DomainName> = (0..10)
        .map(|i| DomainName::parse(&format!("small-{i}.test")).unwrap())
        .collect();
    // The small tenant's rows are the newest: oldest-first claiming would reach them last.
    store.insert_domains("big", &big).await.unwrap();
    store.insert_domains("small", &small).await.unwrap();
    let first = store.claim("a", 20, Duration::from_secs(30)).await.unwrap();
    let count = |t: &str| first.iter().filter(|c| c.tenant_id == t).count();
    assert_eq!(
        (count("big"), count("small")),
        (10, 10),
        "capacity is shared across tenants"
    );
    // Once the small tenant is done, the big one gets everything.
    let next = store.claim("a", 50, Duration::from_secs(30)).await.unwrap();
    assert_eq!(next.len(), 50);
    assert!(next.iter().all(|c| c.tenant_id == "big"));
    // Three tenants, a claim of 4: shares rotate so every tenant is served across claims.
    let third: Vec<DomainName> = (0..10)
        .map(|i| DomainName::parse(&format!("third-{i}.test")).unwrap())
        .collect();
    store.insert_domains("third", &third).await.unwrap();
    store
        .insert_domains("small", &[DomainName::parse("small-late.test").unwrap()])
        .await
        .unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..3 {
        for c in store.claim("a", 3, Duration::from_secs(30)).await.unwrap() {
            seen.insert(c.tenant_id);
        }
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
    store.close().await;
    test_db.drop_db().await;
}
both_backends!(a_big_tenant_does_not_starve_a_small_one);

async fn a_tenant_cap_bounds_each_tenants_claims(db: Db) {
    let test_db = TestDb::create(db).await;
    let store = test_db.store().await;
    let names = |prefix: &str, n: usize| -> Vec<DomainName> {
        (0..n)
            .map(|i| DomainName::parse(&format!("{prefix}-{i}.test")).unwrap())
            .collect()
    };
    store.insert_domains("big", &names("big", 2000)).await.unwrap();
    store.insert_domains("small", &names("small", 10)).await.unwrap();
    let lease = Duration::from_secs(30);
    let count = |rows: &[domaind::model::ClaimedDomain], t: &str| rows.iter().filter(|c| c.tenant_id == t).count();
    // `big` already has 1 of its 4 in flight: it may take 3 more, `small` 4.
    let in_flight = std::collections::HashMap::from([("big".to_string(), 1)]);
    let (rows, capped) = store.claim_capped("a", 20, lease, 4, &in_flight).await.unwrap();
    assert_eq!((count(&rows, "big"), count(&rows, "small")), (3, 4), "per-tenant cap");
    assert!(capped, "tenants with pending rows were held back");
    // Both at their cap: nothing is claimed, and the caller learns it is the cap, not a dry queue.
    let full = std::collections::HashMap::from([("big".to_string(), 4), ("small".to_string(), 4)]);
    let (rows, capped) = store.claim_capped("a", 20, lease, 4, &full).await.unwrap();
    assert!(rows.is_empty() && capped, "{rows:?}");
    // A generous cap: `small`'s last 6 rows and the rest from `big`, equal shares first.
    let (rows, capped) = store
        .claim_capped("a", 30, lease, 100, &Default::default())
        .await
        .unwrap();
    assert_eq!((count(&rows, "big"), count(&rows, "small")), (24, 6));
    assert!(!capped);
    store.close().await;
    test_db.drop_db().await;
}
both_backends!(a_tenant_cap_bounds_each_tenants_claims);

async fn the_claim_is_an_index_scan_on_a_million_rows(db: Db) {
    let test_db = TestDb::create(db).await;
    let store = test_db.store().await;
    // A million pending rows over ten tenants, inserted by the database itself.
    let fill = match db {
        Db::Postgres => {
            "INSERT INTO domains (tenant_id, domain) SELECT 't' || (g % 10), 'd' || g || '.test'
             FROM generate_series(1, 1000000) g"
        }
        Db::Sqlite => {
            "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < 1000000)
             INSERT INTO domains (tenant_id, domain) SELECT 't' || (x % 10), 'd' || x || '.test' FROM g"
        }
    };
    let walk_uses_its_index = |plan: String| {
        assert!(
            plan.contains("domains_claimable_by_tenant"),
            "the tenant walk does not use domains_claimable_by_tenant:\n{plan}"
        );
        assert!(
            !plan.contains("Seq Scan") && !plan.contains("SCAN domains") && !plan.contains("domains_status"),
            "the tenant walk reads more than one index entry per tenant:\n{plan}"
        );
    };
    {
        use sqlx::Connection;
        match db {
            Db::Postgres => {
                let mut c = sqlx::PgConnection::connect(&test_db.url).await.unwrap();
                sqlx::query(fill).execute(&mut c).await.unwrap();
                sqlx::query("ANALYZE domains").execute(&mut c).await.unwrap();
            }
            Db::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&test_db.url).await.unwrap();
                sqlx::query(fill).execute(&mut c).await.unwrap();
                // As in production: SQLite has no statistics unless someone runs ANALYZE.
                walk_uses_its_index(store.explain_tenant_walk().await.unwrap());
                sqlx::query("ANALYZE").execute(&mut c).await.unwrap();
            }
        }
    }
    walk_uses_its_index(store.explain_tenant_walk().await.unwrap());
    for tenant in [None, Some("t3")] {
        let plan = store.explain_claim(tenant).await.unwrap();
        let index = if tenant.is_some() {
            "domains_claimable_by_tenant"
        } else {
            "domains_claimable"
        };
        assert!(plan.contains(index), "claim ({tenant:?}) does not use {index}:\n{plan}");
        assert!(
            !plan.contains("Seq Scan") && !plan.contains("SCAN domains"),
            "a full scan:\n{plan}"
        );
    }
    let claimed = store.claim("a", 100, Duration::from_secs(30)).await.unwrap();
    assert_eq!(claimed.len(), 100);
    store.close().await;
    test_db.drop_db().await;
}
both_backends!(the_claim_is_an_index_scan_on_a_million_rows);
