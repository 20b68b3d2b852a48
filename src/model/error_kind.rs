//! The classified reason an attempt failed (`domains.error_kind`), and whether it is worth retrying.

use serde::{Deserialize, Serialize};

/// Why an attempt at a domain failed; stored as snake_case text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Name resolution failed (NXDOMAIN is permanent; SERVFAIL/timeout transient).
    Dns,
    /// TCP connection refused, reset or unreachable.
    Connect,
    /// Connect, read or total timeout.
    Timeout,
    /// The final response had a non-success status.
    HttpStatus,
    /// TLS handshake or certificate problem.
    Tls,
    /// The body exceeded `fetch.max_body_bytes`.
    TooLarge,
    /// The response was not HTML.
    NotHtml,
    /// Refused by policy (SSRF guard, IP literal, scheme).
    Blocked,
    /// Disallowed by robots.txt.
    Robots,
    /// Too many redirects or a redirect cycle.
    RedirectLoop,
    /// The body could not be decoded.
    Decode,
    /// A panic or bug inside domaind.
    Internal,
    /// A row taken over from the Python pattern's table (`domaind migrate --adopt`) that domaind
    /// cannot process as it is: a name it does not accept, a duplicate once normalized, or an
    /// unknown status. Permanent: an operator fixes, retries or deletes the row.
    Adoption,
}

impl ErrorKind {
    /// Every kind, in a stable order (for metrics and docs).
    pub const ALL: [ErrorKind; 13] = [
        ErrorKind::Dns,
        ErrorKind::Connect,
        ErrorKind::Timeout,
        ErrorKind::HttpStatus,
        ErrorKind::Tls,
        ErrorKind::TooLarge,
        ErrorKind::NotHtml,
        ErrorKind::Blocked,
        ErrorKind::Robots,
        ErrorKind::RedirectLoop,
        ErrorKind::Decode,
        ErrorKind::Internal,
        ErrorKind::Adoption,
    ];

    /// The text stored in the database and shown over HTTP.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Dns => "dns",
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::HttpStatus => "http_status",
            ErrorKind::Tls => "tls",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::NotHtml => "not_html",
            ErrorKind::Blocked => "blocked",
            ErrorKind::Robots => "robots",
            ErrorKind::RedirectLoop => "redirect_loop",
            ErrorKind::Decode => "decode",
            ErrorKind::Internal => "internal",
            ErrorKind::Adoption => "adoption",
        }
    }

    /// Parses the stored text back into a kind.
    pub fn parse(s: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
