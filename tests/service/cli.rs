//! The binary's commands against a real database: add (a large file streamed), process, status,
//! check-config, demo, bench and config errors. `serve`'s log output is in `logs.rs`.

use std::process::{Command, Output};
use std::time::Duration;

use crate::both_backends;
use crate::fixtures;
use crate::helpers::{Db, TestDb};

/// Runs the real binary with `args` and extra environment, off the async threads.
pub async fn domaind(args: Vec<String>, env: Vec<(&'static str, &'static str)>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_domaind"))
            .args(args)
            .envs(env)
            .output()
            .expect("run domaind")
    })
    .await
    .expect("join")
}

async fn cli_adds_processes_and_reports(db: Db) {
    let fixture = fixtures::start();
    let test_db = TestDb::create(db).await;
    let dir = std::env::temp_dir().join(format!("domaind_cli_{}_{db:?}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"{}\"\n[fetch]\nschemes = [\"http\"]\n[fetch.resolve_override]\n\"*.test\" = \"127.0.0.1:{}\"\n",
            test_db.url, fixture.port
        ),
    )
    .unwrap();
    let cfg = |rest: &[&str]| {
        let mut v = vec!["--config".to_string(), config.display().to_string()];
        v.extend(rest.iter().map(|s| s.to_string()));
        v
    };
    let list = dir.join("domains.txt");
    std::fs::write(&list, "# a comment\nbravo-1.test\n\ncharlie-1.test\nnot a domain\n").unwrap();

    let out = domaind(cfg(&["add", "alpha-1.test", "--file", list.to_str().unwrap()]), vec![]).await;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("add prints JSON");
    assert_eq!(report["accepted"], 3, "{report}");
    assert_eq!(report["rejected_count"], 1, "{report}");
    assert_eq!(out.status.code(), Some(1), "a rejected line makes the exit code 1");

    let out = domaind(cfg(&["process", "--limit", "2"]), vec![]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("process prints JSON");
    assert_eq!(
        report["message"], "Processed 2 domains: 2 successful, 0 failed",
        "{report}"
    );
    assert_eq!(report["results"]["domains"].as_array().unwrap().len(), 2);

    let out = domaind(cfg(&["status"]), vec![]).await;
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status prints JSON");
    assert_eq!(status["domains"]["completed"], 2, "{status}");
    assert_eq!(status["domains"]["pending"], 1, "{status}");

    let out = domaind(cfg(&["status"]), vec![("DOMAIND_PIPELINE__CONCURRENCY", "lots")]).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pipeline.concurrency") && stderr.contains("lots"),
        "{stderr}"
    );

    // `jobs` reads what `serve` persisted: reconcile the default jobs as serve does at start.
    let out = domaind(cfg(&["jobs"]), vec![]).await;
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "{\n  \"jobs\": []\n}");
    let defaults = domaind::settings::Settings::default();
    let defs = defaults
        .scheduler
        .jobs
        .iter()
        .map(|j| domaind::jobs::JobDef::from_settings(j, &defaults.scheduler, chrono::Utc::now()).unwrap())
        .collect();
    let store = test_db.store().await;
    domaind::actors::load_jobs(defs, &store).await.unwrap();
    store.close().await;
    let out = domaind(cfg(&["jobs"]), vec![]).await;
    let jobs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("jobs prints JSON");
    let ids: Vec<&str> = jobs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "process_pending_domains",
            "prune_history",
            "reclaim_expired_leases",
            "recrawl_stale"
        ],
        "{jobs}"
    );

    let out = domaind(
        cfg(&["check-config"]),
        vec![("DOMAIND_HTTP__TOKEN", "a-secret-admin-token")],
    )
    .await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown = String::from_utf8_lossy(&out.stdout);
    let effective: serde_json::Value = serde_json::from_str(&shown).expect("check-config prints JSON");
    assert_eq!(effective["http"]["token"], "***");
    assert!(!shown.contains("a-secret-admin-token"));
    assert_eq!(effective["fetch"]["schemes"], serde_json::json!(["http"]));

    let out = domaind(vec!["--version".into()], vec![]).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));

    fixture.stop().await;
    test_db.drop_db().await;
    let _ = std::fs::remove_dir_all(dir);
}
both_backends!(cli_adds_processes_and_reports);

/// `domaind demo` with its defaults (300 domains): the newcomer's first run shows the whole
/// lifecycle — completed pages, a retried flaky site, every kind of error — and exits 0 within
/// the minute the README promises.
#[actix_web::test]
async fn the_demo_shows_the_whole_lifecycle_and_exits_cleanly() {
    let started = std::time::Instant::now();
    let out = domaind(vec!["demo".into()], vec![]).await;
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("domaind demo (300 domains): {took:.1?} wall time");
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took < Duration::from_secs(60), "the demo took {took:?}: {stdout}");
    assert!(stdout.contains("summary after"), "{stdout}");
    assert!(
        stdout.contains("dashboard: http://127.0.0.1:"),
        "the demo points at the dashboard: {stdout}"
    );
    // 300 domains over 8 kinds (38 of each of the first four, 37 of the rest): shop, news, cafe
    // and flaky (after a retry) complete; 404, redirect loop, slow and PDF end in error.
    assert!(stdout.contains("completed   151"), "{stdout}");
    assert!(stdout.contains("error       149"), "{stdout}");
    assert!(stdout.contains("pending     0"), "nothing left pending: {stdout}");
    for kind in ["http_status", "not_html", "redirect_loop", "timeout"] {
        assert!(stdout.contains(kind), "{kind} missing: {stdout}");
    }
    assert!(stdout.contains("Café Müller"), "{stdout}");
}

/// Writes `lines` domain names (`{prefix}-{i}-example-domain.test`) to `path`, one per line,
/// with `extra` lines put in place of some of them (`(index, text)`).
fn write_list(path: &std::path::Path, prefix: &str, lines: usize, extra: &[(usize, &str)]) {
    use std::io::Write;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..lines {
        match extra.iter().find(|(at, _)| *at == i) {
            Some((_, text)) => writeln!(file, "{text}").unwrap(),
            None => writeln!(file, "{prefix}-{i}-example-domain.test").unwrap(),
        }
    }
}

/// Runs `domaind add --file list` with VmHWM sampled while it runs: (output, peak KiB, wall time).
async fn add_file_measured(config: &std::path::Path, list: &std::path::Path) -> (Output, u64, Duration) {
    let started = std::time::Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_domaind"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "add",
            "--file",
            list.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start domaind add");
    let pid = child.id();
    // VmHWM is the high-water mark, so samples only miss growth in the last few milliseconds.
    let sampler = std::thread::spawn(move || {
        let mut peak_kib = 0;
        while let Some(kib) = crate::hostile::status_kib(pid, "VmHWM:") {
            peak_kib = peak_kib.max(kib);
            std::thread::sleep(Duration::from_millis(10));
        }
        peak_kib
    });
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().expect("domaind add"))
        .await
        .unwrap();
    let took = started.elapsed();
    (out, sampler.join().unwrap(), took)
}

/// `add --file` streams: 200,000 lines go in, every valid one becomes a row, and the process's
/// peak RSS (VmHWM, sampled while it runs) is what a 20,000-line file costs — memory does not
/// grow with the file (holding 200,000 lines would add about 13 MiB) — and far below 100 MiB.
#[actix_web::test]
async fn add_streams_a_large_file_in_bounded_memory() {
    const LINES: usize = 200_000;
    const SMALL: usize = 20_000;
    let test_db = TestDb::create(Db::Sqlite).await;
    let dir = std::env::temp_dir().join(format!("domaind_cli_addfile_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(&config, format!("[database]\nurl = \"{}\"\n", test_db.url)).unwrap();
    // Migrated first, so the measured runs are the inserts alone.
    test_db.store().await.close().await;

    let small = dir.join("small.txt");
    write_list(&small, "small", SMALL, &[]);
    let (out, small_kib, _) = add_file_measured(&config, &small).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let list = dir.join("domains.txt");
    // One invalid line and one duplicate (of line 0, once normalized) among them.
    let extra = [
        (1000, "not a domain"),
        (2000, "https://Bulk-0-Example-Domain.TEST/path"),
    ];
    write_list(&list, "bulk", LINES, &extra);
    let file_mb = std::fs::metadata(&list).unwrap().len() as f64 / 1e6;
    let (out, peak_kib, took) = add_file_measured(&config, &list).await;
    let (small_mib, peak_mib) = (small_kib as f64 / 1024.0, peak_kib as f64 / 1024.0);
    eprintln!(
        "add --file: {LINES} lines ({file_mb:.1} MB) in {took:.1?}, peak RSS {peak_mib:.1} MiB (VmHWM); \
         {SMALL} lines: {small_mib:.1} MiB"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("add prints JSON: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(report["accepted"], LINES - 2, "{report}");
    assert_eq!(report["duplicates"], 1, "{report}");
    assert_eq!(report["rejected_count"], 1, "{report}");
    assert_eq!(out.status.code(), Some(1), "a rejected line makes the exit code 1");
    let store = test_db.store().await;
    assert_eq!(
        store.count_by_status().await.unwrap()["pending"],
        (SMALL + LINES - 2) as i64
    );
    assert!(
        store
            .find_domain("default", "bulk-199999-example-domain.test")
            .await
            .unwrap()
            .is_some(),
        "the last line is inserted too"
    );
    assert!(small_mib > 1.0 && peak_mib > 1.0, "VmHWM was sampled");
    assert!(
        peak_mib < small_mib + 5.0,
        "peak RSS grows with the file: {peak_mib:.1} MiB for {LINES} lines, {small_mib:.1} MiB for {SMALL}"
    );
    assert!(
        peak_mib < 100.0,
        "peak RSS {peak_mib:.1} MiB for a {file_mb:.1} MB file"
    );
    store.close().await;
    test_db.drop_db().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// `check-config` prints the effective settings with every secret masked: the admin token,
/// each `[[http.tokens]]` token (their tenants stay visible), the webhook URL but for its
/// origin, and the database password in the userinfo or the query.
#[actix_web::test]
async fn check_config_masks_every_secret() {
    let dir = std::env::temp_dir().join(format!("domaind_cli_mask_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        r#"[database]
url = "postgres://app:pg-pass-1@db.internal:5432/domaind?password=pg-pass-2&sslmode=prefer"
[http]
token = "admin-secret-7d1e"
[[http.tokens]]
token = "tenant-secret-0123456789"
tenant = "t1"
[alerts]
webhook_url = "https://bot:hook-pass@hooks.example/services/T00/B00/hook-secret-path?token=hook-query"
"#,
    )
    .unwrap();
    let out = domaind(
        vec!["--config".into(), config.display().to_string(), "check-config".into()],
        vec![],
    )
    .await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown = String::from_utf8_lossy(&out.stdout);
    for secret in [
        "pg-pass-1",
        "pg-pass-2",
        "admin-secret-7d1e",
        "tenant-secret-0123456789",
        "hook-pass",
        "hook-secret-path",
        "hook-query",
    ] {
        assert!(!shown.contains(secret), "{secret} shown: {shown}");
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains(secret),
            "{secret} on stderr"
        );
    }
    let effective: serde_json::Value = serde_json::from_str(&shown).expect("check-config prints JSON");
    assert_eq!(effective["http"]["token"], "***");
    assert_eq!(
        effective["http"]["tokens"],
        serde_json::json!([{"token": "***", "tenant": "t1"}])
    );
    assert_eq!(effective["alerts"]["webhook_url"], "https://hooks.example/***");
    assert_eq!(
        effective["database"]["url"],
        "postgres://app:***@db.internal:5432/domaind?password=***&sslmode=prefer"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[actix_web::test]
async fn bench_runs_the_shared_workload_and_reports_one_json_line() {
    let dir = std::env::temp_dir().join(format!("domaind_cli_bench_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("bench.db");
    let args = [
        "bench",
        "--database",
        &format!("sqlite://{}", db.display()),
        "--domains",
        "40",
        "--latency-ms",
        "0",
        "--concurrency",
        "16",
    ];
    let out = domaind(args.iter().map(|s| s.to_string()).collect(), vec![]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON line: {stdout}");
    let report: serde_json::Value = serde_json::from_str(lines[0]).expect("bench prints JSON");
    assert_eq!(report["backend"], "sqlite", "{report}");
    assert_eq!(report["domains"], 40, "{report}");
    assert_eq!(report["completed"], report["domains"], "{report}");
    assert_eq!(report["concurrency"], 16, "{report}");
    assert_eq!(report["latency_ms"], 0, "{report}");
    for field in [
        "wall_s",
        "domains_per_s",
        "p50_ms",
        "p99_ms",
        "peak_rss_mb",
        "claim_batch_mean",
        "claim_batch_max",
        "write_batch_mean",
        "write_batch_max",
    ] {
        let v = report[field]
            .as_f64()
            .unwrap_or_else(|| panic!("{field} missing: {report}"));
        assert!(v > 0.0, "{field} = {v}: {report}");
    }
    assert!(report["cpu_s"].as_f64().is_some(), "{report}");
    assert!(report["p50_ms"].as_f64() <= report["p99_ms"].as_f64(), "{report}");
    assert!(
        report["claim_batch_max"].as_f64().unwrap() <= 16.0,
        "claims never exceed the capacity: {report}"
    );
    assert!(db.exists(), "a database at a given path is kept for inspection");

    // The path now exists: a second run refuses it rather than measuring on stale rows.
    let out = domaind(args.iter().map(|s| s.to_string()).collect(), vec![]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let _ = std::fs::remove_dir_all(dir);
}
