//! Every fallback order, tested as a ladder: with sources i.. present, source i must win (the
//! sources are written in reverse priority order so document order cannot explain the result).

use super::support::{page, run};
use crate::model::Metadata;

/// One rung: markup for the head, markup for the body, and the value it should yield.
type Rung<'a> = (&'a str, &'a str, &'a str);

fn ladder(field: impl Fn(&Metadata) -> Option<String>, rungs: &[Rung<'_>]) {
    for i in 0..rungs.len() {
        let present = &rungs[i..];
        let head: String = present.iter().rev().map(|r| r.0).collect();
        let body: String = present.iter().rev().map(|r| r.1).collect();
        let html = page(&head, &body);
        assert_eq!(field(&run(&html)).as_deref(), Some(rungs[i].2), "rung {i} of {html}");
    }
}

fn ld(json: &str) -> String {
    format!("<script type=\"application/ld+json\">{json}</script>")
}

#[test]
fn title_fallback_order() {
    let json = ld(r#"{"@type":"WebSite","name":"From JSON-LD"}"#);
    ladder(
        |m| m.title.clone(),
        &[
            (r#"<meta property="og:title" content="From OG">"#, "", "From OG"),
            (
                r#"<meta name="twitter:title" content="From Twitter">"#,
                "",
                "From Twitter",
            ),
            (&json, "", "From JSON-LD"),
            ("<title>From  title\n tag</title>", "", "From title tag"),
            ("", "<div><h1>From <em>h1</em></h1></div>", "From h1"),
        ],
    );
}

#[test]
fn json_ld_title_prefers_article_headline_over_website_name() {
    let json = ld(r#"[{"@type":"WebSite","name":"Site"},{"@type":["NewsArticle"],"headline":"Headline","name":"N"}]"#);
    assert_eq!(run(&page(&json, "")).title.as_deref(), Some("Headline"));
}

#[test]
fn description_fallback_order() {
    let json = ld(r#"{"@type":"WebPage","description":"From JSON-LD"}"#);
    ladder(
        |m| m.description.clone(),
        &[
            (r#"<meta property="og:description" content="From OG">"#, "", "From OG"),
            (
                r#"<meta name="twitter:description" content="From Twitter">"#,
                "",
                "From Twitter",
            ),
            (r#"<meta name="Description" content="From meta">"#, "", "From meta"),
            (&json, "", "From JSON-LD"),
        ],
    );
}

#[test]
fn site_name_fallback_order() {
    let site = ld(r#"{"@type":"WebSite","name":"From WebSite"}"#);
    let org = ld(r#"{"@type":"Organization","name":"From Organization"}"#);
    ladder(
        |m| m.site_name.clone(),
        &[
            (r#"<meta property="og:site_name" content="From OG">"#, "", "From OG"),
            (r#"<meta name="application-name" content="From app">"#, "", "From app"),
            (&site, "", "From WebSite"),
            (&org, "", "From Organization"),
        ],
    );
}

#[test]
fn image_fallback_order_with_absolute_urls() {
    let json = ld(r#"{"@type":"Article","image":{"@type":"ImageObject","url":"/ld.png"}}"#);
    ladder(
        |m| m.image.clone(),
        &[
            (
                r#"<meta property="og:image" content="/og.png">"#,
                "",
                "https://example.com/og.png",
            ),
            (
                r#"<meta property="og:image:secure_url" content="https://cdn.example.com/s.png">"#,
                "",
                "https://cdn.example.com/s.png",
            ),
            (
                r#"<meta name="twitter:image" content="tw.png">"#,
                "",
                "https://example.com/news/tw.png",
            ),
            (
                r#"<meta name="twitter:image:src" content="//cdn.example.com/src.png">"#,
                "",
                "https://cdn.example.com/src.png",
            ),
            (&json, "", "https://example.com/ld.png"),
            (
                r#"<link rel="image_src" href="/src.jpg">"#,
                "",
                "https://example.com/src.jpg",
            ),
        ],
    );
}

#[test]
fn canonical_and_lang_fallback_orders() {
    ladder(
        |m| m.canonical_url.clone(),
        &[
            (
                r#"<meta property="og:url" content="https://example.com/og">"#,
                "",
                "https://example.com/og",
            ),
            (
                r#"<link rel="canonical" href="/canonical">"#,
                "",
                "https://example.com/canonical",
            ),
        ],
    );
    let lang = |head: &str, html_attr: &str| run(&format!("<html {html_attr}><head>{head}</head></html>")).lang;
    let equiv = r#"<meta http-equiv="Content-Language" content="de-AT, en">"#;
    let locale = r#"<meta property="og:locale" content="en_US">"#;
    assert_eq!(
        lang(&format!("{locale}{equiv}"), "lang=fr-CA").as_deref(),
        Some("fr-CA")
    );
    assert_eq!(lang(&format!("{locale}{equiv}"), "").as_deref(), Some("de-AT"));
    assert_eq!(lang(locale, "lang=\" \"").as_deref(), Some("en-US"));
}

#[test]
fn logo_fallback_order() {
    let org = ld(
        r##"{"@graph":[{"@type":"Organization","@id":"#org","logo":{"@id":"#logo"}},{"@type":"ImageObject","@id":"#logo","url":"/org.png"}]}"##,
    );
    let publisher = ld(r#"{"@type":"Article","publisher":{"@type":"Organization","logo":"/pub.png"}}"#);
    let og_logo = r#"<meta property="og:logo" content="/og-logo.png">"#;
    let apple = r#"<link rel="apple-touch-icon" href="/apple.png">"#;
    ladder(
        |m| m.logo.clone(),
        &[
            (&org, "", "https://example.com/org.png"),
            (og_logo, "", "https://example.com/og-logo.png"),
            (apple, "", "https://example.com/apple.png"),
        ],
    );
    assert_eq!(
        run(&page(&publisher, "")).logo.as_deref(),
        Some("https://example.com/pub.png")
    );
}

#[test]
fn author_fallback_order_skips_url_authors() {
    let json = ld(r#"{"@type":"BlogPosting","author":[{"@type":"Person","name":"From JSON-LD"}]}"#);
    ladder(
        |m| m.author.clone(),
        &[
            (r#"<meta name="author" content="From meta">"#, "", "From meta"),
            (
                r#"<meta property="article:author" content="From article">"#,
                "",
                "From article",
            ),
            (&json, "", "From JSON-LD"),
        ],
    );
    let url_author = format!(r#"<meta property="article:author" content="https://facebook.com/someone">{json}"#);
    assert_eq!(run(&page(&url_author, "")).author.as_deref(), Some("From JSON-LD"));
}

#[test]
fn published_at_fallback_order_and_normalization() {
    let json = ld(r#"{"@type":"NewsArticle","datePublished":"2024-02-03T04:05:06+01:00"}"#);
    ladder(
        |m| m.published_at.clone(),
        &[
            (
                r#"<meta property="article:published_time" content="2024-01-02T03:04:05Z">"#,
                "",
                "2024-01-02T03:04:05Z",
            ),
            (&json, "", "2024-02-03T03:05:06Z"),
            (r#"<meta name="date" content="2024-03-04">"#, "", "2024-03-04T00:00:00Z"),
            (r#"<meta name="dc.date" content="last Tuesday">"#, "", "last Tuesday"),
        ],
    );
}

#[test]
fn plain_meta_fields_take_the_first_non_empty_value() {
    let head = r##"<meta name="generator" content=""><meta name="generator" content="WordPress 6.4">
        <meta name="generator" content="Other"><meta name="theme-color" content="#123456" media="(prefers-color-scheme: light)">
        <meta name="theme-color" content="#000"><meta name="robots" content=" index,  follow ">"##;
    let meta = run(&page(head, ""));
    assert_eq!(meta.generator.as_deref(), Some("WordPress 6.4"));
    assert_eq!(meta.theme_color.as_deref(), Some("#123456"));
    assert_eq!(meta.robots.as_deref(), Some("index, follow"));
}

#[test]
fn open_graph_and_twitter_maps_read_both_attributes() {
    let head = r#"<meta property="og:title" content=" "><meta name="og:title" content="Second">
        <meta property="og:title" content="Third"><meta property="OG:Type" content="website">
        <meta property="twitter:card" content="summary"><meta name="twitter:site" content="@acme">
        <meta property="article:tag" content="ignored">"#;
    let meta = run(&page(head, ""));
    let og: Vec<_> = meta.open_graph.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(og, [("og:title", "Second"), ("og:type", "website")]);
    let tw: Vec<_> = meta.twitter.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(tw, [("twitter:card", "summary"), ("twitter:site", "@acme")]);
    assert_eq!(meta.title.as_deref(), Some("Second"));
}
