//! Configuration: `config.toml` plus `DOMAIND_<SECTION>__<KEY>` environment overrides, one
//! struct per component, validated so a bad value fails at start naming the key, value and why.
//!
//! Precedence: built-in defaults < config file < environment. Only scalar keys can be
//! overridden from the environment, and never `fetch.resolve_override` or
//! `fetch.allow_private` (they weaken the SSRF guard, so they must be written in a file).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// Path given.
        path: String,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The file or an override is not valid TOML / has a wrong type.
    #[error("invalid configuration: {0}")]
    Parse(String),
    /// A key has a value outside its allowed range.
    #[error("invalid configuration: `{key}` = {value}: {why}")]
    Invalid {
        /// Dotted key.
        key: String,
        /// The value as given.
        value: String,
        /// Why it is refused.
        why: String,
    },
}

/// All of domaind's settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `[database]`
    pub database: DatabaseSettings,
    /// `[http]`
    pub http: HttpSettings,
    /// `[pipeline]`
    pub pipeline: PipelineSettings,
    /// `[writer]`
    pub writer: WriterSettings,
    /// `[fetch]`
    pub fetch: FetchSettings,
    /// `[retry]`
    pub retry: RetrySettings,
    /// `[supervisor]`
    pub supervisor: SupervisorSettings,
    /// `[scheduler]`
    pub scheduler: SchedulerSettings,
    /// `[alerts]`
    pub alerts: AlertSettings,
}

/// `[database]`: where rows live.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://...` or `postgres://...`.
    pub url: String,
    /// Pool size (SQLite uses one writer regardless).
    pub max_connections: u32,
    /// How long to wait for a pooled connection before reporting the database unavailable.
    pub acquire_timeout_ms: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://domaind.db?mode=rwc".into(),
            max_connections: 8,
            acquire_timeout_ms: 5000,
        }
    }
}

/// `[http]`: the diagnostics/API server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Listen address; port 0 picks a free port.
    pub bind: String,
    /// Bearer token for `/api/`; empty means no auth (loopback binds only).
    pub token: String,
    /// Largest `limit` accepted by the dev endpoint.
    pub max_dev_limit: u32,
    /// Largest number of domains in one `POST /api/v1/domains`.
    pub max_domains_per_request: usize,
    /// Largest JSON body accepted, in bytes.
    pub max_body_bytes: usize,
    /// actix-web worker threads.
    pub workers: usize,
    /// More tokens, each optionally bound to one tenant (`[[http.tokens]]`).
    pub tokens: Vec<TokenSettings>,
}

/// One `[[http.tokens]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSettings {
    /// The bearer token.
    pub token: String,
    /// When set, the token sees and changes only this tenant's rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

impl HttpSettings {
    /// Whether any token is configured (then everything under `/api/` needs one).
    pub fn auth_required(&self) -> bool {
        !self.token.is_empty() || !self.tokens.is_empty()
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            token: String::new(),
            max_dev_limit: 1000,
            max_domains_per_request: 10_000,
            max_body_bytes: 2 * 1024 * 1024,
            workers: 2,
            tokens: Vec::new(),
        }
    }
}

/// `[pipeline]`: how much work is in flight.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineSettings {
    /// Domains in flight per instance (claimed, not yet written).
    pub concurrency: usize,
    /// Extractor actors sharing that concurrency.
    pub extractors: usize,
    /// Parser threads (0 = number of cores).
    pub parsers: usize,
    /// Largest claim statement.
    pub claim_batch: usize,
    /// Lease length; renewed every third of it while a domain is in flight.
    pub lease_secs: u64,
    /// On shutdown, how long in-flight domains may take to finish before their leases are released.
    pub shutdown_grace_secs: u64,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        Self {
            concurrency: 256,
            extractors: 8,
            parsers: 0,
            claim_batch: 100,
            lease_secs: 30,
            shutdown_grace_secs: 10,
        }
    }
}

impl PipelineSettings {
    /// Parser threads to start.
    pub fn parser_threads(&self) -> usize {
        if self.parsers == 0 {
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
        } else {
            self.parsers
        }
    }

    /// The lease as a duration.
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs)
    }
}

/// `[writer]`: result batching.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WriterSettings {
    /// Flush when this many outcomes are buffered.
    pub batch_size: usize,
    /// Flush at least this often while outcomes are buffered.
    pub flush_ms: u64,
}

impl Default for WriterSettings {
    fn default() -> Self {
        Self {
            batch_size: 200,
            flush_ms: 50,
        }
    }
}

/// Where an overridden name connects: one address for every scheme, or one per scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OverrideTarget {
    /// Every scheme connects here.
    All(SocketAddr),
    /// Per-scheme addresses; a missing scheme is refused (connection error).
    PerScheme {
        /// Address for `http://`.
        http: Option<SocketAddr>,
        /// Address for `https://`.
        https: Option<SocketAddr>,
    },
}

impl OverrideTarget {
    /// The address for a scheme (`http` / `https`), if any.
    pub fn for_scheme(&self, scheme: &str) -> Option<SocketAddr> {
        match self {
            OverrideTarget::All(a) => Some(*a),
            OverrideTarget::PerScheme { http, https } => match scheme {
                "http" => *http,
                "https" => *https,
                _ => None,
            },
        }
    }
}

/// `[fetch]`: how homepages are fetched.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FetchSettings {
    /// `User-Agent` header.
    pub user_agent: String,
    /// TCP+TLS connect timeout.
    pub connect_timeout_ms: u64,
    /// Whole-attempt timeout (all hops, all schemes' bodies).
    pub timeout_ms: u64,
    /// Body cap, enforced while streaming and after decompression.
    pub max_body_bytes: u64,
    /// Redirect hops followed before `redirect_loop`.
    pub max_redirects: usize,
    /// Schemes tried in order (`https`, `http`).
    pub schemes: Vec<String>,
    /// Turns the SSRF guard off (file only).
    pub allow_private: bool,
    /// Host pattern (`name` or `*.suffix`) → loopback target (file only; tests and benchmarks).
    pub resolve_override: BTreeMap<String, OverrideTarget>,
    /// Idle connections kept per host.
    pub pool_max_idle_per_host: usize,
    /// Longest gap allowed between two body chunks.
    pub read_timeout_ms: u64,
    /// Whether robots.txt is fetched and obeyed before a homepage.
    pub respect_robots: bool,
    /// How long a fetched robots.txt is reused for its scheme+host+port.
    pub robots_ttl_secs: u64,
    /// Hosts whose robots.txt is cached at once (the oldest is evicted beyond this).
    pub robots_cache_hosts: usize,
    /// Bytes of robots.txt parsed; the rest is ignored (RFC 9309 asks for at least 500 KiB).
    pub robots_max_bytes: u64,
    /// Upper bound applied to a robots.txt `Crawl-delay`.
    pub max_crawl_delay_ms: u64,
    /// Requests in flight to one host at most.
    pub per_host_concurrency: usize,
    /// Minimum gap between request starts to one host (a larger `Crawl-delay` wins).
    pub per_host_delay_ms: u64,
    /// What "one host" means for politeness: `host` (exact hostname; the only supported value).
    pub politeness_key: String,
}

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            user_agent: concat!("domaind/", env!("CARGO_PKG_VERSION"), " (+https://github.com/domaind)").into(),
            connect_timeout_ms: 5000,
            timeout_ms: 15000,
            max_body_bytes: 5_000_000,
            max_redirects: 5,
            schemes: vec!["https".into(), "http".into()],
            allow_private: false,
            resolve_override: BTreeMap::new(),
            pool_max_idle_per_host: 1,
            read_timeout_ms: 10_000,
            respect_robots: true,
            robots_ttl_secs: 3600,
            robots_cache_hosts: 10_000,
            robots_max_bytes: 512_000,
            max_crawl_delay_ms: 30_000,
            per_host_concurrency: 2,
            per_host_delay_ms: 0,
            politeness_key: "host".into(),
        }
    }
}

/// `[retry]`: what happens after a failed attempt.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrySettings {
    /// Attempts before a domain is `error` for good.
    pub max_attempts: u32,
    /// First backoff delay (doubles per attempt, ±25 % jitter).
    pub base_delay_secs: u64,
    /// Upper bound of any backoff delay, a server's `Retry-After` included.
    pub max_delay_secs: u64,
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay_secs: 30,
            max_delay_secs: 21_600,
        }
    }
}

impl RetrySettings {
    /// The policy these settings describe.
    pub fn policy(&self) -> crate::model::RetryPolicy {
        crate::model::RetryPolicy {
            max_attempts: self.max_attempts,
            base_delay: Duration::from_secs(self.base_delay_secs),
            max_delay: Duration::from_secs(self.max_delay_secs),
        }
    }
}

/// `[supervisor]`: restart intensity.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupervisorSettings {
    /// Restarts tolerated within `within_secs` before escalation.
    pub max_restarts: u32,
    /// The restart-intensity window.
    pub within_secs: u64,
}

impl Default for SupervisorSettings {
    fn default() -> Self {
        Self {
            max_restarts: 5,
            within_secs: 10,
        }
    }
}

/// `[alerts]`: a webhook told about supervisor escalations and jobs that keep failing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertSettings {
    /// http(s) URL receiving one JSON POST per alert; empty turns the webhook off (alerts are still logged).
    pub webhook_url: String,
    /// Consecutive failed runs of one job that raise a `job_failing` alert.
    pub job_failure_threshold: u32,
    /// Timeout of one delivery attempt.
    pub timeout_ms: u64,
    /// Delivery attempts per alert (exponential backoff between them) before it is given up.
    pub max_attempts: u32,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            webhook_url: String::new(),
            job_failure_threshold: 3,
            timeout_ms: 5000,
            max_attempts: 5,
        }
    }
}

/// `[scheduler]`: jobs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchedulerSettings {
    /// Default timezone of jobs (IANA name).
    pub timezone: String,
    /// Leader lease for cluster jobs; a dead leader is replaced within about this long.
    pub leader_ttl_secs: u64,
    /// How often due fires are checked.
    pub poll_ms: u64,
    /// Defaults for every job (APScheduler's `job_defaults`).
    pub job_defaults: JobDefaults,
    /// Declared jobs.
    pub jobs: Vec<JobSettings>,
}

/// `[scheduler.job_defaults]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobDefaults {
    /// After missed fires, run once (true) or once per missed fire (false).
    pub coalesce: bool,
    /// Concurrent runs of one job per instance; a fire over the limit is recorded `skipped`.
    pub max_instances: u32,
    /// Seconds a fire may be late and still run (0 = no limit); later fires are recorded `missed`.
    pub misfire_grace_time: u64,
    /// With `coalesce = false`, at most this many missed fires are run after downtime.
    pub backfill_cap: usize,
}

impl Default for JobDefaults {
    fn default() -> Self {
        Self {
            coalesce: false,
            max_instances: 1,
            misfire_grace_time: 60,
            backfill_cap: 100,
        }
    }
}

fn job(id: &str, trigger: &str, spec: &str, args: &[(&str, toml::Value)]) -> JobSettings {
    JobSettings {
        id: id.into(),
        trigger: trigger.into(),
        spec: spec.into(),
        args: args.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        timezone: None,
        scope: None,
        coalesce: None,
        max_instances: None,
        misfire_grace_time: None,
        start: None,
        end: None,
        jitter: None,
    }
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        use toml::Value::{Integer, String as Text};
        Self {
            timezone: "UTC".into(),
            leader_ttl_secs: 15,
            poll_ms: 100,
            job_defaults: JobDefaults::default(),
            jobs: vec![
                job("process_pending_domains", "interval", "5s", &[("limit", Integer(1000))]),
                job("reclaim_expired_leases", "interval", "15s", &[]),
                job(
                    "recrawl_stale",
                    "interval",
                    "1h",
                    &[("ttl", Text("30d".into())), ("batch", Integer(1000))],
                ),
                job(
                    "prune_history",
                    "cron",
                    "17 3 * * *",
                    &[("retention", Text("30d".into())), ("batch", Integer(5000))],
                ),
            ],
        }
    }
}

/// One `[[scheduler.jobs]]` entry; unset options take `[scheduler.job_defaults]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSettings {
    /// Job id: `process_pending_domains`, `reclaim_expired_leases`, `recrawl_stale`, `prune_history`.
    pub id: String,
    /// `interval`, `cron` or `date`.
    pub trigger: String,
    /// `"5s"`, `"*/5 * * * *"`, or an RFC 3339 instant.
    pub spec: String,
    /// Job arguments.
    #[serde(default)]
    pub args: toml::Table,
    /// IANA timezone of a cron job (default `scheduler.timezone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// `instance` (every instance runs it) or `cluster` (the leader only); default per job id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Overrides `job_defaults.coalesce`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coalesce: Option<bool>,
    /// Overrides `job_defaults.max_instances`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_instances: Option<u32>,
    /// Overrides `job_defaults.misfire_grace_time` (seconds, 0 = no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misfire_grace_time: Option<u64>,
    /// Interval jobs: first fire time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Interval jobs: no fire after this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Interval jobs: each fire delayed by a random amount up to this duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<String>,
}

impl JobSettings {
    /// The `limit` argument, if set.
    pub fn limit(&self) -> Option<i64> {
        self.args.get("limit").and_then(|v| v.as_integer())
    }
}

/// Parses a duration like `500ms`, `30s`, `5m`, `1h30m`, `2d`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("expected a number at `{rest}`"));
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("number too large in `{s}`"))?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let part = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.saturating_mul(60)),
            "h" => Duration::from_secs(n.saturating_mul(3600)),
            "d" => Duration::from_secs(n.saturating_mul(86_400)),
            "" => return Err(format!("missing unit after {n} (use ms, s, m, h or d)")),
            other => return Err(format!("unknown unit `{other}` (use ms, s, m, h or d)")),
        };
        total = total.saturating_add(part);
    }
    Ok(total)
}

impl Settings {
    /// A copy safe to print: tokens, the webhook URL and the database password are masked.
    pub fn masked(&self) -> Settings {
        let mut s = self.clone();
        let mask = |v: &mut String| {
            if !v.is_empty() {
                *v = "***".into();
            }
        };
        mask(&mut s.http.token);
        s.http.tokens.iter_mut().for_each(|t| mask(&mut t.token));
        mask(&mut s.alerts.webhook_url);
        s.database.url = crate::store::redact_url(&s.database.url);
        s
    }
}

/// Keys that may only be set in a config file.
const FILE_ONLY: [&str; 2] = ["fetch.resolve_override", "fetch.allow_private"];

impl Settings {
    /// Loads defaults, then `path` (if given, it must exist), then the process environment.
    pub fn load(path: Option<&Path>) -> Result<Settings, SettingsError> {
        let text = match path {
            Some(p) => std::fs::read_to_string(p).map_err(|source| SettingsError::Read {
                path: p.display().to_string(),
                source,
            })?,
            None => String::new(),
        };
        Settings::from_sources(&text, std::env::vars())
    }

    /// Builds settings from config text and `(name, value)` environment pairs.
    pub fn from_sources(
        file: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, SettingsError> {
        let mut table: toml::Table = toml::from_str(file).map_err(|e| SettingsError::Parse(e.to_string()))?;
        let defaults = toml::Table::try_from(Settings::default()).map_err(|e| SettingsError::Parse(e.to_string()))?;
        let mut overrides: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("DOMAIND_") && k.contains("__"))
            .collect();
        overrides.sort();
        for (name, raw) in overrides {
            let rest = &name["DOMAIND_".len()..];
            let Some((section, key)) = rest.split_once("__") else {
                continue;
            };
            let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
            let dotted = format!("{section}.{key}");
            if FILE_ONLY.contains(&dotted.as_str()) {
                return Err(SettingsError::Invalid {
                    key: dotted,
                    value: format!("{raw:?} (from {name})"),
                    why: "this key weakens the SSRF guard and is accepted from a config file only".into(),
                });
            }
            let default = defaults
                .get(&section)
                .and_then(|s| s.as_table())
                .and_then(|s| s.get(&key));
            let value = match default {
                None => {
                    return Err(SettingsError::Invalid {
                        key: dotted,
                        value: format!("{raw:?} (from {name})"),
                        why: "no such setting".into(),
                    })
                }
                Some(toml::Value::String(_)) => toml::Value::String(raw.clone()),
                Some(toml::Value::Integer(_)) => {
                    toml::Value::Integer(raw.trim().parse().map_err(|_| SettingsError::Invalid {
                        key: dotted.clone(),
                        value: format!("{raw:?} (from {name})"),
                        why: "expected a whole number".into(),
                    })?)
                }
                Some(toml::Value::Boolean(_)) => toml::Value::Boolean(match raw.trim() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => {
                        return Err(SettingsError::Invalid {
                            key: dotted,
                            value: format!("{raw:?} (from {name})"),
                            why: "expected true or false".into(),
                        })
                    }
                }),
                Some(_) => {
                    return Err(SettingsError::Invalid {
                        key: dotted,
                        value: format!("{raw:?} (from {name})"),
                        why: "only scalar keys can be set from the environment".into(),
                    })
                }
            };
            let entry = table
                .entry(section)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry.as_table_mut() {
                Some(t) => {
                    t.insert(key, value);
                }
                None => return Err(SettingsError::Parse(format!("`{}` is not a table", dotted))),
            }
        }
        let settings: Settings = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| SettingsError::Parse(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

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

#[cfg(test)]
mod tests {
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
        let s = Settings::from_sources(
            "[database]\nurl = \"postgres://u:hunter2@db/x\"\n[http]\ntoken = \"admin-secret\"\n",
            env(&[]),
        )
        .unwrap();
        let shown = serde_json::to_string(&s.masked()).unwrap();
        assert!(!shown.contains("hunter2") && !shown.contains("admin-secret"), "{shown}");
        assert!(shown.contains("postgres://u:***@db/x"), "{shown}");
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert!(parse_duration("5").unwrap_err().contains("missing unit"));
        assert!(parse_duration("5x").unwrap_err().contains("unknown unit"));
    }
}
