//! The SSRF guard's address rules: which IP addresses a fetch may never connect to, and the
//! check that refuses URLs whose host is an IP literal or whose scheme is not http(s).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::model::ErrorKind;

use super::error::FetchError;

/// Why `ip` must not be fetched (e.g. `"loopback"`), or `None` for a public unicast address.
pub fn blocked_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => blocked_v6(v6),
    }
}

fn blocked_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let reason = match (a, b, c) {
        _ if ip == Ipv4Addr::new(169, 254, 169, 254) => "cloud metadata",
        _ if ip.is_broadcast() => "broadcast",
        _ if ip.is_unspecified() => "unspecified",
        (0, _, _) => "this-network (0.0.0.0/8)",
        (10, _, _) => "private",
        (100, 64..=127, _) => "shared address space (CGNAT)",
        (127, _, _) => "loopback",
        (169, 254, _) => "link-local",
        (172, 16..=31, _) => "private",
        (192, 0, 0) => "IETF protocol assignments",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (192, 88, 99) => "reserved (6to4 relay anycast)",
        (192, 168, _) => "private",
        (198, 18..=19, _) => "benchmarking",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved",
        _ => return None,
    };
    Some(reason)
}

fn blocked_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return blocked_v4(v4);
    }
    let s = ip.segments();
    let embedded_v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    let reason = match s {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        [0, 0, 0, 0, 0, 0, _, _] => "IPv4-compatible (deprecated)",
        // NAT64 and 6to4 reach the embedded IPv4 address, so they inherit its verdict.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => return blocked_v4(embedded_v4(hi, lo)),
        [0x2002, hi, lo, ..] => return blocked_v4(embedded_v4(hi, lo)),
        [0x64, 0xff9b, 1, ..] => "local-use NAT64",
        [0x100, 0, 0, 0, ..] => "discard-only",
        [0x2001, 0x0db8, ..] => "documentation",
        [0x2001, 0..=0x01ff, ..] => "IETF protocol assignments",
        [0x3fff, 0..=0x0fff, ..] => "documentation",
        [x, ..] if x & 0xfe00 == 0xfc00 => "unique-local",
        [x, ..] if x & 0xffc0 == 0xfe80 => "link-local",
        [x, ..] if x & 0xffc0 == 0xfec0 => "site-local (deprecated)",
        [x, ..] if x & 0xff00 == 0xff00 => "multicast",
        _ => return None,
    };
    Some(reason)
}

/// Refuses a URL before any request: non-http(s) schemes always, IP-literal hosts unless
/// `allow_private` (the guard is off).
pub(crate) fn check_url(url: &url::Url, allow_private: bool) -> Result<(), FetchError> {
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(FetchError::new(
            ErrorKind::Blocked,
            format!("scheme `{}` is not http or https ({url})", url.scheme()),
        ));
    }
    match url.host() {
        Some(url::Host::Domain(_)) => Ok(()),
        Some(url::Host::Ipv4(_)) | Some(url::Host::Ipv6(_)) if allow_private => Ok(()),
        Some(url::Host::Ipv4(ip)) => Err(ip_literal(url, IpAddr::V4(ip))),
        Some(url::Host::Ipv6(ip)) => Err(ip_literal(url, IpAddr::V6(ip))),
        None => Err(FetchError::new(ErrorKind::Blocked, format!("URL has no host ({url})"))),
    }
}

fn ip_literal(url: &url::Url, ip: IpAddr) -> FetchError {
    let why = blocked_reason(ip).unwrap_or("public");
    FetchError::new(
        ErrorKind::Blocked,
        format!("host is an IP address literal {ip} ({why}) ({url})"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(ip: &str) -> Option<&'static str> {
        blocked_reason(ip.parse().expect("test address"))
    }

    #[test]
    fn ipv4_special_ranges_are_blocked_with_their_name() {
        let cases = [
            ("0.0.0.0", "unspecified"),
            ("0.1.2.3", "this-network (0.0.0.0/8)"),
            ("10.0.0.1", "private"),
            ("10.255.255.255", "private"),
            ("100.64.0.0", "shared address space (CGNAT)"),
            ("100.127.255.255", "shared address space (CGNAT)"),
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("169.254.0.1", "link-local"),
            ("169.254.169.254", "cloud metadata"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.0.0.8", "IETF protocol assignments"),
            ("192.0.2.1", "documentation"),
            ("192.88.99.1", "reserved (6to4 relay anycast)"),
            ("192.168.1.1", "private"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.254", "reserved"),
            ("255.255.255.255", "broadcast"),
        ];
        for (ip, why) in cases {
            assert_eq!(reason(ip), Some(why), "{ip}");
        }
    }

    #[test]
    fn ipv4_public_addresses_pass() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "169.253.255.255",
            "192.0.1.1",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "11.0.0.1",
            "126.255.255.255",
            "128.0.0.1",
        ] {
            assert_eq!(reason(ip), None, "{ip}");
        }
    }

    #[test]
    fn ipv6_special_ranges_are_blocked_with_their_name() {
        let cases = [
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::127.0.0.1", "IPv4-compatible (deprecated)"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.1.2.3", "private"),
            ("::ffff:169.254.169.254", "cloud metadata"),
            ("::ffff:0.0.0.0", "unspecified"),
            ("64:ff9b::7f00:1", "loopback"),
            ("64:ff9b::a9fe:a9fe", "cloud metadata"),
            ("64:ff9b:1::1", "local-use NAT64"),
            ("2002:7f00:1::1", "loopback"),
            ("2002:c0a8:101::", "private"),
            ("100::1", "discard-only"),
            ("2001:db8::1", "documentation"),
            ("2001::1", "IETF protocol assignments"),
            ("2001:1ff::1", "IETF protocol assignments"),
            ("3fff::1", "documentation"),
            ("fc00::1", "unique-local"),
            ("fd00:ec2::254", "unique-local"),
            ("fdff:ffff::1", "unique-local"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fec0::1", "site-local (deprecated)"),
            ("ff02::1", "multicast"),
            ("ff0e::1", "multicast"),
        ];
        for (ip, why) in cases {
            assert_eq!(reason(ip), Some(why), "{ip}");
        }
    }

    #[test]
    fn ipv6_public_addresses_pass() {
        for ip in [
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:200::1",
            "2001:db9::1",
            "fbff::1",
            "4000::1",
        ] {
            assert_eq!(reason(ip), None, "{ip}");
        }
    }

    #[test]
    fn urls_with_ip_literals_or_other_schemes_are_refused() {
        let check = |u: &str, allow: bool| check_url(&url::Url::parse(u).expect("test URL"), allow);
        let err = check("http://127.0.0.1:8080/", false).expect_err("loopback literal");
        assert_eq!(err.kind, ErrorKind::Blocked);
        assert_eq!(
            err.message,
            "host is an IP address literal 127.0.0.1 (loopback) (http://127.0.0.1:8080/)"
        );
        let err = check("https://[::1]/", false).expect_err("v6 literal");
        assert_eq!(
            err.message,
            "host is an IP address literal ::1 (loopback) (https://[::1]/)"
        );
        let err = check("http://8.8.8.8/", false).expect_err("public literal");
        assert_eq!(
            err.message,
            "host is an IP address literal 8.8.8.8 (public) (http://8.8.8.8/)"
        );
        let err = check("ftp://example.com/", true).expect_err("ftp");
        assert_eq!(err.message, "scheme `ftp` is not http or https (ftp://example.com/)");
        assert!(check("http://0x7f.1/", false).is_err());
        assert!(check("http://127.0.0.1/", true).is_ok());
        assert!(check("https://example.com/", false).is_ok());
    }
}
