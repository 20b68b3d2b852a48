//! Command implementations that are more than wiring (kept out of `main.rs` so they are testable).

pub mod adopt;
pub mod demo;
pub mod extract;
