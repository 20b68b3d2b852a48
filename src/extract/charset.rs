//! Charset detection and decoding of the response body.
//!
//! Order (first match wins):
//! 1. a byte-order mark (UTF-8, UTF-16LE, UTF-16BE);
//! 2. bytes that are valid UTF-8 *and* contain non-ASCII — they win over any declared legacy
//!    charset, which is then wrong (a truncated final sequence still counts as valid);
//! 3. the `charset=` parameter of the `Content-Type` header;
//! 4. `<meta charset>` or `<meta http-equiv=content-type content="...charset=...">` anywhere in
//!    the head (raw bytes, case-insensitive, not limited to the first 1024 bytes; the scan stops
//!    at `</head>` or `<body>`);
//! 5. windows-1252 (what browsers assume for Western pages without a declaration).
//!
//! A declared UTF-8 (steps 3–4) is disregarded when the bytes hold more invalid UTF-8 sequences
//! than valid non-ASCII characters: such a page is legacy-encoded and the declaration is wrong.
//!
//! Unknown labels and the `replacement` encoding are ignored; a `<meta>` declaring UTF-16 means
//! UTF-8 and `x-user-defined` means windows-1252, as the HTML standard says.

use std::borrow::Cow;

use encoding_rs::{Encoding, REPLACEMENT, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252, X_USER_DEFINED};

use super::scan::{contains_ignore_case, tags};

/// Detects the encoding of `bytes` and decodes them; also returns the encoding used.
pub(super) fn decode<'b>(bytes: &'b [u8], content_type: Option<&str>) -> (Cow<'b, str>, &'static Encoding) {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return (text, encoding);
    }
    // Step 2 first, in one validation pass: most pages are valid UTF-8, and then nothing else
    // needs to be counted or decoded. encoding_rs's validator (borrowing valid input) runs
    // about 4× faster than `str::from_utf8` on the bench pages, with the same answer.
    let valid = match UTF_8.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(Cow::Borrowed(text)) => Some(text),
        _ => None,
    };
    if let Some(text) = valid.filter(|t| !t.is_ascii()) {
        return (Cow::Borrowed(text), UTF_8);
    }
    let (non_ascii, invalid) = if valid.is_some() { (0, 0) } else { utf8_evidence(bytes) };
    // A UTF-8 declaration is checkable: on bytes that are mostly not UTF-8 it is wrong.
    let credible = |e: &&'static Encoding| *e != UTF_8 || invalid <= non_ascii;
    let encoding = if non_ascii > 0 && invalid == 0 {
        UTF_8
    } else {
        content_type
            .and_then(|ct| charset_in(ct.as_bytes()))
            .and_then(usable)
            .filter(credible)
            .or_else(|| prescan_meta(bytes).filter(credible))
            .unwrap_or(WINDOWS_1252)
    };
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    (text, encoding)
}

/// Non-ASCII chars in valid UTF-8: each has exactly one lead byte (>= 0xC0; continuation bytes
/// are 0x80..=0xBF), so counting bytes gives the number without decoding every char.
fn lead_bytes(valid_utf8: &[u8]) -> usize {
    valid_utf8.iter().filter(|b| **b >= 0xC0).count()
}

/// (non-ASCII chars in valid UTF-8 sequences, invalid sequences); a cut-off last sequence counts
/// as neither (a size cap may split a character).
fn utf8_evidence(bytes: &[u8]) -> (usize, usize) {
    let (mut non_ascii, mut invalid) = (0, 0);
    let mut rest = bytes;
    // std's validator (with its ASCII fast path) finds each invalid sequence; legacy pages have
    // one per accented letter, so the valid runs between them are short and many.
    while let Err(error) = std::str::from_utf8(rest) {
        let (valid, after) = rest.split_at(error.valid_up_to());
        non_ascii += lead_bytes(valid);
        let (bad, tail) = after.split_at(error.error_len().unwrap_or(after.len()));
        let cut_off = tail.is_empty() && bad.len() < 4 && bad.first().is_some_and(|b| *b >= 0xC2);
        if !cut_off {
            invalid += 1;
        }
        rest = tail;
    }
    (non_ascii + lead_bytes(rest), invalid)
}

/// The encoding for a label, unless it is unknown or the lossy `replacement` encoding.
fn usable(label: &[u8]) -> Option<&'static Encoding> {
    Encoding::for_label(label).filter(|e| *e != REPLACEMENT)
}

/// The first encoding declared by a `<meta>` in the head.
fn prescan_meta(bytes: &[u8]) -> Option<&'static Encoding> {
    for tag in tags(bytes) {
        if (tag.is_end && tag.is("head")) || (!tag.is_end && tag.is("body")) {
            return None;
        }
        if tag.is_end || !tag.is("meta") {
            continue;
        }
        let declared = match tag.attr("charset") {
            Some(label) => usable(label),
            None => {
                let is_content_type = tag
                    .attr("http-equiv")
                    .is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"content-type"));
                tag.attr("content")
                    .filter(|_| is_content_type)
                    .and_then(charset_in)
                    .and_then(usable)
            }
        };
        if let Some(encoding) = declared {
            return Some(match encoding {
                e if e == UTF_16BE || e == UTF_16LE => UTF_8,
                e if e == X_USER_DEFINED => WINDOWS_1252,
                e => e,
            });
        }
    }
    None
}

/// The value after `charset=` in a Content-Type-like string (quotes removed).
fn charset_in(content: &[u8]) -> Option<&[u8]> {
    if !contains_ignore_case(content, b"charset") {
        return None;
    }
    let mut i = 0;
    while i + 7 <= content.len() {
        if !content[i..i + 7].eq_ignore_ascii_case(b"charset") {
            i += 1;
            continue;
        }
        let mut j = i + 7;
        while content.get(j).is_some_and(u8::is_ascii_whitespace) {
            j += 1;
        }
        if content.get(j) != Some(&b'=') {
            i += 7;
            continue;
        }
        j += 1;
        while content.get(j).is_some_and(u8::is_ascii_whitespace) {
            j += 1;
        }
        let rest = content.get(j..)?;
        let value = match rest.first() {
            Some(&q @ (b'"' | b'\'')) => rest[1..].split(|&b| b == q).next()?,
            _ => rest.split(|&b| b == b';' || b.is_ascii_whitespace()).next()?,
        };
        return Some(value.trim_ascii()).filter(|v| !v.is_empty());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(bytes: &[u8], content_type: Option<&str>) -> (String, &'static str) {
        let (text, encoding) = decode(bytes, content_type);
        (text.into_owned(), encoding.name())
    }

    #[test]
    fn bom_wins_over_everything() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend("<p>é".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(
            detect(&bytes, Some("text/html; charset=iso-8859-1")),
            ("<p>é".into(), "UTF-16LE")
        );
        let utf8 = b"\xEF\xBB\xBF<meta charset=shift_jis>caf\xC3\xA9";
        assert_eq!(detect(utf8, None).1, "UTF-8");
    }

    #[test]
    fn valid_utf8_beats_a_wrong_latin1_declaration() {
        let bytes = "<meta charset=iso-8859-1><title>Café</title>".as_bytes();
        assert_eq!(detect(bytes, Some("text/html; charset=ISO-8859-1")).1, "UTF-8");
        // Cut in the middle of "é" by the size cap: still UTF-8.
        assert_eq!(detect(&"é aé".as_bytes()[..5], None).1, "UTF-8");
    }

    #[test]
    fn header_beats_meta_for_ascii_or_legacy_bytes() {
        let bytes = b"<meta charset=shift_jis><p>caf\xE9</p>";
        assert_eq!(
            detect(bytes, Some("text/html;charset=\"windows-1252\"")),
            ("<meta charset=shift_jis><p>café</p>".into(), "windows-1252")
        );
        assert_eq!(detect(bytes, Some("text/html; charset=bogus")).1, "Shift_JIS");
    }

    #[test]
    fn meta_declarations_are_found_late_and_in_any_case() {
        let filler = "<!-- padding -->".repeat(200);
        let bytes = format!(
            "<html><head>{filler}<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=ISO-8859-15\"></head>"
        );
        assert!(bytes.len() > 1024);
        assert_eq!(detect(bytes.as_bytes(), None).1, "ISO-8859-15");
        assert_eq!(detect(b"<meta charset='utf-16le'>", None).1, "UTF-8");
        assert_eq!(detect(b"<meta charset=x-user-defined>", None).1, "windows-1252");
    }

    #[test]
    fn a_utf8_declaration_on_legacy_bytes_is_disregarded() {
        let bytes = b"<meta charset=utf-8><p>caf\xE9 cr\xE8me br\xFBl\xE9e</p>";
        assert_eq!(
            detect(bytes, None),
            ("<meta charset=utf-8><p>café crème brûlée</p>".into(), "windows-1252")
        );
        assert_eq!(detect(bytes, Some("text/html; charset=utf-8")).1, "windows-1252");
        // Mostly UTF-8 with one stray byte: the declaration stands.
        let bytes = b"<meta charset=utf-8><p>caf\xC3\xA9 cr\xC3\xA8me \xE9 x</p>";
        assert_eq!(detect(bytes, None).1, "UTF-8");
    }

    #[test]
    fn meta_in_body_or_comment_is_ignored_and_default_is_windows_1252() {
        assert_eq!(detect(b"<head></head><meta charset=shift_jis>", None).1, "windows-1252");
        assert_eq!(
            detect(b"<!-- <meta charset=shift_jis> --><p>\xE9", None),
            ("<!-- <meta charset=shift_jis> --><p>é".into(), "windows-1252")
        );
        assert_eq!(detect(b"<meta charset=iso-2022-kr>", None).1, "windows-1252");
    }

    #[test]
    fn utf8_evidence_counts_chars_not_bytes() {
        assert_eq!(utf8_evidence("aé漢😀".as_bytes()), (3, 0));
        assert_eq!(lead_bytes("aé漢😀".as_bytes()), 3);
        assert_eq!(utf8_evidence(b"ascii only"), (0, 0));
        // Two stray bytes, one two-byte char, and a cut-off sequence at the end (not counted).
        assert_eq!(utf8_evidence(b"\xE9x\xFFy\xC3\xA9z\xE6\xBC"), (1, 2));
    }

    #[test]
    fn extracts_charset_parameters() {
        assert_eq!(charset_in(b"text/html; Charset = 'UTF-8' ; x"), Some(&b"UTF-8"[..]));
        assert_eq!(charset_in(b"text/html; charset="), None);
        assert_eq!(charset_in(b"charsetx; charset=koi8-r"), Some(&b"koi8-r"[..]));
        assert_eq!(charset_in(b"text/html"), None);
    }
}
