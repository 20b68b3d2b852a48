//! Politeness per host: at most `per_host_concurrency` requests in flight to one host, and a
//! minimum gap between counted request starts. The key is the exact hostname, so 10,000
//! subdomains of one site are 10,000 hosts (a registrable-domain key needs a public suffix list).
//!
//! Memory stays bounded: a host's state is dropped once nobody holds or awaits it and its last
//! gap has passed; sweeps run when the table doubles since the previous one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Sweeps never run on tables smaller than this.
const MIN_SWEEP: usize = 256;

/// The per-host limits shared by every fetch of one client.
pub(crate) struct Politeness {
    concurrency: usize,
    hosts: Mutex<Hosts>,
}

struct Hosts {
    map: HashMap<String, Arc<HostState>>,
    sweep_at: usize,
}

struct HostState {
    permits: Arc<Semaphore>,
    /// The last counted start and the gap it asked for after it.
    last: Mutex<Option<(Instant, Duration)>>,
}

impl HostState {
    fn quiet(&self, now: Instant) -> bool {
        let last = *self.last.lock().unwrap_or_else(PoisonError::into_inner);
        last.is_none_or(|(start, gap)| start + gap <= now)
    }
}

/// One of a host's concurrency slots; released on drop.
pub(crate) struct HostPermit {
    state: Arc<HostState>,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Politeness {
    /// Limits of `concurrency` requests in flight per host (at least 1).
    pub(crate) fn new(concurrency: usize) -> Politeness {
        Politeness {
            concurrency: concurrency.max(1),
            hosts: Mutex::new(Hosts {
                map: HashMap::new(),
                sweep_at: MIN_SWEEP,
            }),
        }
    }

    /// Waits for a free slot on `host` (an exact, lower-case hostname).
    pub(crate) async fn acquire(&self, host: &str) -> HostPermit {
        let state = {
            let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
            if hosts.map.len() >= hosts.sweep_at {
                let now = Instant::now();
                // Holders and waiters own a clone, so a count of 1 means the map is the only user.
                hosts.map.retain(|_, s| Arc::strong_count(s) > 1 || !s.quiet(now));
                hosts.sweep_at = (hosts.map.len() * 2).max(MIN_SWEEP);
            }
            let concurrency = self.concurrency;
            hosts
                .map
                .entry(host.to_string())
                .or_insert_with(|| {
                    Arc::new(HostState {
                        permits: Arc::new(Semaphore::new(concurrency)),
                        last: Mutex::new(None),
                    })
                })
                .clone()
        };
        // The semaphore is never closed; were it, the slot would be unlimited, never a hang.
        let permit = state.permits.clone().acquire_owned().await.ok();
        HostPermit { state, _permit: permit }
    }

    /// Hosts with state right now.
    #[cfg(test)]
    pub(crate) fn tracked_hosts(&self) -> usize {
        self.hosts.lock().unwrap_or_else(PoisonError::into_inner).map.len()
    }
}

impl HostPermit {
    /// Waits until `gap` has passed since the host's previous counted start, then counts this
    /// one; when that moment is past `deadline`, returns at once with the wait it would need
    /// (nothing is counted).
    pub(crate) async fn start(&self, gap: Duration, deadline: Instant) -> Result<(), Duration> {
        let at = {
            let mut last = self.state.last.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            let at = match *last {
                Some((previous, _)) => now.max(previous + gap),
                None => now,
            };
            if at > deadline {
                return Err(at - now);
            }
            *last = Some((at, gap));
            at
        };
        tokio::time::sleep_until(at).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(3600)
    }

    #[tokio::test]
    async fn a_start_beyond_the_deadline_is_refused_at_once() {
        let polite = Politeness::new(1);
        let permit = polite.acquire("a.test").await;
        permit.start(Duration::ZERO, far()).await.expect("first");
        let soon = Instant::now() + Duration::from_millis(100);
        let wait = permit.start(Duration::from_secs(30), soon).await.expect_err("too late");
        assert!(wait > Duration::from_secs(29), "{wait:?}");
        // Nothing was counted: a short gap still starts at once.
        let begun = Instant::now();
        permit.start(Duration::ZERO, far()).await.expect("in budget");
        assert!(begun.elapsed() < Duration::from_millis(50));
    }

    #[tokio::test]
    async fn starts_are_spaced_by_the_gap() {
        let polite = Politeness::new(2);
        let begun = Instant::now();
        for _ in 0..3 {
            polite
                .acquire("a.test")
                .await
                .start(Duration::from_millis(60), far())
                .await
                .expect("in budget");
        }
        assert!(begun.elapsed() >= Duration::from_millis(120), "{:?}", begun.elapsed());
        let other = Instant::now();
        polite
            .acquire("b.test")
            .await
            .start(Duration::from_millis(60), far())
            .await
            .expect("in budget");
        assert!(other.elapsed() < Duration::from_millis(50));
    }

    #[tokio::test]
    async fn a_host_has_at_most_the_configured_slots() {
        let polite = Politeness::new(2);
        let (_a, _b) = (polite.acquire("a.test").await, polite.acquire("a.test").await);
        let third = tokio::time::timeout(Duration::from_millis(50), polite.acquire("a.test")).await;
        assert!(third.is_err(), "a third slot was granted");
        assert!(
            tokio::time::timeout(Duration::from_millis(50), polite.acquire("b.test"))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn idle_hosts_are_forgotten() {
        let polite = Politeness::new(1);
        for i in 0..(MIN_SWEEP * 3) {
            polite
                .acquire(&format!("h{i}.test"))
                .await
                .start(Duration::ZERO, far())
                .await
                .expect("in budget");
        }
        let busy = polite.acquire("busy.test").await;
        busy.start(Duration::from_secs(60), far()).await.expect("in budget");
        assert!(polite.tracked_hosts() <= MIN_SWEEP * 2, "{}", polite.tracked_hosts());
        for i in 0..(MIN_SWEEP * 2) {
            polite
                .acquire(&format!("k{i}.test"))
                .await
                .start(Duration::ZERO, far())
                .await
                .expect("in budget");
        }
        // The busy host (held, and inside its gap) survives every sweep.
        let hosts = polite.hosts.lock().unwrap_or_else(PoisonError::into_inner);
        assert!(hosts.map.contains_key("busy.test"));
    }
}
