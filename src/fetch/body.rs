//! Reading a response body under the size cap, and deciding whether it is HTML.

use std::time::Duration;

use reqwest::Response;

use crate::model::ErrorKind;

use super::budget::{BodyBudget, BodyLease};
use super::error::{classify, FetchError};

/// Whether a `Content-Type` value names HTML (`text/html`, `application/xhtml+xml`).
pub(crate) fn is_html_content_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("text/html") || essence.eq_ignore_ascii_case("application/xhtml+xml")
}

/// Whether a body without `Content-Type` looks like markup: `<` after whitespace and a BOM.
pub(crate) fn looks_like_html(body: &[u8]) -> bool {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

/// Reads the (decompressed) body, failing with `TooLarge` as soon as it exceeds `max_bytes`,
/// with `NotHtml` when the content type (or, without one, the body) is not HTML — checked
/// before any body byte is read — and with `Timeout` when a chunk takes over `read_timeout`
/// or the in-flight body budget has no room for it within that time. The lease holds the
/// body's room in the budget until it is dropped.
pub(crate) async fn read_html_body(
    response: Response,
    content_type: Option<&str>,
    max_bytes: u64,
    read_timeout: Duration,
    budget: &BodyBudget,
) -> Result<(Vec<u8>, BodyLease), FetchError> {
    let url = response.url().clone();
    if let Some(ct) = content_type {
        if !is_html_content_type(ct) {
            return Err(FetchError::new(
                ErrorKind::NotHtml,
                format!("content type `{ct}` is not HTML ({url})"),
            ));
        }
    }
    // reqwest drops Content-Length when it decompresses, so this only sees plain bodies.
    if let Some(declared) = response.content_length() {
        if declared > max_bytes {
            return Err(too_large(format!("Content-Length {declared}"), max_bytes, &url));
        }
    }
    let (body, complete, lease) = read_capped(response, max_bytes, read_timeout, Some(budget)).await?;
    if !complete {
        return Err(too_large("the body".to_string(), max_bytes, &url));
    }
    if content_type.is_none() && !looks_like_html(&body) {
        return Err(FetchError::new(
            ErrorKind::NotHtml,
            format!("no Content-Type and the body does not start with `<` ({url})"),
        ));
    }
    Ok((body, lease))
}

/// Reads at most `max_bytes` of the decompressed body; `false` when more was left (the
/// connection is then dropped, never drained). With a budget, room is reserved before the
/// buffer grows (`Timeout` when none comes free within `read_timeout`).
pub(crate) async fn read_capped(
    mut response: Response,
    max_bytes: u64,
    read_timeout: Duration,
    budget: Option<&BodyBudget>,
) -> Result<(Vec<u8>, bool, BodyLease), FetchError> {
    let url = response.url().clone();
    let mut lease = BodyLease::default();
    let capacity = response.content_length().unwrap_or(0).min(max_bytes).min(1 << 20);
    let capacity = usize::try_from(capacity).unwrap_or(0);
    if let Some(budget) = budget {
        reserve(budget, &mut lease, capacity, read_timeout, &url).await?;
    }
    let mut body = Vec::with_capacity(capacity);
    loop {
        let chunk = match tokio::time::timeout(read_timeout, response.chunk()).await {
            Ok(chunk) => chunk.map_err(|e| classify(&e, &url))?,
            Err(_) => {
                let ms = read_timeout.as_millis();
                let msg = format!("no body data for {ms} ms (read timeout) ({url})");
                return Err(FetchError::new(ErrorKind::Timeout, msg));
            }
        };
        let Some(chunk) = chunk else {
            return Ok((body, true, lease));
        };
        let room = usize::try_from(max_bytes.saturating_sub(body.len() as u64)).unwrap_or(usize::MAX);
        let take = chunk.len().min(room);
        if let Some(target) = grown_capacity(body.len(), body.capacity(), take, max_bytes) {
            if let Some(budget) = budget {
                reserve(budget, &mut lease, target, read_timeout, &url).await?;
            }
            body.reserve_exact(target - body.len());
        }
        body.extend_from_slice(&chunk[..take]);
        if chunk.len() > room {
            return Ok((body, false, lease));
        }
    }
}

async fn reserve(
    budget: &BodyBudget,
    lease: &mut BodyLease,
    bytes: usize,
    wait: Duration,
    url: &url::Url,
) -> Result<(), FetchError> {
    budget.reserve(lease, bytes, wait).await.map_err(|no_room| {
        let msg = format!(
            "no room for the body within {} ms: fetch.max_body_bytes_in_flight ({} bytes) is held by other pages ({url})",
            wait.as_millis(),
            no_room.budget_bytes
        );
        FetchError::new(ErrorKind::Timeout, msg)
    })
}

/// The capacity to grow to for `more` bytes (`None`: they fit), doubling like `Vec` does but
/// never past `max_bytes`: left to itself, a body just over a power of two would reserve nearly
/// twice the cap (8 MiB for the default 5 MB), and every domain in flight may hold one.
fn grown_capacity(len: usize, capacity: usize, more: usize, max_bytes: u64) -> Option<usize> {
    let needed = len.saturating_add(more);
    if needed <= capacity {
        return None;
    }
    let cap = usize::try_from(max_bytes).unwrap_or(usize::MAX).max(needed);
    Some(len.saturating_mul(2).max(needed).min(cap))
}

fn too_large(what: String, max_bytes: u64, url: &url::Url) -> FetchError {
    FetchError::new(
        ErrorKind::TooLarge,
        format!("{what} exceeds the {max_bytes}-byte cap ({url})"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_content_types_are_recognised() {
        assert!(is_html_content_type("text/html"));
        assert!(is_html_content_type("Text/HTML; charset=utf-8"));
        assert!(is_html_content_type(" application/xhtml+xml ;charset=iso-8859-1"));
        assert!(!is_html_content_type("application/pdf"));
        assert!(!is_html_content_type("text/plain"));
        assert!(!is_html_content_type("text/htmlx"));
        assert!(!is_html_content_type(""));
    }

    #[test]
    fn untyped_bodies_are_html_when_they_start_with_a_tag() {
        assert!(looks_like_html(b"<!doctype html>"));
        assert!(looks_like_html(b" \r\n\t<html>"));
        assert!(looks_like_html(b"\xEF\xBB\xBF  <html>"));
        assert!(!looks_like_html(b"%PDF-1.7"));
        assert!(!looks_like_html(b"hello <b>"));
        assert!(!looks_like_html(b""));
    }
}
