//! `Trigger`: the three trigger kinds behind one type, with parsing from the job's (kind, spec, timezone).

use chrono::{DateTime, Utc};

use super::cron::CronTrigger;
use super::interval::{parse_instant, IntervalTrigger};
use super::ScheduleError;

/// A one-shot trigger: fires once at `at`, then the job is finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTrigger {
    /// The single fire time.
    pub at: DateTime<Utc>,
}

impl DateTrigger {
    /// Parses an RFC 3339 instant such as `2026-03-29T01:00:00Z`.
    pub fn parse(spec: &str) -> Result<Self, ScheduleError> {
        Ok(Self {
            at: parse_instant("date", spec)?,
        })
    }
}

/// When a job fires: `interval`, `cron` or `date`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A fixed period on a grid.
    Interval(IntervalTrigger),
    /// Wall-clock fields in a timezone.
    Cron(CronTrigger),
    /// Once.
    Date(DateTrigger),
}

impl Trigger {
    /// Parses a job's trigger; `first_scheduled_at` anchors intervals without an explicit start.
    pub fn parse(
        kind: &str,
        spec: &str,
        timezone: &str,
        first_scheduled_at: DateTime<Utc>,
    ) -> Result<Self, ScheduleError> {
        match kind.trim() {
            "interval" => Ok(Trigger::Interval(IntervalTrigger::parse(spec, first_scheduled_at)?)),
            "cron" => Ok(Trigger::Cron(CronTrigger::parse(spec, timezone)?)),
            "date" => Ok(Trigger::Date(DateTrigger::parse(spec)?)),
            other => Err(ScheduleError::UnknownKind(other.to_string())),
        }
    }

    /// The trigger kind as stored in `jobs.trigger`.
    pub fn kind(&self) -> &'static str {
        match self {
            Trigger::Interval(_) => "interval",
            Trigger::Cron(_) => "cron",
            Trigger::Date(_) => "date",
        }
    }

    /// The first fire strictly after `after`; `None` when the trigger is exhausted.
    pub fn next_fire_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Trigger::Interval(t) => t.next_fire_after(after),
            Trigger::Cron(t) => t.next_fire_after(after),
            Trigger::Date(t) => (t.at > after).then_some(t.at),
        }
    }

    /// The first fire at or after `now`: the `next_run_at` to store when a job is first scheduled.
    pub fn first_fire(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let just_before = now.checked_sub_signed(chrono::TimeDelta::nanoseconds(1))?;
        self.next_fire_after(just_before)
    }

    /// Up to `n` consecutive fires strictly after `after`.
    pub fn next_n(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n);
        let mut cursor = after;
        while out.len() < n {
            match self.next_fire_after(cursor) {
                Some(t) => {
                    out.push(t);
                    cursor = t;
                }
                None => break,
            }
        }
        out
    }

    /// Words for humans: `every 5s`, `at 03:00 on Monday through Friday (Europe/Berlin)`, `once at …`.
    pub fn describe(&self) -> String {
        match self {
            Trigger::Interval(t) => t.describe(),
            Trigger::Cron(t) => t.describe(),
            Trigger::Date(t) => format!("once at {}", t.at.to_rfc3339()),
        }
    }
}
