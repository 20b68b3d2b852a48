//! `GET /api/v1/stats?minutes=15`: what the dashboard charts beside `/api/v1/status` —
//! attempts per minute by outcome over the last minutes (throughput) and failed attempts
//! grouped by `error_kind` with a few example domains. A tenant-bound token sees its own
//! tenant's attempts only.

use actix_web::{get, web, HttpResponse};
use serde::Deserialize;

use super::auth::TenantScope;
use super::domains_read::int_param;
use super::error::{ApiError, ErrorBody};
use super::routes::AppState;

/// Longest window, in minutes.
pub const MAX_MINUTES: i64 = 120;
/// Window when `minutes` is absent.
pub const DEFAULT_MINUTES: i64 = 15;

/// Query of `GET /api/v1/stats`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// Whole minutes before the current one to cover, 1..=120 (default 15).
    pub minutes: Option<String>,
}

/// Throughput per minute and errors by kind.
///
/// Every minute of the window comes back, oldest first, the current partial minute last;
/// error kinds most frequent first.
#[utoipa::path(
    tag = "service",
    params(StatsQuery),
    responses(
        (status = 200, description = "attempts per minute and errors by kind", body = crate::store::stats::AttemptStats),
        (status = 400, description = "`minutes` is not 1..=120", body = ErrorBody),
        (status = 503, description = "the database is unavailable", body = ErrorBody),
    )
)]
#[get("/api/v1/stats")]
pub async fn stats(
    app: web::Data<AppState>,
    scope: TenantScope,
    query: web::Query<StatsQuery>,
) -> Result<HttpResponse, ApiError> {
    let minutes = int_param("minutes", &query.minutes, DEFAULT_MINUTES, 1..=MAX_MINUTES)?;
    let stats = app.store.attempt_stats(minutes as u32, scope.0.as_deref()).await?;
    Ok(HttpResponse::Ok().json(stats))
}
