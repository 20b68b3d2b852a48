//! Fetch errors: the classified `FetchError` every failure becomes, how reqwest errors are
//! classified into an `ErrorKind`, and `Retry-After` parsing.

use std::error::Error as StdError;
use std::time::Duration;

use crate::model::ErrorKind;

use super::resolver::{ResolveError, ResolveFailure};

/// A failed homepage fetch: its kind, a human message naming the URL, and retry hints.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct FetchError {
    /// The classified reason.
    pub kind: ErrorKind,
    /// Human-readable explanation, usually ending with the URL in parentheses.
    pub message: String,
    /// The final status for `ErrorKind::HttpStatus`.
    pub http_status: Option<u16>,
    /// The server's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
    /// Overrides the kind's default permanence (DNS not-found vs temporary, robots.txt 5xx).
    transient: Option<bool>,
}

impl FetchError {
    /// An error of `kind` without HTTP details.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> FetchError {
        FetchError {
            kind,
            message: message.into(),
            http_status: None,
            retry_after: None,
            transient: None,
        }
    }

    /// The same error, marked transient (`true`) or permanent (`false`) whatever its kind.
    pub fn with_transient(mut self, transient: bool) -> FetchError {
        self.transient = Some(transient);
        self
    }

    /// Whether a later attempt may succeed (DESIGN.md's error table): connect, timeout, DNS
    /// temporary failures, and HTTP 408/425/429/5xx are transient; everything else is permanent.
    /// A DNS error is temporary unless marked permanent (NXDOMAIN, no addresses).
    pub fn is_transient(&self) -> bool {
        if let Some(transient) = self.transient {
            return transient;
        }
        match self.kind {
            ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Internal | ErrorKind::Dns => true,
            ErrorKind::HttpStatus => matches!(self.http_status, Some(408 | 425 | 429 | 500..=599)),
            _ => false,
        }
    }

    /// Whether the next scheme in `fetch.schemes` is worth trying after this error.
    pub fn allows_scheme_fallback(&self) -> bool {
        match self.kind {
            ErrorKind::Connect | ErrorKind::Tls | ErrorKind::Timeout => true,
            ErrorKind::Dns => self.is_transient(),
            _ => false,
        }
    }
}

/// Why the HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FetchSetupError {
    /// `fetch.user_agent` is not a valid header value.
    #[error("fetch.user_agent is not a valid HTTP header value")]
    UserAgent,
    /// reqwest refused the configuration (e.g. the TLS backend failed to initialize).
    #[error("cannot build the HTTP client")]
    Client(#[source] reqwest::Error),
}

/// Classifies a reqwest error raised while requesting or reading `url`.
pub(crate) fn classify(err: &reqwest::Error, url: &url::Url) -> FetchError {
    // reqwest's own layer only repeats the URL; the causes below it say what happened.
    let chain = match StdError::source(err) {
        Some(cause) => chain_text(cause),
        None => err.to_string(),
    };
    for e in sources(err) {
        if let Some(resolve) = e.downcast_ref::<ResolveError>() {
            let error = |kind| FetchError::new(kind, format!("{resolve} ({url})"));
            return match resolve.failure {
                ResolveFailure::NotFound => error(ErrorKind::Dns).with_transient(false),
                ResolveFailure::Temporary => error(ErrorKind::Dns).with_transient(true),
                ResolveFailure::Blocked => error(ErrorKind::Blocked),
                ResolveFailure::NoOverride => error(ErrorKind::Connect),
            };
        }
    }
    if err.is_timeout() {
        let what = if err.is_connect() {
            "connect timed out"
        } else {
            "timed out"
        };
        return FetchError::new(ErrorKind::Timeout, format!("{what} ({url})"));
    }
    for e in sources(err) {
        if let Some(found) = e.downcast_ref::<std::io::Error>().and_then(|io| classify_io(io, url)) {
            return found;
        }
    }
    // rustls is not a direct dependency, so its errors (wrapped in io::Error by tokio-rustls)
    // are recognised by their text; only an https URL can produce them.
    let lower = chain.to_ascii_lowercase();
    let tls_words = [
        "certificate",
        "tls",
        "handshake",
        "received corrupt message",
        "peer sent",
        "alert",
    ];
    if url.scheme() == "https" && tls_words.iter().any(|w| lower.contains(w)) {
        return FetchError::new(ErrorKind::Tls, format!("TLS failure: {chain} ({url})"));
    }
    if err.is_decode() {
        return FetchError::new(ErrorKind::Decode, format!("cannot decode the body: {chain} ({url})"));
    }
    if lower.contains("dns error") {
        let message = format!("DNS: temporary failure: {chain} ({url})");
        return FetchError::new(ErrorKind::Dns, message).with_transient(true);
    }
    // Everything else (closed connections, malformed responses) is a transport failure.
    FetchError::new(ErrorKind::Connect, format!("connection failed: {chain} ({url})"))
}

fn classify_io(io: &std::io::Error, url: &url::Url) -> Option<FetchError> {
    use std::io::ErrorKind as Io;
    let what = match io.kind() {
        Io::ConnectionRefused => "connection refused",
        Io::ConnectionReset => "connection reset",
        Io::ConnectionAborted => "connection aborted",
        Io::NotConnected | Io::BrokenPipe => "connection closed",
        Io::AddrNotAvailable | Io::AddrInUse => "no local address for the connection",
        Io::UnexpectedEof => "connection closed early",
        Io::HostUnreachable => "host unreachable",
        Io::NetworkUnreachable => "network unreachable",
        Io::TimedOut => return Some(FetchError::new(ErrorKind::Timeout, format!("timed out ({url})"))),
        _ => return None,
    };
    Some(FetchError::new(ErrorKind::Connect, format!("{what} ({url})")))
}

/// `err` followed by its sources, including the payloads of `io::Error`s (whose `source()`
/// skips them, though they carry the useful part, e.g. a rustls error).
fn sources<'a>(err: &'a (dyn StdError + 'static)) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |&e: &&'a (dyn StdError + 'static)| {
        match e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        }
    })
    .take(32)
}

/// `err` and its sources joined with `": "`, skipping repeats.
pub(crate) fn chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in sources(err) {
        let text = e.to_string();
        // hyper-util's wrapper ("client error (Connect)") adds nothing a reader can use.
        if text.starts_with("client error (") {
            continue;
        }
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// Parses a `Retry-After` value: delay seconds or an HTTP-date (past dates mean zero).
pub(crate) fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value)
        .map(|d| d.with_timezone(&chrono::Utc))
        .or_else(|_| {
            // RFC 850 and asctime forms are obsolete but still allowed by RFC 9110.
            chrono::NaiveDateTime::parse_from_str(value, "%A, %d-%b-%y %H:%M:%S GMT")
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(value, "%a %b %e %H:%M:%S %Y"))
                .map(|naive| naive.and_utc())
        })
        .ok()?;
    Some((when - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .expect("test date")
            .with_timezone(&chrono::Utc)
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        assert_eq!(parse_retry_after("7", now()), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 120 ", now()), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:29:00 GMT", now()),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Wednesday, 21-Oct-15 07:28:30 GMT", now()),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed Oct 21 07:28:10 2015", now()),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now()),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-5", now()), None);
        assert_eq!(parse_retry_after("soon", now()), None);
        assert_eq!(parse_retry_after("", now()), None);
    }

    #[test]
    fn only_transport_errors_allow_scheme_fallback() {
        assert!(FetchError::new(ErrorKind::Connect, "connection refused (https://a.test/)").allows_scheme_fallback());
        assert!(FetchError::new(ErrorKind::Tls, "x").allows_scheme_fallback());
        assert!(FetchError::new(ErrorKind::Timeout, "x").allows_scheme_fallback());
        // Permanence is a field: the message text plays no part.
        let dns = |transient| FetchError::new(ErrorKind::Dns, "DNS: temporary failure").with_transient(transient);
        assert!(dns(true).allows_scheme_fallback() && dns(true).is_transient());
        assert!(!dns(false).allows_scheme_fallback() && !dns(false).is_transient());
        assert!(FetchError::new(ErrorKind::Dns, "x").is_transient());
        let robots_503 = FetchError::new(ErrorKind::Robots, "x").with_transient(true);
        assert!(robots_503.is_transient() && !robots_503.allows_scheme_fallback());
        assert!(!FetchError::new(ErrorKind::HttpStatus, "x").allows_scheme_fallback());
        assert!(!FetchError::new(ErrorKind::Blocked, "x").allows_scheme_fallback());
    }

    #[test]
    fn display_is_kind_then_message() {
        let e = FetchError::new(ErrorKind::Connect, "connection refused (https://example.test/)");
        assert_eq!(e.to_string(), "connect: connection refused (https://example.test/)");
    }
}
