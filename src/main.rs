//! The `domaind` binary: parse the command line, load settings, init logging, run a command.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use domaind::http::{parse_names, pattern_response, validate_tenant};
use domaind::settings::Settings;
use domaind::startup::{open_store, process_once, Application};
use domaind::store::Store;
use domaind::telemetry::{self, LogFormat};

/// Keeps a database of domains enriched with metadata about their homepages.
#[derive(Debug, Parser)]
#[command(name = "domaind", version, about)]
struct Cli {
    /// Config file (default: ./config.toml when it exists, else built-in defaults).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Log line format.
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service: pipeline, scheduler and HTTP (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate {
        /// Take over the Python pattern's PostgreSQL table `domains` (see the README).
        #[arg(long)]
        adopt: bool,
        /// With --adopt: the time zone the Python pattern's naive timestamps are in.
        #[arg(long, value_name = "TZ", default_value = "UTC", requires = "adopt")]
        source_timezone: String,
    },
    /// Add pending domains (arguments and/or a file with one per line; `-` reads stdin).
    Add {
        /// Hosts or URLs.
        domains: Vec<String>,
        /// File with one domain per line (`#` comments and blank lines ignored).
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Owning tenant.
        #[arg(long, default_value = "default")]
        tenant: String,
    },
    /// Run one processing pass without the HTTP server and print the result as JSON.
    Process {
        /// Most domains to process.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
        limit: u32,
    },
    /// Print counts by status, read from the database.
    Status,
    /// List jobs (schedule, next and last run, pause state), read from the database.
    Jobs,
    /// Validate the configuration and print the effective settings (secrets masked).
    CheckConfig,
    /// Run the whole lifecycle on sample sites and a temporary database (no server, no internet).
    Demo(domaind::commands::demo::DemoArgs),
    /// Print the Metadata JSON of a saved page or URL, or extract a corpus manifest.
    Extract(domaind::commands::extract::ExtractArgs),
    /// Run the shared benchmark workload end to end on a fresh database; print one JSON line.
    Bench(domaind::commands::bench::BenchArgs),
    /// The benchmark's latency-injecting site farm (started by `bench --latency-ms`).
    #[command(hide = true)]
    BenchFarm(domaind::commands::bench_farm::FarmArgs),
}

fn main() {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    let code = match actix_rt::System::new().block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            2
        }
    };
    std::process::exit(code);
}

fn load_settings(path: Option<&Path>) -> anyhow::Result<Settings> {
    let default = Path::new("config.toml");
    let path = match path {
        Some(p) => Some(p),
        None if default.exists() => Some(default),
        None => None,
    };
    Ok(Settings::load(path)?)
}

async fn run(cli: Cli) -> anyhow::Result<i32> {
    let settings = load_settings(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let (database, supervisor) = (settings.database.clone(), settings.supervisor.clone());
            let grace = Duration::from_secs(settings.pipeline.shutdown_grace_secs);
            let app = Application::build(settings).await?;
            let timeout = Duration::from_secs(supervisor.liveness_timeout_secs);
            domaind::actors::start_watchdog(app.state(), database, timeout, grace)
                .context("cannot start the watchdog")?;
            app.run_until_stopped().await
        }
        Command::Migrate {
            adopt: true,
            source_timezone,
        } => domaind::commands::adopt::run(&settings, &source_timezone).await,
        Command::Migrate { adopt: false, .. } => {
            let store = Store::connect(&settings.database).await?;
            store.migrate().await?;
            println!("migrations applied");
            Ok(0)
        }
        Command::Add { domains, file, tenant } => add(settings, domains, file, tenant).await,
        Command::Process { limit } => {
            let report = process_once(settings, limit as usize).await?;
            println!("{}", serde_json::to_string_pretty(&pattern_response(&report))?);
            Ok(if report.error.is_some() { 1 } else { 0 })
        }
        Command::Demo(args) => domaind::commands::demo::run(args).await,
        Command::Extract(args) => domaind::commands::extract::run(args, settings).await,
        Command::Bench(args) => domaind::commands::bench::run(args, settings).await,
        Command::BenchFarm(args) => domaind::commands::bench_farm::run(args).await,
        Command::CheckConfig => {
            println!("{}", serde_json::to_string_pretty(&settings.masked())?);
            eprintln!("configuration is valid");
            Ok(0)
        }
        Command::Jobs => {
            let store = open_store(&settings).await?;
            let mut jobs = Vec::new();
            for job in store.list_jobs().await? {
                let last_run = store.runs(&job.id, None, 1).await?.into_iter().next();
                let mut value = serde_json::to_value(&job)?;
                value["last_run"] = serde_json::to_value(last_run)?;
                jobs.push(value);
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({ "jobs": jobs }))?
            );
            Ok(0)
        }
        Command::Status => {
            let store = open_store(&settings).await?;
            let counts = store.count_by_status().await?;
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({ "domains": counts }))?
            );
            Ok(0)
        }
    }
}

/// Inserts in chunks so a file of millions of lines is streamed, never held whole.
async fn add(settings: Settings, args: Vec<String>, file: Option<PathBuf>, tenant: String) -> anyhow::Result<i32> {
    const CHUNK: usize = 1000;
    const SHOWN: usize = 100;
    validate_tenant(&tenant).map_err(|e| anyhow::anyhow!("--tenant {tenant:?}: {e}"))?;
    if args.is_empty() && file.is_none() {
        anyhow::bail!("nothing to add: give domains as arguments or --file FILE");
    }
    let store = open_store(&settings).await?;
    let (mut accepted, mut duplicates, mut rejected_count) = (0u64, 0u64, 0u64);
    let mut rejected_shown = Vec::new();
    let mut insert = async |chunk: &[String]| -> anyhow::Result<()> {
        let (names, rejected) = parse_names(chunk.iter().map(String::as_str));
        let report = store.insert_domains(&tenant, &names).await?;
        accepted += report.accepted;
        duplicates += report.duplicates;
        rejected_count += rejected.len() as u64;
        rejected_shown.extend(rejected.into_iter().take(SHOWN.saturating_sub(rejected_shown.len())));
        Ok(())
    };
    for chunk in args.chunks(CHUNK) {
        insert(chunk).await?;
    }
    if let Some(path) = file {
        let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(std::io::BufReader::new(
                std::fs::File::open(&path).with_context(|| format!("cannot open {}", path.display()))?,
            ))
        };
        let mut chunk = Vec::with_capacity(CHUNK);
        for line in reader.lines() {
            let line = line.with_context(|| format!("cannot read {}", path.display()))?;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            chunk.push(line.to_string());
            if chunk.len() == CHUNK {
                insert(&chunk).await?;
                chunk.clear();
            }
        }
        insert(&chunk).await?;
    }
    store.close().await;
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "accepted": accepted,
            "duplicates": duplicates,
            "rejected_count": rejected_count,
            "rejected": rejected_shown,
        }))?
    );
    Ok(if rejected_count > 0 { 1 } else { 0 })
}
