//! The homepage HTTP client: one shared client, the SSRF guard (address rules and a guarded
//! resolver honoring `fetch.resolve_override`), manual redirects, robots.txt, per-host
//! politeness, conditional requests, the body cap, and the classification of every failure
//! into an `ErrorKind`.

mod body;
mod budget;
mod client;
mod error;
mod guard;
mod homepage;
mod page;
mod politeness;
mod resolver;
mod robots;
mod robots_cache;
#[cfg(test)]
mod test_server;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_bombs;
#[cfg(test)]
mod tests_politeness;
#[cfg(test)]
mod tests_robots;
#[cfg(test)]
mod tests_routing;

pub use budget::{BodyBudget, BodyLease, NoRoom};
pub use client::HttpClient;
pub use error::{FetchError, FetchSetupError};
pub use guard::blocked_reason;
pub use page::{Fetched, Page, Validators};
