//! All SQL, for both backends, behind one `Store` type. Callers never see which backend runs.

mod adopt;
mod adopt_check;
mod adopt_plan;
mod adopt_sql;
mod encode;
mod handle;
pub mod listing;
mod maintenance;
mod postgres;
mod postgres_jobs;
mod postgres_listing;
mod sqlite;
mod sqlite_jobs;
mod sqlite_listing;
pub mod stats;
mod types;

pub use adopt::{AdoptError, AdoptReport, AttentionRow, StatusMapping};
pub use handle::{redact_url, Backend, Store};
pub use types::{
    DomainRow, InsertReport, JobRecord, JobRow, JobRunRow, NewRun, StoreError, WriteReport, WrittenDomain,
};
