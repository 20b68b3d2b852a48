//! Command implementations that are more than wiring (kept out of `main.rs` so they are testable).

pub mod adopt;
pub mod bench;
pub mod bench_db;
pub mod bench_farm;
pub mod bench_report;
pub mod demo;
pub mod extract;
