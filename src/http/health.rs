//! `/health/live` (the process answers) and `/health/ready` (database reachable, supervisor
//! healthy, not draining): what a load balancer or Kubernetes probe asks.

use std::time::Duration;

use actix_web::{get, web, HttpResponse};
use serde_json::json;

use super::routes::AppState;

/// Liveness: 200 while the process serves HTTP.
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "live"}))
}

/// Readiness: 200 when the service can do work, else 503 with the reasons.
#[get("/health/ready")]
pub async fn ready(app: web::Data<AppState>) -> HttpResponse {
    let mut reasons = Vec::new();
    if app.state.is_escalated() {
        reasons.push("the supervisor escalated (restart intensity exceeded)".to_string());
    }
    if app.state.is_draining() {
        reasons.push("the service is shutting down".to_string());
    }
    match tokio::time::timeout(Duration::from_secs(2), app.store.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => reasons.push(format!("database unreachable: {e}")),
        Err(_) => reasons.push("database did not answer within 2s".to_string()),
    }
    if reasons.is_empty() {
        HttpResponse::Ok().json(json!({"status": "ready"}))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({"status": "not_ready", "reasons": reasons}))
    }
}
