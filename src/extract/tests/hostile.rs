//! Hostile and broken input: bounded work, no panics. Nothing here is timed; the tests only
//! assert that extraction returns (a regression to quadratic work shows up as a hung test).

use super::support::{page, run, run_with};
use crate::extract::MAX_INPUT_BYTES;

#[test]
fn deeply_nested_markup_in_the_body() {
    let body = format!("{}<h1>deep</h1>{}", "<div>".repeat(100_000), "</div>".repeat(100_000));
    let meta = run(&page("<title>Shallow</title>", &body));
    assert_eq!(meta.title.as_deref(), Some("Shallow"));
}

#[test]
fn deeply_nested_markup_without_a_head_end() {
    let html = format!("<title>Still found</title>{}", "<div><span><b>".repeat(100_000));
    assert_eq!(run(&html).title.as_deref(), Some("Still found"));
    let inside_h1 = format!("<html><head></head><body><h1>Top{}</h1>", "<i>".repeat(100_000));
    assert_eq!(run(&inside_h1).title.as_deref(), Some("Top"));
}

#[test]
fn huge_page_with_json_ld_deep_in_the_body() {
    let filler = "<p>Lorem ipsum dolor sit amet, <a href=\"/x\">link</a></p>\n".repeat(20_000);
    let ld = r#"<script type="application/ld+json">{"@type":"Organization","name":"Late Org"}</script>"#;
    let html = page(
        "<meta name=description content=d>",
        &format!("{filler}{ld}{filler}{filler}"),
    );
    assert!(html.len() > MAX_INPUT_BYTES);
    let meta = run(&html);
    assert_eq!(meta.site_name.as_deref(), Some("Late Org"));
    assert_eq!(meta.description.as_deref(), Some("d"));
    let beyond_cap = page("", &format!("{filler}{filler}{filler}{ld}"));
    assert_eq!(run(&beyond_cap).site_name, None, "bytes past the cap are ignored");
}

#[test]
fn floods_of_tags_attributes_and_scripts() {
    let attrs: String = (0..50_000).map(|i| format!(" data-a{i}=\"{i}\"")).collect();
    let html = format!("<html><head><title>T</title><meta{attrs}></head></html>");
    assert_eq!(run(&html).title.as_deref(), Some("T"));
    let metas = "<meta property=\"og:x\" content=\"y\">".repeat(60_000);
    assert_eq!(
        run(&page(&format!("<title>M</title>{metas}"), "")).title.as_deref(),
        Some("M")
    );
    let scripts = "<script type=\"application/ld+json\">{\"@type\":\"WebSite\",\"name\":\"S\"}</script>".repeat(10_000);
    let meta = run(&page(&scripts, ""));
    assert_eq!(meta.json_ld.len(), 16);
}

#[test]
fn unterminated_constructs_do_not_hang_or_panic() {
    for html in [
        "<!--",
        "<script>",
        "<title>x",
        "<meta content=\"",
        "<a href='",
        "<",
        "</",
        "<!",
        "&#",
        "<h1>",
        "",
    ] {
        let doubled = format!("<html><head>{html}</head><body>{html}");
        let _ = run(html);
        let _ = run(&doubled);
    }
    let _ = run(&"<".repeat(500_000));
    let _ = run(&"<!--".repeat(300_000));
    let _ = run(&"<a ".repeat(300_000));
}

#[test]
fn every_truncation_and_random_bytes_are_safe() {
    let doc = page(
        r##"<meta charset="utf-8"><title>Tïtle &amp;amp; “quotes”</title><base href="/b/"><link rel=icon href=i.png>
           <script type="application/ld+json">{"@graph":[{"@type":"Article","headline":"H","author":{"@id":"#a"}}]}</script>"##,
        "<h1>Hé<br>llo</h1><a href=\"https://github.com/a\">g</a>",
    );
    for end in 0..=doc.len() {
        let _ = run_with(&doc.as_bytes()[..end], None);
    }
    let alphabet = b"<>/=\"' &;#!-abcdehilmnoprstx\xC3\xA9\xFF\x00";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for round in 0..200 {
        let bytes: Vec<u8> = (0..(round * 37) % 4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                alphabet[(state % alphabet.len() as u64) as usize]
            })
            .collect();
        let _ = run_with(&bytes, Some("text/html; charset=\"\u{FF}"));
    }
}
