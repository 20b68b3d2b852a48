//! `domaind bench`: the shared end-to-end workload (`../shared/bench`) on the real pipeline.
//! Creates a fresh database, inserts N pending domains `site-<i>-<i % 8>.test` over ten
//! tenants, runs one drain with the same actors and settings code as `serve` (robots.txt and
//! every other check stay on), verifies every row completed with its page's expected title, and
//! prints one JSON line of measurements. The database (and the latency farm, when one was
//! started) is removed afterwards, on errors and on Ctrl-C too.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;

use super::bench_db::{seed, ScratchDb};
use super::bench_farm::FarmChild;
use super::bench_report::{cpu_seconds, expected_titles, peak_rss_mb, quantile, verify};
use crate::actors::Tick;
use crate::metrics::Histogram;
use crate::settings::{OverrideTarget, Settings};
use crate::startup::{drain_once, open_store, warn_about_overrides};
use crate::store::Backend;

/// Arguments of `domaind bench`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("site").required(true).args(["farm", "latency_ms"]))]
pub struct BenchArgs {
    /// `sqlite:` (a temporary file), `sqlite://PATH` (a new file), or a `postgres://` server URL
    /// (a new database `domaind_bench_<pid>_<n>` on it, dropped afterwards).
    #[arg(long, value_name = "URL")]
    pub database: String,
    /// How many domains to insert and process.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub domains: u32,
    /// Address of a running site farm (e.g. the shared nginx farm, 127.0.0.1:18080).
    #[arg(long, value_name = "ADDR")]
    pub farm: Option<SocketAddr>,
    /// Start a site farm of our own (a child process) delaying every response by MS.
    #[arg(long, value_name = "MS")]
    pub latency_ms: Option<u64>,
    /// `pipeline.concurrency` for the run (default: the configured value).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub concurrency: Option<u32>,
    /// The workload's expected titles.
    #[arg(long, value_name = "PATH", default_value = "../shared/bench/expected.json")]
    pub expected: PathBuf,
    /// The workload's pages (served by the farm `--latency-ms` starts).
    #[arg(long, value_name = "DIR", default_value = "../shared/bench/pages")]
    pub pages: PathBuf,
}

/// The one JSON line `domaind bench` prints.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Domains inserted.
    pub domains: usize,
    /// Domains verified `completed` with the expected title.
    pub completed: usize,
    /// `pipeline.concurrency` of the run.
    pub concurrency: usize,
    /// Parser threads of the run.
    pub parsers: usize,
    /// The farm measured against (`--farm`), or `null` with `latency_ms` set.
    pub farm: Option<String>,
    /// Latency of our own farm (`--latency-ms`), per request (robots.txt and homepage each).
    pub latency_ms: Option<u64>,
    /// First claim → last write, from the rows' claim and write times, seconds.
    pub wall_s: f64,
    /// `completed / wall_s`.
    pub domains_per_s: f64,
    /// Median per-domain claim → write, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile per-domain claim → write, milliseconds.
    pub p99_ms: f64,
    /// Peak resident set size of the domaind process (VmHWM), MiB.
    pub peak_rss_mb: f64,
    /// CPU seconds (user + system) of the domaind process during the drain.
    pub cpu_s: f64,
    /// CPU milliseconds per domain during the drain.
    pub cpu_ms_per_domain: f64,
    /// Rows per claim (mean over claims, the final empty one included).
    pub claim_batch_mean: f64,
    /// Rows of the largest claim.
    pub claim_batch_max: f64,
    /// Outcomes per fenced write (mean).
    pub write_batch_mean: f64,
    /// Outcomes of the largest fenced write.
    pub write_batch_max: f64,
    /// Mean homepage fetch time (robots.txt included), milliseconds.
    pub fetch_ms_mean: f64,
    /// Mean extraction time on the parser pool (queue wait included), milliseconds.
    pub extract_ms_mean: f64,
    /// Mean batch write time, milliseconds.
    pub db_write_ms_mean: f64,
    /// Mean claim time, milliseconds.
    pub claim_ms_mean: f64,
    /// In-process time from the Tick to the drain's answer (pipeline start and stop included), seconds.
    pub drain_s: f64,
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn mean_ms(h: &Histogram) -> f64 {
    round3(h.mean().unwrap_or(0.0) * 1000.0)
}

/// The configured settings with the benchmark's overrides: the scratch database, plain HTTP,
/// every `*.test` name sent to the farm, and the concurrency when given.
pub fn bench_settings(
    mut settings: Settings,
    db_url: &str,
    site: SocketAddr,
    concurrency: Option<usize>,
) -> anyhow::Result<Settings> {
    settings.database.url = db_url.to_string();
    settings.fetch.schemes = vec!["http".into()];
    settings.fetch.resolve_override = BTreeMap::from([("*.test".to_string(), OverrideTarget::All(site))]);
    if let Some(c) = concurrency {
        settings.pipeline.concurrency = c;
    }
    settings.validate()?;
    Ok(settings)
}

/// Runs the benchmark; returns the process exit code.
pub async fn run(args: BenchArgs, settings: Settings) -> anyhow::Result<i32> {
    let titles = expected_titles(&args.expected)?;
    let farm = match args.latency_ms {
        Some(ms) => Some(FarmChild::start(ms, &args.pages).await?),
        None => None,
    };
    let site = farm
        .as_ref()
        .map(|f| f.addr)
        .or(args.farm)
        .context("give --farm ADDR or --latency-ms MS")?;
    let db = ScratchDb::create(&args.database).await?;
    let result = tokio::select! {
        report = measure(&args, settings, &db, site, &titles) => report,
        signal = interrupted() => Err(anyhow::anyhow!("interrupted by {signal}")),
    };
    if let Some(farm) = farm {
        farm.stop();
    }
    db.remove().await;
    println!("{}", serde_json::to_string(&result?)?);
    Ok(0)
}

async fn interrupted() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let term = async {
        match signal(SignalKind::terminate()) {
            Ok(mut term) => term.recv().await,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term => "SIGTERM",
    }
}

async fn measure(
    args: &BenchArgs,
    settings: Settings,
    db: &ScratchDb,
    site: SocketAddr,
    titles: &[String],
) -> anyhow::Result<BenchReport> {
    let n = args.domains as usize;
    let settings = bench_settings(settings, &db.url, site, args.concurrency.map(|c| c as usize))?;
    warn_about_overrides(&settings);
    let store = open_store(&settings).await?;
    let result = async {
        seed(&store, n).await.context("cannot insert the domains")?;
        tracing::info!(domains = n, %site, "benchmark: domains inserted; draining");
        let cpu_before = cpu_seconds()?;
        let started = Instant::now();
        let tick = Tick {
            limit: n,
            list_domains: false,
        };
        let (drain, state) = drain_once(&settings, &store, tick).await?;
        let drain_s = started.elapsed().as_secs_f64();
        let cpu_s = cpu_seconds()? - cpu_before;
        // Read before verification, which holds pages of rows: this is the service's peak.
        let peak_rss_mb = peak_rss_mb()?;
        if let Some(error) = drain.error {
            anyhow::bail!("the drain stopped early: {error}");
        }
        let rows = verify(&store, titles, n).await?;
        let m = &state.metrics;
        Ok(BenchReport {
            backend: match db.backend {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgres",
            },
            domains: n,
            completed: rows.completed,
            concurrency: settings.pipeline.concurrency,
            parsers: settings.pipeline.parser_threads(),
            farm: args.farm.map(|a| a.to_string()),
            latency_ms: args.latency_ms,
            wall_s: round3(rows.wall_s),
            domains_per_s: round3(if rows.wall_s > 0.0 {
                rows.completed as f64 / rows.wall_s
            } else {
                0.0
            }),
            p50_ms: round3(quantile(&rows.latencies_ms, 0.5)),
            p99_ms: round3(quantile(&rows.latencies_ms, 0.99)),
            peak_rss_mb: round3(peak_rss_mb),
            cpu_s: round3(cpu_s),
            cpu_ms_per_domain: round3(cpu_s * 1000.0 / n as f64),
            claim_batch_mean: round3(m.claim_batch_size.mean().unwrap_or(0.0)),
            claim_batch_max: m.claim_batch_size.max().unwrap_or(0.0),
            write_batch_mean: round3(m.write_batch_size.mean().unwrap_or(0.0)),
            write_batch_max: m.write_batch_size.max().unwrap_or(0.0),
            fetch_ms_mean: mean_ms(&m.fetch_seconds),
            extract_ms_mean: mean_ms(&m.extract_seconds),
            db_write_ms_mean: mean_ms(&m.db_write_seconds),
            claim_ms_mean: mean_ms(&m.claim_seconds),
            drain_s: round3(drain_s),
        })
    }
    .await;
    store.close().await;
    result
}
