//! `GET /api/v1/status`: counts by status, the actor tree with restarts, uptime and version.

use actix_web::{get, web, HttpResponse};
use serde_json::json;

use super::routes::AppState;

/// The service's own view of itself. Answers even when the database is down.
#[get("/api/v1/status")]
pub async fn status(app: web::Data<AppState>) -> HttpResponse {
    let counts = app.store.count_by_status().await;
    let actors = app.state.snapshot();
    let restarts: u64 = actors.iter().map(|a| a.restarts).sum();
    let (domains, database_error) = match counts {
        Ok(c) => (Some(c), None),
        Err(e) => (None, Some(e.to_string())),
    };
    HttpResponse::Ok().json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "instance": app.state.instance,
        "started_at": app.state.started_at,
        "uptime_secs": (chrono::Utc::now() - app.state.started_at).num_seconds(),
        "draining": app.state.is_draining(),
        "escalated": app.state.is_escalated(),
        "domains": domains,
        "database_error": database_error,
        "restarts_total": restarts,
        "fenced_writes_lost": app.state.fenced_writes_lost(),
        "actors": actors,
    }))
}
