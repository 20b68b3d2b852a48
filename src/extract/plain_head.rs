//! Head facts without a tree, for the common plain head: the same [`DomFacts`] that `head::read`
//! gets from html5ever's tree, read with the tag scanner. Building that tree was the largest
//! cost left per page once the body scan was cheap.
//!
//! It answers only where the two provably agree, else `None` and the caller asks html5ever:
//! - every tag is one a plain head holds, as `dom_input` defines it (no foreign content, no
//!   `<noscript>` or `<template>`, no quoted end tags, no `--!>` comments, every script ending
//!   where html5ever ends it). There the tree holds exactly the scanner's elements, in source
//!   order, all in the HTML namespace;
//! - every value read decodes here as html5ever decodes it: CR LF and CR become LF, NUL
//!   becomes U+FFFD, numeric references and `&name;` with a name from `text`'s list are
//!   decoded, and in attributes `&name=` stays as written. Any other named reference
//!   (html5ever's table has 2,231, with rules for names without `;`) means `None`;
//! - every `<title>`'s end tag is complete (`</title` at the very end is text to html5ever).
//!
//! `<html>` tags merge as in the tree: an attribute counts from the first tag that has it.

use std::borrow::Cow;
use std::cell::Cell;

use memchr::memmem;

use super::dom_input::is_plain;
use super::head::{read_link, read_meta, DomFacts, MAX_LINKS};
use super::scan::{tags, Tag};
use super::text::{clean, named_char, numeric_char};

/// A value html5ever would decode with rules this module does not have.
#[derive(Debug)]
struct Unsupported;

/// Reads the facts of `src` (a bounded tree input) if it is a plain head, else `None`.
pub(super) fn read(src: &str) -> Option<DomFacts> {
    let bytes = src.as_bytes();
    if memmem::find(bytes, b"--!>").is_some() {
        return None;
    }
    let mut facts = DomFacts::default();
    let (mut lang, mut xml_lang) = (None, None);
    for tag in tags(bytes) {
        if !is_plain(bytes, &tag) {
            return None;
        }
        if tag.is_end {
            continue;
        }
        let attrs = Decoded {
            tag: &tag,
            unsupported: Cell::new(false),
        };
        if tag.is("meta") {
            read_meta(&mut facts.meta, |name| attrs.get(name));
        } else if tag.is("link") && facts.links.len() < MAX_LINKS {
            facts.links.extend(read_link(|name| attrs.get(name)));
        } else if tag.is("base") && facts.base_href.is_none() {
            facts.base_href = attrs.get("href").map(Cow::into_owned);
        } else if tag.is("html") {
            lang = lang.or_else(|| attrs.get("lang"));
            xml_lang = xml_lang.or_else(|| attrs.get("xml:lang"));
        } else if tag.is("title") && facts.title.is_none() {
            facts.title = clean(&title_text(src, &tag).ok()?);
        }
        if attrs.unsupported.get() {
            return None;
        }
    }
    facts.html_lang = lang.or(xml_lang).and_then(|l| clean(&l));
    Some(facts)
}

/// Decoded attribute values of one tag; notes a value it could not decode.
struct Decoded<'s, 't> {
    tag: &'t Tag<'s>,
    unsupported: Cell<bool>,
}

impl<'s> Decoded<'s, '_> {
    /// The decoded value of the first attribute named `name` (`None` also when undecodable).
    fn get(&self, name: &str) -> Option<Cow<'s, str>> {
        let raw = self.tag.attr(name)?;
        // Values sit between ASCII bytes of a `str`, so they are UTF-8.
        let decoded = std::str::from_utf8(raw)
            .map_err(|_| Unsupported)
            .and_then(|raw| decode(raw, true));
        self.unsupported.set(self.unsupported.get() || decoded.is_err());
        decoded.ok()
    }
}

/// The decoded text of a `<title>` whose end tag is complete.
fn title_text<'s>(src: &'s str, tag: &Tag<'_>) -> Result<Cow<'s, str>, Unsupported> {
    let text = tag.content.clone().ok_or(Unsupported)?;
    if src.len() <= text.end + "</title".len() {
        return Err(Unsupported);
    }
    decode(src.get(text).ok_or(Unsupported)?, false)
}

/// What html5ever makes of an attribute value (`in_attribute`) or of `<title>` text.
fn decode(raw: &str, in_attribute: bool) -> Result<Cow<'_, str>, Unsupported> {
    let special = |b: &u8| matches!(b, b'&' | b'\r' | b'\0');
    if !raw.as_bytes().iter().any(special) {
        return Ok(Cow::Borrowed(raw));
    }
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut from = 0;
    while let Some(at) = bytes[from..].iter().position(special).map(|k| from + k) {
        out.push_str(&raw[from..at]);
        from = at + 1;
        match bytes[at] {
            b'\r' => {
                out.push('\n');
                from += usize::from(bytes.get(from) == Some(&b'\n'));
            }
            b'\0' => out.push('\u{FFFD}'),
            _ => match reference(&bytes[from..], in_attribute)? {
                Some((c, used)) => {
                    out.push(c);
                    from += used;
                }
                None => out.push('&'),
            },
        }
    }
    out.push_str(&raw[from..]);
    Ok(Cow::Owned(out))
}

/// The character reference after an `&`: `Some((char, bytes used))`, or `None` when the `&`
/// stays as written.
fn reference(after: &[u8], in_attribute: bool) -> Result<Option<(char, usize)>, Unsupported> {
    match after.first() {
        Some(b'#') => Ok(numeric(&after[1..]).map(|(c, used)| (c, used + 1))),
        Some(b) if b.is_ascii_alphanumeric() => {
            let len = after.iter().take_while(|b| b.is_ascii_alphanumeric()).count();
            let name = std::str::from_utf8(&after[..len]).map_err(|_| Unsupported)?;
            match after.get(len) {
                Some(b';') => named_char(name).map(|c| Some((c, len + 1))).ok_or(Unsupported),
                // A legacy name without `;` is not decoded before `=` in an attribute.
                Some(b'=') if in_attribute => Ok(None),
                _ => Err(Unsupported),
            }
        }
        _ => Ok(None),
    }
}

/// A numeric reference after `&#`: digits (hex after `x`), an optional `;`, mapped as html5ever
/// maps them (out of range, surrogates and NUL to U+FFFD, 0x80–0x9F as windows-1252).
fn numeric(after: &[u8]) -> Option<(char, usize)> {
    let (radix, skip) = match after.first() {
        Some(b'x' | b'X') => (16, 1),
        _ => (10, 0),
    };
    let digits = after[skip..]
        .iter()
        .take_while(|b| char::from(**b).is_digit(radix))
        .count();
    if digits == 0 {
        return None;
    }
    let value = after[skip..skip + digits].iter().fold(0u32, |n, b| {
        let digit = char::from(*b).to_digit(radix).unwrap_or_default();
        n.saturating_mul(radix).saturating_add(digit)
    });
    let end = skip + digits;
    let used = end + usize::from(after.get(end) == Some(&b';'));
    let c = if value > 0x10_FFFF {
        '\u{FFFD}'
    } else {
        numeric_char(value)
    };
    Some((c, used))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::head;

    /// Asserts that `src` is read here, and as html5ever's tree reads it.
    fn same_as_tree(src: &str) {
        let scanned = read(src).map(|f| format!("{f:?}"));
        assert_eq!(scanned, Some(format!("{:?}", head::read(src))), "{src:?}");
    }

    /// Every name `text::named_char` knows.
    const NAMES: [&str; 48] = [
        "amp", "AMP", "lt", "LT", "gt", "GT", "quot", "QUOT", "apos", "nbsp", "ndash", "mdash", "hellip", "lsquo",
        "rsquo", "sbquo", "ldquo", "rdquo", "bdquo", "laquo", "raquo", "middot", "bull", "copy", "reg", "trade",
        "euro", "pound", "yen", "cent", "sect", "deg", "times", "eacute", "egrave", "ecirc", "agrave", "aacute",
        "acirc", "ccedil", "ouml", "auml", "uuml", "Ouml", "Auml", "Uuml", "szlig", "ntilde",
    ];

    #[test]
    fn reads_what_the_tree_reads_on_plain_heads() {
        for src in [
            "",
            "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title> A  title </title></head>",
            "<HTML LANG='fr'><HEAD><META NAME=Description CONTENT=\"d\"><TITLE>T</TITLE><LINK REL=Icon HREF=/f.ico>",
            // Duplicates: the first attribute, the first non-empty title, the first base with href.
            "<meta name=a content=1 name=b content=2><meta property=og:title content=x><meta property=og:title content=y>",
            "<title> </title><title>Second</title><base target=_top><base href=/b/><base href=/c/>",
            // `<html>` tags merge: each attribute from the first tag that has it.
            "<meta name=a content=b><html><html xml:lang=de><html lang=' fr '>",
            "<html lang=''><html lang=en>",
            // Tags after the head, after text (an implied body), after `</html>`.
            "<head></head><meta name=late content=1>text<link rel=icon href=/i.png></html><title>t</title>",
            // An old-style script hidden in a comment, ending where the scanner says.
            "<script><!-- if (a<b) document.write('x') //--></script><title>Old</title>",
            // Comments, doctype, processing instructions, script and style text.
            "<!-- <meta name=c content=x> --><?xml x?><script>a<b</script><style>p>q{}</style><meta name=d content=y>",
            // CR, NUL and references in values and title text.
            "<title>a\r\nb\rc\0d &amp; &#8211; &#x2019;&#39;</title><base href=\"/a\r\nb\">",
            "<meta name=x content='1 &lt; 2 &AMP; 3 &#65 &#x41g &# &#x &#xZ; & ; &;'>",
            "<link rel=icon href=\"/i.png?a=1&b=2&amp;c=3\" sizes='16x16' type=Image/PNG>",
            "<meta content='&#0;&#x80;&#x81;&#x9F;&#xD800;&#x10FFFF;&#x110000;&#99999999999;&#1114111'>",
        ] {
            same_as_tree(src);
        }
        for name in NAMES {
            same_as_tree(&format!("<title>x&{name};y</title><meta name=k content='a&{name};b'>"));
        }
    }

    #[test]
    fn leaves_the_rest_to_html5ever() {
        for src in [
            // Named references outside the list, or without `;` where html5ever may decode them.
            "<title>AT&T</title>",
            "<meta name=a content='&copy 2020'>",
            "<meta name=a content='&notin;'>",
            "<title>&amp=</title>",
            // Tags, comments and end tags where the tree may differ from the scan.
            "<svg><title>x</title></svg>",
            "<noscript><meta name=a content=b></noscript>",
            "<div><title>x</title>",
            "<!-- a --!><title>x</title>",
            "<script><!--<script></script><link rel=icon href=/x><script></script>",
            "</title x='>'><title>x</title>",
            // A title whose end tag is cut off.
            "<title>x</title",
            "<title>x",
            // A tag cut off by the end of the input: html5ever drops it.
            "<html lang=\"#\"&copy=\">",
        ] {
            assert!(read(src).is_none(), "{src:?}");
        }
        // Where the tree would agree anyway: `&name=` in an attribute stays as written.
        same_as_tree("<meta name=a content='?x=1&copy=2&h=3'>");
    }
}
