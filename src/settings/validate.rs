//! Validation: ranges and cross-key rules; every refusal names the key, the value and why.

use std::net::SocketAddr;

use super::load::{Settings, SettingsError};
use super::sections::OverrideTarget;

impl Settings {
    /// Checks ranges and cross-key rules.
    pub fn validate(&self) -> Result<(), SettingsError> {
        fn bad(key: &str, value: impl std::fmt::Display, why: &str) -> SettingsError {
            SettingsError::Invalid {
                key: key.into(),
                value: value.to_string(),
                why: why.into(),
            }
        }
        let url = &self.database.url;
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(bad(
                "database.url",
                format!("{url:?}"),
                "must start with sqlite: or postgres://",
            ));
        }
        if self.database.max_connections == 0 {
            return Err(bad("database.max_connections", 0, "must be at least 1"));
        }
        if self.http.bind.parse::<SocketAddr>().is_err() {
            return Err(bad(
                "http.bind",
                format!("{:?}", self.http.bind),
                "must be an ip:port address",
            ));
        }
        if self.http.max_dev_limit == 0 {
            return Err(bad("http.max_dev_limit", 0, "must be at least 1"));
        }
        // Zero would refuse every request with a body rather than configure anything.
        if self.http.max_domains_per_request == 0 {
            return Err(bad("http.max_domains_per_request", 0, "must be at least 1"));
        }
        if self.http.max_body_bytes == 0 {
            return Err(bad("http.max_body_bytes", 0, "must be at least 1"));
        }
        for (i, t) in self.http.tokens.iter().enumerate() {
            if t.token.len() < 16 {
                return Err(bad(
                    &format!("http.tokens[{i}].token"),
                    "(hidden)",
                    "must be at least 16 characters",
                ));
            }
            if let Some(tenant) = &t.tenant {
                crate::http::validate_tenant(tenant)
                    .map_err(|why| bad(&format!("http.tokens[{i}].tenant"), format!("{tenant:?}"), &why))?;
            }
        }
        if self.http.metrics_require_token
            && self.http.token.is_empty()
            && self.http.tokens.iter().all(|t| t.tenant.is_some())
        {
            return Err(bad(
                "http.metrics_require_token",
                true,
                "needs an unrestricted token (`http.token` or a `[[http.tokens]]` entry without `tenant`)",
            ));
        }
        if self.http.workers == 0 {
            return Err(bad("http.workers", 0, "must be at least 1"));
        }
        let p = &self.pipeline;
        if p.concurrency == 0 || p.concurrency > 100_000 {
            return Err(bad(
                "pipeline.concurrency",
                p.concurrency,
                "must be between 1 and 100000",
            ));
        }
        if p.extractors == 0 || p.extractors > p.concurrency {
            return Err(bad(
                "pipeline.extractors",
                p.extractors,
                "must be between 1 and pipeline.concurrency",
            ));
        }
        if p.parsers > 256 {
            return Err(bad(
                "pipeline.parsers",
                p.parsers,
                "must be at most 256 (0 = number of cores)",
            ));
        }
        if p.parse_deadline_ms < 100 {
            return Err(bad(
                "pipeline.parse_deadline_ms",
                p.parse_deadline_ms,
                "must be at least 100",
            ));
        }
        if p.max_stuck_parsers == 0 {
            return Err(bad("pipeline.max_stuck_parsers", 0, "must be at least 1"));
        }
        if p.claim_batch == 0 {
            return Err(bad("pipeline.claim_batch", 0, "must be at least 1"));
        }
        // A lease must outlive any single request, or a live attempt could be reclaimed.
        let timeout_secs = self.fetch.timeout_ms.div_ceil(1000);
        if p.lease_secs <= timeout_secs {
            return Err(bad(
                "pipeline.lease_secs",
                p.lease_secs,
                &format!(
                    "must exceed fetch.timeout_ms ({} ms) so a live attempt is never reclaimed",
                    self.fetch.timeout_ms
                ),
            ));
        }
        if self.writer.batch_size == 0 {
            return Err(bad("writer.batch_size", 0, "must be at least 1"));
        }
        if self.writer.flush_ms == 0 {
            return Err(bad("writer.flush_ms", 0, "must be at least 1"));
        }
        let f = &self.fetch;
        if f.timeout_ms == 0 || f.connect_timeout_ms == 0 {
            return Err(bad("fetch.timeout_ms", f.timeout_ms, "timeouts must be at least 1 ms"));
        }
        if f.max_body_bytes == 0 {
            return Err(bad("fetch.max_body_bytes", 0, "must be at least 1"));
        }
        if f.max_body_bytes_in_flight < f.max_body_bytes {
            return Err(bad(
                "fetch.max_body_bytes_in_flight",
                f.max_body_bytes_in_flight,
                "must be at least fetch.max_body_bytes (one body of the largest size must fit)",
            ));
        }
        if f.read_timeout_ms == 0 {
            return Err(bad("fetch.read_timeout_ms", 0, "must be at least 1 ms"));
        }
        if f.per_host_concurrency == 0 {
            return Err(bad("fetch.per_host_concurrency", 0, "must be at least 1"));
        }
        if f.robots_cache_hosts == 0 || f.robots_max_bytes == 0 {
            return Err(bad(
                "fetch.robots_cache_hosts",
                f.robots_cache_hosts,
                "robots_cache_hosts and robots_max_bytes must be at least 1",
            ));
        }
        if f.politeness_key != "host" {
            return Err(bad(
                "fetch.politeness_key",
                format!("{:?}", f.politeness_key),
                "only \"host\" (exact hostname) is supported; \"registrable\" needs a public suffix list",
            ));
        }
        if f.schemes.is_empty() || f.schemes.iter().any(|s| s != "http" && s != "https") {
            return Err(bad(
                "fetch.schemes",
                format!("{:?}", f.schemes),
                "must be a non-empty list of \"https\" / \"http\"",
            ));
        }
        for (pattern, target) in &f.resolve_override {
            let name = pattern.strip_prefix("*.").unwrap_or(pattern);
            if name.is_empty() || name.contains('*') {
                return Err(bad(
                    "fetch.resolve_override",
                    format!("{pattern:?}"),
                    "patterns are `host` or `*.suffix`",
                ));
            }
            let addrs = match target {
                OverrideTarget::All(a) => vec![*a],
                OverrideTarget::PerScheme { http, https } => http.iter().chain(https.iter()).copied().collect(),
            };
            if let Some(a) = addrs.iter().find(|a| !a.ip().is_loopback()) {
                return Err(bad(
                    "fetch.resolve_override",
                    format!("{pattern:?} = {a}"),
                    "targets must be loopback addresses (tests and benchmarks only)",
                ));
            }
        }
        if self.retry.max_attempts == 0 {
            return Err(bad("retry.max_attempts", 0, "must be at least 1"));
        }
        if self.retry.max_delay_secs < self.retry.base_delay_secs {
            return Err(bad(
                "retry.max_delay_secs",
                self.retry.max_delay_secs,
                "must be at least retry.base_delay_secs",
            ));
        }
        if self.retry.max_delay_secs < self.retry.base_delay_secs {
            return Err(bad(
                "retry.max_delay_secs",
                self.retry.max_delay_secs,
                "must be at least retry.base_delay_secs",
            ));
        }
        if self.supervisor.within_secs == 0 {
            return Err(bad("supervisor.within_secs", 0, "must be at least 1"));
        }
        if self.supervisor.ping_interval_ms < 10 {
            return Err(bad(
                "supervisor.ping_interval_ms",
                self.supervisor.ping_interval_ms,
                "must be at least 10",
            ));
        }
        if self.supervisor.liveness_timeout_secs.saturating_mul(1000) < 2 * self.supervisor.ping_interval_ms
            || self.supervisor.liveness_timeout_secs < 4
        {
            return Err(bad(
                "supervisor.liveness_timeout_secs",
                self.supervisor.liveness_timeout_secs,
                "must be at least 4 (a restart's backoff is up to 3.2 s) and twice supervisor.ping_interval_ms",
            ));
        }
        if self.scheduler.poll_ms < 10 || self.scheduler.leader_ttl_secs < 3 {
            return Err(bad(
                "scheduler.poll_ms",
                self.scheduler.poll_ms,
                "poll_ms must be at least 10 and leader_ttl_secs at least 3",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for job in &self.scheduler.jobs {
            if !seen.insert(job.id.as_str()) {
                return Err(bad("scheduler.jobs", format!("{:?}", job.id), "job ids must be unique"));
            }
            crate::jobs::JobDef::from_settings(job, &self.scheduler, chrono::Utc::now()).map_err(|e| {
                SettingsError::Invalid {
                    key: format!("scheduler.jobs[{}]", job.id),
                    value: format!("{} {:?}", job.trigger, job.spec),
                    why: e,
                }
            })?;
        }
        let a = &self.alerts;
        if !a.webhook_url.is_empty() {
            // The URL may carry a secret (chat webhooks do), so the error does not echo it.
            match url::Url::parse(&a.webhook_url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
                Ok(u) => {
                    return Err(bad(
                        "alerts.webhook_url",
                        "(hidden)",
                        &format!(
                            "scheme {:?}: must be an http:// or https:// URL with a host",
                            u.scheme()
                        ),
                    ))
                }
                Err(e) => {
                    return Err(bad(
                        "alerts.webhook_url",
                        "(hidden)",
                        &format!("not a URL ({e}); use http(s)://... or \"\" to turn alerts off"),
                    ))
                }
            }
        }
        if a.job_failure_threshold == 0 {
            return Err(bad("alerts.job_failure_threshold", 0, "must be at least 1"));
        }
        if a.timeout_ms == 0 {
            return Err(bad("alerts.timeout_ms", 0, "must be at least 1 ms"));
        }
        if a.max_attempts == 0 || a.max_attempts > 20 {
            return Err(bad("alerts.max_attempts", a.max_attempts, "must be between 1 and 20"));
        }
        Ok(())
    }
}
