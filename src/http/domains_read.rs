//! Reading the domains API: `GET /api/v1/domains` (filtered keyset pages), `GET
//! /api/v1/domains/{id}` and `GET /api/v1/domains/by-name/{domain}` (one row with metadata and
//! its latest attempts), and the parameter parsing the other domains handlers share.
//!
//! Paging: rows come in ascending id order (oldest first). `next_cursor` is the last id of a
//! page when more rows match, else `null`; passing it back as `cursor` returns the rows with a
//! greater id, so paging never shows a row twice nor skips one that existed when paging began
//! (rows inserted meanwhile appear on later pages). `limit` is 1..=500, default 50.
//!
//! Tenants: a tenant-bound token sees only its tenant's rows. Another tenant's id or name
//! answers 404, exactly like a missing row; a `tenant_id` filter naming another tenant matches
//! nothing (an empty page, not an error), so the answer never tells whether that tenant exists.

use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::TenantScope;
use super::domains::validate_tenant;
use super::error::{ApiError, ErrorBody};
use super::routes::AppState;
use crate::model::{Attempt, DomainName, ErrorKind, Status};
use crate::store::listing::{Columns, DomainFilter};
use crate::store::DomainRow;

/// Largest page of `GET /api/v1/domains`.
pub const MAX_PAGE: i64 = 500;
/// Page size when `limit` is absent.
pub const DEFAULT_PAGE: i64 = 50;
/// Attempts shown with one domain.
pub const ATTEMPTS_SHOWN: i64 = 20;
/// Longest accepted `q` (the longest domain name).
const MAX_Q_CHARS: usize = 253;

/// Query of `GET /api/v1/domains`; empty values count as absent.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `pending`, `processing`, `completed` or `error`.
    pub status: Option<String>,
    /// Only this tenant's rows.
    pub tenant_id: Option<String>,
    /// Case-insensitive substring of the domain name (wildcards taken literally).
    pub q: Option<String>,
    /// One of the error kinds (`dns`, `connect`, ...).
    pub error_kind: Option<String>,
    /// The previous page's `next_cursor`.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub cursor: Option<String>,
    /// Page size, 1..=500 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
}

/// Query of `GET /api/v1/domains/by-name/{domain}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ByNameQuery {
    /// The row's tenant (default `default`, or the token's tenant).
    pub tenant_id: Option<String>,
}

/// One domain with its metadata and latest attempts (newest first).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DomainDetail {
    /// The row, metadata included.
    #[serde(flatten)]
    pub row: DomainRow,
    /// Up to 20 latest attempts, newest first (the row's own `attempts` is the attempt count).
    pub recent_attempts: Vec<Attempt>,
}

/// One page of `GET /api/v1/domains`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DomainPage {
    /// The rows, without `metadata`, in ascending id order.
    #[schema(value_type = Vec<DomainRow>)]
    pub domains: Vec<serde_json::Value>,
    /// Pass back as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<i64>,
}

/// A query value, with empty text treated as absent.
pub(super) fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// Input echoed in an error message, cut to a readable length.
pub(super) fn shown(value: &str) -> String {
    value.chars().take(64).collect()
}

/// Parses an integer query parameter within `range`.
pub(super) fn int_param(
    name: &str,
    value: &Option<String>,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, ApiError> {
    let Some(text) = given(value) else {
        return Ok(default);
    };
    let bad = || {
        ApiError::BadRequest(format!(
            "{name} must be an integer between {} and {}, got {:?}",
            range.start(),
            range.end(),
            shown(text)
        ))
    };
    let n: i64 = text.parse().map_err(|_| bad())?;
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(bad())
    }
}

/// Builds the row filter from query values and the caller's scope; `None` when the scope
/// excludes every row the filter could match (a tenant-bound token naming another tenant).
pub(super) fn build_filter(
    scope: &TenantScope,
    status: &Option<String>,
    tenant_id: &Option<String>,
    q: &Option<String>,
    error_kind: &Option<String>,
) -> Result<Option<DomainFilter>, ApiError> {
    let status = given(status)
        .map(|s| {
            Status::parse(s).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "status must be one of pending, processing, completed, error; got {:?}",
                    shown(s)
                ))
            })
        })
        .transpose()?;
    let error_kind = given(error_kind)
        .map(|k| {
            ErrorKind::parse(k).ok_or_else(|| {
                let kinds: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
                ApiError::BadRequest(format!(
                    "error_kind must be one of {}; got {:?}",
                    kinds.join(", "),
                    shown(k)
                ))
            })
        })
        .transpose()?;
    let q = given(q).map(str::to_string);
    if q.as_ref().is_some_and(|q| q.chars().count() > MAX_Q_CHARS) {
        return Err(ApiError::BadRequest(format!(
            "q must be at most {MAX_Q_CHARS} characters"
        )));
    }
    let asked = given(tenant_id);
    if let Some(t) = asked {
        validate_tenant(t).map_err(ApiError::BadRequest)?;
    }
    let tenant_id = match (&scope.0, asked) {
        (Some(bound), Some(asked)) if bound != asked => return Ok(None),
        (Some(bound), _) => Some(bound.clone()),
        (None, asked) => asked.map(str::to_string),
    };
    Ok(Some(DomainFilter {
        status,
        tenant_id,
        error_kind,
        q,
    }))
}

/// The row `id` when it exists and the caller may see it; 404 otherwise (also for another
/// tenant's row, so ids of other tenants cannot be probed).
pub(super) async fn visible_row(app: &AppState, scope: &TenantScope, id: i64) -> Result<DomainRow, ApiError> {
    match app.store.get_domain(id).await? {
        Some(row) if scope.allows(&row.tenant_id) => Ok(row),
        _ => Err(ApiError::NotFound(format!("no domain with id {id}"))),
    }
}

async fn detail(app: &AppState, row: DomainRow) -> Result<HttpResponse, ApiError> {
    let attempts = app.store.attempts(row.id, ATTEMPTS_SHOWN).await?;
    Ok(HttpResponse::Ok().json(DomainDetail {
        row,
        recent_attempts: attempts,
    }))
}

/// Lists rows matching the filters, one keyset page at a time.
///
/// Rows come without metadata, in ascending id order; `limit` 1..=500 (default 50);
/// `next_cursor` is `null` on the last page.
#[utoipa::path(
    tag = "domains",
    params(ListQuery),
    responses(
        (status = 200,
            description = "one page; a tenant filter naming another tenant than the token's matches nothing",
            body = DomainPage),
        (status = 400, description = "a filter, `cursor` or `limit` is invalid", body = ErrorBody),
        (status = 503, description = "the database is unavailable", body = ErrorBody),
    )
)]
#[get("/api/v1/domains")]
pub async fn list(
    app: web::Data<AppState>,
    scope: TenantScope,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = int_param("limit", &query.limit, DEFAULT_PAGE, 1..=MAX_PAGE)?;
    let cursor = int_param("cursor", &query.cursor, 0, 0..=i64::MAX)?;
    let Some(filter) = build_filter(&scope, &query.status, &query.tenant_id, &query.q, &query.error_kind)? else {
        return Ok(HttpResponse::Ok().json(DomainPage {
            domains: Vec::new(),
            next_cursor: None,
        }));
    };
    // One row beyond the page tells whether another page exists, without a COUNT.
    let mut rows = app
        .store
        .list_domains(&filter, cursor, limit + 1, Columns::Summary)
        .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(|r| r.id) } else { None };
    let domains: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            let mut value = serde_json::to_value(row).unwrap_or_default();
            if let Some(fields) = value.as_object_mut() {
                fields.remove("metadata");
            }
            value
        })
        .collect();
    Ok(HttpResponse::Ok().json(DomainPage { domains, next_cursor }))
}

/// One row with its metadata and its 20 latest attempts; 404 when absent or another tenant's.
#[utoipa::path(
    tag = "domains",
    params(("id" = i64, Path, description = "the row's id")),
    responses(
        (status = 200, description = "the row with metadata and attempts", body = DomainDetail),
        (status = 400, description = "`id` is not an integer", body = ErrorBody),
        (status = 404, description = "no such row (or another tenant's)", body = ErrorBody),
        (status = 503, description = "the database is unavailable", body = ErrorBody),
    )
)]
#[get("/api/v1/domains/{id}")]
pub async fn get_one(
    app: web::Data<AppState>,
    scope: TenantScope,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let row = visible_row(&app, &scope, id.into_inner()).await?;
    detail(&app, row).await
}

/// One row by name, with its metadata and its 20 latest attempts.
///
/// The name is normalized like `POST /api/v1/domains` does; the tenant is `tenant_id`
/// (default `default`, or the token's own tenant). A name that is not a domain is a 400,
/// another tenant's row a 404.
#[utoipa::path(
    tag = "domains",
    params(("domain" = String, Path, description = "a host or URL, normalized before the lookup"), ByNameQuery),
    responses(
        (status = 200, description = "the row with metadata and attempts", body = DomainDetail),
        (status = 400, description = "not a domain name, or a bad `tenant_id`", body = ErrorBody),
        (status = 404, description = "no such row for the tenant", body = ErrorBody),
        (status = 503, description = "the database is unavailable", body = ErrorBody),
    )
)]
#[get("/api/v1/domains/by-name/{domain}")]
pub async fn by_name(
    app: web::Data<AppState>,
    scope: TenantScope,
    domain: web::Path<String>,
    query: web::Query<ByNameQuery>,
) -> Result<HttpResponse, ApiError> {
    let name = DomainName::parse(&domain)
        .map_err(|e| ApiError::BadRequest(format!("{:?} is not a domain name: {e}", shown(&domain))))?;
    let not_found = || ApiError::NotFound(format!("no domain named {:?} for this tenant", name.as_str()));
    let tenant = match (&scope.0, given(&query.tenant_id)) {
        (Some(bound), Some(asked)) if bound != asked => return Err(not_found()),
        (Some(bound), _) => bound.clone(),
        (None, asked) => asked.unwrap_or("default").to_string(),
    };
    validate_tenant(&tenant).map_err(ApiError::BadRequest)?;
    match app.store.find_domain(&tenant, name.as_str()).await? {
        Some(row) => detail(&app, row).await,
        None => Err(not_found()),
    }
}
