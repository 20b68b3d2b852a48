//! robots.txt per origin (scheme+host+port): fetched once through the same guarded clients as
//! homepages, shared by concurrent fetches, cached for `robots_ttl_secs`, at most
//! `robots_cache_hosts` origins (the oldest evicted first). Every entry lives for the same TTL,
//! so insertion order is expiry order: a queue in that order makes expiry and eviction O(1)
//! amortized per insert, where a sweep of the whole map cost O(capacity) per new origin once
//! the cache was full (measured: ~5 % of the pipeline's CPU at 10,000 cached origins).
//!
//! Failure modes (RFC 9309 §2.3.1, with one deliberate deviation):
//! - 2xx: the first `robots_max_bytes` are parsed, the rest ignored;
//! - 3xx: followed up to five hops, each through the SSRF guard; more hops, or a hop the guard
//!   refuses (never requested), mean "unavailable" = allow all;
//! - 4xx other than 429, and undecodable bodies: unavailable = allow all;
//! - 429 and 5xx: unreachable = complete disallow: the homepage is not fetched, the error is
//!   `robots`, transient (it carries the status and Retry-After) and is not cached;
//! - no connection at all (DNS, connect, TLS, timeout): the homepage on the same origin would
//!   fail the same way, so that error is returned as is (its kind, its scheme fallback), named
//!   as robots.txt's, and not cached.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, LOCATION, RETRY_AFTER};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::body::read_capped;
use super::client::Inner;
use super::error::{parse_retry_after, FetchError};
use super::guard::check_url;
use super::robots::RobotsRules;
use crate::model::ErrorKind;

/// Redirect hops followed for robots.txt (RFC 9309 asks for at least five).
const ROBOTS_REDIRECTS: usize = 5;

/// The bounded, TTL'd robots.txt cache.
pub(crate) struct RobotsCache {
    ttl: Duration,
    capacity: usize,
    slots: Mutex<Slots>,
}

#[derive(Default)]
struct Slots {
    map: HashMap<String, Slot>,
    // Origins in insertion order, each with its slot's number. An entry whose number no longer
    // matches the origin's slot is stale (the origin was replaced since) and is skipped.
    order: VecDeque<(u64, String)>,
    next: u64,
}

struct Slot {
    number: u64,
    created: Instant,
    /// Empty until the first fetch succeeds; a failed fetch leaves it empty for the next caller.
    rules: Arc<OnceCell<Arc<RobotsRules>>>,
}

impl RobotsCache {
    /// A cache keeping answers for `ttl`, for at most `capacity` origins.
    pub(crate) fn new(ttl: Duration, capacity: usize) -> RobotsCache {
        RobotsCache {
            ttl,
            capacity: capacity.max(1),
            slots: Mutex::new(Slots::default()),
        }
    }

    /// The cached rules for `origin`, or the result of `fetch` (run by one caller at a time).
    pub(crate) async fn get_or_fetch<F, Fut>(
        &self,
        origin: &str,
        now: Instant,
        fetch: F,
    ) -> Result<Arc<RobotsRules>, FetchError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<RobotsRules, FetchError>>,
    {
        let cell = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            let fresh = slots
                .map
                .get(origin)
                .filter(|s| now.saturating_duration_since(s.created) < self.ttl);
            match fresh {
                Some(slot) => slot.rules.clone(),
                None => {
                    let Slots { map, order, next } = &mut *slots;
                    // Replaced below; its queue entry turns stale.
                    map.remove(origin);
                    // The front is the oldest entry: drop it while stale, expired, or over capacity.
                    while let Some((number, key)) = order.front() {
                        match map.get(key) {
                            Some(slot) if slot.number == *number => {
                                let expired = now.saturating_duration_since(slot.created) >= self.ttl;
                                if !expired && map.len() < self.capacity {
                                    break;
                                }
                                map.remove(key);
                            }
                            _ => {}
                        }
                        order.pop_front();
                    }
                    let rules = Arc::new(OnceCell::new());
                    *next += 1;
                    order.push_back((*next, origin.to_string()));
                    map.insert(
                        origin.to_string(),
                        Slot {
                            number: *next,
                            created: now,
                            rules: rules.clone(),
                        },
                    );
                    rules
                }
            }
        };
        let rules = cell.get_or_try_init(|| async { fetch().await.map(Arc::new) }).await?;
        Ok(rules.clone())
    }

    /// Origins cached right now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner).map.len()
    }
}

impl Inner {
    /// The robots.txt rules for `url`'s origin, from the cache or fetched now.
    pub(super) async fn robots_for(&self, url: &url::Url, deadline: Instant) -> Result<Arc<RobotsRules>, FetchError> {
        let origin = url.origin().ascii_serialization();
        self.robots
            .get_or_fetch(&origin, Instant::now(), || self.fetch_robots(url, deadline))
            .await
    }

    async fn fetch_robots(&self, page: &url::Url, deadline: Instant) -> Result<RobotsRules, FetchError> {
        let mut target = page
            .join("/robots.txt")
            .map_err(|e| FetchError::new(ErrorKind::Internal, format!("no robots.txt URL: {e} ({page})")))?;
        for _ in 0..=ROBOTS_REDIRECTS {
            if check_url(&target, self.allow_private).is_err() {
                return Ok(RobotsRules::allow_all());
            }
            let mut headers = HeaderMap::new();
            headers.insert(ACCEPT, HeaderValue::from_static("text/plain,*/*;q=0.1"));
            let response = match self.send(&target, headers, deadline).await {
                Ok(response) => response,
                Err(e) if e.kind == ErrorKind::Blocked => return Ok(RobotsRules::allow_all()),
                Err(mut e) => {
                    e.message = format!("robots.txt: {}", e.message);
                    return Err(e);
                }
            };
            let status = response.status();
            let location = response.headers().get(LOCATION).and_then(|v| v.to_str().ok());
            if status.is_redirection() {
                match location.and_then(|l| target.join(l).ok()) {
                    Some(next) => {
                        target = next;
                        continue;
                    }
                    None => return Ok(RobotsRules::allow_all()),
                }
            }
            if status.as_u16() == 429 || status.is_server_error() {
                let retry_after = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
                let msg = format!("robots.txt is unreachable (HTTP {status}), so nothing may be fetched ({target})");
                let mut err = FetchError::new(ErrorKind::Robots, msg).with_transient(true);
                err.http_status = Some(status.as_u16());
                err.retry_after = retry_after;
                return Err(err);
            }
            if !status.is_success() {
                return Ok(RobotsRules::allow_all());
            }
            return match read_capped(response, self.robots_max_bytes, self.read_timeout, None).await {
                Ok((body, _, _)) => Ok(RobotsRules::parse(&String::from_utf8_lossy(&body), &self.token)),
                Err(e) if matches!(e.kind, ErrorKind::Decode) => Ok(RobotsRules::allow_all()),
                Err(mut e) => {
                    e.message = format!("robots.txt: {}", e.message);
                    Err(e)
                }
            };
        }
        Ok(RobotsRules::allow_all())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(delay_secs: u64) -> RobotsRules {
        RobotsRules::parse(&format!("User-agent: *\nCrawl-delay: {delay_secs}\n"), "domaind")
    }

    async fn get(cache: &RobotsCache, origin: &str, now: Instant, delay: u64) -> Option<Duration> {
        let rules = cache
            .get_or_fetch(origin, now, || async move { Ok(rules(delay)) })
            .await;
        rules.ok().and_then(|r| r.crawl_delay())
    }

    #[tokio::test]
    async fn answers_are_reused_until_the_ttl_passes() {
        let cache = RobotsCache::new(Duration::from_secs(60), 10);
        let t0 = Instant::now();
        assert_eq!(get(&cache, "http://a.test", t0, 1).await, Some(Duration::from_secs(1)));
        let later = t0 + Duration::from_secs(59);
        assert_eq!(
            get(&cache, "http://a.test", later, 2).await,
            Some(Duration::from_secs(1))
        );
        let expired = t0 + Duration::from_secs(60);
        assert_eq!(
            get(&cache, "http://a.test", expired, 3).await,
            Some(Duration::from_secs(3))
        );
    }

    #[tokio::test]
    async fn failures_are_not_cached() {
        let cache = RobotsCache::new(Duration::from_secs(60), 10);
        let now = Instant::now();
        let failed = cache
            .get_or_fetch("http://a.test", now, || async {
                Err(FetchError::new(ErrorKind::Connect, "x"))
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(get(&cache, "http://a.test", now, 4).await, Some(Duration::from_secs(4)));
    }

    #[tokio::test]
    async fn refreshing_expired_origins_keeps_the_queue_as_short_as_the_cache() {
        let cache = RobotsCache::new(Duration::from_secs(10), 100);
        let t0 = Instant::now();
        for round in 0..50u64 {
            let now = t0 + Duration::from_secs(round * 11);
            for origin in ["http://a.test", "http://b.test", "http://c.test"] {
                assert_eq!(
                    get(&cache, origin, now, round + 1).await,
                    Some(Duration::from_secs(round + 1))
                );
            }
        }
        let slots = cache.slots.lock().unwrap();
        assert_eq!(slots.map.len(), 3);
        assert_eq!(slots.order.len(), 3, "stale queue entries were not dropped");
    }

    #[tokio::test]
    async fn the_oldest_origin_is_evicted_at_capacity() {
        let cache = RobotsCache::new(Duration::from_secs(60), 3);
        let t0 = Instant::now();
        for (i, origin) in ["http://a.test", "http://b.test", "http://c.test", "http://d.test"]
            .iter()
            .enumerate()
        {
            get(&cache, origin, t0 + Duration::from_secs(i as u64), 1).await;
        }
        assert_eq!(cache.len(), 3);
        let now = t0 + Duration::from_secs(5);
        assert_eq!(get(&cache, "http://b.test", now, 9).await, Some(Duration::from_secs(1)));
        assert_eq!(get(&cache, "http://a.test", now, 9).await, Some(Duration::from_secs(9)));
    }
}
