//! What a homepage fetch returns: a `Page` (bytes and request facts), or `NotModified` when
//! a conditional request built from the last good fetch's `Validators` answered 304.

use super::budget::BodyLease;

/// A fetched homepage: the bytes and the request facts recorded in `domains.metadata`.
#[derive(Debug)]
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
    /// The body's room in `fetch.max_body_bytes_in_flight`, held until the page is dropped
    /// (keep the page until the body is parsed).
    pub budget: BodyLease,
    /// Milliseconds from the first request of the answering scheme to the end of the body.
    pub response_ms: u64,
    /// When the body was fully read.
    pub fetched_at: chrono::DateTime<chrono::Utc>,
}

impl Page {
    /// Moves the request facts (everything but the body) into `meta`; `bytes` is the body size.
    pub fn fill_request_facts(self, meta: &mut crate::model::Metadata, bytes: u64) {
        meta.url = Some(self.url);
        meta.final_url = Some(self.final_url.to_string());
        meta.redirects = self.redirects;
        meta.status_code = Some(self.status);
        meta.content_type = self.content_type;
        meta.bytes = Some(bytes);
        meta.response_ms = Some(self.response_ms);
        meta.fetched_at = Some(self.fetched_at);
        meta.server = self.server;
        meta.x_powered_by = self.x_powered_by;
        meta.etag = self.etag;
        meta.last_modified = self.last_modified;
    }
}

/// Validators from the last good fetch, sent as If-None-Match / If-Modified-Since.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The stored `ETag`, sent as `If-None-Match`.
    pub etag: Option<String>,
    /// The stored `Last-Modified`, sent as `If-Modified-Since`.
    pub last_modified: Option<String>,
}

impl Validators {
    /// The validators a page carries, or `None` when it sent neither header.
    pub fn of(page: &Page) -> Option<Validators> {
        let v = Validators {
            etag: page.etag.clone(),
            last_modified: page.last_modified.clone(),
        };
        (!v.is_empty()).then_some(v)
    }

    /// Whether neither validator is known (a request with them is not conditional).
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// The answer to a (possibly conditional) homepage fetch.
#[derive(Debug)]
pub enum Fetched {
    /// A 2xx HTML page.
    Page(Page),
    /// A 304 to a conditional request: the stored metadata is still current.
    NotModified {
        /// The first URL requested for the scheme that answered.
        url: String,
        /// The URL that answered 304 (after any redirects).
        final_url: url::Url,
        /// Always 304.
        status: u16,
        /// Milliseconds from the first request of the answering scheme to the 304.
        response_ms: u64,
        /// When the 304 arrived.
        fetched_at: chrono::DateTime<chrono::Utc>,
    },
}
