//! Bearer-token check for everything under `/api/` when `http.token` or `[[http.tokens]]` is
//! set (and for `/metrics` with `http.metrics_require_token`). `/health/*`, `/metrics` (by
//! default), `/openapi.json` and `/docs` stay open (they show no rows). Tokens are compared in
//! constant time and never logged. A tenant-bound token puts its tenant into the request as
//! `TenantScope`; handlers use it to show and change only that tenant's rows (other tenants'
//! rows answer 404, not 403).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use super::error::ApiError;
use super::routes::AppState;

/// Paths under this prefix need a token when tokens are configured (the OpenAPI document marks
/// exactly these operations as secured).
pub const PROTECTED_PREFIX: &str = "/api/";

/// Whether `presented` equals `secret`, in time that depends only on `presented`'s length.
///
/// There is no early return, not even on a length mismatch: every byte of `presented` is
/// compared (against the secret's bytes, cycled, or zero when the secret is empty) and the length
/// difference is folded into the result, so neither the secret's content nor its length shows
/// in the timing. What the caller controls — the length of what it sends — is all that does.
pub fn constant_time_eq(presented: &[u8], secret: &[u8]) -> bool {
    let length_differs = u8::from(presented.len() != secret.len());
    presented.iter().enumerate().fold(length_differs, |acc, (i, x)| {
        let y = if secret.is_empty() { 0 } else { secret[i % secret.len()] };
        acc | (x ^ y)
    }) == 0
}

/// The tenant a request may see: `None` for an unrestricted token (or no auth configured).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantScope(pub Option<String>);

impl TenantScope {
    /// Whether a row of `tenant` is visible to this request.
    pub fn allows(&self, tenant: &str) -> bool {
        self.0.as_deref().is_none_or(|t| t == tenant)
    }
}

impl FromRequest for TenantScope {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Ok(req.extensions().get::<TenantScope>().cloned().unwrap_or_default()))
    }
}

/// Middleware: refuses `/api/` requests without a configured bearer token and records the
/// token's tenant scope.
pub async fn require_token(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let http = req
        .app_data::<web::Data<AppState>>()
        .map(|a| a.settings.http.clone())
        .unwrap_or_default();
    // The path as the router sees it (percent-decoded): `/%61pi/v1/domains` routes to
    // `/api/v1/domains`, so the raw path must not decide what is protected.
    let path = req.match_info().as_str();
    let protected = path.starts_with(PROTECTED_PREFIX)
        || req.path().starts_with(PROTECTED_PREFIX)
        || (http.metrics_require_token && (path == "/metrics" || req.path() == "/metrics"));
    if http.auth_required() && protected {
        let presented = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("")
            .trim()
            .as_bytes()
            .to_vec();
        // Compare against every token (no early exit) so timing does not tell which matched.
        let mut scope = None;
        if !http.token.is_empty() && constant_time_eq(&presented, http.token.as_bytes()) {
            scope = Some(TenantScope(None));
        }
        for t in &http.tokens {
            if constant_time_eq(&presented, t.token.as_bytes()) && scope.is_none() {
                scope = Some(TenantScope(t.tenant.clone()));
            }
        }
        match scope {
            Some(scope) => {
                req.extensions_mut().insert(scope);
            }
            None => {
                return Err(ApiError::Unauthorized("missing or wrong `Authorization: Bearer <token>`".into()).into())
            }
        }
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn equal_strings_match() {
        assert!(constant_time_eq(b"admin-token-0123456789", b"admin-token-0123456789"));
        assert!(constant_time_eq(b"x", b"x"));
    }

    #[test]
    fn one_differing_byte_anywhere_is_a_mismatch() {
        let secret = b"admin-token-0123456789";
        for at in [0, secret.len() / 2, secret.len() - 1] {
            let mut presented = *secret;
            presented[at] ^= 0x01;
            assert!(!constant_time_eq(&presented, secret), "byte {at} differs");
        }
    }

    #[test]
    fn different_lengths_never_match() {
        let secret = b"abcabc";
        // A prefix, an extension and a repetition of the secret: the cycled comparison sees equal
        // bytes in each, so only the folded length difference refuses them.
        assert!(!constant_time_eq(b"abc", secret));
        assert!(!constant_time_eq(b"abcabcabc", secret));
        assert!(!constant_time_eq(b"abcabcabcabc", secret));
        assert!(!constant_time_eq(b"abcabc ", secret));
    }

    #[test]
    fn empty_inputs() {
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"", b"secret"));
        assert!(!constant_time_eq(b"secret", b""));
        // Zero bytes against an empty secret: compared with zero, refused by length.
        assert!(!constant_time_eq(b"\0\0", b""));
    }
}
