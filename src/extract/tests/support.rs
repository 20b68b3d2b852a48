//! Helpers shared by the `extract` tests.

use url::Url;

use crate::extract::{extract, PageContext};
use crate::model::Metadata;

/// The final URL every test page is served from.
pub(super) const PAGE_URL: &str = "https://example.com/news/story.html";

/// Extracts `html` served from [`PAGE_URL`] with an optional Content-Type.
pub(super) fn run_with(html: &[u8], content_type: Option<&str>) -> Metadata {
    let url = Url::parse(PAGE_URL).expect("valid test URL");
    extract(
        html,
        &PageContext {
            url: &url,
            content_type,
        },
    )
}

/// Extracts `html` served from [`PAGE_URL`] as `text/html` without a charset.
pub(super) fn run(html: &str) -> Metadata {
    run_with(html.as_bytes(), Some("text/html"))
}

/// Wraps `head` and `body` into a minimal document.
pub(super) fn page(head: &str, body: &str) -> String {
    format!("<!doctype html><html><head>{head}</head><body>{body}</body></html>")
}
