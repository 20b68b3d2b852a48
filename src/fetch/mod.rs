//! The homepage HTTP client: one shared client, the SSRF guard (address rules and a guarded
//! resolver honoring `fetch.resolve_override`), manual redirects, the body cap, and the
//! classification of every failure into an `ErrorKind`.

mod body;
mod client;
mod error;
mod guard;
mod resolver;
#[cfg(test)]
mod test_server;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_routing;

pub use client::{HttpClient, Page};
pub use error::{FetchError, FetchSetupError};
pub use guard::blocked_reason;
