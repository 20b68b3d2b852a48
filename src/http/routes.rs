//! The route table and shared state: one function registers every route, so the server and
//! the tests serve exactly the same thing.

use std::sync::Arc;

use actix::Addr;
use actix_web::web;

use super::{dashboard, dev, domains, error, health, jobs, stats, status};
use crate::actors::{Fetcher, Scheduler, ServiceState};
use crate::settings::Settings;
use crate::store::Store;

/// What handlers share.
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Runs drains on demand.
    pub fetcher: Addr<Fetcher>,
    /// Fires jobs (absent when the service runs without a scheduler).
    pub scheduler: Option<Addr<Scheduler>>,
    /// Health, restarts, instance id.
    pub state: Arc<ServiceState>,
    /// Effective settings.
    pub settings: Arc<Settings>,
}

/// Registers every route, the JSON error handlers and the 404 fallback.
pub fn configure(cfg: &mut web::ServiceConfig, max_body_bytes: usize) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(max_body_bytes)
            .error_handler(error::json_error),
    )
    .app_data(web::QueryConfig::default().error_handler(error::query_error))
    .app_data(web::PathConfig::default().error_handler(error::path_error))
    .service(health::live)
    .service(health::ready)
    .service(dev::process_pending_domains)
    .service(domains::add_domains)
    .service(super::domains_read::list)
    .service(super::domains_export::export)
    .service(super::domains_write::retry_bulk)
    .service(super::domains_read::by_name)
    .service(super::domains_read::get_one)
    .service(super::domains_write::retry_one)
    .service(super::domains_write::delete_one)
    .service(status::status)
    .service(stats::stats)
    .service(super::metrics::scrape)
    .service(jobs::list)
    .service(jobs::runs)
    .service(jobs::run_now)
    .service(jobs::pause)
    .service(jobs::resume)
    .service(dashboard::index)
    .service(dashboard::script)
    .service(dashboard::style)
    .default_service(web::to(error::not_found));
}
