//! Bad input gets a 4xx with a JSON `{"error", "message"}` body — never a 500, never plain text;
//! the request limits of `[http]` answer the same way.

use crate::both_backends;
use crate::helpers::{spawn_app, spawn_app_with, Db};

fn assert_json_error(code: u16, body: &serde_json::Value, want_code: u16, want_kind: &str) {
    assert_eq!(code, want_code, "{body}");
    assert_eq!(body["error"], want_kind, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.len() > 5), "{body}");
}

async fn bad_inputs_get_json_errors(db: Db) {
    let app = spawn_app(db).await;
    let json = "application/json";

    let (code, body) = app
        .post_raw("/api/v1/domains", json, r#"{"domains": "example.com"}"#)
        .await;
    assert_json_error(code, &body, 400, "invalid_body");
    let (code, body) = app.post_raw("/api/v1/domains", json, r#"{"domains": [1, 2]}"#).await;
    assert_json_error(code, &body, 400, "invalid_body");
    let (code, body) = app.post_raw("/api/v1/domains", json, "").await;
    assert_json_error(code, &body, 400, "invalid_body");
    assert!(body["message"].as_str().unwrap().contains("empty"), "{body}");
    let (code, body) = app.post_raw("/api/v1/domains", json, "{not json").await;
    assert_json_error(code, &body, 400, "invalid_body");
    let (code, body) = app
        .post_raw("/api/v1/domains", "text/plain", r#"{"domains": []}"#)
        .await;
    assert_json_error(code, &body, 415, "unsupported_media_type");
    let (code, body) = app
        .post_raw(
            "/api/v1/domains",
            json,
            r#"{"domains": ["a.com"], "tenant_id": "no spaces"}"#,
        )
        .await;
    assert_json_error(code, &body, 400, "bad_request");
    let (code, body) = app.post_raw("/api/v1/domains", json, vec![b' '; 3 * 1024 * 1024]).await;
    assert_json_error(code, &body, 413, "payload_too_large");

    // A 10,000-character name is rejected with a reason; valid names in the same request land.
    let long = "a".repeat(10_000);
    let body = serde_json::json!({"domains": [long, "Example.COM.", "https://www.Example.com/path", "localhost", "10.0.0.1", "intranet"]});
    let (code, body) = app.post_raw("/api/v1/domains", json, body.to_string()).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["accepted"], 2, "{body}");
    let rejected = body["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 4, "{body}");
    assert!(
        rejected
            .iter()
            .all(|r| r["reason"].as_str().is_some_and(|s| !s.is_empty())),
        "{body}"
    );
    assert!(rejected[0]["input"].as_str().unwrap().len() <= 256);
    assert_eq!(app.row("example.com").await.status, "pending");
    assert_eq!(app.row("www.example.com").await.status, "pending");
    let (_, again) = app
        .post_raw("/api/v1/domains", json, r#"{"domains": ["example.com"]}"#)
        .await;
    assert_eq!(again["duplicates"], 1, "{again}");

    for (query, kind) in [
        ("limit=-1", "bad_request"),
        ("limit=0", "bad_request"),
        ("limit=abc", "invalid_query"),
        ("limit=5000", "bad_request"),
    ] {
        let (code, body) = app.get(&format!("/api/v3/dev/process-pending-domains?{query}")).await;
        assert_json_error(code, &body, 400, kind);
    }
    let (code, body) = app.get("/api/v1/nope").await;
    assert_json_error(code, &body, 404, "not_found");

    let (code, body) = app.get("/health/ready").await;
    assert_eq!((code, body["status"].as_str()), (200, Some("ready")));
    let (code, _) = app.get("/health/live").await;
    assert_eq!(code, 200);
    let status = app.status().await;
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(status["domains"]["pending"], 2);
    assert!(status["actors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["name"] == "fetcher" && a["state"] == "running"));
    assert_eq!(app.stop().await, 0);
}
both_backends!(bad_inputs_get_json_errors);

/// `http.max_domains_per_request` names: accepted; one more: 413 with the JSON error, nothing
/// inserted (the request is refused whole, not cut short).
async fn more_domains_than_the_request_limit_get_a_413(db: Db) {
    let app = spawn_app_with(db, |s| s.http.max_domains_per_request = 5).await;
    let names = |prefix: &str, n: usize| -> Vec<String> { (0..n).map(|i| format!("{prefix}-{i}.test")).collect() };

    let (code, body) = app.add_domains(&names("over", 6)).await;
    assert_json_error(code, &body, 413, "payload_too_large");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("6 domains") && message.contains("http.max_domains_per_request"),
        "{body}"
    );
    let counts = app.store.count_by_status().await.unwrap();
    assert_eq!(
        counts.values().sum::<i64>(),
        0,
        "a refused request inserts nothing: {counts:?}"
    );

    let (code, body) = app.add_domains(&names("limit", 5)).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["accepted"], 5, "{body}");
    assert_eq!(app.store.count_by_status().await.unwrap()["pending"], 5);
    assert_eq!(app.stop().await, 0);
}
both_backends!(more_domains_than_the_request_limit_get_a_413);
