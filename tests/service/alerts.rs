//! Alerts end to end: the webhook (a real receiver on 127.0.0.1) hears about a job that keeps
//! failing and about a supervisor escalation — retried when the receiver refuses once; a
//! receiver that never answers holds up neither the pipeline nor the exit; and every alert is
//! an ERROR line in the real binary's log, webhook or not.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use domaind::faults::{fail_job, panic_on, Stage};
use domaind::settings::Settings;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{eventually, spawn_app_with, Db};
use crate::observability::scrape;

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
    app.process_detached(10);
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

/// A webhook that accepts connections and never answers: each connection is held open, unread,
/// until the receiver is dropped.
struct SilentReceiver {
    url: String,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SilentReceiver {
    fn start() -> SilentReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind silent receiver");
        let port = listener.local_addr().expect("silent receiver addr").port();
        listener.set_nonblocking(true).expect("nonblocking listener");
        let (accepted, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
        let (count, done) = (accepted.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            while !done.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        held.push(stream);
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        SilentReceiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            accepted,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for SilentReceiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Alerts raised while the webhook accepts the connection and never answers (each delivery
/// would wait two minutes) hold up nothing: a hundred domains added afterwards are processed
/// while the delivery hangs, and the service still stops with exit code 0.
async fn a_webhook_that_never_answers_holds_up_nothing(db: Db) {
    let silent = SilentReceiver::start();
    let url = silent.url.clone();
    let app = spawn_app_with(db, move |s| {
        s.alerts.webhook_url = url;
        s.alerts.job_failure_threshold = 1;
        s.alerts.timeout_ms = 120_000;
    })
    .await;
    // The reaper (every second in tests) fails from now on: an alert at its first failure,
    // raised on the scheduler's path.
    let started = std::time::Instant::now();
    fail_job(&app.instance(), "reclaim_expired_leases");
    eventually(Duration::from_secs(10), "the alert delivery connects", || async {
        (silent.accepted.load(Ordering::SeqCst) >= 1).then_some(())
    })
    .await;

    let tag = format!("{db:?}").to_lowercase();
    let names: Vec<String> = (0..100).map(|i| format!("alpha-silent-{tag}-{i}.test")).collect();
    let (code, _) = app.add_domains(&names).await;
    assert_eq!(code, 200);
    // Generous for a busy machine, far below the two minutes one delivery attempt may hang.
    let (code, body) = tokio::time::timeout(Duration::from_secs(30), app.process(1000))
        .await
        .expect("the pass was held up behind the hanging webhook");
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        (
            body["results"]["processed"].as_u64(),
            body["results"]["successful"].as_u64()
        ),
        (Some(100), Some(100)),
        "{body}"
    );
    let counts = app.store.count_by_status().await.unwrap();
    assert_eq!(counts["completed"], 100, "{counts:?}");
    // Measured across the whole section too: a raise that blocked the actor system's thread
    // would also stall this test's own timers, which share that thread.
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the alert and the pass took {:?}: something waited for the webhook",
        started.elapsed()
    );
    // The work above happened while the first delivery was still waiting for an answer.
    let m = scrape(&app).await;
    assert_eq!(
        m.value("domaind_alerts_total", &[("kind", "job_failing"), ("result", "sent")]),
        None,
        "nothing can have been delivered"
    );
    assert!(silent.accepted.load(Ordering::SeqCst) >= 1);
    // Shutdown waits a bounded time for undelivered alerts, then exits normally.
    let code = tokio::time::timeout(Duration::from_secs(30), app.stop())
        .await
        .expect("the hanging webhook held up the shutdown");
    assert_eq!(code, 0);
}
both_backends!(a_webhook_that_never_answers_holds_up_nothing);

/// Every alert is an ERROR line of the real binary's log even with no webhook configured: a job
/// failing `job_failure_threshold` times in a row (its table renamed away under it) and a
/// supervisor escalation (the writer panicking twice with `max_restarts = 1`), each with its
/// kind and details as fields.
#[actix_web::test]
async fn every_alert_is_an_error_line_in_the_log() {
    use sqlx::Connection;
    let fixture = crate::fixtures::start();
    let dir = std::env::temp_dir().join(format!("domaind_alert_log_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = crate::logs::log_config(
        &dir,
        &fixture,
        "[supervisor]\nmax_restarts = 1\n[alerts]\njob_failure_threshold = 2\n\
         [[scheduler.jobs]]\nid = \"prune_history\"\ntrigger = \"cron\"\nspec = \"17 3 * * *\"\n",
    );
    let log = dir.join("serve.log");
    let mut child = crate::logs::serve_with_format(&config, "json", "info,sqlx=warn", &log, None);
    let port = crate::logs::serving_port(&mut child, &log).await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("http://127.0.0.1:{port}");

    // prune_history fails while `domain_attempts` is renamed away (a broken database, for real).
    let db_url = format!("sqlite://{}", dir.join("logs.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&db_url).await.unwrap();
    sqlx::query("ALTER TABLE domain_attempts RENAME TO domain_attempts_away")
        .execute(&mut conn)
        .await
        .unwrap();
    for run in 1..=2 {
        let r = client
            .post(format!("{base}/api/v1/jobs/prune_history/run"))
            .send()
            .await
            .unwrap();
        let body: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        assert_eq!(body["outcome"], "failed", "run {run}: {body}");
    }
    sqlx::query("ALTER TABLE domain_attempts_away RENAME TO domain_attempts")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    // Two writer panics: more than `max_restarts` within the window, so the service escalates.
    let body = serde_json::json!({"domains": ["alpha-fault-writer-panic-alert-1.test", "alpha-fault-writer-panic-alert-2.test"]});
    let r = client
        .post(format!("{base}/api/v1/domains"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let status = eventually(Duration::from_secs(60), "domaind exits after the escalation", || {
        let exited = child.0.try_wait().unwrap();
        async move { exited }
    })
    .await;
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(1), "an escalation exits non-zero: {text}");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l:?}")))
        .collect();
    let alert = |kind: &str| {
        let found: Vec<&Value> = lines
            .iter()
            .filter(|l| l["message"] == "ALERT" && l["alert"] == kind)
            .collect();
        assert_eq!(found.len(), 1, "one {kind} ALERT line: {text}");
        assert_eq!(found[0]["level"], "ERROR", "{}", found[0]);
        found[0].clone()
    };
    let failing = alert("job_failing");
    assert_eq!(failing["job"], "prune_history", "{failing}");
    assert_eq!(failing["consecutive_failures"], 2, "{failing}");
    let detail = failing["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains("failed 2 times in a row") && detail.contains("domain_attempts"),
        "{failing}"
    );
    let escalation = alert("escalation");
    let detail = escalation["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains("more than 1 restarts") && detail.contains("writer"),
        "{escalation}"
    );
    fixture.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
