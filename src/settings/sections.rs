//! One struct per `config.toml` section, with the defaults the committed file documents.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
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
    /// Whether `GET /metrics` needs an unrestricted token too (it shows counts across all
    /// tenants, so a tenant-bound token is refused with 403). Off by default: scrapers
    /// usually sit on a private network, like load balancers asking `/health/*`.
    pub metrics_require_token: bool,
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
            metrics_require_token: false,
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
    /// How long one page may keep a parser thread; past it the domain fails (transient
    /// `internal`) and the thread is replaced and abandoned.
    pub parse_deadline_ms: u64,
    /// Abandoned parser threads still stuck at once before the supervisor escalates.
    pub max_stuck_parsers: usize,
    /// Most domains of one tenant in flight on this instance at once (0 = no cap). With
    /// several instances a tenant may have up to instances × this in flight.
    pub max_in_flight_per_tenant: usize,
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
            max_in_flight_per_tenant: 0,
            parse_deadline_ms: 10_000,
            max_stuck_parsers: 4,
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
    /// Bytes all homepage bodies in flight (downloading or waiting to be parsed) may hold at
    /// once; a body that finds no room within `read_timeout_ms` fails its attempt as a
    /// transient `timeout`. At least `max_body_bytes`.
    pub max_body_bytes_in_flight: u64,
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
            max_body_bytes_in_flight: 64 * 1024 * 1024,
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

/// `[supervisor]`: restart intensity and liveness.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupervisorSettings {
    /// Restarts tolerated within `within_secs` before escalation.
    pub max_restarts: u32,
    /// The restart-intensity window.
    pub within_secs: u64,
    /// How often the Supervisor pings every child (and beats for the watchdog).
    pub ping_interval_ms: u64,
    /// A child that has not answered a ping for this long is restarted; an actor system that
    /// has not run the Supervisor's ping round for this long (a blocked thread) makes the
    /// watchdog escalate.
    pub liveness_timeout_secs: u64,
}

impl Default for SupervisorSettings {
    fn default() -> Self {
        Self {
            max_restarts: 5,
            within_secs: 10,
            ping_interval_ms: 1000,
            liveness_timeout_secs: 10,
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
