//! `ServiceState`: what the running service knows about itself, shared by actors, parser
//! threads and HTTP handlers — instance id, per-actor restarts and last failure, restart
//! intensity, and the draining/escalated flags readiness reports.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::alerts::Alerts;
use crate::metrics::Metrics;

/// Why the service is stopping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// SIGTERM/SIGINT or an explicit request: exit 0 after a graceful shutdown.
    Requested,
    /// Restart intensity exceeded: exit non-zero so the process manager restarts us.
    Escalated(String),
}

/// One actor's (or actor group's) health, as shown by `/api/v1/status`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActorSnapshot {
    /// Actor name (`db_writer`, `extractor-3`, `parser`, ...).
    pub name: String,
    /// `running` or `stopped`.
    pub state: String,
    /// Restarts since the service started.
    pub restarts: u64,
    /// The latest failure's message.
    pub last_failure: Option<String>,
    /// When it last failed.
    pub last_failure_at: Option<DateTime<Utc>>,
    /// When it last (re)started.
    pub started_at: DateTime<Utc>,
    /// Seconds since it last (re)started.
    pub uptime_secs: i64,
}

impl ActorSnapshot {
    fn new(name: &str) -> ActorSnapshot {
        ActorSnapshot {
            name: name.to_string(),
            state: "running".into(),
            restarts: 0,
            last_failure: None,
            last_failure_at: None,
            started_at: Utc::now(),
            uptime_secs: 0,
        }
    }
}

#[derive(Debug)]
struct Actors {
    by_name: BTreeMap<String, ActorSnapshot>,
    recent_restarts: VecDeque<Instant>,
}

/// Shared, thread-safe service state.
#[derive(Debug)]
pub struct ServiceState {
    /// This process's instance id (unique per start).
    pub instance: String,
    /// When the service started.
    pub started_at: DateTime<Utc>,
    /// This service's Prometheus metrics.
    pub metrics: Arc<Metrics>,
    // Set once by the wiring (`serve`); without it alerts are not raised.
    alerts: OnceLock<Alerts>,
    actors: Mutex<Actors>,
    draining: AtomicBool,
    escalated: AtomicBool,
    fenced_writes_lost: AtomicU64,
    // Milliseconds since `clock` at the Supervisor's last liveness round (the watchdog reads it).
    clock: Instant,
    heartbeat_ms: AtomicU64,
    max_restarts: u32,
    within: Duration,
    stop_tx: mpsc::UnboundedSender<StopReason>,
}

impl ServiceState {
    /// Creates the state and the receiver on which stop requests arrive.
    pub fn new(max_restarts: u32, within: Duration) -> (ServiceState, mpsc::UnboundedReceiver<StopReason>) {
        let (stop_tx, stop_rx) = mpsc::unbounded_channel();
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| "host".into());
        let nanos = Utc::now().timestamp_subsec_nanos();
        let state = ServiceState {
            instance: format!("{}-{}-{:05x}", host.trim(), std::process::id(), nanos & 0xfffff),
            started_at: Utc::now(),
            metrics: Arc::new(Metrics::new()),
            alerts: OnceLock::new(),
            actors: Mutex::new(Actors {
                by_name: BTreeMap::new(),
                recent_restarts: VecDeque::new(),
            }),
            draining: AtomicBool::new(false),
            escalated: AtomicBool::new(false),
            fenced_writes_lost: AtomicU64::new(0),
            clock: Instant::now(),
            heartbeat_ms: AtomicU64::new(0),
            max_restarts,
            within,
            stop_tx,
        };
        (state, stop_rx)
    }

    fn actors(&self) -> std::sync::MutexGuard<'_, Actors> {
        // A panic while holding this lock cannot leave it inconsistent (plain counters).
        self.actors.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks an actor as (re)started.
    pub fn started(&self, name: &str) {
        let now = Utc::now();
        let mut actors = self.actors();
        let entry = actors
            .by_name
            .entry(name.to_string())
            .or_insert_with(|| ActorSnapshot::new(name));
        entry.state = "running".into();
        entry.started_at = now;
    }

    /// Marks an actor as stopped (clean stop, not a failure).
    pub fn stopped(&self, name: &str) {
        if let Some(a) = self.actors().by_name.get_mut(name) {
            a.state = "stopped".into();
        }
    }

    /// Records a crash and the restart that follows; escalates when restart intensity is
    /// exceeded (`max_restarts` within `within`). Returns the actor's restart count.
    pub fn record_restart(&self, name: &str, failure: &str) -> u64 {
        let now = Instant::now();
        let (restarts, exceeded) = {
            let mut actors = self.actors();
            actors.recent_restarts.push_back(now);
            while actors
                .recent_restarts
                .front()
                .is_some_and(|t| now.duration_since(*t) > self.within)
            {
                actors.recent_restarts.pop_front();
            }
            let exceeded = actors.recent_restarts.len() > self.max_restarts as usize;
            let entry = actors
                .by_name
                .entry(name.to_string())
                .or_insert_with(|| ActorSnapshot::new(name));
            entry.restarts += 1;
            entry.last_failure = Some(failure.chars().take(500).collect());
            entry.last_failure_at = Some(Utc::now());
            (entry.restarts, exceeded)
        };
        tracing::error!(actor = name, restarts, failure, "actor crashed; restarting");
        if exceeded {
            self.escalate(format!(
                "more than {} restarts within {}s (last: {name}: {failure})",
                self.max_restarts,
                self.within.as_secs()
            ));
        }
        restarts
    }

    /// Gives up: readiness turns 503 and the service stops with a non-zero exit code.
    pub fn escalate(&self, why: String) {
        if !self.escalated.swap(true, Ordering::SeqCst) {
            tracing::error!(reason = %why, "supervisor escalation: shutting down with a failure exit code");
            if let Some(alerts) = self.alerts.get() {
                alerts.escalation(&why);
            }
            let _ = self.stop_tx.send(StopReason::Escalated(why));
        }
    }

    /// Installs the alert channel (once; later calls are ignored).
    pub fn set_alerts(&self, alerts: Alerts) {
        let _ = self.alerts.set(alerts);
    }

    /// The alert channel, when installed.
    pub fn alerts(&self) -> Option<&Alerts> {
        self.alerts.get()
    }

    /// Counts a finished job run and alerts when the job keeps failing.
    pub fn job_run_finished(&self, job: &str, outcome: &str, error: Option<&str>) {
        self.metrics.job_run(job, outcome);
        if let Some(alerts) = self.alerts.get() {
            alerts.job_finished(job, outcome, error);
        }
    }

    /// Asks the service to stop gracefully (as SIGTERM does).
    pub fn request_stop(&self) {
        let _ = self.stop_tx.send(StopReason::Requested);
    }

    /// Enters draining: readiness turns 503, no new work is claimed.
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// True once shutdown has begun.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// True once the supervisor gave up.
    pub fn is_escalated(&self) -> bool {
        self.escalated.load(Ordering::SeqCst)
    }

    /// Counts result writes refused by fencing.
    pub fn add_fenced_writes_lost(&self, n: u64) {
        self.fenced_writes_lost.fetch_add(n, Ordering::Relaxed);
    }

    /// Result writes refused by fencing so far.
    pub fn fenced_writes_lost(&self) -> u64 {
        self.fenced_writes_lost.load(Ordering::Relaxed)
    }

    /// Every actor's health, with uptimes computed now.
    pub fn snapshot(&self) -> Vec<ActorSnapshot> {
        let now = Utc::now();
        self.actors()
            .by_name
            .values()
            .map(|a| ActorSnapshot {
                uptime_secs: (now - a.started_at).num_seconds(),
                ..a.clone()
            })
            .collect()
    }

    /// Restarts of the actor called `name`.
    pub fn restarts_of(&self, name: &str) -> u64 {
        self.actors().by_name.get(name).map_or(0, |a| a.restarts)
    }

    /// The Supervisor's liveness round ran (the actor system's thread is not blocked).
    pub fn beat(&self) {
        self.heartbeat_ms
            .store(self.clock.elapsed().as_millis() as u64, Ordering::SeqCst);
    }

    /// Time since the last `beat` (since start when none happened yet).
    pub fn since_beat(&self) -> Duration {
        let last = Duration::from_millis(self.heartbeat_ms.load(Ordering::SeqCst));
        self.clock.elapsed().saturating_sub(last)
    }

    /// Total restarts of actors whose name starts with `prefix`.
    pub fn restarts(&self, prefix: &str) -> u64 {
        self.actors()
            .by_name
            .values()
            .filter(|a| a.name.starts_with(prefix))
            .map(|a| a.restarts)
            .sum()
    }
}
