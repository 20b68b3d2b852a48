//! Access control: with tokens configured everything under `/api/` needs one, a tenant-bound
//! token writes only to its tenant, `/health/*` stays open, `/metrics` is open unless
//! `http.metrics_require_token` asks for an unrestricted token, and a non-loopback bind without
//! a token is refused at start.

use crate::both_backends;
use crate::helpers::{spawn_app_with, spawn_app_with_tokens, test_settings, Db};

use crate::helpers::{ADMIN_TOKEN as ADMIN, T1_TOKEN as T1};

async fn tokens_guard_the_api_and_bind_tenants(db: Db) {
    let app = spawn_app_with_tokens(db).await;
    let post = |token: Option<&'static str>, body: &'static str| {
        let mut req = app
            .client
            .post(format!("{}/api/v1/domains", app.address))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            let r = req.send().await.unwrap();
            let code = r.status().as_u16();
            (
                code,
                serde_json::from_str::<serde_json::Value>(&r.text().await.unwrap()).unwrap(),
            )
        }
    };
    // No token, a wrong token: 401 with a JSON body and a challenge.
    let (code, body) = app.get("/api/v1/status").await;
    assert_eq!((code, body["error"].as_str()), (401, Some("unauthorized")), "{body}");
    let (code, _) = post(Some("nope-nope-nope-nope"), r#"{"domains": ["a.com"]}"#).await;
    assert_eq!(code, 401);
    // Health stays open for probes.
    assert_eq!(app.get("/health/live").await.0, 200);
    assert_eq!(app.get("/health/ready").await.0, 200);

    // The admin token writes to any tenant; the bound token to its own only.
    let (code, body) = post(Some(ADMIN), r#"{"domains": ["a.com"], "tenant_id": "t2"}"#).await;
    assert_eq!((code, body["accepted"].as_u64()), (200, Some(1)), "{body}");
    let (code, body) = post(Some(T1), r#"{"domains": ["b.com"], "tenant_id": "t2"}"#).await;
    assert_eq!((code, body["error"].as_str()), (403, Some("forbidden")), "{body}");
    let (code, body) = post(Some(T1), r#"{"domains": ["b.com"]}"#).await;
    assert_eq!((code, body["accepted"].as_u64()), (200, Some(1)), "{body}");
    assert!(app.store.find_domain("t1", "b.com").await.unwrap().is_some());
    assert!(app.store.find_domain("t2", "a.com").await.unwrap().is_some());
    assert!(app.store.find_domain("default", "b.com").await.unwrap().is_none());
    assert_eq!(app.stop().await, 0);
}
both_backends!(tokens_guard_the_api_and_bind_tenants);

#[actix_web::test]
async fn a_public_bind_without_a_token_is_refused() {
    let fixture = crate::fixtures::start();
    let mut settings = test_settings("sqlite::memory:", &fixture);
    settings.http.bind = "0.0.0.0:0".into();
    let err = domaind::startup::Application::build(settings)
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("refusing to bind 0.0.0.0:0 without a token"),
        "{err}"
    );
}

/// The status of `GET /metrics` with an optional bearer token.
async fn metrics_status(app: &crate::helpers::TestApp, token: Option<&str>) -> u16 {
    let mut req = app.client.get(format!("{}/metrics", app.address));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("GET /metrics").status().as_u16()
}

#[actix_web::test]
async fn metrics_are_open_by_default_and_can_require_an_unrestricted_token() {
    let open = spawn_app_with_tokens(Db::Sqlite).await;
    assert_eq!(
        metrics_status(&open, None).await,
        200,
        "open by default, even with API tokens"
    );
    assert_eq!(open.stop().await, 0);

    let guarded = spawn_app_with(Db::Sqlite, |s| {
        s.http.token = ADMIN.into();
        s.http.tokens = vec![domaind::settings::TokenSettings {
            token: T1.into(),
            tenant: Some("t1".into()),
        }];
        s.http.metrics_require_token = true;
    })
    .await;
    assert_eq!(metrics_status(&guarded, None).await, 401);
    assert_eq!(metrics_status(&guarded, Some("wrong-token-0123456789")).await, 401);
    assert_eq!(
        metrics_status(&guarded, Some(T1)).await,
        403,
        "counts cover every tenant"
    );
    assert_eq!(metrics_status(&guarded, Some(ADMIN)).await, 200);
    // A percent-encoded spelling routes to the same handler and needs the same token.
    let encoded = guarded
        .client
        .get(format!("{}/%6Detrics", guarded.address))
        .send()
        .await
        .unwrap();
    assert_eq!(encoded.status().as_u16(), 401);
    let (code, _) = guarded.get("/health/live").await;
    assert_eq!(code, 200, "health stays open");
    assert_eq!(guarded.stop().await, 0);

    // Requiring a token for /metrics with only tenant-bound tokens cannot work: refused at start.
    let fixture = crate::fixtures::start();
    let mut settings = test_settings("sqlite::memory:", &fixture);
    settings.http.tokens = vec![domaind::settings::TokenSettings {
        token: T1.into(),
        tenant: Some("t1".into()),
    }];
    settings.http.metrics_require_token = true;
    let err = settings.validate().expect_err("refused");
    assert!(err.to_string().contains("http.metrics_require_token"), "{err}");
}

#[actix_web::test]
async fn a_percent_encoded_api_path_still_needs_the_token() {
    let app = spawn_app_with_tokens(Db::Sqlite).await;
    app.store
        .insert_domains(
            "default",
            &[domaind::model::DomainName::parse("alpha-encoded.test").unwrap()],
        )
        .await
        .unwrap();
    for path in [
        "/%61pi/v1/status",
        "/%61%70%69/v1/domains",
        "/api/v1/%64omains",
        "/%61pi/v1/jobs",
    ] {
        let r = app.client.get(format!("{}{path}", app.address)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401, "{path} answered without a token");
    }
    // The tenant-bound token stays bound whatever the spelling: t1 sees none of default's rows.
    let r = app
        .client
        .get(format!("{}/%61pi/v1/domains", app.address))
        .bearer_auth(T1)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(body["domains"].as_array().map(Vec::len), Some(0), "{body}");
    assert_eq!(app.stop().await, 0);
}
