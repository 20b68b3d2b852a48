//! When jobs fire, and what to do about fires that are due: triggers (`interval`, `cron`, `date`) and
//! APScheduler 3.x's coalesce / max_instances / misfire rules. Pure code: no I/O, no actix, no database;
//! every function takes the current time as an argument, so tests use literal instants and never sleep.
//!
//! # Triggers
//! - **interval** (`"500ms"`, `"30s"`, `"5m"`, `"1h30m"`, `"2d"`; at least 100 ms). Fire times are the grid
//!   `start + k·every`. With an explicit `start` (RFC 3339) the grid starts there (k ≥ 0); without one it is
//!   anchored at the time the job was first scheduled, and the first fire is one interval later (k ≥ 1), as
//!   APScheduler's default `start_date = now + interval`. `end` (RFC 3339) is inclusive. `jitter` delays fire k
//!   by a uniform pseudo-random amount in `[0, jitter)` computed from an injected seed and k, so it is
//!   reproducible across restarts and never drifts (APScheduler adds jitter to the previous *jittered* time;
//!   we keep the grid). Jitter must be shorter than the interval, which keeps fires in order.
//! - **cron**: 5 fields `min hour dom month dow`, or 6 with seconds first; `*`, `a`, `a-b`, lists, `/step`
//!   (`a/step` means `a-max/step`), names `jan`–`dec` and `sun`–`sat` (case-insensitive, usable in ranges),
//!   dow 7 = Sunday, aliases `@yearly @annually @monthly @weekly @daily @midnight @hourly`. Day matching is
//!   Vixie cron/cronie's: if the dom *or* the dow field starts with `*` both must match, otherwise either one
//!   does (`0 0 1,15 * mon` fires on the 1st, the 15th and every Monday; note `*/2` counts as starting with `*`).
//!   Fields are read on the wall clock of the job's IANA timezone.
//! - **date**: one RFC 3339 instant; after it fires the trigger is exhausted and the job is finished.
//!
//! # DST (cronie's rules)
//! A cron job is *wildcard* when its minute or hour field starts with `*` (cronie's `MIN_STAR | HR_STAR`:
//! `*`, `*/15`, `@hourly`), otherwise *fixed-time* (`30 2 * * *`, `0 9-17 * * *`).
//! - Fixed-time jobs fire when the wall clock first reaches a matching reading (cronie's "virtual time"
//!   never goes back). In a repeated (fall-back) hour they fire once, on the first pass. A reading inside a
//!   skipped (spring-forward) hour fires once, at the instant the gap ends (several such readings: one fire).
//! - Wildcard jobs follow elapsed real time: they fire at every instant whose wall-clock reading matches, so
//!   in a repeated hour they fire on both passes, and in a skipped hour nothing is invented.
//!
//! E.g. Europe/Berlin on 2026-03-29, `30 2 * * *` fires at 03:00 CEST (01:00Z); `*/15 * * * *` goes from
//! 01:45 CET to 03:00 CEST. On 2026-10-25 `30 2 * * *` fires at 02:30 CEST only; `0 * * * *` fires at 02:00
//! CEST and again at 02:00 CET.
//!
//! # Due fires (APScheduler 3.x `_process_jobs`, `Job._get_run_times`, executor `submit_job`/`run_job`)
//! [`due_fires`] takes the stored `next_run_at`, `now`, the number of runs in progress and a [`JobPolicy`]:
//! 1. Nothing is due while `next_run_at > now`.
//! 2. Every fire time from `next_run_at` through `now` (inclusive) is collected by following the trigger.
//! 3. `coalesce = true` keeps only the last of them (the others are folded into it and not recorded; the
//!    `Run` carries their count). `coalesce = false` keeps the newest `backfill_cap`; older ones become one
//!    [`FireDecision::MissedBacklog`] summary (domaind's addition: APScheduler has no cap).
//! 4. `max_instances` is checked once for the whole batch, *before* any misfire check: with `running >=
//!    max_instances` every kept fire is `Skipped` ("maximum number of running instances reached"), even one
//!    that is also past its grace. The fires are not retried later.
//! 5. Otherwise each kept fire, oldest first, is `Missed` if `now - scheduled_for > misfire_grace` (strictly
//!    greater; `None` = no limit), else `Run`. This also applies to the single coalesced fire: with coalesce
//!    and a last fire beyond grace, it is missed. APScheduler checks each fire against the clock when the
//!    executor reaches it; here all use `now`.
//! 6. The new `next_run_at` is the first fire after the last collected one (so after `now`), whatever the
//!    decisions were; `None` means the trigger is exhausted and the job is finished.
//!
//! All `Run` decisions of one call form one instance (APScheduler's `run_job` runs them in order in one
//! worker): execute them sequentially and count them as one toward `max_instances`.

mod cron;
mod cron_describe;
mod cron_fields;
mod duration;
mod error;
mod interval;
mod local_time;
mod misfire;
mod trigger;

#[cfg(test)]
mod tests_cron;
#[cfg(test)]
mod tests_dst;
#[cfg(test)]
mod tests_interval;
#[cfg(test)]
mod tests_misfire;

pub use cron::{parse_timezone, CronTrigger};
pub use duration::{format_duration, parse_duration};
pub use error::ScheduleError;
pub use interval::IntervalTrigger;
pub use misfire::{due_fires, FireDecision, JobPolicy};
pub use trigger::{DateTrigger, Trigger};
