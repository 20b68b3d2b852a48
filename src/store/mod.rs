//! All SQL, for both backends, behind one `Store` type. Callers never see which backend runs.

mod encode;
mod handle;
mod postgres;
mod sqlite;
mod types;

pub use handle::{redact_url, Backend, Store};
pub use types::{DomainRow, InsertReport, StoreError, WriteReport, WrittenDomain};
