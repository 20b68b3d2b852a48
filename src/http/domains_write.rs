//! Changing rows through the domains API: `POST /api/v1/domains/{id}/retry`, the bounded bulk
//! `POST /api/v1/domains/retry`, and `DELETE /api/v1/domains/{id}`. Tenant rules are those of
//! `domains_read`: another tenant's row is a 404, a filter naming another tenant matches nothing.

use actix_web::{delete, post, web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::TenantScope;
use super::domains_read::{build_filter, given, int_param, shown, visible_row};
use super::error::{ApiError, ErrorBody};
use super::routes::AppState;
use crate::model::Status;
use crate::store::DomainRow;

/// Most rows one bulk retry call requeues; call again while `more` is true.
pub const MAX_BULK_RETRY: i64 = 10_000;

/// Query of `POST /api/v1/domains/retry`; empty values count as absent.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BulkRetryQuery {
    /// `error` (default) or `completed`: only finished rows can be retried.
    pub status: Option<String>,
    /// Only rows with this error kind.
    pub error_kind: Option<String>,
    /// Only this tenant's rows.
    pub tenant_id: Option<String>,
    /// Only rows whose name contains this text (case-insensitive).
    pub q: Option<String>,
    /// Most rows to requeue in this call, 1..=10000 (default 10000).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 10000)]
    pub limit: Option<String>,
}

/// Answer of `POST /api/v1/domains/retry`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkRetried {
    /// Rows put back to `pending` by this call.
    pub requeued: u64,
    /// Matching finished rows remain: call again.
    pub more: bool,
    /// The limit this call used.
    pub limit: i64,
}

/// Answer of `DELETE /api/v1/domains/{id}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Deleted {
    /// The deleted row's id.
    pub id: i64,
    /// Always `true`.
    pub deleted: bool,
}

/// Puts one finished row back to `pending` now, with a fresh attempt budget.
///
/// Only `completed` or `error` rows; answers the row (without attempts). A `pending` or
/// `processing` row is refused with 409 (it will be processed anyway); a missing or other
/// tenant's row is a 404.
#[utoipa::path(
    tag = "domains",
    params(("id" = i64, Path, description = "the row's id")),
    responses(
        (status = 200, description = "the row, now `pending`", body = DomainRow),
        (status = 400, description = "`id` is not an integer", body = ErrorBody),
        (status = 404, description = "no such row (or another tenant's)", body = ErrorBody),
        (status = 409, description = "the row is `pending` or `processing`", body = ErrorBody),
        (status = 503, description = "the database is unavailable", body = ErrorBody),
    )
)]
#[post("/api/v1/domains/{id}/retry")]
pub async fn retry_one(
    app: web::Data<AppState>,
    scope: TenantScope,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    visible_row(&app, &scope, id).await?;
    let requeued = app.store.requeue(id).await?;
    // Re-read either way: on success to answer the new state, on refusal to say why.
    let row = visible_row(&app, &scope, id).await?;
    if !requeued {
        return Err(ApiError::Conflict(format!(
            "domain {id} is {}; only completed or error rows can be retried",
            row.status
        )));
    }
    Ok(HttpResponse::Ok().json(row))
}

/// Requeues finished rows matching the filters, at most `limit` per call.
///
/// Default `status=error`; lowest ids first, at most `limit` (1..=10000, default 10000) per
/// call; answers `{"requeued": n, "more": bool, "limit": n}`, where `more` says matching
/// finished rows remain (call again).
#[utoipa::path(
    tag = "domains",
    params(BulkRetryQuery),
    responses(
        (status = 200, description = "how many rows were requeued", body = BulkRetried),
        (status = 400, description = "bad `status`, filter or `limit`", body = ErrorBody),
        (status = 503, description = "the database is unavailable", body = ErrorBody),
    )
)]
#[post("/api/v1/domains/retry")]
pub async fn retry_bulk(
    app: web::Data<AppState>,
    scope: TenantScope,
    query: web::Query<BulkRetryQuery>,
) -> Result<HttpResponse, ApiError> {
    let status = given(&query.status).unwrap_or("error");
    if !matches!(Status::parse(status), Some(Status::Error | Status::Completed)) {
        return Err(ApiError::BadRequest(format!(
            "status must be error or completed (only finished rows can be retried), got {:?}",
            shown(status)
        )));
    }
    let limit = int_param("limit", &query.limit, MAX_BULK_RETRY, 1..=MAX_BULK_RETRY)?;
    let status = Some(status.to_string());
    let filter = build_filter(&scope, &status, &query.tenant_id, &query.q, &query.error_kind)?;
    let (requeued, more) = match filter {
        Some(filter) => app.store.requeue_matching(&filter, limit).await?,
        None => (0, false),
    };
    Ok(HttpResponse::Ok().json(BulkRetried { requeued, more, limit }))
}

/// Deletes a row and its attempts.
///
/// Answers `{"id": n, "deleted": true}`, 404 when absent or another tenant's. A `processing`
/// row may be deleted: the worker's late result write then matches no row, so it is fenced out
/// (counted in `fenced_writes_lost`; its `lost` attempt row outlives the domain until
/// `prune_history` removes it) and the row stays gone.
#[utoipa::path(
    tag = "domains",
    params(("id" = i64, Path, description = "the row's id")),
    responses(
        (status = 200, description = "the row and its attempts are gone", body = Deleted),
        (status = 400, description = "`id` is not an integer", body = ErrorBody),
        (status = 404, description = "no such row (or another tenant's)", body = ErrorBody),
        (status = 503, description = "the database is unavailable", body = ErrorBody),
    )
)]
#[delete("/api/v1/domains/{id}")]
pub async fn delete_one(
    app: web::Data<AppState>,
    scope: TenantScope,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    visible_row(&app, &scope, id).await?;
    if !app.store.delete_domain(id).await? {
        return Err(ApiError::NotFound(format!("no domain with id {id}")));
    }
    Ok(HttpResponse::Ok().json(Deleted { id, deleted: true }))
}
