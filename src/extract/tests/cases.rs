//! Hard cases from real pages: relative URLs and `<base>`, JSON-LD quirks, decoy titles,
//! duplicate/empty meta tags, double-encoded entities, favicon and social fallbacks.

use super::support::{page, run};

#[test]
fn relative_urls_resolve_against_the_page_or_base_href() {
    let head = r#"<link rel="icon" href="img/fav.png"><meta property="og:image" content="../cover.jpg">
        <link rel="canonical" href="?p=1&amp;amp;q=2"><link rel="alternate" type="application/rss+xml" href="/feed">"#;
    let meta = run(&page(head, ""));
    assert_eq!(meta.favicon.as_deref(), Some("https://example.com/news/img/fav.png"));
    assert_eq!(meta.image.as_deref(), Some("https://example.com/cover.jpg"));
    assert_eq!(
        meta.canonical_url.as_deref(),
        Some("https://example.com/news/story.html?p=1&q=2")
    );
    assert_eq!(meta.feeds, ["https://example.com/feed"]);

    let based = run(&page(
        &format!(r#"<base href="https://static.example.org/assets/">{head}"#),
        "",
    ));
    assert_eq!(
        based.favicon.as_deref(),
        Some("https://static.example.org/assets/img/fav.png")
    );
    assert_eq!(based.image.as_deref(), Some("https://static.example.org/cover.jpg"));
}

#[test]
fn non_http_urls_are_dropped_so_fallbacks_apply() {
    let head = r#"<meta property="og:image" content="javascript:alert(1)"><meta name="twitter:image" content="data:image/png;base64,AA">
        <link rel="icon" href="data:image/svg+xml,<svg/>"><meta property="og:image:url" content="/real.png">"#;
    let meta = run(&page(head, ""));
    assert_eq!(meta.image.as_deref(), Some("https://example.com/real.png"));
    assert!(meta.icons.is_empty());
    assert_eq!(meta.favicon.as_deref(), Some("https://example.com/favicon.ico"));
}

#[test]
fn invalid_json_ld_next_to_valid_and_graph() {
    let head = r#"<script type="application/ld+json">{"@type": "WebSite", "name": broken</script>
        <script type="APPLICATION/LD+JSON"><![CDATA[{"@context":"https://schema.org","@graph":[
          {"@type":"WebSite","@id":"https://example.com/#site","name":"Graph Site","publisher":{"@id":"https://example.com/#org"}},
          {"@type":"Organization","@id":"https://example.com/#org","name":"Acme","logo":{"@type":"ImageObject","url":"/logo.png"},
           "sameAs":["https://twitter.com/acme","https://www.wikidata.org/wiki/Q1"]}]}]]></script>"#;
    let meta = run(&page(
        head,
        r#"<script type="application/ld+json">{"@type":"WebPage","description":"In body"};</script>"#,
    ));
    assert_eq!(meta.title.as_deref(), Some("Graph Site"));
    assert_eq!(meta.site_name.as_deref(), Some("Graph Site"));
    assert_eq!(meta.description.as_deref(), Some("In body"));
    assert_eq!(meta.logo.as_deref(), Some("https://example.com/logo.png"));
    assert_eq!(
        meta.social,
        ["https://twitter.com/acme", "https://www.wikidata.org/wiki/Q1"]
    );
    assert_eq!(meta.json_ld.len(), 2, "the invalid block is skipped");
}

#[test]
fn svg_title_is_a_decoy() {
    let head = r#"<svg><title>Decoy icon</title></svg><title>Real title</title>"#;
    assert_eq!(run(&page(head, "")).title.as_deref(), Some("Real title"));
    let body_svg = r#"<svg><title>Body decoy</title></svg><h1>Heading</h1>"#;
    assert_eq!(run(&page("", body_svg)).title.as_deref(), Some("Heading"));
}

#[test]
fn duplicate_and_empty_meta_tags() {
    let head = r#"<meta name="description" content=""><meta name="description" content="   ">
        <meta name="description" content="First real"><meta name="description" content="Second">
        <meta property="og:title" content=""><title>Title tag</title>"#;
    let meta = run(&page(head, ""));
    assert_eq!(meta.description.as_deref(), Some("First real"));
    assert_eq!(meta.title.as_deref(), Some("Title tag"));
    assert!(meta.open_graph.is_empty());
}

#[test]
fn double_encoded_entities_are_decoded_once_more() {
    let head = r#"<meta property="og:title" content="Tom &amp;amp; Jerry &amp;#8211; It&amp;#39;s on">
        <meta name="description" content="Fish &amp;amp;amp; chips"><title>A &amp; B</title>"#;
    let meta = run(&page(head, ""));
    assert_eq!(meta.title.as_deref(), Some("Tom & Jerry – It's on"));
    assert_eq!(
        meta.description.as_deref(),
        Some("Fish &amp; chips"),
        "only one extra level"
    );
    assert_eq!(
        meta.open_graph.get("og:title").map(String::as_str),
        Some("Tom & Jerry – It's on")
    );
}

#[test]
fn og_locale_becomes_a_language_tag() {
    let meta = run("<head><meta property=\"og:locale\" content=\"pt_BR\"></head>");
    assert_eq!(meta.lang.as_deref(), Some("pt-BR"));
}

#[test]
fn favicon_falls_back_to_origin_favicon_ico_and_icons_are_listed() {
    let meta = run(&page("<title>x</title>", ""));
    assert_eq!(meta.favicon.as_deref(), Some("https://example.com/favicon.ico"));
    assert!(meta.icons.is_empty());
    let head = r#"<link rel="apple-touch-icon" sizes="180x180" href="/apple.png"><link rel="mask-icon" href="/m.svg">"#;
    let meta = run(&page(head, ""));
    assert_eq!(meta.favicon.as_deref(), Some("https://example.com/apple.png"));
    let rels: Vec<_> = meta
        .icons
        .iter()
        .map(|i| (i.rel.as_deref(), i.sizes.as_deref()))
        .collect();
    assert_eq!(
        rels,
        [(Some("apple-touch-icon"), Some("180x180")), (Some("mask-icon"), None)]
    );
}

#[test]
fn social_links_from_anchors_rel_me_and_same_as_are_unique_and_bounded() {
    let mut body = String::from(
        r#"<a href="https://twitter.com/intent/tweet?text=x">share</a><a href="https://github.com/acme">gh</a>"#,
    );
    body.push_str(
        r#"<a rel="me" href="https://mastodon.social/@acme">m</a><a href="http://www.github.com/acme/">dup</a>"#,
    );
    body.push_str(r#"<a href="https://example.com/about">about</a>"#);
    let meta = run(&page("", &body));
    assert_eq!(
        meta.social,
        ["https://mastodon.social/@acme", "https://github.com/acme"]
    );
    let many: String = (0..40)
        .map(|i| format!("<a href=\"https://x.com/user{i}\">x</a>"))
        .collect();
    assert_eq!(run(&page("", &many)).social.len(), 20);
}

#[test]
fn whitespace_is_collapsed_everywhere() {
    let head = "<title>\n  Spaced\t\tout \n title  </title><meta name=author content=\"  Jane \n Doe \">";
    let meta = run(&page(head, ""));
    assert_eq!(meta.title.as_deref(), Some("Spaced out title"));
    assert_eq!(meta.author.as_deref(), Some("Jane Doe"));
}
