//! Parsing of cron expressions into per-field value sets, with cronie's `*` flags kept for matching and DST.

use chrono::{Datelike, NaiveDate};

use super::ScheduleError;

/// The set of values one cron field allows, as a bit mask (bit `v` set = value `v` allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldSet(pub(crate) u64);

impl FieldSet {
    /// Whether `v` is in the set.
    pub(crate) fn contains(self, v: u32) -> bool {
        v < 64 && self.0 & (1 << v) != 0
    }

    /// The smallest member `>= v`.
    pub(crate) fn next_at_or_after(self, v: u32) -> Option<u32> {
        if v >= 64 {
            return None;
        }
        let rest = self.0 >> v;
        (rest != 0).then(|| v + rest.trailing_zeros())
    }

    /// All members in increasing order.
    pub(crate) fn values(self) -> Vec<u32> {
        (0..64).filter(|&v| self.contains(v)).collect()
    }

    fn range(lo: u32, hi: u32) -> FieldSet {
        FieldSet((lo..=hi).fold(0, |acc, v| acc | (1 << v)))
    }
}

/// Static description of one field: its name, bounds and (for month and day-of-week) names.
pub(crate) struct FieldKind {
    pub(crate) name: &'static str,
    pub(crate) lo: u32,
    pub(crate) hi: u32,
    /// Largest value after normalisation (day-of-week folds 7 onto 0, so 6).
    top: u32,
    names: &'static [&'static str],
    name_base: u32,
}

pub(crate) const SECOND: FieldKind = FieldKind {
    name: "second",
    lo: 0,
    hi: 59,
    top: 59,
    names: &[],
    name_base: 0,
};
pub(crate) const MINUTE: FieldKind = FieldKind {
    name: "minute",
    lo: 0,
    hi: 59,
    top: 59,
    names: &[],
    name_base: 0,
};
pub(crate) const HOUR: FieldKind = FieldKind {
    name: "hour",
    lo: 0,
    hi: 23,
    top: 23,
    names: &[],
    name_base: 0,
};
pub(crate) const DOM: FieldKind = FieldKind {
    name: "day-of-month",
    lo: 1,
    hi: 31,
    top: 31,
    names: &[],
    name_base: 0,
};
pub(crate) const MONTH: FieldKind = FieldKind {
    name: "month",
    lo: 1,
    hi: 12,
    top: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
    name_base: 1,
};
pub(crate) const DOW: FieldKind = FieldKind {
    name: "day-of-week",
    lo: 0,
    hi: 7,
    top: 6,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    name_base: 0,
};

impl FieldKind {
    /// Every value of the field (for day-of-week: 0–6, Sunday = 0).
    pub(crate) fn full(&self) -> FieldSet {
        FieldSet::range(self.lo, self.top)
    }

    fn err(&self, token: &str, reason: impl Into<String>) -> ScheduleError {
        ScheduleError::CronToken {
            field: self.name,
            token: token.to_string(),
            reason: reason.into(),
        }
    }

    fn value(&self, text: &str, token: &str) -> Result<u32, ScheduleError> {
        let lower = text.to_ascii_lowercase();
        if let Some(i) = self.names.iter().position(|n| *n == lower) {
            return Ok(self.name_base + i as u32);
        }
        let v: u32 = text.parse().map_err(|_| {
            let hint = if self.names.is_empty() {
                String::new()
            } else {
                format!(" or a name like `{}`", self.names[0])
            };
            self.err(token, format!("`{text}` is not a number{hint}"))
        })?;
        if v < self.lo || v > self.hi {
            return Err(self.err(token, format!("{v} is out of range {}-{}", self.lo, self.hi)));
        }
        Ok(v)
    }

    /// Parses one whole field (a comma list of `*`, `a`, `a-b`, each with an optional `/step`).
    pub(crate) fn parse(&self, field: &str) -> Result<FieldSet, ScheduleError> {
        let mut set = 0u64;
        for token in field.split(',') {
            if token.is_empty() {
                return Err(self.err(field, "empty list element"));
            }
            let (base, step) = match token.split_once('/') {
                None => (token, None),
                Some((b, s)) => {
                    let step: u32 = s
                        .parse()
                        .map_err(|_| self.err(token, format!("step `{s}` is not a number")))?;
                    if step == 0 {
                        return Err(self.err(token, "step must be at least 1"));
                    }
                    (b, Some(step))
                }
            };
            let (lo, hi) = if base == "*" {
                (self.lo, self.hi)
            } else if let Some((a, b)) = base.split_once('-') {
                let (a, b) = (self.value(a, token)?, self.value(b, token)?);
                if a > b {
                    return Err(self.err(token, format!("range start {a} is after its end {b}")));
                }
                (a, b)
            } else {
                let a = self.value(base, token)?;
                // `a/step` means `a-max/step`, as in most crons; a bare `a` is just `a`.
                (a, if step.is_some() { self.hi } else { a })
            };
            let step = step.unwrap_or(1);
            let mut v = lo;
            while v <= hi {
                set |= 1 << v;
                v += step;
            }
        }
        if self.name == DOW.name && set & (1 << 7) != 0 {
            // 7 is a second spelling of Sunday.
            set = (set & !(1 << 7)) | 1;
        }
        Ok(FieldSet(set))
    }
}

/// A parsed cron expression: one set per field plus cronie's star flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CronFields {
    pub(crate) second: FieldSet,
    pub(crate) minute: FieldSet,
    pub(crate) hour: FieldSet,
    pub(crate) dom: FieldSet,
    pub(crate) month: FieldSet,
    pub(crate) dow: FieldSet,
    /// The day-of-month field starts with `*` (cronie's DOM_STAR).
    pub(crate) dom_star: bool,
    /// The day-of-week field starts with `*` (cronie's DOW_STAR).
    pub(crate) dow_star: bool,
    /// The minute or hour field starts with `*` (cronie's MIN_STAR | HR_STAR): the job follows elapsed time.
    pub(crate) wildcard: bool,
    /// Six fields were given (seconds first).
    pub(crate) has_seconds: bool,
}

fn expand_alias(spec: &str) -> Result<&'static str, ScheduleError> {
    Ok(match spec.to_ascii_lowercase().as_str() {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => return Err(ScheduleError::UnknownAlias(spec.to_string())),
    })
}

impl CronFields {
    /// Parses a 5- or 6-field expression or an `@alias`.
    pub(crate) fn parse(spec: &str) -> Result<CronFields, ScheduleError> {
        let trimmed = spec.trim();
        let text = if trimmed.starts_with('@') {
            expand_alias(trimmed)?
        } else {
            trimmed
        };
        let parts: Vec<&str> = text.split_whitespace().collect();
        let (sec, rest) = match parts.len() {
            5 => ("0", &parts[..]),
            6 => (parts[0], &parts[1..]),
            found => {
                return Err(ScheduleError::FieldCount {
                    spec: spec.to_string(),
                    found,
                })
            }
        };
        Ok(CronFields {
            second: SECOND.parse(sec)?,
            minute: MINUTE.parse(rest[0])?,
            hour: HOUR.parse(rest[1])?,
            dom: DOM.parse(rest[2])?,
            month: MONTH.parse(rest[3])?,
            dow: DOW.parse(rest[4])?,
            dom_star: rest[2].starts_with('*'),
            dow_star: rest[4].starts_with('*'),
            wildcard: rest[0].starts_with('*') || rest[1].starts_with('*'),
            has_seconds: parts.len() == 6,
        })
    }

    /// Whether the calendar date matches: both day fields when either starts with `*`, else either one.
    pub(crate) fn day_matches(&self, date: NaiveDate) -> bool {
        let dom = self.dom.contains(date.day());
        let dow = self.dow.contains(date.weekday().num_days_from_sunday());
        if self.dom_star || self.dow_star {
            dom && dow
        } else {
            dom || dow
        }
    }
}
