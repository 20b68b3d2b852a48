//! Observability end to end: `GET /metrics` is valid Prometheus text whose numbers match what
//! the service did. Alerts are in `alerts.rs`.

use std::collections::BTreeMap;

use crate::both_backends;
use crate::helpers::{spawn_app_with, Db, TestApp};

/// One parsed exposition: samples (name, labels, value) and each family's `# TYPE`.
pub(crate) struct Scrape {
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
    types: BTreeMap<String, String>,
}

impl Scrape {
    /// Parses the text format strictly enough to catch a malformed line.
    fn parse(text: &str) -> Scrape {
        let mut samples = Vec::new();
        let mut types = BTreeMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap_or_else(|| panic!("bad TYPE line {line:?}"));
                assert!(
                    ["counter", "gauge", "histogram"].contains(&kind),
                    "bad type in {line:?}"
                );
                assert!(
                    types.insert(name.to_string(), kind.to_string()).is_none(),
                    "TYPE twice: {line:?}"
                );
                continue;
            }
            if line.starts_with("# HELP ") {
                continue;
            }
            assert!(!line.is_empty() && !line.starts_with('#'), "unexpected line {line:?}");
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value in {line:?}"));
            let value = match value {
                "+Inf" => f64::INFINITY,
                v => v.parse().unwrap_or_else(|_| panic!("bad value in {line:?}")),
            };
            let (name, labels) = match series.split_once('{') {
                None => (series, BTreeMap::new()),
                Some((name, rest)) => {
                    let body = rest
                        .strip_suffix('}')
                        .unwrap_or_else(|| panic!("unclosed labels in {line:?}"));
                    (name, parse_labels(body, line))
                }
            };
            assert!(
                name.starts_with("domaind_") && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
                "bad metric name in {line:?}"
            );
            samples.push((name.to_string(), labels, value));
        }
        for (name, _, _) in &samples {
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| {
                    name.strip_suffix(s)
                        .filter(|f| types.get(*f).is_some_and(|t| t == "histogram"))
                })
                .unwrap_or(name);
            assert!(types.contains_key(family), "{name} has no # TYPE");
        }
        Scrape { samples, types }
    }

    /// The value of the series with exactly these labels.
    pub(crate) fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let want: BTreeMap<String, String> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.samples
            .iter()
            .find(|(n, l, _)| n == name && *l == want)
            .map(|(_, _, v)| *v)
    }

    /// Sum over every series of `name`.
    fn total(&self, name: &str) -> f64 {
        self.samples
            .iter()
            .filter(|(n, _, _)| n == name)
            .map(|(_, _, v)| v)
            .sum()
    }
}

fn parse_labels(body: &str, line: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = body.chars().peekable();
    while chars.peek().is_some() {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "label value not quoted in {line:?}");
        let mut value = String::new();
        loop {
            match chars.next() {
                Some('\\') => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(c @ ('\\' | '"')) => value.push(c),
                    other => panic!("bad escape {other:?} in {line:?}"),
                },
                Some('"') => break,
                Some(c) => value.push(c),
                None => panic!("unterminated label value in {line:?}"),
            }
        }
        assert!(labels.insert(key, value).is_none(), "duplicate label in {line:?}");
        match chars.next() {
            Some(',') | None => {}
            Some(c) => panic!("unexpected {c:?} after a label in {line:?}"),
        }
    }
    labels
}

pub(crate) async fn scrape(app: &TestApp) -> Scrape {
    let r = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(r.status().as_u16(), 200);
    let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    Scrape::parse(&r.text().await.expect("metrics body"))
}

async fn metrics_count_what_the_service_did(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let completed: Vec<String> = (0..5).map(|i| format!("alpha-m{i}.test")).collect();
    let not_found: Vec<String> = (0..3).map(|i| format!("notfound-m{i}.test")).collect();
    let (code, _) = app.add_domains(&[completed.clone(), not_found.clone()].concat()).await;
    assert_eq!(code, 200);
    let (code, body) = app.process(100).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["results"]["processed"], 8, "{body}");
    let (code, _) = app.get("/api/v1/jobs/process_pending_domains/runs").await;
    assert_eq!(code, 200);
    let (code, _) = app.get("/no/such/route").await;
    assert_eq!(code, 404);

    let m = scrape(&app).await;
    for name in [
        "domaind_build_info",
        "domaind_uptime_seconds",
        "domaind_database_up",
        "domaind_domains",
        "domaind_domains_processed_total",
        "domaind_domains_in_flight",
        "domaind_fetch_seconds",
        "domaind_extract_seconds",
        "domaind_db_write_seconds",
        "domaind_claim_seconds",
        "domaind_claim_batch_size",
        "domaind_write_batch_size",
        "domaind_actor_restarts_total",
        "domaind_job_runs_total",
        "domaind_fenced_writes_lost_total",
        "domaind_http_requests_total",
    ] {
        assert!(m.types.contains_key(name), "no {name} family");
    }
    let processed = |outcome: &str, kind: &str| {
        m.value(
            "domaind_domains_processed_total",
            &[("outcome", outcome), ("error_kind", kind)],
        )
    };
    assert_eq!(processed("completed", "none"), Some(5.0));
    assert_eq!(processed("failed", "http_status"), Some(3.0));
    assert_eq!(m.total("domaind_domains_processed_total"), 8.0);
    assert_eq!(m.value("domaind_domains", &[("status", "completed")]), Some(5.0));
    assert_eq!(m.value("domaind_domains", &[("status", "error")]), Some(3.0));
    assert_eq!(m.value("domaind_domains", &[("status", "pending")]), Some(0.0));
    assert_eq!(m.value("domaind_database_up", &[]), Some(1.0));
    assert_eq!(m.value("domaind_domains_in_flight", &[]), Some(0.0));
    assert_eq!(m.value("domaind_fenced_writes_lost_total", &[]), Some(0.0));
    assert_eq!(
        m.value("domaind_actor_restarts_total", &[("actor", "extractor")]),
        Some(0.0)
    );
    assert_eq!(
        m.value("domaind_actor_restarts_total", &[("actor", "parser")]),
        Some(0.0)
    );
    assert!(!m
        .samples
        .iter()
        .any(|(n, l, _)| n == "domaind_actor_restarts_total" && l["actor"].contains('-')));
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(m.value("domaind_build_info", &[("version", version)]), Some(1.0));
    assert!(m.value("domaind_uptime_seconds", &[]).unwrap() > 0.0);
    let succeeded = m
        .value(
            "domaind_job_runs_total",
            &[("job", "process_pending_domains"), ("outcome", "succeeded")],
        )
        .unwrap_or(0.0);
    assert!(succeeded >= 1.0, "job runs: {succeeded}");

    // Every homepage was fetched once; only the five HTML pages reached the parser.
    assert_eq!(m.value("domaind_fetch_seconds_count", &[]), Some(8.0));
    assert_eq!(m.value("domaind_extract_seconds_count", &[]), Some(5.0));
    assert_eq!(m.value("domaind_fetch_seconds_bucket", &[("le", "+Inf")]), Some(8.0));
    assert!(m.value("domaind_claim_batch_size_count", &[]).unwrap() >= 1.0);
    assert_eq!(
        m.value("domaind_claim_seconds_count", &[]),
        m.value("domaind_claim_batch_size_count", &[]),
        "one claim time per claim"
    );
    assert_eq!(m.value("domaind_claim_batch_size_sum", &[]), Some(8.0));
    assert!(m.value("domaind_db_write_seconds_count", &[]).unwrap() >= 1.0);
    let buckets: Vec<f64> = m
        .samples
        .iter()
        .filter(|(n, _, _)| n == "domaind_fetch_seconds_bucket")
        .map(|(_, _, v)| *v)
        .collect();
    assert!(
        buckets.windows(2).all(|w| w[0] <= w[1]),
        "buckets not cumulative: {buckets:?}"
    );

    // Requests are counted by route pattern, not by path.
    let requests =
        |route: &str, status: &str| m.value("domaind_http_requests_total", &[("route", route), ("status", status)]);
    assert_eq!(requests("/api/v1/domains", "200"), Some(1.0));
    assert_eq!(requests("/api/v3/dev/process-pending-domains", "200"), Some(1.0));
    assert_eq!(requests("/api/v1/jobs/{id}/runs", "200"), Some(1.0));
    assert_eq!(requests("unmatched", "404"), Some(1.0));
    // The scrape itself is counted once it has answered.
    assert_eq!(requests("/metrics", "200"), None);
    let again = scrape(&app).await;
    assert_eq!(
        again.value(
            "domaind_http_requests_total",
            &[("route", "/metrics"), ("status", "200")]
        ),
        Some(1.0)
    );
    assert_eq!(app.stop().await, 0);
}
both_backends!(metrics_count_what_the_service_did);
