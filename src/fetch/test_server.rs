//! Tiny HTTP/1.1 servers on 127.0.0.1 for the fetch tests: canned responses, one request per
//! connection, and a record of every request head received.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{FetchError, HttpClient, Page};
use crate::settings::{FetchSettings, OverrideTarget};

/// What the server does with one request.
pub(crate) enum Reply {
    /// Write these bytes, then close.
    Raw(Vec<u8>),
    /// Accept and never answer.
    Hang,
    /// Write each piece after its pause, then close (slow servers; also held for in-flight counts).
    Paced(Vec<(Duration, Vec<u8>)>),
    /// Write `head`, then send `body` only if the client has not closed within a second;
    /// `closed` records that it had.
    HeadOnly {
        /// Status line and headers.
        head: Vec<u8>,
        /// The body sent to a client still listening.
        body: Vec<u8>,
        /// Set when the client closed before the body.
        closed: Arc<AtomicBool>,
    },
}

/// A running server; it stops with the test's runtime.
pub(crate) struct TestServer {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// Request heads received, in order.
    pub(crate) requests: Arc<Mutex<Vec<String>>>,
    /// Requests being answered right now, and the most at once.
    pub(crate) in_flight: Arc<(AtomicUsize, AtomicUsize)>,
}

impl TestServer {
    /// Starts a server answering every request with `handler(request head)`.
    pub(crate) async fn start(handler: impl Fn(&str) -> Reply + Send + Sync + 'static) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind test server");
        let addr = listener.local_addr().expect("test server address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
        let handler = Arc::new(handler);
        let (seen, counts) = (requests.clone(), in_flight.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve_one(socket, handler.clone(), seen.clone(), counts.clone()));
            }
        });
        TestServer {
            addr,
            requests,
            in_flight,
        }
    }

    /// The most requests this server was answering at once.
    pub(crate) fn max_in_flight(&self) -> usize {
        self.in_flight.1.load(Ordering::SeqCst)
    }

    /// The request heads received so far.
    pub(crate) fn heads(&self) -> Vec<String> {
        self.requests.lock().expect("requests lock").clone()
    }
}

async fn serve_one(
    mut socket: TcpStream,
    handler: Arc<impl Fn(&str) -> Reply + Send + Sync>,
    seen: Arc<Mutex<Vec<String>>>,
    counts: Arc<(AtomicUsize, AtomicUsize)>,
) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    seen.lock().expect("requests lock").push(head.clone());
    let now = counts.0.fetch_add(1, Ordering::SeqCst) + 1;
    counts.1.fetch_max(now, Ordering::SeqCst);
    match handler(&head) {
        Reply::Raw(bytes) => {
            let _ = socket.write_all(&bytes).await;
        }
        Reply::Hang => std::future::pending::<()>().await,
        Reply::Paced(pieces) => {
            for (pause, bytes) in pieces {
                tokio::time::sleep(pause).await;
                if socket.write_all(&bytes).await.is_err() {
                    break;
                }
            }
        }
        Reply::HeadOnly { head, body, closed } => {
            let _ = socket.write_all(&head).await;
            match tokio::time::timeout(Duration::from_secs(1), socket.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => closed.store(true, Ordering::SeqCst),
                _ => {
                    let _ = socket.write_all(&body).await;
                }
            }
        }
    }
    counts.0.fetch_sub(1, Ordering::SeqCst);
    let _ = socket.shutdown().await;
}

/// The request path of a request head (`/` for `GET / HTTP/1.1`).
pub(crate) fn path(head: &str) -> &str {
    head.split(' ').nth(1).unwrap_or("")
}

/// The value of header `name` in a request head.
pub(crate) fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A complete response with Content-Length and `Connection: close`.
pub(crate) fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    Reply::Raw(bytes)
}

/// A 200 `text/html` page.
pub(crate) fn html(body: &str) -> Reply {
    response(
        "200 OK",
        &[("Content-Type", "text/html; charset=utf-8")],
        body.as_bytes(),
    )
}

/// A port on 127.0.0.1 that refuses connections (bound, then released).
pub(crate) async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("address")
}

/// Test settings: `*.test` → `target`, the given schemes, a 10,000-byte cap, 3 redirects.
pub(crate) fn settings(target: OverrideTarget, schemes: &[&str]) -> FetchSettings {
    let mut s = FetchSettings {
        connect_timeout_ms: 2000,
        timeout_ms: 5000,
        max_body_bytes: 10_000,
        max_redirects: 3,
        schemes: schemes.iter().map(|s| s.to_string()).collect(),
        // Most tests count requests; robots tests turn it back on.
        respect_robots: false,
        ..FetchSettings::default()
    };
    s.resolve_override.insert("*.test".into(), target);
    s
}

/// `*.test` → `addr` over plain http only.
pub(crate) fn http_only(addr: SocketAddr) -> FetchSettings {
    settings(OverrideTarget::All(addr), &["http"])
}

/// One fetch with a fresh client.
pub(crate) async fn fetch(settings: &FetchSettings, domain: &str) -> Result<Page, FetchError> {
    HttpClient::new(settings).expect("client").fetch_homepage(domain).await
}

/// One fetch that must fail.
pub(crate) async fn fetch_err(settings: &FetchSettings, domain: &str) -> FetchError {
    match fetch(settings, domain).await {
        Ok(page) => panic!("expected an error, got {} {}", page.status, page.final_url),
        Err(e) => e,
    }
}
