//! Alerts: what an operator must hear about without watching dashboards — a supervisor
//! escalation (the process is about to exit non-zero) and a job that failed
//! `alerts.job_failure_threshold` runs in a row. Every alert is logged as an error; with
//! `alerts.webhook_url` set it is also POSTed as JSON:
//!
//! ```json
//! {"kind": "escalation" | "job_failing", "instance": "...", "message": "...",
//!  "job": "prune_history", "consecutive_failures": 3, "at": "2025-01-01T00:00:00Z"}
//! ```
//! (`job` and `consecutive_failures` only for `job_failing`).
//!
//! Raising never blocks: alerts go into a bounded queue (full → dropped, logged and counted)
//! drained by one background task, which retries each delivery with exponential backoff
//! (0.5 s doubling, capped at 30 s) up to `alerts.max_attempts` times. Network errors, 5xx, 408
//! and 429 are retried; any other non-2xx is not (the receiver refused it). Redirects are not
//! followed and no proxy is taken from the environment. A `job_failing` alert fires once per
//! failure streak (when the streak reaches the threshold); a succeeded run ends the streak.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::metrics::Metrics;
use crate::settings::AlertSettings;

/// Alerts waiting for delivery beyond this are dropped: alerts are rare, a full queue means
/// the receiver has been down for a while and the log lines carry the news anyway.
const QUEUE: usize = 64;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Why the alert sender could not start.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// The HTTP client could not be built (TLS backend).
    #[error("cannot build the alert HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    /// The delivery thread or its runtime could not be started.
    #[error("cannot start the alert delivery thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// One alert, exactly as POSTed to the webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// `escalation` or `job_failing`.
    pub kind: &'static str,
    /// The instance that raised it.
    pub instance: String,
    /// What happened, for a human.
    pub message: String,
    /// The failing job (`job_failing` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Failed runs in a row (`job_failing` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consecutive_failures: Option<u32>,
    /// When it was raised.
    pub at: DateTime<Utc>,
}

/// The alert channel of one service: failure streaks, the log line, and the webhook queue.
#[derive(Debug)]
pub struct Alerts {
    instance: String,
    threshold: u32,
    // None when no webhook is configured: alerts are only logged. The receiving task lives as
    // long as this sender; dropping `Alerts` ends it after the queue drains.
    queue: Option<mpsc::Sender<Alert>>,
    // Alerts queued or being delivered; `flush` waits for zero.
    pending: Arc<AtomicUsize>,
    // Job id → failed runs in a row. Job runs are rare, so a lock is fine here.
    streaks: Mutex<HashMap<String, u32>>,
    metrics: Arc<Metrics>,
}

impl Alerts {
    /// The alert channel for `[alerts]`; starts the delivery thread when a webhook is
    /// configured. Delivery has a thread and runtime of its own, so an alert still goes out
    /// when the actor system's thread is blocked (the watchdog's escalation) or busy.
    pub fn start(settings: &AlertSettings, instance: &str, metrics: Arc<Metrics>) -> Result<Alerts, AlertError> {
        let pending = Arc::new(AtomicUsize::new(0));
        let queue = if settings.webhook_url.is_empty() {
            None
        } else {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_millis(settings.timeout_ms))
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()?;
            let (tx, rx) = mpsc::channel(QUEUE);
            let webhook = Webhook {
                client,
                url: settings.webhook_url.clone(),
                max_attempts: settings.max_attempts.max(1),
                pending: pending.clone(),
                metrics: metrics.clone(),
            };
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            std::thread::Builder::new()
                .name("alerts".into())
                .spawn(move || runtime.block_on(webhook.run(rx)))?;
            Some(tx)
        };
        Ok(Alerts {
            instance: instance.to_string(),
            threshold: settings.job_failure_threshold.max(1),
            queue,
            pending,
            streaks: Mutex::new(HashMap::new()),
            metrics,
        })
    }

    /// The supervisor gave up (restart intensity exceeded).
    pub fn escalation(&self, why: &str) {
        self.raise(Alert {
            kind: "escalation",
            instance: self.instance.clone(),
            message: format!("supervisor escalation: {why}"),
            job: None,
            consecutive_failures: None,
            at: Utc::now(),
        });
    }

    /// Follows a job's run outcomes; raises `job_failing` when a failure streak reaches the threshold.
    pub fn job_finished(&self, job: &str, outcome: &str, error: Option<&str>) {
        let streak = {
            let mut streaks = self.streaks.lock().unwrap_or_else(|e| e.into_inner());
            match outcome {
                "succeeded" => {
                    streaks.remove(job);
                    return;
                }
                "failed" => {
                    let n = streaks.entry(job.to_string()).or_insert(0);
                    *n += 1;
                    *n
                }
                // Skipped and missed fires say nothing about whether the job body works.
                _ => return,
            }
        };
        if streak == self.threshold {
            self.raise(Alert {
                kind: "job_failing",
                instance: self.instance.clone(),
                message: format!(
                    "job {job} failed {streak} times in a row; last error: {}",
                    error.unwrap_or("(none recorded)")
                ),
                job: Some(job.to_string()),
                consecutive_failures: Some(streak),
                at: Utc::now(),
            });
        }
    }

    /// Logs the alert and queues it for the webhook; never waits.
    pub fn raise(&self, alert: Alert) {
        tracing::error!(
            alert = alert.kind,
            job = alert.job.as_deref().unwrap_or(""),
            consecutive_failures = alert.consecutive_failures.unwrap_or(0),
            detail = %alert.message,
            "ALERT"
        );
        let Some(queue) = &self.queue else { return };
        let kind = alert.kind;
        self.pending.fetch_add(1, Ordering::SeqCst);
        if let Err(e) = queue.try_send(alert) {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            self.metrics.alert(kind, "dropped");
            let why = match e {
                mpsc::error::TrySendError::Full(_) => "the alert queue is full",
                mpsc::error::TrySendError::Closed(_) => "the alert sender has stopped",
            };
            tracing::error!(alert = kind, "alert not sent to the webhook: {why}");
        }
    }

    /// Like `flush`, for threads outside any runtime (the watchdog).
    pub fn flush_blocking(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while self.pending.load(Ordering::SeqCst) > 0 {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    /// Waits up to `within` for queued alerts to be delivered (or given up); false on timeout.
    pub async fn flush(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while self.pending.load(Ordering::SeqCst) > 0 {
            if Instant::now() >= deadline {
                tracing::warn!(
                    pending = self.pending.load(Ordering::SeqCst),
                    "alerts still undelivered at exit"
                );
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }
}

struct Webhook {
    client: reqwest::Client,
    url: String,
    max_attempts: u32,
    pending: Arc<AtomicUsize>,
    metrics: Arc<Metrics>,
}

impl Webhook {
    /// Delivers queued alerts one at a time until every sender is gone.
    async fn run(self, mut rx: mpsc::Receiver<Alert>) {
        while let Some(alert) = rx.recv().await {
            let sent = self.deliver(&alert).await;
            self.metrics.alert(alert.kind, if sent { "sent" } else { "failed" });
            if !sent {
                let message = &alert.message;
                tracing::error!(alert = alert.kind, %message, "alert could not be delivered to the webhook");
            }
            self.pending.fetch_sub(1, Ordering::SeqCst);
        }
    }

    async fn deliver(&self, alert: &Alert) -> bool {
        let body = match serde_json::to_vec(alert) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "cannot encode the alert");
                return false;
            }
        };
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=self.max_attempts {
            let sent = self
                .client
                .post(&self.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            // The URL is not logged: chat webhooks carry their secret in it.
            match sent {
                Ok(r) if r.status().is_success() => return true,
                Ok(r) => {
                    let status = r.status();
                    let retry = status.is_server_error() || matches!(status.as_u16(), 408 | 429);
                    tracing::warn!(
                        attempt,
                        status = status.as_u16(),
                        retry,
                        "alert webhook refused the alert"
                    );
                    if !retry {
                        return false;
                    }
                }
                Err(e) => tracing::warn!(attempt, error = %error_chain(&e), "alert webhook unreachable"),
            }
            if attempt < self.max_attempts {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
        false
    }
}

/// An error and its causes, `: `-separated (reqwest hides the useful part in the sources).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(e), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alerts(threshold: u32) -> Alerts {
        let settings = AlertSettings {
            job_failure_threshold: threshold,
            ..AlertSettings::default()
        };
        Alerts::start(&settings, "i-1", Arc::new(Metrics::new())).unwrap()
    }

    #[test]
    fn a_failure_streak_alerts_once_at_the_threshold_and_a_success_resets_it() {
        let a = alerts(2);
        let streak = |a: &Alerts| a.streaks.lock().unwrap().get("j").copied();
        a.job_finished("j", "failed", Some("boom"));
        a.job_finished("j", "skipped", None);
        assert_eq!(streak(&a), Some(1));
        a.job_finished("j", "failed", Some("boom"));
        a.job_finished("j", "failed", Some("boom"));
        assert_eq!(streak(&a), Some(3));
        a.job_finished("j", "succeeded", None);
        assert_eq!(streak(&a), None);
    }

    #[test]
    fn the_payload_has_the_documented_fields() {
        let alert = Alert {
            kind: "job_failing",
            instance: "i-1".into(),
            message: "m".into(),
            job: Some("prune_history".into()),
            consecutive_failures: Some(3),
            at: DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        };
        let json = serde_json::to_value(&alert).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "job_failing", "instance": "i-1", "message": "m", "job": "prune_history",
                "consecutive_failures": 3, "at": "2025-01-01T00:00:00Z"})
        );
        let escalation = Alert {
            kind: "escalation",
            job: None,
            consecutive_failures: None,
            ..alert
        };
        let json = serde_json::to_value(&escalation).unwrap();
        assert!(json.get("job").is_none() && json.get("consecutive_failures").is_none());
    }
}
