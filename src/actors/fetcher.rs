//! `Fetcher`: on each `Tick` starts a drain — claim rows sized to free capacity, dispatch them
//! round-robin to the Extractors, and keep claiming as writes free capacity, until the tick's
//! limit is reached or no row is claimable; the drain answers once all its domains are written.
//! It also renews the leases of everything in flight every `lease / 3`.
//!
//! Capacity (`pipeline.concurrency`) counts domains claimed and not yet written, so a slow
//! database slows claiming (backpressure) and memory stays flat whatever the backlog.
//!
//! Supervised (`supervised::start_child`): `in_flight` is the truth a restart keeps; a restart
//! recomputes from it what the dropped work (a claim in progress, a dispatch cut short) would
//! have updated. Rows a dropped claim took are not in `in_flight`, so their leases are not
//! renewed: they expire and are reclaimed like any lost claim.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use serde::Serialize;
use tokio::sync::oneshot;

use super::db_writer::BatchWritten;
use super::extractor::{Extract, Extractor};
use super::state::ServiceState;
use super::supervised::Ping;
use crate::faults::{self, ActorFault};
use crate::model::ClaimedDomain;
use crate::store::Store;

/// Run one drain of at most `limit` domains; answers when they are all written.
#[derive(Message)]
#[rtype(result = "DrainReport")]
pub struct Tick {
    /// Most domains this drain may claim.
    pub limit: usize,
    /// Keep the list of processed domains in the report (the dev endpoint shows it).
    pub list_domains: bool,
}

/// Stop starting drains and claiming (shutdown).
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopClaiming;

/// How many domains are claimed and not yet written.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct InFlight;

/// One domain a drain processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProcessedDomain {
    /// `domains.id`.
    pub domain_id: i64,
    /// The domain name.
    pub domain: String,
}

/// What a drain did, in the Python pattern's terms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DrainReport {
    /// Domains claimed and written.
    pub processed: usize,
    /// Of those, completed.
    pub successful: usize,
    /// Of those, attempts that did not complete (errors, retries, fenced-out writes).
    pub failed: usize,
    /// Every processed domain (when asked for).
    pub domains: Vec<ProcessedDomain>,
    /// Set when the drain stopped early (database error, shutdown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

struct Drain {
    remaining: usize,
    exhausted: bool,
    outstanding: usize,
    list_domains: bool,
    report: DrainReport,
    reply: oneshot::Sender<DrainReport>,
}

/// The claiming actor.
pub struct Fetcher {
    store: Store,
    state: Arc<ServiceState>,
    extractors: Vec<Addr<Extractor>>,
    next_extractor: usize,
    concurrency: usize,
    claim_batch: usize,
    lease: Duration,
    // Domain id → the drain it belongs to and the row's tenant; an entry lives from claim until
    // its write is reported.
    in_flight: HashMap<i64, (u64, String)>,
    // `pipeline.max_in_flight_per_tenant` (0 = none) and, when set, rows in flight per tenant.
    tenant_cap: usize,
    tenant_in_flight: HashMap<String, usize>,
    drains: BTreeMap<u64, Drain>,
    next_drain: u64,
    claiming: bool,
    // A write arrived while a claim was running (its freed capacity is not in the claim's view).
    wrote_during_claim: bool,
    accepting: bool,
}

impl Fetcher {
    /// A Fetcher dispatching to `extractors`, with the `[pipeline]` capacity settings.
    pub fn new(
        store: Store,
        state: Arc<ServiceState>,
        extractors: Vec<Addr<Extractor>>,
        concurrency: usize,
        claim_batch: usize,
        tenant_cap: usize,
        lease: Duration,
    ) -> Fetcher {
        Fetcher {
            store,
            state,
            extractors,
            next_extractor: 0,
            concurrency,
            claim_batch,
            lease,
            in_flight: HashMap::new(),
            tenant_cap,
            tenant_in_flight: HashMap::new(),
            drains: BTreeMap::new(),
            next_drain: 0,
            claiming: false,
            wrote_during_claim: false,
            accepting: true,
        }
    }

    /// Claims for the oldest drain that still wants rows, if there is capacity.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        if self.claiming || !self.accepting {
            return;
        }
        let free = self.concurrency.saturating_sub(self.in_flight.len());
        let Some((&drain_id, drain)) = self.drains.iter().find(|(_, d)| !d.exhausted && d.remaining > 0) else {
            return;
        };
        let n = free.min(self.claim_batch).min(drain.remaining);
        if n == 0 {
            return;
        }
        self.claiming = true;
        self.wrote_during_claim = false;
        let store = self.store.clone();
        let owner = self.state.instance.clone();
        let lease = self.lease;
        let (cap, tenants) = (self.tenant_cap, self.tenant_in_flight.clone());
        let metrics = self.state.metrics.clone();
        let claim = async move {
            let started = std::time::Instant::now();
            let claimed = match cap {
                0 => store.claim(&owner, n, lease).await.map(|rows| (rows, false)),
                cap => store.claim_capped(&owner, n, lease, cap, &tenants).await,
            };
            metrics.claim_seconds.observe_duration(started.elapsed());
            claimed
        };
        ctx.spawn(claim.into_actor(self).map(move |result, act, ctx| {
            act.claiming = false;
            // Held back by the per-tenant cap: claim again when a write frees room, not now.
            let mut wait_for_writes = false;
            match result {
                Ok((rows, capped)) => {
                    let got = rows.len();
                    tracing::debug!(requested = n, claimed = got, "claim");
                    act.state.metrics.claim_batch_size.observe(got as f64);
                    if let Some(drain) = act.drains.get_mut(&drain_id) {
                        drain.remaining -= got.min(drain.remaining);
                        drain.outstanding += got;
                        // A capped tenant still has rows: claim again once its writes free room.
                        if got < n && !capped {
                            drain.exhausted = true;
                        }
                    }
                    // Only when a write is still to come: otherwise nothing would wake the drain.
                    wait_for_writes = capped && got < n && !act.wrote_during_claim && !act.in_flight.is_empty();
                    for row in rows {
                        act.dispatch(drain_id, row);
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "claim failed; ending the drain");
                    if let Some(drain) = act.drains.get_mut(&drain_id) {
                        drain.exhausted = true;
                        drain.report.error = Some(format!("claim failed: {e}"));
                    }
                }
            }
            act.finish_drains();
            if !wait_for_writes {
                act.pump(ctx);
            }
        }));
    }

    fn release_tenant(&mut self, tenant: &str) {
        if let Some(count) = self.tenant_in_flight.get_mut(tenant) {
            *count -= 1;
            if *count == 0 {
                self.tenant_in_flight.remove(tenant);
            }
        }
    }

    /// Drops an earlier claim of a row that was claimed again: it no longer counts against its
    /// tenant or its drain.
    fn forget(&mut self, drain_id: u64, tenant: &str) {
        self.release_tenant(tenant);
        if let Some(drain) = self.drains.get_mut(&drain_id) {
            drain.outstanding = drain.outstanding.saturating_sub(1);
        }
    }

    fn dispatch(&mut self, drain_id: u64, row: ClaimedDomain) {
        if let Some(ActorFault::Panic) = faults::actor_fault("fetcher", &row.domain) {
            panic!("injected panic in the fetcher");
        }
        if self.tenant_cap > 0 {
            *self.tenant_in_flight.entry(row.tenant_id.clone()).or_default() += 1;
        }
        if let Some((old_drain, old_tenant)) = self.in_flight.insert(row.id, (drain_id, row.tenant_id.clone())) {
            // Claimed again while an earlier claim of ours was still out (its lease lapsed and
            // was reclaimed): that claim is over; its late write is fenced out.
            self.forget(old_drain, &old_tenant);
        }
        self.state.metrics.domains_in_flight.set(self.in_flight.len() as i64);
        let extractor = &self.extractors[self.next_extractor % self.extractors.len()];
        self.next_extractor = self.next_extractor.wrapping_add(1);
        extractor.do_send(Extract(row));
    }

    fn finish_drains(&mut self) {
        let done: Vec<u64> = self
            .drains
            .iter()
            .filter(|(_, d)| (d.exhausted || d.remaining == 0 || !self.accepting) && d.outstanding == 0)
            .map(|(id, _)| *id)
            .collect();
        for id in done {
            if let Some(drain) = self.drains.remove(&id) {
                let _ = drain.reply.send(drain.report);
            }
        }
    }
}

impl Actor for Fetcher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(1024);
        self.state.started("fetcher");
        // After a restart: drains still open go on claiming.
        self.pump(ctx);
        let every = (self.lease / 3).max(Duration::from_millis(100));
        ctx.run_interval(every, |act, ctx| {
            if act.in_flight.is_empty() {
                return;
            }
            let store = act.store.clone();
            let owner = act.state.instance.clone();
            let lease = act.lease;
            let ids: Vec<i64> = act.in_flight.keys().copied().collect();
            ctx.spawn(
                async move {
                    match store.renew_leases(&owner, &ids, lease).await {
                        Ok(n) => tracing::debug!(renewed = n, "leases renewed"),
                        Err(e) => tracing::warn!(error = %e, "lease renewal failed"),
                    }
                }
                .into_actor(act),
            );
        });
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.state.stopped("fetcher");
    }
}

impl Supervised for Fetcher {
    fn restarting(&mut self, _: &mut Context<Self>) {
        // A claim in progress was dropped; whatever it took is not in `in_flight`.
        self.claiming = false;
        self.wrote_during_claim = false;
        if self.tenant_cap > 0 {
            self.tenant_in_flight.clear();
            for (_, tenant) in self.in_flight.values() {
                *self.tenant_in_flight.entry(tenant.clone()).or_default() += 1;
            }
        }
        for (id, drain) in self.drains.iter_mut() {
            drain.outstanding = self.in_flight.values().filter(|(d, _)| d == id).count();
        }
        self.state.metrics.domains_in_flight.set(self.in_flight.len() as i64);
        self.finish_drains();
    }
}

impl Handler<Ping> for Fetcher {
    type Result = ();

    fn handle(&mut self, _: Ping, _: &mut Context<Self>) {}
}

impl Handler<Tick> for Fetcher {
    type Result = ResponseFuture<DrainReport>;

    fn handle(&mut self, msg: Tick, ctx: &mut Context<Self>) -> Self::Result {
        let (reply, rx) = oneshot::channel();
        if !self.accepting {
            let _ = reply.send(DrainReport {
                error: Some("the service is shutting down".into()),
                ..Default::default()
            });
        } else {
            let id = self.next_drain;
            self.next_drain += 1;
            let drain = Drain {
                remaining: msg.limit,
                exhausted: msg.limit == 0,
                outstanding: 0,
                list_domains: msg.list_domains,
                report: DrainReport::default(),
                reply,
            };
            self.drains.insert(id, drain);
            self.finish_drains();
            self.pump(ctx);
        }
        Box::pin(async move {
            rx.await.unwrap_or_else(|_| DrainReport {
                error: Some("the pipeline stopped".into()),
                ..Default::default()
            })
        })
    }
}

impl Handler<BatchWritten> for Fetcher {
    type Result = ();

    fn handle(&mut self, msg: BatchWritten, ctx: &mut Context<Self>) {
        for written in msg.0.domains {
            if self.claiming {
                self.wrote_during_claim = true;
            }
            let Some((drain_id, tenant)) = self.in_flight.remove(&written.id) else {
                continue;
            };
            self.release_tenant(&tenant);
            let Some(drain) = self.drains.get_mut(&drain_id) else {
                continue;
            };
            drain.outstanding = drain.outstanding.saturating_sub(1);
            drain.report.processed += 1;
            if written.success && written.applied {
                drain.report.successful += 1;
            } else {
                drain.report.failed += 1;
            }
            if drain.list_domains {
                drain.report.domains.push(ProcessedDomain {
                    domain_id: written.id,
                    domain: written.domain,
                });
            }
        }
        self.state.metrics.domains_in_flight.set(self.in_flight.len() as i64);
        self.finish_drains();
        self.pump(ctx);
    }
}

impl Handler<StopClaiming> for Fetcher {
    type Result = ();

    fn handle(&mut self, _: StopClaiming, _: &mut Context<Self>) {
        self.accepting = false;
        self.finish_drains();
    }
}

impl Handler<InFlight> for Fetcher {
    type Result = usize;

    fn handle(&mut self, _: InFlight, _: &mut Context<Self>) -> usize {
        self.in_flight.len()
    }
}

/// Answer every open drain with what it has (end of shutdown).
#[derive(Message)]
#[rtype(result = "()")]
pub struct EndDrains;

impl Handler<EndDrains> for Fetcher {
    type Result = ();

    fn handle(&mut self, _: EndDrains, _: &mut Context<Self>) {
        for (_, mut drain) in std::mem::take(&mut self.drains) {
            if drain.outstanding > 0 {
                drain.report.error = Some(format!(
                    "shutdown: {} domains were still in flight and were released back to pending",
                    drain.outstanding
                ));
            }
            let _ = drain.reply.send(drain.report);
        }
    }
}
