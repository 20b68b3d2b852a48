//! The actix-web front: health, the Python pattern's dev endpoint, the domains API, status,
//! stats, jobs, metrics, the API's own description (`/openapi.json`, `/docs`) and the
//! dashboard page.
//! Every error is a JSON body `{"error": kind, "message": text}` with a 4xx/5xx status.

mod auth;
mod dashboard;
mod dev;
mod docs;
mod domains;
mod domains_export;
mod domains_read;
mod domains_write;
mod error;
mod health;
mod jobs;
pub mod metrics;
mod openapi;
mod routes;
mod stats;
mod status;
mod zip_entry;

pub use auth::{require_token, TenantScope};
pub use dev::pattern_response;
pub use domains::{parse_names, validate_tenant, Rejected};
pub use error::ApiError;
pub use routes::{configure, AppState};
