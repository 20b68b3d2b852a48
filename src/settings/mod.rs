//! Configuration: `config.toml` plus `DOMAIND_<SECTION>__<KEY>` environment overrides, one
//! struct per component, validated so a bad value fails at start naming the key, value and why.
//!
//! Precedence: built-in defaults < config file < environment. Only scalar keys can be
//! overridden from the environment, and never `fetch.resolve_override` or
//! `fetch.allow_private` (they weaken the SSRF guard, so they must be written in a file).

mod load;
mod sections;
#[cfg(test)]
mod tests;
mod validate;

pub use load::{Settings, SettingsError};
pub use sections::*;
