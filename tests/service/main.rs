//! The one integration test binary: the service end to end on SQLite (always) and PostgreSQL
//! (when `DOMAIND_TEST_DATABASE_URL` is set), against real fixture HTTP servers on 127.0.0.1.

#[cfg(not(feature = "fault-injection"))]
compile_error!(
    "the service tests need the test-only fault hooks: run `cargo test --features fault-injection` (see README)"
);

mod adopt;
mod alerts;
mod api;
mod auth;
mod cli;
mod cluster;
mod dashboard;
mod dashboard_browser;
mod domains_api;
mod fixtures;
mod fuzz;
mod helpers;
mod hostile;
mod hostile_bodies;
mod hostile_web;
mod logs;
mod maintenance;
mod migrate;
mod observability;
mod openapi;
mod outage;
mod pipeline;
mod scheduler;
mod shutdown;
mod store;
mod supervision;
mod webdriver;
