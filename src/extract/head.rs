//! Reads the facts of a (bounded) DOM: `<meta>` tags, `<link>` tags, `<base>`, `<html lang>`,
//! the first `<title>` that is not inside `<svg>`, and the first `<h1>`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use scraper::{ElementRef, Html, Node};

use super::text::clean;

/// At most this many distinct meta keys and links are kept (hostile pages can repeat them).
const MAX_META_KEYS: usize = 512;
pub(super) const MAX_LINKS: usize = 256;
/// Text collected from one element stops growing past this many bytes.
const MAX_TEXT_BYTES: usize = 16 * 1024;
const HTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// One `<link>` element with an `href`.
#[derive(Debug, Clone, Default)]
pub(super) struct Link {
    /// `rel`, lowercased and whitespace-collapsed.
    pub rel: String,
    /// `href` as parsed (not yet absolute).
    pub href: String,
    /// `sizes`, cleaned.
    pub sizes: Option<String>,
    /// `type`, cleaned and lowercased.
    pub mime_type: Option<String>,
}

impl Link {
    /// True when the space-separated `rel` contains `token`.
    pub fn has_rel(&self, token: &str) -> bool {
        self.rel.split(' ').any(|t| t == token)
    }
}

/// What the DOM says, before fallbacks are applied.
#[derive(Debug, Default)]
pub(super) struct DomFacts {
    /// Meta values by lowercased `property`/`name`/`itemprop`/`http-equiv` key; first non-empty wins.
    pub meta: BTreeMap<String, String>,
    /// Every `<link href>` in document order.
    pub links: Vec<Link>,
    /// The first `<base href>`.
    pub base_href: Option<String>,
    /// `<html lang>` (or `xml:lang`).
    pub html_lang: Option<String>,
    /// The first non-empty `<title>` in the HTML namespace.
    pub title: Option<String>,
    /// The text of the first non-empty `<h1>`.
    pub h1: Option<String>,
}

impl DomFacts {
    /// Adds meta and link tags found after the head (raw scan): they fill only keys the head
    /// left empty, and their links follow the head's, within the same bounds.
    pub fn absorb_body(&mut self, meta: &[(String, String)], links: &[Link]) {
        for (key, value) in meta {
            insert_first(&mut self.meta, key.clone(), value);
        }
        let room = MAX_LINKS.saturating_sub(self.links.len());
        self.links.extend(links.iter().take(room).cloned());
    }

    /// The meta value for the first of `keys` that is present.
    pub fn meta_any(&self, keys: &[&str]) -> Option<&str> {
        keys.iter().find_map(|k| self.meta.get(*k)).map(String::as_str)
    }
}

/// Parses `src` (already bounded in size and nesting) and reads its facts.
pub(super) fn read(src: &str) -> DomFacts {
    let html = Html::parse_document(src);
    let mut facts = DomFacts::default();
    for node in html.tree.root().descendants().filter_map(ElementRef::wrap) {
        let el = node.value();
        if &*el.name.ns != HTML_NS {
            continue;
        }
        match el.name() {
            "meta" => read_meta(&mut facts.meta, |name| el.attr(name).map(Cow::Borrowed)),
            "link" if facts.links.len() < MAX_LINKS => {
                facts.links.extend(read_link(|name| el.attr(name).map(Cow::Borrowed)));
            }
            "base" if facts.base_href.is_none() => facts.base_href = el.attr("href").map(str::to_owned),
            "html" if facts.html_lang.is_none() => {
                facts.html_lang = el.attr("lang").or_else(|| el.attr("xml:lang")).and_then(clean);
            }
            "title" if facts.title.is_none() => facts.title = clean(&element_text(node)),
            "h1" if facts.h1.is_none() => facts.h1 = clean(&element_text(node)),
            _ => {}
        }
    }
    facts
}

/// Parses a fragment (e.g. one `<h1>...</h1>` cut from the body) and returns its first `<h1>` text.
pub(super) fn first_h1(fragment: &str) -> Option<String> {
    let html = Html::parse_fragment(fragment);
    let h1 = html
        .tree
        .root()
        .descendants()
        .filter_map(ElementRef::wrap)
        .find(|e| e.value().name() == "h1")?;
    clean(&element_text(h1))
}

/// Reads one `<meta>` into `meta`, its attributes looked up (first occurrence, any case) by `attr`.
pub(super) fn read_meta<'v>(meta: &mut BTreeMap<String, String>, attr: impl Fn(&str) -> Option<Cow<'v, str>>) {
    let Some(value) = attr("content").or_else(|| attr("value")).and_then(|v| clean(&v)) else {
        return;
    };
    for name in ["property", "name", "itemprop"] {
        if let Some(key) = attr(name) {
            insert_first(meta, key.trim().to_ascii_lowercase(), &value);
        }
    }
    if let Some(key) = attr("http-equiv") {
        insert_first(meta, format!("http-equiv:{}", key.trim().to_ascii_lowercase()), &value);
    }
}

fn insert_first(meta: &mut BTreeMap<String, String>, key: String, value: &str) {
    if !key.is_empty() && meta.len() < MAX_META_KEYS && !meta.contains_key(&key) {
        meta.insert(key, value.to_owned());
    }
}

/// Reads one `<link>` with a non-empty `href`, its attributes looked up by `attr`.
pub(super) fn read_link<'v>(attr: impl Fn(&str) -> Option<Cow<'v, str>>) -> Option<Link> {
    let href = attr("href")?;
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    Some(Link {
        rel: attr("rel")
            .and_then(|v| clean(&v))
            .unwrap_or_default()
            .to_ascii_lowercase(),
        href: href.to_owned(),
        sizes: attr("sizes").and_then(|v| clean(&v)),
        mime_type: attr("type").and_then(|v| clean(&v)).map(|t| t.to_ascii_lowercase()),
    })
}

/// The visible text of `node`: text nodes outside `<script>`/`<style>`, `<br>` as a space, and
/// image `alt` text when there is no other text (a logo image inside `<h1>`).
fn element_text(node: ElementRef<'_>) -> String {
    let mut text = String::new();
    let mut alt = String::new();
    for child in node.descendants().skip(1) {
        if text.len() > MAX_TEXT_BYTES {
            break;
        }
        match child.value() {
            Node::Text(t) => {
                let hidden = child
                    .parent()
                    .and_then(|p| p.value().as_element())
                    .is_some_and(|p| matches!(p.name(), "script" | "style"));
                if !hidden {
                    text.push_str(t);
                }
            }
            Node::Element(e) if e.name() == "br" => text.push(' '),
            Node::Element(e) if e.name() == "img" && alt.len() < MAX_TEXT_BYTES => {
                alt.push(' ');
                alt.push_str(e.attr("alt").unwrap_or_default());
            }
            _ => {}
        }
    }
    if text.trim().is_empty() {
        alt
    } else {
        text
    }
}
