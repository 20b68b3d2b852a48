//! Rules that read past the head: misplaced meta/link tags, microdata dates and logos, the first
//! `<time datetime>`, the first content `<img>`; plus the og:url and favicon orders.

use super::support::{page, run};

#[test]
fn meta_and_links_after_the_head_fill_what_the_head_lacks() {
    let html = page(
        r#"<meta property="og:title" content="Head title">"#,
        r#"<meta property="og:title" content="Body title"><meta name="author" content="Ann &amp; Bo">
        <link rel="canonical" href="/moved"><link rel="shortcut icon" href="/late.ico">"#,
    );
    let meta = run(&html);
    assert_eq!(meta.title.as_deref(), Some("Head title"));
    assert_eq!(meta.author.as_deref(), Some("Ann & Bo"));
    assert_eq!(meta.canonical_url.as_deref(), Some("https://example.com/moved"));
    assert_eq!(meta.favicon.as_deref(), Some("https://example.com/late.ico"));
}

#[test]
fn body_itemprop_does_not_become_a_description() {
    let html = page(
        "",
        r#"<div itemscope><meta itemprop="description" content="A review"></div>"#,
    );
    assert_eq!(run(&html).description, None);
}

#[test]
fn og_url_wins_over_canonical() {
    let html = page(
        r#"<link rel="canonical" href="/c"><meta property="og:url" content="/shared?utm=1">"#,
        "",
    );
    assert_eq!(
        run(&html).canonical_url.as_deref(),
        Some("https://example.com/shared?utm=1")
    );
}

#[test]
fn published_at_order_past_the_head() {
    let time = r#"<time datetime="2021-03-04T05:06:07+01:00">March 4</time>"#;
    let micro = r#"<span itemprop="datePublished" content="2022-01-02T03:04-0500">Jan 2</span>"#;
    let dated = |head: &str, body: &str| run(&page(head, body)).published_at;
    assert_eq!(dated("", time).as_deref(), Some("2021-03-04T04:06:07Z"));
    assert_eq!(
        dated(r#"<meta name="date" content="2020-01-01">"#, time).as_deref(),
        Some("2020-01-01T00:00:00Z"),
        "a meta date beats a body <time>"
    );
    assert_eq!(
        dated(r#"<meta name="date" content="2020-01-01">"#, &format!("{time}{micro}")).as_deref(),
        Some("2022-01-02T08:04:00Z"),
        "microdata datePublished beats meta date variants"
    );
    assert_eq!(
        dated(
            r#"<meta property="article:published_time" content="2019-05-06">"#,
            micro
        )
        .as_deref(),
        Some("2019-05-06T00:00:00Z")
    );
    let unparsed = r#"<span itemprop="datePublished" datetime="Aug 24, 2016">x</span>"#;
    assert_eq!(dated("", unparsed).as_deref(), Some("Aug 24, 2016"));
}

#[test]
fn a_json_ld_date_stamped_utc_yields_to_the_zoned_byline_of_the_same_moment() {
    let ld =
        r#"<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2020-06-11T16:06:23Z"}</script>"#;
    let byline = r#"<time datetime="2020-06-11T13:06:23-07:00">1:06 pm PDT</time>"#;
    let dated = |head: &str, body: &str| run(&page(head, body)).published_at;
    assert_eq!(
        dated(ld, byline).as_deref(),
        Some("2020-06-11T20:06:23Z"),
        "4 h apart to the second: the JSON-LD local time was stamped Z"
    );
    let sidebar = r#"<time datetime="2020-06-11T13:01:09-07:00">1:01 pm PDT</time>"#;
    assert_eq!(dated(ld, sidebar).as_deref(), Some("2020-06-11T16:06:23Z"));
    let confirmed = format!(r#"<meta name="date" content="2020-06-11T16:06:23Z">{ld}"#);
    assert_eq!(dated(&confirmed, byline).as_deref(), Some("2020-06-11T16:06:23Z"));
    let og = r#"<meta property="article:published_time" content="2020-06-11T16:06:23Z">"#;
    assert_eq!(
        dated(og, byline).as_deref(),
        Some("2020-06-11T16:06:23Z"),
        "article:published_time is never repaired"
    );
}

#[test]
fn first_content_image_is_the_last_image_fallback() {
    let body = r#"<img src="//t.example.net/pixel?id=1"><img src="/spacer.gif" width="1" height="1">
        <img src="data:image/png;base64,AA"><img src="/img/hero.JPG?v=2"><img src="/second.png">"#;
    assert_eq!(
        run(&page("", body)).image.as_deref(),
        Some("https://example.com/img/hero.JPG?v=2")
    );
    let with_og = page(r#"<meta property="og:image" content="/og.png">"#, body);
    assert_eq!(run(&with_og).image.as_deref(), Some("https://example.com/og.png"));
    assert_eq!(run(&page("", r#"<img src="/noext">"#)).image, None);
}

#[test]
fn microdata_and_meta_logos_come_before_touch_icons() {
    let apple = r#"<link rel="apple-touch-icon" href="/apple.png">"#;
    let micro = r#"<div itemprop="publisher" itemscope><img itemprop="logo" src="/micro.png"></div>"#;
    assert_eq!(
        run(&page(apple, micro)).logo.as_deref(),
        Some("https://example.com/micro.png")
    );
    let meta_logo = r#"<meta itemprop="logo" content="/meta-logo.png">"#;
    assert_eq!(
        run(&page(&format!("{apple}{meta_logo}"), micro)).logo.as_deref(),
        Some("https://example.com/meta-logo.png")
    );
    let og_logo = r#"<meta property="og:logo" content="/og-logo.png">"#;
    assert_eq!(
        run(&page(&format!("{meta_logo}{og_logo}"), micro)).logo.as_deref(),
        Some("https://example.com/og-logo.png")
    );
}

#[test]
fn favicon_is_shortcut_icon_else_first_icon() {
    let icons = r#"<link rel="icon" sizes="192x192" href="/big.png"><link rel="icon" sizes="16x16" href="/small.png">"#;
    assert_eq!(
        run(&page(icons, "")).favicon.as_deref(),
        Some("https://example.com/big.png")
    );
    let shortcut = format!(r#"{icons}<link rel="Shortcut Icon" href="/favicon.ico?v=2">"#);
    assert_eq!(
        run(&page(&shortcut, "")).favicon.as_deref(),
        Some("https://example.com/favicon.ico?v=2")
    );
}
