//! Settings: loading, overrides, validation messages.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn committed_config_file_is_valid_and_matches_defaults_where_it_should() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml")).unwrap();
    let s = Settings::from_sources(&text, env(&[])).unwrap();
    assert_eq!(s.database.url, "sqlite://domaind.db?mode=rwc");
    assert_eq!(s.http.bind, "127.0.0.1:8080");
    assert_eq!(s.scheduler.jobs[0].id, "process_pending_domains");
    assert!(!s.fetch.allow_private);
    assert!(s.fetch.resolve_override.is_empty());
}

#[test]
fn env_overrides_scalar_keys_with_the_right_type() {
    let s = Settings::from_sources(
        "[database]\nurl = \"sqlite://a.db\"\n",
        env(&[
            ("DOMAIND_DATABASE__URL", "postgres://x/y"),
            ("DOMAIND_PIPELINE__CONCURRENCY", "64"),
        ]),
    )
    .unwrap();
    assert_eq!(s.database.url, "postgres://x/y");
    assert_eq!(s.pipeline.concurrency, 64);
}

#[test]
fn bad_env_value_names_key_value_and_reason() {
    let err = Settings::from_sources("", env(&[("DOMAIND_PIPELINE__CONCURRENCY", "lots")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("pipeline.concurrency") && err.contains("lots") && err.contains("whole number"),
        "{err}"
    );
}

#[test]
fn request_limits_of_zero_are_refused_by_name() {
    for key in ["max_domains_per_request", "max_body_bytes"] {
        let err = Settings::from_sources(&format!("[http]\n{key} = 0\n"), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("http.{key}")) && err.contains("at least 1"),
            "{err}"
        );
    }
}

#[test]
fn ssrf_keys_cannot_come_from_the_environment() {
    let err = Settings::from_sources("", env(&[("DOMAIND_FETCH__ALLOW_PRIVATE", "true")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("fetch.allow_private") && err.contains("config file only"),
        "{err}"
    );
}

#[test]
fn unknown_keys_are_refused() {
    let err = Settings::from_sources("[pipeline]\nconcurency = 3\n", env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("concurency"), "{err}");
    let err = Settings::from_sources("", env(&[("DOMAIND_PIPELINE__NOPE", "1")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("pipeline.nope") && err.contains("no such setting"),
        "{err}"
    );
}

#[test]
fn range_errors_name_key_value_and_reason() {
    let err = Settings::from_sources("[pipeline]\nconcurrency = 0\n", env(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`pipeline.concurrency` = 0") && err.contains("between"),
        "{err}"
    );
    let err = Settings::from_sources("[pipeline]\nlease_secs = 10\n", env(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("pipeline.lease_secs") && err.contains("fetch.timeout_ms"),
        "{err}"
    );
    let err = Settings::from_sources("[fetch.resolve_override]\n\"*.test\" = \"10.0.0.1:80\"\n", env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("loopback"), "{err}");
}

#[test]
fn liveness_settings_are_checked_against_each_other() {
    let s = Settings::from_sources("", env(&[])).unwrap();
    assert_eq!(
        (s.supervisor.ping_interval_ms, s.supervisor.liveness_timeout_secs),
        (1000, 10)
    );
    for (toml, key) in [
        ("[supervisor]\nping_interval_ms = 5\n", "supervisor.ping_interval_ms"),
        // Shorter than the longest restart backoff: a restarting actor would be killed again.
        (
            "[supervisor]\nliveness_timeout_secs = 3\n",
            "supervisor.liveness_timeout_secs",
        ),
        // A timeout shorter than two ping intervals cannot tell a late answer from none.
        (
            "[supervisor]\nping_interval_ms = 3000\nliveness_timeout_secs = 5\n",
            "supervisor.liveness_timeout_secs",
        ),
    ] {
        let err = Settings::from_sources(toml, env(&[])).unwrap_err().to_string();
        assert!(err.contains(key), "{toml}: {err}");
    }
}

#[test]
fn resolve_override_accepts_both_forms() {
    let s = Settings::from_sources(
        "[fetch.resolve_override]\n\"*.test\" = \"127.0.0.1:18080\"\n\"a.example\" = { http = \"127.0.0.1:1\", https = \"127.0.0.1:2\" }\n",
        env(&[]),
    )
    .unwrap();
    assert_eq!(
        s.fetch.resolve_override["*.test"].for_scheme("https"),
        Some("127.0.0.1:18080".parse().unwrap())
    );
    assert_eq!(
        s.fetch.resolve_override["a.example"].for_scheme("https"),
        Some("127.0.0.1:2".parse().unwrap())
    );
}

#[test]
fn an_invalid_job_spec_refuses_start_naming_the_job_and_the_error() {
    let text = "[[scheduler.jobs]]\nid = \"prune_history\"\ntrigger = \"cron\"\nspec = \"61 * * * *\"\n";
    let err = Settings::from_sources(text, env(&[])).unwrap_err().to_string();
    assert!(
        err.contains("scheduler.jobs[prune_history]") && err.contains("61"),
        "{err}"
    );
    let text = "[[scheduler.jobs]]\nid = \"nightly\"\ntrigger = \"interval\"\nspec = \"5s\"\n";
    let err = Settings::from_sources(text, env(&[])).unwrap_err().to_string();
    assert!(err.contains("unknown job"), "{err}");
    let text = "[[scheduler.jobs]]\nid = \"recrawl_stale\"\ntrigger = \"cron\"\nspec = \"0 3 * * *\"\ntimezone = \"Mars/Base\"\n";
    let err = Settings::from_sources(text, env(&[])).unwrap_err().to_string();
    assert!(err.contains("Mars/Base"), "{err}");
}

#[test]
fn masked_settings_hide_secrets() {
    let text = r#"
[database]
url = "postgres://u:hunter2@db/x?sslmode=require&password=qwerty9"
[http]
token = "admin-secret"
[[http.tokens]]
token = "tenant-one-secret-0123"
tenant = "t1"
[[http.tokens]]
token = "unbound-secret-456789"
[alerts]
webhook_url = "https://hookuser:hookpass@hooks.example:8443/services/T0/B1/XyZsecretPath?sig=s3cr3t"
"#;
    let s = Settings::from_sources(text, env(&[])).unwrap();
    let shown = serde_json::to_string(&s.masked()).unwrap();
    for secret in [
        "hunter2",
        "qwerty9",
        "admin-secret",
        "tenant-one-secret-0123",
        "unbound-secret-456789",
        "hookuser",
        "hookpass",
        "XyZsecretPath",
        "s3cr3t",
        "services",
    ] {
        assert!(!shown.contains(secret), "{secret} shown: {shown}");
    }
    let masked = s.masked();
    assert_eq!(
        masked.database.url,
        "postgres://u:***@db/x?sslmode=require&password=***"
    );
    assert_eq!(masked.http.token, "***");
    let tokens: Vec<(&str, Option<&str>)> = masked
        .http
        .tokens
        .iter()
        .map(|t| (t.token.as_str(), t.tenant.as_deref()))
        .collect();
    assert_eq!(tokens, [("***", Some("t1")), ("***", None)], "tenants stay visible");
    // Only the origin of the webhook shows: which receiver, not how to post to it.
    assert_eq!(masked.alerts.webhook_url, "https://hooks.example:8443/***");
    // Nothing configured stays empty rather than looking like a masked secret.
    let plain = Settings::from_sources("", env(&[])).unwrap().masked();
    assert_eq!((plain.http.token.as_str(), plain.alerts.webhook_url.as_str()), ("", ""));
    assert_eq!(plain.database.url, "sqlite://domaind.db?mode=rwc");
}
