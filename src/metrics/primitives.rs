//! The three metric primitives. Every update is a few relaxed atomic operations — no lock,
//! no allocation — so they are cheap on the pipeline's hot path; a scrape reads them without
//! stopping writers (a histogram read mid-update may be off by the one observation in flight).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use super::text::{Exposition, Sample};

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// A counter at zero.
    pub const fn new() -> Counter {
        Counter(AtomicU64::new(0))
    }

    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The current count.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Sample for Counter {
    const TYPE: &'static str = "counter";

    fn is_untouched(&self) -> bool {
        self.get() == 0
    }

    fn write(&self, out: &mut Exposition, name: &str, labels: &[(&str, &str)]) {
        out.sample(name, labels, self.get());
    }
}

/// A value that goes up and down (whole numbers: counts of things).
#[derive(Debug, Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    /// A gauge at zero.
    pub const fn new() -> Gauge {
        Gauge(AtomicI64::new(0))
    }

    /// Sets the value.
    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }

    /// Adds `n` (negative to subtract).
    pub fn add(&self, n: i64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Sample for Gauge {
    const TYPE: &'static str = "gauge";

    fn is_untouched(&self) -> bool {
        false
    }

    fn write(&self, out: &mut Exposition, name: &str, labels: &[(&str, &str)]) {
        out.sample(name, labels, self.get());
    }
}

/// A distribution over fixed upper bounds (`le`), plus the sum and count of observations.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    // One slot per bound plus +Inf, NOT cumulative: an observation touches exactly one slot.
    buckets: Box<[AtomicU64]>,
    // f64 bits; updated with a compare-and-swap loop (contention only between concurrent observers).
    sum: AtomicU64,
    // f64 bits of the largest observation (not exposed to Prometheus; `domaind bench` reports it).
    max: AtomicU64,
}

impl Histogram {
    /// A histogram with these ascending, finite upper bounds (`+Inf` is implied).
    pub fn new(bounds: &'static [f64]) -> Histogram {
        debug_assert!(bounds.windows(2).all(|w| w[0] < w[1]), "bounds must ascend");
        Histogram {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0f64.to_bits()),
            max: AtomicU64::new(f64::NEG_INFINITY.to_bits()),
        }
    }

    /// Records one value; NaN is ignored.
    pub fn observe(&self, v: f64) {
        if v.is_nan() {
            return;
        }
        let slot = self.bounds.partition_point(|b| *b < v);
        self.buckets[slot].fetch_add(1, Ordering::Relaxed);
        let _ = self.sum.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            Some((f64::from_bits(bits) + v).to_bits())
        });
        // Only a new maximum pays for the compare-and-swap.
        let _ = self.max.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            (v > f64::from_bits(bits)).then_some(v.to_bits())
        });
    }

    /// Records a duration in seconds.
    pub fn observe_duration(&self, d: Duration) {
        self.observe(d.as_secs_f64());
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// Sum of observations.
    pub fn sum(&self) -> f64 {
        f64::from_bits(self.sum.load(Ordering::Relaxed))
    }

    /// Mean of observations (`None` before the first).
    pub fn mean(&self) -> Option<f64> {
        let n = self.count();
        (n > 0).then(|| self.sum() / n as f64)
    }

    /// Largest observation (`None` before the first).
    pub fn max(&self) -> Option<f64> {
        let max = f64::from_bits(self.max.load(Ordering::Relaxed));
        (max != f64::NEG_INFINITY).then_some(max)
    }

    /// `(upper bound, cumulative count)` per bucket, ending with `+Inf`.
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut total = 0;
        self.bounds
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(self.buckets.iter())
            .map(|(bound, n)| {
                total += n.load(Ordering::Relaxed);
                (bound, total)
            })
            .collect()
    }
}

impl Sample for Histogram {
    const TYPE: &'static str = "histogram";

    fn is_untouched(&self) -> bool {
        self.count() == 0
    }

    fn write(&self, out: &mut Exposition, name: &str, labels: &[(&str, &str)]) {
        let bucket = format!("{name}_bucket");
        let cumulative = self.cumulative();
        let count = cumulative.last().map_or(0, |(_, n)| *n);
        for (bound, n) in cumulative {
            let le = if bound.is_infinite() {
                "+Inf".to_string()
            } else {
                bound.to_string()
            };
            let mut with_le = labels.to_vec();
            with_le.push(("le", &le));
            out.sample(&bucket, &with_le, n);
        }
        out.sample(&format!("{name}_sum"), labels, self.sum());
        out.sample(&format!("{name}_count"), labels, count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_le_is_inclusive() {
        static BOUNDS: [f64; 3] = [0.1, 1.0, 10.0];
        let h = Histogram::new(&BOUNDS);
        for v in [0.05, 0.1, 0.5, 1.0, 20.0, f64::NAN] {
            h.observe(v);
        }
        assert_eq!(h.cumulative(), vec![(0.1, 2), (1.0, 4), (10.0, 4), (f64::INFINITY, 5)]);
        assert_eq!(h.count(), 5);
        assert!((h.sum() - 21.65).abs() < 1e-9);
        assert_eq!(h.max(), Some(20.0));
        assert!((h.mean().unwrap() - 4.33).abs() < 1e-9);
        assert_eq!(Histogram::new(&BOUNDS).max(), None, "no observation, no maximum");
    }

    #[test]
    fn counters_and_gauges_move() {
        let c = Counter::new();
        c.inc();
        c.add(4);
        assert_eq!(c.get(), 5);
        let g = Gauge::new();
        g.add(3);
        g.add(-1);
        assert_eq!(g.get(), 2);
        g.set(7);
        assert_eq!(g.get(), 7);
    }
}
