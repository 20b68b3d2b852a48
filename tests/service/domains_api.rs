//! The domains API on both backends: filtered keyset listing, one row by id and by name with
//! its attempts, single and bulk retry, delete (a row in flight too), and parameter errors as
//! JSON 400s. Submodules: `export` (streamed NDJSON and CSV), `tenants` (tenant-bound tokens).

mod export;
mod tenants;

use std::time::Duration;

use chrono::Utc;
use domaind::model::{DomainName, Outcome, OutcomeKind};
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{spawn_app, Db, TestApp};

/// Sends a request (with a bearer token when given); answers the status and the body text.
async fn call_text(app: &TestApp, method: Method, path: &str, token: Option<&str>) -> (u16, String) {
    let mut request = app.client.request(method, format!("{}{path}", app.address));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// Like `call_text`, for JSON answers.
async fn call(app: &TestApp, method: Method, path: &str, token: Option<&str>) -> (u16, Value) {
    let (status, body) = call_text(app, method.clone(), path, token).await;
    let value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{method} {path}: not JSON: {body:?}"));
    (status, value)
}

/// Adds domains for a tenant with a token.
async fn add(app: &TestApp, tenant: &str, names: &[String], token: Option<&str>) {
    let body = json!({ "domains": names, "tenant_id": tenant });
    let mut request = app
        .client
        .post(format!("{}/api/v1/domains", app.address))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("POST");
    assert_eq!(response.status().as_u16(), 200);
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}.test")).collect()
}

/// Every page of a listing query, following `next_cursor`; the ids in order.
async fn all_pages(app: &TestApp, query: &str, limit: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut cursor: Option<i64> = None;
    for _ in 0..1000 {
        let after = cursor.map(|c| format!("&cursor={c}")).unwrap_or_default();
        let (code, body) = app.get(&format!("/api/v1/domains?limit={limit}&{query}{after}")).await;
        assert_eq!(code, 200, "{body}");
        let page = body["domains"].as_array().expect("domains");
        assert!(page.len() <= limit, "{body}");
        assert!(page.iter().all(|r| r.get("metadata").is_none()), "{body}");
        ids.extend(page.iter().map(|r| r["id"].as_i64().expect("id")));
        match body["next_cursor"].as_i64() {
            Some(next) => {
                assert_eq!(page.len(), limit, "a page with a successor is full: {body}");
                cursor = Some(next);
            }
            None => return ids,
        }
    }
    panic!("paging never ended");
}

fn assert_json_error(code: u16, body: &Value, want_code: u16, want_kind: &str) {
    assert_eq!(code, want_code, "{body}");
    assert_eq!(body["error"], want_kind, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.len() > 5), "{body}");
}

async fn listing_filters_pages_and_refuses_bad_parameters(db: Db) {
    let app = spawn_app(db).await;
    app.add_domains(&names("alpha", 20)).await;
    app.add_domains(&names("notfound", 8)).await;
    let (code, body) = app.process(1000).await;
    assert_eq!((code, body["results"]["processed"].as_i64()), (200, Some(28)), "{body}");
    add(&app, "t2", &names("charlie", 3), None).await;

    for limit in [1, 7, 31, 500] {
        let ids = all_pages(&app, "", limit).await;
        assert_eq!(ids.len(), 31, "limit {limit}");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ascending, no row twice: {ids:?}");
    }
    let count = |query: &'static str| {
        let app = &app;
        async move { all_pages(app, query, 5).await.len() }
    };
    assert_eq!(count("status=error").await, 8);
    assert_eq!(count("status=error&error_kind=http_status").await, 8);
    assert_eq!(count("error_kind=dns").await, 0);
    assert_eq!(count("status=completed&q=ALPHA-1").await, 11);
    assert_eq!(count("tenant_id=t2").await, 3);
    assert_eq!(count("status=pending&tenant_id=t2&q=charlie").await, 3);
    assert_eq!(count("status=&tenant_id=&q=&error_kind=").await, 31);
    // LIKE wildcards are plain characters: no name holds `_` or `%`.
    assert_eq!(count("q=_").await, 0);
    assert_eq!(count("q=%25").await, 0);
    let (_, body) = app.get("/api/v1/domains?status=error&limit=1").await;
    let row = &body["domains"][0];
    assert_eq!(
        (row["status"].as_str(), row["error_kind"].as_str()),
        (Some("error"), Some("http_status"))
    );
    assert!(row["domain"].as_str().unwrap().starts_with("notfound-"), "{body}");

    for (query, kind) in [
        ("status=bogus", "bad_request"),
        ("error_kind=bogus", "bad_request"),
        ("limit=0", "bad_request"),
        ("limit=501", "bad_request"),
        ("limit=abc", "bad_request"),
        ("cursor=-1", "bad_request"),
        ("cursor=next", "bad_request"),
        ("tenant_id=no%20spaces", "bad_request"),
        ("unknown=1", "invalid_query"),
    ] {
        let (code, body) = app.get(&format!("/api/v1/domains?{query}")).await;
        assert_json_error(code, &body, 400, kind);
    }
    for path in [
        "/api/v1/domains/export?format=xml",
        "/api/v1/domains/export?status=done",
        "/api/v1/domains/abc",
        "/api/v1/domains/by-name/not_a..domain",
    ] {
        let (code, body) = app.get(path).await;
        assert_json_error(code, &body, 400, "bad_request");
    }
    for path in [
        "/api/v1/domains/retry?status=pending",
        "/api/v1/domains/retry?limit=10001",
        "/api/v1/domains/retry?error_kind=nope",
    ] {
        let (code, body) = app.post(path).await;
        assert_json_error(code, &body, 400, "bad_request");
    }
    assert_eq!(app.stop().await, 0);
}
both_backends!(listing_filters_pages_and_refuses_bad_parameters);

async fn one_domain_by_id_and_by_name_with_attempts(db: Db) {
    let app = spawn_app(db).await;
    app.add_domains(&["alpha-one.test".to_string(), "notfound-one.test".to_string()])
        .await;
    app.process(10).await;
    let id = app.row("alpha-one.test").await.id;

    let (code, body) = app.get(&format!("/api/v1/domains/{id}")).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        (body["id"].as_i64(), body["status"].as_str()),
        (Some(id), Some("completed"))
    );
    assert_eq!(body["metadata"]["title"], "Alpha & Sons — Widgets", "{body}");
    assert_eq!(body["attempts"], 1, "the row's attempt count: {body}");
    let attempts = body["recent_attempts"].as_array().expect("recent_attempts");
    assert_eq!(attempts.len(), 1, "{body}");
    assert_eq!(
        (attempts[0]["outcome"].as_str(), attempts[0]["http_status"].as_i64()),
        (Some("completed"), Some(200))
    );

    let (code, by_name) = app.get("/api/v1/domains/by-name/ALPHA-One.test.").await;
    assert_eq!(code, 200, "{by_name}");
    assert_eq!(by_name, body);
    let (code, failed) = app
        .get("/api/v1/domains/by-name/notfound-one.test?tenant_id=default")
        .await;
    assert_eq!(
        (code, failed["error_kind"].as_str()),
        (200, Some("http_status")),
        "{failed}"
    );
    assert_eq!(failed["recent_attempts"][0]["outcome"], "failed", "{failed}");

    let (code, body) = app.get("/api/v1/domains/by-name/alpha-one.test?tenant_id=t2").await;
    assert_json_error(code, &body, 404, "not_found");
    let (code, body) = app.get("/api/v1/domains/by-name/absent.test").await;
    assert_json_error(code, &body, 404, "not_found");
    let (code, body) = app.get("/api/v1/domains/999999").await;
    assert_json_error(code, &body, 404, "not_found");
    assert_eq!(app.stop().await, 0);
}
both_backends!(one_domain_by_id_and_by_name_with_attempts);

async fn retry_and_delete_move_only_the_rows_asked_for(db: Db) {
    let app = spawn_app(db).await;
    app.add_domains(&names("notfound", 4)).await;
    app.add_domains(&names("alpha", 2)).await;
    add(&app, "t2", &names("notfound-b", 2), None).await;
    app.process(100).await;
    let errored = app.row("notfound-0.test").await;
    assert_eq!(errored.status, "error");

    // Single retry: back to pending with a fresh budget; retrying a pending row is refused.
    let path = format!("/api/v1/domains/{}/retry", errored.id);
    let (code, body) = app.post(&path).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        (body["status"].as_str(), body["attempts"].as_i64()),
        (Some("pending"), Some(0))
    );
    let (code, body) = app.post(&path).await;
    assert_json_error(code, &body, 409, "conflict");
    assert!(body["message"].as_str().unwrap().contains("pending"), "{body}");
    let (code, body) = app.post("/api/v1/domains/999999/retry").await;
    assert_json_error(code, &body, 404, "not_found");
    let completed = app.row("alpha-0.test").await;
    let (code, body) = app.post(&format!("/api/v1/domains/{}/retry", completed.id)).await;
    assert_eq!((code, body["status"].as_str()), (200, Some("pending")), "{body}");
    assert!(
        body.get("metadata").is_some_and(|m| m["title"].is_string()),
        "metadata kept: {body}"
    );

    // Bulk, bounded: 3 default-tenant errors remain; one per call, then the rest.
    let (code, body) = app.post("/api/v1/domains/retry?tenant_id=default&error_kind=dns").await;
    assert_eq!((code, body["requeued"].as_i64()), (200, Some(0)), "{body}");
    let (_, body) = app
        .post("/api/v1/domains/retry?status=error&error_kind=http_status&tenant_id=default&limit=1")
        .await;
    assert_eq!(
        (body["requeued"].as_i64(), body["more"].as_bool()),
        (Some(1), Some(true)),
        "{body}"
    );
    let (_, body) = app.post("/api/v1/domains/retry?tenant_id=default").await;
    assert_eq!(
        (body["requeued"].as_i64(), body["more"].as_bool()),
        (Some(2), Some(false)),
        "{body}"
    );
    let t2 = app.store.find_domain("t2", "notfound-b-0.test").await.unwrap().unwrap();
    assert_eq!(t2.status, "error", "another tenant's rows stay");
    assert_eq!(app.row("alpha-1.test").await.status, "completed", "completed rows stay");
    let (_, body) = app.post("/api/v1/domains/retry").await;
    assert_eq!(
        (body["requeued"].as_i64(), body["more"].as_bool()),
        (Some(2), Some(false)),
        "{body}"
    );
    let counts = app.store.count_by_status().await.unwrap();
    assert_eq!(
        (counts["pending"], counts["completed"], counts["error"]),
        (7, 1, 0),
        "{counts:?}"
    );

    // Delete: the row and its attempts go; then 404.
    let gone = app.row("notfound-1.test").await.id;
    assert_eq!(app.store.attempts(gone, 20).await.unwrap().len(), 1);
    let (code, body) = call(&app, Method::DELETE, &format!("/api/v1/domains/{gone}"), None).await;
    assert_eq!((code, body["deleted"].as_bool()), (200, Some(true)), "{body}");
    assert!(app.store.get_domain(gone).await.unwrap().is_none());
    assert!(app.store.attempts(gone, 20).await.unwrap().is_empty());
    let (code, body) = app.get(&format!("/api/v1/domains/{gone}")).await;
    assert_json_error(code, &body, 404, "not_found");
    let (code, body) = call(&app, Method::DELETE, &format!("/api/v1/domains/{gone}"), None).await;
    assert_json_error(code, &body, 404, "not_found");
    assert_eq!(app.stop().await, 0);
}
both_backends!(retry_and_delete_move_only_the_rows_asked_for);

async fn a_row_in_flight_can_be_deleted_and_its_late_result_is_fenced_out(db: Db) {
    let app = spawn_app(db).await;
    let store = &app.store;
    store
        .insert_domains("default", &[DomainName::parse("inflight.test").unwrap()])
        .await
        .unwrap();
    let claimed = store
        .claim("slow-worker", 1, Duration::from_secs(60))
        .await
        .unwrap()
        .remove(0);
    let id = claimed.id;
    let (code, body) = app.post(&format!("/api/v1/domains/{id}/retry")).await;
    assert_json_error(code, &body, 409, "conflict");
    assert!(body["message"].as_str().unwrap().contains("processing"), "{body}");

    let (code, _) = call(&app, Method::DELETE, &format!("/api/v1/domains/{id}"), None).await;
    assert_eq!(code, 200);
    let late = Outcome {
        claimed,
        kind: OutcomeKind::Completed(Box::default()),
        started_at: Utc::now(),
        finished_at: Utc::now(),
        http_status: Some(200),
    };
    let report = store.write_outcomes("slow-worker", &[late]).await.unwrap();
    assert!(!report.domains[0].applied, "the late write matched no row");
    assert!(store.get_domain(id).await.unwrap().is_none(), "the row stays gone");
    assert_eq!(app.stop().await, 0);
}
both_backends!(a_row_in_flight_can_be_deleted_and_its_late_result_is_fenced_out);
