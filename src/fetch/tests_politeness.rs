//! End-to-end tests of per-host politeness (concurrency and gap) and of conditional requests.

use std::time::{Duration, Instant};

use super::test_server::{header, html, http_only, response, Reply, TestServer};
use super::{Fetched, HttpClient, Validators};
use crate::model::ErrorKind;

fn slow_page() -> Reply {
    let body = b"<p>slow";
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    Reply::Paced(vec![
        (Duration::from_millis(150), head.into_bytes()),
        (Duration::ZERO, body.to_vec()),
    ])
}

#[tokio::test]
async fn at_most_per_host_concurrency_requests_reach_one_host() {
    let one = TestServer::start(|_| slow_page()).await;
    let c = HttpClient::new(&http_only(one.addr)).expect("client");
    let fetches: Vec<_> = (0..6)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.fetch_homepage("busy.test").await })
        })
        .collect();
    for f in fetches {
        f.await.expect("task").expect("page");
    }
    assert_eq!(one.heads().len(), 6);
    assert_eq!(one.max_in_flight(), 2);

    // Different hosts on the same address are not limited together.
    let many = TestServer::start(|_| slow_page()).await;
    let c = HttpClient::new(&http_only(many.addr)).expect("client");
    let fetches: Vec<_> = (0..6)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.fetch_homepage(&format!("h{i}.test")).await })
        })
        .collect();
    for f in fetches {
        f.await.expect("task").expect("page");
    }
    assert!(many.max_in_flight() > 2, "{}", many.max_in_flight());
}

#[tokio::test]
async fn per_host_delay_spaces_request_starts() {
    let server = TestServer::start(|_| html("<p>")).await;
    let mut s = http_only(server.addr);
    s.per_host_delay_ms = 200;
    let c = HttpClient::new(&s).expect("client");
    let started = Instant::now();
    for _ in 0..3 {
        c.fetch_homepage("spaced.test").await.expect("page");
    }
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_gap_beyond_the_budget_fails_at_once_with_retry_after() {
    let server = TestServer::start(|_| html("<p>")).await;
    let mut s = http_only(server.addr);
    (s.per_host_delay_ms, s.timeout_ms) = (5_000, 1_000);
    let c = HttpClient::new(&s).expect("client");
    c.fetch_homepage("rare.test").await.expect("first page");
    let started = Instant::now();
    let err = c.fetch_homepage("rare.test").await.expect_err("too soon");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(err.is_transient());
    assert!(
        err.retry_after.is_some_and(|d| d > Duration::from_secs(4)),
        "{:?}",
        err.retry_after
    );
    assert!(
        err.message
            .starts_with("politeness: the next request to rare.test may start in "),
        "{}",
        err.message
    );
    assert_eq!(server.heads().len(), 1);
}

#[tokio::test]
async fn a_304_to_a_conditional_request_is_not_modified() {
    let server = TestServer::start(|head| match header(head, "if-none-match") {
        Some("\"v1\"") => response("304 Not Modified", &[("ETag", "\"v1\"")], b""),
        _ => response(
            "200 OK",
            &[
                ("Content-Type", "text/html"),
                ("ETag", "\"v1\""),
                ("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT"),
            ],
            b"<p>v1",
        ),
    })
    .await;
    let c = HttpClient::new(&http_only(server.addr)).expect("client");
    let first = match c.fetch_homepage_with("cond.test", None).await.expect("first") {
        Fetched::Page(page) => page,
        other => panic!("expected a page, got {other:?}"),
    };
    let validators = Validators::of(&first).expect("validators");
    assert_eq!(validators.etag.as_deref(), Some("\"v1\""));
    match c
        .fetch_homepage_with("cond.test", Some(&validators))
        .await
        .expect("second")
    {
        Fetched::NotModified {
            url, final_url, status, ..
        } => {
            assert_eq!(
                (url.as_str(), final_url.as_str(), status),
                ("http://cond.test/", "http://cond.test/", 304)
            );
        }
        other => panic!("expected NotModified, got {other:?}"),
    }
    let heads = server.heads();
    assert_eq!(header(&heads[0], "if-none-match"), None);
    assert_eq!(header(&heads[1], "if-none-match"), Some("\"v1\""));
    assert_eq!(
        header(&heads[1], "if-modified-since"),
        Some("Wed, 21 Oct 2015 07:28:00 GMT")
    );
}

#[tokio::test]
async fn a_304_without_validators_is_an_http_status_error() {
    let server = TestServer::start(|_| response("304 Not Modified", &[], b"")).await;
    let c = HttpClient::new(&http_only(server.addr)).expect("client");
    let err = c.fetch_homepage("odd.test").await.expect_err("304 unasked");
    assert_eq!((err.kind, err.http_status), (ErrorKind::HttpStatus, Some(304)));
    let empty = Validators::default();
    let err = c
        .fetch_homepage_with("odd.test", Some(&empty))
        .await
        .expect_err("empty validators");
    assert_eq!(err.http_status, Some(304));
    assert_eq!(header(&server.heads()[1], "if-none-match"), None);
}
