//! `GET /api/v3/dev/process-pending-domains?limit=5`: the Python pattern's diagnostic endpoint.
//! Runs one drain now, waits for it, and answers in the pattern's exact shape.

use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ErrorBody};
use super::routes::AppState;
use crate::actors::{DrainReport, ProcessedDomain, RunJob, Tick};

/// Query of the dev endpoint.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DevQuery {
    /// Most domains to process (default 5, at most `http.max_dev_limit`).
    #[param(minimum = 1, example = 5)]
    pub limit: Option<i64>,
}

/// The pattern's response body for a drain.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PatternResponse {
    /// `Processed N domains: S successful, F failed`.
    #[schema(example = "Processed 5 domains: 4 successful, 1 failed")]
    pub message: String,
    /// The counts and every processed domain.
    pub results: PatternResults,
}

/// The `results` of the pattern's response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PatternResults {
    /// Domains claimed and written.
    pub processed: usize,
    /// Of those, completed.
    pub successful: usize,
    /// Attempts that did not complete (retries included).
    pub failed: usize,
    /// Every processed domain.
    pub domains: Vec<ProcessedDomain>,
}

/// The pattern's response body for a drain.
pub fn pattern_response(report: &DrainReport) -> PatternResponse {
    PatternResponse {
        message: format!(
            "Processed {} domains: {} successful, {} failed",
            report.processed, report.successful, report.failed
        ),
        results: PatternResults {
            processed: report.processed,
            successful: report.successful,
            failed: report.failed,
            domains: report.domains.clone(),
        },
    }
}

/// Runs one processing pass now and reports it.
///
/// The Python pattern's diagnostic endpoint: waits for the pass and is recorded as a manual run
/// of the `process_pending_domains` job.
#[utoipa::path(
    tag = "service",
    params(DevQuery),
    responses(
        (status = 200, description = "the pass ran", body = PatternResponse),
        (status = 400, description = "`limit` out of range or not an integer", body = ErrorBody),
        (status = 503, description = "shutting down, or the pipeline or database is unavailable", body = ErrorBody),
    )
)]
#[get("/api/v3/dev/process-pending-domains")]
pub async fn process_pending_domains(
    app: web::Data<AppState>,
    query: web::Query<DevQuery>,
) -> Result<HttpResponse, ApiError> {
    let max = app.settings.http.max_dev_limit as i64;
    let limit = query.limit.unwrap_or(5);
    if limit < 1 {
        return Err(ApiError::BadRequest(format!("limit must be at least 1, got {limit}")));
    }
    if limit > max {
        return Err(ApiError::BadRequest(format!(
            "limit {limit} exceeds the maximum of {max} (http.max_dev_limit)"
        )));
    }
    if app.state.is_draining() {
        return Err(ApiError::Unavailable("the service is shutting down".into()));
    }
    // Recorded as a manual run of the job when it is declared; like the pattern's endpoint it
    // runs even while a scheduled drain is in progress (max_instances does not apply).
    let scheduled = match &app.scheduler {
        Some(scheduler) => scheduler
            .send(RunJob {
                id: "process_pending_domains".into(),
                limit: Some(limit as usize),
                list_domains: true,
                obey_max_instances: false,
            })
            .await
            .map_err(|e| ApiError::Unavailable(format!("the scheduler is not running: {e}")))?
            .ok()
            .and_then(|run| run.drain),
        None => None,
    };
    let report = match scheduled {
        Some(report) => report,
        None => app
            .fetcher
            .send(Tick {
                limit: limit as usize,
                list_domains: true,
            })
            .await
            .map_err(|e| ApiError::Unavailable(format!("the pipeline is not running: {e}")))?,
    };
    if let Some(error) = &report.error {
        if report.processed == 0 {
            return Err(ApiError::Unavailable(error.clone()));
        }
    }
    Ok(HttpResponse::Ok().json(pattern_response(&report)))
}
