//! `DomainName::parse`: turns user input (a host or a URL) into the normalized host stored in
//! `domains.domain`, or a reason it was rejected.
//!
//! Normal form: lowercase, IDNA converted to punycode, no scheme/userinfo/port/path, no trailing
//! dot. Labels are letters, digits and inner hyphens only (RFC 1123 host names; `_` is refused).

use std::fmt;

/// Inputs longer than this (in bytes, after trimming) are refused before any parsing, so a
/// hostile 10,000-character input costs nothing; generous enough for a URL with a short path.
const MAX_INPUT_BYTES: usize = 2048;
/// Longest normalized host (RFC 1035, without the trailing dot).
const MAX_NAME_LEN: usize = 253;
/// Longest label (RFC 1035).
const MAX_LABEL_LEN: usize = 63;

/// A normalized host name, e.g. `www.example.com` or `xn--bcher-kva.example`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DomainName(String);

/// Why an input is not an acceptable domain name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainNameError {
    /// Nothing but whitespace.
    #[error("the domain is empty")]
    Empty,
    /// Longer than 253 characters once normalized (or an oversized raw input).
    #[error("the domain is longer than 253 characters")]
    TooLong,
    /// A label is longer than 63 characters.
    #[error("a label of the domain is longer than 63 characters")]
    LabelTooLong,
    /// Two consecutive dots, or a leading dot.
    #[error("the domain has an empty label (a leading dot or two dots in a row)")]
    EmptyLabel,
    /// A character other than letters, digits, hyphens and dots (or invalid IDNA).
    #[error("the domain contains characters not allowed in a host name")]
    InvalidCharacters,
    /// A label starts or ends with `-`.
    #[error("a label of the domain starts or ends with '-'")]
    HyphenAtLabelEdge,
    /// An IPv4 or IPv6 address (in any notation URL parsers accept) instead of a name.
    #[error("the domain is an IP address, not a name")]
    IpLiteral,
    /// `localhost` or a name under `.localhost`.
    #[error("the domain is localhost")]
    Localhost,
    /// A name without a dot, such as `intranet`.
    #[error("the domain has a single label (not a public name)")]
    SingleLabel,
    /// A URL with `user@` or `user:password@` before the host.
    #[error("the URL contains user information (user@host)")]
    Userinfo,
    /// A URL whose scheme is not `http` or `https`.
    #[error("the URL scheme `{0}` is not http or https")]
    UnsupportedScheme(String),
    /// Not parseable as a host or URL for another reason (e.g. a bad port).
    #[error("not a valid host name or URL")]
    Malformed,
}

impl DomainName {
    /// Parses a bare host (`Example.COM.`) or an http(s) URL into its normalized host.
    pub fn parse(input: &str) -> Result<DomainName, DomainNameError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(DomainNameError::Empty);
        }
        if input.len() > MAX_INPUT_BYTES {
            return Err(DomainNameError::TooLong);
        }
        // The URL parser silently drops tabs and newlines; a name containing them is not one.
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(DomainNameError::InvalidCharacters);
        }
        if input.parse::<std::net::IpAddr>().is_ok() {
            return Err(DomainNameError::IpLiteral);
        }
        let rest = strip_scheme(input)?;
        let authority_end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if authority.contains('@') {
            return Err(DomainNameError::Userinfo);
        }
        if authority.is_empty() {
            return Err(DomainNameError::Empty);
        }
        let url = url::Url::parse(&format!("http://{rest}")).map_err(map_url_error)?;
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d,
            Some(url::Host::Ipv4(_)) | Some(url::Host::Ipv6(_)) => return Err(DomainNameError::IpLiteral),
            None => return Err(DomainNameError::Empty),
        };
        let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
        if host.is_empty() {
            return Err(DomainNameError::Empty);
        }
        if host.len() > MAX_NAME_LEN {
            return Err(DomainNameError::TooLong);
        }
        for label in host.split('.') {
            check_label(label)?;
        }
        if host == "localhost" || host.ends_with(".localhost") {
            return Err(DomainNameError::Localhost);
        }
        if !host.contains('.') {
            return Err(DomainNameError::SingleLabel);
        }
        Ok(DomainName(host))
    }

    /// The normalized host.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Returns the input after `http://` / `https://`, the whole input when it has no scheme, or
/// the scheme error. `example.com:8443` is a host with a port, not the scheme `example.com`.
fn strip_scheme(input: &str) -> Result<&str, DomainNameError> {
    if let Some(rest) = input.strip_prefix("//") {
        return Ok(rest);
    }
    let Some((scheme, rest)) = input.split_once(':') else {
        return Ok(input);
    };
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let looks_like_port = rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_digit());
    if !is_scheme || (looks_like_port && !rest.starts_with("//")) {
        return Ok(input);
    }
    let lower = scheme.to_ascii_lowercase();
    if lower != "http" && lower != "https" {
        return Err(DomainNameError::UnsupportedScheme(lower));
    }
    // `http:example.com` and `http:/example.com` are accepted by URL parsers; so are we.
    Ok(rest.trim_start_matches(['/', '\\']))
}

fn map_url_error(e: url::ParseError) -> DomainNameError {
    match e {
        url::ParseError::EmptyHost => DomainNameError::Empty,
        url::ParseError::IdnaError | url::ParseError::InvalidDomainCharacter => DomainNameError::InvalidCharacters,
        // Hosts ending in a numeric label are parsed as IPv4 by URL parsers (`1.2.3.4.5`).
        url::ParseError::InvalidIpv4Address | url::ParseError::InvalidIpv6Address => DomainNameError::IpLiteral,
        _ => DomainNameError::Malformed,
    }
}

fn check_label(label: &str) -> Result<(), DomainNameError> {
    if label.is_empty() {
        return Err(DomainNameError::EmptyLabel);
    }
    if label.len() > MAX_LABEL_LEN {
        return Err(DomainNameError::LabelTooLong);
    }
    if !label
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(DomainNameError::InvalidCharacters);
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(DomainNameError::HyphenAtLabelEdge);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> String {
        match DomainName::parse(input) {
            Ok(d) => d.as_str().to_string(),
            Err(e) => panic!("{input:?} was refused: {e}"),
        }
    }

    fn err(input: &str) -> DomainNameError {
        match DomainName::parse(input) {
            Ok(d) => panic!("{input:?} was accepted as {d}"),
            Err(e) => e,
        }
    }

    #[test]
    fn bare_hosts_are_lowercased_and_lose_one_trailing_dot() {
        assert_eq!(ok("Example.COM."), "example.com");
        assert_eq!(ok("  www.example.com \n"), "www.example.com");
        assert_eq!(ok("a-b.c0.example.org"), "a-b.c0.example.org");
        assert_eq!(ok("example.com:8443"), "example.com");
        assert_eq!(err("example.com.."), DomainNameError::EmptyLabel);
    }

    #[test]
    fn urls_keep_only_the_host() {
        assert_eq!(ok("https://www.example.com:8443/path?q"), "www.example.com");
        assert_eq!(ok("HTTP://Example.com"), "example.com");
        assert_eq!(ok("http://example.com/"), "example.com");
        assert_eq!(ok("example.com/path"), "example.com");
        assert_eq!(ok("example.com?x=1#frag"), "example.com");
        assert_eq!(ok("//example.com/x"), "example.com");
        assert_eq!(ok("https://example.com./"), "example.com");
    }

    #[test]
    fn idna_becomes_punycode() {
        assert_eq!(ok("Bücher.example"), "xn--bcher-kva.example");
        assert_eq!(ok("https://münchen.de/wiki"), "xn--mnchen-3ya.de");
        assert_eq!(ok("xn--bcher-kva.example"), "xn--bcher-kva.example");
        assert_eq!(ok("例え.テスト"), "xn--r8jz45g.xn--zckzah");
        assert_eq!(err("xn--a.example"), DomainNameError::InvalidCharacters);
    }

    #[test]
    fn empty_inputs_are_refused() {
        assert_eq!(err(""), DomainNameError::Empty);
        assert_eq!(err("   "), DomainNameError::Empty);
        assert_eq!(err("https://"), DomainNameError::Empty);
        assert_eq!(err("http:///"), DomainNameError::Empty);
        assert_eq!(err("."), DomainNameError::Empty);
    }

    #[test]
    fn long_names_and_labels_are_refused() {
        let label63 = "a".repeat(63);
        let name253 = format!("{label63}.{label63}.{label63}.{}", "b".repeat(61));
        assert_eq!(name253.len(), 253);
        assert_eq!(ok(&name253), name253);
        assert_eq!(err(&format!("{name253}c")), DomainNameError::TooLong);
        assert_eq!(err(&format!("{}.com", "a".repeat(64))), DomainNameError::LabelTooLong);
        assert_eq!(ok(&format!("{label63}.com")), format!("{label63}.com"));
        assert_eq!(err(&"a".repeat(10_000)), DomainNameError::TooLong);
        assert_eq!(
            err(&format!("https://example.com/{}", "p".repeat(10_000))),
            DomainNameError::TooLong
        );
    }

    #[test]
    fn empty_labels_are_refused() {
        assert_eq!(err("a..example.com"), DomainNameError::EmptyLabel);
        assert_eq!(err(".example.com"), DomainNameError::EmptyLabel);
    }

    #[test]
    fn invalid_characters_are_refused() {
        assert_eq!(err("exa_mple.com"), DomainNameError::InvalidCharacters);
        assert_eq!(err("exa mple.com"), DomainNameError::InvalidCharacters);
        assert_eq!(err("exa\tmple.com"), DomainNameError::InvalidCharacters);
        assert_eq!(err("exa*mple.com"), DomainNameError::InvalidCharacters);
        assert_eq!(err("exa<mple.com"), DomainNameError::InvalidCharacters);
        assert_eq!(err("exa%mple.com"), DomainNameError::InvalidCharacters);
        assert_eq!(err("*.example.com"), DomainNameError::InvalidCharacters);
    }

    #[test]
    fn labels_with_edge_hyphens_are_refused() {
        assert_eq!(err("-example.com"), DomainNameError::HyphenAtLabelEdge);
        assert_eq!(err("example-.com"), DomainNameError::HyphenAtLabelEdge);
        assert_eq!(err("www.example.-com"), DomainNameError::HyphenAtLabelEdge);
        assert_eq!(ok("ex--ample.com"), "ex--ample.com");
    }

    #[test]
    fn ip_literals_are_refused_in_every_notation() {
        for input in [
            "127.0.0.1",
            "http://10.0.0.1/",
            "8.8.8.8:53",
            "0x7f.1",
            "http://0x7f.1/",
            "2130706433",
            "017700000001",
            "127.1",
            "1.2.3.4.5",
            "::1",
            "[::1]",
            "http://[::1]:8080/",
            "fe80::1",
            "[::ffff:127.0.0.1]",
            "http://[2001:db8::1]/",
            "[not:an:ip]",
        ] {
            assert_eq!(err(input), DomainNameError::IpLiteral, "{input}");
        }
    }

    #[test]
    fn localhost_is_refused() {
        assert_eq!(err("localhost"), DomainNameError::Localhost);
        assert_eq!(err("LOCALHOST."), DomainNameError::Localhost);
        assert_eq!(err("http://localhost:8080/"), DomainNameError::Localhost);
        assert_eq!(err("app.localhost"), DomainNameError::Localhost);
        assert_eq!(ok("localhost.example.com"), "localhost.example.com");
    }

    #[test]
    fn single_labels_are_refused() {
        assert_eq!(err("intranet"), DomainNameError::SingleLabel);
        assert_eq!(err("https://intranet/"), DomainNameError::SingleLabel);
        assert_eq!(err("com."), DomainNameError::SingleLabel);
    }

    #[test]
    fn userinfo_is_refused() {
        assert_eq!(err("user@example.com"), DomainNameError::Userinfo);
        assert_eq!(err("https://user:pw@example.com/"), DomainNameError::Userinfo);
        assert_eq!(err("http://@example.com"), DomainNameError::Userinfo);
        assert_eq!(ok("https://example.com/a@b"), "example.com");
    }

    #[test]
    fn only_http_schemes_are_accepted() {
        assert_eq!(
            err("ftp://example.com/"),
            DomainNameError::UnsupportedScheme("ftp".into())
        );
        assert_eq!(
            err("FILE:///etc/passwd"),
            DomainNameError::UnsupportedScheme("file".into())
        );
        assert_eq!(
            err("javascript:alert(1)"),
            DomainNameError::UnsupportedScheme("javascript".into())
        );
        assert_eq!(
            err("mailto:a@example.com"),
            DomainNameError::UnsupportedScheme("mailto".into())
        );
        assert_eq!(ok("https:example.com"), "example.com");
    }

    #[test]
    fn bad_ports_are_malformed() {
        assert_eq!(err("example.com:99999"), DomainNameError::Malformed);
        assert_eq!(err("https://example.com:port/"), DomainNameError::Malformed);
    }

    #[test]
    fn reasons_read_as_sentences() {
        assert_eq!(
            DomainNameError::SingleLabel.to_string(),
            "the domain has a single label (not a public name)"
        );
        assert_eq!(
            DomainNameError::UnsupportedScheme("ftp".into()).to_string(),
            "the URL scheme `ftp` is not http or https"
        );
        assert_eq!(ok("Example.com").to_string(), "example.com");
        let d = DomainName::parse("Example.com").map(|d| d.to_string());
        assert_eq!(d, Ok("example.com".to_string()));
    }
}
