//! `HttpClient`: the one shared homepage client. Tries each configured scheme in order, follows
//! redirects by hand so every hop passes the SSRF guard, and returns a `Page` or a `FetchError`.
//!
//! It holds two reqwest clients, one for `http://` URLs and one for `https://` URLs, because a
//! reqwest resolver is not told the scheme and `resolve_override` may map schemes differently.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, LOCATION, RETRY_AFTER};
use tokio::time::Instant;

use super::body::read_html_body;
use super::error::{classify, parse_retry_after, FetchError, FetchSetupError};
use super::guard::check_url;
use super::resolver::{GuardedResolver, Overrides};
use crate::model::ErrorKind;
use crate::settings::FetchSettings;

/// Idle pooled connections are dropped after this: nearly every domain is a new host, so
/// only the robots.txt → homepage reuse matters.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
const ACCEPT_HTML: &str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1";

/// A fetched homepage: the bytes and the request facts recorded in `domains.metadata`.
#[derive(Debug, Clone)]
pub struct Page {
    /// The first URL requested for the scheme that answered (`https://example.com/`).
    pub url: String,
    /// The URL of the final response after redirects.
    pub final_url: url::Url,
    /// Every redirect hop's target, in order (empty without redirects).
    pub redirects: Vec<String>,
    /// Status of the final response (always 2xx).
    pub status: u16,
    /// `Content-Type` header.
    pub content_type: Option<String>,
    /// `Server` header.
    pub server: Option<String>,
    /// `X-Powered-By` header.
    pub x_powered_by: Option<String>,
    /// `ETag` header.
    pub etag: Option<String>,
    /// `Last-Modified` header.
    pub last_modified: Option<String>,
    /// The decompressed body, at most `fetch.max_body_bytes` long.
    pub body: Vec<u8>,
    /// Milliseconds from the first request of the answering scheme to the end of the body.
    pub response_ms: u64,
    /// When the body was fully read.
    pub fetched_at: chrono::DateTime<chrono::Utc>,
}

/// The shared homepage client; cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    https: reqwest::Client,
    schemes: Vec<String>,
    timeout: Duration,
    max_redirects: usize,
    max_body_bytes: u64,
    allow_private: bool,
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
        };
        Ok(HttpClient { inner: Arc::new(inner) })
    }

    /// Fetches `{scheme}://{domain}/` for each of settings.schemes in order, falling back to the next scheme on connect/tls/timeout/dns-transient errors (not on HTTP status errors).
    pub async fn fetch_homepage(&self, domain: &str) -> Result<Page, FetchError> {
        let now = Instant::now();
        // An absurd configured timeout must not overflow the clock.
        let deadline = now
            .checked_add(self.inner.timeout)
            .unwrap_or(now + Duration::from_secs(86_400));
        match tokio::time::timeout_at(deadline, self.try_schemes(domain, deadline)).await {
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
    async fn try_schemes(&self, domain: &str, deadline: Instant) -> Result<Page, FetchError> {
        let mut earlier: Vec<String> = Vec::new();
        for (i, scheme) in self.inner.schemes.iter().enumerate() {
            let start = format!("{scheme}://{domain}/");
            let result = match url::Url::parse(&start) {
                Ok(url) if is_bare_host(&url) => self.fetch_from(url, start, deadline).await,
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

    /// One scheme's attempt: the request, its redirect hops, and the final body.
    async fn fetch_from(&self, start: url::Url, start_text: String, deadline: Instant) -> Result<Page, FetchError> {
        let started = Instant::now();
        let mut url = start;
        let mut seen: HashSet<String> = HashSet::from([url.as_str().to_string()]);
        let mut redirects = Vec::new();
        loop {
            check_url(&url, self.inner.allow_private)?;
            let client = if url.scheme() == "https" {
                &self.inner.https
            } else {
                &self.inner.http
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(FetchError::new(ErrorKind::Timeout, format!("timed out ({url})")));
            }
            let response = client
                .get(url.clone())
                .timeout(remaining)
                .send()
                .await
                .map_err(|e| classify(&e, &url))?;
            let status = response.status();
            let header = |name: HeaderName| {
                response
                    .headers()
                    .get(name)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
            };
            if status.is_redirection() {
                if let Some(location) = header(LOCATION) {
                    let mut next = url.join(&location).map_err(|e| {
                        let mut err = FetchError::new(
                            ErrorKind::HttpStatus,
                            format!("{status} with an unusable Location `{location}`: {e} ({url})"),
                        );
                        err.http_status = Some(status.as_u16());
                        err
                    })?;
                    next.set_fragment(None);
                    if redirects.len() >= self.inner.max_redirects {
                        let cap = self.inner.max_redirects;
                        let msg = format!("more than {cap} redirects, next to {next} ({start_text})");
                        return Err(FetchError::new(ErrorKind::RedirectLoop, msg));
                    }
                    if !seen.insert(next.as_str().to_string()) {
                        let msg = format!("redirect loop: {url} redirects back to {next} ({start_text})");
                        return Err(FetchError::new(ErrorKind::RedirectLoop, msg));
                    }
                    redirects.push(next.to_string());
                    url = next;
                    continue;
                }
            }
            if !status.is_success() {
                let retry_after = header(RETRY_AFTER).and_then(|v| parse_retry_after(&v, chrono::Utc::now()));
                let mut err = FetchError::new(ErrorKind::HttpStatus, format!("HTTP {status} ({url})"));
                err.http_status = Some(status.as_u16());
                err.retry_after = retry_after;
                return Err(err);
            }
            let content_type = header(reqwest::header::CONTENT_TYPE).filter(|v| !v.is_empty());
            let server = header(reqwest::header::SERVER);
            let x_powered_by = header(HeaderName::from_static("x-powered-by"));
            let etag = header(reqwest::header::ETAG);
            let last_modified = header(reqwest::header::LAST_MODIFIED);
            let final_url = response.url().clone();
            let body = read_html_body(response, content_type.as_deref(), self.inner.max_body_bytes).await?;
            return Ok(Page {
                url: start_text,
                final_url,
                redirects,
                status: status.as_u16(),
                content_type,
                server,
                x_powered_by,
                etag,
                last_modified,
                body,
                response_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                fetched_at: chrono::Utc::now(),
            });
        }
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
