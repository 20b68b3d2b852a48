//! Page-fact extraction: a pure `extract(html, ctx) -> Metadata` with no I/O and no actix.
//!
//! Bytes are capped, decoded with the detected charset (`charset`), scanned once without a
//! tree for what may sit anywhere in a large page (`raw`, `scan`), and only the head (bounded in
//! size and nesting, script text left out: `dom_input`) is parsed into a DOM (`head`). JSON-LD is parsed tolerantly (`jsonld`) and
//! queried by type (`schema`); `fields` documents and applies every fallback order.

mod charset;
mod dates;
mod dom_input;
mod fields;
mod head;
mod jsonld;
mod links;
mod page;
mod plain_head;
mod raw;
mod scan;
mod schema;
mod text;
mod urls;

#[cfg(test)]
mod tests;

pub use page::{extract, PageContext, MAX_INPUT_BYTES};
