//! Running a child actor under supervision. `start_child` runs the actor's context inside a
//! future that catches panics — of handlers, timers and the actor's spawned futures alike — and
//! restarts the actor in place: same address, queued messages kept, after a backoff that doubles
//! with the actor's restarts (50 ms up to 3.2 s). Three things restart a child:
//! - a panic (recorded here as `panicked: <message>`);
//! - an unexpected stop (recorded here, unless the actor records its own failure before stopping,
//!   as an Extractor does when a domain's task crashed);
//! - a pulled [`KillSwitch`]: the Supervisor pulls it when the child did not answer a liveness
//!   [`Ping`] in time (the Supervisor records that failure).
//!
//! A restart drops whatever the actor was waiting on or running (`ctx.wait`, `ctx.spawn`, its
//! intervals), calls its `Supervised::restarting` hook — where each actor reconciles the state
//! the dropped work would have updated — and then `started` again. Restarts count toward the
//! restart intensity in `ServiceState` like every other crash. During shutdown (draining) a
//! stopped child stays stopped.
//!
//! What no in-process supervisor can restart is a handler that blocks its thread: the whole
//! actor system (Supervisor included) stops with it. The `watchdog` thread covers that case.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use actix::dev::ContextFut;
use actix::prelude::*;
use futures_util::task::AtomicWaker;

use super::parser_pool::panic_message;
use super::state::ServiceState;

/// Liveness probe: every child answers it; one that does not within
/// `supervisor.liveness_timeout_secs` is restarted.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Ping;

/// Lets the Supervisor restart a child that stopped answering.
#[derive(Debug, Default)]
pub struct KillSwitch {
    pulled: AtomicBool,
    waker: AtomicWaker,
}

impl KillSwitch {
    /// Restarts the child at its next poll (whatever it is waiting on is dropped).
    pub fn pull(&self) {
        self.pulled.store(true, Ordering::SeqCst);
        self.waker.wake();
    }
}

/// What the Supervisor keeps of each child: its name, where to ping it, how to restart it.
pub struct ChildHandle {
    /// The name in `/api/v1/status` (`db_writer`, `fetcher`, `extractor-0`, ...).
    pub name: String,
    /// The child's address, as a liveness-ping recipient.
    pub ping: Recipient<Ping>,
    /// Restarts the child.
    pub kill: Arc<KillSwitch>,
}

/// Who records the failure when a child stops by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnStops {
    /// The actor records its failure before stopping (Extractors).
    Recorded,
    /// A stop is unexpected and recorded here (DbWriter, Fetcher, Scheduler).
    Unexpected,
}

/// Starts `act` under supervision (see the module docs) on the current arbiter.
pub fn start_child<A>(name: &str, state: Arc<ServiceState>, act: A, own_stops: OwnStops) -> (Addr<A>, ChildHandle)
where
    A: Actor<Context = Context<A>> + Supervised + Handler<Ping>,
{
    let ctx = Context::new();
    let addr = ctx.address();
    let kill = Arc::new(KillSwitch::default());
    actix_rt::spawn(Restarting {
        fut: ctx.into_future(act),
        name: name.to_string(),
        state,
        kill: kill.clone(),
        own_stops,
        backoff: None,
    });
    let handle = ChildHandle {
        name: name.to_string(),
        ping: addr.clone().recipient(),
        kill,
    };
    (addr, handle)
}

/// The backoff before restart number `restarts` of one actor: 50 ms doubling, at most 3.2 s.
pub fn restart_backoff(restarts: u64) -> Duration {
    Duration::from_millis(50u64 << restarts.min(6))
}

struct Restarting<A: Actor<Context = Context<A>>> {
    fut: ContextFut<A, Context<A>>,
    name: String,
    state: Arc<ServiceState>,
    kill: Arc<KillSwitch>,
    own_stops: OwnStops,
    backoff: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<A> Restarting<A>
where
    A: Actor<Context = Context<A>> + Supervised,
{
    /// Restarts the actor after a backoff; false when nobody can send it messages any more.
    fn restart(&mut self) -> bool {
        if !self.fut.restart() {
            return false;
        }
        let delay = restart_backoff(self.state.restarts_of(&self.name));
        self.backoff = Some(Box::pin(tokio::time::sleep(delay)));
        true
    }
}

impl<A> Future for Restarting<A>
where
    A: Actor<Context = Context<A>> + Supervised,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            if let Some(backoff) = this.backoff.as_mut() {
                if backoff.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.backoff = None;
            }
            this.kill.waker.register(cx.waker());
            if this.kill.pulled.swap(false, Ordering::SeqCst) {
                // The Supervisor has recorded why.
                tracing::warn!(actor = %this.name, "restarting an actor that stopped answering");
                if !this.restart() {
                    return Poll::Ready(());
                }
                continue;
            }
            match catch_unwind(AssertUnwindSafe(|| Pin::new(&mut this.fut).poll(cx))) {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(())) => {
                    if this.state.is_draining() {
                        return Poll::Ready(());
                    }
                    if this.own_stops == OwnStops::Unexpected {
                        this.state.record_restart(&this.name, "stopped unexpectedly");
                    }
                    if !this.restart() {
                        return Poll::Ready(());
                    }
                }
                Err(panic) => {
                    let message = panic_message(panic.as_ref());
                    this.state.record_restart(&this.name, &format!("panicked: {message}"));
                    if !this.restart() {
                        return Poll::Ready(());
                    }
                }
            }
        }
    }
}
