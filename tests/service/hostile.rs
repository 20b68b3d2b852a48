//! The hostile-input suite (issue 6): the real binary against the hostile web
//! (`hostile_web.rs`). Every hostile page ends in a classified outcome within the configured
//! time, stored metadata stays bounded, nothing panics, the process exits 0 on SIGTERM, and
//! the peak RSS of domaind over the whole suite stays within 256 MiB.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::domaind;
use crate::helpers::{eventually, Db, KillOnDrop, TestDb};
use crate::hostile_bodies::{GzipBomb, BAD_BYTES, BOMB_BYTES};
use crate::hostile_web;

/// `fetch.timeout_ms`: the whole-attempt budget.
const TIMEOUT_MS: u64 = 3000;
/// `retry.max_attempts` and `retry.base_delay_secs`.
const MAX_ATTEMPTS: u64 = 2;
const BASE_DELAY_SECS: u64 = 1;
/// `fetch.max_body_bytes` (the default).
const MAX_BODY_BYTES: u64 = 5_000_000;
/// The memory budget of the whole suite.
const RSS_BUDGET_KIB: u64 = 256 * 1024;
/// Beyond the fetch budget: start-up, the 200 ms claim interval, parsing a capped page on a
/// debug build on a shared machine, the write. Generous: the point is "bounded", not "fast".
const SLACK: Duration = Duration::from_secs(20);
/// Largest `metadata` JSON of any row (JSON-LD alone may take 64 KiB).
const MAX_METADATA_BYTES: usize = 128 * 1024;

/// How a domain must end: `Ok(title)` completed, or `Err(error_kind)`.
fn expected() -> Vec<(String, Result<&'static str, &'static str>)> {
    let mut all: Vec<(String, Result<&str, &str>)> = vec![
        ("control-1.test".into(), Ok("Control page")),
        ("controlgz-1.test".into(), Ok("Gzip control")),
        ("controlbr-1.test".into(), Ok("Brotli control")),
        ("huge-1.test".into(), Err("too_large")),
        ("hugedeclared-1.test".into(), Err("too_large")),
        ("gzipbomb-1.test".into(), Err("too_large")),
        ("brotlibomb-1.test".into(), Err("too_large")),
        ("trickle-1.test".into(), Err("timeout")),
        ("tricklehead-1.test".into(), Err("timeout")),
        ("redirect-1.test".into(), Err("redirect_loop")),
        ("deep-1.test".into(), Ok("Deep body")),
        ("deephead-1.test".into(), Ok("Deep head")),
        ("attr-1.test".into(), Ok("Attribute")),
        ("unknowncharset-1.test".into(), Ok("Café Klingon")),
        ("jsonld-1.test".into(), Err("too_large")),
        // JSON-LD `name` comes before `<title>` in the title's fallback order.
        ("jsonldcap-1.test".into(), Ok("Org 0")),
        ("badbytes-utf16le-1.test".into(), Ok("")),
    ];
    all.extend(
        BAD_BYTES
            .iter()
            .map(|b| (format!("badbytes-{}-1.test", b.slug), Ok(""))),
    );
    all
}

fn config(dir: &std::path::Path, db_url: &str, port: u16) -> String {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[database]
url = "{db_url}"
[http]
bind = "127.0.0.1:0"
[pipeline]
lease_secs = 10
shutdown_grace_secs = 2
[fetch]
schemes = ["http"]
connect_timeout_ms = 1000
timeout_ms = {TIMEOUT_MS}
read_timeout_ms = 2000
max_body_bytes = {MAX_BODY_BYTES}
max_redirects = 5
[fetch.resolve_override]
"*.test" = "127.0.0.1:{port}"
[retry]
max_attempts = {MAX_ATTEMPTS}
base_delay_secs = {BASE_DELAY_SECS}
[[scheduler.jobs]]
id = "process_pending_domains"
trigger = "interval"
spec = "200ms"
args = {{ limit = 1000 }}
"#
        ),
    )
    .expect("write config");
    config.display().to_string()
}

/// A `/proc/<pid>/status` field in KiB (`VmRSS`, `VmHWM`).
pub(crate) fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Samples VmRSS of `pid` every 20 ms on its own thread until stopped; yields the largest.
struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(Ordering::SeqCst) {
                peak = peak.max(status_kib(pid, "VmRSS:").unwrap_or(0));
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        });
        RssSampler { stop, thread }
    }

    fn finish(self) -> u64 {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().expect("sampler thread")
    }
}

/// Decompresses a bomb through an ordinary client, counting (not keeping) the bytes: the
/// fixture is as big as it claims.
async fn decompressed_len(port: u16, host: &str) -> u64 {
    let client = reqwest::Client::builder()
        .no_proxy()
        .resolve(host, ([127, 0, 0, 1], port).into())
        .build()
        .expect("client");
    let mut response = client.get(format!("http://{host}/")).send().await.expect("GET bomb");
    let mut total = 0u64;
    while let Some(chunk) = response.chunk().await.expect("bomb decompresses") {
        total += chunk.len() as u64;
    }
    total
}

#[actix_web::test]
async fn hostile_pages_end_classified_within_the_configured_time_in_bounded_memory() {
    let web = hostile_web::start().await;
    let gzip_len = GzipBomb::new().plain_len;
    assert!(gzip_len >= BOMB_BYTES);
    for (host, len) in [("gzipbomb-check.test", gzip_len), ("brotlibomb-check.test", BOMB_BYTES)] {
        assert_eq!(decompressed_len(web.port, host).await, len, "{host}");
    }
    let test_db = TestDb::create(Db::Sqlite).await;
    let dir = std::env::temp_dir().join(format!("domaind_hostile_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = config(&dir, &test_db.url, web.port);
    let expected = expected();
    let mut add = vec!["--config".to_string(), config.clone(), "add".into()];
    add.extend(expected.iter().map(|(d, _)| d.clone()));
    let out = domaind(add, vec![]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let log = dir.join("serve.log");
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_domaind"))
            .args(["--config", &config, "serve"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("start domaind"),
    );
    let pid = child.0.id();
    let sampler = RssSampler::start(pid);
    let started = Instant::now();

    // Every attempt may take the whole fetch budget, and a transient failure waits at most
    // 1.25 × base delay (jitter) before its next attempt.
    let bound =
        Duration::from_millis(MAX_ATTEMPTS * TIMEOUT_MS) + Duration::from_millis(BASE_DELAY_SECS * 1250) + SLACK;
    let store = test_db.store().await;
    eventually(bound, "every hostile domain completed or error", || async {
        let counts = store.count_by_status().await.expect("counts");
        (counts["pending"] == 0 && counts["processing"] == 0).then_some(())
    })
    .await;
    let settled_in = started.elapsed();
    let hwm = status_kib(pid, "VmHWM:").expect("VmHWM of the running child");

    let kill = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let status = eventually(Duration::from_secs(30), "domaind exits after SIGTERM", || {
        let exited = child.0.try_wait().expect("try_wait");
        async move { exited }
    })
    .await;
    let sampled = sampler.finish();
    eprintln!(
        "hostile suite: all {} domains settled in {settled_in:.1?}; domaind peak RSS {:.1} MiB (VmHWM), \
         largest sample {:.1} MiB (VmRSS every 20 ms)",
        expected.len(),
        hwm as f64 / 1024.0,
        sampled as f64 / 1024.0
    );
    assert_eq!(status.code(), Some(0), "exit status {status:?}");

    let mut rows = Vec::new();
    for (domain, want) in &expected {
        let row = store
            .find_domain("default", domain)
            .await
            .expect("query")
            .unwrap_or_else(|| panic!("no row {domain}"));
        let attempts = store.attempts(row.id, 10).await.expect("attempts");
        let slowest = attempts.iter().map(|a| a.elapsed_ms).max().unwrap_or(0);
        let meta_bytes = row.metadata.as_ref().map_or(0, |m| m.to_string().len());
        eprintln!(
            "  {domain}: {} {} attempts={} slowest={slowest}ms metadata={meta_bytes}B {}",
            row.status,
            row.error_kind.as_deref().unwrap_or("-"),
            row.attempts,
            row.error_message.as_deref().unwrap_or("")
        );
        rows.push((domain, want, row, attempts));
    }
    for (domain, want, row, attempts) in &rows {
        for a in attempts {
            let within = TIMEOUT_MS as i64 + SLACK.as_millis() as i64;
            assert!(a.elapsed_ms <= within, "{domain}: an attempt took {} ms", a.elapsed_ms);
        }
        match want {
            Err(kind) => {
                assert_eq!(
                    (row.status.as_str(), row.error_kind.as_deref()),
                    ("error", Some(*kind)),
                    "{domain}: {:?}",
                    row.error_message
                );
                // Timeouts are transient (retried until max_attempts); the rest are permanent.
                let tries = if *kind == "timeout" { MAX_ATTEMPTS } else { 1 };
                assert_eq!(row.attempts as u64, tries, "{domain}");
            }
            Ok(title) => {
                assert_eq!(row.status, "completed", "{domain}: {:?}", row.error_message);
                let meta = row.metadata.as_ref().expect("metadata");
                let size = meta.to_string().len();
                assert!(size <= MAX_METADATA_BYTES, "{domain}: {size} bytes of metadata");
                if !title.is_empty() {
                    assert_eq!(meta["title"], *title, "{domain}");
                }
            }
        }
    }

    check_messages(&store).await;
    let meta = |domain: String| metadata(&store, domain);
    check_bounded_values(meta("attr-1.test".into()).await, meta("jsonldcap-1.test".into()).await);
    for bad in &BAD_BYTES {
        let m = meta(format!("badbytes-{}-1.test", bad.slug)).await;
        assert_eq!(m["charset"], bad.expect_charset, "{}", bad.slug);
        let title = m["title"].as_str().unwrap_or_default();
        assert!(
            title.starts_with(&format!("Bad {} ", bad.slug)) && title.ends_with(" end"),
            "{title:?}"
        );
        assert_eq!(title.contains('\u{FFFD}'), bad.invalid, "{}: {title:?}", bad.slug);
    }
    let utf16 = meta("badbytes-utf16le-1.test".into()).await;
    assert_eq!(utf16["charset"], "utf-16le");
    assert_eq!(utf16["title"], "Bad utf16le \u{FFFD} end");
    assert_eq!(meta("unknowncharset-1.test".into()).await["charset"], "windows-1252");

    let text = std::fs::read_to_string(&log).expect("log");
    assert!(
        !text.to_ascii_lowercase().contains("panic"),
        "domaind logged a panic:\n{text}"
    );
    assert!(
        hwm <= RSS_BUDGET_KIB,
        "peak RSS {hwm} KiB over the {RSS_BUDGET_KIB} KiB budget"
    );

    store.close().await;
    test_db.drop_db().await;
    drop(web);
    let _ = std::fs::remove_dir_all(dir);
}

/// The stored metadata of a completed domain.
async fn metadata(store: &domaind::store::Store, domain: String) -> Value {
    let row = store
        .find_domain("default", &domain)
        .await
        .expect("query")
        .expect("row");
    row.metadata.expect("metadata")
}

/// The error messages say which bound was hit.
async fn check_messages(store: &domaind::store::Store) {
    let message = |domain: &'static str| async move {
        let row = store.find_domain("default", domain).await.expect("query").expect("row");
        row.error_message.unwrap_or_default()
    };
    let cap = format!("exceeds the {MAX_BODY_BYTES}-byte cap");
    for domain in ["huge-1.test", "gzipbomb-1.test", "brotlibomb-1.test", "jsonld-1.test"] {
        let m = message(domain).await;
        assert!(m.starts_with("the body ") && m.contains(&cap), "{domain}: {m}");
    }
    let m = message("hugedeclared-1.test").await;
    assert!(
        m.starts_with(&format!("Content-Length {}", hostile_web::HUGE_BYTES)),
        "{m}"
    );
    assert!(message("redirect-1.test").await.starts_with("more than 5 redirects"));
}

/// A 1 MiB attribute and a JSON-LD flood leave bounded values behind.
fn check_bounded_values(attr: Value, jsonld: Value) {
    let description = attr["description"].as_str().expect("description");
    assert!(description.starts_with("hostile hostile"), "{description:.40}");
    assert!(description.len() <= 4096, "{} bytes", description.len());
    let blocks = jsonld["json_ld"].as_array().expect("json_ld");
    assert!(!blocks.is_empty());
    assert!(jsonld["json_ld"].to_string().len() <= 64 * 1024);
    assert_eq!(blocks[0]["name"], "Org 0");
}
