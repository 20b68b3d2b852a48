//! Prometheus metrics without a metrics crate: lock-free primitives (`Counter`, `Gauge`,
//! `Histogram` with fixed buckets), label families over closed value sets, the text exposition
//! format 0.0.4, and `Metrics` — the one set of `domaind_*` series the service records.

mod family;
mod primitives;
mod service;
mod text;

pub use family::{BoundedFamily, FixedFamily};
pub use primitives::{Counter, Gauge, Histogram};
pub use service::{attempt_labels, AttemptLabels, Metrics, Snapshot, CONTENT_TYPE};
pub use text::{escape_label_value, Exposition, Sample};
