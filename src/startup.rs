//! The one wiring point: open the store (migrations, lease recovery), start the supervised
//! pipeline, bind the HTTP server, and run until a signal, a stop request or an escalation —
//! then shut down in order (ticks, claims, in-flight grace, writer flush, lease release, HTTP
//! last) and report the exit code.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{middleware, web, App, HttpServer};
use anyhow::Context as _;
use tokio::sync::mpsc;

use crate::actors::{load_jobs, start_pipeline, DrainReport, Pipeline, ServiceState, Shutdown, StopReason, Tick};
use crate::alerts::Alerts;
use crate::fetch::HttpClient;
use crate::http::{self, AppState};
use crate::jobs::JobDef;
use crate::settings::Settings;
use crate::store::Store;

/// Connects, migrates, and reclaims leases that expired while no instance was running.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let store = Store::connect(&settings.database).await?;
    store.migrate().await?;
    let reclaimed = store.reclaim_expired().await?;
    if reclaimed > 0 {
        tracing::warn!(reclaimed, "rows with expired leases went back to pending");
    }
    Ok(store)
}

/// Logs a warning for every setting that weakens the SSRF guard (tests and benchmarks only).
pub fn warn_about_overrides(settings: &Settings) {
    if !settings.fetch.resolve_override.is_empty() {
        tracing::warn!(
            patterns = ?settings.fetch.resolve_override.keys().collect::<Vec<_>>(),
            "fetch.resolve_override is set: these names bypass DNS and the SSRF guard (tests and benchmarks only)"
        );
    }
    if settings.fetch.allow_private {
        tracing::warn!("fetch.allow_private = true: the SSRF guard is OFF");
    }
}

/// Refuses to expose the API on a non-loopback address without a token.
pub fn check_bind(settings: &Settings) -> anyhow::Result<SocketAddr> {
    let addr: SocketAddr = settings
        .http
        .bind
        .parse()
        .with_context(|| format!("http.bind = {:?}", settings.http.bind))?;
    if !addr.ip().is_loopback() && !settings.http.auth_required() {
        anyhow::bail!(
            "refusing to bind {addr} without a token: set http.token (or DOMAIND_HTTP__TOKEN) or bind a loopback address"
        );
    }
    Ok(addr)
}

/// A built service: pipeline running, HTTP bound (not yet serving until `run_until_stopped`).
pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    pipeline: Pipeline,
    state: Arc<ServiceState>,
    store: Store,
    stop_rx: mpsc::UnboundedReceiver<StopReason>,
}

impl Application {
    /// Opens the store, starts the pipeline and binds HTTP (`http.bind` port 0 picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let addr = check_bind(&settings)?;
        warn_about_overrides(&settings);
        let store = open_store(&settings).await?;
        let (state, stop_rx) = ServiceState::new(
            settings.supervisor.max_restarts,
            Duration::from_secs(settings.supervisor.within_secs),
        );
        let state = Arc::new(state);
        state.set_alerts(Alerts::start(&settings.alerts, &state.instance, state.metrics.clone())?);
        let client = HttpClient::new(&settings.fetch).context("cannot build the HTTP client")?;
        let now = chrono::Utc::now();
        let defs = settings
            .scheduler
            .jobs
            .iter()
            .map(|j| {
                JobDef::from_settings(j, &settings.scheduler, now).map_err(|e| anyhow::anyhow!("job {}: {e}", j.id))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let jobs = load_jobs(defs, &store).await.context("cannot load jobs")?;
        let pipeline = start_pipeline(&settings, store.clone(), state.clone(), client, Some(jobs))
            .context("cannot start the pipeline")?;

        let listener = TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
        let port = listener.local_addr()?.port();
        let settings = Arc::new(settings);
        let data = web::Data::new(AppState {
            store: store.clone(),
            fetcher: pipeline.fetcher.clone(),
            scheduler: pipeline.scheduler.clone(),
            state: state.clone(),
            settings: settings.clone(),
        });
        let max_body = settings.http.max_body_bytes;
        let server = HttpServer::new(move || {
            let app = App::new()
                .app_data(data.clone())
                .wrap(middleware::from_fn(http::require_token))
                // Outermost, so requests refused by the token check are counted too.
                .wrap(middleware::from_fn(http::metrics::count_requests));
            http::configure(app, max_body)
        })
        .workers(settings.http.workers)
        // Signals are ours: actix-server's handler would stop the whole System mid-shutdown.
        .disable_signals()
        .shutdown_timeout(5)
        .listen(listener)?
        .run();
        tracing::info!(instance = %state.instance, %addr, port, "domaind serving");
        Ok(Application {
            port,
            server,
            pipeline,
            state,
            store,
            stop_rx,
        })
    }

    /// The bound HTTP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Shared service state (tests use it to request a stop).
    pub fn state(&self) -> Arc<ServiceState> {
        self.state.clone()
    }

    /// Serves until SIGTERM/SIGINT, `ServiceState::request_stop` or an escalation; returns the
    /// process exit code (0 after a requested stop, 1 after an escalation).
    pub async fn run_until_stopped(mut self) -> anyhow::Result<i32> {
        let server_handle = self.server.handle();
        let server = actix_rt::spawn(self.server);
        let reason = wait_for_stop(&mut self.stop_rx).await;
        tracing::info!(?reason, "shutting down");
        self.state.set_draining();
        if let Err(e) = self.pipeline.supervisor.send(Shutdown).await {
            tracing::error!(error = %e, "supervisor unreachable during shutdown");
        }
        if let Some(alerts) = self.state.alerts() {
            // An escalation alert is worth a short wait: the process exits right after.
            alerts.flush(Duration::from_secs(5)).await;
        }
        server_handle.stop(true).await;
        let _ = server.await;
        self.store.close().await;
        tracing::info!("stopped");
        Ok(match reason {
            StopReason::Requested => 0,
            StopReason::Escalated(_) => 1,
        })
    }
}

async fn wait_for_stop(stop_rx: &mut mpsc::UnboundedReceiver<StopReason>) -> StopReason {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM");
            return stop_rx.recv().await.unwrap_or(StopReason::Requested);
        }
    };
    tokio::select! {
        _ = term.recv() => StopReason::Requested,
        _ = tokio::signal::ctrl_c() => StopReason::Requested,
        reason = stop_rx.recv() => reason.unwrap_or(StopReason::Requested),
    }
}

/// One processing pass without HTTP or scheduler (`domaind process`): runs a drain of at most
/// `limit` domains, shuts the pipeline down cleanly, and returns the drain's report.
pub async fn process_once(settings: Settings, limit: usize) -> anyhow::Result<DrainReport> {
    warn_about_overrides(&settings);
    let store = open_store(&settings).await?;
    let tick = Tick {
        limit,
        list_domains: true,
    };
    let drained = drain_once(&settings, &store, tick).await;
    store.close().await;
    Ok(drained?.0)
}

/// Starts the pipeline (no HTTP, no scheduler) on an open store, runs one drain, shuts the
/// pipeline down cleanly, and returns the drain's report with the service state (its metrics
/// describe the drain). The store stays open. Used by `process` and `bench`.
pub async fn drain_once(
    settings: &Settings,
    store: &Store,
    tick: Tick,
) -> anyhow::Result<(DrainReport, Arc<ServiceState>)> {
    let (state, _stop_rx) = ServiceState::new(
        settings.supervisor.max_restarts,
        Duration::from_secs(settings.supervisor.within_secs),
    );
    let state = Arc::new(state);
    let client = HttpClient::new(&settings.fetch).context("cannot build the HTTP client")?;
    let pipeline =
        start_pipeline(settings, store.clone(), state.clone(), client, None).context("cannot start the pipeline")?;
    let report = pipeline.fetcher.send(tick).await.context("pipeline stopped")?;
    let _ = pipeline.supervisor.send(Shutdown).await;
    Ok((report, state))
}
