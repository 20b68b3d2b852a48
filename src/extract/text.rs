//! Text normalization shared by every extracted value: whitespace collapsing and the one extra
//! level of entity decoding that repairs double-encoded pages (`&amp;amp;` in the source).

/// Input past this many bytes is ignored, and a cleaned value is cut to [`MAX_VALUE_BYTES`]:
/// no stored page fact can be megabytes long.
const MAX_INPUT_BYTES: usize = 64 * 1024;
/// The longest cleaned value kept (cut on a char boundary).
pub(super) const MAX_VALUE_BYTES: usize = 4096;

/// Collapses whitespace, trims, and decodes one leftover level of common entities; `None` if empty.
///
/// The HTML parser has already decoded entities once; a value that still contains `&amp;`,
/// `&#39;`... was double-encoded by the page, so exactly one more level is decoded here (and
/// JSON-LD text, which the parser never decodes, gets its single level here too).
pub(super) fn clean(raw: &str) -> Option<String> {
    let decoded = decode_entities(floor_prefix(raw, MAX_INPUT_BYTES));
    let mut collapsed = collapse_whitespace(&decoded);
    if collapsed.len() > MAX_VALUE_BYTES {
        let cut = floor_prefix(&collapsed, MAX_VALUE_BYTES).trim_end().len();
        collapsed.truncate(cut);
    }
    if collapsed.is_empty() {
        None
    } else {
        Some(collapsed)
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
pub(super) fn floor_prefix(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Collapses every run of Unicode whitespace into one space and trims both ends.
pub(super) fn collapse_whitespace(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for word in raw.split(char::is_whitespace).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Decodes common named entities and numeric references that end in `;` (one level only).
pub(super) fn decode_entities(raw: &str) -> String {
    if !raw.contains('&') {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        match decode_one(tail) {
            Some((ch, used)) => {
                out.push(ch);
                rest = &tail[used..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decodes the reference at the start of `s` (which starts with `&`): the char and bytes used.
fn decode_one(s: &str) -> Option<(char, usize)> {
    // Entity names and numbers are short; bounding the search keeps this O(1) per `&`.
    let semi = s.as_bytes().iter().take(12).position(|&b| b == b';')?;
    let body = &s[1..semi];
    let ch = if let Some(num) = body.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) if !hex.is_empty() => u32::from_str_radix(hex, 16).ok()?,
            Some(_) => return None,
            None if !num.is_empty() => num.parse::<u32>().ok()?,
            None => return None,
        };
        numeric_char(code)
    } else {
        named_char(body)?
    };
    Some((ch, semi + 1))
}

/// Maps a numeric character reference to a char the way browsers do (C1 range as windows-1252).
pub(super) fn numeric_char(code: u32) -> char {
    if (0x80..=0x9f).contains(&code) {
        let byte = [code as u8];
        let (decoded, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&byte);
        return decoded.chars().next().unwrap_or('\u{fffd}');
    }
    match code {
        0 => '\u{fffd}',
        _ => char::from_u32(code).unwrap_or('\u{fffd}'),
    }
}

/// The common named entities seen double-encoded in the wild (case-sensitive, as in HTML). Each
/// is an HTML named reference to the same character (`plain_head` decodes `&name;` with it).
pub(super) fn named_char(name: &str) -> Option<char> {
    Some(match name {
        "amp" | "AMP" => '&',
        "lt" | "LT" => '<',
        "gt" | "GT" => '>',
        "quot" | "QUOT" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "sbquo" => '‚',
        "ldquo" => '“',
        "rdquo" => '”',
        "bdquo" => '„',
        "laquo" => '«',
        "raquo" => '»',
        "middot" => '·',
        "bull" => '•',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "euro" => '€',
        "pound" => '£',
        "yen" => '¥',
        "cent" => '¢',
        "sect" => '§',
        "deg" => '°',
        "times" => '×',
        "eacute" => 'é',
        "egrave" => 'è',
        "ecirc" => 'ê',
        "agrave" => 'à',
        "aacute" => 'á',
        "acirc" => 'â',
        "ccedil" => 'ç',
        "ouml" => 'ö',
        "auml" => 'ä',
        "uuml" => 'ü',
        "Ouml" => 'Ö',
        "Auml" => 'Ä',
        "Uuml" => 'Ü',
        "szlig" => 'ß',
        "ntilde" => 'ñ',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapses_and_trims_whitespace() {
        assert_eq!(clean("  a \n\t b\u{a0} c  ").as_deref(), Some("a b c"));
        assert_eq!(clean(" \n "), None);
        assert_eq!(clean(""), None);
    }

    #[test]
    fn decodes_exactly_one_extra_level() {
        assert_eq!(clean("Tom &amp; Jerry").as_deref(), Some("Tom & Jerry"));
        assert_eq!(clean("A &amp;amp; B").as_deref(), Some("A &amp; B"));
        assert_eq!(clean("it&#39;s &#x2014; &#8217;").as_deref(), Some("it's — ’"));
        assert_eq!(clean("&#150; &mdash;").as_deref(), Some("– —"));
    }

    #[test]
    fn bounds_value_length_on_a_char_boundary() {
        let long = "é".repeat(MAX_VALUE_BYTES);
        let cleaned = clean(&long).expect("non-empty");
        assert_eq!(cleaned.len(), MAX_VALUE_BYTES);
        assert!(
            clean(&format!("{}x", " ".repeat(MAX_INPUT_BYTES))).is_none(),
            "input past the bound is ignored"
        );
    }

    #[test]
    fn leaves_bare_ampersands_and_unknown_names() {
        assert_eq!(clean("AT&T &foo; & &#; &#x;").as_deref(), Some("AT&T &foo; & &#; &#x;"));
        assert_eq!(clean("&#0;&#99999999;").as_deref(), Some("\u{fffd}\u{fffd}"));
        assert_eq!(clean("x &amp").as_deref(), Some("x &amp"));
    }
}
