//! The hostile web: a raw HTTP/1.1 server on 127.0.0.1, in the test process, whose pages are
//! built to hurt a crawler. The first label of the Host picks the page:
//!
//! `control-*` a normal page; `controlgz-*` / `controlbr-*` the same page gzip / brotli encoded;
//! `huge-*` 100 MiB of HTML, chunked (never held in memory whole); `hugedeclared-*` the same with
//! a Content-Length; `gzipbomb-*` / `brotlibomb-*` 1 GiB after decompression; `trickle-*` a
//! body at one byte per second; `tricklehead-*` the whole response (status line too) at one byte
//! per second; `redirect-*` an endless chain to ever-new paths and hosts; `deep-*` / `deephead-*`
//! 200,000 nested `<div>` in the body / head; `attr-*` a 1 MiB attribute; `badbytes-<slug>-*`
//! invalid bytes for one encoding (`hostile_bodies::BAD_BYTES`, plus `utf16le`);
//! `unknowncharset-*` `<meta charset="x-klingon">`; `jsonld-*` 50 MiB of JSON-LD in one script
//! (streamed); `jsonldcap-*` a JSON-LD flood just under the body cap. `/robots.txt` is 404
//! everywhere. Every response closes its connection; a client that hangs up ends the stream.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::hostile_bodies::{self as bodies, BAD_BYTES};

/// Size of the `huge-*` bodies.
pub const HUGE_BYTES: usize = 100 << 20;
/// Size of the JSON inside the `jsonld-*` script.
pub const JSONLD_BYTES: usize = 50 << 20;
/// Bytes a trickle sends before giving up on a client that never hangs up.
const TRICKLE_MAX: usize = 600;

/// The running hostile server; stops when dropped.
pub struct HostileWeb {
    /// Its port on 127.0.0.1.
    pub port: u16,
    accept: actix_rt::task::JoinHandle<()>,
}

impl Drop for HostileWeb {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Starts the hostile server on a free loopback port.
pub async fn start() -> HostileWeb {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind hostile web");
    let port = listener.local_addr().expect("hostile web address").port();
    let accept = actix_rt::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            actix_rt::spawn(async move {
                let _ = serve(socket).await;
            });
        }
    });
    HostileWeb { port, accept }
}

async fn serve(mut socket: TcpStream) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).await?;
        if n == 0 || head.len() > 65_536 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split(' ').nth(1).unwrap_or("/").to_string();
    let host = head
        .lines()
        .skip(1)
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case("host")))
        .map(|(_, v)| v.trim().split(':').next().unwrap_or("").to_ascii_lowercase())
        .unwrap_or_default();
    if path == "/robots.txt" {
        return complete(&mut socket, "404 Not Found", &[], b"").await;
    }
    let html = [("Content-Type", "text/html; charset=utf-8")];
    let mut labels = host.split(['-', '.']);
    match labels.next().unwrap_or("") {
        "control" => complete(&mut socket, "200 OK", &html, bodies::control("Control page").as_bytes()).await,
        "controlgz" => {
            let body = bodies::gzip(bodies::control("Gzip control").as_bytes());
            let headers = [html[0], ("Content-Encoding", "gzip")];
            complete(&mut socket, "200 OK", &headers, &body).await
        }
        "controlbr" => {
            let body = bodies::brotli_stored(bodies::control("Brotli control").as_bytes());
            let headers = [html[0], ("Content-Encoding", "br")];
            complete(&mut socket, "200 OK", &headers, &body).await
        }
        "huge" => {
            let chunk = "<p>a hundred megabytes of this paragraph</p>\n".repeat(1 << 10);
            let chunk = &chunk.as_bytes()[..1 << 15];
            chunked(&mut socket, &html, (0..HUGE_BYTES >> 15).map(|_| chunk)).await
        }
        "hugedeclared" => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {HUGE_BYTES}\r\nConnection: close\r\n\r\n"
            );
            socket.write_all(head.as_bytes()).await?;
            let chunk = vec![b' '; 1 << 15];
            for _ in 0..HUGE_BYTES >> 15 {
                socket.write_all(&chunk).await?;
            }
            Ok(())
        }
        "gzipbomb" => {
            let bomb = bodies::GzipBomb::new();
            let parts = std::iter::once(&bomb.first[..])
                .chain((0..bomb.repeat).map(|_| &bomb.middle[..]))
                .chain(std::iter::once(&bomb.tail[..]));
            chunked(&mut socket, &[html[0], ("Content-Encoding", "gzip")], parts).await
        }
        "brotlibomb" => {
            let headers = [html[0], ("Content-Encoding", "br")];
            complete(&mut socket, "200 OK", &headers, &bodies::brotli_bomb()).await
        }
        "trickle" => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {TRICKLE_MAX}\r\n\r\n");
            socket.write_all(head.as_bytes()).await?;
            trickle(&mut socket, &[b'<'; TRICKLE_MAX]).await
        }
        "tricklehead" => {
            let all = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n{}",
                bodies::control("Late")
            );
            trickle(&mut socket, all.as_bytes()).await
        }
        "redirect" => {
            // `/` → `/r/1` on the same host; odd hops change the path, even hops the host.
            let hop: u64 = path.strip_prefix("/r/").and_then(|n| n.parse().ok()).unwrap_or(0) + 1;
            let location = if hop % 2 == 1 {
                format!("/r/{hop}")
            } else {
                format!("http://redirect-hop{hop}.test/r/{hop}")
            };
            complete(&mut socket, "302 Found", &[("Location", &location)], b"").await
        }
        "deep" => complete(&mut socket, "200 OK", &html, &bodies::deep_body()).await,
        "deephead" => complete(&mut socket, "200 OK", &html, &bodies::deep_head()).await,
        "attr" => complete(&mut socket, "200 OK", &html, &bodies::huge_attribute()).await,
        "unknowncharset" => {
            let body = bodies::unknown_charset();
            complete(&mut socket, "200 OK", &[("Content-Type", "text/html")], &body).await
        }
        "badbytes" => {
            let slug = labels.next().unwrap_or("");
            if slug == "utf16le" {
                let ct = [("Content-Type", "text/html; charset=utf-16le")];
                return complete(&mut socket, "200 OK", &ct, &bodies::utf16_lone_surrogate()).await;
            }
            let Some(bad) = BAD_BYTES.iter().find(|b| b.slug == slug) else {
                return complete(&mut socket, "404 Not Found", &[], b"").await;
            };
            let (body, content_type) = bad.page();
            complete(&mut socket, "200 OK", &[("Content-Type", &content_type)], &body).await
        }
        "jsonld" => {
            let open = "<html><head><title>JSON-LD</title><script type=\"application/ld+json\">\
                        {\"@context\":\"https://schema.org\",\"@type\":\"Dataset\",\"name\":\"flood\",\"items\":[";
            let item = "{\"@type\":\"Thing\",\"name\":\"a thing among millions\"},".repeat(1 << 10);
            let item = item.as_bytes();
            let close = "{}]}</script></head><body></body></html>";
            let parts = std::iter::once(open.as_bytes())
                .chain((0..JSONLD_BYTES / item.len()).map(|_| item))
                .chain(std::iter::once(close.as_bytes()));
            chunked(&mut socket, &html, parts).await
        }
        "jsonldcap" => complete(&mut socket, "200 OK", &html, &bodies::jsonld_under_cap()).await,
        _ => complete(&mut socket, "404 Not Found", &[], b"unknown hostile host").await,
    }
}

fn head(status: &str, headers: &[(&str, &str)], framing: &str) -> String {
    let mut out = format!("HTTP/1.1 {status}\r\n{framing}\r\nConnection: close\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out
}

/// A whole response with a Content-Length.
async fn complete(socket: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &[u8]) -> std::io::Result<()> {
    let head = head(status, headers, &format!("Content-Length: {}", body.len()));
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(body).await?;
    socket.shutdown().await
}

/// A 200 with a chunked body of `parts`, written one by one (only the current part is in
/// memory); stops at the first write error (the client hung up).
async fn chunked<'a>(
    socket: &mut TcpStream,
    headers: &[(&str, &str)],
    parts: impl IntoIterator<Item = &'a [u8]>,
) -> std::io::Result<()> {
    socket
        .write_all(head("200 OK", headers, "Transfer-Encoding: chunked").as_bytes())
        .await?;
    for part in parts {
        socket.write_all(format!("{:x}\r\n", part.len()).as_bytes()).await?;
        socket.write_all(part).await?;
        socket.write_all(b"\r\n").await?;
    }
    socket.write_all(b"0\r\n\r\n").await?;
    socket.shutdown().await
}

/// Writes `bytes` one per second until done or the client hangs up.
async fn trickle(socket: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    for byte in bytes.iter().take(TRICKLE_MAX) {
        socket.write_all(std::slice::from_ref(byte)).await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    socket.shutdown().await
}
