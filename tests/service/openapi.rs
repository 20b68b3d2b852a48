//! `/openapi.json` and `/docs`: the document lists exactly what the service serves (every route
//! that answers is documented, every documented operation answers, neither through the 404
//! fallback), its references resolve, `/api/` operations carry the bearer requirement, and the
//! Swagger UI page loads with all its files from the binary itself, open even when tokens
//! guard the API.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with_tokens, Db, TestApp};

/// Requests the service answers with its own handlers (path parameters as in the document).
const SERVED: &[(&str, &str)] = &[
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/api/v3/dev/process-pending-domains"),
    ("POST", "/api/v1/domains"),
    ("GET", "/api/v1/domains"),
    ("GET", "/api/v1/domains/export"),
    ("POST", "/api/v1/domains/retry"),
    ("GET", "/api/v1/domains/by-name/{domain}"),
    ("GET", "/api/v1/domains/{id}"),
    ("POST", "/api/v1/domains/{id}/retry"),
    ("DELETE", "/api/v1/domains/{id}"),
    ("GET", "/api/v1/status"),
    ("GET", "/api/v1/stats"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/jobs"),
    ("GET", "/api/v1/jobs/{id}/runs"),
    ("POST", "/api/v1/jobs/{id}/run"),
    ("POST", "/api/v1/jobs/{id}/pause"),
    ("POST", "/api/v1/jobs/{id}/resume"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/{file}"),
    ("GET", "/"),
    ("GET", "/dashboard/dashboard.js"),
    ("GET", "/dashboard/dashboard.css"),
];

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// A concrete path for a templated one: ids that exist nowhere, a real documentation file.
fn concrete(path: &str) -> String {
    path.replace("{id}", "999999")
        .replace("{domain}", "example.com")
        .replace("{file}", "swagger-ui.css")
}

/// Sends `method path`; answers the status and whether the 404 fallback (no route) answered.
async fn hits_fallback(app: &TestApp, method: &str, path: &str) -> (u16, bool) {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = app.client.request(method, format!("{}{}", app.address, concrete(path)));
    if path == "/api/v1/domains" {
        request = request.header("content-type", "application/json").body("{}");
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let body = response.text().await.expect("body");
    let fallback = status == 404
        && serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(|m| m.starts_with("no route for ")))
            .unwrap_or(false);
    (status, fallback)
}

async fn document(app: &TestApp) -> Value {
    let response = app
        .client
        .get(format!("{}/openapi.json", app.address))
        .send()
        .await
        .expect("GET /openapi.json");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    serde_json::from_str(&response.text().await.unwrap()).expect("/openapi.json is JSON")
}

/// Every (METHOD, path) operation of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    out
}

/// Every `$ref` anywhere in `value`.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[actix_web::test]
async fn the_document_lists_exactly_the_served_routes() {
    let app = spawn_app(Db::Sqlite).await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "domaind");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    let ops = operations(&doc);

    // Served → documented.
    for (method, path) in SERVED {
        let (status, fallback) = hits_fallback(&app, method, path).await;
        assert!(!fallback, "{method} {path} is not served (status {status}): fix SERVED");
        assert!(
            ops.iter().any(|(m, p, _)| m == method && p == path),
            "{method} {path} is served but not in /openapi.json"
        );
    }
    // Documented → served, and described well enough to use.
    for (method, path, op) in &ops {
        let (status, fallback) = hits_fallback(&app, method, path).await;
        assert!(
            !fallback,
            "{method} {path} is in /openapi.json but not served (status {status})"
        );
        // A one-line summary beside the path; details go to the description.
        let summary = op["summary"].as_str().unwrap_or("");
        assert!(
            !summary.is_empty() && !summary.contains('\n'),
            "{method} {path}: summary {summary:?}"
        );
        assert!(op["responses"].get("200").is_some(), "{method} {path}: no 200 response");
        assert!(
            op["tags"].as_array().is_some_and(|t| !t.is_empty()),
            "{method} {path}: no tag"
        );
        // The bearer requirement exactly where `require_token` asks for it.
        let secured = op["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
        assert_eq!(
            secured,
            path.starts_with("/api/"),
            "{method} {path}: security {}",
            op["security"]
        );
        if secured {
            assert_eq!(
                op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path}"
            );
        }
        // Parameters the path names are documented as path parameters.
        for name in path.split('{').skip(1).filter_map(|s| s.split('}').next()) {
            assert!(
                op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path")),
                "{method} {path}: path parameter {name} undocumented"
            );
        }
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");

    // Request and response shapes resolve to real schemas.
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 20, "{all:?}");
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{r}"));
        assert!(doc["components"]["schemas"].get(name).is_some(), "{r} does not resolve");
    }
    let add = &ops
        .iter()
        .find(|(m, p, _)| m == "POST" && p == "/api/v1/domains")
        .expect("POST /api/v1/domains")
        .2;
    assert_eq!(
        add["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/AddDomains"
    );
    // Query strings are documented parameter by parameter.
    for (path, want) in [
        (
            "/api/v1/domains",
            &["status", "tenant_id", "q", "error_kind", "cursor", "limit"][..],
        ),
        (
            "/api/v1/domains/export",
            &["format", "status", "tenant_id", "q", "error_kind"],
        ),
        ("/api/v3/dev/process-pending-domains", &["limit"]),
        ("/api/v1/jobs/{id}/runs", &["cursor", "limit"]),
    ] {
        let op = &doc["paths"][path]["get"];
        let params: Vec<&str> = op["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{path}: no parameters"))
            .iter()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(params, want, "{path}");
    }
    let error = &doc["components"]["schemas"]["ErrorBody"]["properties"];
    assert!(
        error.get("error").is_some() && error.get("message").is_some(),
        "{error}"
    );
    assert_eq!(app.stop().await, 0);
}

/// Every `src="..."` and `href="..."` of an HTML page.
fn linked(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            if let Some(url) = part.split('"').next() {
                out.push(url.to_string());
            }
        }
    }
    out
}

async fn get_text(app: &TestApp, path: &str) -> (u16, String, String) {
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("GET");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = response.bytes().await.expect("body");
    (status, content_type, String::from_utf8_lossy(&bytes).into_owned())
}

#[actix_web::test]
async fn the_docs_page_loads_swagger_ui_from_the_binary() {
    let app = spawn_app(Db::Sqlite).await;
    let (status, content_type, html) = get_text(&app, "/docs").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(html.contains("\"/openapi.json\""), "{html}");
    let files = linked(&html);
    assert!(files.len() >= 3, "{files:?}");
    for file in files {
        assert!(file.starts_with("/docs/"), "{file} is not served by domaind itself");
        let (status, content_type, body) = get_text(&app, &file).await;
        assert_eq!(status, 200, "{file}");
        let want = match file.rsplit('.').next() {
            Some("css") => "text/css",
            Some("js") => "text/javascript",
            Some("png") => "image/png",
            other => panic!("unexpected file type {other:?}"),
        };
        assert!(content_type.starts_with(want), "{file}: {content_type}");
        assert!(body.len() > 500, "{file}: {} bytes", body.len());
    }
    let (_, _, bundle) = get_text(&app, "/docs/swagger-ui-bundle.js").await;
    assert!(bundle.contains("SwaggerUIBundle"));
    // Only the page's own files are served, never other paths of the archive.
    let (status, _, body) = get_text(&app, "/docs/index.html").await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("not_found"), "{body}");
    assert_eq!(app.stop().await, 0);
}

#[actix_web::test]
async fn the_document_and_the_docs_stay_open_when_tokens_guard_the_api() {
    let app = spawn_app_with_tokens(Db::Sqlite).await;
    assert_eq!(app.get("/api/v1/status").await.0, 401);
    let doc = document(&app).await;
    assert!(doc["paths"]["/api/v1/status"]["get"]["security"].is_array());
    for path in ["/docs", "/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js"] {
        assert_eq!(get_text(&app, path).await.0, 200, "{path}");
    }
    assert_eq!(app.stop().await, 0);
}
