//! Bearer-token check for everything under `/api/` when `http.token` is set. `/health/*` stays
//! open. Tokens are compared in constant time and never logged.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use super::error::ApiError;
use super::routes::AppState;

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Middleware: refuses `/api/` requests without the configured bearer token.
pub async fn require_token(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let token = req
        .app_data::<web::Data<AppState>>()
        .map(|a| a.settings.http.token.clone())
        .unwrap_or_default();
    if !token.is_empty() && req.path().starts_with("/api/") {
        let presented = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !constant_time_eq(presented.trim().as_bytes(), token.as_bytes()) {
            return Err(ApiError::Unauthorized("missing or wrong `Authorization: Bearer <token>`".into()).into());
        }
    }
    next.call(req).await
}
