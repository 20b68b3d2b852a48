//! `HttpClient`: the one shared homepage client. Tries each configured scheme in order (the hops
//! themselves are in `homepage.rs`) and returns a `Page`, `NotModified`, or a `FetchError`.
//! It owns the per-host politeness table and the robots.txt cache, shared by every fetch.
//!
//! It holds two reqwest clients, one for `http://` URLs and one for `https://` URLs, because a
//! reqwest resolver is not told the scheme and `resolve_override` may map schemes differently.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT};
use tokio::time::Instant;

use super::budget::BodyBudget;
use super::error::{classify, FetchError, FetchSetupError};
use super::guard::check_url;
use super::page::{Fetched, Page, Validators};
use super::politeness::Politeness;
use super::resolver::{GuardedResolver, Overrides};
use super::robots::product_token;
use super::robots_cache::RobotsCache;
use crate::model::ErrorKind;
use crate::settings::FetchSettings;

/// Idle pooled connections are dropped after this: nearly every domain is a new host, so
/// only the robots.txt → homepage reuse matters.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(2);
const ACCEPT_HTML: &str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1";

/// The shared homepage client; cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

/// The client's settings and shared state, used by the homepage and robots.txt fetchers.
pub(super) struct Inner {
    http: reqwest::Client,
    https: reqwest::Client,
    schemes: Vec<String>,
    timeout: Duration,
    pub(super) max_redirects: usize,
    pub(super) max_body_bytes: u64,
    pub(super) allow_private: bool,
    pub(super) read_timeout: Duration,
    pub(super) respect_robots: bool,
    pub(super) robots: RobotsCache,
    pub(super) robots_max_bytes: u64,
    /// Our robots.txt product token (`domaind`).
    pub(super) token: String,
    pub(super) max_crawl_delay: Duration,
    pub(super) per_host_delay: Duration,
    pub(super) politeness: Politeness,
    pub(super) body_budget: BodyBudget,
}

impl HttpClient {
    /// Builds the client (both per-scheme reqwest clients) from `[fetch]` settings.
    pub fn new(settings: &FetchSettings) -> Result<HttpClient, FetchSetupError> {
        let overrides = Arc::new(Overrides::new(&settings.resolve_override));
        let build = |scheme: &'static str| -> Result<reqwest::Client, FetchSetupError> {
            let user_agent = HeaderValue::from_str(&settings.user_agent).map_err(|_| FetchSetupError::UserAgent)?;
            let mut headers = HeaderMap::new();
            headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_HTML));
            reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .referer(false)
                .connect_timeout(Duration::from_millis(settings.connect_timeout_ms))
                .timeout(Duration::from_millis(settings.timeout_ms))
                .pool_max_idle_per_host(settings.pool_max_idle_per_host)
                .pool_idle_timeout(POOL_IDLE_TIMEOUT)
                .user_agent(user_agent)
                .default_headers(headers)
                .dns_resolver(GuardedResolver::new(scheme, overrides.clone(), settings.allow_private))
                .build()
                .map_err(FetchSetupError::Client)
        };
        let inner = Inner {
            http: build("http")?,
            https: build("https")?,
            schemes: settings.schemes.clone(),
            timeout: Duration::from_millis(settings.timeout_ms),
            max_redirects: settings.max_redirects,
            max_body_bytes: settings.max_body_bytes,
            allow_private: settings.allow_private,
            read_timeout: Duration::from_millis(settings.read_timeout_ms.max(1)),
            respect_robots: settings.respect_robots,
            robots: RobotsCache::new(
                Duration::from_secs(settings.robots_ttl_secs),
                settings.robots_cache_hosts,
            ),
            robots_max_bytes: settings.robots_max_bytes,
            token: product_token(&settings.user_agent),
            max_crawl_delay: Duration::from_millis(settings.max_crawl_delay_ms),
            per_host_delay: Duration::from_millis(settings.per_host_delay_ms),
            politeness: Politeness::new(settings.per_host_concurrency),
            body_budget: BodyBudget::new(settings.max_body_bytes_in_flight),
        };
        Ok(HttpClient { inner: Arc::new(inner) })
    }

    /// Fetches `{scheme}://{domain}/` for each of settings.schemes in order, falling back to the next scheme on connect/tls/timeout/dns-transient errors (not on HTTP status errors).
    pub async fn fetch_homepage(&self, domain: &str) -> Result<Page, FetchError> {
        match self.fetch_homepage_with(domain, None).await? {
            Fetched::Page(page) => Ok(page),
            Fetched::NotModified { final_url, .. } => Err(FetchError::new(
                ErrorKind::Internal,
                format!("304 to an unconditional request ({final_url})"),
            )),
        }
    }

    /// Like `fetch_homepage`, sending `validators` (when given) so that a 304 answers
    /// `Fetched::NotModified`; without validators a 304 is an `http_status` error.
    pub async fn fetch_homepage_with(
        &self,
        domain: &str,
        validators: Option<&Validators>,
    ) -> Result<Fetched, FetchError> {
        let now = Instant::now();
        // An absurd configured timeout must not overflow the clock.
        let deadline = now
            .checked_add(self.inner.timeout)
            .unwrap_or(now + Duration::from_secs(86_400));
        let validators = validators.filter(|v| !v.is_empty());
        match tokio::time::timeout_at(deadline, self.try_schemes(domain, validators, deadline)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::new(
                ErrorKind::Timeout,
                format!(
                    "no complete answer within {} ms ({domain})",
                    self.inner.timeout.as_millis()
                ),
            )),
        }
    }

    /// When every scheme fails, the last error decides the kind; the message lists all of them.
    async fn try_schemes(
        &self,
        domain: &str,
        validators: Option<&Validators>,
        deadline: Instant,
    ) -> Result<Fetched, FetchError> {
        let mut earlier: Vec<String> = Vec::new();
        for (i, scheme) in self.inner.schemes.iter().enumerate() {
            let start = format!("{scheme}://{domain}/");
            let result = match url::Url::parse(&start) {
                Ok(url) if is_bare_host(&url) => self.inner.fetch_from(url, start, validators, deadline).await,
                Ok(_) => Err(FetchError::new(
                    ErrorKind::Blocked,
                    format!("`{domain}` is not a bare host name"),
                )),
                Err(e) => Err(FetchError::new(
                    ErrorKind::Blocked,
                    format!("not a valid host: {e} ({start})"),
                )),
            };
            match result {
                Ok(page) => return Ok(page),
                Err(e)
                    if e.allows_scheme_fallback() && i + 1 < self.inner.schemes.len() && Instant::now() < deadline =>
                {
                    earlier.push(e.message);
                }
                Err(mut e) => {
                    if !earlier.is_empty() {
                        earlier.push(e.message);
                        e.message = earlier.join("; then ");
                    }
                    return Err(e);
                }
            }
        }
        Err(FetchError::new(ErrorKind::Internal, "fetch.schemes is empty"))
    }
}

impl Inner {
    /// Sends one GET to `url` (after the guard's URL check) with `headers`, within `deadline`.
    pub(super) async fn send(
        &self,
        url: &url::Url,
        headers: HeaderMap,
        deadline: Instant,
    ) -> Result<reqwest::Response, FetchError> {
        check_url(url, self.allow_private)?;
        let client = if url.scheme() == "https" {
            &self.https
        } else {
            &self.http
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(FetchError::new(ErrorKind::Timeout, format!("timed out ({url})")));
        }
        client
            .get(url.clone())
            .headers(headers)
            .timeout(remaining)
            .send()
            .await
            .map_err(|e| classify(&e, url))
    }
}

/// A domain must yield `scheme://host/` and nothing else (no userinfo, port, path or query).
fn is_bare_host(url: &url::Url) -> bool {
    url.username().is_empty()
        && url.password().is_none()
        && url.port().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
}
