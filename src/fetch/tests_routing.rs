//! Tests of where requests go: redirects, the SSRF guard, override ports, and timeouts.

use std::time::Duration;

use super::test_server::{
    closed_port, fetch, fetch_err, header, html, http_only, path, response, settings, Reply, TestServer,
};
use crate::model::ErrorKind;
use crate::settings::{FetchSettings, OverrideTarget};

fn redirect(to: &str) -> Reply {
    response("301 Moved Permanently", &[("Location", to)], b"")
}

#[tokio::test]
async fn a_redirect_chain_is_recorded_hop_by_hop() {
    let server = TestServer::start(|head| match (header(head, "host"), path(head)) {
        (Some("a.test"), "/") => redirect("/next"),
        (Some("a.test"), "/next") => response("302 Found", &[("Location", "http://b.test/final#top")], b""),
        (Some("b.test"), "/final") => html("<p>final"),
        _ => response("404 Not Found", &[], b""),
    })
    .await;
    let page = fetch(&http_only(server.addr), "a.test")
        .await
        .expect("page after redirects");
    assert_eq!(page.url, "http://a.test/");
    assert_eq!(
        page.redirects,
        vec!["http://a.test/next".to_string(), "http://b.test/final".to_string()]
    );
    assert_eq!(page.final_url.as_str(), "http://b.test/final");
    assert_eq!(page.body, b"<p>final");
}

#[tokio::test]
async fn a_redirect_cycle_is_a_redirect_loop() {
    let server = TestServer::start(|head| match path(head) {
        "/" => redirect("/a"),
        _ => redirect("http://loop.test/"),
    })
    .await;
    let err = fetch_err(&http_only(server.addr), "loop.test").await;
    assert_eq!(err.kind, ErrorKind::RedirectLoop);
    assert_eq!(
        err.message,
        "redirect loop: http://loop.test/a redirects back to http://loop.test/ (http://loop.test/)"
    );
}

#[tokio::test]
async fn more_redirects_than_the_cap_is_a_redirect_loop() {
    let server = TestServer::start(|head| {
        let n: u32 = path(head).trim_start_matches('/').parse().unwrap_or(0);
        redirect(&format!("/{}", n + 1))
    })
    .await;
    let err = fetch_err(&http_only(server.addr), "far.test").await;
    assert_eq!(err.kind, ErrorKind::RedirectLoop);
    assert_eq!(
        err.message,
        "more than 3 redirects, next to http://far.test/4 (http://far.test/)"
    );
    assert_eq!(server.heads().len(), 4);
}

#[tokio::test]
async fn a_redirect_to_an_ip_literal_is_blocked_before_any_request() {
    let target = TestServer::start(|_| html("<p>internal")).await;
    let location = format!("http://127.0.0.1:{}/", target.addr.port());
    let server = TestServer::start(move |_| redirect(&location)).await;
    let err = fetch_err(&http_only(server.addr), "ssrf.test").await;
    assert_eq!(err.kind, ErrorKind::Blocked);
    assert_eq!(
        err.message,
        format!(
            "host is an IP address literal 127.0.0.1 (loopback) (http://127.0.0.1:{}/)",
            target.addr.port()
        )
    );
    assert!(target.heads().is_empty());
}

#[tokio::test]
async fn a_redirect_to_another_scheme_is_blocked() {
    let server = TestServer::start(|_| redirect("ftp://files.test/")).await;
    let err = fetch_err(&http_only(server.addr), "ftp.test").await;
    assert_eq!(err.kind, ErrorKind::Blocked);
    assert_eq!(err.message, "scheme `ftp` is not http or https (ftp://files.test/)");
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_blocked() {
    let s = FetchSettings {
        schemes: vec!["http".into()],
        ..FetchSettings::default()
    };
    let err = fetch_err(&s, "localhost").await;
    assert_eq!(err.kind, ErrorKind::Blocked);
    assert!(
        err.message.starts_with("localhost resolves to a forbidden address "),
        "{}",
        err.message
    );
    assert!(
        err.message.ends_with("(loopback) (http://localhost/)"),
        "{}",
        err.message
    );
    for domain in ["user@a.test", "a.test:8080", "a.test/path", "a.test?q"] {
        let err = fetch_err(&s, domain).await;
        assert_eq!(err.kind, ErrorKind::Blocked, "{domain}");
        assert_eq!(err.message, format!("`{domain}` is not a bare host name"));
    }
    let err = fetch_err(&s, "127.0.0.1").await;
    assert_eq!(err.kind, ErrorKind::Blocked);
    assert_eq!(
        err.message,
        "host is an IP address literal 127.0.0.1 (loopback) (http://127.0.0.1/)"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = TestServer::start(|_| Reply::Hang).await;
    let mut s = http_only(server.addr);
    s.timeout_ms = 300;
    let started = std::time::Instant::now();
    let err = fetch_err(&s, "slow.test").await;
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn the_override_port_is_the_one_connected_to() {
    let http =
        TestServer::start(|head| html(&format!("<p>http server, host {}", header(head, "host").unwrap_or("")))).await;
    let decoy = TestServer::start(|_| html("<p>decoy")).await;
    let target = OverrideTarget::PerScheme {
        http: Some(http.addr),
        https: Some(decoy.addr),
    };
    let page = fetch(&settings(target, &["http"]), "port.test").await.expect("page");
    assert_eq!(page.body, b"<p>http server, host port.test");
    assert_eq!(page.final_url.as_str(), "http://port.test/");
    assert!(decoy.heads().is_empty());
    assert_ne!(http.addr.port(), 80);
}

#[tokio::test]
async fn an_explicit_url_port_replaces_the_override_port() {
    // hyper-util keeps a resolved port only when the URL names none; documented behaviour.
    let other = TestServer::start(|_| html("<p>other")).await;
    let location = format!("http://hop.test:{}/", other.addr.port());
    let first = TestServer::start(move |_| redirect(&location)).await;
    let page = fetch(&http_only(first.addr), "hop.test").await.expect("page");
    assert_eq!(page.body, b"<p>other");
    assert_eq!(
        header(&other.heads()[0], "host"),
        Some(format!("hop.test:{}", other.addr.port()).as_str())
    );
}

#[tokio::test]
async fn connect_errors_name_the_url_for_redirect_hops_too() {
    let closed = closed_port().await;
    let target = TestServer::start(|_| redirect("https://secure.test/")).await;
    let s = settings(
        OverrideTarget::PerScheme {
            http: Some(target.addr),
            https: Some(closed),
        },
        &["http"],
    );
    let err = fetch_err(&s, "hops.test").await;
    assert_eq!(err.kind, ErrorKind::Connect);
    assert_eq!(err.message, "connection refused (https://secure.test/)");
}

#[tokio::test]
async fn a_301_to_another_host_is_recorded_and_that_host_is_checked_by_the_guard_again() {
    // localhost is not overridden, so the real resolver answers and the guard refuses loopback.
    let inside = TestServer::start(|_| html("<p>internal")).await;
    let location = format!("http://localhost:{}/admin", inside.addr.port());
    let server = TestServer::start(move |head| match header(head, "host") {
        Some("first.test") => redirect("http://second.test/"),
        _ => redirect(&location),
    })
    .await;
    let err = fetch_err(&http_only(server.addr), "first.test").await;
    assert_eq!(err.kind, ErrorKind::Blocked, "{err}");
    assert!(
        err.message.starts_with("localhost resolves to a forbidden address "),
        "{}",
        err.message
    );
    assert!(inside.heads().is_empty());
    let hosts: Vec<String> = server
        .heads()
        .iter()
        .filter_map(|h| header(h, "host").map(str::to_string))
        .collect();
    assert_eq!(hosts, ["first.test", "second.test"]);
}
