//! Tests for `due_fires`: coalesce true/false after a 3-hour gap, grace shorter/longer than the gap,
//! max_instances, backfill cap, one-shot jobs, and long outages of fast intervals.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::FireDecision::{Missed, MissedBacklog, Run, Skipped};
use super::{due_fires, CronTrigger, FireDecision, IntervalTrigger, JobPolicy, Trigger};

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Every `every` on a grid from 2026-01-01T00:00Z.
fn every(spec: &str) -> Trigger {
    let t = IntervalTrigger::parse(spec, utc("2025-01-01T00:00:00Z")).unwrap();
    Trigger::Interval(t.with_start("2026-01-01T00:00:00Z").unwrap())
}

fn policy(coalesce: bool, grace_secs: Option<u64>) -> JobPolicy {
    JobPolicy {
        coalesce,
        misfire_grace: grace_secs.map(Duration::from_secs),
        ..JobPolicy::default()
    }
}

fn run(at: &str, coalesced: u64) -> FireDecision {
    Run {
        scheduled_for: utc(at),
        coalesced,
    }
}

fn missed(at: &str, late_secs: u64) -> FireDecision {
    Missed {
        scheduled_for: utc(at),
        late_by: Duration::from_secs(late_secs),
    }
}

// The scheduler was down from 09:00 to 12:00:30; the hourly job's next_run_at is 09:00.
const NEXT: &str = "2026-01-01T09:00:00Z";
const NOW: &str = "2026-01-01T12:00:30Z";
const AFTER: &str = "2026-01-01T13:00:00Z";

#[test]
fn coalesce_runs_the_last_fire_when_it_is_within_grace() {
    let (d, next) = due_fires(&every("1h"), utc(NEXT), utc(NOW), 0, &policy(true, Some(60)));
    assert_eq!(d, [run("2026-01-01T12:00:00Z", 3)]);
    assert_eq!(next, Some(utc(AFTER)));
    let (d, _) = due_fires(&every("1h"), utc(NEXT), utc(NOW), 0, &policy(true, Some(4 * 3600)));
    assert_eq!(d, [run("2026-01-01T12:00:00Z", 3)]);
}

#[test]
fn coalesce_with_the_last_fire_beyond_grace_is_missed() {
    let (d, next) = due_fires(&every("1h"), utc(NEXT), utc(NOW), 0, &policy(true, Some(10)));
    assert_eq!(d, [missed("2026-01-01T12:00:00Z", 30)]);
    assert_eq!(next, Some(utc(AFTER)));
}

#[test]
fn without_coalesce_each_fire_is_checked_against_grace() {
    let (d, next) = due_fires(&every("1h"), utc(NEXT), utc(NOW), 0, &policy(false, Some(60)));
    let want = [
        missed("2026-01-01T09:00:00Z", 3 * 3600 + 30),
        missed("2026-01-01T10:00:00Z", 2 * 3600 + 30),
        missed("2026-01-01T11:00:00Z", 3600 + 30),
        run("2026-01-01T12:00:00Z", 0),
    ];
    assert_eq!(d, want);
    assert_eq!(next, Some(utc(AFTER)));
}

#[test]
fn without_coalesce_and_grace_longer_than_the_gap_every_fire_runs() {
    let want = ["09", "10", "11", "12"].map(|h| run(&format!("2026-01-01T{h}:00:00Z"), 0));
    let (d, _) = due_fires(&every("1h"), utc(NEXT), utc(NOW), 0, &policy(false, Some(4 * 3600)));
    assert_eq!(d, want);
    let (d, _) = due_fires(&every("1h"), utc(NEXT), utc(NOW), 0, &policy(false, None));
    assert_eq!(d, want, "no grace limit");
}

#[test]
fn exactly_at_grace_still_runs() {
    let (d, _) = due_fires(
        &every("1h"),
        utc(NEXT),
        utc("2026-01-01T09:01:00Z"),
        0,
        &policy(false, Some(60)),
    );
    assert_eq!(d, [run(NEXT, 0)]);
}

#[test]
fn max_instances_skips_the_whole_batch_before_the_grace_check() {
    let (d, next) = due_fires(&every("1h"), utc(NEXT), utc(NOW), 1, &policy(false, Some(60)));
    assert_eq!(d.len(), 4);
    for (decision, hour) in d.iter().zip(["09", "10", "11", "12"]) {
        let Skipped { scheduled_for, reason } = decision else {
            panic!("expected skipped, got {decision:?}")
        };
        assert_eq!(*scheduled_for, utc(&format!("2026-01-01T{hour}:00:00Z")));
        assert_eq!(
            reason,
            "maximum number of running instances reached (1 running, max_instances = 1)"
        );
    }
    assert_eq!(next, Some(utc(AFTER)), "skipped fires are not retried");
    let (d, _) = due_fires(&every("1h"), utc(NEXT), utc(NOW), 1, &policy(true, Some(60)));
    assert!(matches!(d.as_slice(), [Skipped { .. }]), "{d:?}");
    let roomy = JobPolicy {
        max_instances: 2,
        ..policy(true, Some(60))
    };
    assert_eq!(
        due_fires(&every("1h"), utc(NEXT), utc(NOW), 1, &roomy).0,
        [run("2026-01-01T12:00:00Z", 3)]
    );
}

#[test]
fn backfill_cap_keeps_the_newest_and_summarises_the_rest() {
    // Every 5 minutes through the gap: 37 fires from 09:00 to 12:00.
    let capped = JobPolicy {
        backfill_cap: 10,
        ..policy(false, Some(4 * 3600))
    };
    let (d, next) = due_fires(&every("5m"), utc(NEXT), utc(NOW), 0, &capped);
    assert_eq!(d.len(), 11);
    let backlog = MissedBacklog {
        first: utc(NEXT),
        last: utc("2026-01-01T11:10:00Z"),
        count: 27,
    };
    assert_eq!(d[0], backlog);
    assert_eq!(d[1], run("2026-01-01T11:15:00Z", 0));
    assert_eq!(d[10], run("2026-01-01T12:00:00Z", 0));
    assert_eq!(next, Some(utc("2026-01-01T12:05:00Z")));
    // With a short grace the kept fires are checked as usual; coalesce ignores the cap.
    let (d, _) = due_fires(
        &every("5m"),
        utc(NEXT),
        utc(NOW),
        0,
        &JobPolicy {
            misfire_grace: None,
            ..capped
        },
    );
    assert_eq!(d.iter().filter(|x| matches!(x, Run { .. })).count(), 10);
    let (d, _) = due_fires(
        &every("5m"),
        utc(NEXT),
        utc(NOW),
        0,
        &JobPolicy {
            coalesce: true,
            ..capped
        },
    );
    assert_eq!(d, [run("2026-01-01T12:00:00Z", 36)]);
}

#[test]
fn long_outage_of_a_fast_interval_is_counted_without_walking_it() {
    let trigger = every("500ms");
    let start = utc("2026-01-01T00:00:00Z");
    let now = start + TimeDelta::days(1);
    let capped = JobPolicy {
        backfill_cap: 5,
        ..policy(false, Some(60))
    };
    let (d, next) = due_fires(&trigger, start, now, 0, &capped);
    // 172 801 fires from 00:00:00.0 through 24:00:00.0.
    let last_dropped = now - TimeDelta::milliseconds(2_500);
    assert_eq!(
        d[0],
        MissedBacklog {
            first: start,
            last: last_dropped,
            count: 172_796
        }
    );
    let kept = d[1..].to_vec();
    let want: Vec<_> = (0..5)
        .rev()
        .map(|i| Run {
            scheduled_for: now - TimeDelta::milliseconds(500 * i),
            coalesced: 0,
        })
        .collect();
    assert_eq!(kept, want);
    assert_eq!(next, Some(now + TimeDelta::milliseconds(500)));
}

#[test]
fn nothing_is_due_before_next_run_at() {
    let (d, next) = due_fires(&every("1h"), utc(AFTER), utc(NOW), 0, &JobPolicy::default());
    assert!(d.is_empty());
    assert_eq!(next, Some(utc(AFTER)));
}

#[test]
fn a_date_job_finishes_after_running_or_missing() {
    let t = Trigger::parse("date", NEXT, "UTC", utc(NEXT)).unwrap();
    let (d, next) = due_fires(&t, utc(NEXT), utc("2026-01-01T09:00:05Z"), 0, &JobPolicy::default());
    assert_eq!((d, next), (vec![run(NEXT, 0)], None));
    let (d, next) = due_fires(&t, utc(NEXT), utc(NOW), 0, &JobPolicy::default());
    assert_eq!((d, next), (vec![missed(NEXT, 3 * 3600 + 30)], None));
}

#[test]
fn an_interval_with_an_end_finishes_after_its_last_fire() {
    let iv = IntervalTrigger::parse("1h", utc(NEXT)).unwrap();
    let t = Trigger::Interval(iv.with_start(NEXT).unwrap().with_end("2026-01-01T11:00:00Z").unwrap());
    let (d, next) = due_fires(&t, utc(NEXT), utc(NOW), 0, &policy(true, None));
    assert_eq!((d, next), (vec![run("2026-01-01T11:00:00Z", 2)], None));
}

#[test]
fn a_cron_backlog_across_fall_back_counts_the_repeated_hour() {
    let t = Trigger::Cron(CronTrigger::parse("0 * * * *", "Europe/Berlin").unwrap());
    let now = utc("2026-10-25T02:00:10Z");
    let (d, next) = due_fires(&t, utc("2026-10-25T00:00:00Z"), now, 0, &policy(false, None));
    let want = ["2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"].map(|s| run(s, 0));
    assert_eq!(d, want);
    assert_eq!(next, Some(utc("2026-10-25T03:00:00Z")));
}

#[test]
fn the_long_outage_shortcut_agrees_with_walking_every_fire() {
    let iv = IntervalTrigger::parse("100ms", utc(NEXT))
        .unwrap()
        .with_start(NEXT)
        .unwrap();
    let trigger = Trigger::Interval(iv.with_jitter("50ms", 99).unwrap());
    let first = trigger.first_fire(utc(NEXT)).unwrap();
    let now = utc("2026-01-01T09:30:00.02Z");
    let mut walked = vec![first];
    walked.extend(trigger.next_n(first, 20_000).into_iter().take_while(|t| *t <= now));
    let capped = JobPolicy {
        backfill_cap: 3,
        ..policy(false, None)
    };
    let (d, next) = due_fires(&trigger, first, now, 0, &capped);
    let n = walked.len();
    let backlog = MissedBacklog {
        first,
        last: walked[n - 4],
        count: n as u64 - 3,
    };
    let runs: Vec<_> = walked[n - 3..]
        .iter()
        .map(|t| Run {
            scheduled_for: *t,
            coalesced: 0,
        })
        .collect();
    assert_eq!(d[0], backlog);
    assert_eq!(d[1..], runs[..]);
    assert_eq!(next, trigger.next_fire_after(walked[n - 1]));
}
