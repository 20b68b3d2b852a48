//! `GET /docs`: Swagger UI showing `/openapi.json`, served by the binary with no network at
//! build or run time.
//!
//! Decision: Swagger UI's files are not in this repository. They come from the crates.io
//! package `utoipa-swagger-ui-vendored`, which ships Swagger UI's release zip inside the
//! package and has no build script (so a build downloads nothing beyond crates.io). We do not
//! use `utoipa-swagger-ui` itself: its build script downloads the zip from GitHub unless told
//! otherwise, and it brings `zip`, `rust-embed` and `regex` into the build. Instead the few
//! files the page needs are inflated from the embedded zip on their first request
//! (`zip_entry`) and kept in memory. The page itself (`assets/docs.html`) is ours: it loads
//! those files and starts Swagger UI on `/openapi.json`.

use std::sync::OnceLock;

use actix_web::web::Bytes;
use actix_web::{get, web, HttpResponse};

use super::error::{ApiError, ErrorBody};
use super::zip_entry;

const PAGE: &str = include_str!("../../assets/docs.html");

/// A Swagger UI file served under `/docs/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    contents: OnceLock<Result<Bytes, String>>,
}

impl Asset {
    const fn new(name: &'static str, content_type: &'static str) -> Asset {
        Asset {
            name,
            content_type,
            contents: OnceLock::new(),
        }
    }

    /// The file, inflated from the vendored zip the first time it is asked for.
    fn contents(&self) -> &Result<Bytes, String> {
        self.contents.get_or_init(|| {
            let archive = utoipa_swagger_ui_vendored::SWAGGER_UI_VENDORED;
            match zip_entry::read_file(archive, &format!("/dist/{}", self.name)) {
                Ok(Some(bytes)) => Ok(Bytes::from(bytes)),
                Ok(None) => Err(format!("{} is not in the vendored Swagger UI", self.name)),
                Err(e) => Err(e.to_string()),
            }
        })
    }
}

/// Every file `/docs` loads; nothing else of the archive is served.
static ASSETS: [Asset; 4] = [
    Asset::new("swagger-ui.css", "text/css; charset=utf-8"),
    Asset::new("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    Asset::new("favicon-32x32.png", "image/png"),
    Asset::new("favicon-16x16.png", "image/png"),
];

/// The API documentation page.
#[utoipa::path(
    tag = "docs",
    responses((
        status = 200,
        description = "an HTML page showing /openapi.json with Swagger UI",
        content_type = "text/html",
        body = String
    ))
)]
#[get("/docs")]
pub async fn page() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(PAGE)
}

/// One of the Swagger UI files the page loads.
#[utoipa::path(
    tag = "docs",
    params((
        "file" = String,
        Path,
        description = "`swagger-ui.css`, `swagger-ui-bundle.js`, `favicon-32x32.png` or `favicon-16x16.png`"
    )),
    responses(
        (
            status = 200,
            description = "the file",
            content((String = "text/css"), (String = "text/javascript"), (String = "image/png"))
        ),
        (status = 404, description = "not one of the page's files", body = ErrorBody),
        (status = 503, description = "the embedded Swagger UI cannot be read", body = ErrorBody),
    )
)]
#[get("/docs/{file}")]
pub async fn asset(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let Some(asset) = ASSETS.iter().find(|a| a.name == file.as_str()) else {
        return Err(ApiError::NotFound(format!(
            "no documentation file named {:?}",
            file.as_str()
        )));
    };
    // Inflating the 1.4 MB bundle takes milliseconds, once per process: not worth a thread.
    match asset.contents() {
        Ok(bytes) => Ok(HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header(("Cache-Control", "public, max-age=86400"))
            .body(bytes.clone())),
        Err(e) => {
            tracing::error!(error = %e, file = asset.name, "cannot serve a documentation file");
            Err(ApiError::Unavailable(format!("cannot read {}: {e}", asset.name)))
        }
    }
}
