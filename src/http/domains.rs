//! `POST /api/v1/domains`: bulk insert of pending domains for a tenant, with per-name reasons
//! for what was rejected.

use actix_web::{post, web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::TenantScope;
use super::error::{ApiError, ErrorBody};
use super::routes::AppState;
use crate::model::DomainName;

/// Body of `POST /api/v1/domains`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddDomains {
    /// Hosts or URLs to add (at most `http.max_domains_per_request`).
    #[schema(example = json!(["example.com", "https://www.example.org/path"]))]
    pub domains: Vec<String>,
    /// Owning tenant (default `default`, or the token's tenant): 1–64 of `[A-Za-z0-9._-]`.
    #[serde(default)]
    #[schema(example = "t1")]
    pub tenant_id: Option<String>,
}

/// One refused input and why.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Rejected {
    /// The input as given (truncated to 256 characters).
    pub input: String,
    /// Why it was refused.
    pub reason: String,
}

/// Answer of `POST /api/v1/domains`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AddDomainsResponse {
    /// Rows inserted.
    pub accepted: u64,
    /// Names already present for the tenant (or repeated in the request).
    pub duplicates: u64,
    /// Inputs that are not valid domain names.
    pub rejected: Vec<Rejected>,
}

/// Checks a tenant id: 1–64 characters of `[A-Za-z0-9._-]`.
pub fn validate_tenant(tenant: &str) -> Result<(), String> {
    if tenant.is_empty() || tenant.len() > 64 {
        return Err("tenant_id must be 1 to 64 characters".into());
    }
    if !tenant
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return Err("tenant_id may contain only letters, digits, '.', '_' and '-'".into());
    }
    Ok(())
}

/// Splits inputs into valid names and rejections.
pub fn parse_names<'a>(inputs: impl IntoIterator<Item = &'a str>) -> (Vec<DomainName>, Vec<Rejected>) {
    let mut names = Vec::new();
    let mut rejected = Vec::new();
    for input in inputs {
        match DomainName::parse(input) {
            Ok(name) => names.push(name),
            Err(e) => rejected.push(Rejected {
                input: input.chars().take(256).collect(),
                reason: e.to_string(),
            }),
        }
    }
    (names, rejected)
}

/// Adds domains as `pending`.
///
/// Names are normalized (lowercase, IDNA, no scheme, path, port or trailing dot); invalid ones
/// are listed in `rejected` with a reason while the valid ones in the same request land.
#[utoipa::path(
    tag = "domains",
    request_body = AddDomains,
    responses(
        (status = 200, description = "what was added, what already existed, what was refused",
            body = AddDomainsResponse),
        (status = 400, description = "malformed body or bad `tenant_id`", body = ErrorBody),
        (status = 403, description = "a tenant-bound token named another tenant", body = ErrorBody),
        (status = 413, description = "too many domains or too large a body", body = ErrorBody),
        (status = 415, description = "the body is not `application/json`", body = ErrorBody),
        (status = 503, description = "the database is unavailable", body = ErrorBody),
    )
)]
#[post("/api/v1/domains")]
pub async fn add_domains(
    app: web::Data<AppState>,
    scope: TenantScope,
    body: web::Json<AddDomains>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let max = app.settings.http.max_domains_per_request;
    if body.domains.len() > max {
        return Err(ApiError::PayloadTooLarge(format!(
            "{} domains in one request; the limit is {max} (http.max_domains_per_request)",
            body.domains.len()
        )));
    }
    // A tenant-bound token writes to its tenant; naming another one is refused.
    let tenant = match (&scope.0, body.tenant_id) {
        (Some(bound), Some(asked)) if *bound != asked => {
            return Err(ApiError::Forbidden(format!(
                "this token may only add domains for tenant {bound:?}"
            )))
        }
        (Some(bound), _) => bound.clone(),
        (None, asked) => asked.unwrap_or_else(|| "default".to_string()),
    };
    validate_tenant(&tenant).map_err(ApiError::BadRequest)?;
    let (names, rejected) = parse_names(body.domains.iter().map(String::as_str));
    let report = app.store.insert_domains(&tenant, &names).await?;
    Ok(HttpResponse::Ok().json(AddDomainsResponse {
        accepted: report.accepted,
        duplicates: report.duplicates,
        rejected,
    }))
}
