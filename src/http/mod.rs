//! The actix-web front: health, the Python pattern's dev endpoint, the domains API, status,
//! stats and the dashboard page.
//! Every error is a JSON body `{"error": kind, "message": text}` with a 4xx/5xx status.

mod auth;
mod dashboard;
mod dev;
mod domains;
mod domains_export;
mod domains_read;
mod domains_write;
mod error;
mod health;
mod jobs;
pub mod metrics;
mod routes;
mod stats;
mod status;

pub use auth::{require_token, TenantScope};
pub use dev::pattern_response;
pub use domains::{parse_names, validate_tenant, Rejected};
pub use error::ApiError;
pub use routes::{configure, AppState};
