//! `/api/v1/jobs`: the job list with next fire times, run history, manual trigger, pause and
//! resume. Unknown job ids are a 404 JSON error.

use actix::Addr;
use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ErrorBody};
use super::routes::AppState;
use crate::actors::{JobView, ListJobs, ManualRun, RunJob, RunJobError, Scheduler, SetPaused};
use crate::store::JobRunRow;

/// Query of the run history.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    /// Return runs older than this run id (the previous page's `next_cursor`).
    pub cursor: Option<i64>,
    /// Page size (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// A job with its latest run.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobListing {
    /// The job.
    #[serde(flatten)]
    pub job: JobView,
    /// Its latest run on any instance, `null` before the first.
    pub last_run: Option<JobRunRow>,
}

/// Answer of `GET /api/v1/jobs`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobList {
    /// Every declared job.
    pub jobs: Vec<JobListing>,
}

/// One page of a job's run history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunPage {
    /// Runs, newest first.
    pub runs: Vec<JobRunRow>,
    /// Pass back as `cursor` for older runs; `null` on the last page.
    pub next_cursor: Option<i64>,
}

/// Answer of pause and resume.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PauseState {
    /// The job.
    pub id: String,
    /// Whether it is now paused.
    pub paused: bool,
}

fn scheduler(app: &AppState) -> Result<&Addr<Scheduler>, ApiError> {
    app.scheduler
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("no scheduler runs in this process".into()))
}

fn job_error(e: RunJobError) -> ApiError {
    match e {
        RunJobError::NotFound(_) => ApiError::NotFound(e.to_string()),
        RunJobError::Stopped => ApiError::Unavailable(e.to_string()),
    }
}

fn unreachable_scheduler(e: actix::MailboxError) -> ApiError {
    ApiError::Unavailable(format!("the scheduler is not running: {e}"))
}

/// Every job with its schedule, next five fires, last run, pause state and running count.
#[utoipa::path(
    tag = "jobs",
    responses(
        (status = 200, description = "every job", body = JobList),
        (status = 503, description = "no scheduler runs here, or the database is unavailable", body = ErrorBody),
    )
)]
#[get("/api/v1/jobs")]
pub async fn list(app: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let views = scheduler(&app)?.send(ListJobs).await.map_err(unreachable_scheduler)?;
    let mut jobs = Vec::with_capacity(views.len());
    for job in views {
        let last_run = app.store.runs(&job.id, None, 1).await?.into_iter().next();
        jobs.push(JobListing { job, last_run });
    }
    Ok(HttpResponse::Ok().json(JobList { jobs }))
}

/// A job's runs, newest first, paginated by run id.
#[utoipa::path(
    tag = "jobs",
    params(("id" = String, Path, description = "the job's id"), RunsQuery),
    responses(
        (status = 200, description = "one page of runs", body = RunPage),
        (status = 400, description = "bad `cursor` or `limit`", body = ErrorBody),
        (status = 404, description = "no such job", body = ErrorBody),
        (status = 503, description = "no scheduler runs here, or the database is unavailable", body = ErrorBody),
    )
)]
#[get("/api/v1/jobs/{id}/runs")]
pub async fn runs(
    app: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<RunsQuery>,
) -> Result<HttpResponse, ApiError> {
    let views = scheduler(&app)?.send(ListJobs).await.map_err(unreachable_scheduler)?;
    if !views.iter().any(|v| v.id == *id) {
        return Err(ApiError::NotFound(format!("no job named {:?}", id.as_str())));
    }
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and 500, got {limit}"
        )));
    }
    let runs = app.store.runs(&id, query.cursor, limit).await?;
    let next_cursor = (runs.len() as i64 == limit)
        .then(|| runs.last().map(|r| r.id))
        .flatten();
    Ok(HttpResponse::Ok().json(RunPage { runs, next_cursor }))
}

/// Fires a job now (recorded as a manual run; obeys max_instances) and waits for it.
#[utoipa::path(
    tag = "jobs",
    params(("id" = String, Path, description = "the job's id")),
    responses(
        (status = 200, description = "the run (`succeeded`, `failed`, or `skipped` over max_instances)",
            body = ManualRun),
        (status = 404, description = "no such job", body = ErrorBody),
        (status = 503, description = "no scheduler runs here, or it is shutting down", body = ErrorBody),
    )
)]
#[post("/api/v1/jobs/{id}/run")]
pub async fn run_now(app: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let run = scheduler(&app)?
        .send(RunJob {
            id: id.into_inner(),
            limit: None,
            list_domains: false,
            obey_max_instances: true,
        })
        .await
        .map_err(unreachable_scheduler)?
        .map_err(job_error)?;
    Ok(HttpResponse::Ok().json(run))
}

async fn set_paused(app: &AppState, id: String, paused: bool) -> Result<HttpResponse, ApiError> {
    scheduler(app)?
        .send(SetPaused { id: id.clone(), paused })
        .await
        .map_err(unreachable_scheduler)?
        .map_err(job_error)?;
    Ok(HttpResponse::Ok().json(PauseState { id, paused }))
}

/// Stops a job firing on schedule (manual runs still work).
#[utoipa::path(
    tag = "jobs",
    params(("id" = String, Path, description = "the job's id")),
    responses(
        (status = 200, description = "paused (persisted; every instance follows)", body = PauseState),
        (status = 404, description = "no such job", body = ErrorBody),
        (status = 503, description = "no scheduler runs here, or it is shutting down", body = ErrorBody),
    )
)]
#[post("/api/v1/jobs/{id}/pause")]
pub async fn pause(app: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    set_paused(&app, id.into_inner(), true).await
}

/// Lets a paused job fire again (missed fires follow the misfire rules).
#[utoipa::path(
    tag = "jobs",
    params(("id" = String, Path, description = "the job's id")),
    responses(
        (status = 200, description = "resumed (persisted; every instance follows)", body = PauseState),
        (status = 404, description = "no such job", body = ErrorBody),
        (status = 503, description = "no scheduler runs here, or it is shutting down", body = ErrorBody),
    )
)]
#[post("/api/v1/jobs/{id}/resume")]
pub async fn resume(app: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    set_paused(&app, id.into_inner(), false).await
}
