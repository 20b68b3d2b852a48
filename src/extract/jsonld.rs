//! JSON-LD blocks: tolerant parsing and the bounds on what is parsed and stored.
//!
//! Each `<script type="application/ld+json">` body may be wrapped in `<![CDATA[ ]]>` or
//! `<!-- -->`, hold several top-level values one after another, end with `;` or junk, or
//! contain raw control characters inside strings. Whatever parses is kept; a block that does
//! not parse at all is skipped. Top-level arrays are flattened into separate entries.

use serde_json::Value;

/// At most this many `ld+json` scripts are looked at (oversized or invalid ones count).
pub(super) const MAX_BLOCKS: usize = 16;
/// A script body longer than this is skipped unparsed.
pub(super) const MAX_BLOCK_BYTES: usize = 64 * 1024;
/// The serialized size of everything stored in `Metadata::json_ld` stays within this.
pub(super) const MAX_STORED_BYTES: usize = 64 * 1024;

/// Parses every block (already capped at [`MAX_BLOCKS`]); returns all values parsed.
pub(super) fn parse_blocks(blocks: &[&str]) -> Vec<Value> {
    let mut values = Vec::new();
    for block in blocks.iter().filter(|b| b.len() <= MAX_BLOCK_BYTES) {
        let mut parsed = parse_block(block);
        if parsed.is_empty() && block.bytes().any(|b| b.is_ascii_control()) {
            // Raw newlines/tabs inside strings are invalid JSON but common; outside strings a
            // space means the same, so replacing control characters is safe.
            parsed = parse_block(&block.replace(|c: char| c.is_ascii_control(), " "));
        }
        for value in parsed {
            match value {
                Value::Array(items) => values.extend(items),
                other => values.push(other),
            }
        }
    }
    values
}

/// The values worth storing, in order, while their serialized size fits [`MAX_STORED_BYTES`].
pub(super) fn bounded(values: Vec<Value>) -> Vec<Value> {
    let mut total = 0;
    let mut kept = Vec::new();
    for value in values.into_iter().filter(Value::is_object) {
        let size = serialized_len(&value);
        if size > MAX_STORED_BYTES - total {
            continue;
        }
        total += size;
        kept.push(value);
    }
    kept
}

/// The length of `value` as JSON text, counted without building the text.
fn serialized_len(value: &Value) -> usize {
    /// An `io::Write` that only counts.
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    serde_json::to_writer(&mut counter, value).map_or(usize::MAX, |()| counter.0)
}

/// Every top-level value in one script body, stopping at the first thing that does not parse.
fn parse_block(block: &str) -> Vec<Value> {
    let mut rest = strip_wrappers(block);
    let mut values = Vec::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ';' || c == ',');
        if rest.is_empty() {
            break;
        }
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        match stream.next() {
            Some(Ok(value)) => {
                values.push(value);
                rest = rest.get(stream.byte_offset()..).unwrap_or_default();
            }
            _ => break,
        }
    }
    values
}

/// Removes CDATA and comment wrappers (also their `//`-commented forms) around the JSON.
fn strip_wrappers(block: &str) -> &str {
    let mut s = block.trim();
    loop {
        let before = s;
        for open in ["//<![CDATA[", "<![CDATA[", "<!--"] {
            s = s.strip_prefix(open).unwrap_or(s).trim_start();
        }
        for close in ["//]]>", "]]>", "//-->", "-->"] {
            s = s.strip_suffix(close).unwrap_or(s).trim_end();
        }
        if s.len() == before.len() {
            return s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_wrapped_concatenated_and_trailing_junk() {
        let block =
            "<!-- //<![CDATA[\n{\"@type\":\"WebSite\",\"name\":\"A\"};\n{\"@type\":\"Thing\"} trailing junk\n//]]> -->";
        let values = parse_blocks(&[block]);
        assert_eq!(
            values,
            vec![json!({"@type": "WebSite", "name": "A"}), json!({"@type": "Thing"})]
        );
    }

    #[test]
    fn skips_invalid_blocks_and_flattens_arrays() {
        let values = parse_blocks(&["{not json", "[{\"a\":1},{\"b\":2}]", ""]);
        assert_eq!(values, vec![json!({"a": 1}), json!({"b": 2})]);
    }

    #[test]
    fn repairs_raw_newlines_inside_strings() {
        let values = parse_blocks(&["{\"name\": \"Line one\nline two\"}"]);
        assert_eq!(values, vec![json!({"name": "Line one line two"})]);
    }

    #[test]
    fn bounds_block_size_and_stored_total() {
        let big = format!("{{\"name\":\"{}\"}}", "x".repeat(MAX_BLOCK_BYTES));
        assert!(parse_blocks(&[&big]).is_empty());
        let item = json!({"name": "y".repeat(20 * 1024)});
        let stored = bounded(vec![
            item.clone(),
            item.clone(),
            item.clone(),
            item,
            json!({"small": 1}),
        ]);
        assert_eq!(stored.len(), 4, "three big items and the small one fit");
        let total: usize = stored.iter().map(|v| v.to_string().len()).sum();
        assert!(total <= MAX_STORED_BYTES);
    }

    #[test]
    fn survives_deeply_nested_json() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_blocks(&[&deep[..MAX_BLOCK_BYTES]]).is_empty());
    }
}
