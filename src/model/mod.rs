//! Plain data shared by every layer: domain names, statuses, metadata, outcomes and error kinds. No I/O.

mod domain_name;
mod error_kind;
mod metadata;
mod outcome;
mod retry;

pub use domain_name::{DomainName, DomainNameError};
pub use error_kind::ErrorKind;
pub use metadata::{Icon, Metadata};
pub use outcome::{Attempt, ClaimedDomain, Outcome, OutcomeKind, Status};
pub use retry::{jitter, RetryPolicy};
