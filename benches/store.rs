//! Store throughput with a no-op extractor: how fast the pipeline's two statements go when
//! fetching and parsing cost nothing. `claim_100` times `Store::claim` of 100 rows (ten tenants,
//! so the fair per-tenant path runs, as in the end-to-end workload); `write_100` times the fenced
//! batch write of 100 `completed` outcomes with a small metadata JSON. Elements/s = rows/s.
//!
//! SQLite always (a temporary file); PostgreSQL too when `DOMAIND_BENCH_DATABASE_URL` holds a
//! server URL (a database of its own is created there and dropped afterwards).
//! The table holds 10,000 rows throughout: finished rows are put back to `pending` (untimed)
//! whenever fewer than a batch remain.
//!
//! Run: `cargo bench --bench store`.

use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use domaind::commands::bench_db::{seed, ScratchDb};
use domaind::model::{ClaimedDomain, Metadata, Outcome, OutcomeKind, Status};
use domaind::settings::DatabaseSettings;
use domaind::store::listing::DomainFilter;
use domaind::store::Store;
use tokio::runtime::Runtime;

const ROWS: usize = 10_000;
const BATCH: usize = 100;
const LEASE: Duration = Duration::from_secs(300);
const OWNER: &str = "bench";

/// Which statement of a claim → write cycle is timed.
#[derive(Clone, Copy)]
enum Timed {
    Claim,
    Write,
}

/// One backend's database and how many of its rows are pending.
struct Bed {
    store: Store,
    pending: usize,
}

fn completed(claimed: ClaimedDomain) -> Outcome {
    let now = Utc::now();
    let meta = Metadata {
        url: Some(format!("http://{}/", claimed.domain)),
        final_url: Some(format!("http://{}/", claimed.domain)),
        status_code: Some(200),
        content_type: Some("text/html".into()),
        charset: Some("utf-8".into()),
        bytes: Some(48_213),
        title: Some("The Daily Meridian – Breaking News, Politics & Analysis".into()),
        description: Some("Independent reporting on politics, business, science & culture.".into()),
        site_name: Some("The Daily Meridian".into()),
        lang: Some("en-US".into()),
        ..Default::default()
    };
    Outcome {
        claimed,
        kind: OutcomeKind::Completed(Box::new(meta)),
        started_at: now,
        finished_at: now,
        http_status: Some(200),
    }
}

impl Bed {
    async fn new(url: &str) -> Bed {
        let settings = DatabaseSettings {
            url: url.to_string(),
            ..Default::default()
        };
        let store = Store::connect(&settings).await.expect("connect");
        store.migrate().await.expect("migrate");
        seed(&store, ROWS).await.expect("seed");
        Bed { store, pending: ROWS }
    }

    /// Puts every finished row back to `pending` (untimed).
    async fn recycle(&mut self) {
        let filter = DomainFilter {
            status: Some(Status::Completed),
            ..Default::default()
        };
        loop {
            let (moved, more) = self
                .store
                .requeue_matching(&filter, ROWS as i64)
                .await
                .expect("requeue");
            self.pending += moved as usize;
            if !more || moved == 0 {
                break;
            }
        }
    }

    /// `iters` claim → write cycles of `BATCH` rows; returns the time spent in the timed statement.
    async fn cycles(&mut self, iters: u64, timed: Timed) -> Duration {
        let mut spent = Duration::ZERO;
        for _ in 0..iters {
            if self.pending < BATCH {
                self.recycle().await;
            }
            let started = Instant::now();
            let claimed = self.store.claim(OWNER, BATCH, LEASE).await.expect("claim");
            if let Timed::Claim = timed {
                spent += started.elapsed();
            }
            assert_eq!(claimed.len(), BATCH, "the bed always has a batch pending");
            self.pending -= claimed.len();
            let outcomes: Vec<Outcome> = claimed.into_iter().map(completed).collect();
            let started = Instant::now();
            let report = self.store.write_outcomes(OWNER, &outcomes).await.expect("write");
            if let Timed::Write = timed {
                spent += started.elapsed();
            }
            assert_eq!(report.lost(), 0, "no write is fenced out");
        }
        spent
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut backends = vec![("sqlite", "sqlite:".to_string())];
    match std::env::var("DOMAIND_BENCH_DATABASE_URL") {
        Ok(url) if !url.is_empty() => backends.push(("postgres", url)),
        _ => eprintln!("store bench: PostgreSQL skipped (set DOMAIND_BENCH_DATABASE_URL to a server URL)"),
    }
    for (name, url) in backends {
        let scratch = rt.block_on(ScratchDb::create(&url)).expect("scratch database");
        let mut bed = rt.block_on(Bed::new(&scratch.url));
        let mut group = c.benchmark_group(format!("store_{name}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .throughput(Throughput::Elements(BATCH as u64));
        group.bench_function("claim_100", |b| {
            b.iter_custom(|iters| run(&rt, &mut bed, iters, Timed::Claim))
        });
        group.bench_function("write_100", |b| {
            b.iter_custom(|iters| run(&rt, &mut bed, iters, Timed::Write))
        });
        group.finish();
        rt.block_on(bed.store.close());
        rt.block_on(scratch.remove());
    }
}

fn run(rt: &Runtime, bed: &mut Bed, iters: u64, timed: Timed) -> Duration {
    rt.block_on(bed.cycles(iters, timed))
}

criterion_group!(benches, bench);
criterion_main!(benches);
