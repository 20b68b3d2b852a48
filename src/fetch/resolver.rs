//! Name resolution for the fetch clients: `fetch.resolve_override` patterns first, then the
//! system resolver, with the SSRF guard applied to every address a name resolves to.
//!
//! Override patterns are an exact host (`shop.test`) or `*.suffix`, which matches every name
//! *below* the suffix (`a.test`, `x.y.test`) but not the suffix itself (`test`); an exact
//! pattern wins over wildcards, and the longest wildcard wins among several. Overridden names
//! skip the guard (their targets are loopback by construction) and never reach DNS.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::guard::blocked_reason;
use crate::settings::OverrideTarget;

/// `resolve_override` as a lookup table.
#[derive(Debug, Default)]
pub(crate) struct Overrides {
    exact: BTreeMap<String, OverrideTarget>,
    /// `(".suffix", target)`, longest suffix first.
    suffixes: Vec<(String, OverrideTarget)>,
}

impl Overrides {
    /// Builds the table from the settings map (patterns are matched case-insensitively).
    pub(crate) fn new(map: &BTreeMap<String, OverrideTarget>) -> Overrides {
        let mut table = Overrides::default();
        for (pattern, target) in map {
            let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
            match pattern.strip_prefix("*.") {
                Some(suffix) => table.suffixes.push((format!(".{suffix}"), target.clone())),
                None => {
                    table.exact.insert(pattern, target.clone());
                }
            }
        }
        table
            .suffixes
            .sort_by_key(|(suffix, _)| std::cmp::Reverse(suffix.len()));
        table
    }

    /// The target for `host`, if a pattern matches it.
    pub(crate) fn find(&self, host: &str) -> Option<&OverrideTarget> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if let Some(target) = self.exact.get(&host) {
            return Some(target);
        }
        self.suffixes
            .iter()
            .find(|(suffix, _)| host.ends_with(suffix.as_str()))
            .map(|(_, target)| target)
    }
}

/// How a resolution failed; decides the `ErrorKind` and whether another scheme is worth a try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResolveFailure {
    /// NXDOMAIN or no addresses: permanent.
    NotFound,
    /// SERVFAIL, timeout or another resolver problem: transient.
    Temporary,
    /// An address is refused by the SSRF guard.
    Blocked,
    /// The name is overridden, but not for this scheme (a connection error by contract).
    NoOverride,
}

/// A resolution failure, carried through reqwest's error chain to `classify`.
#[derive(Debug, Clone)]
pub(crate) struct ResolveError {
    /// What kind of failure.
    pub(crate) failure: ResolveFailure,
    /// The name being resolved.
    pub(crate) host: String,
    /// Resolver message, refused address, or scheme.
    pub(crate) detail: String,
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (host, detail) = (&self.host, &self.detail);
        match self.failure {
            ResolveFailure::NotFound => write!(f, "DNS: name not found (permanent): {host}: {detail}"),
            ResolveFailure::Temporary => write!(f, "DNS: temporary failure: {host}: {detail}"),
            ResolveFailure::Blocked => write!(f, "{host} resolves to a forbidden address {detail}"),
            ResolveFailure::NoOverride => write!(f, "{host} has a resolve_override with no address for {detail}"),
        }
    }
}

impl std::error::Error for ResolveError {}

/// The resolver of one reqwest client; each client serves one scheme.
#[derive(Clone)]
pub(crate) struct GuardedResolver {
    scheme: &'static str,
    overrides: Arc<Overrides>,
    allow_private: bool,
}

impl GuardedResolver {
    /// A resolver for `scheme` (`http` / `https`).
    pub(crate) fn new(scheme: &'static str, overrides: Arc<Overrides>, allow_private: bool) -> GuardedResolver {
        GuardedResolver {
            scheme,
            overrides,
            allow_private,
        }
    }

    /// Resolves `host` to the addresses a connection may use.
    pub(crate) async fn lookup(&self, host: &str) -> Result<Vec<SocketAddr>, ResolveError> {
        let fail = |failure, detail: String| ResolveError {
            failure,
            host: host.to_string(),
            detail,
        };
        if let Some(target) = self.overrides.find(host) {
            // A non-zero port survives hyper-util's `set_port` unless the URL names a port.
            return match target.for_scheme(self.scheme) {
                Some(addr) => Ok(vec![addr]),
                None => Err(fail(ResolveFailure::NoOverride, self.scheme.to_string())),
            };
        }
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, 0)],
            Err(_) => match tokio::net::lookup_host((host, 0)).await {
                Ok(found) => found.collect(),
                Err(e) => return Err(fail(gai_failure(&e), e.to_string())),
            },
        };
        if addrs.is_empty() {
            return Err(fail(ResolveFailure::NotFound, "no addresses".to_string()));
        }
        if !self.allow_private {
            for addr in &addrs {
                if let Some(why) = blocked_reason(addr.ip()) {
                    return Err(fail(ResolveFailure::Blocked, format!("{} ({why})", addr.ip())));
                }
            }
        }
        Ok(addrs)
    }
}

/// getaddrinfo reports failures as text only; NXDOMAIN-like ones are permanent.
fn gai_failure(e: &std::io::Error) -> ResolveFailure {
    let text = e.to_string().to_ascii_lowercase();
    let not_found = [
        "not known",
        "no address associated",
        "nodename nor servname",
        "no such host",
    ];
    if not_found.iter().any(|needle| text.contains(needle)) {
        ResolveFailure::NotFound
    } else {
        ResolveFailure::Temporary
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs = this.lookup(&host).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("test address")
    }

    fn table() -> Overrides {
        let mut map = BTreeMap::new();
        map.insert("*.test".to_string(), OverrideTarget::All(addr("127.0.0.1:1000")));
        map.insert("*.deep.test".to_string(), OverrideTarget::All(addr("127.0.0.1:2000")));
        map.insert("Exact.Example".to_string(), OverrideTarget::All(addr("127.0.0.1:3000")));
        map.insert("a.deep.test".to_string(), OverrideTarget::All(addr("127.0.0.1:4000")));
        map.insert(
            "split.example".to_string(),
            OverrideTarget::PerScheme {
                http: Some(addr("127.0.0.1:5000")),
                https: None,
            },
        );
        Overrides::new(&map)
    }

    fn port(t: &Overrides, host: &str) -> Option<u16> {
        t.find(host)
            .and_then(|target| target.for_scheme("http"))
            .map(|a| a.port())
    }

    #[test]
    fn override_patterns_match_exact_names_and_subdomains_only() {
        let t = table();
        assert_eq!(port(&t, "a.test"), Some(1000));
        assert_eq!(port(&t, "x.y.test"), Some(1000));
        assert_eq!(port(&t, "A.TEST."), Some(1000));
        assert_eq!(port(&t, "test"), None);
        assert_eq!(port(&t, "atest"), None);
        assert_eq!(port(&t, "b.deep.test"), Some(2000));
        assert_eq!(port(&t, "deep.test"), Some(1000));
        assert_eq!(port(&t, "a.deep.test"), Some(4000));
        assert_eq!(port(&t, "exact.example"), Some(3000));
        assert_eq!(port(&t, "www.exact.example"), None);
        assert_eq!(port(&t, "example"), None);
    }

    #[tokio::test]
    async fn overridden_names_get_the_scheme_address_and_skip_the_guard() {
        let overrides = Arc::new(table());
        let http = GuardedResolver::new("http", overrides.clone(), false);
        let https = GuardedResolver::new("https", overrides, false);
        assert_eq!(
            http.lookup("split.example").await.map_err(|e| e.to_string()),
            Ok(vec![addr("127.0.0.1:5000")])
        );
        let err = https.lookup("split.example").await.expect_err("no https address");
        assert_eq!(err.failure, ResolveFailure::NoOverride);
        assert_eq!(
            err.to_string(),
            "split.example has a resolve_override with no address for https"
        );
        assert_eq!(
            https.lookup("a.test").await.map_err(|e| e.to_string()),
            Ok(vec![addr("127.0.0.1:1000")])
        );
    }

    #[tokio::test]
    async fn names_resolving_to_loopback_are_blocked() {
        let resolver = GuardedResolver::new("https", Arc::new(Overrides::default()), false);
        let err = resolver.lookup("localhost").await.expect_err("localhost is loopback");
        assert_eq!(err.failure, ResolveFailure::Blocked);
        assert!(
            err.to_string()
                .starts_with("localhost resolves to a forbidden address "),
            "{err}"
        );
        assert!(err.to_string().ends_with("(loopback)"), "{err}");
        let err = resolver.lookup("10.1.2.3").await.expect_err("private literal");
        assert_eq!(
            err.to_string(),
            "10.1.2.3 resolves to a forbidden address 10.1.2.3 (private)"
        );
        let open = GuardedResolver::new("https", Arc::new(Overrides::default()), true);
        let addrs = open.lookup("localhost").await.map_err(|e| e.to_string());
        assert!(addrs.is_ok_and(|a| a.iter().all(|a| a.ip().is_loopback())));
    }

    #[test]
    fn resolver_messages_say_whether_dns_failure_is_permanent() {
        let nx = std::io::Error::other("failed to lookup address information: Name or service not known");
        assert_eq!(gai_failure(&nx), ResolveFailure::NotFound);
        let nodata = std::io::Error::other("failed to lookup address information: No address associated with hostname");
        assert_eq!(gai_failure(&nodata), ResolveFailure::NotFound);
        let again = std::io::Error::other("failed to lookup address information: Temporary failure in name resolution");
        assert_eq!(gai_failure(&again), ResolveFailure::Temporary);
    }
}
