//! The route table and shared state: one function registers every route, so the server and
//! the tests serve exactly the same thing, and the same registration builds the OpenAPI
//! document (`openapi`): `utoipa_actix_web`'s `service()` accepts only `#[utoipa::path]`
//! handlers and records each one as it registers it. Register routes only with `service()`
//! here (its `route()` and `map()` would bypass the document).

use std::sync::Arc;

use actix::Addr;
use actix_web::dev::{ServiceFactory, ServiceRequest};
use actix_web::{web, App};
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::AppExt;

use super::{dashboard, dev, docs, domains, error, health, jobs, openapi, stats, status};
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

/// Registers every route, the JSON error handlers and the 404 fallback on `app`, and gives
/// `/openapi.json` the document collected from those registrations.
pub fn configure<T>(app: App<T>, max_body_bytes: usize) -> App<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    let (app, api) = app
        .into_utoipa_app()
        .openapi(openapi::ApiDoc::openapi())
        .configure(|cfg| register(cfg, max_body_bytes))
        .split_for_parts();
    app.app_data(web::Data::new(openapi::finish(api)))
}

fn register(cfg: &mut ServiceConfig<'_>, max_body_bytes: usize) {
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
    .service(openapi::document)
    .service(docs::page)
    .service(docs::asset)
    .service(dashboard::index)
    .service(dashboard::script)
    .service(dashboard::style)
    .default_service(web::to(error::not_found));
}
