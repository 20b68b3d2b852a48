//! Facts read from `<link>` elements: icons and the favicon, feeds, canonical URL, `image_src`.

use url::Url;

use super::head::Link;
use super::urls::absolute_str;
use crate::model::Icon;

/// Upper bounds on list lengths (hostile pages repeat links).
const MAX_ICONS: usize = 32;
const MAX_FEEDS: usize = 20;
/// The feed formats recognized in `<link rel=alternate type=...>`.
const FEED_TYPES: [&str; 3] = ["application/rss+xml", "application/atom+xml", "application/feed+json"];

/// Every icon-like link (`icon`, `shortcut icon`, `apple-touch-icon`, `mask-icon`...), absolute
/// http(s) only (so `data:` icons are dropped), deduplicated, in document order.
pub(super) fn icons(links: &[Link], base: &Url) -> Vec<Icon> {
    let mut icons: Vec<Icon> = Vec::new();
    for link in links.iter().filter(|l| l.rel.split(' ').any(|t| t.contains("icon"))) {
        let Some(href) = absolute_str(base, &link.href) else {
            continue;
        };
        let icon = Icon {
            href,
            rel: Some(link.rel.clone()),
            sizes: link.sizes.clone(),
            mime_type: link.mime_type.clone(),
        };
        if icons.len() < MAX_ICONS && !icons.contains(&icon) {
            icons.push(icon);
        }
    }
    icons
}

/// The browser-tab icon: the first `shortcut icon` (the classic favicon), else the first
/// `rel~=icon` in document order (authors list their preferred one first, as
/// open-graph-scraper assumes), else the largest `apple-touch-icon*`, else `{origin}/favicon.ico`.
pub(super) fn favicon(icons: &[Icon], page: &Url) -> Option<String> {
    let has = |icon: &Icon, token: &str| icon.rel.as_deref().is_some_and(|r| r.split(' ').any(|t| t == token));
    icons
        .iter()
        .find(|i| has(i, "shortcut") && has(i, "icon"))
        .or_else(|| icons.iter().find(|i| has(i, "icon")))
        .map(|i| i.href.clone())
        .or_else(|| apple_touch_icon(icons))
        .or_else(|| {
            page.join("/favicon.ico")
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .map(String::from)
        })
}

/// The largest `apple-touch-icon` / `apple-touch-icon-precomposed`.
pub(super) fn apple_touch_icon(icons: &[Icon]) -> Option<String> {
    best(icons, |rel| rel.split(' ').any(|t| t.starts_with("apple-touch-icon")))
}

fn best(icons: &[Icon], wanted: impl Fn(&str) -> bool) -> Option<String> {
    let mut best: Option<(&Icon, u32)> = None;
    for icon in icons.iter().filter(|i| i.rel.as_deref().is_some_and(&wanted)) {
        let score = size_score(icon.sizes.as_deref());
        if best.is_none_or(|(_, s)| score > s) {
            best = Some((icon, score));
        }
    }
    best.map(|(icon, _)| icon.href.clone())
}

/// The largest edge in a `sizes` attribute (`any` counts as 1024, missing as 0).
fn size_score(sizes: Option<&str>) -> u32 {
    let tokens = sizes.unwrap_or_default().split(' ');
    tokens
        .filter_map(|t| {
            if t.eq_ignore_ascii_case("any") {
                return Some(1024);
            }
            let (w, h) = t
                .to_ascii_lowercase()
                .split_once('x')
                .map(|(w, h)| (w.to_owned(), h.to_owned()))?;
            Some(w.parse::<u32>().ok()?.max(h.parse::<u32>().ok()?))
        })
        .max()
        .unwrap_or(0)
}

/// RSS, Atom and JSON Feed links (`rel=alternate` with one of the three types), absolute, unique.
pub(super) fn feeds(links: &[Link], base: &Url) -> Vec<String> {
    let mut feeds: Vec<String> = Vec::new();
    for link in links.iter().filter(|l| l.has_rel("alternate")) {
        let mime = link.mime_type.as_deref().unwrap_or_default();
        let essence = mime.split(';').next().unwrap_or_default().trim();
        if !FEED_TYPES.contains(&essence) {
            continue;
        }
        if let Some(href) = absolute_str(base, &link.href) {
            if feeds.len() < MAX_FEEDS && !feeds.contains(&href) {
                feeds.push(href);
            }
        }
    }
    feeds
}

/// The first usable `href` of a link whose `rel` contains `token`, absolute.
pub(super) fn first_rel(links: &[Link], token: &str, base: &Url) -> Option<String> {
    links
        .iter()
        .filter(|l| l.has_rel(token))
        .find_map(|l| absolute_str(base, &l.href))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(rel: &str, href: &str, sizes: Option<&str>, mime: Option<&str>) -> Link {
        let (sizes, mime_type) = (sizes.map(str::to_owned), mime.map(str::to_owned));
        Link {
            rel: rel.into(),
            href: href.into(),
            sizes,
            mime_type,
        }
    }

    fn base() -> Url {
        Url::parse("https://example.com/a/b").expect("valid test URL")
    }

    #[test]
    fn favicon_prefers_shortcut_icon_then_first_icon_then_apple_touch_then_favicon_ico() {
        let links = [
            link("apple-touch-icon", "/apple.png", Some("180x180"), None),
            link("shortcut icon", "/favicon.ico", None, None),
            link("icon", "/i32.png", Some("32x32"), Some("image/png")),
            link("icon", "/i16.png", Some("16x16 8X8"), None),
            link("icon", "data:image/png;base64,AA", Some("512x512"), None),
        ];
        let icons = icons(&links, &base());
        assert_eq!(icons.len(), 4, "the data: icon is dropped");
        assert_eq!(icons[2].mime_type.as_deref(), Some("image/png"));
        assert_eq!(
            favicon(&icons, &base()).as_deref(),
            Some("https://example.com/favicon.ico")
        );
        assert_eq!(
            favicon(&icons[2..], &base()).as_deref(),
            Some("https://example.com/i32.png")
        );
        let late_shortcut = [&icons[2..], &icons[1..2]].concat();
        assert_eq!(
            favicon(&late_shortcut, &base()).as_deref(),
            Some("https://example.com/favicon.ico")
        );
        assert_eq!(
            favicon(&icons[..1], &base()).as_deref(),
            Some("https://example.com/apple.png")
        );
        assert_eq!(
            favicon(&[], &base()).as_deref(),
            Some("https://example.com/favicon.ico")
        );
        assert_eq!(size_score(Some("any")), 1024);
        assert_eq!(size_score(Some("bogus 1x")), 0);
    }

    #[test]
    fn feeds_keep_the_three_types_once() {
        let links = [
            link("alternate", "/feed.xml", None, Some("application/rss+xml")),
            link("alternate", "/feed.xml", None, Some("application/rss+xml")),
            link(
                "alternate",
                "atom.xml",
                None,
                Some("application/atom+xml; charset=utf-8"),
            ),
            link("alternate", "/feed.json", None, Some("application/feed+json")),
            link("alternate", "/api.json", None, Some("application/json")),
            link("alternate", "/fr/", None, Some("text/html")),
            link("stylesheet", "/x.xml", None, Some("application/rss+xml")),
        ];
        let expected = [
            "https://example.com/feed.xml",
            "https://example.com/a/atom.xml",
            "https://example.com/feed.json",
        ];
        assert_eq!(feeds(&links, &base()), expected);
    }
}
