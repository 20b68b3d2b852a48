//! `GET /api/v1/status`: counts by status, the actor tree with restarts, uptime and version.

use std::collections::BTreeMap;

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::routes::AppState;
use crate::actors::ActorSnapshot;

/// Answer of `GET /api/v1/status`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceStatus {
    /// The domaind version.
    #[schema(value_type = String)]
    pub version: &'static str,
    /// This instance's id.
    pub instance: String,
    /// When this process started.
    pub started_at: DateTime<Utc>,
    /// Seconds since then.
    pub uptime_secs: i64,
    /// Shutting down.
    pub draining: bool,
    /// The supervisor escalated (restart intensity exceeded).
    pub escalated: bool,
    /// Rows per status (`pending`, `processing`, `completed`, `error`); `null` when the database
    /// is unavailable.
    pub domains: Option<BTreeMap<String, i64>>,
    /// Why the counts are missing.
    pub database_error: Option<String>,
    /// Restarts of every actor since start.
    pub restarts_total: u64,
    /// Result writes refused by fencing since start.
    pub fenced_writes_lost: u64,
    /// Every actor's health.
    pub actors: Vec<ActorSnapshot>,
}

/// The service's own view of itself. Answers even when the database is down.
#[utoipa::path(
    tag = "service",
    responses((
        status = 200,
        description = "counts by status, the actor tree, uptime and version",
        body = ServiceStatus
    ))
)]
#[get("/api/v1/status")]
pub async fn status(app: web::Data<AppState>) -> HttpResponse {
    let counts = app.store.count_by_status().await;
    let actors = app.state.snapshot();
    let restarts: u64 = actors.iter().map(|a| a.restarts).sum();
    let (domains, database_error) = match counts {
        Ok(c) => (Some(c), None),
        Err(e) => (None, Some(e.to_string())),
    };
    HttpResponse::Ok().json(ServiceStatus {
        version: env!("CARGO_PKG_VERSION"),
        instance: app.state.instance.clone(),
        started_at: app.state.started_at,
        uptime_secs: (Utc::now() - app.state.started_at).num_seconds(),
        draining: app.state.is_draining(),
        escalated: app.state.is_escalated(),
        domains,
        database_error,
        restarts_total: restarts,
        fenced_writes_lost: app.state.fenced_writes_lost(),
        actors,
    })
}
