//! Fallback orders: which source fills each page fact. Empty values never count (every source
//! is cleaned first), and among duplicate meta tags the first non-empty one wins.
//!
//! - title: og:title > twitter:title > JSON-LD headline/name of the main entity > `<title>`
//!   (not inside `<svg>`) > first `<h1>` (searched in the first 256 KiB after the head)
//! - description: og:description > twitter:description > meta description > JSON-LD description
//! - site_name: og:site_name > meta application-name > JSON-LD WebSite/Organization name
//! - image: og:image > og:image:secure_url > og:image:url > twitter:image > twitter:image:src >
//!   JSON-LD image > `<link rel=image_src>` > the first body `<img>` with an image extension
//!   that is not a 1×1 pixel (as open-graph-scraper and metascraper fall back to page images)
//! - canonical_url: og:url > `<link rel=canonical>` (metascraper's and open-graph-scraper's
//!   order: og:url is the URL the page wants shared)
//! - lang: `<html lang>` > meta http-equiv content-language (first of a list) > og:locale
//!   (`en_US` → `en-US`)
//! - favicon: see `links::favicon`; logo: JSON-LD Organization (or publisher) logo > og:logo >
//!   meta logo > microdata `itemprop=logo` anywhere > apple-touch-icon
//! - author: meta author > article:author unless it is a URL > JSON-LD author name
//! - published_at: article:published_time > JSON-LD datePublished > meta datePublished >
//!   microdata `itemprop=datePublished` anywhere (`content`/`datetime`) > other meta date
//!   variants ([`DATE_KEYS`]) > the first body `<time datetime>`, normalized by `dates::normalize`.
//!   One repair (`dates::prefer_zoned`): a JSON-LD date written in UTC or without a zone yields
//!   to the first of the later page dates that carries a non-zero offset and is a whole number
//!   of quarter hours (≤ 14 h) away, to the second, unless another page date confirms it. The
//!   two then name one moment and one zone is wrong; a local time serialized with a literal `Z`
//!   is the common JSON-LD bug, and a non-zero offset is written only by code that knows the
//!   zone (often beside the same time in the visible byline). article:published_time is not
//!   repaired: it already outranks every other source, here as in open-graph-scraper and for
//!   the social previews that read it.
//!
//! Meta and link tags that sit after the head (a misplaced `</head>`) count after the head's.
//! - generator, theme_color, robots: the first non-empty meta of that name
//! - social: `rel=me` links > JSON-LD sameAs > `<a href>` to well-known profile hosts; unique, ≤ 20
//! - open_graph / twitter: every `og:*` / `twitter:*` meta (read from `property=` and `name=`),
//!   keys lowercased, values cleaned but not resolved.

use std::collections::BTreeMap;

use url::Url;

use super::head::{first_h1, DomFacts};
use super::raw::RawFacts;
use super::schema::Schema;
use super::urls::{absolute, absolute_str, dedup_key, is_profile};
use super::{dates, links};
use crate::model::Metadata;

/// Meta names that carry a publication date, in order of trust.
const DATE_KEYS: [&str; 14] = [
    "datepublished",
    "date",
    "dc.date",
    "dc.date.issued",
    "dc.date.created",
    "dcterms.date",
    "dcterms.issued",
    "dcterms.created",
    "pubdate",
    "publishdate",
    "publish_date",
    "publish-date",
    "sailthru.date",
    "parsely-pub-date",
];
/// At most this many social profile links are kept.
const MAX_SOCIAL: usize = 20;

/// Everything the fallbacks read from.
pub(super) struct Sources<'s> {
    /// The final URL of the response.
    pub page: &'s Url,
    /// The document base (final URL, or `<base href>` resolved against it).
    pub base: &'s Url,
    /// Facts of the head DOM.
    pub dom: &'s DomFacts,
    /// Facts of the raw scan of the whole page.
    pub raw: &'s RawFacts<'s>,
    /// Parsed JSON-LD.
    pub schema: &'s Schema<'s>,
}

/// Fills the page facts of `meta` from `src`.
pub(super) fn fill(meta: &mut Metadata, src: &Sources<'_>) {
    let (dom, schema, base) = (src.dom, src.schema, src.base);
    let text = |keys: &[&str]| dom.meta_any(keys).map(str::to_owned);
    let url = |keys: &[&str]| keys.iter().find_map(|k| absolute_str(base, dom.meta.get(*k)?));

    meta.title = text(&["og:title", "twitter:title"])
        .or_else(|| schema.title())
        .or_else(|| dom.title.clone())
        .or_else(|| dom.h1.clone())
        .or_else(|| first_h1(src.raw.body_h1?));
    meta.description = text(&["og:description", "twitter:description", "description"]).or_else(|| schema.description());
    meta.site_name = text(&["og:site_name", "application-name"]).or_else(|| schema.site_name());
    meta.image = url(&[
        "og:image",
        "og:image:secure_url",
        "og:image:url",
        "twitter:image",
        "twitter:image:src",
    ])
    .or_else(|| schema.image(base))
    .or_else(|| links::first_rel(&dom.links, "image_src", base))
    .or_else(|| absolute_str(base, src.raw.body_img.as_deref()?));
    meta.canonical_url = url(&["og:url"]).or_else(|| links::first_rel(&dom.links, "canonical", base));
    meta.lang = dom.html_lang.clone().or_else(|| content_language(dom)).or_else(|| {
        let locale = dom.meta.get("og:locale")?;
        Some(locale.replace('_', "-"))
    });

    meta.icons = links::icons(&dom.links, base);
    meta.favicon = links::favicon(&meta.icons, src.page);
    meta.logo = schema
        .logo(base)
        .or_else(|| url(&["og:logo", "logo"]))
        .or_else(|| absolute_str(base, src.raw.item_logo.as_deref()?))
        .or_else(|| links::apple_touch_icon(&meta.icons));
    meta.feeds = links::feeds(&dom.links, base);

    meta.author = text(&["author"])
        .or_else(|| text(&["article:author"]).filter(|a| !looks_like_url(a)))
        .or_else(|| schema.author());
    meta.published_at = published_at(src);
    meta.generator = text(&["generator"]);
    meta.theme_color = text(&["theme-color"]);
    meta.robots = text(&["robots"]);
    meta.social = social(src);

    meta.open_graph = prefixed(dom, "og:");
    meta.twitter = prefixed(dom, "twitter:");
}

/// The publication date, normalized: see the order in the module docs.
fn published_at(src: &Sources<'_>) -> Option<String> {
    let dom = src.dom;
    let page_dates: Vec<&str> = [
        dom.meta_any(&DATE_KEYS[..1]),
        src.raw.item_date.as_deref(),
        dom.meta_any(&DATE_KEYS[1..]),
        src.raw.time_datetime.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let structured = src.schema.date_published();
    let chosen = dom
        .meta_any(&["article:published_time"])
        .or_else(|| Some(dates::prefer_zoned(structured.as_deref()?, &page_dates)))
        .or_else(|| page_dates.first().copied())?;
    Some(dates::normalize(chosen))
}

/// Every meta whose key starts with `prefix`, keyed by the full (lowercased) name.
fn prefixed(dom: &DomFacts, prefix: &str) -> BTreeMap<String, String> {
    dom.meta
        .iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The first language of `<meta http-equiv=content-language>` (it may list several).
fn content_language(dom: &DomFacts) -> Option<String> {
    let value = dom.meta.get("http-equiv:content-language")?;
    value
        .split(',')
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_owned)
}

/// True for `article:author` values that are profile URLs rather than names.
fn looks_like_url(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    ["http://", "https://", "//", "www."]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// Profile links: `rel=me` first, then JSON-LD `sameAs`, then anchors to known hosts.
fn social(src: &Sources<'_>) -> Vec<String> {
    let candidates = &src.raw.profile_links;
    let rel_me = candidates
        .iter()
        .filter(|(_, me)| *me)
        .filter_map(|(href, _)| absolute(src.base, href));
    let anchors = candidates
        .iter()
        .filter(|(_, me)| !*me)
        .filter_map(|(href, _)| absolute(src.base, href));
    let all = rel_me
        .map(String::from)
        .chain(src.schema.same_as(src.base))
        .chain(anchors.filter(is_profile).map(String::from));
    let mut seen = Vec::new();
    let mut social = Vec::new();
    for url in all {
        let key = dedup_key(&url);
        if !seen.contains(&key) {
            seen.push(key);
            social.push(url);
        }
        if social.len() >= MAX_SOCIAL {
            break;
        }
    }
    social
}
