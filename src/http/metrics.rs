//! `GET /metrics` (Prometheus text format 0.0.4) and the middleware counting every request as
//! `domaind_http_requests_total{route,status}` — `route` is the matched route pattern
//! (`/api/v1/jobs/{id}/run`), never the raw path, so the label set stays bounded; requests no
//! route matched count as `unmatched`. `/metrics` is open by default, like `/health/*`, even
//! when an API token is set: it shows counts, never rows. With `http.metrics_require_token` it
//! needs an unrestricted token; a tenant-bound token gets 403, because the counts cover every
//! tenant.

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{get, web, HttpResponse};

use super::auth::TenantScope;
use super::error::ApiError;
use super::routes::AppState;
use crate::metrics::{Snapshot, CONTENT_TYPE};

/// A scrape must answer even when the database hangs: the counts by status give up after this.
const COUNT_TIMEOUT: Duration = Duration::from_secs(1);

/// The Prometheus exposition of this instance's metrics.
#[utoipa::path(
    tag = "service",
    responses((
        status = 200,
        description = "Prometheus text format 0.0.4",
        content_type = "text/plain; version=0.0.4",
        body = String
    ))
)]
#[get("/metrics")]
pub async fn scrape(app: web::Data<AppState>, scope: TenantScope) -> Result<HttpResponse, ApiError> {
    if let Some(tenant) = scope.0 {
        return Err(ApiError::Forbidden(format!(
            "/metrics covers every tenant; the token for tenant {tenant:?} cannot read it"
        )));
    }
    let domains = match tokio::time::timeout(COUNT_TIMEOUT, app.store.count_by_status()).await {
        Ok(Ok(counts)) => Some(counts),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "metrics: cannot count domains by status");
            None
        }
        Err(_) => {
            tracing::warn!("metrics: counting domains by status timed out");
            None
        }
    };
    let state = &app.state;
    let snapshot = Snapshot {
        domains,
        actor_restarts: state.snapshot().into_iter().map(|a| (a.name, a.restarts)).collect(),
        fenced_writes_lost: state.fenced_writes_lost(),
        uptime_seconds: (chrono::Utc::now() - state.started_at).num_milliseconds().max(0) as f64 / 1000.0,
    };
    Ok(HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(state.metrics.render(&snapshot)))
}

/// Middleware: counts each request by matched route pattern and response status.
pub async fn count_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req.app_data::<web::Data<AppState>>().map(|a| a.state.metrics.clone());
    let pattern = req.match_pattern();
    let res = next.call(req).await;
    if let Some(metrics) = metrics {
        let (route, status) = match &res {
            // After routing the request knows which resource matched; before, only the path did.
            Ok(r) => (r.request().match_pattern().or(pattern), r.status()),
            Err(e) => (pattern, e.as_response_error().status_code()),
        };
        metrics.http_request(route.as_deref().unwrap_or("unmatched"), status.as_u16());
    }
    res
}
