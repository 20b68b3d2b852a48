//! End-to-end robots.txt tests: disallow and allow, one fetch per origin, the failure modes
//! (4xx, 5xx, unreachable), the SSRF guard on robots redirects, and `Crawl-delay`.

use std::time::{Duration, Instant};

use super::test_server::{closed_port, header, html, path, response, settings, Reply, TestServer};
use super::{FetchError, HttpClient};
use crate::model::ErrorKind;
use crate::settings::{FetchSettings, OverrideTarget};

fn robots(text: &'static str) -> Reply {
    response("200 OK", &[("Content-Type", "text/plain")], text.as_bytes())
}

fn polite(target: OverrideTarget, schemes: &[&str]) -> FetchSettings {
    FetchSettings {
        respect_robots: true,
        ..settings(target, schemes)
    }
}

fn client(s: &FetchSettings) -> HttpClient {
    HttpClient::new(s).expect("client")
}

fn robots_requests(server: &TestServer) -> usize {
    server.heads().iter().filter(|h| path(h) == "/robots.txt").count()
}

async fn error_of(client: &HttpClient, domain: &str) -> FetchError {
    match client.fetch_homepage(domain).await {
        Ok(page) => panic!("expected an error, got {}", page.final_url),
        Err(e) => e,
    }
}

#[tokio::test]
async fn a_disallowed_homepage_is_a_robots_error_and_is_never_requested() {
    let server = TestServer::start(|head| match path(head) {
        "/robots.txt" => robots("User-agent: *\nAllow: /\n\nUser-agent: domaind\nDisallow: /\n"),
        _ => html("<p>secret"),
    })
    .await;
    let s = polite(OverrideTarget::All(server.addr), &["http"]);
    let err = error_of(&client(&s), "closed.test").await;
    assert_eq!(err.kind, ErrorKind::Robots);
    assert_eq!(
        err.message,
        "robots.txt forbids / to `domaind` (Disallow: /) (http://closed.test/)"
    );
    assert!(!err.is_transient());
    assert_eq!(server.heads().len(), 1);
    assert_eq!(header(&server.heads()[0], "user-agent"), Some(s.user_agent.as_str()));
}

#[tokio::test]
async fn an_allowed_homepage_is_fetched_and_robots_txt_is_fetched_once_per_origin() {
    let server = TestServer::start(|head| match path(head) {
        "/robots.txt" => robots("User-agent: *\nDisallow: /private\n"),
        _ => html("<p>home"),
    })
    .await;
    let c = client(&polite(OverrideTarget::All(server.addr), &["http"]));
    for _ in 0..3 {
        assert_eq!(c.fetch_homepage("open.test").await.expect("page").body, b"<p>home");
    }
    assert_eq!(robots_requests(&server), 1);
    c.fetch_homepage("other.test").await.expect("page");
    assert_eq!(robots_requests(&server), 2);
    assert_eq!(server.heads().len(), 6);
}

#[tokio::test]
async fn robots_txt_4xx_allows_everything_and_5xx_forbids_everything_for_now() {
    let server = TestServer::start(|head| match (header(head, "host"), path(head)) {
        (Some("gone.test"), "/robots.txt") => response("404 Not Found", &[], b""),
        (Some("broken.test"), "/robots.txt") => response("503 Service Unavailable", &[("Retry-After", "30")], b""),
        _ => html("<p>home"),
    })
    .await;
    let c = client(&polite(OverrideTarget::All(server.addr), &["http"]));
    c.fetch_homepage("gone.test").await.expect("404 robots allows all");
    for _ in 0..2 {
        let err = error_of(&c, "broken.test").await;
        assert_eq!((err.kind, err.http_status), (ErrorKind::Robots, Some(503)));
        assert_eq!(err.retry_after, Some(Duration::from_secs(30)));
        assert!(err.is_transient());
        assert_eq!(
            err.message,
            "robots.txt is unreachable (HTTP 503 Service Unavailable), so nothing may be fetched \
             (http://broken.test/robots.txt)"
        );
    }
    // Not cached: each attempt asks again, and the homepage is never requested.
    let broken: Vec<String> = server
        .heads()
        .into_iter()
        .filter(|h| header(h, "host") == Some("broken.test"))
        .collect();
    assert_eq!(broken.len(), 2);
    assert!(broken.iter().all(|h| path(h) == "/robots.txt"));
}

#[tokio::test]
async fn an_unreachable_robots_txt_is_that_connection_error_and_the_next_scheme_is_tried() {
    let server = TestServer::start(|head| match path(head) {
        "/robots.txt" => robots("User-agent: *\nDisallow:\n"),
        _ => html("<p>plain"),
    })
    .await;
    let target = OverrideTarget::PerScheme {
        http: Some(server.addr),
        https: Some(closed_port().await),
    };
    let c = client(&polite(target, &["https", "http"]));
    let page = c.fetch_homepage("fallback.test").await.expect("http answers");
    assert_eq!(page.url, "http://fallback.test/");
    let only_https = client(&polite(OverrideTarget::All(closed_port().await), &["https"]));
    let err = error_of(&only_https, "down.test").await;
    assert_eq!(err.kind, ErrorKind::Connect);
    assert_eq!(
        err.message,
        "robots.txt: connection refused (https://down.test/robots.txt)"
    );
}

#[tokio::test]
async fn a_robots_redirect_to_a_private_address_is_not_followed() {
    let inside = TestServer::start(|_| robots("User-agent: *\nDisallow: /\n")).await;
    let location = format!("http://127.0.0.1:{}/robots.txt", inside.addr.port());
    let server = TestServer::start(move |head| match path(head) {
        "/robots.txt" => response("301 Moved Permanently", &[("Location", &location)], b""),
        _ => html("<p>home"),
    })
    .await;
    let c = client(&polite(OverrideTarget::All(server.addr), &["http"]));
    // The refused hop counts as "no robots.txt" (allow all); the private address sees nothing.
    c.fetch_homepage("hop.test").await.expect("page");
    assert!(inside.heads().is_empty());
}

#[tokio::test]
async fn robots_txt_redirects_are_followed_and_each_redirect_target_has_its_own_rules() {
    let server = TestServer::start(|head| match (header(head, "host"), path(head)) {
        (Some("a.test"), "/robots.txt") => response("301 Moved Permanently", &[("Location", "/r2.txt")], b""),
        (Some("a.test"), "/r2.txt") => robots("User-agent: *\nDisallow: /nope\n"),
        (Some("a.test"), "/") => response("301 Moved Permanently", &[("Location", "http://b.test/home")], b""),
        (Some("b.test"), "/robots.txt") => robots("User-agent: *\nDisallow: /home\n"),
        _ => html("<p>"),
    })
    .await;
    let c = client(&polite(OverrideTarget::All(server.addr), &["http"]));
    let err = error_of(&c, "a.test").await;
    assert_eq!(err.kind, ErrorKind::Robots);
    assert_eq!(
        err.message,
        "robots.txt forbids /home to `domaind` (Disallow: /home) (http://b.test/home)"
    );
}

#[tokio::test]
async fn crawl_delay_spaces_requests_to_one_host() {
    let server = TestServer::start(|head| match path(head) {
        "/robots.txt" => robots("User-agent: *\nCrawl-delay: 0.3\n"),
        _ => html("<p>home"),
    })
    .await;
    let c = client(&polite(OverrideTarget::All(server.addr), &["http"]));
    let started = Instant::now();
    // The first page follows robots.txt at once: robots.txt does not count for the gap.
    c.fetch_homepage("slow.test").await.expect("first");
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    c.fetch_homepage("slow.test").await.expect("second");
    c.fetch_homepage("slow.test").await.expect("third");
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
    let other = Instant::now();
    c.fetch_homepage("fast.test").await.expect("another host");
    assert!(other.elapsed() < Duration::from_millis(250), "{:?}", other.elapsed());
}

#[tokio::test]
async fn crawl_delay_is_bounded_and_respect_robots_false_skips_robots_txt() {
    let server = TestServer::start(|head| match (header(head, "host"), path(head)) {
        (Some("shut.test"), "/robots.txt") => robots("User-agent: *\nDisallow: /\n"),
        (_, "/robots.txt") => robots("User-agent: *\nCrawl-delay: 3600\n"),
        _ => html("<p>home"),
    })
    .await;
    let mut s = polite(OverrideTarget::All(server.addr), &["http"]);
    s.respect_robots = false;
    client(&s).fetch_homepage("shut.test").await.expect("robots ignored");
    assert_eq!(robots_requests(&server), 0);
    s.respect_robots = true;
    s.max_crawl_delay_ms = 200;
    let c = client(&s);
    let started = Instant::now();
    for _ in 0..3 {
        c.fetch_homepage("lazy.test").await.expect("page");
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(3),
        "{took:?}"
    );
}
