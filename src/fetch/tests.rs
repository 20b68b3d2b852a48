//! End-to-end tests of `HttpClient` against tiny local servers reached through
//! `resolve_override` (`*.test` → 127.0.0.1:port).

use std::time::Duration;

use super::test_server::{
    closed_port, fetch, fetch_err, header, html, http_only, path, response, settings, Reply, TestServer,
};
use crate::model::ErrorKind;
use crate::settings::{FetchSettings, OverrideTarget};

#[tokio::test]
async fn a_200_html_page_fills_every_field() {
    let server = TestServer::start(|_| {
        response(
            "200 OK",
            &[
                ("Content-Type", "text/html; charset=utf-8"),
                ("Server", "nginx/1.25"),
                ("X-Powered-By", "PHP/8.3"),
                ("ETag", "\"abc\""),
                ("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT"),
            ],
            b"<html><title>Hi</title></html>",
        )
    })
    .await;
    let before = chrono::Utc::now();
    let page = fetch(&http_only(server.addr), "site.test").await.expect("page");
    assert_eq!(page.url, "http://site.test/");
    assert_eq!(page.final_url.as_str(), "http://site.test/");
    assert!(page.redirects.is_empty());
    assert_eq!(page.status, 200);
    assert_eq!(page.content_type.as_deref(), Some("text/html; charset=utf-8"));
    assert_eq!(page.server.as_deref(), Some("nginx/1.25"));
    assert_eq!(page.x_powered_by.as_deref(), Some("PHP/8.3"));
    assert_eq!(page.etag.as_deref(), Some("\"abc\""));
    assert_eq!(page.last_modified.as_deref(), Some("Wed, 21 Oct 2015 07:28:00 GMT"));
    assert_eq!(page.body, b"<html><title>Hi</title></html>");
    assert!(page.response_ms < 5000);
    assert!(page.fetched_at >= before);
    let heads = server.heads();
    assert_eq!(heads.len(), 1);
    assert!(heads[0].starts_with("GET / HTTP/1.1\r\n"), "{}", heads[0]);
    assert_eq!(header(&heads[0], "host"), Some("site.test"));
    assert_eq!(
        header(&heads[0], "accept"),
        Some("text/html,application/xhtml+xml;q=0.9,*/*;q=0.1")
    );
    assert_eq!(
        header(&heads[0], "user-agent"),
        Some(FetchSettings::default().user_agent.as_str())
    );
}

#[tokio::test]
async fn a_404_is_an_http_status_error() {
    let server = TestServer::start(|_| response("404 Not Found", &[("Content-Type", "text/html")], b"<p>no")).await;
    let err = fetch_err(&http_only(server.addr), "missing.test").await;
    assert_eq!(err.kind, ErrorKind::HttpStatus);
    assert_eq!(err.http_status, Some(404));
    assert_eq!(err.retry_after, None);
    assert_eq!(err.message, "HTTP 404 Not Found (http://missing.test/)");
}

#[tokio::test]
async fn a_503_carries_retry_after() {
    let server = TestServer::start(|_| response("503 Service Unavailable", &[("Retry-After", "7")], b"")).await;
    let err = fetch_err(&http_only(server.addr), "busy.test").await;
    assert_eq!((err.kind, err.http_status), (ErrorKind::HttpStatus, Some(503)));
    assert_eq!(err.retry_after, Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    let err = fetch_err(&http_only(closed_port().await), "down.test").await;
    assert_eq!(err.kind, ErrorKind::Connect);
    assert_eq!(err.message, "connection refused (http://down.test/)");
}

#[tokio::test]
async fn https_refused_falls_back_to_http() {
    let server = TestServer::start(|_| html("<p>plain")).await;
    let target = OverrideTarget::PerScheme {
        http: Some(server.addr),
        https: Some(closed_port().await),
    };
    let page = fetch(&settings(target, &["https", "http"]), "fallback.test")
        .await
        .expect("http answers");
    assert_eq!(page.url, "http://fallback.test/");
    assert_eq!(page.body, b"<p>plain");
}

#[tokio::test]
async fn when_every_scheme_fails_the_message_lists_each_failure() {
    let target = OverrideTarget::PerScheme {
        http: Some(closed_port().await),
        https: None,
    };
    let err = fetch_err(&settings(target, &["https", "http"]), "nothing.test").await;
    assert_eq!(err.kind, ErrorKind::Connect);
    assert_eq!(
        err.message,
        "nothing.test has a resolve_override with no address for https (https://nothing.test/); \
         then connection refused (http://nothing.test/)"
    );
}

#[tokio::test]
async fn https_to_a_plain_http_server_is_a_tls_error() {
    // Answers plain HTTP as soon as it accepts, so the TLS client reads a non-TLS record.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            use tokio::io::AsyncWriteExt;
            let _ = socket
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    });
    let err = fetch_err(&settings(OverrideTarget::All(addr), &["https"]), "tls.test").await;
    assert_eq!(err.kind, ErrorKind::Tls, "{err}");
    assert!(err.message.starts_with("TLS failure: "), "{}", err.message);
    assert!(err.message.ends_with("(https://tls.test/)"), "{}", err.message);
}

#[tokio::test]
async fn an_http_status_error_does_not_fall_back() {
    let server = TestServer::start(|_| response("500 Internal Server Error", &[], b"")).await;
    // Were https tried next, its TLS error (the last one) would be returned instead.
    let s = settings(OverrideTarget::All(server.addr), &["http", "https"]);
    let err = fetch_err(&s, "status.test").await;
    assert_eq!((err.kind, err.http_status), (ErrorKind::HttpStatus, Some(500)));
    assert_eq!(err.message, "HTTP 500 Internal Server Error (http://status.test/)");
}

#[tokio::test]
async fn bodies_over_the_cap_are_too_large() {
    let declared = TestServer::start(|_| html(&"x".repeat(20_000))).await;
    let err = fetch_err(&http_only(declared.addr), "big.test").await;
    assert_eq!(err.kind, ErrorKind::TooLarge);
    assert_eq!(
        err.message,
        "Content-Length 20000 exceeds the 10000-byte cap (http://big.test/)"
    );

    let chunked = TestServer::start(|_| {
        let mut raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..30 {
            raw.extend_from_slice(b"3e8\r\n");
            raw.extend_from_slice(&[b'y'; 1000]);
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"0\r\n\r\n");
        Reply::Raw(raw)
    })
    .await;
    let err = fetch_err(&http_only(chunked.addr), "chunked.test").await;
    assert_eq!(err.kind, ErrorKind::TooLarge);
    assert_eq!(
        err.message,
        "the body exceeds the 10000-byte cap (http://chunked.test/)"
    );
}

#[tokio::test]
async fn a_body_at_the_cap_is_accepted() {
    let server = TestServer::start(|_| html(&format!("<{}", "x".repeat(9_999)))).await;
    let page = fetch(&http_only(server.addr), "exact.test")
        .await
        .expect("page at the cap");
    assert_eq!(page.body.len(), 10_000);
}

#[tokio::test]
async fn non_html_is_refused() {
    let server = TestServer::start(|head| match path(head) {
        "/" => response("200 OK", &[("Content-Type", "application/pdf")], b"%PDF-1.7"),
        _ => html("<p>"),
    })
    .await;
    let err = fetch_err(&http_only(server.addr), "pdf.test").await;
    assert_eq!(err.kind, ErrorKind::NotHtml);
    assert_eq!(
        err.message,
        "content type `application/pdf` is not HTML (http://pdf.test/)"
    );
}

#[tokio::test]
async fn a_missing_content_type_is_sniffed() {
    let server = TestServer::start(|head| match header(head, "host") {
        Some("markup.test") => response("200 OK", &[], b"\xEF\xBB\xBF\n <!doctype html><p>"),
        _ => response("200 OK", &[], b"%PDF-1.7"),
    })
    .await;
    let page = fetch(&http_only(server.addr), "markup.test")
        .await
        .expect("markup without a type");
    assert_eq!(page.content_type, None);
    let err = fetch_err(&http_only(server.addr), "binary.test").await;
    assert_eq!(err.kind, ErrorKind::NotHtml);
    assert_eq!(
        err.message,
        "no Content-Type and the body does not start with `<` (http://binary.test/)"
    );
}
