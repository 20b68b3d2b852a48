//! The in-flight body budget (`fetch.max_body_bytes_in_flight`): one limit on the bytes that
//! homepage bodies hold at once, whatever `pipeline.concurrency` × `fetch.max_body_bytes` would
//! allow. A body reserves room (in KiB) before its buffer grows and keeps it until the page is
//! parsed and dropped. A body that cannot get room within the read timeout fails that attempt
//! as a transient `timeout` (retried later), so a burst of huge pages costs time, not memory.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

const UNIT: usize = 1024;

/// The shared budget; clones share it.
#[derive(Debug, Clone)]
pub struct BodyBudget {
    room: Arc<Semaphore>,
    total_kib: u32,
}

/// The room one body holds; given back when dropped.
#[derive(Debug, Default)]
pub struct BodyLease {
    permit: Option<OwnedSemaphorePermit>,
}

/// No room came free in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRoom {
    /// The budget, in bytes.
    pub budget_bytes: u64,
}

impl BodyBudget {
    /// A budget of `bytes` (rounded up to whole KiB, at least one).
    pub fn new(bytes: u64) -> BodyBudget {
        let kib = bytes
            .div_ceil(UNIT as u64)
            .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize) as u64);
        let total_kib = kib as u32;
        BodyBudget {
            room: Arc::new(Semaphore::new(total_kib as usize)),
            total_kib,
        }
    }

    /// Grows `lease` to cover `bytes`, waiting up to `wait` for room. A request larger than the
    /// whole budget is cut to the budget (the body cap, checked elsewhere, is the real limit).
    pub async fn reserve(&self, lease: &mut BodyLease, bytes: usize, wait: Duration) -> Result<(), NoRoom> {
        let want = (bytes.div_ceil(UNIT).min(self.total_kib as usize)) as u32;
        let held = lease.permit.as_ref().map_or(0, |p| p.num_permits() as u32);
        if want <= held {
            return Ok(());
        }
        let more = self.room.clone().acquire_many_owned(want - held);
        match tokio::time::timeout(wait, more).await {
            Ok(Ok(permit)) => {
                match &mut lease.permit {
                    Some(held) => held.merge(permit),
                    None => lease.permit = Some(permit),
                }
                Ok(())
            }
            // The semaphore is never closed; a timeout is the only way to get here.
            _ => Err(NoRoom {
                budget_bytes: u64::from(self.total_kib) * UNIT as u64,
            }),
        }
    }

    /// Bytes of the budget not held by any body right now.
    pub fn available_bytes(&self) -> u64 {
        self.room.available_permits() as u64 * UNIT as u64
    }
}

impl BodyLease {
    /// Bytes this lease holds.
    pub fn bytes(&self) -> u64 {
        self.permit.as_ref().map_or(0, |p| p.num_permits() as u64 * UNIT as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn leases_grow_share_the_budget_and_give_it_back_when_dropped() {
        let budget = BodyBudget::new(10 * 1024);
        let wait = Duration::from_millis(50);
        let mut a = BodyLease::default();
        budget.reserve(&mut a, 3000, wait).await.unwrap();
        assert_eq!(a.bytes(), 3 * 1024);
        budget.reserve(&mut a, 6 * 1024, wait).await.unwrap();
        assert_eq!((a.bytes(), budget.available_bytes()), (6 * 1024, 4 * 1024));
        // Asking for less than is held changes nothing.
        budget.reserve(&mut a, 10, wait).await.unwrap();
        assert_eq!(a.bytes(), 6 * 1024);
        let mut b = BodyLease::default();
        assert_eq!(
            budget.reserve(&mut b, 5 * 1024, wait).await,
            Err(NoRoom {
                budget_bytes: 10 * 1024
            })
        );
        assert_eq!(b.bytes(), 0, "a failed reservation holds nothing");
        drop(a);
        assert_eq!(budget.available_bytes(), 10 * 1024);
        budget.reserve(&mut b, 5 * 1024, wait).await.unwrap();
        assert_eq!(b.bytes(), 5 * 1024);
    }

    #[tokio::test]
    async fn a_waiting_body_gets_room_as_soon_as_another_is_dropped() {
        let budget = BodyBudget::new(4 * 1024);
        let mut a = BodyLease::default();
        budget
            .reserve(&mut a, 4 * 1024, Duration::from_millis(10))
            .await
            .unwrap();
        let (waiter_budget, mut b) = (budget.clone(), BodyLease::default());
        let waiter = tokio::spawn(async move {
            let got = waiter_budget.reserve(&mut b, 2 * 1024, Duration::from_secs(5)).await;
            (got, b.bytes())
        });
        tokio::task::yield_now().await;
        drop(a);
        assert_eq!(waiter.await.unwrap(), (Ok(()), 2 * 1024));
    }

    #[tokio::test]
    async fn a_request_over_the_whole_budget_is_cut_to_it() {
        let budget = BodyBudget::new(2048);
        let mut a = BodyLease::default();
        budget
            .reserve(&mut a, 1 << 20, Duration::from_millis(10))
            .await
            .unwrap();
        assert_eq!((a.bytes(), budget.available_bytes()), (2048, 0));
    }
}
