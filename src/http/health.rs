//! `/health/live` (the process answers) and `/health/ready` (database reachable, supervisor
//! healthy, not draining): what a load balancer or Kubernetes probe asks.

use std::time::Duration;

use actix_web::{get, web, HttpResponse};
use serde::Serialize;

use super::routes::AppState;

/// Answer of the probes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `live`, `ready` or `not_ready`.
    #[schema(value_type = String, example = "ready")]
    pub status: &'static str,
    /// Why the service is not ready (only with `not_ready`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

impl Health {
    fn new(status: &'static str, reasons: Vec<String>) -> Health {
        Health { status, reasons }
    }
}

/// Liveness: 200 while the process serves HTTP.
#[utoipa::path(tag = "health", responses((status = 200, description = "the process serves HTTP", body = Health)))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health::new("live", Vec::new()))
}

/// Readiness: 200 when the service can do work, else 503 with the reasons.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "database reachable, supervisor healthy, not draining", body = Health),
        (status = 503, description = "`not_ready` with the reasons", body = Health),
    )
)]
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
        HttpResponse::Ok().json(Health::new("ready", reasons))
    } else {
        HttpResponse::ServiceUnavailable().json(Health::new("not_ready", reasons))
    }
}
