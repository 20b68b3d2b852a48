//! Labelled metric families, bounded by construction so a scrape never grows without limit.
//!
//! - `FixedFamily`: every label takes its value from a closed set known at start (outcomes,
//!   error kinds); all series are allocated up front and found by index — no lock, no
//!   allocation per update. Used on the pipeline's hot path.
//! - `BoundedFamily`: label values known only at run time but from a finite source (job ids,
//!   route patterns, status codes); series are created on first use under a lock, up to a cap,
//!   after which new label sets share one `"other"` series. Used off the hot path.

use std::collections::HashMap;
use std::sync::RwLock;

use super::text::{Exposition, Sample};

/// A family whose label values all come from closed sets.
#[derive(Debug)]
pub struct FixedFamily<M> {
    labels: &'static [&'static str],
    values: Vec<Vec<&'static str>>,
    series: Box<[M]>,
}

impl<M> FixedFamily<M> {
    /// One series per combination of `values` (one set per label, in `labels` order).
    pub fn new(labels: &'static [&'static str], values: Vec<Vec<&'static str>>, make: impl Fn() -> M) -> Self {
        assert_eq!(labels.len(), values.len(), "one value set per label");
        let size = values.iter().map(Vec::len).product();
        FixedFamily {
            labels,
            values,
            series: (0..size).map(|_| make()).collect(),
        }
    }

    /// The series for these label values, or `None` when a value is outside its set.
    pub fn get(&self, values: &[&str]) -> Option<&M> {
        if values.len() != self.values.len() {
            return None;
        }
        let mut index = 0;
        for (value, set) in values.iter().zip(&self.values) {
            index = index * set.len() + set.iter().position(|v| v == value)?;
        }
        self.series.get(index)
    }

    /// Writes the family; series never touched are left out.
    pub fn write(&self, out: &mut Exposition, name: &str, help: &str)
    where
        M: Sample,
    {
        out.header(name, help, M::TYPE);
        for (index, metric) in self.series.iter().enumerate() {
            if metric.is_untouched() {
                continue;
            }
            // Decode the mixed-radix index back into one value per label.
            let mut rest = index;
            let mut labels = vec![("", ""); self.labels.len()];
            for (i, set) in self.values.iter().enumerate().rev() {
                labels[i] = (self.labels[i], set[rest % set.len()]);
                rest /= set.len();
            }
            metric.write(out, name, &labels);
        }
    }
}

/// The label value that absorbs new label sets once a `BoundedFamily` is full.
pub const OVERFLOW: &str = "other";

/// A family whose label sets appear at run time, capped at a fixed number of series.
#[derive(Debug)]
pub struct BoundedFamily<M> {
    labels: &'static [&'static str],
    cap: usize,
    make: fn() -> M,
    // Key: the label values joined by U+001F (never part of a job id, route or status code).
    series: RwLock<HashMap<String, (Vec<String>, M)>>,
}

impl<M> BoundedFamily<M> {
    /// An empty family holding at most `cap` label sets (plus the overflow series).
    pub fn new(labels: &'static [&'static str], cap: usize, make: fn() -> M) -> Self {
        BoundedFamily {
            labels,
            cap,
            make,
            series: RwLock::new(HashMap::new()),
        }
    }

    /// Runs `f` on the series for these label values, creating it if there is room.
    pub fn with<R>(&self, values: &[&str], f: impl FnOnce(&M) -> R) -> R {
        debug_assert_eq!(values.len(), self.labels.len());
        let key = values.join("\u{1f}");
        {
            // A poisoned lock only means a panic elsewhere mid-insert; the map is still usable.
            let read = self.series.read().unwrap_or_else(|e| e.into_inner());
            if let Some((_, m)) = read.get(&key) {
                return f(m);
            }
        }
        let mut write = self.series.write().unwrap_or_else(|e| e.into_inner());
        let (key, values): (String, Vec<String>) = if write.len() < self.cap || write.contains_key(&key) {
            (key, values.iter().map(|v| v.to_string()).collect())
        } else {
            let overflow = vec![OVERFLOW.to_string(); values.len()];
            (overflow.join("\u{1f}"), overflow)
        };
        let make = self.make;
        let (_, m) = write.entry(key).or_insert_with(|| (values, make()));
        f(m)
    }

    /// Writes the family, series sorted by label values.
    pub fn write(&self, out: &mut Exposition, name: &str, help: &str)
    where
        M: Sample,
    {
        out.header(name, help, M::TYPE);
        let read = self.series.read().unwrap_or_else(|e| e.into_inner());
        let mut rows: Vec<&(Vec<String>, M)> = read.values().collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        for (values, metric) in rows {
            let labels: Vec<(&str, &str)> = self
                .labels
                .iter()
                .copied()
                .zip(values.iter().map(String::as_str))
                .collect();
            metric.write(out, name, &labels);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Counter;

    #[test]
    fn fixed_family_finds_series_by_value_and_shows_only_touched_ones() {
        let f = FixedFamily::new(&["a", "b"], vec![vec!["x", "y"], vec!["1", "2", "3"]], Counter::new);
        f.get(&["y", "3"]).unwrap().inc();
        f.get(&["x", "2"]).unwrap().add(2);
        assert!(f.get(&["z", "1"]).is_none());
        let mut out = Exposition::new();
        f.write(&mut out, "t_total", "T.");
        let text = out.finish();
        assert!(text.contains("t_total{a=\"x\",b=\"2\"} 2\n"), "{text}");
        assert!(text.contains("t_total{a=\"y\",b=\"3\"} 1\n"), "{text}");
        assert_eq!(text.lines().count(), 4, "{text}");
    }

    #[test]
    fn bounded_family_folds_new_label_sets_into_other_once_full() {
        let f = BoundedFamily::new(&["route"], 2, Counter::new);
        for r in ["/a", "/b", "/c", "/d", "/a"] {
            f.with(&[r], |c| c.inc());
        }
        let mut out = Exposition::new();
        f.write(&mut out, "r_total", "R.");
        let text = out.finish();
        assert!(text.contains("r_total{route=\"/a\"} 2\n"), "{text}");
        assert!(text.contains("r_total{route=\"/b\"} 1\n"), "{text}");
        assert!(text.contains("r_total{route=\"other\"} 2\n"), "{text}");
    }
}
