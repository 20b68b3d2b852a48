//! The entry point: bytes of one page in, page facts out. Pure, bounded, never panics.
//!
//! Pipeline: cap the input at [`MAX_INPUT_BYTES`] → detect the charset and decode (see
//! `charset`) → one raw tag scan of the whole page (head end, JSON-LD, profile links, body
//! `<h1>`) → the head only (or the first 256 KiB when there is no `</head>` or `<body>`), cut
//! before pathological nesting and without script/style text (`dom_input`), read with the tag
//! scanner when it is a plain head (`plain_head`), else as a DOM (`head`) → fallbacks (see
//! `fields`).

use url::Url;

use super::fields::{self, Sources};
use super::raw::PREFIX_BYTES;
use super::schema::Schema;
use super::text::floor_prefix;
use super::{charset, dom_input, head, jsonld, plain_head, raw, urls};
use crate::model::Metadata;

/// Bytes past this are ignored, before decoding or building any tree.
pub const MAX_INPUT_BYTES: usize = 2 * 1024 * 1024;

/// What `extract` needs to know about the response besides its body.
#[derive(Debug, Clone, Copy)]
pub struct PageContext<'a> {
    /// Final URL of the response (base for relative URLs, unless `<base href>` says otherwise).
    pub url: &'a Url,
    /// Content-Type header of the response, if any (its charset= param takes part in charset detection).
    pub content_type: Option<&'a str>,
}

/// Extracts the page facts and `charset` of one HTML page; every other field stays `None`/empty.
pub fn extract(html: &[u8], ctx: &PageContext<'_>) -> Metadata {
    let bytes = &html[..html.len().min(MAX_INPUT_BYTES)];
    let (doc, encoding) = charset::decode(bytes, ctx.content_type);
    let raw = raw::scan(&doc);
    let dom_src = match raw.head_end {
        Some(end) => doc.get(..end).unwrap_or(&doc),
        None => floor_prefix(&doc, PREFIX_BYTES),
    };
    let input = dom_input::tree_input(dom_src);
    let mut dom = plain_head::read(&input).unwrap_or_else(|| head::read(&input));
    dom.absorb_body(&raw.body_meta, &raw.body_links);
    let values = jsonld::parse_blocks(&raw.ld_json);
    let schema = Schema::new(&values);
    let base = urls::document_base(ctx.url, dom.base_href.as_deref());
    let sources = Sources {
        page: ctx.url,
        base: &base,
        dom: &dom,
        raw: &raw,
        schema: &schema,
    };
    let mut meta = Metadata {
        charset: Some(encoding.name().to_ascii_lowercase()),
        ..Metadata::default()
    };
    fields::fill(&mut meta, &sources);
    meta.json_ld = jsonld::bounded(values);
    meta
}
