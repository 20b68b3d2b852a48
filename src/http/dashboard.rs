//! The dashboard: `GET /` and its two assets, hand-written in `assets/dashboard/` and compiled
//! into the binary (no CDN, no build step). The page holds no data, so it is served without a
//! token; everything it shows comes from `/api/` calls that carry the token the user typed in
//! (kept in the tab's session storage). Responses carry an ETag over the embedded bytes and
//! `Cache-Control: no-cache`, so a browser revalidates (a 304) and never runs a stale script
//! after an upgrade; the page's Content-Security-Policy allows only its own script and style.

use actix_web::http::header;
use actix_web::{get, HttpRequest, HttpResponse};

const INDEX: &str = include_str!("../../assets/dashboard/index.html");
const SCRIPT: &str = include_str!("../../assets/dashboard/dashboard.js");
const STYLE: &str = include_str!("../../assets/dashboard/dashboard.css");

/// What the page may load: its own script, style and API; nothing inline, no other origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// FNV-1a, evaluated at compile time: the assets' ETags.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

const INDEX_TAG: u64 = fnv1a(INDEX.as_bytes());
const SCRIPT_TAG: u64 = fnv1a(SCRIPT.as_bytes());
const STYLE_TAG: u64 = fnv1a(STYLE.as_bytes());

/// Answers an embedded asset, or 304 when the browser already holds these bytes.
fn asset(req: &HttpRequest, body: &'static str, content_type: &str, tag: u64) -> HttpResponse {
    let etag = format!("\"{tag:016x}\"");
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if fresh {
        return response.finish();
    }
    response.content_type(content_type).body(body)
}

/// The dashboard page.
#[utoipa::path(
    tag = "dashboard",
    responses(
        (status = 200, description = "the dashboard (HTML, open: its data comes from /api/ with the token)", content_type = "text/html", body = String),
        (status = 304, description = "the browser's copy is current"),
    )
)]
#[get("/")]
pub async fn index(req: HttpRequest) -> HttpResponse {
    let mut response = asset(&req, INDEX, "text/html; charset=utf-8", INDEX_TAG);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, header::HeaderValue::from_static(CSP));
    headers.insert(header::REFERRER_POLICY, header::HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, header::HeaderValue::from_static("DENY"));
    response
}

/// The dashboard's script.
#[utoipa::path(
    tag = "dashboard",
    responses(
        (status = 200, description = "the script", content_type = "text/javascript", body = String),
        (status = 304, description = "the browser's copy is current"),
    )
)]
#[get("/dashboard/dashboard.js")]
pub async fn script(req: HttpRequest) -> HttpResponse {
    asset(&req, SCRIPT, "text/javascript; charset=utf-8", SCRIPT_TAG)
}

/// The dashboard's style sheet.
#[utoipa::path(
    tag = "dashboard",
    responses(
        (status = 200, description = "the style sheet", content_type = "text/css", body = String),
        (status = 304, description = "the browser's copy is current"),
    )
)]
#[get("/dashboard/dashboard.css")]
pub async fn style(req: HttpRequest) -> HttpResponse {
    asset(&req, STYLE, "text/css; charset=utf-8", STYLE_TAG)
}
