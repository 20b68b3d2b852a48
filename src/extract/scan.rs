//! A forgiving byte-level tag scanner: finds start/end tags and their attributes in linear time
//! without building a tree. Used where a DOM would cost too much (charset prescan, JSON-LD and
//! profile links anywhere in a large body, bounding the input handed to the tree builder).
//!
//! It follows the HTML tokenizer closely enough for those jobs: comments, doctypes and
//! processing instructions are skipped, quoted attribute values may contain `>`, and the
//! content of raw-text elements (`<script>`, `<style>`, `<title>`...) is jumped over (and
//! exposed as [`Tag::content`]). It works on bytes, so it runs before decoding; every offset it
//! returns sits on an ASCII byte, hence on a `str` char boundary.

use std::ops::Range;

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
    /// How many attributes the tag has (duplicates included).
    pub attr_count: usize,
    /// For raw-text elements: the content up to (excluding) the matching end tag.
    pub content: Option<Range<usize>>,
    attrs: &'a [u8],
}

impl<'a> Tag<'a> {
    /// True when the tag name equals `name` ASCII-case-insensitively.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }

    /// The raw (not entity-decoded) value of the first attribute named `name`.
    pub fn attr(&self, name: &str) -> Option<&'a [u8]> {
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

    fn next(&mut self) -> Option<Tag<'a>> {
        let src = self.src;
        loop {
            let lt = self.pos + src.get(self.pos..)?.iter().position(|&b| b == b'<')?;
            let after = &src[lt + 1..];
            match after.first() {
                Some(b'!') if after.starts_with(b"!--") => self.pos = comment_end(src, lt + 4),
                Some(b'!' | b'?') => self.pos = find_from(src, lt + 1, b">").map_or(src.len(), |i| i + 1),
                Some(b'/') if after.get(1).is_some_and(u8::is_ascii_alphabetic) => {
                    let name_end = name_end(src, lt + 2);
                    let end = find_from(src, name_end, b">").map_or(src.len(), |i| i + 1);
                    self.pos = end;
                    let (name, attrs) = (&src[lt + 2..name_end], &src[name_end..name_end]);
                    let tag = Tag {
                        name,
                        is_end: true,
                        start: lt,
                        end,
                        self_closing: false,
                        attr_count: 0,
                        content: None,
                        attrs,
                    };
                    return Some(tag);
                }
                Some(b'/') => self.pos = find_from(src, lt + 1, b">").map_or(src.len(), |i| i + 1),
                Some(c) if c.is_ascii_alphabetic() => return Some(self.start_tag(lt)),
                _ => self.pos = lt + 1,
            }
        }
    }
}

impl<'a> Tags<'a> {
    /// Reads the start tag at `lt` (and, for raw-text elements, jumps past their content).
    fn start_tag(&mut self, lt: usize) -> Tag<'a> {
        let src = self.src;
        let name_end = name_end(src, lt + 1);
        let name = &src[lt + 1..name_end];
        let mut attrs = Attrs {
            s: &src[name_end..],
            i: 0,
        };
        let attr_count = attrs.by_ref().count();
        let gt = name_end + attrs.i;
        let end = (gt + 1).min(src.len());
        let self_closing = gt > name_end && src.get(gt - 1) == Some(&b'/') && src.get(gt) == Some(&b'>');
        let attrs = &src[name_end..gt.min(src.len())];
        let mut content = None;
        self.pos = end;
        if let Some(raw) = RAW_TEXT.iter().find(|raw| name.eq_ignore_ascii_case(raw.as_bytes())) {
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
            attr_count,
            content,
            attrs,
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
        while self.i < s.len() && (s[self.i].is_ascii_whitespace() || s[self.i] == b'/') {
            self.i += 1;
        }
        if self.i >= s.len() || s[self.i] == b'>' {
            return None;
        }
        let name_start = self.i;
        self.i += 1;
        while self.i < s.len() && !matches!(s[self.i], b'/' | b'>' | b'=') && !s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
        let name = &s[name_start..self.i];
        let mut j = skip_ws(s, self.i);
        if s.get(j) != Some(&b'=') {
            return Some((name, &s[..0]));
        }
        j = skip_ws(s, j + 1);
        let value = match s.get(j) {
            Some(&q @ (b'"' | b'\'')) => match find_from(s, j + 1, &[q]) {
                Some(close) => {
                    self.i = close + 1;
                    &s[j + 1..close]
                }
                None => {
                    self.i = s.len();
                    &s[j + 1..]
                }
            },
            _ => {
                let mut k = j;
                while k < s.len() && s[k] != b'>' && !s[k].is_ascii_whitespace() {
                    k += 1;
                }
                self.i = k;
                &s[j..k]
            }
        };
        Some((name, value))
    }
}

fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && s[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// End of a tag name starting at `i`.
fn name_end(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && !matches!(s[i], b'/' | b'>') && !s[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Offset of the first occurrence of `needle` in `s` at or after `from`.
pub(super) fn find_from(s: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let hay = s.get(from..)?;
    match needle {
        [] => Some(from),
        [one] => hay.iter().position(|b| b == one).map(|i| i + from),
        _ => hay.windows(needle.len()).position(|w| w == needle).map(|i| i + from),
    }
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
    find_from(s, body, b"-->").map_or(s.len(), |i| i + 3)
}

/// For raw text starting at `from`: (start of the matching end tag, offset past its `>`).
fn raw_text_end(s: &[u8], from: usize, name: &[u8]) -> (usize, usize) {
    let mut i = from;
    while let Some(lt) = find_from(s, i, b"</") {
        let name_at = lt + 2;
        let candidate = s.get(name_at..name_at + name.len());
        let boundary = s
            .get(name_at + name.len())
            .is_none_or(|b| matches!(b, b'/' | b'>') || b.is_ascii_whitespace());
        if candidate.is_some_and(|c| c.eq_ignore_ascii_case(name)) && boundary {
            let after = find_from(s, name_at, b">").map_or(s.len(), |i| i + 1);
            return (lt, after);
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
    fn exposes_script_content_and_survives_truncation() {
        let src = "<script type=x>{\"a\":1}</script><script>never closed";
        let all: Vec<_> = tags(src.as_bytes()).collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].content.clone().map(|r| &src[r]), Some("{\"a\":1}"));
        assert_eq!(all[1].content.clone().map(|r| &src[r]), Some("never closed"));
        assert_eq!(names("<a href=\"unterminated"), ["a"]);
        assert_eq!(names("< a <1 </ x> <"), Vec::<String>::new());
    }
}
