//! `Extractor`: takes claimed domains and turns each into an `Outcome` — fetch the homepage
//! (async), extract on the parser pool, hand the outcome to the DbWriter. Each domain runs as
//! its own task, so one Extractor has many domains in flight; the Fetcher bounds the total.
//!
//! A panic while processing a domain is caught: that attempt is recorded as `internal`, the
//! Extractor reports `Crashed` to itself, records the failure and stops, and its supervision
//! (`supervised::start_child`) restarts it with the same address (queued messages are kept),
//! after a backoff that grows with its restarts. Domains already in flight are tasks of their
//! own and finish regardless.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use actix::prelude::*;
use chrono::Utc;
use futures_util::FutureExt;

use super::db_writer::{DbWriter, Record};
use super::parser_pool::{panic_message, ParserPool};
use super::state::ServiceState;
use super::supervised::Ping;
use crate::faults::{self, Stage};
use crate::fetch::{Fetched, HttpClient, Validators};
use crate::metrics::Metrics;
use crate::model::{jitter, ClaimedDomain, ErrorKind, Outcome, OutcomeKind, RetryPolicy};

/// Process one claimed domain.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Extract(pub ClaimedDomain);

/// A domain's task panicked; the actor restarts (notification to self).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Crashed(pub String);

/// One extractor actor of the pool.
pub struct Extractor {
    name: String,
    retry: RetryPolicy,
    client: HttpClient,
    parsers: ParserPool,
    writer: Addr<DbWriter>,
    state: Arc<ServiceState>,
}

impl Extractor {
    /// Extractor number `index` of the pool.
    pub fn new(
        index: usize,
        retry: RetryPolicy,
        client: HttpClient,
        parsers: ParserPool,
        writer: Addr<DbWriter>,
        state: Arc<ServiceState>,
    ) -> Extractor {
        Extractor {
            name: format!("extractor-{index}"),
            retry,
            client,
            parsers,
            writer,
            state,
        }
    }
}

impl Actor for Extractor {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        self.state.started(&self.name);
    }
}

impl Supervised for Extractor {
    fn restarting(&mut self, _: &mut Context<Self>) {
        tracing::info!(actor = %self.name, "restarting");
    }
}

impl Handler<Ping> for Extractor {
    type Result = ();

    fn handle(&mut self, _: Ping, _: &mut Context<Self>) {}
}

impl Handler<Extract> for Extractor {
    type Result = ();

    fn handle(&mut self, msg: Extract, ctx: &mut Context<Self>) {
        let claimed = msg.0;
        let client = self.client.clone();
        let parsers = self.parsers.clone();
        let retry = self.retry;
        let writer = self.writer.clone();
        let metrics = self.state.metrics.clone();
        let me = ctx.address();
        let span =
            tracing::info_span!("domain", domain = %claimed.domain, domain_id = claimed.id, attempt = claimed.attempts);
        // Detached from the actor: a restart of this actor must not cancel other domains in flight.
        actix_rt::spawn(tracing::Instrument::instrument(
            async move {
                let started_at = Utc::now();
                let attempt = AssertUnwindSafe(attempt(claimed.clone(), retry, client, parsers, metrics))
                    .catch_unwind()
                    .await;
                let outcome = attempt.unwrap_or_else(|panic| {
                    let message = panic_message(panic.as_ref());
                    me.do_send(Crashed(format!("{}: {message}", claimed.domain)));
                    // A panic is transient but bounded by max_attempts: a poison pill ends in `error`.
                    let retry_in = retry.next_delay(claimed.attempts, true, None, jitter(claimed.claim_token));
                    Outcome {
                        claimed,
                        kind: OutcomeKind::Failed {
                            kind: ErrorKind::Internal,
                            message: format!("worker panicked: {message}"),
                            retry_in,
                        },
                        started_at,
                        finished_at: Utc::now(),
                        http_status: None,
                    }
                });
                if let Err(e) = writer.send(Record(outcome)).await {
                    // Only possible when the writer is gone (shutdown); the lease brings the row back.
                    tracing::error!(error = %e, "cannot hand the outcome to the writer");
                }
            },
            span,
        ));
    }
}

impl Handler<Crashed> for Extractor {
    type Result = ();

    fn handle(&mut self, msg: Crashed, ctx: &mut Context<Self>) {
        self.state.record_restart(&self.name, &msg.0);
        ctx.stop();
    }
}

/// One attempt at a claimed domain: fetch, then extract on the parser pool.
async fn attempt(
    claimed: ClaimedDomain,
    retry: RetryPolicy,
    client: HttpClient,
    parsers: ParserPool,
    metrics: Arc<Metrics>,
) -> Outcome {
    let started_at = Utc::now();
    faults::check(&claimed.domain, Stage::Async);
    let retry_in = |transient: bool, retry_after| {
        retry.next_delay(claimed.attempts, transient, retry_after, jitter(claimed.claim_token))
    };
    // A re-crawl presents the last good validators; a 304 keeps the stored metadata.
    let validators = Validators {
        etag: claimed.etag.clone(),
        last_modified: claimed.last_modified.clone(),
    };
    let validators = (!validators.is_empty()).then_some(validators);
    let fetch_started = std::time::Instant::now();
    let fetched = client.fetch_homepage_with(&claimed.domain, validators.as_ref()).await;
    metrics.fetch_seconds.observe_duration(fetch_started.elapsed());
    let (kind, http_status) = match fetched {
        Err(e) => {
            tracing::debug!(error_kind = %e.kind, reason = %e.message, "attempt failed");
            let retry_in = retry_in(e.is_transient(), e.retry_after);
            (
                OutcomeKind::Failed {
                    kind: e.kind,
                    message: e.message,
                    retry_in,
                },
                e.http_status,
            )
        }
        Ok(Fetched::NotModified { status, .. }) => (OutcomeKind::NotModified, Some(status)),
        Ok(Fetched::Page(mut page)) => {
            let status = page.status;
            let body = std::mem::take(&mut page.body);
            let body_len = body.len() as u64;
            let parse_started = std::time::Instant::now();
            let parsed = parsers
                .parse(&claimed.domain, body, page.final_url.clone(), page.content_type.clone())
                .await;
            metrics.extract_seconds.observe_duration(parse_started.elapsed());
            match parsed {
                Err(e) => (
                    OutcomeKind::Failed {
                        kind: ErrorKind::Internal,
                        message: e.to_string(),
                        retry_in: retry_in(true, None),
                    },
                    Some(status),
                ),
                Ok(mut meta) => {
                    page.fill_request_facts(&mut meta, body_len);
                    tracing::debug!(
                        status,
                        bytes = body_len,
                        title = meta.title.as_deref().unwrap_or(""),
                        "page extracted"
                    );
                    (OutcomeKind::Completed(Box::new(meta)), Some(status))
                }
            }
        }
    };
    Outcome {
        claimed,
        kind,
        started_at,
        finished_at: Utc::now(),
        http_status,
    }
}
