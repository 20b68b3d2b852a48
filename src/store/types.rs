//! Values the `Store` returns, and its error type.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or opened.
    #[error("cannot connect to the database ({url}): {source}")]
    Connect {
        /// The URL with any password removed.
        url: String,
        /// Underlying error.
        source: sqlx::Error,
    },
    /// Applying migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A statement failed.
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    /// Stored data could not be interpreted.
    #[error("unexpected data in the database: {0}")]
    Data(String),
}

/// Result of inserting a batch of domains.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct InsertReport {
    /// Rows inserted.
    pub accepted: u64,
    /// Names that already existed for the tenant (or repeated in the batch).
    pub duplicates: u64,
}

/// One domain of a written batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenDomain {
    /// `domains.id`.
    pub id: i64,
    /// The domain name.
    pub domain: String,
    /// The attempt completed the domain.
    pub success: bool,
    /// False when fencing refused the write (the claim had been reclaimed).
    pub applied: bool,
}

/// Result of one fenced batch write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Every outcome of the batch, in order.
    pub domains: Vec<WrittenDomain>,
}

impl WriteReport {
    /// Writes refused by fencing.
    pub fn lost(&self) -> usize {
        self.domains.iter().filter(|d| !d.applied).count()
    }
}

/// A `domains` row as shown over HTTP.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DomainRow {
    /// Primary key.
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: String,
    /// Normalized host.
    pub domain: String,
    /// Lifecycle status: `pending`, `processing`, `completed` or `error`.
    #[schema(example = "completed")]
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// Not claimable before this.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Lease holder while processing.
    pub lease_owner: Option<String>,
    /// Lease expiry while processing.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// Fencing token of the latest claim.
    pub claim_token: Option<i64>,
    /// Last claim time.
    pub processing_started_at: Option<DateTime<Utc>>,
    /// Last result time.
    pub processing_completed_at: Option<DateTime<Utc>>,
    /// Last result time (the Python pattern's name).
    pub last_processed: Option<DateTime<Utc>>,
    /// Extracted metadata (kept across failed re-crawls): request facts (`url`, `final_url`,
    /// `status_code`, ...) and page facts (`title`, `description`, `icons`, `json_ld`, ...).
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// Classified error.
    pub error_kind: Option<String>,
    /// Human explanation of the error.
    pub error_message: Option<String>,
    /// Insert time.
    pub created_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: Option<DateTime<Utc>>,
}

/// A `job_runs` row.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct JobRunRow {
    /// Primary key (also the history cursor).
    pub id: i64,
    /// The job.
    pub job_id: String,
    /// `instance` or `cluster`.
    pub scope: String,
    /// The instance that ran (or skipped/missed) it.
    pub instance: String,
    /// The fire time this run answers.
    pub scheduled_for: DateTime<Utc>,
    /// When the row was inserted (before the body ran).
    pub started_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// `finished_at - started_at`, in milliseconds.
    pub duration_ms: Option<i64>,
    /// `running`, `succeeded`, `failed`, `skipped` or `missed`.
    pub outcome: String,
    /// `schedule` or `manual`.
    pub trigger: String,
    /// What the body reported (e.g. processed/successful/failed).
    #[schema(value_type = Option<Object>)]
    pub summary: Option<serde_json::Value>,
    /// Why it failed, was skipped or missed.
    pub error: Option<String>,
}

/// A run to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun<'a> {
    /// The job.
    pub job_id: &'a str,
    /// `instance` or `cluster` (cluster scheduled runs are unique per fire time).
    pub scope: &'a str,
    /// This instance.
    pub instance: &'a str,
    /// The fire time.
    pub scheduled_for: DateTime<Utc>,
    /// `schedule` or `manual`.
    pub trigger: &'a str,
    /// `running` (the body runs next), or a final `skipped` / `missed`.
    pub outcome: &'a str,
    /// Reason for `skipped` / `missed`.
    pub error: Option<String>,
}

/// A job as declared in config, ready to be reconciled into `jobs`.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    /// Job id.
    pub id: String,
    /// `interval`, `cron` or `date`.
    pub trigger: String,
    /// Trigger spec.
    pub spec: String,
    /// Arguments as JSON text.
    pub args: String,
    /// IANA timezone.
    pub timezone: String,
    /// `instance` or `cluster`.
    pub scope: String,
    /// Run once after missed fires (true) or once per missed fire.
    pub coalesce: bool,
    /// Concurrent runs allowed per instance.
    pub max_instances: i32,
    /// Seconds a fire may be late and still run; `None` = no limit.
    pub misfire_grace_time: Option<i32>,
    /// Canonical text of everything above; a change re-schedules the job.
    pub definition: String,
    /// First fire time for a new or changed job.
    pub next_run_at: Option<DateTime<Utc>>,
}

/// A `jobs` row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobRow {
    /// Job id.
    pub id: String,
    /// `interval`, `cron` or `date`.
    pub trigger: String,
    /// Trigger spec.
    pub spec: String,
    /// Arguments.
    pub args: serde_json::Value,
    /// IANA timezone.
    pub timezone: String,
    /// `instance` or `cluster`.
    pub scope: String,
    /// Coalesce missed fires.
    pub coalesce: bool,
    /// Concurrent runs allowed per instance.
    pub max_instances: i32,
    /// Seconds a fire may be late; `None` = no limit.
    pub misfire_grace_time: Option<i32>,
    /// Paused jobs do not fire on schedule.
    pub paused: bool,
    /// Next scheduled fire (`None`: finished one-shot job).
    pub next_run_at: Option<DateTime<Utc>>,
    /// Last fire that ran.
    pub last_run_at: Option<DateTime<Utc>>,
}
