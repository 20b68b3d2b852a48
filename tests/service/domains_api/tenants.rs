//! Tenant-bound tokens: a token bound to `t1` lists, reads, retries, deletes and exports only
//! `t1` rows; another tenant's ids and names answer 404 and stay untouched.

use reqwest::Method;

use super::export::parse_csv;
use super::{add, assert_json_error, call, call_text, names};
use crate::both_backends;
use crate::helpers::{spawn_app_with_tokens, Db};

use crate::helpers::{ADMIN_TOKEN as ADMIN, T1_TOKEN as T1};

async fn a_tenant_token_sees_and_changes_only_its_tenant(db: Db) {
    let app = spawn_app_with_tokens(db).await;
    add(&app, "default", &names("notfound-d", 2), Some(ADMIN)).await;
    add(&app, "t1", &names("notfound-t", 2), Some(ADMIN)).await;
    let (code, _) = call(
        &app,
        Method::GET,
        "/api/v3/dev/process-pending-domains?limit=10",
        Some(ADMIN),
    )
    .await;
    assert_eq!(code, 200);
    let (code, body) = call(&app, Method::GET, "/api/v1/domains", None).await;
    assert_json_error(code, &body, 401, "unauthorized");

    let list = |path: &'static str, token: &'static str| {
        let app = &app;
        async move {
            let (code, body) = call(app, Method::GET, path, Some(token)).await;
            assert_eq!(code, 200, "{body}");
            body["domains"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["domain"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("/api/v1/domains", ADMIN).await.len(), 4);
    assert_eq!(
        list("/api/v1/domains", T1).await,
        ["notfound-t-0.test", "notfound-t-1.test"]
    );
    assert!(list("/api/v1/domains?tenant_id=default", T1).await.is_empty());
    assert_eq!(list("/api/v1/domains?tenant_id=t1", T1).await.len(), 2);

    let other = app.row("notfound-d-0.test").await.id;
    let own = app
        .store
        .find_domain("t1", "notfound-t-0.test")
        .await
        .unwrap()
        .unwrap()
        .id;
    for (method, path) in [
        (Method::GET, format!("/api/v1/domains/{other}")),
        (Method::GET, "/api/v1/domains/by-name/notfound-d-0.test".to_string()),
        (
            Method::GET,
            "/api/v1/domains/by-name/notfound-d-0.test?tenant_id=default".to_string(),
        ),
        (Method::POST, format!("/api/v1/domains/{other}/retry")),
        (Method::DELETE, format!("/api/v1/domains/{other}")),
    ] {
        let (code, body) = call(&app, method.clone(), &path, Some(T1)).await;
        assert_json_error(code, &body, 404, "not_found");
    }
    assert_eq!(app.row("notfound-d-0.test").await.status, "error", "untouched");
    let (code, body) = call(&app, Method::GET, &format!("/api/v1/domains/{own}"), Some(T1)).await;
    assert_eq!((code, body["tenant_id"].as_str()), (200, Some("t1")), "{body}");
    let (code, body) = call(&app, Method::GET, "/api/v1/domains/by-name/notfound-t-0.test", Some(T1)).await;
    assert_eq!((code, body["id"].as_i64()), (200, Some(own)), "{body}");

    let (_, text) = call_text(&app, Method::GET, "/api/v1/domains/export?format=csv", Some(T1)).await;
    let records = parse_csv(&text);
    assert_eq!(records.len(), 3, "{text}");
    assert!(records[1..].iter().all(|r| r[1] == "t1"), "{text}");
    let (_, text) = call_text(&app, Method::GET, "/api/v1/domains/export?tenant_id=default", Some(T1)).await;
    assert!(text.is_empty(), "{text}");

    let (_, body) = call(&app, Method::POST, "/api/v1/domains/retry?tenant_id=default", Some(T1)).await;
    assert_eq!(body["requeued"], 0, "{body}");
    let (_, body) = call(&app, Method::POST, "/api/v1/domains/retry", Some(T1)).await;
    assert_eq!(body["requeued"], 2, "{body}");
    assert_eq!(
        app.row("notfound-d-1.test").await.status,
        "error",
        "other tenant untouched"
    );
    let (code, _) = call(&app, Method::DELETE, &format!("/api/v1/domains/{own}"), Some(T1)).await;
    assert_eq!(code, 200);
    let (code, body) = call(&app, Method::DELETE, &format!("/api/v1/domains/{other}"), Some(ADMIN)).await;
    assert_eq!((code, body["id"].as_i64()), (200, Some(other)), "{body}");
    assert_eq!(app.stop().await, 0);
}
both_backends!(a_tenant_token_sees_and_changes_only_its_tenant);
