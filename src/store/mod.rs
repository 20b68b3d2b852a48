//! All SQL, for both backends, behind one `Store` type. Callers never see which backend runs.

mod encode;
mod postgres;
mod sqlite;
mod store;
mod types;

pub use store::{Backend, Store};
pub use types::{DomainRow, InsertReport, StoreError, WriteReport, WrittenDomain};
