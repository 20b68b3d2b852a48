//! The watchdog: an OS thread, outside the actor system, for the one failure the Supervisor
//! cannot see — a handler that blocks the actor system's thread (an endless loop, a blocking
//! call on the async thread). Every actor, the Supervisor included, stops with that thread, so
//! the Supervisor's liveness rounds (`ServiceState::beat`, every `supervisor.ping_interval_ms`)
//! stop too. When none has happened for `supervisor.liveness_timeout_secs`, the watchdog
//! escalates: readiness turns 503 (HTTP workers have their own threads), the escalation is logged
//! and alerted (the webhook has a delivery thread of its own), and the normal shutdown gets `pipeline.shutdown_grace_secs` to run in
//! case the thread comes back. If the process is still there then, the watchdog releases this
//! instance's leases over a connection of its own and exits with code 1, so systemd or
//! Kubernetes restarts the process and no row waits for its lease to expire.
//!
//! Only `serve` starts it: it ends the process, which an in-process test harness must not do.

use std::sync::Arc;
use std::time::Duration;

use super::state::ServiceState;
use crate::settings::DatabaseSettings;
use crate::store::Store;

/// Exit code after an escalation (as after any other escalation).
pub const EXIT_ESCALATED: i32 = 1;

/// Starts the watchdog thread.
pub fn start_watchdog(
    state: Arc<ServiceState>,
    database: DatabaseSettings,
    timeout: Duration,
    grace: Duration,
) -> std::io::Result<()> {
    let every = (timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || loop {
            std::thread::sleep(every);
            let silent = state.since_beat();
            if silent <= timeout {
                continue;
            }
            let why = format!(
                "the actor system has not run for {} ms (a handler is blocking its thread)",
                silent.as_millis()
            );
            tracing::error!(
                silent_ms = silent.as_millis() as u64,
                "watchdog: the actor system stopped answering"
            );
            state.escalate(why);
            std::thread::sleep(grace + Duration::from_secs(2));
            tracing::error!("watchdog: the graceful shutdown did not finish; releasing leases and exiting");
            release_leases(&database, &state.instance);
            // The escalation alert is delivered by a thread of its own: give it a moment.
            if let Some(alerts) = state.alerts() {
                if !alerts.flush_blocking(Duration::from_secs(5)) {
                    tracing::error!("watchdog: the escalation alert is still undelivered at exit");
                }
            }
            std::process::exit(EXIT_ESCALATED);
        })?;
    Ok(())
}

/// Best effort, bounded: with the database down the leases expire and the rows come back anyway.
fn release_leases(database: &DatabaseSettings, instance: &str) {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(error = %e, "watchdog: no runtime to release leases; they will expire");
            return;
        }
    };
    let released = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(5), async {
            let store = Store::connect(database).await?;
            let released = store.release_leases(instance).await;
            store.close().await;
            released
        })
        .await
    });
    match released {
        Ok(Ok(n)) => tracing::info!(released = n, "watchdog: unfinished leases released back to pending"),
        Ok(Err(e)) => tracing::error!(error = %e, "watchdog: could not release leases; they will expire"),
        Err(_) => tracing::error!("watchdog: releasing leases timed out; they will expire"),
    }
}
