//! What the head's tree builder is given: a prefix of the page bounded in nesting, tag count
//! and attributes per tag, and without the text of the head's scripts and styles.
//!
//! Script and style text is most of a typical head (inline JS, CSS, JSON-LD) and the tree
//! builder's slowest input, while no head fact reads it. It is dropped only where html5ever
//! provably reads the same element as the tag scanner, so the tree keeps every element and
//! attribute it would have had:
//! - every tag so far is one of [`PLAIN_HEAD`]: no foreign content (`<svg>`, where CDATA and a
//!   non-raw `<script>` exist), no `<noscript>` (raw text to html5ever, not to the scanner), no
//!   `<template>` or body content; and each is closed by its `>` (html5ever drops a tag cut off
//!   by the end of the input);
//! - no end tag so far holds a quote (html5ever reads attributes in end tags, so a quoted `>`
//!   does not end it), no comment in the input ends in `--!>` (the scanner only knows `-->`),
//!   and every script so far ends where html5ever ends it (after a `<!--` in a script, its
//!   escaped states may carry the script past the first `</script>`, see [`script_end`]);
//! - the element's end tag is complete (`</script` at the very end is text to html5ever).

use std::borrow::Cow;
use std::ops::Range;

use memchr::{memchr2, memmem};

use super::scan::{tags, Tag};

/// The tree builder never sees nesting deeper than this...
const MAX_DEPTH: usize = 256;
/// ...nor more tags than this, nor a tag with more attributes than this (its duplicate-attribute
/// check is quadratic).
const MAX_TAGS: usize = 50_000;
const MAX_ATTRS: usize = 256;

/// Elements that never nest: void elements, those whose end tag is optional, and raw-text ones.
const NOT_NESTING: [&str; 35] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "param",
    "keygen", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "rb", "rt", "rp", "tbody", "thead",
    "tfoot", "colgroup", "caption", "html", "head", "body",
];

/// Tags after which html5ever and the scanner still agree on where every element starts and ends.
const PLAIN_HEAD: [&str; 8] = ["html", "head", "title", "meta", "link", "base", "script", "style"];

/// The longest prefix of `src` that is cheap for the tree builder (see the bounds above), with
/// the text of the scripts and styles of a plain head left out (see the module docs).
pub(super) fn tree_input(src: &str) -> Cow<'_, str> {
    let bytes = src.as_bytes();
    let mut depth = 0usize;
    let mut plain = memmem::find(bytes, b"--!>").is_none();
    let mut dropped: Vec<Range<usize>> = Vec::new();
    let mut cut = src.len();
    for (count, tag) in tags(bytes).enumerate() {
        if count >= MAX_TAGS || tag.attr_count > MAX_ATTRS {
            cut = tag.start;
            break;
        }
        plain = plain && is_plain(bytes, &tag);
        if let Some(text) = tag.content.clone().filter(|_| plain && droppable(bytes, &tag)) {
            dropped.push(text);
        }
        if tag.self_closing || tag.content.is_some() || NOT_NESTING.iter().any(|n| tag.is(n)) {
            continue;
        }
        if tag.is_end {
            depth = depth.saturating_sub(1);
        } else {
            depth += 1;
            if depth > MAX_DEPTH {
                cut = tag.start;
                break;
            }
        }
    }
    if dropped.is_empty() {
        return Cow::Borrowed(&src[..cut]);
    }
    let mut kept = String::with_capacity(cut - dropped.iter().map(|r| r.len()).sum::<usize>());
    let mut from = 0;
    for text in dropped {
        kept.push_str(&src[from..text.start]);
        from = text.end;
    }
    kept.push_str(&src[from..cut]);
    Cow::Owned(kept)
}

/// True when `tag` keeps html5ever and the scanner in step (see the module docs).
pub(super) fn is_plain(src: &[u8], tag: &Tag<'_>) -> bool {
    let quoted_end_tag = tag.is_end && memchr2(b'"', b'\'', &src[tag.start..tag.end]).is_some();
    let escaped_script = tag.is("script")
        && tag.content.clone().is_some_and(|text| {
            memmem::find(&src[text.clone()], b"<!--").is_some() && script_end(src, text.start) != Some(text.end)
        });
    PLAIN_HEAD.iter().any(|n| tag.is(n)) && !tag.unclosed && !quoted_end_tag && !escaped_script
}

/// Where html5ever ends a script whose text starts at `from`: the offset of the `</script` it
/// takes as the end tag, or `None` when the script runs to the end of `src`. This follows the
/// HTML tokenizer's script data states, where `<!--` (escaped) and then `<script>` (double
/// escaped) hide a `</script>` until `-->` or the next `</script>`.
fn script_end(src: &[u8], from: usize) -> Option<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Data,
        Escaped,
        DoubleEscaped,
    }
    let (mut state, mut dashes, mut i) = (State::Data, 0, from);
    while let Some(&c) = src.get(i) {
        i += 1;
        match c {
            b'-' if state != State::Data => dashes += 1,
            b'>' if state != State::Data && dashes >= 2 => state = State::Data,
            b'<' => {
                dashes = 0;
                let rest = &src[i..];
                if state != State::DoubleEscaped && script_tag_at(rest, true).is_some() {
                    return Some(i - 1);
                }
                if state == State::Data && rest.starts_with(b"!--") {
                    // `<!--` leaves the tokenizer right after two dashes: `<!-->` ends the escape.
                    (state, dashes, i) = (State::Escaped, 2, i + 3);
                } else if state == State::Escaped {
                    if let Some(used) = script_tag_at(rest, false) {
                        (state, i) = (State::DoubleEscaped, i + used);
                    }
                } else if state == State::DoubleEscaped {
                    if let Some(used) = script_tag_at(rest, true) {
                        (state, i) = (State::Escaped, i + used);
                    }
                }
            }
            _ => dashes = 0,
        }
    }
    None
}

/// If `rest` (just after a `<`) starts with `script` (`/script` for an end tag) and a byte
/// that ends a tag name (whitespace, `/`, `>`), how many bytes that is.
fn script_tag_at(rest: &[u8], end_tag: bool) -> Option<usize> {
    let name_at = usize::from(end_tag);
    let slash_ok = !end_tag || rest.first() == Some(&b'/');
    let name_ok = rest
        .get(name_at..name_at + "script".len())
        .is_some_and(|n| n.eq_ignore_ascii_case(b"script"));
    let boundary = name_at + "script".len();
    let boundary_ok = rest
        .get(boundary)
        .is_some_and(|b| matches!(b, b'/' | b'>') || b.is_ascii_whitespace());
    (slash_ok && name_ok && boundary_ok).then_some(boundary + 1)
}

/// True when `tag` is a script or style whose end tag is complete.
fn droppable(src: &[u8], tag: &Tag<'_>) -> bool {
    let complete = |text: &Range<usize>| src.len() > text.end + "</".len() + tag.name.len();
    (tag.is("script") || tag.is("style")) && tag.content.as_ref().is_some_and(complete)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_deep_nesting_and_attribute_floods() {
        let deep = "<div>".repeat(1000);
        assert_eq!(tree_input(&deep).len(), 5 * MAX_DEPTH);
        let flat = "<p>x<li>y<br><svg><path/></svg>".repeat(1000);
        assert_eq!(tree_input(&flat).len(), flat.len());
        let attrs: String = (0..1000).map(|i| format!(" a{i}=1")).collect();
        let flood = format!("<title>ok</title><meta{attrs}>");
        assert_eq!(tree_input(&flood), "<title>ok</title>");
    }

    #[test]
    fn drops_script_and_style_text_of_a_plain_head() {
        let head = "<html><head><script>if (a<b) x()</script><title>T</title><STYLE>p>a{}</STYLE \
                    ><script type=application/ld+json>{}</script></head>";
        assert_eq!(
            tree_input(head),
            "<html><head><script></script><title>T</title><STYLE></STYLE ><script type=application/ld+json></script></head>"
        );
    }

    #[test]
    fn keeps_script_text_wherever_html5ever_could_read_it_differently() {
        for src in [
            // Escaped script states: the first `</script>` does not end this script, nor may
            // html5ever's script end where the scanner's next one does.
            "<script><!-- document.write('<script>x</script>') --></script><meta name=a content=b>",
            "<script><!--<script></script><script>--></script><meta name=a content=b>",
            // Incomplete end tag at the end of the input.
            "<script>x</script",
            "<script>never closed",
            // Foreign content, `<noscript>`, body content: html5ever may tokenize differently.
            "<svg><title><!-- </title><script>a --> b</script>",
            "<noscript><script>x</script>",
            "<div><style>x</style>",
            // A quoted `>` in an end tag, or a `--!>` comment anywhere.
            "</title x='>'><script>x</script>",
            "<!-- a --!><script>x</script>",
        ] {
            assert_eq!(tree_input(src), src, "{src}");
        }
        // An old-style `<!-- ... //-->` script ends where the scanner says: its text can go.
        assert_eq!(
            tree_input("<script><!-- if (a<b) x() //--></script><title>T</title>"),
            "<script></script><title>T</title>"
        );
        let mixed = "<script>a</script><svg></svg><script>b</script>";
        assert_eq!(tree_input(mixed), "<script></script><svg></svg><script>b</script>");
    }

    #[test]
    fn script_end_follows_the_tokenizers_escaped_states() {
        fn end(text: &str) -> Option<&str> {
            script_end(text.as_bytes(), 0).map(|at| &text[at..])
        }
        assert_eq!(end("a<b</SCRIPT >"), Some("</SCRIPT >"));
        assert_eq!(end("</scriptx></script/>"), Some("</script/>"));
        // Escaped: a `</script>` still ends it.
        assert_eq!(end("<!-- x </script> -->"), Some("</script> -->"));
        // Double escaped: `</script>` only returns to escaped; `-->` returns to plain text.
        assert_eq!(end("<!-- <script> </script> x </script>."), Some("</script>."));
        assert_eq!(end("<!--<script>--></script>."), Some("</script>."));
        // `<!-->` ends the escape at once, so `<script>` after it is text and `</script>` ends.
        assert_eq!(end("<!--><script></script>."), Some("</script>."));
        assert_eq!(end("<!-- <script> never closed"), None);
        assert_eq!(end("</script"), None);
    }
}
