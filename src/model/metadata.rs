//! `Metadata`: what domaind stores in `domains.metadata` — request facts (filled by the fetcher)
//! and page facts (filled by `extract`). Empty values are `None` and are not serialized.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One `<link rel=icon>`-like entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Icon {
    /// Absolute URL of the icon.
    pub href: String,
    /// The `rel` attribute (e.g. `icon`, `apple-touch-icon`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rel: Option<String>,
    /// The `sizes` attribute, verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sizes: Option<String>,
    /// The `type` attribute, verbatim.
    #[serde(skip_serializing_if = "Option::is_none", rename = "type")]
    pub mime_type: Option<String>,
}

/// Everything domaind knows about one homepage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    // ---- request facts (fetcher) ----
    /// The first URL requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The URL of the final response after redirects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_url: Option<String>,
    /// Every redirect hop's target, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<String>,
    /// HTTP status of the final response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// `Content-Type` of the final response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The charset the body was decoded with (lowercase WHATWG name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charset: Option<String>,
    /// Body size in bytes (after decompression).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Time from the first request to the end of the body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_ms: Option<u64>,
    /// When the page was fetched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetched_at: Option<DateTime<Utc>>,
    /// `Server` response header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// `X-Powered-By` response header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_powered_by: Option<String>,
    /// `ETag` response header (sent back as `If-None-Match` on re-crawl).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// `Last-Modified` response header (sent back as `If-Modified-Since` on re-crawl).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,

    // ---- page facts (extract) ----
    /// Best title (og:title > twitter:title > JSON-LD > `<title>` > first `<h1>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Best description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Site name (og:site_name, application-name, JSON-LD publisher...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
    /// Page language (BCP 47 as written by the page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// `<link rel=canonical>` or og:url, absolute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canonical_url: Option<String>,
    /// Preview image, absolute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Logo, absolute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
    /// Best favicon, absolute (falls back to `/favicon.ico`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub favicon: Option<String>,
    /// Every icon link found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub icons: Vec<Icon>,
    /// Author.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Publication time, ISO 8601 UTC when parseable, else as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
    /// `<meta name=generator>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generator: Option<String>,
    /// `<meta name=theme-color>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme_color: Option<String>,
    /// `<meta name=robots>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub robots: Option<String>,
    /// RSS/Atom/JSON Feed links, absolute.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feeds: Vec<String>,
    /// Social profile links, absolute.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub social: Vec<String>,
    /// Raw `og:*` properties (first non-empty value per key).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub open_graph: BTreeMap<String, String>,
    /// Raw `twitter:*` properties (first non-empty value per key).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub twitter: BTreeMap<String, String>,
    /// Parsed JSON-LD blocks (bounded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json_ld: Vec<serde_json::Value>,
}
