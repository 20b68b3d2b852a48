//! Test-only fault injection, compiled only with the `fault-injection` feature: tests register
//! a domain name and a stage, and the worker handling that domain panics (or hangs) there; or a job of one
//! instance, and that job's runs fail (their body returns an error). Without the feature every
//! hook is an empty inline function.

/// Where an injected panic fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// In the Extractor's async path, before fetching.
    Async,
    /// In a parser thread, before extracting.
    Parser,
    /// In a parser thread, before extracting: the thread hangs for `HANG` instead of panicking
    /// (a page that keeps the parser busy past its deadline).
    ParserHang,
}

/// How long an injected `ParserHang` keeps its parser thread busy.
pub const HANG: std::time::Duration = std::time::Duration::from_secs(3);

#[cfg(feature = "fault-injection")]
mod imp {
    use super::Stage;
    use std::sync::Mutex;

    static FAULTS: Mutex<Vec<(String, Stage)>> = Mutex::new(Vec::new());
    // (instance, job id): keyed by instance because every test service runs the same job ids.
    static FAILING_JOBS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

    /// Makes every run of `job` on `instance` fail.
    pub fn fail_job(instance: &str, job: &str) {
        FAILING_JOBS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((instance.to_string(), job.to_string()));
    }

    /// The injected error for this run, when `fail_job` registered it.
    pub fn job_fault(instance: &str, job: &str) -> Option<String> {
        let hit = FAILING_JOBS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|(i, j)| i == instance && j == job);
        hit.then(|| format!("injected failure of job {job}"))
    }

    /// Makes every attempt at `domain` panic at `stage`.
    pub fn panic_on(domain: &str, stage: Stage) {
        FAULTS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((domain.to_string(), stage));
    }

    /// Panics when a fault is registered for this domain and stage.
    pub fn check(domain: &str, stage: Stage) {
        let hit = FAULTS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|(d, s)| d == domain && *s == stage);
        if hit && stage == Stage::ParserHang {
            std::thread::sleep(super::HANG);
        } else if hit {
            panic!("injected fault for {domain} at {stage:?}");
        }
    }
}

/// A fault injected into a pipeline actor (not a domain's worker) by naming a domain
/// `…fault-<actor>-<kind>…` (e.g. `alpha-fault-writer-wedge-1.test`): the actor handling that
/// domain — `fetcher` when dispatching it, `writer` when buffering its outcome — misbehaves once
/// per name and process. Names work through the real binary too (`serve` built with the feature).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorFault {
    /// The handler panics.
    Panic,
    /// The actor stops answering: it waits on a future that never completes (`ctx.wait`), so its
    /// mailbox is never read again while the rest of the system runs.
    Wedge,
    /// The handler blocks the actor system's thread for `BLOCK` (every actor stops with it).
    Block,
}

/// How long an injected `ActorFault::Block` blocks the actor system's thread.
pub const BLOCK: std::time::Duration = std::time::Duration::from_secs(600);

#[cfg(feature = "fault-injection")]
mod actor_imp {
    use super::ActorFault;
    use std::collections::HashSet;
    use std::sync::Mutex;

    static FIRED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

    /// The fault this domain's name injects into `actor`, the first time only.
    pub fn actor_fault(actor: &str, domain: &str) -> Option<ActorFault> {
        let kind = [
            ("panic", ActorFault::Panic),
            ("wedge", ActorFault::Wedge),
            ("block", ActorFault::Block),
        ]
        .into_iter()
        .find(|(kind, _)| domain.contains(&format!("fault-{actor}-{kind}")))?
        .1;
        let mut fired = FIRED.lock().unwrap_or_else(|e| e.into_inner());
        fired
            .get_or_insert_with(HashSet::new)
            .insert(domain.to_string())
            .then_some(kind)
    }
}

#[cfg(feature = "fault-injection")]
pub use actor_imp::actor_fault;

/// Without the feature, actors never misbehave on purpose.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn actor_fault(_actor: &str, _domain: &str) -> Option<ActorFault> {
    None
}

#[cfg(feature = "fault-injection")]
pub use imp::{check, fail_job, job_fault, panic_on};

/// Without the feature, hooks do nothing.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn check(_domain: &str, _stage: Stage) {}

/// Without the feature, jobs never fail on purpose.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn job_fault(_instance: &str, _job: &str) -> Option<String> {
    None
}
