//! `ApiError`: the one error type of the HTTP layer, and the extractor error handlers that turn
//! actix's own JSON/query/path errors into the same JSON shape (never actix's plain text).

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

/// An HTTP error with a machine-readable kind and a human message.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A parameter or body field has a bad value (400).
    #[error("{0}")]
    BadRequest(String),
    /// The query string could not be parsed (400).
    #[error("{0}")]
    InvalidQuery(String),
    /// The JSON body could not be parsed (400).
    #[error("{0}")]
    InvalidBody(String),
    /// The body is larger than allowed (413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body is not JSON (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Missing or wrong bearer token (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The token may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The row is in a state that does not allow this (409).
    #[error("{0}")]
    Conflict(String),
    /// No such route or row (404).
    #[error("{0}")]
    NotFound(String),
    /// The database (or the pipeline) cannot serve the request now (503).
    #[error("{0}")]
    Unavailable(String),
}

/// The body of every error answer (documented as `ErrorBody` in `/openapi.json`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Machine-readable kind: `bad_request`, `invalid_query`, `invalid_body`, `payload_too_large`,
    /// `unsupported_media_type`, `unauthorized`, `forbidden`, `conflict`, `not_found` or `unavailable`.
    #[schema(value_type = String, example = "bad_request")]
    error: &'static str,
    /// What was wrong and why, for a person.
    #[schema(example = "limit must be at least 1, got 0")]
    message: String,
}

impl ApiError {
    /// The `error` field of the body.
    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::InvalidQuery(_) => "invalid_query",
            ApiError::InvalidBody(_) => "invalid_body",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::Conflict(_) => "conflict",
            ApiError::NotFound(_) => "not_found",
            ApiError::Unavailable(_) => "unavailable",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::InvalidQuery(_) | ApiError::InvalidBody(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let ApiError::Unauthorized(_) = self {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        response.json(ErrorBody {
            error: self.kind(),
            message: self.to_string(),
        })
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "database error while serving a request");
        ApiError::Unavailable(format!("the database is unavailable: {e}"))
    }
}

/// Maps JSON body errors to `ApiError`.
pub fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::OverflowKnownLength { length, limit } => {
            ApiError::PayloadTooLarge(format!("the body is {length} bytes; the limit is {limit} bytes"))
        }
        JsonPayloadError::Overflow { limit } => {
            ApiError::PayloadTooLarge(format!("the body exceeds the limit of {limit} bytes"))
        }
        JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType("send the body as JSON with `Content-Type: application/json`".into())
        }
        JsonPayloadError::Deserialize(e) if e.is_eof() && e.line() == 1 && e.column() == 0 => {
            ApiError::InvalidBody("the body is empty; expected a JSON object".into())
        }
        JsonPayloadError::Deserialize(e) => ApiError::InvalidBody(format!("invalid JSON body: {e}")),
        other => ApiError::InvalidBody(format!("cannot read the body: {other}")),
    };
    api.into()
}

/// Maps query-string errors to `ApiError`.
pub fn query_error(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::InvalidQuery(format!("invalid query string: {err}")).into()
}

/// Maps path-parameter errors to `ApiError`.
pub fn path_error(err: PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::BadRequest(format!("invalid path parameter: {err}")).into()
}

/// Any route that does not exist.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "no route for {} {}",
        req.method(),
        req.path()
    )))
}
