//! `domaind demo`: the whole lifecycle in under a minute, with no database server and no
//! internet. Starts a fixture web server on loopback serving the bundled sample homepages (and
//! some broken on purpose), maps only its `*.demo.test` names to it, seeds a few hundred domains,
//! runs the real service on a temporary SQLite database with demo-friendly timeouts and backoff,
//! reports progress, and prints a summary. `--keep` leaves the service running afterwards.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use anyhow::Context as _;

use crate::model::DomainName;
use crate::settings::{OverrideTarget, Settings};
use crate::startup::Application;
use crate::store::Store;

/// Arguments of `domaind demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// How many domains to seed.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(10..=100_000))]
    pub domains: u32,
    /// Keep the service running after the summary (stop with Ctrl-C).
    #[arg(long)]
    pub keep: bool,
}

const SHOP: &str = include_str!("../../assets/demo/shop.html");
const NEWS: &str = include_str!("../../assets/demo/news.html");
const CAFE: &[u8] = include_bytes!("../../assets/demo/cafe-windows-1252.html");

/// The kinds of demo site, by the first label of their host name.
const KINDS: [&str; 8] = ["shop", "news", "cafe", "gone", "loop", "slow", "pdf", "flaky"];

/// The demo summarizes after this long even if rows are still pending, so the whole run stays
/// within the minute the README promises (with the default 300 domains it settles long before).
const DEADLINE: Duration = Duration::from_secs(45);

// Hosts of `flaky-*` already answered once (503 first, then the page).
static FLAKY_SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

async fn site(req: HttpRequest) -> HttpResponse {
    let host = req.connection_info().host().split(':').next().unwrap_or("").to_string();
    if req.path() == "/robots.txt" {
        return HttpResponse::Ok()
            .content_type("text/plain")
            .body("User-agent: *\nAllow: /\n");
    }
    let html = |body: &'static str| HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body);
    match host.split('-').next().unwrap_or("") {
        "shop" => html(SHOP),
        "news" => html(NEWS),
        "cafe" => HttpResponse::Ok()
            .content_type("text/html; charset=windows-1252")
            .body(CAFE),
        "gone" => HttpResponse::NotFound()
            .content_type("text/html")
            .body("<h1>Not found</h1>"),
        "loop" => HttpResponse::Found().insert_header(("Location", "/again")).finish(),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(4)).await;
            html(SHOP)
        }
        "pdf" => HttpResponse::Ok().content_type("application/pdf").body("%PDF-1.7"),
        "flaky" => {
            let mut seen = FLAKY_SEEN.lock().unwrap_or_else(|e| e.into_inner());
            if seen.contains(&host) {
                html(NEWS)
            } else {
                seen.push(host);
                HttpResponse::ServiceUnavailable()
                    .insert_header(("Retry-After", "1"))
                    .body("busy")
            }
        }
        _ => HttpResponse::NotFound().finish(),
    }
}

fn demo_settings(db_url: String, site_port: u16) -> anyhow::Result<Settings> {
    let mut s = Settings::default();
    s.database.url = db_url;
    s.http.bind = "127.0.0.1:0".into();
    s.fetch.schemes = vec!["http".into()];
    s.fetch.timeout_ms = 3000;
    s.fetch.resolve_override = BTreeMap::from([(
        "*.demo.test".to_string(),
        OverrideTarget::All(([127, 0, 0, 1], site_port).into()),
    )]);
    s.pipeline.lease_secs = 10;
    // A demo stopped at its deadline does not wait long for slow sites still in flight.
    s.pipeline.shutdown_grace_secs = 3;
    s.retry.base_delay_secs = 1;
    s.retry.max_attempts = 3;
    s.scheduler.jobs[0].spec = "1s".into();
    s.validate()?;
    Ok(s)
}

/// Runs the demo; returns the process exit code.
pub async fn run(args: DemoArgs) -> anyhow::Result<i32> {
    let dir = std::env::temp_dir().join(format!("domaind-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let db_url = format!("sqlite://{}?mode=rwc", dir.join("demo.db").display());

    let listener = TcpListener::bind("127.0.0.1:0").context("cannot start the demo web server")?;
    let site_port = listener.local_addr()?.port();
    let sites = HttpServer::new(|| App::new().default_service(web::to(site)))
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
    let sites_handle = sites.handle();
    actix_rt::spawn(sites);

    let settings = demo_settings(db_url, site_port)?;
    let store = Store::connect(&settings.database).await?;
    store.migrate().await?;
    let names: Vec<DomainName> = (0..args.domains as usize)
        .filter_map(|i| DomainName::parse(&format!("{}-{i}.demo.test", KINDS[i % KINDS.len()])).ok())
        .collect();
    store.insert_domains("default", &names).await?;

    let app = Application::build(settings).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    let service = actix_rt::spawn(app.run_until_stopped());
    println!(
        "domaind demo: {} domains on a temporary SQLite database ({})",
        names.len(),
        dir.display()
    );
    println!("  sample sites on 127.0.0.1:{site_port} (shop, news, a windows-1252 cafe; 404, redirect loop, slow, PDF, flaky 503)");
    println!("  dashboard: {base}/");
    println!("  API: {base}/api/v1/status   {base}/api/v1/domains   {base}/api/v1/jobs   {base}/metrics");

    let started = Instant::now();
    let counts = loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let counts = store.count_by_status().await?;
        println!(
            "  {:>4.0}s  pending {:>5}  processing {:>4}  completed {:>5}  error {:>4}",
            started.elapsed().as_secs_f64(),
            counts["pending"],
            counts["processing"],
            counts["completed"],
            counts["error"]
        );
        if (counts["pending"] == 0 && counts["processing"] == 0) || started.elapsed() > DEADLINE {
            break counts;
        }
    };
    println!("\nsummary after {:.1}s:", started.elapsed().as_secs_f64());
    for (status, n) in &counts {
        println!("  {status:<11} {n}");
    }
    let errors = store
        .list_domains(
            &crate::store::listing::DomainFilter::default(),
            0,
            500,
            crate::store::listing::Columns::Summary,
        )
        .await?;
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for row in errors.iter().filter(|r| r.status == "error") {
        *kinds.entry(row.error_kind.clone().unwrap_or_default()).or_default() += 1;
    }
    println!("  errors by kind (first 500 rows): {kinds:?}");
    if let Some(row) = store.find_domain("default", "cafe-2.demo.test").await? {
        let title = row
            .metadata
            .as_ref()
            .and_then(|m| m["title"].as_str().map(String::from));
        println!(
            "  cafe-2.demo.test: {} — title {:?} (decoded from windows-1252)",
            row.status, title
        );
    }
    if args.keep {
        println!("\nstill running: dashboard at {base}/ — Ctrl-C to stop");
    } else {
        state.request_stop();
    }
    let code = service.await.context("service task")??;
    sites_handle.stop(false).await;
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(code)
}
