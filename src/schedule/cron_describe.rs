//! Human wording of a cron trigger, e.g. `at 03:00 on Monday through Friday (Europe/Berlin)`.

use super::cron::CronTrigger;
use super::cron_fields::{FieldKind, FieldSet, DOM, DOW, HOUR, MINUTE, MONTH, SECOND};

const DAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Runs of consecutive values: `[(1, 5), (7, 7)]`.
fn runs(set: FieldSet) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for v in set.values() {
        match out.last_mut() {
            Some((_, hi)) if *hi + 1 == v => *hi = v,
            _ => out.push((v, v)),
        }
    }
    out
}

/// `1-5,7` for numbers, or `Monday through Friday, Sunday` when `name` gives words.
fn list(set: FieldSet, name: impl Fn(u32) -> Option<String>) -> String {
    let words = runs(set)
        .into_iter()
        .map(|(lo, hi)| match (name(lo), name(hi)) {
            (Some(a), _) if lo == hi => a,
            (Some(a), Some(b)) if hi == lo + 1 => format!("{a}, {b}"),
            (Some(a), Some(b)) => format!("{a} through {b}"),
            _ if lo == hi => lo.to_string(),
            _ => format!("{lo}-{hi}"),
        })
        .collect::<Vec<_>>();
    words.join(if name(0).or(name(1)).is_some() { ", " } else { "," })
}

fn numbers(set: FieldSet) -> String {
    list(set, |_| None)
}

/// `Some(n)` when the set is exactly `lo, lo+n, lo+2n, …` up to the field's end, with `n >= 2`.
fn step(set: FieldSet, kind: &FieldKind) -> Option<u32> {
    let v = set.values();
    let n = v.get(1)?.checked_sub(*v.first()?)?;
    let expected: Vec<u32> = (kind.lo..=kind.hi).step_by(n as usize).collect();
    (n >= 2 && v == expected).then_some(n)
}

/// Describes one sub-day field: `every minute`, `every 15 minutes`, `at minute 0,30`.
fn unit(set: FieldSet, kind: &FieldKind, word: &str) -> String {
    if set == kind.full() {
        format!("every {word}")
    } else if let Some(n) = step(set, kind) {
        format!("every {n} {word}s")
    } else {
        format!("at {word} {}", numbers(set))
    }
}

impl CronTrigger {
    /// Words for humans; the timezone is always named.
    pub fn describe(&self) -> String {
        let f = &self.fields;
        let single = |s: FieldSet| s.values().len() == 1;
        let mut parts = Vec::new();
        if single(f.hour) && single(f.minute) && single(f.second) {
            let (h, m, s) = (f.hour.values()[0], f.minute.values()[0], f.second.values()[0]);
            parts.push(if s == 0 {
                format!("at {h:02}:{m:02}")
            } else {
                format!("at {h:02}:{m:02}:{s:02}")
            });
        } else {
            if f.has_seconds && f.second != FieldSet(1) {
                parts.push(unit(f.second, &SECOND, "second"));
            }
            if !(f.has_seconds && f.minute == MINUTE.full() && f.second != FieldSet(1)) {
                parts.push(unit(f.minute, &MINUTE, "minute"));
            }
            if f.hour == HOUR.full() {
                if single(f.minute) {
                    parts.push("of every hour".into());
                }
            } else if let Some(n) = step(f.hour, &HOUR) {
                parts.push(format!("of every {n} hours"));
            } else {
                parts.push(format!("during hour {}", numbers(f.hour)));
            }
        }
        let dom = (f.dom != DOM.full()).then(|| format!("on day-of-month {}", numbers(f.dom)));
        let day_name = |v: u32| DAY_NAMES.get(v as usize).map(|s| s.to_string());
        let dow = (f.dow != DOW.full()).then(|| format!("on {}", list(f.dow, day_name)));
        match (dom, dow) {
            (Some(a), Some(b)) => {
                let joiner = if f.dom_star || f.dow_star { "and" } else { "or" };
                parts.push(format!("{a} {joiner} {b}"));
            }
            (Some(a), None) | (None, Some(a)) => parts.push(a),
            (None, None) if single(f.hour) && f.month == MONTH.full() => parts.push("every day".into()),
            (None, None) => {}
        }
        if f.month != MONTH.full() {
            let name = |v: u32| {
                v.checked_sub(1)
                    .and_then(|i| MONTH_NAMES.get(i as usize))
                    .map(|s| s.to_string())
            };
            parts.push(format!("in {}", list(f.month, name)));
        }
        format!("{} ({})", parts.join(" "), self.tz.name())
    }
}
