//! A forgiving byte-level tag scanner: finds start/end tags and their attributes in linear time
//! without building a tree. Used where a DOM would cost too much (charset prescan, JSON-LD and
//! profile links anywhere in a large body, bounding the input handed to the tree builder).
//!
//! It follows the HTML tokenizer closely enough for those jobs: comments, doctypes and
//! processing instructions are skipped, quoted attribute values may contain `>`, and the
//! content of raw-text elements (`<script>`, `<style>`, `<title>`...) is jumped over (and
//! exposed as [`Tag::content`]). It works on bytes, so it runs before decoding; every offset it
//! returns sits on an ASCII byte, hence on a `str` char boundary.
//!
//! Cost: text, comments, quoted values and raw text are skipped by byte search (`find_byte`);
//! each start tag's attributes are tokenized once (to find the tag's end), which also fills a
//! 64-bit filter of their names, so asking a tag for an attribute it does not have costs nothing.

use std::ops::Range;

use memchr::{memchr, memmem};

/// Elements whose content the tokenizer treats as text up to the matching end tag.
const RAW_TEXT: [&str; 8] = [
    "script", "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes",
];

/// One start or end tag found by [`tags`].
#[derive(Debug, Clone)]
pub(super) struct Tag<'a> {
    /// The tag name as written (compare with [`Tag::is`]).
    pub name: &'a [u8],
    /// True for `</name>`.
    pub is_end: bool,
    /// Offset of the `<`.
    pub start: usize,
    /// Offset just past the closing `>` (or the end of input).
    pub end: usize,
    /// True when the tag ends with `/>`.
    pub self_closing: bool,
    /// True when the input ends before the tag's `>` (the HTML tokenizer then drops the tag).
    pub unclosed: bool,
    /// How many attributes the tag has (duplicates included).
    pub attr_count: usize,
    /// For raw-text elements: the content up to (excluding) the matching end tag.
    pub content: Option<Range<usize>>,
    attrs: &'a [u8],
    /// One [`name_bit`] per attribute name: a clear bit proves the name absent.
    names: u64,
}

impl<'a> Tag<'a> {
    /// True when the tag name equals `name` ASCII-case-insensitively.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }

    /// The raw (not entity-decoded) value of the first attribute named `name`.
    #[inline]
    pub fn attr(&self, name: &str) -> Option<&'a [u8]> {
        // The filter check is inlined (and `name_bit` of a literal folded): most lookups end here.
        if self.names & name_bit(name.as_bytes()) == 0 {
            return None;
        }
        self.find_attr(name)
    }

    fn find_attr(&self, name: &str) -> Option<&'a [u8]> {
        Attrs { s: self.attrs, i: 0 }
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }
}

/// Iterates over the tags of `src` in document order.
pub(super) fn tags(src: &[u8]) -> Tags<'_> {
    Tags { src, pos: 0 }
}

/// Iterator returned by [`tags`].
pub(super) struct Tags<'a> {
    src: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Tags<'a> {
    type Item = Tag<'a>;

    // Inlined so that callers get the tag's fields in registers rather than through a copy of
    // the whole struct (a measurable share of the body pass).
    #[inline]
    fn next(&mut self) -> Option<Tag<'a>> {
        let src = self.src;
        loop {
            let lt = self.pos + find_byte(b'<', src.get(self.pos..)?)?;
            let after = &src[lt + 1..];
            match after.first() {
                Some(b'!') if after.starts_with(b"!--") => self.pos = comment_end(src, lt + 4),
                Some(b'!' | b'?') => self.pos = past(src, lt + 1, b'>'),
                Some(b'/') if after.get(1).is_some_and(u8::is_ascii_alphabetic) => {
                    let name_end = name_end(src, lt + 2);
                    let gt = src.get(name_end..).and_then(|rest| find_byte(b'>', rest));
                    let end = gt.map_or(src.len(), |i| name_end + i + 1);
                    self.pos = end;
                    let tag = Tag {
                        name: &src[lt + 2..name_end],
                        is_end: true,
                        start: lt,
                        end,
                        self_closing: false,
                        unclosed: gt.is_none(),
                        attr_count: 0,
                        content: None,
                        attrs: &src[name_end..name_end],
                        names: 0,
                    };
                    return Some(tag);
                }
                Some(b'/') => self.pos = past(src, lt + 1, b'>'),
                Some(c) if c.is_ascii_alphabetic() => return Some(self.start_tag(lt)),
                _ => self.pos = lt + 1,
            }
        }
    }
}

impl<'a> Tags<'a> {
    /// Reads the start tag at `lt` (and, for raw-text elements, jumps past their content).
    #[inline]
    fn start_tag(&mut self, lt: usize) -> Tag<'a> {
        let src = self.src;
        let name_end = name_end(src, lt + 1);
        let name = &src[lt + 1..name_end];
        let mut attrs = Attrs {
            s: &src[name_end..],
            i: 0,
        };
        let (mut attr_count, mut names) = (0, 0);
        for (attr, _) in attrs.by_ref() {
            attr_count += 1;
            names |= name_bit(attr);
        }
        let gt = name_end + attrs.i;
        let end = (gt + 1).min(src.len());
        let self_closing = gt > name_end && src.get(gt - 1) == Some(&b'/') && src.get(gt) == Some(&b'>');
        let attrs = &src[name_end..gt.min(src.len())];
        let mut content = None;
        self.pos = end;
        // Every raw-text name starts with one of these letters: most tags skip the comparisons.
        let may_be_raw = name
            .first()
            .is_some_and(|c| matches!(c | 0x20, b's' | b't' | b'x' | b'i' | b'n'));
        let raw_text = RAW_TEXT
            .iter()
            .filter(|_| may_be_raw)
            .find(|raw| name.eq_ignore_ascii_case(raw.as_bytes()));
        if let Some(raw) = raw_text {
            let (content_end, after) = raw_text_end(src, end, raw.as_bytes());
            content = Some(end..content_end);
            self.pos = after;
        }
        Tag {
            name,
            is_end: false,
            start: lt,
            end,
            self_closing,
            unclosed: gt >= src.len(),
            attr_count,
            content,
            attrs,
            names,
        }
    }
}

/// Iterates over `(name, raw value)` pairs; stops at the `>` closing the tag (left in `i`).
struct Attrs<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Iterator for Attrs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let s = self.s;
        let mut i = self.i;
        while i < s.len() && (is_ws(s[i]) || s[i] == b'/') {
            i += 1;
        }
        if i >= s.len() || s[i] == b'>' {
            self.i = i;
            return None;
        }
        // The first byte belongs to the name whatever it is (`<a =x>` has an attribute `=x`).
        let name_start = i;
        i = until(s, i + 1, NAME_END);
        let name = &s[name_start..i];
        self.i = i;
        let mut j = skip_ws(s, i);
        if s.get(j) != Some(&b'=') {
            return Some((name, &s[..0]));
        }
        j = skip_ws(s, j + 1);
        let value = match s.get(j) {
            Some(&q @ (b'"' | b'\'')) => match find_byte(q, &s[j + 1..]) {
                Some(len) => {
                    self.i = j + 1 + len + 1;
                    &s[j + 1..j + 1 + len]
                }
                None => {
                    self.i = s.len();
                    &s[j + 1..]
                }
            },
            _ => {
                self.i = until(s, j, VALUE_END);
                &s[j..self.i]
            }
        };
        Some((name, value))
    }
}

/// Byte classes: ASCII whitespace (what `u8::is_ascii_whitespace` accepts), bytes ending a tag
/// name, an attribute name, an unquoted attribute value.
const WS: u8 = 1;
const TAG_NAME_END: u8 = 2;
const NAME_END: u8 = 4;
const VALUE_END: u8 = 8;
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let ws = [b'\t', b'\n', b'\x0C', b'\r', b' '];
    let mut k = 0;
    while k < ws.len() {
        table[ws[k] as usize] = WS | TAG_NAME_END | NAME_END | VALUE_END;
        k += 1;
    }
    table[b'/' as usize] = TAG_NAME_END | NAME_END;
    table[b'>' as usize] = TAG_NAME_END | NAME_END | VALUE_END;
    table[b'=' as usize] = NAME_END;
    table
};

fn is_ws(b: u8) -> bool {
    CLASS[usize::from(b)] & WS != 0
}

/// The first offset at or after `i` whose byte is in `class` (or the end of `s`).
fn until(s: &[u8], i: usize, class: u8) -> usize {
    let rest = s.get(i..).unwrap_or_default();
    i + rest
        .iter()
        .position(|&b| CLASS[usize::from(b)] & class != 0)
        .unwrap_or(rest.len())
}

fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && is_ws(s[i]) {
        i += 1;
    }
    i
}

/// End of a tag name starting at `i`.
fn name_end(s: &[u8], i: usize) -> usize {
    until(s, i, TAG_NAME_END)
}

/// An attribute name's bit in a [`Tag`]'s name filter: from the name's length and its first and
/// last bytes, ASCII-case-folded like [`Tag::attr`]'s comparison. The empty name, which no
/// attribute has, has none.
#[inline]
fn name_bit(name: &[u8]) -> u64 {
    let (Some(first), Some(last)) = (name.first(), name.last()) else {
        return 0;
    };
    let key =
        (name.len() as u32) | u32::from(first.to_ascii_lowercase()) << 8 | u32::from(last.to_ascii_lowercase()) << 16;
    // Fibonacci hashing: the top 6 bits of the product pick one of 64 bits.
    1 << (key.wrapping_mul(0x9E37_79B9) >> 26)
}

/// Offset just past the first `byte` at or after `from` (or the end of `s`).
fn past(s: &[u8], from: usize, byte: u8) -> usize {
    s.get(from..)
        .and_then(|rest| find_byte(byte, rest))
        .map_or(s.len(), |i| from + i + 1)
}

/// `memchr`, after a look at the first 16 bytes as two 8-byte words: in markup most searches end
/// within a few bytes (the next `<` after a tag, a short quoted value), where `memchr`'s
/// dispatch costs more than the search.
#[inline]
fn find_byte(needle: u8, hay: &[u8]) -> Option<usize> {
    const NEAR: usize = 16;
    const LOW_BITS: u64 = 0x0101_0101_0101_0101;
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    let near = &hay[..hay.len().min(NEAR)];
    let words = near.chunks_exact(8);
    let tail = words.remainder();
    for (k, chunk) in words.enumerate() {
        let bytes: [u8; 8] = chunk.try_into().expect("chunks_exact(8) yields 8 bytes");
        // Bytes equal to `needle` become zero; the lowest high bit left marks the first one.
        let word = u64::from_le_bytes(bytes) ^ (LOW_BITS * u64::from(needle));
        let zero = word.wrapping_sub(LOW_BITS) & !word & HIGH_BITS;
        if zero != 0 {
            return Some(k * 8 + zero.trailing_zeros() as usize / 8);
        }
    }
    if hay.len() > NEAR {
        return memchr(needle, &hay[NEAR..]).map(|i| i + NEAR);
    }
    tail.iter()
        .position(|&b| b == needle)
        .map(|i| near.len() - tail.len() + i)
}

/// Offset just past a comment whose body starts at `body` (handles `<!-->` and `<!--->`).
fn comment_end(s: &[u8], body: usize) -> usize {
    let rest = s.get(body..).unwrap_or_default();
    if rest.starts_with(b">") {
        return body + 1;
    }
    if rest.starts_with(b"->") {
        return body + 2;
    }
    memmem::find(rest, b"-->").map_or(s.len(), |i| body + i + 3)
}

/// For raw text starting at `from`: (start of the matching end tag, offset past its `>`).
fn raw_text_end(s: &[u8], from: usize, name: &[u8]) -> (usize, usize) {
    let mut i = from;
    while let Some(lt) = s.get(i..).and_then(|rest| find_byte(b'<', rest)).map(|k| i + k) {
        if s.get(lt + 1) != Some(&b'/') {
            i = lt + 1;
            continue;
        }
        let name_at = lt + 2;
        let candidate = s.get(name_at..name_at + name.len());
        let boundary = s
            .get(name_at + name.len())
            .is_none_or(|b| matches!(b, b'/' | b'>') || b.is_ascii_whitespace());
        if candidate.is_some_and(|c| c.eq_ignore_ascii_case(name)) && boundary {
            return (lt, past(s, name_at, b'>'));
        }
        i = lt + 2;
    }
    (s.len(), s.len())
}

/// Finds `needle` (ASCII, lowercase) in `hay` ignoring ASCII case.
pub(super) fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(src: &str) -> Vec<String> {
        tags(src.as_bytes())
            .map(|t| format!("{}{}", if t.is_end { "/" } else { "" }, String::from_utf8_lossy(t.name)))
            .collect()
    }

    #[test]
    fn skips_comments_doctype_and_raw_text() {
        let src = "<!DOCTYPE html><!-- <meta x> --><html><script>if (a<b) '<meta>' </SCRIPT ><p a='>'>x</p><!--><br>";
        assert_eq!(names(src), ["html", "script", "p", "/p", "br"]);
    }

    #[test]
    fn reads_attributes_in_every_quoting_style() {
        let src = r#"<META Charset=UTF-8 content='a "b"' data-x="1>2" checked/>"#;
        let tag = tags(src.as_bytes()).next().expect("a tag");
        assert!(tag.is("meta"));
        assert_eq!(tag.attr("charset"), Some(&b"UTF-8"[..]));
        assert_eq!(tag.attr("CONTENT"), Some(&br#"a "b""#[..]));
        assert_eq!(tag.attr("data-x"), Some(&b"1>2"[..]));
        assert_eq!(tag.attr("checked"), Some(&b""[..]));
        assert_eq!(tag.attr_count, 4);
        assert!(tag.self_closing);
        assert_eq!(tag.end, src.len());
    }

    #[test]
    fn attribute_lookups_ignore_case_and_see_past_the_name_filter() {
        let attrs: String = (0..200).map(|i| format!(" data-{i}=\"v{i}\"")).collect();
        let src = format!("<div{attrs} ItemProp='logo' HREF=/x =odd>");
        let tag = tags(src.as_bytes()).next().expect("a tag");
        assert_eq!(tag.attr_count, 203);
        assert_eq!(tag.attr("itemprop"), Some(&b"logo"[..]));
        assert_eq!(tag.attr("href"), Some(&b"/x"[..]));
        assert_eq!(tag.attr("=odd"), Some(&b""[..]));
        assert_eq!(tag.attr("data-199"), Some(&b"v199"[..]));
        assert_eq!(tag.attr("data-200"), None);
        assert_eq!(tag.attr(""), None);
        let end = tags(b"</div itemprop=x>").next().expect("an end tag");
        assert_eq!(end.attr("itemprop"), None, "end tags have no attributes");
    }

    #[test]
    fn byte_search_finds_the_first_match_at_every_offset_and_length() {
        for len in 0..48 {
            for at in 0..=len {
                let mut hay = vec![b'x'; len];
                if at < len {
                    hay[at] = b'<';
                    hay.iter_mut().skip(at + 1).step_by(3).for_each(|b| *b = b'<');
                }
                let expected = hay.iter().position(|&b| b == b'<');
                assert_eq!(find_byte(b'<', &hay), expected, "len {len}, at {at}");
            }
        }
        // Bytes just above or below the needle, and high bytes, are not matches.
        assert_eq!(find_byte(b'<', b";=\xBC\x3C"), Some(3));
        assert_eq!(find_byte(0x80, &[0x7F, 0x81, 0xFF, 0x00, 0x80]), Some(4));
    }

    #[test]
    fn exposes_script_content_and_survives_truncation() {
        let src = "<script type=x>{\"a\":1}</script><script>never closed";
        let all: Vec<_> = tags(src.as_bytes()).collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].content.clone().map(|r| &src[r]), Some("{\"a\":1}"));
        assert_eq!(all[1].content.clone().map(|r| &src[r]), Some("never closed"));
        assert_eq!(names("<a href=\"unterminated"), ["a"]);
        let unclosed: Vec<_> = ["<a>", "<a href='>'", "</a>", "</a", "<a/>", "<a"]
            .iter()
            .map(|src| tags(src.as_bytes()).next().is_some_and(|t| t.unclosed))
            .collect();
        assert_eq!(unclosed, [false, true, false, true, false, true]);
        assert_eq!(names("< a <1 </ x> <"), Vec::<String>::new());
    }
}
