//! Observability end to end: `GET /metrics` is valid Prometheus text whose numbers match what
//! the service did, and the alert webhook (a real receiver on 127.0.0.1) hears about a job that
//! keeps failing and about a supervisor escalation — retried when the receiver refuses once.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use domaind::faults::{fail_job, panic_on, Stage};
use domaind::settings::Settings;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{eventually, spawn_app_with, Db, TestApp};

/// One parsed exposition: samples (name, labels, value) and each family's `# TYPE`.
struct Scrape {
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
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
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

async fn scrape(app: &TestApp) -> Scrape {
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

/// A local webhook receiver: answers 503 to the first `refuse` requests, then 200, keeping bodies.
pub(crate) struct Receiver {
    pub(crate) url: String,
    hits: Arc<AtomicUsize>,
    alerts: Arc<Mutex<Vec<Value>>>,
    handle: actix_web::dev::ServerHandle,
}

#[derive(Clone)]
struct ReceiverState {
    refuse: usize,
    hits: Arc<AtomicUsize>,
    alerts: Arc<Mutex<Vec<Value>>>,
}

async fn hook(state: web::Data<ReceiverState>, body: web::Bytes) -> HttpResponse {
    if state.hits.fetch_add(1, Ordering::SeqCst) < state.refuse {
        return HttpResponse::ServiceUnavailable().finish();
    }
    let alert = serde_json::from_slice(&body).unwrap_or(Value::String(String::from_utf8_lossy(&body).into()));
    state.alerts.lock().unwrap().push(alert);
    HttpResponse::NoContent().finish()
}

impl Receiver {
    pub(crate) fn start(refuse: usize) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        let port = listener.local_addr().expect("receiver addr").port();
        let state = ReceiverState {
            refuse,
            hits: Arc::new(AtomicUsize::new(0)),
            alerts: Arc::new(Mutex::new(Vec::new())),
        };
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(shared.clone()))
                .route("/hook", web::post().to(hook))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen receiver")
        .run();
        let handle = server.handle();
        actix_rt::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            hits: state.hits,
            alerts: state.alerts,
            handle,
        }
    }

    /// Waits until an alert of `kind` arrived; returns it.
    pub(crate) async fn wait_for(&self, kind: &str, within: Duration) -> Value {
        eventually(within, &format!("a {kind} alert"), || async {
            self.alerts.lock().unwrap().iter().find(|a| a["kind"] == kind).cloned()
        })
        .await
    }

    /// Waits until at least `n` requests arrived (refused or not).
    async fn wait_for_hits(&self, n: usize, within: Duration) {
        eventually(within, &format!("{n} webhook requests"), || async {
            (self.hits.load(Ordering::SeqCst) >= n).then_some(())
        })
        .await
    }

    fn received(&self, kind: &str) -> usize {
        self.alerts.lock().unwrap().iter().filter(|a| a["kind"] == kind).count()
    }
}

async fn a_job_failing_n_times_in_a_row_alerts_the_webhook_once(db: Db) {
    let receiver = Receiver::start(1);
    let url = receiver.url.clone();
    let app = spawn_app_with(db, move |s| {
        s.alerts.webhook_url = url;
        s.alerts.job_failure_threshold = 3;
    })
    .await;
    fail_job(&app.instance(), "process_pending_domains");
    for run in 1..=4 {
        let (code, body) = app.post("/api/v1/jobs/process_pending_domains/run").await;
        assert_eq!(code, 200, "{body}");
        assert_eq!(body["outcome"], "failed", "run {run}: {body}");
        if run < 3 {
            assert_eq!(receiver.hits.load(Ordering::SeqCst), 0, "alerted after {run} failures");
        }
    }
    // The receiver refused the first delivery (503): the alert arrives on a retry.
    let alert = receiver.wait_for("job_failing", Duration::from_secs(10)).await;
    assert!(receiver.hits.load(Ordering::SeqCst) >= 2);
    assert_eq!(alert["instance"], app.instance().as_str(), "{alert}");
    assert_eq!(alert["job"], "process_pending_domains", "{alert}");
    assert_eq!(alert["consecutive_failures"], 3, "{alert}");
    assert!(
        alert["message"].as_str().unwrap().contains("injected failure"),
        "{alert}"
    );
    chrono::DateTime::parse_from_rfc3339(alert["at"].as_str().unwrap()).expect("at is RFC 3339");

    let m = scrape(&app).await;
    let runs = m.value(
        "domaind_job_runs_total",
        &[("job", "process_pending_domains"), ("outcome", "failed")],
    );
    assert!(runs.unwrap_or(0.0) >= 4.0, "{runs:?}");
    assert_eq!(
        m.value("domaind_alerts_total", &[("kind", "job_failing"), ("result", "sent")]),
        Some(1.0)
    );
    assert_eq!(app.stop().await, 0);
    // Once per streak: the fourth failure did not alert again. Shutdown delivers every queued
    // alert first, so a duplicate would have arrived by now.
    assert_eq!(receiver.received("job_failing"), 1);
    receiver.handle.stop(false).await;
}
both_backends!(a_job_failing_n_times_in_a_row_alerts_the_webhook_once);

async fn an_escalation_alerts_the_webhook_before_the_process_exits(db: Db) {
    // The first delivery is refused, so the alert can only arrive through a retry made while
    // the service shuts down: the exit waits for it.
    let receiver = Receiver::start(1);
    let url = receiver.url.clone();
    let app = spawn_app_with(db, move |s| {
        s.alerts.webhook_url = url;
        s.supervisor.max_restarts = 1;
        s.retry.max_attempts = 1;
    })
    .await;
    let instance = app.instance();
    // Names are unique per backend: the fault registry is shared by every test in this binary.
    let tag = format!("{db:?}").to_lowercase();
    let names: Vec<String> = (0..3).map(|i| format!("alpha-escalate-{tag}-{i}.test")).collect();
    for name in &names {
        panic_on(name, Stage::Async);
    }
    app.add_domains(&names).await;
    // The pass never answers normally (the service shuts down under it), so it is not awaited.
    let pass = app
        .client
        .get(format!("{}/api/v3/dev/process-pending-domains?limit=10", app.address))
        .send();
    actix_rt::spawn(async move {
        let _ = pass.await;
    });
    receiver.wait_for_hits(1, Duration::from_secs(15)).await;
    assert_eq!(app.stop().await, 1, "an escalation exits non-zero");
    assert_eq!(
        receiver.received("escalation"),
        1,
        "the retried alert was delivered before exit"
    );
    let alert = receiver.wait_for("escalation", Duration::ZERO).await;
    assert_eq!(alert["instance"], instance.as_str(), "{alert}");
    let message = alert["message"].as_str().unwrap();
    assert!(message.contains("more than 1 restarts"), "{alert}");
    assert!(
        alert.get("job").is_none() && alert.get("consecutive_failures").is_none(),
        "{alert}"
    );
    receiver.handle.stop(false).await;
}
both_backends!(an_escalation_alerts_the_webhook_before_the_process_exits);

#[test]
fn the_alerts_section_is_validated_without_echoing_the_url() {
    let load = |toml: &str| Settings::from_sources(toml, Vec::new());
    let s = load("[alerts]\nwebhook_url = \"https://hooks.example/T0/secret\"\n").unwrap();
    assert_eq!(s.alerts.job_failure_threshold, 3);
    assert_eq!((s.alerts.timeout_ms, s.alerts.max_attempts), (5000, 5));
    for bad in ["ftp://hooks.example/x", "hooks.example/secret-path", "http://"] {
        let err = load(&format!("[alerts]\nwebhook_url = \"{bad}\"\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("alerts.webhook_url"), "{err}");
        assert!(
            !err.contains("secret") && !err.contains("hooks.example"),
            "URL echoed: {err}"
        );
    }
    let err = load("[alerts]\njob_failure_threshold = 0\n").unwrap_err().to_string();
    assert!(err.contains("alerts.job_failure_threshold"), "{err}");
    let env = vec![("DOMAIND_ALERTS__JOB_FAILURE_THRESHOLD".to_string(), "7".to_string())];
    assert_eq!(Settings::from_sources("", env).unwrap().alerts.job_failure_threshold, 7);
}
