//! The one error type of `schedule`: why a trigger spec, timezone or option was refused.

use thiserror::Error;

/// A trigger specification that could not be parsed or validated; each message names the field and the bad token.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScheduleError {
    /// The trigger kind is not `interval`, `cron` or `date`.
    #[error("unknown trigger kind `{0}` (use interval, cron or date)")]
    UnknownKind(String),
    /// A duration (`interval` spec or `jitter`) did not parse.
    #[error("{field}: bad duration `{token}`: {reason}")]
    Duration {
        /// Which input held the duration (`interval`, `jitter`).
        field: &'static str,
        /// The text as given.
        token: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The interval is shorter than the 100 ms floor.
    #[error("interval `{0}` is shorter than the minimum of 100ms")]
    IntervalTooShort(String),
    /// The jitter is not shorter than the interval, which would reorder fire times.
    #[error("jitter `{jitter}` must be shorter than the interval `{interval}`")]
    JitterTooLarge {
        /// The jitter as given.
        jitter: String,
        /// The interval as given.
        interval: String,
    },
    /// An instant (`date` spec, `start`, `end`) is not RFC 3339.
    #[error("{field}: bad instant `{token}`: {reason} (expected RFC 3339, e.g. 2026-03-29T01:00:00Z)")]
    Instant {
        /// Which input held the instant (`date`, `start`, `end`).
        field: &'static str,
        /// The text as given.
        token: String,
        /// The parser's complaint.
        reason: String,
    },
    /// `end` is before `start`.
    #[error("end `{end}` is before start `{start}`")]
    EndBeforeStart {
        /// The start as given.
        start: String,
        /// The end as given.
        end: String,
    },
    /// The timezone is not an IANA name known to the bundled database.
    #[error("timezone: unknown IANA name `{0}` (e.g. UTC, Europe/Berlin, America/New_York)")]
    Timezone(String),
    /// A cron expression has the wrong number of fields.
    #[error("cron `{spec}`: {found} fields; expected 5 (min hour dom month dow) or 6 (sec min hour dom month dow)")]
    FieldCount {
        /// The expression as given.
        spec: String,
        /// How many whitespace-separated fields it has.
        found: usize,
    },
    /// An `@alias` that cron does not define (or that has no schedule, like `@reboot`).
    #[error("cron: unknown alias `{0}` (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)")]
    UnknownAlias(String),
    /// One token of one cron field is invalid.
    #[error("cron {field} field: bad token `{token}`: {reason}")]
    CronToken {
        /// The field's name (`second`, `minute`, `hour`, `day-of-month`, `month`, `day-of-week`).
        field: &'static str,
        /// The offending token (one comma-separated element, or the whole field).
        token: String,
        /// What was wrong with it.
        reason: String,
    },
    /// A cron expression whose fields can never match a real date (e.g. `0 0 30 2 *`).
    #[error("cron `{0}` never fires (no calendar date matches its day and month fields)")]
    NeverFires(String),
}
