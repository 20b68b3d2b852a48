//! One linear pass over the whole decoded page with the tag scanner (no DOM): where the head
//! ends, the JSON-LD scripts, candidate profile links and the first body `<h1>`, and the facts
//! read from tags after the head.

use super::head::Link;
use super::jsonld::MAX_BLOCKS;
use super::scan::{tags, Tag};
use super::text::{clean, floor_prefix};
use super::urls::may_be_profile;

/// Without a `</head>`, the DOM is built from this much of the page; a body `<h1>` must start
/// within this many bytes after the head.
pub(super) const PREFIX_BYTES: usize = 256 * 1024;
/// At most this much of the first body `<h1>` is parsed.
const MAX_H1_BYTES: usize = 64 * 1024;
/// Profile link candidates kept (the final list holds at most 20).
const MAX_PROFILE_CANDIDATES: usize = 64;
/// Meta and link tags kept from the body (pages that misplace them there).
const MAX_BODY_META: usize = 256;
const MAX_BODY_LINKS: usize = 64;
/// File extensions of a body `<img>` that may serve as the preview image.
const IMAGE_EXTENSIONS: [&str; 7] = ["jpg", "jpeg", "png", "gif", "webp", "avif", "svg"];
/// What the raw pass found.
#[derive(Debug, Default)]
pub(super) struct RawFacts<'a> {
    /// Offset where the head ends: just past `</head>`, or at `<body>`.
    pub head_end: Option<usize>,
    /// Bodies of the first [`MAX_BLOCKS`] `application/ld+json` scripts, anywhere in the page.
    pub ld_json: Vec<&'a str>,
    /// `(raw href, has rel=me)` of `<a>`/`<link>` that may be profile links.
    pub profile_links: Vec<(String, bool)>,
    /// The first `<h1>...</h1>` after the head, cut to a bounded size.
    pub body_h1: Option<&'a str>,
    /// `(lowercased property/name or "http-equiv:"-prefixed key, cleaned content)` of `<meta>`
    /// tags after the head, where a misplaced or late `</head>` pushed them.
    pub body_meta: Vec<(String, String)>,
    /// `<link href>` tags after the head.
    pub body_links: Vec<Link>,
    /// The first microdata `itemprop=datePublished` value (`content`, else `datetime`) anywhere.
    pub item_date: Option<String>,
    /// The first microdata `itemprop=logo` value (`content`, `src` or `href`) anywhere.
    pub item_logo: Option<String>,
    /// The first `<time datetime>` after the head.
    pub time_datetime: Option<String>,
    /// The raw `src` of the first body `<img>` that looks like a content image: an image file
    /// extension and not declared 1×1 (tracking pixels).
    pub body_img: Option<String>,
}

/// Scans `doc` once.
pub(super) fn scan(doc: &str) -> RawFacts<'_> {
    let mut facts = RawFacts::default();
    let mut h1_start = None;
    for tag in tags(doc.as_bytes()) {
        if tag.is_end {
            if tag.is("head") && facts.head_end.is_none() {
                facts.head_end = Some(tag.end);
            } else if let (true, Some(start), None) = (tag.is("h1"), h1_start, facts.body_h1) {
                facts.body_h1 = Some(bounded_slice(doc, start, tag.end));
            }
            continue;
        }
        note_microdata(&mut facts, &tag);
        if facts.head_end.is_some_and(|end| tag.start >= end) {
            note_body_tag(&mut facts, &tag);
        }
        if tag.is("body") && facts.head_end.is_none() {
            facts.head_end = Some(tag.start);
        } else if tag.is("script") && facts.ld_json.len() < MAX_BLOCKS {
            let is_ld = tag
                .attr("type")
                .is_some_and(|t| t.trim_ascii().eq_ignore_ascii_case(b"application/ld+json"));
            if let Some(range) = tag.content.clone().filter(|_| is_ld) {
                facts.ld_json.push(doc.get(range).unwrap_or_default());
            }
        } else if (tag.is("a") || tag.is("link")) && facts.profile_links.len() < MAX_PROFILE_CANDIDATES {
            let rel_me = tag
                .attr("rel")
                .is_some_and(|r| r.split(u8::is_ascii_whitespace).any(|t| t.eq_ignore_ascii_case(b"me")));
            if let Some(href) = tag
                .attr("href")
                .filter(|h| rel_me || (tag.is("a") && may_be_profile(h)))
            {
                facts
                    .profile_links
                    .push((String::from_utf8_lossy(href).into_owned(), rel_me));
            }
        } else if tag.is("h1") && h1_start.is_none() {
            let after_head = facts
                .head_end
                .is_some_and(|end| tag.start >= end && tag.start - end < PREFIX_BYTES);
            h1_start = after_head.then_some(tag.start);
        }
    }
    if let (Some(start), None) = (h1_start, facts.body_h1) {
        facts.body_h1 = Some(bounded_slice(doc, start, doc.len()));
    }
    facts
}

/// A cleaned attribute value.
fn attr_text(tag: &Tag<'_>, name: &str) -> Option<String> {
    clean(&String::from_utf8_lossy(tag.attr(name)?))
}

/// Microdata anywhere in the page: the first datePublished and logo values.
fn note_microdata(facts: &mut RawFacts<'_>, tag: &Tag<'_>) {
    if facts.item_date.is_some() && facts.item_logo.is_some() {
        return;
    }
    let Some(itemprop) = tag.attr("itemprop") else {
        return;
    };
    // `itemprop` is a space-separated list; tokens compare in any case.
    let has = |prop: &str| {
        itemprop
            .split(u8::is_ascii_whitespace)
            .any(|t| t.eq_ignore_ascii_case(prop.as_bytes()))
    };
    if facts.item_date.is_none() && has("datePublished") {
        facts.item_date = attr_text(tag, "content").or_else(|| attr_text(tag, "datetime"));
    }
    if facts.item_logo.is_none() && has("logo") {
        facts.item_logo = ["content", "src", "href"].iter().find_map(|a| attr_text(tag, a));
    }
}

/// Tags after the head: misplaced meta/link tags, the first `<time datetime>`, the first image.
fn note_body_tag(facts: &mut RawFacts<'_>, tag: &Tag<'_>) {
    if tag.is("meta") && facts.body_meta.len() < MAX_BODY_META {
        let Some(value) = attr_text(tag, "content") else {
            return;
        };
        for attr in ["property", "name"] {
            if let Some(key) = attr_text(tag, attr) {
                facts.body_meta.push((key.to_ascii_lowercase(), value.clone()));
            }
        }
        if let Some(key) = attr_text(tag, "http-equiv") {
            facts
                .body_meta
                .push((format!("http-equiv:{}", key.to_ascii_lowercase()), value));
        }
    } else if tag.is("link") && facts.body_links.len() < MAX_BODY_LINKS {
        if let Some(href) = attr_text(tag, "href") {
            facts.body_links.push(Link {
                rel: attr_text(tag, "rel").unwrap_or_default().to_ascii_lowercase(),
                href,
                sizes: attr_text(tag, "sizes"),
                mime_type: attr_text(tag, "type").map(|t| t.to_ascii_lowercase()),
            });
        }
    } else if tag.is("time") && facts.time_datetime.is_none() {
        facts.time_datetime = attr_text(tag, "datetime");
    } else if tag.is("img") && facts.body_img.is_none() {
        facts.body_img = attr_text(tag, "src").filter(|src| is_content_image(tag, src));
    }
}

/// An image URL whose path ends in an image extension, on an `<img>` not declared 1×1.
fn is_content_image(tag: &Tag<'_>, src: &str) -> bool {
    let pixel = ["width", "height"].iter().any(|a| {
        tag.attr(a)
            .is_some_and(|v| matches!(v.trim_ascii(), b"0" | b"1" | b"1px"))
    });
    let path = src.split(['?', '#']).next().unwrap_or_default();
    let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    !pixel && !src.starts_with("data:") && extension.is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.as_str()))
}

/// `doc[start..end]`, at most [`MAX_H1_BYTES`] long, cut on a char boundary.
fn bounded_slice(doc: &str, start: usize, end: usize) -> &str {
    floor_prefix(doc.get(start..end).unwrap_or_default(), MAX_H1_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_head_end_ld_json_and_profile_links() {
        let doc = concat!(
            "<html><head><script>var s='</head>'</script><title>T</title></head><body>",
            "<script type=' Application/LD+JSON '>{\"a\":1}</script><script>x</script>",
            "<a href=\"https://twitter.com/acme\">t</a><a href=/about>a</a><link rel='me authn' href='https://m.social/@a'>",
            "<h1>Big <b>news</b></h1></body>"
        );
        let facts = scan(doc);
        assert_eq!(
            facts.head_end.map(|e| &doc[..e]),
            Some("<html><head><script>var s='</head>'</script><title>T</title></head>")
        );
        assert_eq!(facts.ld_json, ["{\"a\":1}"]);
        assert_eq!(
            facts.profile_links,
            [
                ("https://twitter.com/acme".to_owned(), false),
                ("https://m.social/@a".to_owned(), true)
            ]
        );
        assert_eq!(facts.body_h1, Some("<h1>Big <b>news</b></h1>"));
    }

    #[test]
    fn body_start_ends_the_head_and_unclosed_h1_is_bounded() {
        let doc = format!("<head><title>x</title><body><h1>{}", "é".repeat(MAX_H1_BYTES));
        let facts = scan(&doc);
        assert_eq!(facts.head_end, doc.find("<body>"));
        assert!(facts
            .body_h1
            .is_some_and(|h| h.len() <= MAX_H1_BYTES && h.starts_with("<h1>")));
    }
}
