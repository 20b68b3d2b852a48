//! The dashboard at `GET /`: its assets and `GET /api/v1/stats` over HTTP (both backends). The
//! page itself, in a real browser, is in `dashboard_browser.rs`.

use serde_json::Value;

use crate::both_backends;
use crate::helpers::{spawn_app_with_tokens, Db, TestApp, ADMIN_TOKEN, T1_TOKEN};

/// GET with a bearer token: (status, JSON body).
async fn get_as(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let r = app
        .client
        .get(format!("{}{path}", app.address))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET");
    let code = r.status().as_u16();
    let text = r.text().await.expect("body");
    (
        code,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: {text}")),
    )
}

fn sum(stats: &Value, field: &str) -> i64 {
    stats["throughput"]
        .as_array()
        .expect("throughput")
        .iter()
        .map(|b| b[field].as_i64().expect("count"))
        .sum()
}

async fn stats_count_attempts_per_minute_and_group_errors(db: Db) {
    let app = spawn_app_with_tokens(db).await;
    let names = |list: &[&str]| -> Vec<domaind::model::DomainName> {
        list.iter()
            .map(|n| domaind::model::DomainName::parse(n).unwrap())
            .collect()
    };
    let default = ["alpha-1.test", "alpha-2.test", "notfound-1.test", "notfound-2.test"];
    let more = ["notfound-3.test", "notfound-4.test", "pdf-1.test"];
    app.store.insert_domains("default", &names(&default)).await.unwrap();
    app.store.insert_domains("default", &names(&more)).await.unwrap();
    app.store
        .insert_domains("t1", &names(&["notfound-1.test"]))
        .await
        .unwrap();
    let (code, body) = get_as(&app, ADMIN_TOKEN, "/api/v3/dev/process-pending-domains?limit=100").await;
    assert_eq!((code, body["results"]["processed"].as_u64()), (200, Some(8)), "{body}");

    let (code, stats) = get_as(&app, ADMIN_TOKEN, "/api/v1/stats?minutes=5").await;
    assert_eq!(code, 200, "{stats}");
    // Five whole minutes and the current one, oldest first, every attempt counted once.
    let minutes = stats["throughput"].as_array().unwrap();
    assert_eq!(minutes.len(), 6, "{stats}");
    assert!(minutes
        .windows(2)
        .all(|w| w[0]["minute"].as_str() < w[1]["minute"].as_str()));
    assert_eq!(
        (sum(&stats, "total"), sum(&stats, "completed"), sum(&stats, "failed")),
        (8, 2, 6)
    );
    let errors = stats["errors"].as_array().unwrap();
    let kinds: Vec<(&str, i64)> = errors
        .iter()
        .map(|g| (g["error_kind"].as_str().unwrap(), g["attempts"].as_i64().unwrap()))
        .collect();
    assert_eq!(kinds, [("http_status", 5), ("not_html", 1)], "{stats}");
    let examples = errors[0]["examples"].as_array().unwrap();
    assert_eq!(examples.len(), 3, "at most three examples: {stats}");
    assert!(examples
        .iter()
        .all(|e| e["domain"].as_str().unwrap().starts_with("notfound-")));
    assert!(
        examples[0]["error_message"].as_str().unwrap().contains("404"),
        "{stats}"
    );

    // A tenant-bound token counts its own tenant's attempts only.
    let (code, own) = get_as(&app, T1_TOKEN, "/api/v1/stats").await;
    assert_eq!(code, 200, "{own}");
    assert_eq!(
        own["throughput"].as_array().unwrap().len(),
        16,
        "default window: 15 minutes + now"
    );
    assert_eq!(sum(&own, "total"), 1, "{own}");
    assert_eq!(own["errors"][0]["examples"][0]["domain"], "notfound-1.test", "{own}");
    assert_eq!(own["errors"][0]["attempts"], 1, "{own}");

    for bad in ["minutes=0", "minutes=121", "minutes=x"] {
        let (code, body) = get_as(&app, ADMIN_TOKEN, &format!("/api/v1/stats?{bad}")).await;
        assert_eq!(
            (code, body["error"].as_str()),
            (400, Some("bad_request")),
            "{bad}: {body}"
        );
    }
    assert_eq!(
        app.get("/api/v1/stats").await.0,
        401,
        "stats need the token like all of /api/"
    );
    assert_eq!(app.stop().await, 0);
}
both_backends!(stats_count_attempts_per_minute_and_group_errors);

#[actix_web::test]
async fn the_page_and_its_assets_are_served_embedded_and_open() {
    // A token is configured: the page still loads (it holds no data), the API does not.
    let app = spawn_app_with_tokens(Db::Sqlite).await;
    let get = |path: &'static str, etag: Option<String>| {
        let mut req = app.client.get(format!("{}{path}", app.address));
        if let Some(tag) = etag {
            req = req.header("if-none-match", tag);
        }
        async move { req.send().await.expect("GET") }
    };
    let page = get("/", None).await;
    assert_eq!(page.status(), 200);
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    assert!(header(&page, "content-security-policy").contains("script-src 'self'"));
    assert_eq!(header(&page, "cache-control"), "no-cache");
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"<script src="/dashboard/dashboard.js" defer></script>"#),
        "{html}"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no third-party origin"
    );

    for (path, content_type) in [
        ("/dashboard/dashboard.js", "text/javascript; charset=utf-8"),
        ("/dashboard/dashboard.css", "text/css; charset=utf-8"),
    ] {
        let first = get(path, None).await;
        assert_eq!(first.status(), 200, "{path}");
        assert_eq!(header(&first, "content-type"), content_type);
        let etag = header(&first, "etag");
        assert!(etag.starts_with('"'), "{path}: {etag:?}");
        assert!(first.text().await.unwrap().len() > 1000, "{path} is the real asset");
        // Revalidation with the same bytes answers 304 without a body.
        let again = get(path, Some(etag)).await;
        assert_eq!(again.status(), 304, "{path}");
        assert!(again.text().await.unwrap().is_empty());
    }
    assert_eq!(app.get("/api/v1/status").await.0, 401);
    assert_eq!(app.stop().await, 0);
}
