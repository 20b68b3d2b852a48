//! Unit tests of robots.txt parsing and matching (RFC 9309 examples and edge cases).

use std::time::Duration;

use super::*;

fn allowed(text: &str, path: &str) -> bool {
    RobotsRules::parse(text, "domaind").disallowing(path).is_none()
}

#[test]
fn our_group_wins_over_star_and_matching_is_case_insensitive() {
    let text = "User-agent: *\nDisallow: /\n\nUser-agent: DomainD\nDisallow: /private\n";
    assert!(allowed(text, "/"));
    assert!(!allowed(text, "/private/x"));
    let other = "User-agent: otherbot\nDisallow: /\n\nUser-agent: *\nDisallow: /tmp\n";
    assert!(allowed(other, "/"));
    assert!(!allowed(other, "/tmp/a"));
}

#[test]
fn groups_for_the_same_agent_are_combined_and_agent_runs_share_rules() {
    let text = "User-agent: a\nUser-agent: domaind/2.0\nDisallow: /x\n\nUser-agent: domaind\nDisallow: /y\n";
    assert!(!allowed(text, "/x"));
    assert!(!allowed(text, "/y"));
    assert!(allowed(text, "/z"));
}

#[test]
fn rules_before_any_user_agent_and_unknown_lines_are_ignored() {
    let text = "Disallow: /\nSitemap: https://x.test/s.xml\nUser-agent: *\n# comment\nFoo: bar\nDisallow: /a # tail\n";
    assert!(allowed(text, "/"));
    assert!(!allowed(text, "/a"));
}

#[test]
fn the_longest_match_wins_and_allow_wins_ties() {
    let text = "User-agent: *\nDisallow: /\nAllow: /$\nAllow: /public\nDisallow: /public/secret\nAllow: /tie\nDisallow: /tie\n";
    assert!(allowed(text, "/"));
    assert!(!allowed(text, "/index.html"));
    assert!(allowed(text, "/public/page"));
    assert!(!allowed(text, "/public/secret/1"));
    assert!(allowed(text, "/tie"));
}

#[test]
fn wildcards_and_end_anchors_match() {
    let text = "User-agent: *\nDisallow: /*.pdf$\nDisallow: /a*b/c\nDisallow: /exact$\n";
    assert!(!allowed(text, "/docs/x.pdf"));
    assert!(allowed(text, "/docs/x.pdf?download=1"));
    assert!(!allowed(text, "/a/z/b/c/d"));
    assert!(allowed(text, "/a/z/c"));
    assert!(!allowed(text, "/exact"));
    assert!(allowed(text, "/exact/more"));
}

#[test]
fn empty_disallow_allows_everything_and_robots_txt_is_always_allowed() {
    assert!(allowed("User-agent: *\nDisallow:\n", "/"));
    assert!(allowed("User-agent: *\nDisallow: /\n", "/robots.txt"));
    assert!(allowed("", "/"));
    assert!(allowed("garbage\0\u{1}", "/"));
}

#[test]
fn percent_encoding_is_normalized_on_both_sides() {
    let text = "User-agent: *\nDisallow: /%7Efoo\nDisallow: /caf\u{e9}\nDisallow: /a%2fb\n";
    assert!(!allowed(text, "/~foo/bar"));
    assert!(!allowed(text, "/caf%C3%A9"));
    assert!(!allowed(text, "/a%2Fb"));
    assert!(allowed(text, "/a/b"));
}

#[test]
fn crawl_delay_comes_from_the_selected_group() {
    let text = "User-agent: *\nCrawl-delay: 10\n\nUser-agent: domaind\nCrawl-delay: 0.5\nDisallow: /x\n";
    assert_eq!(
        RobotsRules::parse(text, "domaind").crawl_delay(),
        Some(Duration::from_millis(500))
    );
    assert_eq!(
        RobotsRules::parse(text, "otherbot").crawl_delay(),
        Some(Duration::from_secs(10))
    );
    let bad = "User-agent: *\nCrawl-delay: soon\nCrawl-delay: -1\n";
    assert_eq!(RobotsRules::parse(bad, "domaind").crawl_delay(), None);
}

#[test]
fn the_disallowing_rule_is_reported() {
    let rules = RobotsRules::parse("\u{feff}User-agent: *\nDisallow: /\n", "domaind");
    assert_eq!(
        rules.disallowing("/").map(|r| r.to_string()),
        Some("Disallow: /".to_string())
    );
    assert_eq!(product_token("domaind/0.1.0 (+https://github.com/domaind)"), "domaind");
    assert_eq!(product_token("Mozilla/5.0"), "Mozilla");
}

#[test]
fn pathological_patterns_stay_cheap() {
    let pattern = format!("User-agent: *\nDisallow: /{}x$\n", "*a".repeat(200));
    let path = format!("/{}", "a".repeat(2000));
    assert!(allowed(&pattern, &path));
}
