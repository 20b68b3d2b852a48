//! The lifecycle vocabulary: `Status`, a claimed row (`ClaimedDomain`), and the `Outcome` of one attempt.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ErrorKind, Metadata};

/// A domain row's lifecycle state (`domains.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting to be claimed (once `next_attempt_at` has passed).
    Pending,
    /// Claimed by an instance holding a lease.
    Processing,
    /// Fetched and extracted; `metadata` is set.
    Completed,
    /// Failed for good; `error_kind` and `error_message` say why.
    Error,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 4] = [Status::Pending, Status::Processing, Status::Completed, Status::Error];

    /// The text stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Processing => "processing",
            Status::Completed => "completed",
            Status::Error => "error",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A row returned by a claim: what a worker needs to process it and to write back (fenced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDomain {
    /// `domains.id`.
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: String,
    /// Normalized host.
    pub domain: String,
    /// Attempts including this one.
    pub attempts: i32,
    /// Fencing token of this claim; the result write must present it.
    pub claim_token: i64,
    /// `ETag` of the last good fetch (sent back as `If-None-Match`).
    pub etag: Option<String>,
    /// `Last-Modified` of the last good fetch (sent back as `If-Modified-Since`).
    pub last_modified: Option<String>,
}

/// What one attempt produced.
#[derive(Debug, Clone, PartialEq)]
pub enum OutcomeKind {
    /// The page was fetched and extracted.
    Completed(Box<Metadata>),
    /// The server answered 304 to a conditional re-crawl: the stored metadata stays.
    NotModified,
    /// The attempt failed.
    Failed {
        /// Classified reason.
        kind: ErrorKind,
        /// Human-readable explanation.
        message: String,
        /// `Some(delay)`: back to `pending`, claimable again after `delay`; `None`: final `error`.
        retry_in: Option<std::time::Duration>,
    },
}

/// The result of one attempt at a claimed domain, ready for the fenced write.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The claim this outcome answers.
    pub claimed: ClaimedDomain,
    /// Success or classified failure.
    pub kind: OutcomeKind,
    /// When the attempt started.
    pub started_at: DateTime<Utc>,
    /// When the attempt finished.
    pub finished_at: DateTime<Utc>,
    /// HTTP status of the final response, when there was one.
    pub http_status: Option<u16>,
}

impl Outcome {
    /// True when the attempt completed the domain (a 304 counts: the metadata is current).
    pub fn is_success(&self) -> bool {
        matches!(self.kind, OutcomeKind::Completed(_) | OutcomeKind::NotModified)
    }

    /// The error kind, for failures.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        match &self.kind {
            OutcomeKind::Completed(_) | OutcomeKind::NotModified => None,
            OutcomeKind::Failed { kind, .. } => Some(*kind),
        }
    }

    /// Attempt duration in milliseconds.
    pub fn elapsed_ms(&self) -> i64 {
        (self.finished_at - self.started_at).num_milliseconds().max(0)
    }
}

/// One row of `domain_attempts`, as read back for diagnostics.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    /// Instance that made the attempt.
    pub instance: String,
    /// Start time.
    pub started_at: DateTime<Utc>,
    /// End time.
    pub finished_at: DateTime<Utc>,
    /// `completed`, `not_modified`, `retry` (failed, will be retried), `failed`, or `lost` (fenced out).
    pub outcome: String,
    /// Error kind for failures.
    pub error_kind: Option<String>,
    /// HTTP status, when a response arrived.
    pub http_status: Option<i32>,
    /// Duration in milliseconds.
    pub elapsed_ms: i64,
}
