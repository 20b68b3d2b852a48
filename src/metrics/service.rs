//! `Metrics`: every `domaind_*` series, what each label may take, the bucket bounds, and the
//! render of one scrape. Values the service already keeps elsewhere (counts by status, actor
//! restarts, fenced writes, uptime) are read at scrape time into a `Snapshot`, not duplicated.

use std::collections::BTreeMap;
use std::time::Duration;

use super::family::{BoundedFamily, FixedFamily};
use super::primitives::{Counter, Gauge, Histogram};
use super::text::Exposition;
use crate::model::{ErrorKind, Outcome, OutcomeKind};
use crate::store::WriteReport;

/// The `Content-Type` of `GET /metrics`.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `outcome` values of `domaind_domains_processed_total` (as in `domain_attempts.outcome`).
const OUTCOMES: [&str; 5] = ["completed", "not_modified", "retry", "failed", "lost"];
/// `error_kind` of an attempt that did not fail.
const NO_ERROR: &str = "none";

// Fetches are bounded by fetch.timeout_ms (15 s by default); the tail buckets show timeouts.
static FETCH_BOUNDS: [f64; 11] = [0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0];
// Extraction is CPU work on bounded input: sub-millisecond to about a second.
static EXTRACT_BOUNDS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];
// A batch write is milliseconds; seconds mean the database is slow or being retried.
static DB_WRITE_BOUNDS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
// Rows per claim statement; `le="0"` counts claims that found nothing (the end of a drain).
static CLAIM_BOUNDS: [f64; 10] = [0.0, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0];
// Outcomes per fenced write; `writer.batch_size` (200 by default) caps it.
static WRITE_BATCH_BOUNDS: [f64; 9] = [1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 200.0, 500.0, 1000.0];

/// Job ids × outcomes stay far below this; the cap only guards against a bug.
const MAX_JOB_SERIES: usize = 256;
/// Route patterns × status codes; the route table is fixed, so this is a safety net too.
const MAX_HTTP_SERIES: usize = 1024;

/// The service's metrics. One per `ServiceState` (so tests running several services in one
/// process see only their own numbers).
#[derive(Debug)]
pub struct Metrics {
    /// `domaind_domains_processed_total{outcome,error_kind}`: attempts whose result was written.
    pub domains_processed: FixedFamily<Counter>,
    /// `domaind_domains_in_flight`: domains claimed and not yet written on this instance.
    pub domains_in_flight: Gauge,
    /// `domaind_fetch_seconds`: homepage fetch time (robots.txt, redirects, body included).
    pub fetch_seconds: Histogram,
    /// `domaind_extract_seconds`: time from handing a page to the parser pool to its metadata.
    pub extract_seconds: Histogram,
    /// `domaind_db_write_seconds`: time to store one result batch, retries included.
    pub db_write_seconds: Histogram,
    /// `domaind_claim_seconds`: time of one claim (the fair claim's statements together).
    pub claim_seconds: Histogram,
    /// `domaind_claim_batch_size`: rows returned by one claim statement.
    pub claim_batch_size: Histogram,
    /// `domaind_write_batch_size`: outcomes stored by one fenced batch write.
    pub write_batch_size: Histogram,
    /// `domaind_job_runs_total{job,outcome}`: job runs by final outcome.
    pub job_runs: BoundedFamily<Counter>,
    /// `domaind_http_requests_total{route,status}`: HTTP requests by matched route pattern.
    pub http_requests: BoundedFamily<Counter>,
    /// `domaind_alerts_total{kind,result}`: alerts sent, failed (retries exhausted) or dropped.
    pub alerts: FixedFamily<Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// What one outcome of a batch will be counted as, taken before the batch is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptLabels {
    /// `domains.id` (matches the write report's rows).
    pub id: i64,
    /// The outcome if the fenced write applies (`lost` replaces it otherwise).
    pub outcome: &'static str,
    /// `error_kind`, or `none`.
    pub error_kind: &'static str,
}

/// Labels for every outcome of a batch.
pub fn attempt_labels(batch: &[Outcome]) -> Vec<AttemptLabels> {
    batch
        .iter()
        .map(|o| {
            let (outcome, error_kind) = match &o.kind {
                OutcomeKind::Completed(_) => ("completed", NO_ERROR),
                OutcomeKind::NotModified => ("not_modified", NO_ERROR),
                OutcomeKind::Failed {
                    kind,
                    retry_in: Some(_),
                    ..
                } => ("retry", kind.as_str()),
                OutcomeKind::Failed {
                    kind, retry_in: None, ..
                } => ("failed", kind.as_str()),
            };
            AttemptLabels {
                id: o.claimed.id,
                outcome,
                error_kind,
            }
        })
        .collect()
}

/// Values read at scrape time from where the service keeps them.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Rows per status, or `None` when the database did not answer in time.
    pub domains: Option<BTreeMap<String, i64>>,
    /// `(actor name, restarts)` for every actor; numbered names are grouped.
    pub actor_restarts: Vec<(String, u64)>,
    /// Result writes refused by fencing since start.
    pub fenced_writes_lost: u64,
    /// Seconds since the service started.
    pub uptime_seconds: f64,
}

/// `extractor-3` → `extractor`: numbered actors are one label value, so the set stays closed.
fn actor_group(name: &str) -> &str {
    match name.rsplit_once('-') {
        Some((group, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => group,
        _ => name,
    }
}

impl Metrics {
    /// Every series at zero.
    pub fn new() -> Metrics {
        let kinds = std::iter::once(NO_ERROR)
            .chain(ErrorKind::ALL.iter().map(|k| k.as_str()))
            .collect();
        Metrics {
            domains_processed: FixedFamily::new(
                &["outcome", "error_kind"],
                vec![OUTCOMES.to_vec(), kinds],
                Counter::new,
            ),
            domains_in_flight: Gauge::new(),
            fetch_seconds: Histogram::new(&FETCH_BOUNDS),
            extract_seconds: Histogram::new(&EXTRACT_BOUNDS),
            db_write_seconds: Histogram::new(&DB_WRITE_BOUNDS),
            claim_seconds: Histogram::new(&DB_WRITE_BOUNDS),
            claim_batch_size: Histogram::new(&CLAIM_BOUNDS),
            write_batch_size: Histogram::new(&WRITE_BATCH_BOUNDS),
            job_runs: BoundedFamily::new(&["job", "outcome"], MAX_JOB_SERIES, Counter::new),
            http_requests: BoundedFamily::new(&["route", "status"], MAX_HTTP_SERIES, Counter::new),
            alerts: FixedFamily::new(
                &["kind", "result"],
                vec![vec!["escalation", "job_failing"], vec!["sent", "failed", "dropped"]],
                Counter::new,
            ),
        }
    }

    /// Counts a written batch: one `domains_processed_total` per row, the write's duration and size.
    pub fn record_batch(&self, attempts: &[AttemptLabels], report: &WriteReport, took: Duration) {
        self.db_write_seconds.observe_duration(took);
        self.write_batch_size.observe(report.domains.len() as f64);
        for (i, written) in report.domains.iter().enumerate() {
            // Reports keep the batch's order; the search is only a fallback.
            let labels = attempts
                .get(i)
                .filter(|a| a.id == written.id)
                .or_else(|| attempts.iter().find(|a| a.id == written.id));
            let (outcome, error_kind) = match labels {
                Some(a) if written.applied => (a.outcome, a.error_kind),
                Some(a) => ("lost", a.error_kind),
                None => (
                    if written.applied { "failed" } else { "lost" },
                    ErrorKind::Internal.as_str(),
                ),
            };
            if let Some(c) = self.domains_processed.get(&[outcome, error_kind]) {
                c.inc();
            }
        }
    }

    /// Counts one finished job run (`succeeded`, `failed`, `skipped`, `missed`).
    pub fn job_run(&self, job: &str, outcome: &str) {
        self.job_runs.with(&[job, outcome], Counter::inc);
    }

    /// Counts one HTTP request; `route` is the matched pattern (`unmatched` when none).
    pub fn http_request(&self, route: &str, status: u16) {
        let status = status.to_string();
        self.http_requests.with(&[route, &status], Counter::inc);
    }

    /// Counts an alert's fate: `sent`, `failed` or `dropped`.
    pub fn alert(&self, kind: &str, result: &str) {
        if let Some(c) = self.alerts.get(&[kind, result]) {
            c.inc();
        }
    }

    /// The whole exposition for one scrape.
    pub fn render(&self, snap: &Snapshot) -> String {
        let mut out = Exposition::new();
        out.header("domaind_build_info", "Build of the running binary (always 1).", "gauge");
        out.sample("domaind_build_info", &[("version", env!("CARGO_PKG_VERSION"))], 1);
        out.header("domaind_uptime_seconds", "Seconds since the service started.", "gauge");
        out.sample("domaind_uptime_seconds", &[], snap.uptime_seconds);
        out.header(
            "domaind_database_up",
            "1 when the database answered the scrape's count query in time, else 0.",
            "gauge",
        );
        out.sample("domaind_database_up", &[], u8::from(snap.domains.is_some()));
        if let Some(counts) = &snap.domains {
            out.header(
                "domaind_domains",
                "Rows in the domains table by status (all instances).",
                "gauge",
            );
            for (status, n) in counts {
                out.sample("domaind_domains", &[("status", status)], n);
            }
        }
        self.domains_processed.write(
            &mut out,
            "domaind_domains_processed_total",
            "Attempts written, by outcome (completed, not_modified, retry, failed, lost) and error_kind \
             (none when it did not fail).",
        );
        out.single(
            "domaind_domains_in_flight",
            "Domains claimed by this instance and not yet written.",
            &self.domains_in_flight,
        );
        out.single("domaind_fetch_seconds", "Homepage fetch time.", &self.fetch_seconds);
        out.single(
            "domaind_extract_seconds",
            "Metadata extraction time on the parser pool (queue wait included).",
            &self.extract_seconds,
        );
        out.single(
            "domaind_db_write_seconds",
            "Time to store one batch of results (retries included).",
            &self.db_write_seconds,
        );
        out.single(
            "domaind_claim_seconds",
            "Time of one claim (a fair claim's statements together).",
            &self.claim_seconds,
        );
        out.single(
            "domaind_claim_batch_size",
            "Rows returned by one claim statement.",
            &self.claim_batch_size,
        );
        out.single(
            "domaind_write_batch_size",
            "Outcomes stored by one fenced batch write.",
            &self.write_batch_size,
        );
        out.header(
            "domaind_actor_restarts_total",
            "Actor restarts after a crash; numbered actors (extractor, parser) are grouped.",
            "counter",
        );
        let mut groups: BTreeMap<&str, u64> = BTreeMap::new();
        for (name, restarts) in &snap.actor_restarts {
            *groups.entry(actor_group(name)).or_default() += restarts;
        }
        for (actor, restarts) in groups {
            out.sample("domaind_actor_restarts_total", &[("actor", actor)], restarts);
        }
        self.job_runs.write(
            &mut out,
            "domaind_job_runs_total",
            "Job runs by outcome (succeeded, failed, skipped, missed).",
        );
        out.header(
            "domaind_fenced_writes_lost_total",
            "Result writes refused by fencing (the claim had been reclaimed).",
            "counter",
        );
        out.sample("domaind_fenced_writes_lost_total", &[], snap.fenced_writes_lost);
        self.http_requests.write(
            &mut out,
            "domaind_http_requests_total",
            "HTTP requests by matched route pattern and status code.",
        );
        self.alerts.write(
            &mut out,
            "domaind_alerts_total",
            "Alerts by kind and delivery result (sent, failed, dropped).",
        );
        out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::WrittenDomain;

    #[test]
    fn numbered_actors_are_grouped() {
        assert_eq!(actor_group("extractor-12"), "extractor");
        assert_eq!(actor_group("parser-0"), "parser");
        assert_eq!(actor_group("db_writer"), "db_writer");
        assert_eq!(actor_group("x-"), "x-");
    }

    #[test]
    fn a_scrape_shows_what_was_recorded() {
        let m = Metrics::new();
        let attempts = vec![
            AttemptLabels {
                id: 1,
                outcome: "completed",
                error_kind: "none",
            },
            AttemptLabels {
                id: 2,
                outcome: "failed",
                error_kind: "http_status",
            },
        ];
        let written = |id, applied| WrittenDomain {
            id,
            domain: format!("d{id}"),
            success: id == 1,
            applied,
        };
        let report = WriteReport {
            domains: vec![written(1, true), written(2, false)],
        };
        m.record_batch(&attempts, &report, Duration::from_millis(3));
        m.job_run("prune_history", "failed");
        m.http_request("/metrics", 200);
        let text = m.render(&Snapshot {
            domains: None,
            actor_restarts: vec![
                ("extractor-0".into(), 1),
                ("extractor-1".into(), 2),
                ("fetcher".into(), 0),
            ],
            fenced_writes_lost: 1,
            uptime_seconds: 2.5,
        });
        for line in [
            "domaind_domains_processed_total{outcome=\"completed\",error_kind=\"none\"} 1",
            "domaind_domains_processed_total{outcome=\"lost\",error_kind=\"http_status\"} 1",
            "domaind_database_up 0",
            "domaind_actor_restarts_total{actor=\"extractor\"} 3",
            "domaind_actor_restarts_total{actor=\"fetcher\"} 0",
            "domaind_job_runs_total{job=\"prune_history\",outcome=\"failed\"} 1",
            "domaind_http_requests_total{route=\"/metrics\",status=\"200\"} 1",
            "domaind_db_write_seconds_bucket{le=\"0.005\"} 1",
            "domaind_db_write_seconds_count 1",
            "domaind_write_batch_size_bucket{le=\"1\"} 0",
            "domaind_write_batch_size_bucket{le=\"5\"} 1",
            "domaind_uptime_seconds 2.5",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        assert!(
            !text.contains("domaind_domains{"),
            "no counts without the database:\n{text}"
        );
    }
}
