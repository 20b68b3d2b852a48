//! URL handling: making page URLs absolute against the document base, keeping only http(s),
//! and recognizing social profile links.

use url::Url;

use super::text::decode_entities;

/// Hosts whose links are social profiles (subdomains such as `www.` or `de.` included).
const PROFILE_HOSTS: [&str; 8] = [
    "twitter.com",
    "x.com",
    "facebook.com",
    "instagram.com",
    "linkedin.com",
    "github.com",
    "youtube.com",
    "tiktok.com",
];

/// First path segments on profile hosts that are share/intent/search pages, not profiles.
const NOT_PROFILE_PATHS: [&str; 14] = [
    "intent",
    "share",
    "sharer",
    "sharer.php",
    "sharearticle",
    "dialog",
    "plugins",
    "hashtag",
    "search",
    "home",
    "login",
    "signup",
    "watch",
    "tr",
];

/// The document base: the final URL, or `<base href>` resolved against it when that is http(s).
pub(super) fn document_base(page: &Url, base_href: Option<&str>) -> Url {
    base_href
        .and_then(|href| absolute(page, href))
        .unwrap_or_else(|| page.clone())
}

/// Resolves `raw` against `base`; `None` unless the result is an http(s) URL.
///
/// Leftover entities (`&amp;` in a double-encoded attribute) are decoded one level, whitespace
/// is trimmed, and fragment-only references (`#top`) are dropped since they name no resource.
pub(super) fn absolute(base: &Url, raw: &str) -> Option<Url> {
    let decoded = decode_entities(raw);
    let trimmed = decoded.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.len() > 4096 {
        return None;
    }
    let url = base.join(trimmed).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// [`absolute`], as a `String`.
pub(super) fn absolute_str(base: &Url, raw: &str) -> Option<String> {
    absolute(base, raw).map(String::from)
}

/// True when `url` points at a profile on a well-known social host (not a share link).
pub(super) fn is_profile(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let known = PROFILE_HOSTS
        .iter()
        .any(|h| host == *h || host.strip_suffix(h).is_some_and(|sub| sub.ends_with('.')));
    let first = url
        .path_segments()
        .and_then(|mut s| s.next())
        .unwrap_or_default()
        .to_ascii_lowercase();
    known && !first.is_empty() && !NOT_PROFILE_PATHS.contains(&first.as_str())
}

/// Cheap pre-filter on a raw href: could it be a profile link? (avoids parsing every href).
pub(super) fn may_be_profile(raw: &[u8]) -> bool {
    // Every profile host ends in `.com` (a test checks it), so only the label before each
    // `.com` in `raw` needs comparing: one `memchr` pass instead of a search per host.
    memchr::memchr_iter(b'.', raw).any(|dot| {
        raw.get(dot + 1..dot + 4)
            .is_some_and(|tld| tld.eq_ignore_ascii_case(b"com"))
            && PROFILE_HOSTS.iter().any(|host| {
                let label = &host.as_bytes()[..host.len() - ".com".len()];
                dot >= label.len() && raw[dot - label.len()..dot].eq_ignore_ascii_case(label)
            })
    })
}

/// Key used to deduplicate profile links (`https://x.com/a/` and `http://x.com/a` are one).
pub(super) fn dedup_key(url: &str) -> String {
    let no_scheme = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    let no_www = no_scheme.strip_prefix("www.").unwrap_or(no_scheme);
    no_www.trim_end_matches('/').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://example.com/blog/post.html").expect("valid test URL")
    }

    #[test]
    fn resolves_relative_protocol_relative_and_base() {
        let base = page();
        assert_eq!(
            absolute_str(&base, "img/a.png").as_deref(),
            Some("https://example.com/blog/img/a.png")
        );
        assert_eq!(
            absolute_str(&base, " //cdn.example.net/x.png ").as_deref(),
            Some("https://cdn.example.net/x.png")
        );
        assert_eq!(
            absolute_str(&base, "/x?a=1&amp;b=2").as_deref(),
            Some("https://example.com/x?a=1&b=2")
        );
        let with_base = document_base(&base, Some("/static/"));
        assert_eq!(
            absolute_str(&with_base, "a.png").as_deref(),
            Some("https://example.com/static/a.png")
        );
        assert_eq!(document_base(&base, Some("javascript:void(0)")), base);
    }

    #[test]
    fn drops_non_http_and_empty_urls() {
        let base = page();
        for raw in [
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "mailto:a@b.c",
            "",
            "  ",
            "#top",
            "http://[::1",
        ] {
            assert_eq!(absolute_str(&base, raw), None, "{raw}");
        }
    }

    #[test]
    fn recognizes_profiles_but_not_share_links() {
        let yes = [
            "https://twitter.com/acme",
            "https://www.linkedin.com/company/acme",
            "https://github.com/acme/",
        ];
        let no = [
            "https://twitter.com/intent/tweet?u=1",
            "https://facebook.com/sharer/sharer.php",
            "https://github.com/",
        ];
        for raw in yes {
            assert!(is_profile(&Url::parse(raw).expect("valid")), "{raw}");
        }
        for raw in no
            .into_iter()
            .chain(["https://notx.com/acme", "https://example.com/twitter.com"])
        {
            assert!(!is_profile(&Url::parse(raw).expect("valid")), "{raw}");
        }
        assert_eq!(
            dedup_key("https://www.GitHub.com/acme/"),
            dedup_key("http://github.com/acme")
        );
    }

    #[test]
    fn profile_prefilter_finds_every_host_in_any_case_and_position() {
        assert!(
            PROFILE_HOSTS.iter().all(|h| h.ends_with(".com")),
            "may_be_profile relies on it"
        );
        for host in PROFILE_HOSTS {
            for raw in [
                host.to_owned(),
                format!("https://www.{}/a", host.to_ascii_uppercase()),
                format!("//{host}."),
            ] {
                assert!(may_be_profile(raw.as_bytes()), "{raw}");
            }
        }
        for raw in [
            "",
            ".com",
            "x.co",
            "twitter.co/m",
            "https://example.com/",
            "/a.com.b",
            "github.co",
        ] {
            assert!(!may_be_profile(raw.as_bytes()), "{raw}");
        }
        // Like a substring search, it does not care what surrounds the host.
        assert!(may_be_profile(b"https://notx.com/acme"));
        assert!(may_be_profile(b"github.comx"));
    }
}
