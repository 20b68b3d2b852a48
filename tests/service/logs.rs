//! What `serve` writes to its log, through the real binary: one span per domain and per job run
//! in both `--log-format`s (JSON objects, or plain text lines without colour codes when not on a
//! terminal), `RUST_LOG` filtering, and bearer tokens never written anywhere, even at `debug`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::cli::domaind;
use crate::fixtures::{self, Fixture};
use crate::helpers::{eventually, KillOnDrop, ADMIN_TOKEN, T1_TOKEN};

/// Writes a config for `serve` in `dir`: a SQLite file there, port 0, the fixture for `*.test`,
/// `process_pending_domains` every 200 ms, then `extra` (TOML, continuing the `[http]` table
/// until it opens another). Returns the config path.
pub(crate) fn log_config(dir: &Path, fixture: &Fixture, extra: &str) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"sqlite://{}?mode=rwc\"\n[fetch]\nschemes = [\"http\"]\n\
             [fetch.resolve_override]\n\"*.test\" = \"127.0.0.1:{}\"\n\
             [[scheduler.jobs]]\nid = \"process_pending_domains\"\ntrigger = \"interval\"\nspec = \"200ms\"\n\
             [http]\nbind = \"127.0.0.1:0\"\n{extra}\n",
            dir.join("logs.db").display(),
            fixture.port
        ),
    )
    .unwrap();
    config.display().to_string()
}

/// `--config config` followed by `rest`, as arguments of the binary.
fn with_config(config: &str, rest: &[&str]) -> Vec<String> {
    let mut v = vec!["--config".to_string(), config.to_string()];
    v.extend(rest.iter().map(|s| s.to_string()));
    v
}

/// A fresh directory for one test's files.
fn test_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("domaind_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Starts `domaind serve --log-format format` with `RUST_LOG=filter`: stderr in `log`, stdout
/// in `stdout` (else discarded).
pub(crate) fn serve_with_format(
    config: &str,
    format: &str,
    filter: &str,
    log: &Path,
    stdout: Option<&Path>,
) -> KillOnDrop {
    let out = match stdout {
        Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
        None => Stdio::null(),
    };
    KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_domaind"))
            .args(["--config", config, "--log-format", format, "serve"])
            .env("RUST_LOG", filter)
            // Colour codes must stay out of a log file because it is not a terminal, not
            // because the environment happens to ask for no colour.
            .env_remove("NO_COLOR")
            .stdout(out)
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .expect("start domaind"),
    )
}

/// The HTTP port `serve` (bound to port 0) reports in its "domaind serving" line, in either log
/// format; fails the test with the log when the child exits first.
pub(crate) async fn serving_port(child: &mut KillOnDrop, log: &Path) -> u16 {
    eventually(Duration::from_secs(30), "domaind serving", || {
        if let Some(status) = child.0.try_wait().unwrap() {
            panic!(
                "domaind exited ({status}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        let text = std::fs::read_to_string(log).unwrap_or_default();
        async move {
            let line = text.lines().find(|l| l.contains("domaind serving"))?;
            let digits = |rest: &str| rest.chars().take_while(char::is_ascii_digit).collect::<String>();
            match line.split_once("\"port\":") {
                Some((_, rest)) => digits(rest).parse().ok(),
                None => digits(line.split_once("port=")?.1).parse().ok(),
            }
        }
    })
    .await
}

/// SIGTERM, then the exit status must be success; returns what the child logged.
pub(crate) async fn stop_logging(mut child: KillOnDrop, log: &Path) -> String {
    let kill = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = tokio::task::spawn_blocking(move || child.0.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
    std::fs::read_to_string(log).unwrap()
}

/// Waits until the log holds every one of `messages`.
async fn wait_for_lines(log: &Path, messages: &[&str]) {
    eventually(Duration::from_secs(30), &format!("{messages:?} logged"), || async {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        messages.iter().all(|m| text.contains(m)).then_some(())
    })
    .await
}

/// `domaind add NAMES` with `config`, which must succeed.
async fn add(config: &str, names: &[&str]) {
    let mut args = vec!["add"];
    args.extend_from_slice(names);
    let out = domaind(with_config(config, &args), vec![]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Serves `config` with `format` logs filtered by `filter` into `log` until every one of
/// `messages` is logged, stops it, and returns the log.
async fn log_until(config: &str, format: &str, filter: &str, log: &Path, messages: &[&str]) -> String {
    let child = serve_with_format(config, format, filter, log, None);
    wait_for_lines(log, messages).await;
    stop_logging(child, log).await
}

/// `serve --log-format json` writes one JSON object per line; with `RUST_LOG=domaind=debug` each
/// domain's lines carry its `domain` span and each job run's result its `job_run` span, and a
/// `warn` filter silences the info and debug lines.
#[actix_web::test]
async fn json_logs_have_one_span_per_domain_and_per_job_run() {
    let fixture = fixtures::start();
    let dir = test_dir("logs_json");
    let config = log_config(&dir, &fixture, "");
    let cfg = |rest: &[&str]| with_config(&config, rest);
    add(&config, &["alpha-log.test", "notfound-log.test"]).await;

    let log = dir.join("debug.log");
    let events = ["page extracted", "attempt failed", "job run succeeded"];
    let text = log_until(&config, "json", "domaind=debug,sqlx=warn", &log, &events).await;
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l:?}")))
        .collect();
    let in_span = |span: &str, key: &str, value: &str, message: &str| {
        lines.iter().any(|l| {
            l["span"]["name"] == span && l["span"][key] == value && l["message"] == message && l["level"].is_string()
        })
    };
    assert!(
        in_span("domain", "domain", "alpha-log.test", "page extracted"),
        "{text}"
    );
    assert!(
        in_span("domain", "domain", "notfound-log.test", "attempt failed"),
        "{text}"
    );
    assert!(
        in_span("job_run", "job", "process_pending_domains", "job run succeeded"),
        "{text}"
    );

    // `warn`: the same work (a new domain, processed) leaves no info or debug line.
    add(&config, &["charlie-log.test"]).await;
    let log = dir.join("warn.log");
    let child = serve_with_format(&config, "json", "warn", &log, None);
    eventually(Duration::from_secs(30), "the new domain processed", || async {
        let out = domaind(cfg(&["status"]), vec![]).await;
        let status: Value = serde_json::from_slice(&out.stdout).ok()?;
        (status["domains"]["completed"] == 2).then_some(())
    })
    .await;
    let quiet = stop_logging(child, &log).await;
    assert!(
        !quiet.contains("page extracted") && !quiet.contains("\"INFO\"") && !quiet.contains("\"DEBUG\""),
        "{quiet}"
    );

    fixture.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// `--log-format text` (the default) writes the same events as plain lines: level, the span
/// with its fields inline (`domain{domain=… domain_id=… attempt=…}`, `job_run{job=… run_id=…}`),
/// then the message — no JSON, and no colour codes in a file. The JSON run of the same work
/// puts those fields under `span` instead.
#[actix_web::test]
async fn text_logs_show_the_domain_and_job_run_spans_inline() {
    let fixture = fixtures::start();
    let dir = test_dir("logs_text");
    let config = log_config(&dir, &fixture, "");
    add(&config, &["alpha-text.test", "notfound-text.test"]).await;

    let log = dir.join("text.log");
    let events = ["page extracted", "attempt failed", "job run succeeded"];
    let text = log_until(&config, "text", "domaind=debug,sqlx=warn", &log, &events).await;
    assert!(!text.contains('\u{1b}'), "colour codes in a log file: {text:?}");
    assert!(
        text.lines().all(|l| serde_json::from_str::<Value>(l).is_err()),
        "a JSON line in text output: {text}"
    );
    let line_with = |message: &str, parts: &[&str]| {
        text.lines()
            .find(|l| l.contains(message) && parts.iter().all(|p| l.contains(p)))
            .map(str::to_string)
    };
    let extracted = line_with(
        "page extracted",
        &["domain{", "domain=alpha-text.test", "domain_id=", "attempt=1"],
    )
    .unwrap_or_else(|| panic!("no `page extracted` line in the domain's span: {text}"));
    assert!(extracted.contains("DEBUG"), "{extracted}");
    let failed = line_with("attempt failed", &["domain{", "domain=notfound-text.test", "attempt=1"])
        .unwrap_or_else(|| panic!("no `attempt failed` line in the domain's span: {text}"));
    assert!(failed.contains("404"), "the reason is on the line: {failed}");
    let run = line_with(
        "job run succeeded",
        &["job_run{", "job=process_pending_domains", "run_id=", "scheduled_for="],
    )
    .unwrap_or_else(|| panic!("no `job run succeeded` line in the run's span: {text}"));
    assert!(run.contains("INFO"), "{run}");
    // The span prefix comes before the message, as `span{fields}: target: message`.
    let span_at = extracted.find("domain{").unwrap();
    assert!(span_at < extracted.find("page extracted").unwrap(), "{extracted}");

    // The same kind of event as JSON: the fields move under `span`, nothing inline.
    add(&config, &["bravo-text.test"]).await;
    let log = dir.join("json.log");
    let events = ["bravo-text.test", "page extracted"];
    let json = log_until(&config, "json", "domaind=debug,sqlx=warn", &log, &events).await;
    let event = json
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .find(|l| l["message"] == "page extracted" && l["span"]["domain"] == "bravo-text.test")
        .unwrap_or_else(|| panic!("no JSON `page extracted` for bravo-text.test: {json}"));
    assert_eq!(event["span"]["name"], "domain", "{event}");
    assert_eq!(event["span"]["attempt"], 1, "{event}");
    assert!(event["span"]["domain_id"].is_number(), "{event}");
    assert_eq!(event["level"], "DEBUG", "{event}");
    assert!(!json.contains("domain{"), "no text span prefix in JSON output");

    fixture.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// Bearer tokens never reach the logs: `serve` with an admin token and a tenant-bound one, at
/// `RUST_LOG=debug` for every crate (JSON) and at `trace` (text), answers requests carrying the
/// admin token, the tenant token and a wrong token; none of the three strings appears in
/// anything the process wrote to stderr or stdout.
#[actix_web::test]
async fn tokens_never_appear_in_the_logs_even_at_debug() {
    const WRONG_TOKEN: &str = "wrong-token-5f3a9c1e77d2";
    let fixture = fixtures::start();
    let dir = test_dir("logs_tokens");
    let tokens = format!("token = \"{ADMIN_TOKEN}\"\n[[http.tokens]]\ntoken = \"{T1_TOKEN}\"\ntenant = \"t1\"");
    let config = log_config(&dir, &fixture, &tokens);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();

    for (round, (format, filter)) in [("json", "debug"), ("text", "trace")].into_iter().enumerate() {
        let (log, out) = (dir.join(format!("{format}.log")), dir.join(format!("{format}.out")));
        let mut child = serve_with_format(&config, format, filter, &log, Some(&out));
        let port = serving_port(&mut child, &log).await;
        let base = format!("http://127.0.0.1:{port}");
        let send = |method: reqwest::Method, path: &str, token: &str, body: Option<Value>| {
            let mut request = client.request(method, format!("{base}{path}")).bearer_auth(token);
            if let Some(body) = body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.to_string());
            }
            async move { request.send().await.expect("request").status().as_u16() }
        };
        let domain = format!("alpha-token-{round}.test");
        let body = serde_json::json!({ "domains": [domain] });
        assert_eq!(send(Method::POST, "/api/v1/domains", T1_TOKEN, Some(body)).await, 200);
        assert_eq!(
            send(
                Method::GET,
                "/api/v3/dev/process-pending-domains?limit=5",
                ADMIN_TOKEN,
                None
            )
            .await,
            200
        );
        assert_eq!(send(Method::GET, "/api/v1/domains?limit=5", T1_TOKEN, None).await, 200);
        assert_eq!(send(Method::GET, "/api/v1/status", ADMIN_TOKEN, None).await, 200);
        assert_eq!(send(Method::GET, "/api/v1/status", WRONG_TOKEN, None).await, 401);
        assert_eq!(send(Method::GET, "/api/v1/domains", WRONG_TOKEN, None).await, 401);
        assert_eq!(
            send(
                Method::POST,
                "/api/v1/jobs/process_pending_domains/run",
                ADMIN_TOKEN,
                None
            )
            .await,
            200
        );
        assert_eq!(send(Method::GET, "/metrics", ADMIN_TOKEN, None).await, 200);
        wait_for_lines(&log, &["page extracted", &domain]).await;
        let logged = stop_logging(child, &log).await;
        let printed = std::fs::read_to_string(&out).unwrap();
        // The logs are really at `filter`: other crates' debug lines are there too.
        let level = if format == "json" { "\"DEBUG\"" } else { "TRACE" };
        assert!(logged.contains(level), "{format} at {filter}: no {level} line");
        assert!(
            logged.lines().count() > 50,
            "{format} at {filter}: suspiciously quiet: {logged}"
        );
        for (name, secret) in [("admin", ADMIN_TOKEN), ("tenant", T1_TOKEN), ("wrong", WRONG_TOKEN)] {
            for (stream, text) in [("stderr", &logged), ("stdout", &printed)] {
                if let Some(at) = text.find(secret) {
                    let line = text[..at].rsplit('\n').next().unwrap_or("").to_string() + &text[at..];
                    panic!(
                        "the {name} token is in {stream} ({format}, {filter}): {}",
                        line.lines().next().unwrap_or("")
                    );
                }
            }
        }
    }
    fixture.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
