//! APScheduler 3.x's coalesce / max_instances / misfire_grace_time rules as one pure function (see module docs).

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::trigger::Trigger;

/// After this many fires walked one by one, interval triggers jump arithmetically to `now`.
const SCAN_LIMIT: u64 = 10_000;

/// Per-job knobs, with domaind's defaults (`coalesce = false`, `max_instances = 1`, grace 60 s, cap 100).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobPolicy {
    /// Run only the latest of several due fires.
    pub coalesce: bool,
    /// Concurrent runs allowed; a due batch arriving at this count is skipped (0 behaves as 1).
    pub max_instances: u32,
    /// How late a fire may start; `None` = no limit.
    pub misfire_grace: Option<Duration>,
    /// With `coalesce = false`, how many of the most recent due fires are considered (0 behaves as 1).
    pub backfill_cap: usize,
}

impl Default for JobPolicy {
    fn default() -> Self {
        Self {
            coalesce: false,
            max_instances: 1,
            misfire_grace: Some(Duration::from_secs(60)),
            backfill_cap: 100,
        }
    }
}

/// What to record (and possibly run) for due fire times, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FireDecision {
    /// Run the job body for this time; `coalesced` earlier due fires were folded into it.
    Run {
        /// The fire time this run stands for.
        scheduled_for: DateTime<Utc>,
        /// How many earlier due fires `coalesce` merged into this run.
        coalesced: u64,
    },
    /// Record `missed`: the fire is later than `misfire_grace` allows.
    Missed {
        /// The fire time that was missed.
        scheduled_for: DateTime<Utc>,
        /// How late it would have started.
        late_by: Duration,
    },
    /// Record one `missed` row for `count` fires older than the backfill cap (`first..=last`).
    MissedBacklog {
        /// The oldest dropped fire.
        first: DateTime<Utc>,
        /// The newest dropped fire.
        last: DateTime<Utc>,
        /// How many fires were dropped.
        count: u64,
    },
    /// Record `skipped`: `max_instances` runs were already in progress.
    Skipped {
        /// The fire time that was skipped.
        scheduled_for: DateTime<Utc>,
        /// Why, in words.
        reason: String,
    },
}

/// The due fires of one job: how many, the most recent `keep`, the evicted range, and the next fire after now.
struct DueWalk {
    count: u64,
    tail: VecDeque<DateTime<Utc>>,
    evicted: Option<(DateTime<Utc>, DateTime<Utc>)>,
    keep: usize,
}

impl DueWalk {
    fn push(&mut self, t: DateTime<Utc>) {
        self.count += 1;
        self.tail.push_back(t);
        if self.tail.len() > self.keep {
            if let Some(old) = self.tail.pop_front() {
                self.evicted = Some(self.evicted.map_or((old, old), |(first, _)| (first, old)));
            }
        }
    }
}

/// Walks every fire in `[next_run_at, now]`; returns the walk and the first fire after `now`.
fn walk(
    trigger: &Trigger,
    next_run_at: DateTime<Utc>,
    now: DateTime<Utc>,
    keep: usize,
) -> (DueWalk, Option<DateTime<Utc>>) {
    let mut w = DueWalk {
        count: 0,
        tail: VecDeque::new(),
        evicted: None,
        keep,
    };
    let mut t = next_run_at;
    loop {
        w.push(t);
        if w.count >= SCAN_LIMIT {
            if let Trigger::Interval(iv) = trigger {
                // Skip the middle of a long outage: only the last `keep` fires and the count matter.
                let (Some(k_t), Some(k_now)) = (iv.index_at_or_before(t), iv.index_at_or_before(now)) else {
                    return (w, trigger.next_fire_after(t));
                };
                let skip_to = k_now.saturating_sub(keep as u64).max(k_t);
                if skip_to > k_t {
                    let (Some(first), Some(last)) = (iv.fire(k_t + 1), iv.fire(skip_to)) else {
                        return (w, trigger.next_fire_after(t));
                    };
                    let oldest = w.evicted.map(|(f, _)| f).or(w.tail.front().copied()).unwrap_or(first);
                    w.tail.clear();
                    w.evicted = Some((oldest, last));
                    w.count += skip_to - k_t;
                    match iv.fire(skip_to) {
                        Some(f) => t = f,
                        None => return (w, None),
                    }
                }
            }
        }
        match trigger.next_fire_after(t) {
            Some(next) if next <= now => t = next,
            other => return (w, other),
        }
    }
}

/// Decides what to record and run for a job whose stored `next_run_at` may be due, and its new `next_run_at`
/// (`None` = the trigger is exhausted and the job is finished); `running` = runs currently in progress.
pub fn due_fires(
    trigger: &Trigger,
    next_run_at: DateTime<Utc>,
    now: DateTime<Utc>,
    running: u32,
    policy: &JobPolicy,
) -> (Vec<FireDecision>, Option<DateTime<Utc>>) {
    if next_run_at > now {
        return (Vec::new(), Some(next_run_at));
    }
    let keep = if policy.coalesce { 1 } else { policy.backfill_cap.max(1) };
    let (walked, next) = walk(trigger, next_run_at, now, keep);
    let mut decisions = Vec::with_capacity(walked.tail.len() + 1);
    let coalesced = if policy.coalesce {
        walked.count.saturating_sub(1)
    } else {
        0
    };
    if let (false, Some((first, last))) = (policy.coalesce, walked.evicted) {
        let count = walked.count - walked.tail.len() as u64;
        decisions.push(FireDecision::MissedBacklog { first, last, count });
    }
    let max_instances = policy.max_instances.max(1);
    for scheduled_for in walked.tail {
        // APScheduler refuses the whole submission before any misfire check runs.
        if running >= max_instances {
            let reason = format!(
                "maximum number of running instances reached ({running} running, max_instances = {max_instances})"
            );
            decisions.push(FireDecision::Skipped { scheduled_for, reason });
            continue;
        }
        let late_by = (now - scheduled_for).to_std().unwrap_or(Duration::ZERO);
        match policy.misfire_grace {
            Some(grace) if late_by > grace => decisions.push(FireDecision::Missed { scheduled_for, late_by }),
            _ => decisions.push(FireDecision::Run {
                scheduled_for,
                coalesced,
            }),
        }
    }
    (decisions, next)
}
